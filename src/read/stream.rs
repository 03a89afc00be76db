//! DoGet: a topic's rows in `[start, end)`, sorted by `timestamp_ns` (stable: ties keep arrival
//! order), as Flight messages of about `target_encode_message_size`; never a 0-row batch; an
//! empty window is a schema-only stream.
//!
//! A blocking producer runs the merge and hands batches over a channel of depth 2, so memory
//! stays bounded whatever the topic size, and a client that stops reading stops the producer.

use super::merge::Merge;
use super::source::TopicData;
use super::views::{served_schema, to_served, with_topic_metadata};
use crate::descriptor::TicketBody;
use crate::engine::Engine;
use crate::error::{Error, Result};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::FlightData;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

/// Open the merge for a ticket: (served schema, merge).
pub fn open_merge(
    engine: &Engine,
    ticket: &TicketBody,
) -> Result<(arrow_schema::SchemaRef, Merge)> {
    let topic = TopicData::open(engine, &ticket.locator)?;
    let Some(stored) = topic.schema.clone() else {
        return Err(Error::precondition(format!(
            "topic `{}` has no schema yet: nothing was uploaded.",
            topic.locator.locator()
        )));
    };
    let ts = topic.ts_index()?.unwrap_or(0);
    let sources = topic.sources(engine, ticket.window)?;
    let target = engine.config().target_encode_message_size;
    let rows = if ticket.window.is_bounded() {
        topic.window_summary(engine, ticket.window)?
    } else {
        super::info::whole_topic(&topic)
    };
    Ok((
        with_topic_metadata(&served_schema(&stored), &topic, rows),
        Merge::new(stored, ts, ticket.window, sources, target),
    ))
}

/// Handle a DoGet ticket.
pub async fn do_get(
    engine: Arc<Engine>,
    ticket: TicketBody,
) -> Result<BoxStream<'static, Result<FlightData, Status>>> {
    let target = engine.config().target_encode_message_size;
    let eng = Arc::clone(&engine);
    let (schema, mut merge) = crate::blocking::run(move || open_merge(&eng, &ticket)).await?;
    let (tx, rx) = mpsc::channel::<Result<arrow_array::RecordBatch, Status>>(2);
    let served = Arc::clone(&schema);
    tokio::task::spawn_blocking(move || loop {
        let next = merge
            .next_batch()
            .and_then(|b| b.map(|b| to_served(&b, &served)).transpose());
        let item = match next {
            Ok(Some(b)) => Ok(b),
            Ok(None) => return,
            Err(e) => Err(Status::from(e)),
        };
        let stop = item.is_err();
        if tx.blocking_send(item).is_err() || stop {
            return;
        }
    });
    let input = tokio_stream::wrappers::ReceiverStream::new(rx)
        .map_err(arrow_flight::error::FlightError::from);
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_max_flight_data_size(target)
        .build(input)
        .map_err(|e| match e {
            arrow_flight::error::FlightError::Tonic(s) => *s,
            other => Status::internal(format!("cannot encode rows: {other}")),
        });
    Ok(stream.boxed())
}
