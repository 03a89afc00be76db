//! No silent loss: what a topic stores must cover what it acknowledged.
//!
//! A topic record's `stats` (rows, batches) are written durably (`SyncAll`) when a DoPut ends,
//! with OK (`finish_upload`, after the final fsync) or broken (`save_partial_upload`, after
//! syncing what it wrote): they are a lower bound of what was acknowledged durable. So the
//! topic's sealed chunks plus its durable WAL frames after them never hold fewer rows or
//! batches than `record.stats`; when they do, data was lost (a damaged last frame cut as a torn
//! tail, a deleted log or segment), and every read says so (`DataLoss`) instead of answering
//! with fewer rows.
//!
//! The checks here are cheap enough for every GetFlightInfo and upload start:
//! * the log continues the chunks: its oldest frame is at most one past the last sealed frame
//!   (segments are reclaimed only once sealed) and its numbering reached the last sealed frame
//!   (and frame 1, the schema, synced before the catalog copy was written);
//! * batches are counted from that numbering, not by reading frames (frame 1 is the schema,
//!   every later frame one non-empty batch, no gaps: see `stored.rs`); rows are compared when
//!   every frame is sealed (DoGet, which decodes the tail anyway, compares them always);
//!
//! Messages name no topic (callers prefix it) and no path or internal id; those go to the log.

use super::registry::TopicLogs;
use crate::catalog::chunks::ChunkRecord;
use crate::catalog::records::{DataStats, TopicRecord};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::locks::lock;
use tessera_wal::Wal;
use uuid::Uuid;

/// Rows and batches of a topic's sealed chunks, and the last WAL seq they cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sealed {
    /// Rows in the chunks.
    pub rows: u64,
    /// Batches (WAL frames other than the schema) the chunks cover.
    pub batches: u64,
    /// Largest `last_seq` of the chunks (0 if none).
    pub upto: u64,
}

impl Sealed {
    /// Totals of `chunks` (the topic's catalog chunk records).
    pub fn of(chunks: &[ChunkRecord]) -> Sealed {
        let mut s = Sealed::default();
        for c in chunks {
            s.rows += c.stats.row_count;
            s.batches += (c.last_seq + 1)
                .saturating_sub(c.first_seq)
                .saturating_sub(u64::from(c.first_seq <= 1));
            s.upto = s.upto.max(c.last_seq);
        }
        s
    }
}

/// Durable WAL frames after `upto` (the last sealed frame) that are batches, once checked that
/// the log continues the chunks (see the module doc). `topic_id` is for the log only.
pub fn tail_batches(wal: &Wal, upto: u64, topic_id: &Uuid) -> Result<u64> {
    let (first, last, durable) = (wal.first_seq(), wal.last_seq(), wal.durable_seq());
    if first > upto + 1 || last < upto.max(1) {
        tracing::error!(topic = %topic_id, sealed_upto = upto, wal_first_seq = first,
            wal_last_seq = last, "write-ahead log does not continue the sealed chunks: frames are missing");
        return Err(Error::data_loss(
            "frames of its write-ahead log are missing; see the server log.",
        ));
    }
    let after = durable.saturating_sub(upto);
    Ok(after.saturating_sub(u64::from(upto == 0 && after > 0)))
}

/// `DataLoss` when the topic stores fewer batches (or, when known, rows) than its record says
/// were acknowledged durable.
pub fn check_recorded(
    stored_rows: Option<u64>,
    stored_batches: u64,
    recorded: &DataStats,
    topic_id: &Uuid,
) -> Result<()> {
    let fewer_rows = stored_rows.is_some_and(|r| r < recorded.rows);
    if stored_batches >= recorded.batches && !fewer_rows {
        return Ok(());
    }
    tracing::error!(topic = %topic_id, stored_rows = ?stored_rows, stored_batches,
        recorded_rows = recorded.rows, recorded_batches = recorded.batches,
        "topic stores less than its upload acknowledged durable");
    let stored = match stored_rows {
        Some(rows) => format!("{rows} rows in {stored_batches} batches"),
        None => format!("{stored_batches} batches"),
    };
    Err(Error::data_loss(format!(
        "it stores {stored}, fewer than the {} rows in {} batches its upload acknowledged; \
         data was lost, see the server log.",
        recorded.rows, recorded.batches
    )))
}

/// The cheap check of the module doc for the topic `record` of sequence `seq` (no-op before
/// its schema is stored): log continuity, batch (and, all sealed, row) counts.
pub fn check_stored(catalog: &Catalog, logs: &TopicLogs, record: &TopicRecord) -> Result<()> {
    let id = &record.id;
    if catalog.schema(id)?.is_none() {
        return Ok(());
    }
    let gate = logs.seal_gate(id)?;
    let _shared = gate
        .read()
        .map_err(|_| Error::internal("seal gate poisoned."))?;
    let chunks = catalog.chunks_of(id)?;
    let sealed = Sealed::of(&chunks);
    let wal = logs.open_wal(id)?;
    let (tail, all_sealed) = {
        let w = lock(&wal)?;
        (
            tail_batches(&w, sealed.upto, id)?,
            w.durable_seq() <= sealed.upto,
        )
    };
    let rows = all_sealed.then_some(sealed.rows);
    check_recorded(rows, sealed.batches + tail, &record.stats, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_format::ChunkStats;

    fn chunk(first_seq: u64, last_seq: u64, rows: u64) -> ChunkRecord {
        let mut stats = ChunkStats::empty();
        stats.row_count = rows;
        ChunkRecord {
            first_seq,
            last_seq,
            file_len: 0,
            stats,
        }
    }

    #[test]
    fn sealed_batches_leave_out_the_schema_frame() {
        let s = Sealed::of(&[chunk(1, 4, 30), chunk(5, 9, 50)]);
        assert_eq!((s.rows, s.batches, s.upto), (80, 3 + 5, 9));
        assert_eq!(Sealed::of(&[]), Sealed::default());
    }

    #[test]
    fn fewer_rows_or_batches_than_recorded_is_data_loss() {
        let id = Uuid::from_u128(7);
        let recorded = DataStats {
            rows: 10,
            batches: 5,
            ..DataStats::default()
        };
        assert!(check_recorded(Some(10), 5, &recorded, &id).is_ok());
        assert!(check_recorded(None, 6, &recorded, &id).is_ok());
        let e = check_recorded(None, 4, &recorded, &id).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::DataLoss);
        assert!(e.message.contains("4 batches") && !e.message.contains(&id.to_string()));
        let e = check_recorded(Some(9), 5, &recorded, &id).unwrap_err();
        assert!(e.message.contains("9 rows in 5 batches"), "{}", e.message);
    }
}
