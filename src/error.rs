//! The server's public error: a coarse [`ErrorKind`] plus a user-facing message.
//!
//! Every layer below the Flight service returns [`Error`]. The one table that turns a kind into a
//! gRPC status code is [`ErrorKind::code`]; nothing else in the server picks status codes.
//! Messages are shown to SDK users verbatim, so they say what to fix and end with a period.

use std::fmt;

/// What went wrong, at the granularity a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed: bad JSON, name, uuid, schema, window, descriptor or ticket.
    InvalidArgument,
    /// The named sequence, session, topic or ticket does not exist.
    NotFound,
    /// A sequence or topic with that name exists already.
    AlreadyExists,
    /// The resource is in the wrong state: finalized, uploading, already uploaded, empty session.
    FailedPrecondition,
    /// The token does not match the resource, or the caller's key lacks the permission.
    PermissionDenied,
    /// The caller did not present a valid API key.
    Unauthenticated,
    /// A size or capacity limit was hit (message too large, back-pressure limit).
    ResourceExhausted,
    /// The stream carried a message the protocol does not allow at that point (e.g. a second
    /// schema message in a DoPut, protocol.md §8.1).
    Aborted,
    /// Stored data that was acknowledged is damaged or missing.
    DataLoss,
    /// The server cannot do it now: shutting down, or its storage refused the operation.
    Unavailable,
    /// A bug: an invariant of the server broke. Expected failures have a kind above (storage
    /// failures through [`io_kind`]).
    Internal,
}

impl ErrorKind {
    /// The one mapping from error kind to gRPC status code.
    pub fn code(self) -> tonic::Code {
        match self {
            ErrorKind::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorKind::NotFound => tonic::Code::NotFound,
            ErrorKind::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorKind::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorKind::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorKind::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorKind::ResourceExhausted => tonic::Code::ResourceExhausted,
            ErrorKind::Aborted => tonic::Code::Aborted,
            ErrorKind::DataLoss => tonic::Code::DataLoss,
            ErrorKind::Unavailable => tonic::Code::Unavailable,
            ErrorKind::Internal => tonic::Code::Internal,
        }
    }
}

/// A server error: kind plus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The coarse kind, which decides the gRPC code.
    pub kind: ErrorKind,
    /// The user-facing message.
    pub message: String,
}

/// Result alias used throughout the server.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// Shorthand for [`ErrorKind::AlreadyExists`].
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }
    /// Shorthand for [`ErrorKind::FailedPrecondition`].
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, message)
    }
    /// Shorthand for [`ErrorKind::PermissionDenied`].
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }
    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// Shorthand for [`ErrorKind::DataLoss`].
    pub fn data_loss(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::DataLoss, message)
    }
    /// The same error, its message prefixed with ``topic `locator`: `` unless it names the
    /// topic already (services below the requests know topics by internal id only).
    pub fn for_topic(self, locator: &str) -> Self {
        let named = format!("`{locator}`");
        if self.message.contains(&named) {
            return self;
        }
        Error {
            message: format!("topic {named}: {}", self.message),
            ..self
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        if e.kind == ErrorKind::Internal || e.kind == ErrorKind::DataLoss {
            tracing::error!(kind = ?e.kind, message = %e.message, "request failed");
        }
        tonic::Status::new(e.kind.code(), e.message)
    }
}

/// The one table from an I/O failure of the server's own storage to what a client can act
/// on. Not the client's fault in any case, so never INVALID_ARGUMENT or PERMISSION_DENIED:
///
/// | I/O failure | kind | why |
/// |---|---|---|
/// | ENOSPC, EDQUOT, EFBIG | `ResourceExhausted` | disk or quota full: retry once space is freed |
/// | EMFILE, ENFILE, ENOMEM | `ResourceExhausted` | open-file or memory limit of the server |
/// | EACCES, EPERM, EROFS | `Unavailable` | the data directory is not writable: an operator fixes it |
/// | EIO, ETIMEDOUT, interrupted | `Unavailable` | the device failed this call; stored data is reported separately (`DataLoss`) |
/// | anything else | `Internal` | unexpected: a bug until shown otherwise |
pub fn io_kind(e: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as K;
    match e.raw_os_error() {
        Some(28 | 122 | 27 | 24 | 23 | 12) => return ErrorKind::ResourceExhausted,
        Some(13 | 1 | 30 | 5 | 110) => return ErrorKind::Unavailable,
        _ => {}
    }
    match e.kind() {
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge | K::OutOfMemory => {
            ErrorKind::ResourceExhausted
        }
        K::PermissionDenied | K::ReadOnlyFilesystem | K::TimedOut | K::Interrupted => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Internal,
    }
}

/// The client's message for an I/O failure of `what` (`"write-ahead log"`, `"catalog"`, ...);
/// the detail (paths, internal ids) goes to the server log only.
pub fn io_error(what: &str, e: &std::io::Error) -> Error {
    let kind = io_kind(e);
    tracing::warn!(storage = what, error = %e, ?kind, "storage I/O failed");
    let message = match kind {
        ErrorKind::ResourceExhausted => {
            format!(
                "the server's storage is full ({what}: {}); retry once space is freed.",
                os_reason(e)
            )
        }
        ErrorKind::Unavailable => {
            format!(
                "the server's storage refused the operation ({what}: {}); retry later.",
                os_reason(e)
            )
        }
        _ => format!("{what} I/O error: {}.", os_reason(e)),
    };
    Error::new(kind, message)
}

/// The OS's wording of an I/O error without any path (`"No space left on device"`).
fn os_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = std::io::Error::from_raw_os_error(code).to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
        None => e.kind().to_string(),
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        io_error("storage", &e)
    }
}

impl From<fjall::Error> for Error {
    fn from(e: fjall::Error) -> Self {
        use fjall::Error as F;
        match e {
            F::Io(io) | F::Storage(fjall::LsmError::Io(io)) => io_error("catalog", &io),
            F::Poisoned => Error::new(
                ErrorKind::Unavailable,
                "the catalog failed to write earlier and refuses writes; retry later.",
            ),
            F::Locked => Error::new(
                ErrorKind::Unavailable,
                "the data directory is in use by another process.",
            ),
            other => {
                tracing::error!(error = %other, "catalog error");
                Error::data_loss("the catalog is damaged; see the server log.")
            }
        }
    }
}

impl From<tessera_wal::WalError> for Error {
    fn from(e: tessera_wal::WalError) -> Self {
        use tessera_wal::WalError as W;
        match e {
            W::Io { source, .. } => io_error("write-ahead log", &source),
            W::Corrupt { .. } | W::UnsupportedVersion { .. } => {
                tracing::error!(error = %e, "write-ahead log damaged");
                Error::data_loss("write-ahead log damaged; see the server log.")
            }
            W::Poisoned => Error::new(
                ErrorKind::Unavailable,
                "the topic's write-ahead log failed to sync earlier and refuses writes; \
                 restart the server to recover it.",
            ),
            W::FrameTooLarge { .. } | W::SeqExhausted => {
                Error::new(ErrorKind::ResourceExhausted, format!("{e}."))
            }
            other => {
                tracing::error!(error = %other, "write-ahead log error");
                Error::internal("write-ahead log error; see the server log.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_a_distinct_precise_code() {
        let kinds = [
            ErrorKind::InvalidArgument,
            ErrorKind::NotFound,
            ErrorKind::AlreadyExists,
            ErrorKind::FailedPrecondition,
            ErrorKind::PermissionDenied,
            ErrorKind::Unauthenticated,
            ErrorKind::ResourceExhausted,
            ErrorKind::Aborted,
            ErrorKind::DataLoss,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ];
        let codes: std::collections::HashSet<_> = kinds.iter().map(|k| k.code() as i32).collect();
        assert_eq!(codes.len(), kinds.len());
        let status: tonic::Status = Error::not_found("no such sequence `x`.").into();
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "no such sequence `x`.");
    }

    #[test]
    fn storage_failures_map_through_the_io_table_without_paths() {
        let full = std::io::Error::from_raw_os_error(28);
        let e: Error = full.into();
        assert_eq!(e.kind, ErrorKind::ResourceExhausted);
        assert!(
            e.message.contains("No space left on device"),
            "{}",
            e.message
        );
        assert_eq!(
            io_kind(&std::io::Error::from_raw_os_error(122)),
            ErrorKind::ResourceExhausted
        );
        assert_eq!(
            io_kind(&std::io::Error::from_raw_os_error(24)),
            ErrorKind::ResourceExhausted
        );
        assert_eq!(
            io_kind(&std::io::Error::from_raw_os_error(13)),
            ErrorKind::Unavailable
        );
        assert_eq!(
            io_kind(&std::io::Error::from_raw_os_error(30)),
            ErrorKind::Unavailable
        );
        assert_eq!(
            io_kind(&std::io::Error::from_raw_os_error(5)),
            ErrorKind::Unavailable
        );
        assert_eq!(
            io_kind(&std::io::Error::other("unexpected")),
            ErrorKind::Internal
        );
        let wal = tessera_wal::WalError::Io {
            op: "append",
            path: "/secret/topics/0190/wal/00000000000000000001.wal".into(),
            source: std::io::Error::from_raw_os_error(28),
        };
        let e: Error = wal.into();
        assert_eq!(e.kind, ErrorKind::ResourceExhausted);
        assert!(!e.message.contains("/secret"), "{}", e.message);
        let fj: Error = fjall::Error::Io(std::io::Error::from_raw_os_error(28)).into();
        assert_eq!(fj.kind, ErrorKind::ResourceExhausted);
    }
}
