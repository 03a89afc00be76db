//! K-way merge of sorted sources into one stream sorted by `timestamp_ns`, stable across
//! sources (ties go to the source that arrived first, i.e. the smaller key).
//!
//! Run-based: the source holding the smallest (timestamp, key) emits, as one zero-copy slice,
//! every row that sorts before the next-smallest candidate, found by binary search. Sources
//! are opened only when the merge frontier reaches their smallest timestamp, so a topic whose
//! chunks do not overlap in time holds one chunk block in memory at a time; in general memory
//! is one block per chunk overlapping the frontier, plus one output batch.

use super::source::{filter_window, open_chunk, ts_column, Source};
use crate::descriptor::Window;
use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use tessera_format::ChunkReader;

enum Input {
    Chunk {
        reader: Box<ChunkReader>,
        path: PathBuf,
        locator: Arc<str>,
        next: usize,
    },
    Done,
}

struct Cursor {
    key: u64,
    input: Input,
    batch: RecordBatch,
    row: usize,
}

/// A merged, windowed stream of sorted batches.
pub struct Merge {
    schema: SchemaRef,
    ts: usize,
    window: Window,
    pending: VecDeque<Source>,
    active: Vec<Cursor>,
    target_bytes: usize,
    /// Chunk files opened so far (for tests and metrics).
    pub chunks_opened: usize,
}

impl Merge {
    /// Merge `sources` (sorted by smallest timestamp) for `window`.
    pub fn new(
        schema: SchemaRef,
        ts: usize,
        window: Window,
        sources: Vec<Source>,
        target_bytes: usize,
    ) -> Merge {
        Merge {
            schema,
            ts,
            window,
            pending: sources.into(),
            active: Vec::new(),
            target_bytes: target_bytes.max(1),
            chunks_opened: 0,
        }
    }

    fn head_ts(&self, c: &Cursor) -> Result<i64> {
        ts_column(&c.batch, self.ts)?
            .values()
            .get(c.row)
            .copied()
            .ok_or_else(|| Error::internal("merge cursor out of range."))
    }

    /// Next non-empty batch of a chunk input within the window.
    fn next_from(&mut self, input: &mut Input) -> Result<Option<RecordBatch>> {
        let Input::Chunk {
            reader,
            path,
            locator,
            next,
        } = input
        else {
            return Ok(None);
        };
        while *next < reader.num_batches() {
            let i = *next;
            *next += 1;
            if let Some((lo, hi)) = reader.batch_time_range(i) {
                let before = self.window.end.is_some_and(|e| lo >= e);
                let after = self.window.start.is_some_and(|s| hi < s);
                if before || after {
                    continue;
                }
            }
            let b = reader
                .read_batch(i)
                .map_err(|e| super::source::chunk_read_error(locator, path, e))?;
            if let Some(b) = filter_window(&b, self.ts, self.window)? {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn activate(&mut self, source: Source) -> Result<()> {
        let key = source.key();
        match source {
            Source::Tail { batch, .. } => {
                if batch.num_rows() > 0 {
                    self.active.push(Cursor {
                        key,
                        input: Input::Done,
                        batch,
                        row: 0,
                    });
                }
            }
            Source::Chunk {
                path,
                record,
                locator,
            } => {
                let reader = Box::new(open_chunk(&locator, &path, &record)?);
                self.chunks_opened += 1;
                let mut input = Input::Chunk {
                    reader,
                    path,
                    locator,
                    next: 0,
                };
                if let Some(batch) = self.next_from(&mut input)? {
                    self.active.push(Cursor {
                        key,
                        input,
                        batch,
                        row: 0,
                    });
                }
            }
        }
        Ok(())
    }

    /// Index of the active cursor with the smallest (ts, key).
    fn smallest(&self) -> Result<Option<(usize, i64)>> {
        let mut best: Option<(usize, i64, u64)> = None;
        for (i, c) in self.active.iter().enumerate() {
            let t = self.head_ts(c)?;
            if best.is_none_or(|(_, bt, bk)| (t, c.key) < (bt, bk)) {
                best = Some((i, t, c.key));
            }
        }
        Ok(best.map(|(i, t, _)| (i, t)))
    }

    /// The next output batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let mut parts: Vec<RecordBatch> = Vec::new();
        let mut bytes = 0usize;
        while bytes < self.target_bytes {
            // Open every pending source that could hold the next row.
            loop {
                let frontier = self.smallest()?.map(|(_, t)| t);
                match (self.pending.front().map(Source::ts_min), frontier) {
                    (Some(p), Some(f)) if p <= f => {}
                    (Some(_), None) => {}
                    _ => break,
                }
                if let Some(s) = self.pending.pop_front() {
                    self.activate(s)?;
                }
            }
            let Some((ci, _)) = self.smallest()? else {
                break;
            };
            // The bound: the smallest (ts, key) among the other cursors and the next pending.
            let mut bound: Option<(i64, u64)> = self.pending.front().map(|s| (s.ts_min(), s.key()));
            for (i, c) in self.active.iter().enumerate() {
                if i != ci {
                    let cand = (self.head_ts(c)?, c.key);
                    if bound.is_none_or(|b| cand < b) {
                        bound = Some(cand);
                    }
                }
            }
            let Some(cur) = self.active.get(ci) else {
                break;
            };
            let times = ts_column(&cur.batch, self.ts)?.values();
            let rest = times.get(cur.row..).unwrap_or_default();
            let n = match bound {
                None => rest.len(),
                Some((bt, bk)) => rest.partition_point(|&t| (t, cur.key) < (bt, bk)),
            }
            .max(1);
            let slice = cur.batch.slice(cur.row, n);
            let row_bytes = cur.batch.get_array_memory_size() / cur.batch.num_rows().max(1);
            bytes += row_bytes.saturating_mul(n);
            parts.push(slice);
            self.advance(ci, n)?;
        }
        match parts.len() {
            0 => Ok(None),
            1 => Ok(parts.pop()),
            _ => arrow_select::concat::concat_batches(&self.schema, &parts)
                .map(Some)
                .map_err(|e| Error::internal(format!("cannot assemble rows: {e}."))),
        }
    }

    fn advance(&mut self, ci: usize, n: usize) -> Result<()> {
        let Some(mut cur) = (ci < self.active.len()).then(|| self.active.swap_remove(ci)) else {
            return Ok(());
        };
        cur.row += n;
        if cur.row >= cur.batch.num_rows() {
            match self.next_from(&mut cur.input)? {
                Some(b) => {
                    cur.batch = b;
                    cur.row = 0;
                }
                None => return Ok(()),
            }
        }
        self.active.push(cur);
        Ok(())
    }
}
