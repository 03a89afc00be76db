//! Writing a sealed chunk file: [`write_chunk`]. The byte layout is specified in `chunk.rs`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_schema::{ArrowError, DataType, SchemaRef};

use crate::chunk::{
    encode_blocks, hex_encode, BlockMeta, CHUNK_VERSION, KEY_BLOCKS, KEY_STATS, KEY_VERSION,
};
use crate::error::FormatError;
use crate::options::ChunkOptions;
use crate::sort::{materialize, plan, SortPlan};
use crate::stats::ChunkStats;
use crate::stats_compute::timestamp_index;

/// What [`write_chunk`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkMeta {
    /// Statistics of the chunk's rows (also stored in the file's footer).
    pub stats: ChunkStats,
    /// Size of the chunk file in bytes.
    pub file_len: u64,
}

/// Sorts the rows of `batches` stably by `timestamp_ns`, computes their stats and writes a
/// complete chunk to `path`, which must not exist yet. The file is fsynced before returning; the
/// caller renames it into place and fsyncs the directory. On error the partial file is removed.
///
/// Every batch must have exactly `schema`'s fields; `schema` (including its metadata) is stored
/// verbatim. Fails on zero rows, a missing/non-Int64/null `timestamp_ns`, dictionary-encoded
/// fields, or invalid options.
pub fn write_chunk(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    opts: &ChunkOptions,
) -> Result<ChunkMeta, FormatError> {
    if let Some(f) = schema
        .fields()
        .iter()
        .find(|f| has_dictionary(f.data_type()))
    {
        return Err(FormatError::UnsupportedType(format!(
            "field {:?} is dictionary-encoded",
            f.name()
        )));
    }
    if let Some(i) = batches
        .iter()
        .position(|b| b.schema_ref().fields() != schema.fields())
    {
        return Err(FormatError::SchemaMismatch(format!(
            "batch {i} fields differ from the chunk schema"
        )));
    }
    let ts_index = timestamp_index(schema)?;
    let ipc_options = opts.ipc_write_options()?;
    let stats = ChunkStats::compute(schema, batches)?;
    if stats.row_count == 0 {
        return Err(FormatError::EmptyChunk);
    }
    let sorted = plan(batches, ts_index, opts.max_batch_bytes)?;

    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| FormatError::io(path, e))?;
    let written = write_file(file, path, schema, batches, &sorted, ipc_options, &stats);
    match written {
        Ok(file_len) => Ok(ChunkMeta { stats, file_len }),
        Err(e) => {
            // Best effort: we created the file, so removing it cannot clobber anyone else's.
            let _ = std::fs::remove_file(path);
            Err(match e {
                // arrow-ipc wraps the sink's I/O errors; report them as what they are.
                FormatError::Arrow(ArrowError::IoError(_, source)) => FormatError::io(path, source),
                other => other,
            })
        }
    }
}

/// Writes the IPC file body, footer and our metadata to `file`, fsyncs it and returns its length.
fn write_file(
    file: File,
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    sorted: &SortPlan,
    ipc_options: IpcWriteOptions,
    stats: &ChunkStats,
) -> Result<u64, FormatError> {
    let sink = CrcWriter::new(BufWriter::with_capacity(1 << 20, file));
    let mut writer = FileWriter::try_new_with_options(sink, schema, ipc_options)?;
    let mut blocks = Vec::with_capacity(sorted.runs.len());
    for run in &sorted.runs {
        let rows = sorted.rows.get(run.clone()).unwrap_or_default();
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            continue; // runs are never empty
        };
        let batch = materialize(schema, batches, rows)?;
        writer.get_mut().take_crc(); // forget bytes before this block
        writer.write(&batch)?; // emits exactly one block (no dictionaries)
        blocks.push(BlockMeta {
            crc: writer.get_mut().take_crc(),
            rows: rows.len() as u64,
            first_ts: first.ts,
            last_ts: last.ts,
        });
    }
    writer.write_metadata(KEY_VERSION, CHUNK_VERSION);
    writer.write_metadata(KEY_STATS, hex_encode(&stats.encode()));
    writer.write_metadata(KEY_BLOCKS, encode_blocks(&blocks));
    writer.finish()?;
    let sink = writer.into_inner()?;
    let file_len = sink.written;
    let file = sink
        .inner
        .into_inner()
        .map_err(|e| FormatError::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| FormatError::io(path, e))?;
    Ok(file_len)
}

/// Whether `dt` is or contains a dictionary type.
fn has_dictionary(dt: &DataType) -> bool {
    match dt {
        DataType::Dictionary(..) => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => has_dictionary(f.data_type()),
        DataType::Struct(fs) => fs.iter().any(|f| has_dictionary(f.data_type())),
        DataType::Union(fs, _) => fs.iter().any(|(_, f)| has_dictionary(f.data_type())),
        DataType::RunEndEncoded(_, v) => has_dictionary(v.data_type()),
        _ => false,
    }
}

/// A `Write` adapter that counts bytes and CRCs them since the last [`CrcWriter::take_crc`].
struct CrcWriter<W> {
    inner: W,
    hasher: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> CrcWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: crc32fast::Hasher::new(),
            written: 0,
        }
    }

    /// The CRC of the bytes written since the previous call, resetting it.
    fn take_crc(&mut self) -> u32 {
        std::mem::take(&mut self.hasher).finalize()
    }
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or(buf);
        self.hasher.update(done);
        self.written += done.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_writer_segments() {
        let mut w = CrcWriter::new(Vec::new());
        w.write_all(b"head").unwrap();
        w.take_crc();
        w.write_all(b"block one").unwrap();
        assert_eq!(w.take_crc(), crc32fast::hash(b"block one"));
        assert_eq!(w.written, 13);
        assert_eq!(w.inner, b"headblock one");
    }

    #[test]
    fn dictionary_detection() {
        use arrow_schema::Field;
        use std::sync::Arc;
        let dict = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
        assert!(has_dictionary(&dict));
        let list = DataType::List(Arc::new(Field::new("item", dict, true)));
        assert!(has_dictionary(&list));
        assert!(!has_dictionary(&DataType::List(Arc::new(Field::new(
            "item",
            DataType::Utf8,
            true
        )))));
    }
}
