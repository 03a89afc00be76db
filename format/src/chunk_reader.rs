//! Reading a chunk file batch by batch with bounded memory: [`ChunkReader`].
//!
//! `open` validates the trailer, footer, block table and stats (`chunk_footer.rs`); each
//! `read_batch` then reads exactly one block with a positioned read into a 64-byte-aligned buffer
//! (so arrow decodes it zero-copy), verifies its CRC, runs `block_guard` (which parses it with
//! `ipc_message`), decodes it with `ipc_message` (under `catch_unwind`) and checks the rows and
//! timestamps against the block table. The byte layout is
//! specified in `chunk.rs`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_buffer::{Buffer, MutableBuffer};
use arrow_schema::SchemaRef;

use crate::block_guard::check_block;
use crate::block_table::BlockInfo;
use crate::chunk::block_error;
use crate::chunk_footer::read_footer;
use crate::error::FormatError;
use crate::stats::ChunkStats;
use crate::stats_compute::{timestamp_index, StatsAccumulator};

/// An open, validated chunk file. Cheap to share: reads take `&self` and use positioned I/O.
#[derive(Debug)]
pub struct ChunkReader {
    path: PathBuf,
    file: File,
    file_len: u64,
    schema: SchemaRef,
    stats: ChunkStats,
    blocks: Vec<BlockInfo>,
    ts_index: usize,
}

impl ChunkReader {
    /// Opens `path` and validates everything but the record batch blocks themselves:
    /// [`FormatError::Foreign`] if it is not a Tessera chunk, [`FormatError::UnsupportedVersion`]
    /// for a newer format, [`FormatError::Corrupt`] if the trailer/footer/metadata is damaged.
    pub fn open(path: &Path) -> Result<Self, FormatError> {
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| FormatError::io(path, e))?.len();
        let footer = read_footer(path, &file, file_len)?;
        let ts_index = timestamp_index(&footer.schema)
            .map_err(|e| FormatError::corrupt(path, e.to_string()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            file_len,
            schema: footer.schema,
            stats: footer.stats,
            blocks: footer.blocks,
            ts_index,
        })
    }

    /// The chunk file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The exact schema the chunk was written with (fields, nullability, metadata).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The stats stored in the footer (checked against the block table at open; against the data
    /// only by [`ChunkReader::verify`]).
    pub fn stats(&self) -> &ChunkStats {
        &self.stats
    }

    /// Number of record batches (blocks).
    pub fn num_batches(&self) -> usize {
        self.blocks.len()
    }

    /// `(first_ts, last_ts)` of batch `i` from the footer, without reading it.
    pub fn batch_time_range(&self, i: usize) -> Option<(i64, i64)> {
        self.blocks
            .get(i)
            .map(|b| (b.meta.first_ts, b.meta.last_ts))
    }

    /// Reads, verifies and decodes batch `i` (rows sorted by `timestamp_ns`, never empty).
    pub fn read_batch(&self, i: usize) -> Result<RecordBatch, FormatError> {
        let block = self.blocks.get(i).ok_or(FormatError::BatchOutOfRange {
            index: i,
            count: self.blocks.len(),
        })?;
        let bytes = self.read_block(i, block)?;
        let crc = crc32fast::hash(bytes.as_slice());
        if crc != block.meta.crc {
            return Err(block_error(
                &self.path,
                i,
                format!(
                    "crc32 mismatch (stored {:08x}, computed {crc:08x})",
                    block.meta.crc
                ),
            ));
        }
        let batch = self.decode(i, block, &bytes)?;
        self.check_batch(i, block, &batch)?;
        Ok(batch)
    }

    /// Reads every block (CRC + decode + row/time checks) and recomputes the stats, which must be
    /// bit-identical to the stored ones.
    pub fn verify(&self) -> Result<(), FormatError> {
        let corrupt = |e: FormatError| FormatError::corrupt(&self.path, e.to_string());
        let mut acc = StatsAccumulator::new(&self.schema).map_err(corrupt)?;
        for i in 0..self.blocks.len() {
            acc.update(&self.read_batch(i)?).map_err(corrupt)?;
        }
        if acc.finish().encode() != self.stats.encode() {
            return Err(FormatError::corrupt(
                &self.path,
                "stored stats differ from the stats recomputed from the data",
            ));
        }
        Ok(())
    }

    /// Index of the `timestamp_ns` column.
    pub(crate) fn ts_index(&self) -> usize {
        self.ts_index
    }

    fn read_block(&self, i: usize, block: &BlockInfo) -> Result<Buffer, FormatError> {
        // The length was checked against the file size at open.
        let len =
            usize::try_from(block.len()).map_err(|_| block_error(&self.path, i, "too large"))?;
        let mut buf = MutableBuffer::from_len_zeroed(len);
        self.file
            .read_exact_at(buf.as_slice_mut(), block.offset)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => block_error(&self.path, i, "file truncated"),
                _ => FormatError::io(&self.path, e),
            })?;
        Ok(buf.into())
    }

    fn decode(
        &self,
        i: usize,
        block: &BlockInfo,
        bytes: &Buffer,
    ) -> Result<RecordBatch, FormatError> {
        let meta_len = usize::try_from(block.meta_len).unwrap_or(usize::MAX);
        let message = check_block(bytes.as_slice(), meta_len, block.meta.rows)
            .map_err(|reason| block_error(&self.path, i, reason))?;
        // `check_block` found `meta_len <= bytes.len()`.
        message
            .decode(&bytes.slice(meta_len), &self.schema)
            .map_err(|e| block_error(&self.path, i, e))
    }

    /// The decoded batch must match the block table: row count, first/last timestamp, sorted.
    fn check_batch(
        &self,
        i: usize,
        block: &BlockInfo,
        batch: &RecordBatch,
    ) -> Result<(), FormatError> {
        let ts = batch
            .columns()
            .get(self.ts_index)
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .ok_or_else(|| block_error(&self.path, i, "timestamp_ns column missing"))?;
        let values = ts.values();
        let sorted = values.windows(2).all(|w| w[0] <= w[1]);
        if batch.num_rows() as u64 != block.meta.rows
            || ts.null_count() != 0
            || !sorted
            || values.first() != Some(&block.meta.first_ts)
            || values.last() != Some(&block.meta.last_ts)
        {
            return Err(block_error(
                &self.path,
                i,
                "rows or timestamps differ from the block table",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ChunkReader>();
    }
}
