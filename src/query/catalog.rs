//! Stage 1: catalog filters. Sequences and topics are filtered on their catalog records alone
//! (names, creation time, ontology tag, serialization format, user metadata); no data is read.
//!
//! Names (protocol.md Part B §1.3): sequence names compare as stored, `$eq`/`$neq`/`$in` values
//! stripped of `/`. Topic names compare as the user-facing path `"/" + stored path`; values are
//! normalised to exactly one leading `/`, and a `$match` pattern that starts with a literal
//! other than `/` is also tried without the leading `/` (it could never match otherwise).

use super::meta::{all_hold, MetaCond};
use super::ops::{Lit, Op};
use super::request::{SequenceFilter, TopicFilter};
use super::value::{satisfies, Scalar};
use crate::catalog::records::TopicRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use serde_json::Value;

/// A topic that passed the catalog filters.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Sequence name.
    pub sequence: String,
    /// Topic path inside the sequence (no leading `/`).
    pub topic: String,
    /// Its catalog record.
    pub record: TopicRecord,
}

impl Candidate {
    /// `seq/topic`.
    pub fn locator(&self) -> String {
        format!("{}/{}", self.sequence, self.topic)
    }
}

fn map_strings(op: &Op, f: impl Fn(&str) -> String) -> Op {
    let m = |l: &Lit| match l {
        Lit::Str(s) => Lit::Str(f(s)),
        other => other.clone(),
    };
    match op {
        Op::Eq(l) => Op::Eq(m(l)),
        Op::Neq(l) => Op::Neq(m(l)),
        Op::In(ls) => Op::In(ls.iter().map(m).collect()),
        other => other.clone(),
    }
}

fn sequence_name_holds(op: &Op, name: &str) -> bool {
    satisfies(
        Scalar::Str(name),
        &map_strings(op, |s| s.trim_matches('/').to_string()),
    )
}

fn topic_name_holds(op: &Op, path: &str) -> bool {
    let shown = format!("/{path}");
    match op {
        Op::Match(g) => {
            g.is_match(&shown) || (g.starts_with_literal_other_than_slash() && g.is_match(path))
        }
        op => satisfies(
            Scalar::Str(&shown),
            &map_strings(op, |s| format!("/{}", s.trim_start_matches('/'))),
        ),
    }
}

fn opt(op: &Option<Op>, f: impl FnOnce(&Op) -> bool) -> bool {
    op.as_ref().is_none_or(f)
}

fn metadata_holds(
    conds: &[MetaCond],
    raw: &serde_json::value::RawValue,
    what: &str,
) -> Result<bool> {
    if conds.is_empty() {
        return Ok(true);
    }
    let doc: Value = serde_json::from_str(raw.get()).map_err(|e| {
        Error::data_loss(format!(
            "stored user_metadata of {what} is unreadable: {e}."
        ))
    })?;
    Ok(all_hold(conds, &doc))
}

/// Every topic whose sequence passes `seq` and which passes `topic`, in sequence then path
/// order.
pub fn candidates(
    engine: &Engine,
    seq: Option<&SequenceFilter>,
    topic: Option<&TopicFilter>,
) -> Result<Vec<Candidate>> {
    let cat = engine.catalog();
    let mut out = Vec::new();
    for (name, rec) in cat.sequences()? {
        if let Some(f) = seq {
            let ok = opt(&f.name, |op| sequence_name_holds(op, &name))
                && opt(&f.created_at_ns, |op| {
                    satisfies(Scalar::Int(rec.created_at_ns), op)
                })
                && metadata_holds(
                    &f.user_metadata,
                    &rec.user_metadata,
                    &format!("sequence `{name}`"),
                )?;
            if !ok {
                continue;
            }
        }
        for (path, t) in cat.topics_of(&name)? {
            if let Some(f) = topic {
                let ok = opt(&f.name, |op| topic_name_holds(op, &path))
                    && opt(&f.ontology_tag, |op| {
                        satisfies(Scalar::Str(&t.ontology_tag), op)
                    })
                    && opt(&f.serialization_format, |op| {
                        satisfies(Scalar::Str(t.serialization_format.as_str()), op)
                    })
                    && opt(&f.created_at_ns, |op| {
                        satisfies(Scalar::Int(t.created_at_ns), op)
                    })
                    && metadata_holds(
                        &f.user_metadata,
                        &t.user_metadata,
                        &format!("topic `{name}/{path}`"),
                    )?;
                if !ok {
                    continue;
                }
            }
            out.push(Candidate {
                sequence: name.clone(),
                topic: path,
                record: t,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::glob::Glob;

    #[test]
    fn topic_names_compare_with_one_leading_slash() {
        let eq = |v: &str| Op::Eq(Lit::Str(v.into()));
        assert!(topic_name_holds(&eq("/front/imu"), "front/imu"));
        assert!(topic_name_holds(&eq("front/imu"), "front/imu"));
        assert!(topic_name_holds(&eq("//front/imu"), "front/imu"));
        assert!(!topic_name_holds(&eq("/front"), "front/imu"));
        assert!(topic_name_holds(
            &Op::In(vec![Lit::Str("/x".into()), Lit::Str("/front/imu".into())]),
            "front/imu"
        ));
        let m = |p: &str, path: &str| topic_name_holds(&Op::Match(Glob::new(p).unwrap()), path);
        assert!(m("?camera/left*", "camera/left/imu"));
        assert!(m("/front*", "front/imu"));
        assert!(m("*imu", "front/imu"));
        assert!(m("car1/imu/front", "car1/imu/front"));
        assert!(!m("imu", "front/imu"));
        assert!(!topic_name_holds(
            &Op::Neq(Lit::Str("front/imu".into())),
            "front/imu"
        ));
    }

    #[test]
    fn sequence_names_strip_slashes_from_values_only() {
        assert!(sequence_name_holds(
            &Op::Eq(Lit::Str("/run/".into())),
            "run"
        ));
        assert!(!sequence_name_holds(
            &Op::Match(Glob::new("run-*").unwrap()),
            "run"
        ));
        assert!(sequence_name_holds(
            &Op::Match(Glob::new("r?n").unwrap()),
            "run"
        ));
    }
}
