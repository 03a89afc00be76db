//! Opening, reading, reclaiming and destroying a [`Wal`].

use std::path::Path;
use std::sync::Arc;

use crate::error::WalError;
use crate::fs::FsStorage;
use crate::options::WalOptions;
use crate::reader::WalReader;
use crate::recovery::{recover, RecoveryReport};
use crate::segment::{create_segment, SEGMENT_HEADER_LEN};
use crate::storage::{parent_dir, Storage};
use crate::writer::{Active, SegMeta, Wal};

impl Wal {
    /// Opens or creates the log in `dir` on the real file system; see
    /// [`Wal::open_with_storage`].
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, RecoveryReport), WalError> {
        Self::open_with_storage(Arc::new(FsStorage), dir, opts)
    }

    /// Opens or creates the log in `dir` (created if missing; it and its parent are fsynced)
    /// and runs recovery.
    ///
    /// A torn or invalid tail of the last segment is truncated to the last valid frame and
    /// reported in [`RecoveryReport::truncated`]. An invalid frame followed by valid data,
    /// damage in an older segment, a seq gap, or a damaged header on an older segment is
    /// [`WalError::Corrupt`] (data loss; the caller decides). An unknown segment format version
    /// is [`WalError::UnsupportedVersion`]. Never panics. Every recovered frame is durable when
    /// this returns (`durable_seq() == last_seq()`).
    ///
    /// At most one `Wal` may be open on a directory at a time (not enforced: the server owns
    /// each topic's log exclusively).
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        dir: &Path,
        opts: WalOptions,
    ) -> Result<(Wal, RecoveryReport), WalError> {
        storage
            .create_dir_all(dir)
            .map_err(|e| WalError::io("create directory", dir, e))?;
        let parent = parent_dir(dir);
        storage
            .sync_dir(parent)
            .map_err(|e| WalError::io("fsync directory", parent, e))?;
        storage
            .sync_dir(dir)
            .map_err(|e| WalError::io("fsync directory", dir, e))?;
        let mut rec = recover(storage.as_ref(), dir, &opts)?;
        let active = match (rec.segments.pop(), rec.active) {
            (Some(meta), Some(file)) => Active { meta, file },
            _ => {
                let (path, file) =
                    create_segment(storage.as_ref(), dir, rec.next_seq, opts.prealloc_len())?;
                rec.report.segments += 1;
                Active {
                    meta: SegMeta {
                        first_seq: rec.next_seq,
                        path,
                        end: SEGMENT_HEADER_LEN as u64,
                    },
                    file,
                }
            }
        };
        let live_bytes = rec
            .segments
            .iter()
            .chain(std::iter::once(&active.meta))
            .map(|s| s.end)
            .sum();
        let durable_seq = rec.next_seq.saturating_sub(1);
        let wal = Wal {
            storage,
            dir: dir.to_path_buf(),
            opts,
            sealed: rec.segments,
            active,
            next_seq: rec.next_seq,
            durable_seq,
            live_bytes,
            poisoned: false,
            gate: Default::default(),
        };
        Ok((wal, rec.report))
    }

    /// A reader over the frames with seq `>= from_seq` that exist now (a snapshot of the
    /// segment list and of the active segment's end). It opens the files itself, so it can be
    /// moved to another thread and used while this log keeps appending. Frames are
    /// checksum-verified before they are yielded.
    ///
    /// Reclaiming or destroying segments the reader has not opened yet makes it yield an I/O
    /// error; callers must not reclaim what is still being read.
    pub fn reader(&self, from_seq: u64) -> WalReader {
        let all: Vec<SegMeta> = self
            .sealed
            .iter()
            .chain(std::iter::once(&self.active.meta))
            .cloned()
            .collect();
        // Skip segments whose successor starts at or before `from_seq`: all their frames are
        // older than requested.
        let skip = all
            .windows(2)
            .take_while(|w| w.get(1).is_some_and(|next| next.first_seq <= from_seq))
            .count();
        WalReader::new(
            Arc::clone(&self.storage),
            all.into_iter().skip(skip).collect(),
            from_seq,
        )
    }

    /// Deletes the oldest whole segments all of whose frames have seq `< upto_seq` (they have
    /// been sealed into chunks), never the active segment, and returns how many were removed.
    ///
    /// The directory is fsynced after each removal, oldest first, so a crash part-way leaves a
    /// contiguous run of seqs that recovery accepts.
    pub fn reclaim_before(&mut self, upto_seq: u64) -> Result<usize, WalError> {
        let mut removed = 0;
        while let Some(oldest) = self.sealed.first() {
            let next_first = self
                .sealed
                .get(1)
                .map_or(self.active.meta.first_seq, |s| s.first_seq);
            if next_first > upto_seq {
                break;
            }
            self.storage
                .remove_file(&oldest.path)
                .map_err(|e| WalError::io("remove segment", &oldest.path, e))?;
            let gone = self.sealed.remove(0);
            self.live_bytes = self.live_bytes.saturating_sub(gone.end);
            removed += 1;
            self.storage
                .sync_dir(&self.dir)
                .map_err(|e| WalError::io("fsync directory", &self.dir, e))?;
        }
        Ok(removed)
    }

    /// Removes the log directory and everything in it (the topic was deleted), then fsyncs the
    /// parent directory.
    pub fn destroy(self) -> Result<(), WalError> {
        let Wal {
            storage,
            dir,
            active,
            ..
        } = self;
        drop(active);
        storage
            .remove_dir_all(&dir)
            .map_err(|e| WalError::io("remove directory", &dir, e))?;
        let parent = parent_dir(&dir);
        storage
            .sync_dir(parent)
            .map_err(|e| WalError::io("fsync directory", parent, e))
    }
}
