//! The embedded catalog (fjall): sequences, sessions, topics, tokens, schemas, notifications.
//!
//! Key layouts are in [`keys`], value layouts in [`records`]. Reads go straight to fjall.
//! Every mutation goes through [`Catalog::write`], which holds one process-wide lock, so
//! check-then-insert is atomic (two clients creating the same name: exactly one wins), applies
//! all changes as one fjall batch, and persists with `PersistMode::SyncAll` before returning:
//! a catalog change the client saw acknowledged survives power loss.

pub mod chunks;
pub mod keys;
pub mod records;

use crate::error::{Error, Result};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch, PersistMode};
use records::*;
use std::path::Path;
use std::sync::Mutex;
use uuid::Uuid;

/// Layout version of the whole catalog, stored in `meta/catalog_version`.
pub const CATALOG_VERSION: u32 = 1;

/// The catalog database and its keyspaces.
pub struct Catalog {
    db: Database,
    sequences: Keyspace,
    sessions: Keyspace,
    topics: Keyspace,
    tokens: Keyspace,
    schemas: Keyspace,
    notifications: Keyspace,
    chunks: Keyspace,
    write_lock: Mutex<()>,
}

fn keyspace(db: &Database, name: &str) -> Result<Keyspace> {
    Ok(db.keyspace(name, KeyspaceCreateOptions::default)?)
}

impl Catalog {
    /// Open (or create) the catalog in `dir`.
    pub fn open(dir: &Path) -> Result<Catalog> {
        let db = Database::builder(dir).open()?;
        let meta = keyspace(&db, "meta")?;
        match meta.get(b"catalog_version")? {
            None => {
                meta.insert(b"catalog_version", CATALOG_VERSION.to_le_bytes())?;
                db.persist(PersistMode::SyncAll)?;
            }
            Some(v) if v.as_ref() == CATALOG_VERSION.to_le_bytes() => {}
            Some(v) => {
                return Err(Error::data_loss(format!(
                    "catalog at {} has layout version {:?}; this server reads version {CATALOG_VERSION}.",
                    dir.display(),
                    v.as_ref()
                )))
            }
        }
        Ok(Catalog {
            sequences: keyspace(&db, "sequences")?,
            sessions: keyspace(&db, "sessions")?,
            topics: keyspace(&db, "topics")?,
            tokens: keyspace(&db, "tokens")?,
            schemas: keyspace(&db, "schemas")?,
            notifications: keyspace(&db, "notifications")?,
            chunks: keyspace(&db, "chunks")?,
            write_lock: Mutex::new(()),
            db,
        })
    }

    /// Run `f` with the catalog write lock held; commit its batch and fsync (SyncAll).
    pub fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let _guard = self
            .write_lock
            .lock()
            .map_err(|_| Error::internal("catalog lock poisoned by an earlier panic."))?;
        let mut tx = Tx {
            cat: self,
            batch: self.db.batch(),
        };
        let out = f(&mut tx)?;
        if !tx.batch.is_empty() {
            tx.batch.commit()?;
            if !crate::fsutil::sync_disabled("catalog") {
                self.db.persist(PersistMode::SyncAll)?;
            }
        }
        Ok(out)
    }

    fn get<T: serde::de::DeserializeOwned>(&self, ks: &Keyspace, key: &[u8]) -> Result<Option<T>> {
        match ks.get(key)? {
            None => Ok(None),
            Some(v) => records::decode(&v, &String::from_utf8_lossy(key)).map(Some),
        }
    }

    fn scan<T: serde::de::DeserializeOwned>(
        &self,
        ks: &Keyspace,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, T)>> {
        let mut out = Vec::new();
        for guard in ks.prefix(prefix) {
            let (k, v) = guard.into_inner()?;
            let rec = records::decode(&v, &String::from_utf8_lossy(&k))?;
            out.push((k.to_vec(), rec));
        }
        Ok(out)
    }

    /// A sequence by canonical name.
    pub fn sequence(&self, name: &str) -> Result<Option<SequenceRecord>> {
        self.get(&self.sequences, &keys::sequence(name))
    }

    /// All sequences in name order.
    pub fn sequences(&self) -> Result<Vec<(String, SequenceRecord)>> {
        self.scan(&self.sequences, b"").map(|v| {
            v.into_iter()
                .map(|(k, r)| (String::from_utf8_lossy(&k).into_owned(), r))
                .collect()
        })
    }

    /// A session by sequence and id.
    pub fn session(&self, seq: &str, id: &str) -> Result<Option<SessionRecord>> {
        self.get(&self.sessions, &keys::child(seq, id))
    }

    /// Sessions of a sequence in creation order.
    pub fn sessions_of(&self, seq: &str) -> Result<Vec<(String, SessionRecord)>> {
        self.children(&self.sessions, seq)
    }

    /// A topic by sequence and path.
    pub fn topic(&self, seq: &str, topic: &str) -> Result<Option<TopicRecord>> {
        self.get(&self.topics, &keys::child(seq, topic))
    }

    /// Topics of a sequence in path order.
    pub fn topics_of(&self, seq: &str) -> Result<Vec<(String, TopicRecord)>> {
        self.children(&self.topics, seq)
    }

    fn children<T: serde::de::DeserializeOwned>(
        &self,
        ks: &Keyspace,
        seq: &str,
    ) -> Result<Vec<(String, T)>> {
        let rows = self.scan(ks, &keys::children_prefix(seq))?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, r)| keys::split_child(&k).map(|(_, c)| (c.to_string(), r)))
            .collect())
    }

    /// What a token authorizes.
    pub fn token(&self, token: &Uuid) -> Result<Option<TokenRecord>> {
        self.get(&self.tokens, &keys::uuid(token))
    }

    /// A topic's stored IPC schema message.
    pub fn schema(&self, topic_id: &Uuid) -> Result<Option<Vec<u8>>> {
        match self.schemas.get(keys::uuid(topic_id))? {
            None => Ok(None),
            Some(v) => records::decode_raw(&v, "schema").map(|b| Some(b.to_vec())),
        }
    }

    /// Chunks of a topic, ordered by smallest timestamp then first WAL seq.
    pub fn chunks_of(&self, topic_id: &Uuid) -> Result<Vec<chunks::ChunkRecord>> {
        let mut out = Vec::new();
        for guard in self.chunks.prefix(chunks::prefix(topic_id)) {
            let v = guard.value()?;
            out.push(chunks::decode(&v, &topic_id.to_string())?);
        }
        Ok(out)
    }

    /// Notifications of a target (`seq` or `seq/topic`) in creation order.
    pub fn notifications(&self, target: &str) -> Result<Vec<NotificationRecord>> {
        let rows = self.scan(&self.notifications, &keys::notification_prefix(target))?;
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }
}

/// A catalog write in progress: reads see committed state, writes are batched.
pub struct Tx<'a> {
    cat: &'a Catalog,
    batch: OwnedWriteBatch,
}

impl<'a> Tx<'a> {
    /// The catalog, for reads.
    pub fn read(&self) -> &'a Catalog {
        self.cat
    }
    /// Insert or replace a sequence.
    pub fn put_sequence(&mut self, name: &str, r: &SequenceRecord) -> Result<()> {
        let v = records::encode(r)?;
        self.batch
            .insert(&self.cat.sequences, keys::sequence(name), v);
        Ok(())
    }
    /// Insert or replace a session.
    pub fn put_session(&mut self, seq: &str, id: &str, r: &SessionRecord) -> Result<()> {
        let v = records::encode(r)?;
        self.batch
            .insert(&self.cat.sessions, keys::child(seq, id), v);
        Ok(())
    }
    /// Insert or replace a topic.
    pub fn put_topic(&mut self, seq: &str, topic: &str, r: &TopicRecord) -> Result<()> {
        let v = records::encode(r)?;
        self.batch
            .insert(&self.cat.topics, keys::child(seq, topic), v);
        Ok(())
    }
    /// Insert a token.
    pub fn put_token(&mut self, token: &Uuid, r: &TokenRecord) -> Result<()> {
        let v = records::encode(r)?;
        self.batch.insert(&self.cat.tokens, keys::uuid(token), v);
        Ok(())
    }
    /// Insert a topic schema.
    pub fn put_schema(&mut self, topic_id: &Uuid, ipc: &[u8]) {
        self.batch.insert(
            &self.cat.schemas,
            keys::uuid(topic_id),
            records::encode_raw(ipc),
        );
    }
    /// Insert a notification.
    pub fn put_notification(
        &mut self,
        target: &str,
        counter: u32,
        r: &NotificationRecord,
    ) -> Result<()> {
        let v = records::encode(r)?;
        let key = keys::notification(target, r.created_at_ns, counter);
        self.batch.insert(&self.cat.notifications, key, v);
        Ok(())
    }
    /// Remove every notification of a target.
    pub fn purge_notifications(&mut self, target: &str) -> Result<()> {
        for guard in self
            .cat
            .notifications
            .prefix(keys::notification_prefix(target))
        {
            let k = guard.key()?;
            self.batch.remove(&self.cat.notifications, k);
        }
        Ok(())
    }
    /// Remove a sequence entry (children are removed separately).
    pub fn delete_sequence(&mut self, name: &str) {
        self.batch.remove(&self.cat.sequences, keys::sequence(name));
    }
    /// Remove a session entry and its token.
    pub fn delete_session(&mut self, seq: &str, id: &str, r: &SessionRecord) {
        self.batch.remove(&self.cat.sessions, keys::child(seq, id));
        self.batch.remove(&self.cat.tokens, keys::uuid(&r.uuid));
    }
    /// Record a sealed chunk.
    pub fn put_chunk(&mut self, topic_id: &Uuid, r: &chunks::ChunkRecord) {
        let key = chunks::key(topic_id, r.stats.ts_min, r.first_seq);
        self.batch.insert(&self.cat.chunks, key, chunks::encode(r));
    }

    /// Remove a topic entry, its token, its schema and its chunk index.
    pub fn delete_topic(&mut self, seq: &str, topic: &str, r: &TopicRecord) -> Result<()> {
        for guard in self.cat.chunks.prefix(chunks::prefix(&r.id)) {
            let k = guard.key()?;
            self.batch.remove(&self.cat.chunks, k);
        }
        self.batch.remove(&self.cat.topics, keys::child(seq, topic));
        self.batch.remove(&self.cat.tokens, keys::uuid(&r.uuid));
        self.batch.remove(&self.cat.schemas, keys::uuid(&r.id));
        Ok(())
    }
}
