//! Reading scalars out of Arrow arrays for the exact evaluation.
//!
//! Leaf columns are normalised once per batch: signed integers and temporal types to `i64`
//! (their native unit, as the skip index records them), unsigned integers to `u64`, floats to
//! `f64` (exact widening), strings of every layout as `&str`. Other types (binary, decimals,
//! nested) yield no scalar and so satisfy no operator.

use super::value::Scalar;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Fields};

/// One leaf column, normalised.
pub enum Leaf {
    /// Signed integers and temporal types.
    Int(arrow_array::Int64Array),
    /// Unsigned integers.
    UInt(arrow_array::UInt64Array),
    /// Floats.
    Float(arrow_array::Float64Array),
    /// Booleans.
    Bool(arrow_array::BooleanArray),
    /// Strings (any layout).
    Str(ArrayRef),
    /// A type with no scalar comparison.
    Unsupported,
}

fn cast(arr: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    arrow_cast::cast(arr, to).ok()
}

impl Leaf {
    /// Normalise `arr`.
    pub fn new(arr: &ArrayRef) -> Leaf {
        use DataType::*;
        let dt = arr.data_type();
        let int = || cast(arr, &Int64).and_then(|a| a.as_primitive_opt().cloned());
        match dt {
            Int8 | Int16 | Int32 | Int64 | Timestamp(..) | Date32 | Date64 | Time32(_)
            | Time64(_) | Duration(_) => int().map_or(Leaf::Unsupported, Leaf::Int),
            UInt8 | UInt16 | UInt32 | UInt64 => cast(arr, &UInt64)
                .and_then(|a| a.as_primitive_opt().cloned())
                .map_or(Leaf::Unsupported, Leaf::UInt),
            Float16 | Float32 | Float64 => cast(arr, &Float64)
                .and_then(|a| a.as_primitive_opt().cloned())
                .map_or(Leaf::Unsupported, Leaf::Float),
            Boolean => arr
                .as_boolean_opt()
                .cloned()
                .map_or(Leaf::Unsupported, Leaf::Bool),
            Utf8 | LargeUtf8 | Utf8View => Leaf::Str(arr.clone()),
            _ => Leaf::Unsupported,
        }
    }

    /// The scalar at row `i`; `None` when null or out of range.
    pub fn get(&self, i: usize) -> Option<Scalar<'_>> {
        fn ok(a: &dyn Array, i: usize) -> bool {
            i < a.len() && !a.is_null(i)
        }
        match self {
            Leaf::Int(a) => ok(a, i).then(|| Scalar::Int(a.value(i))),
            Leaf::UInt(a) => ok(a, i).then(|| Scalar::UInt(a.value(i))),
            Leaf::Float(a) => ok(a, i).then(|| Scalar::Float(a.value(i))),
            Leaf::Bool(a) => ok(a, i).then(|| Scalar::Bool(a.value(i))),
            Leaf::Str(a) => {
                if !ok(a.as_ref(), i) {
                    return None;
                }
                if let Some(s) = a.as_string_opt::<i32>() {
                    Some(Scalar::Str(s.value(i)))
                } else if let Some(s) = a.as_string_opt::<i64>() {
                    Some(Scalar::Str(s.value(i)))
                } else {
                    a.as_string_view_opt().map(|s| Scalar::Str(s.value(i)))
                }
            }
            Leaf::Unsupported => None,
        }
    }
}

/// Whether `dt` is a list type.
pub fn is_list(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    )
}

/// The element type of a list type.
pub fn list_item(dt: &DataType) -> Option<&DataType> {
    match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type())
        }
        _ => None,
    }
}

/// The type at `names` below `fields` (struct navigation only).
pub fn field_type<'a>(fields: &'a Fields, names: &[String]) -> Option<&'a DataType> {
    let (first, rest) = names.split_first()?;
    let f = fields.iter().find(|f| f.name() == first)?;
    if rest.is_empty() {
        return Some(f.data_type());
    }
    match f.data_type() {
        DataType::Struct(children) => field_type(children, rest),
        _ => None,
    }
}

/// The arrays from `root`'s child `names[0]` down to `names[last]`; `None` if the path does not
/// exist in this data.
pub fn chain_in(root: &ArrayRef, names: &[String]) -> Option<Vec<ArrayRef>> {
    let mut out = vec![root.clone()];
    for n in names {
        let next = out.last()?.as_struct_opt()?.column_by_name(n)?.clone();
        out.push(next);
    }
    Some(out)
}

/// The arrays from the batch's top-level column `names[0]` down to `names[last]`.
pub fn chain(batch: &RecordBatch, names: &[String]) -> Option<Vec<ArrayRef>> {
    let (first, rest) = names.split_first()?;
    let top = batch.column_by_name(first)?;
    chain_in(top, rest)
}

/// Whether row `i` is null in any array of the chain (an ancestor struct or the leaf).
pub fn null_in_chain(chain: &[ArrayRef], i: usize) -> bool {
    chain.iter().any(|a| i >= a.len() || a.is_null(i))
}

/// The element range `[start, end)` of row `i` of a list array, in its values array.
pub fn list_range(list: &dyn Array, i: usize) -> Option<(usize, usize)> {
    if i >= list.len() || list.is_null(i) {
        return None;
    }
    if let Some(l) = list.as_list_opt::<i32>() {
        let o = l.value_offsets();
        Some((*o.get(i)? as usize, *o.get(i + 1)? as usize))
    } else if let Some(l) = list.as_list_opt::<i64>() {
        let o = l.value_offsets();
        Some((*o.get(i)? as usize, *o.get(i + 1)? as usize))
    } else if let Some(l) = list.as_fixed_size_list_opt() {
        let s = l.value_offset_at(i);
        Some((s, s + l.value_length() as usize))
    } else {
        None
    }
}

/// The values array of a list array.
pub fn list_values(list: &dyn Array) -> Option<ArrayRef> {
    if let Some(l) = list.as_list_opt::<i32>() {
        Some(l.values().clone())
    } else if let Some(l) = list.as_list_opt::<i64>() {
        Some(l.values().clone())
    } else {
        list.as_fixed_size_list_opt().map(|l| l.values().clone())
    }
}
