//! A power-cut file system for tests, after LazyFS (the FUSE file system Jepsen uses to find
//! missing fsyncs): a FUSE mount, served from memory by this process, on which everything not
//! fsynced is lost when the test cuts the power.
//!
//! A `kill -9` cannot show a missing fsync: the killed process's writes stay in the page cache
//! and the next process reads them. Here, [`PowerCutMount::cut_power`] unmounts the file system
//! (the kernel's page cache and dentry cache go with it), replaces every file's and directory's
//! volatile state by its durable state, and mounts again. What counts as durable is the strict
//! POSIX reading spelt out in [`state`]: file bytes and size after `fsync`/`fdatasync` of the
//! file, directory entries (create, rename, unlink, mkdir, rmdir) after `fsync` of the
//! directory. With `torn`, a seeded random prefix of each file's unsynced writes survives, the
//! last write cut at a random byte.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile_dir();
//! let mut fs = tessera_powercut::PowerCutMount::mount(&dir)?;
//! // ... run a server with its data directory under fs.path(), kill it ...
//! let report = fs.cut_power(42, true)?;
//! println!("{report:?} {:?}", fs.stats());
//! # Ok(()) }
//! # fn tempfile_dir() -> std::path::PathBuf { unimplemented!() }
//! ```
//!
//! Mounting needs root (or `fusermount3`) and `/dev/fuse`; [`env::require_fuse`] installs
//! what is missing when it can, and tells a test whether to run or skip.

pub mod env;
mod fuse;
pub mod state;

pub use state::{CutReport, Stats};

use state::State;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long an unmount waits for the mount to stop being busy (a process still exiting).
const UNMOUNT_PATIENCE: Duration = Duration::from_secs(30);

/// A mounted power-cut file system. Dropping it unmounts (the content is lost).
pub struct PowerCutMount {
    mountpoint: PathBuf,
    state: Arc<Mutex<State>>,
    session: Option<fuser::BackgroundSession>,
}

impl PowerCutMount {
    /// Mount an empty file system on `dir` (an existing empty directory).
    pub fn mount(dir: &Path) -> io::Result<PowerCutMount> {
        let mut m = PowerCutMount {
            mountpoint: dir.canonicalize()?,
            state: Arc::new(Mutex::new(State::new())),
            session: None,
        };
        m.session = Some(m.spawn()?);
        Ok(m)
    }

    fn spawn(&self) -> io::Result<fuser::BackgroundSession> {
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName("tessera-powercut".into()),
            fuser::MountOption::Subtype("powercut".into()),
            fuser::MountOption::RW,
            fuser::MountOption::NoAtime,
        ];
        let fs = fuse::PowerCutFuse {
            state: Arc::clone(&self.state),
        };
        fuser::spawn_mount(fs, &self.mountpoint, &config)
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// Cut the power: unmount, keep only what was durable (plus, with `torn`, a torn prefix of
    /// each file's unsynced writes chosen by `seed`), mount again. Stop (kill) every process
    /// using the mount first: the unmount waits while it is busy, then fails.
    pub fn cut_power(&mut self, seed: u64, torn: bool) -> io::Result<CutReport> {
        self.unmount()?;
        let report = self.lock().cut(seed, torn);
        self.session = Some(self.spawn()?);
        Ok(report)
    }

    /// Counters since [`PowerCutMount::mount`].
    pub fn stats(&self) -> Stats {
        self.lock().stats()
    }

    /// Every file (and, with a trailing `/`, directory) as processes see it now.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.lock().snapshot()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Unmount (waiting while busy) and stop the serving thread.
    fn unmount(&mut self) -> io::Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let path = CString::new(self.mountpoint.as_os_str().as_bytes())?;
        let deadline = Instant::now() + UNMOUNT_PATIENCE;
        loop {
            // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
            if unsafe { libc::umount2(path.as_ptr(), 0) } == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EBUSY) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                // Not mounted (any more): nothing to do.
                Some(libc::EINVAL) | Some(libc::ENOENT) => break,
                _ => {
                    self.session = Some(session);
                    return Err(io::Error::new(
                        err.kind(),
                        format!("unmount {}: {err}", self.mountpoint.display()),
                    ));
                }
            }
        }
        // The kernel connection is gone, so the serving thread ends. (fuser's own unmount would
        // try again and fail with EINVAL: drop its mount handle now, before any remount.)
        let fuser::BackgroundSession { guard, .. } = session;
        guard
            .join()
            .map_err(|_| io::Error::other("the FUSE serving thread panicked"))?
    }
}

impl Drop for PowerCutMount {
    fn drop(&mut self) {
        if self.unmount().is_err() {
            // Last resort, so no mount outlives the test: detach it lazily.
            if let Ok(path) = CString::new(self.mountpoint.as_os_str().as_bytes()) {
                // SAFETY: as above.
                unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
            }
            // Not joined: the thread ends when the kernel lets the connection go.
            drop(self.session.take());
        }
    }
}
