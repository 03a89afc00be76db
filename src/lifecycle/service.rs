//! The lifecycle service: the rules of sequences, sessions, topics, uploads and notifications
//! (one file per family beside this one), applied to the catalog under its write lock. It owns
//! no state of its own: it holds the services it coordinates.

use crate::catalog::records::DataStats;
use crate::catalog::Catalog;
use crate::compactor::Compactor;
use crate::error::Result;
use crate::logs::{stored_stats, TopicLogs};
use crate::uploads::Uploads;
use std::sync::Arc;
use uuid::Uuid;

/// Lifecycle rules over the catalog, the topic logs, the upload slots and the compactor.
pub struct Lifecycle {
    pub(super) catalog: Arc<Catalog>,
    pub(super) logs: Arc<TopicLogs>,
    pub(super) uploads: Arc<Uploads>,
    pub(super) compactor: Arc<Compactor>,
}

impl Lifecycle {
    /// The rules over these services.
    pub fn new(
        catalog: Arc<Catalog>,
        logs: Arc<TopicLogs>,
        uploads: Arc<Uploads>,
        compactor: Arc<Compactor>,
    ) -> Lifecycle {
        Lifecycle {
            catalog,
            logs,
            uploads,
            compactor,
        }
    }

    /// What the topic durably stores (see [`crate::logs::stored_stats`]).
    pub fn stored_stats(&self, topic_id: &Uuid) -> Result<Option<DataStats>> {
        stored_stats(&self.catalog, &self.logs, topic_id)
    }

    /// Forget and remove a topic's stored data (after its catalog entries are gone).
    pub(super) fn remove_topic_data(&self, topic_id: &Uuid) {
        self.compactor.forget(topic_id);
        self.logs.remove_topic(topic_id);
    }

    /// After a topic's catalog entries are gone: stop its upload (whose guard then removes
    /// the data), or remove its data now.
    pub(super) fn discard_topic(&self, topic_id: &Uuid) {
        if !self.uploads.flag_deleted(topic_id) {
            self.remove_topic_data(topic_id);
        }
    }
}
