//! Where a topic's rows come from: sealed chunks (chosen by their catalog skip index, never
//! opened when outside the window) and the unsealed WAL tail (durable frames after the last
//! sealed one, decoded and stably sorted in memory). The tail is bounded by two chunks: a
//! longer one (an upload absorbing a burst, see `Config::seal_lag_bytes`) is sealed first.

use crate::catalog::chunks::ChunkRecord;
use crate::catalog::records::{TopicRecord, TopicState};
use crate::compactor::SealJob;
use crate::descriptor::Window;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ipc;
use crate::locks::lock;
use crate::logs::{check_recorded, tail_batches, Sealed};
use crate::names::{self, TopicLocator};
use arrow_array::{Array, Int64Array, RecordBatch, UInt32Array};
use arrow_schema::SchemaRef;
use std::path::PathBuf;
use std::sync::Arc;
use tessera_format::{prune_time, Prune};
use tessera_wal::FrameKind;

/// The WAL tail a read decodes in memory is at most this many chunks' worth of Arrow bodies.
const MAX_TAIL_CHUNKS: u64 = 2;
/// Seal-and-retry rounds before a read takes a longer tail whole.
const SEAL_ATTEMPTS: usize = 3;

/// The WAL tail as read for a snapshot.
enum Tail {
    /// Its rows inside the window, sorted (`None`: none), and the rows and batches of the
    /// whole tail (inside the window or not).
    Rows(Option<RecordBatch>, TailCount),
    /// Longer than the limit: seal it first.
    TooLong,
}

/// Rows and batches of the whole WAL tail.
#[derive(Debug, Default, Clone, Copy)]
struct TailCount {
    rows: u64,
    batches: u64,
}

/// A resolved topic with its stored schema.
pub struct TopicData {
    /// Canonical locator.
    pub locator: TopicLocator,
    /// Catalog record.
    pub record: TopicRecord,
    /// Whether the topic's session is finalized.
    pub locked: bool,
    /// Finalization time of its session.
    pub completed_at_ns: Option<i64>,
    /// The stored schema (`None` until its first DoPut).
    pub schema: Option<SchemaRef>,
}

/// One sorted input of the merge.
pub enum Source {
    /// A sealed chunk file, opened lazily (and checked against its record, [`open_chunk`]).
    Chunk {
        /// File path.
        path: PathBuf,
        /// Its catalog record.
        record: ChunkRecord,
        /// The topic's locator, for error messages.
        locator: Arc<str>,
    },
    /// The sorted WAL tail.
    Tail {
        /// Rows sorted by timestamp, already windowed.
        batch: RecordBatch,
        /// Ordering key: after every chunk.
        key: u64,
        /// Smallest timestamp.
        ts_min: i64,
    },
}

impl Source {
    /// Lower bound of the source's timestamps.
    pub fn ts_min(&self) -> i64 {
        match self {
            Source::Chunk { record, .. } => record.stats.ts_min,
            Source::Tail { ts_min, .. } => *ts_min,
        }
    }
    /// Tie-break key: arrival order of the source's first frame.
    pub fn key(&self) -> u64 {
        match self {
            Source::Chunk { record, .. } => record.first_seq,
            Source::Tail { key, .. } => *key,
        }
    }
}

impl TopicData {
    /// Resolve `seq/topic`.
    pub fn open(engine: &Engine, raw_locator: &str) -> Result<TopicData> {
        let locator = names::topic_locator(raw_locator)?;
        let cat = engine.catalog();
        let record = cat
            .topic(&locator.sequence, &locator.topic)?
            .ok_or_else(|| {
                Error::not_found(format!("topic `{}` does not exist.", locator.locator()))
            })?;
        let session = cat.session(&locator.sequence, &record.session_id)?;
        let completed_at_ns = session.and_then(|s| s.completed_at_ns);
        let schema = match cat.schema(&record.id)? {
            Some(h) => Some(Arc::new(ipc::decode_schema(&h).map_err(|e| {
                Error::data_loss(format!(
                    "stored schema of `{}` is damaged: {}",
                    locator.locator(),
                    e.message
                ))
            })?)),
            None => None,
        };
        Ok(TopicData {
            locator,
            record,
            locked: completed_at_ns.is_some(),
            completed_at_ns,
            schema,
        })
    }

    /// Index of `timestamp_ns` in the stored schema.
    pub fn ts_index(&self) -> Result<Option<usize>> {
        match &self.schema {
            Some(s) => ipc::check_schema(s).map(Some),
            None => Ok(None),
        }
    }

    /// All chunk records of the topic.
    pub fn chunks(&self, engine: &Engine) -> Result<Vec<ChunkRecord>> {
        engine.catalog().chunks_of(&self.record.id)
    }

    /// The sorted inputs for `window`: chunks whose skip index overlaps it (ordered by smallest
    /// timestamp) and the WAL tail. Taken under the seal gate, so a concurrent seal is seen
    /// either entirely or not at all. `DataLoss` when the topic stores fewer rows or batches
    /// than its record says were acknowledged, or its log does not continue its chunks
    /// (`logs::integrity`).
    pub fn sources(&self, engine: &Engine, window: Window) -> Result<Vec<Source>> {
        let (Some(schema), Some(ts)) = (&self.schema, self.ts_index()?) else {
            return Ok(Vec::new());
        };
        if self.record.state == TopicState::Created {
            return Ok(Vec::new());
        }
        // Refuse before any row is streamed: chunk files (each checked once per process, and
        // again whenever one is opened), the log, the acknowledged batches.
        crate::logs::check_stored(engine.catalog(), engine.logs(), &self.record)
            .map_err(|e| e.for_topic(&self.locator.locator()))?;
        // A tail over the limit is sealed and the snapshot retaken; an upload could keep it
        // over by outrunning the seals, so the last attempt takes it whole.
        let limit = engine
            .config()
            .chunk_size_bytes
            .saturating_mul(MAX_TAIL_CHUNKS);
        for _ in 0..SEAL_ATTEMPTS {
            if let Some(out) = self.snapshot(engine, schema, ts, window, Some(limit))? {
                return Ok(out);
            }
            self.seal_now(engine);
        }
        self.snapshot(engine, schema, ts, window, None)?
            .ok_or_else(|| Error::internal("an unbounded WAL tail read gave up."))
    }

    /// Have the compactor seal the topic's complete chunks now, and wait for it.
    fn seal_now(&self, engine: &Engine) {
        let compactor = engine.compactor();
        compactor.request(SealJob {
            sequence: self.locator.sequence.clone(),
            topic: self.locator.topic.clone(),
            id: self.record.id,
            force: false,
        });
        compactor.wait_idle(&self.record.id);
    }

    /// [`TopicData::sources`] as of now; `None` when the WAL tail holds more than `limit`
    /// Arrow body bytes.
    fn snapshot(
        &self,
        engine: &Engine,
        schema: &SchemaRef,
        ts: usize,
        window: Window,
        limit: Option<u64>,
    ) -> Result<Option<Vec<Source>>> {
        let gate = engine.logs().seal_gate(&self.record.id)?;
        let _shared = gate
            .read()
            .map_err(|_| Error::internal("seal gate poisoned."))?;
        let dir = engine.logs().chunks_dir(&self.record.id);
        let chunks = self.chunks(engine)?;
        let sealed = Sealed::of(&chunks);
        let locator: Arc<str> = self.locator.locator().into();
        let mut out: Vec<Source> = chunks
            .into_iter()
            .filter(|c| prune_time(&c.stats, window.start, window.end) == Prune::Keep)
            .map(|record| Source::Chunk {
                path: dir.join(record.file_name()),
                record,
                locator: Arc::clone(&locator),
            })
            .collect();
        let Tail::Rows(tail, count) = self.tail(engine, schema, ts, sealed.upto, window, limit)?
        else {
            return Ok(None);
        };
        check_recorded(
            Some(sealed.rows + count.rows),
            sealed.batches + count.batches,
            &self.record.stats,
            &self.record.id,
        )
        .map_err(|e| e.for_topic(&locator))?;
        if let Some(batch) = tail {
            let ts_min = ts_column(&batch, ts)?
                .values()
                .first()
                .copied()
                .unwrap_or(i64::MIN);
            out.push(Source::Tail {
                batch,
                key: sealed.upto + 1,
                ts_min,
            });
        }
        out.sort_by_key(|s| (s.ts_min(), s.key()));
        Ok(Some(out))
    }

    /// Durable WAL frames after `upto`, windowed and stably sorted; [`Tail::TooLong`] as soon
    /// as their Arrow bodies pass `limit`.
    fn tail(
        &self,
        engine: &Engine,
        schema: &SchemaRef,
        ts: usize,
        upto: u64,
        window: Window,
        limit: Option<u64>,
    ) -> Result<Tail> {
        let locator = self.locator.locator();
        let named = |e: Error| e.for_topic(&locator);
        let wal = engine.logs().open_wal(&self.record.id).map_err(named)?;
        let (reader, durable) = {
            let w = lock(&wal)?;
            tail_batches(&w, upto, &self.record.id).map_err(named)?;
            (w.reader(upto + 1), w.durable_seq())
        };
        let mut parts = Vec::new();
        let mut bytes = 0u64;
        let mut count = TailCount::default();
        for frame in reader {
            let frame = frame.map_err(|e| {
                tracing::error!(topic = %self.record.id, error = %e, "WAL frame unreadable");
                named(Error::data_loss(
                    "its write-ahead log is damaged; see the server log.",
                ))
            })?;
            if frame.seq > durable {
                break;
            }
            if frame.kind != FrameKind::RecordBatch {
                continue;
            }
            let (batch, body_len) = ipc::decode_stored_batch(frame.seq, frame.payload, schema)
                .map_err(|e| {
                    tracing::error!(topic = %self.record.id, error = %e.message, "stored batch unreadable");
                    named(Error::data_loss(e.message))
                })?;
            bytes = bytes.saturating_add(body_len);
            if limit.is_some_and(|l| bytes > l) {
                return Ok(Tail::TooLong);
            }
            count.rows += batch.num_rows() as u64;
            count.batches += 1;
            if let Some(b) = filter_window(&batch, ts, window)? {
                parts.push(b);
            }
        }
        if parts.is_empty() {
            return Ok(Tail::Rows(None, count));
        }
        let all = arrow_select::concat::concat_batches(schema, &parts)
            .map_err(|e| Error::internal(format!("cannot assemble rows: {e}.")))?;
        stable_sort(&all, ts).map(|b| Tail::Rows(Some(b), count))
    }

    /// Rows, min and max timestamp inside `window` (skip indices answer for chunks wholly
    /// inside it; only chunks cut by a bound are read).
    pub fn window_summary(
        &self,
        engine: &Engine,
        window: Window,
    ) -> Result<(u64, Option<i64>, Option<i64>)> {
        let ts = self.ts_index()?.unwrap_or(0);
        let (mut rows, mut lo, mut hi) = (0u64, None::<i64>, None::<i64>);
        let mut see = |n: u64, a: i64, b: i64| {
            rows += n;
            lo = Some(lo.map_or(a, |m| m.min(a)));
            hi = Some(hi.map_or(b, |m| m.max(b)));
        };
        for s in self.sources(engine, window)? {
            match s {
                Source::Chunk {
                    path,
                    record,
                    locator,
                } => {
                    let st = &record.stats;
                    if window.contains(st.ts_min) && window.contains(st.ts_max) {
                        see(st.row_count, st.ts_min, st.ts_max);
                        continue;
                    }
                    let reader = open_chunk(&locator, &path, &record)?;
                    for b in reader.window(window.start, window.end) {
                        let b = b.map_err(|e| chunk_read_error(&locator, &path, e))?;
                        let v = ts_column(&b, ts)?.values();
                        if let (Some(&a), Some(&z)) = (v.first(), v.last()) {
                            see(b.num_rows() as u64, a, z);
                        }
                    }
                }
                Source::Tail { batch, .. } => {
                    let v = ts_column(&batch, ts)?.values();
                    if let (Some(&a), Some(&z)) = (v.first(), v.last()) {
                        see(batch.num_rows() as u64, a, z);
                    }
                }
            }
        }
        Ok((rows, lo, hi))
    }
}

/// Open a topic's chunk file, checked against its catalog record (`logs::open_chunk`: another
/// file in its place, a damaged or missing one, is `DataLoss`), errors naming the topic.
pub fn open_chunk(
    locator: &str,
    path: &std::path::Path,
    record: &ChunkRecord,
) -> Result<tessera_format::ChunkReader> {
    crate::logs::open_chunk(path, record).map_err(|e| e.for_topic(locator))
}

/// The client's error for a chunk of the topic `locator` that cannot be read (the path and
/// detail go to the log): an I/O failure through the storage table, anything else (a damaged
/// or missing file) `DataLoss`.
pub fn chunk_read_error(
    locator: &str,
    path: &std::path::Path,
    e: tessera_format::FormatError,
) -> Error {
    crate::logs::chunk_error(path, e).for_topic(locator)
}

/// Stable sort of a batch by its timestamp column.
pub fn stable_sort(batch: &RecordBatch, ts: usize) -> Result<RecordBatch> {
    let times = ts_column(batch, ts)?.values();
    if times.is_sorted() {
        return Ok(batch.clone());
    }
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by_key(|&i| times.get(i as usize).copied().unwrap_or(i64::MAX));
    arrow_select::take::take_record_batch(batch, &UInt32Array::from(order))
        .map_err(|e| Error::internal(format!("cannot sort rows: {e}.")))
}

/// Keep the rows of `batch` inside `window`; `None` if none remain.
pub fn filter_window(
    batch: &RecordBatch,
    ts: usize,
    window: Window,
) -> Result<Option<RecordBatch>> {
    if batch.num_rows() == 0 {
        return Ok(None);
    }
    if !window.is_bounded() {
        return Ok(Some(batch.clone()));
    }
    let col = ts_column(batch, ts)?;
    let mask: arrow_array::BooleanArray = col
        .values()
        .iter()
        .map(|&t| Some(window.contains(t)))
        .collect();
    let out = arrow_select::filter::filter_record_batch(batch, &mask)
        .map_err(|e| Error::internal(format!("window filter failed: {e}.")))?;
    Ok((out.num_rows() > 0).then_some(out))
}

/// The `timestamp_ns` column of a batch.
pub fn ts_column(batch: &RecordBatch, ts: usize) -> Result<&Int64Array> {
    batch
        .columns()
        .get(ts)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .filter(|c| c.null_count() == 0)
        .ok_or_else(|| Error::internal("timestamp column missing or null."))
}
