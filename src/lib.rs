//! Tessera: a crash-safe recorder and Arrow Flight server for robotics sensor data, speaking
//! the Mosaico protocol (see `../shared/protocol.md` and ARCHITECTURE.md).
//!
//! # Module tour (layers; a file names only its own layer or lower ones, and no file cycle:
//! `tests/architecture_layers.rs` checks both)
//! - 4 the door: [`server`] ([`run`]: listener, engine, Flight service, graceful stop) and
//!   [`flight`] (FlightService, DoAction JSON, limits); `harness` (fuzz-harness feature only).
//! - 3 requests: [`ingest`] (one DoPut into one topic's WAL: validation, group commit, the sync
//!   timer, durable acks), [`read`] (FlightInfo, GetSchema, DoGet), [`query`], [`verify`].
//! - 2 services: [`engine`] (wires the others), [`lifecycle`] (sequence/session/topic/upload
//!   rules), [`logs`] (WAL registry + seal gates), [`uploads`] (upload slots, activity),
//!   [`compactor`] (seal queue, seal steps, startup recovery).
//! - 1 storage: [`catalog`] (fjall; `keys`/`records`/`chunks` specify its layouts), [`ipc`]
//!   (WAL payload layout, schema rules; decoding is `tessera_format::ipc_message`), and the
//!   crates `tessera_wal` and `tessera_format`.
//! - 0 ground: [`error`] (the one error table), [`config`], [`descriptor`] (descriptor and
//!   ticket encodings), [`fsutil`] (durable create/rename/remove), [`locks`], [`names`],
//!   [`ids`], [`blocking`].

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
pub mod descriptor;
pub mod engine;
pub mod error;
pub mod flight;
pub mod fsutil;
#[cfg(feature = "fuzz-harness")]
#[doc(hidden)]
pub mod harness;
pub mod ids;
pub mod ingest;
pub mod ipc;
pub mod lifecycle;
pub mod locks;
pub mod logs;
pub mod names;
pub mod query;
pub mod read;
pub mod server;
pub mod uploads;
pub mod verify;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use server::run;
