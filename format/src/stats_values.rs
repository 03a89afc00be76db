//! Per-type min/max accumulation for [`crate::stats_compute`]: one [`ValueAcc`] per leaf column,
//! one [`GeoAcc`] per coordinate struct. Rules are documented in `stats_compute.rs`.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};

use crate::error::FormatError;
use crate::stats::{fmax, fmin, GeoBounds, StatValue};
use crate::strbound::{max_bound, min_bound};

/// Running min/max of one leaf column. Strings are kept in full and shortened only at the end,
/// so the result does not depend on how rows are split into batches.
#[derive(Debug)]
pub(crate) enum ValueAcc {
    /// A type without min/max (binary, lists, decimals, ...).
    Opaque,
    Int(Option<(i64, i64)>),
    UInt(Option<(u64, u64)>),
    Float {
        range: Option<(f64, f64)>,
        has_nan: bool,
    },
    Bool(Option<(bool, bool)>),
    Str(Option<(String, String)>),
}

/// Running bounding box of one coordinate struct: `[min_lat, max_lat, min_lon, max_lon]`.
#[derive(Debug)]
pub(crate) struct GeoAcc {
    path: String,
    bounds: Option<[f64; 4]>,
}

/// Row indices that are valid under `nulls` (all rows if `None`).
fn valid_rows(len: usize, nulls: Option<&NullBuffer>) -> Box<dyn Iterator<Item = usize> + '_> {
    match nulls {
        None => Box::new(0..len),
        Some(n) => Box::new(n.valid_indices().filter(move |&i| i < len)),
    }
}

fn extend<V: PartialOrd + Copy>(acc: &mut Option<(V, V)>, v: V) {
    match acc {
        None => *acc = Some((v, v)),
        Some((lo, hi)) => {
            if v < *lo {
                *lo = v;
            }
            if v > *hi {
                *hi = v;
            }
        }
    }
}

fn prim<T: ArrowPrimitiveType, V: PartialOrd + Copy>(
    acc: &mut Option<(V, V)>,
    array: &dyn Array,
    nulls: Option<&NullBuffer>,
    conv: impl Fn(T::Native) -> V,
) -> Option<()> {
    let values = array.as_primitive_opt::<T>()?.values();
    for i in valid_rows(values.len(), nulls) {
        extend(acc, conv(*values.get(i)?));
    }
    Some(())
}

/// All values of a Float16/32/64 array widened to `f64` (null slots included), else `None`.
pub(crate) fn float_values(array: &dyn Array) -> Option<Vec<f64>> {
    fn widen<T: ArrowPrimitiveType>(
        a: &dyn Array,
        f: impl Fn(T::Native) -> f64,
    ) -> Option<Vec<f64>> {
        Some(
            a.as_primitive_opt::<T>()?
                .values()
                .iter()
                .map(|v| f(*v))
                .collect(),
        )
    }
    match array.data_type() {
        DataType::Float16 => widen::<Float16Type>(array, f64::from),
        DataType::Float32 => widen::<Float32Type>(array, f64::from),
        DataType::Float64 => widen::<Float64Type>(array, |v| v),
        _ => None,
    }
}

/// `(min, max)` of a `timestamp_ns` column (`None` if empty); errors unless a null-free Int64.
pub(crate) fn timestamp_range(array: &dyn Array) -> Result<Option<(i64, i64)>, FormatError> {
    let ts: &PrimitiveArray<Int64Type> = array
        .as_primitive_opt()
        .ok_or_else(|| FormatError::NoTimestamp("column is not Int64".into()))?;
    if ts.null_count() > 0 {
        return Err(FormatError::NoTimestamp(format!(
            "column contains {} null values",
            ts.null_count()
        )));
    }
    let mut acc = None;
    for &v in ts.values().iter() {
        extend(&mut acc, v);
    }
    Ok(acc)
}

impl ValueAcc {
    /// The accumulator kind for a leaf of type `dt`.
    pub(crate) fn for_type(dt: &DataType) -> Self {
        use DataType::*;
        match dt {
            Int8 | Int16 | Int32 | Int64 | Timestamp(..) | Date32 | Date64 | Time32(_)
            | Time64(_) | Duration(_) => ValueAcc::Int(None),
            UInt8 | UInt16 | UInt32 | UInt64 => ValueAcc::UInt(None),
            Float16 | Float32 | Float64 => ValueAcc::Float {
                range: None,
                has_nan: false,
            },
            Boolean => ValueAcc::Bool(None),
            Utf8 | LargeUtf8 | Utf8View => ValueAcc::Str(None),
            _ => ValueAcc::Opaque,
        }
    }

    /// Folds in the rows of `array` that are valid under `nulls`; `None` if `array` does not have
    /// the type this accumulator was made for.
    pub(crate) fn update(&mut self, array: &dyn Array, nulls: Option<&NullBuffer>) -> Option<()> {
        use DataType as D;
        match (self, array.data_type()) {
            (ValueAcc::Opaque, _) => Some(()),
            (ValueAcc::Int(acc), dt) => match dt {
                D::Int8 => prim::<Int8Type, _>(acc, array, nulls, i64::from),
                D::Int16 => prim::<Int16Type, _>(acc, array, nulls, i64::from),
                D::Int32 => prim::<Int32Type, _>(acc, array, nulls, i64::from),
                D::Int64 => prim::<Int64Type, _>(acc, array, nulls, |v| v),
                D::Date32 => prim::<Date32Type, _>(acc, array, nulls, i64::from),
                D::Date64 => prim::<Date64Type, _>(acc, array, nulls, |v| v),
                D::Time32(TimeUnit::Second) => {
                    prim::<Time32SecondType, _>(acc, array, nulls, i64::from)
                }
                D::Time32(_) => prim::<Time32MillisecondType, _>(acc, array, nulls, i64::from),
                D::Time64(TimeUnit::Microsecond) => {
                    prim::<Time64MicrosecondType, _>(acc, array, nulls, |v| v)
                }
                D::Time64(_) => prim::<Time64NanosecondType, _>(acc, array, nulls, |v| v),
                D::Timestamp(TimeUnit::Second, _) => {
                    prim::<TimestampSecondType, _>(acc, array, nulls, |v| v)
                }
                D::Timestamp(TimeUnit::Millisecond, _) => {
                    prim::<TimestampMillisecondType, _>(acc, array, nulls, |v| v)
                }
                D::Timestamp(TimeUnit::Microsecond, _) => {
                    prim::<TimestampMicrosecondType, _>(acc, array, nulls, |v| v)
                }
                D::Timestamp(TimeUnit::Nanosecond, _) => {
                    prim::<TimestampNanosecondType, _>(acc, array, nulls, |v| v)
                }
                D::Duration(TimeUnit::Second) => {
                    prim::<DurationSecondType, _>(acc, array, nulls, |v| v)
                }
                D::Duration(TimeUnit::Millisecond) => {
                    prim::<DurationMillisecondType, _>(acc, array, nulls, |v| v)
                }
                D::Duration(TimeUnit::Microsecond) => {
                    prim::<DurationMicrosecondType, _>(acc, array, nulls, |v| v)
                }
                D::Duration(TimeUnit::Nanosecond) => {
                    prim::<DurationNanosecondType, _>(acc, array, nulls, |v| v)
                }
                _ => None,
            },
            (ValueAcc::UInt(acc), dt) => match dt {
                D::UInt8 => prim::<UInt8Type, _>(acc, array, nulls, u64::from),
                D::UInt16 => prim::<UInt16Type, _>(acc, array, nulls, u64::from),
                D::UInt32 => prim::<UInt32Type, _>(acc, array, nulls, u64::from),
                D::UInt64 => prim::<UInt64Type, _>(acc, array, nulls, |v| v),
                _ => None,
            },
            (ValueAcc::Float { range, has_nan }, _) => {
                let values = float_values(array)?;
                for i in valid_rows(values.len(), nulls) {
                    let v = *values.get(i)?;
                    if v.is_nan() {
                        *has_nan = true;
                    } else {
                        *range = Some(match *range {
                            None => (v, v),
                            Some((lo, hi)) => (fmin(lo, v), fmax(hi, v)),
                        });
                    }
                }
                Some(())
            }
            (ValueAcc::Bool(acc), D::Boolean) => {
                let b = array.as_boolean_opt()?;
                for i in valid_rows(b.len(), nulls) {
                    extend(acc, b.value(i));
                }
                Some(())
            }
            (ValueAcc::Str(acc), dt) => {
                let rows = valid_rows(array.len(), nulls);
                match dt {
                    D::Utf8 => {
                        let a = array.as_string_opt::<i32>()?;
                        strs(acc, rows, |i| a.value(i))
                    }
                    D::LargeUtf8 => {
                        let a = array.as_string_opt::<i64>()?;
                        strs(acc, rows, |i| a.value(i))
                    }
                    D::Utf8View => {
                        let a = array.as_string_view_opt()?;
                        strs(acc, rows, |i| a.value(i))
                    }
                    _ => None,
                }
            }
            (ValueAcc::Bool(_), _) => None,
        }
    }

    /// `(min, max, has_nan)` for the finished column.
    pub(crate) fn into_bounds(self) -> (Option<StatValue>, Option<StatValue>, bool) {
        match self {
            ValueAcc::Opaque => (None, None, false),
            ValueAcc::Int(r) => split(r.map(|(a, b)| (StatValue::Int(a), StatValue::Int(b)))),
            ValueAcc::UInt(r) => split(r.map(|(a, b)| (StatValue::UInt(a), StatValue::UInt(b)))),
            ValueAcc::Bool(r) => split(r.map(|(a, b)| (StatValue::Bool(a), StatValue::Bool(b)))),
            ValueAcc::Float { range, has_nan } => {
                let (min, max, _) =
                    split(range.map(|(a, b)| (StatValue::Float(a), StatValue::Float(b))));
                (min, max, has_nan)
            }
            ValueAcc::Str(r) => match r {
                None => (None, None, false),
                Some((lo, hi)) => (Some(min_bound(&lo)), max_bound(&hi), false),
            },
        }
    }
}

fn split(r: Option<(StatValue, StatValue)>) -> (Option<StatValue>, Option<StatValue>, bool) {
    match r {
        None => (None, None, false),
        Some((a, b)) => (Some(a), Some(b), false),
    }
}

fn strs<'a>(
    acc: &mut Option<(String, String)>,
    rows: impl Iterator<Item = usize>,
    get: impl Fn(usize) -> &'a str,
) -> Option<()> {
    for i in rows {
        let s = get(i);
        match acc {
            None => *acc = Some((s.to_owned(), s.to_owned())),
            Some((lo, hi)) => {
                if s < lo.as_str() {
                    *lo = s.to_owned();
                }
                if s > hi.as_str() {
                    *hi = s.to_owned();
                }
            }
        }
    }
    Some(())
}

impl GeoAcc {
    /// An empty box for the struct at `path`.
    pub(crate) fn new(path: String) -> Self {
        Self { path, bounds: None }
    }

    /// Folds in rows valid under `nulls` whose coordinates are both non-NaN.
    pub(crate) fn update(&mut self, lat: &[f64], lon: &[f64], nulls: Option<&NullBuffer>) {
        for i in valid_rows(lat.len().min(lon.len()), nulls) {
            let (Some(&la), Some(&lo)) = (lat.get(i), lon.get(i)) else {
                continue;
            };
            if la.is_nan() || lo.is_nan() {
                continue;
            }
            self.bounds = Some(match self.bounds {
                None => [la, la, lo, lo],
                Some([a, b, c, d]) => [fmin(a, la), fmax(b, la), fmin(c, lo), fmax(d, lo)],
            });
        }
    }

    /// The bounds, or `None` if no row qualified.
    pub(crate) fn finish(self) -> Option<GeoBounds> {
        let [min_lat, max_lat, min_lon, max_lon] = self.bounds?;
        Some(GeoBounds {
            path: self.path,
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        ArrayRef, Date32Array, Decimal128Array, DurationNanosecondArray, NullArray,
        Time32MillisecondArray, TimestampSecondArray,
    };
    use std::sync::Arc;

    fn bounds(array: ArrayRef) -> (Option<StatValue>, Option<StatValue>, bool) {
        let mut acc = ValueAcc::for_type(array.data_type());
        let nulls = array.logical_nulls();
        acc.update(array.as_ref(), nulls.as_ref()).unwrap();
        acc.into_bounds()
    }

    #[test]
    fn temporal_types_are_exact_ints() {
        use StatValue::Int;
        let cases: Vec<(ArrayRef, i64, i64)> = vec![
            (
                Arc::new(Date32Array::from(vec![Some(-3), None, Some(9)])),
                -3,
                9,
            ),
            (Arc::new(Time32MillisecondArray::from(vec![5, 1])), 1, 5),
            (
                Arc::new(DurationNanosecondArray::from(vec![i64::MIN, i64::MAX])),
                i64::MIN,
                i64::MAX,
            ),
            (
                Arc::new(TimestampSecondArray::from(vec![7, -7]).with_timezone("UTC")),
                -7,
                7,
            ),
        ];
        for (array, lo, hi) in cases {
            assert_eq!(bounds(array), (Some(Int(lo)), Some(Int(hi)), false));
        }
    }

    #[test]
    fn float16_is_widened_and_nan_flagged() {
        // f16 bits: 1.0 = 0x3C00, -2.0 = 0xC000, NaN = 0x7E00, -inf = 0xFC00.
        type F16 = <Float16Type as ArrowPrimitiveType>::Native;
        let values: Vec<F16> = [0x3C00, 0x7E00, 0xC000, 0xFC00]
            .map(F16::from_bits)
            .to_vec();
        let (min, max, nan) = bounds(Arc::new(arrow_array::Float16Array::from(values)));
        assert_eq!(min, Some(StatValue::Float(f64::NEG_INFINITY)));
        assert_eq!(max, Some(StatValue::Float(1.0)));
        assert!(nan);
    }

    #[test]
    fn other_types_have_no_bounds() {
        let dec = Decimal128Array::from(vec![1, 2])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(bounds(Arc::new(dec)), (None, None, false));
        assert_eq!(bounds(Arc::new(NullArray::new(3))), (None, None, false));
        // An all-NaN float column has no bounds but is flagged.
        let nan = Arc::new(arrow_array::Float64Array::from(vec![f64::NAN, f64::NAN]));
        assert_eq!(bounds(nan), (None, None, true));
    }
}
