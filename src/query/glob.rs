//! `$match` patterns: the "simplified regex" of protocol.md Part B §1.1, translated item by item
//! into an anchored regex.
//!
//! | item        | meaning                                   | regex   |
//! |-------------|-------------------------------------------|---------|
//! | `*` (runs)  | zero or more of any character             | `.*`    |
//! | `?`         | exactly one character                     | `.`     |
//! | `#`         | one ASCII digit                           | `[0-9]` |
//! | `[`…`]`     | a class, copied verbatim to the first `]` | `[…]`   |
//! | other       | itself (regex metacharacters escaped)     | literal |
//!
//! A pattern is non-empty and at most [`MAX_PATTERN_BYTES`] long; one that does not translate
//! into a valid regex (unclosed `[`, reversed range) is refused. Matching is case-sensitive and
//! covers the whole value; a pattern without wildcards is an exact match.

use crate::error::{Error, Result};
use regex::Regex;

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 256;

/// A compiled `$match` pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    regex: Regex,
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Glob {
    /// Compile `pattern`; errors are INVALID_ARGUMENT with upstream's wording.
    pub fn new(pattern: &str) -> Result<Glob> {
        if pattern.is_empty() {
            return Err(Error::invalid("match pattern cannot be empty."));
        }
        if pattern.len() > MAX_PATTERN_BYTES {
            return Err(Error::invalid(format!(
                "regex pattern too long. Max is {MAX_PATTERN_BYTES}."
            )));
        }
        let regex = Regex::new(&translate(pattern)).map_err(|e| {
            let first = e.to_string();
            let first = first.lines().last().unwrap_or_default().trim().to_string();
            Error::invalid(format!(
                "regex parsing error in `$match` pattern `{}`: {first}.",
                pattern.escape_debug()
            ))
        })?;
        Ok(Glob {
            pattern: pattern.to_string(),
            regex,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// Whether the pattern's first item is a literal character other than `/`.
    pub fn starts_with_literal_other_than_slash(&self) -> bool {
        self.pattern
            .chars()
            .next()
            .is_some_and(|c| !matches!(c, '*' | '?' | '#' | '[' | '/'))
    }
}

/// The anchored regex for `pattern` (before compilation).
fn translate(pattern: &str) -> String {
    let mut out = String::from(r"(?s)\A");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '#' => out.push_str("[0-9]"),
            '[' => {
                out.push('[');
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
            }
            other => out.push_str(&regex::escape(other.encode_utf8(&mut [0u8; 4]))),
        }
    }
    out.push_str(r"\z");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        Glob::new(p).unwrap().is_match(v)
    }

    #[test]
    fn wildcards_are_anchored() {
        assert!(m("imu_*_01", "imu_front_01"));
        assert!(!m("imu_*_01", "imu_front_01x"));
        assert!(m("*_##", "run_42"));
        assert!(!m("*_##", "run_4a"));
        assert!(m("?.2.0", "1.2.0"));
        assert!(!m("?.2.0", "1x2.0"));
        assert!(m("[gs]*", "gps"));
        assert!(!m("[gs]*", "inertix-dynamics"));
        assert!(m("[^0-9]x", "ax"));
        assert!(!m("[^0-9]x", "1x"));
        assert!(m("a**b", "a\nb"));
        assert!(m("[*?#]", "#"));
    }

    #[test]
    fn no_wildcard_is_an_exact_match_and_metacharacters_are_literal() {
        assert!(m("test-filter-sequence", "test-filter-sequence"));
        assert!(!m("test-filter-sequence", "test-filter-sequence-1"));
        assert!(m("a.b+(c)|{d}$^\\", "a.b+(c)|{d}$^\\"));
        assert!(!m("a.b", "axb"));
    }

    #[test]
    fn bad_patterns_are_invalid_argument() {
        use crate::error::ErrorKind;
        for bad in ["", "[abc", "[z-a]", "[a-*z]", &"x".repeat(257)] {
            let e = Glob::new(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad}");
        }
        assert_eq!(
            Glob::new("").unwrap_err().message,
            "match pattern cannot be empty."
        );
        assert!(Glob::new(&"x".repeat(256)).is_ok());
    }
}
