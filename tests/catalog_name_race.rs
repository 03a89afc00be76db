//! Names are unique: many clients creating the same name at once, exactly one wins.
mod common;

use common::*;
use serde_json::json;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_have_one_winner() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.action(
                "sequence_create",
                json!({"locator": "race", "user_metadata": {}}),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(s) => assert_eq!(s.code(), Code::AlreadyExists),
        }
    }
    assert_eq!(ok, 1);

    // Same for topics across two sessions of one sequence.
    let mut c = c.clone();
    let (s1, _) = c.open_session("race").await;
    let (s2, _) = c.open_session("race").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut c = c.clone();
        let s = if i % 2 == 0 { s1.clone() } else { s2.clone() };
        tasks.push(tokio::spawn(async move {
            c.create_topic(&s, "race/imu", "IMU").await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(s) => assert_eq!(s.code(), Code::AlreadyExists),
        }
    }
    assert_eq!(ok, 1);
}
