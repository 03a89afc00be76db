//! Fuzzing harness: one `pub fn <target>(data: &[u8])` per decoder that untrusted bytes reach.
//!
//! Each target feeds arbitrary bytes through the REAL decoder and checks invariants: round trips
//! where an encoder exists, verified WAL frames, valid prefixes after recovery, error kinds that
//! name a client mistake. A target panics only when an invariant is violated (or the test
//! environment itself is broken); a panic that the code under test catches on purpose (arrow-ipc
//! decoding runs under `catch_unwind`) is not a failure.
//!
//! Used by the cargo-fuzz targets in `fuzz/` and by `tests/fuzz_corpus_replay.rs`, which replays
//! the committed corpora on stable. [`TARGETS`] names every target; corpus directories carry
//! the same names. Input layouts are described on each function; seeds come from
//! `fuzz/src/make_seeds.rs`.
//!
//! Targets that need an [`Engine`] share one per process (in a scratch directory under
//! `std::env::temp_dir()`, behind a mutex) and delete every sequence before each input, so an
//! input's outcome does not depend on the inputs before it.

// A harness reports violated invariants and a broken environment by panicking: that is its
// only output channel.
#![allow(clippy::expect_used, clippy::panic)]

use crate::catalog::records::{
    self, DataStats, NotificationRecord, SequenceRecord, SessionRecord, TokenRecord, TopicRecord,
};
use crate::engine::{Engine, NewTopic};
use crate::error::{Error, ErrorKind};
use crate::flight::actions;
use crate::flight::descriptor::{PutDescriptor, ResourceDescriptor, TicketBody, Window};
use crate::ingest::TopicWriter;
use crate::ipc::{self, MessageKind};
use crate::{names, Config};
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
struct Input<'a>(&'a [u8]);

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
fn crc32(bytes: &[u8]) -> u32 {
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
fn scratch() -> &'static Path {
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
fn thread_file(stem: &str) -> PathBuf {
    let id = format!("{:?}", std::thread::current().id());
    let id: String = id.chars().filter(char::is_ascii_digit).collect();
    scratch().join(format!("{stem}-{id}"))
}

/// The shared engine, locked; every sequence of earlier inputs deleted.
fn engine() -> MutexGuard<'static, Arc<Engine>> {
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
        let r = guard.delete_sequence(&name);
        assert!(r.is_ok(), "deleting sequence `{name}` failed: {r:?}");
    }
    guard
}

/// A client mistake must never surface as a server-side failure, and must say what to fix.
fn assert_client_error(e: &Error, context: &str) {
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

// ---------------------------------------------------------------------------------------------
// WAL

/// Recompute every frame checksum that a plausible header declares, walking frames from
/// `start`, so mutated inputs get past the crc check and reach the deeper rules.
fn fix_frame_crcs(bytes: &mut [u8], start: usize) {
    let mut pos = start;
    while let Some(h) = bytes
        .get(pos..)
        .and_then(|r| r.first_chunk::<FRAME_HEADER_LEN>())
    {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let Some(kind) = FrameKind::from_u8(h[8]) else {
            return;
        };
        let seq = u64::from_le_bytes([h[16], h[17], h[18], h[19], h[20], h[21], h[22], h[23]]);
        let body = pos + FRAME_HEADER_LEN;
        let Some(payload) = bytes.get(body..body.saturating_add(len as usize)) else {
            return;
        };
        let Ok((fixed, _)) = encode_header(kind, seq, &[payload]) else {
            return;
        };
        if let Some(crc) = bytes.get_mut(pos + 4..pos + 8) {
            crc.copy_from_slice(&fixed[4..8]);
        }
        pos = pos.saturating_add(frame_len(len) as usize);
    }
}

fn fix_segment_crcs(bytes: &mut [u8]) {
    if let Some(h) = bytes.first_chunk_mut::<SEGMENT_HEADER_LEN>() {
        let (covered, crc) = h.split_at_mut(28);
        crc.copy_from_slice(&crc32(covered).to_le_bytes());
    }
    fix_frame_crcs(bytes, SEGMENT_HEADER_LEN);
}

/// Check one `decode_frame` result against the bytes it came from.
fn check_frame(bytes: &[u8], offset: usize) -> Option<tessera_wal::DecodedFrame> {
    let rest = bytes.get(offset..).unwrap_or(&[]);
    match decode_frame(bytes, offset) {
        Ok(Some(f)) => {
            let payload = bytes
                .get(f.payload.clone())
                .expect("payload lies inside the bytes");
            let (header, len) =
                encode_header(f.kind, f.seq, &[payload]).expect("a decoded frame re-encodes");
            assert_eq!(
                rest.get(..FRAME_HEADER_LEN),
                Some(&header[..]),
                "header re-encodes to different bytes"
            );
            assert_eq!(f.next_offset, offset + frame_len(len) as usize);
            assert!(f.next_offset <= bytes.len());
            let pad = bytes
                .get(f.payload.end..f.next_offset)
                .expect("padding in bounds");
            assert!(pad.iter().all(|&b| b == 0), "accepted non-zero padding");
            Some(f)
        }
        Ok(None) => {
            let head = rest.get(..FRAME_HEADER_LEN).unwrap_or(rest);
            assert!(head.iter().all(|&b| b == 0), "end marker on non-zero bytes");
            None
        }
        Err(d) => {
            if let FrameDefect::PartialHeader { available } = d {
                assert!(available < FRAME_HEADER_LEN as u64);
            }
            None
        }
    }
}

/// `decode_frame` on the input, on the input with its checksum fixed, and the encode → decode
/// round trip of `[kind][seq u64][payload...]` read from the input.
pub fn wal_frame(data: &[u8]) {
    let offset = data.first().map_or(0, |b| usize::from(b & 7) * 8);
    check_frame(data, offset);
    let mut fixed = data.to_vec();
    fix_frame_crcs(&mut fixed, offset);
    check_frame(&fixed, offset);
    if let Err(d) = decode_frame(&fixed, offset) {
        assert!(
            !matches!(d, FrameDefect::ChecksumMismatch { .. }),
            "checksum still wrong after fixing it"
        );
    }
    let mut input = Input(data);
    let kind = FrameKind::from_u8(input.byte() % 3 + 1).expect("kinds 1..=3 exist");
    let seq = input.i64() as u64;
    let payload = input.0;
    let (header, len) = encode_header(kind, seq, &[payload]).expect("small payloads encode");
    let mut frame = header.to_vec();
    frame.extend_from_slice(payload);
    frame.resize(frame_len(len) as usize, 0);
    let f = decode_frame(&frame, 0)
        .expect("an encoded frame decodes")
        .expect("an encoded frame is not an end marker");
    assert_eq!((f.kind, f.seq), (kind, seq));
    assert_eq!(frame.get(f.payload), Some(payload));
    assert_eq!(f.next_offset, frame.len());
}

/// Check a segment scan: every frame verifies, seqs are contiguous, offsets chain, and the stop
/// reason and the later-frame report agree with the bytes.
fn check_scan(bytes: &[u8]) {
    let r = scan_segment_bytes(bytes);
    let Some(header) = r.header else {
        assert!(
            matches!(r.stop, ScanStop::BadHeader(_)),
            "no header but {:?}",
            r.stop
        );
        assert!(r.frames.is_empty() && r.valid_end == 0);
        return;
    };
    let mut pos = SEGMENT_HEADER_LEN;
    let mut seq = header.first_seq;
    for f in &r.frames {
        assert_eq!(f.offset, pos as u64, "frames do not chain");
        assert_eq!(f.seq, seq, "frame seqs are not contiguous");
        let d = check_frame(bytes, pos).expect("a scanned frame verifies");
        assert_eq!((d.kind, d.payload.len()), (f.kind, f.payload_len as usize));
        pos = d.next_offset;
        seq = seq.wrapping_add(1);
    }
    assert_eq!(r.valid_end, pos as u64);
    match &r.stop {
        ScanStop::EndOfFile => assert_eq!(pos, bytes.len()),
        ScanStop::EndMarker => assert!(matches!(decode_frame(bytes, pos), Ok(None))),
        ScanStop::Invalid(d) => assert_eq!(decode_frame(bytes, pos).err().as_ref(), Some(d)),
        ScanStop::SeqMismatch { found, .. } => {
            let f = check_frame(bytes, pos).expect("the mismatching frame is valid");
            assert_eq!(f.seq, *found);
        }
        ScanStop::BadHeader(_) => panic!("a valid header reported as bad"),
    }
    if let AfterStop::ValidFrame { offset, seq: later } = r.after {
        assert!(offset > r.valid_end && offset % 8 == 0);
        let f = check_frame(bytes, offset as usize).expect("the later frame is valid");
        assert_eq!(f.seq, later);
    }
}

/// [`scan_segment_bytes`] on the input as a whole segment file, raw and with every checksum
/// (segment header and frames) fixed.
pub fn wal_segment(data: &[u8]) {
    check_scan(data);
    let mut fixed = data.to_vec();
    fix_segment_crcs(&mut fixed);
    check_scan(&fixed);
}

/// The input as a WAL directory in [`SimStorage`]: split at each segment magic into segment
/// files (named by their header's `first_seq` when readable), checksums fixed when the first
/// byte is odd. `Wal::open_with_storage` must fail cleanly or recover a valid prefix of the
/// frames the files hold, durable, appendable, and the same after a reopen.
pub fn wal_recovery(data: &[u8]) {
    let mut input = Input(data);
    let fix = input.byte() & 1 == 1;
    let mut starts: Vec<usize> = (1..input.0.len())
        .filter(|&i| input.0.get(i..i + 8) == Some(&SEGMENT_MAGIC[..]))
        .take(15)
        .collect();
    starts.insert(0, 0);
    let sim = SimStorage::new(7);
    let dir = Path::new("/wal");
    let mut originals = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(input.0.len());
        let mut seg = input.0.get(s..end).unwrap_or(&[]).to_vec();
        if fix {
            fix_segment_crcs(&mut seg);
        }
        let first = tessera_wal::decode_segment_header(&seg).map_or(i as u64 + 1, |h| h.first_seq);
        let path = dir.join(segment_file_name(first));
        sim.put_file(&path, &seg)
            .expect("sim storage accepts files");
        originals.push(seg);
    }
    // Every valid frame any file holds, by seq: what recovery may return.
    let mut valid = std::collections::HashMap::new();
    for seg in &originals {
        let r = scan_segment_bytes(seg);
        for f in &r.frames {
            let start = f.offset as usize + FRAME_HEADER_LEN;
            let payload = seg
                .get(start..start + f.payload_len as usize)
                .unwrap_or(&[]);
            valid
                .entry(f.seq)
                .or_insert_with(Vec::new)
                .push((f.kind, payload.to_vec()));
        }
    }
    let opts = WalOptions {
        segment_size_bytes: 4096,
        preallocate: false,
    };
    let storage: Arc<dyn tessera_wal::Storage> = Arc::new(sim.clone());
    let Ok((mut wal, report)) = Wal::open_with_storage(Arc::clone(&storage), dir, opts) else {
        return; // refusing (corruption, unsupported version) is a correct answer
    };
    assert_eq!(wal.last_seq(), report.last_seq);
    assert_eq!(
        wal.durable_seq(),
        wal.last_seq(),
        "recovered frames must be durable"
    );
    let frames = read_all(&wal);
    assert_eq!(frames.len() as u64, report.frames);
    if let [only] = originals.as_slice() {
        let scanned = scan_segment_bytes(only).frames.len();
        assert_eq!(
            frames.len(),
            scanned,
            "recovery dropped valid frames of the only segment"
        );
    }
    for f in &frames {
        let candidates = valid.get(&f.seq).map(Vec::as_slice).unwrap_or(&[]);
        assert!(
            candidates
                .iter()
                .any(|(k, p)| *k == f.kind && *p == f.payload),
            "recovered frame {} is not a valid frame of the input",
            f.seq
        );
    }
    if wal.last_seq() == u64::MAX {
        return;
    }
    let seq = wal
        .append(
            FrameKind::Marker,
            &[b"after recovery"],
            tessera_wal::Durability::Sync,
        )
        .expect("a recovered log accepts appends");
    assert_eq!(seq, report.last_seq + 1);
    drop(wal);
    let (again, report2) =
        Wal::open_with_storage(storage, dir, opts).expect("a recovered log reopens");
    assert!(
        report2.truncated.is_none(),
        "reopen truncated again: {report2:?}"
    );
    let frames2 = read_all(&again);
    assert_eq!(frames2.len(), frames.len() + 1);
    assert_eq!(frames2.get(..frames.len()), Some(&frames[..]));
}

fn read_all(wal: &Wal) -> Vec<tessera_wal::Frame> {
    let first = wal.reader(0).next().map(|f| f.map(|f| f.seq));
    let mut out = Vec::new();
    for (i, f) in wal.reader(0).enumerate() {
        let f = f.unwrap_or_else(|e| panic!("recovered log fails to read back: {e}"));
        if let Some(Ok(first)) = first {
            assert_eq!(f.seq, first + i as u64, "recovered seqs not contiguous");
        }
        out.push(f);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Chunk files and statistics

/// The schema of the harness's valid chunks: index, float, string, list and a geo struct.
fn chunk_schema() -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    let geo = arrow_schema::Fields::from(vec![
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("samples", DataType::List(item), true),
        Field::new("position", DataType::Struct(geo), true),
    ]))
}

/// A small batch of [`chunk_schema`] rows with timestamps `ts` (unsorted, with duplicates).
pub fn chunk_batch(ts: &[i64]) -> RecordBatch {
    let f = |g: fn(i64) -> Option<f64>| {
        Arc::new(Float64Array::from(
            ts.iter().map(|&t| g(t)).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    let labels: Vec<Option<String>> = ts
        .iter()
        .map(|t| (t % 3 != 0).then(|| format!("label-{t}")))
        .collect();
    let mut samples =
        arrow_array::builder::ListBuilder::new(arrow_array::builder::Float64Builder::new());
    for &t in ts {
        for k in 0..(t.rem_euclid(4)) {
            samples.values().append_value((t * k) as f64);
        }
        samples.append(t % 5 != 0);
    }
    let position = arrow_array::StructArray::new(
        arrow_schema::Fields::from(vec![
            Field::new("latitude", DataType::Float64, true),
            Field::new("longitude", DataType::Float64, true),
        ]),
        vec![
            f(|t| Some((t % 90) as f64)),
            f(|t| Some((t % 180) as f64 - 1.5)),
        ],
        None,
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ts.to_vec())),
        f(|t| match (t % 7, t % 11) {
            (0, _) => None,
            (_, 0) => Some(f64::NAN),
            _ => Some(t as f64 / 3.0),
        }),
        Arc::new(StringArray::from(labels)),
        Arc::new(samples.finish()),
        Arc::new(position),
    ];
    RecordBatch::try_new(chunk_schema(), columns).expect("harness batch matches its schema")
}

/// Bytes of a valid chunk file (several blocks), compressed with zstd or not.
pub fn valid_chunk(zstd: bool) -> &'static [u8] {
    static CHUNKS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    let [raw, compressed] = CHUNKS.get_or_init(|| {
        let make = |compression| {
            let path = thread_file("valid-chunk");
            let _ = std::fs::remove_file(&path);
            let ts: Vec<i64> = (0..40).map(|i| (i * 7919) % 97 - 20).collect();
            let (a, b) = ts.split_at(25);
            let batches = [chunk_batch(a), chunk_batch(b)];
            let opts = ChunkOptions {
                compression,
                max_batch_bytes: 512,
            };
            tessera_format::write_chunk(&path, &chunk_schema(), &batches, &opts)
                .expect("harness chunk writes");
            let bytes = std::fs::read(&path).expect("harness chunk reads back");
            let _ = std::fs::remove_file(&path);
            bytes
        };
        [
            make(Compression::None),
            make(Compression::Zstd { level: 1 }),
        ]
    });
    if zstd {
        compressed
    } else {
        raw
    }
}

/// Apply edits read from `input` to `bytes`: records of `[u32 LE op|position][u8 value]`; the
/// top two bits of the u32 choose xor / set / truncate / insert.
fn mutate(bytes: &mut Vec<u8>, input: &mut Input<'_>) {
    for _ in 0..64 {
        if input.is_empty() {
            return;
        }
        let word = input.u32();
        let value = input.byte();
        let pos = (word & 0x3fff_ffff) as usize % bytes.len().max(1);
        match word >> 30 {
            0 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b ^= value.max(1);
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b = value;
                }
            }
            2 => bytes.truncate(pos),
            _ => bytes.insert(pos.min(bytes.len()), value),
        }
    }
}

/// First byte: bit 0 = start from a valid chunk (bit 1: the zstd one) and apply the rest of the
/// input as [`mutate`] edits; otherwise the rest of the input is the whole file. Then open it
/// with [`ChunkReader`] and check every batch, windows, stats and `verify` against each other.
pub fn chunk_file(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.byte();
    let bytes = if mode & 1 == 1 {
        let mut b = valid_chunk(mode & 2 == 2).to_vec();
        mutate(&mut b, &mut input);
        b
    } else {
        input.0.to_vec()
    };
    let path = thread_file("chunk");
    std::fs::write(&path, &bytes).expect("harness writes the chunk file");
    let Ok(reader) = ChunkReader::open(&path) else {
        return;
    };
    let schema = reader.schema();
    let ts_index = schema
        .index_of("timestamp_ns")
        .expect("an open chunk has timestamp_ns");
    let stats = reader.stats().clone();
    assert_eq!(
        ChunkStats::decode(&stats.encode()).ok().as_ref(),
        Some(&stats)
    );
    let mut rows: Vec<i64> = Vec::new();
    let mut all_read = true;
    for i in 0..reader.num_batches() {
        let Ok(batch) = reader.read_batch(i) else {
            all_read = false;
            continue;
        };
        assert_eq!(batch.schema().fields(), schema.fields());
        let ts = timestamps(&batch, ts_index);
        assert!(!ts.is_empty(), "a chunk yielded an empty batch");
        assert!(ts.is_sorted(), "batch {i} is not sorted");
        let range = ts.first().copied().zip(ts.last().copied());
        assert_eq!(range, reader.batch_time_range(i));
        if let (Some(prev), Some(first)) = (rows.last(), ts.first()) {
            assert!(prev <= first, "batches out of time order");
        }
        rows.extend(ts);
    }
    assert!(reader.read_batch(reader.num_batches()).is_err());
    if reader.verify().is_ok() {
        assert!(all_read, "verify passed but a batch failed to read");
    }
    if !all_read {
        return;
    }
    assert_eq!(rows.len() as u64, stats.row_count);
    if let (Some(lo), Some(hi)) = (rows.first(), rows.last()) {
        assert_eq!((*lo, *hi), (stats.ts_min, stats.ts_max));
    }
    let (lo, hi) = (stats.ts_min, stats.ts_max);
    let mid = lo / 2 + hi / 2;
    for (start, end) in [
        (None, None),
        (Some(mid), None),
        (Some(lo.saturating_add(1)), Some(hi)),
    ] {
        let mut got = Vec::new();
        for b in reader.window(start, end) {
            let b = b.expect("a verified chunk reads in windows");
            assert!(b.num_rows() > 0, "window yielded an empty batch");
            got.extend(timestamps(&b, ts_index));
        }
        let w = Window { start, end };
        let want: Vec<i64> = rows.iter().copied().filter(|&t| w.contains(t)).collect();
        assert_eq!(
            got, want,
            "window [{start:?}, {end:?}) lost or invented rows"
        );
    }
}

fn timestamps(batch: &RecordBatch, ts_index: usize) -> Vec<i64> {
    let col = batch.columns().get(ts_index).expect("timestamp column");
    let ts = col
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("timestamp_ns is Int64");
    assert_eq!(ts.null_count(), 0, "null timestamps in a chunk");
    ts.values().to_vec()
}

/// [`ChunkStats::decode`] on the input and on the input with its trailing crc fixed: decoded
/// stats re-encode to exactly the input bytes; pruning by time is sound on them.
pub fn chunk_stats(data: &[u8]) {
    let mut fixed = data.to_vec();
    if let Some(body) = fixed.len().checked_sub(4) {
        let crc = crc32(fixed.get(..body).unwrap_or(&[]));
        if let Some(tail) = fixed.get_mut(body..) {
            tail.copy_from_slice(&crc.to_le_bytes());
        }
    }
    for bytes in [data, &fixed[..]] {
        let Ok(stats) = ChunkStats::decode(bytes) else {
            continue;
        };
        assert_eq!(
            stats.encode(),
            bytes,
            "decoded stats re-encode to other bytes"
        );
        let mut merged = stats.clone();
        merged.merge(&stats);
        let mut input = Input(bytes.get(8..).unwrap_or(&[]));
        let (a, b) = (input.i64(), input.i64());
        for (start, end) in [(Some(a), Some(b)), (Some(a), None), (None, Some(b))] {
            let w = Window { start, end };
            let hit = stats.row_count > 0 && (w.contains(stats.ts_min) || w.contains(stats.ts_max));
            if hit {
                assert_eq!(
                    tessera_format::prune_time(&stats, start, end),
                    Prune::Keep,
                    "pruned a chunk with a row in the window"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog values

/// Decode `bytes` as `T`; a decoded value re-encodes to bytes that decode and re-encode to
/// themselves; a refusal is `DataLoss` naming the entry.
fn catalog_round_trip<T>(bytes: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    match records::decode::<T>(bytes, "fuzz-entry") {
        Ok(value) => {
            let once = records::encode(&value).expect("a decoded record encodes");
            assert_eq!(once.first(), Some(&records::VALUE_VERSION));
            let back: T = records::decode(&once, "again").expect("an encoded record decodes");
            let twice = records::encode(&back).expect("a decoded record encodes");
            assert_eq!(once, twice, "catalog record does not round-trip");
        }
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::DataLoss, "{e:?}");
            assert!(
                e.message.contains("fuzz-entry"),
                "error does not name the entry: {e:?}"
            );
        }
    }
}

/// First byte chooses the record type (sequence, session, topic, token, notification, topic
/// statistics, raw schema value); the rest is the stored value.
pub fn catalog_record(data: &[u8]) {
    let mut input = Input(data);
    let which = input.byte();
    let value = input.0;
    match which % 7 {
        0 => catalog_round_trip::<SequenceRecord>(value),
        1 => catalog_round_trip::<SessionRecord>(value),
        2 => catalog_round_trip::<TopicRecord>(value),
        3 => catalog_round_trip::<TokenRecord>(value),
        4 => catalog_round_trip::<NotificationRecord>(value),
        5 => catalog_round_trip::<DataStats>(value),
        _ => match records::decode_raw(value, "raw") {
            Ok(body) => assert_eq!(records::encode_raw(body), value),
            Err(e) => assert_eq!(e.kind, ErrorKind::DataLoss),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Tokens the action bodies of one input may refer to.
#[derive(Default)]
struct Placeholders {
    session: String,
    topic: String,
    locator: String,
}

impl Placeholders {
    fn apply(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len());
        let mut rest = body;
        'outer: while let Some((&b, tail)) = rest.split_first() {
            if b == b'$' {
                for (name, value) in [
                    (&b"$SESSION"[..], &self.session),
                    (b"$TOPIC", &self.topic),
                    (b"$LOCATOR", &self.locator),
                ] {
                    if let Some(after) = rest.strip_prefix(name) {
                        out.extend_from_slice(value.as_bytes());
                        rest = after;
                        continue 'outer;
                    }
                }
            }
            out.push(b);
            rest = tail;
        }
        out
    }

    fn learn(&mut self, action: &str, response: &Value) {
        let text = |k: &str| response.get(k).and_then(Value::as_str).map(str::to_owned);
        match action {
            "session_create" => {
                self.session = text("uuid").unwrap_or_default();
                self.locator = text("locator").unwrap_or_default();
            }
            "sequence_create" => {
                if let Some(k) = text("key") {
                    self.session = k;
                }
            }
            "topic_create" => {
                self.topic = text("uuid").or_else(|| text("key")).unwrap_or_default();
            }
            _ => {}
        }
    }
}

/// Lines of `<action name> <body>` run in order through [`actions::reply`] on a fresh engine
/// state; `$SESSION`, `$TOPIC` and `$LOCATOR` in a body stand for the tokens and locator that
/// earlier actions of the same input returned. Each call returns a payload whose envelope is
/// valid JSON naming the action, or an error that blames the client; afterwards the catalog
/// still reads back.
pub fn actions(data: &[u8]) {
    let engine = engine();
    let mut tokens = Placeholders::default();
    for line in data.split(|&b| b == b'\n').take(32) {
        let (name, body) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (
                line.get(..i).unwrap_or(&[]),
                line.get(i + 1..).unwrap_or(&[]),
            ),
            None => (line, &[][..]),
        };
        let name = String::from_utf8_lossy(name);
        let body = tokens.apply(body);
        match actions::reply(&engine, &name, &body) {
            Ok(reply) => {
                let responses = match reply {
                    actions::Reply::One(v) => vec![v],
                    actions::Reply::Paged(items) => items,
                };
                for response in responses {
                    let env: Value =
                        serde_json::from_slice(&actions::envelope(&name, response.clone()))
                            .expect("the envelope is JSON");
                    assert_eq!(env.get("action").and_then(Value::as_str), Some(&*name));
                    tokens.learn(&name, &response);
                }
            }
            Err(e) => assert_client_error(&e, &format!("action `{name}`")),
        }
    }
    let catalog = engine.catalog();
    for (seq, _) in catalog.sequences().expect("sequences read back") {
        catalog.sessions_of(&seq).expect("sessions read back");
        for (_, topic) in catalog.topics_of(&seq).expect("topics read back") {
            catalog.token(&topic.uuid).expect("token reads back");
        }
        catalog
            .notifications(&seq)
            .expect("notifications read back");
    }
}

// ---------------------------------------------------------------------------------------------
// Arrow IPC messages

/// The record batch schemas [`ipc_message`] decodes against (index = selector % len).
pub fn ipc_schemas() -> &'static [SchemaRef] {
    static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let ts = || Field::new("timestamp_ns", DataType::Int64, false);
        let with_ts = |fields: Vec<Field>| {
            let mut all = vec![ts()];
            all.extend(fields);
            Arc::new(Schema::new(all))
        };
        let entries = Field::new(
            "entries",
            DataType::Struct(arrow_schema::Fields::from(vec![
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Int64, true),
            ])),
            false,
        );
        let union = arrow_schema::UnionFields::try_new(
            [0i8, 1],
            [
                Field::new("i", DataType::Int32, true),
                Field::new("s", DataType::Utf8, true),
            ],
        )
        .expect("valid union fields");
        vec![
            chunk_schema(),
            with_ts(vec![]),
            with_ts(vec![
                Field::new("bin", DataType::Binary, true),
                Field::new("large", DataType::LargeUtf8, true),
                Field::new("sview", DataType::Utf8View, true),
                Field::new("bview", DataType::BinaryView, true),
            ]),
            with_ts(vec![
                Field::new("flag", DataType::Boolean, true),
                Field::new("i8", DataType::Int8, true),
                Field::new("u32", DataType::UInt32, true),
                Field::new("f16", DataType::Float16, true),
                Field::new("day", DataType::Date32, true),
                Field::new(
                    "at",
                    DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None),
                    true,
                ),
                Field::new("dec", DataType::Decimal128(10, 2), true),
            ]),
            with_ts(vec![
                Field::new(
                    "xyz",
                    DataType::FixedSizeList(
                        Arc::new(Field::new("item", DataType::Float32, true)),
                        3,
                    ),
                    true,
                ),
                Field::new(
                    "ll",
                    DataType::LargeList(Arc::new(Field::new("item", DataType::Int32, true))),
                    true,
                ),
                Field::new("map", DataType::Map(Arc::new(entries), false), true),
                Field::new("fsb", DataType::FixedSizeBinary(4), true),
            ]),
            with_ts(vec![
                Field::new(
                    "u",
                    DataType::Union(union, arrow_schema::UnionMode::Dense),
                    false,
                ),
                Field::new("nothing", DataType::Null, true),
                Field::new(
                    "dur",
                    DataType::Duration(arrow_schema::TimeUnit::Millisecond),
                    true,
                ),
            ]),
        ]
    })
}

/// Encode a record batch as an IPC message `(header, body)`, uncompressed.
pub fn encode_batch(batch: &RecordBatch) -> (Vec<u8>, Vec<u8>) {
    let gen = arrow_ipc::writer::IpcDataGenerator::default();
    let mut tracker = arrow_ipc::writer::DictionaryTracker::new(false);
    let opts = arrow_ipc::writer::IpcWriteOptions::default();
    let (_, enc) = gen
        .encode(batch, &mut tracker, &opts, &mut Default::default())
        .expect("a decoded batch re-encodes");
    (enc.ipc_message, enc.arrow_data)
}

/// `[schema selector][encapsulated IPC message]`: [`ipc::split_encapsulated`], then
/// [`ipc::decode_schema`] (schemas round-trip through [`ipc::schema_header`]) or
/// [`ipc::decode_batch`] against the selected schema of [`ipc_schemas`] (batches round-trip
/// through the IPC encoder to identical bytes).
pub fn ipc_message(data: &[u8]) {
    let mut input = Input(data);
    let schemas = ipc_schemas();
    let schema = schemas
        .get(usize::from(input.byte()) % schemas.len())
        .expect("selector in range");
    let payload = input.0;
    let Ok((header, body)) = ipc::split_encapsulated(payload) else {
        return;
    };
    assert_eq!(
        8 + header.len() + body.len(),
        payload.len(),
        "split lost bytes"
    );
    assert_eq!(payload.get(8..8 + header.len()), Some(header));
    match ipc::message_kind(header) {
        Ok(MessageKind::Schema) => {
            if let Ok(s) = ipc::decode_schema(header) {
                let again = ipc::decode_schema(&ipc::schema_header(&s))
                    .expect("a re-encoded schema decodes");
                assert_eq!(again, s, "schema does not round-trip");
                let _ = ipc::check_schema(&s);
            }
            assert!(ipc::decode_batch(header, Bytes::new(), schema).is_err());
        }
        Ok(MessageKind::RecordBatch) => {
            let Ok(batch) = ipc::decode_batch(header, Bytes::copy_from_slice(body), schema) else {
                return;
            };
            assert_eq!(batch.schema(), *schema);
            if let Ok(idx) = ipc::check_schema(schema) {
                let range = ipc::time_range(&batch, idx);
                if let Ok(Some((lo, hi))) = range {
                    assert!(lo <= hi);
                }
            }
            let (h1, b1) = encode_batch(&batch);
            let back = ipc::decode_batch(&h1, Bytes::from(b1.clone()), schema)
                .expect("a re-encoded batch decodes");
            assert_eq!(back.num_rows(), batch.num_rows());
            assert_eq!(encode_batch(&back), (h1, b1), "batch does not round-trip");
        }
        Ok(_) | Err(_) => {
            assert!(ipc::decode_schema(header).is_err() || header.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DoPut

/// What the topic's WAL must hold after the accepted messages.
enum Expected {
    Schema(Schema),
    Batch(Vec<u8>, Vec<u8>),
}

/// `[flags][u16 LE header length][header][u32 LE body length][body]...`: the (data_header,
/// data_body) pairs of a DoPut after its descriptor, written with [`TopicWriter::write`] to a
/// fresh topic (flag bit 0: durable acks). Checks: no panic; an error blames the client and
/// appends nothing; an accepted message appends exactly the frame it should; the stream stops
/// at the first error like a real DoPut; the WAL then reads back to exactly the accepted
/// messages, its statistics rescan to the accepted rows, and the upload resumes.
pub fn doput(data: &[u8]) {
    let engine = engine();
    let mut input = Input(data);
    let ack = input.byte() & 1 == 1;
    let empty = RawValue::from_string("{}".to_owned()).expect("{} is JSON");
    engine
        .create_sequence("fuzz", &empty, false)
        .expect("sequence");
    let (session, _) = engine.create_session("fuzz").expect("session");
    let token = engine
        .create_topic(NewTopic {
            session_token: session,
            locator: "fuzz/t",
            ontology_tag: "T",
            serialization_format: "default",
            user_metadata: &empty,
        })
        .expect("topic");
    let guard = engine
        .begin_upload("fuzz/t", &token)
        .expect("upload starts");
    let wal = Arc::clone(&guard.wal);
    let mut writer = TopicWriter::new(Arc::clone(&engine), guard, ack).expect("writer");
    let mut expected: Vec<Expected> = Vec::new();
    let mut schema: Option<(SchemaRef, usize)> = None;
    let mut stats = DataStats::default();
    for _ in 0..64 {
        if input.is_empty() {
            break;
        }
        let hlen = input.u16();
        let header = input.take(hlen);
        let blen = input.u32() as usize;
        let body = Bytes::copy_from_slice(input.take(blen));
        let result = writer.write(header, body.clone());
        let appended =
            |wal: &crate::engine::SharedWal| crate::engine::lock(wal).expect("wal lock").last_seq();
        if let Err(e) = result {
            assert_client_error(&e, "DoPut message");
            assert_eq!(
                appended(&wal),
                expected.len() as u64,
                "a refused message was stored"
            );
            break;
        }
        // Accepted: work out what the writer had to store.
        match ipc::message_kind(header) {
            _ if header.is_empty() => {}
            Ok(MessageKind::Schema) => {
                let s = ipc::decode_schema(header).expect("accepted schema decodes");
                match &schema {
                    Some((known, _)) => assert_eq!(**known, s, "schema changed silently"),
                    None => {
                        let idx = ipc::check_schema(&s).expect("accepted schema is valid");
                        expected.push(Expected::Schema(s.clone()));
                        schema = Some((Arc::new(s), idx));
                    }
                }
            }
            Ok(MessageKind::RecordBatch) => {
                let (s, idx) = schema.as_ref().expect("batch accepted before a schema");
                let batch = ipc::decode_batch(header, body.clone(), s).expect("accepted batch");
                let range = ipc::time_range(&batch, *idx).expect("accepted timestamps");
                if batch.num_rows() > 0 {
                    stats.add(batch.num_rows() as u64, body.len() as u64, range);
                    expected.push(Expected::Batch(header.to_vec(), body.to_vec()));
                }
            }
            other => panic!("writer accepted a {other:?} message"),
        }
        assert_eq!(
            appended(&wal),
            expected.len() as u64,
            "frames differ from accepted messages"
        );
    }
    writer.abandon();
    check_wal(&crate::engine::lock(&wal).expect("wal lock"), &expected);
    let record = engine
        .catalog()
        .topic("fuzz", "t")
        .expect("topic reads")
        .expect("topic exists");
    assert_eq!(
        record.stats, stats,
        "saved statistics differ from the accepted batches"
    );
    if schema.is_some() {
        let rescanned = engine
            .stored_stats(&record.id)
            .expect("stored batches rescan")
            .expect("a stored schema");
        assert_eq!(rescanned, stats);
    }
    let guard = engine
        .begin_upload("fuzz/t", &token)
        .expect("the upload is resumable");
    drop(TopicWriter::new(Arc::clone(&engine), guard, ack).expect("resumed writer"));
}

/// The WAL holds exactly `expected`, in order, every frame verified.
fn check_wal(wal: &Wal, expected: &[Expected]) {
    let frames: Vec<_> = wal
        .reader(1)
        .map(|f| f.unwrap_or_else(|e| panic!("WAL does not re-read cleanly: {e}")))
        .collect();
    assert_eq!(frames.len(), expected.len());
    for (i, (f, want)) in frames.iter().zip(expected).enumerate() {
        assert_eq!(f.seq, i as u64 + 1);
        let (h, b) = ipc::split_encapsulated(&f.payload).expect("stored payload splits");
        match want {
            Expected::Schema(s) => {
                assert_eq!(f.kind, FrameKind::Schema);
                assert!(b.is_empty());
                assert_eq!(&ipc::decode_schema(h).expect("stored schema decodes"), s);
            }
            Expected::Batch(header, body) => {
                assert_eq!(f.kind, FrameKind::RecordBatch);
                assert_eq!(h.get(..header.len()), Some(&header[..]));
                assert!(h
                    .get(header.len()..)
                    .is_some_and(|p| p.iter().all(|&x| x == 0)));
                assert_eq!(b, &body[..], "stored body differs from the accepted one");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Descriptors, tickets and names

/// First byte chooses the parser: DoPut descriptor, GetFlightInfo descriptor, ticket, PATH
/// descriptor, sequence name, topic locator or session locator; the rest is its input. Parsed
/// values re-serialize and re-parse to themselves; refusals are `InvalidArgument`.
pub fn descriptors(data: &[u8]) {
    let mut input = Input(data);
    let which = input.byte();
    let bytes = input.0;
    let cmd = FlightDescriptor::new_cmd(bytes.to_vec());
    let text = String::from_utf8_lossy(bytes);
    let refused = |e: Error| assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e:?}");
    match which % 7 {
        0 => match PutDescriptor::parse(&cmd) {
            Ok(p) => {
                let ack = p.ack_durable.then_some("durable");
                let j = json!({"resource_locator": p.resource_locator, "key": p.token, "ack": ack});
                let again = PutDescriptor::parse(&FlightDescriptor::new_cmd(j.to_string()));
                assert_eq!(again.ok(), Some(p));
            }
            Err(e) => refused(e),
        },
        1 => match ResourceDescriptor::parse(&cmd) {
            Ok(r) => {
                if let (Some(s), Some(e)) = (r.window.start, r.window.end) {
                    assert!(s < e, "accepted an empty window");
                }
                let j = json!({"resource_locator": r.resource_locator,
                    "timestamp_ns_start": r.window.start, "timestamp_ns_end": r.window.end});
                let again = ResourceDescriptor::parse(&FlightDescriptor::new_cmd(j.to_string()));
                assert_eq!(again.ok(), Some(r));
            }
            Err(e) => refused(e),
        },
        2 => match TicketBody::decode(bytes) {
            Ok(t) => {
                let encoded = t.encode();
                if encoded.len() <= crate::flight::descriptor::MAX_DESCRIPTOR_BYTES {
                    assert_eq!(TicketBody::decode(&encoded).ok(), Some(t));
                }
            }
            Err(e) => refused(e),
        },
        3 => {
            let path = FlightDescriptor::new_path(text.split('/').map(str::to_owned).collect());
            PutDescriptor::parse(&path)
                .map(|_| panic!("PATH accepted"))
                .unwrap_or_else(refused);
            ResourceDescriptor::parse(&path)
                .map(|_| panic!("PATH accepted"))
                .unwrap_or_else(refused);
        }
        4 => match names::sequence_name(&text) {
            Ok(n) => {
                assert!(!n.is_empty() && n.len() <= names::MAX_NAME_BYTES && !n.contains('/'));
                assert_eq!(names::sequence_name(&n).ok(), Some(n));
            }
            Err(e) => refused(e),
        },
        5 => match names::topic_locator(&text) {
            Ok(l) => assert_eq!(names::topic_locator(&l.locator()).ok(), Some(l)),
            Err(e) => refused(e),
        },
        _ => match names::session_locator(&text) {
            Ok((s, id)) => {
                let again = names::session_locator(&format!("{s}:{id}"));
                assert_eq!(again.ok(), Some((s, id)));
            }
            Err(e) => refused(e),
        },
    }
}
