//! The engine wires the services together and owns nothing else: it opens the catalog and the
//! data directory, builds the topic logs, the upload slots, the compactor and the lifecycle
//! rules over them, and runs startup recovery. Requests (ingest, read, query) ask it for the
//! service they need.
//!
//! Data directory layout:
//!
//! ```text
//! <data_dir>/catalog/                   fjall database (see catalog::keys / catalog::records)
//! <data_dir>/topics/<topic id>/wal/     the topic's WAL segments (tessera-wal)
//! <data_dir>/topics/<topic id>/chunks/  the topic's sealed chunks (tessera-format)
//! ```

use crate::catalog::Catalog;
use crate::compactor::{Compactor, SealContext, SealOptions};
use crate::config::Config;
use crate::error::Result;
use crate::fsutil;
use crate::lifecycle::Lifecycle;
use crate::logs::TopicLogs;
use crate::uploads::Uploads;
use std::collections::HashSet;
use std::sync::Arc;

pub use crate::locks::lock;

/// The services of one data directory.
pub struct Engine {
    config: Config,
    catalog: Arc<Catalog>,
    logs: Arc<TopicLogs>,
    compactor: Arc<Compactor>,
    lifecycle: Arc<Lifecycle>,
}

impl Engine {
    /// Open the engine on `config.data_dir` (created if missing).
    pub fn open(config: Config) -> Result<Arc<Engine>> {
        let topics_dir = config.data_dir.join("topics");
        fsutil::create_dir_all(&topics_dir)?;
        let catalog_dir = config.data_dir.join("catalog");
        let catalog = Arc::new(Catalog::open(&catalog_dir)?);
        // fjall creates its directories (keyspaces, tables) without syncing their entries;
        // make them durable once they exist (a dozen directories, at every open).
        fsutil::sync_tree(&catalog_dir)?;
        let wal_options = tessera_wal::WalOptions {
            segment_size_bytes: config.wal_segment_bytes,
            ..Default::default()
        };
        let logs = Arc::new(TopicLogs::new(topics_dir, wal_options));
        logs.remove_orphans(&live_topics(&catalog)?)?;
        let uploads = Arc::new(Uploads::default());
        let compactor = Arc::new(Compactor::default());
        let seal = Arc::new(SealContext {
            catalog: Arc::clone(&catalog),
            logs: Arc::clone(&logs),
            uploads: Arc::clone(&uploads),
            options: SealOptions::of(&config),
        });
        compactor.start(Arc::clone(&seal), config.compactor_threads)?;
        crate::compactor::recover_all(&seal, &compactor)?;
        let lifecycle = Arc::new(Lifecycle::new(
            Arc::clone(&catalog),
            Arc::clone(&logs),
            uploads,
            Arc::clone(&compactor),
        ));
        Ok(Arc::new(Engine {
            config,
            catalog,
            logs,
            compactor,
            lifecycle,
        }))
    }

    /// Stop background work (the compactor finishes its current seal).
    pub fn shutdown(&self) {
        self.compactor.stop();
    }

    /// Settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The topic logs (WAL registry, seal gates).
    pub fn logs(&self) -> &TopicLogs {
        &self.logs
    }

    /// The background compactor.
    pub fn compactor(&self) -> &Compactor {
        &self.compactor
    }

    /// The lifecycle rules (sequences, sessions, topics, uploads, notifications).
    pub fn lifecycle(&self) -> &Arc<Lifecycle> {
        &self.lifecycle
    }
}

/// Ids of every topic the catalog names.
fn live_topics(catalog: &Catalog) -> Result<HashSet<uuid::Uuid>> {
    let mut live = HashSet::new();
    for (seq, _) in catalog.sequences()? {
        for (_, t) in catalog.topics_of(&seq)? {
            live.insert(t.id);
        }
    }
    Ok(live)
}
