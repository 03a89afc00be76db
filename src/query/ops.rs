//! Condition objects `{"$op": value}` (protocol.md §3.12, Part B §7): exactly one operator per
//! object, values checked here so evaluation never meets a malformed operand.

use super::glob::Glob;
use crate::error::{Error, Result};
use serde_json::Value;

/// A literal operand as the client sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A JSON integer that fits `i64`.
    Int(i64),
    /// A JSON integer above `i64::MAX`.
    UInt(u64),
    /// Any other JSON number.
    Float(f64),
    /// A JSON string.
    Str(String),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON array of scalars (whole-list equality on list columns only).
    List(Vec<Lit>),
}

/// One operator with its operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `$eq`
    Eq(Lit),
    /// `$neq`
    Neq(Lit),
    /// `$lt`
    Lt(Lit),
    /// `$leq`
    Leq(Lit),
    /// `$gt`
    Gt(Lit),
    /// `$geq`
    Geq(Lit),
    /// `$in` (non-empty)
    In(Vec<Lit>),
    /// `$between [lo, hi]`, inclusive
    Between(Lit, Lit),
    /// `$outside [lo, hi]`: `v < lo || v > hi`
    Outside(Lit, Lit),
    /// `$match` glob
    Match(Glob),
    /// `$ex`: the key exists
    Ex,
    /// `$nex`: the key does not exist
    Nex,
}

impl Op {
    /// The wire name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Eq(_) => "$eq",
            Op::Neq(_) => "$neq",
            Op::Lt(_) => "$lt",
            Op::Leq(_) => "$leq",
            Op::Gt(_) => "$gt",
            Op::Geq(_) => "$geq",
            Op::In(_) => "$in",
            Op::Between(..) => "$between",
            Op::Outside(..) => "$outside",
            Op::Match(_) => "$match",
            Op::Ex => "$ex",
            Op::Nex => "$nex",
        }
    }
}

/// Every operator name, for messages.
pub const OPERATORS: &str =
    "$eq, $neq, $lt, $leq, $gt, $geq, $in, $between, $outside, $match, $ex, $nex";

fn scalar(v: &Value, what: &str) -> Result<Lit> {
    match v {
        Value::Bool(b) => Ok(Lit::Bool(*b)),
        Value::String(s) => Ok(Lit::Str(s.clone())),
        Value::Number(n) => Ok(if let Some(i) = n.as_i64() {
            Lit::Int(i)
        } else if let Some(u) = n.as_u64() {
            Lit::UInt(u)
        } else {
            Lit::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        other => Err(Error::invalid(format!(
            "{what} must be a number, a string or a boolean, not `{other}`."
        ))),
    }
}

fn scalar_or_list(v: &Value, what: &str) -> Result<Lit> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| scalar(i, what))
            .collect::<Result<Vec<_>>>()
            .map(Lit::List),
        other => scalar(other, what),
    }
}

fn pair(v: &Value, what: &str) -> Result<(Lit, Lit)> {
    match v.as_array().map(Vec::as_slice) {
        Some([lo, hi]) => Ok((scalar(lo, what)?, scalar(hi, what)?)),
        _ => Err(Error::invalid(format!(
            "{what} must be a two-element list [lo, hi]."
        ))),
    }
}

/// Parse the condition object of `key` (named in messages).
pub fn parse_condition(key: &str, cond: &Value) -> Result<Op> {
    let Some(obj) = cond.as_object() else {
        return Err(Error::invalid(format!(
            "the condition on `{key}` must be an object {{\"$op\": value}}."
        )));
    };
    let mut it = obj.iter();
    let (Some((op, v)), None) = (it.next(), it.next()) else {
        return Err(Error::invalid(format!(
            "the condition on `{key}` must hold exactly one operator; it holds {}.",
            obj.len()
        )));
    };
    let what = format!("the `{op}` value of `{key}`");
    Ok(match op.as_str() {
        "$eq" => Op::Eq(scalar_or_list(v, &what)?),
        "$neq" => Op::Neq(scalar_or_list(v, &what)?),
        "$lt" => Op::Lt(scalar(v, &what)?),
        "$leq" => Op::Leq(scalar(v, &what)?),
        "$gt" => Op::Gt(scalar(v, &what)?),
        "$geq" => Op::Geq(scalar(v, &what)?),
        "$in" => {
            let items = v
                .as_array()
                .ok_or_else(|| Error::invalid(format!("{what} must be a list.")))?;
            if items.is_empty() {
                return Err(Error::invalid(format!("{what} must not be empty.")));
            }
            Op::In(
                items
                    .iter()
                    .map(|i| scalar(i, &what))
                    .collect::<Result<_>>()?,
            )
        }
        "$between" => {
            let (lo, hi) = pair(v, &what)?;
            Op::Between(lo, hi)
        }
        "$outside" => {
            let (lo, hi) = pair(v, &what)?;
            Op::Outside(lo, hi)
        }
        "$match" => match v {
            Value::String(p) => Op::Match(Glob::new(p)?),
            _ => return Err(Error::invalid(format!("{what} must be a string pattern."))),
        },
        "$ex" => Op::Ex,
        "$nex" => Op::Nex,
        other => {
            return Err(Error::invalid(format!(
                "unknown operator `{}` on `{key}`; expected one of {OPERATORS}.",
                other.escape_debug()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators_parse_with_their_operands() {
        let p = |v: Value| parse_condition("k", &v);
        assert_eq!(p(json!({"$eq": 1})).unwrap(), Op::Eq(Lit::Int(1)));
        assert_eq!(
            p(json!({"$neq": u64::MAX})).unwrap(),
            Op::Neq(Lit::UInt(u64::MAX))
        );
        assert_eq!(p(json!({"$lt": 1.5})).unwrap(), Op::Lt(Lit::Float(1.5)));
        assert_eq!(
            p(json!({"$in": ["a", true]})).unwrap(),
            Op::In(vec![Lit::Str("a".into()), Lit::Bool(true)])
        );
        assert_eq!(
            p(json!({"$between": [1, 2]})).unwrap(),
            Op::Between(Lit::Int(1), Lit::Int(2))
        );
        assert_eq!(
            p(json!({"$eq": [1, 2]})).unwrap(),
            Op::Eq(Lit::List(vec![Lit::Int(1), Lit::Int(2)]))
        );
        assert_eq!(p(json!({"$ex": null})).unwrap(), Op::Ex);
        assert_eq!(p(json!({"$nex": null})).unwrap(), Op::Nex);
        assert!(matches!(p(json!({"$match": "a*"})).unwrap(), Op::Match(_)));
    }

    #[test]
    fn malformed_conditions_name_the_key_and_operator() {
        let p = |v: Value| parse_condition("IMU.x", &v).unwrap_err().message;
        assert!(p(json!({"$like": 1})).contains("unknown operator `$like` on `IMU.x`"));
        assert!(p(json!({"$eq": 1, "$lt": 2})).contains("exactly one operator"));
        assert!(p(json!({})).contains("exactly one operator"));
        assert!(p(json!(3)).contains("must be an object"));
        assert!(p(json!({"$in": []})).contains("must not be empty"));
        assert!(p(json!({"$between": [1]})).contains("two-element"));
        assert!(p(json!({"$outside": [1, 2, 3]})).contains("two-element"));
        assert!(p(json!({"$lt": [1]})).contains("`$lt` value of `IMU.x`"));
        assert!(p(json!({"$eq": null})).contains("must be a number"));
        assert!(p(json!({"$match": ""})).contains("cannot be empty"));
        assert!(p(json!({"$match": 3})).contains("string pattern"));
    }
}
