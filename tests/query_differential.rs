//! Randomized differential test of content queries: the server's staged evaluation (catalog
//! filter → skip-index pruning → exact evaluation of surviving chunks → clusters) against a
//! naive full scan over the generated rows, written independently here from protocol.md
//! Part B §4. Every operator, NULLs at every level, NaN of both signs, -0.0, nested struct
//! fields, list specifiers `[?]`, `[!]`, `[N]` with and without sub-paths, whole-list equality;
//! multi-chunk topics (4 KiB chunks) with out-of-order batches, so chunks overlap in time.
//!
//! Each case checks the `query` answer (topics and their `timestamp_range`) and, for one topic,
//! `topic_filter_clusterize` with a random `clustering_dt_ns` and `timestamp_range`.
//! Afterwards every case runs again in process with the skip index on and off: same answers,
//! and some chunks skipped.
//! Reproduce a failure with the printed seed: `QUERY_DIFF_SEED=<seed> cargo test --test
//! query_differential`.
mod common;

use common::diffdata::{batch, rows, Rng, Row, ELEMS, WORDS};
use common::*;
use serde_json::{json, Value};
use std::cmp::Ordering;
use tessera::Config;

const TOPICS: &[(&str, &str)] = &[
    ("diff_a", "sensors/one"),
    ("diff_a", "sensors/two"),
    ("diff_b", "three"),
];

#[derive(Debug, Clone)]
enum L {
    N(f64),
    S(String),
    B(bool),
}

impl L {
    fn json(&self) -> Value {
        match self {
            L::N(f)
                if f.fract() == 0.0 && f.abs() < 1e15 && !(*f == 0.0 && f.is_sign_negative()) =>
            {
                json!(*f as i64)
            }
            L::N(f) => json!(f),
            L::S(s) => json!(s),
            L::B(b) => json!(b),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Cmp(&'static str, L),
    In(Vec<L>),
    Between(L, L),
    Outside(L, L),
    Match(String),
    Ex(&'static str),
    ListEq(bool, Vec<f64>),
}

impl Op {
    fn json(&self) -> Value {
        match self {
            Op::Cmp(o, l) => json!({ *o: l.json() }),
            Op::In(ls) => json!({"$in": ls.iter().map(L::json).collect::<Vec<_>>()}),
            Op::Between(a, b) => json!({"$between": [a.json(), b.json()]}),
            Op::Outside(a, b) => json!({"$outside": [a.json(), b.json()]}),
            Op::Match(p) => json!({"$match": p}),
            Op::Ex(o) => json!({ *o: null }),
            Op::ListEq(eq, v) => json!({ if *eq { "$eq" } else { "$neq" }: v }),
        }
    }
}

/// A scalar read from a row, as the naive evaluator sees it.
#[derive(Debug, Clone, Copy)]
enum V<'a> {
    N(f64),
    S(&'a str),
    B(bool),
}

fn cmp(v: V<'_>, l: &L, f32_col: bool) -> Option<Ordering> {
    match (v, l) {
        (V::N(a), L::N(b)) => {
            let b = if f32_col && b.fract() != 0.0 {
                *b as f32 as f64
            } else {
                *b
            };
            Some(a.total_cmp(&b))
        }
        (V::S(a), L::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (V::B(a), L::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn glob(p: &[char], v: &[char]) -> bool {
    match p.split_first() {
        None => v.is_empty(),
        Some(('*', rest)) => (0..=v.len()).any(|k| glob(rest, &v[k..])),
        Some(('?', rest)) => !v.is_empty() && glob(rest, &v[1..]),
        Some(('#', rest)) => v.first().is_some_and(|c| c.is_ascii_digit()) && glob(rest, &v[1..]),
        Some(('[', rest)) => {
            let close = rest.iter().position(|&c| c == ']').unwrap();
            let set = &rest[..close];
            v.first().is_some_and(|c| set.contains(c)) && glob(&rest[close + 1..], &v[1..])
        }
        Some((c, rest)) => v.first() == Some(c) && glob(rest, &v[1..]),
    }
}

fn sat(v: V<'_>, op: &Op, f32_col: bool) -> bool {
    use Ordering::*;
    let is = |l: &L, o: &[Ordering]| cmp(v, l, f32_col).is_some_and(|x| o.contains(&x));
    match op {
        Op::Cmp("$eq", l) => is(l, &[Equal]),
        Op::Cmp("$neq", l) => is(l, &[Less, Greater]),
        Op::Cmp("$lt", l) => is(l, &[Less]),
        Op::Cmp("$leq", l) => is(l, &[Less, Equal]),
        Op::Cmp("$gt", l) => is(l, &[Greater]),
        Op::Cmp("$geq", l) => is(l, &[Greater, Equal]),
        Op::Cmp(o, _) => panic!("{o}"),
        Op::In(ls) => ls.iter().any(|l| is(l, &[Equal])),
        Op::Between(a, b) => is(a, &[Greater, Equal]) && is(b, &[Less, Equal]),
        Op::Outside(a, b) => is(a, &[Less]) || is(b, &[Greater]),
        Op::Match(p) => match v {
            V::S(s) => glob(
                &p.chars().collect::<Vec<_>>(),
                &s.chars().collect::<Vec<_>>(),
            ),
            _ => false,
        },
        Op::Ex(_) => true,
        Op::ListEq(..) => false,
    }
}

#[derive(Debug, Clone, Copy)]
enum Spec {
    Any,
    All,
    Idx(usize),
}

/// Where a condition reads: a scalar, or list elements (optionally `.z` of struct elements).
#[derive(Debug, Clone)]
enum Field {
    Scalar(&'static str),
    Vals(Option<Spec>),
    Pts(Spec),
}

fn scalar(r: &Row, f: &str) -> Option<V<'static>> {
    // Strings are leaked into 'static for simplicity: the test is short-lived.
    let s = |x: &Option<String>| {
        x.as_ref()
            .map(|s| V::S(Box::leak(s.clone().into_boxed_str())))
    };
    match f {
        "timestamp_ns" => Some(V::N(r.ts as f64)),
        "f" => r.f.map(V::N),
        "i" => r.i.map(|x| V::N(x as f64)),
        "u" => r.u.map(|x| V::N(x as f64)),
        "s" => s(&r.s),
        "b" => r.b.map(V::B),
        "pos.x" => r.pos.as_ref()?.x.map(|x| V::N(x as f64)),
        "pos.label" => s(&r.pos.as_ref()?.label),
        other => panic!("{other}"),
    }
}

fn holds(r: &Row, field: &Field, op: &Op) -> bool {
    if matches!(op, Op::Ex(_)) {
        return true;
    }
    let needs_value = matches!(
        op,
        Op::Cmp("$eq" | "$lt" | "$leq" | "$gt" | "$geq", _) | Op::Between(..)
    );
    let over = |elems: Vec<Option<V<'_>>>, spec: Spec, needs: bool| -> bool {
        match spec {
            Spec::Idx(n) => elems
                .get(n)
                .copied()
                .flatten()
                .is_some_and(|v| sat(v, op, false)),
            Spec::Any => elems.iter().flatten().any(|&v| sat(v, op, false)),
            Spec::All => {
                let present: Vec<_> = elems.iter().flatten().collect();
                present.iter().all(|&&v| sat(v, op, false)) && (!needs || !present.is_empty())
            }
        }
    };
    match field {
        Field::Scalar(f) => scalar(r, f).is_some_and(|v| sat(v, op, *f == "pos.x")),
        Field::Vals(None) => match (&r.vals, op) {
            (Some(v), Op::ListEq(eq, lit)) => {
                let equal = v.len() == lit.len()
                    && v.iter()
                        .zip(lit)
                        .all(|(e, l)| e.is_some_and(|e| e.total_cmp(l) == Ordering::Equal));
                equal == *eq
            }
            _ => false,
        },
        Field::Vals(Some(spec)) => match &r.vals {
            Some(v) => over(v.iter().map(|e| e.map(V::N)).collect(), *spec, needs_value),
            None => false,
        },
        Field::Pts(spec) => match &r.pts {
            Some(v) => over(
                v.iter()
                    .map(|e| e.flatten().map(|z| V::N(z as f64)))
                    .collect(),
                *spec,
                false,
            ),
            None => false,
        },
    }
}

fn key(field: &Field) -> String {
    let spec = |s: &Spec| match s {
        Spec::Any => "[?]".to_string(),
        Spec::All => "[!]".to_string(),
        Spec::Idx(n) => format!("[{n}]"),
    };
    match field {
        Field::Scalar(f) => format!("Diff.{f}"),
        Field::Vals(None) => "Diff.vals".into(),
        Field::Vals(Some(s)) => format!("Diff.vals{}", spec(s)),
        Field::Pts(s) => format!("Diff.pts{}.z", spec(s)),
    }
}

fn number(rng: &mut Rng, field: &Field) -> L {
    let n = match field {
        Field::Scalar("timestamp_ns") => rng.below(2000) as f64,
        Field::Scalar("f") => (rng.below(140) as f64) * 0.5 - 55.0,
        Field::Scalar("i") => rng.below(50) as f64 - 25.0,
        Field::Scalar("u") => rng.below(700) as f64,
        Field::Scalar("pos.x") => (rng.below(34) as f64) * 0.1 - 1.2,
        Field::Vals(_) => *rng.pick(ELEMS) + if rng.chance(20) { 0.25 } else { 0.0 },
        _ => rng.below(9) as f64 - 4.0,
    };
    if rng.chance(3) {
        L::N(-0.0)
    } else {
        L::N(n)
    }
}

fn literal(rng: &mut Rng, field: &Field) -> L {
    let is_str = matches!(field, Field::Scalar("s" | "pos.label"));
    let is_bool = matches!(field, Field::Scalar("b"));
    if rng.chance(5) {
        // A literal of another kind: satisfies nothing.
        return if is_str { L::N(1.0) } else { L::S("1".into()) };
    }
    if is_str {
        L::S(rng.pick(WORDS).to_string() + if rng.chance(10) { "a" } else { "" })
    } else if is_bool {
        L::B(rng.chance(50))
    } else {
        number(rng, field)
    }
}

fn gen_cond(rng: &mut Rng) -> (Field, Op) {
    let fields = [
        Field::Scalar("timestamp_ns"),
        Field::Scalar("f"),
        Field::Scalar("i"),
        Field::Scalar("u"),
        Field::Scalar("s"),
        Field::Scalar("b"),
        Field::Scalar("pos.x"),
        Field::Scalar("pos.label"),
        Field::Vals(None),
        Field::Vals(Some(Spec::Any)),
        Field::Vals(Some(Spec::All)),
        Field::Vals(Some(Spec::Idx(rng.below(3) as usize))),
        Field::Pts(Spec::Any),
        Field::Pts(Spec::All),
        Field::Pts(Spec::Idx(1)),
    ];
    let field = rng.pick(&fields).clone();
    if matches!(field, Field::Vals(None)) {
        let lit: Vec<f64> = (0..rng.below(3)).map(|_| *rng.pick(ELEMS)).collect();
        return (field, Op::ListEq(rng.chance(50), lit));
    }
    let ops = [
        "$eq", "$neq", "$lt", "$leq", "$gt", "$geq", "$in", "$between", "$outside", "$match",
        "$ex", "$nex",
    ];
    let op = match *rng.pick(&ops) {
        "$in" => Op::In(
            (0..1 + rng.below(3))
                .map(|_| literal(rng, &field))
                .collect(),
        ),
        "$between" => Op::Between(literal(rng, &field), literal(rng, &field)),
        "$outside" => Op::Outside(literal(rng, &field), literal(rng, &field)),
        "$match" => Op::Match(
            rng.pick(&["a*", "*a", "?eta", "[ab]*", "a#", "*", "a##", "*-*", "é"])
                .to_string(),
        ),
        o @ ("$ex" | "$nex") => Op::Ex(o),
        o => Op::Cmp(o, literal(rng, &field)),
    };
    (field, op)
}

fn clusters(mut ts: Vec<i64>, dt: u64) -> Vec<(i64, i64)> {
    ts.sort();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for t in ts {
        match out.last_mut() {
            Some((_, e)) if dt == 0 || (t - *e) as u64 <= dt => *e = t,
            _ => out.push((t, t)),
        }
    }
    out
}

async fn query_topics(c: &mut Client, ontology: &Value) -> Vec<Value> {
    let resp = c
        .action("query", json!({ "ontology": ontology }))
        .await
        .unwrap();
    resp["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["topics"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_evaluation_equals_a_naive_full_scan() {
    let seed: u64 = std::env::var("QUERY_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234);
    let cases: usize = std::env::var("QUERY_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(160);
    println!("QUERY_DIFF_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(Config {
        chunk_size_bytes: 4096,
        ..Config::with_data_dir(tmp.path())
    })
    .await;
    let mut c = server.client().await;
    let mut data: Vec<(String, Vec<Row>)> = Vec::new();
    for (k, (seq, topic)) in TOPICS.iter().enumerate() {
        if k == 0 || TOPICS[k - 1].0 != *seq {
            c.create_sequence(seq).await;
        }
        let (session, _) = c.open_session(seq).await;
        let locator = format!("{seq}/{topic}");
        let token = c.create_topic(&session, &locator, "Diff").await.unwrap();
        let all = rows(&mut rng, 100 * k as i64, 500 + 150 * k);
        let mut parts: Vec<Vec<Row>> = all.chunks(40).map(|p| p.to_vec()).collect();
        for j in (1..parts.len()).step_by(3) {
            parts.swap(j - 1, j);
        }
        let batches = parts.iter().map(|p| batch(p)).collect();
        c.put(
            put_descriptor(&locator, &token),
            common::diffdata::schema(),
            batches,
        )
        .await
        .unwrap();
        c.finalize(&session).await.unwrap();
        data.push((locator, all));
    }
    let mut matched_cases = 0;
    let mut bodies = Vec::new();
    for case in 0..cases {
        let conds: Vec<(Field, Op)> = (0..1 + rng.below(3)).map(|_| gen_cond(&mut rng)).collect();
        let mut ontology = serde_json::Map::new();
        let mut used = Vec::new();
        for (f, op) in conds {
            if !ontology.contains_key(&key(&f)) {
                ontology.insert(key(&f), op.json());
                used.push((f, op));
            }
        }
        let ontology = Value::Object(ontology);
        bodies.push(json!({ "ontology": ontology }));
        let matching = |rows: &[Row]| -> Vec<i64> {
            rows.iter()
                .filter(|r| used.iter().all(|(f, op)| holds(r, f, op)))
                .map(|r| r.ts)
                .collect()
        };
        let mut expected = Vec::new();
        for (loc, rows) in &data {
            let ts = matching(rows);
            if let (Some(lo), Some(hi)) = (ts.iter().min(), ts.iter().max()) {
                expected.push(
                    json!({"locator": loc, "ontology_tag": "Diff", "timestamp_range": [lo, hi]}),
                );
            }
        }
        let got = query_topics(&mut c, &ontology).await;
        if got != expected {
            for (f, op) in &used {
                let one = json!({ key(f): op.json() });
                let want: Vec<i64> = data[0]
                    .1
                    .iter()
                    .filter(|r| holds(r, f, op))
                    .map(|r| r.ts)
                    .collect();
                let got = query_topics(&mut c, &one).await;
                println!(
                    "single {one}: server {:?}, naive range {:?}",
                    got.first().map(|t| &t["timestamp_range"]),
                    (want.iter().min(), want.iter().max())
                );
            }
        }
        assert_eq!(
            got, expected,
            "case {case}, seed {seed}, ontology {ontology}"
        );
        matched_cases += usize::from(!expected.is_empty());

        let (loc, rows) = rng.pick(&data);
        let dt = *rng.pick(&[0u64, 1, 2, 3, 7, 40]);
        let window = rng.chance(40).then(|| {
            let s = rng.below(900) as i64;
            (s, s + rng.below(600) as i64)
        });
        let ts: Vec<i64> = matching(rows)
            .into_iter()
            .filter(|t| window.is_none_or(|(s, e)| *t >= s && *t < e))
            .collect();
        let want = clusters(ts, dt);
        let body = json!({"locator": loc, "clustering_dt_ns": dt, "ontology": ontology,
                          "timestamp_range": window.map(|(s, e)| json!({"start_ns": s, "end_ns": e}))});
        match c.action_paged("topic_filter_clusterize", body).await {
            Ok(pages) => {
                let got: Vec<(i64, i64)> = pages
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        assert_eq!(p["id"], k);
                        (
                            p["ts"]["start_ns"].as_i64().unwrap(),
                            p["ts"]["end_ns"].as_i64().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(got, want, "clusterize case {case}, seed {seed}, dt {dt}, window {window:?}, ontology {ontology}");
            }
            // Every generated ontology is non-empty (`$ex`/`$nex` count as conditions) and
            // valid, so clusterize must answer.
            Err(s) => panic!("clusterize case {case}, seed {seed} failed: {s:?}"),
        }
    }
    assert!(
        matched_cases > cases / 5,
        "too few cases matched anything: {matched_cases}"
    );
    assert!(
        matched_cases < cases,
        "every case matched: the generator is too lax"
    );
    let _dir = server.stop().await;

    // The same queries in process, skip index on and off: identical answers, and the index
    // skipped chunks in some cases (the generator's values drift with time).
    let engine = tessera::engine::Engine::open(Config {
        chunk_size_bytes: 4096,
        ..Config::with_data_dir(tmp.path())
    })
    .unwrap();
    let (mut skipped, mut total) = (0, 0);
    for body in &bodies {
        let pruned = tessera::query::run_query(&engine, body, true).unwrap();
        let full = tessera::query::run_query(&engine, body, false).unwrap();
        assert_eq!(pruned.hits, full.hits, "seed {seed}, {body}");
        skipped += pruned.stats.chunks - pruned.stats.chunks_read;
        total += pruned.stats.chunks;
    }
    println!("skip index: {skipped} of {total} chunk visits skipped");
    assert!(skipped > 0 && skipped < total, "{skipped} of {total}");
    engine.shutdown();
}
