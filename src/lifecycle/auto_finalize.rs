//! Optional auto-finalize (`--auto-finalize-after-secs`): a session left open, with no upload
//! running or ended for that long, is finalized with the data it durably holds. Meant for
//! recorders that crashed or lost power mid-session: their acknowledged data becomes an
//! immutable, sealed recording instead of an open session nobody will close.
//!
//! Rules, per pending session, quiet for longer than the limit (quiet since the latest of: its
//! creation, this server's start, the last upload of one of its topics starting or ending):
//! * a topic with an upload running keeps the session open;
//! * a topic that never received a schema (nothing uploaded) keeps it open too (finalize would
//!   refuse; deleting the topic is the owner's call), logged once per check;
//! * an interrupted upload (`uploading`, no stream) is completed with what it stores (statistics
//!   recounted from chunks and WAL, the same as a resume would see), then the session is
//!   finalized exactly as `session_finalize` does.

use super::service::Lifecycle;
use crate::catalog::records::TopicState;
use crate::error::Result;
use crate::ids;
use std::time::Duration;

impl Lifecycle {
    /// Finalize every pending session quiet for longer than `quiet`; returns their locators.
    pub fn auto_finalize(&self, quiet: Duration) -> Result<Vec<String>> {
        let now = ids::now_ns();
        let limit = i64::try_from(quiet.as_nanos()).unwrap_or(i64::MAX);
        let mut done = Vec::new();
        for (seq, _) in self.catalog.sequences()? {
            for (sid, session) in self.catalog.sessions_of(&seq)? {
                if session.completed_at_ns.is_some() {
                    continue;
                }
                let quiet_since = self.uploads.quiet_since(&sid, session.created_at_ns)?;
                if now.saturating_sub(quiet_since) < limit {
                    continue;
                }
                if self.complete_interrupted(&seq, &sid)? {
                    self.finalize_session(&session.uuid)?;
                    tracing::info!(sequence = %seq, session = %sid, "session auto-finalized");
                    done.push(format!("{seq}:{sid}"));
                }
            }
        }
        Ok(done)
    }

    /// Mark the session's interrupted uploads complete; `false` if the session must stay open.
    fn complete_interrupted(&self, seq: &str, sid: &str) -> Result<bool> {
        let topics: Vec<_> = self
            .catalog
            .topics_of(seq)?
            .into_iter()
            .filter(|(_, t)| t.session_id == sid)
            .collect();
        if topics.is_empty() {
            return Ok(false);
        }
        let mut interrupted = Vec::new();
        for (name, t) in topics {
            if self.uploads.is_uploading(&t.id)? {
                return Ok(false);
            }
            if t.state == TopicState::Created || self.catalog.schema(&t.id)?.is_none() {
                tracing::warn!(sequence = %seq, topic = %name,
                    "not auto-finalizing: the topic never received data");
                return Ok(false);
            }
            if t.state != TopicState::Uploading {
                continue;
            }
            let stats = self.stored_stats(&t.id)?.unwrap_or_default();
            // Completing with less than the upload acknowledged would lock a loss in silently.
            let lost =
                crate::logs::check_recorded(Some(stats.rows), stats.batches, &t.stats, &t.id);
            if let Err(e) = lost {
                tracing::error!(sequence = %seq, topic = %name, error = %e.message,
                    "not auto-finalizing: the topic lost data");
                return Ok(false);
            }
            interrupted.push((name, t, stats));
        }
        for (name, t, stats) in interrupted {
            let completed = self
                .catalog
                .write(|tx| match tx.read().topic(seq, &name)? {
                    Some(mut rec) if rec.id == t.id && rec.state == TopicState::Uploading => {
                        rec.state = TopicState::Uploaded;
                        rec.stats = stats;
                        tx.put_topic(seq, &name, &rec)?;
                        Ok(true)
                    }
                    _ => Ok(false),
                })?;
            if !completed {
                return Ok(false);
            }
            tracing::info!(sequence = %seq, topic = %name, rows = stats.rows,
                "interrupted upload completed with its durable data");
            self.compactor.request(crate::compactor::SealJob {
                sequence: seq.to_string(),
                topic: name,
                id: t.id,
                force: true,
            });
        }
        Ok(true)
    }
}
