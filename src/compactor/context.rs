//! What a seal works with: the catalog (to read the schema and commit chunk records), the topic
//! logs (to read durable frames and reclaim segments), the upload slots (a completed upload's
//! WAL is retired only when no stream holds the topic) and the chunk settings. Handed to the
//! compactor by the engine; the compactor never sees the engine itself.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::logs::TopicLogs;
use crate::uploads::Uploads;
use std::sync::Arc;
use tessera_format::Compression;

/// Chunk settings of a seal (from [`Config`]).
#[derive(Debug, Clone, Copy)]
pub struct SealOptions {
    /// Arrow body bytes sealed into one chunk.
    pub chunk_size_bytes: u64,
    /// Compression of chunk blocks.
    pub compression: Compression,
    /// Below this saving on a sample, a chunk is stored raw.
    pub zstd_min_saving: f64,
}

impl SealOptions {
    /// The seal settings of `config`.
    pub fn of(config: &Config) -> SealOptions {
        SealOptions {
            chunk_size_bytes: config.chunk_size_bytes,
            compression: config.chunk_compression,
            zstd_min_saving: config.zstd_min_saving,
        }
    }
}

/// The services a seal uses.
pub struct SealContext {
    /// The catalog.
    pub catalog: Arc<Catalog>,
    /// The topic logs.
    pub logs: Arc<TopicLogs>,
    /// The upload slots.
    pub uploads: Arc<Uploads>,
    /// Chunk settings.
    pub options: SealOptions,
}
