//! Estimating the Arrow memory each row of a batch occupies, so the writer can cut sorted output
//! into batches of at most `max_batch_bytes`.
//!
//! The estimate counts value and offset bytes a row contributes to its column buffers: fixed-width
//! values by their width (booleans as one byte), variable-width values by their length plus their
//! offset (or view) slot, structs as the sum of their children, lists/maps as their offset slot
//! plus their elements. Validity bits and buffer padding are ignored. Types without a simple
//! per-row layout (unions, dictionaries, run-end encoded) get the array's average per row.

use arrow_array::cast::AsArray;
use arrow_array::{Array, OffsetSizeTrait, RecordBatch};
use arrow_schema::DataType;

/// Estimated bytes of each row of `batch`.
pub(crate) fn row_sizes(batch: &RecordBatch) -> Vec<u64> {
    let mut sizes = vec![0u64; batch.num_rows()];
    for column in batch.columns() {
        add_row_sizes(column.as_ref(), &mut sizes);
    }
    sizes
}

/// Adds the estimated size of each row of `array` to `out` (one slot per row).
fn add_row_sizes(array: &dyn Array, out: &mut [u64]) {
    let n = array.len().min(out.len());
    let out = &mut out[..n];
    let dt = array.data_type();
    if let Some(width) = dt.primitive_width() {
        add_const(out, width as u64);
        return;
    }
    match dt {
        DataType::Null => {}
        DataType::Boolean => add_const(out, 1),
        DataType::FixedSizeBinary(w) => add_const(out, u64::try_from(*w).unwrap_or(0)),
        DataType::Utf8 => var_width(out, 4, array.as_string::<i32>().value_offsets()),
        DataType::LargeUtf8 => var_width(out, 8, array.as_string::<i64>().value_offsets()),
        DataType::Binary => var_width(out, 4, array.as_binary::<i32>().value_offsets()),
        DataType::LargeBinary => var_width(out, 8, array.as_binary::<i64>().value_offsets()),
        DataType::Utf8View => views(out, array.as_string_view().views()),
        DataType::BinaryView => views(out, array.as_binary_view().views()),
        DataType::Struct(_) => {
            for child in array.as_struct().columns() {
                add_row_sizes(child.as_ref(), out);
            }
        }
        DataType::List(_) => list_sizes(out, array.as_list::<i32>()),
        DataType::LargeList(_) => list_sizes(out, array.as_list::<i64>()),
        DataType::Map(..) => {
            let map = array.as_map();
            nested(out, 4, map.entries(), |i| {
                let o = map.value_offsets();
                (o[i] as usize, o[i + 1] as usize)
            });
        }
        DataType::FixedSizeList(_, _) => {
            let fsl = array.as_fixed_size_list();
            let len = fsl.value_length() as usize;
            nested(out, 0, fsl.values(), |i| {
                let start = fsl.value_offset_at(i);
                (start, start + len)
            });
        }
        _ => add_const(out, average(array)),
    }
}

fn add_const(out: &mut [u64], v: u64) {
    out.iter_mut().for_each(|s| *s += v);
}

fn average(array: &dyn Array) -> u64 {
    let len = array.len().max(1) as u64;
    array.get_array_memory_size() as u64 / len
}

fn var_width<O: OffsetSizeTrait>(out: &mut [u64], offset_width: u64, offsets: &[O]) {
    for (slot, w) in out.iter_mut().zip(offsets.windows(2)) {
        *slot += offset_width + (w[1].as_usize().saturating_sub(w[0].as_usize())) as u64;
    }
}

fn views(out: &mut [u64], views: &[u128]) {
    for (slot, view) in out.iter_mut().zip(views) {
        // The low 32 bits of a view are the value length; up to 12 bytes are stored inline.
        let len = u64::from(*view as u32);
        *slot += 16 + if len > 12 { len } else { 0 };
    }
}

fn list_sizes<O: OffsetSizeTrait>(out: &mut [u64], list: &arrow_array::GenericListArray<O>) {
    let offsets = list.value_offsets();
    nested(out, O::IS_LARGE as u64 * 4 + 4, list.values(), |i| {
        (offsets[i].as_usize(), offsets[i + 1].as_usize())
    });
}

/// Adds `offset_width` plus the summed sizes of child rows `range(i)` for each parent row `i`.
fn nested(
    out: &mut [u64],
    offset_width: u64,
    child: &dyn Array,
    range: impl Fn(usize) -> (usize, usize),
) {
    let mut child_sizes = vec![0u64; child.len()];
    add_row_sizes(child, &mut child_sizes);
    // Prefix sums turn each parent's element range into one subtraction.
    let mut prefix = Vec::with_capacity(child_sizes.len() + 1);
    prefix.push(0u64);
    let mut acc = 0u64;
    for s in child_sizes {
        acc += s;
        prefix.push(acc);
    }
    for (i, slot) in out.iter_mut().enumerate() {
        let (start, end) = range(i);
        let total = match (prefix.get(end), prefix.get(start)) {
            (Some(e), Some(s)) => e.saturating_sub(*s),
            _ => 0,
        };
        *slot += offset_width + total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, BinaryArray, Int16Array, StructArray};
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn sizes_per_type() {
        let ints: ArrayRef = Arc::new(Int16Array::from(vec![1, 2, 3]));
        let bin: ArrayRef = Arc::new(BinaryArray::from(vec![&b"abcd"[..], b"", b"xy"]));
        let mut lb = ListBuilder::new(StringBuilder::new());
        lb.append_value([Some("aa"), Some("b")]);
        lb.append_null();
        lb.append_value([Some("")]);
        let list: ArrayRef = Arc::new(lb.finish());
        let st: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("i", arrow_schema::DataType::Int16, false)),
            ints.clone(),
        )]));
        let schema = Schema::new(vec![
            Field::new("i", ints.data_type().clone(), false),
            Field::new("b", bin.data_type().clone(), false),
            Field::new("l", list.data_type().clone(), true),
            Field::new("s", st.data_type().clone(), false),
        ]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![ints, bin, list, st]).unwrap();
        // i: 2; b: 4 + len; l: 4 + per element (4 + len); s: 2.
        assert_eq!(
            row_sizes(&batch),
            vec![2 + 8 + (4 + 6 + 5) + 2, 2 + 4 + 4 + 2, 2 + 6 + 8 + 2]
        );
        // Slices measure only their own rows.
        assert_eq!(row_sizes(&batch.slice(1, 2)), vec![12, 18]);
    }
}
