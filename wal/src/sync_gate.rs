//! [`SyncGate`]: every `fdatasync` of one log, inline ([`crate::Wal::sync`], rotation) or
//! pending (group commit), runs through the log's gate, one at a time, and a failed one marks
//! the gate for good. Why a failure must be remembered: see `group`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Serializes the syncs of one log and remembers a failed one.
#[derive(Debug, Default)]
pub(crate) struct SyncGate {
    lock: Mutex<()>,
    failed: AtomicBool,
}

impl SyncGate {
    /// Runs `sync` alone; after any failure (this one or an earlier one) returns an error.
    pub(crate) fn sync(&self, sync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        // A poisoned mutex only means a sync panicked; `failed` still tells the truth.
        let _alone = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.failed() {
            return Err(io::Error::other("an earlier fdatasync of this log failed"));
        }
        let result = sync();
        if result.is_err() {
            self.failed.store(true, Ordering::Release);
        }
        result
    }

    /// Whether a sync through this gate ever failed.
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}
