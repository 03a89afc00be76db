//! The seed protocol end to end: sequence_create -> topic_create -> DoPut -> finalize / abort.
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use serde_json::json;
use tonic::Code;

#[tokio::test]
async fn seed_create_upload_finalize() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let r = c
        .action(
            "sequence_create",
            json!({"name": "seed_run", "user_metadata": {"a": 1}}),
        )
        .await
        .unwrap();
    let key = r["key"].as_str().unwrap().to_string();
    let r = c
        .action(
            "topic_create",
            json!({"name": "seed_run/imu", "sequence_key": key, "serialization_format": "default",
                   "ontology_tag": "IMU", "user_metadata": {}}),
        )
        .await
        .unwrap();
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["key"]
    );
    let topic_key = r["key"].as_str().unwrap().to_string();
    let desc = json!({"resource_locator": "seed_run/imu", "key": topic_key});
    c.put(desc, imu_schema(), vec![imu_batch(&[3, 1, 2])])
        .await
        .unwrap();

    // Wrong key: refused.
    let other = uuid_like();
    expect_code(
        c.action(
            "sequence_finalize",
            json!({"name": "seed_run", "key": other}),
        )
        .await,
        Code::PermissionDenied,
    );
    c.action("sequence_finalize", json!({"name": "seed_run", "key": key}))
        .await
        .unwrap();
    // Locked from now on.
    expect_code(
        c.action("sequence_finalize", json!({"name": "seed_run", "key": key}))
            .await,
        Code::FailedPrecondition,
    );
    let desc = json!({"resource_locator": "seed_run/imu", "key": topic_key});
    expect_code(
        c.put(desc, imu_schema(), vec![imu_batch(&[9])]).await,
        Code::FailedPrecondition,
    );
}

#[tokio::test]
async fn seed_abort_removes_everything() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let key = c
        .action(
            "sequence_create",
            json!({"name": "doomed", "user_metadata": {}}),
        )
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let topic_key = c
        .action(
            "topic_create",
            json!({"name": "doomed/t", "sequence_key": key, "serialization_format": "ragged",
                   "ontology_tag": "X", "user_metadata": {}}),
        )
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    c.put(
        json!({"resource_locator": "doomed/t", "key": topic_key}),
        imu_schema(),
        vec![imu_batch(&[1])],
    )
    .await
    .unwrap();
    let topics_dir = server.dir.join("topics");
    assert_eq!(std::fs::read_dir(&topics_dir).unwrap().count(), 1);
    c.action("sequence_abort", json!({"name": "doomed", "key": key}))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_dir(&topics_dir).unwrap().count(),
        0,
        "topic files removed"
    );
    // The name is free again.
    c.action(
        "sequence_create",
        json!({"name": "doomed", "user_metadata": {}}),
    )
    .await
    .unwrap();
}

fn uuid_like() -> String {
    "00000000-0000-4000-8000-000000000000".to_string()
}
