//! Sealing one topic's durable WAL frames into chunk files. Steps, in this order:
//!
//! 1. Snapshot: `sealed_upto` = the largest `last_seq` of the topic's chunk records (0 if
//!    none); read durable frames (`seq <= durable_seq`) after it, up to one chunk's worth
//!    (`chunk_size_bytes` of Arrow body bytes).
//! 2. Write `chunks/<first_seq>.chunk.tmp` (sorted by `timestamp_ns`, stable; zstd; fsynced by
//!    `tessera_format::write_chunk`). A stale `.tmp` from a crash is removed first.
//! 3. Rename it to `chunks/<first_seq>.chunk`; fsync the `chunks/` directory.
//! 4. Commit the chunk record (skip index) to the catalog in one batch, `SyncAll`, under the
//!    topic's seal gate (so readers see either the old state or the new one, never both).
//! 5. Reclaim WAL segments whose frames are all `<= last_seq` (still under the gate).
//!
//! Crash behaviour: before 4 the chunk is not in the catalog: readers use the WAL, the file
//! is an orphan that recovery (or the next seal of the same range, which renames over it)
//! removes. After 4 and before 5, readers skip WAL frames `<= sealed_upto`, so nothing is
//! duplicated; the next seal or startup reclaims. No step loses an acknowledged frame:
//! frames are only reclaimed after a committed chunk covers them.

use super::SealJob;
use crate::catalog::chunks::{chunk_file_name, ChunkRecord};
use crate::engine::{lock, Engine};
use crate::error::{Error, Result};
use crate::ipc;
use arrow_array::RecordBatch;
use std::path::Path;
use std::sync::Arc;
use tessera_format::{write_chunk, ChunkOptions};
use tessera_wal::FrameKind;

/// Seal as many full chunks as are waiting (and, with `force`, the rest). Returns the number
/// of chunks written.
pub fn seal_topic(engine: &Engine, job: &SealJob) -> Result<usize> {
    let mut written = 0;
    loop {
        match seal_one(engine, job)? {
            Some(full) => {
                written += 1;
                if !full {
                    return Ok(written);
                }
            }
            None => {
                if written == 0 {
                    reclaim_sealed(engine, job)?;
                }
                return Ok(written);
            }
        }
    }
}

/// Reclaim WAL segments already covered by committed chunks (a crash between steps 4 and 5).
fn reclaim_sealed(engine: &Engine, job: &SealJob) -> Result<()> {
    let upto = sealed_upto(engine, &job.id)?;
    if upto == 0 {
        return Ok(());
    }
    let gate = engine.seal_gate(&job.id)?;
    let _exclusive = gate
        .write()
        .map_err(|_| Error::internal("seal gate poisoned."))?;
    let wal = engine.wal(&job.id)?;
    lock(&wal)?.reclaim_before(upto + 1)?;
    Ok(())
}

/// The WAL position up to which a topic's frames are sealed.
pub fn sealed_upto(engine: &Engine, topic_id: &uuid::Uuid) -> Result<u64> {
    Ok(engine
        .catalog()
        .chunks_of(topic_id)?
        .iter()
        .map(|c| c.last_seq)
        .max()
        .unwrap_or(0))
}

struct Pending {
    first_seq: u64,
    last_seq: u64,
    bytes: u64,
    batches: Vec<RecordBatch>,
    full: bool,
}

/// Step 1: collect up to one chunk of durable, unsealed batches.
fn collect(
    engine: &Engine,
    job: &SealJob,
    schema: &arrow_schema::SchemaRef,
    from: u64,
) -> Result<Option<Pending>> {
    let limit = engine.config().chunk_size_bytes;
    let wal = engine.wal(&job.id)?;
    let (reader, durable) = {
        let w = lock(&wal)?;
        (w.reader(from), w.durable_seq())
    };
    let mut p = Pending {
        first_seq: 0,
        last_seq: 0,
        bytes: 0,
        batches: Vec::new(),
        full: false,
    };
    for frame in reader {
        let frame = frame?;
        if frame.seq > durable {
            break;
        }
        if p.bytes >= limit {
            p.full = true;
            break;
        }
        if p.first_seq == 0 {
            p.first_seq = frame.seq;
        }
        p.last_seq = frame.seq;
        if frame.kind != FrameKind::RecordBatch {
            continue;
        }
        let (batch, body_len) = ipc::decode_stored_batch(frame.seq, frame.payload, schema)?;
        p.bytes += body_len;
        p.batches.push(batch);
    }
    if p.first_seq == 0 || p.batches.is_empty() || (!job.force && !p.full) {
        return Ok(None);
    }
    Ok(Some(p))
}

fn seal_one(engine: &Engine, job: &SealJob) -> Result<Option<bool>> {
    let cat = engine.catalog();
    let Some(header) = cat.schema(&job.id)? else {
        return Ok(None);
    };
    let schema = Arc::new(ipc::decode_schema(&header)?);
    let from = sealed_upto(engine, &job.id)? + 1;
    let Some(p) = collect(engine, job, &schema, from)? else {
        return Ok(None);
    };
    tracing::debug!(sequence = %job.sequence, topic = %job.topic, first_seq = p.first_seq,
        last_seq = p.last_seq, "sealing chunk");
    let dir = engine.topic_dir(&job.id).join("chunks");
    std::fs::create_dir_all(&dir)?;
    let name = chunk_file_name(p.first_seq);
    let final_path = dir.join(&name);
    let tmp = dir.join(format!("{name}.tmp"));
    // Step 2.
    remove_if_exists(&tmp)?;
    let opts = ChunkOptions {
        compression: engine.config().chunk_compression,
        ..ChunkOptions::default()
    };
    let meta = write_chunk(&tmp, &schema, &p.batches, &opts)
        .map_err(|e| Error::internal(format!("cannot write chunk {}: {e}.", tmp.display())))?;
    // Step 3.
    std::fs::rename(&tmp, &final_path)?;
    sync_dir(&dir)?;
    let record = ChunkRecord {
        first_seq: p.first_seq,
        last_seq: p.last_seq,
        file_len: meta.file_len,
        stats: meta.stats,
    };
    // Steps 4 and 5 under the seal gate.
    let gate = engine.seal_gate(&job.id)?;
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
    engine.compactor().sub_unsealed(job.id, p.bytes);
    let wal = engine.wal(&job.id)?;
    let reclaimed = lock(&wal)?.reclaim_before(p.last_seq + 1)?;
    tracing::info!(sequence = %job.sequence, topic = %job.topic, chunk = %name,
        rows = record.stats.row_count, bytes = record.file_len, wal_segments_reclaimed = reclaimed, "chunk sealed");
    Ok(Some(p.full))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// fsync a directory so renames and removals in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
