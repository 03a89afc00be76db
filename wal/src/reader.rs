//! [`WalReader`]: iterate the frames of a snapshot of the log, from any thread.
//!
//! The reader holds the list of segments and the active segment's end offset as they were when
//! [`crate::Wal::reader`] was called. It opens each segment only when it gets to it and maps
//! exactly the snapshot's bytes, so frames appended later are invisible and never raced with.
//! Every frame is fully verified (structure, checksum, padding, seq continuity) before it is
//! yielded; any problem is yielded once as [`WalError::Corrupt`] (or `Io`) and ends the
//! iteration. Never panics, whatever the files contain.

use std::collections::VecDeque;
use std::iter::FusedIterator;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::WalError;
use crate::frame::{decode_frame, FrameKind};
use crate::segment::{decode_segment_header, SEGMENT_HEADER_LEN};
use crate::storage::{FileBytes, Storage};
use crate::writer::SegMeta;

/// One frame read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The frame's sequence number.
    pub seq: u64,
    /// The frame's kind.
    pub kind: FrameKind,
    /// The payload (the concatenation of the parts given to `append`).
    pub payload: Vec<u8>,
}

/// The segment being read.
struct Cursor {
    path: PathBuf,
    bytes: FileBytes,
    pos: usize,
    expected: u64,
    /// Offset before which [`FileBytes::release_before`] was last called.
    released: usize,
}

/// A reader releases consumed mapped pages once this many bytes were read past the last release.
const RELEASE_EVERY: usize = 8 << 20;

/// An owned, `Send` iterator over a snapshot of the log; see [`crate::Wal::reader`].
pub struct WalReader {
    storage: Arc<dyn Storage>,
    segments: VecDeque<SegMeta>,
    from_seq: u64,
    current: Option<Cursor>,
    done: bool,
}

impl std::fmt::Debug for WalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalReader")
            .field("from_seq", &self.from_seq)
            .field("segments_left", &self.segments.len())
            .field("done", &self.done)
            .finish()
    }
}

impl WalReader {
    pub(crate) fn new(storage: Arc<dyn Storage>, segments: Vec<SegMeta>, from_seq: u64) -> Self {
        WalReader {
            storage,
            segments: segments.into(),
            from_seq,
            current: None,
            done: false,
        }
    }

    /// Opens the next segment of the snapshot; `Ok(false)` when there is none.
    fn open_next(&mut self) -> Result<bool, WalError> {
        let Some(seg) = self.segments.pop_front() else {
            return Ok(false);
        };
        let bytes = self
            .storage
            .read(&seg.path, Some(seg.end))
            .map_err(|e| WalError::io("read segment", &seg.path, e))?;
        match decode_segment_header(&bytes) {
            Ok(h) if h.first_seq == seg.first_seq => {}
            Ok(h) => {
                return Err(WalError::corrupt(
                    &seg.path,
                    16,
                    format!(
                        "header first_seq {} expected {}",
                        h.first_seq, seg.first_seq
                    ),
                ))
            }
            Err(d) => return Err(WalError::corrupt(&seg.path, 0, d.to_string())),
        }
        self.current = Some(Cursor {
            path: seg.path,
            bytes,
            pos: SEGMENT_HEADER_LEN,
            expected: seg.first_seq,
            released: 0,
        });
        Ok(true)
    }

    /// The next frame at or after `from_seq`, `Ok(None)` at the end of the snapshot.
    fn advance(&mut self) -> Result<Option<Frame>, WalError> {
        loop {
            let Some(cur) = self.current.as_mut() else {
                if self.open_next()? {
                    continue;
                }
                return Ok(None);
            };
            let pos = cur.pos;
            let frame = match decode_frame(&cur.bytes, pos) {
                Ok(Some(f)) => f,
                Ok(None) if pos >= cur.bytes.len() => {
                    self.current = None;
                    continue;
                }
                Ok(None) => {
                    return Err(WalError::corrupt(
                        &cur.path,
                        pos as u64,
                        "end-of-data marker inside the written range",
                    ))
                }
                Err(d) => return Err(WalError::corrupt(&cur.path, pos as u64, d.to_string())),
            };
            if frame.seq != cur.expected {
                return Err(WalError::corrupt(
                    &cur.path,
                    pos as u64,
                    format!("frame has seq {}, expected {}", frame.seq, cur.expected),
                ));
            }
            cur.pos = frame.next_offset;
            cur.expected = cur.expected.saturating_add(1);
            // Frames before `from_seq` are verified too (seq continuity needs them), so their
            // pages are released like any others: a seal starting mid-segment would otherwise
            // keep up to a whole segment of 50 MB camera frames resident.
            let payload = (frame.seq >= self.from_seq)
                .then(|| cur.bytes.get(frame.payload).unwrap_or(&[]).to_vec());
            if cur.pos - cur.released >= RELEASE_EVERY {
                cur.bytes.release_before(cur.pos);
                cur.released = cur.pos;
            }
            let Some(payload) = payload else {
                continue;
            };
            return Ok(Some(Frame {
                seq: frame.seq,
                kind: frame.kind,
                payload,
            }));
        }
    }
}

impl Iterator for WalReader {
    type Item = Result<Frame, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.advance().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
            self.current = None;
        }
        item
    }
}

impl FusedIterator for WalReader {}

#[cfg(test)]
mod tests;
