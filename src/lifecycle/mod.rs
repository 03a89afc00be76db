//! Lifecycle rules (layer 2 service): sequences, sessions, topics, uploads and notifications,
//! each family in its own file, all methods of [`Lifecycle`].

mod auto_finalize;
mod metadata;
mod notifications;
mod sequences;
mod service;
mod sessions;
mod topics;
mod upload;

pub use metadata::validate_user_metadata;
pub use service::Lifecycle;
pub use sessions::SessionRef;
pub use topics::NewTopic;
pub use upload::UploadGuard;
