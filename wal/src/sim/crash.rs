//! Building the file system a process would find after a crash ([`CrashMode`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::namespace::Namespace;
use super::rng::SplitMix64;
use super::state::{DataOp, Inode, State};

/// What survives the simulated crash. Seeds make every image reproducible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Power loss with nothing lucky: only synced bytes and synced directory entries survive.
    DurableOnly,
    /// Power loss: synced state plus, independently per file and per directory, a random prefix
    /// of the unsynced operations (in order); the first operation left out of a file may
    /// additionally land torn (a random prefix of its bytes).
    RandomPrefix {
        /// Seed for the random choices.
        seed: u64,
    },
    /// Process kill (`kill -9`) between two calls: everything written survives, synced or not.
    ProcessCrash,
    /// Process kill in the middle of a write: everything survives except the most recent
    /// unsynced write, which is cut to a random prefix of its bytes (possibly empty).
    TornLastWrite {
        /// Seed for the cut position.
        seed: u64,
    },
    /// Media corruption: everything written survives, and bit `bit % 8` of byte `offset` of
    /// `path` is flipped (no flip if the file does not exist or is shorter).
    BitFlip {
        /// The damaged file.
        path: PathBuf,
        /// The damaged byte.
        offset: u64,
        /// Which bit of that byte (0..8).
        bit: u8,
    },
}

/// Replays `inode.pending` on top of its durable bytes: the first `keep` operations fully, then
/// optionally the next one cut to `torn` bytes.
fn replay(inode: &Inode, keep: usize, torn: Option<usize>) -> Vec<u8> {
    let mut data = inode.durable.clone();
    for op in inode.pending.iter().take(keep) {
        op.apply(&mut data, None);
    }
    if let (Some(limit), Some(op @ DataOp::Write { .. })) = (torn, inode.pending.get(keep)) {
        op.apply(&mut data, Some(limit));
    }
    data
}

/// The namespace after the crash.
fn namespace(state: &State, mode: &CrashMode, rng: &mut SplitMix64) -> Namespace {
    match mode {
        CrashMode::DurableOnly => state.durable.clone(),
        CrashMode::RandomPrefix { .. } => {
            let mut keep: BTreeMap<&Path, usize> = BTreeMap::new();
            let mut ns = state.durable.clone();
            let mut seen: BTreeMap<&Path, usize> = BTreeMap::new();
            for op in &state.ns_pending {
                let dir = op.dir();
                let count = state.ns_pending.iter().filter(|o| o.dir() == dir).count();
                let k = *keep.entry(dir).or_insert_with(|| rng.up_to(count));
                let idx = seen.entry(dir).or_insert(0);
                if *idx < k {
                    ns.apply(op);
                }
                *idx += 1;
            }
            ns
        }
        _ => state.now.clone(),
    }
}

/// The file contents after the crash, per inode id.
fn contents(state: &State, mode: &CrashMode, rng: &mut SplitMix64) -> BTreeMap<u64, Vec<u8>> {
    let last_write = state
        .inodes
        .iter()
        .flat_map(|(ino, inode)| {
            inode
                .pending
                .iter()
                .enumerate()
                .filter_map(move |(i, op)| match op {
                    DataOp::Write { clock, bytes, .. } => Some((*clock, *ino, i, bytes.len())),
                    DataOp::SetLen(_) => None,
                })
        })
        .max();
    state
        .inodes
        .iter()
        .map(|(&ino, inode)| {
            let bytes = match mode {
                CrashMode::DurableOnly => inode.durable.clone(),
                CrashMode::RandomPrefix { .. } => {
                    let keep = rng.up_to(inode.pending.len());
                    let torn = inode.pending.get(keep).and_then(|op| match op {
                        DataOp::Write { bytes, .. } if rng.below(2) == 0 => {
                            Some(rng.below(bytes.len() as u64) as usize)
                        }
                        _ => None,
                    });
                    replay(inode, keep, torn)
                }
                CrashMode::TornLastWrite { .. } => match last_write {
                    Some((_, last_ino, i, len)) if last_ino == ino => {
                        let mut data = replay(inode, i, Some(rng.below(len as u64) as usize));
                        for op in inode.pending.iter().skip(i + 1) {
                            op.apply(&mut data, None);
                        }
                        data
                    }
                    _ => inode.data.clone(),
                },
                CrashMode::ProcessCrash | CrashMode::BitFlip { .. } => inode.data.clone(),
            };
            (ino, bytes)
        })
        .collect()
}

/// A fresh state holding what survives `mode`; everything in it is durable and no fault is armed.
pub(super) fn crash_state(state: &State, mode: &CrashMode, seed: u64) -> State {
    let mut rng = SplitMix64::new(match mode {
        CrashMode::RandomPrefix { seed } | CrashMode::TornLastWrite { seed } => *seed,
        _ => 0,
    });
    let mut ns = namespace(state, mode, &mut rng);
    let mut data = contents(state, mode, &mut rng);
    // A file whose directory did not survive is gone too.
    let orphan: Vec<PathBuf> = ns
        .files
        .keys()
        .filter(|p| !ns.has_dir(crate::storage::parent_dir(p)))
        .cloned()
        .collect();
    for p in orphan {
        ns.files.remove(&p);
    }
    if let CrashMode::BitFlip { path, offset, bit } = mode {
        if let Some(byte) = ns
            .files
            .get(path)
            .and_then(|ino| data.get_mut(ino))
            .and_then(|d| d.get_mut(usize::try_from(*offset).ok()?))
        {
            *byte ^= 1 << (bit % 8);
        }
    }
    let mut out = State::new(seed);
    for ino in ns.files.values() {
        let bytes = data.remove(ino).unwrap_or_default();
        out.inodes.insert(
            *ino,
            Inode {
                data: bytes.clone(),
                durable: bytes,
                pending: Vec::new(),
            },
        );
        out.next_inode = out.next_inode.max(ino + 1);
    }
    out.now = ns.clone();
    out.durable = ns;
    out
}
