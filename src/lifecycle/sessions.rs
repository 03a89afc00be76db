//! Session lifecycle: create, finalize (lock), delete.

use super::service::Lifecycle;
use crate::catalog::records::{SessionRecord, TokenRecord, TopicState};
use crate::catalog::Tx;
use crate::error::{Error, Result};
use crate::{ids, names};
use uuid::Uuid;

/// A session resolved from its token.
pub struct SessionRef {
    /// Sequence name.
    pub sequence: String,
    /// Session id.
    pub id: String,
    /// The stored record.
    pub record: SessionRecord,
}

impl SessionRef {
    /// The public locator `seq:id`.
    pub fn locator(&self) -> String {
        format!("{}:{}", self.sequence, self.id)
    }
}

impl Lifecycle {
    /// Open a new pending session in an existing sequence; returns `(token, locator)`.
    pub fn create_session(&self, raw_seq: &str) -> Result<(Uuid, String)> {
        let seq = names::sequence_name(raw_seq)?;
        self.catalog.write(|tx| {
            if tx.read().sequence(&seq)?.is_none() {
                return Err(Error::not_found(format!(
                    "sequence `{seq}` does not exist."
                )));
            }
            let id = ids::new_session_id();
            let rec = SessionRecord {
                uuid: ids::new_token(),
                created_at_ns: ids::now_ns(),
                completed_at_ns: None,
            };
            tx.put_session(&seq, &id, &rec)?;
            tx.put_token(
                &rec.uuid,
                &TokenRecord::Session {
                    sequence: seq.clone(),
                    session_id: id.clone(),
                },
            )?;
            Ok((rec.uuid, format!("{seq}:{id}")))
        })
    }

    /// Resolve a session token (inside a catalog write, so the answer cannot go stale).
    pub(crate) fn session_by_token(tx: &Tx<'_>, token: &Uuid) -> Result<SessionRef> {
        let missing = || Error::not_found(format!("session `{token}` does not exist."));
        match tx.read().token(token)? {
            Some(TokenRecord::Session {
                sequence,
                session_id,
            }) => {
                let record = tx
                    .read()
                    .session(&sequence, &session_id)?
                    .ok_or_else(missing)?;
                Ok(SessionRef {
                    sequence,
                    id: session_id,
                    record,
                })
            }
            _ => Err(missing()),
        }
    }

    /// Finalize (lock) a session: every topic must have completed its upload.
    pub fn finalize_session(&self, token: &Uuid) -> Result<()> {
        // Let pending seals of this session's topics finish first (outside the catalog lock,
        // which a seal needs for its commit), so finalized data is sealed.
        if let Some(TokenRecord::Session {
            sequence,
            session_id,
        }) = self.catalog.token(token)?
        {
            for (_, t) in self.catalog.topics_of(&sequence)? {
                if t.session_id == session_id {
                    self.compactor.wait_idle(&t.id);
                }
            }
        }
        self.catalog.write(|tx| {
            let mut s = Self::session_by_token(tx, token)?;
            let loc = s.locator();
            if s.record.completed_at_ns.is_some() {
                return Err(Error::precondition(format!("session `{loc}` is already finalized.")));
            }
            let topics: Vec<_> = tx
                .read()
                .topics_of(&s.sequence)?
                .into_iter()
                .filter(|(_, t)| t.session_id == s.id)
                .collect();
            if topics.is_empty() {
                return Err(Error::precondition(format!(
                    "session `{loc}` has no topics; create and upload at least one topic before finalizing."
                )));
            }
            for (name, t) in &topics {
                if self.uploads.is_uploading(&t.id)? {
                    return Err(Error::precondition(format!(
                        "topic `{}/{name}` is still uploading; close its stream before finalizing.",
                        s.sequence
                    )));
                }
                if t.state != TopicState::Uploaded {
                    return Err(Error::precondition(format!(
                        "topic `{}/{name}` has no completed upload; finish its DoPut (or delete the session).",
                        s.sequence
                    )));
                }
            }
            s.record.completed_at_ns = Some(ids::now_ns());
            tx.put_session(&s.sequence, &s.id, &s.record)
        })
    }

    /// Delete a session by locator, with its topics and their data, locked or not.
    pub fn delete_session(&self, raw_locator: &str) -> Result<()> {
        let (seq, id) = names::session_locator(raw_locator)?;
        let removed = self.catalog.write(|tx| {
            let rec = tx
                .read()
                .session(&seq, &id)?
                .ok_or_else(|| Error::not_found(format!("session `{seq}:{id}` does not exist.")))?;
            let mut topic_ids = Vec::new();
            for (topic, t) in tx.read().topics_of(&seq)? {
                if t.session_id == id {
                    tx.purge_notifications(&format!("{seq}/{topic}"))?;
                    tx.delete_topic(&seq, &topic, &t)?;
                    topic_ids.push(t.id);
                }
            }
            tx.delete_session(&seq, &id, &rec);
            Ok(topic_ids)
        })?;
        for tid in removed {
            self.discard_topic(&tid);
        }
        Ok(())
    }
}
