//! `ChunkReader::window` against a naive row filter, over a grid of windows.

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::*;
use tessera_format::{write_chunk, ChunkOptions, ChunkReader, Compression};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("tag", DataType::Utf8, false),
    ]))
}

/// Timestamps with duplicates that straddle batch cuts: 0 0 10 10 10 20 30 30 40 ...
fn fixture(dir: &tempfile::TempDir) -> (ChunkReader, RecordBatch) {
    let ts: Vec<i64> = vec![30, 0, 10, 10, 20, 0, 10, 30, 40, 50, 50, 50, 60, 70, 70];
    let tags: Vec<String> = (0..ts.len()).map(|i| format!("r{i}")).collect();
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ts)) as ArrayRef,
            Arc::new(StringArray::from(tags)),
        ],
    )
    .unwrap();
    let path = chunk_path(dir, "w.arrow");
    // Rows are ~15 bytes: 32 bytes per batch gives two rows per batch.
    let opts = ChunkOptions {
        compression: Compression::None,
        max_batch_bytes: 32,
    };
    write_chunk(&path, &schema(), std::slice::from_ref(&batch), &opts).unwrap();
    let reader = ChunkReader::open(&path).unwrap();
    assert!(reader.num_batches() >= 7, "{}", reader.num_batches());
    (reader, expected_sorted(&schema(), &[batch]))
}

fn naive(all: &RecordBatch, start: Option<i64>, end: Option<i64>) -> RecordBatch {
    let ts = all.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let keep: arrow_array::BooleanArray = ts
        .iter()
        .map(|t| {
            let t = t.unwrap();
            Some(start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e))
        })
        .collect();
    arrow_select::filter::filter_record_batch(all, &keep).unwrap()
}

#[test]
fn windows_match_a_naive_filter() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, all) = fixture(&dir);
    let mut bounds: Vec<Option<i64>> = vec![None];
    bounds.extend((-5..=80).step_by(5).map(Some));
    for &start in &bounds {
        for &end in &bounds {
            let got: Vec<RecordBatch> = reader.window(start, end).map(|b| b.unwrap()).collect();
            assert!(
                got.iter().all(|b| b.num_rows() > 0),
                "empty batch for {start:?}..{end:?}"
            );
            let want = naive(&all, start, end);
            if want.num_rows() == 0 {
                assert!(got.is_empty(), "{start:?}..{end:?} yielded batches");
            } else {
                assert_eq!(concat(&schema(), &got), want, "{start:?}..{end:?}");
            }
        }
    }
}

#[test]
fn window_edges() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, _) = fixture(&dir);
    let rows = |s, e| -> Vec<i64> {
        reader
            .window(s, e)
            .flat_map(|b| {
                let b = b.unwrap();
                let ts = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .clone();
                ts.values().to_vec()
            })
            .collect()
    };
    // start == a row's ts is included; end == a row's ts is excluded.
    assert_eq!(rows(Some(10), Some(30)), vec![10, 10, 10, 20]);
    assert_eq!(rows(Some(50), Some(51)), vec![50, 50, 50]);
    // Empty windows yield nothing: between rows, inverted, zero-width, past the end.
    assert!(rows(Some(11), Some(20)).is_empty());
    assert!(rows(Some(30), Some(10)).is_empty());
    assert!(rows(Some(30), Some(30)).is_empty());
    assert!(rows(Some(71), None).is_empty());
    assert!(rows(None, Some(0)).is_empty());
    assert_eq!(rows(None, None).len(), 15);
    assert_eq!(rows(Some(i64::MIN), Some(i64::MAX)).len(), 15);
}

#[test]
fn window_skips_batches_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, _) = fixture(&dir);
    let path = reader.path().to_path_buf();
    // Damage the first block; a window after it must not touch it, one covering it must fail.
    let mut bytes = std::fs::read(&path).unwrap();
    let (offset, len) = block_regions(&bytes)[0];
    bytes[offset + len / 2] ^= 0xff;
    drop(reader);
    std::fs::write(&path, &bytes).unwrap();
    let reader = ChunkReader::open(&path).unwrap();
    let (_, first_last) = reader.batch_time_range(0).unwrap();
    let later: Vec<_> = reader.window(Some(first_last + 1), None).collect();
    assert!(!later.is_empty() && later.iter().all(|b| b.is_ok()));
    let mut covering = reader.window(None, None);
    assert!(covering.next().unwrap().is_err());
    assert!(covering.next().is_none(), "iteration stops after an error");
}
