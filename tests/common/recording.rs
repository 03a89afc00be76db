//! Deterministic recordings for crash tests: every value derives from (topic, timestamp), so a
//! reader can check any row it gets back without keeping what was sent.
//!
//! Batch `b` of a topic holds `rows` rows with timestamps `b * BATCH_SPAN + j` (`j < rows`),
//! in ascending order for odd topics and descending for even ones (so sealing has to sort). Read back in time order, a topic
//! holding batches `0..k` is exactly the concatenation of those ranges.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use arrow_array::{Array, BinaryArray, BinaryViewArray, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Timestamp distance between the starts of two batches (more than any batch's row count).
pub const BATCH_SPAN: i64 = 1_000_000;

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("payload", DataType::Binary, false),
    ]))
}

fn value(topic: usize, ts: i64) -> Option<f64> {
    (ts % 13 != 0).then_some(ts as f64 * 0.25 + topic as f64)
}

fn payload(topic: usize, ts: i64) -> Vec<u8> {
    let h = mix((topic as u64) << 48 ^ ts as u64);
    let len = 16 + (h % 112) as usize;
    let mut out = Vec::with_capacity(len);
    let mut x = h;
    while out.len() < len {
        x = mix(x);
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Batch `b` of `topic`, `rows` rows, as sent: timestamps ascending for odd topics (a
/// sensor clock: chunks are streamed), descending for even ones (chunks must be sorted).
pub fn batch(topic: usize, b: usize, rows: usize) -> RecordBatch {
    if topic % 2 == 1 {
        return sorted_batch(topic, b, rows);
    }
    let ts = (0..rows as i64).rev().map(|j| b as i64 * BATCH_SPAN + j);
    build(topic, ts.collect())
}

/// Batch `b` of `topic` as a time-ordered read returns it.
pub fn sorted_batch(topic: usize, b: usize, rows: usize) -> RecordBatch {
    let ts = (0..rows as i64).map(|j| b as i64 * BATCH_SPAN + j);
    build(topic, ts.collect())
}

fn build(topic: usize, ts: Vec<i64>) -> RecordBatch {
    let values: Float64Array = ts.iter().map(|&t| value(topic, t)).collect();
    let payloads: Vec<Vec<u8>> = ts.iter().map(|&t| payload(topic, t)).collect();
    let payloads = BinaryArray::from_iter_values(payloads.iter());
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ts)),
            Arc::new(values),
            Arc::new(payloads),
        ],
    )
    .unwrap()
}

/// Check that `read` (a topic read back in time order) is exactly batches `0..k` of `plan`
/// (rows per batch) for some `k`, every value intact; returns `k`.
pub fn check(topic: usize, plan: &[usize], read: &[RecordBatch]) -> Result<usize, String> {
    let mut batch_no = 0usize;
    let mut row_in_batch = 0usize;
    let mut seen = 0u64;
    for rb in read {
        let ts = column::<Int64Array>(rb, "timestamp_ns")?;
        let values = column::<Float64Array>(rb, "value")?;
        let payload_col = rb
            .column_by_name("payload")
            .ok_or("no payload column")?
            .clone();
        for i in 0..rb.num_rows() {
            if batch_no < plan.len() && row_in_batch == plan[batch_no] {
                batch_no += 1;
                row_in_batch = 0;
            }
            if batch_no >= plan.len() {
                return Err(format!(
                    "topic {topic}: row {seen} lies beyond the {} planned batches (ts {})",
                    plan.len(),
                    ts.value(i)
                ));
            }
            let want = batch_no as i64 * BATCH_SPAN + row_in_batch as i64;
            let got = ts.value(i);
            if got != want {
                return Err(format!(
                    "topic {topic}: row {seen} has ts {got}, expected {want} (batch {batch_no}, row {row_in_batch}): a lost, duplicated or torn batch"
                ));
            }
            let v = (!values.is_null(i)).then(|| values.value(i));
            if v.map(f64::to_bits) != value(topic, got).map(f64::to_bits) {
                return Err(format!("topic {topic}: value of ts {got} is {v:?}"));
            }
            let p = binary_value(&payload_col, i)?;
            if p != payload(topic, got).as_slice() {
                return Err(format!("topic {topic}: payload of ts {got} differs"));
            }
            row_in_batch += 1;
            seen += 1;
        }
    }
    if seen == 0 {
        return Ok(0);
    }
    if row_in_batch != plan[batch_no] {
        return Err(format!(
            "topic {topic}: batch {batch_no} is partial: {row_in_batch} of {} rows",
            plan[batch_no]
        ));
    }
    Ok(batch_no + 1)
}

fn column<'a, T: 'static>(rb: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
    rb.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("column {name} missing or of another type"))
}

fn binary_value(col: &Arc<dyn Array>, i: usize) -> Result<&[u8], String> {
    if let Some(a) = col.as_any().downcast_ref::<BinaryViewArray>() {
        return Ok(a.value(i));
    }
    if let Some(a) = col.as_any().downcast_ref::<BinaryArray>() {
        return Ok(a.value(i));
    }
    Err(format!("payload column has type {}", col.data_type()))
}
