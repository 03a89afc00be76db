//! Idempotent resume: a client whose upload broke re-sends the batches it is unsure about,
//! stating where its stream starts (`"first_row"` in the DoPut descriptor, a Tessera extension;
//! README "Crashes, recovery and resuming"). Rows the topic already stores are skipped, so the
//! topic ends with every row exactly once; a start past the stored rows (a gap) and a batch
//! crossing the stored end are refused with FAILED_PRECONDITION.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::data::{imu_batches, imu_schema, timestamps};
use common::{expect_code, put_descriptor, Client, TestServer};
use serde_json::Value;
use tonic::Code;

/// A topic whose upload broke after 10 batches of 10 rows (rows 0..100 stored).
async fn interrupted(c: &mut Client, seq: &str) -> (String, String) {
    let (session, _) = c.new_session(seq).await;
    let locator = format!("{seq}/imu");
    let token = c.create_topic(&session, &locator, "imu").await.unwrap();
    let batches = imu_batches(15, 10);
    let first_ten = batches[..10].to_vec();
    assert!(c
        .put_interrupted(put_descriptor(&locator, &token), imu_schema(), first_ten)
        .await
        .is_err());
    let (app, _) = c.topic_info(&locator).await.unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 100, "{app}");
    (session, token)
}

fn resume_descriptor(locator: &str, token: &str, first_row: u64) -> Value {
    let mut d = put_descriptor(locator, token);
    d["first_row"] = first_row.into();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_the_last_five_batches_stores_each_row_once() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (session, token) = interrupted(&mut c, "resume").await;
    // The client is unsure about its last 5 batches: it re-sends them, then the rest.
    let again = imu_batches(15, 10)[5..].to_vec();
    c.put(
        resume_descriptor("resume/imu", &token, 50),
        imu_schema(),
        again,
    )
    .await
    .unwrap();
    c.finalize(&session).await.unwrap();
    let ts = timestamps(&c.read_topic("resume/imu").await.unwrap());
    assert_eq!(ts, (0..150).collect::<Vec<i64>>(), "no duplicates, no gaps");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_first_row_a_resent_batch_is_stored_twice() {
    // The control: the protocol's plain resume appends whatever is sent.
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (_, token) = interrupted(&mut c, "plain").await;
    let again = imu_batches(15, 10)[5..].to_vec();
    c.put(put_descriptor("plain/imu", &token), imu_schema(), again)
        .await
        .unwrap();
    let ts = timestamps(&c.read_topic("plain/imu").await.unwrap());
    assert_eq!(ts.len(), 200, "re-sent rows duplicated without first_row");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_or_a_batch_across_the_stored_end_is_refused() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (_, token) = interrupted(&mut c, "gap").await;
    let rest = imu_batches(15, 10)[12..].to_vec();
    let msg = expect_code(
        c.put(
            resume_descriptor("gap/imu", &token, 120),
            imu_schema(),
            rest,
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(msg.contains("stores 100 rows"), "{msg}");
    let shifted = imu_batches(15, 10)[5..].to_vec();
    let msg = expect_code(
        c.put(
            resume_descriptor("gap/imu", &token, 55),
            imu_schema(),
            shifted,
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(msg.contains("crosses the end"), "{msg}");
    // Nothing was added by the refused streams.
    let (app, _) = c.topic_info("gap/imu").await.unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 100, "{app}");
    server.stop().await;
}
