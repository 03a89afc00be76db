//! Shortening string min/max values to at most [`STR_BOUND_MAX_BYTES`] bytes while keeping them
//! valid bounds (strings compare by bytes, which for UTF-8 is code-point order).
//!
//! * min: the longest prefix that ends on a char boundary. A prefix is `<=` the string, hence
//!   `<=` every value.
//! * max: the longest prefix, then its last char replaced by the next Unicode scalar value
//!   (skipping surrogates); chars that cannot be incremented (U+10FFFF) or whose successor would
//!   push the result over the limit are dropped and the previous char is tried. The result is
//!   strictly greater than the string, hence than every value. If no char can be incremented the
//!   max is unknown (`None`).

use crate::stats::StatValue;

/// Longest string bound stored in [`StatValue::Str`], in bytes.
pub const STR_BOUND_MAX_BYTES: usize = 64;

/// A lower bound for `s` of at most [`STR_BOUND_MAX_BYTES`] bytes.
pub(crate) fn min_bound(s: &str) -> StatValue {
    if s.len() <= STR_BOUND_MAX_BYTES {
        return StatValue::Str {
            value: s.to_owned(),
            truncated: false,
        };
    }
    let cut = floor_char_boundary(s, STR_BOUND_MAX_BYTES);
    StatValue::Str {
        value: s.get(..cut).unwrap_or_default().to_owned(),
        truncated: true,
    }
}

/// An upper bound for `s` of at most [`STR_BOUND_MAX_BYTES`] bytes, or `None` if none exists.
pub(crate) fn max_bound(s: &str) -> Option<StatValue> {
    if s.len() <= STR_BOUND_MAX_BYTES {
        return Some(StatValue::Str {
            value: s.to_owned(),
            truncated: false,
        });
    }
    let prefix = s.get(..floor_char_boundary(s, STR_BOUND_MAX_BYTES))?;
    for (idx, c) in prefix.char_indices().rev() {
        let Some(next) = next_char(c) else { continue };
        if idx + next.len_utf8() <= STR_BOUND_MAX_BYTES {
            let mut value = prefix.get(..idx)?.to_owned();
            value.push(next);
            return Some(StatValue::Str {
                value,
                truncated: true,
            });
        }
    }
    None
}

/// Largest char boundary of `s` that is `<= max`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1; // terminates: 0 is always a boundary
    }
    i
}

/// The next Unicode scalar value after `c`, if any.
fn next_char(c: char) -> Option<char> {
    match c as u32 {
        0xD7FF => Some('\u{E000}'),
        x => char::from_u32(x.checked_add(1)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(v: &StatValue) -> (&str, bool) {
        match v {
            StatValue::Str { value, truncated } => (value, *truncated),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn short_strings_are_exact() {
        let s = "é".repeat(32); // exactly 64 bytes
        assert_eq!(parts(&min_bound(&s)), (s.as_str(), false));
        assert_eq!(parts(&max_bound(&s).unwrap()), (s.as_str(), false));
    }

    #[test]
    fn long_ascii_min_is_prefix_and_max_is_incremented() {
        let s = format!("{}b{}", "a".repeat(63), "zzz");
        let min_v = min_bound(&s);
        let (min, t) = parts(&min_v);
        assert!(t);
        assert_eq!(min, format!("{}b", "a".repeat(63)));
        let max_v = max_bound(&s).unwrap();
        let (max, t) = parts(&max_v);
        assert!(t);
        assert_eq!(max, format!("{}c", "a".repeat(63)));
        assert!(max > s.as_str());
    }

    #[test]
    fn multibyte_boundaries() {
        // 21 three-byte chars = 63 bytes, then a 4-byte char crossing the limit.
        let s = format!("{}😀x", "€".repeat(21));
        let min_v = min_bound(&s);
        let (min, _) = parts(&min_v);
        assert_eq!(min, "€".repeat(21));
        let max_v = max_bound(&s).unwrap();
        let (max, t) = parts(&max_v);
        assert!(t && max.len() <= STR_BOUND_MAX_BYTES);
        assert_eq!(max, format!("{}\u{20AD}", "€".repeat(20))); // '€' is U+20AC
        assert!(max > s.as_str());
    }

    #[test]
    fn unincrementable_chars_are_dropped() {
        let s = format!("a{}", "\u{10FFFF}".repeat(20)); // 81 bytes
        let max = max_bound(&s).unwrap();
        assert_eq!(parts(&max), ("b", true));
        let all_max = "\u{10FFFF}".repeat(17);
        assert_eq!(max_bound(&all_max), None);
    }

    #[test]
    fn surrogate_gap_and_growth() {
        assert_eq!(next_char('\u{D7FF}'), Some('\u{E000}'));
        assert_eq!(next_char('\u{10FFFF}'), None);
        // U+007F -> U+0080 grows from 1 to 2 bytes: at byte 63 it no longer fits.
        let s = format!("{}\u{7F}\u{7F}", "a".repeat(63));
        let max_v = max_bound(&s).unwrap();
        let (max, _) = parts(&max_v);
        assert_eq!(max, format!("{}b", "a".repeat(62)));
        assert!(max > s.as_str());
    }
}
