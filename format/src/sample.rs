//! Deciding whether zstd is worth its CPU for a chunk: compress a sample of a batch's buffers.
//!
//! Raw camera frames with sensor noise barely compress, and at 4K rates zstd's CPU time is what
//! bounds sealing. [`compression_for`] compresses up to [`SAMPLE_BYTES`] taken from the batch's
//! largest buffers (evenly spaced windows, so a frame's header and its noisy body both count)
//! and keeps zstd only if that sample shrinks by at least the asked fraction.

use arrow_array::{Array, RecordBatch};
use arrow_data::ArrayData;

use crate::options::Compression;

/// Bytes compressed to judge one batch.
pub const SAMPLE_BYTES: usize = 1 << 20;
/// Size of one sampled window.
const WINDOW: usize = 64 << 10;

/// `compression` itself, or [`Compression::None`] when zstd saves less than `min_saving`
/// (a fraction, e.g. `0.1`) on a sample of `batch`. `min_saving <= 0` always keeps zstd.
pub fn compression_for(
    compression: Compression,
    batch: &RecordBatch,
    min_saving: f64,
) -> Compression {
    let Compression::Zstd { level } = compression else {
        return compression;
    };
    if min_saving <= 0.0 {
        return compression;
    }
    match sample_ratio(batch, level) {
        Some(ratio) if ratio > 1.0 - min_saving => Compression::None,
        _ => compression,
    }
}

/// Compressed size / original size of a sample of `batch`'s buffers at zstd `level`; `None`
/// when the batch has no bytes to sample or zstd fails.
pub fn sample_ratio(batch: &RecordBatch, level: i32) -> Option<f64> {
    let mut buffers: Vec<&[u8]> = Vec::new();
    let datas: Vec<ArrayData> = batch.columns().iter().map(|c| c.to_data()).collect();
    for d in &datas {
        collect(d, &mut buffers);
    }
    buffers.sort_by_key(|b| std::cmp::Reverse(b.len()));
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    for buf in buffers {
        let room = SAMPLE_BYTES - sample.len();
        if room == 0 {
            break;
        }
        if buf.len() <= room {
            sample.extend_from_slice(buf);
            continue;
        }
        let windows = room.div_ceil(WINDOW).max(1);
        let stride = buf.len() / windows;
        for w in 0..windows {
            let start = w * stride;
            let len = WINDOW.min(SAMPLE_BYTES - sample.len());
            if let Some(win) = buf.get(start..start + len) {
                sample.extend_from_slice(win);
            }
        }
    }
    if sample.is_empty() {
        return None;
    }
    let compressed = zstd::bulk::compress(&sample, level).ok()?;
    Some(compressed.len() as f64 / sample.len() as f64)
}

fn collect<'a>(data: &'a ArrayData, out: &mut Vec<&'a [u8]>) {
    for b in data.buffers() {
        out.push(b.as_slice());
    }
    for c in data.child_data() {
        collect(c, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{BinaryArray, Int64Array};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(payload: Vec<u8>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(BinaryArray::from_vec(vec![payload.as_slice()])),
            ],
        )
        .unwrap()
    }

    fn noise(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn noise_is_stored_raw_and_gradients_are_compressed() {
        let zstd = Compression::Zstd { level: 1 };
        let noisy = batch(noise(4 << 20));
        assert_eq!(compression_for(zstd, &noisy, 0.1), Compression::None);
        let smooth = batch((0..4 << 20).map(|i| (i / 4096) as u8).collect());
        assert_eq!(compression_for(zstd, &smooth, 0.1), zstd);
        // Disabled, or not zstd: unchanged.
        assert_eq!(compression_for(zstd, &noisy, 0.0), zstd);
        assert_eq!(
            compression_for(Compression::None, &smooth, 0.1),
            Compression::None
        );
        assert!(sample_ratio(&noisy, 1).unwrap() > 0.99);
    }
}
