//! Deciding from [`ChunkStats`] alone whether a chunk can be skipped for a predicate.
//!
//! Pruning is only an optimisation: [`Prune::Skip`] is returned only when no row of the chunk can
//! satisfy the predicate; whenever stats are missing, of another kind than the literal, or the
//! comparison is ambiguous (see `compare.rs`), the answer is [`Prune::Keep`]. Rules, with
//! `min`/`max` the column bounds:
//!
//! | predicate           | skip iff                         |
//! |---------------------|----------------------------------|
//! | `= v`               | `v < min` or `max < v`           |
//! | `< v`               | `min >= v`                       |
//! | `<= v`              | `min > v`                        |
//! | `> v`               | `max <= v`                       |
//! | `>= v`              | `max < v`                        |
//! | between `[lo, hi]`  | `max < lo` or `min > hi`         |
//! | outside `[lo, hi]`  | `lo <= min` and `max <= hi`      |
//!
//! Float columns with NaN (`has_nan`) are never skipped for `<`, `<=`, `>`, `>=` or outside:
//! Arrow's comparison kernels use IEEE total order, where a positive NaN is above every number and
//! a negative NaN (what x86 produces for `0.0 / 0.0`) below, and the stats do not record the sign.
//! `=` and between stay prunable (NaN equals only NaN); a NaN literal never leads to a skip,
//! since under total order it can equal or bound NaN rows. A truncated string
//! `min` is a prefix of the true minimum and a truncated `max` lies strictly above every value, so
//! both stay sound.

use std::cmp::Ordering;

use crate::compare::compare;
use crate::stats::{ChunkStats, ColumnStats, GeoBounds, StatValue};

/// A comparison operator against one literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `column = v`
    Eq,
    /// `column < v`
    Lt,
    /// `column <= v`
    Leq,
    /// `column > v`
    Gt,
    /// `column >= v`
    Geq,
}

/// A predicate on one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    /// `column <op> literal`.
    Cmp(CmpOp, StatValue),
    /// `lo <= column <= hi`.
    Between(StatValue, StatValue),
    /// `column < lo || column > hi`.
    Outside(StatValue, StatValue),
}

/// The pruning verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// Some row may match: read the chunk.
    Keep,
    /// No row can match: skip the chunk.
    Skip,
}

/// An inclusive latitude/longitude box. `min_lon > max_lon` means the box crosses the
/// antimeridian (longitudes `>= min_lon` or `<= max_lon`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

fn skip_if(cond: bool) -> Prune {
    if cond {
        Prune::Skip
    } else {
        Prune::Keep
    }
}

/// `a <ord> b` is known to hold.
fn is(a: Option<&StatValue>, b: &StatValue, ords: &[Ordering]) -> bool {
    a.and_then(|a| compare(a, b))
        .is_some_and(|o| ords.contains(&o))
}

fn is_nan(v: &StatValue) -> bool {
    matches!(v, StatValue::Float(f) if f.is_nan())
}

/// Whether `pred` can be ruled out for every row of a chunk with column stats `stats`.
pub fn prune_column(stats: &ColumnStats, pred: &Pred) -> Prune {
    use Ordering::{Equal as E, Greater as G, Less as L};
    let nan_literal = match pred {
        Pred::Cmp(_, v) => is_nan(v),
        Pred::Between(a, b) | Pred::Outside(a, b) => is_nan(a) || is_nan(b),
    };
    if nan_literal {
        return Prune::Keep;
    }
    let (min, max) = (stats.min.as_ref(), stats.max.as_ref());
    let nan = stats.has_nan;
    skip_if(match pred {
        Pred::Cmp(CmpOp::Eq, v) => is(min, v, &[G]) || is(max, v, &[L]),
        Pred::Cmp(CmpOp::Lt, v) => !nan && is(min, v, &[G, E]),
        Pred::Cmp(CmpOp::Leq, v) => !nan && is(min, v, &[G]),
        Pred::Cmp(CmpOp::Gt, v) => !nan && is(max, v, &[L, E]),
        Pred::Cmp(CmpOp::Geq, v) => !nan && is(max, v, &[L]),
        Pred::Between(lo, hi) => is(max, lo, &[L]) || is(min, hi, &[G]),
        Pred::Outside(lo, hi) => !nan && is(min, lo, &[G, E]) && is(max, hi, &[L, E]),
    })
}

/// Whether a chunk has no row with `timestamp_ns` in `[start, end)` (either bound optional).
pub fn prune_time(stats: &ChunkStats, start: Option<i64>, end: Option<i64>) -> Prune {
    let empty_window = matches!((start, end), (Some(s), Some(e)) if s >= e);
    skip_if(
        stats.row_count == 0
            || empty_window
            || start.is_some_and(|s| stats.ts_max < s)
            || end.is_some_and(|e| stats.ts_min >= e),
    )
}

/// Whether a chunk's coordinates under one struct (`geo`) all lie outside `bbox`.
/// A NaN edge never causes a skip.
pub fn prune_geo(geo: &GeoBounds, bbox: &GeoBox) -> Prune {
    let lat_disjoint = geo.max_lat < bbox.min_lat || geo.min_lat > bbox.max_lat;
    let lon_disjoint = if bbox.min_lon <= bbox.max_lon {
        geo.max_lon < bbox.min_lon || geo.min_lon > bbox.max_lon
    } else {
        // Wrapping box: [min_lon, +inf) ∪ (-inf, max_lon].
        geo.max_lon < bbox.min_lon && geo.min_lon > bbox.max_lon
    };
    skip_if(lat_disjoint || lon_disjoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatValue::*;

    fn col(min: StatValue, max: StatValue) -> ColumnStats {
        ColumnStats {
            path: "x".into(),
            null_count: 0,
            min: Some(min),
            max: Some(max),
            has_nan: false,
        }
    }

    #[test]
    fn comparison_rules() {
        let c = col(Int(10), Int(20));
        let p = |op, v| prune_column(&c, &Pred::Cmp(op, Int(v)));
        assert_eq!(p(CmpOp::Eq, 9), Prune::Skip);
        assert_eq!(p(CmpOp::Eq, 10), Prune::Keep);
        assert_eq!(p(CmpOp::Eq, 21), Prune::Skip);
        assert_eq!(p(CmpOp::Lt, 10), Prune::Skip);
        assert_eq!(p(CmpOp::Lt, 11), Prune::Keep);
        assert_eq!(p(CmpOp::Leq, 10), Prune::Keep);
        assert_eq!(p(CmpOp::Leq, 9), Prune::Skip);
        assert_eq!(p(CmpOp::Gt, 20), Prune::Skip);
        assert_eq!(p(CmpOp::Gt, 19), Prune::Keep);
        assert_eq!(p(CmpOp::Geq, 20), Prune::Keep);
        assert_eq!(p(CmpOp::Geq, 21), Prune::Skip);
        let between = |lo, hi| prune_column(&c, &Pred::Between(Int(lo), Int(hi)));
        assert_eq!(between(0, 9), Prune::Skip);
        assert_eq!(between(0, 10), Prune::Keep);
        assert_eq!(between(21, 30), Prune::Skip);
        let outside = |lo, hi| prune_column(&c, &Pred::Outside(Int(lo), Int(hi)));
        assert_eq!(outside(10, 20), Prune::Skip);
        assert_eq!(outside(11, 20), Prune::Keep);
    }

    #[test]
    fn missing_mismatched_nan_and_cross_kind() {
        let mut c = col(Float(1.0), Float(2.0));
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Gt, Int(2))), Prune::Skip);
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Gt, UInt(1))),
            Prune::Keep
        );
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Gt, Bool(true))),
            Prune::Keep
        );
        c.has_nan = true;
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Gt, Int(2))), Prune::Keep);
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Lt, Int(1))), Prune::Keep);
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Eq, Int(3))), Prune::Skip);
        assert_eq!(
            prune_column(&c, &Pred::Between(Int(3), Int(4))),
            Prune::Skip
        );
        c.has_nan = false;
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Lt, Int(1))), Prune::Skip);
        let nan = Float(f64::NAN);
        assert_eq!(
            prune_column(&c, &Pred::Between(nan.clone(), Float(0.5))),
            Prune::Keep
        );
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Lt, nan)), Prune::Keep);
        c.min = None;
        assert_eq!(prune_column(&c, &Pred::Cmp(CmpOp::Lt, Int(1))), Prune::Keep);
    }

    #[test]
    fn truncated_string_max_still_prunes_soundly() {
        let c = col(
            Str {
                value: "abc".into(),
                truncated: true,
            },
            Str {
                value: "abd".into(),
                truncated: true,
            },
        );
        let s = |v: &str| Str {
            value: v.into(),
            truncated: false,
        };
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Geq, s("abd"))),
            Prune::Keep
        );
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Gt, s("abd"))),
            Prune::Skip
        );
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Lt, s("abc"))),
            Prune::Skip
        );
        assert_eq!(
            prune_column(&c, &Pred::Cmp(CmpOp::Eq, s("abcz"))),
            Prune::Keep
        );
    }

    #[test]
    fn time_windows() {
        let s = ChunkStats {
            row_count: 2,
            ts_min: 10,
            ts_max: 20,
            ..ChunkStats::empty()
        };
        assert_eq!(prune_time(&s, None, None), Prune::Keep);
        assert_eq!(prune_time(&s, Some(20), None), Prune::Keep);
        assert_eq!(prune_time(&s, Some(21), None), Prune::Skip);
        assert_eq!(prune_time(&s, None, Some(10)), Prune::Skip);
        assert_eq!(prune_time(&s, None, Some(11)), Prune::Keep);
        assert_eq!(prune_time(&s, Some(15), Some(15)), Prune::Skip);
        assert_eq!(prune_time(&ChunkStats::empty(), None, None), Prune::Skip);
    }

    #[test]
    fn geo_boxes() {
        let g = GeoBounds {
            path: "p".into(),
            min_lat: 40.0,
            max_lat: 41.0,
            min_lon: 170.0,
            max_lon: 175.0,
        };
        let b = |min_lat, max_lat, min_lon, max_lon| GeoBox {
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        };
        assert_eq!(prune_geo(&g, &b(40.5, 50.0, 174.0, 180.0)), Prune::Keep);
        assert_eq!(prune_geo(&g, &b(42.0, 50.0, 174.0, 180.0)), Prune::Skip);
        assert_eq!(prune_geo(&g, &b(40.0, 41.0, 176.0, 180.0)), Prune::Skip);
        assert_eq!(prune_geo(&g, &b(40.0, 41.0, 172.0, -170.0)), Prune::Keep);
        assert_eq!(prune_geo(&g, &b(40.0, 41.0, 176.0, -170.0)), Prune::Skip);
        assert_eq!(prune_geo(&g, &b(f64::NAN, 41.0, 176.0, 180.0)), Prune::Skip);
        assert_eq!(
            prune_geo(&g, &b(f64::NAN, f64::NAN, f64::NAN, f64::NAN)),
            Prune::Keep
        );
    }
}
