//! THE chunk file format (version 1) and the footer metadata it adds to Arrow IPC.
//!
//! A chunk is a plain Arrow IPC **file** written by arrow-ipc 60.1.0's `FileWriter` (metadata
//! V5, 64-byte alignment, no dictionaries), so any Arrow reader can open it. Framing we rely on:
//!
//! | offset         | size                           | content                                  |
//! |----------------|--------------------------------|------------------------------------------|
//! | 0              | 6                              | magic `ARROW1`                           |
//! | 6              | 58                             | zero padding (64-byte alignment)         |
//! | 64             | var                            | schema message (encapsulated, see below) |
//! | `B[i].offset`  | `B[i].metaDataLength + B[i].bodyLength` | block `i`: message + body       |
//! | after blocks   | 8                              | end-of-stream `FF FF FF FF 00 00 00 00`  |
//! | `len - 10 - n` | `n`                            | `Footer` flatbuffer: schema, blocks `B`, metadata |
//! | `len - 10`     | 4                              | `n`, i32 LE                              |
//! | `len - 6`      | 6                              | magic `ARROW1`                           |
//!
//! An encapsulated message is `FF FF FF FF`, an i32 LE flatbuffer length, the `Message`
//! flatbuffer and zero padding to 64 bytes (`metaDataLength` covers all of it). With zstd each body
//! buffer is an i64 LE uncompressed length (`-1` = stored raw, `0` = empty) followed by a zstd
//! frame. Each `FileWriter::write` call emits exactly one block (dictionaries are rejected), and
//! record batches are sorted by `timestamp_ns` across and within blocks, never empty.
//!
//! Footer custom metadata (`FileWriter::write_metadata`), all values ASCII:
//!
//! | key                     | value                                                         |
//! |-------------------------|---------------------------------------------------------------|
//! | `tessera.chunk.version` | format version in decimal: `1`                                |
//! | `tessera.chunk.stats`   | lowercase hex of [`crate::ChunkStats::encode`]                |
//! | `tessera.chunk.blocks`  | per footer block, in order, `,`-joined `crc:rows:first:last`  |
//!
//! In a block entry `crc` is exactly 8 lowercase hex digits, the CRC-32 (IEEE, `crc32fast`) of the
//! block's bytes `[offset, offset + metaDataLength + bodyLength)` as written; `rows` (> 0),
//! `first` and `last` are canonical decimal integers: the row count and the `timestamp_ns` of the
//! block's first and last row.
//!
//! Version rule: no `tessera.chunk.version` key → [`FormatError::Foreign`]; any value other than
//! `1` → [`FormatError::UnsupportedVersion`] (never guessed at).
//!
//! What the reader does on a mismatch — never repair, never guess:
//!
//! * not `ARROW1` at both ends, or shorter than 74 bytes → [`FormatError::Foreign`];
//! * at open → [`FormatError::Corrupt`] naming the file: footer length not in
//!   `1..=len-74` or above 64 MiB, footer flatbuffer invalid, IPC metadata version not V5,
//!   dictionary blocks present, schema unparsable / without Int64 `timestamp_ns` / different from
//!   the leading schema message (the footer has no checksum of its own), stats not decodable,
//!   block table malformed, its count differing from the footer's, blocks overlapping or outside
//!   `[64, footer start)`, empty blocks, timestamps out of order, row sum or time range differing
//!   from the stats;
//! * per block, before decoding → `Corrupt` naming the file and block: CRC mismatch, message
//!   not a V5 `RecordBatch` of the listed row count, a buffer outside the body, compression other
//!   than zstd, declared uncompressed lengths above [`MAX_BLOCK_DECODED_BYTES`];
//! * decoding runs under `catch_unwind`; an arrow error or panic → `Corrupt` naming the block;
//! * after decoding → `Corrupt` if the row count, first/last timestamp or order differ from the
//!   block table.

use crate::error::FormatError;

/// Footer key holding the chunk format version.
pub const KEY_VERSION: &str = "tessera.chunk.version";
/// Footer key holding the hex-encoded chunk stats.
pub const KEY_STATS: &str = "tessera.chunk.stats";
/// Footer key holding the per-block table.
pub const KEY_BLOCKS: &str = "tessera.chunk.blocks";
/// The chunk format version this crate writes and reads.
pub const CHUNK_VERSION: &str = "1";
/// Largest total of declared uncompressed buffer lengths accepted for one block (4 GiB).
pub const MAX_BLOCK_DECODED_BYTES: u64 = 4 << 30;

/// The footer's description of one record batch block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockMeta {
    /// CRC-32 of the block's bytes.
    pub crc: u32,
    /// Rows in the block's record batch.
    pub rows: u64,
    /// `timestamp_ns` of the first row.
    pub first_ts: i64,
    /// `timestamp_ns` of the last row.
    pub last_ts: i64,
}

/// Encodes the `tessera.chunk.blocks` value.
pub(crate) fn encode_blocks(blocks: &[BlockMeta]) -> String {
    blocks
        .iter()
        .map(|b| format!("{:08x}:{}:{}:{}", b.crc, b.rows, b.first_ts, b.last_ts))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses the `tessera.chunk.blocks` value; `Err(reason)` on any deviation from the encoding.
pub(crate) fn decode_blocks(value: &str) -> Result<Vec<BlockMeta>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .enumerate()
        .map(|(i, entry)| {
            let parts: Vec<&str> = entry.split(':').collect();
            let [crc, rows, first, last] = parts[..] else {
                return Err(format!(
                    "block {i}: entry {entry:?} is not crc:rows:first:last"
                ));
            };
            let bad = |what: &str| format!("block {i}: invalid {what} in {entry:?}");
            if crc.len() != 8 || !crc.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(bad("crc"));
            }
            let block = BlockMeta {
                crc: u32::from_str_radix(crc, 16).map_err(|_| bad("crc"))?,
                rows: canonical(rows).ok_or_else(|| bad("rows"))?,
                first_ts: canonical(first).ok_or_else(|| bad("first_ts"))?,
                last_ts: canonical(last).ok_or_else(|| bad("last_ts"))?,
            };
            Ok(block)
        })
        .collect()
}

/// Parses a decimal integer only in its canonical spelling (no sign `+`, no leading zeros).
fn canonical<T: std::str::FromStr + ToString>(s: &str) -> Option<T> {
    let v: T = s.parse().ok()?;
    (v.to_string() == s).then_some(v)
}

/// Lowercase hex encoding (for the stats value).
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Decodes lowercase hex; `None` for odd length or any other character.
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Convenience for the reader: a `Corrupt` error about block `i`.
pub(crate) fn block_error(
    path: &std::path::Path,
    i: usize,
    reason: impl std::fmt::Display,
) -> FormatError {
    FormatError::corrupt(path, format!("block {i}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_golden() {
        let blocks = [
            BlockMeta {
                crc: 0x0012abcd,
                rows: 3,
                first_ts: -5,
                last_ts: 7,
            },
            BlockMeta {
                crc: 0xffffffff,
                rows: 1,
                first_ts: 7,
                last_ts: 7,
            },
        ];
        let s = encode_blocks(&blocks);
        assert_eq!(s, "0012abcd:3:-5:7,ffffffff:1:7:7");
        assert_eq!(decode_blocks(&s).unwrap(), blocks);
        assert_eq!(decode_blocks("").unwrap(), vec![]);
    }

    #[test]
    fn blocks_reject_non_canonical() {
        for bad in [
            "12abcd:3:-5:7",
            "0012ABCD:3:-5:7",
            "0012abcd:+3:-5:7",
            "0012abcd:03:-5:7",
            "0012abcd:3:-5",
            "0012abcd:3:-5:7:9",
            "0012abcd:3:-5:7,",
            "0012abcd:-3:-5:7",
            "0012abcd:3:x:7",
            "+012abcd:3:1:7",
        ] {
            assert!(decode_blocks(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xab, 0xff];
        assert_eq!(hex_encode(&bytes), "00017f80abff");
        assert_eq!(hex_decode("00017f80abff").unwrap(), bytes);
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("0G"), None);
        assert_eq!(hex_decode("AB"), None);
    }
}
