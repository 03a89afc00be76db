//! Recovery at open: analyse the directory, refuse on data loss, repair a torn tail, and make
//! everything recovered durable before the log reports it durable.
//!
//! Rules (see `inspect` for the classification):
//! * torn or invalid tail of the **last** segment with nothing valid after it, including
//!   non-zero bytes behind an end-of-data marker (a later append would expose them): truncated
//!   to the end of the last valid frame (re-extended with zeros when preallocating) and reported
//!   in [`RecoveryReport::truncated`]. The cut bytes are first copied, durably, to
//!   `<segment file name>.cut-<offset:020>` beside the segment ([`RecoveryReport::cut_kept`]):
//!   a tail that was not torn but damaged (a flipped bit in an acknowledged frame looks the
//!   same) keeps its evidence. Best effort: if they cannot be kept (disk full), recovery still
//!   cuts them and says so (`cut_kept` is `None`). Segment listing ignores these files;
//!   removing the log removes them;
//! * damaged header of the last segment whose remaining bytes are all zero (an interrupted
//!   segment creation): the header is rewritten from the file name, also reported;
//! * anything else (an invalid frame followed by valid data, damage in an older segment, a seq
//!   gap, a header/name mismatch) is [`WalError::Corrupt`]: data was lost and the caller decides.
//!
//! Finally the last segment is `fdatasync`ed: frames a killed process wrote but never synced are
//! still in the page cache and would otherwise be reported durable without being so.

use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::inspect::{analyze, RepairKind, Truncation};
use crate::options::WalOptions;
use crate::segment::init_segment;
use crate::storage::{write_all_at, Storage, StorageFile};
use crate::writer::SegMeta;

/// What [`crate::Wal::open`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files making up the log after opening (including one created for an empty log).
    pub segments: usize,
    /// Valid frames recovered.
    pub frames: u64,
    /// Highest seq assigned so far (the next append gets `last_seq + 1`); 0 for a new log.
    pub last_seq: u64,
    /// The torn tail that was cut off, if any.
    pub truncated: Option<Truncation>,
    /// Where the bytes cut off from the tail were kept (see the module doc); `None` when
    /// nothing non-zero was cut or they could not be kept.
    pub cut_kept: Option<PathBuf>,
}

/// The state recovery hands to the writer.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Segments in seq order with their in-use lengths (after repair).
    pub segments: Vec<SegMeta>,
    /// The last segment, opened for appending and synced; `None` if there are no segments.
    pub active: Option<Box<dyn StorageFile>>,
    /// Seq of the next frame.
    pub next_seq: u64,
    pub report: RecoveryReport,
}

/// Runs recovery on `dir` (which must exist).
pub(crate) fn recover(
    storage: &dyn Storage,
    dir: &Path,
    opts: &WalOptions,
) -> Result<Recovered, WalError> {
    let analysis = analyze(storage, dir)?;
    if let Some(c) = analysis.corruption.first() {
        return Err(c.to_error());
    }
    let segments: Vec<SegMeta> = analysis
        .segments
        .iter()
        .map(|s| SegMeta {
            first_seq: s.first_seq,
            path: s.path.clone(),
            end: s.valid_end,
        })
        .collect();
    let next_seq = analysis.segments.last().map_or(1, |s| s.next_seq());
    let frames = analysis.segments.iter().map(|s| s.frames).sum();
    let mut active = None;
    let mut cut_kept = None;
    if let Some(last) = segments.last() {
        let path = &last.path;
        let io = |op| move |e| WalError::io(op, path, e);
        let mut file = storage.open_rw(path).map_err(io("open segment"))?;
        let prealloc = opts.prealloc_len();
        match &analysis.repair {
            Some((RepairKind::TruncateFrames, t)) => {
                cut_kept = keep_cut(storage, dir, t);
                file.set_len(t.offset).map_err(io("truncate torn tail"))?;
                if prealloc > t.offset {
                    file.set_len(prealloc).map_err(io("preallocate segment"))?;
                }
            }
            Some((RepairKind::ReinitHeader, _)) => {
                file.set_len(0).map_err(io("truncate damaged segment"))?;
                init_segment(file.as_mut(), path, last.first_seq, prealloc)?;
            }
            None => {}
        }
        file.sync_data().map_err(io("fdatasync segment"))?;
        active = Some(file);
    }
    Ok(Recovered {
        report: RecoveryReport {
            segments: segments.len(),
            frames,
            last_seq: next_seq.saturating_sub(1),
            truncated: analysis.repair.map(|(_, t)| t),
            cut_kept,
        },
        segments,
        active,
        next_seq,
    })
}

/// Copy the bytes a tail repair is about to cut (`t.bytes_dropped` from `t.offset`) to
/// `<segment file name>.cut-<offset:020>` in `dir`, synced with its directory entry. Best
/// effort: `None` (and no partial file) when nothing non-zero is cut or the copy fails.
fn keep_cut(storage: &dyn Storage, dir: &Path, t: &Truncation) -> Option<PathBuf> {
    if t.bytes_dropped == 0 {
        return None;
    }
    let name = t.segment.file_name()?.to_str()?;
    let side = dir.join(format!("{name}.cut-{:020}", t.offset));
    let end = t.offset.checked_add(t.bytes_dropped)?;
    let copy = || -> std::io::Result<()> {
        let bytes = storage.read(&t.segment, Some(end))?;
        let cut = bytes
            .get(usize::try_from(t.offset).unwrap_or(usize::MAX)..)
            .unwrap_or_default();
        let mut file = match storage.create_new(&side) {
            Ok(f) => f,
            // A recovery cut short before its truncation left it: write it again.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut f = storage.open_rw(&side)?;
                f.set_len(0)?;
                f
            }
            Err(e) => return Err(e),
        };
        write_all_at(file.as_mut(), 0, &[cut])?;
        file.sync_data()?;
        storage.sync_dir(dir)
    };
    match copy() {
        Ok(()) => Some(side),
        Err(_) => {
            let _ = storage.remove_file(&side);
            None
        }
    }
}
