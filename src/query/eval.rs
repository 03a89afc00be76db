//! Stage 3: exact evaluation of one tag's expressions on record batches (protocol.md Part B
//! §4.2-§4.3). All expressions of a tag must hold on the same row; NULL (the value, a list or
//! an ancestor struct) satisfies nothing; `$ex`/`$nex` are no-ops.
//!
//! | form                        | a row holds when                                           |
//! |-----------------------------|------------------------------------------------------------|
//! | scalar field                | the value satisfies the operator                           |
//! | list field, no specifier    | `$eq`/`$neq` against a list literal, element by element    |
//! | map field `.key`            | the value under `key` satisfies the operator               |
//! | `[N]` (+ sub-path)          | element N exists and satisfies it                          |
//! | `[?]` (+ sub-path)          | some element satisfies it (empty list: false)              |
//! | `[!]` (+ sub-path)          | every non-null element satisfies it; for `$eq`, `$lt`, `$leq`, `$gt`, `$geq`, `$between` on a list of scalars at least one non-null element is required (upstream's min/max are NULL otherwise), everything else holds vacuously on an empty list |
//!
//! Schema-dependent mistakes (a specifier on a non-list field, an order operator on a whole
//! list, a struct compared as a value) are INVALID_ARGUMENT, found by [`compile`] before any data
//! is read. A field absent from a topic's schema makes the topic not match.

use super::field::Spec;
use super::leaf::{
    chain, chain_in, field_type, is_list, list_item, list_range, list_values, null_in_chain, Leaf,
};
use super::ops::{Lit, Op};
use super::request::FieldCond;
use super::temporal::adapt_temporal;
use super::value::{compare, satisfies, Scalar};
use crate::error::{Error, Result};
use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema};
use std::cmp::Ordering;

/// How a compiled expression reaches its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A scalar leaf.
    Plain,
    /// A whole list against a list literal.
    WholeList,
    /// The value under one key of a map column (`<tag>.<map field>.<key>`).
    MapKey(String),
    /// Elements of a list, then `tail` inside each element.
    List {
        /// The specifier.
        spec: Spec,
        /// Field names inside each element.
        tail: Vec<String>,
    },
}

/// One expression resolved against a topic's schema.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The key as sent.
    pub key: String,
    /// Struct path from the top level to the leaf or list column.
    pub head: Vec<String>,
    /// How values are reached.
    pub target: Target,
    /// The operator, with float literals rounded to `f32` for `f32`/`f16` leaves (the column's
    /// precision, as Arrow compares after casting the literal) and date/time strings turned
    /// into the integers of temporal leaves (`temporal`).
    pub op: Op,
}

/// A tag's expressions resolved against one schema; `None` when the topic cannot match (a
/// field is absent).
pub fn compile(conds: &[FieldCond], schema: &Schema) -> Result<Option<Vec<Compiled>>> {
    let mut out = Vec::new();
    for c in conds {
        if matches!(c.op, Op::Ex | Op::Nex) {
            continue;
        }
        match compile_one(c, schema)? {
            Some(x) => out.push(x),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn round_f32(op: &Op) -> Op {
    let r = |l: &Lit| match l {
        Lit::Float(f) => Lit::Float(f64::from(*f as f32)),
        other => other.clone(),
    };
    match op {
        Op::Eq(l) => Op::Eq(r(l)),
        Op::Neq(l) => Op::Neq(r(l)),
        Op::Lt(l) => Op::Lt(r(l)),
        Op::Leq(l) => Op::Leq(r(l)),
        Op::Gt(l) => Op::Gt(r(l)),
        Op::Geq(l) => Op::Geq(r(l)),
        Op::In(ls) => Op::In(ls.iter().map(r).collect()),
        Op::Between(a, b) => Op::Between(r(a), r(b)),
        Op::Outside(a, b) => Op::Outside(r(a), r(b)),
        other => other.clone(),
    }
}

fn adapt(op: &Op, key: &str, leaf: &DataType) -> Result<Op> {
    match leaf {
        DataType::Float32 | DataType::Float16 => Ok(round_f32(op)),
        other => adapt_temporal(op, key, other),
    }
}

/// `<tag>.<path to a map>.<key>`: the map's path, key and value type.
fn map_key<'a>(c: &FieldCond, schema: &'a Schema) -> Option<(Vec<String>, String, &'a DataType)> {
    let (key, path) = c.field.head.split_last()?;
    if c.field.spec.is_some() || path.is_empty() {
        return None;
    }
    match field_type(schema.fields(), path)? {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) => Some((path.to_vec(), key.clone(), kv.get(1)?.data_type())),
            _ => None,
        },
        _ => None,
    }
}

fn compile_one(c: &FieldCond, schema: &Schema) -> Result<Option<Compiled>> {
    let k = &c.field;
    if let Some((path, key, value)) = map_key(c, schema) {
        if value.is_nested() {
            return Err(Error::invalid(format!(
                "ontology key `{}`: the map's values are nested; they cannot be compared.",
                c.key
            )));
        }
        return Ok(Some(Compiled {
            key: c.key.clone(),
            head: path,
            target: Target::MapKey(key),
            op: adapt(&c.op, &c.key, value)?,
        }));
    }
    let Some(dt) = field_type(schema.fields(), &k.head) else {
        return Ok(None);
    };
    let bad = |why: String| Err(Error::invalid(format!("ontology key `{}`: {why}.", c.key)));
    let compiled = |target, op| {
        Ok(Some(Compiled {
            key: c.key.clone(),
            head: k.head.clone(),
            target,
            op,
        }))
    };
    match k.spec {
        None if is_list(dt) => match &c.op {
            Op::Eq(Lit::List(_)) | Op::Neq(Lit::List(_)) => {
                if list_item(dt).is_some_and(|t| t.is_nested()) {
                    return bad("a list of structs cannot be compared as a whole".into());
                }
                compiled(
                    Target::WholeList,
                    adapt(&c.op, &c.key, list_item(dt).unwrap_or(dt))?,
                )
            }
            op => bad(format!(
                "`{}` on a list field needs `[?]`, `[!]` or `[N]`; a whole list only takes \
                 `$eq`/`$neq` with a list value",
                op.name()
            )),
        },
        None if dt.is_nested() => bad("the field is a struct; name one of its fields".into()),
        None => compiled(Target::Plain, adapt(&c.op, &c.key, dt)?),
        Some(spec) => {
            let Some(item) = list_item(dt) else {
                return bad(format!("expected list type, found {dt}"));
            };
            let leaf = if k.tail.is_empty() {
                item
            } else {
                match item {
                    DataType::Struct(fields) => match field_type(fields, &k.tail) {
                        Some(t) => t,
                        None => return Ok(None),
                    },
                    _ => return Ok(None),
                }
            };
            if leaf.is_nested() {
                return bad("the element field is nested; name a scalar field".into());
            }
            compiled(
                Target::List {
                    spec,
                    tail: k.tail.clone(),
                },
                adapt(&c.op, &c.key, leaf)?,
            )
        }
    }
}

/// Rows of `batch` where every expression holds.
pub fn eval_group(group: &[Compiled], batch: &RecordBatch) -> Vec<bool> {
    let mut mask = vec![true; batch.num_rows()];
    for c in group {
        if !mask.iter().any(|&m| m) {
            break;
        }
        eval_one(c, batch, &mut mask);
    }
    mask
}

fn eval_one(c: &Compiled, batch: &RecordBatch, mask: &mut [bool]) {
    let Some(chain) = chain(batch, &c.head) else {
        mask.fill(false);
        return;
    };
    let Some(last) = chain.last() else {
        mask.fill(false);
        return;
    };
    match &c.target {
        Target::Plain => {
            let leaf = Leaf::new(last);
            for (i, m) in mask.iter_mut().enumerate() {
                *m = *m
                    && !null_in_chain(&chain, i)
                    && leaf.get(i).is_some_and(|s| satisfies(s, &c.op));
            }
        }
        Target::MapKey(key) => {
            let Some(map) = last.as_map_opt() else {
                mask.fill(false);
                return;
            };
            let (keys, values) = (Leaf::new(map.keys()), Leaf::new(map.values()));
            let offsets = map.value_offsets();
            for (i, m) in mask.iter_mut().enumerate() {
                if !*m {
                    continue;
                }
                let range = match (null_in_chain(&chain, i), offsets.get(i), offsets.get(i + 1)) {
                    (false, Some(&s), Some(&e)) => s as usize..e as usize,
                    _ => 0..0,
                };
                *m = range
                    .filter(|&j| keys.get(j) == Some(Scalar::Str(key)))
                    .any(|j| values.get(j).is_some_and(|v| satisfies(v, &c.op)));
            }
        }
        Target::WholeList => {
            let Some(values) = list_values(last.as_ref()) else {
                mask.fill(false);
                return;
            };
            let leaf = Leaf::new(&values);
            let (lits, want_equal) = match &c.op {
                Op::Eq(Lit::List(l)) => (l, true),
                Op::Neq(Lit::List(l)) => (l, false),
                _ => {
                    mask.fill(false);
                    return;
                }
            };
            for (i, m) in mask.iter_mut().enumerate() {
                if !*m {
                    continue;
                }
                *m = match (null_in_chain(&chain, i), list_range(last.as_ref(), i)) {
                    (false, Some((s, e))) => {
                        let equal = e - s == lits.len()
                            && (s..e).zip(lits).all(|(j, l)| {
                                leaf.get(j)
                                    .and_then(|v| compare(v, l))
                                    .is_some_and(|o| o == Ordering::Equal)
                            });
                        equal == want_equal
                    }
                    _ => false,
                };
            }
        }
        Target::List { spec, tail } => {
            let elems = list_values(last.as_ref()).and_then(|v| chain_in(&v, tail));
            let Some(elems) = elems else {
                mask.fill(false);
                return;
            };
            let Some(leaf_arr) = elems.last() else {
                mask.fill(false);
                return;
            };
            let leaf = Leaf::new(leaf_arr);
            let needs_value = tail.is_empty()
                && matches!(
                    c.op,
                    Op::Eq(_) | Op::Lt(_) | Op::Leq(_) | Op::Gt(_) | Op::Geq(_) | Op::Between(..)
                );
            let elem = |j: usize| -> Option<bool> {
                if null_in_chain(&elems, j) {
                    return None;
                }
                Some(leaf.get(j).is_some_and(|s| satisfies(s, &c.op)))
            };
            for (i, m) in mask.iter_mut().enumerate() {
                if !*m {
                    continue;
                }
                let Some((s, e)) = (!null_in_chain(&chain, i))
                    .then(|| list_range(last.as_ref(), i))
                    .flatten()
                else {
                    *m = false;
                    continue;
                };
                *m = match spec {
                    Spec::Index(n) => s
                        .checked_add(*n)
                        .filter(|&j| j < e)
                        .and_then(elem)
                        .unwrap_or(false),
                    Spec::Any => (s..e).any(|j| elem(j) == Some(true)),
                    Spec::All => {
                        let mut seen = false;
                        let mut all = true;
                        for j in s..e {
                            match elem(j) {
                                Some(true) => seen = true,
                                Some(false) => {
                                    all = false;
                                    break;
                                }
                                None => {}
                            }
                        }
                        all && (seen || !needs_value)
                    }
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::field::FieldKey;
    use crate::query::ops::parse_condition;
    use arrow_array::{ArrayRef, Int64Array, TimestampMillisecondArray};
    use arrow_schema::{Field, TimeUnit};
    use serde_json::json;
    use std::sync::Arc;

    fn cond(key: &str, c: serde_json::Value) -> FieldCond {
        FieldCond {
            key: key.into(),
            field: FieldKey::parse(key).unwrap(),
            op: parse_condition(key, &c).unwrap(),
        }
    }

    #[test]
    fn datetime_strings_compare_with_timestamp_columns() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new(
                "taken",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(1_700_000_000_000),
                    None,
                    Some(1_700_000_001_000),
                ])),
            ],
        )
        .unwrap();
        let run = |c: serde_json::Value| {
            let group = compile(&[cond("T.taken", c)], &schema).unwrap().unwrap();
            eval_group(&group, &batch)
        };
        assert_eq!(
            run(json!({"$geq": "2023-11-14T22:13:20.5"})),
            [false, false, true]
        );
        assert_eq!(
            run(json!({"$eq": "1700000000000000000"})),
            [true, false, false]
        );
        assert!(compile(&[cond("T.taken", json!({"$eq": "soon"}))], &schema).is_err());
        assert!(compile(&[cond("T.missing", json!({"$eq": 1}))], &schema)
            .unwrap()
            .is_none());
    }

    #[test]
    fn map_fields_are_addressed_by_key() {
        use arrow_array::builder::{Float64Builder, MapBuilder, StringBuilder};
        let mut mb = MapBuilder::new(None, StringBuilder::new(), Float64Builder::new());
        for row in [
            vec![("gain", 1.5), ("bias", -2.0)],
            vec![("bias", 3.0)],
            vec![],
        ] {
            for (k, v) in row {
                mb.keys().append_value(k);
                mb.values().append_value(v);
            }
            mb.append(true).unwrap();
        }
        mb.append(false).unwrap();
        let map = mb.finish();
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("params", arrow_array::Array::data_type(&map).clone(), true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
                Arc::new(map),
            ],
        )
        .unwrap();
        let run = |key: &str, c: serde_json::Value| {
            let group = compile(&[cond(key, c)], &schema).unwrap().unwrap();
            assert!(matches!(group[0].target, Target::MapKey(_)));
            eval_group(&group, &batch)
        };
        assert_eq!(
            run("T.params.bias", json!({"$lt": 0})),
            [true, false, false, false]
        );
        assert_eq!(
            run("T.params.bias", json!({"$neq": 0})),
            [true, true, false, false]
        );
        assert_eq!(
            run("T.params.gain", json!({"$eq": 1.5})),
            [true, false, false, false]
        );
        assert_eq!(run("T.params.none", json!({"$eq": 1.5})), [false; 4]);
    }
}
