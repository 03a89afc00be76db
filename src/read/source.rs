//! Where a topic's rows come from. Today: the topic's WAL frames (every acknowledged batch).
//! Sealed chunks will be read from here too, pruned by their catalog statistics.

use crate::catalog::records::{TopicRecord, TopicState};
use crate::engine::{lock, Engine};
use crate::error::{Error, Result};
use crate::flight::descriptor::Window;
use crate::ipc;
use crate::names::{self, TopicLocator};
use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_schema::SchemaRef;
use bytes::Bytes;
use std::sync::Arc;
use tessera_wal::FrameKind;

/// A resolved topic with its stored schema.
pub struct TopicData {
    /// Canonical locator.
    pub locator: TopicLocator,
    /// Catalog record.
    pub record: TopicRecord,
    /// Whether the topic's session is finalized.
    pub locked: bool,
    /// Finalization time of its session.
    pub completed_at_ns: Option<i64>,
    /// The stored schema (`None` until its first DoPut).
    pub schema: Option<SchemaRef>,
}

impl TopicData {
    /// Resolve `seq/topic`.
    pub fn open(engine: &Engine, raw_locator: &str) -> Result<TopicData> {
        let locator = names::topic_locator(raw_locator)?;
        let cat = engine.catalog();
        let record = cat
            .topic(&locator.sequence, &locator.topic)?
            .ok_or_else(|| {
                Error::not_found(format!("topic `{}` does not exist.", locator.locator()))
            })?;
        let session = cat.session(&locator.sequence, &record.session_id)?;
        let completed_at_ns = session.and_then(|s| s.completed_at_ns);
        let schema = match cat.schema(&record.id)? {
            Some(h) => Some(Arc::new(ipc::decode_schema(&h).map_err(|e| {
                Error::data_loss(format!(
                    "stored schema of `{}` is damaged: {}",
                    locator.locator(),
                    e.message
                ))
            })?)),
            None => None,
        };
        Ok(TopicData {
            locator,
            record,
            locked: completed_at_ns.is_some(),
            completed_at_ns,
            schema,
        })
    }

    /// Index of `timestamp_ns` in the stored schema.
    pub fn ts_index(&self) -> Result<Option<usize>> {
        match &self.schema {
            Some(s) => ipc::check_schema(s).map(Some),
            None => Ok(None),
        }
    }

    /// Every stored batch, in arrival order, each filtered to `window` (empty ones dropped).
    pub fn batches(&self, engine: &Engine, window: Window) -> Result<Vec<RecordBatch>> {
        let (Some(schema), Some(ts)) = (&self.schema, self.ts_index()?) else {
            return Ok(Vec::new());
        };
        if self.record.state == TopicState::Created {
            return Ok(Vec::new());
        }
        let wal = engine.wal(&self.record.id)?;
        let reader = lock(&wal)?.reader(1);
        let mut out = Vec::new();
        for frame in reader {
            let frame = frame.map_err(|e| {
                Error::data_loss(format!("topic `{}`: {e}.", self.locator.locator()))
            })?;
            if frame.kind != FrameKind::RecordBatch {
                continue;
            }
            let (header, body) = ipc::split_encapsulated(&frame.payload)?;
            let batch =
                ipc::decode_batch(header, Bytes::copy_from_slice(body), schema).map_err(|e| {
                    Error::data_loss(format!(
                        "topic `{}`: stored batch {} is unreadable: {}",
                        self.locator.locator(),
                        frame.seq,
                        e.message
                    ))
                })?;
            if let Some(b) = filter_window(&batch, ts, window)? {
                out.push(b);
            }
        }
        Ok(out)
    }
}

/// Keep the rows of `batch` inside `window`; `None` if none remain.
pub fn filter_window(
    batch: &RecordBatch,
    ts: usize,
    window: Window,
) -> Result<Option<RecordBatch>> {
    if batch.num_rows() == 0 {
        return Ok(None);
    }
    if !window.is_bounded() {
        return Ok(Some(batch.clone()));
    }
    let col = ts_column(batch, ts)?;
    let mask: arrow_array::BooleanArray = col
        .values()
        .iter()
        .map(|&t| Some(window.contains(t)))
        .collect();
    let out = arrow_select::filter::filter_record_batch(batch, &mask)
        .map_err(|e| Error::internal(format!("window filter failed: {e}.")))?;
    Ok((out.num_rows() > 0).then_some(out))
}

/// The `timestamp_ns` column of a batch.
pub fn ts_column(batch: &RecordBatch, ts: usize) -> Result<&Int64Array> {
    batch
        .columns()
        .get(ts)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .filter(|c| c.null_count() == 0)
        .ok_or_else(|| Error::internal("timestamp column missing or null."))
}
