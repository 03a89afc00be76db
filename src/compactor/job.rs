//! A request to seal one topic.

use uuid::Uuid;

/// A request to seal one topic.
#[derive(Debug, Clone)]
pub struct SealJob {
    /// Sequence name.
    pub sequence: String,
    /// Topic path.
    pub topic: String,
    /// Topic internal id.
    pub id: Uuid,
    /// Seal even if less than a chunk is waiting.
    pub force: bool,
}
