//! The [`Wal`] handle and its write path: append, sync, rotation, poisoning.
//!
//! Durability protocol (what recovery relies on):
//! 1. a frame is written with one positioned vectored write sequence (header, payload parts,
//!    padding) at the end of the active segment; short writes are retried;
//! 2. [`Wal::sync`] (or [`Durability::Sync`]) `fdatasync`s the active segment; only then does
//!    [`Wal::durable_seq`] advance;
//! 3. rotation first syncs the active segment (trimming its preallocated tail), then creates
//!    the next one (header written, file synced, directory synced), so only the newest segment
//!    can ever hold a torn tail;
//! 4. any write or sync error poisons the handle: the state of unsynced bytes is unknown
//!    (after a failed `fdatasync` the kernel may have dropped them), so every later
//!    append/sync fails with [`WalError::Poisoned`] until the log is reopened.
//!
//! A sync can also run outside the caller's lock while appends go on (group commit, see
//! `group`); every sync of a log passes through its `SyncGate` (`sync_gate`), one at a
//! time.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::WalError;
use crate::frame::{encode_header, frame_len, padding_len, FrameKind};
use crate::options::{Durability, WalOptions};
use crate::segment::{create_segment, SEGMENT_HEADER_LEN};
use crate::storage::{write_all_at, Storage, StorageFile};
use crate::sync_gate::SyncGate;

/// A segment of the log as the writer tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegMeta {
    /// Seq of its first frame.
    pub first_seq: u64,
    /// Its file.
    pub path: PathBuf,
    /// Bytes in use: segment header plus complete frames (excludes preallocated zeros).
    pub end: u64,
}

/// The segment being appended to.
#[derive(Debug)]
pub(crate) struct Active {
    pub meta: SegMeta,
    pub file: Box<dyn StorageFile>,
}

/// A per-topic write-ahead log, open for appending. `Send` (it can be moved into a blocking
/// thread) but used through `&mut self`; readers get an independent [`crate::WalReader`].
#[derive(Debug)]
pub struct Wal {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) dir: PathBuf,
    pub(crate) opts: WalOptions,
    /// Older segments, oldest first; all frames in them are durable.
    pub(crate) sealed: Vec<SegMeta>,
    pub(crate) active: Active,
    pub(crate) next_seq: u64,
    pub(crate) durable_seq: u64,
    pub(crate) live_bytes: u64,
    pub(crate) poisoned: bool,
    /// Serializes every sync of this log, inline or pending (group commit).
    pub(crate) gate: Arc<SyncGate>,
}

impl Wal {
    /// Appends one frame whose payload is the concatenation of `parts` (written as they are,
    /// without copying them into one buffer) and returns its seq (1, 2, 3, ... per log).
    ///
    /// With [`Durability::Sync`] the frame is `fdatasync`ed before this returns. Fails with
    /// [`WalError::FrameTooLarge`] (log unchanged, not poisoned) if the payload exceeds
    /// [`crate::MAX_PAYLOAD_LEN`]; any I/O error poisons the log.
    pub fn append(
        &mut self,
        kind: FrameKind,
        parts: &[&[u8]],
        durability: Durability,
    ) -> Result<u64, WalError> {
        self.ensure_usable()?;
        let seq = self.next_seq;
        let next = seq.checked_add(1).ok_or(WalError::SeqExhausted)?;
        let (header, len) = encode_header(kind, seq, parts)?;
        let size = frame_len(len);
        let end = self.active.meta.end;
        if end > SEGMENT_HEADER_LEN as u64
            && end.saturating_add(size) > self.opts.segment_size_bytes
        {
            let rotated = self.rotate();
            self.check(rotated)?;
        }
        let padding = [0u8; 8];
        let mut bufs: Vec<&[u8]> = Vec::with_capacity(parts.len() + 2);
        bufs.push(&header);
        bufs.extend_from_slice(parts);
        bufs.push(padding.get(..padding_len(len)).unwrap_or(&[]));
        let at = self.active.meta.end;
        let written = write_all_at(self.active.file.as_mut(), at, &bufs)
            .map_err(|e| WalError::io("append frame", &self.active.meta.path, e));
        self.check(written)?;
        self.active.meta.end = at.saturating_add(size);
        self.live_bytes = self.live_bytes.saturating_add(size);
        self.next_seq = next;
        if durability == Durability::Sync {
            self.sync()?;
        }
        Ok(seq)
    }

    /// `fdatasync`s everything appended so far and returns the durable seq (0 if nothing was
    /// ever appended). Skips the system call when everything is already durable.
    pub fn sync(&mut self) -> Result<u64, WalError> {
        self.ensure_usable()?;
        let target = self.last_seq();
        if self.durable_seq < target {
            let synced = self.sync_active();
            self.check(synced)?;
            self.durable_seq = target;
        }
        Ok(target)
    }

    /// `fdatasync` of the active segment, through the sync gate.
    fn sync_active(&mut self) -> Result<(), WalError> {
        let file = &mut self.active.file;
        self.gate
            .sync(|| file.sync_data())
            .map_err(|e| WalError::io("fdatasync", &self.active.meta.path, e))
    }

    /// Fails with [`WalError::Poisoned`] once a write or sync failed.
    pub(crate) fn ensure_usable(&self) -> Result<(), WalError> {
        if self.is_poisoned() {
            return Err(WalError::Poisoned);
        }
        Ok(())
    }

    /// Highest seq assigned so far (0 if none); the next append gets `last_seq() + 1`.
    pub fn last_seq(&self) -> u64 {
        self.next_seq.saturating_sub(1)
    }

    /// Seq of the oldest frame still in the log (frames before it were reclaimed), or the seq
    /// the next append gets when the log holds no frame: the `first_seq` of its oldest segment.
    pub fn first_seq(&self) -> u64 {
        self.sealed
            .first()
            .map_or(self.active.meta.first_seq, |s| s.first_seq)
    }

    /// Highest seq known to be on stable storage.
    pub fn durable_seq(&self) -> u64 {
        self.durable_seq
    }

    /// True after a write or sync error; see [`WalError::Poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned || self.gate.failed()
    }

    /// Bytes appended and not yet reclaimed: segment headers plus frames (headers, payloads,
    /// padding), excluding preallocated space. For back-pressure accounting.
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Ends the active segment (synced first) and starts a new, empty one, so that
    /// [`Wal::reclaim_before`] can remove every frame written so far once they are sealed.
    /// For a log that will take no more appends (its topic's upload completed). Returns
    /// `false`, doing nothing, when the active segment holds no frame.
    pub fn roll(&mut self) -> Result<bool, WalError> {
        self.ensure_usable()?;
        if self.active.meta.end <= SEGMENT_HEADER_LEN as u64 {
            return Ok(false);
        }
        let rotated = self.rotate();
        self.check(rotated)?;
        Ok(true)
    }

    /// Poisons the log if `result` is an error.
    fn check<T>(&mut self, result: Result<T, WalError>) -> Result<T, WalError> {
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    /// Seals the active segment (synced first) and starts a new one at `next_seq`.
    ///
    /// A preallocated segment is first cut back to its used length, so only the newest segment
    /// ever has a zero tail for recovery to read through.
    fn rotate(&mut self) -> Result<(), WalError> {
        if self.opts.preallocate {
            self.active
                .file
                .set_len(self.active.meta.end)
                .map_err(|e| WalError::io("trim segment", &self.active.meta.path, e))?;
        }
        let last = self.last_seq();
        if self.durable_seq < last {
            self.sync_active()?;
            self.durable_seq = last;
        }
        let (path, file) = create_segment(
            self.storage.as_ref(),
            &self.dir,
            self.next_seq,
            self.opts.prealloc_len(),
        )?;
        let header = SEGMENT_HEADER_LEN as u64;
        let new = Active {
            meta: SegMeta {
                first_seq: self.next_seq,
                path,
                end: header,
            },
            file,
        };
        let old = std::mem::replace(&mut self.active, new);
        self.sealed.push(old.meta);
        self.live_bytes = self.live_bytes.saturating_add(header);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
