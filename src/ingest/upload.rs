//! The async half of a DoPut: read messages from the network while the previous one is being
//! written (one blocking write job in flight) and its fsync runs (one sync job in flight, group
//! commit: see `commit`), forward durable acks, end with the right status.
//!
//! Memory per upload is bounded by two messages (one being received, one being written), each
//! at most the decode limit; an fsync holds no message. HTTP/2 flow control holds the client
//! back while the disk is busy.
//!
//! Pipeline: write N -> (sync N || write N+1) -> (sync N+1 || write N+2) ... A write whose fsync
//! is due waits for the running sync before the next write starts, so at most one appended
//! batch is ever waiting beyond the sync in flight.
//!
//! Sync timer (bounded time to durability): a sync is also due once the oldest batch no sync
//! covers was appended `Config::sync_deadline` ago (`--max-sync-delay-ms`, default 200 ms),
//! whether or not the stream asks for acks or sends anything more; the timer fires while the
//! pump waits for the next message. So a batch is fsynced at most that long (plus a running
//! sync and its own) after it was appended.

use super::commit::Synced;
use super::durable::Durable;
use super::writer::TopicWriter;
use crate::blocking::run as blocking;
use crate::descriptor::PutDescriptor;
use crate::engine::Engine;
use crate::error::{Error, Result};
use arrow_flight::{FlightData, PutResult};
use bytes::Bytes;
use futures::stream::BoxStream;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

type Job = JoinHandle<(TopicWriter, Result<bool>)>;
type SyncJob = JoinHandle<Result<Synced>>;

fn ack_result(d: Durable) -> PutResult {
    let body = serde_json::json!({ "durable_batches": d.batches, "durable_rows": d.rows });
    PutResult {
        app_metadata: Bytes::from(body.to_string()),
    }
}

/// Handle a DoPut: validate the first message, then stream the rest in a background task.
pub async fn do_put(
    engine: Arc<Engine>,
    mut input: Streaming<FlightData>,
    shutdown: watch::Receiver<bool>,
) -> Result<BoxStream<'static, Result<PutResult, Status>>> {
    let first = input
        .message()
        .await
        .map_err(|s| stream_error(&s))?
        .ok_or_else(|| {
            Error::invalid("DoPut stream is empty; send the descriptor and schema first.")
        })?;
    let desc = first.flight_descriptor.as_ref().ok_or_else(|| {
        Error::invalid("the first DoPut message must carry the flight descriptor.")
    })?;
    let put = PutDescriptor::parse(desc)?;
    let eng = Arc::clone(&engine);
    let writer = blocking(move || {
        let guard = eng
            .lifecycle()
            .begin_upload(&put.resource_locator, &put.token)?;
        let mut writer = TopicWriter::new(eng, guard, put.ack_durable)?;
        if let Some(first_row) = put.first_row {
            writer.resume_at(first_row)?;
        }
        Ok(writer)
    })
    .await?;
    // The first message usually carries the schema too: handle it before answering, so a bad
    // schema fails the call itself.
    let (writer, res) = run_write(writer, first.data_header, first.data_body).await;
    let (writer, due) = match (writer, res) {
        (Some(w), Ok(due)) => (w, due),
        (Some(w), Err(e)) => {
            abandon(w).await;
            return Err(e);
        }
        (None, Err(e)) => return Err(e),
        (None, Ok(_)) => return Err(Error::internal("upload writer lost.")),
    };
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(pump(writer, due, input, tx, shutdown));
    Ok(Box::pin(ReceiverStream::new(rx)))
}

/// Outcome of one blocking write: the writer (gone if the job panicked) and its result
/// (whether an fsync is due).
type JobOutcome = (Option<TopicWriter>, Result<bool>);

async fn join(job: Job) -> JobOutcome {
    wait_job(&mut Some(job)).await
}

fn spawn_write(mut w: TopicWriter, header: Bytes, body: Bytes) -> Job {
    tokio::task::spawn_blocking(move || {
        let r = w.write(&header, body);
        (w, r)
    })
}

async fn run_write(writer: TopicWriter, header: Bytes, body: Bytes) -> JobOutcome {
    join(spawn_write(writer, header, body)).await
}

async fn abandon(writer: TopicWriter) {
    let _ = tokio::task::spawn_blocking(move || writer.abandon()).await;
}

/// The pipeline's state between events.
struct Pipeline {
    /// The writer, when no write job holds it.
    idle: Option<TopicWriter>,
    job: Option<Job>,
    sync: Option<SyncJob>,
    /// A write made an fsync due that has not begun yet.
    sync_due: bool,
    /// Finished syncs not yet given back to the writer (it was busy).
    synced: Vec<Synced>,
    /// The next message, received while the writer was busy.
    held: Option<FlightData>,
    acks: bool,
    /// The sync timer: when the oldest batch no sync covers must have its sync begun
    /// (`max_sync_delay` after it was appended); as of the writer's last idle moment.
    sync_deadline: Option<tokio::time::Instant>,
    /// `Config::sync_deadline`.
    max_delay: std::time::Duration,
}

impl Pipeline {
    /// With the writer idle: give it finished syncs, begin a due sync when none runs (or ack
    /// at once if nothing was left to sync), and start the next write unless a sync is due.
    async fn advance(&mut self, tx: &mpsc::Sender<Result<PutResult, Status>>) -> Result<()> {
        let Some(w) = self.idle.as_mut() else {
            return Ok(());
        };
        for done in self.synced.drain(..) {
            w.synced(done);
        }
        if w.unsynced_since()
            .is_some_and(|t| t.elapsed() >= self.max_delay)
        {
            self.sync_due = true;
        }
        if self.sync_due && self.sync.is_none() {
            self.sync_due = false;
            match w.begin_sync()? {
                Some(ticket) => {
                    self.sync = Some(tokio::task::spawn_blocking(move || ticket.run()));
                }
                None if self.acks => send_ack(w.durable(), tx).await,
                None => {}
            }
        }
        self.sync_deadline = self.idle.as_ref().and_then(|w| {
            let since = w.unsynced_since()?;
            Some(tokio::time::Instant::from_std(since + self.max_delay))
        });
        if self.job.is_none() && !self.sync_due && self.held.is_some() {
            if let (Some(msg), Some(w)) = (self.held.take(), self.idle.take()) {
                self.job = Some(spawn_write(w, msg.data_header, msg.data_body));
            }
        }
        Ok(())
    }

    /// Wait for the running write and sync, giving their results back to the writer; the
    /// first error wins. Acks of syncs that succeeded are still sent.
    async fn drain(&mut self, tx: &mpsc::Sender<Result<PutResult, Status>>) -> Result<()> {
        let mut outcome = Ok(());
        if let Some(j) = self.job.take() {
            let (w, res) = join(j).await;
            self.idle = w;
            if let Err(e) = res {
                outcome = Err(e);
            }
        }
        if let Some(s) = self.sync.take() {
            match wait_sync(&mut Some(s)).await {
                Ok(done) => self.sync_finished(done, tx).await,
                Err(e) => outcome = outcome.and(Err(e)),
            }
        }
        if let Some(w) = self.idle.as_mut() {
            for done in self.synced.drain(..) {
                w.synced(done);
            }
        }
        outcome
    }

    async fn sync_finished(&mut self, done: Synced, tx: &mpsc::Sender<Result<PutResult, Status>>) {
        if self.acks {
            send_ack(done.covers, tx).await;
        }
        self.synced.push(done);
    }
}

/// Drive the rest of the stream.
async fn pump(
    writer: TopicWriter,
    due: bool,
    mut input: Streaming<FlightData>,
    tx: mpsc::Sender<Result<PutResult, Status>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let max_delay = writer.sync_deadline();
    let mut p = Pipeline {
        sync_deadline: None,
        max_delay,
        acks: writer.acks(),
        idle: Some(writer),
        job: None,
        sync: None,
        sync_due: due,
        synced: Vec::new(),
        held: None,
    };
    let mut eof = false;
    let outcome: Result<()> = loop {
        if let Err(e) = p.advance(&tx).await {
            break Err(e);
        }
        if eof && p.held.is_none() && p.job.is_none() && !p.sync_due {
            break Ok(());
        }
        // Wait for whichever comes first: the running write or sync (to go on / forward its
        // ack at once) or the next message (received while they run, one held at most).
        let event = tokio::select! {
            done = wait_job(&mut p.job), if p.job.is_some() => Event::Done(Box::new(done)),
            done = wait_sync(&mut p.sync), if p.sync.is_some() => Event::Synced(done),
            m = input.message(), if !eof && p.held.is_none() => Event::Message(m),
            _ = sleep_until(p.sync_deadline), if p.sync_deadline.is_some() && !p.sync_due => Event::SyncTimer,
            _ = shutdown.wait_for(|s| *s) => Event::Shutdown,
        };
        match event {
            Event::Done(out) => {
                p.job = None;
                let (w, res) = *out;
                p.idle = w;
                match res {
                    Ok(due) => p.sync_due |= due,
                    Err(e) => break Err(e),
                }
            }
            Event::Synced(res) => {
                p.sync = None;
                match res {
                    Ok(done) => p.sync_finished(done, &tx).await,
                    Err(e) => break Err(e),
                }
            }
            Event::SyncTimer => p.sync_due = true,
            Event::Message(Ok(Some(m))) => p.held = Some(m),
            Event::Message(Ok(None)) => eof = true,
            Event::Message(Err(s)) => break Err(stream_error(&s)),
            Event::Shutdown => {
                break Err(Error::new(
                    crate::error::ErrorKind::Unavailable,
                    "server is shutting down; acknowledged data is durable. Resume with a new DoPut using the same token.",
                ))
            }
        }
    };
    let drained = p.drain(&tx).await;
    let outcome = outcome.and(drained);
    let result = match (p.idle.take(), outcome) {
        (Some(w), Ok(())) => {
            let locator = w.locator();
            match blocking(move || w.finish()).await {
                Ok(d) => {
                    tracing::info!(topic = %locator, batches = d.batches, rows = d.rows, "upload complete");
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        (Some(w), Err(e)) => {
            tracing::info!(topic = %w.locator(), error = %e.message, "upload ended without completion");
            abandon(w).await;
            Err(e)
        }
        (None, Err(e)) => Err(e),
        (None, Ok(())) => Err(Error::internal("upload writer lost.")),
    };
    if let Err(e) = result {
        let _ = tx.send(Err(e.into())).await;
    }
}

/// Classify a receive error: a message over the decode limit is the client's to fix.
fn stream_error(s: &Status) -> Error {
    if s.code() == tonic::Code::OutOfRange || s.code() == tonic::Code::ResourceExhausted {
        Error::new(
            crate::error::ErrorKind::ResourceExhausted,
            format!(
                "a DoPut message is larger than the server accepts ({}); send smaller batches \
                 (the limit is `grpc_max_decode_message_size` in the `info` action).",
                s.message()
            ),
        )
    } else {
        Error::invalid(format!("DoPut stream broke: {}.", s.message()))
    }
}

enum Event {
    Done(Box<JobOutcome>),
    Synced(Result<Synced>),
    Message(std::result::Result<Option<FlightData>, Status>),
    /// The oldest unsynced batch reached `max_sync_delay`.
    SyncTimer,
    Shutdown,
}

/// Sleep until `deadline` (only called when there is one).
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Await the running write job (only called when there is one).
async fn wait_job(job: &mut Option<Job>) -> JobOutcome {
    match job.as_mut() {
        Some(j) => {
            let out = j.await;
            match out {
                Ok((w, r)) => (Some(w), r),
                Err(e) => {
                    tracing::error!(error = %e, "upload writer panicked");
                    (None, Err(Error::internal("the upload failed on an internal error; its acknowledged data is kept.")))
                }
            }
        }
        None => std::future::pending().await,
    }
}

/// Await the running sync job (only called when there is one).
async fn wait_sync(sync: &mut Option<SyncJob>) -> Result<Synced> {
    match sync.as_mut() {
        Some(j) => match j.await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "upload fsync panicked");
                Err(Error::internal(
                    "the upload's fsync failed on an internal error; its acknowledged data is kept.",
                ))
            }
        },
        None => std::future::pending().await,
    }
}

/// Send a durable ack. The bounded channel applies back-pressure until the client reads its
/// acks; a client that stopped reading them only loses the acks.
async fn send_ack(d: Durable, tx: &mpsc::Sender<Result<PutResult, Status>>) {
    let _ = tx.send(Ok(ack_result(d))).await;
}
