//! Ingest: one DoPut stream into one topic's write-ahead log.

mod commit;
mod durable;
mod upload;
mod writer;

pub use upload::do_put;
pub use writer::TopicWriter;
