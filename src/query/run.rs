//! The `query` action (protocol.md §3.12, Part B §4.4-§4.5): catalog filters, then per tag the
//! staged scan of each candidate topic of that tag, then the per-tag results combined by
//! intersecting sequences and joining topics.

use super::catalog::{candidates, Candidate};
use super::clusters::Gap;
use super::eval::compile;
use super::request::{parse, Query};
use super::scan::{scan_topic, ScanOptions, ScanStats};
use crate::descriptor::Window;
use crate::engine::Engine;
use crate::error::Result;
use crate::read::TopicData;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One topic in the answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Sequence name.
    pub sequence: String,
    /// Topic path inside it.
    pub topic: String,
    /// Ontology tag.
    pub ontology_tag: String,
    /// `[min, max]` timestamp of the matching rows (all rows without an ontology filter);
    /// `None` when the topic holds no rows.
    pub time_range: Option<(i64, i64)>,
}

/// The answer, plus what the scans read.
#[derive(Debug, Default)]
pub struct Answer {
    /// Matching topics, by sequence then topic path.
    pub hits: Vec<Hit>,
    /// Scan figures summed over all topics.
    pub stats: ScanStats,
}

/// Run a `query` body; `prune` turns the skip index on (always, except in measurements).
pub fn run_query(engine: &Engine, body: &Value, prune: bool) -> Result<Answer> {
    let q: Query = parse(body)?;
    let cands = candidates(engine, q.sequence.as_ref(), q.topic.as_ref())?;
    let mut answer = Answer::default();
    if q.ontology.is_empty() {
        for c in cands {
            let td = TopicData::open(engine, &c.locator())?;
            let (_, lo, hi) = td.window_summary(engine, Window::default())?;
            answer.hits.push(hit(&c, lo.zip(hi)));
        }
        return Ok(answer);
    }
    // Resolve every expression against every candidate schema first: schema-dependent
    // mistakes are refused before any data is read.
    let mut plans = Vec::new();
    for (tag, conds) in &q.ontology {
        let mut per_tag = Vec::new();
        for c in cands.iter().filter(|c| &c.record.ontology_tag == tag) {
            let td = TopicData::open(engine, &c.locator())?;
            let Some(schema) = td.schema.clone() else {
                continue;
            };
            if let Some(group) = compile(conds, &schema)? {
                per_tag.push((c, td, group));
            }
        }
        plans.push(per_tag);
    }
    let mut per_tag: Vec<BTreeMap<String, Vec<Hit>>> = Vec::new();
    for plan in plans {
        let mut found: BTreeMap<String, Vec<Hit>> = BTreeMap::new();
        for (c, td, group) in plan {
            let opts = ScanOptions {
                window: Window::default(),
                gap: Gap::unlimited(),
                prune,
            };
            let (clusters, stats) = scan_topic(engine, &td, &group, opts)?;
            answer.stats.add(&stats);
            if let (Some(&(lo, _)), Some(&(_, hi))) = (clusters.first(), clusters.last()) {
                found
                    .entry(c.sequence.clone())
                    .or_default()
                    .push(hit(c, Some((lo, hi))));
            }
        }
        per_tag.push(found);
    }
    let mut sequences: Option<BTreeSet<String>> = None;
    for found in &per_tag {
        let here: BTreeSet<String> = found.keys().cloned().collect();
        sequences = Some(match sequences {
            None => here,
            Some(s) => s.intersection(&here).cloned().collect(),
        });
    }
    let mut hits: BTreeSet<Hit> = BTreeSet::new();
    for seq in sequences.unwrap_or_default() {
        for found in &per_tag {
            hits.extend(found.get(&seq).into_iter().flatten().cloned());
        }
    }
    answer.hits = hits.into_iter().collect();
    Ok(answer)
}

fn hit(c: &Candidate, time_range: Option<(i64, i64)>) -> Hit {
    Hit {
        sequence: c.sequence.clone(),
        topic: c.topic.clone(),
        ontology_tag: c.record.ontology_tag.clone(),
        time_range,
    }
}

/// The `response` payload the SDK parses: `{"items": [{"sequence", "topics": [{"locator",
/// "ontology_tag", "timestamp_range"?}]}]}`, one item per sequence with at least one topic.
pub fn response(answer: &Answer) -> Value {
    let mut items: Vec<(String, Vec<Value>)> = Vec::new();
    for h in &answer.hits {
        let mut t = serde_json::Map::new();
        t.insert(
            "locator".into(),
            json!(format!("{}/{}", h.sequence, h.topic)),
        );
        t.insert("ontology_tag".into(), json!(h.ontology_tag));
        if let Some((lo, hi)) = h.time_range {
            t.insert("timestamp_range".into(), json!([lo, hi]));
        }
        let t = Value::Object(t);
        match items.last_mut() {
            Some((s, topics)) if *s == h.sequence => topics.push(t),
            _ => items.push((h.sequence.clone(), vec![t])),
        }
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|(s, topics)| json!({"sequence": s, "topics": topics}))
        .collect();
    json!({ "items": items })
}
