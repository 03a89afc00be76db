//! Stable ordering of input rows by `timestamp_ns` and cutting them into output batches.
//!
//! Every input row becomes a [`RowRef`] `(ts, batch, row)` in input order; a stable sort on `ts`
//! (`slice::sort_by_key`, skipped when the input is already ordered) keeps ties in input order.
//! The sorted rows are then cut greedily into runs whose estimated Arrow memory
//! (`rowsize`) stays within `max_batch_bytes`, each run holding at least one row. A run is
//! materialised zero-copy as a slice when its rows are consecutive in one input batch, else with
//! arrow-select `interleave`.

use std::ops::Range;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use arrow_select::interleave::interleave;

use crate::error::FormatError;
use crate::rowsize::row_sizes;
use crate::stats_values::timestamp_range;

/// One input row: its timestamp and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowRef {
    pub ts: i64,
    pub batch: usize,
    pub row: usize,
}

/// Rows in output order plus the ranges of `rows` forming each output batch.
#[derive(Debug)]
pub(crate) struct SortPlan {
    pub rows: Vec<RowRef>,
    pub runs: Vec<Range<usize>>,
}

/// Orders the rows of `batches` by the Int64 column `ts_index` (stable) and cuts them into runs
/// of at most `max_batch_bytes` estimated bytes (at least one row each).
pub(crate) fn plan(
    batches: &[RecordBatch],
    ts_index: usize,
    max_batch_bytes: usize,
) -> Result<SortPlan, FormatError> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut rows = Vec::with_capacity(total);
    let mut sizes = Vec::with_capacity(batches.len());
    for (b, batch) in batches.iter().enumerate() {
        let ts = batch
            .columns()
            .get(ts_index)
            .ok_or_else(|| FormatError::NoTimestamp("column missing from batch".into()))?;
        timestamp_range(ts.as_ref())?; // type and null check
        let ts = ts
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .ok_or_else(|| FormatError::NoTimestamp("column is not Int64".into()))?;
        rows.extend(
            ts.values()
                .iter()
                .enumerate()
                .map(|(row, &ts)| RowRef { ts, batch: b, row }),
        );
        sizes.push(row_sizes(batch));
    }
    if !rows.windows(2).all(|w| w[0].ts <= w[1].ts) {
        rows.sort_by_key(|r| r.ts); // stable: ties keep input order
    }

    let limit = max_batch_bytes as u64;
    let mut runs = Vec::new();
    let (mut start, mut acc) = (0usize, 0u64);
    for (i, r) in rows.iter().enumerate() {
        let size = sizes
            .get(r.batch)
            .and_then(|s| s.get(r.row))
            .copied()
            .unwrap_or(0);
        if i > start && acc.saturating_add(size) > limit {
            runs.push(start..i);
            (start, acc) = (i, 0);
        }
        acc = acc.saturating_add(size);
    }
    if start < rows.len() {
        runs.push(start..rows.len());
    }
    Ok(SortPlan { rows, runs })
}

/// Builds the output batch holding `rows` (in that order) with exactly `schema`.
pub(crate) fn materialize(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    rows: &[RowRef],
) -> Result<RecordBatch, FormatError> {
    let first = rows
        .first()
        .ok_or_else(|| FormatError::SchemaMismatch("empty run".into()))?;
    let contiguous = rows
        .iter()
        .enumerate()
        .all(|(k, r)| r.batch == first.batch && r.row == first.row + k);
    let columns: Vec<ArrayRef> = match batches.get(first.batch) {
        Some(batch) if contiguous => batch.slice(first.row, rows.len()).columns().to_vec(),
        _ => {
            let indices: Vec<(usize, usize)> = rows.iter().map(|r| (r.batch, r.row)).collect();
            (0..schema.fields().len())
                .map(|c| {
                    let column = batches
                        .iter()
                        .map(|b| b.columns().get(c).map(|a| a.as_ref()))
                        .collect::<Option<Vec<&dyn Array>>>()
                        .ok_or_else(|| FormatError::SchemaMismatch("missing column".into()))?;
                    Ok(interleave(&column, &indices)?)
                })
                .collect::<Result<_, FormatError>>()?
        }
    };
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(ts: &[i64], tags: &[&str]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("tag", DataType::Utf8, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ts.to_vec())),
                Arc::new(StringArray::from(tags.to_vec())),
            ],
        )
        .unwrap()
    }

    fn tags(b: &RecordBatch) -> Vec<String> {
        let a = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        a.iter().map(|s| s.unwrap().to_owned()).collect()
    }

    #[test]
    fn stable_sort_across_batches() {
        let input = [
            batch(&[5, 1, 5], &["a", "b", "c"]),
            batch(&[1, 5, 0], &["d", "e", "f"]),
        ];
        let p = plan(&input, 0, usize::MAX).unwrap();
        assert_eq!(p.runs, vec![0..6]);
        let out = materialize(&input[0].schema(), &input, &p.rows).unwrap();
        assert_eq!(tags(&out), ["f", "b", "d", "a", "c", "e"]);
    }

    #[test]
    fn runs_respect_byte_limit_and_hold_a_row() {
        // Each row: 8 (ts) + 4 + 1 (tag) = 13 bytes.
        let input = [batch(&[1, 2, 3, 4, 5], &["a", "b", "c", "d", "e"])];
        let p = plan(&input, 0, 26).unwrap();
        assert_eq!(p.runs, vec![0..2, 2..4, 4..5]);
        let p = plan(&input, 0, 0).unwrap();
        assert_eq!(p.runs.len(), 5);
        // Sorted input in one batch is sliced, not copied.
        let out = materialize(&input[0].schema(), &input, &p.rows[2..4]).unwrap();
        assert_eq!(tags(&out), ["c", "d"]);
    }

    #[test]
    fn rejects_null_or_missing_timestamps() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "timestamp_ns",
            DataType::Int64,
            true,
        )]));
        let b = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(vec![None, Some(1)]))],
        )
        .unwrap();
        assert!(matches!(
            plan(std::slice::from_ref(&b), 0, 10),
            Err(FormatError::NoTimestamp(_))
        ));
        assert!(matches!(
            plan(&[b], 3, 10),
            Err(FormatError::NoTimestamp(_))
        ));
    }
}
