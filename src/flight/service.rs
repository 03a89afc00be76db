//! `FlightService`: hands each RPC to the layer below and turns errors into gRPC statuses
//! (through `error::ErrorKind::code`, the one mapping). Storage work runs on the blocking pool,
//! where a panic becomes an INTERNAL status instead of a dead thread.

use super::actions;
use crate::blocking;
use crate::descriptor::TicketBody;
use crate::engine::Engine;
use crate::error::Error;
use crate::{ingest, read};
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use std::sync::Arc;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

type Stream<T> = BoxStream<'static, Result<T, Status>>;

/// The Flight service.
#[derive(Clone)]
pub struct TesseraFlight {
    engine: Arc<Engine>,
    shutdown: watch::Receiver<bool>,
}

impl TesseraFlight {
    /// A service over `engine`; `shutdown` turns true when the server stops.
    pub fn new(engine: Arc<Engine>, shutdown: watch::Receiver<bool>) -> Self {
        TesseraFlight { engine, shutdown }
    }
}

fn unimplemented(what: &str) -> Status {
    Status::unimplemented(format!("{what} is not supported by Tessera."))
}

#[tonic::async_trait]
impl FlightService for TesseraFlight {
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
        Err(unimplemented("Handshake"))
    }

    async fn list_flights(
        &self,
        req: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        let engine = Arc::clone(&self.engine);
        let criteria = req.into_inner().expression;
        let infos = blocking::run(move || read::list_flights(&engine, &criteria)).await?;
        Ok(Response::new(
            stream::iter(infos.into_iter().map(Ok)).boxed(),
        ))
    }

    async fn get_flight_info(
        &self,
        req: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let engine = Arc::clone(&self.engine);
        let desc = req.into_inner();
        let info = blocking::run(move || read::flight_info(&engine, &desc)).await?;
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(unimplemented("PollFlightInfo"))
    }

    async fn get_schema(
        &self,
        req: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let engine = Arc::clone(&self.engine);
        let desc = req.into_inner();
        let schema = blocking::run(move || read::schema_result(&engine, &desc)).await?;
        Ok(Response::new(schema))
    }

    async fn do_get(&self, req: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let ticket = TicketBody::decode(&req.into_inner().ticket)?;
        let s = read::do_get(Arc::clone(&self.engine), ticket).await?;
        Ok(Response::new(s))
    }

    async fn do_put(
        &self,
        req: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let s = ingest::do_put(
            Arc::clone(&self.engine),
            req.into_inner(),
            self.shutdown.clone(),
        )
        .await?;
        Ok(Response::new(s))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(unimplemented("DoExchange"))
    }

    async fn do_action(
        &self,
        req: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = req.into_inner();
        let name = action.r#type.clone();
        let engine = Arc::clone(&self.engine);
        let n = name.clone();
        let reply = blocking::run(move || actions::reply(&engine, &n, &action.body)).await;
        let reply = reply.map_err(|e: Error| {
            tracing::debug!(action = %name, error = %e.message, "action refused");
            Status::from(e)
        })?;
        let payloads = match reply {
            actions::Reply::One(v) => vec![v],
            actions::Reply::Paged(items) => items,
        };
        let results: Vec<Result<arrow_flight::Result, Status>> = payloads
            .into_iter()
            .map(|p| {
                Ok(arrow_flight::Result {
                    body: actions::envelope(&name, p).into(),
                })
            })
            .collect();
        Ok(Response::new(stream::iter(results).boxed()))
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let list = actions::ACTIONS.iter().map(|a| {
            Ok(ActionType {
                r#type: (*a).to_string(),
                description: String::new(),
            })
        });
        Ok(Response::new(stream::iter(list).boxed()))
    }
}
