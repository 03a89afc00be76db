//! Topic logs (layer 2 service): the WAL registry, the only place that opens and forgets a
//! topic's write-ahead log, the topics' seal gates, and the recount of what a topic stores.

mod registry;
mod stored;

pub use registry::{SealGate, SharedWal, TopicLogs};
pub use stored::stored_stats;
