//! The async half of a DoPut: read messages from the network while the previous one is being
//! written (one blocking job in flight), forward durable acks, end with the right status.
//!
//! Memory per upload is bounded by two messages (one being received, one being written), each
//! at most the decode limit; HTTP/2 flow control holds the client back while the disk is busy.

use super::writer::{Durable, TopicWriter};
use crate::blocking::run as blocking;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::flight::descriptor::PutDescriptor;
use arrow_flight::{FlightData, PutResult};
use bytes::Bytes;
use futures::stream::BoxStream;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

type Job = JoinHandle<(TopicWriter, Result<Option<Durable>>)>;

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
        let guard = eng.begin_upload(&put.resource_locator, &put.token)?;
        TopicWriter::new(eng, guard, put.ack_durable)
    })
    .await?;
    // The first message usually carries the schema too: handle it before answering, so a bad
    // schema fails the call itself.
    let (writer, res) = run_write(writer, first.data_header, first.data_body).await;
    let writer = match (writer, res) {
        (Some(w), Ok(_)) => w,
        (Some(w), Err(e)) => {
            abandon(w).await;
            return Err(e);
        }
        (None, Err(e)) => return Err(e),
        (None, Ok(_)) => return Err(Error::internal("upload writer lost.")),
    };
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(pump(writer, input, tx, shutdown));
    Ok(Box::pin(ReceiverStream::new(rx)))
}

/// Outcome of one blocking write: the writer (gone if the job panicked) and its result.
type JobOutcome = (Option<TopicWriter>, Result<Option<Durable>>);

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

/// Drive the rest of the stream.
async fn pump(
    writer: TopicWriter,
    mut input: Streaming<FlightData>,
    tx: mpsc::Sender<Result<PutResult, Status>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut idle = Some(writer);
    let mut job: Option<Job> = None;
    let mut held: Option<FlightData> = None;
    let outcome: Result<()> = loop {
        if held.is_none() {
            // Wait for whichever comes first: the running write (to forward its ack at once)
            // or the next message (received while the write runs).
            let event = tokio::select! {
                done = wait_job(&mut job), if job.is_some() => Event::Done(Box::new(done)),
                m = input.message() => Event::Message(m),
                _ = shutdown.wait_for(|s| *s) => Event::Shutdown,
            };
            match event {
                Event::Done(out) => {
                    job = None;
                    let (w, res) = *out;
                    idle = w;
                    if let Err(e) = forward(res, &tx).await {
                        break Err(e);
                    }
                    continue;
                }
                Event::Message(Ok(Some(m))) => held = Some(m),
                Event::Message(Ok(None)) => break Ok(()),
                Event::Message(Err(s)) => break Err(stream_error(&s)),
                Event::Shutdown => {
                    break Err(Error::new(
                        crate::error::ErrorKind::Unavailable,
                        "server is shutting down; acknowledged data is durable. Resume with a new DoPut using the same token.",
                    ))
                }
            }
        }
        // One write at a time keeps frame order and bounds memory.
        if let Some(j) = job.take() {
            let (w, res) = join(j).await;
            idle = w;
            if let Err(e) = forward(res, &tx).await {
                break Err(e);
            }
        }
        let (Some(msg), Some(w)) = (held.take(), idle.take()) else {
            break Err(Error::internal("upload writer lost."));
        };
        job = Some(spawn_write(w, msg.data_header, msg.data_body));
    };
    let outcome = match job.take() {
        Some(j) => {
            let (w, res) = join(j).await;
            idle = w;
            match forward(res, &tx).await {
                Ok(()) => outcome,
                Err(e) => outcome.and(Err(e)),
            }
        }
        None => outcome,
    };
    let result = match (idle, outcome) {
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
    Message(std::result::Result<Option<FlightData>, Status>),
    Shutdown,
}

/// Await the running job (only called when there is one).
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

/// Send a durable ack if the write produced one; pass errors through.
async fn forward(
    res: Result<Option<Durable>>,
    tx: &mpsc::Sender<Result<PutResult, Status>>,
) -> Result<()> {
    if let Some(d) = res? {
        // The bounded channel applies back-pressure until the client reads its acks.
        let _ = tx.send(Ok(ack_result(d))).await;
    }
    Ok(())
}
