//! Startup recovery of sealing: remove leftovers of interrupted seals, recount the data of
//! uploads a crash interrupted, and queue every topic that still has unsealed WAL data.

use super::SealJob;
use crate::catalog::records::{TopicRecord, TopicState};
use crate::engine::Engine;
use crate::error::Result;
use std::collections::HashSet;

/// For every topic: delete `*.tmp` and chunk files the catalog does not name (seals
/// interrupted before their catalog commit); for an upload left `uploading`, replace the
/// statistics in its record (written only when a DoPut ends) by a recount of what it stores;
/// then queue a forced seal.
pub fn recover_all(engine: &Engine) -> Result<()> {
    let cat = engine.catalog();
    for (seq, _) in cat.sequences()? {
        for (topic, rec) in cat.topics_of(&seq)? {
            let dir = engine.topic_dir(&rec.id).join("chunks");
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
                    super::seal::sync_dir(&dir)?;
                }
            }
            if rec.state == TopicState::Uploading {
                recount(engine, &seq, &topic, &rec)?;
            }
            if cat.schema(&rec.id)?.is_some() {
                engine.compactor().request(SealJob {
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

/// Store the recounted statistics of an interrupted upload, if they changed.
fn recount(engine: &Engine, seq: &str, topic: &str, rec: &TopicRecord) -> Result<()> {
    let Some(stats) = engine.stored_stats(&rec.id)? else {
        return Ok(());
    };
    if stats == rec.stats {
        return Ok(());
    }
    tracing::info!(sequence = %seq, topic = %topic, rows = stats.rows, batches = stats.batches,
        "interrupted upload: recovered rows recounted");
    engine.catalog().write(|tx| {
        if let Some(mut current) = tx.read().topic(seq, topic)? {
            if current.id == rec.id {
                current.stats = stats;
                tx.put_topic(seq, topic, &current)?;
            }
        }
        Ok(())
    })
}
