//! DoAction: JSON bodies in, one `{"action": <name>, "response": <payload|null>}` envelope out
//! (protocol.md §2-§3, seed protocol §10.2).
//!
//! Dispatch is on the action name; the two names shared by both protocols (`sequence_create`,
//! `topic_create`) dispatch on the body keys (`name`/`sequence_key` = seed).

use crate::descriptor::parse_uuid;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::lifecycle::NewTopic;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// Largest action body accepted, in bytes.
pub const MAX_ACTION_BODY: usize = 4 << 20;

/// Every action name this server answers.
pub const ACTIONS: &[&str] = &[
    "info",
    "version",
    "sequence_create",
    "sequence_finalize",
    "sequence_abort",
    "sequence_delete",
    "session_create",
    "session_finalize",
    "session_delete",
    "topic_create",
    "topic_delete",
    "sequence_notification_create",
    "sequence_notification_list",
    "sequence_notification_purge",
    "topic_notification_create",
    "topic_notification_list",
    "topic_notification_purge",
    "query",
    "topic_filter_clusterize",
    "topic_filter_intersect",
];

/// What an action answers: one envelope, or one envelope per item (paged actions).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// One `Result` holding `{"action", "response": payload}`.
    One(Value),
    /// One `Result` per item, each its own envelope; none for an empty list.
    Paged(Vec<Value>),
}

/// Run one action and shape its reply (paged for `topic_filter_*`).
pub fn reply(engine: &Engine, action: &str, raw: &[u8]) -> Result<Reply> {
    match action {
        "query" => {
            let b: Value = body(action, raw)?;
            let answer = crate::query::run_query(engine, &b, true)?;
            Ok(Reply::One(crate::query::response(&answer)))
        }
        "topic_filter_clusterize" => {
            let b: Value = body(action, raw)?;
            crate::query::clusterize(engine, &b).map(Reply::Paged)
        }
        "topic_filter_intersect" => {
            let b: Value = body(action, raw)?;
            crate::query::intersect(engine, &b).map(Reply::Paged)
        }
        _ => dispatch(engine, action, raw).map(Reply::One),
    }
}

fn body<T: DeserializeOwned>(action: &str, bytes: &[u8]) -> Result<T> {
    if bytes.len() > MAX_ACTION_BODY {
        return Err(Error::new(
            ErrorKind::ResourceExhausted,
            format!(
                "`{action}` body is {} bytes; the limit is {MAX_ACTION_BODY}.",
                bytes.len()
            ),
        ));
    }
    let bytes = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid(format!("`{action}` body is not the expected JSON: {e}.")))
}

fn metadata_or_empty(m: Option<Box<RawValue>>) -> Result<Box<RawValue>> {
    match m {
        Some(m) => Ok(m),
        None => RawValue::from_string("{}".to_string())
            .map_err(|e| Error::internal(format!("cannot build empty metadata: {e}."))),
    }
}

fn one_of(
    action: &str,
    a: Option<String>,
    an: &str,
    b: Option<String>,
    bn: &str,
) -> Result<String> {
    match (a, b) {
        (Some(v), None) | (None, Some(v)) => Ok(v),
        _ => Err(Error::invalid(format!(
            "`{action}` needs exactly one of `{an}` or `{bn}`."
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceCreate {
    locator: Option<String>,
    name: Option<String>,
    user_metadata: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Locator {
    locator: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedKey {
    name: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionToken {
    session_uuid: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicCreate {
    session_uuid: Option<String>,
    sequence_key: Option<String>,
    locator: Option<String>,
    name: Option<String>,
    serialization_format: String,
    ontology_tag: String,
    user_metadata: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationCreate {
    locator: String,
    notification_type: String,
    msg: String,
}

/// Run one single-envelope action; returns the `response` payload (`Value::Null` for none).
/// Query actions go through [`reply`].
pub fn dispatch(engine: &Engine, action: &str, raw: &[u8]) -> Result<Value> {
    match action {
        "info" | "version" => {
            let _: Value = body(action, raw)?;
            Ok(info(engine))
        }
        "sequence_create" => {
            let b: SequenceCreate = body(action, raw)?;
            let seed = b.name.is_some();
            let name = one_of(action, b.locator, "locator", b.name, "name")?;
            let meta = metadata_or_empty(b.user_metadata)?;
            let key = engine.lifecycle().create_sequence(&name, &meta, seed)?;
            Ok(key.map_or(Value::Null, |k| json!({ "key": k.to_string() })))
        }
        "session_create" => {
            let b: Locator = body(action, raw)?;
            let seq = one_of(action, b.locator, "locator", b.name, "name")?;
            let (uuid, locator) = engine.lifecycle().create_session(&seq)?;
            Ok(json!({ "uuid": uuid.to_string(), "locator": locator }))
        }
        "topic_create" => {
            let b: TopicCreate = body(action, raw)?;
            let seed = b.sequence_key.is_some();
            let token = one_of(
                action,
                b.session_uuid,
                "session_uuid",
                b.sequence_key,
                "sequence_key",
            )?;
            let locator = one_of(action, b.locator, "locator", b.name, "name")?;
            let meta = metadata_or_empty(b.user_metadata)?;
            let uuid = engine.lifecycle().create_topic(NewTopic {
                session_token: parse_uuid(
                    &token,
                    if seed { "sequence_key" } else { "session_uuid" },
                )?,
                locator: &locator,
                ontology_tag: &b.ontology_tag,
                serialization_format: &b.serialization_format,
                user_metadata: &meta,
            })?;
            Ok(if seed {
                json!({ "key": uuid.to_string() })
            } else {
                json!({ "uuid": uuid.to_string() })
            })
        }
        "session_finalize" => {
            let b: SessionToken = body(action, raw)?;
            engine
                .lifecycle()
                .finalize_session(&parse_uuid(&b.session_uuid, "session_uuid")?)?;
            Ok(Value::Null)
        }
        "session_delete" => {
            let b: Locator = body(action, raw)?;
            engine
                .lifecycle()
                .delete_session(&one_of(action, b.locator, "locator", b.name, "name")?)?;
            Ok(Value::Null)
        }
        "sequence_finalize" | "sequence_abort" => {
            let b: SeedKey = body(action, raw)?;
            let key = parse_uuid(&b.key, "key")?;
            if action == "sequence_finalize" {
                engine.lifecycle().seed_finalize(&b.name, &key)?;
            } else {
                engine.lifecycle().seed_abort(&b.name, &key)?;
            }
            Ok(Value::Null)
        }
        "sequence_delete" => {
            let b: Locator = body(action, raw)?;
            engine
                .lifecycle()
                .delete_sequence(&one_of(action, b.locator, "locator", b.name, "name")?)?;
            Ok(Value::Null)
        }
        "topic_delete" => {
            let b: Locator = body(action, raw)?;
            engine
                .lifecycle()
                .delete_topic(&one_of(action, b.locator, "locator", b.name, "name")?)?;
            Ok(Value::Null)
        }
        "sequence_notification_create" | "topic_notification_create" => {
            let b: NotificationCreate = body(action, raw)?;
            let topic = action.starts_with("topic");
            engine.lifecycle().create_notification(
                &b.locator,
                topic,
                &b.notification_type,
                &b.msg,
            )?;
            Ok(Value::Null)
        }
        "sequence_notification_list" | "topic_notification_list" => {
            let b: Locator = body(action, raw)?;
            let loc = one_of(action, b.locator, "locator", b.name, "name")?;
            let list = engine
                .lifecycle()
                .list_notifications(&loc, action.starts_with("topic"))?;
            Ok(json!({ "notifications": list }))
        }
        "sequence_notification_purge" | "topic_notification_purge" => {
            let b: Locator = body(action, raw)?;
            let loc = one_of(action, b.locator, "locator", b.name, "name")?;
            engine
                .lifecycle()
                .purge_notifications(&loc, action.starts_with("topic"))?;
            Ok(Value::Null)
        }
        other => Err(Error::invalid(format!(
            "no available action for string `{}`.",
            other.escape_debug()
        ))),
    }
}

/// The `info` payload (protocol.md §3.1).
pub fn info(engine: &Engine) -> Value {
    let c = engine.config();
    let v = env!("CARGO_PKG_VERSION");
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    json!({
        "version": v,
        "semver": {
            "major": parts.next().unwrap_or(0),
            "minor": parts.next().unwrap_or(0),
            "patch": parts.next().unwrap_or(0),
            "pre": null,
        },
        "config": {
            "grpc_max_decode_message_size": c.max_decode_message_size,
            "grpc_max_encode_message_size": c.max_encode_message_size,
            "grpc_target_encode_message_size": c.target_encode_message_size,
        },
        "server": "tessera",
    })
}

/// Wrap a payload in the envelope.
pub fn envelope(action: &str, response: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "action": action, "response": response })).unwrap_or_default()
}
