//! Startup recovery of sealing: remove leftovers of interrupted seals, recount the data of
//! uploads a crash interrupted, and queue every topic that still has unsealed WAL data.

use super::context::SealContext;
use super::job::SealJob;
use super::queue::Compactor;
use crate::catalog::records::{TopicRecord, TopicState};
use crate::error::Result;
use crate::fsutil;
use crate::locks::lock;
use crate::logs::stored_stats;
use std::collections::HashSet;

/// For every topic: delete `*.tmp` and chunk files the catalog does not name (seals
/// interrupted before their catalog commit); for an upload left `uploading`, restore a schema
/// the WAL holds but the catalog lacks (a crash between the two writes) and replace the
/// statistics in its record (written only when a DoPut ends) by a recount of what it stores,
/// unless the recount is lower (data lost: logged, record kept); then queue a forced seal.
pub fn recover_all(engine: &SealContext, compactor: &Compactor) -> Result<()> {
    let cat = &engine.catalog;
    for (seq, _) in cat.sequences()? {
        for (topic, rec) in cat.topics_of(&seq)? {
            let dir = engine.logs.chunks_dir(&rec.id);
            if dir.is_dir() {
                let known: HashSet<String> = cat
                    .chunks_of(&rec.id)?
                    .iter()
                    .map(|c| c.file_name())
                    .collect();
                let mut removed = false;
                for entry in std::fs::read_dir(&dir)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !known.contains(&name) {
                        tracing::info!(sequence = %seq, topic = %topic, file = %name, "removing unfinished chunk");
                        std::fs::remove_file(entry.path())?;
                        removed = true;
                    }
                }
                if removed {
                    fsutil::sync_dir(&dir)?;
                }
            }
            if rec.state == TopicState::Uploading {
                if let Err(e) = restore_schema(engine, &seq, &topic, &rec) {
                    tracing::error!(sequence = %seq, topic = %topic, error = %e.message,
                        "cannot restore the topic's schema from its WAL");
                }
                // A damaged log must not keep the server (and every other topic) down: its
                // reads report the damage.
                if let Err(e) = recount(engine, &seq, &topic, &rec) {
                    tracing::error!(sequence = %seq, topic = %topic, error = %e.message,
                        "cannot recount an interrupted upload");
                }
            }
            if cat.schema(&rec.id)?.is_some() {
                compactor.request(SealJob {
                    sequence: seq.clone(),
                    topic,
                    id: rec.id,
                    force: true,
                });
            }
        }
    }
    Ok(())
}

/// Store the recounted statistics of an interrupted upload, if they changed. Never lower
/// ones: the record's statistics were written when a DoPut ended, after its data was synced,
/// so they count acknowledged rows; a recount below them means data was lost (e.g. a damaged
/// last frame cut as a torn tail). That is logged and the record kept, so reads and
/// `tessera verify` keep reporting the loss (`logs::integrity`).
fn recount(engine: &SealContext, seq: &str, topic: &str, rec: &TopicRecord) -> Result<()> {
    let Some(stats) = stored_stats(&engine.catalog, &engine.logs, &rec.id)? else {
        return Ok(());
    };
    if stats == rec.stats {
        return Ok(());
    }
    if stats.rows < rec.stats.rows || stats.batches < rec.stats.batches {
        tracing::error!(sequence = %seq, topic = %topic, rows = stats.rows, batches = stats.batches,
            recorded_rows = rec.stats.rows, recorded_batches = rec.stats.batches,
            "interrupted upload: it stores less than its upload acknowledged; data was lost, statistics kept");
        return Ok(());
    }
    tracing::info!(sequence = %seq, topic = %topic, rows = stats.rows, batches = stats.batches,
        "interrupted upload: recovered rows recounted");
    engine.catalog.write(|tx| {
        if let Some(mut current) = tx.read().topic(seq, topic)? {
            if current.id == rec.id {
                current.stats = stats;
                tx.put_topic(seq, topic, &current)?;
            }
        }
        Ok(())
    })
}

/// The WAL's frame 1 is the topic's schema, written before the catalog copy: a crash between
/// the two leaves the catalog without it. Copy it over.
fn restore_schema(engine: &SealContext, seq: &str, topic: &str, rec: &TopicRecord) -> Result<()> {
    let cat = &engine.catalog;
    if cat.schema(&rec.id)?.is_some() || !engine.logs.wal_dir(&rec.id).is_dir() {
        return Ok(());
    }
    // No schema stored yet: this is the log of the topic's first upload, which may create it
    // (a crash may have cut its creation short).
    let wal = engine.logs.create_wal(&rec.id)?;
    let first = lock(&wal)?.reader(1).next().transpose()?;
    let Some(frame) = first else {
        return Ok(());
    };
    if frame.seq != 1 || frame.kind != tessera_wal::FrameKind::Schema {
        return Err(crate::error::Error::data_loss(format!(
            "topic `{seq}/{topic}`: its WAL does not start with its schema."
        )));
    }
    let header = crate::ipc::decode_stored_schema(&frame.payload)?;
    tracing::info!(sequence = %seq, topic = %topic, "schema restored from the WAL");
    cat.write(|tx| {
        tx.put_schema(&rec.id, &header);
        Ok(())
    })
}
