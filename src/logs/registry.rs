//! The WAL registry: the one place that opens and forgets topic logs.
//!
//! A topic's log is opened (and recovered: torn tail cut, kept frames fsynced) on first use and
//! shared by its upload, its readers and the compactor. The registry's map lock is held only to
//! find or insert a topic's entry, never across `Wal::open`: opening one topic's log (disk
//! I/O) does not stall any other topic. Concurrent first uses of one topic wait on that topic's
//! entry, so a log is opened once.
//!
//! Only the first upload of a topic (no schema stored yet) creates its log
//! ([`TopicLogs::create_wal`]); every other use opens an existing one ([`TopicLogs::open_wal`]),
//! and a log that should exist but does not is data loss, never a fresh empty log.
//!
//! Beside each log lives the topic's seal gate: readers of the WAL tail hold it shared, a
//! seal's catalog commit and WAL reclaim hold it exclusively, so a reader sees a seal entirely
//! or not at all.

use crate::error::{Error, Result};
use crate::locks::lock;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tessera_wal::{Wal, WalOptions};
use uuid::Uuid;

/// A topic's write-ahead log, shared by its upload and its readers.
pub type SharedWal = Arc<Mutex<Wal>>;

/// A topic's seal gate (see the module doc).
pub type SealGate = Arc<RwLock<()>>;

/// One topic's entry: its log once opened.
type Slot = Arc<Mutex<Option<SharedWal>>>;

/// Topic logs and seal gates under `<data_dir>/topics`.
pub struct TopicLogs {
    topics_dir: PathBuf,
    options: WalOptions,
    wals: Mutex<HashMap<Uuid, Slot>>,
    gates: Mutex<HashMap<Uuid, SealGate>>,
    /// Chunk files (topic, first seq) found to match their catalog record by this process.
    checked_chunks: Mutex<HashSet<(Uuid, u64)>>,
}

impl TopicLogs {
    /// Logs under `topics_dir` (which must exist), segments of `options`.
    pub fn new(topics_dir: PathBuf, options: WalOptions) -> TopicLogs {
        TopicLogs {
            topics_dir,
            options,
            wals: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
            checked_chunks: Mutex::new(HashSet::new()),
        }
    }

    /// `<data_dir>/topics`.
    pub fn topics_dir(&self) -> &Path {
        &self.topics_dir
    }

    /// Directory of one topic's data.
    pub fn topic_dir(&self, topic_id: &Uuid) -> PathBuf {
        self.topics_dir.join(topic_id.to_string())
    }

    /// Directory of one topic's sealed chunks.
    pub fn chunks_dir(&self, topic_id: &Uuid) -> PathBuf {
        self.topic_dir(topic_id).join("chunks")
    }

    /// The WAL of a topic that has one (its catalog holds a schema: frame 1 of its log was
    /// synced before the catalog copy was written), opened and recovered on first use. A
    /// missing log directory, or one without a segment file, is [`Error::data_loss`]: it never
    /// silently becomes a fresh, empty log. A completed upload whose data is all sealed keeps
    /// its retired log (an empty segment numbered after the last sealed frame).
    ///
    /// Messages do not name the topic (the caller does); the path goes to the server log.
    pub fn open_wal(&self, topic_id: &Uuid) -> Result<SharedWal> {
        self.wal(topic_id, false)
    }

    /// The WAL of a topic whose upload starts without a stored schema: created if missing.
    /// Only that first upload may create a topic's log.
    pub fn create_wal(&self, topic_id: &Uuid) -> Result<SharedWal> {
        self.wal(topic_id, true)
    }

    fn wal(&self, topic_id: &Uuid, create: bool) -> Result<SharedWal> {
        let slot = Arc::clone(lock(&self.wals)?.entry(*topic_id).or_default());
        let mut slot = lock(&slot)?;
        if let Some(w) = slot.as_ref() {
            return Ok(Arc::clone(w));
        }
        let dir = self.wal_dir(topic_id);
        if create {
            // The topic directory's entry in `topics/` must be durable too: the WAL crate syncs
            // only the directory it creates and its immediate parent.
            crate::fsutil::create_dir_all(&dir)?;
        } else if !has_segment(&dir)? {
            tracing::error!(topic = %topic_id, dir = %dir.display(),
                "write-ahead log missing: no segment file (the topic has a schema, so its log was written)");
            return Err(Error::data_loss(
                "its write-ahead log is missing; see the server log.",
            ));
        }
        let (wal, report) = Wal::open(&dir, self.options)?;
        if let Some(t) = &report.truncated {
            let kept = report
                .cut_kept
                .as_ref()
                .map_or_else(|| "not kept".to_string(), |p| p.display().to_string());
            tracing::warn!(topic = %topic_id, segment = %t.segment.display(), offset = t.offset,
                bytes_dropped = t.bytes_dropped, reason = %t.reason, cut_bytes = %kept,
                "WAL torn tail truncated");
        }
        let shared = Arc::new(Mutex::new(wal));
        *slot = Some(Arc::clone(&shared));
        Ok(shared)
    }

    /// Directory of one topic's WAL.
    pub fn wal_dir(&self, topic_id: &Uuid) -> PathBuf {
        self.topic_dir(topic_id).join("wal")
    }

    /// The topic's seal gate.
    pub fn seal_gate(&self, topic_id: &Uuid) -> Result<SealGate> {
        Ok(Arc::clone(lock(&self.gates)?.entry(*topic_id).or_default()))
    }

    /// Whether this process found the topic's chunk starting at `first_seq` to match its
    /// catalog record already (see `integrity`).
    pub fn chunk_checked(&self, topic_id: &Uuid, first_seq: u64) -> Result<bool> {
        Ok(lock(&self.checked_chunks)?.contains(&(*topic_id, first_seq)))
    }

    /// Remember that the topic's chunk starting at `first_seq` matches its catalog record.
    pub fn mark_chunk_checked(&self, topic_id: &Uuid, first_seq: u64) -> Result<()> {
        lock(&self.checked_chunks)?.insert((*topic_id, first_seq));
        Ok(())
    }

    /// Forget a deleted topic's log and gate, and remove its directory (durably). A failure is
    /// logged; the directory is an orphan that the next startup removes.
    pub fn remove_topic(&self, topic_id: &Uuid) {
        if let Ok(mut wals) = lock(&self.wals) {
            wals.remove(topic_id);
        }
        if let Ok(mut gates) = lock(&self.gates) {
            gates.remove(topic_id);
        }
        if let Ok(mut checked) = lock(&self.checked_chunks) {
            checked.retain(|(id, _)| id != topic_id);
        }
        if let Err(e) = crate::fsutil::remove_dir_all(&self.topic_dir(topic_id)) {
            tracing::warn!(topic = %topic_id, error = %e, "could not remove topic data; it will be retried at startup");
        }
    }

    /// Remove topic directories whose id `live` does not hold (a delete interrupted by a crash).
    pub fn remove_orphans(&self, live: &HashSet<Uuid>) -> Result<()> {
        for entry in std::fs::read_dir(&self.topics_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let keep = name
                .to_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .is_some_and(|id| live.contains(&id));
            if !keep {
                tracing::info!(dir = %entry.path().display(), "removing orphaned topic data");
                crate::fsutil::remove_dir_all(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Whether `dir` exists and holds at least one WAL segment file.
fn has_segment(dir: &Path) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(crate::error::io_error("write-ahead log", &e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| crate::error::io_error("write-ahead log", &e))?;
        if entry
            .file_name()
            .to_str()
            .and_then(tessera_wal::parse_segment_file_name)
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}
