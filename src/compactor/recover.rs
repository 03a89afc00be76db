//! Startup recovery of sealing: remove leftovers of interrupted seals and queue every topic
//! that still has unsealed WAL data.

use super::SealJob;
use crate::engine::Engine;
use crate::error::Result;
use std::collections::HashSet;

/// For every topic: delete `*.tmp` and chunk files the catalog does not name (seals
/// interrupted before their catalog commit), then queue a forced seal.
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
