//! The Flight driver of `tessera-bench`: the seed protocol (`sequence_create` -> `topic_create`
//! -> DoPut -> `sequence_finalize`, protocol.md §3.2-3.5, §4, §10.2) with per-batch durable
//! acknowledgements (`"ack": "durable"` in the DoPut descriptor).
//!
//! The same code drives Tessera and the no-op server, so their figures compare like for like.
//!
//! Latency of batch i = arrival of the first PutResult whose `durable_batches` exceeds i, minus
//! the moment the gRPC stack took batch i from the request stream to send it. Batches not
//! covered by any PutResult count as acknowledged when the DoPut returns OK (the final OK
//! follows an fsync too).

use super::workload::Generator;
use anyhow::{anyhow, bail, Context, Result};
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, FlightData};
use futures::StreamExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// A Flight client with unbounded message sizes.
pub type Client = FlightServiceClient<Channel>;

/// Connect to `addr`, waiting (up to `wait`) until it answers `info`. Returns the client and
/// the server's `grpc_max_decode_message_size`.
pub async fn connect(addr: SocketAddr, wait: Duration) -> Result<(Client, usize)> {
    let deadline = Instant::now() + wait;
    let url = format!("http://{addr}");
    loop {
        let attempt = async {
            let channel = Channel::from_shared(url.clone())?
                .initial_stream_window_size(Some(tessera::server::STREAM_WINDOW_BYTES))
                .initial_connection_window_size(Some(tessera::server::CONNECTION_WINDOW_BYTES))
                .tcp_nodelay(true)
                .connect()
                .await?;
            let mut c = FlightServiceClient::new(channel)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            let info = action(&mut c, "info", json!({})).await?;
            let max = info
                .pointer("/config/grpc_max_decode_message_size")
                .and_then(Value::as_u64)
                .unwrap_or(4 << 20);
            anyhow::Ok((c, usize::try_from(max).unwrap_or(usize::MAX)))
        };
        match attempt.await {
            Ok(ok) => return Ok(ok),
            Err(e) if Instant::now() >= deadline => {
                return Err(e.context(format!("no Flight server answered at {addr}")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

/// Run an action; returns the envelope's `response`.
pub async fn action(client: &mut Client, name: &str, body: Value) -> Result<Value> {
    let req = Action::new(name, body.to_string());
    let mut results = client
        .do_action(req)
        .await
        .with_context(|| format!("action `{name}`"))?
        .into_inner();
    let first = results
        .message()
        .await?
        .ok_or_else(|| anyhow!("action `{name}` returned no result"))?;
    let v: Value = serde_json::from_slice(&first.body)
        .with_context(|| format!("action `{name}` returned non-JSON"))?;
    Ok(v.get("response").cloned().unwrap_or(Value::Null))
}

/// Shared progress counter (bytes sent), read by the progress line.
#[derive(Default)]
pub struct Progress {
    /// Payload bytes taken by the gRPC stack so far.
    pub bytes: AtomicU64,
}

/// What one topic's upload did.
#[derive(Debug, Default, Clone)]
pub struct StreamOutcome {
    /// Record batches sent.
    pub batches: u64,
    /// Rows sent.
    pub rows_sent: u64,
    /// Rows the server reported durable (`durable_rows` of the last PutResult).
    pub rows_acked: u64,
    /// IPC bytes sent (header + body of the batch messages).
    pub bytes: u64,
    /// Per-batch durable-ack latencies.
    pub latencies: Vec<Duration>,
    /// Time spent generating and encoding batches (client side).
    pub generate: Duration,
    /// PutResults received.
    pub acks: u64,
}

/// Upload `batches` batches from `generator` to a topic with a seed-protocol `key`.
pub async fn put_topic(
    mut client: Client,
    locator: String,
    key: String,
    mut generator: Generator,
    batches: u64,
    progress: Arc<Progress>,
) -> Result<StreamOutcome> {
    let descriptor = json!({"resource_locator": locator, "key": key, "ack": "durable"});
    let first = generator.schema_message(&descriptor);
    let (tx, rx) = mpsc::channel::<FlightData>(1);
    let producer = tokio::task::spawn_blocking(move || -> Result<StreamOutcome> {
        let mut out = StreamOutcome::default();
        if tx.blocking_send(first).is_err() {
            return Ok(out);
        }
        for _ in 0..batches {
            let t0 = Instant::now();
            let (msg, rows) = generator.next_message()?;
            out.generate += t0.elapsed();
            out.batches += 1;
            out.rows_sent += rows;
            out.bytes += (msg.data_header.len() + msg.data_body.len()) as u64;
            if tx.blocking_send(msg).is_err() {
                break; // the call failed; its status is reported below
            }
        }
        Ok(out)
    });
    let sent_at: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let stamps = Arc::clone(&sent_at);
    let request = ReceiverStream::new(rx).map(move |m| {
        if !m.data_body.is_empty() {
            if let Ok(mut s) = stamps.lock() {
                s.push(Instant::now());
            }
            progress.bytes.fetch_add(
                (m.data_header.len() + m.data_body.len()) as u64,
                Ordering::Relaxed,
            );
        }
        m
    });
    let mut latencies = Vec::new();
    let mut acked = 0usize;
    let mut rows_acked = 0u64;
    let mut acks = 0u64;
    let call = async {
        let mut responses = client
            .do_put(request)
            .await
            .with_context(|| format!("DoPut {locator}"))?
            .into_inner();
        while let Some(r) = responses
            .message()
            .await
            .with_context(|| format!("DoPut {locator}"))?
        {
            let now = Instant::now();
            acks += 1;
            let v: Value = serde_json::from_slice(&r.app_metadata).unwrap_or(Value::Null);
            let n = v
                .get("durable_batches")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            rows_acked = v
                .get("durable_rows")
                .and_then(Value::as_u64)
                .unwrap_or(rows_acked);
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if let Ok(s) = sent_at.lock() {
                while acked < n {
                    match s.get(acked) {
                        Some(t) => latencies.push(now.saturating_duration_since(*t)),
                        None => break,
                    }
                    acked += 1;
                }
            }
        }
        anyhow::Ok(())
    };
    let status = call.await;
    let end = Instant::now();
    let produced = producer
        .await
        .map_err(|e| anyhow!("generator panicked: {e}"))?;
    status?;
    let mut out = produced?;
    if let Ok(s) = sent_at.lock() {
        for t in s.iter().skip(acked) {
            latencies.push(end.saturating_duration_since(*t));
        }
    }
    out.latencies = latencies;
    out.rows_acked = rows_acked;
    out.acks = acks;
    if out.rows_acked > out.rows_sent {
        bail!(
            "{locator}: server acknowledged {} rows, {} were sent",
            out.rows_acked,
            out.rows_sent
        );
    }
    Ok(out)
}
