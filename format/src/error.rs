//! The crate's single error type, [`FormatError`].
//!
//! Every failure reachable from untrusted bytes (a corrupt or foreign file, arbitrary stats bytes)
//! surfaces as one of these variants; nothing in the decode paths panics.

use std::path::{Path, PathBuf};

use arrow_schema::ArrowError;

/// Errors produced while writing, reading, or decoding chunk files and chunk statistics.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// An operating-system I/O error on `path`.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file the operation was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Arrow rejected an operation on trusted, in-memory data (e.g. while encoding a chunk).
    /// Decoding problems in a file are reported as [`FormatError::Corrupt`] instead.
    #[error("arrow error: {0}")]
    Arrow(#[from] ArrowError),

    /// An Arrow IPC message is malformed (framing, flatbuffer, buffer layout, compression) or
    /// arrow could not decode it. `reason` is one line. Reading a chunk reports this as
    /// [`FormatError::Corrupt`] naming the file and block.
    #[error("malformed Arrow IPC message: {0}")]
    MalformedMessage(String),

    /// A compressed record batch message declares more decompressed bytes than the caller
    /// allows; refused before anything is decompressed.
    #[error("a compressed batch declares {declared} decompressed bytes; the limit is {limit}")]
    DecodedSizeLimit {
        /// The sum of the declared uncompressed buffer lengths.
        declared: u64,
        /// The caller's cap.
        limit: u64,
    },

    /// The file claims to be a Tessera chunk but its bytes are damaged or inconsistent.
    /// `reason` names the offending region (e.g. `block 3: crc32 mismatch ...`).
    #[error("corrupt chunk {}: {reason}", path.display())]
    Corrupt {
        /// The chunk file.
        path: PathBuf,
        /// What is wrong and where.
        reason: String,
    },

    /// The file is not a Tessera chunk (not Arrow IPC, or an Arrow IPC file without our keys).
    #[error("{} is not a Tessera chunk: {reason}", path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Why it was not recognised.
        reason: String,
    },

    /// The chunk declares a format version this build does not understand. Never guessed at.
    #[error("{}: unsupported chunk version {version:?}", path.display())]
    UnsupportedVersion {
        /// The chunk file.
        path: PathBuf,
        /// The version string found in the footer.
        version: String,
    },

    /// The schema has no top-level non-dictionary `Int64` column named `timestamp_ns`, or the
    /// column contains nulls.
    #[error("timestamp_ns: {0}")]
    NoTimestamp(String),

    /// The input batches do not match the declared schema.
    #[error("schema mismatch: {0}")]
    SchemaMismatch(String),

    /// The schema uses a data type chunk files cannot store (dictionary encoding).
    #[error("unsupported data type: {0}")]
    UnsupportedType(String),

    /// Invalid [`crate::ChunkOptions`] (e.g. a zstd level outside the library's range).
    #[error("invalid chunk options: {0}")]
    InvalidOptions(String),

    /// [`crate::ChunkWriter::push`] was given rows earlier than rows already written, or not
    /// ordered by `timestamp_ns` within the batch. Nothing of that batch was written.
    #[error("rows out of timestamp order: {0}")]
    Unordered(String),

    /// `write_chunk` was given zero rows; a chunk always holds at least one row.
    #[error("cannot write a chunk with zero rows")]
    EmptyChunk,

    /// `read_batch` was asked for a batch that does not exist.
    #[error("batch index {index} out of range (chunk has {count} batches)")]
    BatchOutOfRange {
        /// The requested index.
        index: usize,
        /// The number of batches in the chunk.
        count: usize,
    },

    /// Encoded [`crate::ChunkStats`] bytes are malformed (bad magic, checksum, length, value).
    #[error("invalid encoded chunk stats: {0}")]
    StatsDecode(String),

    /// Encoded [`crate::ChunkStats`] use an encoding version this build does not understand.
    #[error("unsupported chunk stats encoding version {0}")]
    UnsupportedStatsVersion(u16),
}

impl FormatError {
    /// Builds an [`FormatError::Io`] for `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Builds a [`FormatError::Corrupt`] for `path`.
    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Builds a [`FormatError::Foreign`] for `path`.
    pub(crate) fn foreign(path: &Path, reason: impl Into<String>) -> Self {
        Self::Foreign {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_reason() {
        let p = Path::new("/x/chunk.arrow");
        let e = FormatError::corrupt(p, "block 2: crc32 mismatch");
        assert_eq!(
            e.to_string(),
            "corrupt chunk /x/chunk.arrow: block 2: crc32 mismatch"
        );
        let e = FormatError::foreign(p, "no tessera.chunk.version key");
        assert!(e.to_string().contains("not a Tessera chunk"));
        let e = FormatError::io(p, std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "I/O error on /x/chunk.arrow: boom");
    }
}
