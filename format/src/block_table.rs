//! The block table as the reader trusts it: the footer's record batch blocks (offset, lengths)
//! checked against our `tessera.chunk.blocks` entries, the data region and the stats (rules in
//! `chunk.rs`). After this, block reads can rely on offsets and lengths being in bounds.

use crate::chunk::{BlockMeta, KEY_BLOCKS};
use crate::stats::ChunkStats;

/// First byte after the 64-byte IPC header (magic + padding); no block may start earlier.
pub(crate) const DATA_START: u64 = 64;

/// A validated record batch block: where it is and what our metadata says about it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockInfo {
    pub offset: u64,
    pub meta_len: u64,
    pub body_len: u64,
    pub meta: BlockMeta,
}

impl BlockInfo {
    /// Total bytes of the block (metadata + body); cannot overflow after validation.
    pub(crate) fn len(&self) -> u64 {
        self.meta_len.saturating_add(self.body_len)
    }
}

/// Checks the footer's blocks against our block table, the data region
/// `[DATA_START, data_end)` and the stats; returns the combined, trusted block list.
pub(crate) fn validate_blocks(
    raw: &[(i64, i32, i64)],
    metas: &[BlockMeta],
    data_end: u64,
    stats: &ChunkStats,
) -> Result<Vec<BlockInfo>, String> {
    if raw.len() != metas.len() {
        return Err(format!(
            "footer has {} record batch blocks but {KEY_BLOCKS} lists {}",
            raw.len(),
            metas.len()
        ));
    }
    if raw.is_empty() {
        return Err("chunk has no record batches".into());
    }
    let mut blocks = Vec::with_capacity(raw.len());
    let (mut min_offset, mut rows, mut prev_ts) = (DATA_START, 0u64, i64::MIN);
    for (i, (&(offset, meta_len, body_len), meta)) in raw.iter().zip(metas).enumerate() {
        let (Ok(offset), Ok(meta_len), Ok(body_len)) = (
            u64::try_from(offset),
            u64::try_from(meta_len),
            u64::try_from(body_len),
        ) else {
            return Err(format!("block {i}: negative offset or length"));
        };
        let end = offset
            .checked_add(meta_len)
            .and_then(|e| e.checked_add(body_len));
        match end {
            Some(end) if offset >= min_offset && meta_len >= 8 && end <= data_end => {
                min_offset = end
            }
            _ => {
                return Err(format!(
                    "block {i}: region outside the data area or overlapping"
                ))
            }
        }
        if meta.rows == 0 || meta.first_ts > meta.last_ts || meta.first_ts < prev_ts {
            return Err(format!("block {i}: empty or out of timestamp order"));
        }
        prev_ts = meta.last_ts;
        rows = rows.saturating_add(meta.rows);
        blocks.push(BlockInfo {
            offset,
            meta_len,
            body_len,
            meta: *meta,
        });
    }
    let first = blocks.first().map(|b| b.meta.first_ts);
    if rows != stats.row_count || first != Some(stats.ts_min) || prev_ts != stats.ts_max {
        return Err("block table disagrees with the stats (rows or time range)".into());
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(rows: u64, first_ts: i64, last_ts: i64) -> BlockMeta {
        BlockMeta {
            crc: 0,
            rows,
            first_ts,
            last_ts,
        }
    }

    fn stats(rows: u64, lo: i64, hi: i64) -> ChunkStats {
        ChunkStats {
            row_count: rows,
            ts_min: lo,
            ts_max: hi,
            ..ChunkStats::empty()
        }
    }

    #[test]
    fn accepts_a_consistent_table() {
        let raw = [(128, 64, 100), (292, 64, 36)];
        let metas = [meta(2, 1, 5), meta(1, 5, 5)];
        let b = validate_blocks(&raw, &metas, 392, &stats(3, 1, 5)).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].len(), 100);
    }

    #[test]
    fn rejects_inconsistent_tables() {
        let ok_stats = stats(3, 1, 5);
        let metas = [meta(2, 1, 5), meta(1, 5, 5)];
        type Case<'a> = (&'a [(i64, i32, i64)], &'a [BlockMeta]);
        let cases: [Case; 7] = [
            (&[(128, 64, 100)], &metas),                // count mismatch
            (&[(128, 64, 100), (220, 64, 36)], &metas), // overlap
            (&[(128, 64, 100), (292, 64, 37)], &metas), // past data end
            (&[(60, 64, 100), (292, 64, 36)], &metas),  // inside the header
            (&[(128, 4, 100), (292, 64, 36)], &metas),  // metadata too short
            (&[(128, 64, -1), (292, 64, 36)], &metas),  // negative length
            (
                &[(128, 64, 100), (292, 64, 36)],
                &[meta(2, 1, 5), meta(1, 4, 5)],
            ), // ts order
        ];
        for (i, (raw, metas)) in cases.iter().enumerate() {
            assert!(
                validate_blocks(raw, metas, 392, &ok_stats).is_err(),
                "case {i}"
            );
        }
        let raw = [(128, 64, 100), (292, 64, 36)];
        assert!(validate_blocks(&raw, &metas, 392, &stats(4, 1, 5)).is_err());
        assert!(validate_blocks(&raw, &metas, 392, &stats(3, 0, 5)).is_err());
        assert!(validate_blocks(&[], &[], 392, &stats(0, 1, 5)).is_err());
    }
}
