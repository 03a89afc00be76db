//! Catalog value layouts.
//!
//! Every value is an envelope:
//!
//! | offset | size | type | meaning                                              |
//! |--------|------|------|------------------------------------------------------|
//! | 0      | 1    | u8   | value version, currently [`VALUE_VERSION`] (= 1)     |
//! | 1      | n-1  | —    | body: UTF-8 JSON of the record (schemas: raw bytes)  |
//!
//! The JSON body of each record type is the serde form of the structs below, field names as
//! written. `user_metadata` fields hold the client's JSON text verbatim (a JSON value, not a
//! string). `SchemaRecord` bodies are the Arrow IPC encapsulated schema message exactly as
//! received in DoPut. fjall checksums its own blocks, so the envelope carries no checksum.
//!
//! Version rule: a reader that finds another version byte refuses the value with a DataLoss
//! error naming the key (never guesses); new versions add a new decoder beside the old one.

use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// Current value layout version.
pub const VALUE_VERSION: u8 = 1;

/// Encode a record as `[VALUE_VERSION] ++ JSON`.
pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    let mut out = vec![VALUE_VERSION];
    serde_json::to_writer(&mut out, record)
        .map_err(|e| Error::internal(format!("cannot encode catalog record: {e}.")))?;
    Ok(out)
}

/// Decode a value written by [`encode`]. `what` names the entry in error messages.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    match bytes.split_first() {
        Some((&VALUE_VERSION, body)) => serde_json::from_slice(body)
            .map_err(|e| Error::data_loss(format!("catalog entry {what} is unreadable: {e}."))),
        Some((v, _)) => Err(Error::data_loss(format!(
            "catalog entry {what} has unknown layout version {v}."
        ))),
        None => Err(Error::data_loss(format!("catalog entry {what} is empty."))),
    }
}

/// Encode raw bytes (schemas) as `[VALUE_VERSION] ++ bytes`.
pub fn encode_raw(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(VALUE_VERSION);
    out.extend_from_slice(bytes);
    out
}

/// Decode a value written by [`encode_raw`].
pub fn decode_raw<'a>(bytes: &'a [u8], what: &str) -> Result<&'a [u8]> {
    match bytes.split_first() {
        Some((&VALUE_VERSION, body)) => Ok(body),
        _ => Err(Error::data_loss(format!(
            "catalog entry {what} has an unknown layout version."
        ))),
    }
}

/// One recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceRecord {
    /// Creation time, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// The client's JSON object, verbatim.
    pub user_metadata: Box<RawValue>,
    /// For sequences created with the seed protocol: the id of their implicit session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_session: Option<String>,
}

/// One upload session of a sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Secret write token.
    pub uuid: Uuid,
    /// Creation time, ns.
    pub created_at_ns: i64,
    /// Finalization time, ns; `None` while pending. Finalized sessions are locked.
    pub completed_at_ns: Option<i64>,
}

/// Serialization format of a topic, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SerializationFormat {
    /// `"default"`
    Default,
    /// `"ragged"`
    Ragged,
    /// `"image"`
    Image,
}

impl SerializationFormat {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SerializationFormat::Default => "default",
            SerializationFormat::Ragged => "ragged",
            SerializationFormat::Image => "image",
        }
    }
    /// Parse the wire name (exact, lowercase).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "default" => Ok(SerializationFormat::Default),
            "ragged" => Ok(SerializationFormat::Ragged),
            "image" => Ok(SerializationFormat::Image),
            other => Err(Error::invalid(format!(
                "serialization_format `{}` is not one of `default`, `ragged`, `image`.",
                other.escape_debug()
            ))),
        }
    }
}

/// Upload state of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicState {
    /// Created; no DoPut yet.
    Created,
    /// A DoPut started and has not ended with OK (running, broken, or interrupted by a crash).
    /// A new DoPut with the topic token resumes it.
    Uploading,
    /// A DoPut ended with OK: all its batches are durable.
    Uploaded,
}

/// Running statistics of the data stored for a topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataStats {
    /// Rows stored.
    pub rows: u64,
    /// Record batches stored.
    pub batches: u64,
    /// Bytes of Arrow IPC body stored.
    pub bytes: u64,
    /// Smallest `timestamp_ns`, if any row.
    pub ts_min: Option<i64>,
    /// Largest `timestamp_ns`, if any row.
    pub ts_max: Option<i64>,
}

impl DataStats {
    /// Add one batch's figures.
    pub fn add(&mut self, rows: u64, bytes: u64, ts: Option<(i64, i64)>) {
        self.rows += rows;
        self.batches += 1;
        self.bytes += bytes;
        if let Some((lo, hi)) = ts {
            self.ts_min = Some(self.ts_min.map_or(lo, |m| m.min(lo)));
            self.ts_max = Some(self.ts_max.map_or(hi, |m| m.max(hi)));
        }
    }
}

/// One typed stream of a sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicRecord {
    /// Internal id (UUID v7): names the topic's data directory.
    pub id: Uuid,
    /// Secret DoPut token.
    pub uuid: Uuid,
    /// Id of the session that created it.
    pub session_id: String,
    /// Opaque ontology tag, e.g. `IMU`.
    pub ontology_tag: String,
    /// Serialization format.
    pub serialization_format: SerializationFormat,
    /// The client's JSON object, verbatim.
    pub user_metadata: Box<RawValue>,
    /// Creation time, ns.
    pub created_at_ns: i64,
    /// Upload state.
    pub state: TopicState,
    /// Statistics of the durable data, updated when a DoPut ends.
    #[serde(default)]
    pub stats: DataStats,
}

/// What a token authorizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenRecord {
    /// A session's write token.
    Session {
        /// Sequence name.
        sequence: String,
        /// Session id.
        session_id: String,
    },
    /// A topic's DoPut token.
    Topic {
        /// Sequence name.
        sequence: String,
        /// Topic path.
        topic: String,
    },
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// Always `error` today.
    pub notification_type: String,
    /// Free text from the client.
    pub msg: String,
    /// Creation time, ns.
    pub created_at_ns: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_sequence_record() {
        let r = SequenceRecord {
            created_at_ns: 5,
            user_metadata: RawValue::from_string(r#"{"b": [1, 2.50], "a": {}}"#.into()).unwrap(),
            seed_session: None,
        };
        let bytes = encode(&r).unwrap();
        let expected = b"\x01{\"created_at_ns\":5,\"user_metadata\":{\"b\": [1, 2.50], \"a\": {}}}";
        assert_eq!(bytes, expected.to_vec());
        let back: SequenceRecord = decode(&bytes, "x").unwrap();
        assert_eq!(back.user_metadata.get(), r#"{"b": [1, 2.50], "a": {}}"#);
    }

    #[test]
    fn golden_topic_and_token_records() {
        let t = TopicRecord {
            id: Uuid::from_u128(1),
            uuid: Uuid::from_u128(2),
            session_id: "S".into(),
            ontology_tag: "IMU".into(),
            serialization_format: SerializationFormat::Image,
            user_metadata: RawValue::from_string("{}".into()).unwrap(),
            created_at_ns: -1,
            state: TopicState::Uploaded,
            stats: DataStats {
                rows: 3,
                batches: 1,
                bytes: 24,
                ts_min: Some(-7),
                ts_max: Some(9),
            },
        };
        let expected = concat!(
            "\u{1}{\"id\":\"00000000-0000-0000-0000-000000000001\",",
            "\"uuid\":\"00000000-0000-0000-0000-000000000002\",\"session_id\":\"S\",",
            "\"ontology_tag\":\"IMU\",\"serialization_format\":\"image\",\"user_metadata\":{},",
            "\"created_at_ns\":-1,\"state\":\"uploaded\",\"stats\":{\"rows\":3,\"batches\":1,",
            "\"bytes\":24,\"ts_min\":-7,\"ts_max\":9}}"
        );
        assert_eq!(encode(&t).unwrap(), expected.as_bytes());
        let tok = TokenRecord::Topic {
            sequence: "s".into(),
            topic: "a/b".into(),
        };
        let bytes = encode(&tok).unwrap();
        assert_eq!(
            bytes,
            b"\x01{\"kind\":\"topic\",\"sequence\":\"s\",\"topic\":\"a/b\"}".to_vec()
        );
        assert_eq!(decode::<TokenRecord>(&bytes, "t").unwrap(), tok);
    }

    #[test]
    fn unknown_versions_and_garbage_are_data_loss_not_panics() {
        use crate::error::ErrorKind;
        for bad in [
            &b""[..],
            b"\x02{}",
            b"\x01not json",
            b"\x01{\"kind\":\"nope\"}",
        ] {
            let e = decode::<TokenRecord>(bad, "k").unwrap_err();
            assert_eq!(e.kind, ErrorKind::DataLoss);
        }
        assert_eq!(decode_raw(&encode_raw(b"abc"), "s").unwrap(), b"abc");
        assert!(decode_raw(b"\x09abc", "s").is_err());
    }
}
