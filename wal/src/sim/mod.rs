//! [`SimStorage`]: an in-memory, fault-injecting [`Storage`] for crash and failure tests.
//!
//! It models what a real file system promises and nothing more:
//! * a file's bytes are split into *written* (what readers see) and *durable* (what survives a
//!   power loss): `sync_data` makes everything written so far durable;
//! * a created or removed file name becomes durable only when its directory is synced
//!   (`sync_dir`), and a file whose directory entry did not survive is lost with its bytes;
//! * [`SimStorage::crash_image`] builds the file system a restarted process would find, for the
//!   [`CrashMode`]s: durable state only, durable state plus a random prefix of unsynced writes,
//!   a process kill with a torn last write, or a flipped bit;
//! * faults: writes failing with ENOSPC/EIO after a byte budget (the crossing write is short),
//!   syncs failing, and random short writes.
//!
//! Everything is deterministic given the seeds. Files live in memory (`set_len` allocates), so
//! use small segment sizes with it.

mod crash;
mod fault;
mod namespace;
mod rng;
mod state;
mod stats;

use std::fmt;
use std::io::{self, IoSlice};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use crash::CrashMode;
pub use fault::SimFault;
use state::State;
pub use stats::SimStats;

use crate::storage::{FileBytes, Storage, StorageFile, SyncHandle};

/// An in-memory file system with explicit durability and fault injection. Cloning gives another
/// handle to the same file system.
#[derive(Clone)]
pub struct SimStorage {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for SimStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("SimStorage")
            .field("files", &s.now.files.len())
            .field("stats", &s.stats)
            .finish()
    }
}

impl SimStorage {
    /// An empty file system; `seed` drives short-write lengths.
    pub fn new(seed: u64) -> Self {
        Self::from_state(State::new(seed))
    }

    fn from_state(state: State) -> Self {
        SimStorage {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock (only possible in a test) leaves consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file system a restarted process would find after a crash of kind `mode`. The image is
    /// independent of `self`: everything in it is durable, no fault is armed, counters are zero.
    pub fn crash_image(&self, mode: CrashMode) -> SimStorage {
        let state = self.lock();
        let seed = state.clock ^ 0x5EED;
        Self::from_state(crash::crash_state(&state, &mode, seed))
    }

    /// After `bytes` more bytes have been written, every write fails with `fault`; the write
    /// that crosses the limit is short.
    pub fn fail_writes_after(&self, bytes: u64, fault: SimFault) {
        self.lock().faults.write_budget = Some((bytes, fault));
    }

    /// While `Some`, every `sync_data` and `sync_dir` fails with the fault and makes nothing
    /// durable.
    pub fn fail_syncs(&self, fault: Option<SimFault>) {
        self.lock().faults.sync_fault = fault;
    }

    /// When enabled, each write accepts only a random non-empty prefix of its bytes.
    pub fn set_short_writes(&self, enabled: bool) {
        self.lock().faults.short_writes = enabled;
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.lock().faults = Default::default();
    }

    /// Call counters so far.
    pub fn stats(&self) -> SimStats {
        self.lock().stats
    }

    /// The current (written, possibly unsynced) bytes of `path`, if it exists.
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.now.files.get(path)?;
        s.inodes.get(ino).map(|i| i.data.clone())
    }

    /// Replaces the bytes of `path` (creating it and its directories) and makes its bytes and
    /// every pending directory change durable. For tests that plant damaged files.
    pub fn put_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        s.create_dir_all(crate::storage::parent_dir(path));
        let ino = match s.lookup(path) {
            Ok(ino) => ino,
            Err(_) => s.create_new(path)?,
        };
        let inode = s.inode(ino)?;
        inode.data = bytes.to_vec();
        inode.durable = bytes.to_vec();
        inode.pending.clear();
        let ops = std::mem::take(&mut s.ns_pending);
        for op in &ops {
            s.durable.apply(op);
        }
        Ok(())
    }
}

/// An open file of a [`SimStorage`].
#[derive(Debug)]
struct SimFile {
    fs: SimStorage,
    ino: u64,
}

impl StorageFile for SimFile {
    fn write_vectored_at(&mut self, offset: u64, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.fs.lock().write(self.ino, offset, bufs)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.fs.lock().sync_data(self.ino)
    }

    fn file_len(&self) -> io::Result<u64> {
        Ok(self.fs.lock().inode(self.ino)?.data.len() as u64)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.fs.lock().set_len(self.ino, len)
    }

    fn sync_handle(&self) -> io::Result<Box<dyn SyncHandle>> {
        Ok(Box::new(SimSync {
            fs: self.fs.clone(),
            ino: self.ino,
        }))
    }
}

/// A sync-only handle on a [`SimStorage`] file: a sync makes every write made before it durable
/// (and the injected sync faults apply to it as to the file's own syncs).
#[derive(Debug)]
struct SimSync {
    fs: SimStorage,
    ino: u64,
}

impl SyncHandle for SimSync {
    fn sync_data(&self) -> io::Result<()> {
        self.fs.lock().sync_data(self.ino)
    }
}

impl Storage for SimStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.lock().create_dir_all(dir);
        Ok(())
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.lock().list_dir(dir)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let ino = self.lock().create_new(path)?;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            ino,
        }))
    }

    fn open_rw(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let ino = self.lock().lookup(path)?;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            ino,
        }))
    }

    fn read(&self, path: &Path, len: Option<u64>) -> io::Result<FileBytes> {
        let mut s = self.lock();
        let ino = s.lookup(path)?;
        let data = &s.inode(ino)?.data;
        let want = match len {
            None => data.len(),
            Some(l) => match usize::try_from(l) {
                Ok(l) if l <= data.len() => l,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("file is {} bytes, {l} expected", data.len()),
                    ))
                }
            },
        };
        Ok(FileBytes::from_vec(data[..want].to_vec()))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.lock().remove_file(path)
    }

    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.lock().remove_dir_all(dir)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.lock().sync_dir(dir)
    }
}

#[cfg(test)]
mod tests;
