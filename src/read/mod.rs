//! The read path: resolve a sequence or topic, describe it (FlightInfo, schema), stream its
//! rows sorted by `timestamp_ns` within a window.

mod info;
mod merge;
mod source;
mod stream;
mod views;

pub use info::{flight_info, list_flights, schema_result};
pub use merge::Merge;
pub use source::{chunk_read_error, open_chunk, ts_column, Source, TopicData};
pub use stream::do_get;
pub use stream::open_merge;
pub use views::served_schema;
