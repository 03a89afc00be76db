//! THE binary encoding of [`ChunkStats`] (stored in the catalog and in each chunk's footer).
//!
//! All integers are little-endian; floats are IEEE-754 `f64` bit patterns, little-endian.
//!
//! | offset | size | type  | field                                                         |
//! |--------|------|-------|---------------------------------------------------------------|
//! | 0      | 4    | bytes | magic `b"TSTS"`                                               |
//! | 4      | 2    | u16   | encoding version, currently `1`                               |
//! | 6      | 2    | u16   | flags, must be `0`                                            |
//! | 8      | 8    | u64   | `row_count`                                                   |
//! | 16     | 8    | i64   | `ts_min`                                                      |
//! | 24     | 8    | i64   | `ts_max`                                                      |
//! | 32     | 4    | u32   | `C` = number of column records                                |
//! | 36     | var  |       | `C` column records                                            |
//! |        | 4    | u32   | `G` = number of geo records                                   |
//! |        | var  |       | `G` geo records                                               |
//! | end-4  | 4    | u32   | CRC-32 (IEEE, as `crc32fast`) of every preceding byte          |
//!
//! Column record: `u32` path length `n`, `n` bytes UTF-8 path, `u64` null count, `u8` flags
//! (bit 0 `has_nan`, bit 1 min present, bit 2 max present, other bits 0), then the min value if
//! present, then the max value if present.
//!
//! Value: `u8` tag, then its payload:
//!
//! | tag | variant                          | payload                                   |
//! |-----|----------------------------------|-------------------------------------------|
//! | 1   | `Int`                            | i64                                       |
//! | 2   | `UInt`                           | u64                                       |
//! | 3   | `Float` (never NaN)              | f64                                       |
//! | 4   | `Bool`                           | u8, `0` or `1`                            |
//! | 5   | `Str { truncated: false }`       | u32 length `n <= 64`, `n` bytes UTF-8     |
//! | 6   | `Str { truncated: true }`        | u32 length `n <= 64`, `n` bytes UTF-8     |
//!
//! Geo record: `u32` path length `n`, `n` bytes UTF-8 path, then four f64: `min_lat`, `max_lat`,
//! `min_lon`, `max_lon` (never NaN, `min <= max`).
//!
//! Version rule: a decoder checks the magic, then the version; a version other than `1` is
//! [`crate::FormatError::UnsupportedStatsVersion`] (never guessed at), and a bad magic, checksum,
//! length, tag, flag, UTF-8, NaN, inverted bound or trailing byte is
//! [`crate::FormatError::StatsDecode`].
//! Counts are checked against the bytes remaining before anything is allocated. Readers that hit
//! an error treat the chunk's stats as unavailable (catalog) or the chunk as corrupt (footer).

use crate::stats::{ChunkStats, StatValue};

/// Leading magic of encoded stats.
pub const STATS_MAGIC: [u8; 4] = *b"TSTS";
/// Current encoding version.
pub const STATS_VERSION: u16 = 1;

pub(crate) const HEADER_LEN: usize = 36;
pub(crate) const CRC_LEN: usize = 4;
/// Smallest column record: path length + null count + flags.
pub(crate) const MIN_COLUMN_LEN: usize = 4 + 8 + 1;
/// Geo record: path length + four f64.
pub(crate) const MIN_GEO_LEN: usize = 4 + 32;

pub(crate) const FLAG_NAN: u8 = 1;
pub(crate) const FLAG_MIN: u8 = 2;
pub(crate) const FLAG_MAX: u8 = 4;

impl ChunkStats {
    /// Encodes `self` as specified in the module documentation of `stats_codec`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.columns.len() * 48);
        out.extend_from_slice(&STATS_MAGIC);
        out.extend_from_slice(&STATS_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.row_count.to_le_bytes());
        out.extend_from_slice(&self.ts_min.to_le_bytes());
        out.extend_from_slice(&self.ts_max.to_le_bytes());
        put_len(&mut out, self.columns.len());
        for c in &self.columns {
            put_str(&mut out, &c.path);
            out.extend_from_slice(&c.null_count.to_le_bytes());
            let mut flags = 0;
            for (set, bit) in [
                (c.has_nan, FLAG_NAN),
                (c.min.is_some(), FLAG_MIN),
                (c.max.is_some(), FLAG_MAX),
            ] {
                if set {
                    flags |= bit;
                }
            }
            out.push(flags);
            for v in [&c.min, &c.max].into_iter().flatten() {
                put_value(&mut out, v);
            }
        }
        put_len(&mut out, self.geo.len());
        for g in &self.geo {
            put_str(&mut out, &g.path);
            for f in [g.min_lat, g.max_lat, g.min_lon, g.max_lon] {
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    // Paths, column counts and string bounds never approach 4 GiB; saturate rather than wrap.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &StatValue) {
    match v {
        StatValue::Int(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        StatValue::UInt(u) => {
            out.push(2);
            out.extend_from_slice(&u.to_le_bytes());
        }
        StatValue::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        StatValue::Bool(b) => {
            out.push(4);
            out.push(u8::from(*b));
        }
        StatValue::Str { value, truncated } => {
            out.push(if *truncated { 6 } else { 5 });
            put_str(out, value);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stats::{ColumnStats, GeoBounds};

    /// A small value touching every field kind.
    pub(crate) fn sample() -> ChunkStats {
        ChunkStats {
            row_count: 3,
            ts_min: -1,
            ts_max: 258,
            columns: vec![
                ColumnStats {
                    path: "a".into(),
                    null_count: 1,
                    min: Some(StatValue::Int(-2)),
                    max: Some(StatValue::Int(5)),
                    has_nan: false,
                },
                ColumnStats {
                    path: "b.c".into(),
                    null_count: 0,
                    min: Some(StatValue::Float(-0.5)),
                    max: None,
                    has_nan: true,
                },
                ColumnStats {
                    path: "s".into(),
                    null_count: 0,
                    min: Some(StatValue::Str {
                        value: "ab".into(),
                        truncated: false,
                    }),
                    max: Some(StatValue::Str {
                        value: "z".into(),
                        truncated: true,
                    }),
                    has_nan: false,
                },
                ColumnStats {
                    path: "u".into(),
                    null_count: 0,
                    min: Some(StatValue::UInt(7)),
                    max: None,
                    has_nan: false,
                },
            ],
            geo: vec![GeoBounds {
                path: "p".into(),
                min_lat: 1.0,
                max_lat: 2.0,
                min_lon: -1.0,
                max_lon: 0.0,
            }],
        }
    }

    #[rustfmt::skip]
    pub(crate) const GOLDEN: [u8; 188] = [
        b'T', b'S', b'T', b'S', 1, 0, 0, 0,                 // magic, version 1, flags 0
        3, 0, 0, 0, 0, 0, 0, 0,                             // row_count 3
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     // ts_min -1
        2, 1, 0, 0, 0, 0, 0, 0,                             // ts_max 258
        4, 0, 0, 0,                                         // 4 columns
        1, 0, 0, 0, b'a', 1, 0, 0, 0, 0, 0, 0, 0, 6,        // "a", 1 null, min+max
        1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // Int(-2)
        1, 5, 0, 0, 0, 0, 0, 0, 0,                          // Int(5)
        3, 0, 0, 0, b'b', b'.', b'c', 0, 0, 0, 0, 0, 0, 0, 0, 3, // "b.c", nan+min
        3, 0, 0, 0, 0, 0, 0, 0xe0, 0xbf,                    // Float(-0.5)
        1, 0, 0, 0, b's', 0, 0, 0, 0, 0, 0, 0, 0, 6,        // "s", min+max
        5, 2, 0, 0, 0, b'a', b'b',                          // Str "ab" exact
        6, 1, 0, 0, 0, b'z',                                // Str "z" truncated
        1, 0, 0, 0, b'u', 0, 0, 0, 0, 0, 0, 0, 0, 2,        // "u", min only
        2, 7, 0, 0, 0, 0, 0, 0, 0,                          // UInt(7)
        1, 0, 0, 0,                                         // 1 geo
        1, 0, 0, 0, b'p',                                   // "p"
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f,                       // 1.0
        0, 0, 0, 0, 0, 0, 0, 0x40,                          // 2.0
        0, 0, 0, 0, 0, 0, 0xf0, 0xbf,                       // -1.0
        0, 0, 0, 0, 0, 0, 0, 0,                             // 0.0
        0xd4, 0xaf, 0xb2, 0x57,                             // crc32 0x57b2afd4
    ];

    #[test]
    fn golden_bytes() {
        let enc = sample().encode();
        assert_eq!(enc, GOLDEN, "{enc:?}");
        assert_eq!(ChunkStats::decode(&GOLDEN).unwrap(), sample());
    }
}
