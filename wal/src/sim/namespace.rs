//! Directory state of the simulated file system: which names and directories exist, and the
//! unsynced directory changes that a `sync_dir` makes durable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::storage::parent_dir;

/// An unsynced change to a directory; durable after `sync_dir` of [`NsOp::dir`].
#[derive(Clone, Debug)]
pub(super) enum NsOp {
    Link(PathBuf, u64),
    Unlink(PathBuf),
    MkDir(PathBuf),
    RmDirAll(PathBuf),
}

impl NsOp {
    /// The directory whose fsync makes this change durable.
    pub(super) fn dir(&self) -> &Path {
        match self {
            NsOp::Link(p, _) | NsOp::Unlink(p) | NsOp::MkDir(p) | NsOp::RmDirAll(p) => {
                parent_dir(p)
            }
        }
    }
}

/// A namespace: file names to inode ids, plus the set of directories.
#[derive(Clone, Debug, Default)]
pub(super) struct Namespace {
    pub files: BTreeMap<PathBuf, u64>,
    pub dirs: BTreeSet<PathBuf>,
}

impl Namespace {
    /// Applies one directory change.
    pub(super) fn apply(&mut self, op: &NsOp) {
        match op {
            NsOp::Link(p, ino) => {
                self.files.insert(p.clone(), *ino);
            }
            NsOp::Unlink(p) => {
                self.files.remove(p);
            }
            NsOp::MkDir(d) => {
                self.dirs.insert(d.clone());
            }
            NsOp::RmDirAll(d) => {
                self.files.retain(|p, _| !p.starts_with(d));
                self.dirs.retain(|p| !p.starts_with(d));
            }
        }
    }

    /// True if `dir` exists (the root and `.` always do).
    pub(super) fn has_dir(&self, dir: &Path) -> bool {
        dir.parent().is_none() || dir == Path::new(".") || self.dirs.contains(dir)
    }
}
