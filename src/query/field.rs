//! Ontology keys `<tag>.<seg>(.<seg>)*` (protocol.md Part B §4.1): the tag is everything before
//! the first `.`; at most one segment carries a list specifier `[?]` (some element), `[!]`
//! (every element) or `[N]` (element N); the segments after it navigate inside each element.

use crate::error::{Error, Result};

/// A list specifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// `[?]`: some element satisfies the operator.
    Any,
    /// `[!]`: every element does.
    All,
    /// `[N]`: element `N` (0-based).
    Index(usize),
}

/// A parsed ontology key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldKey {
    /// The ontology tag.
    pub tag: String,
    /// Struct field names from the top level down to the list column (or to the leaf when
    /// there is no specifier).
    pub head: Vec<String>,
    /// The list specifier on the last `head` segment, if any.
    pub spec: Option<Spec>,
    /// Field names inside each list element.
    pub tail: Vec<String>,
}

impl FieldKey {
    /// Parse `key`; malformed keys are INVALID_ARGUMENT naming the key.
    pub fn parse(key: &str) -> Result<FieldKey> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "ontology key `{}` is malformed: {why}; expected `<tag>.<field>[.<field>…]` with at \
                 most one `[?]`, `[!]` or `[N]`.",
                key.escape_debug()
            ))
        };
        let mut parts = key.split('.');
        let tag = parts.next().unwrap_or_default();
        if tag.is_empty() {
            return Err(bad("the ontology tag is empty"));
        }
        let (mut head, mut spec, mut tail) = (Vec::new(), None, Vec::new());
        for part in parts {
            let (name, s) = match part.find('[') {
                None => (part, None),
                Some(i) => {
                    let (name, rest) = part.split_at(i);
                    let inner = rest
                        .strip_prefix('[')
                        .and_then(|r| r.strip_suffix(']'))
                        .ok_or_else(|| bad("a list specifier must close the segment"))?;
                    let s = match inner {
                        "?" => Spec::Any,
                        "!" => Spec::All,
                        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                            Spec::Index(n.parse().map_err(|_| bad("list index out of range"))?)
                        }
                        _ => return Err(bad("unknown list specifier")),
                    };
                    (name, Some(s))
                }
            };
            if name.is_empty() || name.contains(']') {
                return Err(bad("a field name is empty"));
            }
            match (spec.is_some(), s) {
                (true, Some(_)) => return Err(bad("more than one list specifier")),
                (true, None) => tail.push(name.to_string()),
                (false, s) => {
                    head.push(name.to_string());
                    spec = s;
                }
            }
        }
        if head.is_empty() {
            return Err(bad("no field after the tag"));
        }
        Ok(FieldKey {
            tag: tag.to_string(),
            head,
            spec,
            tail,
        })
    }

    /// Whether this is the top-level `timestamp_ns` index column.
    pub fn is_timestamp(&self) -> bool {
        self.spec.is_none()
            && self.head.len() == 1
            && self.head.first().map(String::as_str) == Some("timestamp_ns")
    }

    /// The skip-index column path (`a.b.c`) of a plain field without a list specifier.
    pub fn stats_path(&self) -> Option<String> {
        self.spec.is_none().then(|| self.head.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_tag_head_spec_tail() {
        let k = FieldKey::parse("RobotPath.poses[!].position.z").unwrap();
        assert_eq!(k.tag, "RobotPath");
        assert_eq!(k.head, ["poses"]);
        assert_eq!(k.spec, Some(Spec::All));
        assert_eq!(k.tail, ["position", "z"]);
        let k = FieldKey::parse("IMU.acceleration.x").unwrap();
        assert_eq!(
            (k.head.len(), k.spec, k.stats_path()),
            (2, None, Some("acceleration.x".into()))
        );
        assert_eq!(
            FieldKey::parse("J.names[0]").unwrap().spec,
            Some(Spec::Index(0))
        );
        assert_eq!(FieldKey::parse("J.q[?]").unwrap().spec, Some(Spec::Any));
        assert!(FieldKey::parse("IMU.timestamp_ns").unwrap().is_timestamp());
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "IMU",
            ".x",
            "IMU.",
            "IMU..x",
            "A.b[?].c[!]",
            "A.b[x]",
            "A.b[",
            "A.b[?]x",
            "A.[?]",
            "A.b[-1]",
        ] {
            let e = FieldKey::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(e.message.contains("ontology key"), "{bad}");
        }
    }
}
