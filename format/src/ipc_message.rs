//! Decoding Arrow IPC messages from untrusted bytes: the one module that parses them.
//!
//! Every IPC message Tessera reads goes through here: a Flight upload's `data_header` and
//! `data_body` (ingest), a WAL frame payload (recovery, the unsealed tail of a read, sealing),
//! and a chunk file's leading schema message and record batch blocks ([`crate::ChunkReader`]).
//! Byte layouts are specified where they are written (a WAL payload in the server's `ipc.rs`, a
//! chunk file in `chunk.rs`); this module only parses Arrow's own message framing.
//!
//! arrow-ipc 60.1.0 trusts a message once its flatbuffer parses: it slices body buffers without
//! bounds checks (a panic) and sizes zstd output by the declared uncompressed length (an absurd
//! length aborts the process on allocation, which `catch_unwind` cannot stop). So before arrow
//! decodes anything:
//! * the flatbuffer is verified (`arrow_ipc::root_as_message`) and its header must be the
//!   expected kind;
//! * the declared body length must fit the body present, and every buffer must lie inside it;
//! * compression, if any, must be zstd per buffer; every non-empty compressed buffer must start
//!   with its i64 LE uncompressed length (`-1` = stored raw, `0` = empty), and the positive ones
//!   must sum to at most the caller's cap ([`FormatError::DecodedSizeLimit`]);
//!
//! and arrow's decoders run under `catch_unwind` (arrow-ipc panics on some malformed input that
//! passes these checks). Every other refusal is a [`FormatError::MalformedMessage`] whose reason
//! is one line; nothing here panics.

use std::collections::HashMap;
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::{BodyCompressionMethod, CompressionType, MessageHeader, MetadataVersion};
use arrow_schema::{Schema, SchemaRef};

use crate::error::FormatError;

/// The marker that opens an encapsulated IPC message.
pub const CONTINUATION: [u8; 4] = [0xff; 4];

/// What an IPC message header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A schema message.
    Schema,
    /// A record batch.
    RecordBatch,
    /// A dictionary batch (Tessera stores none).
    DictionaryBatch,
    /// Anything else (tensors, unknown).
    Other,
}

/// A [`FormatError::MalformedMessage`] whose reason is `what` on one line: flatbuffers'
/// verifier errors span several lines (an error trace), and a reason reads best as one.
pub(crate) fn malformed(what: impl Display) -> FormatError {
    let text = what.to_string();
    let parts: Vec<&str> = text
        .split(['\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let line = parts.join(" ");
    FormatError::MalformedMessage(line.trim_end_matches(['.', ' ']).to_owned())
}

/// Runs `f` under `catch_unwind`; a panic becomes a [`FormatError::MalformedMessage`] saying
/// `on_panic`.
fn guarded<T>(
    on_panic: &str,
    f: impl FnOnce() -> Result<T, FormatError>,
) -> Result<T, FormatError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(malformed(on_panic)))
}

/// Splits an encapsulated message (continuation marker, i32 LE flatbuffer length `m`, then `m`
/// bytes) into its `m` flatbuffer bytes (padding included) and every byte after them.
pub fn split_encapsulated(bytes: &[u8]) -> Result<(&[u8], &[u8]), FormatError> {
    if bytes.get(..4) != Some(&CONTINUATION[..]) {
        return Err(malformed("missing continuation marker"));
    }
    let len = bytes
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| malformed("invalid message length"))?;
    let rest = bytes.get(8..).unwrap_or_default();
    rest.split_at_checked(len).ok_or_else(|| {
        malformed(format!(
            "message flatbuffer of {len} bytes is longer than the {} bytes after its prefix",
            rest.len()
        ))
    })
}

/// The verified `Message` flatbuffer in `header`.
fn verified(header: &[u8]) -> Result<arrow_ipc::Message<'_>, FormatError> {
    arrow_ipc::root_as_message(header).map_err(|e| malformed(format!("message flatbuffer: {e}")))
}

/// Classifies a `Message` flatbuffer.
pub fn message_kind(header: &[u8]) -> Result<MessageKind, FormatError> {
    guarded("message parser panicked", || {
        Ok(match verified(header)?.header_type() {
            MessageHeader::Schema => MessageKind::Schema,
            MessageHeader::RecordBatch => MessageKind::RecordBatch,
            MessageHeader::DictionaryBatch => MessageKind::DictionaryBatch,
            _ => MessageKind::Other,
        })
    })
}

/// Decodes a schema message flatbuffer (as it arrived: no canonicalization).
pub fn decode_schema(header: &[u8]) -> Result<Schema, FormatError> {
    guarded("schema could not be decoded", || {
        let fb = verified(header)?
            .header_as_schema()
            .ok_or_else(|| malformed("expected a schema message"))?;
        arrow_ipc::convert::try_fb_to_schema(fb).map_err(malformed)
    })
}

/// A record batch message whose flatbuffer is verified and whose buffers were checked against
/// a body ([`BatchMessage::parse`]), ready to [`BatchMessage::decode`].
#[derive(Debug)]
pub struct BatchMessage<'a> {
    message: arrow_ipc::Message<'a>,
    batch: arrow_ipc::RecordBatch<'a>,
    body_len: usize,
}

impl<'a> BatchMessage<'a> {
    /// Verifies `header` (a `Message` flatbuffer holding a record batch) against `body`: the
    /// declared body length is at most `body.len()`, every buffer lies inside `body`, compression
    /// is zstd per buffer or none, and the declared uncompressed lengths sum to at most
    /// `max_decoded_bytes`.
    pub fn parse(
        header: &'a [u8],
        body: &[u8],
        max_decoded_bytes: u64,
    ) -> Result<Self, FormatError> {
        guarded("message parser panicked", || {
            let message = verified(header)?;
            let batch = message
                .header_as_record_batch()
                .ok_or_else(|| malformed("expected a record batch message"))?;
            let declared = message.bodyLength();
            if u64::try_from(declared).map_or(true, |d| d > body.len() as u64) {
                return Err(malformed(format!(
                    "header declares a {declared} byte body but the body has {} bytes",
                    body.len()
                )));
            }
            check_buffers(batch, body, max_decoded_bytes)?;
            Ok(Self {
                message,
                batch,
                body_len: body.len(),
            })
        })
    }

    /// The row count the message declares.
    pub fn rows(&self) -> i64 {
        self.batch.length()
    }

    /// The message's metadata version.
    pub fn version(&self) -> MetadataVersion {
        self.message.version()
    }

    /// The body length the message declares (at most the checked body's).
    pub fn body_length(&self) -> i64 {
        self.message.bodyLength()
    }

    /// Decodes the batch against `schema`, under `catch_unwind`. `body` must hold the bytes
    /// [`BatchMessage::parse`] checked (a body of another length is refused).
    pub fn decode(&self, body: &Buffer, schema: &SchemaRef) -> Result<RecordBatch, FormatError> {
        if body.len() != self.body_len {
            return Err(malformed(format!(
                "body of {} bytes given to decode, {} bytes checked",
                body.len(),
                self.body_len
            )));
        }
        let version = self.message.version();
        let dictionaries = HashMap::new();
        guarded("the batch's buffers do not match the schema", || {
            arrow_ipc::reader::read_record_batch(
                body,
                self.batch,
                SchemaRef::clone(schema),
                &dictionaries,
                None,
                &version,
            )
            .map_err(malformed)
        })
    }
}

/// Every buffer of `batch` inside `body`; compression zstd or none; declared uncompressed
/// lengths valid and summing to at most `max_decoded_bytes`.
fn check_buffers(
    batch: arrow_ipc::RecordBatch<'_>,
    body: &[u8],
    max_decoded_bytes: u64,
) -> Result<(), FormatError> {
    let compressed = match batch.compression() {
        None => false,
        Some(c)
            if c.codec() == CompressionType::ZSTD
                && c.method() == BodyCompressionMethod::BUFFER =>
        {
            true
        }
        Some(c) => {
            return Err(malformed(format!(
                "unsupported compression {:?}",
                c.codec()
            )))
        }
    };
    let buffers = batch
        .buffers()
        .ok_or_else(|| malformed("record batch without buffer list"))?;
    let mut declared_total: u64 = 0;
    for (i, buf) in buffers.iter().enumerate() {
        let (off, len) = (buf.offset(), buf.length());
        let data = usize::try_from(off)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| body.get(o..o.checked_add(l)?))
            .ok_or_else(|| {
                malformed(format!("buffer {i} [{off}, +{len}) lies outside the body"))
            })?;
        if !compressed || data.is_empty() {
            continue;
        }
        let prefix = data
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .ok_or_else(|| malformed(format!("compressed buffer {i} has no length prefix")))?;
        match i64::from_le_bytes(prefix) {
            -1 | 0 => {}
            n if n > 0 => declared_total = declared_total.saturating_add(n.unsigned_abs()),
            n => return Err(malformed(format!("buffer {i} declares length {n}"))),
        }
    }
    if declared_total > max_decoded_bytes {
        return Err(FormatError::DecodedSizeLimit {
            declared: declared_total,
            limit: max_decoded_bytes,
        });
    }
    Ok(())
}

/// [`BatchMessage::parse`] then [`BatchMessage::decode`]: the record batch of the message
/// `header` with body `body`, decoded against `schema`.
pub fn decode_batch(
    header: &[u8],
    body: &Buffer,
    schema: &SchemaRef,
    max_decoded_bytes: u64,
) -> Result<RecordBatch, FormatError> {
    BatchMessage::parse(header, body.as_slice(), max_decoded_bytes)?.decode(body, schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, BinaryArray, Int64Array};
    use arrow_ipc::writer::{
        DictionaryTracker, FileWriter, IpcDataGenerator, IpcWriteContext, IpcWriteOptions,
    };
    use arrow_schema::{DataType, Field};
    use std::sync::Arc;

    fn sample() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, true),
        ]));
        let data: Vec<Option<&[u8]>> = (0..200)
            .map(|i| (i % 3 != 0).then_some(&b"abc"[..]))
            .collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..200)) as ArrayRef,
                Arc::new(BinaryArray::from(data)),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    /// `(header, body)` of `batch` as one IPC message, optionally zstd-compressed.
    fn encode(batch: &RecordBatch, zstd: bool) -> (Vec<u8>, Buffer) {
        let compression = zstd.then_some(CompressionType::ZSTD);
        let opts = IpcWriteOptions::default()
            .try_with_compression(compression)
            .unwrap();
        let (_, enc) = IpcDataGenerator::default()
            .encode(
                batch,
                &mut DictionaryTracker::new(false),
                &opts,
                &mut IpcWriteContext::default(),
            )
            .unwrap();
        (enc.ipc_message, Buffer::from_vec(enc.arrow_data))
    }

    #[test]
    fn batches_round_trip_plain_and_zstd() {
        let (schema, batch) = sample();
        for zstd in [false, true] {
            let (h, b) = encode(&batch, zstd);
            assert_eq!(message_kind(&h).unwrap(), MessageKind::RecordBatch);
            assert_eq!(decode_batch(&h, &b, &schema, u64::MAX).unwrap(), batch);
            let msg = BatchMessage::parse(&h, &b, u64::MAX).unwrap();
            assert_eq!(msg.rows(), 200);
            assert_eq!(msg.version(), MetadataVersion::V5);
            assert_eq!(msg.body_length(), b.len() as i64);
            assert!(msg.decode(&b.slice(8), &schema).is_err());
        }
    }

    #[test]
    fn declared_sizes_over_the_cap_are_refused_before_decoding() {
        let (schema, batch) = sample();
        let (h, b) = encode(&batch, true);
        match decode_batch(&h, &b, &schema, 100) {
            Err(FormatError::DecodedSizeLimit { declared, limit }) => {
                assert!(declared > 100, "{declared}");
                assert_eq!(limit, 100);
            }
            other => panic!("{other:?}"),
        }
        // Uncompressed messages declare nothing.
        let (h, b) = encode(&batch, false);
        assert_eq!(decode_batch(&h, &b, &schema, 0).unwrap(), batch);
    }

    #[test]
    fn hostile_messages_are_one_line_errors_not_panics() {
        let (schema, batch) = sample();
        for zstd in [false, true] {
            let (h, b) = encode(&batch, zstd);
            for cut in [0, 1, 8, b.len() / 2, b.len() - 1] {
                let err = decode_batch(&h, &b.slice_with_length(0, cut), &schema, u64::MAX);
                assert!(
                    matches!(err, Err(FormatError::MalformedMessage(_))),
                    "{err:?}"
                );
            }
            let mut traced = 0;
            for i in 0..h.len() {
                let mut h2 = h.clone();
                h2[i] ^= 0xff;
                if let Err(raw) = arrow_ipc::root_as_message(&h2) {
                    traced += usize::from(raw.to_string().contains('\n'));
                }
                for e in [
                    decode_batch(&h2, &b, &schema, u64::MAX).err(),
                    message_kind(&h2).err(),
                    decode_schema(&h2).err(),
                ]
                .into_iter()
                .flatten()
                {
                    let text = e.to_string();
                    assert!(
                        !text.contains(['\n', '\t']) && !text.ends_with('.'),
                        "{text}"
                    );
                }
            }
            assert!(
                traced > 0,
                "no damaged header gave a multi-line verifier error"
            );
        }
        assert!(decode_batch(b"garbage", &Buffer::from_vec(Vec::<u8>::new()), &schema, 0).is_err());
        let schema_header = IpcDataGenerator::default()
            .schema_to_bytes_with_dictionary_tracker(
                &schema,
                &mut DictionaryTracker::new(false),
                &IpcWriteOptions::default(),
            )
            .ipc_message;
        assert_eq!(message_kind(&schema_header).unwrap(), MessageKind::Schema);
        assert_eq!(decode_schema(&schema_header).unwrap(), *schema);
        let (h, _) = encode(&batch, false);
        assert!(decode_schema(&h)
            .unwrap_err()
            .to_string()
            .contains("schema"));
        let empty = Buffer::from_vec(Vec::<u8>::new());
        assert!(decode_batch(&schema_header, &empty, &schema, 0)
            .unwrap_err()
            .to_string()
            .contains("record batch"));
    }

    #[test]
    fn split_encapsulated_framing() {
        let mut msg = vec![0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0];
        msg.extend_from_slice(&[1; 16]);
        msg.extend_from_slice(b"BODY");
        assert_eq!(
            split_encapsulated(&msg).unwrap(),
            (&[1u8; 16][..], &b"BODY"[..])
        );
        assert!(split_encapsulated(&msg[..10])
            .unwrap_err()
            .to_string()
            .contains("longer"));
        assert!(split_encapsulated(&msg[1..])
            .unwrap_err()
            .to_string()
            .contains("continuation"));
        let negative = [0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff, 0];
        assert!(split_encapsulated(&negative).is_err());
        assert!(split_encapsulated(&[]).is_err());
    }

    #[test]
    fn decodes_the_leading_schema_of_a_file_and_rejects_damage() {
        let schema = Schema::new(vec![Field::new("timestamp_ns", DataType::Int64, false)])
            .with_metadata(HashMap::from([("k".to_owned(), "v".to_owned())]));
        let mut out = Vec::new();
        FileWriter::try_new(&mut out, &schema)
            .unwrap()
            .finish()
            .unwrap();
        let leading = |bytes: &[u8]| -> Result<Schema, FormatError> {
            decode_schema(split_encapsulated(bytes)?.0)
        };
        assert_eq!(leading(&out[64..]).unwrap(), schema);
        assert!(leading(&out[65..]).is_err());
        assert!(leading(&out[64..80]).is_err());
        assert!(leading(&[]).is_err());
    }
}
