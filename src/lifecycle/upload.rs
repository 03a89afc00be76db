//! Starting and ending an upload: at most one DoPut per topic at a time (an upload slot of
//! [`crate::uploads`]), visible to finalize and delete.
//!
//! `begin_upload` checks token and state and marks the topic `uploading` in the catalog, inside
//! one catalog write, so it is atomic with respect to finalize (which refuses while a slot is
//! held). The returned [`UploadGuard`] frees the slot when dropped, whatever way the stream ends.
//! A topic deleted during its upload is flagged; its stream stops at the next message and the
//! guard removes its files.

use super::service::Lifecycle;
use crate::catalog::records::{DataStats, TopicRecord, TopicState};
use crate::error::{Error, Result};
use crate::logs::SharedWal;
use crate::names;
use crate::uploads::UploadSlot;
use std::sync::Arc;
use uuid::Uuid;

/// Exclusive right to upload one topic; released on drop.
pub struct UploadGuard {
    lifecycle: Arc<Lifecycle>,
    /// Sequence name.
    pub sequence: String,
    /// Topic path.
    pub topic: String,
    /// The topic record as of the start of the upload.
    pub record: TopicRecord,
    /// The shared slot.
    pub slot: Arc<UploadSlot>,
    /// The topic's WAL.
    pub wal: SharedWal,
    /// The stored schema message, if an earlier upload recorded one (resume).
    pub stored_schema: Option<Vec<u8>>,
}

impl UploadGuard {
    /// The topic locator `seq/topic`.
    pub fn locator(&self) -> String {
        format!("{}/{}", self.sequence, self.topic)
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        let lifecycle = &self.lifecycle;
        lifecycle.uploads.release(&self.record.id);
        lifecycle.uploads.note_activity(&self.record.session_id);
        if self.slot.is_deleted() {
            lifecycle.remove_topic_data(&self.record.id);
        }
    }
}

impl Lifecycle {
    /// Start an upload of the topic at `raw_locator` authorized by `token`.
    pub fn begin_upload(self: &Arc<Self>, raw_locator: &str, token: &Uuid) -> Result<UploadGuard> {
        let loc = names::topic_locator(raw_locator)?;
        // The slot is taken inside the catalog write (atomic with finalize's checks); if the
        // write fails after that, it is given back.
        let taken = std::cell::Cell::new(None);
        let written = self.catalog.write(|tx| {
            let mut rec = tx.read().topic(&loc.sequence, &loc.topic)?.ok_or_else(|| {
                Error::not_found(format!("topic `{}` does not exist.", loc.locator()))
            })?;
            if &rec.uuid != token {
                return Err(Error::denied(format!(
                    "the topic_uuid does not match topic `{}`.",
                    loc.locator()
                )));
            }
            let session = tx.read().session(&loc.sequence, &rec.session_id)?;
            if session.is_none_or(|s| s.completed_at_ns.is_some()) {
                return Err(Error::precondition(format!(
                    "topic `{}` belongs to a finalized session; its data is immutable.",
                    loc.locator()
                )));
            }
            if rec.state == TopicState::Uploaded {
                return Err(Error::precondition(format!(
                    "topic `{}` was already uploaded; each topic takes one upload.",
                    loc.locator()
                )));
            }
            let Some(slot) = self.uploads.try_take(&rec.id)? else {
                return Err(Error::precondition(format!(
                    "topic `{}` is being uploaded by another stream.",
                    loc.locator()
                )));
            };
            taken.set(Some(rec.id));
            if rec.state != TopicState::Uploading {
                rec.state = TopicState::Uploading;
                tx.put_topic(&loc.sequence, &loc.topic, &rec)?;
            }
            Ok((rec, slot))
        });
        let (record, slot) = written.inspect_err(|_| {
            if let Some(id) = taken.get() {
                self.uploads.release(&id);
            }
        })?;
        let release = |e: Error| {
            self.uploads.release(&record.id);
            e
        };
        self.uploads.note_activity(&record.session_id);
        let stored_schema = self.catalog.schema(&record.id).map_err(release)?;
        // A topic with a stored schema has a log (its frame 1 was synced before the catalog
        // copy): resuming must find it, holding at least what earlier uploads acknowledged,
        // never start a fresh one. Only a first upload creates the log.
        let wal = if stored_schema.is_some() {
            crate::logs::check_stored(&self.catalog, &self.logs, &record)
                .and_then(|()| self.logs.open_wal(&record.id))
        } else {
            self.logs.create_wal(&record.id)
        };
        let wal = wal
            .map_err(|e| e.for_topic(&loc.locator()))
            .map_err(release)?;
        Ok(UploadGuard {
            lifecycle: Arc::clone(self),
            sequence: loc.sequence,
            topic: loc.topic,
            record,
            slot,
            wal,
            stored_schema,
        })
    }

    /// Store the topic's schema message (first upload only).
    pub fn record_schema(&self, guard: &UploadGuard, header: &[u8]) -> Result<()> {
        self.catalog.write(|tx| {
            tx.put_schema(&guard.record.id, header);
            Ok(())
        })
    }

    /// Mark the upload complete with the topic's data statistics. Call only after the WAL is
    /// synced: from here on the client may finalize.
    pub fn finish_upload(&self, guard: &UploadGuard, stats: DataStats) -> Result<()> {
        self.catalog.write(|tx| {
            let mut rec = tx
                .read()
                .topic(&guard.sequence, &guard.topic)?
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "topic `{}` was deleted during its upload.",
                        guard.locator()
                    ))
                })?;
            rec.state = TopicState::Uploaded;
            rec.stats = stats;
            tx.put_topic(&guard.sequence, &guard.topic, &rec)
        })?;
        self.request_seal(guard, true);
        Ok(())
    }

    /// Queue a seal of the guard's topic.
    pub fn request_seal(&self, guard: &UploadGuard, force: bool) {
        self.compactor.request(crate::compactor::SealJob {
            sequence: guard.sequence.clone(),
            topic: guard.topic.clone(),
            id: guard.record.id,
            force,
        });
    }

    /// Persist the statistics of an upload that ended without OK (it stays resumable).
    pub fn save_partial_upload(&self, guard: &UploadGuard, stats: DataStats) -> Result<()> {
        self.catalog.write(|tx| {
            if let Some(mut rec) = tx.read().topic(&guard.sequence, &guard.topic)? {
                rec.stats = stats;
                tx.put_topic(&guard.sequence, &guard.topic, &rec)?;
            }
            Ok(())
        })
    }
}
