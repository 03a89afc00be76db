//! Sealing one topic's durable WAL frames into chunk files. Steps, in this order:
//!
//! 1. Snapshot: `sealed_upto` = the largest `last_seq` of the topic's chunk records (0 if
//!    none); read durable frames (`seq <= durable_seq`) after it, up to one chunk's worth
//!    (`chunk_size_bytes` of Arrow body bytes).
//! 2. Write `chunks/sealing.chunk.tmp` (a stale one from a crash is removed first), fsynced
//!    before step 3. Rows in time order (the usual case) are streamed frame by frame through
//!    `tessera_format::ChunkWriter`: memory is one frame, not one chunk. At the first frame out
//!    of order the file is dropped and the range is collected, sorted (stable) and written by
//!    `tessera_format::write_chunk`. Either way blocks carry a crc32 each and are zstd
//!    compressed, unless a sample of the first batch shows zstd would save less than
//!    `zstd_min_saving` (noisy camera frames): then the chunk is stored raw.
//! 3. Rename it to `chunks/<first_seq>.chunk` (first frame of the range); fsync `chunks/`.
//! 4. Commit the chunk record (skip index) to the catalog in one batch, `SyncAll`, under the
//!    topic's seal gate (so readers see either the old state or the new one, never both).
//! 5. Reclaim WAL segments whose frames are all `<= last_seq` (still under the gate).
//! 6. After a forced seal of a topic whose upload completed (`uploaded`: no more appends), if
//!    every frame is sealed: end the active segment and reclaim it too (`reclaim_sealed`).
//!
//! Crash behaviour: before 4 the chunk is not in the catalog: readers use the WAL, the file
//! is an orphan that recovery (or the next seal of the same range, which renames over it)
//! removes. After 4 and before 5, readers skip WAL frames `<= sealed_upto`, so nothing is
//! duplicated; the next seal or startup reclaims. No step loses an acknowledged frame:
//! frames are only reclaimed after a committed chunk covers them.

use super::context::SealContext;
use super::job::SealJob;
use crate::catalog::chunks::{chunk_file_name, ChunkRecord};
use crate::catalog::records::TopicState;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::ipc;
use crate::locks::lock;
use arrow_array::RecordBatch;
use std::path::Path;
use std::sync::Arc;
use tessera_format::{write_chunk, ChunkOptions, ChunkWriter, FormatError};
use tessera_wal::FrameKind;

/// Seal as many full chunks as are waiting (and, with `force`, the rest). Returns the number
/// of chunks written. A forced seal of a topic whose upload completed then retires its WAL.
/// `sealed` is told the Arrow body bytes of each committed chunk (the compactor's backlog).
pub fn seal_topic(engine: &SealContext, job: &SealJob, sealed: &dyn Fn(u64)) -> Result<usize> {
    let mut written = 0;
    while let Some(full) = seal_one(engine, job, sealed)? {
        written += 1;
        if !full {
            break;
        }
    }
    // Each seal reclaims what it covers; left to do: reclaims a crash interrupted (nothing
    // written now), and retiring the WAL of a completed upload.
    let retire = job.force && upload_completed(engine, job)?;
    if written == 0 || retire {
        reclaim_sealed(engine, job, retire)?;
    }
    Ok(written)
}

/// Whether the topic's upload completed (`uploaded`, no stream): it takes no more appends.
fn upload_completed(engine: &SealContext, job: &SealJob) -> Result<bool> {
    let uploaded = engine
        .catalog
        .topic(&job.sequence, &job.topic)?
        .is_some_and(|t| t.id == job.id && t.state == TopicState::Uploaded);
    Ok(uploaded && !engine.uploads.is_uploading(&job.id)?)
}

/// Reclaim WAL segments covered by committed chunks (step 5, or its redo after a crash between
/// steps 4 and 5). With `retire` (step 6, a completed upload): if every frame is sealed, first
/// end the active segment so it is reclaimed too, leaving the topic's data in its chunks only.
/// A crash between the two leaves an empty new segment and the old one, which the next startup
/// seal reclaims.
fn reclaim_sealed(engine: &SealContext, job: &SealJob, retire: bool) -> Result<()> {
    let upto = sealed_upto(engine, &job.id)?;
    if upto == 0 {
        return Ok(());
    }
    let gate = engine.logs.seal_gate(&job.id)?;
    let _exclusive = gate
        .write()
        .map_err(|_| Error::internal("seal gate poisoned."))?;
    let wal = engine.logs.open_wal(&job.id)?;
    let mut w = lock(&wal)?;
    if retire && w.last_seq() == upto && w.roll()? {
        tracing::debug!(sequence = %job.sequence, topic = %job.topic, "WAL retired: all data sealed");
    }
    w.reclaim_before(upto + 1)?;
    Ok(())
}

/// The WAL position up to which a topic's frames are sealed.
pub fn sealed_upto(engine: &SealContext, topic_id: &uuid::Uuid) -> Result<u64> {
    Ok(engine
        .catalog
        .chunks_of(topic_id)?
        .iter()
        .map(|c| c.last_seq)
        .max()
        .unwrap_or(0))
}

/// The WAL range a chunk covers and how it was written.
struct Written {
    first_seq: u64,
    last_seq: u64,
    /// Arrow body bytes sealed.
    bytes: u64,
    /// A chunk's worth was available (more may be waiting).
    full: bool,
    meta: tessera_format::ChunkMeta,
}

/// Frames of one seal: durable, after `from`, up to one chunk's worth of body bytes.
struct Scan {
    reader: tessera_wal::WalReader,
    durable: u64,
    limit: u64,
    first_seq: u64,
    last_seq: u64,
    bytes: u64,
    full: bool,
}

impl Scan {
    fn new(engine: &SealContext, job: &SealJob, from: u64) -> Result<Scan> {
        let wal = engine.logs.open_wal(&job.id)?;
        let (reader, durable) = {
            let w = lock(&wal)?;
            (w.reader(from), w.durable_seq())
        };
        Ok(Scan {
            reader,
            durable,
            limit: engine.options.chunk_size_bytes,
            first_seq: 0,
            last_seq: 0,
            bytes: 0,
            full: false,
        })
    }

    /// The next record batch of this chunk, `None` when the chunk is complete.
    fn next_batch(&mut self, schema: &arrow_schema::SchemaRef) -> Result<Option<RecordBatch>> {
        loop {
            if self.bytes >= self.limit {
                self.full = true;
                return Ok(None);
            }
            let Some(frame) = self.reader.next() else {
                return Ok(None);
            };
            let frame = frame?;
            if frame.seq > self.durable {
                return Ok(None);
            }
            if self.first_seq == 0 {
                self.first_seq = frame.seq;
            }
            self.last_seq = frame.seq;
            if frame.kind != FrameKind::RecordBatch {
                continue;
            }
            let (batch, body_len) = ipc::decode_stored_batch(frame.seq, frame.payload, schema)?;
            self.bytes += body_len;
            return Ok(Some(batch));
        }
    }

    /// Whether a whole chunk's worth was scanned.
    fn is_full(&self) -> bool {
        self.full || self.bytes >= self.limit
    }

    /// Whether what was scanned should become a chunk now.
    fn worth_sealing(&self, force: bool) -> bool {
        self.first_seq != 0 && (force || self.is_full())
    }

    fn written(&self, meta: tessera_format::ChunkMeta) -> Written {
        Written {
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            bytes: self.bytes,
            full: self.is_full(),
            meta,
        }
    }
}

/// Steps 1-2 for rows arriving in time order (the usual case: a sensor's clock): each WAL
/// frame is decoded and appended to the chunk file at once, so memory is one frame, not one
/// chunk. `Ok(None)`: nothing worth sealing; `Ok(Some(Err(Unordered)))`: rows out of order,
/// seal with [`write_sorting`] instead.
fn write_streaming(
    engine: &SealContext,
    job: &SealJob,
    schema: &arrow_schema::SchemaRef,
    from: u64,
    tmp: &Path,
    opts: &ChunkOptions,
) -> Result<Option<std::result::Result<Written, Unordered>>> {
    let mut scan = Scan::new(engine, job, from)?;
    let mut writer: Option<ChunkWriter> = None;
    while let Some(batch) = scan.next_batch(schema)? {
        if batch.num_rows() == 0 {
            continue;
        }
        let w = match writer.as_mut() {
            Some(w) => w,
            None => {
                let opts = choose_compression(engine, opts, &batch);
                writer.insert(ChunkWriter::create(tmp, schema, &opts).map_err(chunk_error(tmp))?)
            }
        };
        match w.push(&batch) {
            Ok(()) => {}
            Err(FormatError::Unordered(_)) => return Ok(Some(Err(Unordered))),
            Err(e) => return Err(chunk_error(tmp)(e)),
        }
    }
    let Some(w) = writer else {
        return Ok(None);
    };
    if !scan.worth_sealing(job.force) {
        return Ok(None); // dropping the writer removes the partial file
    }
    let meta = w.finish().map_err(chunk_error(tmp))?;
    Ok(Some(Ok(scan.written(meta))))
}

/// Rows of this chunk are not in time order: seal it with [`write_sorting`].
struct Unordered;

/// Steps 1-2 for rows out of time order: collect the chunk's batches, sort, write.
fn write_sorting(
    engine: &SealContext,
    job: &SealJob,
    schema: &arrow_schema::SchemaRef,
    from: u64,
    tmp: &Path,
    opts: &ChunkOptions,
) -> Result<Option<Written>> {
    let mut scan = Scan::new(engine, job, from)?;
    let mut batches = Vec::new();
    while let Some(batch) = scan.next_batch(schema)? {
        batches.push(batch);
    }
    if batches.is_empty() || !scan.worth_sealing(job.force) {
        return Ok(None);
    }
    let opts = match batches.first() {
        Some(first) => choose_compression(engine, opts, first),
        None => opts.clone(),
    };
    let meta = write_chunk(tmp, schema, &batches, &opts).map_err(chunk_error(tmp))?;
    Ok(Some(scan.written(meta)))
}

/// The chunk's compression: the configured one, or none when a sample of its first batch
/// shows zstd would save less than `zstd_min_saving` (see `tessera_format::compression_for`).
fn choose_compression(
    engine: &SealContext,
    opts: &ChunkOptions,
    first: &RecordBatch,
) -> ChunkOptions {
    let compression =
        tessera_format::compression_for(opts.compression, first, engine.options.zstd_min_saving);
    ChunkOptions {
        compression,
        ..opts.clone()
    }
}

fn chunk_error(path: &Path) -> impl Fn(FormatError) -> Error + '_ {
    move |e| {
        tracing::warn!(path = %path.display(), error = %e, "cannot write chunk");
        match e {
            FormatError::Io { source, .. } => crate::error::io_error("chunk file", &source),
            other => Error::internal(format!("cannot write a chunk: {other}.")),
        }
    }
}

fn seal_one(engine: &SealContext, job: &SealJob, sealed: &dyn Fn(u64)) -> Result<Option<bool>> {
    let cat = &engine.catalog;
    let Some(header) = cat.schema(&job.id)? else {
        return Ok(None);
    };
    let schema = Arc::new(ipc::decode_schema(&header)?);
    let from = sealed_upto(engine, &job.id)? + 1;
    let dir = engine.logs.chunks_dir(&job.id);
    fsutil::create_dir_all(&dir)?;
    // The file is named after the first frame of the range, which is `from` unless frames
    // before it were reclaimed; name it once the range is known.
    let tmp = dir.join("sealing.chunk.tmp");
    // Step 2 starts from a clean slate: a stale `.tmp` from a crash is removed.
    remove_if_exists(&tmp)?;
    let opts = ChunkOptions {
        compression: engine.options.compression,
        ..ChunkOptions::default()
    };
    tracing::debug!(sequence = %job.sequence, topic = %job.topic, from, "sealing chunk");
    let written = match write_streaming(engine, job, &schema, from, &tmp, &opts)? {
        None => return Ok(None),
        Some(Ok(w)) => w,
        Some(Err(Unordered)) => {
            remove_if_exists(&tmp)?;
            match write_sorting(engine, job, &schema, from, &tmp, &opts)? {
                None => return Ok(None),
                Some(w) => w,
            }
        }
    };
    let Written {
        first_seq,
        last_seq,
        bytes,
        full,
        meta,
    } = written;
    let name = chunk_file_name(first_seq);
    let final_path = dir.join(&name);
    // Step 3.
    fsutil::rename(&tmp, &final_path)?;
    let record = ChunkRecord {
        first_seq,
        last_seq,
        file_len: meta.file_len,
        stats: meta.stats,
    };
    // Steps 4 and 5 under the seal gate.
    let gate = engine.logs.seal_gate(&job.id)?;
    let _exclusive = gate
        .write()
        .map_err(|_| Error::internal("seal gate poisoned."))?;
    let committed = cat.write(|tx| {
        if tx
            .read()
            .topic(&job.sequence, &job.topic)?
            .is_none_or(|t| t.id != job.id)
        {
            return Ok(false); // deleted meanwhile
        }
        tx.put_chunk(&job.id, &record);
        Ok(true)
    })?;
    if !committed {
        remove_if_exists(&final_path)?;
        return Ok(None);
    }
    sealed(bytes);
    let wal = engine.logs.open_wal(&job.id)?;
    let reclaimed = lock(&wal)?.reclaim_before(last_seq + 1)?;
    tracing::info!(sequence = %job.sequence, topic = %job.topic, chunk = %name,
        rows = record.stats.row_count, bytes = record.file_len, wal_segments_reclaimed = reclaimed, "chunk sealed");
    Ok(Some(full))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    fsutil::remove_file(path)?;
    Ok(())
}
