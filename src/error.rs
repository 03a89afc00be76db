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
    /// The token does not match the resource.
    PermissionDenied,
    /// A size or capacity limit was hit (message too large, back-pressure limit).
    ResourceExhausted,
    /// The stream carried a message the protocol does not allow at that point (e.g. a second
    /// schema message in a DoPut, protocol.md §8.1).
    Aborted,
    /// Stored data that was acknowledged is damaged or missing.
    DataLoss,
    /// The server is shutting down.
    Unavailable,
    /// A bug or an unexpected I/O failure on the server side.
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

impl From<fjall::Error> for Error {
    fn from(e: fjall::Error) -> Self {
        Error::internal(format!("catalog error: {e}."))
    }
}

impl From<tessera_wal::WalError> for Error {
    fn from(e: tessera_wal::WalError) -> Self {
        use tessera_wal::WalError as W;
        match e {
            W::Corrupt { .. } => Error::data_loss(format!("write-ahead log damaged: {e}.")),
            W::Poisoned => Error::internal(
                "the topic's write-ahead log failed to sync earlier and refuses writes; \
                 restart the server to recover it.",
            ),
            W::FrameTooLarge { .. } => Error::new(ErrorKind::ResourceExhausted, format!("{e}.")),
            other => Error::internal(format!("write-ahead log error: {other}.")),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("I/O error: {e}."))
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
}
