//! Catalog key layouts. Keys sort as raw bytes in fjall, so integers are big-endian and names
//! are separated by a `0x00` byte, which no valid name contains (see `names`).
//!
//! | keyspace        | key bytes                                                     | value              |
//! |-----------------|---------------------------------------------------------------|--------------------|
//! | `sequences`     | sequence name (UTF-8)                                         | `SequenceRecord`   |
//! | `sessions`      | sequence name, `0x00`, session id (26 ASCII, sorts by time)   | `SessionRecord`    |
//! | `topics`        | sequence name, `0x00`, topic path (UTF-8, no leading `/`)     | `TopicRecord`      |
//! | `tokens`        | token UUID, 16 bytes                                          | `TokenRecord`      |
//! | `schemas`       | topic internal id (UUID v7), 16 bytes                         | `SchemaRecord`     |
//! | `notifications` | target (`seq` or `seq/topic`), `0x00`, created ns (i64, sign-flipped BE, 8), counter (u32 BE, 4) | `NotificationRecord` |
//! | `chunks`        | see `chunks` (topic id, ordered ts_min, first WAL seq)        | `ChunkRecord` (binary, see `chunks`) |
//! | `meta`          | ASCII `catalog_version`                                       | u32 LE             |
//!
//! Signed integers are stored as big-endian with the sign bit flipped, so that byte order equals
//! numeric order (`i64::MIN` → `00…00`, `-1` → `7F…FF`, `0` → `80…00`).
//! Value layouts are in `records`. The layout version lives in `meta/catalog_version`; a catalog
//! with another version is refused at startup (no guessing, no silent migration).

use uuid::Uuid;

/// Separator between name parts in composite keys.
pub const SEP: u8 = 0x00;

/// Key of a sequence.
pub fn sequence(name: &str) -> Vec<u8> {
    name.as_bytes().to_vec()
}

/// Prefix shared by every child key (session, topic) of one sequence.
pub fn children_prefix(sequence: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(sequence.len() + 1);
    k.extend_from_slice(sequence.as_bytes());
    k.push(SEP);
    k
}

/// Key of a session or topic: `sequence 0x00 child`.
pub fn child(sequence: &str, child: &str) -> Vec<u8> {
    let mut k = children_prefix(sequence);
    k.extend_from_slice(child.as_bytes());
    k
}

/// Split a child key into `(sequence, child)`; `None` if it is not one.
pub fn split_child(key: &[u8]) -> Option<(&str, &str)> {
    let pos = key.iter().position(|&b| b == SEP)?;
    let seq = std::str::from_utf8(key.get(..pos)?).ok()?;
    let child = std::str::from_utf8(key.get(pos + 1..)?).ok()?;
    Some((seq, child))
}

/// Key of a token or of a topic id.
pub fn uuid(id: &Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// Order-preserving encoding of an i64.
pub fn i64_ordered(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`i64_ordered`].
pub fn i64_from_ordered(b: [u8; 8]) -> i64 {
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

/// Prefix of all notifications of one target.
pub fn notification_prefix(target: &str) -> Vec<u8> {
    children_prefix(target)
}

/// Key of one notification.
pub fn notification(target: &str, created_ns: i64, counter: u32) -> Vec<u8> {
    let mut k = notification_prefix(target);
    k.extend_from_slice(&i64_ordered(created_ns));
    k.extend_from_slice(&counter.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_keys() {
        assert_eq!(child("run", "cam/front"), b"run\0cam/front".to_vec());
        assert_eq!(split_child(b"run\0cam/front"), Some(("run", "cam/front")));
        assert_eq!(split_child(b"nosep"), None);
        assert_eq!(i64_ordered(0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            i64_ordered(-1),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(i64_ordered(i64::MIN), [0; 8]);
        assert_eq!(
            notification("run/imu", 1, 2),
            b"run/imu\0\x80\0\0\0\0\0\0\x01\0\0\0\x02".to_vec()
        );
        let id = Uuid::from_bytes([7; 16]);
        assert_eq!(uuid(&id), vec![7; 16]);
    }

    #[test]
    fn ordered_i64_sorts_numerically() {
        let mut vals = vec![i64::MIN, -5, -1, 0, 1, 42, i64::MAX];
        let mut enc: Vec<_> = vals.iter().map(|&v| i64_ordered(v)).collect();
        enc.sort();
        vals.sort();
        let dec: Vec<_> = enc.into_iter().map(i64_from_ordered).collect();
        assert_eq!(dec, vals);
    }

    #[test]
    fn a_sequence_prefix_never_matches_a_longer_sequence_name() {
        // "run" children must not include "run2"'s children.
        assert!(!child("run2", "x").starts_with(&children_prefix("run")));
    }
}
