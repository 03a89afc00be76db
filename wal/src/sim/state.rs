//! The simulated file system's state: namespaces (current and durable), file contents (current
//! and durable), the logs of unsynced operations, and fault knobs. All mutation goes through the
//! methods here.

use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::path::{Path, PathBuf};

use super::fault::SimFault;
use super::namespace::{Namespace, NsOp};
use super::rng::SplitMix64;
use super::stats::SimStats;
use crate::storage::parent_dir;

/// One file's bytes.
#[derive(Clone, Debug, Default)]
pub(super) struct Inode {
    /// What a reader sees now (page cache): every write, synced or not.
    pub data: Vec<u8>,
    /// What survives a power loss: the bytes as of the last successful `sync_data`.
    pub durable: Vec<u8>,
    /// Operations since the last successful `sync_data`, oldest first.
    pub pending: Vec<DataOp>,
}

/// An unsynced change to a file's bytes.
#[derive(Clone, Debug)]
pub(super) enum DataOp {
    /// `bytes` written at `offset`; `clock` orders writes across files.
    Write {
        clock: u64,
        offset: u64,
        bytes: Vec<u8>,
    },
    /// `set_len(len)`.
    SetLen(u64),
}

impl DataOp {
    /// Applies the operation to `data`. A write is cut to its first `limit` bytes.
    pub(super) fn apply(&self, data: &mut Vec<u8>, limit: Option<usize>) {
        match self {
            DataOp::Write { offset, bytes, .. } => {
                let bytes = &bytes[..limit.unwrap_or(bytes.len()).min(bytes.len())];
                let start = *offset as usize;
                let end = start + bytes.len();
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[start..end].copy_from_slice(bytes);
            }
            DataOp::SetLen(len) => data.resize(*len as usize, 0),
        }
    }
}

/// Which faults are armed.
#[derive(Clone, Debug, Default)]
pub(super) struct Faults {
    /// Bytes that may still be written before writes fail with `write_fault`.
    pub write_budget: Option<(u64, SimFault)>,
    /// Every sync (file or directory) fails with this while set.
    pub sync_fault: Option<SimFault>,
    /// Each write accepts a random non-empty prefix of what it was given.
    pub short_writes: bool,
}

/// The whole simulated file system.
#[derive(Debug)]
pub(super) struct State {
    pub now: Namespace,
    pub durable: Namespace,
    pub ns_pending: Vec<NsOp>,
    pub inodes: BTreeMap<u64, Inode>,
    pub next_inode: u64,
    pub clock: u64,
    pub faults: Faults,
    pub rng: SplitMix64,
    pub stats: SimStats,
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

impl State {
    pub(super) fn new(seed: u64) -> Self {
        State {
            now: Namespace::default(),
            durable: Namespace::default(),
            ns_pending: Vec::new(),
            inodes: BTreeMap::new(),
            next_inode: 1,
            clock: 0,
            faults: Faults::default(),
            rng: SplitMix64::new(seed),
            stats: SimStats::default(),
        }
    }

    fn ns_op(&mut self, op: NsOp) {
        self.now.apply(&op);
        self.ns_pending.push(op);
    }

    pub(super) fn create_dir_all(&mut self, dir: &Path) {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty() && !self.now.has_dir(a))
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        for d in missing {
            self.ns_op(NsOp::MkDir(d));
        }
    }

    pub(super) fn lookup(&self, path: &Path) -> io::Result<u64> {
        self.now
            .files
            .get(path)
            .copied()
            .ok_or_else(|| not_found(path))
    }

    pub(super) fn create_new(&mut self, path: &Path) -> io::Result<u64> {
        if !self.now.has_dir(parent_dir(path)) {
            return Err(not_found(parent_dir(path)));
        }
        if self.now.files.contains_key(path) || self.now.dirs.contains(path) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists", path.display()),
            ));
        }
        let ino = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(ino, Inode::default());
        self.ns_op(NsOp::Link(path.to_path_buf(), ino));
        Ok(ino)
    }

    pub(super) fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        self.lookup(path)?;
        self.ns_op(NsOp::Unlink(path.to_path_buf()));
        Ok(())
    }

    pub(super) fn remove_dir_all(&mut self, dir: &Path) -> io::Result<()> {
        if !self.now.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        self.ns_op(NsOp::RmDirAll(dir.to_path_buf()));
        Ok(())
    }

    pub(super) fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        if !self.now.has_dir(dir) {
            return Err(not_found(dir));
        }
        Ok(self
            .now
            .files
            .keys()
            .filter(|p| parent_dir(p) == dir)
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn check_sync_fault(&mut self) -> io::Result<()> {
        match self.faults.sync_fault {
            Some(f) => {
                self.stats.failed_syncs += 1;
                Err(f.to_io())
            }
            None => Ok(()),
        }
    }

    pub(super) fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        if !self.now.has_dir(dir) {
            return Err(not_found(dir));
        }
        self.check_sync_fault()?;
        self.stats.dir_syncs += 1;
        let (now, later): (Vec<NsOp>, Vec<NsOp>) =
            self.ns_pending.drain(..).partition(|op| op.dir() == dir);
        self.ns_pending = later;
        for op in &now {
            self.durable.apply(op);
        }
        Ok(())
    }

    pub(super) fn inode(&mut self, ino: u64) -> io::Result<&mut Inode> {
        self.inodes
            .get_mut(&ino)
            .ok_or_else(|| io::Error::other("simulated inode vanished"))
    }

    pub(super) fn write(
        &mut self,
        ino: u64,
        offset: u64,
        bufs: &[IoSlice<'_>],
    ) -> io::Result<usize> {
        self.stats.writes += 1;
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        let mut n = want;
        if self.faults.short_writes && want > 1 {
            n = 1 + self.rng.below(want as u64) as usize;
        }
        if let Some((budget, fault)) = &mut self.faults.write_budget {
            if *budget == 0 && want > 0 {
                self.stats.failed_writes += 1;
                return Err(fault.to_io());
            }
            n = n.min(usize::try_from(*budget).unwrap_or(usize::MAX));
            *budget -= n as u64;
        }
        let bytes: Vec<u8> = bufs
            .iter()
            .flat_map(|b| b.iter().copied())
            .take(n)
            .collect();
        self.clock += 1;
        let op = DataOp::Write {
            clock: self.clock,
            offset,
            bytes,
        };
        let inode = self.inode(ino)?;
        op.apply(&mut inode.data, None);
        inode.pending.push(op);
        Ok(n)
    }

    pub(super) fn set_len(&mut self, ino: u64, len: u64) -> io::Result<()> {
        let op = DataOp::SetLen(len);
        let inode = self.inode(ino)?;
        op.apply(&mut inode.data, None);
        inode.pending.push(op);
        Ok(())
    }

    pub(super) fn sync_data(&mut self, ino: u64) -> io::Result<()> {
        self.check_sync_fault()?;
        self.stats.file_syncs += 1;
        let Inode {
            durable, pending, ..
        } = self.inode(ino)?;
        for op in pending.drain(..) {
            op.apply(durable, None);
        }
        Ok(())
    }
}
