//! Fuzzing harness: one `pub fn <target>(data: &[u8])` per decoder that untrusted bytes reach.
//!
//! Each target feeds arbitrary bytes through the REAL decoder and checks invariants: round trips
//! where an encoder exists, verified WAL frames, valid prefixes after recovery, error kinds that
//! name a client mistake. A target panics only when an invariant is violated (or the test
//! environment itself is broken); a panic that the code under test catches on purpose (arrow-ipc
//! decoding runs under `catch_unwind`) is not a failure.
//!
//! Used by the cargo-fuzz targets in `fuzz/` and by `tests/fuzz_corpus_replay.rs`, which replays
//! the committed corpora on stable. Compiled only with the `fuzz-harness` feature (turned on by
//! `fuzz/Cargo.toml` and by this package's self dev-dependency), so no server build contains it. [`TARGETS`] names every target; corpus directories carry
//! the same names. Input layouts are described on each function; seeds come from
//! `fuzz/src/make_seeds.rs`.
//!
//! Files: `wal` (frames, segments, recovery), `chunk` (chunk files, statistics), `catalog`,
//! `bodies` (action bodies), `messages` (IPC messages and shared encoders), `doput`,
//! `descriptors` (descriptors, tickets, names); shared helpers live here.
//!
//! Targets that need an [`Engine`] share one per process (in a scratch directory under
//! `std::env::temp_dir()`, behind a mutex) and delete every sequence before each input, so an
//! input's outcome does not depend on the inputs before it.

// A harness reports violated invariants and a broken environment by panicking: that is its
// only output channel.
#![allow(clippy::expect_used, clippy::panic)]

mod bodies;
mod catalog;
mod chunk;
mod descriptors;
mod doput;
mod messages;
mod wal;

pub use bodies::*;
pub use catalog::*;
pub use chunk::*;
pub use descriptors::*;
pub use doput::*;
pub use messages::*;
pub use wal::*;

use crate::catalog::records::{
    self, DataStats, NotificationRecord, SequenceRecord, SessionRecord, TokenRecord, TopicRecord,
};
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind};
use crate::flight::actions;
use crate::flight::descriptor::{PutDescriptor, ResourceDescriptor, TicketBody, Window};
use crate::ingest::TopicWriter;
use crate::ipc::{self, MessageKind};
use crate::lifecycle::NewTopic;
use crate::names;
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_flight::FlightDescriptor;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use serde_json::{json, value::RawValue, Value};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};
use tessera_format::{ChunkOptions, ChunkReader, ChunkStats, Compression, Prune};
use tessera_wal::{
    decode_frame, encode_header, frame_len, scan_segment_bytes, segment_file_name, AfterStop,
    FrameDefect, FrameKind, ScanStop, SimStorage, Wal, WalOptions, FRAME_HEADER_LEN,
    SEGMENT_HEADER_LEN, SEGMENT_MAGIC,
};

/// A harness entry point.
pub type Target = fn(&[u8]);

/// Every target, by the name its fuzz target and corpus directory carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("wal_frame", wal_frame),
    ("wal_segment", wal_segment),
    ("wal_recovery", wal_recovery),
    ("chunk_file", chunk_file),
    ("chunk_stats", chunk_stats),
    ("catalog_record", catalog_record),
    ("actions", actions),
    ("ipc_message", ipc_message),
    ("doput", doput),
    ("descriptors", descriptors),
];

// ---------------------------------------------------------------------------------------------
// Panic bookkeeping

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CHECKING: Cell<bool> = const { Cell::new(false) };
}

/// Install (once per process) a panic hook that, while [`run_checked`] runs a target on this
/// thread, only records the message: panics the code under test catches itself then stay
/// quiet and non-fatal, and [`run_checked`] reports the rest. Other panics go to the previous
/// hook as usual.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CHECKING.with(Cell::get) {
                let msg = info.to_string();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
            } else {
                previous(info);
            }
        }));
    });
}

/// Run `target` on `data`; `Err(message)` if a panic escaped it (a violated invariant).
pub fn run_checked(target: Target, data: &[u8]) -> Result<(), String> {
    LAST_PANIC.with(|p| p.borrow_mut().take());
    CHECKING.with(|c| c.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| target(data)));
    CHECKING.with(|c| c.set(false));
    match outcome {
        Ok(()) => Ok(()),
        Err(_) => Err(LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panic without a recorded message".to_owned())),
    }
}

// ---------------------------------------------------------------------------------------------
// Small input helpers

/// Reads length-prefixed pieces off the front of fuzz input; lengths are clamped to what is left.
pub(super) struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    fn u16(&mut self) -> usize {
        let b = self.take(2);
        b.iter()
            .rev()
            .fold(0, |acc, &x| (acc << 8) | usize::from(x))
    }
    fn u32(&mut self) -> u32 {
        let b = self.take(4);
        b.iter().rev().fold(0, |acc, &x| (acc << 8) | u32::from(x))
    }
    fn i64(&mut self) -> i64 {
        let b = self.take(8);
        b.iter().rev().fold(0, |acc, &x| (acc << 8) | i64::from(x))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// CRC-32 (IEEE), as the WAL and the stats codec use it; bitwise, for fixing up fuzz inputs.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A per-process scratch directory; leftovers of dead processes are removed on first use.
pub(super) fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::temp_dir();
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = name.strip_prefix("tessera-harness-");
                if pid.is_some_and(|p| !Path::new("/proc").join(p).exists()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("tessera-harness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("harness scratch directory");
        dir
    })
}

/// A file path private to the calling thread.
pub(super) fn thread_file(stem: &str) -> PathBuf {
    let id = format!("{:?}", std::thread::current().id());
    let id: String = id.chars().filter(char::is_ascii_digit).collect();
    scratch().join(format!("{stem}-{id}"))
}

/// The shared engine, locked; every sequence of earlier inputs deleted.
pub(super) fn engine() -> MutexGuard<'static, Arc<Engine>> {
    static ENGINE: OnceLock<Mutex<Arc<Engine>>> = OnceLock::new();
    let m = ENGINE.get_or_init(|| {
        let mut config = Config::with_data_dir(scratch().join("engine"));
        config.wal_segment_bytes = 4096; // small segments: rotation on most inputs
        Mutex::new(Engine::open(config).expect("harness engine opens"))
    });
    // A poisoned lock only means an earlier input violated an invariant; the reset below
    // brings the engine back to a known state.
    let guard = m.lock().unwrap_or_else(|p| p.into_inner());
    let seqs = guard.catalog().sequences();
    let seqs = seqs.unwrap_or_else(|e| panic!("catalog must list its sequences: {e}"));
    for (name, _) in seqs {
        let r = guard.lifecycle().delete_sequence(&name);
        assert!(r.is_ok(), "deleting sequence `{name}` failed: {r:?}");
    }
    guard
}

/// A client mistake must never surface as a server-side failure, and must say what to fix.
pub(super) fn assert_client_error(e: &Error, context: &str) {
    assert!(
        !matches!(
            e.kind,
            ErrorKind::Internal | ErrorKind::DataLoss | ErrorKind::Unavailable
        ),
        "{context}: malformed input gave a server-side error {e:?}"
    );
    assert!(
        !e.message.trim().is_empty(),
        "{context}: error without a message"
    );
}
