//! Property test: `ChunkStats::compute` agrees with a naive row-by-row computation done on the
//! generating Rust values (not on Arrow arrays), and merge/encode/decode preserve it.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Float32Array, Float64Array, Int16Array, Int64Array,
    Int8Array, LargeStringArray, ListArray, RecordBatch, StringArray, StringViewArray, StructArray,
    TimestampMillisecondArray, UInt64Array,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use proptest::prelude::*;
use tessera_format::{ChunkStats, StatValue, STR_BOUND_MAX_BYTES};

#[derive(Debug, Clone)]
struct Inner {
    b: Option<f64>,
    c: Option<String>,
}

#[derive(Debug, Clone)]
struct Nested {
    a: i16, // non-nullable child of a nullable struct
    t: Option<Inner>,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(Debug, Clone)]
struct Row {
    ts: i64,
    i8v: Option<i8>,
    i64v: Option<i64>,
    u64v: Option<u64>,
    f32v: Option<f32>,
    f64v: Option<f64>,
    b: Option<bool>,
    s: Option<String>,
    ls: Option<String>,
    sv: Option<String>,
    bin: Option<Vec<u8>>,
    list: Option<Vec<Option<i32>>>,
    tms: Option<i64>,
    nested: Option<Nested>,
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -3i64..3]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -10.0f64..10.0
    ]
}

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a"),
        Just("z"),
        Just("é"),
        Just("日本"),
        Just("😀"),
        Just("\u{7F}"),
        Just("\u{D7FF}"),
        Just("\u{10FFFF}")
    ];
    prop_oneof![
        proptest::collection::vec(piece.clone(), 0..6),
        proptest::collection::vec(piece, 15..40)
    ]
    .prop_map(|v| v.concat())
}

fn nested() -> impl Strategy<Value = Nested> {
    let inner = (proptest::option::of(float()), proptest::option::of(text()))
        .prop_map(|(b, c)| Inner { b, c });
    (
        any::<i16>(),
        proptest::option::of(inner),
        proptest::option::of(float()),
        proptest::option::of(float()),
    )
        .prop_map(|(a, t, lat, lon)| Nested { a, t, lat, lon })
}

fn row() -> impl Strategy<Value = Row> {
    use proptest::option::of;
    (
        (
            int64(),
            of(any::<i8>()),
            of(int64()),
            of(prop_oneof![any::<u64>(), Just(u64::MAX), Just(0)]),
        ),
        (
            of(float().prop_map(|f| f as f32)),
            of(float()),
            of(any::<bool>()),
        ),
        (of(text()), of(text()), of(text())),
        (
            of(proptest::collection::vec(any::<u8>(), 0..8)),
            of(proptest::collection::vec(of(any::<i32>()), 0..4)),
        ),
        (of(int64()), of(nested())),
    )
        .prop_map(
            |((ts, i8v, i64v, u64v), (f32v, f64v, b), (s, ls, sv), (bin, list), (tms, nested))| {
                Row {
                    ts,
                    i8v,
                    i64v,
                    u64v,
                    f32v,
                    f64v,
                    b,
                    s,
                    ls,
                    sv,
                    bin,
                    list,
                    tms,
                    nested,
                }
            },
        )
}

fn schema() -> SchemaRef {
    let inner = Fields::from(vec![
        Field::new("b", DataType::Float64, true),
        Field::new("c", DataType::Utf8, true),
    ]);
    let nested = Fields::from(vec![
        Field::new("a", DataType::Int16, false),
        Field::new("t", DataType::Struct(inner), true),
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("i8", DataType::Int8, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("u64", DataType::UInt64, true),
        Field::new("f32", DataType::Float32, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("ls", DataType::LargeUtf8, true),
        Field::new("sv", DataType::Utf8View, true),
        Field::new("bin", DataType::Binary, true),
        Field::new(
            "list",
            DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
            true,
        ),
        Field::new(
            "tms",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("n", DataType::Struct(nested), true),
    ]))
}

/// Values hidden under a null parent: they must never show up in the stats.
const HIDDEN_I16: i16 = i16::MIN;
const HIDDEN_F64: f64 = -1.0e300;

fn to_batch(rows: &[Row]) -> RecordBatch {
    let schema = schema();
    let col =
        |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<Option<f64>> { rows.iter().map(f).collect() };
    let DataType::Struct(nested_fields) = schema.field(13).data_type().clone() else {
        unreachable!()
    };
    let DataType::Struct(inner_fields) = nested_fields[1].data_type().clone() else {
        unreachable!()
    };
    let n = |r: &Row| r.nested.clone();
    let inner = StructArray::new(
        inner_fields,
        vec![
            Arc::new(Float64Array::from(col(&|r| {
                n(r).and_then(|n| n.t).and_then(|t| t.b)
            }))) as ArrayRef,
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| n(r).and_then(|n| n.t).and_then(|t| t.c))
                    .collect::<Vec<_>>(),
            )),
        ],
        Some(NullBuffer::from(
            rows.iter()
                .map(|r| n(r).is_some_and(|n| n.t.is_some()))
                .collect::<Vec<_>>(),
        )),
    );
    // Latitude/longitude stay valid (HIDDEN_F64) where the parent struct is null.
    let coord = |f: fn(&Nested) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            rows.iter()
                .map(|r| r.nested.as_ref().map_or(Some(HIDDEN_F64), f))
                .collect::<Vec<_>>(),
        ))
    };
    let nested = StructArray::new(
        nested_fields,
        vec![
            Arc::new(Int16Array::from(
                rows.iter()
                    .map(|r| r.nested.as_ref().map_or(HIDDEN_I16, |n| n.a))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(inner),
            coord(|n| n.lat),
            coord(|n| n.lon),
        ],
        Some(NullBuffer::from(
            rows.iter().map(|r| r.nested.is_some()).collect::<Vec<_>>(),
        )),
    );
    let strs = |f: fn(&Row) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let list = ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(
        rows.iter().map(|r| r.list.clone()),
    );
    let list_field = schema.field(11).clone();
    let DataType::List(item) = list_field.data_type().clone() else {
        unreachable!()
    };
    let (_, offsets, values, nulls) = list.into_parts();
    let list = ListArray::new(item, offsets, values, nulls);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.ts).collect::<Vec<_>>(),
        )),
        Arc::new(Int8Array::from(
            rows.iter().map(|r| r.i8v).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.i64v).collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.u64v).collect::<Vec<_>>(),
        )),
        Arc::new(Float32Array::from(
            rows.iter().map(|r| r.f32v).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(col(&|r| r.f64v))),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.b).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(strs(|r| r.s.clone()))),
        Arc::new(LargeStringArray::from(strs(|r| r.ls.clone()))),
        Arc::new(StringViewArray::from(strs(|r| r.sv.clone()))),
        Arc::new(BinaryArray::from_iter(rows.iter().map(|r| r.bin.clone()))),
        Arc::new(list),
        Arc::new(
            TimestampMillisecondArray::from(rows.iter().map(|r| r.tms).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(nested),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// A naive leaf: its values per row (`None` = null, including under a null parent).
enum Naive {
    Int(Vec<Option<i64>>),
    UInt(Vec<Option<u64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
    Opaque(Vec<bool>), // validity only
}

fn naive_leaves(rows: &[Row]) -> Vec<(&'static str, Naive)> {
    let m = |f: &dyn Fn(&Row) -> Option<i64>| rows.iter().map(f).collect();
    let fl = |f: &dyn Fn(&Row) -> Option<f64>| rows.iter().map(f).collect();
    let st = |f: &dyn Fn(&Row) -> Option<String>| rows.iter().map(f).collect();
    vec![
        ("timestamp_ns", Naive::Int(m(&|r| Some(r.ts)))),
        ("i8", Naive::Int(m(&|r| r.i8v.map(i64::from)))),
        ("i64", Naive::Int(m(&|r| r.i64v))),
        ("u64", Naive::UInt(rows.iter().map(|r| r.u64v).collect())),
        ("f32", Naive::Float(fl(&|r| r.f32v.map(f64::from)))),
        ("f64", Naive::Float(fl(&|r| r.f64v))),
        ("b", Naive::Bool(rows.iter().map(|r| r.b).collect())),
        ("s", Naive::Str(st(&|r| r.s.clone()))),
        ("ls", Naive::Str(st(&|r| r.ls.clone()))),
        ("sv", Naive::Str(st(&|r| r.sv.clone()))),
        (
            "bin",
            Naive::Opaque(rows.iter().map(|r| r.bin.is_some()).collect()),
        ),
        (
            "list",
            Naive::Opaque(rows.iter().map(|r| r.list.is_some()).collect()),
        ),
        ("tms", Naive::Int(m(&|r| r.tms))),
        (
            "n.a",
            Naive::Int(m(&|r| r.nested.as_ref().map(|n| i64::from(n.a)))),
        ),
        (
            "n.t.b",
            Naive::Float(fl(&|r| {
                r.nested
                    .as_ref()
                    .and_then(|n| n.t.as_ref())
                    .and_then(|t| t.b)
            })),
        ),
        (
            "n.t.c",
            Naive::Str(st(&|r| {
                r.nested
                    .as_ref()
                    .and_then(|n| n.t.as_ref())
                    .and_then(|t| t.c.clone())
            })),
        ),
        (
            "n.latitude",
            Naive::Float(fl(&|r| r.nested.as_ref().and_then(|n| n.lat))),
        ),
        (
            "n.longitude",
            Naive::Float(fl(&|r| r.nested.as_ref().and_then(|n| n.lon))),
        ),
    ]
}

fn total_min(v: &[f64]) -> Option<f64> {
    v.iter().copied().min_by(|a, b| a.total_cmp(b))
}
fn total_max(v: &[f64]) -> Option<f64> {
    v.iter().copied().max_by(|a, b| a.total_cmp(b))
}

fn float_bits(v: &Option<StatValue>) -> Option<u64> {
    match v {
        Some(StatValue::Float(f)) => Some(f.to_bits()),
        Some(other) => panic!("not a float: {other:?}"),
        None => None,
    }
}

/// Checks string bounds: exact when short; otherwise a prefix min and a strictly larger max.
fn check_str(path: &str, vals: &[String], min: &Option<StatValue>, max: &Option<StatValue>) {
    let lo = vals.iter().min_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let hi = vals.iter().max_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let (Some(lo), Some(hi)) = (lo, hi) else {
        assert!(min.is_none() && max.is_none(), "{path}");
        return;
    };
    match min {
        Some(StatValue::Str { value, truncated }) => {
            assert!(value.len() <= STR_BOUND_MAX_BYTES);
            if lo.len() <= STR_BOUND_MAX_BYTES {
                assert!(!truncated && value == lo, "{path}");
            } else {
                let mut cut = STR_BOUND_MAX_BYTES;
                while !lo.is_char_boundary(cut) {
                    cut -= 1;
                }
                assert!(*truncated && value == &lo[..cut], "{path}");
            }
        }
        other => panic!("{path}: min {other:?}"),
    }
    match max {
        Some(StatValue::Str { value, truncated }) => {
            assert!(value.len() <= STR_BOUND_MAX_BYTES);
            if hi.len() <= STR_BOUND_MAX_BYTES {
                assert!(!truncated && value == hi, "{path}");
            } else {
                assert!(*truncated && value.as_bytes() > hi.as_bytes(), "{path}");
            }
        }
        None => assert!(hi.len() > STR_BOUND_MAX_BYTES, "{path}: max missing"),
        other => panic!("{path}: max {other:?}"),
    }
}

fn check(rows: &[Row], stats: &ChunkStats) {
    assert_eq!(stats.row_count, rows.len() as u64);
    let ts: Vec<i64> = rows.iter().map(|r| r.ts).collect();
    assert_eq!(stats.ts_min, ts.iter().copied().min().unwrap_or(i64::MAX));
    assert_eq!(stats.ts_max, ts.iter().copied().max().unwrap_or(i64::MIN));
    let leaves = naive_leaves(rows);
    assert_eq!(stats.columns.len(), leaves.len());
    for ((path, naive), c) in leaves.iter().zip(&stats.columns) {
        assert_eq!(c.path, *path);
        let (nulls, has_nan) = match naive {
            Naive::Int(v) => {
                let some: Vec<i64> = v.iter().flatten().copied().collect();
                assert_eq!(
                    c.min,
                    some.iter().min().map(|&x| StatValue::Int(x)),
                    "{path}"
                );
                assert_eq!(
                    c.max,
                    some.iter().max().map(|&x| StatValue::Int(x)),
                    "{path}"
                );
                (v.len() - some.len(), false)
            }
            Naive::UInt(v) => {
                let some: Vec<u64> = v.iter().flatten().copied().collect();
                assert_eq!(
                    c.min,
                    some.iter().min().map(|&x| StatValue::UInt(x)),
                    "{path}"
                );
                assert_eq!(
                    c.max,
                    some.iter().max().map(|&x| StatValue::UInt(x)),
                    "{path}"
                );
                (v.len() - some.len(), false)
            }
            Naive::Float(v) => {
                let some: Vec<f64> = v.iter().flatten().copied().collect();
                let numbers: Vec<f64> = some.iter().copied().filter(|f| !f.is_nan()).collect();
                assert_eq!(
                    float_bits(&c.min),
                    total_min(&numbers).map(f64::to_bits),
                    "{path}"
                );
                assert_eq!(
                    float_bits(&c.max),
                    total_max(&numbers).map(f64::to_bits),
                    "{path}"
                );
                (v.len() - some.len(), some.iter().any(|f| f.is_nan()))
            }
            Naive::Bool(v) => {
                let some: Vec<bool> = v.iter().flatten().copied().collect();
                assert_eq!(
                    c.min,
                    some.iter().min().map(|&x| StatValue::Bool(x)),
                    "{path}"
                );
                assert_eq!(
                    c.max,
                    some.iter().max().map(|&x| StatValue::Bool(x)),
                    "{path}"
                );
                (v.len() - some.len(), false)
            }
            Naive::Str(v) => {
                let some: Vec<String> = v.iter().flatten().cloned().collect();
                check_str(path, &some, &c.min, &c.max);
                (v.len() - some.len(), false)
            }
            Naive::Opaque(valid) => {
                assert!(c.min.is_none() && c.max.is_none(), "{path}");
                (valid.iter().filter(|v| !**v).count(), false)
            }
        };
        assert_eq!(c.null_count, nulls as u64, "{path}");
        assert_eq!(c.has_nan, has_nan, "{path}");
    }
    // Geo over rows with a valid struct and non-null, non-NaN coordinates.
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.nested.as_ref())
        .filter_map(|n| Some((n.lat?, n.lon?)))
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .collect();
    if pts.is_empty() {
        assert!(stats.geo.is_empty());
    } else {
        assert_eq!(stats.geo.len(), 1);
        let g = &stats.geo[0];
        let lats: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let lons: Vec<f64> = pts.iter().map(|p| p.1).collect();
        assert_eq!(g.path, "n");
        assert_eq!(g.min_lat.to_bits(), total_min(&lats).unwrap().to_bits());
        assert_eq!(g.max_lat.to_bits(), total_max(&lats).unwrap().to_bits());
        assert_eq!(g.min_lon.to_bits(), total_min(&lons).unwrap().to_bits());
        assert_eq!(g.max_lon.to_bits(), total_max(&lons).unwrap().to_bits());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn compute_matches_naive(
        rows in proptest::collection::vec(row(), 0..24),
        cuts in proptest::collection::vec(0usize..24, 0..3),
    ) {
        let batch = to_batch(&rows);
        // Split into several batches at arbitrary points (possibly empty ones).
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (rows.len() + 1)).collect();
        points.push(0);
        points.push(rows.len());
        points.sort_unstable();
        let batches: Vec<RecordBatch> =
            points.windows(2).map(|w| batch.slice(w[0], w[1] - w[0])).collect();
        let stats = ChunkStats::compute(&schema(), &batches).unwrap();
        check(&rows, &stats);

        // Encoding is lossless (bit-exact, including -0.0).
        let enc = stats.encode();
        prop_assert_eq!(ChunkStats::decode(&enc).unwrap().encode(), enc);

        // Merging the stats of two halves agrees with the whole on everything but string bounds.
        let mid = points[points.len() / 2];
        let half = |from: usize, len: usize| {
            ChunkStats::compute(&schema(), &[batch.slice(from, len)]).unwrap()
        };
        let mut merged = half(0, mid);
        merged.merge(&half(mid, rows.len() - mid));
        prop_assert_eq!(
            (merged.row_count, merged.ts_min, merged.ts_max),
            (stats.row_count, stats.ts_min, stats.ts_max)
        );
        prop_assert_eq!(&merged.geo, &stats.geo);
        for (m, w) in merged.columns.iter().zip(&stats.columns) {
            prop_assert_eq!((&m.path, m.null_count, m.has_nan), (&w.path, w.null_count, w.has_nan));
            match (&m.min, &w.min) {
                (Some(StatValue::Str { value: a, .. }), Some(StatValue::Str { value: b, .. })) => {
                    prop_assert!(a.as_bytes() <= b.as_bytes(), "{}", m.path);
                }
                (a, b) => prop_assert_eq!(float_bits_or(a), float_bits_or(b)),
            }
            if !matches!(w.max, Some(StatValue::Str { .. })) {
                prop_assert_eq!(float_bits_or(&m.max), float_bits_or(&w.max));
            }
        }
    }
}

/// Compares non-string bounds bit-exactly (so `-0.0` and `0.0` differ).
fn float_bits_or(v: &Option<StatValue>) -> String {
    match v {
        Some(StatValue::Float(f)) => format!("F{}", f.to_bits()),
        other => format!("{other:?}"),
    }
}
