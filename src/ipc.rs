//! Arrow IPC messages as they travel in Flight and as they are stored in WAL frames.
//!
//! A WAL frame payload is one *encapsulated IPC message*, exactly as in the Arrow IPC stream
//! format, so the payloads of a topic's frames, concatenated, form a valid Arrow IPC stream:
//!
//! | offset  | size | type   | meaning                                              |
//! |---------|------|--------|------------------------------------------------------|
//! | 0       | 4    | u32 LE | continuation marker `0xFFFFFFFF`                      |
//! | 4       | 4    | u32 LE | `m` = flatbuffer length including padding (multiple of 8) |
//! | 8       | m    | bytes  | `Message` flatbuffer (FlightData.data_header), zero-padded |
//! | 8 + m   | rest | bytes  | message body (FlightData.data_body)                   |
//!
//! The WAL frame's crc32 covers the whole payload. Parsing is `tessera_format::ipc_message`'s,
//! the one Arrow IPC decoder (flatbuffer verified, every buffer's offset and length checked
//! against the body, declared decompressed sizes capped at [`MAX_DECOMPRESSED_BYTES`], arrow's
//! decoder run under `catch_unwind`). This module adds what is the server's: the payload layout
//! above and its encoding, the schema rules and canonical form, and the mapping of decoder
//! errors to [`Error`]s (malformed input `InvalidArgument`, over the cap `ResourceExhausted`,
//! damaged stored data `DataLoss`).

use crate::error::{Error, ErrorKind, Result};
use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_buffer::Buffer;
use arrow_schema::{DataType, Schema, SchemaRef};
use bytes::Bytes;
use tessera_format::ipc_message::{self, CONTINUATION};
use tessera_format::FormatError;

pub use tessera_format::ipc_message::MessageKind;

/// Name of the mandatory index column.
pub const TIMESTAMP_COLUMN: &str = "timestamp_ns";
/// Largest total decompressed size one compressed batch may declare, in bytes.
pub const MAX_DECOMPRESSED_BYTES: u64 = 1 << 30;

fn bad(what: impl std::fmt::Display) -> Error {
    // flatbuffers' verifier errors span several lines (an error trace); a gRPC status message
    // reads best as one line.
    let text = what.to_string();
    let one_line: Vec<&str> = text
        .trim_end_matches(['.', '\n', ' '])
        .split(['\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Error::invalid(format!(
        "malformed Arrow IPC message: {}.",
        one_line.join(" ")
    ))
}

/// The reason a decoder error gives, without the error's own prefix.
fn reason(e: FormatError) -> String {
    match e {
        FormatError::MalformedMessage(reason) => reason,
        other => other.to_string(),
    }
}

/// A message the decoder refused: over the size cap `ResourceExhausted`, else `InvalidArgument`.
fn refused(e: FormatError) -> Error {
    match e {
        FormatError::DecodedSizeLimit { .. } => {
            Error::new(ErrorKind::ResourceExhausted, format!("{e}."))
        }
        other => bad(reason(other)),
    }
}

/// Classify a `Message` flatbuffer.
pub fn message_kind(header: &[u8]) -> Result<MessageKind> {
    ipc_message::message_kind(header).map_err(refused)
}

/// Decode a schema message flatbuffer into its canonical form: the schema as arrow-ipc's
/// writer re-encodes it (e.g. an explicit empty timezone becomes none), so what the server
/// stores, serves and compares on resume is one and the same schema.
pub fn decode_schema(header: &[u8]) -> Result<Schema> {
    let raw = ipc_message::decode_schema(header).map_err(refused)?;
    ipc_message::decode_schema(&schema_header(&raw)).map_err(refused)
}

/// The data_header bytes of the IPC schema message for `schema`.
pub fn schema_header(schema: &Schema) -> Vec<u8> {
    let opts = arrow_ipc::writer::IpcWriteOptions::default();
    let gen = arrow_ipc::writer::IpcDataGenerator::default();
    let mut tracker = arrow_ipc::writer::DictionaryTracker::new(false);
    gen.schema_to_bytes_with_dictionary_tracker(schema, &mut tracker, &opts)
        .ipc_message
}

/// Check that `schema` has a top-level non-dictionary `timestamp_ns: Int64`; return its index.
pub fn check_schema(schema: &Schema) -> Result<usize> {
    let idx = schema.index_of(TIMESTAMP_COLUMN).map_err(|_| {
        Error::invalid(
            "the schema has no `timestamp_ns` column; add `timestamp_ns: int64` as the time index.",
        )
    })?;
    let field = schema.field(idx);
    if field.data_type() != &DataType::Int64 {
        return Err(Error::invalid(format!(
            "column `timestamp_ns` has type {}; it must be int64.",
            field.data_type()
        )));
    }
    if schema
        .flattened_fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        return Err(Error::invalid(
            "dictionary-encoded columns are not supported; send plain arrays.",
        ));
    }
    Ok(idx)
}

/// Decode a record batch message against `schema`, validating everything first.
pub fn decode_batch(header: &[u8], body: Bytes, schema: &SchemaRef) -> Result<RecordBatch> {
    let body = Buffer::from(body);
    ipc_message::decode_batch(header, &body, schema, MAX_DECOMPRESSED_BYTES).map_err(refused)
}

/// Min and max of the `timestamp_ns` column; `None` for 0 rows. Nulls are refused.
pub fn time_range(batch: &RecordBatch, ts_index: usize) -> Result<Option<(i64, i64)>> {
    let col = batch
        .columns()
        .get(ts_index)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::internal("timestamp column missing after schema check."))?;
    if col.null_count() > 0 {
        return Err(Error::invalid(
            "column `timestamp_ns` contains nulls; every row needs a timestamp.",
        ));
    }
    let vals = col.values();
    let lo = vals.iter().copied().min();
    let hi = vals.iter().copied().max();
    Ok(lo.zip(hi))
}

/// The 8-byte prefix and the padding that encapsulate `header` as an IPC stream message.
pub fn encapsulation(header_len: usize) -> Result<([u8; 8], usize)> {
    let padded = header_len.div_ceil(8) * 8;
    let m = u32::try_from(padded).map_err(|_| bad("message header too large"))?;
    let mut prefix = [0u8; 8];
    prefix[..4].copy_from_slice(&CONTINUATION);
    prefix[4..].copy_from_slice(&m.to_le_bytes());
    Ok((prefix, padded - header_len))
}

const PADDING: [u8; 8] = [0; 8];

/// `n` zero bytes of header padding (`n` < 8, as returned by [`encapsulation`]).
pub fn padding(n: usize) -> &'static [u8] {
    PADDING.get(..n).unwrap_or(&PADDING)
}

/// Split an encapsulated message (a WAL frame payload) into `(header, body)`.
pub fn split_encapsulated(payload: &[u8]) -> Result<(&[u8], &[u8])> {
    ipc_message::split_encapsulated(payload)
        .map_err(|e| Error::data_loss(format!("stored IPC message is damaged: {}.", reason(e))))
}

/// [`split_encapsulated`] for an owned payload: `(header, body)` share its memory (no copy).
pub fn split_owned(payload: Vec<u8>) -> Result<(Bytes, Bytes)> {
    let payload = Bytes::from(payload);
    let header_len = split_encapsulated(&payload)?.0.len();
    Ok((
        payload.slice(8..8 + header_len),
        payload.slice(8 + header_len..),
    ))
}

/// Decode a stored WAL frame payload (a record batch message) against the topic schema;
/// returns the batch and its IPC body size. Stored frames were validated when written, so any
/// failure here is DataLoss naming the frame.
pub fn decode_stored_batch(
    seq: u64,
    payload: Vec<u8>,
    schema: &SchemaRef,
) -> Result<(RecordBatch, u64)> {
    let lost =
        |e: Error| Error::data_loss(format!("stored batch {seq} is unreadable: {}", e.message));
    let (header, body) = split_owned(payload).map_err(lost)?;
    let body_len = body.len() as u64;
    let batch = decode_batch(&header, body, schema).map_err(lost)?;
    Ok((batch, body_len))
}

/// The row count a stored WAL frame payload (a record batch message) declares, read from its
/// IPC header (verified, buffers checked against the body) without decoding the body: the
/// cheap count `tessera verify` compares with a topic's acknowledged rows. Failures are
/// DataLoss.
pub fn stored_batch_rows(payload: &[u8]) -> Result<u64> {
    let lost = |why: String| Error::data_loss(format!("stored batch is unreadable: {why}."));
    let (header, body) = split_encapsulated(payload).map_err(|e| lost(e.message))?;
    let message = ipc_message::BatchMessage::parse(header, body, MAX_DECOMPRESSED_BYTES)
        .map_err(|e| lost(reason(e)))?;
    u64::try_from(message.rows()).map_err(|_| lost(format!("{} rows", message.rows())))
}

/// Decode a stored schema frame payload; returns the canonical schema header the catalog
/// keeps. Failures are DataLoss.
pub fn decode_stored_schema(payload: &[u8]) -> Result<Vec<u8>> {
    let lost = |e: Error| Error::data_loss(format!("stored schema is unreadable: {}", e.message));
    let (header, _) = split_encapsulated(payload).map_err(lost)?;
    let schema = decode_schema(header).map_err(lost)?;
    check_schema(&schema).map_err(lost)?;
    Ok(schema_header(&schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_ipc::root_as_message;
    use std::sync::Arc;

    #[test]
    fn malformed_flatbuffer_errors_are_one_line() {
        // Damage a valid schema header byte by byte: the verifier's errors for nested tables
        // carry a multi-line trace; the messages we send never do.
        let schema = Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, true),
        ]);
        let header = schema_header(&schema);
        let mut traced = 0;
        for i in 0..header.len() {
            let mut h = header.clone();
            h[i] ^= 0xff;
            if let Err(raw) = root_as_message(&h) {
                traced += usize::from(raw.to_string().contains('\n'));
            }
            for e in [message_kind(&h).err(), decode_schema(&h).err()]
                .into_iter()
                .flatten()
            {
                assert!(!e.message.contains(['\n', '\t']), "{:?}", e.message);
                assert!(!e.message.ends_with(".."), "{:?}", e.message);
            }
        }
        assert!(
            traced > 0,
            "no damaged header produced a multi-line verifier error"
        );
    }
    use arrow_array::{BinaryArray, Int64Array};
    use arrow_schema::Field;

    fn sample() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![3, -1, 7])),
                Arc::new(BinaryArray::from(vec![Some(&b"a"[..]), None, Some(b"xyz")])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn encode(batch: &RecordBatch) -> (Vec<u8>, Vec<u8>) {
        let gen = arrow_ipc::writer::IpcDataGenerator::default();
        let mut tracker = arrow_ipc::writer::DictionaryTracker::new(false);
        let opts = arrow_ipc::writer::IpcWriteOptions::default();
        let (_, enc) = gen
            .encode(batch, &mut tracker, &opts, &mut Default::default())
            .unwrap();
        (enc.ipc_message, enc.arrow_data)
    }

    #[test]
    fn batch_round_trips_and_time_range_is_exact() {
        let (schema, batch) = sample();
        let (h, b) = encode(&batch);
        assert_eq!(message_kind(&h).unwrap(), MessageKind::RecordBatch);
        let back = decode_batch(&h, Bytes::from(b), &schema).unwrap();
        assert_eq!(back, batch);
        assert_eq!(time_range(&back, 0).unwrap(), Some((-1, 7)));
        let sh = schema_header(&schema);
        assert_eq!(message_kind(&sh).unwrap(), MessageKind::Schema);
        assert_eq!(decode_schema(&sh).unwrap(), *schema);
    }

    #[test]
    fn hostile_bodies_are_errors_not_panics() {
        let (schema, batch) = sample();
        let (h, b) = encode(&batch);
        for cut in [0, 1, 8, b.len() / 2, b.len().saturating_sub(1)] {
            assert!(decode_batch(&h, Bytes::from(b[..cut].to_vec()), &schema).is_err());
        }
        for i in 0..h.len() {
            let mut h2 = h.clone();
            h2[i] ^= 0xff;
            let _ = decode_batch(&h2, Bytes::from(b.clone()), &schema);
        }
        assert!(decode_batch(b"garbage", Bytes::new(), &schema).is_err());
    }

    #[test]
    fn stored_batch_rows_reads_the_header_only() {
        let (_, batch) = sample();
        let (h, b) = encode(&batch);
        let (prefix, pad) = encapsulation(h.len()).unwrap();
        let payload = [&prefix[..], &h, padding(pad), &b].concat();
        assert_eq!(stored_batch_rows(&payload).unwrap(), 3);
        let e = stored_batch_rows(&payload[..payload.len() - 1]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DataLoss, "{}", e.message);
        assert!(stored_batch_rows(b"garbage").is_err());
    }

    #[test]
    fn schema_rules() {
        let ok = Schema::new(vec![Field::new("timestamp_ns", DataType::Int64, false)]);
        assert_eq!(check_schema(&ok).unwrap(), 0);
        let wrong = Schema::new(vec![Field::new("timestamp_ns", DataType::Float64, false)]);
        assert!(check_schema(&wrong).is_err());
        let missing = Schema::new(vec![Field::new("t", DataType::Int64, false)]);
        assert!(check_schema(&missing).is_err());
    }

    #[test]
    fn golden_encapsulation() {
        let (prefix, pad) = encapsulation(13).unwrap();
        assert_eq!(prefix, [0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0]);
        assert_eq!(pad, 3);
        let mut payload = prefix.to_vec();
        payload.extend_from_slice(&[1; 13]);
        payload.extend_from_slice(padding(pad));
        payload.extend_from_slice(b"BODY");
        let (h, b) = split_encapsulated(&payload).unwrap();
        assert_eq!(h.len(), 16);
        assert_eq!(b, b"BODY");
        let (h2, b2) = split_owned(payload.clone()).unwrap();
        assert_eq!((&h2[..], &b2[..]), (h, b));
        assert!(split_encapsulated(&payload[..10]).is_err());
    }
}
