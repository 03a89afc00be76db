//! Generated sensor rows for the query differential test: a row model in plain Rust (what the
//! naive evaluator reads) and its Arrow encoding (what the server stores).
#![allow(dead_code, clippy::unwrap_used)]

use arrow_array::builder::{
    BooleanBuilder, Float32Builder, Float64Builder, Int32Builder, Int64Builder, ListBuilder,
    StringBuilder, UInt16Builder,
};
use arrow_array::{Array, ArrayRef, Int64Array, ListArray, RecordBatch, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use std::sync::Arc;

/// A small deterministic RNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Debug, Clone)]
pub struct Pos {
    pub x: Option<f32>,
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub ts: i64,
    pub f: Option<f64>,
    pub i: Option<i32>,
    pub u: Option<u16>,
    pub s: Option<String>,
    pub b: Option<bool>,
    pub pos: Option<Pos>,
    pub vals: Option<Vec<Option<f64>>>,
    /// List of structs `{z}`; `None` elements are null structs.
    pub pts: Option<Vec<Option<Option<i64>>>>,
}

pub const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "a1", "a22", "b-3", "é", "",
];
pub const ELEMS: &[f64] = &[-1.0, 0.0, 0.5, 1.0, 2.0];

fn pos_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Float32, true),
        Field::new("label", DataType::Utf8, true),
    ])
}

fn pt_fields() -> Fields {
    Fields::from(vec![Field::new("z", DataType::Int64, true)])
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("f", DataType::Float64, true),
        Field::new("i", DataType::Int32, true),
        Field::new("u", DataType::UInt16, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("pos", DataType::Struct(pos_fields()), true),
        Field::new(
            "vals",
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
            true,
        ),
        Field::new(
            "pts",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(pt_fields()),
                true,
            ))),
            true,
        ),
    ]))
}

/// `n` rows with timestamps from `t0`, increasing by 0..3 (duplicates included). Values drift
/// with time, so chunks cover different value ranges and pruning has something to skip.
pub fn rows(rng: &mut Rng, t0: i64, n: usize) -> Vec<Row> {
    let mut t = t0;
    (0..n)
        .map(|_| {
            t += rng.below(3) as i64;
            let f = match rng.below(100) {
                0..=14 => None,
                15..=17 => Some(f64::NAN),
                18..=19 => Some(-f64::NAN),
                20..=22 => Some(-0.0),
                23..=25 => Some(0.0),
                _ => Some((t / 5) as f64 * 0.5 + rng.below(3) as f64 * 0.5 - 50.0),
            };
            Row {
                ts: t,
                f,
                i: (!rng.chance(20)).then(|| ((t / 20) % 40) as i32 - 20 + rng.below(3) as i32),
                u: (!rng.chance(10)).then_some((t as u16) / 3),
                s: (!rng.chance(20)).then(|| rng.pick(WORDS).to_string()),
                b: (!rng.chance(20)).then(|| rng.chance(50)),
                pos: (!rng.chance(10)).then(|| Pos {
                    x: (!rng.chance(10)).then(|| (rng.below(30) as f32) * 0.1 - 1.0),
                    label: (!rng.chance(10)).then(|| rng.pick(WORDS).to_string()),
                }),
                vals: (!rng.chance(15)).then(|| {
                    (0..rng.below(4))
                        .map(|_| {
                            if rng.chance(10) {
                                None
                            } else if rng.chance(5) {
                                Some(f64::NAN)
                            } else {
                                Some(*rng.pick(ELEMS))
                            }
                        })
                        .collect()
                }),
                pts: (!rng.chance(15)).then(|| {
                    (0..rng.below(4))
                        .map(|_| {
                            (!rng.chance(10))
                                .then(|| (!rng.chance(10)).then(|| rng.below(7) as i64 - 3))
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

pub fn batch(rows: &[Row]) -> RecordBatch {
    let mut ts = Int64Builder::new();
    let mut f = Float64Builder::new();
    let mut i = Int32Builder::new();
    let mut u = UInt16Builder::new();
    let mut s = StringBuilder::new();
    let mut b = BooleanBuilder::new();
    let mut px = Float32Builder::new();
    let mut pl = StringBuilder::new();
    let mut pos_valid = Vec::new();
    let mut vals = ListBuilder::new(Float64Builder::new());
    let mut offsets = vec![0i32];
    let mut pts_valid = Vec::new();
    let mut z = Int64Builder::new();
    let mut elem_valid = Vec::new();
    for r in rows {
        ts.append_value(r.ts);
        f.append_option(r.f);
        i.append_option(r.i);
        u.append_option(r.u);
        s.append_option(r.s.clone());
        b.append_option(r.b);
        match &r.pos {
            Some(p) => {
                px.append_option(p.x);
                pl.append_option(p.label.clone());
                pos_valid.push(true);
            }
            None => {
                px.append_null();
                pl.append_null();
                pos_valid.push(false);
            }
        }
        match &r.vals {
            Some(v) => {
                for e in v {
                    vals.values().append_option(*e);
                }
                vals.append(true);
            }
            None => vals.append(false),
        }
        match &r.pts {
            Some(list) => {
                for e in list {
                    match e {
                        Some(zz) => {
                            z.append_option(*zz);
                            elem_valid.push(true);
                        }
                        None => {
                            z.append_null();
                            elem_valid.push(false);
                        }
                    }
                }
                offsets.push(offsets.last().unwrap() + list.len() as i32);
                pts_valid.push(true);
            }
            None => {
                offsets.push(*offsets.last().unwrap());
                pts_valid.push(false);
            }
        }
    }
    let pos = StructArray::new(
        pos_fields(),
        vec![Arc::new(px.finish()) as ArrayRef, Arc::new(pl.finish())],
        Some(NullBuffer::from(pos_valid)),
    );
    let elems = StructArray::new(
        pt_fields(),
        vec![Arc::new(z.finish()) as ArrayRef],
        Some(NullBuffer::from(elem_valid)),
    );
    let pts = ListArray::new(
        Arc::new(Field::new("item", DataType::Struct(pt_fields()), true)),
        OffsetBuffer::new(offsets.into()),
        Arc::new(elems),
        Some(NullBuffer::from(pts_valid)),
    );
    let ts: Int64Array = ts.finish();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(ts) as ArrayRef,
            Arc::new(f.finish()),
            Arc::new(i.finish()),
            Arc::new(u.finish()),
            Arc::new(s.finish()),
            Arc::new(b.finish()),
            Arc::new(pos),
            Arc::new(vals.finish()),
            Arc::new(pts),
        ],
    )
    .unwrap()
}

/// Row count of a batch (keeps `Array` in use for callers).
pub fn len(b: &RecordBatch) -> usize {
    b.column(0).len()
}
