//! The blocking half of an upload: validate each IPC message, append it to the topic's WAL,
//! decide when an fsync is due, and keep the running statistics. The due fsync itself runs
//! beside the next append (group commit, see `commit`): [`TopicWriter::begin_sync`] gives the
//! ticket, [`TopicWriter::synced`] takes its result back.
//!
//! Acknowledgement contract: `durable_batches`/`durable_rows` only ever count batches whose WAL
//! frames were covered by a successful fsync. `finish` fsyncs before the topic counts as
//! uploaded, so a DoPut that returns OK has all its batches on disk.

use super::commit::{SyncTicket, Synced};
use super::durable::Durable;
use crate::catalog::records::DataStats;
use crate::config::SyncMode;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::ipc::{self, MessageKind};
use crate::lifecycle::UploadGuard;
use crate::locks::lock;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;
use tessera_wal::{Durability, FrameKind};

/// Longest a writer waits for the compactor before going on (and logging).
const BACKPRESSURE_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// State of one upload between messages.
pub struct TopicWriter {
    engine: Arc<Engine>,
    guard: UploadGuard,
    schema: Option<(SchemaRef, usize)>,
    /// Whether this stream has sent its schema message.
    schema_seen: bool,
    stats: DataStats,
    ack: bool,
    unsynced_bytes: u64,
    /// The topic's unsealed durable bytes, as of this stream's last sync.
    unsealed: u64,
    last_sync: Instant,
    /// See [`TopicWriter::unsynced_since`].
    unsynced_since: Option<Instant>,
    /// Rows at the start of this stream the topic already stores (idempotent resume).
    skip_rows: u64,
    /// Appended in this stream (not yet necessarily durable).
    appended: Durable,
    /// Durable in this stream.
    durable: Durable,
}

impl TopicWriter {
    /// Start writing; on resume, recover the statistics of what the topic already stores
    /// (sealed chunks and WAL tail).
    pub fn new(engine: Arc<Engine>, guard: UploadGuard, ack: bool) -> Result<Self> {
        let mut schema = None;
        let mut stats = DataStats::default();
        if let Some(header) = &guard.stored_schema {
            let s = Arc::new(ipc::decode_schema(header)?);
            let idx = ipc::check_schema(&s)?;
            stats = engine
                .lifecycle()
                .stored_stats(&guard.record.id)?
                .unwrap_or_default();
            schema = Some((s, idx));
        }
        Ok(TopicWriter {
            engine,
            guard,
            schema,
            schema_seen: false,
            stats,
            ack,
            unsynced_bytes: 0,
            unsealed: 0,
            last_sync: Instant::now(),
            unsynced_since: None,
            skip_rows: 0,
            appended: Durable::default(),
            durable: Durable::default(),
        })
    }

    /// Idempotent resume: this stream's first row is row `first_row` of the topic. Rows the
    /// topic already stores durably are skipped (whole batches: a resumed stream re-sends the
    /// batches it is unsure about, whose boundaries are those of the stored frames); a stream
    /// starting after the stored rows would leave a gap and is refused.
    pub fn resume_at(&mut self, first_row: u64) -> Result<()> {
        let stored = self.stats.rows;
        if first_row > stored {
            return Err(Error::precondition(format!(
                "topic `{}` stores {stored} rows; a stream starting at row {first_row} would leave \
                 a gap. Resume from row {stored} (GetFlightInfo `total_row_count`).",
                self.locator()
            )));
        }
        self.skip_rows = stored - first_row;
        Ok(())
    }

    /// The topic locator.
    pub fn locator(&self) -> String {
        self.guard.locator()
    }

    /// Whether the topic was deleted while this upload ran.
    pub fn deleted(&self) -> bool {
        self.guard.slot.is_deleted()
    }

    /// Handle one FlightData message. Returns whether an fsync is now due (the sync policy:
    /// an ack asked for, an interval passed, or too many bytes unsynced); the caller runs it
    /// with [`TopicWriter::begin_sync`].
    pub fn write(&mut self, header: &[u8], body: Bytes) -> Result<bool> {
        if self.deleted() {
            return Err(Error::not_found(format!(
                "topic `{}` was deleted during its upload.",
                self.locator()
            )));
        }
        if header.is_empty() {
            return Ok(false); // descriptor- or app_metadata-only message
        }
        match ipc::message_kind(header)? {
            MessageKind::Schema => self.schema_message(header).map(|()| false),
            MessageKind::RecordBatch => self.batch_message(header, body),
            MessageKind::DictionaryBatch => Err(Error::invalid(
                "dictionary batches are not supported; send plain arrays.",
            )),
            MessageKind::Other => Err(Error::invalid(
                "unsupported IPC message in DoPut; send one schema then record batches.",
            )),
        }
    }

    fn schema_message(&mut self, header: &[u8]) -> Result<()> {
        let schema = Arc::new(ipc::decode_schema(header)?);
        if let Some((known, _)) = &self.schema {
            if self.schema_seen {
                return Err(Error::new(
                    ErrorKind::Aborted,
                    format!(
                        "a DoPut stream carries one schema message, at its start; topic `{}` got a second one.",
                        self.locator()
                    ),
                ));
            }
            // Resuming an upload: the new stream's schema must be the stored one.
            if **known != *schema {
                return Err(Error::invalid(format!(
                    "topic `{}` stores the schema {}; this stream sent {}. A resumed upload must use the same schema.",
                    self.locator(),
                    describe(known),
                    describe(&schema)
                )));
            }
            self.schema_seen = true;
            return Ok(());
        }
        let idx = ipc::check_schema(&schema)?;
        let canonical = ipc::schema_header(&schema);
        let (prefix, pad) = ipc::encapsulation(canonical.len())?;
        lock(&self.guard.wal)?.append(
            FrameKind::Schema,
            &[&prefix, &canonical, ipc::padding(pad)],
            Durability::Sync,
        )?;
        self.engine
            .lifecycle()
            .record_schema(&self.guard, &canonical)?;
        self.schema = Some((schema, idx));
        self.schema_seen = true;
        Ok(())
    }

    fn batch_message(&mut self, header: &[u8], body: Bytes) -> Result<bool> {
        let Some((schema, idx)) = &self.schema else {
            return Err(Error::invalid(
                "the first DoPut message must carry the schema before any record batch.",
            ));
        };
        let body_len = body.len() as u64;
        let batch = ipc::decode_batch(header, body.clone(), schema)?;
        let range = ipc::time_range(&batch, *idx)?;
        let rows = batch.num_rows() as u64;
        if self.skip_rows > 0 && rows > 0 {
            if rows > self.skip_rows {
                return Err(Error::precondition(format!(
                    "topic `{}`: a re-sent batch of {rows} rows crosses the end of the stored rows \
                     ({} of its rows are stored); re-send whole batches as first sent.",
                    self.locator(),
                    self.skip_rows
                )));
            }
            // Already stored durably: count it as this stream's, write nothing.
            self.skip_rows -= rows;
            self.appended.batches += 1;
            self.appended.rows += rows;
            return Ok(false);
        }
        if rows > 0 {
            let (prefix, pad) = ipc::encapsulation(header.len())?;
            lock(&self.guard.wal)?.append(
                FrameKind::RecordBatch,
                &[&prefix, header, ipc::padding(pad), &body],
                Durability::Buffered,
            )?;
            self.stats.add(rows, body_len, range);
            self.unsynced_bytes += body_len;
            self.unsynced_since.get_or_insert_with(Instant::now);
        }
        self.appended.batches += 1;
        self.appended.rows += rows;
        let cfg = self.engine.config();
        let due = match cfg.sync {
            SyncMode::Always => self.ack,
            SyncMode::Interval { interval_ms } => {
                self.last_sync.elapsed().as_millis() >= u128::from(interval_ms)
            }
        } || self.unsynced_bytes >= cfg.sync_every_bytes
            || self
                .unsynced_since
                .is_some_and(|t| t.elapsed() >= cfg.sync_deadline());
        self.hold_back()?;
        Ok(due)
    }

    /// Group commit: a sync of everything appended so far, to run without holding the WAL
    /// (see `commit`). `None` when it is all durable already (then nothing is left to ack
    /// beyond [`TopicWriter::durable`]).
    pub fn begin_sync(&mut self) -> Result<Option<SyncTicket>> {
        let pending = lock(&self.guard.wal)?.begin_sync()?;
        self.unsynced_since = None;
        let bytes = std::mem::take(&mut self.unsynced_bytes);
        let Some(pending) = pending else {
            self.synced(Synced {
                covers: self.appended,
                bytes,
            });
            return Ok(None);
        };
        Ok(Some(SyncTicket {
            pending,
            wal: Arc::clone(&self.guard.wal),
            covers: self.appended,
            bytes,
        }))
    }

    /// Take back what a [`SyncTicket`] made durable.
    pub fn synced(&mut self, done: Synced) {
        self.last_sync = Instant::now();
        if done.covers.batches > self.durable.batches {
            self.durable = done.covers;
        }
        if done.bytes > 0 {
            self.account_durable(done.bytes);
        }
    }

    /// When the oldest appended batch no sync covers yet was appended (`None`: all covered by
    /// a finished or running sync). The upload's sync timer fires `sync_deadline` after it.
    pub fn unsynced_since(&self) -> Option<Instant> {
        self.unsynced_since
    }

    /// See `Config::sync_deadline`.
    pub fn sync_deadline(&self) -> std::time::Duration {
        self.engine.config().sync_deadline()
    }

    /// Whether the client asked for per-batch durable acks.
    pub fn acks(&self) -> bool {
        self.ack
    }

    /// Report newly durable bytes to the compactor (it seals only durable frames, so a seal
    /// requested here finds a whole chunk) and queue a seal once the backlog passes the seal
    /// lag (burst absorption, see `Config::seal_lag_bytes`), and at least a chunk's worth.
    fn account_durable(&mut self, bytes: u64) {
        self.unsealed = self
            .engine
            .compactor()
            .add_unsealed(self.guard.record.id, bytes);
        let cfg = self.engine.config();
        if self.unsealed >= cfg.chunk_size_bytes.max(cfg.seal_lag_bytes) {
            self.engine.lifecycle().request_seal(&self.guard, false);
        }
    }

    /// Back-pressure: while the topic has more than `max_unsealed_bytes` not yet sealed, make
    /// ours durable (the compactor seals only durable frames) and wait, bounded, for it.
    fn hold_back(&mut self) -> Result<()> {
        let max = self.engine.config().max_unsealed_bytes;
        if self.unsealed + self.unsynced_bytes <= max {
            return Ok(());
        }
        if self.unsynced_bytes > 0 {
            self.sync()?;
        }
        let id = self.guard.record.id;
        let compactor = self.engine.compactor();
        compactor.wait_below(id, max, BACKPRESSURE_MAX_WAIT);
        self.unsealed = compactor.add_unsealed(id, 0);
        Ok(())
    }

    /// fsync everything appended so far, inline (under the WAL lock).
    pub fn sync(&mut self) -> Result<Durable> {
        lock(&self.guard.wal)?.sync()?;
        self.unsynced_since = None;
        let bytes = std::mem::take(&mut self.unsynced_bytes);
        self.synced(Synced {
            covers: self.appended,
            bytes,
        });
        Ok(self.durable)
    }

    /// End of stream: fsync, then mark the topic uploaded.
    pub fn finish(mut self) -> Result<Durable> {
        if self.schema.is_none() {
            return Err(Error::invalid(
                "the DoPut stream ended before sending a schema.",
            ));
        }
        let durable = self.sync()?;
        self.engine
            .lifecycle()
            .finish_upload(&self.guard, self.stats)?;
        Ok(durable)
    }

    /// The stream broke or was refused: keep what is durable and leave the topic resumable.
    /// The statistics are saved only once synced: they are a lower bound of what the topic
    /// stores (`logs::integrity`), so unsynced batches must not count.
    pub fn abandon(mut self) {
        let synced = self.sync();
        if let Err(e) = &synced {
            tracing::error!(topic = %self.locator(), error = %e, "could not sync an interrupted upload");
        }
        if !self.deleted() && synced.is_ok() {
            if let Err(e) = self
                .engine
                .lifecycle()
                .save_partial_upload(&self.guard, self.stats)
            {
                tracing::error!(topic = %self.locator(), error = %e, "could not save upload statistics");
            }
        }
    }

    /// Durable totals.
    pub fn durable(&self) -> Durable {
        self.durable
    }
}

fn describe(schema: &arrow_schema::Schema) -> String {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    format!("[{}]", fields.join(", "))
}
