//! Property: whatever sequence of appends, syncs (inline, or begun and finished later as group
//! commit does, appends in between) and injected faults runs before a crash, and whatever the
//! crash leaves behind, recovery returns a bit-exact prefix of the appended frames that contains
//! at least every frame reported durable, and never garbage.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use tessera_wal::{
    CrashMode, Durability, FrameKind, SimFault, SimStorage, Wal, WalError, WalOptions,
};

const DIR: &str = "/data/wal/topic";

#[derive(Clone, Debug)]
enum Op {
    Append {
        kind: u8,
        len: usize,
        parts: usize,
        sync: bool,
    },
    Sync,
    /// Begin a group-commit sync (kept pending; appends may follow).
    BeginSync,
    /// Run the pending sync (its outcome kept; appends may follow).
    RunSync,
    /// Record the outcome of the sync that ran.
    EndSync,
    FailWritesAfter(u64, bool),
    FailSyncs(bool),
    ClearFaults,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1u8..=3, 0usize..300, 1usize..4, any::<bool>())
            .prop_map(|(kind, len, parts, sync)| Op::Append { kind, len, parts, sync }),
        2 => Just(Op::Sync),
        2 => Just(Op::BeginSync),
        2 => Just(Op::RunSync),
        2 => Just(Op::EndSync),
        1 => (0u64..400, any::<bool>()).prop_map(|(n, eio)| Op::FailWritesAfter(n, eio)),
        1 => any::<bool>().prop_map(Op::FailSyncs),
        1 => Just(Op::ClearFaults),
        1 => Just(Op::Reopen),
    ]
}

fn crash_mode() -> impl Strategy<Value = CrashMode> {
    prop_oneof![
        Just(CrashMode::DurableOnly),
        Just(CrashMode::ProcessCrash),
        any::<u64>().prop_map(|seed| CrashMode::RandomPrefix { seed }),
        any::<u64>().prop_map(|seed| CrashMode::TornLastWrite { seed }),
    ]
}

fn kind(k: u8) -> FrameKind {
    match k {
        1 => FrameKind::Schema,
        2 => FrameKind::RecordBatch,
        _ => FrameKind::Marker,
    }
}

fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as usize * 131 + i * 7) as u8)
        .collect()
}

fn open(fs: &SimStorage, opts: WalOptions) -> Result<Wal, WalError> {
    Wal::open_with_storage(Arc::new(fs.clone()), Path::new(DIR), opts).map(|(w, _)| w)
}

/// Runs `ops`, returning the frames appended (by seq - 1) and the highest seq reported durable.
fn run(fs: &SimStorage, opts: WalOptions, ops: &[Op]) -> (Vec<(FrameKind, Vec<u8>)>, u64) {
    let mut wal = open(fs, opts).expect("fresh open");
    let mut appended: Vec<(FrameKind, Vec<u8>)> = Vec::new();
    let mut durable = 0;
    let mut pending: Option<tessera_wal::PendingSync> = None;
    let mut ran: Option<(u64, tessera_wal::SyncDone)> = None;
    for op in ops {
        match op {
            Op::Append {
                kind: k,
                len,
                parts,
                sync,
            } => {
                let seq = appended.len() as u64 + 1;
                let p = payload(seq, *len);
                let chunks: Vec<&[u8]> = p.chunks((len / parts).max(1)).collect();
                let d = if *sync {
                    Durability::Sync
                } else {
                    Durability::Buffered
                };
                match wal.append(kind(*k), &chunks, d) {
                    Ok(s) => {
                        assert_eq!(s, seq);
                        appended.push((kind(*k), p));
                    }
                    Err(WalError::Poisoned) => assert!(wal.is_poisoned()),
                    // A failed write or sync: the frame may or may not have reached the file. It
                    // is a candidate for recovery but must not be counted durable, and the log
                    // is poisoned so no later frame can follow it.
                    Err(WalError::Io { .. }) => {
                        assert!(wal.is_poisoned());
                        assert!(wal.durable_seq() < seq);
                        appended.push((kind(*k), p));
                    }
                    Err(e) => panic!("unexpected append error {e}"),
                }
            }
            Op::Sync => {
                let _ = wal.sync();
            }
            Op::BeginSync => {
                if pending.is_none() {
                    match wal.begin_sync() {
                        Ok(p) => pending = p,
                        Err(WalError::Poisoned) => assert!(wal.is_poisoned()),
                        Err(e) => panic!("unexpected begin_sync error {e}"),
                    }
                }
            }
            Op::RunSync => {
                if ran.is_none() {
                    if let Some(p) = pending.take() {
                        ran = Some((p.target(), p.run()));
                    }
                }
            }
            Op::EndSync => {
                if let Some((target, done)) = ran.take() {
                    match wal.end_sync(done) {
                        Ok(d) => assert!(d >= target),
                        Err(_) => assert!(wal.is_poisoned()),
                    }
                }
            }
            Op::FailWritesAfter(n, eio) => fs.fail_writes_after(
                *n,
                if *eio {
                    SimFault::Eio
                } else {
                    SimFault::NoSpace
                },
            ),
            Op::FailSyncs(on) => fs.fail_syncs(on.then_some(SimFault::Eio)),
            Op::ClearFaults => fs.clear_faults(),
            Op::Reopen => {
                if !wal.is_poisoned() {
                    continue;
                }
                // A poisoned log is dropped and reopened, as the server does (with any sync
                // that was pending on it).
                fs.clear_faults();
                pending = None;
                ran = None;
                drop(wal);
                wal = open(fs, opts).expect("reopen after poisoning");
                assert!(wal.durable_seq() >= durable);
                // Frames that did not make it are gone for good; seqs continue from here.
                appended.truncate(wal.last_seq() as usize);
            }
        }
        assert!(wal.durable_seq() >= durable, "durable_seq went backwards");
        durable = wal.durable_seq();
        assert!(durable <= wal.last_seq());
    }
    (appended, durable)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn recovery_returns_a_prefix_containing_every_durable_frame(
        ops in proptest::collection::vec(op(), 1..40),
        segment_size in 64u64..1500,
        preallocate in any::<bool>(),
        mode in crash_mode(),
        seed in any::<u64>(),
    ) {
        let fs = SimStorage::new(seed);
        let opts = WalOptions { segment_size_bytes: segment_size, preallocate };
        let (appended, durable) = run(&fs, opts, &ops);
        let everything = mode == CrashMode::ProcessCrash;
        let image = fs.crash_image(mode);
        let (wal, report) = Wal::open_with_storage(Arc::new(image.clone()), Path::new(DIR), opts)
            .expect("a crash never looks like data loss");
        let got: Vec<_> = wal.reader(0).map(|f| f.expect("recovered frames read back")).collect();
        prop_assert!(got.len() as u64 >= durable, "lost durable frames: {} < {durable}", got.len());
        prop_assert!(got.len() <= appended.len());
        prop_assert_eq!(report.frames, got.len() as u64);
        for (i, f) in got.iter().enumerate() {
            prop_assert_eq!(f.seq, i as u64 + 1);
            prop_assert_eq!(f.kind, appended[i].0);
            prop_assert!(f.payload == appended[i].1, "payload of seq {} differs", f.seq);
        }
        if everything {
            // Nothing is lost by a process crash, except frames whose write failed.
            prop_assert!(got.len() + 1 >= appended.len());
        }
        // The recovered log is fully usable and a second recovery is a no-op.
        let mut wal = wal;
        let next = wal.append(FrameKind::Marker, &[b"after"], Durability::Sync).unwrap();
        prop_assert_eq!(next, got.len() as u64 + 1);
        drop(wal);
        let (_, again) = Wal::open_with_storage(Arc::new(image), Path::new(DIR), opts).unwrap();
        prop_assert_eq!(again.truncated, None);
        prop_assert_eq!(again.last_seq, next);
    }

    #[test]
    fn bit_flips_never_yield_garbage(
        lens in proptest::collection::vec(0usize..200, 1..20),
        segment_size in 64u64..1000,
        pick in any::<prop::sample::Index>(),
        offset in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let fs = SimStorage::new(1);
        let opts = WalOptions { segment_size_bytes: segment_size, preallocate: false };
        let mut wal = open(&fs, opts).unwrap();
        let payloads: Vec<Vec<u8>> =
            lens.iter().enumerate().map(|(i, &n)| payload(i as u64 + 1, n)).collect();
        for p in &payloads {
            wal.append(FrameKind::RecordBatch, &[p], Durability::Sync).unwrap();
        }
        use tessera_wal::Storage;
        let mut names = fs.list_dir(Path::new(DIR)).unwrap();
        names.sort();
        let path = Path::new(DIR).join(pick.get(&names));
        let len = fs.contents(&path).unwrap().len();
        let image = fs.crash_image(CrashMode::BitFlip {
            path,
            offset: offset.index(len) as u64,
            bit,
        });
        match Wal::open_with_storage(Arc::new(image), Path::new(DIR), opts) {
            Ok((wal, _)) => {
                for f in wal.reader(0) {
                    let f = f.expect("recovered frames read back");
                    prop_assert!(f.payload == payloads[f.seq as usize - 1]);
                }
            }
            Err(WalError::Corrupt { .. } | WalError::UnsupportedVersion { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}
