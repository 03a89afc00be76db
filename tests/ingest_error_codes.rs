//! Every DoPut / finalize refusal gets its precise gRPC code, and refused data is not stored.
mod common;

use arrow_array::{Int32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::data::{imu_batch, imu_schema};
use common::*;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use tonic::Code;

#[tokio::test]
async fn doput_refusals() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("errs").await;
    let t = c.create_topic(&s, "errs/imu", "IMU").await.unwrap();

    // Wrong token.
    let wrong = "00000000-0000-4000-8000-000000000001";
    expect_code(
        c.put(
            put_descriptor("errs/imu", wrong),
            imu_schema(),
            vec![imu_batch(&[1])],
        )
        .await,
        Code::PermissionDenied,
    );
    // Unknown topic.
    expect_code(
        c.put(
            put_descriptor("errs/nope", &t),
            imu_schema(),
            vec![imu_batch(&[1])],
        )
        .await,
        Code::NotFound,
    );
    // Malformed descriptor / PATH descriptor.
    expect_code(
        c.put(
            json!({"resource_locator": "errs/imu"}),
            imu_schema(),
            vec![],
        )
        .await,
        Code::InvalidArgument,
    );
    // Schema without timestamp_ns.
    let bad = Arc::new(Schema::new(vec![Field::new("t", DataType::Int32, false)]));
    let batch =
        RecordBatch::try_new(bad.clone(), vec![Arc::new(Int32Array::from(vec![1]))]).unwrap();
    let msg = expect_code(
        c.put(put_descriptor("errs/imu", &t), bad, vec![batch])
            .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("timestamp_ns"), "{msg}");
    // A timestamp of the wrong type.
    let bad = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int32,
        false,
    )]));
    let batch =
        RecordBatch::try_new(bad.clone(), vec![Arc::new(Int32Array::from(vec![1]))]).unwrap();
    expect_code(
        c.put(put_descriptor("errs/imu", &t), bad, vec![batch])
            .await,
        Code::InvalidArgument,
    );

    // Finalize refuses a topic whose upload never completed.
    expect_code(c.finalize(&s).await, Code::FailedPrecondition);

    // A good upload, then a second upload is refused.
    c.put(
        put_descriptor("errs/imu", &t),
        imu_schema(),
        vec![imu_batch(&[1, 2])],
    )
    .await
    .unwrap();
    expect_code(
        c.put(
            put_descriptor("errs/imu", &t),
            imu_schema(),
            vec![imu_batch(&[3])],
        )
        .await,
        Code::FailedPrecondition,
    );
    c.finalize(&s).await.unwrap();
    expect_code(c.finalize(&s).await, Code::FailedPrecondition);
    // Topics cannot be added to a finalized session.
    expect_code(
        c.create_topic(&s, "errs/late", "IMU").await,
        Code::FailedPrecondition,
    );
}

#[tokio::test]
async fn schema_change_mid_stream_stores_nothing_of_it() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("change").await;
    let t = c.create_topic(&s, "change/imu", "IMU").await.unwrap();
    let mut msgs = encode(
        put_descriptor("change/imu", &t),
        imu_schema(),
        vec![imu_batch(&[1, 2])],
    )
    .await;
    let other = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int64,
        false,
    )]));
    let other_batch = RecordBatch::try_new(
        other.clone(),
        vec![Arc::new(arrow_array::Int64Array::from(vec![9]))],
    )
    .unwrap();
    let mut tail = encode(json!({}), other, vec![other_batch]).await;
    for m in &mut tail {
        m.flight_descriptor = None;
    }
    msgs.extend(tail);
    let msg = expect_code(c.put_raw(futures::stream::iter(msgs)).await, Code::Aborted);
    assert!(msg.contains("schema"), "{msg}");
    // The topic is resumable; the earlier batch is kept, the changed-schema batch is not.
    c.put(
        put_descriptor("change/imu", &t),
        imu_schema(),
        vec![imu_batch(&[3])],
    )
    .await
    .unwrap();
    c.finalize(&s).await.unwrap();
    let info = c
        .inner
        .get_flight_info(arrow_flight::FlightDescriptor::new_cmd(
            json!({"resource_locator": "change/imu"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    let app: serde_json::Value = serde_json::from_slice(&info.endpoint[0].app_metadata).unwrap();
    assert_eq!(app["data_info"]["total_row_count"], 3);
}

#[tokio::test]
async fn finalize_refused_while_uploading_and_concurrent_doput_refused() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("busy").await;
    let t = c.create_topic(&s, "busy/imu", "IMU").await.unwrap();
    let first = encode(
        put_descriptor("busy/imu", &t),
        imu_schema(),
        vec![imu_batch(&[1])],
    )
    .await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    for m in first {
        tx.send(m).await.unwrap();
    }
    let mut c2 = c.clone();
    let upload = tokio::spawn(async move {
        c2.put_raw(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    // Wait until the server holds the upload (the info shows an uploading topic).
    let mut refused = None;
    for _ in 0..200 {
        match c.finalize(&s).await {
            Err(st) if st.message().contains("still uploading") => {
                refused = Some(st.code());
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    assert_eq!(refused, Some(Code::FailedPrecondition));
    expect_code(
        c.put(
            put_descriptor("busy/imu", &t),
            imu_schema(),
            vec![imu_batch(&[2])],
        )
        .await,
        Code::FailedPrecondition,
    );
    drop(tx);
    upload.await.unwrap().unwrap();
    c.finalize(&s).await.unwrap();
}

#[tokio::test]
async fn empty_session_and_schema_only_topic() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("empty").await;
    expect_code(c.finalize(&s).await, Code::FailedPrecondition);
    let t = c.create_topic(&s, "empty/t", "IMU").await.unwrap();
    // A topic with zero pushed messages: schema only.
    c.put(put_descriptor("empty/t", &t), imu_schema(), vec![])
        .await
        .unwrap();
    c.finalize(&s).await.unwrap();
    let schema = c
        .inner
        .get_schema(arrow_flight::FlightDescriptor::new_cmd(
            json!({"resource_locator": "empty/t"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        arrow_schema::Schema::try_from(&schema).unwrap(),
        *imu_schema()
    );
    let _ = futures::stream::empty::<()>().next().await;
}
