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
//! [`FormatError::UnsupportedStatsVersion`] (never guessed at), a bad magic, checksum, length,
//! tag, flag, UTF-8, NaN, inverted bound or trailing byte is [`FormatError::StatsDecode`].
//! Counts are checked against the bytes remaining before anything is allocated. Readers that hit
//! an error treat the chunk's stats as unavailable (catalog) or the chunk as corrupt (footer).

use crate::error::FormatError;
use crate::stats::{ChunkStats, ColumnStats, GeoBounds, StatValue};
use crate::strbound::STR_BOUND_MAX_BYTES;

/// Leading magic of encoded stats.
pub const STATS_MAGIC: [u8; 4] = *b"TSTS";
/// Current encoding version.
pub const STATS_VERSION: u16 = 1;

const HEADER_LEN: usize = 36;
const CRC_LEN: usize = 4;
/// Smallest column record: path length + null count + flags.
const MIN_COLUMN_LEN: usize = 4 + 8 + 1;
/// Geo record: path length + four f64.
const MIN_GEO_LEN: usize = 4 + 32;

const FLAG_NAN: u8 = 1;
const FLAG_MIN: u8 = 2;
const FLAG_MAX: u8 = 4;

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

    /// Decodes bytes produced by [`ChunkStats::encode`]. Never panics; see the module docs of
    /// `stats_codec` for every check performed.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.get(..4) != Some(&STATS_MAGIC[..]) {
            return Err(bad("bad magic"));
        }
        let mut r = Reader { buf: bytes, pos: 4 };
        let version = r.u16()?;
        if version != STATS_VERSION {
            return Err(FormatError::UnsupportedStatsVersion(version));
        }
        let body_len = bytes
            .len()
            .checked_sub(CRC_LEN)
            .filter(|&n| n >= HEADER_LEN)
            .ok_or_else(|| bad("too short"))?;
        let (body, crc) = bytes.split_at(body_len);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().map_err(|_| bad("crc"))?) {
            return Err(bad("checksum mismatch"));
        }
        let mut r = Reader { buf: body, pos: 6 };
        if r.u16()? != 0 {
            return Err(bad("unknown flags"));
        }
        let row_count = r.u64()?;
        let ts_min = r.i64()?;
        let ts_max = r.i64()?;
        if row_count > 0 && ts_min > ts_max {
            return Err(bad("ts_min > ts_max"));
        }
        let n = r.count(MIN_COLUMN_LEN)?;
        let mut columns = Vec::with_capacity(n);
        for _ in 0..n {
            columns.push(r.column()?);
        }
        let n = r.count(MIN_GEO_LEN)?;
        let mut geo = Vec::with_capacity(n);
        for _ in 0..n {
            geo.push(r.geo()?);
        }
        if r.pos != body.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(ChunkStats {
            row_count,
            ts_min,
            ts_max,
            columns,
            geo,
        })
    }
}

fn bad(reason: &str) -> FormatError {
    FormatError::StatsDecode(reason.to_owned())
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

/// A bounds-checked cursor over the stats body.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| bad("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        self.take(N)?.try_into().map_err(|_| bad("truncated"))
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, FormatError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, FormatError> {
        let f = f64::from_bits(self.u64()?);
        if f.is_nan() {
            return Err(bad("NaN bound"));
        }
        Ok(f)
    }

    /// A record count, capped by how many records of `min_len` bytes could still fit.
    fn count(&mut self, min_len: usize) -> Result<usize, FormatError> {
        let n = usize::try_from(self.u32()?).map_err(|_| bad("count overflow"))?;
        let remaining = self.buf.len().saturating_sub(self.pos);
        if n > remaining / min_len {
            return Err(bad("record count exceeds remaining bytes"));
        }
        Ok(n)
    }

    fn string(&mut self, max_len: usize) -> Result<String, FormatError> {
        let n = usize::try_from(self.u32()?).map_err(|_| bad("length overflow"))?;
        if n > max_len {
            return Err(bad("string too long"));
        }
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| bad("invalid UTF-8"))
    }

    fn value(&mut self) -> Result<StatValue, FormatError> {
        Ok(match self.u8()? {
            1 => StatValue::Int(self.i64()?),
            2 => StatValue::UInt(self.u64()?),
            3 => StatValue::Float(self.f64()?),
            4 => match self.u8()? {
                0 => StatValue::Bool(false),
                1 => StatValue::Bool(true),
                _ => return Err(bad("invalid bool")),
            },
            tag @ (5 | 6) => StatValue::Str {
                value: self.string(STR_BOUND_MAX_BYTES)?,
                truncated: tag == 6,
            },
            _ => return Err(bad("unknown value tag")),
        })
    }

    fn column(&mut self) -> Result<ColumnStats, FormatError> {
        let path = self.string(usize::MAX)?;
        let null_count = self.u64()?;
        let flags = self.u8()?;
        if flags & !(FLAG_NAN | FLAG_MIN | FLAG_MAX) != 0 {
            return Err(bad("unknown column flags"));
        }
        let min = if flags & FLAG_MIN != 0 {
            Some(self.value()?)
        } else {
            None
        };
        let max = if flags & FLAG_MAX != 0 {
            Some(self.value()?)
        } else {
            None
        };
        if let (Some(lo), Some(hi)) = (&min, &max) {
            match lo.bound_cmp(hi) {
                None => return Err(bad("min and max of different kinds")),
                Some(std::cmp::Ordering::Greater) => return Err(bad("min > max")),
                Some(_) => {}
            }
        }
        Ok(ColumnStats {
            path,
            null_count,
            min,
            max,
            has_nan: flags & FLAG_NAN != 0,
        })
    }

    fn geo(&mut self) -> Result<GeoBounds, FormatError> {
        let path = self.string(usize::MAX)?;
        let (min_lat, max_lat, min_lon, max_lon) =
            (self.f64()?, self.f64()?, self.f64()?, self.f64()?);
        if min_lat > max_lat || min_lon > max_lon {
            return Err(bad("inverted geo bounds"));
        }
        Ok(GeoBounds {
            path,
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

    /// A small value touching every field kind.
    fn sample() -> ChunkStats {
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
    const GOLDEN: [u8; 188] = [
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

    #[test]
    fn rejects_version_magic_crc_and_garbage() {
        let mut v2 = GOLDEN;
        v2[4] = 2;
        assert!(matches!(
            ChunkStats::decode(&v2),
            Err(FormatError::UnsupportedStatsVersion(2))
        ));
        let mut m = GOLDEN;
        m[0] = b'X';
        assert!(matches!(
            ChunkStats::decode(&m),
            Err(FormatError::StatsDecode(_))
        ));
        for i in 6..GOLDEN.len() {
            let mut c = GOLDEN;
            c[i] ^= 0x40;
            assert!(ChunkStats::decode(&c).is_err(), "flip at {i} accepted");
        }
        for n in 0..GOLDEN.len() {
            assert!(ChunkStats::decode(&GOLDEN[..n]).is_err());
        }
        assert!(ChunkStats::decode(&[]).is_err());
    }

    /// Builds a body with a valid header and checksum, so checks after the CRC are exercised.
    fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn rejects_semantic_errors_behind_a_valid_crc() {
        let header = |cols: u32| {
            let mut b = GOLDEN[..32].to_vec();
            b.extend_from_slice(&cols.to_le_bytes());
            b
        };
        // Huge column count is refused before allocating.
        let mut b = header(u32::MAX);
        b.extend_from_slice(&0u32.to_le_bytes());
        assert!(ChunkStats::decode(&with_crc(b)).is_err());
        // NaN bound.
        let mut b = header(1);
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3]);
        b.extend_from_slice(&f64::NAN.to_bits().to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        assert!(ChunkStats::decode(&with_crc(b)).is_err());
        // min > max.
        let bad = ChunkStats {
            columns: vec![ColumnStats {
                path: String::new(),
                null_count: 0,
                min: Some(StatValue::Int(2)),
                max: Some(StatValue::Int(1)),
                has_nan: false,
            }],
            ..sample()
        };
        assert!(ChunkStats::decode(&bad.encode()).is_err());
        // Trailing byte.
        let mut b = sample().encode();
        b.truncate(b.len() - 4);
        b.push(0);
        assert!(ChunkStats::decode(&with_crc(b)).is_err());
    }
}
