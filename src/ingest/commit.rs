//! Group commit on the upload side: the fsync that acknowledges batches runs on its own
//! blocking task, without the topic's WAL lock, while the next message is validated and
//! appended. When it ends, one more sync covers everything appended meanwhile.
//!
//! A [`SyncTicket`] is taken from an idle `TopicWriter` (it notes the totals appended
//! so far and the WAL seq they end at), run anywhere, and its [`Synced`] result given back to
//! the writer. Acks carry the ticket's totals, so they count only batches whose frames the
//! sync covered. The WAL serializes every sync of a log and poisons it on failure (see
//! `tessera_wal`'s `group` module), so a failed sync is never followed by one that pretends.

use super::durable::Durable;
use crate::error::Result;
use crate::locks::lock;
use crate::logs::SharedWal;
use tessera_wal::PendingSync;

/// A sync begun by `TopicWriter::begin_sync`, to run off the writer.
pub struct SyncTicket {
    pub(super) pending: PendingSync,
    pub(super) wal: SharedWal,
    pub(super) covers: Durable,
    pub(super) bytes: u64,
}

/// What a successful [`SyncTicket`] made durable.
#[derive(Debug, Clone, Copy)]
pub struct Synced {
    /// Stream totals now durable (what the ack reports).
    pub covers: Durable,
    /// Arrow body bytes newly durable (for the compactor's accounting).
    pub bytes: u64,
}

impl SyncTicket {
    /// The fsync (blocking, no lock held while it runs), then its record in the WAL.
    pub fn run(self) -> Result<Synced> {
        let done = self.pending.run();
        lock(&self.wal)?.end_sync(done)?;
        Ok(Synced {
            covers: self.covers,
            bytes: self.bytes,
        })
    }
}
