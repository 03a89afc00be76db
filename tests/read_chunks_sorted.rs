//! Sealed chunks and the read path: multi-chunk topics served sorted (stable) and windowed,
//! pruning by skip index, the WAL tail of an uploading topic, damaged chunks.
mod common;

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_flight::{FlightDescriptor, Ticket};
use common::data::{imu_batch, imu_batches, imu_schema};
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use tessera::flight::descriptor::{TicketBody, Window};
use tessera::Config;
use tonic::Code;

fn small_chunks(dir: &std::path::Path) -> Config {
    Config {
        chunk_size_bytes: 4096,
        ..Config::with_data_dir(dir)
    }
}

/// Deterministic pseudo-random timestamps with many duplicates.
fn timestamps(n: usize, seed: u64) -> Vec<i64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 500) as i64 - 100
        })
        .collect()
}

/// Naive expectation: all rows in arrival order, stable-sorted, windowed.
fn naive(batches: &[RecordBatch], w: Window) -> RecordBatch {
    let all = arrow_select::concat::concat_batches(&imu_schema(), batches).unwrap();
    let ts = all
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .values()
        .to_vec();
    let mut idx: Vec<u32> = (0..all.num_rows() as u32)
        .filter(|&i| w.contains(ts[i as usize]))
        .collect();
    idx.sort_by_key(|&i| ts[i as usize]);
    arrow_select::take::take_record_batch(&all, &arrow_array::UInt32Array::from(idx)).unwrap()
}

async fn read(c: &mut Client, locator: &str, w: Window) -> (Value, Option<RecordBatch>) {
    let mut d = json!({"resource_locator": locator});
    if let Some(s) = w.start {
        d["timestamp_ns_start"] = json!(s);
    }
    if let Some(e) = w.end {
        d["timestamp_ns_end"] = json!(e);
    }
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(d.to_string()))
        .await
        .unwrap()
        .into_inner();
    let app: Value = serde_json::from_slice(&info.endpoint[0].app_metadata).unwrap();
    let batches = do_get(c, info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    assert!(
        batches.iter().all(|b| b.num_rows() > 0),
        "never a 0-row batch"
    );
    // Compare data under the stored schema: the served schema adds `mosaico:*` metadata.
    let merged = (!batches.is_empty()).then(|| {
        let all = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
        RecordBatch::try_new(imu_schema(), all.columns().to_vec()).unwrap()
    });
    (app, merged)
}

#[tokio::test]
async fn multi_chunk_topic_is_served_sorted_stable_and_windowed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(small_chunks(tmp.path())).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("chunky").await;
    let t = c.create_topic(&s, "chunky/imu", "IMU").await.unwrap();
    let input: Vec<RecordBatch> = (0..40).map(|i| imu_batch(&timestamps(37, i))).collect();
    c.put(
        put_descriptor("chunky/imu", &t),
        imu_schema(),
        input.clone(),
    )
    .await
    .unwrap();
    c.finalize(&s).await.unwrap();

    let (app, got) = read(&mut c, "chunky/imu", Window::default()).await;
    assert!(
        app["data_info"]["total_chunks_count"].as_u64().unwrap() > 3,
        "{app}"
    );
    assert_eq!(app["data_info"]["total_row_count"], 40 * 37);
    assert_eq!(got.unwrap(), naive(&input, Window::default()));

    for (s, e) in [
        (Some(-100), Some(-99)),
        (Some(0), Some(1)),
        (Some(17), Some(250)),
        (None, Some(0)),
        (Some(398), None),
        (Some(399), None),
        (Some(1000), None),
    ] {
        let w = Window { start: s, end: e };
        let (app, got) = read(&mut c, "chunky/imu", w).await;
        let want = naive(&input, w);
        assert_eq!(
            app["time_window_info"]["row_count"],
            want.num_rows(),
            "{w:?}"
        );
        match got {
            Some(g) => assert_eq!(g, want, "{w:?}"),
            None => assert_eq!(want.num_rows(), 0, "{w:?}"),
        }
    }
    server.stop().await;

    // Pruning: with time-ordered data, a narrow window opens only the chunks that overlap it.
    let engine = tessera::engine::Engine::open(small_chunks(tmp.path())).unwrap();
    let ticket = TicketBody {
        locator: "chunky/imu".into(),
        window: Window {
            start: Some(0),
            end: Some(1),
        },
    };
    let (_, mut merge) = tessera::read::open_merge(&engine, &ticket).unwrap();
    while merge.next_batch().unwrap().is_some() {}
    let total = engine
        .catalog()
        .chunks_of(&engine.catalog().topic("chunky", "imu").unwrap().unwrap().id)
        .unwrap()
        .len();
    // Random timestamps: every chunk spans the range, so nothing can be pruned here.
    assert_eq!(merge.chunks_opened, total);
    engine.shutdown();
}

#[tokio::test]
async fn narrow_windows_open_few_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(small_chunks(tmp.path())).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("ordered").await;
    let t = c.create_topic(&s, "ordered/imu", "IMU").await.unwrap();
    let input: Vec<RecordBatch> = imu_batches(60, 40);
    c.put(
        put_descriptor("ordered/imu", &t),
        imu_schema(),
        input.clone(),
    )
    .await
    .unwrap();
    c.finalize(&s).await.unwrap();
    let (_, got) = read(
        &mut c,
        "ordered/imu",
        Window {
            start: Some(1000),
            end: Some(1010),
        },
    )
    .await;
    assert_eq!(got.unwrap().num_rows(), 10);
    server.stop().await;

    let engine = tessera::engine::Engine::open(small_chunks(tmp.path())).unwrap();
    let id = engine
        .catalog()
        .topic("ordered", "imu")
        .unwrap()
        .unwrap()
        .id;
    let total = engine.catalog().chunks_of(&id).unwrap().len();
    assert!(total >= 10, "{total} chunks");
    let ticket = TicketBody {
        locator: "ordered/imu".into(),
        window: Window {
            start: Some(1000),
            end: Some(1010),
        },
    };
    let (_, mut merge) = tessera::read::open_merge(&engine, &ticket).unwrap();
    let mut rows = 0;
    while let Some(b) = merge.next_batch().unwrap() {
        rows += b.num_rows();
    }
    assert_eq!(rows, 10);
    assert_eq!(
        merge.chunks_opened, 1,
        "only the chunk holding [1000, 1010) is opened (of {total})"
    );
    engine.shutdown();
}

#[tokio::test]
async fn uploading_topic_is_readable_from_the_wal() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("live").await;
    let t = c.create_topic(&s, "live/imu", "IMU").await.unwrap();
    let desc = json!({"resource_locator": "live/imu", "topic_uuid": t, "ack": "durable"});
    let msgs = encode(desc, imu_schema(), vec![imu_batch(&[3, 1])]).await;
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
    // The stream is still open: the rows are readable already, sorted.
    let (app, got) = read(&mut c, "live/imu", Window::default()).await;
    assert_eq!(app["locked"], false);
    let got = got.unwrap();
    assert_eq!(
        got.column(0).as_ref(),
        &Int64Array::from(vec![1, 3]) as &dyn Array
    );
    drop(tx);
    while acks.message().await.unwrap().is_some() {}
    c.finalize(&s).await.unwrap();
}

#[tokio::test]
async fn damaged_chunk_is_data_loss_and_orphans_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(small_chunks(tmp.path())).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("dmg").await;
    let t = c.create_topic(&s, "dmg/imu", "IMU").await.unwrap();
    let input: Vec<RecordBatch> = imu_batches(10, 40);
    c.put(put_descriptor("dmg/imu", &t), imu_schema(), input)
        .await
        .unwrap();
    c.finalize(&s).await.unwrap();
    server.stop().await;

    let topics = tmp.path().join("topics");
    let topic_dir = std::fs::read_dir(&topics)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let chunk_dir = topic_dir.join("chunks");
    let mut chunk_files: Vec<_> = std::fs::read_dir(&chunk_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    chunk_files.sort();
    // Flip a byte in the middle of the first chunk; leave an unfinished seal behind.
    let victim = &chunk_files[0];
    let mut bytes = std::fs::read(victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(victim, bytes).unwrap();
    std::fs::write(chunk_dir.join("99999999999999999999.chunk.tmp"), b"partial").unwrap();

    let server = TestServer::start_with(small_chunks(tmp.path())).await;
    let mut c = server.client().await;
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(
            json!({"resource_locator": "dmg/imu"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !chunk_dir.join("99999999999999999999.chunk.tmp").exists(),
        "unfinished seal removed at startup"
    );
    let ticket: Ticket = info.endpoint[0].ticket.clone().unwrap();
    let err = do_get_status(&mut c, ticket).await;
    assert_eq!(err.code(), Code::DataLoss, "{}", err.message());
    assert!(err.message().contains("chunk"), "{}", err.message());
    // A window that avoids the damaged chunk still reads.
    let d = json!({"resource_locator": "dmg/imu", "timestamp_ns_start": 360});
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(d.to_string()))
        .await
        .unwrap()
        .into_inner();
    let rows = do_get(&mut c, info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 40);
    let _ = Arc::new(());
}

async fn do_get_status(c: &mut Client, ticket: Ticket) -> tonic::Status {
    match c.inner.do_get(ticket).await {
        Err(s) => s,
        Ok(resp) => {
            let mut s = resp.into_inner();
            loop {
                match s.message().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("stream ended without error"),
                    Err(st) => return st,
                }
            }
        }
    }
}
