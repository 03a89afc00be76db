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
//! * each chunk file is the one its catalog record describes ([`open_chunk`]: length and the
//!   statistics in its footer, e.g. another topic's chunk copied in under the same name); a
//!   chunk that passed once is not reopened by later checks of this process (reads always
//!   compare, at open).
//!
//! Messages name no topic (callers prefix it) and no path or internal id; those go to the log.

use super::registry::TopicLogs;
use crate::catalog::chunks::ChunkRecord;
use crate::catalog::records::{DataStats, TopicRecord};
use crate::catalog::Catalog;
use crate::error::{io_error, Error, Result};
use crate::locks::lock;
use std::path::Path;
use tessera_format::{ChunkReader, FormatError};
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
/// its schema is stored): chunk files, log continuity, batch (and, all sealed, row) counts.
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
    let dir = logs.chunks_dir(id);
    for c in &chunks {
        if !logs.chunk_checked(id, c.first_seq)? {
            open_chunk(&dir.join(c.file_name()), c)?;
            logs.mark_chunk_checked(id, c.first_seq)?;
        }
    }
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

/// Open a sealed chunk checked against its catalog record: the file's length and the
/// statistics in its footer (row count, exact time range, column statistics) must be the
/// record's, else it is not the file that was sealed (`DataLoss`). A missing or unreadable
/// file is `DataLoss` too, an I/O failure goes through the storage table.
pub fn open_chunk(path: &Path, record: &ChunkRecord) -> Result<ChunkReader> {
    let reader = ChunkReader::open(path).map_err(|e| chunk_error(path, e))?;
    let len = reader.file_len();
    if len != record.file_len || reader.stats() != &record.stats {
        let (s, r) = (reader.stats(), &record.stats);
        tracing::error!(path = %path.display(), file_len = len, record_file_len = record.file_len,
            rows = s.row_count, record_rows = r.row_count, ts_min = s.ts_min, record_ts_min = r.ts_min,
            ts_max = s.ts_max, record_ts_max = r.ts_max,
            "chunk file does not match its catalog record (another file in its place)");
        return Err(Error::data_loss(
            "a sealed chunk is not the file its catalog record describes; see the server log.",
        ));
    }
    Ok(reader)
}

/// The error for a chunk that cannot be read (path and detail go to the log): an I/O failure
/// through the storage table, anything else (a damaged or missing file) `DataLoss`.
pub fn chunk_error(path: &Path, e: FormatError) -> Error {
    tracing::error!(path = %path.display(), error = %e, "chunk unreadable");
    match e {
        FormatError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
            io_error("chunk file", &source)
        }
        _ => Error::data_loss("a sealed chunk is damaged or missing; see the server log."),
    }
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

    /// A chunk of `ts` (raw, so equal row counts give equal lengths) and its catalog record.
    fn write(dir: &Path, name: &str, ts: Vec<i64>) -> (std::path::PathBuf, ChunkRecord) {
        use arrow_array::{Int64Array, RecordBatch};
        use arrow_schema::{DataType, Field, Schema};
        let schema = std::sync::Arc::new(Schema::new(vec![Field::new(
            "timestamp_ns",
            DataType::Int64,
            false,
        )]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(Int64Array::from(ts))],
        )
        .unwrap();
        let opts = tessera_format::ChunkOptions {
            compression: tessera_format::Compression::None,
            ..Default::default()
        };
        let path = dir.join(name);
        let meta = tessera_format::write_chunk(&path, &schema, &[batch], &opts).unwrap();
        let record = ChunkRecord {
            first_seq: 2,
            last_seq: 2,
            file_len: meta.file_len,
            stats: meta.stats,
        };
        (path, record)
    }

    #[test]
    fn a_chunk_must_be_the_file_its_record_describes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, rec_a) = write(dir.path(), "a.chunk", vec![1, 2, 3]);
        let (b, rec_b) = write(dir.path(), "b.chunk", vec![7, 8, 9]);
        assert_eq!(
            rec_a.file_len, rec_b.file_len,
            "same length: only the footer differs"
        );
        assert_eq!(open_chunk(&a, &rec_a).unwrap().stats().row_count, 3);
        for (path, record) in [(&a, &rec_b), (&b, &rec_a)] {
            let e = open_chunk(path, record).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::DataLoss);
            assert!(!e.message.contains(".chunk"), "no path: {}", e.message);
        }
        let longer = ChunkRecord {
            file_len: rec_a.file_len + 1,
            ..rec_a.clone()
        };
        assert!(open_chunk(&a, &longer).is_err());
        let gone = open_chunk(&dir.path().join("missing.chunk"), &rec_a).unwrap_err();
        assert_eq!(gone.kind, crate::error::ErrorKind::DataLoss);
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
