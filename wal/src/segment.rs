//! THE segment layout: file naming, the 32-byte segment header, and creating a new segment.
//!
//! A log directory holds segment files named `{first_seq:020}.wal` (e.g.
//! `00000000000000000001.wal`); other files are ignored. Each segment is this header followed by
//! frames (see `frame`). All integers are little-endian.
//!
//! | offset | size | type    | field                                                        |
//! |-------:|-----:|---------|--------------------------------------------------------------|
//! | 0      | 8    | [u8; 8] | magic `b"TSRAWAL\0"`                                         |
//! | 8      | 2    | u16     | format version, currently [`SEGMENT_VERSION`] = 1           |
//! | 10     | 2    | u16     | flags; version 1 defines none, so it must be 0               |
//! | 12     | 4    | u32     | reserved, must be 0                                          |
//! | 16     | 8    | u64     | `first_seq`: seq of the segment's first frame (>= 1)         |
//! | 24     | 4    | u32     | reserved, must be 0                                          |
//! | 28     | 4    | u32     | CRC-32 (IEEE, `crc32fast`) of bytes `0..28`                  |
//!
//! `first_seq` must equal the number in the file name; an empty segment's `first_seq` is the seq
//! its first frame will get.
//!
//! **Version rule.** Magic and version keep their offsets in every future version. A reader
//! checks the magic, then the version: a version other than 1 (or, once the checksum verifies,
//! non-zero flags) is [`crate::WalError::UnsupportedVersion`] and the log is not opened; the rest
//! of an unknown layout is never guessed at. Version 0 is never written; it is what a torn
//! header write leaves behind, so it counts as a damaged header.
//!
//! **On a mismatch** (short file, wrong magic, version 0, checksum or reserved bytes wrong,
//! `first_seq` 0) the header is damaged. Recovery treats a damaged header on the last segment
//! whose remaining bytes are all zero as an interrupted segment creation and rewrites it;
//! anything else is `WalError::Corrupt`.
//!
//! **Creation** ([`create_segment`]): create the file exclusively, write the header, optionally
//! preallocate (`set_len`, zero-filled), `fdatasync` the file, then fsync the directory, so the
//! new segment and its header survive power loss before any frame is written into it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::WalError;
use crate::storage::{write_all_at, Storage, StorageFile};

/// Magic bytes at the start of every segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"TSRAWAL\0";
/// The only segment format version this build reads and writes.
pub const SEGMENT_VERSION: u16 = 1;
/// Size of the segment header; the first frame starts here.
pub const SEGMENT_HEADER_LEN: usize = 32;
/// File-name suffix of segment files.
pub const SEGMENT_SUFFIX: &str = ".wal";

/// A decoded, verified segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Seq of the segment's first frame.
    pub first_seq: u64,
}

/// Why a segment header could not be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderDefect {
    /// Fewer than [`SEGMENT_HEADER_LEN`] bytes.
    Short(u64),
    /// The magic bytes are wrong.
    BadMagic,
    /// The version field is 0 (a torn header write).
    ZeroVersion,
    /// The checksum does not match.
    ChecksumMismatch {
        /// Stored checksum.
        stored: u32,
        /// Computed checksum.
        computed: u32,
    },
    /// A reserved field is non-zero.
    ReservedNotZero,
    /// `first_seq` is 0, which is never written.
    ZeroFirstSeq,
    /// A version or flags this build does not understand (not damage: refuse to open).
    Unsupported {
        /// The version field.
        version: u16,
        /// The flags field.
        flags: u16,
    },
}

impl fmt::Display for HeaderDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderDefect::Short(n) => write!(f, "segment header incomplete ({n} of 32 bytes)"),
            HeaderDefect::BadMagic => write!(f, "segment header has wrong magic"),
            HeaderDefect::ZeroVersion => write!(f, "segment header has version 0 (torn)"),
            HeaderDefect::ChecksumMismatch { stored, computed } => write!(
                f,
                "segment header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            HeaderDefect::ReservedNotZero => write!(f, "segment header reserved field not zero"),
            HeaderDefect::ZeroFirstSeq => write!(f, "segment header first_seq is 0"),
            HeaderDefect::Unsupported { version, flags } => write!(
                f,
                "unsupported segment format version {version} flags {flags:#06x}"
            ),
        }
    }
}

/// Encodes the header of a segment whose first frame has seq `first_seq`.
pub fn encode_segment_header(first_seq: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[0..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..10].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&first_seq.to_le_bytes());
    let crc = crc32fast::hash(&h[..28]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Decodes and verifies the segment header at the start of `bytes` (which may be a whole file).
/// Never panics.
pub fn decode_segment_header(bytes: &[u8]) -> Result<SegmentHeader, HeaderDefect> {
    let Some(h) = bytes.first_chunk::<SEGMENT_HEADER_LEN>() else {
        return Err(HeaderDefect::Short(bytes.len() as u64));
    };
    let [m @ .., v0, v1, f0, f1, r0, r1, r2, r3, s0, s1, s2, s3, s4, s5, s6, s7, q0, q1, q2, q3, c0, c1, c2, c3] =
        *h;
    if m != SEGMENT_MAGIC {
        return Err(HeaderDefect::BadMagic);
    }
    let version = u16::from_le_bytes([v0, v1]);
    let flags = u16::from_le_bytes([f0, f1]);
    match version {
        0 => return Err(HeaderDefect::ZeroVersion),
        SEGMENT_VERSION => {}
        _ => return Err(HeaderDefect::Unsupported { version, flags }),
    }
    let stored = u32::from_le_bytes([c0, c1, c2, c3]);
    let computed = crc32fast::hash(h.get(..28).unwrap_or(&[]));
    if stored != computed {
        return Err(HeaderDefect::ChecksumMismatch { stored, computed });
    }
    if flags != 0 {
        return Err(HeaderDefect::Unsupported { version, flags });
    }
    if [r0, r1, r2, r3, q0, q1, q2, q3] != [0; 8] {
        return Err(HeaderDefect::ReservedNotZero);
    }
    let first_seq = u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]);
    if first_seq == 0 {
        return Err(HeaderDefect::ZeroFirstSeq);
    }
    Ok(SegmentHeader { first_seq })
}

/// The file name of the segment starting at `first_seq`: `{first_seq:020}.wal`.
pub fn segment_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SEGMENT_SUFFIX}")
}

/// Parses a segment file name; `None` for anything that is not exactly 20 decimal digits
/// followed by `.wal`, or that names seq 0.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().filter(|&s| s > 0)
}

/// Path of the segment starting at `first_seq` inside `dir`.
pub(crate) fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(segment_file_name(first_seq))
}

/// The segment files in `dir` as `(first_seq, path)`, sorted by `first_seq`.
pub(crate) fn list_segments(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let names = storage
        .list_dir(dir)
        .map_err(|e| WalError::io("list directory", dir, e))?;
    let mut segs: Vec<(u64, PathBuf)> = names
        .iter()
        .filter_map(|n| parse_segment_file_name(n).map(|seq| (seq, dir.join(n))))
        .collect();
    segs.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(segs)
}

/// Writes a fresh header (and preallocation) into an already open, empty segment file and makes
/// it durable. `prealloc` is the length to extend the file to with zeros (0 = none).
pub(crate) fn init_segment(
    file: &mut dyn StorageFile,
    path: &Path,
    first_seq: u64,
    prealloc: u64,
) -> Result<(), WalError> {
    let header = encode_segment_header(first_seq);
    write_all_at(file, 0, &[&header]).map_err(|e| WalError::io("write segment header", path, e))?;
    if prealloc > SEGMENT_HEADER_LEN as u64 {
        file.set_len(prealloc)
            .map_err(|e| WalError::io("preallocate segment", path, e))?;
    }
    file.sync_data()
        .map_err(|e| WalError::io("fdatasync segment", path, e))
}

/// Creates segment `first_seq` in `dir`: exclusive create, header, optional preallocation,
/// `fdatasync`, directory fsync. Returns the open file.
pub(crate) fn create_segment(
    storage: &dyn Storage,
    dir: &Path,
    first_seq: u64,
    prealloc: u64,
) -> Result<(PathBuf, Box<dyn StorageFile>), WalError> {
    let path = segment_path(dir, first_seq);
    let mut file = storage
        .create_new(&path)
        .map_err(|e| WalError::io("create segment", &path, e))?;
    init_segment(file.as_mut(), &path, first_seq, prealloc)?;
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("fsync directory", dir, e))?;
    Ok((path, file))
}

#[cfg(test)]
mod tests;
