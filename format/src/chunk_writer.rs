//! Writing a sealed chunk file: [`write_chunk`] (any row order) and [`ChunkWriter`] (streaming,
//! rows in time order). The byte layout is specified in `chunk.rs`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, DataType, SchemaRef};

use crate::chunk::{
    encode_blocks, hex_encode, BlockMeta, CHUNK_VERSION, KEY_BLOCKS, KEY_STATS, KEY_VERSION,
};
use crate::error::FormatError;
use crate::options::ChunkOptions;
use crate::sort::{materialize, plan};
use crate::stats::ChunkStats;
use crate::stats_compute::{timestamp_index, StatsAccumulator};

/// What [`write_chunk`] and [`ChunkWriter::finish`] produced.
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
/// fields, or invalid options. Rows already in order are better streamed with [`ChunkWriter`],
/// which holds one block in memory instead of the whole chunk.
pub fn write_chunk(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    opts: &ChunkOptions,
) -> Result<ChunkMeta, FormatError> {
    check_schema(schema)?;
    if let Some(i) = batches
        .iter()
        .position(|b| b.schema_ref().fields() != schema.fields())
    {
        return Err(FormatError::SchemaMismatch(format!(
            "batch {i} fields differ from the chunk schema"
        )));
    }
    let ts_index = timestamp_index(schema)?;
    let sorted = plan(batches, ts_index, opts.max_batch_bytes)?;
    if sorted.rows.is_empty() {
        return Err(FormatError::EmptyChunk);
    }
    let mut writer = ChunkWriter::create(path, schema, opts)?;
    for run in &sorted.runs {
        let rows = sorted.rows.get(run.clone()).unwrap_or_default();
        if rows.is_empty() {
            continue; // runs are never empty
        }
        writer.push(&materialize(schema, batches, rows)?)?;
    }
    writer.finish()
}

type Sink = CrcWriter<BufWriter<File>>;

/// Writes one chunk file block by block from batches whose rows arrive in `timestamp_ns`
/// order (within each batch and across batches, ties allowed). Memory is one block, whatever
/// the chunk size. Statistics are accumulated as batches arrive and equal those `write_chunk`
/// computes for the same rows.
///
/// The file is created at [`ChunkWriter::create`] (it must not exist) and is complete and
/// fsynced only after [`ChunkWriter::finish`]. Dropping the writer unfinished, or any error,
/// removes the partial file.
pub struct ChunkWriter {
    path: PathBuf,
    schema: SchemaRef,
    ts_index: usize,
    max_batch_bytes: usize,
    writer: Option<FileWriter<Sink>>,
    stats: StatsAccumulator,
    blocks: Vec<BlockMeta>,
    last_ts: Option<i64>,
}

impl ChunkWriter {
    /// Creates `path` (which must not exist) and writes the IPC file header.
    pub fn create(
        path: &Path,
        schema: &SchemaRef,
        opts: &ChunkOptions,
    ) -> Result<ChunkWriter, FormatError> {
        check_schema(schema)?;
        let ts_index = timestamp_index(schema)?;
        let ipc_options = opts.ipc_write_options()?;
        let stats = StatsAccumulator::new(schema)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| FormatError::io(path, e))?;
        let mut w = ChunkWriter {
            path: path.to_path_buf(),
            schema: schema.clone(),
            ts_index,
            max_batch_bytes: opts.max_batch_bytes,
            writer: None,
            stats,
            blocks: Vec::new(),
            last_ts: None,
        };
        // From here on, dropping `w` on error removes the file.
        let sink = CrcWriter::new(BufWriter::with_capacity(1 << 20, file));
        let writer = FileWriter::try_new_with_options(sink, schema, ipc_options)
            .map_err(|e| w.io_error(e))?;
        w.writer = Some(writer);
        Ok(w)
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.blocks.iter().map(|b| b.rows).sum()
    }

    /// Appends `batch`, cut into blocks of at most `max_batch_bytes` (estimated). Fails with
    /// [`FormatError::Unordered`], writing nothing, when its rows are not in `timestamp_ns`
    /// order or start before the last row already written; the writer stays usable.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), FormatError> {
        if batch.schema_ref().fields() != self.schema.fields() {
            return Err(FormatError::SchemaMismatch(
                "batch fields differ from the chunk schema".into(),
            ));
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let sorted = plan(
            std::slice::from_ref(batch),
            self.ts_index,
            self.max_batch_bytes,
        )?;
        let in_order = sorted.rows.iter().enumerate().all(|(i, r)| r.row == i);
        let first = sorted.rows.first().map(|r| r.ts);
        if !in_order || first < self.last_ts {
            return Err(FormatError::Unordered(format!(
                "batch starts at {first:?} after {:?}{}",
                self.last_ts,
                if in_order { "" } else { ", and is not sorted" }
            )));
        }
        self.stats.update(batch)?;
        for run in &sorted.runs {
            let rows = sorted.rows.get(run.clone()).unwrap_or_default();
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                continue; // runs are never empty
            };
            let block = batch.slice(first.row, rows.len());
            let Some(writer) = self.writer.as_mut() else {
                return Err(FormatError::InvalidOptions(
                    "writer already finished".into(),
                ));
            };
            writer.get_mut().take_crc(); // forget bytes before this block
            let written = writer.write(&block); // exactly one block (no dictionaries)
            let crc = writer.get_mut().take_crc();
            written.map_err(|e| self.io_error(e))?;
            self.blocks.push(BlockMeta {
                crc,
                rows: rows.len() as u64,
                first_ts: first.ts,
                last_ts: last.ts,
            });
            self.last_ts = Some(last.ts);
        }
        Ok(())
    }

    /// Writes the footer (our keys: version, stats, block table), fsyncs the file and returns
    /// what was written. Fails with [`FormatError::EmptyChunk`] if no row was pushed.
    pub fn finish(mut self) -> Result<ChunkMeta, FormatError> {
        if self.blocks.is_empty() {
            return Err(FormatError::EmptyChunk);
        }
        let Some(mut writer) = self.writer.take() else {
            return Err(FormatError::InvalidOptions(
                "writer already finished".into(),
            ));
        };
        let stats = std::mem::replace(&mut self.stats, StatsAccumulator::new(&self.schema)?);
        let stats = stats.finish();
        writer.write_metadata(KEY_VERSION, CHUNK_VERSION);
        writer.write_metadata(KEY_STATS, hex_encode(&stats.encode()));
        writer.write_metadata(KEY_BLOCKS, encode_blocks(&self.blocks));
        writer.finish().map_err(|e| self.io_error(e))?;
        let sink = writer.into_inner().map_err(|e| self.io_error(e))?;
        let file_len = sink.written;
        let file = sink
            .inner
            .into_inner()
            .map_err(|e| FormatError::io(&self.path, e.into_error()))?;
        if !sync_disabled("chunk") {
            file.sync_all()
                .map_err(|e| FormatError::io(&self.path, e))?;
        }
        self.blocks.clear();
        self.path = PathBuf::new(); // finished: keep the file
        Ok(ChunkMeta { stats, file_len })
    }

    /// arrow-ipc wraps the sink's I/O errors; report them as what they are.
    fn io_error(&self, e: ArrowError) -> FormatError {
        match e {
            ArrowError::IoError(_, source) => FormatError::io(&self.path, source),
            other => FormatError::Arrow(other),
        }
    }
}

/// Test-only mutation knob, the format crate's copy of the server's `fsutil::sync_disabled`
/// (same variable): `TESSERA_TEST_SKIP_SYNC=chunk` skips the chunk file's fsync, so the
/// power-cut tests can show it is needed. Read once per process; never set it in production.
fn sync_disabled(site: &str) -> bool {
    static SITES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SITES
        .get_or_init(|| {
            std::env::var("TESSERA_TEST_SKIP_SYNC")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        })
        .iter()
        .any(|s| s == site)
}

impl Drop for ChunkWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.writer = None;
            // Best effort: we created the file, so removing it cannot clobber anyone else's.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn check_schema(schema: &SchemaRef) -> Result<(), FormatError> {
    match schema
        .fields()
        .iter()
        .find(|f| has_dictionary(f.data_type()))
    {
        Some(f) => Err(FormatError::UnsupportedType(format!(
            "field {:?} is dictionary-encoded",
            f.name()
        ))),
        None => Ok(()),
    }
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
