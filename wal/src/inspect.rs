//! Read-only analysis of a log directory, shared by recovery (`Wal::open`) and `verify_dir`.
//!
//! Classifies every problem as either a **torn tail** (the last segment ends in an incomplete
//! or invalid frame, or in non-zero bytes behind an end-of-data marker, or its header write was
//! interrupted, and nothing valid follows: the leftovers of an unsynced append that recovery may
//! cut off) or **corruption** (data loss: anything else). The writer's protocol is what makes
//! this sound: a segment is synced before the next one is created, and a new segment's header is
//! synced (file and directory) before any frame is written into it, so only the last segment can
//! legitimately be torn.

use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::frame::FrameDefect;
use crate::scan::{scan_with, AfterStop, ScanStop};
use crate::segment::{list_segments, HeaderDefect, SEGMENT_HEADER_LEN};
use crate::storage::Storage;

/// What recovery would cut off, or did cut off, at the tail of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file that was (or would be) truncated.
    pub segment: PathBuf,
    /// The offset it is truncated to (the end of its last valid frame, or 0 when an interrupted
    /// segment creation left a damaged header, which is then rewritten).
    pub offset: u64,
    /// Bytes dropped: from `offset` to the end of the last non-zero byte (a zero-filled,
    /// preallocated tail is not counted).
    pub bytes_dropped: u64,
    /// Why (the frame or header defect found at `offset`).
    pub reason: String,
}

/// One instance of data loss found in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// The segment file.
    pub segment: PathBuf,
    /// Offset of the problem in the file.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

impl Corruption {
    /// The same problem as a [`WalError::Corrupt`].
    pub fn to_error(&self) -> WalError {
        WalError::corrupt(&self.segment, self.offset, self.reason.clone())
    }
}

/// How the tail repair is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RepairKind {
    /// `set_len(offset)`: drop the torn frame and everything after it.
    TruncateFrames,
    /// Rewrite the header of a segment whose creation was interrupted.
    ReinitHeader,
}

/// One segment as analysed.
#[derive(Clone, Debug)]
pub(crate) struct SegmentInfo {
    pub path: PathBuf,
    /// `first_seq` from the file name (equal to the header's when the header is valid).
    pub first_seq: u64,
    /// Valid frames (0 if the header is damaged).
    pub frames: u64,
    /// Bytes in use: header plus valid frames (what remains after a repair).
    pub valid_end: u64,
    pub file_len: u64,
    pub stop: ScanStop,
}

impl SegmentInfo {
    /// Seq the frame after this segment's last one must have.
    pub(crate) fn next_seq(&self) -> u64 {
        self.first_seq.saturating_add(self.frames)
    }
}

/// The result of analysing a directory.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub segments: Vec<SegmentInfo>,
    pub corruption: Vec<Corruption>,
    pub repair: Option<(RepairKind, Truncation)>,
}

/// Offset just past the last non-zero byte at or after `from` (`from` if there is none).
fn nonzero_end(bytes: &[u8], from: usize) -> u64 {
    bytes
        .iter()
        .rposition(|&b| b != 0)
        .map_or(from, |i| (i + 1).max(from)) as u64
}

/// Bytes scanned between two releases of mapped pages.
const RELEASE_EVERY: u64 = 8 << 20;

/// Analyses every segment of `dir` without modifying anything. I/O failures and unsupported
/// versions are errors; damage is reported in the result.
pub(crate) fn analyze(storage: &dyn Storage, dir: &Path) -> Result<Analysis, WalError> {
    let listed = list_segments(storage, dir)?;
    let mut out = Analysis::default();
    let count = listed.len();
    for (i, (name_seq, path)) in listed.into_iter().enumerate() {
        let last = i + 1 == count;
        let bytes = storage
            .read(&path, None)
            .map_err(|e| WalError::io("read segment", &path, e))?;
        // Keep the resident set small while checking a large segment: every frame's crc touches
        // all of its pages once (see `FileBytes::release_before`).
        let mut released = 0u64;
        let scan = scan_with(&bytes, |f| {
            if f.offset - released >= RELEASE_EVERY {
                bytes.release_before(f.offset as usize);
                released = f.offset;
            }
        });
        bytes.release_before(bytes.len());
        let mut info = SegmentInfo {
            path: path.clone(),
            first_seq: name_seq,
            frames: scan.frames,
            valid_end: scan.valid_end,
            file_len: bytes.len() as u64,
            stop: scan.stop.clone(),
        };
        let mut corrupt = |offset: u64, reason: String| {
            out.corruption.push(Corruption {
                segment: path.clone(),
                offset,
                reason,
            })
        };
        match scan.header {
            Err(HeaderDefect::Unsupported { version, flags }) => {
                return Err(WalError::UnsupportedVersion {
                    path,
                    version,
                    flags,
                })
            }
            Err(d) => {
                let rest_zero = bytes
                    .get(SEGMENT_HEADER_LEN..)
                    .is_none_or(|r| r.iter().all(|&b| b == 0));
                if last && rest_zero {
                    info.valid_end = SEGMENT_HEADER_LEN as u64;
                    out.repair = Some((
                        RepairKind::ReinitHeader,
                        Truncation {
                            segment: path.clone(),
                            offset: 0,
                            bytes_dropped: nonzero_end(&bytes, 0),
                            reason: format!("interrupted segment creation: {d}"),
                        },
                    ));
                } else if last {
                    corrupt(0, format!("{d}, with data after the header"));
                } else {
                    corrupt(0, format!("{d}, in a segment that is not the last"));
                }
            }
            Ok(h) if h.first_seq != name_seq => corrupt(
                16,
                format!(
                    "header first_seq {} disagrees with the file name",
                    h.first_seq
                ),
            ),
            Ok(_) => {
                let at = scan.valid_end;
                match (&scan.stop, scan.after) {
                    (_, AfterStop::ValidFrame { offset, seq }) => corrupt(
                        at,
                        format!(
                            "{}, followed by a valid frame (seq {seq}) at offset {offset}",
                            scan.stop
                        ),
                    ),
                    (ScanStop::SeqMismatch { .. }, _) => corrupt(at, scan.stop.to_string()),
                    (ScanStop::Invalid(d), after) if last => {
                        let note = match after {
                            AfterStop::Abandoned { at } => {
                                format!(" (search for later frames abandoned at offset {at})")
                            }
                            _ => String::new(),
                        };
                        out.repair = Some((
                            RepairKind::TruncateFrames,
                            Truncation {
                                segment: path.clone(),
                                offset: at,
                                bytes_dropped: nonzero_end(&bytes, at as usize).saturating_sub(at),
                                reason: format!("torn tail: {}{note}", describe(d)),
                            },
                        ));
                    }
                    (ScanStop::Invalid(d), _) => corrupt(
                        at,
                        format!("{}, in a segment that is not the last", describe(d)),
                    ),
                    // Non-zero leftovers behind the end marker of the last segment (no valid
                    // frame among them): cut them, or the next append would expose them.
                    (ScanStop::EndMarker, _) if last && nonzero_end(&bytes, at as usize) > at => {
                        out.repair = Some((
                            RepairKind::TruncateFrames,
                            Truncation {
                                segment: path.clone(),
                                offset: at,
                                bytes_dropped: nonzero_end(&bytes, at as usize) - at,
                                reason: "torn tail: non-zero bytes after the end-of-data marker"
                                    .to_owned(),
                            },
                        ));
                    }
                    _ => {}
                }
            }
        }
        if let Some(prev) = out.segments.last() {
            if prev.next_seq() != info.first_seq {
                out.corruption.push(Corruption {
                    segment: path.clone(),
                    offset: 0,
                    reason: format!(
                        "seq gap: the previous segment ends before seq {}, this one starts at {}",
                        prev.next_seq(),
                        info.first_seq
                    ),
                });
            }
        }
        out.segments.push(info);
    }
    Ok(out)
}

fn describe(d: &FrameDefect) -> String {
    format!("invalid frame ({d})")
}

#[cfg(test)]
mod tests;
