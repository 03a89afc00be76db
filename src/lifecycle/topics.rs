//! Topic lifecycle: create inside a pending session, delete.

use super::metadata::validate_user_metadata;
use super::service::Lifecycle;
use crate::catalog::records::{
    DataStats, SerializationFormat, TokenRecord, TopicRecord, TopicState,
};
use crate::error::{Error, Result};
use crate::{ids, names};
use serde_json::value::RawValue;
use uuid::Uuid;

/// What a client asks for when creating a topic.
pub struct NewTopic<'a> {
    /// Write token of the session (or the seed sequence key).
    pub session_token: Uuid,
    /// Topic locator `seq/topic`.
    pub locator: &'a str,
    /// Ontology tag, opaque.
    pub ontology_tag: &'a str,
    /// Serialization format wire name.
    pub serialization_format: &'a str,
    /// User metadata JSON object.
    pub user_metadata: &'a RawValue,
}

impl Lifecycle {
    /// Register a topic in a pending session; returns its DoPut token.
    pub fn create_topic(&self, req: NewTopic<'_>) -> Result<Uuid> {
        let loc = names::topic_locator(req.locator)?;
        let format = SerializationFormat::parse(req.serialization_format)?;
        validate_user_metadata(req.user_metadata)?;
        if req.ontology_tag.len() > names::MAX_NAME_BYTES {
            return Err(Error::invalid("ontology_tag is too long."));
        }
        self.catalog.write(|tx| {
            let s = Self::session_by_token(tx, &req.session_token)?;
            if s.record.completed_at_ns.is_some() {
                return Err(Error::precondition(format!(
                    "session `{}` is finalized; open a new session to add topics.",
                    s.locator()
                )));
            }
            if loc.sequence != s.sequence {
                return Err(Error::invalid(format!(
                    "topic `{}` is not in sequence `{}` of this session.",
                    loc.locator(),
                    s.sequence
                )));
            }
            if tx.read().topic(&loc.sequence, &loc.topic)?.is_some() {
                return Err(Error::exists(format!(
                    "topic `{}` already exists.",
                    loc.locator()
                )));
            }
            let rec = TopicRecord {
                id: ids::new_internal_id(),
                uuid: ids::new_token(),
                session_id: s.id.clone(),
                ontology_tag: req.ontology_tag.to_string(),
                serialization_format: format,
                user_metadata: req.user_metadata.to_owned(),
                created_at_ns: ids::now_ns(),
                state: TopicState::Created,
                stats: DataStats::default(),
            };
            tx.put_topic(&loc.sequence, &loc.topic, &rec)?;
            tx.put_token(
                &rec.uuid,
                &TokenRecord::Topic {
                    sequence: loc.sequence.clone(),
                    topic: loc.topic.clone(),
                },
            )?;
            Ok(rec.uuid)
        })
    }

    /// Delete one topic and its data.
    pub fn delete_topic(&self, raw_locator: &str) -> Result<()> {
        let loc = names::topic_locator(raw_locator)?;
        let id = self.catalog.write(|tx| {
            let rec = tx.read().topic(&loc.sequence, &loc.topic)?.ok_or_else(|| {
                Error::not_found(format!("topic `{}` does not exist.", loc.locator()))
            })?;
            tx.purge_notifications(&loc.locator())?;
            tx.delete_topic(&loc.sequence, &loc.topic, &rec)?;
            Ok(rec.id)
        })?;
        self.discard_topic(&id);
        Ok(())
    }
}
