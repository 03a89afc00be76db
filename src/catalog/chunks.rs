//! Sealed chunk records: the skip index of each chunk, keyed so a time window is a range scan.
//!
//! Keyspace `chunks`. Key (32 bytes):
//!
//! | offset | size | type                  | meaning                                         |
//! |--------|------|-----------------------|-------------------------------------------------|
//! | 0      | 16   | UUID bytes            | topic internal id                               |
//! | 16     | 8    | i64, sign-flipped BE  | chunk's smallest `timestamp_ns` (see `keys`)    |
//! | 24     | 8    | u64 BE                | first WAL seq the chunk covers (unique per topic) |
//!
//! Value:
//!
//! | offset | size | type   | meaning                                                    |
//! |--------|------|--------|------------------------------------------------------------|
//! | 0      | 1    | u8     | value version, 1                                           |
//! | 1      | 8    | u64 LE | first WAL seq covered                                      |
//! | 9      | 8    | u64 LE | last WAL seq covered (inclusive)                           |
//! | 17     | 8    | u64 LE | chunk file length in bytes                                 |
//! | 25     | n    | bytes  | `ChunkStats` encoding (`tessera_format`, `stats_codec.rs`: row count, exact i64 time range, per-column min/max/null counts, geo boxes; it carries its own version and crc32) |
//!
//! The chunk file is `<topic dir>/chunks/{first_seq:020}.chunk`. Version rule: another value
//! version is refused as DataLoss naming the topic; never guessed.

use super::keys;
use crate::error::{Error, Result};
use tessera_format::ChunkStats;
use uuid::Uuid;

const VERSION: u8 = 1;
const FIXED: usize = 25;

/// One sealed chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRecord {
    /// First WAL seq covered.
    pub first_seq: u64,
    /// Last WAL seq covered, inclusive.
    pub last_seq: u64,
    /// File length in bytes.
    pub file_len: u64,
    /// Skip index.
    pub stats: ChunkStats,
}

impl ChunkRecord {
    /// File name inside the topic's `chunks/` directory.
    pub fn file_name(&self) -> String {
        chunk_file_name(self.first_seq)
    }
}

/// File name of the chunk starting at WAL seq `first_seq`.
pub fn chunk_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.chunk")
}

/// Prefix of every chunk key of a topic.
pub fn prefix(topic_id: &Uuid) -> Vec<u8> {
    keys::uuid(topic_id)
}

/// Key of one chunk.
pub fn key(topic_id: &Uuid, ts_min: i64, first_seq: u64) -> Vec<u8> {
    let mut k = prefix(topic_id);
    k.extend_from_slice(&keys::i64_ordered(ts_min));
    k.extend_from_slice(&first_seq.to_be_bytes());
    k
}

/// Encode a value.
pub fn encode(r: &ChunkRecord) -> Vec<u8> {
    let stats = r.stats.encode();
    let mut v = Vec::with_capacity(FIXED + stats.len());
    v.push(VERSION);
    v.extend_from_slice(&r.first_seq.to_le_bytes());
    v.extend_from_slice(&r.last_seq.to_le_bytes());
    v.extend_from_slice(&r.file_len.to_le_bytes());
    v.extend_from_slice(&stats);
    v
}

fn u64_at(v: &[u8], at: usize) -> Option<u64> {
    v.get(at..at + 8)?.try_into().ok().map(u64::from_le_bytes)
}

/// Decode a value; `what` names the topic in errors.
pub fn decode(v: &[u8], what: &str) -> Result<ChunkRecord> {
    let bad = |why: String| Error::data_loss(format!("chunk index of `{what}` is damaged: {why}."));
    match v.first() {
        Some(&VERSION) => {}
        Some(other) => return Err(bad(format!("unknown version {other}"))),
        None => return Err(bad("empty value".into())),
    }
    let (Some(first_seq), Some(last_seq), Some(file_len)) =
        (u64_at(v, 1), u64_at(v, 9), u64_at(v, 17))
    else {
        return Err(bad("short value".into()));
    };
    let stats =
        ChunkStats::decode(v.get(FIXED..).unwrap_or_default()).map_err(|e| bad(e.to_string()))?;
    Ok(ChunkRecord {
        first_seq,
        last_seq,
        file_len,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ChunkRecord {
        let mut stats = ChunkStats::empty();
        stats.row_count = 2;
        stats.ts_min = -5;
        stats.ts_max = 9;
        ChunkRecord {
            first_seq: 2,
            last_seq: 7,
            file_len: 4096,
            stats,
        }
    }

    #[test]
    fn golden_key_and_fixed_value_prefix() {
        let id = Uuid::from_bytes([0xAB; 16]);
        let k = key(&id, -1, 3);
        let mut expect = vec![0xAB; 16];
        expect.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        expect.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(k, expect);
        let v = encode(&sample());
        assert_eq!(
            v[..FIXED],
            [1, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&v[FIXED..], sample().stats.encode().as_slice());
        assert_eq!(decode(&v, "t").unwrap(), sample());
        assert_eq!(sample().file_name(), "00000000000000000002.chunk");
    }

    #[test]
    fn damaged_values_are_data_loss() {
        let v = encode(&sample());
        for bad in [&v[..0], &v[..10], &v[..FIXED + 3]] {
            assert_eq!(
                decode(bad, "t").unwrap_err().kind,
                crate::error::ErrorKind::DataLoss
            );
        }
        let mut other = v.clone();
        other[0] = 2;
        assert!(decode(&other, "t").is_err());
    }

    #[test]
    fn keys_sort_by_time_then_seq() {
        let id = Uuid::from_u128(1);
        let mut ks = vec![
            key(&id, 5, 1),
            key(&id, -3, 9),
            key(&id, 5, 0),
            key(&id, i64::MIN, 4),
        ];
        ks.sort();
        assert_eq!(
            ks,
            vec![
                key(&id, i64::MIN, 4),
                key(&id, -3, 9),
                key(&id, 5, 0),
                key(&id, 5, 1)
            ]
        );
    }
}
