//! Tessera's sealed chunk files and per-chunk statistics ("skip indices").
//!
//! The compactor turns write-ahead-log batches of one topic into immutable, time-sorted Arrow IPC
//! file-format chunks ([`write_chunk`]); readers stream them back batch by batch
//! ([`ChunkReader`]); the catalog keeps each chunk's [`ChunkStats`] so queries can skip chunks
//! without opening them ([`prune`]). Times are exact `i64` nanoseconds and the topic schema is
//! kept bit-exact.
//!
//! Module tour:
//!
//! | module           | concept                                                                |
//! |------------------|------------------------------------------------------------------------|
//! | `chunk`          | THE chunk file layout: IPC framing, footer keys, version rule, CRCs    |
//! | `chunk_writer`   | [`write_chunk`], [`ChunkMeta`]                                         |
//! | `options`        | [`ChunkOptions`], [`Compression`] (configurable zstd level)            |
//! | `sort`           | stable timestamp ordering, cutting output into size-bounded batches    |
//! | `rowsize`        | per-row Arrow memory estimate used by `sort`                           |
//! | `chunk_reader`   | [`ChunkReader`]: CRC-verified, panic-isolated batch reads, `verify`    |
//! | `chunk_footer`   | open-time trailer and footer validation                                |
//! | `block_table`    | the trusted block list (footer blocks × our block table × stats)       |
//! | `block_guard`    | chunk-specific pre-decode checks of one block (version, rows, length)  |
//! | [`ipc_message`]  | THE Arrow IPC message decoder: verification, bounds, caps, isolation   |
//! | `window`         | the `[start, end)` batch window iterator                               |
//! | `stats`          | [`ChunkStats`], [`ColumnStats`], [`StatValue`], [`GeoBounds`], merge   |
//! | `stats_compute`  | computation rules, [`ChunkStats::compute`]                             |
//! | `stats_tree`     | schema traversal: leaves, coordinate structs, ancestor validity        |
//! | `stats_values`   | per-type min/max accumulation                                          |
//! | `strbound`       | shortening string bounds to 64 bytes                                   |
//! | `stats_codec`    | THE stats binary encoding, [`ChunkStats::encode`]                      |
//! | `stats_decode`   | its checked decoder, [`ChunkStats::decode`]                            |
//! | [`prune`]        | predicate × stats → [`Prune::Keep`] / [`Prune::Skip`]                  |
//! | `compare`        | exact ordering of stat values across Int/UInt/Float                    |
//! | `error`          | [`FormatError`]                                                        |
//!
//! Nothing reachable from file or stats bytes panics: lengths are validated before allocating,
//! block CRCs before decoding, and arrow decoding runs under `catch_unwind`.
//! Reading uses positioned reads (`std::os::unix::fs::FileExt`), so the crate targets Unix.

#![warn(missing_docs)]

mod block_guard;
mod block_table;
mod chunk;
mod chunk_footer;
mod chunk_reader;
mod chunk_writer;
mod compare;
mod error;
pub mod ipc_message;
mod options;
pub mod prune;
mod rowsize;
mod sample;
mod sort;
mod stats;
mod stats_codec;
mod stats_compute;
mod stats_decode;
mod stats_tree;
mod stats_values;
mod strbound;
mod window;

pub use chunk::{CHUNK_VERSION, KEY_BLOCKS, KEY_STATS, KEY_VERSION, MAX_BLOCK_DECODED_BYTES};
pub use chunk_footer::MAX_FOOTER_BYTES;
pub use chunk_reader::ChunkReader;
pub use chunk_writer::{write_chunk, ChunkMeta, ChunkWriter};
pub use compare::compare as compare_stat_values;
pub use error::FormatError;
pub use options::{ChunkOptions, Compression, DEFAULT_MAX_BATCH_BYTES, DEFAULT_ZSTD_LEVEL};
pub use prune::{prune_column, prune_geo, prune_time, CmpOp, GeoBox, Pred, Prune};
pub use sample::{compression_for, sample_ratio, SAMPLE_BYTES};
pub use stats::{ChunkStats, ColumnStats, GeoBounds, StatValue};
pub use stats_codec::{STATS_MAGIC, STATS_VERSION};
pub use stats_compute::TIMESTAMP_COLUMN;
pub use strbound::STR_BOUND_MAX_BYTES;
