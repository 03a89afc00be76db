//! Bounded time to durability: a stream that asks for no acks and keeps its DoPut open (as the
//! Python SDK does) still has its batches fsynced within `max_sync_delay`, without sending
//! anything more. Reads serve durable frames only, so a read during the upload shows what a
//! power cut would keep.
//!
//! The second case is the control: with a delay of an hour nothing becomes durable while the
//! stream stays open, so the first case passes because of the sync timer, not by accident.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::data::{imu_batches, imu_schema, timestamps};
use common::{encode, put_descriptor, TestServer};
use std::time::{Duration, Instant};
use tessera::Config;

/// Upload 3 batches through a DoPut left open; return the rows a reader sees after waiting up
/// to `wait` for all of them, then close the stream and check the upload completes.
async fn rows_durable_while_open(max_sync_delay: Duration, wait: Duration) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(Config {
        max_sync_delay,
        ..Config::with_data_dir(tmp.path())
    })
    .await;
    let mut c = server.client().await;
    let (session, _) = c.new_session("open").await;
    let token = c.create_topic(&session, "open/imu", "imu").await.unwrap();
    let batches = imu_batches(3, 10);
    let messages = encode(put_descriptor("open/imu", &token), imu_schema(), batches).await;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    for m in messages {
        tx.send(m).await.unwrap();
    }
    let mut writer = c.clone();
    let put = tokio::spawn(async move {
        writer
            .put_raw(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    let deadline = Instant::now() + wait;
    let mut seen = 0;
    while Instant::now() < deadline {
        seen = match c.read_topic("open/imu").await {
            Ok(b) => timestamps(&b).len(),
            Err(_) => 0, // the schema may not be recorded yet
        };
        if seen == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(tx); // end of stream: the final fsync and OK
    put.await.unwrap().unwrap();
    let all = timestamps(&c.read_topic("open/imu").await.unwrap());
    assert_eq!(all, (0..30).collect::<Vec<i64>>());
    server.stop().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_ackless_stream_becomes_durable_within_the_sync_delay() {
    // Generous wait: the machine is shared; the timer fires after 100 ms.
    let seen = rows_durable_while_open(Duration::from_millis(100), Duration::from_secs(60)).await;
    assert_eq!(seen, 30, "every batch of the open stream is durable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_timer_nothing_is_durable_while_the_stream_stays_open() {
    let seen = rows_durable_while_open(Duration::from_secs(3600), Duration::from_secs(2)).await;
    assert_eq!(
        seen, 0,
        "with an hour's delay the open stream is not synced yet"
    );
}
