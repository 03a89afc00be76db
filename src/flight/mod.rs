//! The Arrow Flight surface: the only door into the server.

pub mod actions;
pub mod limits;
pub mod service;

pub use service::TesseraFlight;

/// The descriptor and ticket encodings live below the requests that parse them; re-exported
/// here under their old path for tools and tests.
pub use crate::descriptor;
