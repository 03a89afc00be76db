//! What an upload has made durable so far.

/// Running totals reported to clients that asked for durable acks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durable {
    /// Batches durable so far in this stream.
    pub batches: u64,
    /// Rows durable so far in this stream.
    pub rows: u64,
}
