//! Bytes read scale with the chunks that can match: the skip index decides which chunks a query
//! opens (`ScanStats`), results are the same with pruning off, `$eq` keeps the chunk with
//! `min <= v <= max`, unprunable operators open everything, and the unsealed WAL tail of an
//! uploading topic is queried too.
//!
//! Figures: `cargo test --test query_pruning -- --nocapture` prints chunks and bytes read per
//! query; `QUERY_SCALE_MB=1024 cargo test --release --test query_pruning -- --ignored
//! --nocapture` runs the same on a topic of that many MiB of Arrow data (2048 MiB: 1 of 64
//! chunks opened, 33,563,554 of 2,148,065,992 chunk bytes, 1.56%).
mod common;

use arrow_array::{ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::data::{imu_batch, imu_batches, imu_schema};
use common::*;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::sync::Arc;
use tessera::engine::Engine;
use tessera::query::run_query;
use tessera::Config;

fn config(dir: &std::path::Path, chunk: u64) -> Config {
    Config {
        chunk_size_bytes: chunk,
        ..Config::with_data_dir(dir)
    }
}

fn ontology(cond: Value) -> Value {
    json!({ "ontology": cond })
}

/// Run with and without pruning: same answer; returns the pruned scan's figures.
fn both(engine: &Engine, body: &Value) -> tessera::query::Answer {
    let pruned = run_query(engine, body, true).unwrap();
    let full = run_query(engine, body, false).unwrap();
    assert_eq!(
        pruned.hits, full.hits,
        "pruning changed the answer of {body}"
    );
    assert_eq!(full.stats.chunks_read, full.stats.chunks);
    assert_eq!(pruned.stats.chunks, full.stats.chunks);
    pruned
}

#[tokio::test]
async fn selective_queries_open_only_chunks_that_can_match() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(config(tmp.path(), 4096)).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("big").await;
    let t = c.create_topic(&s, "big/imu", "IMU").await.unwrap();
    // acceleration.x = t / 2 grows with time, acceleration.z = t % 7 does not.
    let input: Vec<RecordBatch> = imu_batches(80, 40);
    c.put(put_descriptor("big/imu", &t), imu_schema(), input)
        .await
        .unwrap();
    c.finalize(&s).await.unwrap();
    server.stop().await;

    let engine = Engine::open(config(tmp.path(), 4096)).unwrap();
    let id = engine.catalog().topic("big", "imu").unwrap().unwrap().id;
    let chunks = engine.catalog().chunks_of(&id).unwrap();
    assert!(chunks.len() >= 20, "{} chunks", chunks.len());
    // Chunks whose time range (hence x range) meets [lo, hi] of x.
    let overlapping = |lo: f64, hi: f64| {
        chunks
            .iter()
            .filter(|c| (c.stats.ts_max as f64) / 2.0 >= lo && (c.stats.ts_min as f64) / 2.0 <= hi)
            .count() as u64
    };
    let total = chunks.len() as u64;
    let mut last_bytes = 0;
    for (lo, hi) in [(10.0, 10.0), (100.0, 260.0), (0.0, 800.0), (0.0, 1600.0)] {
        let a = both(
            &engine,
            &ontology(json!({"IMU.acceleration.x": {"$between": [lo, hi]}})),
        );
        assert_eq!(
            a.stats.chunks_read,
            overlapping(lo, hi),
            "x in [{lo}, {hi}]"
        );
        assert!(a.stats.chunk_bytes_read >= last_bytes);
        last_bytes = a.stats.chunk_bytes_read;
        assert_eq!(
            a.hits[0].time_range,
            Some(((2.0 * lo) as i64, ((2.0 * hi) as i64).min(3199)))
        );
        println!(
            "x in [{lo}, {hi}]: {} of {} chunks, {} of {} bytes ({:.1}%)",
            a.stats.chunks_read,
            a.stats.chunks,
            a.stats.chunk_bytes_read,
            a.stats.chunk_bytes,
            100.0 * a.stats.chunk_bytes_read as f64 / a.stats.chunk_bytes as f64
        );
    }
    // `$eq` keeps exactly the chunk(s) with min <= v <= max (not upstream's min <= v <= max
    // typo `max <= v`), and finds the row.
    let a = both(
        &engine,
        &ontology(json!({"IMU.acceleration.x": {"$eq": 777.5}})),
    );
    assert_eq!(a.stats.chunks_read, overlapping(777.5, 777.5));
    assert_eq!(a.hits[0].time_range, Some((1555, 1555)));
    // Timestamps prune through the exact time range.
    let a = both(
        &engine,
        &ontology(json!({"IMU.timestamp_ns": {"$geq": 3190}})),
    );
    assert_eq!(a.stats.chunks_read, 1);
    assert_eq!(a.hits[0].time_range, Some((3190, 3199)));
    // `$in`, `$neq` and a non-monotonic column cannot prune: every chunk is opened.
    for cond in [
        json!({"IMU.acceleration.x": {"$in": [10.0]}}),
        json!({"IMU.acceleration.x": {"$neq": 10.0}}),
        json!({"IMU.acceleration.z": {"$eq": 3}}),
    ] {
        let a = both(&engine, &ontology(cond.clone()));
        assert_eq!(a.stats.chunks_read, total, "{cond}");
    }
    // A value no chunk holds opens nothing and matches nothing.
    let a = both(
        &engine,
        &ontology(json!({"IMU.acceleration.x": {"$lt": -1}})),
    );
    assert_eq!((a.stats.chunks_read, a.hits.len()), (0, 0));
    engine.shutdown();
}

#[tokio::test]
async fn the_wal_tail_of_an_uploading_topic_is_queried() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("live").await;
    let t = c.create_topic(&s, "live/imu", "IMU").await.unwrap();
    let desc = json!({"resource_locator": "live/imu", "topic_uuid": t, "ack": "durable"});
    let msgs = encode(desc, imu_schema(), vec![imu_batch(&[30, 10, 20])]).await;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    for m in msgs {
        tx.send(m).await.unwrap();
    }
    let mut c2 = c.clone();
    let mut acks = c2
        .inner
        .do_put(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    acks.message().await.unwrap().expect("one durable ack");
    let q = json!({"ontology": {"IMU.acceleration.x": {"$geq": 10.0}}});
    let r = c.action("query", q).await.unwrap();
    assert_eq!(
        r,
        json!({"items": [{"sequence": "live", "topics": [
            {"locator": "live/imu", "ontology_tag": "IMU", "timestamp_range": [20, 30]}]}]})
    );
    let pages = c
        .action_paged(
            "topic_filter_clusterize",
            json!({"locator": "live/imu", "clustering_dt_ns": 5,
                   "ontology": {"IMU.acceleration.y": {"$leq": -10.0}}}),
        )
        .await
        .unwrap();
    assert_eq!(
        pages,
        vec![
            json!({"id": 0, "ts": {"start_ns": 10, "end_ns": 10}}),
            json!({"id": 1, "ts": {"start_ns": 20, "end_ns": 20}}),
            json!({"id": 2, "ts": {"start_ns": 30, "end_ns": 30}}),
        ]
    );
    drop(tx);
    while acks.message().await.unwrap().is_some() {}
    c.finalize(&s).await.unwrap();
}

fn frame_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("exposure", DataType::Float64, false),
        Field::new("data", DataType::Binary, false),
    ]))
}

/// Camera-like rows: `exposure` grows with time, `data` is an incompressible-ish payload.
fn frame_batch(first: i64, rows: usize, payload: usize) -> RecordBatch {
    let ts: Vec<i64> = (first..first + rows as i64).collect();
    let mut x = first as u64 | 1;
    let data: Vec<Vec<u8>> = ts
        .iter()
        .map(|_| {
            (0..payload / 8)
                .flat_map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()
                })
                .collect()
        })
        .collect();
    RecordBatch::try_new(
        frame_schema(),
        vec![
            Arc::new(Int64Array::from(ts.clone())) as ArrayRef,
            Arc::new(Float64Array::from(
                ts.iter().map(|&t| t as f64 * 0.001).collect::<Vec<_>>(),
            )),
            Arc::new(BinaryArray::from(
                data.iter().map(|d| d.as_slice()).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

/// The figure for the notes: a selective query on a large topic (QUERY_SCALE_MB, default 256)
/// reads a small fraction of its chunk bytes. Ignored by default (disk and CPU heavy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn selective_query_on_a_large_topic_reads_a_small_fraction() {
    let mb: usize = std::env::var("QUERY_SCALE_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = || config(tmp.path(), 32 << 20);
    let server = TestServer::start_with(cfg()).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("cam").await;
    let t = c.create_topic(&s, "cam/front", "Frame").await.unwrap();
    let (rows, payload) = (64usize, 64 * 1024usize);
    let batches = (mb << 20) / (rows * payload);
    // Batches are generated while the upload streams, so memory stays flat at any size.
    let lazy = futures::stream::iter(0..batches)
        .map(move |i| Ok(frame_batch((i * rows) as i64, rows, payload)));
    let desc = arrow_flight::FlightDescriptor::new_cmd(put_descriptor("cam/front", &t).to_string());
    let messages = arrow_flight::encode::FlightDataEncoderBuilder::new()
        .with_schema(frame_schema())
        .with_flight_descriptor(Some(desc))
        .build(lazy)
        .map(|m| m.unwrap());
    c.inner
        .do_put(messages)
        .await
        .unwrap()
        .into_inner()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    c.finalize(&s).await.unwrap();
    server.stop().await;
    let engine = Engine::open(cfg()).unwrap();
    let last = (batches * rows) as f64 * 0.001;
    let body = ontology(json!({"Frame.exposure": {"$between": [last * 0.5, last * 0.5 + 0.01]}}));
    let a = run_query(&engine, &body, true).unwrap();
    assert_eq!(a.hits.len(), 1);
    println!(
        "{mb} MiB topic, exposure in a 10-row band: {} of {} chunks, {} of {} chunk bytes ({:.2}%)",
        a.stats.chunks_read,
        a.stats.chunks,
        a.stats.chunk_bytes_read,
        a.stats.chunk_bytes,
        100.0 * a.stats.chunk_bytes_read as f64 / a.stats.chunk_bytes as f64
    );
    assert!(a.stats.chunks_read <= 2 && a.stats.chunks >= 4);
    engine.shutdown();
}
