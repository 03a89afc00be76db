//! DoPut target: arbitrary FlightData sequences through the real upload writer.

use super::*;

/// What the topic's WAL must hold after the accepted messages.
pub(super) enum Expected {
    Schema(Schema),
    Batch(Vec<u8>, Vec<u8>),
}

/// `[flags][u16 LE header length][header][u32 LE body length][body]...`: the (data_header,
/// data_body) pairs of a DoPut after its descriptor, written with [`TopicWriter::write`] to a
/// fresh topic (flag bit 0: durable acks). Checks: no panic; an error blames the client and
/// appends nothing; an accepted message appends exactly the frame it should; the stream stops
/// at the first error like a real DoPut; the WAL then reads back to exactly the accepted
/// messages, its statistics rescan to the accepted rows, and the upload resumes.
pub fn doput(data: &[u8]) {
    let engine = engine();
    let mut input = Input(data);
    let ack = input.byte() & 1 == 1;
    let empty = RawValue::from_string("{}".to_owned()).expect("{} is JSON");
    engine
        .lifecycle()
        .create_sequence("fuzz", &empty, false)
        .expect("sequence");
    let (session, _) = engine.lifecycle().create_session("fuzz").expect("session");
    let token = engine
        .lifecycle()
        .create_topic(NewTopic {
            session_token: session,
            locator: "fuzz/t",
            ontology_tag: "T",
            serialization_format: "default",
            user_metadata: &empty,
        })
        .expect("topic");
    let guard = engine
        .lifecycle()
        .begin_upload("fuzz/t", &token)
        .expect("upload starts");
    let wal = Arc::clone(&guard.wal);
    let mut writer = TopicWriter::new(Arc::clone(&engine), guard, ack).expect("writer");
    let mut expected: Vec<Expected> = Vec::new();
    let mut schema: Option<(SchemaRef, usize)> = None;
    let mut stats = DataStats::default();
    for _ in 0..64 {
        if input.is_empty() {
            break;
        }
        let hlen = input.u16();
        let header = input.take(hlen);
        let blen = input.u32() as usize;
        let body = Bytes::copy_from_slice(input.take(blen));
        let result = writer.write(header, body.clone());
        let appended =
            |wal: &crate::logs::SharedWal| crate::engine::lock(wal).expect("wal lock").last_seq();
        if let Err(e) = result {
            assert_client_error(&e, "DoPut message");
            assert_eq!(
                appended(&wal),
                expected.len() as u64,
                "a refused message was stored"
            );
            break;
        }
        // A due fsync runs as the server runs it: a ticket, then its result given back.
        if let Ok(true) = result {
            if let Some(ticket) = writer.begin_sync().expect("begin a due sync") {
                writer.synced(ticket.run().expect("sync"));
            }
        }
        // Accepted: work out what the writer had to store.
        match ipc::message_kind(header) {
            _ if header.is_empty() => {}
            Ok(MessageKind::Schema) => {
                let s = ipc::decode_schema(header).expect("accepted schema decodes");
                match &schema {
                    Some((known, _)) => assert_eq!(**known, s, "schema changed silently"),
                    None => {
                        let idx = ipc::check_schema(&s).expect("accepted schema is valid");
                        expected.push(Expected::Schema(s.clone()));
                        schema = Some((Arc::new(s), idx));
                    }
                }
            }
            Ok(MessageKind::RecordBatch) => {
                let (s, idx) = schema.as_ref().expect("batch accepted before a schema");
                let batch = ipc::decode_batch(header, body.clone(), s).expect("accepted batch");
                let range = ipc::time_range(&batch, *idx).expect("accepted timestamps");
                if batch.num_rows() > 0 {
                    stats.add(batch.num_rows() as u64, body.len() as u64, range);
                    expected.push(Expected::Batch(header.to_vec(), body.to_vec()));
                }
            }
            other => panic!("writer accepted a {other:?} message"),
        }
        assert_eq!(
            appended(&wal),
            expected.len() as u64,
            "frames differ from accepted messages"
        );
    }
    writer.abandon();
    check_wal(&crate::engine::lock(&wal).expect("wal lock"), &expected);
    let record = engine
        .catalog()
        .topic("fuzz", "t")
        .expect("topic reads")
        .expect("topic exists");
    assert_eq!(
        record.stats, stats,
        "saved statistics differ from the accepted batches"
    );
    if schema.is_some() {
        let rescanned = engine
            .lifecycle()
            .stored_stats(&record.id)
            .expect("stored batches rescan")
            .expect("a stored schema");
        assert_eq!(rescanned, stats);
    }
    let guard = engine
        .lifecycle()
        .begin_upload("fuzz/t", &token)
        .expect("the upload is resumable");
    drop(TopicWriter::new(Arc::clone(&engine), guard, ack).expect("resumed writer"));
}

/// The WAL holds exactly `expected`, in order, every frame verified.
pub(super) fn check_wal(wal: &Wal, expected: &[Expected]) {
    let frames: Vec<_> = wal
        .reader(1)
        .map(|f| f.unwrap_or_else(|e| panic!("WAL does not re-read cleanly: {e}")))
        .collect();
    assert_eq!(frames.len(), expected.len());
    for (i, (f, want)) in frames.iter().zip(expected).enumerate() {
        assert_eq!(f.seq, i as u64 + 1);
        let (h, b) = ipc::split_encapsulated(&f.payload).expect("stored payload splits");
        match want {
            Expected::Schema(s) => {
                assert_eq!(f.kind, FrameKind::Schema);
                assert!(b.is_empty());
                assert_eq!(&ipc::decode_schema(h).expect("stored schema decodes"), s);
            }
            Expected::Batch(header, body) => {
                assert_eq!(f.kind, FrameKind::RecordBatch);
                assert_eq!(h.get(..header.len()), Some(&header[..]));
                assert!(h
                    .get(header.len()..)
                    .is_some_and(|p| p.iter().all(|&x| x == 0)));
                assert_eq!(b, &body[..], "stored body differs from the accepted one");
            }
        }
    }
}
