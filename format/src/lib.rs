mod error;
mod stats;
mod stats_codec;
mod stats_compute;
mod stats_values;
mod strbound;
pub use error::FormatError;
pub use stats::*;
