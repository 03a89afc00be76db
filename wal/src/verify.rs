//! [`verify_dir`]: check every segment and frame of a log without modifying anything (used by
//! `tessera verify`).

use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::fs::FsStorage;
use crate::inspect::{analyze, Corruption, Truncation};
use crate::scan::ScanStop;
use crate::storage::Storage;

/// One segment as seen by [`verify_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentReport {
    /// The segment file.
    pub path: PathBuf,
    /// Seq of its first frame (from the file name).
    pub first_seq: u64,
    /// Valid frames in it.
    pub frames: u64,
    /// Bytes of segment header plus valid frames.
    pub valid_bytes: u64,
    /// File length (including any preallocated zero tail).
    pub file_len: u64,
    /// Why the scan of this segment stopped.
    pub stop: ScanStop,
}

/// The result of [`verify_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Every segment, in seq order.
    pub segments: Vec<SegmentReport>,
    /// Valid frames in all segments.
    pub frames: u64,
    /// Highest seq in the log (0 if none).
    pub last_seq: u64,
    /// A torn tail that `Wal::open` would cut off (no data loss: unsynced leftovers).
    pub torn_tail: Option<Truncation>,
    /// Data loss that would make `Wal::open` fail with `WalError::Corrupt`.
    pub corruption: Vec<Corruption>,
}

impl VerifyReport {
    /// True when there is neither a torn tail nor corruption.
    pub fn is_clean(&self) -> bool {
        self.torn_tail.is_none() && self.corruption.is_empty()
    }
}

/// Checks every segment and frame of the log in `dir` on the real file system without
/// modifying anything. Damage is reported in the [`VerifyReport`]; I/O failures and unsupported
/// segment versions are errors. Run it on a log that no process has open: recovery may
/// truncate files under its read-only maps, and a concurrent appender makes the report racy.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport, WalError> {
    verify_dir_with_storage(&FsStorage, dir)
}

/// [`verify_dir`] on any [`Storage`].
pub fn verify_dir_with_storage(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<VerifyReport, WalError> {
    let a = analyze(storage, dir)?;
    Ok(VerifyReport {
        frames: a.segments.iter().map(|s| s.frames).sum(),
        last_seq: a
            .segments
            .last()
            .map_or(0, |s| s.next_seq().saturating_sub(1)),
        segments: a
            .segments
            .into_iter()
            .map(|s| SegmentReport {
                path: s.path,
                first_seq: s.first_seq,
                frames: s.frames,
                valid_bytes: s.valid_end,
                file_len: s.file_len,
                stop: s.stop,
            })
            .collect(),
        torn_tail: a.repair.map(|(_, t)| t),
        corruption: a.corruption,
    })
}
