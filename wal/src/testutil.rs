//! Helpers shared by the unit tests: building frames and segments by hand.

use std::path::Path;
use std::sync::Arc;

use crate::frame::{encode_header, padding_len, FrameKind};
use crate::segment::encode_segment_header;
use crate::{SimStorage, Wal, WalOptions};

/// Directory of the log in the writer-level tests.
pub(crate) const DIR: &str = "/data/topic";

/// Options with `segment_size_bytes`, no preallocation (the simulator holds files in memory).
pub(crate) fn opts(segment_size_bytes: u64) -> WalOptions {
    WalOptions {
        segment_size_bytes,
        preallocate: false,
    }
}

/// Opens (or creates) the log at [`DIR`] on `fs`.
pub(crate) fn open(fs: &SimStorage, o: WalOptions) -> Wal {
    Wal::open_with_storage(Arc::new(fs.clone()), Path::new(DIR), o)
        .unwrap()
        .0
}

/// A complete encoded frame (header, payload, padding).
pub(crate) fn encode_frame(kind: FrameKind, seq: u64, payload: &[u8]) -> Vec<u8> {
    let (h, len) = encode_header(kind, seq, &[payload]).unwrap();
    let mut out = h.to_vec();
    out.extend_from_slice(payload);
    out.resize(out.len() + padding_len(len), 0);
    out
}

/// A segment starting at `first_seq` holding one RecordBatch frame per payload.
pub(crate) fn segment_bytes(first_seq: u64, payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = encode_segment_header(first_seq).to_vec();
    for (i, p) in payloads.iter().enumerate() {
        out.extend(encode_frame(
            FrameKind::RecordBatch,
            first_seq + i as u64,
            p,
        ));
    }
    out
}

/// Deterministic payload bytes for frame `seq` of length `len`.
pub(crate) fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq.wrapping_mul(31).wrapping_add(i as u64 * 7) % 251) as u8)
        .collect()
}
