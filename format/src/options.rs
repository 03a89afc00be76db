//! Chunk writing options: buffer compression and the output batch size limit.
//!
//! arrow-ipc 60.1.0 supports a configurable zstd level
//! (`IpcWriteOptions::try_with_compression_level`, checked against
//! `zstd::compression_level_range()`), so [`Compression::Zstd`] carries one. arrow-ipc compresses
//! each Arrow buffer separately and stores a buffer raw whenever compression does not shrink it,
//! so zstd never inflates data; [`Compression::None`] additionally skips the compression attempt,
//! which matters for incompressible payloads such as raw camera frames at 4K ingest rates.

use arrow_ipc::writer::IpcWriteOptions;
use arrow_ipc::CompressionType;

use crate::error::FormatError;

/// Default zstd level: fast.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;
/// Default upper bound of Arrow memory per output record batch: 8 MiB.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 8 << 20;

/// IPC buffer compression of a chunk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Buffers are stored raw.
    None,
    /// Buffers are zstd-compressed at `level` (any level in `zstd::compression_level_range()`,
    /// negative levels are zstd's "fast" modes; `0` means zstd's default, 3).
    Zstd {
        /// The zstd compression level.
        level: i32,
    },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd {
            level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

/// How [`crate::write_chunk`] encodes a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Buffer compression; default zstd level 1.
    pub compression: Compression,
    /// Upper bound of the estimated Arrow memory of one output record batch (default 8 MiB).
    /// Every batch holds at least one row, so a single larger row gets a batch of its own.
    pub max_batch_bytes: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            compression: Compression::default(),
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
        }
    }
}

impl ChunkOptions {
    /// The arrow-ipc writer options for these settings (metadata V5, 64-byte alignment).
    pub(crate) fn ipc_write_options(&self) -> Result<IpcWriteOptions, FormatError> {
        let base = IpcWriteOptions::default();
        match self.compression {
            Compression::None => Ok(base),
            Compression::Zstd { level } => {
                let range = zstd::compression_level_range();
                if !range.contains(&level) {
                    return Err(FormatError::InvalidOptions(format!(
                        "zstd level {level} outside {}..={}",
                        range.start(),
                        range.end()
                    )));
                }
                Ok(base
                    .try_with_compression(Some(CompressionType::ZSTD))?
                    .try_with_compression_level(Some(level))?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = ChunkOptions::default();
        assert_eq!(o.compression, Compression::Zstd { level: 1 });
        assert_eq!(o.max_batch_bytes, 8 * 1024 * 1024);
        assert!(o.ipc_write_options().is_ok());
    }

    #[test]
    fn zstd_level_is_validated() {
        for level in [-5, 0, 3, 19, 22] {
            let o = ChunkOptions {
                compression: Compression::Zstd { level },
                ..Default::default()
            };
            assert!(o.ipc_write_options().is_ok(), "level {level}");
        }
        let o = ChunkOptions {
            compression: Compression::Zstd { level: 23 },
            ..Default::default()
        };
        assert!(matches!(
            o.ipc_write_options(),
            Err(FormatError::InvalidOptions(_))
        ));
    }
}
