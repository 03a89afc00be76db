//! Stage 2: skipping chunks with their skip index (protocol.md Part B §4.6). Only an
//! optimisation: a chunk is skipped only when no row can satisfy the tag's expressions.
//!
//! * Plain scalar fields with `$eq` (`min <= v <= max`), `$lt`/`$leq` (vs `min`), `$gt`/`$geq`
//!   (vs `max`), `$between`, `$outside` prune through `tessera_format::prune_column`, which keeps
//!   the chunk whenever stats are missing, NaN is involved, or kinds differ.
//! * `timestamp_ns` uses the chunk's exact time range.
//! * Any field whose column is entirely NULL in the chunk (`null_count == row_count`) prunes,
//!   whatever the operator or specifier: NULL satisfies nothing.
//! * `$between` on both `<p>.latitude` and `<p>.longitude` prunes with the geo box of `<p>`.
//! * `$neq`, `$in`, `$match`, list specifiers and whole-list equality never prune on values.

use super::eval::{Compiled, Target};
use super::ops::{Lit, Op};
use tessera_format::{
    prune_column, prune_geo, ChunkStats, CmpOp, ColumnStats, GeoBox, Pred, Prune, StatValue,
    TIMESTAMP_COLUMN,
};

fn stat(l: &Lit) -> Option<StatValue> {
    Some(match l {
        Lit::Int(i) => StatValue::Int(*i),
        Lit::UInt(u) => StatValue::UInt(*u),
        Lit::Float(f) => StatValue::Float(*f),
        Lit::Bool(b) => StatValue::Bool(*b),
        Lit::Str(s) => StatValue::Str {
            value: s.clone(),
            truncated: false,
        },
        Lit::List(_) => return None,
    })
}

fn pred(op: &Op) -> Option<Pred> {
    let cmp = |o, l| stat(l).map(|v| Pred::Cmp(o, v));
    match op {
        Op::Eq(l) => cmp(CmpOp::Eq, l),
        Op::Lt(l) => cmp(CmpOp::Lt, l),
        Op::Leq(l) => cmp(CmpOp::Leq, l),
        Op::Gt(l) => cmp(CmpOp::Gt, l),
        Op::Geq(l) => cmp(CmpOp::Geq, l),
        Op::Between(a, b) => Some(Pred::Between(stat(a)?, stat(b)?)),
        Op::Outside(a, b) => Some(Pred::Outside(stat(a)?, stat(b)?)),
        _ => None,
    }
}

fn column_stats(stats: &ChunkStats, path: &str) -> Option<ColumnStats> {
    if path == TIMESTAMP_COLUMN && stats.row_count > 0 {
        return Some(ColumnStats {
            path: path.to_string(),
            null_count: 0,
            min: Some(StatValue::Int(stats.ts_min)),
            max: Some(StatValue::Int(stats.ts_max)),
            has_nan: false,
        });
    }
    stats.column(path).cloned()
}

fn skip_one(c: &Compiled, stats: &ChunkStats) -> bool {
    let path = c.head.join(".");
    let Some(col) = column_stats(stats, &path) else {
        return false;
    };
    if stats.row_count > 0 && col.null_count >= stats.row_count {
        return true;
    }
    c.target == Target::Plain && pred(&c.op).is_some_and(|p| prune_column(&col, &p) == Prune::Skip)
}

fn between_floats(op: &Op) -> Option<(f64, f64)> {
    let f = |l: &Lit| match l {
        Lit::Int(i) => Some(*i as f64),
        Lit::UInt(u) => Some(*u as f64),
        Lit::Float(f) => Some(*f),
        _ => None,
    };
    match op {
        Op::Between(a, b) => Some((f(a)?, f(b)?)),
        _ => None,
    }
}

fn skip_geo(group: &[Compiled], stats: &ChunkStats) -> bool {
    let find = |parent: &[String], leaf: &str| {
        group.iter().find_map(|c| {
            let (last, p) = c.head.split_last()?;
            (c.target == Target::Plain && last == leaf && p == parent)
                .then(|| between_floats(&c.op))
                .flatten()
        })
    };
    group.iter().any(|c| {
        let Some((last, parent)) = c.head.split_last() else {
            return false;
        };
        if last != "latitude" {
            return false;
        }
        let (Some((min_lat, max_lat)), Some((min_lon, max_lon))) =
            (find(parent, "latitude"), find(parent, "longitude"))
        else {
            return false;
        };
        if !(min_lat <= max_lat && min_lon <= max_lon) {
            return false;
        }
        let bbox = GeoBox {
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        };
        stats
            .geo_bounds(&parent.join("."))
            .is_some_and(|g| prune_geo(g, &bbox) == Prune::Skip)
    })
}

/// Whether no row of a chunk with `stats` can satisfy every expression of `group`.
pub fn skip_chunk(group: &[Compiled], stats: &ChunkStats) -> bool {
    stats.row_count == 0 || group.iter().any(|c| skip_one(c, stats)) || skip_geo(group, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::field::Spec;

    fn compiled(path: &str, target: Target, op: Op) -> Compiled {
        Compiled {
            key: format!("T.{path}"),
            head: path.split('.').map(String::from).collect(),
            target,
            op,
        }
    }

    fn stats() -> ChunkStats {
        ChunkStats {
            row_count: 10,
            ts_min: 100,
            ts_max: 200,
            columns: vec![
                ColumnStats {
                    path: "a.x".into(),
                    null_count: 2,
                    min: Some(StatValue::Float(1.0)),
                    max: Some(StatValue::Float(5.0)),
                    has_nan: false,
                },
                ColumnStats {
                    path: "n".into(),
                    null_count: 10,
                    min: None,
                    max: None,
                    has_nan: false,
                },
            ],
            geo: vec![tessera_format::GeoBounds {
                path: "pos".into(),
                min_lat: 10.0,
                max_lat: 11.0,
                min_lon: 20.0,
                max_lon: 21.0,
            }],
        }
    }

    #[test]
    fn eq_keeps_chunks_with_min_le_v_le_max() {
        let s = stats();
        let eq = |v: f64| skip_chunk(&[compiled("a.x", Target::Plain, Op::Eq(Lit::Float(v)))], &s);
        assert!(!eq(1.0));
        assert!(!eq(3.0));
        assert!(!eq(5.0));
        assert!(eq(0.5));
        assert!(eq(5.5));
    }

    #[test]
    fn unprunable_operators_and_specifiers_keep() {
        let s = stats();
        for op in [Op::Neq(Lit::Int(3)), Op::In(vec![Lit::Int(99)])] {
            assert!(!skip_chunk(&[compiled("a.x", Target::Plain, op)], &s));
        }
        let list = Target::List {
            spec: Spec::Any,
            tail: vec![],
        };
        assert!(!skip_chunk(
            &[compiled("a.x", list, Op::Gt(Lit::Int(99)))],
            &s
        ));
        assert!(!skip_chunk(
            &[compiled("missing", Target::Plain, Op::Gt(Lit::Int(99)))],
            &s
        ));
    }

    #[test]
    fn time_nulls_and_geo_prune() {
        let s = stats();
        let ts = |op| skip_chunk(&[compiled("timestamp_ns", Target::Plain, op)], &s);
        assert!(ts(Op::Gt(Lit::Int(200))));
        assert!(!ts(Op::Geq(Lit::Int(200))));
        assert!(ts(Op::Outside(Lit::Int(100), Lit::Int(200))));
        assert!(skip_chunk(
            &[compiled("n", Target::Plain, Op::Neq(Lit::Int(1)))],
            &s
        ));
        let geo = |lat: (f64, f64), lon: (f64, f64)| {
            skip_chunk(
                &[
                    compiled(
                        "pos.latitude",
                        Target::Plain,
                        Op::Between(Lit::Float(lat.0), Lit::Float(lat.1)),
                    ),
                    compiled(
                        "pos.longitude",
                        Target::Plain,
                        Op::Between(Lit::Float(lon.0), Lit::Float(lon.1)),
                    ),
                ],
                &s,
            )
        };
        assert!(!geo((10.5, 12.0), (20.5, 30.0)));
        assert!(geo((10.5, 12.0), (22.0, 30.0)));
    }
}
