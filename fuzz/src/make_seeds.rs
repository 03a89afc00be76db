//! Writes the seed corpora of every fuzz target from the REAL encoders:
//! `cargo run --manifest-path fuzz/Cargo.toml --bin make_seeds -- fuzz/corpus`.
//!
//! Each seed is a valid (or deliberately slightly broken) input in the layout that the target's
//! function in `tessera::harness` documents. Files are named `seed-*`, so inputs found by the
//! fuzzer (named by their hash) sit beside them untouched; the output is deterministic.

use arrow_array::{new_null_array, ArrayRef, Int64Array, RecordBatch};
use arrow_schema::SchemaRef;
use serde_json::{json, value::RawValue};
use std::path::Path;
use std::sync::Arc;
use tessera::catalog::records::{
    self, DataStats, NotificationRecord, SequenceRecord, SerializationFormat, SessionRecord,
    TokenRecord, TopicRecord, TopicState,
};
use tessera::flight::descriptor::{TicketBody, Window};
use tessera::harness::{chunk_batch, encode_batch, ipc_schemas, valid_chunk};
use tessera::ipc;
use tessera_format::ChunkStats;
use tessera_wal::{Durability, FrameKind, SimStorage, Wal, WalOptions};

type Seeds = Vec<(&'static str, Vec<u8>)>;

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".to_owned());
    let all: [(&str, Seeds); 10] = [
        ("wal_frame", wal_frame()),
        ("wal_segment", wal_segment()),
        ("wal_recovery", wal_recovery()),
        ("chunk_file", chunk_file()),
        ("chunk_stats", chunk_stats()),
        ("catalog_record", catalog_record()),
        ("actions", actions()),
        ("ipc_message", ipc_message()),
        ("doput", doput()),
        ("descriptors", descriptors()),
    ];
    for (target, seeds) in all {
        let dir = Path::new(&root).join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        for (name, bytes) in seeds {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed written");
        }
    }
}

fn frame(kind: FrameKind, seq: u64, payload: &[u8]) -> Vec<u8> {
    let (header, len) = tessera_wal::encode_header(kind, seq, &[payload]).expect("small frame");
    let mut out = header.to_vec();
    out.extend_from_slice(payload);
    out.resize(tessera_wal::frame_len(len) as usize, 0);
    out
}

fn wal_frame() -> Seeds {
    let mut at8 = vec![1, 0, 0, 0, 0, 0, 0, 0];
    at8.extend(frame(FrameKind::Schema, 1, b"schema-ish payload"));
    let mut torn = frame(FrameKind::RecordBatch, 2, &[7; 40]);
    torn.truncate(50);
    vec![
        ("batch", frame(FrameKind::RecordBatch, 9, &[0xab; 16])),
        ("empty-marker", frame(FrameKind::Marker, 1, b"")),
        ("at-offset-8", at8),
        ("torn", torn),
        ("end-marker", vec![0; 24]),
    ]
}

/// The segment files of a log written through the real `Wal` on `SimStorage`, oldest first.
fn segments(frames: usize, segment_size: u64) -> Vec<Vec<u8>> {
    let sim = SimStorage::new(1);
    let dir = Path::new("/w");
    let opts = WalOptions {
        segment_size_bytes: segment_size,
        preallocate: false,
    };
    let (mut wal, _) = Wal::open_with_storage(Arc::new(sim.clone()), dir, opts).expect("wal");
    wal.append(FrameKind::Schema, &[b"schema"], Durability::Sync)
        .expect("append");
    for i in 1..frames {
        let payload = vec![i as u8; 8 + i * 13 % 40];
        wal.append(FrameKind::RecordBatch, &[&payload], Durability::Buffered)
            .expect("append");
    }
    wal.sync().expect("sync");
    let mut out = Vec::new();
    let mut first = 1;
    while let Some(bytes) = sim.contents(&dir.join(tessera_wal::segment_file_name(first))) {
        let scanned = tessera_wal::scan_segment_bytes(&bytes).frames.len() as u64;
        out.push(bytes);
        first += scanned.max(1);
    }
    out
}

fn wal_segment() -> Seeds {
    let one = segments(6, 1 << 20).remove(0);
    let mut torn = one.clone();
    torn.truncate(one.len() - 5);
    let mut zero_tail = one.clone();
    zero_tail.resize(one.len() + 64, 0);
    let mut hole = one.clone();
    if let Some(b) = hole.get_mut(60) {
        *b ^= 0x40; // damage the second frame; later frames stay valid
    }
    vec![
        ("clean", one),
        ("torn", torn),
        ("zero-tail", zero_tail),
        ("hole", hole),
        (
            "header-only",
            tessera_wal::encode_segment_header(5).to_vec(),
        ),
    ]
}

fn wal_recovery() -> Seeds {
    let flag = |f: u8, segs: &[Vec<u8>]| {
        let mut out = vec![f];
        for s in segs {
            out.extend_from_slice(s);
        }
        out
    };
    let many = segments(12, 160);
    let mut torn = many.clone();
    if let Some(last) = torn.last_mut() {
        last.truncate(last.len().saturating_sub(3));
    }
    let one = segments(4, 1 << 20);
    vec![
        ("one-segment", flag(0, &one)),
        ("many-segments", flag(0, &many)),
        ("torn-tail", flag(1, &torn)),
        ("older-missing", flag(0, many.get(1..).unwrap_or(&[]))),
    ]
}

fn chunk_file() -> Seeds {
    let mut raw = vec![0];
    raw.extend_from_slice(valid_chunk(false));
    let edits = |mode: u8, ops: &[(u32, u8)]| {
        let mut out = vec![mode];
        for (word, value) in ops {
            out.extend_from_slice(&word.to_le_bytes());
            out.push(*value);
        }
        out
    };
    vec![
        ("raw-valid", raw),
        ("valid", vec![1]),
        ("valid-zstd", vec![3]),
        ("flip-block", edits(1, &[(200, 0x10)])),
        ("flip-footer", edits(3, &[(0x3fff_fff0, 0x01)])),
        ("truncate", edits(1, &[(0x8000_0000 | 900, 0)])),
    ]
}

fn chunk_stats() -> Seeds {
    let batch = chunk_batch(&[5, -3, 22, 7, 7, 0, 11, 14]);
    let stats = ChunkStats::compute(&batch.schema(), &[batch]).expect("stats");
    vec![
        ("computed", stats.encode()),
        ("empty", ChunkStats::empty().encode()),
    ]
}

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("raw json")
}

fn catalog_record() -> Seeds {
    let id = uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0001);
    let tagged = |tag: u8, bytes: Vec<u8>| {
        let mut out = vec![tag];
        out.extend(bytes);
        out
    };
    vec![
        (
            "sequence",
            tagged(
                0,
                enc(&SequenceRecord {
                    created_at_ns: 1_700_000_000_000_000_000,
                    user_metadata: raw(r#"{"driver": {"id": 7, "tags": ["a", 1.5, null]}}"#),
                    seed_session: Some("01KQ9XQ0HJ3V39F87CBP6PYA1T".to_owned()),
                }),
            ),
        ),
        (
            "session",
            tagged(
                1,
                enc(&SessionRecord {
                    uuid: id,
                    created_at_ns: 5,
                    completed_at_ns: Some(9),
                }),
            ),
        ),
        (
            "topic",
            tagged(
                2,
                enc(&TopicRecord {
                    id,
                    uuid: id,
                    session_id: "S1".to_owned(),
                    ontology_tag: "IMU".to_owned(),
                    serialization_format: SerializationFormat::Ragged,
                    user_metadata: raw("{}"),
                    created_at_ns: -1,
                    state: TopicState::Uploading,
                    stats: DataStats {
                        rows: 3,
                        batches: 1,
                        bytes: 24,
                        ts_min: Some(-7),
                        ts_max: Some(9),
                    },
                }),
            ),
        ),
        (
            "token",
            tagged(
                3,
                enc(&TokenRecord::Session {
                    sequence: "s".to_owned(),
                    session_id: "S1".to_owned(),
                }),
            ),
        ),
        (
            "notification",
            tagged(
                4,
                enc(&NotificationRecord {
                    notification_type: "error".to_owned(),
                    msg: "boom".to_owned(),
                    created_at_ns: 3,
                }),
            ),
        ),
        ("stats", tagged(5, enc(&DataStats::default()))),
        (
            "schema",
            tagged(6, records::encode_raw(b"\xff\xff\xff\xffschema")),
        ),
    ]
}

fn enc<T: serde::Serialize>(record: &T) -> Vec<u8> {
    records::encode(record).expect("record encodes")
}

fn actions() -> Seeds {
    let lines = |l: &[&str]| l.join("\n").into_bytes();
    vec![
        (
            "session-flow",
            lines(&[
                "info {}",
                r#"sequence_create {"locator":"seq_a","user_metadata":{"driver":{"id":7,"on":true}}}"#,
                r#"session_create {"locator":"seq_a"}"#,
                r#"topic_create {"session_uuid":"$SESSION","locator":"seq_a/sensors/imu","serialization_format":"default","ontology_tag":"IMU","user_metadata":{"vendor":"x"}}"#,
                r#"topic_notification_create {"locator":"seq_a/sensors/imu","notification_type":"error","msg":"boom"}"#,
                r#"topic_notification_list {"locator":"seq_a/sensors/imu"}"#,
                r#"sequence_notification_create {"locator":"seq_a","notification_type":"error","msg":"x"}"#,
                r#"sequence_notification_purge {"locator":"seq_a"}"#,
                r#"session_finalize {"session_uuid":"$SESSION"}"#,
                r#"topic_delete {"locator":"seq_a/sensors/imu"}"#,
                r#"session_delete {"locator":"$LOCATOR"}"#,
                r#"sequence_delete {"locator":"seq_a"}"#,
            ]),
        ),
        (
            "seed-protocol",
            lines(&[
                "version {}",
                r#"sequence_create {"name":"old","user_metadata":{}}"#,
                r#"topic_create {"sequence_key":"$SESSION","name":"old/t","serialization_format":"image","ontology_tag":"Image"}"#,
                r#"sequence_finalize {"name":"old","key":"$SESSION"}"#,
                r#"sequence_abort {"name":"old","key":"$SESSION"}"#,
            ]),
        ),
        (
            "malformed",
            lines(&[
                "nope {}",
                "sequence_create not json",
                r#"sequence_create {"locator":"a b","user_metadata":{}}"#,
                r#"session_create {"locator":"missing","extra":1}"#,
                r#"topic_create {"session_uuid":"zzz","locator":"s/t","serialization_format":"default","ontology_tag":"T"}"#,
                r#"session_finalize {"session_uuid":"00000000-0000-0000-0000-000000000000"}"#,
                r#"session_delete {"locator":"seq:"}"#,
                "info",
            ]),
        ),
    ]
}

fn encapsulated(selector: u8, header: &[u8], body: &[u8]) -> Vec<u8> {
    let (prefix, pad) = ipc::encapsulation(header.len()).expect("small header");
    let mut out = vec![selector];
    out.extend_from_slice(&prefix);
    out.extend_from_slice(header);
    out.extend_from_slice(ipc::padding(pad));
    out.extend_from_slice(body);
    out
}

/// A batch of `schema` with timestamps `ts` and every other column null.
fn null_batch(schema: &SchemaRef, ts: &[i64]) -> RecordBatch {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            "timestamp_ns" => Arc::new(Int64Array::from(ts.to_vec())) as ArrayRef,
            _ => new_null_array(f.data_type(), ts.len()),
        })
        .collect();
    RecordBatch::try_new(Arc::clone(schema), columns).expect("null batch")
}

fn zstd_batch(batch: &RecordBatch) -> (Vec<u8>, Vec<u8>) {
    let gen = arrow_ipc::writer::IpcDataGenerator::default();
    let mut tracker = arrow_ipc::writer::DictionaryTracker::new(false);
    let opts = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .expect("zstd");
    let (_, enc) = gen
        .encode(batch, &mut tracker, &opts, &mut Default::default())
        .expect("encode");
    (enc.ipc_message, enc.arrow_data)
}

fn ipc_message() -> Seeds {
    let names = [
        "schema0", "schema1", "schema2", "schema3", "schema4", "schema5",
    ];
    let nulls = ["nulls0", "nulls1", "nulls2", "nulls3", "nulls4", "nulls5"];
    let mut out = Vec::new();
    for (i, schema) in ipc_schemas().iter().enumerate() {
        let sel = i as u8;
        out.push((
            names[i],
            encapsulated(sel, &ipc::schema_header(schema), b""),
        ));
        if schema.field(schema.fields().len() - 1).is_nullable() || i == 1 {
            let (h, b) = encode_batch(&null_batch(schema, &[3, 1, 2]));
            out.push((nulls[i], encapsulated(sel, &h, &b)));
        }
    }
    let batch = chunk_batch(&[4, 8, -2, 15, 16, 0]);
    let (h, b) = encode_batch(&batch);
    out.push(("batch0", encapsulated(0, &h, &b)));
    let (h, b) = zstd_batch(&batch);
    out.push(("batch0-zstd", encapsulated(0, &h, &b)));
    out
}

fn put_message(out: &mut Vec<u8>, header: &[u8], body: &[u8]) {
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

fn doput() -> Seeds {
    let batch = chunk_batch(&[10, 3, 7, 7, 22]);
    let schema = ipc::schema_header(&batch.schema());
    let (h1, b1) = encode_batch(&batch);
    let (h2, b2) = zstd_batch(&chunk_batch(&[1, 2, 3]));
    let (h0, b0) = encode_batch(&chunk_batch(&[]));
    let other = &ipc_schemas()[1];
    let (ho, bo) = encode_batch(&null_batch(other, &[5]));
    let stream = |flags: u8, msgs: &[(&[u8], &[u8])]| {
        let mut out = vec![flags];
        for (h, b) in msgs {
            put_message(&mut out, h, b);
        }
        out
    };
    vec![
        (
            "schema-batches-ack",
            stream(1, &[(&schema, b""), (&h1, &b1), (&h2, &b2)]),
        ),
        ("schema-only", stream(0, &[(&schema, b"")])),
        (
            "empty-batch-and-repeat",
            stream(0, &[(&schema, b""), (&h0, &b0), (&schema, b""), (b"", b"")]),
        ),
        (
            "schema-change",
            stream(
                0,
                &[
                    (&schema, b""),
                    (&h1, &b1),
                    (&ipc::schema_header(other), b""),
                ],
            ),
        ),
        ("wrong-batch", stream(1, &[(&schema, b""), (&ho, &bo)])),
        ("batch-first", stream(0, &[(&h1, &b1)])),
    ]
}

fn descriptors() -> Seeds {
    let tagged = |tag: u8, s: &str| {
        let mut out = vec![tag];
        out.extend_from_slice(s.as_bytes());
        out
    };
    let uuid = "6dad3f2e-8d47-4c3a-9f43-0a3b2a1c0d11";
    let ticket = TicketBody {
        locator: "seq/cam/front".to_owned(),
        window: Window {
            start: Some(-5),
            end: Some(1_700_000_000_000_000_000),
        },
    };
    let mut ticket_seed = vec![2];
    ticket_seed.extend(ticket.encode());
    vec![
        ("put", tagged(0, &json!({"resource_locator": "seq/imu", "topic_uuid": uuid, "ack": "durable"}).to_string())),
        ("put-seed-key", tagged(0, &json!({"resource_locator": "/seq/a/b", "key": uuid}).to_string())),
        ("info", tagged(1, &json!({"resource_locator": "seq/imu", "timestamp_ns_start": 1, "timestamp_ns_end": 9}).to_string())),
        ("ticket", ticket_seed),
        ("path", tagged(3, "seq/imu")),
        ("sequence-name", tagged(4, "/mission_042/")),
        ("topic-locator", tagged(5, "/seq/sensors/imu")),
        ("session-locator", tagged(6, "mission_042:01KQ9XQ0HJ3V39F87CBP6PYA1T")),
    ]
}
