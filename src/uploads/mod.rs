//! Uploads (layer 2 service): which topics a DoPut holds right now, and when each session last
//! saw upload activity.

mod slots;

pub use slots::{UploadSlot, Uploads};
