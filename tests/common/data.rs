//! Test data shaped like the Mosaico SDK ontologies.
#![allow(dead_code, clippy::unwrap_used)]

use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::{
    ArrayRef, BinaryArray, Float64Array, Int16Array, Int64Array, RecordBatch, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use std::sync::Arc;

fn vec3_fields() -> Fields {
    Fields::from(vec![
        Field::new(
            "covariance",
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
            true,
        ),
        Field::new("covariance_type", DataType::Int16, true),
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
        Field::new("z", DataType::Float64, false),
    ])
}

/// An IMU-like schema: timestamp + a non-null struct with a list child.
pub fn imu_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("acceleration", DataType::Struct(vec3_fields()), false).with_metadata(
            std::collections::HashMap::from([("description".to_string(), "m/s^2".to_string())]),
        ),
    ]))
}

/// The `timestamp_ns` column (the first) of `batches`, in order.
pub fn timestamps(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("timestamp_ns is Int64")
                .values()
                .to_vec()
        })
        .collect()
}

/// `n` IMU batches of `rows` rows each, timestamps 0, 1, 2, ... across them.
pub fn imu_batches(n: i64, rows: i64) -> Vec<RecordBatch> {
    (0..n)
        .map(|i| imu_batch(&(i * rows..(i + 1) * rows).collect::<Vec<i64>>()))
        .collect()
}

/// IMU-like rows with the given timestamps; values derive from the timestamps.
pub fn imu_batch(ts: &[i64]) -> RecordBatch {
    let n = ts.len();
    let mut cov = ListBuilder::new(Float64Builder::new());
    for &t in ts {
        cov.values().append_value(t as f64);
        cov.values().append_value(0.5);
        cov.append(true);
    }
    let col = |f: fn(i64) -> f64| {
        Arc::new(Float64Array::from(
            ts.iter().map(|&t| f(t)).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    let accel = StructArray::new(
        vec3_fields(),
        vec![
            Arc::new(cov.finish()) as ArrayRef,
            Arc::new(Int16Array::from(vec![1i16; n])),
            col(|t| t as f64 * 0.5),
            col(|t| -(t as f64)),
            col(|t| (t % 7) as f64),
        ],
        None,
    );
    RecordBatch::try_new(
        imu_schema(),
        vec![Arc::new(Int64Array::from(ts.to_vec())), Arc::new(accel)],
    )
    .unwrap()
}

/// An image-like schema: timestamp + binary payload.
pub fn image_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("data", DataType::Binary, false),
    ]))
}

pub fn image_batch(ts: &[i64], size: usize) -> RecordBatch {
    let payloads: Vec<Vec<u8>> = ts
        .iter()
        .map(|&t| (0..size).map(|i| (i as i64 ^ t) as u8).collect())
        .collect();
    let data = BinaryArray::from(payloads.iter().map(|p| p.as_slice()).collect::<Vec<_>>());
    RecordBatch::try_new(
        image_schema(),
        vec![Arc::new(Int64Array::from(ts.to_vec())), Arc::new(data)],
    )
    .unwrap()
}
