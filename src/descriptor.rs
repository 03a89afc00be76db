//! Flight descriptors and tickets (protocol.md §4.1, §5.1, §5.3).
//!
//! - DoPut: CMD descriptor, UTF-8 JSON `{"resource_locator": "seq/topic", "topic_uuid": "<uuid>"}`
//!   (seed clients send `"key"` instead of `"topic_uuid"`); optional `"ack": "durable"` asks for
//!   one PutResult per durable batch; optional `"first_row": N` (u64, Tessera extension) makes a
//!   resume idempotent: the stream's first row is the topic's row N, stored rows are skipped.
//! - GetFlightInfo / GetSchema: CMD descriptor, JSON `{"resource_locator", "timestamp_ns_start"?,
//!   "timestamp_ns_end"?}`.
//! - Ticket (DoGet): UTF-8 JSON `{"locator": "seq/topic", "timestamp_ns_start": i64|null,
//!   "timestamp_ns_end": i64|null}`; the window is `[start, end)`.

use crate::error::{Error, Result};
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::FlightDescriptor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest descriptor or ticket accepted, in bytes.
pub const MAX_DESCRIPTOR_BYTES: usize = 64 * 1024;

fn cmd_json<T: serde::de::DeserializeOwned>(desc: &FlightDescriptor, what: &str) -> Result<T> {
    if desc.r#type() != DescriptorType::Cmd {
        return Err(Error::invalid(format!(
            "{what} needs a CMD descriptor holding JSON; PATH descriptors are not supported."
        )));
    }
    if desc.cmd.len() > MAX_DESCRIPTOR_BYTES {
        return Err(Error::invalid(format!("{what} descriptor is too large.")));
    }
    serde_json::from_slice(&desc.cmd)
        .map_err(|e| Error::invalid(format!("{what} descriptor is not the expected JSON: {e}.")))
}

/// Parse a UUID given by a client.
pub fn parse_uuid(s: &str, field: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| {
        Error::invalid(format!(
            "`{field}` is not a valid UUID: `{}`.",
            s.escape_debug()
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutJson {
    resource_locator: String,
    topic_uuid: Option<String>,
    key: Option<String>,
    ack: Option<String>,
    first_row: Option<u64>,
}

/// A parsed DoPut descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutDescriptor {
    /// Topic locator as sent.
    pub resource_locator: String,
    /// The topic token.
    pub token: Uuid,
    /// Whether the client asked for per-batch durable acknowledgements.
    pub ack_durable: bool,
    /// Idempotent resume (a Tessera extension): the topic row index (0-based, over every row
    /// the topic stores) of this stream's first row. Rows the topic already stores are skipped.
    pub first_row: Option<u64>,
}

impl PutDescriptor {
    /// Parse from the first FlightData's descriptor.
    pub fn parse(desc: &FlightDescriptor) -> Result<Self> {
        let j: PutJson = cmd_json(desc, "DoPut")?;
        let token = match (j.topic_uuid, j.key) {
            (Some(t), None) => parse_uuid(&t, "topic_uuid")?,
            (None, Some(k)) => parse_uuid(&k, "key")?,
            _ => {
                return Err(Error::invalid(
                    "DoPut descriptor needs exactly one of `topic_uuid` or `key`.",
                ))
            }
        };
        let ack_durable = match j.ack.as_deref() {
            None => false,
            Some("durable") => true,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "`ack` must be \"durable\" (or absent), not `{}`.",
                    other.escape_debug()
                )))
            }
        };
        Ok(PutDescriptor {
            resource_locator: j.resource_locator,
            token,
            ack_durable,
            first_row: j.first_row,
        })
    }
}

/// A time window `[start, end)`; either bound optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub start: Option<i64>,
    /// Exclusive end.
    pub end: Option<i64>,
}

impl Window {
    /// Whether any bound was given.
    pub fn is_bounded(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }
    /// Whether `t` lies in the window.
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
    /// Refuse `start >= end`.
    pub fn check(self) -> Result<Self> {
        if let (Some(s), Some(e)) = (self.start, self.end) {
            if s >= e {
                return Err(Error::invalid(format!(
                    "time window start ({s}) must be below its end ({e})."
                )));
            }
        }
        Ok(self)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceJson {
    resource_locator: String,
    timestamp_ns_start: Option<i64>,
    timestamp_ns_end: Option<i64>,
}

/// A parsed GetFlightInfo / GetSchema descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDescriptor {
    /// `seq` or `seq/topic` as sent.
    pub resource_locator: String,
    /// Requested window.
    pub window: Window,
}

impl ResourceDescriptor {
    /// Parse a CMD descriptor.
    pub fn parse(desc: &FlightDescriptor) -> Result<Self> {
        let j: ResourceJson = cmd_json(desc, "GetFlightInfo")?;
        Ok(ResourceDescriptor {
            resource_locator: j.resource_locator,
            window: Window {
                start: j.timestamp_ns_start,
                end: j.timestamp_ns_end,
            }
            .check()?,
        })
    }
}

/// A DoGet ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketBody {
    /// Canonical topic locator.
    pub locator: String,
    /// Window.
    pub window: Window,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketJson {
    locator: String,
    timestamp_ns_start: Option<i64>,
    timestamp_ns_end: Option<i64>,
}

impl TicketBody {
    /// Encode as ticket bytes.
    pub fn encode(&self) -> Vec<u8> {
        let j = TicketJson {
            locator: self.locator.clone(),
            timestamp_ns_start: self.window.start,
            timestamp_ns_end: self.window.end,
        };
        serde_json::to_vec(&j).unwrap_or_default()
    }
    /// Decode ticket bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_DESCRIPTOR_BYTES {
            return Err(Error::invalid("ticket is too large."));
        }
        let j: TicketJson = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("malformed ticket: {e}.")))?;
        let window = Window {
            start: j.timestamp_ns_start,
            end: j.timestamp_ns_end,
        }
        .check()?;
        Ok(TicketBody {
            locator: j.locator,
            window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_descriptor_accepts_both_token_keys() {
        let id = "6dad3f2e-8d47-4c3a-9f43-0a3b2a1c0d11";
        let d = FlightDescriptor::new_cmd(format!(
            r#"{{"resource_locator":"s/t","topic_uuid":"{id}"}}"#
        ));
        assert!(!PutDescriptor::parse(&d).unwrap().ack_durable);
        let d = FlightDescriptor::new_cmd(format!(
            r#"{{"resource_locator":"s/t","key":"{id}","ack":"durable"}}"#
        ));
        assert!(PutDescriptor::parse(&d).unwrap().ack_durable);
        let d = FlightDescriptor::new_cmd(format!(
            r#"{{"resource_locator":"s/t","topic_uuid":"{id}","first_row":50}}"#
        ));
        assert_eq!(PutDescriptor::parse(&d).unwrap().first_row, Some(50));
        for bad in [
            format!(r#"{{"resource_locator":"s/t","topic_uuid":"{id}","first_row":-1}}"#),
            r#"{"resource_locator":"s/t"}"#.to_string(),
            format!(r#"{{"resource_locator":"s/t","topic_uuid":"{id}","key":"{id}"}}"#),
            r#"{"resource_locator":"s/t","topic_uuid":"nope"}"#.to_string(),
            format!(r#"{{"resource_locator":"s/t","topic_uuid":"{id}","x":1}}"#),
            "not json".to_string(),
        ] {
            assert!(
                PutDescriptor::parse(&FlightDescriptor::new_cmd(bad.clone())).is_err(),
                "{bad}"
            );
        }
        assert!(PutDescriptor::parse(&FlightDescriptor::new_path(vec!["s".into()])).is_err());
    }

    #[test]
    fn windows_and_tickets() {
        let d = FlightDescriptor::new_cmd(r#"{"resource_locator":"s","timestamp_ns_start":5}"#);
        let r = ResourceDescriptor::parse(&d).unwrap();
        assert_eq!(
            r.window,
            Window {
                start: Some(5),
                end: None
            }
        );
        assert!(r.window.contains(5) && !r.window.contains(4));
        let d = FlightDescriptor::new_cmd(
            r#"{"resource_locator":"s","timestamp_ns_start":5,"timestamp_ns_end":5}"#,
        );
        assert!(ResourceDescriptor::parse(&d).is_err());
        let t = TicketBody {
            locator: "s/t".into(),
            window: Window {
                start: None,
                end: Some(9),
            },
        };
        let bytes = t.encode();
        assert_eq!(
            bytes,
            br#"{"locator":"s/t","timestamp_ns_start":null,"timestamp_ns_end":9}"#.to_vec()
        );
        assert_eq!(TicketBody::decode(&bytes).unwrap(), t);
        assert!(TicketBody::decode(b"\xff").is_err());
    }
}
