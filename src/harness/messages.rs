//! Arrow IPC message target, and the schemas and encoders other targets share.

use super::*;

/// The record batch schemas [`ipc_message`] decodes against (index = selector % len).
pub fn ipc_schemas() -> &'static [SchemaRef] {
    static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let ts = || Field::new("timestamp_ns", DataType::Int64, false);
        let with_ts = |fields: Vec<Field>| {
            let mut all = vec![ts()];
            all.extend(fields);
            Arc::new(Schema::new(all))
        };
        let entries = Field::new(
            "entries",
            DataType::Struct(arrow_schema::Fields::from(vec![
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Int64, true),
            ])),
            false,
        );
        let union = arrow_schema::UnionFields::try_new(
            [0i8, 1],
            [
                Field::new("i", DataType::Int32, true),
                Field::new("s", DataType::Utf8, true),
            ],
        )
        .expect("valid union fields");
        vec![
            chunk_schema(),
            with_ts(vec![]),
            with_ts(vec![
                Field::new("bin", DataType::Binary, true),
                Field::new("large", DataType::LargeUtf8, true),
                Field::new("sview", DataType::Utf8View, true),
                Field::new("bview", DataType::BinaryView, true),
            ]),
            with_ts(vec![
                Field::new("flag", DataType::Boolean, true),
                Field::new("i8", DataType::Int8, true),
                Field::new("u32", DataType::UInt32, true),
                Field::new("f16", DataType::Float16, true),
                Field::new("day", DataType::Date32, true),
                Field::new(
                    "at",
                    DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None),
                    true,
                ),
                Field::new("dec", DataType::Decimal128(10, 2), true),
            ]),
            with_ts(vec![
                Field::new(
                    "xyz",
                    DataType::FixedSizeList(
                        Arc::new(Field::new("item", DataType::Float32, true)),
                        3,
                    ),
                    true,
                ),
                Field::new(
                    "ll",
                    DataType::LargeList(Arc::new(Field::new("item", DataType::Int32, true))),
                    true,
                ),
                Field::new("map", DataType::Map(Arc::new(entries), false), true),
                Field::new("fsb", DataType::FixedSizeBinary(4), true),
            ]),
            with_ts(vec![
                Field::new(
                    "u",
                    DataType::Union(union, arrow_schema::UnionMode::Dense),
                    false,
                ),
                Field::new("nothing", DataType::Null, true),
                Field::new(
                    "dur",
                    DataType::Duration(arrow_schema::TimeUnit::Millisecond),
                    true,
                ),
            ]),
        ]
    })
}

/// Encode a record batch as an IPC message `(header, body)`, uncompressed.
pub fn encode_batch(batch: &RecordBatch) -> (Vec<u8>, Vec<u8>) {
    let gen = arrow_ipc::writer::IpcDataGenerator::default();
    let mut tracker = arrow_ipc::writer::DictionaryTracker::new(false);
    let opts = arrow_ipc::writer::IpcWriteOptions::default();
    let (_, enc) = gen
        .encode(batch, &mut tracker, &opts, &mut Default::default())
        .expect("a decoded batch re-encodes");
    (enc.ipc_message, enc.arrow_data)
}

/// `[schema selector][encapsulated IPC message]`: [`ipc::split_encapsulated`], then
/// [`ipc::decode_schema`] (schemas round-trip through [`ipc::schema_header`]) or
/// [`ipc::decode_batch`] against the selected schema of [`ipc_schemas`] (batches round-trip
/// through the IPC encoder to identical bytes).
pub fn ipc_message(data: &[u8]) {
    let mut input = Input(data);
    let schemas = ipc_schemas();
    let schema = schemas
        .get(usize::from(input.byte()) % schemas.len())
        .expect("selector in range");
    let payload = input.0;
    let Ok((header, body)) = ipc::split_encapsulated(payload) else {
        return;
    };
    assert_eq!(
        8 + header.len() + body.len(),
        payload.len(),
        "split lost bytes"
    );
    assert_eq!(payload.get(8..8 + header.len()), Some(header));
    match ipc::message_kind(header) {
        Ok(MessageKind::Schema) => {
            if let Ok(s) = ipc::decode_schema(header) {
                let again = ipc::decode_schema(&ipc::schema_header(&s))
                    .expect("a re-encoded schema decodes");
                assert_eq!(again, s, "schema does not round-trip");
                let _ = ipc::check_schema(&s);
            }
            assert!(ipc::decode_batch(header, Bytes::new(), schema).is_err());
        }
        Ok(MessageKind::RecordBatch) => {
            let Ok(batch) = ipc::decode_batch(header, Bytes::copy_from_slice(body), schema) else {
                return;
            };
            assert_eq!(batch.schema(), *schema);
            if let Ok(idx) = ipc::check_schema(schema) {
                let range = ipc::time_range(&batch, idx);
                if let Ok(Some((lo, hi))) = range {
                    assert!(lo <= hi);
                }
            }
            let (h1, b1) = encode_batch(&batch);
            let back = ipc::decode_batch(&h1, Bytes::from(b1.clone()), schema)
                .expect("a re-encoded batch decodes");
            assert_eq!(back.num_rows(), batch.num_rows());
            assert_eq!(encode_batch(&back), (h1, b1), "batch does not round-trip");
        }
        Ok(_) | Err(_) => {
            assert!(ipc::decode_schema(header).is_err() || header.is_empty());
        }
    }
}
