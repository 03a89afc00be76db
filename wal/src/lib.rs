//! Tessera's per-topic write-ahead log (in progress: on-disk layouts, scanning and the storage
//! seam; the `Wal` handle follows).
//!
//! # Module tour
//! * `frame` — THE frame layout (doc table), header encoding, decode + verification.
//! * `segment` — THE segment header layout, file naming `{first_seq:020}.wal`, creation.
//! * `scan` — [`scan_segment_bytes`]: valid frame prefix, stop reason, later-data search.
//! * `storage` — the [`Storage`]/[`StorageFile`] seam; `fs` — [`FsStorage`] (real files,
//!   `memmap2` reads); `sim` — [`SimStorage`] (in memory, crash images, fault injection).
//! * `options` — [`WalOptions`], [`Durability`]; `error` — [`WalError`].

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod error;
mod frame;
mod fs;
mod options;
mod scan;
mod segment;
mod sim;
mod storage;
#[cfg(test)]
mod testutil;

pub use error::WalError;
pub use frame::{
    decode_frame, encode_header, frame_len, DecodedFrame, FrameDefect, FrameKind, FRAME_ALIGN,
    FRAME_HEADER_LEN, MAX_PAYLOAD_LEN,
};
pub use fs::FsStorage;
pub use options::{Durability, WalOptions, DEFAULT_SEGMENT_SIZE};
pub use scan::{scan_segment_bytes, AfterStop, ScanResult, ScanStop, ScannedFrame};
pub use segment::{
    decode_segment_header, encode_segment_header, parse_segment_file_name, segment_file_name,
    HeaderDefect, SegmentHeader, SEGMENT_HEADER_LEN, SEGMENT_MAGIC, SEGMENT_VERSION,
};
pub use sim::{CrashMode, SimFault, SimStats, SimStorage};
pub use storage::{write_all_at, FileBytes, Storage, StorageFile};
