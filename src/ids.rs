//! Identifiers and clocks: secret tokens, session ids, wall-clock nanoseconds.

use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// A fresh secret write token (random UUID v4).
pub fn new_token() -> Uuid {
    Uuid::new_v4()
}

/// A fresh internal id that sorts by creation time (UUID v7).
pub fn new_internal_id() -> Uuid {
    Uuid::now_v7()
}

/// Nanoseconds since the Unix epoch (UTC), saturating.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-shaped session id: 26 Crockford base32 characters of a UUID v7 (48-bit millisecond
/// time + randomness), so ids of one sequence sort by creation time, like the reference server's
/// `"<sequence>:<ULID>"` session locators.
pub fn new_session_id() -> String {
    encode_crockford(new_internal_id().as_u128())
}

fn encode_crockford(mut v: u128) -> String {
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD.get((v & 31) as usize).copied().unwrap_or(b'0');
        v >>= 5;
    }
    out.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crockford_encoding_is_fixed_width_and_ordered() {
        assert_eq!(encode_crockford(0), "00000000000000000000000000");
        assert_eq!(encode_crockford(u128::MAX), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
        assert!(encode_crockford(31) < encode_crockford(32));
        let a = new_session_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_session_id();
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} < {b}");
    }
}
