//! `ChunkWriter`: streaming rows in time order gives the same rows and statistics as
//! `write_chunk` over the same input; out-of-order input is refused without damage; unfinished
//! or failed writers leave no file.
mod common;

use common::*;
use std::sync::Arc;
use tessera_format::{write_chunk, ChunkOptions, ChunkReader, ChunkWriter, FormatError};

/// Random batches of `schema`, sorted globally and cut at random points.
fn ordered_batches(
    schema: &arrow_schema::SchemaRef,
    rng: &mut Rng,
) -> Vec<arrow_array::RecordBatch> {
    let n = 1 + rng.below(5) as usize;
    let raw: Vec<_> = (0..n)
        .map(|_| random_batch(schema, rng.below(40) as usize, 50, rng))
        .collect();
    let all = expected_sorted(schema, &raw);
    let mut out = Vec::new();
    let mut at = 0;
    while at < all.num_rows() {
        let len = (1 + rng.below(30) as usize).min(all.num_rows() - at);
        out.push(all.slice(at, len));
        at += len;
    }
    out
}

#[test]
fn streaming_equals_write_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(7);
    let schemas = [
        imu_schema(),
        gps_schema(),
        image_schema(),
        detections_schema(),
    ];
    for case in 0..40 {
        let schema = &schemas[case % schemas.len()];
        let batches = ordered_batches(schema, &mut rng);
        if batches.is_empty() {
            continue;
        }
        let opts = ChunkOptions {
            max_batch_bytes: 1 + rng.below(4096) as usize,
            ..ChunkOptions::default()
        };
        let streamed = dir.path().join(format!("s{case}"));
        let whole = dir.path().join(format!("w{case}"));
        let mut w = ChunkWriter::create(&streamed, schema, &opts).unwrap();
        for b in &batches {
            w.push(b).unwrap();
        }
        let meta_s = w.finish().unwrap();
        let meta_w = write_chunk(&whole, schema, &batches, &opts).unwrap();
        assert_eq!(meta_s.stats, meta_w.stats, "case {case}");
        assert_eq!(meta_s.file_len, file_len(&streamed));
        let rs = ChunkReader::open(&streamed).unwrap();
        rs.verify().unwrap();
        assert_eq!(rs.stats(), &meta_s.stats);
        let rw = ChunkReader::open(&whole).unwrap();
        assert_eq!(
            concat(schema, &read_all(&rs).unwrap()),
            concat(schema, &read_all(&rw).unwrap()),
            "case {case}"
        );
    }
}

#[test]
fn out_of_order_push_is_refused_and_writer_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let schema = imu_schema();
    let mut rng = Rng::new(3);
    let sorted = expected_sorted(&schema, &[random_batch(&schema, 30, 1000, &mut rng)]);
    let path = dir.path().join("c");
    let mut w = ChunkWriter::create(&path, &schema, &ChunkOptions::default()).unwrap();
    w.push(&sorted.slice(10, 10)).unwrap();
    // Earlier than what was written.
    let err = w.push(&sorted.slice(0, 5)).unwrap_err();
    assert!(matches!(err, FormatError::Unordered(_)), "{err}");
    // Not sorted inside the batch (reversed).
    let idx = arrow_array::UInt32Array::from((20..30u32).rev().collect::<Vec<_>>());
    let reversed = arrow_select::take::take_record_batch(&sorted, &idx).unwrap();
    if reversed.num_rows() > 1 {
        let first = reversed.column(0).as_any();
        let ts = first.downcast_ref::<arrow_array::Int64Array>().unwrap();
        if ts.value(0) != ts.value(ts.len() - 1) {
            let err = w.push(&reversed).unwrap_err();
            assert!(matches!(err, FormatError::Unordered(_)), "{err}");
        }
    }
    w.push(&sorted.slice(20, 10)).unwrap();
    assert_eq!(w.rows(), 20);
    w.finish().unwrap();
    let r = ChunkReader::open(&path).unwrap();
    r.verify().unwrap();
    let got = concat(&schema, &read_all(&r).unwrap());
    let want = concat(&schema, &[sorted.slice(10, 10), sorted.slice(20, 10)]);
    assert_eq!(got, want);
}

#[test]
fn unfinished_or_empty_writers_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::clone(&imu_schema());
    let mut rng = Rng::new(5);
    let path = dir.path().join("dropped");
    {
        let mut w = ChunkWriter::create(&path, &schema, &ChunkOptions::default()).unwrap();
        let b = expected_sorted(&schema, &[random_batch(&schema, 8, 100, &mut rng)]);
        w.push(&b).unwrap();
        assert!(path.exists());
    }
    assert!(!path.exists(), "a dropped writer removes its file");
    let w = ChunkWriter::create(&path, &schema, &ChunkOptions::default()).unwrap();
    assert!(matches!(w.finish(), Err(FormatError::EmptyChunk)));
    assert!(!path.exists(), "an empty chunk is not left behind");
    // An existing file is never overwritten.
    std::fs::write(&path, b"mine").unwrap();
    assert!(ChunkWriter::create(&path, &schema, &ChunkOptions::default()).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"mine");
}
