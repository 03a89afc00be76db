//! Topic logs (layer 2 service): the WAL registry, the only place that opens and forgets a
//! topic's write-ahead log, the topics' seal gates, the recount of what a topic stores, and the
//! check that it still holds what it acknowledged (`integrity`).

mod integrity;
mod registry;
mod stored;

pub use integrity::{check_recorded, check_stored, chunk_error, open_chunk, tail_batches, Sealed};
pub use registry::{SealGate, SharedWal, TopicLogs};
pub use stored::stored_stats;
