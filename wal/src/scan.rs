//! Scanning one segment's bytes: the valid frame prefix, why the scan stopped, and whether any
//! valid frame lies beyond the stop (evidence of data loss rather than a torn tail).
//!
//! Pure functions on byte slices; they never panic and never allocate in proportion to a
//! declared length. [`scan_segment_bytes`] is the public entry point for offline tools and
//! fuzzing; recovery and `verify_dir` use the same walk without collecting the frames.

use std::fmt;

use crate::frame::{
    decode_frame, FrameDefect, FrameKind, FRAME_ALIGN, FRAME_HEADER_LEN, MAX_PAYLOAD_LEN,
};
use crate::segment::{decode_segment_header, HeaderDefect, SegmentHeader, SEGMENT_HEADER_LEN};

/// A valid frame found by a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedFrame {
    /// Offset of the frame header in the segment.
    pub offset: u64,
    /// The frame's sequence number.
    pub seq: u64,
    /// The frame's kind.
    pub kind: FrameKind,
    /// Payload length (the payload starts at `offset + 24`).
    pub payload_len: u32,
}

/// Why a scan stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanStop {
    /// The bytes ended exactly at a frame boundary.
    EndOfFile,
    /// An all-zero header (or short all-zero tail): the end-of-data marker.
    EndMarker,
    /// The bytes at the stop offset are not a valid frame (torn append or damage).
    Invalid(FrameDefect),
    /// A checksum-valid frame whose seq is not the next one expected.
    SeqMismatch {
        /// The seq that should have come next.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// The segment header is missing, damaged or unsupported; no frame was read.
    BadHeader(HeaderDefect),
}

impl fmt::Display for ScanStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanStop::EndOfFile => write!(f, "end of file"),
            ScanStop::EndMarker => write!(f, "end-of-data marker"),
            ScanStop::Invalid(d) => write!(f, "invalid frame: {d}"),
            ScanStop::SeqMismatch { expected, found } => {
                write!(f, "frame has seq {found}, expected {expected}")
            }
            ScanStop::BadHeader(d) => write!(f, "{d}"),
        }
    }
}

/// What lies after the stop offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterStop {
    /// Nothing: the scan stopped at the end of the bytes (or never read frames).
    Nothing,
    /// Bytes follow, but no valid frame with a seq at least the expected one starts at any
    /// 8-aligned offset among them.
    NoValidFrame,
    /// A valid frame with a seq at least the expected one follows: data was lost.
    ValidFrame {
        /// Its offset.
        offset: u64,
        /// Its seq.
        seq: u64,
    },
    /// The search hit its work budget (only adversarial bytes get here) at this offset.
    Abandoned {
        /// Where the search stopped.
        at: u64,
    },
}

/// The result of [`scan_segment_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanResult {
    /// The segment header, if valid.
    pub header: Option<SegmentHeader>,
    /// The valid frames, in order, each with the seq following its predecessor's.
    pub frames: Vec<ScannedFrame>,
    /// Offset just past the last valid frame (the segment header's end if there is none; 0 if
    /// the header is bad).
    pub valid_end: u64,
    /// Why the scan stopped at `valid_end`.
    pub stop: ScanStop,
    /// Whether a valid frame lies beyond `valid_end`.
    pub after: AfterStop,
}

/// A scan summary that does not keep the frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanSummary {
    pub header: Result<SegmentHeader, HeaderDefect>,
    pub frames: u64,
    pub valid_end: u64,
    pub stop: ScanStop,
    pub after: AfterStop,
}

/// Scans a whole segment file's bytes. Never panics, whatever `bytes` holds.
pub fn scan_segment_bytes(bytes: &[u8]) -> ScanResult {
    let mut frames = Vec::new();
    let s = scan_with(bytes, |f| frames.push(f));
    ScanResult {
        header: s.header.ok(),
        frames,
        valid_end: s.valid_end,
        stop: s.stop,
        after: s.after,
    }
}

/// Scans `bytes`, handing each valid frame to `on_frame`.
pub(crate) fn scan_with(bytes: &[u8], mut on_frame: impl FnMut(ScannedFrame)) -> ScanSummary {
    let header = match decode_segment_header(bytes) {
        Ok(h) => h,
        Err(d) => {
            return ScanSummary {
                header: Err(d.clone()),
                frames: 0,
                valid_end: 0,
                stop: ScanStop::BadHeader(d),
                after: AfterStop::Nothing,
            }
        }
    };
    let mut pos = SEGMENT_HEADER_LEN;
    let mut expected = Some(header.first_seq);
    let mut count = 0u64;
    let stop = loop {
        match decode_frame(bytes, pos) {
            Ok(None) if pos >= bytes.len() => break ScanStop::EndOfFile,
            Ok(None) => break ScanStop::EndMarker,
            Err(d) => break ScanStop::Invalid(d),
            Ok(Some(f)) => {
                if Some(f.seq) != expected {
                    break ScanStop::SeqMismatch {
                        expected: expected.unwrap_or(u64::MAX),
                        found: f.seq,
                    };
                }
                on_frame(ScannedFrame {
                    offset: pos as u64,
                    seq: f.seq,
                    kind: f.kind,
                    payload_len: f.payload.len() as u32,
                });
                count += 1;
                expected = f.seq.checked_add(1);
                pos = f.next_offset;
            }
        }
    };
    let after = match stop {
        ScanStop::EndOfFile => AfterStop::Nothing,
        _ => find_later_frame(bytes, pos, expected.unwrap_or(u64::MAX)),
    };
    ScanSummary {
        header: Ok(header),
        frames: count,
        valid_end: pos as u64,
        stop,
        after,
    }
}

/// Searches the 8-aligned offsets after `from` for a fully valid frame with seq `>= min_seq`.
///
/// Offsets whose header cannot be a frame are rejected in O(1); checksum work is capped at
/// `4 * remaining + 64 MiB` bytes so crafted payloads full of fake headers cannot make recovery
/// quadratic ([`AfterStop::Abandoned`]).
pub(crate) fn find_later_frame(bytes: &[u8], from: usize, min_seq: u64) -> AfterStop {
    let remaining = bytes.len().saturating_sub(from) as u64;
    let budget = remaining.saturating_mul(4).saturating_add(64 << 20);
    find_later_frame_within(bytes, from, min_seq, budget)
}

/// [`find_later_frame`] with an explicit checksum budget in bytes.
fn find_later_frame_within(bytes: &[u8], from: usize, min_seq: u64, mut budget: u64) -> AfterStop {
    if from >= bytes.len() {
        return AfterStop::Nothing;
    }
    let align = FRAME_ALIGN as usize;
    let mut at = (from / align).saturating_add(1).saturating_mul(align);
    loop {
        // A frame's kind byte (offset 8) is non-zero: jump over zero runs (a preallocated tail)
        // straight to the first candidate whose kind byte is non-zero.
        let nonzero = first_nonzero(bytes, at.saturating_add(8));
        at = at.max(
            nonzero
                .saturating_sub(8)
                .div_ceil(align)
                .saturating_mul(align),
        );
        let Some(h) = bytes
            .get(at..)
            .and_then(|r| r.first_chunk::<FRAME_HEADER_LEN>())
        else {
            return AfterStop::NoValidFrame;
        };
        let [l0, l1, l2, l3, _, _, _, _, kind, reserved @ .., _, _, _, _, _, _, _, _] = *h;
        let cost = u64::from(u32::from_le_bytes([l0, l1, l2, l3]));
        let room = bytes.len().saturating_sub(at + FRAME_HEADER_LEN) as u64;
        if (1..=3).contains(&kind)
            && reserved == [0; 7]
            && cost <= u64::from(MAX_PAYLOAD_LEN)
            && cost <= room
        {
            if cost > budget {
                return AfterStop::Abandoned { at: at as u64 };
            }
            if let Ok(Some(f)) = decode_frame(bytes, at) {
                if f.seq >= min_seq {
                    return AfterStop::ValidFrame {
                        offset: at as u64,
                        seq: f.seq,
                    };
                }
            }
            budget -= cost.min(budget);
        }
        at = at.saturating_add(align);
    }
}

/// Index of the first non-zero byte at or after `from` (`bytes.len()` if there is none). Tests
/// 64-byte blocks at a time so long zero runs are skipped at memory speed.
fn first_nonzero(bytes: &[u8], from: usize) -> usize {
    let Some(rest) = bytes.get(from..) else {
        return bytes.len();
    };
    let mut skipped = 0;
    for block in rest.chunks(64) {
        if block.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            let inner = block.iter().position(|&b| b != 0).unwrap_or(block.len());
            return from + skipped + inner;
        }
        skipped += block.len();
    }
    bytes.len()
}

#[cfg(test)]
mod tests;
