//! The crate's single error type, [`WalError`].
//!
//! Every failure reachable from untrusted bytes (a damaged or foreign segment file) surfaces as
//! one of these variants; nothing in the decode, scan, recovery or read paths panics.

use std::io;
use std::path::{Path, PathBuf};

/// Errors produced by the write-ahead log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// An operating-system I/O error while doing `op` on `path`.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"write"`, `"fdatasync"`, `"create segment"`, ...).
        op: &'static str,
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An earlier write or sync failed, so the state of the unsynced tail is unknown. Every later
    /// `append`/`sync` returns this; nothing unsynced is ever reported durable. Drop the `Wal` and
    /// reopen it: recovery trims whatever partial frame the failure left behind.
    #[error("write-ahead log is poisoned by an earlier write or sync failure; reopen it")]
    Poisoned,

    /// Data loss inside the log (not a torn tail): an invalid frame followed by valid data,
    /// damage in a segment other than the last, a sequence gap, or a damaged header on an older
    /// segment. Recovery refuses to guess; the caller decides what to do.
    #[error("corrupt write-ahead log {} at offset {offset}: {reason}", segment.display())]
    Corrupt {
        /// The segment file where the problem was found.
        segment: PathBuf,
        /// Byte offset of the problem inside that file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// The payload handed to `append` is larger than [`crate::MAX_PAYLOAD_LEN`]. Nothing was
    /// written and the log is not poisoned.
    #[error("frame payload of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The requested payload length.
        len: u64,
        /// The maximum payload length.
        max: u64,
    },

    /// A segment declares a format version (or flags) this build does not understand. The log
    /// is never opened by guessing at an unknown layout.
    #[error(
        "segment {} has format version {version} flags {flags:#06x}; this build reads version 1 with flags 0",
        path.display()
    )]
    UnsupportedVersion {
        /// The segment file.
        path: PathBuf,
        /// The version found in the header.
        version: u16,
        /// The flags found in the header.
        flags: u16,
    },

    /// All `u64` sequence numbers are used up (cannot happen in practice).
    #[error("write-ahead log sequence numbers exhausted")]
    SeqExhausted,
}

impl WalError {
    /// Builds a [`WalError::Io`].
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Builds a [`WalError::Corrupt`].
    pub(crate) fn corrupt(segment: &Path, offset: u64, reason: impl Into<String>) -> Self {
        WalError::Corrupt {
            segment: segment.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_offset() {
        let e = WalError::corrupt(Path::new("/w/00000000000000000001.wal"), 96, "seq gap");
        assert_eq!(
            e.to_string(),
            "corrupt write-ahead log /w/00000000000000000001.wal at offset 96: seq gap"
        );
        let e = WalError::io("fdatasync", Path::new("/w/x.wal"), io::Error::other("EIO"));
        assert_eq!(e.to_string(), "fdatasync /w/x.wal: EIO");
        assert!(std::error::Error::source(&e).is_some());
        let e = WalError::UnsupportedVersion {
            path: PathBuf::from("a.wal"),
            version: 2,
            flags: 0,
        };
        assert!(e.to_string().contains("version 2 flags 0x0000"), "{e}");
    }
}
