//! Group commit: an `fdatasync` that runs without the caller's lock on the [`Wal`], so appends
//! go on while it runs and one sync covers every frame appended before it started.
//!
//! Three steps:
//! 1. [`Wal::begin_sync`] (under the caller's lock, cheap): notes the last appended seq (the
//!    sync's target) and takes a sync-only handle on the active segment
//!    ([`crate::StorageFile::sync_handle`], a duplicated descriptor).
//! 2. [`PendingSync::run`] (no lock held, any thread): the `fdatasync`.
//! 3. [`Wal::end_sync`] (under the lock again): raises `durable_seq` to the target, or poisons
//!    the log if the sync failed.
//!
//! Why it is safe:
//! * Frames up to the target that are not in the active segment are durable already (rotation
//!   syncs a segment before starting the next), so syncing the active segment covers them all.
//!   If the log rotates while the sync runs, the handle still syncs the old segment (rotation
//!   has synced it too) and `end_sync` only ever raises `durable_seq`.
//! * Every sync of a log, pending or inline ([`Wal::sync`], rotation), goes through its
//!   [`SyncGate`]: one at a time, and a failure marks the gate inside that critical section. A
//!   duplicated descriptor shares the kernel's write-error state with the appending one, so a
//!   failed `fdatasync`'s error is reported once; a sync right after it could succeed without
//!   the pages the kernel dropped. Once the gate is marked, every later sync fails and the log
//!   counts as poisoned, so nothing written before the failure is ever counted durable.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::WalError;
use crate::storage::SyncHandle;
use crate::sync_gate::SyncGate;
use crate::writer::Wal;

/// A sync begun by [`Wal::begin_sync`], to [`PendingSync::run`] without holding the log.
#[derive(Debug)]
pub struct PendingSync {
    handle: Box<dyn SyncHandle>,
    gate: Arc<SyncGate>,
    target: u64,
    path: PathBuf,
}

/// The outcome of a [`PendingSync`], to hand to [`Wal::end_sync`].
#[derive(Debug)]
pub struct SyncDone {
    target: u64,
    result: Result<(), WalError>,
}

impl PendingSync {
    /// The seq that is durable once this sync succeeded.
    pub fn target(&self) -> u64 {
        self.target
    }

    /// Runs the `fdatasync` (blocking; call it without holding the log's lock).
    pub fn run(self) -> SyncDone {
        let result = self
            .gate
            .sync(|| self.handle.sync_data())
            .map_err(|e| WalError::io("fdatasync", &self.path, e));
        SyncDone {
            target: self.target,
            result,
        }
    }
}

impl Wal {
    /// Group commit, step 1: a sync covering every frame appended so far, to run with
    /// [`PendingSync::run`] outside the caller's lock and finish with [`Wal::end_sync`].
    /// `Ok(None)` when everything is durable already. Fails with [`WalError::Poisoned`] on a
    /// poisoned log, or with an I/O error (log not poisoned) if no handle can be opened.
    pub fn begin_sync(&mut self) -> Result<Option<PendingSync>, WalError> {
        self.ensure_usable()?;
        let target = self.last_seq();
        if self.durable_seq >= target {
            return Ok(None);
        }
        let path = self.active.meta.path.clone();
        let handle = self
            .active
            .file
            .sync_handle()
            .map_err(|e| WalError::io("open a sync handle", &path, e))?;
        Ok(Some(PendingSync {
            handle,
            gate: Arc::clone(&self.gate),
            target,
            path,
        }))
    }

    /// Group commit, step 3: records a finished sync and returns the durable seq. A failed
    /// sync poisons the log and is returned as its error.
    pub fn end_sync(&mut self, done: SyncDone) -> Result<u64, WalError> {
        if let Err(e) = done.result {
            self.poisoned = true;
            return Err(e);
        }
        self.ensure_usable()?;
        self.durable_seq = self.durable_seq.max(done.target);
        Ok(self.durable_seq)
    }
}

#[cfg(test)]
mod tests;
