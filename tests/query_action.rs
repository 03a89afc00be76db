//! The `query`, `topic_filter_clusterize` and `topic_filter_intersect` actions over the wire:
//! catalog filters (names, globs, creation time, tag, format, metadata key globs), the
//! response shape the SDK parses, several tags in one query, validation errors, and the paged
//! clusterize/intersect replies.
mod common;

use common::data::{imu_batch, imu_schema};
use common::*;
use serde_json::{json, Value};
use tonic::Code;

async fn topic(
    c: &mut Client,
    session: &str,
    loc: &str,
    tag: &str,
    fmt: &str,
    md: Value,
    ts: &[i64],
) {
    let t = c
        .create_topic_with(session, loc, tag, fmt, md)
        .await
        .unwrap();
    c.put(put_descriptor(loc, &t), imu_schema(), vec![imu_batch(ts)])
        .await
        .unwrap();
}

/// drive_a: front/imu (IMU, ts 0..10), gps (GPS, ts 100..110); drive_b: front/imu (IMU,
/// ts 50..60), camera (Image, ts 5..8); empty_seq: no topic.
async fn fixture() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    c.action("sequence_create", json!({"locator": "drive_a", "user_metadata": {"environment": {"visibility": 40}, "driver": "ann"}})).await.unwrap();
    c.action(
        "sequence_create",
        json!({"locator": "drive_b", "user_metadata": {"environment": {"visibility": 80}}}),
    )
    .await
    .unwrap();
    c.action(
        "sequence_create",
        json!({"locator": "empty_seq", "user_metadata": {}}),
    )
    .await
    .unwrap();
    let (s, _) = c.open_session("drive_a").await;
    let range = |a: i64, b: i64| (a..b).collect::<Vec<_>>();
    topic(
        &mut c,
        &s,
        "drive_a/front/imu",
        "IMU",
        "default",
        json!({"interface": {"type": "UART", "address": {"ip": "10.0.0.1"}}}),
        &range(0, 10),
    )
    .await;
    topic(
        &mut c,
        &s,
        "drive_a/gps",
        "GPS",
        "default",
        json!({"accuracy_m": 2, "calibration_version": null}),
        &range(100, 110),
    )
    .await;
    c.finalize(&s).await.unwrap();
    let (s, _) = c.open_session("drive_b").await;
    topic(
        &mut c,
        &s,
        "drive_b/front/imu",
        "IMU",
        "default",
        json!({"interface": {"type": "CAN"}}),
        &range(50, 60),
    )
    .await;
    topic(
        &mut c,
        &s,
        "drive_b/camera",
        "Image",
        "image",
        json!({}),
        &range(5, 8),
    )
    .await;
    c.finalize(&s).await.unwrap();
    (server, c)
}

/// `query` → sorted list of locators.
async fn locators(c: &mut Client, q: Value) -> Vec<String> {
    let r = c.action("query", q.clone()).await.unwrap();
    let mut out = Vec::new();
    for item in r["items"].as_array().unwrap() {
        let topics = item["topics"].as_array().unwrap();
        assert!(
            !topics.is_empty(),
            "{q}: a sequence without topics was returned"
        );
        for t in topics {
            let loc = t["locator"].as_str().unwrap();
            assert!(loc.starts_with(&format!("{}/", item["sequence"].as_str().unwrap())));
            assert!(t["ontology_tag"].is_string());
            out.push(loc.to_string());
        }
    }
    out
}

#[tokio::test]
async fn catalog_filters_and_response_shape() {
    let (server, mut c) = fixture().await;
    let r = c
        .action("query", json!({"sequence": {"name": {"$eq": "/drive_b"}}}))
        .await
        .unwrap();
    assert_eq!(
        r,
        json!({"items": [{"sequence": "drive_b", "topics": [
            {"locator": "drive_b/camera", "ontology_tag": "Image", "timestamp_range": [5, 7]},
            {"locator": "drive_b/front/imu", "ontology_tag": "IMU", "timestamp_range": [50, 59]}]}]})
    );
    let all = [
        "drive_a/front/imu",
        "drive_a/gps",
        "drive_b/camera",
        "drive_b/front/imu",
    ];
    let cases = [
        (json!({"sequence": {"name": {"$match": "*"}}}), &all[..]),
        (json!({"sequence": {"name": {"$match": "drive"}}}), &[][..]),
        (
            json!({"sequence": {"name": {"$match": "drive_[a]"}}}),
            &all[..2],
        ),
        (
            json!({"sequence": {"name": {"$neq": "drive_a"}}}),
            &all[2..],
        ),
        (json!({"sequence": {"created_at_ns": {"$gt": 0}}}), &all[..]),
        (
            json!({"sequence": {"user_metadata": {"environment.visibility": {"$lt": 50}}}}),
            &all[..2],
        ),
        (
            json!({"sequence": {"user_metadata": {"driver": {"$ex": null}}}}),
            &all[..2],
        ),
        (
            json!({"sequence": {"user_metadata": {"driver": {"$nex": null}}}}),
            &all[2..],
        ),
        (
            json!({"topic": {"name": {"$eq": "/front/imu"}}}),
            &["drive_a/front/imu", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"name": {"$eq": "front/imu"}}}),
            &["drive_a/front/imu", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"name": {"$in": ["/gps", "/camera"]}}}),
            &["drive_a/gps", "drive_b/camera"][..],
        ),
        (
            json!({"topic": {"name": {"$match": "?front*"}}}),
            &["drive_a/front/imu", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"name": {"$match": "*imu"}}}),
            &["drive_a/front/imu", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"name": {"$match": "gps"}}}),
            &["drive_a/gps"][..],
        ),
        (
            json!({"topic": {"ontology_tag": {"$eq": "GPS"}}}),
            &["drive_a/gps"][..],
        ),
        (
            json!({"topic": {"serialization_format": {"$eq": "image"}}}),
            &["drive_b/camera"][..],
        ),
        (json!({"topic": {"created_at_ns": {"$lt": 0}}}), &[][..]),
        (
            json!({"topic": {"user_metadata": {"*.type": {"$eq": "UART"}}}}),
            &["drive_a/front/imu"][..],
        ),
        (
            json!({"topic": {"user_metadata": {"interface.*": {"$match": "*A*"}}}}),
            &["drive_a/front/imu", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"user_metadata": {"**.ip": {"$ex": null}}}}),
            &["drive_a/front/imu"][..],
        ),
        (
            json!({"topic": {"user_metadata": {"accuracy_m": {"$nex": null}}}}),
            &["drive_a/front/imu", "drive_b/camera", "drive_b/front/imu"][..],
        ),
        (
            json!({"topic": {"user_metadata": {"calibration_version": {"$neq": "x"}}}}),
            &[][..],
        ),
        (
            json!({"topic": {"user_metadata": {"accuracy_m": {"$eq": "2"}}}}),
            &[][..],
        ),
        (
            json!({"sequence": {"name": {"$eq": "drive_a"}}, "topic": {"ontology_tag": {"$eq": "IMU"}}}),
            &["drive_a/front/imu"][..],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(locators(&mut c, q.clone()).await, want, "{q}");
    }
    server.stop().await;
}

#[tokio::test]
async fn ontology_filters_combine_tags_by_sequence() {
    let (server, mut c) = fixture().await;
    let q = |o: Value| json!({"ontology": o});
    assert_eq!(
        locators(&mut c, q(json!({"IMU.acceleration.x": {"$geq": 26.0}}))).await,
        ["drive_b/front/imu"]
    );
    // Every tag must match in a sequence; its topics are joined.
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.timestamp_ns": {"$gt": 0}, "GPS.acceleration.z": {"$eq": 2}}))
        )
        .await,
        ["drive_a/front/imu", "drive_a/gps"]
    );
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.timestamp_ns": {"$gt": 0}, "Lidar.x": {"$eq": 2}}))
        )
        .await,
        Vec::<String>::new()
    );
    // All expressions of a tag hold on the same row: x = t/2 >= 4 and y = -t >= -7 never meet.
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.acceleration.x": {"$geq": 4}, "IMU.acceleration.y": {"$geq": -7}}))
        )
        .await,
        Vec::<String>::new()
    );
    // Lists: covariance = [t, 0.5].
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.acceleration.covariance[0]": {"$eq": 57}}))
        )
        .await,
        ["drive_b/front/imu"]
    );
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.acceleration.covariance[!]": {"$leq": 0.5}}))
        )
        .await,
        ["drive_a/front/imu"]
    );
    assert_eq!(
        locators(
            &mut c,
            q(json!({"IMU.acceleration.covariance": {"$eq": [3, 0.5]}}))
        )
        .await,
        ["drive_a/front/imu"]
    );
    // A field absent from the schema is no match, not an error; `$ex` is a no-op.
    assert_eq!(
        locators(&mut c, q(json!({"IMU.nope": {"$eq": 1}}))).await,
        Vec::<String>::new()
    );
    // Combined with catalog filters: candidates first.
    assert_eq!(
        locators(&mut c, json!({"sequence": {"name": {"$eq": "drive_a"}}, "ontology": {"IMU.timestamp_ns": {"$ex": null}}})).await,
        ["drive_a/front/imu"]
    );
    let r = c
        .action(
            "query",
            q(json!({"IMU.acceleration.x": {"$between": [1, 2]}})),
        )
        .await
        .unwrap();
    assert_eq!(r["items"][0]["topics"][0]["timestamp_range"], json!([2, 4]));
    server.stop().await;
}

#[tokio::test]
async fn malformed_queries_are_invalid_argument_naming_the_mistake() {
    let (server, mut c) = fixture().await;
    let cases = [
        (
            json!({"topic": {"name": {"$like": "x"}}}),
            "unknown operator `$like`",
        ),
        (
            json!({"topic": {"name": {"$eq": "x", "$neq": "y"}}}),
            "exactly one operator",
        ),
        (
            json!({"topic": {"name": {"$match": ""}}}),
            "match pattern cannot be empty",
        ),
        (
            json!({"sequence": {"name": {"$match": "[z-a]"}}}),
            "regex parsing error",
        ),
        (
            json!({"topic": {"name": {"$match": "x".repeat(257)}}}),
            "too long",
        ),
        (
            json!({"ontology": {"IMU.acceleration.x": {"$in": []}}}),
            "must not be empty",
        ),
        (
            json!({"ontology": {"IMU.acceleration.x": {"$between": [1]}}}),
            "two-element",
        ),
        (
            json!({"ontology": {"IMU.a[?].b[!]": {"$eq": 1}}}),
            "more than one list specifier",
        ),
        (
            json!({"ontology": {"IMU.acceleration.x[0]": {"$eq": 1}}}),
            "expected list type",
        ),
        (
            json!({"ontology": {"IMU.acceleration.covariance": {"$gt": 1}}}),
            "needs `[?]`",
        ),
        (
            json!({"ontology": {"IMU": {"$gt": 1}}}),
            "ontology key `IMU`",
        ),
        (json!({"topics": {}}), "unknown `query` key `topics`"),
        (
            json!({"topic": {"tag": {"$eq": 1}}}),
            "unknown `topic` filter key `tag`",
        ),
    ];
    for (q, want) in cases {
        let msg = expect_code(c.action("query", q.clone()).await, Code::InvalidArgument);
        assert!(msg.contains(want), "{q}: {msg}");
    }
    // Patterns are validated even when nothing would be scanned.
    let msg = expect_code(
        c.action(
            "query",
            json!({"sequence": {"name": {"$eq": "none"}}, "topic": {"name": {"$match": "[a"}}}),
        )
        .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("regex"), "{msg}");
    server.stop().await;
}

fn cluster(id: usize, s: i64, e: i64) -> Value {
    json!({"id": id, "ts": {"start_ns": s, "end_ns": e}})
}

#[tokio::test]
async fn clusterize_and_intersect_are_paged() {
    let (server, mut c) = fixture().await;
    // z = t % 7 == 3 at t = 3 and 10.. (drive_a/front/imu holds t = 0..10: only t = 3).
    let body = |loc: &str, dt: u64, o: Value| json!({"locator": loc, "clustering_dt_ns": dt, "ontology": o, "timestamp_range": null});
    let imu = |o: Value| body("drive_a/front/imu", 2, o);
    assert_eq!(
        c.action_paged(
            "topic_filter_clusterize",
            imu(json!({"IMU.acceleration.z": {"$leq": 1}}))
        )
        .await
        .unwrap(),
        [cluster(0, 0, 1), cluster(1, 7, 8)]
    );
    assert_eq!(
        c.action_paged(
            "topic_filter_clusterize",
            body(
                "drive_a/front/imu",
                0,
                json!({"IMU.acceleration.z": {"$leq": 1}})
            )
        )
        .await
        .unwrap(),
        [cluster(0, 0, 8)]
    );
    assert!(c
        .action_paged(
            "topic_filter_clusterize",
            imu(json!({"IMU.acceleration.z": {"$gt": 9}}))
        )
        .await
        .unwrap()
        .is_empty());
    let mut windowed = imu(json!({"IMU.timestamp_ns": {"$geq": 0}}));
    windowed["timestamp_range"] = json!({"start_ns": 3, "end_ns": 6});
    assert_eq!(
        c.action_paged("topic_filter_clusterize", windowed.clone())
            .await
            .unwrap(),
        [cluster(0, 3, 5)]
    );
    windowed["timestamp_range"] = json!({"start_ns": 6, "end_ns": 3});
    expect_code(
        c.action_paged("topic_filter_clusterize", windowed).await,
        Code::InvalidArgument,
    );
    let msg = expect_code(
        c.action_paged("topic_filter_clusterize", imu(json!({})))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        msg,
        "Bad request: At least 1 filtering condition is required, found 0."
    );
    let msg = expect_code(
        c.action_paged("topic_filter_clusterize", imu(json!({"GPS.x": {"$eq": 1}})))
            .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("wrong ontology tag GPS"), "{msg}");
    expect_code(
        c.action_paged(
            "topic_filter_clusterize",
            body("drive_a/nope", 0, json!({"IMU.x": {"$eq": 1}})),
        )
        .await,
        Code::NotFound,
    );

    // Intersect: IMU z <= 1 → [0,1], [7,8]; GPS (t = 100..110) x <= 52 → [100,104]: no overlap
    // without tolerance; with D = 200 (lo = hi = 100) each IMU cluster pairs with the GPS one:
    // [100 - 100, 1 + 100] and [100 - 100, 8 + 100].
    let gps = json!({"locator": "drive_a/gps", "clustering_dt_ns": 2, "ontology": {"GPS.acceleration.x": {"$leq": 52}}});
    let imu_t = json!({"locator": "drive_a/front/imu", "clustering_dt_ns": 2, "ontology": {"IMU.acceleration.z": {"$leq": 1}}});
    let req = |d: u64| json!({"topics": [imu_t.clone(), gps.clone()], "intersect_dt_ns": d});
    assert!(c
        .action_paged("topic_filter_intersect", req(0))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        c.action_paged("topic_filter_intersect", req(200))
            .await
            .unwrap(),
        [cluster(0, 0, 101), cluster(1, 0, 108)]
    );
    let same = json!({"topics": [imu_t.clone(), imu_t.clone()], "intersect_dt_ns": 0});
    assert_eq!(
        c.action_paged("topic_filter_intersect", same)
            .await
            .unwrap(),
        [cluster(0, 0, 1), cluster(1, 7, 8)]
    );
    let msg = expect_code(
        c.action_paged(
            "topic_filter_intersect",
            json!({"topics": [imu_t.clone()], "intersect_dt_ns": 0}),
        )
        .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("at least 2 topics"), "{msg}");
    let other = json!({"locator": "drive_b/front/imu", "clustering_dt_ns": 0, "ontology": {"IMU.acceleration.z": {"$leq": 1}}});
    let msg = expect_code(
        c.action_paged(
            "topic_filter_intersect",
            json!({"topics": [imu_t, other], "intersect_dt_ns": 0}),
        )
        .await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("all topics must belong to sequence"), "{msg}");
    server.stop().await;
}
