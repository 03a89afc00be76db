//! Shared helpers for integration tests: an in-process server on 127.0.0.1:0 and a thin
//! Flight client that speaks the Mosaico actions.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod data;
pub mod diffdata;
pub mod powercut;
pub mod process;
pub mod recording;

use arrow_array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, FlightData, FlightDescriptor, PutResult};
use futures::{Stream, TryStreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tessera::Config;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// A server running in this process on an ephemeral loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<tessera::Result<()>>>,
    _tmp: Option<TempDir>,
}

impl TestServer {
    /// Start on a fresh temporary data directory.
    pub async fn start() -> TestServer {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Self::start_in(tmp.path()).await;
        s._tmp = Some(tmp);
        s
    }

    /// Start on an existing data directory (restart tests).
    pub async fn start_in(dir: &Path) -> TestServer {
        Self::start_with(Config::with_data_dir(dir)).await
    }

    /// Start with a given configuration (listen address is replaced by 127.0.0.1:0).
    pub async fn start_with(config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let dir = config.data_dir.clone();
        let handle = tokio::spawn(tessera::run(listener, config, async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            dir,
            stop: Some(tx),
            handle: Some(handle),
            _tmp: None,
        }
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// Stop gracefully and wait; returns the data directory guard so it outlives the server.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
        self._tmp.take()
    }
}

/// A raw Flight client.
#[derive(Clone)]
pub struct Client {
    pub inner: FlightServiceClient<Channel>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let url = format!("http://{addr}");
        for _ in 0..200 {
            let endpoint = Channel::from_shared(url.clone()).unwrap();
            if let Ok(ch) = endpoint.connect().await {
                let c = FlightServiceClient::new(ch)
                    .max_decoding_message_size(usize::MAX)
                    .max_encoding_message_size(usize::MAX);
                return Client { inner: c };
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("server at {addr} did not come up");
    }

    /// Run an action; returns the envelope's `response`, checking the envelope's `action`.
    pub async fn action(&mut self, name: &str, body: Value) -> Result<Value, Status> {
        self.action_raw(name, body.to_string().into_bytes()).await
    }

    pub async fn action_raw(&mut self, name: &str, body: Vec<u8>) -> Result<Value, Status> {
        let mut responses = self.action_responses(name, body).await?;
        assert_eq!(responses.len(), 1, "exactly one Result per action");
        Ok(responses.remove(0))
    }

    /// Every Result's `response`, checking each envelope names the action.
    async fn action_responses(&mut self, name: &str, body: Vec<u8>) -> Result<Vec<Value>, Status> {
        let req = Action {
            r#type: name.to_string(),
            body: body.into(),
        };
        let results: Vec<_> = self
            .inner
            .do_action(req)
            .await?
            .into_inner()
            .try_collect()
            .await?;
        Ok(results
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(v["action"], name);
                v["response"].clone()
            })
            .collect())
    }

    pub async fn create_sequence(&mut self, name: &str) -> Value {
        self.action(
            "sequence_create",
            json!({"locator": name, "user_metadata": {}}),
        )
        .await
        .unwrap()
    }

    /// sequence_create + session_create; returns (session uuid, session locator).
    pub async fn new_session(&mut self, seq: &str) -> (String, String) {
        self.create_sequence(seq).await;
        self.open_session(seq).await
    }

    pub async fn open_session(&mut self, seq: &str) -> (String, String) {
        let r = self
            .action("session_create", json!({"locator": seq}))
            .await
            .unwrap();
        (
            r["uuid"].as_str().unwrap().to_string(),
            r["locator"].as_str().unwrap().to_string(),
        )
    }

    pub async fn create_topic(
        &mut self,
        session: &str,
        locator: &str,
        tag: &str,
    ) -> Result<String, Status> {
        let r = self
            .action(
                "topic_create",
                json!({"session_uuid": session, "locator": locator, "serialization_format": "default",
                       "ontology_tag": tag, "user_metadata": {"k": "v"}}),
            )
            .await?;
        Ok(r["uuid"].as_str().unwrap().to_string())
    }

    /// DoPut raw FlightData messages; returns the PutResults.
    pub async fn put_raw(
        &mut self,
        messages: impl Stream<Item = FlightData> + Send + 'static,
    ) -> Result<Vec<PutResult>, Status> {
        let resp = self.inner.do_put(messages).await?;
        resp.into_inner().try_collect().await
    }

    /// DoPut `batches` to a topic (schema taken from the first batch, or `schema`).
    pub async fn put(
        &mut self,
        descriptor: Value,
        schema: arrow_schema::SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<PutResult>, Status> {
        let messages = encode(descriptor, schema, batches).await;
        self.put_raw(futures::stream::iter(messages)).await
    }

    /// GetFlightInfo on one topic: its endpoint's `app_metadata` (parsed) and ticket.
    pub async fn topic_info(
        &mut self,
        locator: &str,
    ) -> Result<(Value, arrow_flight::Ticket), Status> {
        let info = self
            .inner
            .get_flight_info(FlightDescriptor::new_cmd(
                json!({ "resource_locator": locator }).to_string(),
            ))
            .await?
            .into_inner();
        let ep = info
            .endpoint
            .first()
            .ok_or_else(|| Status::internal("FlightInfo without endpoint"))?;
        let app: Value = serde_json::from_slice(&ep.app_metadata)
            .map_err(|e| Status::internal(format!("app_metadata is not JSON: {e}")))?;
        let ticket = ep
            .ticket
            .clone()
            .ok_or_else(|| Status::internal("endpoint without ticket"))?;
        Ok((app, ticket))
    }

    /// Read a whole topic: its batches in time order.
    pub async fn read_topic(&mut self, locator: &str) -> Result<Vec<RecordBatch>, Status> {
        let (_, ticket) = self.topic_info(locator).await?;
        do_get(self, ticket).await
    }

    /// DoPut `batches`, then a malformed message that breaks the stream (a client dying
    /// mid-upload): the topic stays open with the batches before it. Returns the call's result.
    pub async fn put_interrupted(
        &mut self,
        descriptor: Value,
        schema: arrow_schema::SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<PutResult>, Status> {
        let mut messages = encode(descriptor, schema, batches).await;
        messages.push(FlightData {
            data_header: b"garbage".to_vec().into(),
            ..Default::default()
        });
        self.put_raw(futures::stream::iter(messages)).await
    }

    pub async fn finalize(&mut self, session: &str) -> Result<Value, Status> {
        self.action("session_finalize", json!({"session_uuid": session}))
            .await
    }
}

/// Encode a descriptor + schema + batches as the FlightData messages a client sends.
pub async fn encode(
    descriptor: Value,
    schema: arrow_schema::SchemaRef,
    batches: Vec<RecordBatch>,
) -> Vec<FlightData> {
    let desc = FlightDescriptor::new_cmd(descriptor.to_string());
    FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_flight_descriptor(Some(desc))
        .build(futures::stream::iter(batches.into_iter().map(Ok)))
        .try_collect()
        .await
        .unwrap()
}

pub fn put_descriptor(locator: &str, token: &str) -> Value {
    json!({"resource_locator": locator, "topic_uuid": token})
}

/// Assert a call failed with `code`; returns the message.
pub fn expect_code<T: std::fmt::Debug>(r: Result<T, Status>, code: Code) -> String {
    match r {
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
        Err(s) => {
            assert_eq!(s.code(), code, "message: {}", s.message());
            s.message().to_string()
        }
    }
}

/// Collect a DoGet stream into batches.
pub async fn do_get(
    client: &mut Client,
    ticket: arrow_flight::Ticket,
) -> Result<Vec<RecordBatch>, Status> {
    let stream = client.inner.do_get(ticket).await?.into_inner();
    let decoded = arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
        stream.map_err(|s| arrow_flight::error::FlightError::Tonic(Box::new(s))),
    );
    decoded
        .try_collect()
        .await
        .map_err(|e| Status::internal(e.to_string()))
}

impl Client {
    /// Run a paged action; returns each Result's `response`, checking each envelope.
    pub async fn action_paged(&mut self, name: &str, body: Value) -> Result<Vec<Value>, Status> {
        self.action_responses(name, body.to_string().into_bytes())
            .await
    }

    /// Create a topic with explicit metadata and serialization format; returns its token.
    pub async fn create_topic_with(
        &mut self,
        session: &str,
        locator: &str,
        tag: &str,
        format: &str,
        metadata: Value,
    ) -> Result<String, Status> {
        let r = self
            .action(
                "topic_create",
                json!({"session_uuid": session, "locator": locator, "serialization_format": format,
                       "ontology_tag": tag, "user_metadata": metadata}),
            )
            .await?;
        Ok(r["uuid"].as_str().unwrap().to_string())
    }
}
