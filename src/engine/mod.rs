//! The engine: sequences, sessions and topics with their lifecycle rules, on top of the catalog
//! and the per-topic write-ahead logs. The Flight layer parses requests and calls in here; the
//! engine knows nothing of gRPC.
//!
//! Data directory layout:
//!
//! ```text
//! <data_dir>/catalog/                 fjall database (see catalog::keys / catalog::records)
//! <data_dir>/topics/<topic id>/wal/   the topic's WAL segments (tessera-wal)
//! ```

mod auto_finalize;
mod metadata;
mod notifications;
mod sequences;
mod sessions;
mod stored;
mod topics;
mod uploads;

pub use metadata::validate_user_metadata;
pub use sessions::SessionRef;
pub use topics::NewTopic;
pub use uploads::{UploadGuard, UploadSlot};

use crate::catalog::Catalog;
use crate::compactor::Compactor;
use crate::config::Config;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use tessera_wal::Wal;
use uuid::Uuid;

/// A topic's write-ahead log, shared by its upload and its readers.
pub type SharedWal = Arc<Mutex<Wal>>;

/// The storage engine.
pub struct Engine {
    config: Config,
    catalog: Catalog,
    compactor: Arc<Compactor>,
    gates: Mutex<HashMap<Uuid, Arc<RwLock<()>>>>,
    uploads: Mutex<HashMap<Uuid, Arc<UploadSlot>>>,
    wals: Mutex<HashMap<Uuid, SharedWal>>,
    /// Last upload start or end per session id, ns (auto-finalize).
    activity: Mutex<HashMap<String, i64>>,
    /// When this engine opened, ns.
    started_ns: i64,
}

impl Engine {
    /// Open the engine on `config.data_dir` (created if missing).
    pub fn open(config: Config) -> Result<Arc<Engine>> {
        std::fs::create_dir_all(config.data_dir.join("topics"))?;
        let catalog = Catalog::open(&config.data_dir.join("catalog"))?;
        let engine = Arc::new(Engine {
            config,
            catalog,
            compactor: Arc::new(Compactor::default()),
            gates: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            wals: Mutex::new(HashMap::new()),
            activity: Mutex::new(HashMap::new()),
            started_ns: crate::ids::now_ns(),
        });
        engine.remove_orphan_topic_dirs()?;
        engine
            .compactor
            .start(Arc::downgrade(&engine), engine.config.compactor_threads)?;
        crate::compactor::recover_all(&engine)?;
        Ok(engine)
    }

    /// Stop background work (the compactor finishes its current seal).
    pub fn shutdown(&self) {
        self.compactor.stop();
    }

    /// The background compactor.
    pub fn compactor(&self) -> &Compactor {
        &self.compactor
    }

    /// The topic's seal gate: readers of the WAL tail hold it shared; a seal's catalog commit
    /// and WAL reclaim hold it exclusively.
    pub fn seal_gate(&self, topic_id: &Uuid) -> Result<Arc<RwLock<()>>> {
        let mut gates = lock(&self.gates)?;
        Ok(Arc::clone(gates.entry(*topic_id).or_default()))
    }

    /// Settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Directory of one topic's data.
    pub fn topic_dir(&self, topic_id: &Uuid) -> PathBuf {
        self.config
            .data_dir
            .join("topics")
            .join(topic_id.to_string())
    }

    /// The topic's WAL, opened (and recovered) on first use.
    pub fn wal(&self, topic_id: &Uuid) -> Result<SharedWal> {
        let mut wals = lock(&self.wals)?;
        if let Some(w) = wals.get(topic_id) {
            return Ok(Arc::clone(w));
        }
        let dir = self.topic_dir(topic_id).join("wal");
        let opts = tessera_wal::WalOptions {
            segment_size_bytes: self.config.wal_segment_bytes,
            ..Default::default()
        };
        let (wal, report) = Wal::open(&dir, opts)?;
        if let Some(t) = &report.truncated {
            tracing::warn!(topic = %topic_id, segment = %t.segment.display(), offset = t.offset,
                bytes_dropped = t.bytes_dropped, reason = %t.reason, "WAL torn tail truncated");
        }
        let shared = Arc::new(Mutex::new(wal));
        wals.insert(*topic_id, Arc::clone(&shared));
        Ok(shared)
    }

    /// Forget and remove a topic's stored data (after its catalog entries are gone).
    fn remove_topic_data(&self, topic_id: &Uuid) {
        self.compactor.forget(topic_id);
        if let Ok(mut wals) = lock(&self.wals) {
            wals.remove(topic_id);
        }
        if let Ok(mut gates) = lock(&self.gates) {
            gates.remove(topic_id);
        }
        let dir = self.topic_dir(topic_id);
        if let Err(e) = remove_dir_durably(&dir) {
            tracing::warn!(topic = %topic_id, error = %e, "could not remove topic data; it will be retried at startup");
        }
    }

    /// Remove topic directories that no catalog entry names (a delete interrupted by a crash).
    fn remove_orphan_topic_dirs(&self) -> Result<()> {
        let mut live = std::collections::HashSet::new();
        for (seq, _) in self.catalog.sequences()? {
            for (_, t) in self.catalog.topics_of(&seq)? {
                live.insert(t.id);
            }
        }
        for entry in std::fs::read_dir(self.config.data_dir.join("topics"))? {
            let entry = entry?;
            let name = entry.file_name();
            let keep = name
                .to_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .is_some_and(|id| live.contains(&id));
            if !keep {
                tracing::info!(dir = %entry.path().display(), "removing orphaned topic data");
                remove_dir_durably(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Remove a directory tree and fsync its parent so the removal survives power loss.
pub(crate) fn remove_dir_durably(dir: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = dir.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

pub fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::internal("engine state lock poisoned by an earlier panic."))
}
