//! Tessera's sealed chunk files and per-chunk statistics ("skip indices").
//!
//! The compactor turns write-ahead-log batches of one topic into immutable, time-sorted Arrow IPC
//! file-format chunks ([`write_chunk`]); readers stream them back batch by batch
//! ([`ChunkReader`]); the catalog keeps each chunk's [`ChunkStats`] so queries can skip chunks
//! without opening them ([`prune`]). Times are exact `i64` nanoseconds and the topic schema is
//! kept bit-exact.
//!
//! Module tour:
//! * `chunk` — THE chunk file layout (IPC framing, footer metadata keys, version rule, CRCs).
//! * `chunk_writer` — [`write_chunk`], [`ChunkMeta`].
//! * `chunk_footer` — open-time trailer/footer/block-table validation; `schema_message` — the
//!   leading schema copy the footer schema must equal.
//! * `block_guard` — pre-decode checks of one block (bounds, declared decompressed sizes).
//! * `chunk_reader` — [`ChunkReader`]: CRC-verified, panic-isolated batch reads and `verify`.
//! * `window` — the `[start, end)` batch window iterator.
//! * `options` — [`ChunkOptions`], [`Compression`] (configurable zstd level).
//! * `sort` / `rowsize` — stable timestamp sort and cutting output into size-bounded batches.
//! * `stats` — [`ChunkStats`] and friends, `merge`; `stats_compute` / `stats_values` — the
//!   computation rules; `strbound` — string bound shortening; `stats_codec` — THE stats binary
//!   encoding.
//! * [`prune`] — predicate × stats → [`Prune::Keep`]/[`Prune::Skip`]; `compare` — exact
//!   cross-kind value ordering.
//! * `error` — [`FormatError`].
//!
//! Nothing reachable from file or stats bytes panics: lengths are validated before allocating,
//! block CRCs before decoding, and arrow decoding runs under `catch_unwind`.
//! Reading uses positioned reads (`std::os::unix::fs::FileExt`), so the crate targets Unix.

mod block_guard;
mod chunk;
mod chunk_footer;
mod chunk_reader;
mod chunk_writer;
mod compare;
mod error;
mod options;
pub mod prune;
mod rowsize;
mod schema_message;
mod sort;
mod stats;
mod stats_codec;
mod stats_compute;
mod stats_values;
mod strbound;
mod window;

pub use chunk::{CHUNK_VERSION, KEY_BLOCKS, KEY_STATS, KEY_VERSION, MAX_BLOCK_DECODED_BYTES};
pub use chunk_footer::MAX_FOOTER_BYTES;
pub use chunk_reader::ChunkReader;
pub use chunk_writer::{write_chunk, ChunkMeta};
pub use error::FormatError;
pub use options::{ChunkOptions, Compression, DEFAULT_MAX_BATCH_BYTES, DEFAULT_ZSTD_LEVEL};
pub use prune::{prune_column, prune_geo, prune_time, CmpOp, GeoBox, Pred, Prune};
pub use stats::{ChunkStats, ColumnStats, GeoBounds, StatValue};
pub use stats_codec::{STATS_MAGIC, STATS_VERSION};
pub use stats_compute::TIMESTAMP_COLUMN;
pub use strbound::STR_BOUND_MAX_BYTES;
