//! Property test: `prune_column` never skips a chunk in which some value satisfies the predicate,
//! under exact IEEE semantics and (for floats) Arrow's total-order semantics.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;
use tessera_format::{prune_column, ChunkStats, CmpOp, Pred, Prune, StatValue};

/// A column's non-null-or-null values; the literal kinds mirror these.
#[derive(Debug, Clone)]
enum Col {
    Int(Vec<Option<i64>>),
    UInt(Vec<Option<u64>>),
    Float(Vec<Option<f64>>),
    Str(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
}

/// A column value, for the naive evaluator.
#[derive(Debug, Clone)]
enum V {
    I(i64),
    U(u64),
    F(f64),
    S(String),
    B(bool),
}

fn neg_nan() -> f64 {
    f64::from_bits(0xFFF8_0000_0000_0000)
}

fn small_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => -2i64..2,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just((1 << 53) + 1)
    ]
}

fn small_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => (-5i32..5).prop_map(|h| f64::from(h) / 2.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(neg_nan()),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(9_223_372_036_854_775_808.0),
        1 => Just(9_007_199_254_740_992.0)
    ]
}

fn small_str() -> impl Strategy<Value = String> {
    let piece = prop_oneof![Just("a"), Just("b"), Just("é"), Just("\u{10FFFF}")];
    prop_oneof![
        proptest::collection::vec(piece.clone(), 0..3),
        proptest::collection::vec(piece, 63..68)
    ]
    .prop_map(|v| v.concat())
}

fn column() -> impl Strategy<Value = Col> {
    use proptest::collection::vec;
    use proptest::option::weighted as opt;
    prop_oneof![
        3 => vec(opt(0.9, small_int()), 1..8).prop_map(Col::Int),
        2 => vec(opt(0.9, prop_oneof![0u64..5, Just(u64::MAX)]), 1..8).prop_map(Col::UInt),
        3 => vec(opt(0.9, small_float()), 1..8).prop_map(Col::Float),
        2 => vec(opt(0.9, small_str()), 1..8).prop_map(Col::Str),
        1 => vec(opt(0.9, any::<bool>()), 1..8).prop_map(Col::Bool),
    ]
}

fn literal() -> impl Strategy<Value = StatValue> {
    prop_oneof![
        3 => small_int().prop_map(StatValue::Int),
        2 => prop_oneof![0u64..5, Just(u64::MAX)].prop_map(StatValue::UInt),
        4 => small_float().prop_map(StatValue::Float),
        2 => small_str().prop_map(|value| StatValue::Str { value, truncated: false }),
        1 => any::<bool>().prop_map(StatValue::Bool),
    ]
}

fn pred() -> impl Strategy<Value = Pred> {
    let op = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Lt),
        Just(CmpOp::Leq),
        Just(CmpOp::Gt),
        Just(CmpOp::Geq)
    ];
    prop_oneof![
        (op, literal()).prop_map(|(o, v)| Pred::Cmp(o, v)),
        (literal(), literal()).prop_map(|(a, b)| Pred::Between(a, b)),
        (literal(), literal()).prop_map(|(a, b)| Pred::Outside(a, b)),
    ]
}

fn stats_of(col: &Col) -> (ChunkStats, Vec<V>) {
    let (array, values): (ArrayRef, Vec<V>) = match col {
        Col::Int(v) => (
            Arc::new(Int64Array::from(v.clone())),
            v.iter().flatten().map(|&x| V::I(x)).collect(),
        ),
        Col::UInt(v) => (
            Arc::new(UInt64Array::from(v.clone())),
            v.iter().flatten().map(|&x| V::U(x)).collect(),
        ),
        Col::Float(v) => (
            Arc::new(Float64Array::from(v.clone())),
            v.iter().flatten().map(|&x| V::F(x)).collect(),
        ),
        Col::Str(v) => (
            Arc::new(StringArray::from(v.clone())),
            v.iter().flatten().map(|x| V::S(x.clone())).collect(),
        ),
        Col::Bool(v) => (
            Arc::new(BooleanArray::from(v.clone())),
            v.iter().flatten().map(|&x| V::B(x)).collect(),
        ),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("x", array.data_type().clone(), true),
    ]));
    let ts = Arc::new(Int64Array::from_iter_values(0..array.len() as i64));
    let batch = RecordBatch::try_new(schema.clone(), vec![ts, array]).unwrap();
    (ChunkStats::compute(&schema, &[batch]).unwrap(), values)
}

/// Exact `i128` vs `f64` (finite or infinite), independent of the crate's implementation.
fn int_vs_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let fl = f.floor();
    if fl.abs() > 1e30 {
        return Some(if fl > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    Some(i.cmp(&(fl as i128)).then(if f > fl {
        Ordering::Less
    } else {
        Ordering::Equal
    }))
}

/// Orders a value against a literal; `total` uses `f64::total_cmp` for float/float pairs.
fn cmp(v: &V, lit: &StatValue, total: bool) -> Option<Ordering> {
    use StatValue as L;
    match (v, lit) {
        (V::I(a), L::Int(b)) => Some(a.cmp(b)),
        (V::I(a), L::UInt(b)) => Some(i128::from(*a).cmp(&i128::from(*b))),
        (V::U(a), L::Int(b)) => Some(i128::from(*a).cmp(&i128::from(*b))),
        (V::U(a), L::UInt(b)) => Some(a.cmp(b)),
        (V::I(a), L::Float(f)) => int_vs_float(i128::from(*a), *f),
        (V::U(a), L::Float(f)) => int_vs_float(i128::from(*a), *f),
        (V::F(a), L::Int(b)) => int_vs_float(i128::from(*b), *a).map(Ordering::reverse),
        (V::F(a), L::UInt(b)) => int_vs_float(i128::from(*b), *a).map(Ordering::reverse),
        (V::F(a), L::Float(b)) if total => Some(a.total_cmp(b)),
        (V::F(a), L::Float(b)) => a.partial_cmp(b),
        (V::S(a), L::Str { value, .. }) => Some(a.as_bytes().cmp(value.as_bytes())),
        (V::B(a), L::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn satisfies(v: &V, pred: &Pred, total: bool) -> bool {
    use Ordering::*;
    let is =
        |lit: &StatValue, ords: &[Ordering]| cmp(v, lit, total).is_some_and(|o| ords.contains(&o));
    match pred {
        Pred::Cmp(CmpOp::Eq, l) => is(l, &[Equal]),
        Pred::Cmp(CmpOp::Lt, l) => is(l, &[Less]),
        Pred::Cmp(CmpOp::Leq, l) => is(l, &[Less, Equal]),
        Pred::Cmp(CmpOp::Gt, l) => is(l, &[Greater]),
        Pred::Cmp(CmpOp::Geq, l) => is(l, &[Greater, Equal]),
        Pred::Between(lo, hi) => is(lo, &[Greater, Equal]) && is(hi, &[Less, Equal]),
        Pred::Outside(lo, hi) => is(lo, &[Less]) || is(hi, &[Greater]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn skip_only_when_nothing_matches(col in column(), pred in pred()) {
        let (stats, values) = stats_of(&col);
        let column = stats.column("x").unwrap();
        if prune_column(column, &pred) == Prune::Skip {
            for v in &values {
                for total in [false, true] {
                    prop_assert!(
                        !satisfies(v, &pred, total),
                        "{v:?} satisfies {pred:?} (total={total}) but {column:?} was skipped"
                    );
                }
            }
        }
    }
}

#[test]
fn the_property_is_not_vacuous() {
    // The generators above do produce skips: e.g. ints 1..3 vs `> 3`.
    let (stats, _) = stats_of(&Col::Int(vec![Some(1), Some(3), None]));
    let c = stats.column("x").unwrap();
    assert_eq!(
        prune_column(c, &Pred::Cmp(CmpOp::Gt, StatValue::Int(3))),
        Prune::Skip
    );
    assert_eq!(
        prune_column(c, &Pred::Cmp(CmpOp::Gt, StatValue::Float(2.5))),
        Prune::Keep
    );
    assert_eq!(
        prune_column(c, &Pred::Cmp(CmpOp::Gt, StatValue::Float(3.0))),
        Prune::Skip
    );
    let (stats, _) = stats_of(&Col::Float(vec![Some(neg_nan()), Some(1.0)]));
    let c = stats.column("x").unwrap();
    assert!(c.has_nan);
    // Under total order the negative NaN is below 0.5.
    assert_eq!(
        prune_column(c, &Pred::Cmp(CmpOp::Lt, StatValue::Float(0.5))),
        Prune::Keep
    );
    assert_eq!(
        prune_column(c, &Pred::Cmp(CmpOp::Eq, StatValue::Float(0.5))),
        Prune::Skip
    );
}
