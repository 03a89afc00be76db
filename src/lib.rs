//! Tessera: a crash-safe recorder and Arrow Flight server for robotics sensor data, speaking
//! the Mosaico protocol (see `../shared/protocol.md` and ARCHITECTURE.md).
//!
//! # Module tour (arrows point down)
//! - [`server`]: [`run`] wires a listener, the engine and the Flight service; graceful shutdown.
//! - [`flight`]: the gRPC surface. `service` (FlightService), `actions` (DoAction JSON),
//!   `descriptor` (descriptor and ticket encodings).
//! - [`ingest`]: one DoPut into one topic's WAL; validation, fsync policy, durable acks.
//! - [`read`]: FlightInfo, GetSchema, DoGet (sorted, windowed), ListFlights.
//! - [`query`]: content queries: catalog filters, skip-index pruning, exact evaluation, clusters.
//! - [`compactor`]: background sealing of WAL data into chunk files + skip indices.
//! - [`engine`]: sequences, sessions, topics, uploads, notifications: lifecycle rules.
//! - [`catalog`]: the fjall catalog; `keys` and `records` specify its byte layouts.
//! - [`ipc`]: Arrow IPC messages, safe decoding, the WAL payload layout.
//! - [`verify`]: `tessera verify`, the offline check of a data directory.
//! - [`names`], [`ids`], [`config`], [`error`], [`blocking`]: small shared pieces.
//! - Crates below: `tessera_wal` (write-ahead log), `tessera_format` (chunk files, stats).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod blocking;
pub mod catalog;
pub mod compactor;
pub mod config;
pub mod engine;
pub mod error;
pub mod flight;
#[cfg(feature = "fuzz-harness")]
#[doc(hidden)]
pub mod harness;
pub mod ids;
pub mod ingest;
pub mod ipc;
pub mod names;
pub mod query;
pub mod read;
pub mod server;
pub mod verify;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use server::run;
