//! DoGet: a topic's rows in `[start, end)`, sorted by `timestamp_ns` (stable: ties keep arrival
//! order), as Flight messages of about `target_encode_message_size`; never a 0-row batch; an
//! empty window is a schema-only stream.

use super::source::{ts_column, TopicData};
use super::views::{served_schema, to_served};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::flight::descriptor::TicketBody;
use arrow_array::{RecordBatch, UInt32Array};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::FlightData;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;
use tonic::Status;

/// Rows of one topic window, sorted, as served batches.
pub fn sorted_batches(
    engine: &Engine,
    ticket: &TicketBody,
) -> Result<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let topic = TopicData::open(engine, &ticket.locator)?;
    let Some(stored) = topic.schema.clone() else {
        return Err(Error::precondition(format!(
            "topic `{}` has no schema yet: nothing was uploaded.",
            topic.locator.locator()
        )));
    };
    let served = served_schema(&stored);
    let ts = topic.ts_index()?.unwrap_or(0);
    let batches = topic.batches(engine, ticket.window)?;
    if batches.is_empty() {
        return Ok((served, Vec::new()));
    }
    let all = arrow_select::concat::concat_batches(&stored, &batches)
        .map_err(|e| Error::internal(format!("cannot assemble rows: {e}.")))?;
    let times = ts_column(&all, ts)?.values();
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    // Stable sort: equal timestamps keep arrival order.
    order.sort_by_key(|&i| times.get(i as usize).copied().unwrap_or(i64::MAX));
    let indices = UInt32Array::from(order);
    let sorted = arrow_select::take::take_record_batch(&all, &indices)
        .map_err(|e| Error::internal(format!("cannot sort rows: {e}.")))?;
    Ok((served.clone(), vec![to_served(&sorted, &served)?]))
}

/// Handle a DoGet ticket.
pub async fn do_get(
    engine: Arc<Engine>,
    ticket: TicketBody,
) -> Result<BoxStream<'static, Result<FlightData, Status>>> {
    let target = engine.config().target_encode_message_size;
    let (schema, batches) = crate::blocking::run(move || sorted_batches(&engine, &ticket)).await?;
    let input = futures::stream::iter(batches.into_iter().filter(|b| b.num_rows() > 0).map(Ok));
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_max_flight_data_size(target)
        .build(input)
        .map_err(|e| Status::internal(format!("cannot encode rows: {e}")));
    Ok(stream.boxed())
}
