//! Sequence lifecycle: create (session or seed protocol), delete, and the seed protocol's
//! finalize/abort, which act on the sequence's implicit session.

use super::metadata::validate_user_metadata;
use super::service::Lifecycle;
use crate::catalog::records::{SequenceRecord, SessionRecord, TokenRecord};
use crate::error::{Error, Result};
use crate::ids;
use crate::names;
use serde_json::value::RawValue;
use uuid::Uuid;

impl Lifecycle {
    /// Create an empty sequence. With `seed`, also create its implicit session and return that
    /// session's token (the seed protocol's sequence `key`).
    pub fn create_sequence(
        &self,
        raw_name: &str,
        user_metadata: &RawValue,
        seed: bool,
    ) -> Result<Option<Uuid>> {
        let name = names::sequence_name(raw_name)?;
        validate_user_metadata(user_metadata)?;
        self.catalog.write(|tx| {
            if tx.read().sequence(&name)?.is_some() {
                return Err(Error::exists(format!("sequence `{name}` already exists.")));
            }
            let now = ids::now_ns();
            let mut rec = SequenceRecord {
                created_at_ns: now,
                user_metadata: user_metadata.to_owned(),
                seed_session: None,
            };
            let mut key = None;
            if seed {
                let id = ids::new_session_id();
                let session = SessionRecord {
                    uuid: ids::new_token(),
                    created_at_ns: now,
                    completed_at_ns: None,
                };
                tx.put_session(&name, &id, &session)?;
                let token = TokenRecord::Session {
                    sequence: name.clone(),
                    session_id: id.clone(),
                };
                tx.put_token(&session.uuid, &token)?;
                rec.seed_session = Some(id);
                key = Some(session.uuid);
            }
            tx.put_sequence(&name, &rec)?;
            Ok(key)
        })
    }

    /// Resolve a seed-protocol `(name, key)` pair to the implicit session's token.
    fn seed_session_token(&self, raw_name: &str, key: &Uuid) -> Result<Uuid> {
        let name = names::sequence_name(raw_name)?;
        let seq = self
            .catalog
            .sequence(&name)?
            .ok_or_else(|| Error::not_found(format!("sequence `{name}` does not exist.")))?;
        let sid = seq.seed_session.ok_or_else(|| {
            Error::precondition(format!(
                "sequence `{name}` was created with sessions; finalize its sessions instead."
            ))
        })?;
        let session = self.catalog.session(&name, &sid)?.ok_or_else(|| {
            Error::not_found(format!("the upload session of sequence `{name}` is gone."))
        })?;
        if &session.uuid != key {
            return Err(Error::denied(format!(
                "the key does not match sequence `{name}`."
            )));
        }
        Ok(session.uuid)
    }

    /// Seed protocol: finalize the sequence's implicit session.
    pub fn seed_finalize(&self, raw_name: &str, key: &Uuid) -> Result<()> {
        let token = self.seed_session_token(raw_name, key)?;
        self.finalize_session(&token)
    }

    /// Seed protocol: delete the implicit session's data and the sequence.
    pub fn seed_abort(&self, raw_name: &str, key: &Uuid) -> Result<()> {
        self.seed_session_token(raw_name, key)?;
        self.delete_sequence(raw_name)
    }

    /// Delete a sequence with all its sessions, topics, data and notifications, locked or not.
    pub fn delete_sequence(&self, raw_name: &str) -> Result<()> {
        let name = names::sequence_name(raw_name)?;
        let removed = self.catalog.write(|tx| {
            if tx.read().sequence(&name)?.is_none() {
                return Err(Error::not_found(format!(
                    "sequence `{name}` does not exist."
                )));
            }
            let mut topic_ids = Vec::new();
            for (topic, rec) in tx.read().topics_of(&name)? {
                tx.purge_notifications(&format!("{name}/{topic}"))?;
                tx.delete_topic(&name, &topic, &rec)?;
                topic_ids.push(rec.id);
            }
            for (id, rec) in tx.read().sessions_of(&name)? {
                tx.delete_session(&name, &id, &rec);
            }
            tx.purge_notifications(&name)?;
            tx.delete_sequence(&name);
            Ok(topic_ids)
        })?;
        for id in removed {
            self.discard_topic(&id);
        }
        Ok(())
    }
}
