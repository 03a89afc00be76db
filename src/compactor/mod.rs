//! The background compactor: turns durable WAL frames into sealed, time-sorted, zstd chunk
//! files plus a skip index in the catalog, then reclaims the WAL segments they cover.
//!
//! Worker threads (`compactor_threads`, default 2) take seal jobs from a queue (one entry per
//! topic at most); a topic is sealed by one worker at a time (a queued job whose topic is
//! being sealed waits for it), so different topics seal in parallel. Writers
//! report unsealed bytes; past `seal_lag_bytes` (at least a chunk) a topic is queued, and so
//! is one whose read finds more than two chunks unsealed; at `max_unsealed_bytes` the writer
//! waits (the only way compaction ever slows ingest: a bounded back-pressure).
//! When an upload ends its topic is queued with `force` (seal whatever is left), and
//! `session_finalize` waits until its topics are idle, so finalized data is sealed.
//! The seal steps and their crash behaviour are in [`seal`].

mod context;
mod job;
mod queue;
mod recover;
pub mod seal;

pub use context::{SealContext, SealOptions};
pub use job::SealJob;
pub use queue::Compactor;
pub use recover::recover_all;
