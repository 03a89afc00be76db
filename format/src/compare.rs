//! Exact ordering of [`StatValue`]s across kinds, for pruning.
//!
//! Int/UInt/Float compare by mathematical value without lossy casts (an `i64` is compared with
//! an `f64` through the float's integer part and fraction). Booleans compare with booleans and
//! strings with strings (by bytes); any other pairing is incomparable (`None`), as is NaN.
//!
//! Ambiguous pairs are also `None`: values that are equal as IEEE numbers but ordered differently
//! by Arrow's total order (`-0.0` vs `0.0`, and `-0.0` vs integer `0`). Pruning treats `None` as
//! "keep", which makes it sound whether predicates are later evaluated with IEEE semantics or with
//! Arrow's total-order kernels.

use std::cmp::Ordering;

use crate::stats::StatValue;

/// `2^63` as `f64` (exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
/// `2^64` as `f64` (exact).
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Compares `a` with `b`; `None` if they are incomparable or the order is ambiguous.
pub fn compare(a: &StatValue, b: &StatValue) -> Option<Ordering> {
    use StatValue::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (UInt(x), UInt(y)) => Some(x.cmp(y)),
        (Int(x), UInt(y)) => Some(cmp_i64_u64(*x, *y)),
        (UInt(x), Int(y)) => Some(cmp_i64_u64(*y, *x).reverse()),
        (Float(x), Float(y)) => cmp_f64(*x, *y),
        (Int(x), Float(y)) => cmp_i64_f64(*x, *y),
        (Float(x), Int(y)) => cmp_i64_f64(*y, *x).map(Ordering::reverse),
        (UInt(x), Float(y)) => cmp_u64_f64(*x, *y),
        (Float(x), UInt(y)) => cmp_u64_f64(*y, *x).map(Ordering::reverse),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Str { value: x, .. }, Str { value: y, .. }) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

fn cmp_i64_u64(x: i64, y: u64) -> Ordering {
    match u64::try_from(x) {
        Ok(x) => x.cmp(&y),
        Err(_) => Ordering::Less,
    }
}

fn cmp_f64(x: f64, y: f64) -> Option<Ordering> {
    let ieee = x.partial_cmp(&y)?;
    (ieee == x.total_cmp(&y)).then_some(ieee)
}

/// Exact `x` vs `y`; `y` is split into integer part and fraction (both exact in `f64`).
fn cmp_i64_f64(x: i64, y: f64) -> Option<Ordering> {
    if y.is_nan() || (x == 0 && y == 0.0 && y.is_sign_negative()) {
        return None;
    }
    if y >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if y < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let int = y.trunc();
    // In range [-2^63, 2^63) and integral, so the cast is exact.
    let ord = x.cmp(&(int as i64));
    Some(ord.then(0.0f64.partial_cmp(&(y - int))?))
}

/// Exact `x` vs `y` for unsigned `x`.
fn cmp_u64_f64(x: u64, y: f64) -> Option<Ordering> {
    if y.is_nan() || (x == 0 && y == 0.0 && y.is_sign_negative()) {
        return None;
    }
    if y >= TWO_POW_64 {
        return Some(Ordering::Less);
    }
    if y < 0.0 {
        return Some(Ordering::Greater);
    }
    let int = y.trunc();
    let ord = x.cmp(&(int as u64));
    Some(ord.then(0.0f64.partial_cmp(&(y - int))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;
    use StatValue::*;

    #[test]
    fn integers_across_signedness() {
        assert_eq!(compare(&Int(-1), &UInt(0)), Some(Less));
        assert_eq!(compare(&UInt(u64::MAX), &Int(i64::MAX)), Some(Greater));
        assert_eq!(compare(&Int(7), &UInt(7)), Some(Equal));
    }

    #[test]
    fn ints_vs_floats_are_exact() {
        // 2^53 + 1 is not representable as f64; a lossy cast would call these equal.
        let big = (1i64 << 53) + 1;
        assert_eq!(
            compare(&Int(big), &Float((1u64 << 53) as f64)),
            Some(Greater)
        );
        assert_eq!(compare(&Int(i64::MAX), &Float(TWO_POW_63)), Some(Less));
        assert_eq!(compare(&Int(i64::MIN), &Float(-TWO_POW_63)), Some(Equal));
        assert_eq!(compare(&Int(3), &Float(3.5)), Some(Less));
        assert_eq!(compare(&Int(-3), &Float(-3.5)), Some(Greater));
        assert_eq!(compare(&Float(-3.5), &Int(-3)), Some(Less));
        assert_eq!(compare(&UInt(u64::MAX), &Float(TWO_POW_64)), Some(Less));
        assert_eq!(compare(&UInt(0), &Float(-0.5)), Some(Greater));
        assert_eq!(compare(&UInt(1), &Float(f64::INFINITY)), Some(Less));
        assert_eq!(compare(&Int(1), &Float(f64::NEG_INFINITY)), Some(Greater));
    }

    #[test]
    fn nan_zero_and_kind_mismatches() {
        assert_eq!(compare(&Float(f64::NAN), &Float(1.0)), None);
        assert_eq!(compare(&Int(1), &Float(f64::NAN)), None);
        assert_eq!(compare(&Float(-0.0), &Float(0.0)), None);
        assert_eq!(compare(&Float(0.0), &Float(0.0)), Some(Equal));
        assert_eq!(compare(&Int(0), &Float(-0.0)), None);
        assert_eq!(compare(&Int(0), &Float(0.0)), Some(Equal));
        assert_eq!(compare(&Int(1), &Float(-0.0)), Some(Greater));
        assert_eq!(compare(&Bool(true), &Int(1)), None);
        let s = |v: &str| Str {
            value: v.into(),
            truncated: false,
        };
        assert_eq!(compare(&s("a"), &s("ab")), Some(Less));
        assert_eq!(compare(&s("é"), &s("z")), Some(Greater));
    }
}
