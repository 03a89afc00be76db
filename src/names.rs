//! Names and locators (protocol.md §7): what the server accepts and the canonical form it stores.
//!
//! - Sequence: `"name"`; surrounding `/` are stripped. Stored and returned without slashes.
//! - Topic: `"<sequence>/<topic path>"`, split at the first `/`; the topic path is stored without
//!   a leading slash (`"camera/front"`) and reported as `"seq/camera/front"`.
//! - Session: `"<sequence>:<session id>"`.
//!
//! Accepted characters: printable ASCII except `/ : . space ! " ' * $ % & \` and control
//! characters (`/` is allowed inside a topic path as separator). At most [`MAX_NAME_BYTES`].

use crate::error::{Error, Result};

/// Longest sequence name or topic path accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

const FORBIDDEN: &[char] = &[':', '.', ' ', '!', '"', '\'', '*', '$', '%', '&', '\\', '/'];

fn check_segment(what: &str, s: &str, full: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid(format!(
            "{what} `{full}` has an empty name part."
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control() || FORBIDDEN.contains(c))
    {
        return Err(Error::invalid(format!(
            "{what} `{}` contains the forbidden character {c:?}; use letters, digits, `_` and `-`.",
            full.escape_debug()
        )));
    }
    Ok(())
}

fn check_len(what: &str, s: &str) -> Result<()> {
    if s.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(format!(
            "{what} is {} bytes long; the limit is {MAX_NAME_BYTES}.",
            s.len()
        )));
    }
    Ok(())
}

/// Validate a sequence name and return its canonical form (surrounding `/` stripped).
pub fn sequence_name(raw: &str) -> Result<String> {
    let name = raw.trim_matches('/');
    check_len("sequence name", name)?;
    if name.is_empty() {
        return Err(Error::invalid("sequence name must not be empty."));
    }
    check_segment("sequence name", name, raw)?;
    Ok(name.to_string())
}

/// A parsed topic locator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicLocator {
    /// Canonical sequence name.
    pub sequence: String,
    /// Topic path without leading slash, e.g. `camera/front`.
    pub topic: String,
}

impl TopicLocator {
    /// The canonical locator `seq/topic`.
    pub fn locator(&self) -> String {
        format!("{}/{}", self.sequence, self.topic)
    }
}

/// Validate a topic locator `"seq/topic/path"` (a leading `/` is tolerated).
pub fn topic_locator(raw: &str) -> Result<TopicLocator> {
    let trimmed = raw.strip_prefix('/').unwrap_or(raw);
    let Some((seq, topic)) = trimmed.split_once('/') else {
        return Err(Error::invalid(format!(
            "topic locator `{}` must look like `sequence/topic`.",
            raw.escape_debug()
        )));
    };
    let sequence = sequence_name(seq)?;
    check_len("topic name", topic)?;
    if topic.is_empty() || topic.starts_with('/') || topic.ends_with('/') || topic.contains("//") {
        return Err(Error::invalid(format!(
            "topic locator `{}` has an empty path segment.",
            raw.escape_debug()
        )));
    }
    for part in topic.split('/') {
        check_segment("topic locator", part, raw)?;
    }
    Ok(TopicLocator {
        sequence,
        topic: topic.to_string(),
    })
}

/// Validate a session locator `"seq:<id>"` and return `(sequence, id)`.
pub fn session_locator(raw: &str) -> Result<(String, String)> {
    let Some((seq, id)) = raw.split_once(':') else {
        return Err(Error::invalid(format!(
            "session locator `{}` must look like `sequence:SESSIONID`.",
            raw.escape_debug()
        )));
    };
    let seq = sequence_name(seq)?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(format!(
            "session locator `{}` has a malformed session id.",
            raw.escape_debug()
        )));
    }
    Ok((seq, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn sequence_names_are_stripped_and_checked() {
        assert_eq!(sequence_name("/run_42/").unwrap(), "run_42");
        assert_eq!(sequence_name("a-b_C9").unwrap(), "a-b_C9");
        for bad in [
            "",
            "/",
            "a/b",
            "a:b",
            "a.b",
            "a b",
            "é",
            "a*",
            "a\0b",
            &"x".repeat(300),
        ] {
            let e = sequence_name(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn topic_locators_split_at_first_slash() {
        let t = topic_locator("run/camera/front").unwrap();
        assert_eq!(
            (t.sequence.as_str(), t.topic.as_str()),
            ("run", "camera/front")
        );
        assert_eq!(t.locator(), "run/camera/front");
        assert_eq!(topic_locator("/run/imu").unwrap().topic, "imu");
        for bad in ["run", "run/", "run//x", "run/x/", "run/a:b", "/", "run/a b"] {
            assert!(topic_locator(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn session_locators_need_one_colon() {
        let (s, id) = session_locator("run:01KQ9XQ0HJ3V39F87CBP6PYA1T").unwrap();
        assert_eq!(
            (s.as_str(), id.as_str()),
            ("run", "01KQ9XQ0HJ3V39F87CBP6PYA1T")
        );
        for bad in ["run", "run:", "run:a/b", ":x", "run:a:b"] {
            assert!(session_locator(bad).is_err(), "{bad:?}");
        }
    }
}
