//! [`FsStorage`]: the [`Storage`] implementation over real files.
//!
//! Writes go through `write_vectored` (`writev`) after a seek that is skipped when the cursor is
//! already in place; `sync_data` is `fdatasync`; directories are synced by opening them and
//! calling `fsync`. Reads are read-only memory maps of exactly the requested prefix, so an
//! appender writing past that prefix never touches mapped bytes.
//!
//! Contract for the maps: nothing else may truncate or rewrite a segment file while a view of it
//! is alive (truncation happens only inside `Wal::open`, before any reader exists). Violating this
//! from another process can raise `SIGBUS`, as with any memory-mapped file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::path::Path;

use crate::storage::{FileBytes, Storage, StorageFile, SyncHandle};

/// Real files on the local file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsStorage;

/// An open file plus the position of its OS cursor, if known.
#[derive(Debug)]
struct FsFile {
    file: File,
    pos: Option<u64>,
}

impl FsFile {
    fn boxed(file: File) -> Box<dyn StorageFile> {
        Box::new(FsFile { file, pos: None })
    }
}

impl StorageFile for FsFile {
    fn write_vectored_at(&mut self, offset: u64, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.pos != Some(offset) {
            self.pos = None;
            self.file.seek(SeekFrom::Start(offset))?;
        }
        match self.file.write_vectored(bufs) {
            Ok(n) => {
                self.pos = offset.checked_add(n as u64);
                Ok(n)
            }
            Err(e) => {
                self.pos = None;
                Err(e)
            }
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        if sync_disabled("wal") {
            return Ok(());
        }
        self.file.sync_data()
    }

    fn file_len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn sync_handle(&self) -> io::Result<Box<dyn SyncHandle>> {
        Ok(Box::new(FsSync(self.file.try_clone()?)))
    }
}

/// A duplicated descriptor of a segment file, used only for `fdatasync`. It shares the open
/// file description (and so the kernel's write-error state) with the appending handle; the
/// log serializes syncs so an error is never reported to one and missed by the other.
#[derive(Debug)]
struct FsSync(File);

impl SyncHandle for FsSync {
    fn sync_data(&self) -> io::Result<()> {
        if sync_disabled("wal") {
            return Ok(());
        }
        self.0.sync_data()
    }
}

impl Storage for FsStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(FsFile::boxed(file))
    }

    fn open_rw(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(FsFile::boxed(file))
    }

    fn read(&self, path: &Path, len: Option<u64>) -> io::Result<FileBytes> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        let want = len.unwrap_or(file_len);
        if want > file_len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file is {file_len} bytes, {want} expected"),
            ));
        }
        if want == 0 {
            return Ok(FileBytes::from_vec(Vec::new()));
        }
        let map_len = usize::try_from(want)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large to map"))?;
        // SAFETY: the map is read-only and covers only `[0, want)`, which lies inside the file
        // (checked above). Nothing modifies those bytes while the view lives: a `WalReader` maps
        // only up to its snapshot end and the writer only appends past it; recovery maps and
        // truncates before the `Wal` (and so any reader) exists; `verify_dir` is documented to
        // run on a log no process is writing. Outside writers are excluded by the module docs.
        let map = unsafe { memmap2::MmapOptions::new().len(map_len).map(&file)? };
        Ok(FileBytes::from_mmap(map))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn remove_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::remove_dir_all(dir)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if sync_disabled("wal-dir") {
            return Ok(());
        }
        File::open(dir)?.sync_all()
    }
}

/// Test-only mutation knob, the WAL's copy of the server's `fsutil::sync_disabled` (same
/// variable): `TESSERA_TEST_SKIP_SYNC=wal` skips every segment `fdatasync`, `wal-dir` every
/// directory fsync of the log, so the power-cut tests can show each one is needed. Read once
/// per process; never set it in production.
fn sync_disabled(site: &str) -> bool {
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
    fn released_pages_read_back_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3 * 4096 + 100).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let bytes = FsStorage.read(&path, None).unwrap();
        let borrowed = &bytes[4000..4200];
        let before = borrowed.to_vec();
        bytes.release_before(2 * 4096 + 17); // not page-aligned on purpose
        bytes.release_before(usize::MAX);
        assert_eq!(&bytes[..], &data[..]);
        assert_eq!(borrowed, &before[..]);
        FileBytes::from_vec(data.clone()).release_before(10);
    }
    use crate::storage::write_all_at;

    #[test]
    fn write_read_truncate_list_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        let s = FsStorage;
        s.create_dir_all(&dir).unwrap();
        s.sync_dir(&dir).unwrap();
        let p = dir.join("a.wal");
        let mut f = s.create_new(&p).unwrap();
        assert!(s.create_new(&p).is_err(), "create_new must not clobber");
        write_all_at(f.as_mut(), 0, &[b"hello", b" world"]).unwrap();
        write_all_at(f.as_mut(), 0, &[b"J"]).unwrap(); // seek back
        write_all_at(f.as_mut(), 11, &[b"!"]).unwrap(); // cursor already there
        f.sync_data().unwrap();
        assert_eq!(f.file_len().unwrap(), 12);
        assert_eq!(&*s.read(&p, None).unwrap(), b"Jello world!");
        assert_eq!(&*s.read(&p, Some(5)).unwrap(), b"Jello");
        assert_eq!(&*s.read(&p, Some(0)).unwrap(), b"");
        let e = s.read(&p, Some(13)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        f.set_len(16).unwrap();
        assert_eq!(&*s.read(&p, None).unwrap(), b"Jello world!\0\0\0\0");
        let mut g = s.open_rw(&p).unwrap();
        g.set_len(2).unwrap();
        assert_eq!(&*s.read(&p, None).unwrap(), b"Je");
        fs::create_dir(dir.join("sub")).unwrap();
        assert_eq!(s.list_dir(&dir).unwrap(), vec!["a.wal".to_string()]);
        s.remove_file(&p).unwrap();
        assert!(s.list_dir(&dir).unwrap().is_empty());
        s.remove_dir_all(&dir).unwrap();
        assert!(!dir.exists());
        assert!(s.open_rw(&p).is_err());
    }
}
