//! The session protocol's write side plus reading the data back.
mod common;

use arrow_flight::FlightDescriptor;
use common::data::{image_batch, image_schema, imu_batch, imu_schema};
use common::*;
use serde_json::{json, Value};
use tonic::Code;

#[tokio::test]
async fn session_flow_with_exact_response_shapes() {
    let server = TestServer::start().await;
    let mut c = server.client().await;

    let info = c.action("info", json!({})).await.unwrap();
    assert!(
        info["config"]["grpc_max_decode_message_size"]
            .as_u64()
            .unwrap()
            >= 64 << 20
    );
    assert!(info["semver"]["major"].is_u64() && info["version"].is_string());
    assert_eq!(c.action("version", json!({})).await.unwrap(), info);

    let r = c
        .action("sequence_create", json!({"locator": "/mission_1/", "user_metadata": {"driver": {"id": "d7"}, "n": [1, 2.5]}}))
        .await
        .unwrap();
    assert_eq!(r, Value::Null);
    let r = c
        .action("session_create", json!({"locator": "mission_1"}))
        .await
        .unwrap();
    let keys: Vec<_> = r.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, vec!["uuid", "locator"]);
    let session = r["uuid"].as_str().unwrap().to_string();
    let locator = r["locator"].as_str().unwrap();
    assert!(locator.starts_with("mission_1:") && locator.len() == "mission_1:".len() + 26);

    let r = c
        .action(
            "topic_create",
            json!({"session_uuid": session, "locator": "mission_1/sensors/imu", "serialization_format": "default",
                   "ontology_tag": "IMU", "user_metadata": {"vendor": "x"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["uuid"]
    );
    let imu = r["uuid"].as_str().unwrap().to_string();
    let cam = c
        .create_topic(&session, "mission_1/camera/front", "Image")
        .await
        .unwrap();

    // Unsorted input across batches.
    c.put(
        put_descriptor("mission_1/sensors/imu", &imu),
        imu_schema(),
        vec![imu_batch(&[50, 10]), imu_batch(&[30, 10, 70])],
    )
    .await
    .unwrap();
    c.put(
        put_descriptor("mission_1/camera/front", &cam),
        image_schema(),
        vec![image_batch(&[5, 1], 1000)],
    )
    .await
    .unwrap();
    assert_eq!(c.finalize(&session).await.unwrap(), Value::Null);

    // Read back: sorted, windowed, metadata exact.
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(
            json!({"resource_locator": "mission_1/sensors/imu"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.endpoint.len(), 1);
    let app: Value = serde_json::from_slice(&info.endpoint[0].app_metadata).unwrap();
    assert_eq!(app["resource_locator"], "mission_1/sensors/imu");
    assert_eq!(app["locked"], true);
    assert_eq!(app["ontology_tag"], "IMU");
    assert_eq!(app["serialization_format"], "default");
    assert_eq!(app["user_metadata"], json!({"vendor": "x"}));
    assert_eq!(app["data_info"]["total_row_count"], 5);
    assert_eq!(
        app["data_info"]["interval"],
        json!({"start_ns": 10, "end_ns": 70})
    );
    assert!(app.get("time_window_info").is_none());
    let batches = do_get(&mut c, info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    let all = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let expect = imu_batch(&[10, 10, 30, 50, 70]);
    assert_eq!(all.column(0).as_ref(), expect.column(0).as_ref());
    // Stable: the two rows at t=10 keep arrival order (first batch's, then the second's).
    let x = all
        .column(1)
        .as_any()
        .downcast_ref::<arrow_array::StructArray>()
        .unwrap();
    assert_eq!(
        x.column(2),
        expect
            .column(1)
            .as_any()
            .downcast_ref::<arrow_array::StructArray>()
            .unwrap()
            .column(2)
    );

    // Window [30, 70): two rows.
    let desc = json!({"resource_locator": "mission_1/sensors/imu", "timestamp_ns_start": 30, "timestamp_ns_end": 70});
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(desc.to_string()))
        .await
        .unwrap()
        .into_inner();
    let app: Value = serde_json::from_slice(&info.endpoint[0].app_metadata).unwrap();
    assert_eq!(
        app["time_window_info"],
        json!({"row_count": 2, "interval": {"start_ns": 30, "end_ns": 50}})
    );
    let batches = do_get(&mut c, info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);

    // Sequence info lists the session and both topics.
    let info = c
        .inner
        .get_flight_info(FlightDescriptor::new_cmd(
            json!({"resource_locator": "mission_1"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    let app: Value = serde_json::from_slice(&info.app_metadata).unwrap();
    assert_eq!(
        app["user_metadata"],
        json!({"driver": {"id": "d7"}, "n": [1, 2.5]})
    );
    assert_eq!(app["sessions"][0]["locked"], true);
    assert_eq!(
        app["sessions"][0]["topics"],
        json!(["mission_1/camera/front", "mission_1/sensors/imu"])
    );
    assert_eq!(info.endpoint.len(), 2);

    // GetSchema returns the stored schema with top-level binary served as a view.
    let schema = c
        .inner
        .get_schema(FlightDescriptor::new_cmd(
            json!({"resource_locator": "mission_1/camera/front"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    let schema = arrow_schema::Schema::try_from(&schema).unwrap();
    assert_eq!(
        schema.field(1).data_type(),
        &arrow_schema::DataType::BinaryView
    );
    let schema = c
        .inner
        .get_schema(FlightDescriptor::new_cmd(
            json!({"resource_locator": "mission_1/sensors/imu"}).to_string(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        arrow_schema::Schema::try_from(&schema).unwrap(),
        *imu_schema()
    );

    // ListFlights names the sequence.
    let list: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        c.inner
            .list_flights(arrow_flight::Criteria::default())
            .await
            .unwrap()
            .into_inner(),
    )
    .await
    .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].flight_descriptor.as_ref().unwrap().path,
        vec!["mission_1".to_string()]
    );
}

#[tokio::test]
async fn session_delete_and_sequence_delete() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, loc) = c.new_session("del_me").await;
    let t = c.create_topic(&s, "del_me/a", "IMU").await.unwrap();
    c.put(
        put_descriptor("del_me/a", &t),
        imu_schema(),
        vec![imu_batch(&[1])],
    )
    .await
    .unwrap();
    c.action("session_delete", json!({"locator": loc}))
        .await
        .unwrap();
    expect_code(
        c.action("session_delete", json!({"locator": loc})).await,
        Code::NotFound,
    );
    expect_code(c.finalize(&s).await, Code::NotFound);
    // The topic name is free again in a new session.
    let (s2, _) = c.open_session("del_me").await;
    c.create_topic(&s2, "del_me/a", "IMU").await.unwrap();
    c.action("sequence_delete", json!({"locator": "del_me"}))
        .await
        .unwrap();
    expect_code(
        c.inner
            .get_flight_info(FlightDescriptor::new_cmd(
                json!({"resource_locator": "del_me"}).to_string(),
            ))
            .await,
        Code::NotFound,
    );
    assert_eq!(
        std::fs::read_dir(server.dir.join("topics"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn durable_acks_report_running_totals() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    let (s, _) = c.new_session("acks").await;
    let t = c.create_topic(&s, "acks/imu", "IMU").await.unwrap();
    let desc = json!({"resource_locator": "acks/imu", "topic_uuid": t, "ack": "durable"});
    let results = c
        .put(
            desc,
            imu_schema(),
            vec![imu_batch(&[1, 2]), imu_batch(&[3]), imu_batch(&[4, 5, 6])],
        )
        .await
        .unwrap();
    let acks: Vec<Value> = results
        .iter()
        .map(|r| serde_json::from_slice(&r.app_metadata).unwrap())
        .collect();
    assert_eq!(
        acks,
        vec![
            json!({"durable_batches": 1, "durable_rows": 2}),
            json!({"durable_batches": 2, "durable_rows": 3}),
            json!({"durable_batches": 3, "durable_rows": 6}),
        ]
    );
    // Without the key: no PutResults at all.
    let t2 = c.create_topic(&s, "acks/imu2", "IMU").await.unwrap();
    let results = c
        .put(
            put_descriptor("acks/imu2", &t2),
            imu_schema(),
            vec![imu_batch(&[1])],
        )
        .await
        .unwrap();
    assert!(results.is_empty());
}
