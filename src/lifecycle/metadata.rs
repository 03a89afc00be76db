//! User metadata rules (protocol.md §3.2 and Part B §3): a JSON object, stored verbatim, whose
//! keys at every depth are non-empty, free of `--`, and made only of ASCII letters, digits,
//! space, `_` and `-`.

use crate::error::{Error, Result};
use serde_json::value::RawValue;
use serde_json::Value;

/// Deepest nesting accepted in user metadata.
pub const MAX_DEPTH: usize = 64;

/// Check `raw` and return it unchanged (verbatim storage).
pub fn validate_user_metadata(raw: &RawValue) -> Result<()> {
    let value: Value = serde_json::from_str(raw.get())
        .map_err(|e| Error::invalid(format!("user_metadata is not valid JSON: {e}.")))?;
    if !value.is_object() {
        return Err(Error::invalid("user_metadata must be a JSON object."));
    }
    check(&value, 0)
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && !k.contains("--")
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'_' || b == b'-')
}

fn check(v: &Value, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::invalid(format!(
            "user_metadata nests deeper than {MAX_DEPTH} levels."
        )));
    }
    match v {
        Value::Object(map) => {
            if let Some(bad) = map.keys().find(|k| !valid_key(k)) {
                return Err(Error::invalid(format!(
                    "Bad request: invalid json key: {bad}."
                )));
            }
            map.values().try_for_each(|c| check(c, depth + 1))
        }
        Value::Array(items) => items.iter().try_for_each(|c| check(c, depth + 1)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn keys_are_checked_at_every_depth() {
        assert!(
            validate_user_metadata(&raw(r#"{"ok-key1": {"valid key 123": [{"_ros_": 1}]}}"#))
                .is_ok()
        );
        for bad in ["invalid--key", "(k)", "a.b", "a/b", "é", "", "a*"] {
            let doc = format!(r#"{{"good": [{{"{bad}": 1}}]}}"#);
            let e = validate_user_metadata(&raw(&doc)).unwrap_err();
            assert_eq!(e.message, format!("Bad request: invalid json key: {bad}."));
        }
        assert!(validate_user_metadata(&raw("[1]")).is_err());
        assert!(validate_user_metadata(&raw("null")).is_err());
    }

    #[test]
    fn parent_keys_are_reported_before_children() {
        let e = validate_user_metadata(&raw(r#"{"x": {"c.d": 1}, "a.b": 2}"#)).unwrap_err();
        assert_eq!(e.message, "Bad request: invalid json key: a.b.");
    }
}
