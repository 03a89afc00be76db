//! The file-system seam: the small [`Storage`]/[`StorageFile`] traits the log is written
//! against, the read-only [`FileBytes`] view, and helpers that turn raw calls into complete
//! operations.
//!
//! Two implementations exist: [`crate::FsStorage`] (real files, `memmap2` for reads) and
//! [`crate::SimStorage`] (in memory, models synced vs unsynced bytes, crash images and injected
//! faults). Every durability decision of the log is expressed through these calls: a file's bytes
//! are durable only after [`StorageFile::sync_data`], and a created or removed directory entry is
//! durable only after [`Storage::sync_dir`] on its parent directory.

use std::fmt;
use std::io::{self, IoSlice};
use std::ops::Deref;
use std::path::Path;

/// A directory-level view of some storage. Implementations must be shareable between threads:
/// a [`crate::WalReader`] opens files from another thread while the log keeps appending.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Creates `dir` and any missing ancestors (like `mkdir -p`).
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Names of the regular files directly inside `dir` (not sorted; non-UTF-8 names omitted).
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates a new, empty file for reading and writing; fails if `path` already exists.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens an existing file for reading and writing.
    fn open_rw(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// A read-only view of the file's first `len` bytes, or of the whole file when `len` is
    /// `None`. Fails with [`io::ErrorKind::UnexpectedEof`] if the file is shorter than `len`.
    /// The bytes in the view must not change while it is alive (the log only appends past them).
    fn read(&self, path: &Path, len: Option<u64>) -> io::Result<FileBytes>;
    /// Removes a file (durable only after [`Storage::sync_dir`] of its directory).
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a directory and everything inside it.
    fn remove_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Makes the directory's entries (created, renamed, removed files) durable (fsync on the
    /// directory).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// An open, writable file.
pub trait StorageFile: Send + fmt::Debug {
    /// Writes a prefix of the concatenation of `bufs` at `offset`, extending the file (with
    /// zeros before `offset` if needed). May write fewer bytes than asked (a short write); returns
    /// how many were written. Use [`write_all_at`] to write everything.
    fn write_vectored_at(&mut self, offset: u64, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Current length of the file in bytes.
    fn file_len(&self) -> io::Result<u64>;
    /// Truncates or extends (with zeros) the file to `len` bytes (durable after `sync_data`).
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// A second handle on the same open file (a duplicated descriptor) that only syncs, so an
    /// `fdatasync` can run on another thread while this handle keeps appending (group commit).
    fn sync_handle(&self) -> io::Result<Box<dyn SyncHandle>>;
}

/// A handle that makes the bytes written so far to one file durable; see
/// [`StorageFile::sync_handle`].
pub trait SyncHandle: Send + Sync + fmt::Debug {
    /// `fdatasync` the file: every byte written before the call is durable when it returns
    /// `Ok`; bytes written during the call may or may not be.
    fn sync_data(&self) -> io::Result<()>;
}

/// Writes all of `bufs` at `offset`, retrying short writes. A write that makes no progress fails
/// with [`io::ErrorKind::WriteZero`]; an interrupted write is retried.
pub fn write_all_at(file: &mut dyn StorageFile, offset: u64, bufs: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = bufs
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| IoSlice::new(b))
        .collect();
    let mut remaining: &mut [IoSlice<'_>] = &mut slices;
    let mut at = offset;
    while !remaining.is_empty() {
        match file.write_vectored_at(at, remaining) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "storage accepted no bytes",
                ))
            }
            Ok(n) => {
                let total: usize = remaining.iter().map(|s| s.len()).sum();
                if n > total {
                    return Err(io::Error::other("storage reported more bytes than given"));
                }
                at = at.checked_add(n as u64).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "file offset overflow")
                })?;
                IoSlice::advance_slices(&mut remaining, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read-only bytes of a file: a memory map for real files, an owned buffer otherwise.
pub struct FileBytes(Repr);

enum Repr {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileBytes {
    /// Wraps an owned buffer.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        FileBytes(Repr::Owned(bytes))
    }

    /// Wraps a memory map.
    pub fn from_mmap(map: memmap2::Mmap) -> Self {
        FileBytes(Repr::Mapped(map))
    }

    /// Hints that bytes before `offset` will not be read again: a memory map drops those pages
    /// from the process's resident set (they stay in the page cache; reading them again faults
    /// them back in with the same contents). A sequential reader calls this so that reading a
    /// large segment does not grow the server's RSS by the segment's size. No-op for owned bytes.
    pub fn release_before(&self, offset: usize) {
        #[cfg(unix)]
        if let Repr::Mapped(m) = &self.0 {
            let len = offset.min(m.len());
            if len > 0 {
                // SAFETY: the map is a read-only, shared mapping of a file whose mapped range
                // never changes while the map lives (see `FsStorage::read`). MADV_DONTNEED on
                // such a mapping only drops page-table entries: later accesses, including
                // through slices borrowed from this map, read the same file bytes again.
                // Errors are ignored: this is a hint.
                let _ =
                    unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len) };
            }
        }
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Mapped(m) => m,
        }
    }
}

impl fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBytes")
            .field("len", &self.len())
            .finish()
    }
}

/// The directory holding `path` (`.` for a bare relative name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that accepts at most `chunk` bytes per call and reports every `interrupt_every`-th
    /// call as interrupted.
    #[derive(Debug, Default)]
    struct Chunky {
        data: Vec<u8>,
        chunk: usize,
        calls: usize,
        interrupt_every: usize,
    }

    impl StorageFile for Chunky {
        fn write_vectored_at(&mut self, offset: u64, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            if self.interrupt_every > 0 && self.calls.is_multiple_of(self.interrupt_every) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let flat: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let n = flat.len().min(self.chunk);
            let end = offset as usize + n;
            if self.data.len() < end {
                self.data.resize(end, 0);
            }
            self.data[offset as usize..end].copy_from_slice(&flat[..n]);
            Ok(n)
        }
        fn sync_data(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn file_len(&self) -> io::Result<u64> {
            Ok(self.data.len() as u64)
        }
        fn set_len(&mut self, len: u64) -> io::Result<()> {
            self.data.resize(len as usize, 0);
            Ok(())
        }
        fn sync_handle(&self) -> io::Result<Box<dyn SyncHandle>> {
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    #[test]
    fn write_all_at_survives_short_and_interrupted_writes() {
        let mut f = Chunky {
            chunk: 3,
            interrupt_every: 4,
            ..Chunky::default()
        };
        write_all_at(&mut f, 2, &[b"hello", b"", b" world", b"!"]).unwrap();
        assert_eq!(&f.data, b"\0\0hello world!");
    }

    #[test]
    fn write_all_at_reports_zero_progress() {
        let mut f = Chunky::default(); // chunk = 0: accepts nothing
        let e = write_all_at(&mut f, 0, &[b"x"]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
        write_all_at(&mut f, 0, &[b"", b""]).unwrap(); // nothing to write is fine
    }

    #[test]
    fn parent_dir_of_bare_names() {
        assert_eq!(parent_dir(Path::new("a.wal")), Path::new("."));
        assert_eq!(parent_dir(Path::new("/x/a.wal")), Path::new("/x"));
    }

    #[test]
    fn file_bytes_deref() {
        let b = FileBytes::from_vec(vec![1, 2, 3]);
        assert_eq!(&*b, &[1, 2, 3]);
        assert_eq!(format!("{b:?}"), "FileBytes { len: 3 }");
    }
}
