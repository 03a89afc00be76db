//! Tessera's per-topic write-ahead log.
//!
//! The server appends every client Arrow IPC message of a topic (schema message, record batch
//! message) as one checksummed **frame**, syncs, and only then acknowledges. After a crash
//! ([`Wal::open`]) recovery returns exactly the frames that were synced (and possibly some later
//! complete ones), never garbage. A compactor later seals frames into chunk files and calls
//! [`Wal::reclaim_before`] to delete whole old segments.
//!
//! # Durability contract
//! * [`Wal::append`] with [`Durability::Sync`], or [`Wal::sync`], returns only after the
//!   frames are `fdatasync`ed; [`Wal::durable_seq`] never counts anything else. A sync begun
//!   with [`Wal::begin_sync`] counts only once [`Wal::end_sync`] recorded its success.
//! * Segment files are synced before the next segment is created, and a new segment (header,
//!   file, directory entry) is durable before any frame goes into it; directories are fsynced
//!   wherever files are created or removed.
//! * After any write or sync failure the handle is poisoned ([`WalError::Poisoned`]); reopen.
//! * Recovery truncates a torn tail of the newest segment and refuses ([`WalError::Corrupt`])
//!   when valid data would be lost. It assumes a file's unsynced writes persist in order (true
//!   for a killed process; file systems may reorder unsynced pages on power loss, in which case
//!   an unsynced torn frame followed by a persisted later one is reported as corruption).
//!
//! # Module tour
//! * `frame` — THE frame layout (doc table), header encoding, decode + verification.
//! * `segment` — THE segment header layout, file naming `{first_seq:020}.wal`, creation.
//! * `scan` — [`scan_segment_bytes`]: valid frame prefix, stop reason, later-data search.
//! * `inspect` — read-only classification of a directory: torn tail vs. corruption.
//! * `recovery` — [`RecoveryReport`]; repair of the torn tail at open.
//! * `writer` — [`Wal`]: append, sync, rotation, poisoning.
//! * `group` — group commit: [`Wal::begin_sync`], [`PendingSync::run`] outside the caller's
//!   lock, [`Wal::end_sync`]. `sync_gate` — the gate that serializes every sync of a log.
//! * `lifecycle` — open, [`WalReader`] snapshots, reclaim, destroy.
//! * `reader` — [`WalReader`], [`Frame`].
//! * `verify` — [`verify_dir`] for offline checks.
//! * `storage` — the [`Storage`]/[`StorageFile`] seam; `fs` — [`FsStorage`] (real files,
//!   `memmap2` reads); `sim` — [`SimStorage`] (in memory, crash images, fault injection).
//! * `options` — [`WalOptions`], [`Durability`]; `error` — [`WalError`].
//!
//! Nothing reachable from file bytes panics: lengths are capped ([`MAX_PAYLOAD_LEN`]) and
//! checked against the bytes present before use, and every frame is checksum-verified before
//! it is returned. The crate targets Unix (directory fsync, `fdatasync`).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod error;
mod frame;
mod fs;
mod group;
mod inspect;
mod lifecycle;
mod options;
mod reader;
mod recovery;
mod scan;
mod segment;
mod sim;
mod storage;
mod sync_gate;
#[cfg(test)]
mod testutil;
mod verify;
mod writer;

pub use error::WalError;
pub use frame::{
    decode_frame, encode_header, frame_len, DecodedFrame, FrameDefect, FrameKind, FRAME_ALIGN,
    FRAME_HEADER_LEN, MAX_PAYLOAD_LEN,
};
pub use fs::FsStorage;
pub use group::{PendingSync, SyncDone};
pub use inspect::{Corruption, Truncation};
pub use options::{Durability, WalOptions, DEFAULT_SEGMENT_SIZE};
pub use reader::{Frame, WalReader};
pub use recovery::RecoveryReport;
pub use scan::{scan_segment_bytes, AfterStop, ScanResult, ScanStop, ScannedFrame};
pub use segment::{
    decode_segment_header, encode_segment_header, parse_segment_file_name, segment_file_name,
    HeaderDefect, SegmentHeader, SEGMENT_HEADER_LEN, SEGMENT_MAGIC, SEGMENT_VERSION,
};
pub use sim::{CrashMode, SimFault, SimStats, SimStorage};
pub use storage::{write_all_at, FileBytes, Storage, StorageFile, SyncHandle};
pub use verify::{verify_dir, verify_dir_with_storage, SegmentReport, VerifyReport};
pub use writer::Wal;
