//! Typed server settings. Every field states its default and its unit.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address: loopback, port 6726 as in Mosaico.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:6726";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./tessera-data";
/// Default [`Config::seal_lag_bytes`], in MiB.
pub const DEFAULT_SEAL_LAG_MIB: u64 = 2048;

/// Default [`Config::max_sync_delay`], in milliseconds.
pub const DEFAULT_MAX_SYNC_DELAY_MS: u64 = 200;

/// When a DoPut's batches become durable (fsynced) relative to the acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// fsync before every acknowledgement: before the final OK of a DoPut, and before each
    /// per-batch PutResult when the client asked for durable acks. Batches queued together are
    /// synced together (group commit). The default.
    Always,
    /// fsync at most every `interval_ms` while a stream runs and always before the final OK.
    /// Per-batch acks are sent after the sync that covered them. Fewer fsyncs, same final
    /// guarantee, later per-batch acks.
    Interval {
        /// Milliseconds between fsyncs of a running stream.
        interval_ms: u64,
    },
}

/// All server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Root of all stored data (catalog, WAL segments, chunks). Default `./tessera-data`.
    pub data_dir: PathBuf,
    /// Address to listen on. Default `127.0.0.1:6726`.
    pub listen: SocketAddr,
    /// Largest gRPC message accepted, in bytes; reported by `info` as
    /// `grpc_max_decode_message_size`. Default 64 MiB.
    pub max_decode_message_size: usize,
    /// Largest gRPC message sent, in bytes (`grpc_max_encode_message_size`). Default 64 MiB.
    pub max_encode_message_size: usize,
    /// Target size of one DoGet message, in bytes (`grpc_target_encode_message_size`).
    /// Default 8 MiB.
    pub target_encode_message_size: usize,
    /// Durability policy for uploads. Default [`SyncMode::Always`].
    pub sync: SyncMode,
    /// While a stream runs without durable acks, fsync once this many bytes are unsynced, in
    /// bytes; bounds the OS dirty-page backlog per topic. Default 64 MiB.
    pub sync_every_bytes: u64,
    /// Bounded time to durability: a batch appended to a running stream is fsynced within this
    /// long (plus the fsync itself), whatever the stream asks and even if it sends nothing
    /// more. A power cut loses at most this much of an ack-less stream and nothing
    /// acknowledged. `0` fsyncs every batch. Default 200 ms.
    pub max_sync_delay: std::time::Duration,
    /// WAL segment size in bytes. Default 256 MiB.
    pub wal_segment_bytes: u64,
    /// Arrow body bytes of WAL data sealed into one chunk file. Default 128 MiB.
    pub chunk_size_bytes: u64,
    /// Compression of chunk files. Default zstd level 1.
    pub chunk_compression: tessera_format::Compression,
    /// A chunk is stored uncompressed when zstd saves less than this fraction on a sample of
    /// its first batch (noisy camera frames: zstd would cost CPU for little space). `0` always
    /// compresses. Default 0.1.
    pub zstd_min_saving: f64,
    /// Burst absorption: while an upload runs, its topic is sealed only once this many durable
    /// bytes wait unsealed. Until then the WAL alone takes the stream, so a recording burst
    /// writes each byte once and runs at the disk's speed; the compactor catches up when the
    /// backlog passes this or the upload ends (`session_finalize` waits for it). Costs disk
    /// space (the backlog) and startup time after a crash (the backlog is recounted and
    /// sealed), never memory: a read of a topic with more than two chunks unsealed has them
    /// sealed first. `0` seals each chunk as soon as it is complete. Default 2 GiB.
    pub seal_lag_bytes: u64,
    /// Back-pressure, and the bound of a topic's WAL backlog: an upload waits while its topic
    /// has more than this many unsealed bytes. Default `seal_lag_bytes` + 4 x `chunk_size_bytes`.
    pub max_unsealed_bytes: u64,
    /// Compactor worker threads: different topics are sealed in parallel (one topic by one
    /// thread at a time). Each running seal holds about one batch plus its encoded copy in
    /// memory. Default 2.
    pub compactor_threads: usize,
    /// Finalize a session left open with no upload running or ended for this long, completing
    /// its interrupted uploads with their durable data (see `engine::auto_finalize`).
    /// Default `None`: sessions wait for their owner.
    pub auto_finalize_after: Option<std::time::Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            listen: SocketAddr::from(([127, 0, 0, 1], 6726)),
            max_decode_message_size: 64 << 20,
            max_encode_message_size: 64 << 20,
            target_encode_message_size: 8 << 20,
            sync: SyncMode::Always,
            sync_every_bytes: 64 << 20,
            max_sync_delay: std::time::Duration::from_millis(DEFAULT_MAX_SYNC_DELAY_MS),
            wal_segment_bytes: 256 << 20,
            chunk_size_bytes: 128 << 20,
            chunk_compression: tessera_format::Compression::Zstd { level: 1 },
            zstd_min_saving: 0.1,
            seal_lag_bytes: DEFAULT_SEAL_LAG_MIB << 20,
            max_unsealed_bytes: (DEFAULT_SEAL_LAG_MIB << 20) + 4 * (128 << 20),
            compactor_threads: 2,
            auto_finalize_after: None,
        }
    }
}

impl Config {
    /// The longest a running stream's appended batch waits for its fsync to begin: the
    /// `max_sync_delay`, or the sync interval if that is shorter.
    pub fn sync_deadline(&self) -> std::time::Duration {
        match self.sync {
            SyncMode::Always => self.max_sync_delay,
            SyncMode::Interval { interval_ms } => self
                .max_sync_delay
                .min(std::time::Duration::from_millis(interval_ms)),
        }
    }

    /// A default configuration storing data under `data_dir`.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }
}
