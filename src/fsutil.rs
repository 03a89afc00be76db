//! Durable namespace changes: every directory entry the server creates, renames or removes is
//! made durable by an fsync of the directory that holds it, before the call returns. Without
//! that a power cut can keep a file's bytes (fsynced) while losing the entry leading to it.
//!
//! Every create/rename/remove of the server's data directory goes through here (the WAL crate
//! has its own storage seam with the same rule). Errors are plain `io::Error`s; the caller adds
//! what it was doing and the server's error table maps the kind (ENOSPC -> RESOURCE_EXHAUSTED,
//! ...).

use std::io;
use std::path::Path;

/// fsync a directory so the entries created, renamed or removed in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    if sync_disabled("dir") {
        return Ok(());
    }
    std::fs::File::open(dir)?.sync_all()
}

/// Create `dir` and any missing parents; each directory created has its parent fsynced (from
/// the top down), so the whole path survives a power cut once this returns.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        // A concurrent creator won: its own sync covers the entry, but sync again to be sure
        // this call returns only once the entry is durable.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(e),
    }
    sync_parent(dir)
}

/// fsync every directory of the tree under `root` (and `root`'s parent): for a tree another
/// library created without syncing its directory entries (the catalog's first open).
pub fn sync_tree(root: &Path) -> io::Result<()> {
    sync_parent(root)?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            }
        }
        sync_dir(&dir)?;
    }
    Ok(())
}

/// Rename `from` to `to` (same directory or not) and fsync the directories involved.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_parent(to)?;
    match (from.parent(), to.parent()) {
        (Some(a), Some(b)) if a != b => sync_parent(from),
        _ => Ok(()),
    }
}

/// Remove a file if it exists and fsync its directory. `Ok(false)` if there was none.
pub fn remove_file(path: &Path) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    sync_parent(path)?;
    Ok(true)
}

/// Remove a directory tree if it exists and fsync its parent. `Ok(false)` if there was none.
pub fn remove_dir_all(dir: &Path) -> io::Result<bool> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    sync_parent(dir)?;
    Ok(true)
}

/// fsync the directory holding `path`.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => sync_dir(Path::new(".")),
    }
}

/// Test-only mutation knob: `TESSERA_TEST_SKIP_SYNC=dir,...` switches named sync sites off, so
/// the power-cut tests (`tests/powercut_recovery.rs`) can show that each sync they rely on is
/// needed. Sites: `dir` (every directory fsync of this module), `catalog` (the catalog's
/// `SyncAll` after each write), `wal` and `wal-dir` (the WAL's segment `fdatasync`s and
/// directory fsyncs, read by the WAL crate's own copy of this function), `chunk` (a chunk
/// file's fsync before its rename, in the format crate). Read once per process; never set it
/// in production.
pub fn sync_disabled(site: &str) -> bool {
    static SITES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SITES
        .get_or_init(|| {
            std::env::var("TESSERA_TEST_SKIP_SYNC")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        })
        .iter()
        .any(|s| s == site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_renames_and_removes() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
        create_dir_all(&deep).unwrap(); // idempotent
        let f = deep.join("x.tmp");
        std::fs::write(&f, b"1").unwrap();
        rename(&f, &tmp.path().join("a/x")).unwrap();
        assert!(!f.exists() && tmp.path().join("a/x").exists());
        assert!(remove_file(&tmp.path().join("a/x")).unwrap());
        assert!(!remove_file(&tmp.path().join("a/x")).unwrap());
        assert!(remove_dir_all(&tmp.path().join("a")).unwrap());
        assert!(!remove_dir_all(&tmp.path().join("a")).unwrap());
    }
}
