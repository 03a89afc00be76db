//! Burst absorption (`Config::seal_lag_bytes`): below the seal lag an upload's data stays in its
//! WAL only (written once, no chunk), and a read never decodes more than two chunks of it in
//! memory: a longer tail is sealed first, then read from the chunks, rows unchanged.
mod common;

use arrow_array::RecordBatch;
use common::data::{imu_batch, imu_schema, timestamps};
use common::*;
use std::path::Path;
use tessera::Config;

const CHUNK: u64 = 4096;

/// Chunk files of every topic under a data directory.
fn chunk_files(dir: &Path) -> usize {
    let Ok(topics) = std::fs::read_dir(dir.join("topics")) else {
        return 0;
    };
    topics
        .flatten()
        .filter_map(|t| std::fs::read_dir(t.path().join("chunks")).ok())
        .flat_map(|d| d.flatten())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".chunk"))
        .count()
}

/// 40 batches of 50 rows, timestamps interleaved across batches so the read must sort.
fn burst() -> (Vec<RecordBatch>, Vec<i64>) {
    let batches: Vec<RecordBatch> = (0..40i64)
        .map(|b| imu_batch(&(0..50i64).map(|r| r * 40 + (39 - b)).collect::<Vec<_>>()))
        .collect();
    let mut all: Vec<i64> = batches
        .iter()
        .flat_map(|b| timestamps(std::slice::from_ref(b)))
        .collect();
    all.sort_unstable();
    (batches, all)
}

async fn server(dir: &Path, lag: u64) -> TestServer {
    TestServer::start_with(Config {
        chunk_size_bytes: CHUNK,
        seal_lag_bytes: lag,
        max_unsealed_bytes: lag + 4 * CHUNK,
        ..Config::with_data_dir(dir)
    })
    .await
}

#[tokio::test]
async fn a_burst_below_the_lag_stays_in_the_wal_until_a_read_seals_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), 1 << 20).await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("burst").await;
    let token = c.create_topic(&s, "burst/imu", "IMU").await.unwrap();
    let (batches, expected) = burst();
    let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    assert!(bytes as u64 > 8 * CHUNK, "the burst must span many chunks");
    // The client stops mid-stream: the topic stays open, its durable data in the WAL.
    let cut = c
        .put_interrupted(put_descriptor("burst/imu", &token), imu_schema(), batches)
        .await;
    assert!(cut.is_err());
    assert_eq!(
        chunk_files(dir.path()),
        0,
        "below the lag nothing is sealed"
    );

    // More than two chunks wait: the read has them sealed, then reads every row once.
    let rows = c.read_topic("burst/imu").await.unwrap();
    assert_eq!(timestamps(&rows), expected);
    let sealed = chunk_files(dir.path());
    assert!(
        sealed >= 2,
        "the read sealed the tail first ({sealed} chunks)"
    );

    // Reads after it see the same rows, from chunks and the short tail.
    assert_eq!(
        timestamps(&c.read_topic("burst/imu").await.unwrap()),
        expected
    );
    server.stop().await;
}

#[tokio::test]
async fn finalize_seals_a_lagging_burst_and_reads_back_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (batches, expected) = burst();
    {
        let server = server(dir.path(), 1 << 20).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("done").await;
        let token = c.create_topic(&s, "done/imu", "IMU").await.unwrap();
        c.put(put_descriptor("done/imu", &token), imu_schema(), batches)
            .await
            .unwrap();
        c.finalize(&s).await.unwrap();
        assert!(
            chunk_files(dir.path()) >= 2,
            "finalize waited for the seals"
        );
        assert_eq!(
            timestamps(&c.read_topic("done/imu").await.unwrap()),
            expected
        );
        server.stop().await;
    }
    let report = tessera::verify::verify(dir.path()).unwrap();
    assert!(report.errors.is_empty(), "{}", report.render());
}
