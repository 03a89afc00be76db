//! `tessera verify`: an offline check of a data directory. It reads everything and changes
//! nothing: every catalog record decodes, every topic with data has a schema, every WAL frame
//! passes its checksum (a torn tail is reported as a warning: recovery will cut it), every chunk
//! file matches its catalog record (length, per-block crc32, decodable, statistics recomputed
//! bit-exact), and no chunk file or topic directory exists without a catalog entry (orphans).
//! No silent loss (`logs::integrity`): a topic with a schema has its WAL, the WAL continues the
//! chunks, and chunks plus WAL frames (as recovery will leave them: torn tail cut) hold at
//! least the rows and batches the topic record says its uploads acknowledged.
//! Run it while no server uses the directory (the catalog allows one process).

use crate::catalog::records::TopicRecord;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::logs::Sealed;
use std::collections::HashSet;
use std::path::Path;
use tessera_wal::Storage;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Problems that mean damaged or inconsistent data.
    pub errors: Vec<String>,
    /// Findings that recovery handles by itself (torn WAL tails, orphans).
    pub warnings: Vec<String>,
    /// Counts of what was checked.
    pub sequences: usize,
    /// Topics checked.
    pub topics: usize,
    /// WAL frames checked.
    pub frames: u64,
    /// Chunk files checked.
    pub chunks: usize,
}

impl Report {
    /// A readable summary, one finding per line.
    pub fn render(&self) -> String {
        let mut out = format!(
            "checked {} sequences, {} topics, {} WAL frames, {} chunks\n",
            self.sequences, self.topics, self.frames, self.chunks
        );
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for e in &self.errors {
            out.push_str(&format!("error: {e}\n"));
        }
        out.push_str(if self.errors.is_empty() {
            "OK\n"
        } else {
            "DAMAGED\n"
        });
        out
    }
}

/// Check the data directory `dir`.
pub fn verify(dir: &Path) -> Result<Report> {
    let cat = Catalog::open(&dir.join("catalog"))?;
    let mut r = Report::default();
    let mut live = HashSet::new();
    for (seq, _) in cat.sequences()? {
        r.sequences += 1;
        if let Err(e) = cat.sessions_of(&seq) {
            r.errors.push(format!(
                "sequence `{seq}`: sessions unreadable: {}",
                e.message
            ));
        }
        let topics = match cat.topics_of(&seq) {
            Ok(t) => t,
            Err(e) => {
                r.errors.push(format!(
                    "sequence `{seq}`: topics unreadable: {}",
                    e.message
                ));
                continue;
            }
        };
        for (name, t) in topics {
            r.topics += 1;
            live.insert(t.id.to_string());
            let loc = format!("{seq}/{name}");
            let tdir = dir.join("topics").join(t.id.to_string());
            check_topic(&cat, &loc, &t, &tdir, &mut r);
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("topics")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !live.contains(&name) {
                r.warnings.push(format!(
                    "orphaned topic directory {} (removed at startup)",
                    e.path().display()
                ));
            }
        }
    }
    Ok(r)
}

fn check_topic(cat: &Catalog, loc: &str, t: &TopicRecord, tdir: &Path, r: &mut Report) {
    let id = &t.id;
    let schema = match cat.schema(id) {
        Ok(s) => s,
        Err(e) => {
            r.errors
                .push(format!("topic `{loc}`: schema unreadable: {}", e.message));
            None
        }
    };
    if let Some(h) = &schema {
        if let Err(e) = crate::ipc::decode_schema(h) {
            r.errors.push(format!(
                "topic `{loc}`: stored schema does not decode: {}",
                e.message
            ));
        }
    }
    let records = match cat.chunks_of(id) {
        Ok(c) => c,
        Err(e) => {
            r.errors.push(format!(
                "topic `{loc}`: chunk index unreadable: {}",
                e.message
            ));
            return;
        }
    };
    let sealed = Sealed::of(&records);
    let wal = tdir.join("wal");
    // What the log holds after the sealed frames, once recovery cut its torn tail.
    let mut tail = None;
    // Whether the log has a segment file (an unreadable one counts: reported as such).
    let mut has_segment = false;
    if wal.is_dir() {
        match tessera_wal::verify_dir(&wal) {
            Ok(v) => {
                r.frames += v.frames;
                has_segment = !v.segments.is_empty();
                if let Some(t) = &v.torn_tail {
                    r.warnings.push(format!(
                        "topic `{loc}`: torn WAL tail in {} at offset {} ({} bytes; cut at startup)",
                        t.segment.display(),
                        t.offset,
                        t.bytes_dropped
                    ));
                }
                for c in &v.corruption {
                    r.errors
                        .push(format!("topic `{loc}`: WAL data loss: {c:?}"));
                }
                if v.frames > 0 && schema.is_none() {
                    if wal_starts_with_schema(&v) {
                        r.warnings.push(format!(
                            "topic `{loc}`: its schema is in the WAL but not yet in the catalog (a crash between the two writes; restored at startup)"
                        ));
                    } else {
                        r.errors.push(format!(
                            "topic `{loc}`: WAL holds frames but no schema, in the catalog or the WAL"
                        ));
                    }
                }
                if schema.is_some() && !v.segments.is_empty() && v.corruption.is_empty() {
                    tail = check_log(loc, &v, sealed.upto, r);
                }
            }
            Err(e) => {
                has_segment = true;
                r.errors.push(format!("topic `{loc}`: WAL unreadable: {e}"));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(&wal) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(".wal.cut-") {
                r.warnings.push(format!(
                    "topic `{loc}`: {}: bytes a recovery cut from a torn WAL tail, kept as evidence",
                    e.path().display()
                ));
            }
        }
    }
    if schema.is_some() && !has_segment {
        // Frame 1 (the schema) was synced before the catalog copy was written, and a log is
        // only ever removed with its topic: its data is gone.
        r.errors.push(format!(
            "topic `{loc}`: its write-ahead log {} is missing (the topic has a schema, so its log was written): data lost",
            wal.display()
        ));
    }
    let cdir = tdir.join("chunks");
    let mut known = HashSet::new();
    for rec in &records {
        r.chunks += 1;
        let path = cdir.join(rec.file_name());
        known.insert(rec.file_name());
        let len = std::fs::metadata(&path).map(|m| m.len());
        match len {
            Ok(n) if n == rec.file_len => {}
            Ok(n) => r.errors.push(format!(
                "topic `{loc}`: chunk {}: {n} bytes, the catalog says {}",
                path.display(),
                rec.file_len
            )),
            Err(e) => {
                r.errors.push(format!(
                    "topic `{loc}`: chunk {}: missing ({e})",
                    path.display()
                ));
                continue;
            }
        }
        match tessera_format::ChunkReader::open(&path).and_then(|c| c.verify().map(|()| c)) {
            Ok(c) if c.stats() == &rec.stats => {}
            Ok(_) => r.errors.push(format!(
                "topic `{loc}`: chunk {}: statistics differ from its catalog record (not the file that was sealed)",
                path.display()
            )),
            Err(e) => r.errors.push(format!("topic `{loc}`: chunk {}: {e}", path.display())),
        }
    }
    if let Ok(entries) = std::fs::read_dir(&cdir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                r.warnings.push(format!(
                    "{}: not in the catalog (an interrupted seal; removed at startup)",
                    e.path().display()
                ));
            }
        }
    }
    // The record's statistics were written when a DoPut ended, after its data was synced: a
    // lower bound of what was acknowledged (`logs::integrity`).
    if let Some((rows, batches)) = tail {
        let (rows, batches) = (sealed.rows + rows, sealed.batches + batches);
        let want = &t.stats;
        if rows < want.rows || batches < want.batches {
            r.errors.push(format!(
                "topic `{loc}`: stores {rows} rows in {batches} batches (chunks and WAL, after the torn tail is cut), fewer than the {} rows in {} batches its upload acknowledged: data lost",
                want.rows, want.batches
            ));
        }
    }
}

/// Check that the log continues the chunks sealed up to `upto` (its first frame at most one
/// past it, its numbering at least up to it and to frame 1), and count the rows and batches of
/// its valid frames after `upto` from their IPC headers. `None` when a finding was recorded.
fn check_log(
    loc: &str,
    v: &tessera_wal::VerifyReport,
    upto: u64,
    r: &mut Report,
) -> Option<(u64, u64)> {
    let first = v.segments.first().map_or(0, |s| s.first_seq);
    if first > upto + 1 || v.last_seq < upto.max(1) {
        r.errors.push(format!(
            "topic `{loc}`: its WAL holds seqs {first}..={} but its chunks end at seq {upto}: frames are missing, data lost",
            v.last_seq
        ));
        return None;
    }
    let (mut rows, mut batches) = (0u64, 0u64);
    for seg in &v.segments {
        if seg.frames == 0 || seg.first_seq + seg.frames <= upto + 1 {
            continue;
        }
        let bytes = match tessera_wal::FsStorage.read(&seg.path, None) {
            Ok(b) => b,
            Err(e) => {
                r.errors.push(format!(
                    "topic `{loc}`: WAL segment {} unreadable: {e}",
                    seg.path.display()
                ));
                return None;
            }
        };
        for f in tessera_wal::scan_segment_bytes(&bytes).frames {
            if f.seq <= upto || f.kind != tessera_wal::FrameKind::RecordBatch {
                continue;
            }
            let start = f.offset as usize + tessera_wal::FRAME_HEADER_LEN;
            let payload = bytes.get(start..start + f.payload_len as usize);
            match payload.map(crate::ipc::stored_batch_rows) {
                Some(Ok(n)) => {
                    rows += n;
                    batches += 1;
                }
                _ => {
                    r.errors.push(format!(
                        "topic `{loc}`: WAL frame {} in {} does not hold a readable record batch",
                        f.seq,
                        seg.path.display()
                    ));
                    return None;
                }
            }
        }
    }
    Some((rows, batches))
}

/// Whether the log's frame 1 is a readable schema frame.
fn wal_starts_with_schema(v: &tessera_wal::VerifyReport) -> bool {
    let Some(seg) = v.segments.first().filter(|s| s.first_seq == 1) else {
        return false;
    };
    let Ok(bytes) = std::fs::read(&seg.path) else {
        return false;
    };
    let scan = tessera_wal::scan_segment_bytes(&bytes);
    let Some(f) = scan.frames.first() else {
        return false;
    };
    let start = f.offset as usize + tessera_wal::FRAME_HEADER_LEN;
    let payload = bytes.get(start..start + f.payload_len as usize);
    f.seq == 1
        && f.kind == tessera_wal::FrameKind::Schema
        && payload.is_some_and(|p| crate::ipc::decode_stored_schema(p).is_ok())
}
