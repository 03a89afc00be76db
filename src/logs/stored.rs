//! What a topic durably stores, recomputed from the data itself: its sealed chunks (catalog
//! chunk index) plus the durable WAL frames after them.
//!
//! A topic record's `stats` are written when a DoPut ends. A process killed during an upload
//! never writes them, so after a restart they describe an older state. Recovery and resumed
//! uploads call [`stored_stats`] instead, which never reads a frame twice: frames
//! `<= sealed_upto` are counted from the chunk index, later ones by decoding the WAL.
//!
//! WAL invariant used for batch counts: a topic's frame 1 is its schema, every later frame is
//! exactly one non-empty record batch, and sequence numbers have no gaps. So the number of
//! batches a chunk covers is `last_seq - first_seq + 1`, less one if it covers frame 1.
//!
//! `bytes` (Arrow IPC body bytes) is exact for the WAL part; for sealed chunks it counts the
//! chunk file length, since the chunk index does not keep the uncompressed size. It is only
//! used to estimate the size of the unsealed tail.

use super::integrity::{tail_batches, Sealed};
use super::registry::TopicLogs;
use crate::catalog::records::DataStats;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::ipc;
use crate::locks::lock;
use arrow_schema::SchemaRef;
use std::sync::Arc;
use tessera_wal::{FrameKind, WalReader};
use uuid::Uuid;

/// The statistics of everything the topic durably stores; `None` before its schema is known.
pub fn stored_stats(
    catalog: &Catalog,
    logs: &TopicLogs,
    topic_id: &Uuid,
) -> Result<Option<DataStats>> {
    let Some(header) = catalog.schema(topic_id)? else {
        return Ok(None);
    };
    let schema = Arc::new(ipc::decode_schema(&header)?);
    let ts_index = ipc::check_schema(&schema)?;
    let gate = logs.seal_gate(topic_id)?;
    let _shared = gate
        .read()
        .map_err(|_| Error::internal("seal gate poisoned."))?;
    let chunks = catalog.chunks_of(topic_id)?;
    let sealed = Sealed::of(&chunks);
    let mut stats = DataStats {
        rows: sealed.rows,
        batches: sealed.batches,
        ..DataStats::default()
    };
    for chunk in &chunks {
        let c = &chunk.stats;
        stats.bytes += chunk.file_len;
        if c.row_count > 0 {
            stats.ts_min = Some(stats.ts_min.map_or(c.ts_min, |m| m.min(c.ts_min)));
            stats.ts_max = Some(stats.ts_max.map_or(c.ts_max, |m| m.max(c.ts_max)));
        }
    }
    let wal = logs.open_wal(topic_id)?;
    let (reader, durable) = {
        let w = lock(&wal)?;
        // A log that does not continue the chunks would be recounted short.
        tail_batches(&w, sealed.upto, topic_id)?;
        (w.reader(sealed.upto + 1), w.durable_seq())
    };
    add_frames(&mut stats, reader, durable, &schema, ts_index)?;
    Ok(Some(stats))
}

fn add_frames(
    stats: &mut DataStats,
    frames: WalReader,
    durable: u64,
    schema: &SchemaRef,
    ts_index: usize,
) -> Result<()> {
    for frame in frames {
        let frame = frame?;
        if frame.seq > durable {
            break;
        }
        if frame.kind != FrameKind::RecordBatch {
            continue;
        }
        let (batch, body_len) = ipc::decode_stored_batch(frame.seq, frame.payload, schema)?;
        let range = ipc::time_range(&batch, ts_index)?;
        stats.add(batch.num_rows() as u64, body_len, range);
    }
    Ok(())
}
