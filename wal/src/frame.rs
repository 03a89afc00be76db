//! THE frame layout: one appended message, its header encoding and its decode + verification.
//!
//! A segment file is its 32-byte segment header (see `segment`) followed by frames laid end to
//! end. Every frame starts at an 8-byte-aligned offset. All integers are little-endian.
//!
//! | offset     | size | type     | field                                                    |
//! |-----------:|-----:|----------|----------------------------------------------------------|
//! | 0          | 4    | u32      | `len`: payload length in bytes, `<=` [`MAX_PAYLOAD_LEN`]  |
//! | 4          | 4    | u32      | `crc`: CRC-32 (IEEE, `crc32fast`), see below              |
//! | 8          | 1    | u8       | `kind`: 1 = Schema, 2 = RecordBatch, 3 = Marker           |
//! | 9          | 7    | [u8; 7]  | reserved, must be zero                                   |
//! | 16         | 8    | u64      | `seq`: sequence number, 1, 2, 3, ... contiguous per log   |
//! | 24         | len  | bytes    | payload                                                  |
//! | 24 + len   | pad  | zeros    | padding to the next multiple of 8 (`pad` = 0..=7)        |
//!
//! The total frame length is `24 + round_up(len, 8)` ([`frame_len`]).
//!
//! **Checksum.** `crc` covers header bytes `8..24` (kind, reserved, seq) followed by the payload.
//! `len` is covered indirectly: a different `len` makes the reader checksum a different byte
//! range. The padding is not covered by the checksum but must be zero; non-zero padding makes
//! the frame invalid just like a checksum mismatch.
//!
//! **End of data.** A header of 24 zero bytes (or fewer than 24 remaining bytes that are all
//! zero, or the exact end of the file) marks the clean end of a segment, so a preallocated,
//! zero-filled tail reads as "no more frames". No valid frame is all zero because `kind >= 1`.
//!
//! **Version rule.** The frame layout is versioned by the segment header's format version
//! (currently 1); a frame has no version field of its own. Anything that does not match this
//! table exactly (unknown kind, non-zero reserved byte, `len` above the maximum, checksum
//! mismatch, non-zero padding, a frame running past the end of the file) is an invalid frame.
//!
//! **On a mismatch** [`decode_frame`] reports a [`FrameDefect`] and never allocates or panics; it
//! is the caller's job to decide between a torn tail (recovery truncates the last segment at the
//! frame's offset) and data loss (`WalError::Corrupt`), see `recovery`.

use std::fmt;
use std::ops::Range;

use crate::error::WalError;

/// Size of the fixed frame header in bytes.
pub const FRAME_HEADER_LEN: usize = 24;
/// Frames start at multiples of this many bytes.
pub const FRAME_ALIGN: u64 = 8;
/// Largest payload a frame may carry (1 GiB). A larger declared length is an invalid frame and
/// is never allocated.
pub const MAX_PAYLOAD_LEN: u32 = 1 << 30;

/// What a frame's payload is, as far as the log is concerned.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An Arrow IPC schema message.
    Schema = 1,
    /// An Arrow IPC record batch message.
    RecordBatch = 2,
    /// A control marker (its meaning is up to the caller).
    Marker = 3,
}

impl FrameKind {
    /// The kind encoded by `byte`, or `None` for any other value.
    pub fn from_u8(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(FrameKind::Schema),
            2 => Some(FrameKind::RecordBatch),
            3 => Some(FrameKind::Marker),
            _ => None,
        }
    }

    /// The byte this kind is encoded as.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// Why the bytes at some offset are not a valid frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameDefect {
    /// Fewer than [`FRAME_HEADER_LEN`] bytes remain and they are not all zero.
    PartialHeader {
        /// How many bytes were left.
        available: u64,
    },
    /// The kind byte is not 1, 2 or 3.
    UnknownKind(u8),
    /// A reserved header byte is non-zero.
    ReservedNotZero,
    /// The declared payload length exceeds [`MAX_PAYLOAD_LEN`].
    TooLarge(u32),
    /// Payload and padding run past the end of the available bytes.
    PartialPayload {
        /// Bytes the frame needs after its header.
        needed: u64,
        /// Bytes actually available after the header.
        available: u64,
    },
    /// The stored checksum does not match the computed one.
    ChecksumMismatch {
        /// Checksum stored in the header.
        stored: u32,
        /// Checksum computed over the bytes.
        computed: u32,
    },
    /// A padding byte after the payload is non-zero.
    PaddingNotZero,
}

impl FrameDefect {
    /// True when the frame is merely cut short by the end of the bytes (the typical torn append),
    /// as opposed to present-but-wrong bytes.
    pub fn is_incomplete(&self) -> bool {
        matches!(
            self,
            FrameDefect::PartialHeader { .. } | FrameDefect::PartialPayload { .. }
        )
    }
}

impl fmt::Display for FrameDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameDefect::PartialHeader { available } => {
                write!(f, "incomplete frame header ({available} of 24 bytes)")
            }
            FrameDefect::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameDefect::ReservedNotZero => write!(f, "non-zero reserved header byte"),
            FrameDefect::TooLarge(len) => {
                write!(f, "declared payload length {len} exceeds {MAX_PAYLOAD_LEN}")
            }
            FrameDefect::PartialPayload { needed, available } => write!(
                f,
                "incomplete frame: needs {needed} bytes after the header, {available} present"
            ),
            FrameDefect::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            FrameDefect::PaddingNotZero => write!(f, "non-zero frame padding"),
        }
    }
}

/// A frame that passed every check, located inside the scanned byte slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// The frame's kind.
    pub kind: FrameKind,
    /// The frame's sequence number.
    pub seq: u64,
    /// Where the payload lies in the slice given to [`decode_frame`].
    pub payload: Range<usize>,
    /// Offset of the next frame (this frame's offset + [`frame_len`]).
    pub next_offset: usize,
}

/// Total on-disk length of a frame whose payload is `payload_len` bytes (header + payload +
/// padding). Cannot overflow: `u32::MAX` rounded up plus 24 fits easily in a `u64`.
pub fn frame_len(payload_len: u32) -> u64 {
    let len = u64::from(payload_len);
    FRAME_HEADER_LEN as u64 + len.div_ceil(FRAME_ALIGN) * FRAME_ALIGN
}

/// Number of zero padding bytes that follow a payload of `payload_len` bytes.
pub fn padding_len(payload_len: u32) -> usize {
    // Always 0..=7, so the cast cannot truncate.
    ((FRAME_ALIGN - u64::from(payload_len) % FRAME_ALIGN) % FRAME_ALIGN) as usize
}

/// Encodes the header of a frame whose payload is the concatenation of `parts`, computing the
/// checksum over the parts without copying them. Returns the header and the payload length.
///
/// Fails with [`WalError::FrameTooLarge`] when the total exceeds [`MAX_PAYLOAD_LEN`].
pub fn encode_header(
    kind: FrameKind,
    seq: u64,
    parts: &[&[u8]],
) -> Result<([u8; FRAME_HEADER_LEN], u32), WalError> {
    let total = parts
        .iter()
        .try_fold(0u64, |acc, p| acc.checked_add(p.len() as u64))
        .unwrap_or(u64::MAX);
    let len = u32::try_from(total)
        .ok()
        .filter(|&l| l <= MAX_PAYLOAD_LEN)
        .ok_or(WalError::FrameTooLarge {
            len: total,
            max: u64::from(MAX_PAYLOAD_LEN),
        })?;
    let mut h = [0u8; FRAME_HEADER_LEN];
    h[0..4].copy_from_slice(&len.to_le_bytes());
    h[8] = kind.as_u8();
    h[16..24].copy_from_slice(&seq.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[8..]);
    for part in parts {
        crc.update(part);
    }
    h[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
    Ok((h, len))
}

/// Decodes and fully verifies the frame starting at `offset` in `bytes`.
///
/// * `Ok(None)`: clean end of data (no bytes left, an all-zero header, or a short all-zero tail).
/// * `Ok(Some(frame))`: a valid frame (structure, checksum and padding checked).
/// * `Err(defect)`: the bytes at `offset` are not a valid frame.
///
/// Never panics and never allocates, whatever `bytes` contains.
pub fn decode_frame(bytes: &[u8], offset: usize) -> Result<Option<DecodedFrame>, FrameDefect> {
    let rest = bytes.get(offset..).unwrap_or(&[]);
    let Some(header) = rest.first_chunk::<FRAME_HEADER_LEN>() else {
        return if rest.iter().all(|&b| b == 0) {
            Ok(None)
        } else {
            Err(FrameDefect::PartialHeader {
                available: rest.len() as u64,
            })
        };
    };
    if header.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let [l0, l1, l2, l3, c0, c1, c2, c3, kind, reserved @ .., s0, s1, s2, s3, s4, s5, s6, s7] =
        *header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]);
    let stored = u32::from_le_bytes([c0, c1, c2, c3]);
    let seq = u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]);
    let kind = FrameKind::from_u8(kind).ok_or(FrameDefect::UnknownKind(kind))?;
    if reserved != [0u8; 7] {
        return Err(FrameDefect::ReservedNotZero);
    }
    if len > MAX_PAYLOAD_LEN {
        return Err(FrameDefect::TooLarge(len));
    }
    let body = rest.get(FRAME_HEADER_LEN..).unwrap_or(&[]);
    let payload_len = len as usize; // <= 1 GiB, fits every supported usize
    let padded = payload_len + padding_len(len);
    let (Some(payload), Some(padding)) = (body.get(..payload_len), body.get(payload_len..padded))
    else {
        return Err(FrameDefect::PartialPayload {
            needed: padded as u64,
            available: body.len() as u64,
        });
    };
    let mut crc = crc32fast::Hasher::new();
    crc.update(header.get(8..).unwrap_or(&[]));
    crc.update(payload);
    let computed = crc.finalize();
    if computed != stored {
        return Err(FrameDefect::ChecksumMismatch { stored, computed });
    }
    if padding.iter().any(|&b| b != 0) {
        return Err(FrameDefect::PaddingNotZero);
    }
    let start = offset.saturating_add(FRAME_HEADER_LEN);
    Ok(Some(DecodedFrame {
        kind,
        seq,
        payload: start..start.saturating_add(payload_len),
        next_offset: start.saturating_add(padded),
    }))
}

#[cfg(test)]
mod tests;
