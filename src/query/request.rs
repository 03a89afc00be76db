//! The `query` request body (protocol.md §3.12, Part B §7), parsed and validated in full before
//! anything is evaluated: unknown keys and operators, bad operands, bad `$match` patterns and
//! malformed ontology keys are INVALID_ARGUMENT naming the offending key.

use super::field::FieldKey;
use super::meta::MetaCond;
use super::ops::{parse_condition, Op};
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// Filters on sequences.
#[derive(Debug, Default)]
pub struct SequenceFilter {
    /// `name`
    pub name: Option<Op>,
    /// `created_at_ns`
    pub created_at_ns: Option<Op>,
    /// `user_metadata`
    pub user_metadata: Vec<MetaCond>,
}

/// Filters on topics.
#[derive(Debug, Default)]
pub struct TopicFilter {
    /// `name`
    pub name: Option<Op>,
    /// `ontology_tag`
    pub ontology_tag: Option<Op>,
    /// `serialization_format`
    pub serialization_format: Option<Op>,
    /// `created_at_ns`
    pub created_at_ns: Option<Op>,
    /// `user_metadata`
    pub user_metadata: Vec<MetaCond>,
}

/// One ontology expression.
#[derive(Debug, Clone)]
pub struct FieldCond {
    /// The key as sent.
    pub key: String,
    /// Its parsed form.
    pub field: FieldKey,
    /// The operator.
    pub op: Op,
}

/// Ontology expressions grouped by tag, tags in first-appearance order.
pub type Groups = Vec<(String, Vec<FieldCond>)>;

/// A whole query.
#[derive(Debug, Default)]
pub struct Query {
    /// `sequence` filters.
    pub sequence: Option<SequenceFilter>,
    /// `topic` filters.
    pub topic: Option<TopicFilter>,
    /// `ontology` expressions grouped by tag, tags in first-appearance order.
    pub ontology: Groups,
    /// `ontology.include_timestamp_range` (accepted; ranges are always reported).
    pub include_timestamp_range: bool,
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Error::invalid(format!("`{what}` must be a JSON object.")))
}

fn metadata(v: &Value, what: &str) -> Result<Vec<MetaCond>> {
    object(v, what)?
        .iter()
        .map(|(k, c)| MetaCond::new(k, parse_condition(&format!("{what}.{k}"), c)?))
        .collect()
}

fn cond(slot: &mut Option<Op>, key: &str, v: &Value) -> Result<()> {
    *slot = Some(parse_condition(key, v)?);
    Ok(())
}

fn unknown(section: &str, key: &str, allowed: &str) -> Error {
    Error::invalid(format!(
        "unknown `{section}` filter key `{}`; expected one of {allowed}.",
        key.escape_debug()
    ))
}

fn sequence(v: &Value) -> Result<SequenceFilter> {
    let mut f = SequenceFilter::default();
    for (k, c) in object(v, "sequence")? {
        match k.as_str() {
            "name" => cond(&mut f.name, "sequence.name", c)?,
            "created_at_ns" => cond(&mut f.created_at_ns, "sequence.created_at_ns", c)?,
            "user_metadata" => f.user_metadata = metadata(c, "sequence.user_metadata")?,
            other => {
                return Err(unknown(
                    "sequence",
                    other,
                    "name, created_at_ns, user_metadata",
                ))
            }
        }
    }
    Ok(f)
}

fn topic(v: &Value) -> Result<TopicFilter> {
    let mut f = TopicFilter::default();
    for (k, c) in object(v, "topic")? {
        match k.as_str() {
            "name" => cond(&mut f.name, "topic.name", c)?,
            "ontology_tag" => cond(&mut f.ontology_tag, "topic.ontology_tag", c)?,
            "serialization_format" => {
                cond(&mut f.serialization_format, "topic.serialization_format", c)?
            }
            "created_at_ns" => cond(&mut f.created_at_ns, "topic.created_at_ns", c)?,
            "user_metadata" => f.user_metadata = metadata(c, "topic.user_metadata")?,
            other => {
                return Err(unknown(
                    "topic",
                    other,
                    "name, ontology_tag, serialization_format, created_at_ns, user_metadata",
                ))
            }
        }
    }
    Ok(f)
}

/// Parse an `ontology` object (also the clusterize/intersect `ontology`) into groups by tag.
pub fn ontology(v: &Value) -> Result<(Groups, bool)> {
    let mut groups: Groups = Vec::new();
    let mut include = false;
    for (k, c) in object(v, "ontology")? {
        if k == "include_timestamp_range" {
            include = c.as_bool().ok_or_else(|| {
                Error::invalid("`ontology.include_timestamp_range` must be a boolean.")
            })?;
            continue;
        }
        let field = FieldKey::parse(k)?;
        let op = parse_condition(k, c)?;
        let fc = FieldCond {
            key: k.clone(),
            field,
            op,
        };
        match groups.iter_mut().find(|(t, _)| *t == fc.field.tag) {
            Some((_, list)) => list.push(fc),
            None => groups.push((fc.field.tag.clone(), vec![fc])),
        }
    }
    Ok((groups, include))
}

/// Parse a whole `query` body.
pub fn parse(body: &Value) -> Result<Query> {
    let mut q = Query::default();
    for (k, v) in object(body, "query")? {
        match k.as_str() {
            "sequence" => q.sequence = Some(sequence(v)?),
            "topic" => q.topic = Some(topic(v)?),
            "ontology" => {
                let (groups, include) = ontology(v)?;
                q.ontology = groups;
                q.include_timestamp_range = include;
            }
            other => {
                return Err(Error::invalid(format!(
                    "unknown `query` key `{}`; expected sequence, topic or ontology.",
                    other.escape_debug()
                )))
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_sdk_example_parses() {
        let q = parse(&json!({
            "sequence": {"name": {"$match": "*test_drive*"},
                         "created_at_ns": {"$between": [1, 2]},
                         "user_metadata": {"environment.visibility": {"$lt": 50}}},
            "topic": {"ontology_tag": {"$eq": "imu"}, "name": {"$eq": "/front/imu"},
                      "created_at_ns": {"$geq": 1}, "serialization_format": {"$eq": "default"},
                      "user_metadata": {"interface.type": {"$eq": "UART"}}},
            "ontology": {"IMU.acceleration.x": {"$gt": 5.0}, "GPS.status.service": {"$geq": 1},
                         "IMU.timestamp_ns": {"$between": [1, 10]}}
        }))
        .unwrap();
        assert_eq!(q.sequence.unwrap().user_metadata.len(), 1);
        assert!(q.topic.unwrap().serialization_format.is_some());
        let tags: Vec<_> = q
            .ontology
            .iter()
            .map(|(t, c)| (t.as_str(), c.len()))
            .collect();
        assert_eq!(tags, [("IMU", 2), ("GPS", 1)]);
    }

    #[test]
    fn unknown_keys_and_bad_parts_are_named() {
        let e = |v: Value| parse(&v).unwrap_err().message;
        assert!(e(json!({"sequences": {}})).contains("`sequences`"));
        assert!(e(json!({"sequence": {"tag": {"$eq": 1}}})).contains("`tag`"));
        assert!(e(json!({"topic": {"name": {"$like": "x"}}})).contains("`$like` on `topic.name`"));
        assert!(e(json!({"ontology": {"IMU": {"$eq": 1}}})).contains("ontology key `IMU`"));
        assert!(e(json!({"topic": {"user_metadata": {"a": {"$match": "[a"}}}})).contains("regex"));
        assert!(e(json!({"ontology": {"include_timestamp_range": 1}})).contains("boolean"));
        assert!(e(json!([])).contains("JSON object"));
    }
}
