//! Content queries (protocol.md §3.12-§3.14 and Part B): the `query`,
//! `topic_filter_clusterize` and `topic_filter_intersect` actions.
//!
//! A query runs in stages, each reading less than the last would have to:
//!
//! 1. [`request`] parses and validates the whole body (operators in [`ops`], `$match` globs in
//!    [`glob`], ontology keys in [`field`], metadata key globs in [`meta`]).
//! 2. [`catalog`] filters sequences and topics on their catalog records.
//! 3. [`eval::compile`] resolves each tag's expressions against each candidate topic's schema.
//! 4. [`scan`] lists the topic's chunks and WAL tail, skips chunks with the skip index
//!    ([`prune`]), evaluates the survivors exactly ([`eval`], [`leaf`], [`value`]) on a bounded
//!    number of threads, and folds matching timestamps into [`clusters`].
//! 5. [`run`] combines tags (sequences intersected, topics joined) into the response;
//!    [`filter_actions`] answers clusterize/intersect from the same scan.

pub mod catalog;
pub mod clusters;
pub mod eval;
pub mod field;
pub mod filter_actions;
pub mod glob;
pub mod leaf;
pub mod meta;
pub mod ops;
pub mod prune;
pub mod request;
pub mod run;
pub mod scan;
pub mod temporal;
pub mod value;

pub use filter_actions::{clusterize, intersect};
pub use run::{response, run_query, Answer, Hit};
pub use scan::ScanStats;
