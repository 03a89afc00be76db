//! One value against one operator: the comparison rules shared by catalog fields, user metadata
//! and sensor data.
//!
//! * Numbers compare by mathematical value across integer and float kinds, exactly (no lossy
//!   casts; `tessera_format::compare_stat_values`). Where IEEE and Arrow's total order disagree
//!   (NaN, `-0.0` vs `0`), the total order decides, as Arrow's comparison kernels do: a positive
//!   NaN is above every number, `-0.0 < 0.0`. Chunk pruning is sound under exactly this order.
//! * Strings compare by bytes, booleans `false < true`.
//! * Operands of different kinds (number vs string, bool vs number) satisfy no operator, `$neq`
//!   included; neither does a missing value (NULL).

use super::ops::{Lit, Op};
use std::cmp::Ordering;
use tessera_format::{compare_stat_values, StatValue};

/// A scalar read from a row or a document; strings are borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    /// Signed integers (and timestamps, dates, times, durations in their unit).
    Int(i64),
    /// Unsigned integers.
    UInt(u64),
    /// Floats, widened to `f64`.
    Float(f64),
    /// Booleans.
    Bool(bool),
    /// Strings.
    Str(&'a str),
}

fn numeric(s: Scalar<'_>) -> Option<StatValue> {
    match s {
        Scalar::Int(i) => Some(StatValue::Int(i)),
        Scalar::UInt(u) => Some(StatValue::UInt(u)),
        Scalar::Float(f) => Some(StatValue::Float(f)),
        _ => None,
    }
}

fn lit_numeric(l: &Lit) -> Option<StatValue> {
    match l {
        Lit::Int(i) => Some(StatValue::Int(*i)),
        Lit::UInt(u) => Some(StatValue::UInt(*u)),
        Lit::Float(f) => Some(StatValue::Float(*f)),
        _ => None,
    }
}

fn as_f64(v: &StatValue) -> f64 {
    match v {
        StatValue::Int(i) => *i as f64,
        StatValue::UInt(u) => *u as f64,
        StatValue::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// `value` vs `lit`; `None` when the kinds differ.
pub fn compare(value: Scalar<'_>, lit: &Lit) -> Option<Ordering> {
    match (value, lit) {
        (Scalar::Str(a), Lit::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Scalar::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (v, l) => {
            let (a, b) = (numeric(v)?, lit_numeric(l)?);
            compare_stat_values(&a, &b).or_else(|| Some(as_f64(&a).total_cmp(&as_f64(&b))))
        }
    }
}

fn is(value: Scalar<'_>, lit: &Lit, ords: &[Ordering]) -> bool {
    compare(value, lit).is_some_and(|o| ords.contains(&o))
}

/// Whether a present scalar satisfies `op`. `$ex` holds and `$nex` does not (the value exists).
pub fn satisfies(value: Scalar<'_>, op: &Op) -> bool {
    use Ordering::{Equal as E, Greater as G, Less as L};
    match op {
        Op::Eq(l) => is(value, l, &[E]),
        Op::Neq(l) => is(value, l, &[L, G]),
        Op::Lt(l) => is(value, l, &[L]),
        Op::Leq(l) => is(value, l, &[L, E]),
        Op::Gt(l) => is(value, l, &[G]),
        Op::Geq(l) => is(value, l, &[G, E]),
        Op::In(items) => items.iter().any(|l| is(value, l, &[E])),
        Op::Between(lo, hi) => is(value, lo, &[G, E]) && is(value, hi, &[L, E]),
        Op::Outside(lo, hi) => is(value, lo, &[L]) || is(value, hi, &[G]),
        Op::Match(g) => matches!(value, Scalar::Str(s) if g.is_match(s)),
        Op::Ex => true,
        Op::Nex => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::glob::Glob;

    #[test]
    fn numbers_compare_exactly_across_kinds() {
        assert!(satisfies(Scalar::Int(3), &Op::Lt(Lit::Float(3.5))));
        assert!(satisfies(Scalar::Float(3.0), &Op::Eq(Lit::Int(3))));
        assert!(satisfies(Scalar::UInt(u64::MAX), &Op::Gt(Lit::Int(-1))));
        let big = (1i64 << 53) + 1;
        assert!(satisfies(
            Scalar::Int(big),
            &Op::Gt(Lit::Float((1u64 << 53) as f64))
        ));
    }

    #[test]
    fn nan_and_negative_zero_follow_total_order() {
        let nan = Scalar::Float(f64::NAN);
        assert!(satisfies(nan, &Op::Gt(Lit::Float(f64::INFINITY))));
        assert!(!satisfies(nan, &Op::Eq(Lit::Int(1))));
        assert!(satisfies(nan, &Op::Neq(Lit::Int(1))));
        assert!(!satisfies(nan, &Op::Between(Lit::Int(0), Lit::Int(9))));
        assert!(satisfies(nan, &Op::Outside(Lit::Int(0), Lit::Int(9))));
        assert!(satisfies(Scalar::Float(-0.0), &Op::Lt(Lit::Int(0))));
        assert!(!satisfies(Scalar::Float(-0.0), &Op::Eq(Lit::Float(0.0))));
    }

    #[test]
    fn mismatched_kinds_satisfy_nothing() {
        for op in [
            Op::Eq(Lit::Str("1".into())),
            Op::Neq(Lit::Str("1".into())),
            Op::Lt(Lit::Bool(true)),
            Op::Outside(Lit::Str("a".into()), Lit::Str("b".into())),
            Op::Match(Glob::new("1").unwrap()),
        ] {
            assert!(!satisfies(Scalar::Int(1), &op), "{op:?}");
        }
        assert!(satisfies(
            Scalar::Str("b"),
            &Op::Between(Lit::Str("a".into()), Lit::Str("c".into()))
        ));
        assert!(satisfies(
            Scalar::Bool(true),
            &Op::In(vec![Lit::Int(1), Lit::Bool(true)])
        ));
    }
}
