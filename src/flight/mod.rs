//! The Arrow Flight surface: the only door into the server.

pub mod actions;
pub mod descriptor;
pub mod limits;
pub mod service;

pub use service::TesseraFlight;
