//! `user_metadata` filters (protocol.md Part B §2): dotted key paths with `*` (one level) and
//! `**` (zero or more levels), evaluated existentially over the selected nodes.
//!
//! * A condition holds when at least one selected value satisfies the operator; a JSON object
//!   never does, an array is compared element by element (one level).
//! * A missing key and a JSON `null` satisfy nothing but `$nex`: `$ex` holds when the path
//!   selects at least one non-null node, `$nex` when it selects none.

use super::ops::Op;
use super::value::{satisfies, Scalar};
use crate::error::{Error, Result};
use serde_json::Value;

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    One,
    Any,
}

/// A parsed `user_metadata` key with its condition.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaCond {
    key: String,
    segs: Vec<Seg>,
    op: Op,
}

impl MetaCond {
    /// Parse `key` (a dotted path) with its already-parsed condition.
    pub fn new(key: &str, op: Op) -> Result<MetaCond> {
        let segs = key
            .split('.')
            .map(|s| match s {
                "" => Err(Error::invalid(format!(
                    "user_metadata key `{}` has an empty segment.",
                    key.escape_debug()
                ))),
                "*" => Ok(Seg::One),
                "**" => Ok(Seg::Any),
                k => Ok(Seg::Key(k.to_string())),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(MetaCond {
            key: key.to_string(),
            segs,
            op,
        })
    }

    /// Whether the metadata document satisfies this condition.
    pub fn holds(&self, doc: &Value) -> bool {
        let mut nodes = Vec::new();
        select(doc, &self.segs, &mut nodes);
        nodes.retain(|n| !n.is_null());
        match &self.op {
            Op::Ex => !nodes.is_empty(),
            Op::Nex => nodes.is_empty(),
            op => nodes.iter().any(|n| node_satisfies(n, op)),
        }
    }
}

const MAX_SELECTED: usize = 1 << 16;

fn select<'a>(node: &'a Value, segs: &[Seg], out: &mut Vec<&'a Value>) {
    if out.len() >= MAX_SELECTED {
        return;
    }
    let Some((first, rest)) = segs.split_first() else {
        out.push(node);
        return;
    };
    let children = || node.as_object().into_iter().flat_map(|m| m.values());
    match first {
        Seg::Key(k) => {
            if let Some(c) = node.as_object().and_then(|m| m.get(k)) {
                select(c, rest, out);
            }
        }
        Seg::One => children().for_each(|c| select(c, rest, out)),
        Seg::Any => {
            select(node, rest, out);
            children().for_each(|c| select(c, segs, out));
        }
    }
}

fn scalar(v: &Value) -> Option<Scalar<'_>> {
    match v {
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::String(s) => Some(Scalar::Str(s)),
        Value::Number(n) => Some(if let Some(i) = n.as_i64() {
            Scalar::Int(i)
        } else if let Some(u) = n.as_u64() {
            Scalar::UInt(u)
        } else {
            Scalar::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        _ => None,
    }
}

fn node_satisfies(v: &Value, op: &Op) -> bool {
    match v {
        Value::Array(items) => items
            .iter()
            .any(|i| scalar(i).is_some_and(|s| satisfies(s, op))),
        other => scalar(other).is_some_and(|s| satisfies(s, op)),
    }
}

/// Whether every condition holds on `doc` (AND).
pub fn all_hold(conds: &[MetaCond], doc: &Value) -> bool {
    conds.iter().all(|c| c.holds(doc))
}

impl MetaCond {
    /// The key as the client wrote it.
    pub fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ops::parse_condition;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "interface": {"type": "UART", "baudrate": 115200, "protocol": "NMEA",
                          "address": {"ip": "10.0.0.1"}},
            "temperature_range_kelvin": {"min": 250, "max": 330},
            "calibration_version": null,
            "tags": ["a", "b"],
        })
    }

    fn holds(key: &str, cond: Value) -> bool {
        MetaCond::new(key, parse_condition(key, &cond).unwrap())
            .unwrap()
            .holds(&doc())
    }

    #[test]
    fn key_globs_select_by_level() {
        assert!(holds("*.type", json!({"$eq": "UART"})));
        assert!(holds("interface.*", json!({"$match": "UART*"})));
        assert!(holds("*.*.ip", json!({"$eq": "10.0.0.1"})));
        assert!(!holds("*.ip", json!({"$ex": null})));
        assert!(holds("**.ip", json!({"$ex": null})));
        assert!(holds("interface.**.baudrate", json!({"$gt": 9600})));
        assert!(holds("temperature_range_kelvin.**", json!({"$geq": 300})));
        assert!(!holds("temperature_range_kelvin", json!({"$geq": 0})));
        assert!(holds("tags", json!({"$eq": "b"})));
    }

    #[test]
    fn missing_and_null_satisfy_only_nex() {
        assert!(!holds("calibration_version", json!({"$neq": "x"})));
        assert!(!holds("calibration_version", json!({"$ex": null})));
        assert!(holds("calibration_version", json!({"$nex": null})));
        assert!(!holds("accuracy_m", json!({"$neq": 1})));
        assert!(holds("accuracy_m", json!({"$nex": null})));
        assert!(!holds("interface.type", json!({"$nex": null})));
        assert!(!holds("interface.baudrate", json!({"$eq": "115200"})));
        assert!(MetaCond::new("a..b", Op::Ex).is_err());
    }
}
