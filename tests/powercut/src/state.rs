//! The in-memory file system behind the mount: every inode has a volatile image (what
//! processes see) and a durable image (what survives a power cut).
//!
//! Rules (a strict POSIX reading, as LazyFS applies them):
//! - `write`, `truncate`/`ftruncate`, `fallocate` change a file's volatile image only.
//!   `fsync`/`fdatasync` of the file copies its volatile data and size to the durable image.
//! - `create`, `mkdir`, `link`, `rename`, `unlink`, `rmdir` change the volatile entries of the
//!   directories involved only. `fsync` of a directory copies its current entries to its durable
//!   entries (the creates, renames into it and unlinks from it become durable; an entry renamed
//!   out of it is gone from it durably, while the target directory needs its own fsync).
//!   Fsyncing a file never makes its name durable, fsyncing a directory never makes a file's
//!   bytes durable.
//! - [`State::cut`] (the power cut) keeps the durable images of the inodes reachable from the
//!   root through durable entries, and nothing else. With `torn`, each file may also keep a
//!   seeded random prefix of its writes since its last fsync, the last one cut at a random byte
//!   (a disk that wrote some of the queued data in order before the power went).
//!
//! File data is kept in copy-on-write pages shared between the two images, so an fsync copies
//! page pointers, and a file that was only extended (`set_len`) stores nothing for its zeros.
//! Metadata (mode, owner, times) is not modelled as volatile: it is kept across a cut.

use fuser::{Errno, FileAttr, FileType, INodeNo};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::sync::Arc;
use std::time::SystemTime;

/// Page size of the file images (and the torn-write granularity of nothing: tears are per byte).
pub const PAGE: usize = 4096;
const PAGE_U64: u64 = PAGE as u64;
/// Largest file size accepted (sparse; only written pages take memory).
const MAX_FILE_SIZE: u64 = 1 << 40;

type Page = Arc<[u8; PAGE]>;

/// One image of a file's bytes: its size and its non-zero pages (missing pages read as zeros;
/// bytes at or beyond `size` inside a stored page are always zero).
#[derive(Clone, Default, Debug)]
struct Image {
    size: u64,
    pages: BTreeMap<u64, Page>,
}

impl Image {
    fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        let end = self.size.min(offset.saturating_add(len as u64));
        if offset >= end {
            return Vec::new();
        }
        let mut out = vec![0u8; (end - offset) as usize];
        let mut pos = offset;
        while pos < end {
            let idx = pos / PAGE_U64;
            let in_page = (pos % PAGE_U64) as usize;
            let n = (PAGE - in_page).min((end - pos) as usize);
            if let Some(p) = self.pages.get(&idx) {
                let at = (pos - offset) as usize;
                out[at..at + n].copy_from_slice(&p[in_page..in_page + n]);
            }
            pos += n as u64;
        }
        out
    }

    /// Write `data` at `offset`; records the pages touched in `dirty`.
    fn write(&mut self, offset: u64, data: &[u8], dirty: &mut BTreeSet<u64>) {
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let idx = pos / PAGE_U64;
            let in_page = (pos % PAGE_U64) as usize;
            let n = (PAGE - in_page).min(rest.len());
            let page = self
                .pages
                .entry(idx)
                .or_insert_with(|| Arc::new([0u8; PAGE]));
            Arc::make_mut(page)[in_page..in_page + n].copy_from_slice(&rest[..n]);
            dirty.insert(idx);
            pos += n as u64;
            rest = &rest[n..];
        }
        self.size = self.size.max(offset + data.len() as u64);
    }

    /// Set the size; bytes past a shrink are dropped (and read as zeros if it grows again).
    fn set_len(&mut self, len: u64, dirty: &mut BTreeSet<u64>) {
        if len < self.size {
            let first_gone = len.div_ceil(PAGE_U64);
            let gone: Vec<u64> = self.pages.range(first_gone..).map(|(k, _)| *k).collect();
            for k in gone {
                self.pages.remove(&k);
                dirty.insert(k);
            }
            let in_page = (len % PAGE_U64) as usize;
            if in_page != 0 {
                let idx = len / PAGE_U64;
                if let Some(p) = self.pages.get_mut(&idx) {
                    Arc::make_mut(p)[in_page..].fill(0);
                    dirty.insert(idx);
                }
            }
        }
        self.size = len;
    }

    fn stored_bytes(&self) -> u64 {
        self.pages.len() as u64 * PAGE_U64
    }
}

/// A change to a file since its last fsync, kept to build torn images.
#[derive(Clone, Debug)]
enum Op {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Default)]
struct FileNode {
    volatile: Image,
    durable: Image,
    /// Pages whose volatile content may differ from the durable one.
    dirty: BTreeSet<u64>,
    /// Changes since the last fsync, in order.
    pending: Vec<Op>,
}

impl FileNode {
    fn unsynced(&self) -> bool {
        !self.pending.is_empty()
    }

    fn sync(&mut self) {
        for idx in std::mem::take(&mut self.dirty) {
            match self.volatile.pages.get(&idx) {
                Some(p) => {
                    self.durable.pages.insert(idx, Arc::clone(p));
                }
                None => {
                    self.durable.pages.remove(&idx);
                }
            }
        }
        self.durable.size = self.volatile.size;
        self.pending.clear();
    }
}

#[derive(Debug, Default)]
struct DirNode {
    volatile: BTreeMap<OsString, u64>,
    durable: BTreeMap<OsString, u64>,
    /// Parent in the volatile tree (the root is its own parent).
    parent: u64,
}

#[derive(Debug)]
enum Content {
    File(FileNode),
    Dir(DirNode),
}

#[derive(Debug)]
struct Node {
    content: Content,
    perm: u16,
    uid: u32,
    gid: u32,
    atime: SystemTime,
    mtime: SystemTime,
    ctime: SystemTime,
    /// Volatile entries naming this node.
    links: u32,
    /// Durable entries (of any directory node still alive) naming this node.
    durable_links: u32,
    /// Open handles (files only).
    opens: u32,
}

impl Node {
    fn new(content: Content, perm: u16, uid: u32, gid: u32) -> Node {
        let now = SystemTime::now();
        Node {
            content,
            perm,
            uid,
            gid,
            atime: now,
            mtime: now,
            ctime: now,
            links: 0,
            durable_links: 0,
            opens: 0,
        }
    }

    fn kind(&self) -> FileType {
        match self.content {
            Content::File(_) => FileType::RegularFile,
            Content::Dir(_) => FileType::Directory,
        }
    }
}

/// Counters since the mount was created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub writes: u64,
    pub bytes_written: u64,
    pub truncates: u64,
    /// `fsync`/`fdatasync` on files.
    pub file_syncs: u64,
    /// `fsync` on directories.
    pub dir_syncs: u64,
    pub creates: u64,
    pub renames: u64,
    pub unlinks: u64,
    pub cuts: u64,
    /// Totals over all cuts (see [`CutReport`]).
    pub files_reverted: u64,
    pub dirs_reverted: u64,
    pub inodes_lost: u64,
    pub bytes_lost: u64,
    pub torn_files: u64,
}

/// What one power cut dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CutReport {
    /// Files that had writes or size changes not yet fsynced (their volatile image was dropped).
    pub files_reverted: u64,
    /// Directories whose entries differed from their durable entries.
    pub dirs_reverted: u64,
    /// Inodes no longer reachable through durable entries (never-synced creates, and the old
    /// targets of durable unlinks/renames), freed.
    pub inodes_lost: u64,
    /// Bytes written (not fsynced) that the cut dropped, counting torn prefixes as kept.
    pub bytes_lost: u64,
    /// Files that kept a torn prefix of their unsynced writes.
    pub torn_files: u64,
    /// Files and directories left.
    pub inodes_kept: u64,
    /// Paths (as processes saw them before the cut) of the first inodes lost and of the first
    /// files reverted, [`REPORT_PATHS`] at most each: what to look at when a test fails.
    pub lost_paths: Vec<String>,
    pub reverted_paths: Vec<String>,
}

/// Paths listed per kind in a [`CutReport`].
pub const REPORT_PATHS: usize = 16;

/// A splitmix64 generator: the tear points derive from the cut's seed only.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=n`.
    fn upto(&mut self, n: u64) -> u64 {
        self.next() % (n + 1)
    }
}

pub type FsResult<T> = Result<T, Errno>;

/// The whole file system.
pub struct State {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// Directory listings taken at `opendir`/rewind, by handle.
    listings: HashMap<u64, Vec<(u64, FileType, OsString)>>,
    next_fh: u64,
    stats: Stats,
}

const ROOT: u64 = 1;

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    /// An empty file system: a durable root directory.
    pub fn new() -> State {
        let mut root = Node::new(
            Content::Dir(DirNode {
                parent: ROOT,
                ..Default::default()
            }),
            0o755,
            0,
            0,
        );
        root.links = 1;
        root.durable_links = 1;
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, root);
        State {
            nodes,
            next_ino: ROOT + 1,
            listings: HashMap::new(),
            next_fh: 1,
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn node(&self, ino: u64) -> FsResult<&Node> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> FsResult<&mut Node> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn dir(&self, ino: u64) -> FsResult<&DirNode> {
        match &self.node(ino)?.content {
            Content::Dir(d) => Ok(d),
            Content::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: u64) -> FsResult<&mut DirNode> {
        match &mut self.node_mut(ino)?.content {
            Content::Dir(d) => Ok(d),
            Content::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn file_mut(&mut self, ino: u64) -> FsResult<&mut FileNode> {
        match &mut self.node_mut(ino)?.content {
            Content::File(f) => Ok(f),
            Content::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub fn attr(&self, ino: u64) -> FsResult<FileAttr> {
        let n = self.node(ino)?;
        let (size, blocks, nlink) = match &n.content {
            Content::File(f) => (
                f.volatile.size,
                f.volatile.stored_bytes() / 512,
                n.links.max(1),
            ),
            Content::Dir(d) => (PAGE_U64, PAGE_U64 / 512, 2 + d.volatile.len() as u32),
        };
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks,
            atime: n.atime,
            mtime: n.mtime,
            ctime: n.ctime,
            crtime: n.ctime,
            kind: n.kind(),
            perm: n.perm,
            nlink,
            uid: n.uid,
            gid: n.gid,
            rdev: 0,
            blksize: PAGE as u32,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> FsResult<u64> {
        self.dir(parent)?
            .volatile
            .get(name)
            .copied()
            .ok_or(Errno::ENOENT)
    }

    pub fn lookup(&self, parent: u64, name: &OsStr) -> FsResult<FileAttr> {
        let ino = self.child(parent, name)?;
        self.attr(ino)
    }

    fn touch_dir(&mut self, ino: u64) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            let now = SystemTime::now();
            n.mtime = now;
            n.ctime = now;
        }
    }

    /// Add a new node under `parent/name` (volatile).
    fn insert(&mut self, parent: u64, name: &OsStr, mut node: Node) -> FsResult<u64> {
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        if self.dir(parent)?.volatile.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        node.links = 1;
        if let Content::Dir(d) = &mut node.content {
            d.parent = parent;
        }
        self.nodes.insert(ino, node);
        self.dir_mut(parent)?.volatile.insert(name.to_owned(), ino);
        self.touch_dir(parent);
        self.stats.creates += 1;
        Ok(ino)
    }

    pub fn mkdir(
        &mut self,
        parent: u64,
        name: &OsStr,
        perm: u16,
        uid: u32,
        gid: u32,
    ) -> FsResult<FileAttr> {
        let node = Node::new(Content::Dir(DirNode::default()), perm, uid, gid);
        let ino = self.insert(parent, name, node)?;
        self.attr(ino)
    }

    /// `open(O_CREAT)`: create `parent/name` (or open the existing file unless `excl`).
    pub fn create(
        &mut self,
        parent: u64,
        name: &OsStr,
        perm: u16,
        flags: i32,
        uid: u32,
        gid: u32,
    ) -> FsResult<FileAttr> {
        let ino = match self.child(parent, name) {
            Ok(ino) => {
                if flags & libc::O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                ino
            }
            Err(_) => {
                let node = Node::new(Content::File(FileNode::default()), perm, uid, gid);
                self.insert(parent, name, node)?
            }
        };
        self.open(ino, flags)?;
        self.attr(ino)
    }

    pub fn open(&mut self, ino: u64, flags: i32) -> FsResult<()> {
        if flags & libc::O_TRUNC != 0 && flags & libc::O_ACCMODE != libc::O_RDONLY {
            self.set_len(ino, 0)?;
        }
        let n = self.node_mut(ino)?;
        n.opens += 1;
        Ok(())
    }

    pub fn release(&mut self, ino: u64) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.opens = n.opens.saturating_sub(1);
        }
        self.maybe_free(ino);
    }

    pub fn read(&mut self, ino: u64, offset: u64, len: u32) -> FsResult<Vec<u8>> {
        match &self.node(ino)?.content {
            Content::File(f) => Ok(f.volatile.read(offset, len as usize)),
            Content::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        if offset.saturating_add(data.len() as u64) > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let f = self.file_mut(ino)?;
        let FileNode {
            volatile,
            dirty,
            pending,
            ..
        } = f;
        volatile.write(offset, data, dirty);
        pending.push(Op::Write {
            offset,
            data: data.to_vec(),
        });
        let now = SystemTime::now();
        let n = self.node_mut(ino)?;
        n.mtime = now;
        n.ctime = now;
        self.stats.writes += 1;
        self.stats.bytes_written += data.len() as u64;
        Ok(data.len() as u32)
    }

    pub fn set_len(&mut self, ino: u64, len: u64) -> FsResult<()> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let f = self.file_mut(ino)?;
        let FileNode {
            volatile,
            dirty,
            pending,
            ..
        } = f;
        volatile.set_len(len, dirty);
        pending.push(Op::SetLen(len));
        self.stats.truncates += 1;
        let now = SystemTime::now();
        let n = self.node_mut(ino)?;
        n.mtime = now;
        n.ctime = now;
        Ok(())
    }

    /// `fallocate`: mode 0 extends the size (zeros); `FALLOC_FL_KEEP_SIZE` alone changes
    /// nothing visible. Other modes (punch hole, ...) are refused.
    pub fn fallocate(&mut self, ino: u64, offset: u64, len: u64, mode: i32) -> FsResult<()> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let size = match &self.node(ino)?.content {
            Content::File(f) => f.volatile.size,
            Content::Dir(_) => return Err(Errno::EISDIR),
        };
        match mode {
            0 if end > size => self.set_len(ino, end),
            0 => Ok(()),
            libc::FALLOC_FL_KEEP_SIZE => Ok(()),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    pub fn set_attr(
        &mut self,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        atime: Option<SystemTime>,
        mtime: Option<SystemTime>,
    ) -> FsResult<()> {
        let n = self.node_mut(ino)?;
        if let Some(m) = mode {
            n.perm = (m & 0o7777) as u16;
        }
        if let Some(u) = uid {
            n.uid = u;
        }
        if let Some(g) = gid {
            n.gid = g;
        }
        if let Some(t) = atime {
            n.atime = t;
        }
        if let Some(t) = mtime {
            n.mtime = t;
        }
        n.ctime = SystemTime::now();
        Ok(())
    }

    /// Drop a node nothing can reach any more: no volatile entry, no open handle, no durable
    /// entry of a live directory.
    fn maybe_free(&mut self, ino: u64) {
        let mut queue = VecDeque::from([ino]);
        while let Some(ino) = queue.pop_front() {
            let free = self.nodes.get(&ino).is_some_and(|n| {
                ino != ROOT && n.links == 0 && n.opens == 0 && n.durable_links == 0
            });
            if !free {
                continue;
            }
            if let Some(Node {
                content: Content::Dir(d),
                ..
            }) = self.nodes.remove(&ino)
            {
                for child in d.durable.values() {
                    if let Some(c) = self.nodes.get_mut(child) {
                        c.durable_links = c.durable_links.saturating_sub(1);
                        queue.push_back(*child);
                    }
                }
            }
        }
    }

    /// Remove the volatile entry `parent/name` of a node that is gone (unlink, rmdir, the old
    /// target of a rename).
    fn drop_entry(&mut self, parent: u64, name: &OsStr) -> FsResult<u64> {
        let ino = self
            .dir_mut(parent)?
            .volatile
            .remove(name)
            .ok_or(Errno::ENOENT)?;
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.links = n.links.saturating_sub(1);
            n.ctime = SystemTime::now();
        }
        self.touch_dir(parent);
        Ok(ino)
    }

    pub fn unlink(&mut self, parent: u64, name: &OsStr) -> FsResult<()> {
        let ino = self.child(parent, name)?;
        if matches!(self.node(ino)?.content, Content::Dir(_)) {
            return Err(Errno::EISDIR);
        }
        self.drop_entry(parent, name)?;
        self.stats.unlinks += 1;
        self.maybe_free(ino);
        Ok(())
    }

    pub fn rmdir(&mut self, parent: u64, name: &OsStr) -> FsResult<()> {
        let ino = self.child(parent, name)?;
        if !self.dir(ino)?.volatile.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.drop_entry(parent, name)?;
        self.stats.unlinks += 1;
        self.maybe_free(ino);
        Ok(())
    }

    pub fn link(&mut self, ino: u64, newparent: u64, newname: &OsStr) -> FsResult<FileAttr> {
        if matches!(self.node(ino)?.content, Content::Dir(_)) {
            return Err(Errno::EPERM);
        }
        if self.dir(newparent)?.volatile.contains_key(newname) {
            return Err(Errno::EEXIST);
        }
        self.dir_mut(newparent)?
            .volatile
            .insert(newname.to_owned(), ino);
        self.node_mut(ino)?.links += 1;
        self.touch_dir(newparent);
        self.attr(ino)
    }

    /// Whether `ino` is `ancestor` or lies below it (volatile tree).
    fn is_within(&self, mut ino: u64, ancestor: u64) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            match self.nodes.get(&ino).map(|n| &n.content) {
                Some(Content::Dir(d)) if d.parent != ino => ino = d.parent,
                _ => return false,
            }
        }
    }

    /// `rename`/`renameat2` with `RENAME_NOREPLACE` (`noreplace`); replaces an existing target
    /// atomically (a file by a file, an empty directory by a directory).
    pub fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        noreplace: bool,
    ) -> FsResult<()> {
        if newname.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let ino = self.child(parent, name)?;
        self.dir(newparent)?;
        let src_is_dir = matches!(self.node(ino)?.content, Content::Dir(_));
        if src_is_dir && self.is_within(newparent, ino) {
            return Err(Errno::EINVAL);
        }
        if let Ok(old) = self.child(newparent, newname) {
            if old == ino {
                return Ok(());
            }
            if noreplace {
                return Err(Errno::EEXIST);
            }
            match (&self.node(old)?.content, src_is_dir) {
                (Content::Dir(d), true) if !d.volatile.is_empty() => return Err(Errno::ENOTEMPTY),
                (Content::Dir(_), false) => return Err(Errno::EISDIR),
                (Content::File(_), true) => return Err(Errno::ENOTDIR),
                _ => {}
            }
            self.drop_entry(newparent, newname)?;
            self.maybe_free(old);
        }
        self.dir_mut(parent)?.volatile.remove(name);
        self.dir_mut(newparent)?
            .volatile
            .insert(newname.to_owned(), ino);
        if let Content::Dir(d) = &mut self.node_mut(ino)?.content {
            d.parent = newparent;
        }
        self.node_mut(ino)?.ctime = SystemTime::now();
        self.touch_dir(parent);
        self.touch_dir(newparent);
        self.stats.renames += 1;
        Ok(())
    }

    /// `fsync`/`fdatasync` of a file (or, through `fsync` on a directory handle, a directory).
    pub fn fsync(&mut self, ino: u64) -> FsResult<()> {
        if matches!(self.node(ino)?.content, Content::Dir(_)) {
            return self.fsyncdir(ino);
        }
        self.file_mut(ino)?.sync();
        self.stats.file_syncs += 1;
        Ok(())
    }

    /// `fsync` of a directory: its current entries become its durable entries.
    pub fn fsyncdir(&mut self, ino: u64) -> FsResult<()> {
        let d = self.dir_mut(ino)?;
        let old = std::mem::replace(&mut d.durable, d.volatile.clone());
        let new: Vec<u64> = d.durable.values().copied().collect();
        for child in &new {
            if let Some(c) = self.nodes.get_mut(child) {
                c.durable_links += 1;
            }
        }
        for child in old.values() {
            if let Some(c) = self.nodes.get_mut(child) {
                c.durable_links = c.durable_links.saturating_sub(1);
            }
        }
        for child in old.values() {
            self.maybe_free(*child);
        }
        self.stats.dir_syncs += 1;
        Ok(())
    }

    /// Take a listing of a directory for `readdir`; returns its handle.
    pub fn opendir(&mut self, ino: u64) -> FsResult<u64> {
        self.dir(ino)?;
        let fh = self.next_fh;
        self.next_fh += 1;
        let listing = self.listing(ino)?;
        self.listings.insert(fh, listing);
        Ok(fh)
    }

    fn listing(&self, ino: u64) -> FsResult<Vec<(u64, FileType, OsString)>> {
        let d = self.dir(ino)?;
        let mut out = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (d.parent, FileType::Directory, OsString::from("..")),
        ];
        for (name, child) in &d.volatile {
            if let Some(n) = self.nodes.get(child) {
                out.push((*child, n.kind(), name.clone()));
            }
        }
        Ok(out)
    }

    /// Entries of a directory handle from `offset` on (`offset` 0 takes a fresh listing, as
    /// after `rewinddir`). Entries removed after the listing was taken may still be returned.
    pub fn readdir(
        &mut self,
        ino: u64,
        fh: u64,
        offset: u64,
    ) -> FsResult<&[(u64, FileType, OsString)]> {
        if offset == 0 || !self.listings.contains_key(&fh) {
            let listing = self.listing(ino)?;
            self.listings.insert(fh, listing);
        }
        let listing = self.listings.get(&fh).ok_or(Errno::EBADF)?;
        Ok(listing.get(offset as usize..).unwrap_or_default())
    }

    pub fn releasedir(&mut self, fh: u64) {
        self.listings.remove(&fh);
    }

    /// Nodes and stored bytes (for `statfs`).
    pub fn usage(&self) -> (u64, u64) {
        let bytes = self
            .nodes
            .values()
            .map(|n| match &n.content {
                Content::File(f) => f.volatile.stored_bytes(),
                Content::Dir(_) => PAGE_U64,
            })
            .sum();
        (self.nodes.len() as u64, bytes)
    }

    /// Cut the power: keep what is durable (and, with `torn`, a seeded random prefix of each
    /// file's unsynced changes), drop the rest. Call it with nothing mounted (the kernel's
    /// caches must go too).
    pub fn cut(&mut self, seed: u64, torn: bool) -> CutReport {
        let mut report = CutReport::default();
        let mut rng = Rng(seed);
        let paths = self.volatile_paths();
        // The durable tree, from the root.
        let mut reachable = BTreeSet::from([ROOT]);
        let mut parents = HashMap::from([(ROOT, ROOT)]);
        let mut queue = VecDeque::from([ROOT]);
        while let Some(ino) = queue.pop_front() {
            if let Some(Node {
                content: Content::Dir(d),
                ..
            }) = self.nodes.get(&ino)
            {
                for child in d.durable.values() {
                    if reachable.insert(*child) {
                        parents.insert(*child, ino);
                        queue.push_back(*child);
                    }
                }
            }
        }
        let before = self.nodes.len() as u64;
        let mut lost: Vec<&String> = self
            .nodes
            .keys()
            .filter(|ino| !reachable.contains(ino))
            .filter_map(|ino| paths.get(ino))
            .collect();
        lost.sort();
        report.lost_paths = lost.into_iter().take(REPORT_PATHS).cloned().collect();
        self.nodes.retain(|ino, _| reachable.contains(ino));
        report.inodes_lost = before - self.nodes.len() as u64;
        let mut links: HashMap<u64, u32> = HashMap::new();
        // Walk in inode order so the tear points depend on the seed and the history only.
        for ino in &reachable {
            let Some(node) = self.nodes.get_mut(ino) else {
                continue;
            };
            node.opens = 0;
            match &mut node.content {
                Content::Dir(d) => {
                    if d.volatile != d.durable {
                        report.dirs_reverted += 1;
                    }
                    d.volatile = d.durable.clone();
                    d.parent = parents.get(ino).copied().unwrap_or(ROOT);
                    for child in d.durable.values() {
                        *links.entry(*child).or_default() += 1;
                    }
                }
                Content::File(f) => {
                    if !f.unsynced() {
                        continue;
                    }
                    report.files_reverted += 1;
                    if report.reverted_paths.len() < REPORT_PATHS {
                        if let Some(p) = paths.get(ino) {
                            report.reverted_paths.push(p.clone());
                        }
                    }
                    let pending = std::mem::take(&mut f.pending);
                    let mut image = f.durable.clone();
                    let mut scratch = BTreeSet::new();
                    let mut lost: u64 = pending
                        .iter()
                        .map(|op| match op {
                            Op::Write { data, .. } => data.len() as u64,
                            Op::SetLen(_) => 0,
                        })
                        .sum();
                    if torn {
                        let keep = rng.upto(pending.len() as u64) as usize;
                        for (i, op) in pending.iter().enumerate().take(keep + 1) {
                            let whole = i < keep;
                            match op {
                                Op::Write { offset, data } => {
                                    let n = if whole {
                                        data.len()
                                    } else {
                                        rng.upto(data.len() as u64) as usize
                                    };
                                    image.write(*offset, &data[..n], &mut scratch);
                                    lost -= n as u64;
                                }
                                Op::SetLen(len) if whole => image.set_len(*len, &mut scratch),
                                Op::SetLen(_) => {}
                            }
                        }
                        if keep > 0 || !scratch.is_empty() {
                            report.torn_files += 1;
                        }
                    }
                    report.bytes_lost += lost;
                    f.durable = image.clone();
                    f.volatile = image;
                    f.dirty.clear();
                }
            }
        }
        links.insert(ROOT, 1);
        for (ino, node) in self.nodes.iter_mut() {
            let n = links.get(ino).copied().unwrap_or(0);
            node.links = n;
            node.durable_links = n;
        }
        self.listings.clear();
        report.inodes_kept = self.nodes.len() as u64;
        self.stats.cuts += 1;
        self.stats.files_reverted += report.files_reverted;
        self.stats.dirs_reverted += report.dirs_reverted;
        self.stats.inodes_lost += report.inodes_lost;
        self.stats.bytes_lost += report.bytes_lost;
        self.stats.torn_files += report.torn_files;
        report
    }

    /// The path of every node reachable through volatile entries (one of them for a node
    /// with several names).
    fn volatile_paths(&self) -> HashMap<u64, String> {
        let mut out = HashMap::from([(ROOT, "/".to_string())]);
        let mut queue = VecDeque::from([(ROOT, String::new())]);
        while let Some((ino, path)) = queue.pop_front() {
            if let Some(Node {
                content: Content::Dir(d),
                ..
            }) = self.nodes.get(&ino)
            {
                for (name, child) in &d.volatile {
                    let p = format!("{path}/{}", name.to_string_lossy());
                    if !out.contains_key(child) {
                        out.insert(*child, p.clone());
                        queue.push_back((*child, p));
                    }
                }
            }
        }
        out
    }

    /// Every regular file's path and content as processes see it (for tests).
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut queue = VecDeque::from([(ROOT, String::new())]);
        while let Some((ino, path)) = queue.pop_front() {
            let Some(node) = self.nodes.get(&ino) else {
                continue;
            };
            match &node.content {
                Content::Dir(d) => {
                    for (name, child) in &d.volatile {
                        queue.push_back((*child, format!("{path}/{}", name.to_string_lossy())));
                    }
                    if ino != ROOT {
                        out.insert(format!("{path}/"), Vec::new());
                    }
                }
                Content::File(f) => {
                    out.insert(path, f.volatile.read(0, f.volatile.size as usize));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
