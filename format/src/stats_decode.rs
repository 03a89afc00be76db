//! Decoding [`ChunkStats`] from the binary form specified in `stats_codec.rs`, with every check
//! listed there: magic, version, CRC, lengths and counts against the remaining bytes (before any
//! allocation), tags, flags, UTF-8, NaN, inverted bounds and trailing bytes.

use crate::error::FormatError;
use crate::stats::{ChunkStats, ColumnStats, GeoBounds, StatValue};
use crate::stats_codec::{
    CRC_LEN, FLAG_MAX, FLAG_MIN, FLAG_NAN, HEADER_LEN, MIN_COLUMN_LEN, MIN_GEO_LEN, STATS_MAGIC,
    STATS_VERSION,
};
use crate::strbound::STR_BOUND_MAX_BYTES;

impl ChunkStats {
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
    use crate::stats_codec::tests::{sample, GOLDEN};

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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            let _ = ChunkStats::decode(&bytes);
        }

        /// Past magic, version and CRC: every later check must hold without panicking.
        #[test]
        fn damage_behind_a_valid_crc_never_panics(
            edits in proptest::collection::vec((6usize..184, proptest::prelude::any::<u8>()), 1..4),
            cut in 36usize..=184,
        ) {
            let mut body = GOLDEN[..184].to_vec();
            for (pos, val) in edits {
                body[pos] = val;
            }
            body.truncate(cut);
            let _ = ChunkStats::decode(&with_crc(body));
        }
    }
}
