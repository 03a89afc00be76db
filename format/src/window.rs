//! The `[start, end)` time window over a chunk's batches: [`ChunkReader::window`], defined here
//! on top of the reader's block access (`batch_time_range`, `read_batch`, `ts_index`), so the
//! reader does not depend on this module.
//!
//! Blocks are sorted by time across the file, so the footer's per-block `first_ts`/`last_ts`
//! decide without reading: a block with `last_ts < start` is skipped, and the first block with
//! `first_ts >= end` ends the iteration. Blocks that straddle a bound are read and sliced with a
//! binary search on their (sorted) `timestamp_ns` column; an empty slice is skipped.

use arrow_array::{Int64Array, RecordBatch};

use crate::chunk_reader::ChunkReader;
use crate::error::FormatError;

impl ChunkReader {
    /// Batches restricted to `timestamp_ns` in `[start, end)` (either bound optional), in time
    /// order. Batches wholly outside are skipped without being read, partial ones are sliced, and
    /// no empty batch is ever yielded. Iteration stops after the first error.
    pub fn window(
        &self,
        start: Option<i64>,
        end: Option<i64>,
    ) -> impl Iterator<Item = Result<RecordBatch, FormatError>> + '_ {
        Window::new(self, start, end)
    }
}

/// Iterator state of a window.
struct Window<'a> {
    reader: &'a ChunkReader,
    next: usize,
    start: Option<i64>,
    end: Option<i64>,
    done: bool,
}

impl<'a> Window<'a> {
    fn new(reader: &'a ChunkReader, start: Option<i64>, end: Option<i64>) -> Self {
        let empty = matches!((start, end), (Some(s), Some(e)) if s >= e);
        Self {
            reader,
            next: 0,
            start,
            end,
            done: empty,
        }
    }

    /// Restricts a batch to the window; `None` if no row qualifies.
    fn slice(&self, batch: RecordBatch) -> Option<RecordBatch> {
        let ts = batch
            .columns()
            .get(self.reader.ts_index())?
            .as_any()
            .downcast_ref::<Int64Array>()?
            .values();
        let lo = self.start.map_or(0, |s| ts.partition_point(|&t| t < s));
        let hi = self
            .end
            .map_or(ts.len(), |e| ts.partition_point(|&t| t < e));
        if lo >= hi {
            None
        } else if lo == 0 && hi == ts.len() {
            Some(batch)
        } else {
            Some(batch.slice(lo, hi - lo))
        }
    }
}

impl Iterator for Window<'_> {
    type Item = Result<RecordBatch, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let i = self.next;
            let Some((first, last)) = self.reader.batch_time_range(i) else {
                self.done = true;
                break;
            };
            self.next += 1;
            if self.end.is_some_and(|e| first >= e) {
                self.done = true;
                break;
            }
            if self.start.is_some_and(|s| last < s) {
                continue;
            }
            match self.reader.read_batch(i) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(batch) => {
                    if let Some(b) = self.slice(batch) {
                        return Some(Ok(b));
                    }
                }
            }
        }
        None
    }
}
