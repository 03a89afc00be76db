//! Per-chunk statistics ("skip indices") kept in the catalog so reads and queries can skip chunks
//! without opening them.
//!
//! * [`ChunkStats::compute`] scans record batches (see `stats_compute.rs` for the rules per type);
//! * [`ChunkStats::merge`] folds chunk stats into topic-level totals;
//! * [`ChunkStats::encode`] / [`ChunkStats::decode`] are the versioned binary form, specified in
//!   `stats_codec.rs`.
//!
//! All bounds are *conservative*: every non-null value of a column lies within `[min, max]`
//! (a truncated string `min` is a prefix of the true minimum; a truncated string `max` is strictly
//! greater than every value). Pruning ([`crate::prune`]) relies on exactly this.

use std::cmp::Ordering;
use std::collections::HashMap;

/// Statistics of one chunk (or, after [`ChunkStats::merge`], of several).
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkStats {
    /// Number of rows.
    pub row_count: u64,
    /// Smallest `timestamp_ns`, inclusive. `i64::MAX` when `row_count == 0`.
    pub ts_min: i64,
    /// Largest `timestamp_ns`, inclusive. `i64::MIN` when `row_count == 0`.
    pub ts_max: i64,
    /// One entry per leaf column, in schema (depth-first) order.
    pub columns: Vec<ColumnStats>,
    /// One entry per struct holding float `latitude` + `longitude` leaves that had at least one
    /// row with both coordinates non-null and non-NaN.
    pub geo: Vec<GeoBounds>,
}

/// Statistics of one leaf column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// Field names from the top level down to the leaf, joined by `.` (no escaping), e.g.
    /// `header.stamp.sec`. Leaves inside lists are not flattened: a list column is one leaf.
    pub path: String,
    /// Rows where the leaf is null, counting rows where any ancestor struct is null.
    pub null_count: u64,
    /// Lower bound of the non-null (and, for floats, non-NaN) values; `None` if there are none
    /// or the type carries no min/max (binary, lists, decimals, ...).
    pub min: Option<StatValue>,
    /// Upper bound, same rules as `min`.
    pub max: Option<StatValue>,
    /// Whether a float column contained at least one non-null NaN (NaN is never a bound).
    pub has_nan: bool,
}

/// A typed min/max value. Integers are exact; never routed through `f64`.
#[derive(Debug, Clone, PartialEq)]
pub enum StatValue {
    /// Signed integers, timestamps, dates, times and durations (in their native unit).
    Int(i64),
    /// Unsigned integers.
    UInt(u64),
    /// Float16/32/64 widened exactly to `f64`; never NaN.
    Float(f64),
    /// Booleans (`false < true`).
    Bool(bool),
    /// Strings, ordered by bytes, at most 64 bytes long.
    Str {
        /// The (possibly shortened) bound.
        value: String,
        /// `true` when `value` is not an actual column value: for a `min` it is a prefix of the
        /// true minimum (so `<=` it); for a `max` it is strictly greater than every value.
        truncated: bool,
    },
}

/// Bounding box of the coordinates stored under one struct.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoBounds {
    /// Path of the struct holding `latitude` + `longitude` (`""` for top-level columns).
    pub path: String,
    /// Smallest latitude.
    pub min_lat: f64,
    /// Largest latitude.
    pub max_lat: f64,
    /// Smallest longitude.
    pub min_lon: f64,
    /// Largest longitude.
    pub max_lon: f64,
}

impl ChunkStats {
    /// Stats of zero rows: the identity element of [`ChunkStats::merge`].
    pub fn empty() -> Self {
        Self {
            row_count: 0,
            ts_min: i64::MAX,
            ts_max: i64::MIN,
            columns: Vec::new(),
            geo: Vec::new(),
        }
    }

    /// The stats of the leaf column at `path`, if any.
    pub fn column(&self, path: &str) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.path == path)
    }

    /// The geo bounds of the struct at `path`, if any.
    pub fn geo_bounds(&self, path: &str) -> Option<&GeoBounds> {
        self.geo.iter().find(|g| g.path == path)
    }

    /// Folds `other` into `self` (for topic-level totals). Columns and geo entries are matched by
    /// path; unmatched ones are appended. Bounds of different kinds for one path (only possible
    /// across schema changes) merge to `None`, i.e. "unknown".
    pub fn merge(&mut self, other: &ChunkStats) {
        if other.row_count > 0 {
            if self.row_count == 0 {
                self.ts_min = other.ts_min;
                self.ts_max = other.ts_max;
            } else {
                self.ts_min = self.ts_min.min(other.ts_min);
                self.ts_max = self.ts_max.max(other.ts_max);
            }
        }
        self.row_count = self.row_count.saturating_add(other.row_count);

        let index: HashMap<String, usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.path.clone(), i))
            .collect();
        for col in &other.columns {
            match index.get(&col.path).and_then(|&i| self.columns.get_mut(i)) {
                Some(mine) => mine.merge(col),
                None => self.columns.push(col.clone()),
            }
        }
        for g in &other.geo {
            match self.geo.iter_mut().find(|m| m.path == g.path) {
                Some(mine) => mine.merge(g),
                None => self.geo.push(g.clone()),
            }
        }
    }
}

impl ColumnStats {
    /// Folds the stats of the same column from another chunk into `self`.
    pub fn merge(&mut self, other: &ColumnStats) {
        self.null_count = self.null_count.saturating_add(other.null_count);
        self.has_nan |= other.has_nan;
        self.min = merge_bound(&self.min, &other.min, Ordering::Less);
        self.max = merge_bound(&self.max, &other.max, Ordering::Greater);
    }
}

impl GeoBounds {
    /// Grows `self` to also cover `other`.
    pub fn merge(&mut self, other: &GeoBounds) {
        self.min_lat = fmin(self.min_lat, other.min_lat);
        self.max_lat = fmax(self.max_lat, other.max_lat);
        self.min_lon = fmin(self.min_lon, other.min_lon);
        self.max_lon = fmax(self.max_lon, other.max_lon);
    }
}

/// The smaller float by `total_cmp` (so `-0.0 < 0.0`); deterministic, unlike `f64::min`.
pub(crate) fn fmin(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a).is_lt() {
        b
    } else {
        a
    }
}

/// The larger float by `total_cmp`.
pub(crate) fn fmax(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a).is_gt() {
        b
    } else {
        a
    }
}

impl StatValue {
    /// Orders two values of the same kind as bounds (floats by `total_cmp`, strings by bytes);
    /// `None` for different kinds. Used for merging; pruning compares across kinds in `prune`.
    pub(crate) fn bound_cmp(&self, other: &StatValue) -> Option<Ordering> {
        match (self, other) {
            (StatValue::Int(a), StatValue::Int(b)) => Some(a.cmp(b)),
            (StatValue::UInt(a), StatValue::UInt(b)) => Some(a.cmp(b)),
            (StatValue::Float(a), StatValue::Float(b)) => Some(a.total_cmp(b)),
            (StatValue::Bool(a), StatValue::Bool(b)) => Some(a.cmp(b)),
            (StatValue::Str { value: a, .. }, StatValue::Str { value: b, .. }) => {
                Some(a.as_bytes().cmp(b.as_bytes()))
            }
            _ => None,
        }
    }
}

/// Picks the smaller (`want == Less`) or larger (`want == Greater`) of two optional bounds.
fn merge_bound(a: &Option<StatValue>, b: &Option<StatValue>, want: Ordering) -> Option<StatValue> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(x), Some(y)) => match x.bound_cmp(y) {
            None => None,
            Some(Ordering::Equal) => match (x, y) {
                // Equal strings: the bound is an actual value if either side says so.
                (
                    StatValue::Str {
                        value,
                        truncated: tx,
                    },
                    StatValue::Str { truncated: ty, .. },
                ) => Some(StatValue::Str {
                    value: value.clone(),
                    truncated: *tx && *ty,
                }),
                _ => Some(x.clone()),
            },
            Some(ord) if ord == want => Some(x.clone()),
            Some(_) => Some(y.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(path: &str, nulls: u64, min: Option<StatValue>, max: Option<StatValue>) -> ColumnStats {
        ColumnStats {
            path: path.into(),
            null_count: nulls,
            min,
            max,
            has_nan: false,
        }
    }

    fn s(v: &str, truncated: bool) -> StatValue {
        StatValue::Str {
            value: v.into(),
            truncated,
        }
    }

    #[test]
    fn merge_combines_counts_times_and_bounds() {
        let mut a = ChunkStats {
            row_count: 3,
            ts_min: 10,
            ts_max: 20,
            columns: vec![col(
                "x",
                1,
                Some(StatValue::Int(-5)),
                Some(StatValue::Int(7)),
            )],
            geo: vec![],
        };
        let b = ChunkStats {
            row_count: 2,
            ts_min: 5,
            ts_max: 15,
            columns: vec![
                col("x", 2, Some(StatValue::Int(0)), Some(StatValue::Int(9))),
                col("y", 0, None, None),
            ],
            geo: vec![GeoBounds {
                path: "p".into(),
                min_lat: 1.0,
                max_lat: 2.0,
                min_lon: 3.0,
                max_lon: 4.0,
            }],
        };
        a.merge(&b);
        assert_eq!((a.row_count, a.ts_min, a.ts_max), (5, 5, 20));
        let x = a.column("x").unwrap();
        assert_eq!(x.null_count, 3);
        assert_eq!(x.min, Some(StatValue::Int(-5)));
        assert_eq!(x.max, Some(StatValue::Int(9)));
        assert!(a.column("y").is_some());
        assert_eq!(a.geo_bounds("p").unwrap().max_lon, 4.0);
    }

    #[test]
    fn empty_is_merge_identity() {
        let b = ChunkStats {
            row_count: 1,
            ts_min: -3,
            ts_max: -3,
            columns: vec![col("x", 0, Some(StatValue::Bool(false)), None)],
            geo: vec![],
        };
        let mut e = ChunkStats::empty();
        e.merge(&b);
        assert_eq!(e, b);
        let mut b2 = b.clone();
        b2.merge(&ChunkStats::empty());
        assert_eq!(b2, b);
    }

    #[test]
    fn merge_bound_rules() {
        // Mismatched kinds become unknown.
        let m = merge_bound(
            &Some(StatValue::Int(1)),
            &Some(StatValue::UInt(1)),
            Ordering::Less,
        );
        assert_eq!(m, None);
        // Equal strings: exact wins.
        let m = merge_bound(&Some(s("ab", true)), &Some(s("ab", false)), Ordering::Less);
        assert_eq!(m, Some(s("ab", false)));
        let m = merge_bound(
            &Some(s("ab", true)),
            &Some(s("b", false)),
            Ordering::Greater,
        );
        assert_eq!(m, Some(s("b", false)));
        // Floats order -0.0 below 0.0.
        let m = merge_bound(
            &Some(StatValue::Float(0.0)),
            &Some(StatValue::Float(-0.0)),
            Ordering::Less,
        );
        assert!(matches!(m, Some(StatValue::Float(f)) if f.is_sign_negative()));
    }
}
