//! Everything survives a restart: names, pending sessions, uploaded data.
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use serde_json::json;
use tonic::Code;

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (session, token) = {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("persist").await;
        let t = c.create_topic(&s, "persist/imu", "IMU").await.unwrap();
        c.put(
            put_descriptor("persist/imu", &t),
            imu_schema(),
            vec![imu_batch(&[5, 4])],
        )
        .await
        .unwrap();
        server.stop().await;
        (s, t)
    };
    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    // The name stays taken.
    expect_code(
        c.action(
            "sequence_create",
            json!({"locator": "persist", "user_metadata": {}}),
        )
        .await,
        Code::AlreadyExists,
    );
    // The session created before the restart is finalized after it.
    c.finalize(&session).await.unwrap();
    expect_code(
        c.put(
            put_descriptor("persist/imu", &token),
            imu_schema(),
            vec![imu_batch(&[1])],
        )
        .await,
        Code::FailedPrecondition,
    );
    let (app, ticket) = c.topic_info("persist/imu").await.unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 2);
    let rows = do_get(&mut c, ticket).await.unwrap();
    assert_eq!(
        rows[0].column(0).as_ref(),
        imu_batch(&[4, 5]).column(0).as_ref()
    );
    server.stop().await;
}

#[tokio::test]
async fn interrupted_upload_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (session, token) = {
        let server = TestServer::start_in(dir.path()).await;
        let mut c = server.client().await;
        let (s, _) = c.new_session("resume").await;
        let t = c.create_topic(&s, "resume/imu", "IMU").await.unwrap();
        // An upload that breaks mid-stream: the server keeps what it received.
        expect_code(
            c.put_interrupted(
                put_descriptor("resume/imu", &t),
                imu_schema(),
                vec![imu_batch(&[1, 2])],
            )
            .await,
            Code::InvalidArgument,
        );
        server.stop().await;
        (s, t)
    };
    let server = TestServer::start_in(dir.path()).await;
    let mut c = server.client().await;
    expect_code(c.finalize(&session).await, Code::FailedPrecondition);
    c.put(
        put_descriptor("resume/imu", &token),
        imu_schema(),
        vec![imu_batch(&[3])],
    )
    .await
    .unwrap();
    c.finalize(&session).await.unwrap();
    let (app, _) = c.topic_info("resume/imu").await.unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 3);
    server.stop().await;
}
