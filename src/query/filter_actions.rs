//! `topic_filter_clusterize` and `topic_filter_intersect` (protocol.md §3.13-§3.14, Part B
//! §5-§6): time windows where a topic's expressions hold, and where several topics' windows
//! overlap. Each window becomes one paged Result `{"id", "ts": {"start_ns", "end_ns"}}`.

use super::clusters::Gap;
use super::eval::compile;
use super::request::{ontology, FieldCond};
use super::scan::{scan_topic, ScanOptions};
use crate::descriptor::Window;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::names;
use crate::read::TopicData;
use serde_json::{json, Value};

/// One clusterize request, validated.
struct Params {
    td: TopicData,
    dt: u64,
    group: Vec<FieldCond>,
    window: Window,
}

fn u64_field(obj: &serde_json::Map<String, Value>, key: &str) -> Result<u64> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Error::invalid(format!("`{key}` must be a non-negative integer."))),
    }
}

fn window(v: Option<&Value>) -> Result<Window> {
    let Some(obj) = v.filter(|v| !v.is_null()) else {
        return Ok(Window::default());
    };
    let obj = obj.as_object().ok_or_else(|| {
        Error::invalid("`timestamp_range` must be {\"start_ns\": int, \"end_ns\": int} or null.")
    })?;
    let bound = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("`timestamp_range.{k}` must be an integer."))),
    };
    let (start, end) = (bound("start_ns")?, bound("end_ns")?);
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(Error::invalid(format!(
                "`timestamp_range` start_ns ({s}) is after end_ns ({e})."
            )));
        }
    }
    Ok(Window { start, end })
}

fn params(engine: &Engine, v: &Value) -> Result<Params> {
    let obj = v
        .as_object()
        .ok_or_else(|| Error::invalid("a topic filter must be a JSON object."))?;
    let locator = obj
        .get("locator")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("a topic filter needs a string `locator`."))?;
    let dt = u64_field(obj, "clustering_dt_ns")?;
    let win = window(obj.get("timestamp_range"))?;
    let (groups, _) = ontology(obj.get("ontology").unwrap_or(&Value::Null))?;
    let td = TopicData::open(engine, locator)?;
    let count: usize = groups.iter().map(|(_, g)| g.len()).sum();
    if count == 0 {
        return Err(Error::invalid(
            "Bad request: At least 1 filtering condition is required, found 0.",
        ));
    }
    let mut group = Vec::new();
    for (tag, conds) in groups {
        if tag != td.record.ontology_tag {
            return Err(Error::invalid(format!(
                "wrong ontology tag {tag}, topic `{}` uses {}.",
                td.locator.locator(),
                td.record.ontology_tag
            )));
        }
        group.extend(conds);
    }
    Ok(Params {
        td,
        dt,
        group,
        window: win,
    })
}

fn clusters_of(engine: &Engine, p: &Params) -> Result<Vec<(i64, i64)>> {
    let Some(schema) = p.td.schema.clone() else {
        return Ok(Vec::new());
    };
    let Some(group) = compile(&p.group, &schema)? else {
        return Ok(Vec::new());
    };
    let opts = ScanOptions {
        window: p.window,
        gap: Gap::from_dt(p.dt),
        prune: true,
    };
    Ok(scan_topic(engine, &p.td, &group, opts)?.0)
}

fn pages(windows: &[(i64, i64)]) -> Vec<Value> {
    windows
        .iter()
        .enumerate()
        .map(|(id, (s, e))| json!({"id": id, "ts": {"start_ns": s, "end_ns": e}}))
        .collect()
}

/// `topic_filter_clusterize`: one page per cluster.
pub fn clusterize(engine: &Engine, body: &Value) -> Result<Vec<Value>> {
    let p = params(engine, body)?;
    Ok(pages(&clusters_of(engine, &p)?))
}

/// `topic_filter_intersect`: one page per window where every topic has a cluster (with
/// tolerance `intersect_dt_ns`). A topic without clusters gives no window at all.
pub fn intersect(engine: &Engine, body: &Value) -> Result<Vec<Value>> {
    let obj = body
        .as_object()
        .ok_or_else(|| Error::invalid("`topic_filter_intersect` body must be a JSON object."))?;
    let d = u64_field(obj, "intersect_dt_ns")?;
    let topics = obj
        .get("topics")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("`topics` must be a list of topic filters."))?;
    if topics.len() < 2 {
        return Err(Error::invalid(
            "Bad request: at least 2 topics are required.",
        ));
    }
    let mut sequence: Option<String> = None;
    for t in topics {
        let loc = t.get("locator").and_then(Value::as_str).ok_or_else(|| {
            Error::invalid("invalid topic locator: a topic filter needs a string `locator`.")
        })?;
        let loc = names::topic_locator(loc)
            .map_err(|e| Error::invalid(format!("invalid topic locator: {}", e.message)))?;
        match &sequence {
            None => sequence = Some(loc.sequence),
            Some(s) if *s == loc.sequence => {}
            Some(s) => {
                return Err(Error::invalid(format!(
                    "all topics must belong to sequence `{s}`; `{}` does not.",
                    loc.locator()
                )))
            }
        }
    }
    let params: Vec<Params> = topics
        .iter()
        .map(|t| params(engine, t))
        .collect::<Result<_>>()?;
    let mut streams = Vec::new();
    for p in &params {
        let c = clusters_of(engine, p)?;
        if c.is_empty() {
            return Ok(Vec::new());
        }
        streams.push(c);
    }
    Ok(pages(&intersect_streams(&streams, d)))
}

/// Upstream's k-way walk (Part B §6): emit the overlap of the current clusters (or, within
/// tolerance `d`, the span between them widened by `d`), then advance the stream holding the
/// smallest end; stop when that stream is exhausted.
pub fn intersect_streams(streams: &[Vec<(i64, i64)>], d: u64) -> Vec<(i64, i64)> {
    let mut pos = vec![0usize; streams.len()];
    let mut out = Vec::new();
    let d = i128::from(d);
    loop {
        let current: Option<Vec<(i64, i64)>> = streams
            .iter()
            .zip(&pos)
            .map(|(s, &p)| s.get(p).copied())
            .collect();
        let Some(current) = current else { break };
        let (Some(max_start), Some((idx, min_end))) = (
            current.iter().map(|c| c.0).max(),
            current
                .iter()
                .enumerate()
                .map(|(i, c)| (i, c.1))
                .min_by_key(|&(i, e)| (e, i)),
        ) else {
            break;
        };
        if i128::from(max_start) <= i128::from(min_end) + d {
            if max_start <= min_end {
                out.push((max_start, min_end));
            } else {
                let lo = d / 2;
                let hi = d - lo;
                let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
                let start = i128::from(max_start) - lo;
                let start = clamp(if max_start >= 0 { start.max(0) } else { start });
                out.push((start, clamp(i128::from(min_end) + hi)));
            }
        }
        match pos.get_mut(idx) {
            Some(p) => *p += 1,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_window_matches_upstream_example() {
        assert_eq!(
            intersect_streams(&[vec![(100, 140)], vec![(155, 200)]], 20),
            [(145, 150)]
        );
        assert!(intersect_streams(&[vec![(100, 140)], vec![(155, 200)]], 0).is_empty());
    }

    #[test]
    fn overlaps_are_walked_in_order() {
        let a = vec![(0, 10), (20, 30), (40, 50)];
        let b = vec![(5, 25), (45, 60)];
        assert_eq!(intersect_streams(&[a, b], 0), [(5, 10), (20, 25), (45, 50)]);
        let c = vec![(0, 100)];
        assert_eq!(intersect_streams(&[c.clone(), c], 0), [(0, 100)]);
    }
}
