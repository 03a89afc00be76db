//! Upload slots: at most one DoPut per topic at a time, visible to finalize, delete and the
//! compactor; and the time of each session's last upload activity (auto-finalize).

use crate::error::Result;
use crate::ids;
use crate::locks::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Shared state of one running upload.
#[derive(Default)]
pub struct UploadSlot {
    deleted: AtomicBool,
}

impl UploadSlot {
    /// Whether the topic was deleted while uploading.
    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }
}

/// The running uploads, by topic id, and upload activity by session.
pub struct Uploads {
    slots: Mutex<HashMap<Uuid, Arc<UploadSlot>>>,
    /// Last upload start or end per session id, ns.
    activity: Mutex<HashMap<String, i64>>,
    /// When this process started, ns (a session is never quiet since before that).
    started_ns: i64,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            slots: Mutex::new(HashMap::new()),
            activity: Mutex::new(HashMap::new()),
            started_ns: ids::now_ns(),
        }
    }
}

impl Uploads {
    /// Take the topic's slot; `None` if another stream holds it.
    pub fn try_take(&self, topic_id: &Uuid) -> Result<Option<Arc<UploadSlot>>> {
        let mut slots = lock(&self.slots)?;
        if slots.contains_key(topic_id) {
            return Ok(None);
        }
        let slot = Arc::new(UploadSlot::default());
        slots.insert(*topic_id, Arc::clone(&slot));
        Ok(Some(slot))
    }

    /// Free the topic's slot.
    pub fn release(&self, topic_id: &Uuid) {
        if let Ok(mut slots) = lock(&self.slots) {
            slots.remove(topic_id);
        }
    }

    /// Whether a DoPut currently holds the topic.
    pub fn is_uploading(&self, topic_id: &Uuid) -> Result<bool> {
        Ok(lock(&self.slots)?.contains_key(topic_id))
    }

    /// Flag a running upload of a deleted topic (its stream stops, its guard removes the
    /// files); `false` if no upload holds the topic.
    pub fn flag_deleted(&self, topic_id: &Uuid) -> bool {
        match lock(&self.slots) {
            Ok(slots) => slots.get(topic_id).is_some_and(|slot| {
                slot.deleted.store(true, Ordering::Release);
                true
            }),
            Err(_) => false,
        }
    }

    /// Note upload activity in a session (an upload starting or ending).
    pub fn note_activity(&self, session_id: &str) {
        if let Ok(mut m) = lock(&self.activity) {
            m.insert(session_id.to_string(), ids::now_ns());
        }
    }

    /// Since when a session created at `created_ns` has been quiet, ns.
    pub fn quiet_since(&self, session_id: &str, created_ns: i64) -> Result<i64> {
        let last = lock(&self.activity)?.get(session_id).copied().unwrap_or(0);
        Ok(created_ns.max(self.started_ns).max(last))
    }
}
