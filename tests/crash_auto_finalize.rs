//! `auto_finalize_after`: sessions left open (an interrupted upload, or a completed upload never
//! finalized) are finalized with their durable data once quiet for that long; a session with a
//! topic that never received data stays open.
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use std::time::{Duration, Instant};
use tessera::Config;

#[tokio::test]
async fn quiet_sessions_are_finalized_with_their_durable_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        auto_finalize_after: Some(Duration::from_millis(500)),
        ..Config::with_data_dir(dir.path())
    };
    let server = TestServer::start_with(config).await;
    let mut c = server.client().await;

    // An upload that breaks mid-stream (a recorder losing power).
    let (s1, _) = c.new_session("auto_a").await;
    let t1 = c.create_topic(&s1, "auto_a/imu", "IMU").await.unwrap();
    let data = vec![imu_batch(&[2, 1]), imu_batch(&[3])];
    let interrupted = c
        .put_interrupted(put_descriptor("auto_a/imu", &t1), imu_schema(), data)
        .await;
    assert!(interrupted.is_err());
    // A completed upload whose client never finalized.
    let (s2, _) = c.new_session("auto_b").await;
    let t2 = c.create_topic(&s2, "auto_b/imu", "IMU").await.unwrap();
    c.put(
        put_descriptor("auto_b/imu", &t2),
        imu_schema(),
        vec![imu_batch(&[5])],
    )
    .await
    .unwrap();
    // A topic that never received anything.
    let (s3, _) = c.new_session("auto_c").await;
    c.create_topic(&s3, "auto_c/imu", "IMU").await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (a, _) = c.topic_info("auto_a/imu").await.unwrap();
        let (b, _) = c.topic_info("auto_b/imu").await.unwrap();
        if a["locked"] == true && b["locked"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "not auto-finalized: {a} {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (a, _) = c.topic_info("auto_a/imu").await.unwrap();
    assert_eq!(a["data_info"]["total_row_count"], 3);
    let rows = c.read_topic("auto_a/imu").await.unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    // Locked: a resumed upload is refused.
    expect_code(
        c.put(
            put_descriptor("auto_a/imu", &t1),
            imu_schema(),
            vec![imu_batch(&[4])],
        )
        .await,
        tonic::Code::FailedPrecondition,
    );
    // The empty topic's session is still open: its owner can still upload and finalize.
    let (cc, _) = c.topic_info("auto_c/imu").await.unwrap();
    assert_eq!(cc["locked"], false, "{cc}");
    expect_code(c.finalize(&s1).await, tonic::Code::FailedPrecondition);
    server.stop().await;
}
