//! Time clusters of matching rows (protocol.md Part B §5 steps 6-7): ascending timestamps whose
//! consecutive gap is `<= dt` (inclusive) form one cluster `[first, last]`; `dt == 0` means no
//! limit (one cluster `[min, max]`).
//!
//! Sources are clustered independently (each is time-sorted) and their clusters merged: two
//! clusters whose gap is `<= dt`, or which overlap, join. This equals clustering the merged
//! timestamps: inside a cluster every gap is `<= dt`, and interleaving another source's
//! timestamps only shortens gaps.

/// Gap limit; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap(Option<u64>);

impl Gap {
    /// From the wire value: 0 means unlimited.
    pub fn from_dt(dt: u64) -> Gap {
        Gap((dt != 0).then_some(dt))
    }
    /// No limit.
    pub fn unlimited() -> Gap {
        Gap(None)
    }
    /// Whether `b` (>= `a` not required) joins a cluster ending at `a`.
    fn joins(self, end: i64, next_start: i64) -> bool {
        match self.0 {
            None => true,
            Some(dt) => i128::from(next_start) - i128::from(end) <= i128::from(dt),
        }
    }
}

/// Builds clusters from ascending timestamps.
#[derive(Debug, Clone)]
pub struct Clusters {
    gap: Gap,
    list: Vec<(i64, i64)>,
}

impl Clusters {
    /// Empty, with gap limit `gap`.
    pub fn new(gap: Gap) -> Clusters {
        Clusters {
            gap,
            list: Vec::new(),
        }
    }

    /// Add the next timestamp (ascending within one source).
    pub fn push(&mut self, t: i64) {
        match self.list.last_mut() {
            Some((_, end)) if t >= *end && self.gap.joins(*end, t) => *end = t,
            Some((start, end)) if t >= *start && t <= *end => {}
            _ => self.list.push((t, t)),
        }
    }

    /// The clusters so far.
    pub fn into_vec(self) -> Vec<(i64, i64)> {
        self.list
    }
}

/// Merge the clusters of several sources into the clusters of their union.
pub fn merge(gap: Gap, parts: Vec<Vec<(i64, i64)>>) -> Vec<(i64, i64)> {
    let mut all: Vec<(i64, i64)> = parts.into_iter().flatten().collect();
    all.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(all.len());
    for (s, e) in all {
        match out.last_mut() {
            Some((_, end)) if s <= *end || gap.joins(*end, s) => *end = (*end).max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(dt: u64, ts: &[i64]) -> Vec<(i64, i64)> {
        let mut c = Clusters::new(Gap::from_dt(dt));
        ts.iter().for_each(|&t| c.push(t));
        c.into_vec()
    }

    #[test]
    fn gaps_equal_to_dt_join_and_larger_split() {
        assert_eq!(cluster(10, &[0, 10, 21, 21, 30]), [(0, 10), (21, 30)]);
        assert_eq!(cluster(1, &[0, 1_000_000, 2_000_000]).len(), 3);
        assert_eq!(cluster(0, &[i64::MIN, i64::MAX]), [(i64::MIN, i64::MAX)]);
        assert_eq!(
            cluster(u64::MAX, &[i64::MIN, i64::MAX]),
            [(i64::MIN, i64::MAX)]
        );
    }

    #[test]
    fn merging_sources_equals_clustering_the_union() {
        let a = [0, 4, 8, 30];
        let b = [2, 12, 16, 40];
        for dt in [0u64, 1, 3, 4, 5, 10, 14] {
            let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
            all.sort();
            let merged = merge(Gap::from_dt(dt), vec![cluster(dt, &a), cluster(dt, &b)]);
            assert_eq!(merged, cluster(dt, &all), "dt {dt}");
        }
    }
}
