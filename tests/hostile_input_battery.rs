//! Hostile input over the network: malformed and out-of-order requests each get their documented
//! gRPC code (protocol.md §8.1, never INTERNAL or UNKNOWN for a client mistake) and a message
//! that says what to fix; the server stays up and the data uploaded before the battery reads
//! back intact. Cases that reveal a server defect keep asserting the correct behaviour in their
//! own `#[ignore]`d test.
mod common;

use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_flight::{FlightData, FlightDescriptor, Ticket};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::data::{image_batch, image_schema, imu_batch, imu_schema};
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tessera::Config;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

/// The server's decode limit in these tests (small, so oversize messages are cheap to build).
const DECODE_LIMIT: usize = 1 << 20;

async fn start() -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(tmp.path());
    config.max_decode_message_size = DECODE_LIMIT;
    (TestServer::start_with(config).await, tmp)
}

/// Counts cases and checks each refusal: exact code, non-empty message naming what to fix.
#[derive(Default)]
struct Battery {
    cases: usize,
}

impl Battery {
    fn check<T: std::fmt::Debug>(
        &mut self,
        label: &str,
        r: Result<T, Status>,
        code: Code,
        hint: &str,
    ) {
        self.cases += 1;
        let status = match r {
            Ok(v) => panic!("{label}: expected {code:?}, got Ok({v:?})"),
            Err(s) => s,
        };
        let msg = status.message();
        assert_eq!(status.code(), code, "{label}: wrong code, message: {msg}");
        assert!(!msg.trim().is_empty(), "{label}: empty message");
        assert!(
            msg.to_lowercase().contains(&hint.to_lowercase()),
            "{label}: message {msg:?} does not mention {hint:?}"
        );
    }
}

fn cmd(v: Value) -> FlightDescriptor {
    FlightDescriptor::new_cmd(v.to_string())
}

async fn put_msgs(
    c: &mut Client,
    msgs: Vec<FlightData>,
) -> Result<Vec<arrow_flight::PutResult>, Status> {
    c.put_raw(futures::stream::iter(msgs)).await
}

/// Descriptor + schema + batches, as a client encodes them.
async fn stream_of(
    locator: &str,
    token: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Vec<FlightData> {
    encode(put_descriptor(locator, token), schema, batches).await
}

/// The schema message of a topic upload, without data.
async fn schema_msg(locator: &str, token: &str) -> FlightData {
    stream_of(locator, token, imu_schema(), vec![])
        .await
        .remove(0)
}

/// Data messages (no descriptor) of `batches` encoded against `schema`.
async fn data_msgs(schema: SchemaRef, batches: Vec<RecordBatch>) -> Vec<FlightData> {
    let mut m = encode(json!({}), schema, batches).await;
    m.remove(0);
    m
}

/// A fresh session with one topic; returns (session uuid, session locator, topic token).
async fn topic(c: &mut Client, seq: &str) -> (String, String, String) {
    let (s, loc) = c.new_session(seq).await;
    let t = c
        .create_topic(&s, &format!("{seq}/imu"), "IMU")
        .await
        .unwrap();
    (s, loc, t)
}

/// An upload held open: the first message is sent; returns the sender and the call.
async fn open_upload(
    c: &Client,
    locator: &str,
    token: &str,
) -> (
    mpsc::Sender<FlightData>,
    tokio::task::JoinHandle<Result<Vec<arrow_flight::PutResult>, Status>>,
) {
    let (tx, rx) = mpsc::channel(8);
    for m in stream_of(locator, token, imu_schema(), vec![imu_batch(&[1])]).await {
        tx.send(m).await.unwrap();
    }
    let mut c2 = c.clone();
    let call = tokio::spawn(async move { c2.put_raw(ReceiverStream::new(rx)).await });
    (tx, call)
}

/// Wait until the server holds the session's topic upload (finalize says "still uploading").
async fn wait_uploading(c: &mut Client, session: &str) {
    for _ in 0..500 {
        if let Err(s) = c.finalize(session).await {
            if s.message().contains("still uploading") {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the upload never started");
}

/// The precious sequence: uploaded and finalized before the battery, read back after it.
async fn upload_precious(c: &mut Client) -> RecordBatch {
    let (s, _, t) = topic(c, "precious").await;
    let batch = imu_batch(&[10, 20, 30, 40, 50]);
    c.put(
        put_descriptor("precious/imu", &t),
        imu_schema(),
        vec![batch.clone()],
    )
    .await
    .unwrap();
    c.finalize(&s).await.unwrap();
    batch
}

async fn read_back(c: &mut Client, locator: &str) -> Vec<RecordBatch> {
    let info = c
        .inner
        .get_flight_info(cmd(json!({ "resource_locator": locator })))
        .await
        .unwrap()
        .into_inner();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    do_get(c, ticket).await.unwrap()
}

#[tokio::test]
async fn hostile_battery() {
    let (server, _tmp) = start().await;
    let mut c = server.client().await;
    let precious = upload_precious(&mut c).await;
    let mut b = Battery::default();
    actions(&mut b, &mut c).await;
    doput_messages(&mut b, &mut c).await;
    doput_lifecycle(&mut b, &mut c).await;
    reads(&mut b, &mut c).await;
    assert!(b.cases >= 40, "only {} cases", b.cases);
    eprintln!("{} hostile cases answered correctly", b.cases);

    // The server is still up and the earlier sequence is intact.
    assert!(c.action("info", json!({})).await.is_ok());
    let back = read_back(&mut c, "precious/imu").await;
    let back = arrow_select::concat::concat_batches(&imu_schema(), &back).unwrap();
    assert_eq!(back, precious);
    server.stop().await;
}

async fn actions(b: &mut Battery, c: &mut Client) {
    let inv = Code::InvalidArgument;
    b.check(
        "unknown action",
        c.action("nope", json!({})).await,
        inv,
        "no available action",
    );
    b.check(
        "empty action name",
        c.action("", json!({})).await,
        inv,
        "no available action",
    );
    b.check(
        "non-JSON body",
        c.action_raw("sequence_create", b"not json".to_vec()).await,
        inv,
        "JSON",
    );
    b.check(
        "non-UTF-8 body",
        c.action_raw("session_create", vec![0xff, 0xfe, 0x00]).await,
        inv,
        "JSON",
    );
    b.check(
        "array body",
        c.action("session_create", json!([1])).await,
        inv,
        "JSON",
    );
    b.check(
        "missing field",
        c.action(
            "topic_create",
            json!({"session_uuid": "x", "locator": "a/b", "serialization_format": "default"}),
        )
        .await,
        inv,
        "ontology_tag",
    );
    b.check(
        "extra field",
        c.action("session_create", json!({"locator": "a", "bogus": 1}))
            .await,
        inv,
        "bogus",
    );
    b.check(
        "mistyped field",
        c.action(
            "sequence_create",
            json!({"locator": 42, "user_metadata": {}}),
        )
        .await,
        inv,
        "invalid type",
    );
    b.check(
        "user_metadata not an object",
        c.action(
            "sequence_create",
            json!({"locator": "meta", "user_metadata": "text"}),
        )
        .await,
        inv,
        "object",
    );
    b.check(
        "bad user_metadata key",
        c.action(
            "sequence_create",
            json!({"locator": "meta", "user_metadata": {"a.b": 1}}),
        )
        .await,
        inv,
        "a.b",
    );
    b.check(
        "locator and name together",
        c.action("session_create", json!({"locator": "a", "name": "a"}))
            .await,
        inv,
        "exactly one",
    );
    b.check(
        "malformed session uuid",
        c.action("session_finalize", json!({"session_uuid": "not-a-uuid"}))
            .await,
        inv,
        "UUID",
    );
    b.check(
        "malformed uuid in topic_create",
        c.create_topic("1234", "precious/x", "IMU").await,
        inv,
        "UUID",
    );
    b.check(
        "unknown session uuid",
        c.finalize("6dad3f2e-8d47-4c3a-9f43-0a3b2a1c0d11").await,
        Code::NotFound,
        "does not exist",
    );
    let create = |n: String| json!({"locator": n, "user_metadata": {}});
    b.check(
        "empty name",
        c.action("sequence_create", create("".into())).await,
        inv,
        "empty",
    );
    b.check(
        "slashes only",
        c.action("sequence_create", create("///".into())).await,
        inv,
        "empty",
    );
    b.check(
        "huge name",
        c.action("sequence_create", create("a".repeat(100_000)))
            .await,
        inv,
        "limit",
    );
    b.check(
        "forbidden characters",
        c.action("sequence_create", create("bad name!".into()))
            .await,
        inv,
        "forbidden",
    );
    b.check(
        "colon in name",
        c.action("sequence_create", create("a:b".into())).await,
        inv,
        "forbidden",
    );
    b.check(
        "non-ASCII name",
        c.action("sequence_create", create("séq".into())).await,
        inv,
        "forbidden",
    );
    b.check(
        "duplicate sequence",
        c.action("sequence_create", create("precious".into())).await,
        Code::AlreadyExists,
        "already exists",
    );
    b.check(
        "session of a missing sequence",
        c.action("session_create", json!({"locator": "ghost"}))
            .await,
        Code::NotFound,
        "ghost",
    );
    let (s, loc, _) = topic(c, "acts").await;
    b.check(
        "topic locator without topic",
        c.create_topic(&s, "acts", "IMU").await,
        inv,
        "sequence/topic",
    );
    b.check(
        "topic with empty segment",
        c.create_topic(&s, "acts/a//b", "IMU").await,
        inv,
        "empty",
    );
    b.check(
        "topic in another sequence",
        c.create_topic(&s, "precious/other", "IMU").await,
        inv,
        "not in sequence",
    );
    b.check(
        "duplicate topic",
        c.create_topic(&s, "acts/imu", "IMU").await,
        Code::AlreadyExists,
        "already exists",
    );
    b.check(
        "bad serialization_format",
        c.action(
            "topic_create",
            json!({"session_uuid": s, "locator": "acts/x", "serialization_format": "Default",
                   "ontology_tag": "T", "user_metadata": {}}),
        )
        .await,
        inv,
        "serialization_format",
    );
    b.check(
        "session locator without id",
        c.action("session_delete", json!({"locator": "acts"})).await,
        inv,
        "sequence:SESSIONID",
    );
    b.check(
        "unknown session locator",
        c.action("session_delete", json!({"locator": "acts:01ABC"}))
            .await,
        Code::NotFound,
        "does not exist",
    );
    b.check(
        "unknown notification type",
        c.action(
            "sequence_notification_create",
            json!({"locator": "acts", "notification_type": "warning", "msg": "m"}),
        )
        .await,
        inv,
        "notification_type",
    );
    b.check(
        "notification on a missing topic",
        c.action(
            "topic_notification_create",
            json!({"locator": "acts/ghost", "notification_type": "error", "msg": "m"}),
        )
        .await,
        Code::NotFound,
        "ghost",
    );
    b.check(
        "finalize with an unfinished topic",
        c.finalize(&s).await,
        Code::FailedPrecondition,
        "no completed upload",
    );
    let (empty, _) = c.open_session("acts").await;
    b.check(
        "finalize an empty session",
        c.finalize(&empty).await,
        Code::FailedPrecondition,
        "no topics",
    );
    b.check(
        "delete a missing sequence",
        c.action("sequence_delete", json!({"locator": "ghost"}))
            .await,
        Code::NotFound,
        "does not exist",
    );
    c.action("session_delete", json!({ "locator": loc }))
        .await
        .unwrap();
}

async fn doput_messages(b: &mut Battery, c: &mut Client) {
    let inv = Code::InvalidArgument;
    let (s, _, t) = topic(c, "puts").await;
    let loc = "puts/imu";
    let good = || vec![imu_batch(&[1, 2])];
    let wrong = "00000000-0000-4000-8000-000000000001";
    b.check(
        "wrong token",
        c.put(put_descriptor(loc, wrong), imu_schema(), good())
            .await,
        Code::PermissionDenied,
        "does not match",
    );
    b.check(
        "malformed token",
        c.put(put_descriptor(loc, "xyz"), imu_schema(), good())
            .await,
        inv,
        "UUID",
    );
    b.check(
        "unknown topic",
        c.put(put_descriptor("puts/ghost", &t), imu_schema(), good())
            .await,
        Code::NotFound,
        "does not exist",
    );
    let mut path = stream_of(loc, &t, imu_schema(), good()).await;
    path[0].flight_descriptor = Some(FlightDescriptor::new_path(vec![
        "puts".into(),
        "imu".into(),
    ]));
    b.check("PATH descriptor", put_msgs(c, path).await, inv, "CMD");
    let mut no_desc = stream_of(loc, &t, imu_schema(), good()).await;
    no_desc[0].flight_descriptor = None;
    b.check(
        "no descriptor",
        put_msgs(c, no_desc).await,
        inv,
        "descriptor",
    );
    let mut garbage_desc = stream_of(loc, &t, imu_schema(), good()).await;
    garbage_desc[0].flight_descriptor = Some(FlightDescriptor::new_cmd(&b"{not json"[..]));
    b.check(
        "non-JSON descriptor",
        put_msgs(c, garbage_desc).await,
        inv,
        "JSON",
    );
    b.check(
        "empty DoPut stream",
        put_msgs(c, vec![]).await,
        inv,
        "empty",
    );
    let mut msgs = vec![schema_msg(loc, &t).await];
    msgs.push(FlightData::new().with_data_header(&b"garbage header bytes"[..]));
    b.check(
        "garbage IPC header",
        put_msgs(c, msgs).await,
        inv,
        "malformed Arrow IPC",
    );
    let mut msgs = vec![schema_msg(loc, &t).await];
    let mut batch = data_msgs(imu_schema(), good()).await.remove(0);
    batch.data_body = batch.data_body.slice(..batch.data_body.len() / 2);
    msgs.push(batch);
    b.check("truncated body", put_msgs(c, msgs).await, inv, "body");
    let mut msgs = vec![schema_msg(loc, &t).await];
    let mut batch = data_msgs(imu_schema(), good()).await.remove(0);
    batch.data_body = vec![0xA5; batch.data_body.len()].into();
    msgs.push(batch);
    b.check(
        "garbage body",
        put_msgs(c, msgs).await,
        inv,
        "malformed Arrow IPC",
    );
    // On a topic that never received a schema (a resumed upload may skip it).
    let fresh = c.create_topic(&s, "puts/fresh", "IMU").await.unwrap();
    let mut first = schema_msg("puts/fresh", &fresh).await;
    let batch = data_msgs(imu_schema(), good()).await.remove(0);
    first.data_header = batch.data_header;
    first.data_body = batch.data_body;
    b.check(
        "batch before schema",
        put_msgs(c, vec![first]).await,
        inv,
        "schema",
    );
    let img = c.create_topic(&s, "puts/img", "Image").await.unwrap();
    b.check(
        "huge declared decompressed size",
        put_msgs(c, zstd_bomb("puts/img", &img).await).await,
        Code::ResourceExhausted,
        "limit",
    );
    let dict = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new(
            "d",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
    ]));
    let d = c.create_topic(&s, "puts/dict", "T").await.unwrap();
    let dict_msg = FlightData::new()
        .with_descriptor(FlightDescriptor::new_cmd(
            put_descriptor("puts/dict", &d).to_string(),
        ))
        .with_data_header(tessera::ipc::schema_header(&dict));
    b.check(
        "dictionary schema",
        put_msgs(c, vec![dict_msg]).await,
        inv,
        "dictionary",
    );
    let nullable = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int64,
        true,
    )]));
    let nulls = RecordBatch::try_new(
        nullable.clone(),
        vec![Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef],
    )
    .unwrap();
    let n = c.create_topic(&s, "puts/nulls", "T").await.unwrap();
    b.check(
        "null timestamps",
        put_msgs(c, stream_of("puts/nulls", &n, nullable, vec![nulls]).await).await,
        inv,
        "nulls",
    );
    let int32 = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int32,
        false,
    )]));
    let batch = RecordBatch::try_new(
        int32.clone(),
        vec![Arc::new(Int32Array::from(vec![1])) as ArrayRef],
    )
    .unwrap();
    let i = c.create_topic(&s, "puts/int32", "T").await.unwrap();
    b.check(
        "timestamp of the wrong type",
        put_msgs(c, stream_of("puts/int32", &i, int32, vec![batch]).await).await,
        inv,
        "int64",
    );
    let sc = c.create_topic(&s, "puts/twice", "IMU").await.unwrap();
    let mut msgs = stream_of("puts/twice", &sc, imu_schema(), good()).await;
    let mut again = schema_msg("puts/twice", &sc).await;
    again.flight_descriptor = None;
    msgs.push(again);
    b.check(
        "second schema message",
        put_msgs(c, msgs).await,
        Code::Aborted,
        "one schema",
    );
    let mut msgs = stream_of("puts/twice", &sc, imu_schema(), good()).await;
    let mut image = encode(json!({}), image_schema(), vec![image_batch(&[2], 8)]).await;
    image[0].flight_descriptor = None; // the image schema message, then its batch
    msgs.extend(image);
    b.check(
        "schema change mid-stream",
        put_msgs(c, msgs).await,
        Code::Aborted,
        "one schema",
    );
    let big = c.create_topic(&s, "puts/big", "Image").await.unwrap();
    let mut msgs = stream_of("puts/big", &big, image_schema(), vec![]).await;
    msgs.extend(data_msgs(image_schema(), vec![image_batch(&[1], 2 * DECODE_LIMIT)]).await);
    b.check(
        "oversize DoPut message",
        put_msgs(c, msgs).await,
        Code::ResourceExhausted,
        &DECODE_LIMIT.to_string(),
    );
    // The topic is still writable after every refusal above.
    c.put(put_descriptor(loc, &t), imu_schema(), good())
        .await
        .unwrap();
}

/// A zstd batch whose first compressed buffer declares 1 TiB of decompressed data.
async fn zstd_bomb(loc: &str, token: &str) -> Vec<FlightData> {
    let opts = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .unwrap();
    let mut msgs: Vec<FlightData> = arrow_flight::encode::FlightDataEncoderBuilder::new()
        .with_options(opts)
        .with_schema(image_schema())
        .with_flight_descriptor(Some(FlightDescriptor::new_cmd(
            put_descriptor(loc, token).to_string(),
        )))
        .build(futures::stream::iter([Ok(image_batch(&[1, 2], 64))]))
        .map(|m| m.unwrap())
        .collect()
        .await;
    let last = msgs.last_mut().unwrap();
    let msg = arrow_ipc::root_as_message(&last.data_header).unwrap();
    let buffers = msg.header_as_record_batch().unwrap().buffers().unwrap();
    let at = buffers.iter().find(|b| b.length() >= 8).unwrap().offset() as usize;
    let mut body = last.data_body.to_vec();
    body[at..at + 8].copy_from_slice(&(1i64 << 40).to_le_bytes());
    last.data_body = body.into();
    msgs
}

async fn doput_lifecycle(b: &mut Battery, c: &mut Client) {
    let pre = Code::FailedPrecondition;
    // Two concurrent DoPuts to one topic; finalize while uploading.
    let (s, _, t) = topic(c, "busy").await;
    let (tx, call) = open_upload(c, "busy/imu", &t).await;
    wait_uploading(c, &s).await;
    b.check(
        "second concurrent DoPut",
        c.put(
            put_descriptor("busy/imu", &t),
            imu_schema(),
            vec![imu_batch(&[9])],
        )
        .await,
        pre,
        "another stream",
    );
    b.check(
        "finalize while uploading",
        c.finalize(&s).await,
        pre,
        "still uploading",
    );
    drop(tx);
    call.await.unwrap().unwrap();
    b.check(
        "second upload of an uploaded topic",
        c.put(
            put_descriptor("busy/imu", &t),
            imu_schema(),
            vec![imu_batch(&[9])],
        )
        .await,
        pre,
        "already uploaded",
    );
    c.finalize(&s).await.unwrap();
    b.check(
        "finalize twice",
        c.finalize(&s).await,
        pre,
        "already finalized",
    );
    b.check(
        "topic in a finalized session",
        c.create_topic(&s, "busy/late", "IMU").await,
        pre,
        "finalized",
    );

    // Put after finalize (the session's lock is checked before the upload state).
    b.check(
        "put after finalize",
        c.put(
            put_descriptor("busy/imu", &t),
            imu_schema(),
            vec![imu_batch(&[10])],
        )
        .await,
        pre,
        "finalized",
    );

    // Delete during an upload: the delete succeeds, the stream ends with NOT_FOUND.
    for (seq, how) in [
        ("del_topic", "topic"),
        ("del_session", "session"),
        ("del_seq", "sequence"),
    ] {
        let (s, loc, t) = topic(c, seq).await;
        let (tx, call) = open_upload(c, &format!("{seq}/imu"), &t).await;
        wait_uploading(c, &s).await;
        let body = match how {
            "topic" => json!({ "locator": format!("{seq}/imu") }),
            "session" => json!({ "locator": loc }),
            _ => json!({ "locator": seq }),
        };
        c.action(&format!("{how}_delete"), body).await.unwrap();
        for m in data_msgs(imu_schema(), vec![imu_batch(&[2])]).await {
            let _ = tx.send(m).await;
        }
        drop(tx);
        b.check(
            &format!("{how} deleted during upload"),
            call.await.unwrap(),
            Code::NotFound,
            "deleted",
        );
    }

    // Seed protocol abort during an upload.
    let key = c
        .action(
            "sequence_create",
            json!({"name": "seedy", "user_metadata": {}}),
        )
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let tok = c
        .action(
            "topic_create",
            json!({"sequence_key": key, "name": "seedy/imu", "serialization_format": "default", "ontology_tag": "IMU"}),
        )
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let (tx, call) = open_upload(c, "seedy/imu", &tok).await;
    let finalize = json!({"name": "seedy", "key": key});
    for _ in 0..500 {
        match c.action("sequence_finalize", finalize.clone()).await {
            Err(s) if s.message().contains("still uploading") => break,
            _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    c.action("sequence_abort", finalize).await.unwrap();
    for m in data_msgs(imu_schema(), vec![imu_batch(&[2])]).await {
        let _ = tx.send(m).await;
    }
    drop(tx);
    b.check(
        "abort during upload",
        call.await.unwrap(),
        Code::NotFound,
        "deleted",
    );
}

async fn reads(b: &mut Battery, c: &mut Client) {
    let inv = Code::InvalidArgument;
    let info = |v: Value| cmd(v);
    b.check(
        "window start > end",
        c.inner.get_flight_info(info(json!({"resource_locator": "precious/imu", "timestamp_ns_start": 9, "timestamp_ns_end": 3}))).await,
        inv,
        "window",
    );
    b.check(
        "window start == end",
        c.inner.get_flight_info(info(json!({"resource_locator": "precious", "timestamp_ns_start": 5, "timestamp_ns_end": 5}))).await,
        inv,
        "window",
    );
    b.check(
        "PATH descriptor for GetFlightInfo",
        c.inner
            .get_flight_info(FlightDescriptor::new_path(vec!["precious".into()]))
            .await,
        inv,
        "CMD",
    );
    b.check(
        "session locator for GetFlightInfo",
        c.inner
            .get_flight_info(info(json!({"resource_locator": "precious:01ABC"})))
            .await,
        inv,
        "session locator",
    );
    b.check(
        "non-JSON GetFlightInfo descriptor",
        c.inner
            .get_flight_info(FlightDescriptor::new_cmd(&b"\x00\x01"[..]))
            .await,
        inv,
        "JSON",
    );
    b.check(
        "unknown sequence",
        c.inner
            .get_flight_info(info(json!({"resource_locator": "ghost"})))
            .await,
        Code::NotFound,
        "does not exist",
    );
    b.check(
        "GetSchema with a PATH descriptor",
        c.inner
            .get_schema(FlightDescriptor::new_path(vec![
                "precious".into(),
                "imu".into(),
            ]))
            .await,
        inv,
        "CMD",
    );
    let (_, _, _) = topic(c, "noschema").await;
    b.check(
        "GetSchema before any upload",
        c.inner
            .get_schema(info(json!({"resource_locator": "noschema/imu"})))
            .await,
        Code::FailedPrecondition,
        "no schema",
    );
    let ticket = |bytes: Vec<u8>| Ticket::new(bytes);
    b.check(
        "garbage ticket",
        c.inner.do_get(ticket(b"\xde\xad\xbe\xef".to_vec())).await,
        inv,
        "ticket",
    );
    b.check(
        "empty ticket",
        c.inner.do_get(ticket(vec![])).await,
        inv,
        "ticket",
    );
    b.check(
        "ticket with an extra field",
        c.inner.do_get(ticket(br#"{"locator":"precious/imu","timestamp_ns_start":null,"timestamp_ns_end":null,"x":1}"#.to_vec())).await,
        inv,
        "ticket",
    );
    b.check(
        "ticket with an empty window",
        c.inner
            .do_get(ticket(
                br#"{"locator":"precious/imu","timestamp_ns_start":7,"timestamp_ns_end":7}"#
                    .to_vec(),
            ))
            .await,
        inv,
        "window",
    );
    b.check(
        "ticket for a missing topic",
        c.inner.do_get(ticket(br#"{"locator":"precious/ghost","timestamp_ns_start":null,"timestamp_ns_end":null}"#.to_vec())).await,
        Code::NotFound,
        "does not exist",
    );
    b.check(
        "ListFlights with criteria",
        c.inner
            .list_flights(arrow_flight::Criteria {
                expression: b"x > 1".to_vec().into(),
            })
            .await,
        inv,
        "criteria",
    );
    b.check(
        "Handshake",
        c.inner
            .handshake(futures::stream::empty::<arrow_flight::HandshakeRequest>())
            .await,
        Code::Unimplemented,
        "not supported",
    );
}

/// The first DoPut message above the decode limit: RESOURCE_EXHAUSTED, like a later one.
#[tokio::test]
async fn oversize_first_doput_message_is_resource_exhausted() {
    let (server, _tmp) = start().await;
    let mut c = server.client().await;
    let (_, _, t) = topic(&mut c, "big").await;
    let mut first = stream_of("big/imu", &t, image_schema(), vec![]).await;
    first[0].app_metadata = vec![7u8; 2 * DECODE_LIMIT].into();
    let msg = expect_code(put_msgs(&mut c, first).await, Code::ResourceExhausted);
    assert!(msg.contains(&DECODE_LIMIT.to_string()), "{msg}");
    assert!(c.action("info", json!({})).await.is_ok());
}

/// An action body above the decode limit: RESOURCE_EXHAUSTED naming the limit (§1.4).
#[tokio::test]
async fn oversize_action_is_resource_exhausted() {
    let (server, _tmp) = start().await;
    let mut c = server.client().await;
    let body = json!({"locator": "big", "user_metadata": {"blob": "x".repeat(2 * DECODE_LIMIT)}});
    let msg = expect_code(
        c.action("sequence_create", body).await,
        Code::ResourceExhausted,
    );
    assert!(msg.contains(&DECODE_LIMIT.to_string()), "{msg}");
    assert!(c.action("info", json!({})).await.is_ok());
}
