//! Stages 2-4 for one topic: choose sources (chunks by time window and skip index, plus the
//! unsealed WAL tail, via `read::TopicData::sources`), evaluate the surviving ones exactly on
//! at most [`MAX_PARALLEL`] threads, and fold the matching timestamps into clusters.

use super::clusters::{merge, Clusters, Gap};
use super::eval::{eval_group, Compiled};
use super::prune::skip_chunk;
use crate::descriptor::Window;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::read::{chunk_read_error, open_chunk, ts_column, Source, TopicData};
use arrow_array::RecordBatch;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Most threads evaluating one topic's chunks at once.
pub const MAX_PARALLEL: usize = 4;

/// What a scan read, for measurements and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanStats {
    /// Sealed chunks in the time window.
    pub chunks: u64,
    /// Chunks opened (not skipped by the skip index).
    pub chunks_read: u64,
    /// File bytes of the chunks in the window.
    pub chunk_bytes: u64,
    /// File bytes of the chunks opened.
    pub chunk_bytes_read: u64,
    /// Rows evaluated (chunk rows read plus WAL tail rows).
    pub rows_evaluated: u64,
}

impl ScanStats {
    /// Add another scan's figures.
    pub fn add(&mut self, o: &ScanStats) {
        self.chunks += o.chunks;
        self.chunks_read += o.chunks_read;
        self.chunk_bytes += o.chunk_bytes;
        self.chunk_bytes_read += o.chunk_bytes_read;
        self.rows_evaluated += o.rows_evaluated;
    }
}

/// Options of one scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Rows outside are ignored.
    pub window: Window,
    /// Cluster gap limit.
    pub gap: Gap,
    /// Use the skip index (turned off only to measure what it saves).
    pub prune: bool,
}

fn fold(group: &[Compiled], batch: &RecordBatch, ts: usize, out: &mut Clusters) -> Result<u64> {
    let mask = eval_group(group, batch);
    let times = ts_column(batch, ts)?.values();
    for (&t, _) in times.iter().zip(&mask).filter(|(_, &m)| m) {
        out.push(t);
    }
    Ok(batch.num_rows() as u64)
}

fn scan_source(
    src: &Source,
    group: &[Compiled],
    ts: usize,
    opts: &ScanOptions,
) -> Result<(Vec<(i64, i64)>, u64)> {
    let mut clusters = Clusters::new(opts.gap);
    let mut rows = 0;
    match src {
        Source::Chunk {
            path,
            record,
            locator,
        } => {
            let reader = open_chunk(locator, path, record)?;
            for b in reader.window(opts.window.start, opts.window.end) {
                let b = b.map_err(|e| chunk_read_error(locator, path, e))?;
                rows += fold(group, &b, ts, &mut clusters)?;
            }
        }
        Source::Tail { batch, .. } => rows += fold(group, batch, ts, &mut clusters)?,
    }
    Ok((clusters.into_vec(), rows))
}

/// Clusters of the topic's rows inside `opts.window` where every expression of `group` holds.
pub fn scan_topic(
    engine: &Engine,
    td: &TopicData,
    group: &[Compiled],
    opts: ScanOptions,
) -> Result<(Vec<(i64, i64)>, ScanStats)> {
    let Some(ts) = td.ts_index()? else {
        return Ok((Vec::new(), ScanStats::default()));
    };
    let mut stats = ScanStats::default();
    let mut work = Vec::new();
    for s in td.sources(engine, opts.window)? {
        if let Source::Chunk { record, .. } = &s {
            stats.chunks += 1;
            stats.chunk_bytes += record.file_len;
            if opts.prune && skip_chunk(group, &record.stats) {
                continue;
            }
            stats.chunks_read += 1;
            stats.chunk_bytes_read += record.file_len;
        }
        work.push(s);
    }
    let next = AtomicUsize::new(0);
    let rows = AtomicU64::new(0);
    let parts: Mutex<Vec<Vec<(i64, i64)>>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(src) = work.get(i) else { break };
        match scan_source(src, group, ts, &opts) {
            Ok((c, n)) => {
                rows.fetch_add(n, Ordering::Relaxed);
                if let Ok(mut p) = parts.lock() {
                    p.push(c);
                }
            }
            Err(e) => {
                if let Ok(mut f) = failure.lock() {
                    f.get_or_insert(e);
                }
                next.store(work.len(), Ordering::Relaxed);
                break;
            }
        }
    };
    let threads = work.len().min(MAX_PARALLEL);
    if threads <= 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(worker);
            }
        });
    }
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let parts = parts
        .into_inner()
        .map_err(|_| Error::internal("query worker panicked."))?;
    if parts.len() != work.len() {
        return Err(Error::internal("a query worker stopped early."));
    }
    stats.rows_evaluated = rows.into_inner();
    Ok((merge(opts.gap, parts), stats))
}
