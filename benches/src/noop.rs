//! The transport ceiling: an in-process Flight server that accepts DoPut streams and discards
//! them. It answers the actions the bench client sends with minimal bodies, reads each batch's
//! row count from its IPC header (a flatbuffer read, no decoding of the body), and sends a
//! PutResult per batch at once when the descriptor asks for durable acks. Same tonic settings
//! as the real server (window sizes, nodelay, decode limit).

use anyhow::Result;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tessera::flight::descriptor::PutDescriptor;
use tessera::server::{CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};

type Stream<T> = BoxStream<'static, Result<T, Status>>;

/// A running no-op server.
pub struct NoopServer {
    /// Where it listens (127.0.0.1, ephemeral port).
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl NoopServer {
    /// Start on 127.0.0.1:0 accepting messages up to `max_message` bytes.
    pub async fn start(max_message: usize) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let service = FlightServiceServer::new(Noop { max_message })
            .max_decoding_message_size(max_message)
            .max_encoding_message_size(max_message);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .initial_stream_window_size(Some(STREAM_WINDOW_BYTES))
            .initial_connection_window_size(Some(CONNECTION_WINDOW_BYTES))
            .tcp_nodelay(true)
            .add_service(service)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                let _ = rx.await;
            });
        Ok(NoopServer {
            addr,
            stop: Some(tx),
            handle: Some(tokio::spawn(server)),
        })
    }

    /// Stop and wait.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

#[derive(Clone)]
struct Noop {
    max_message: usize,
}

fn unimplemented() -> Status {
    Status::unimplemented("the no-op bench server only takes uploads")
}

/// Rows of a record batch message; `None` for any other message.
fn batch_rows(header: &[u8]) -> Option<u64> {
    let msg = arrow_ipc::root_as_message(header).ok()?;
    let rb = msg.header_as_record_batch()?;
    u64::try_from(rb.length()).ok()
}

fn wants_acks(desc: Option<&FlightDescriptor>) -> bool {
    desc.and_then(|d| PutDescriptor::parse(d).ok())
        .is_some_and(|p| p.ack_durable)
}

#[tonic::async_trait]
impl FlightService for Noop {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;
    type DoExchangeStream = Stream<FlightData>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(unimplemented())
    }

    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(unimplemented())
    }

    async fn get_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Err(unimplemented())
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(unimplemented())
    }

    async fn get_schema(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        Err(unimplemented())
    }

    async fn do_get(&self, _: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        Err(unimplemented())
    }

    async fn do_put(
        &self,
        req: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let mut input = req.into_inner();
        let first = input
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty DoPut"))?;
        let ack = wants_acks(first.flight_descriptor.as_ref());
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let (mut batches, mut rows) = (0u64, 0u64);
            loop {
                match input.message().await {
                    Ok(Some(m)) => {
                        if let Some(n) = batch_rows(&m.data_header) {
                            batches += 1;
                            rows += n;
                            if ack {
                                let body =
                                    json!({"durable_batches": batches, "durable_rows": rows});
                                let r = PutResult {
                                    app_metadata: Bytes::from(body.to_string()),
                                };
                                if tx.send(Ok(r)).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(s) => {
                        let _ = tx.send(Err(s)).await;
                        break;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx).boxed()))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(unimplemented())
    }

    async fn do_action(
        &self,
        req: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = req.into_inner();
        let key = || json!({"key": uuid::Uuid::new_v4().to_string()});
        let response = match action.r#type.as_str() {
            "info" | "version" => json!({
                "version": env!("CARGO_PKG_VERSION"),
                "config": {
                    "grpc_max_decode_message_size": self.max_message,
                    "grpc_max_encode_message_size": self.max_message,
                },
                "server": "tessera-bench-noop",
            }),
            "sequence_create" | "topic_create" => key(),
            _ => Value::Null,
        };
        let body = json!({"action": action.r#type, "response": response}).to_string();
        let result = arrow_flight::Result { body: body.into() };
        Ok(Response::new(stream::iter([Ok(result)]).boxed()))
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        Ok(Response::new(stream::empty().boxed()))
    }
}
