//! `tessera verify`: an offline check of a data directory. It reads everything and changes
//! nothing: every catalog record decodes, every topic with data has a schema, every WAL frame
//! passes its checksum (a torn tail is reported as a warning: recovery will cut it), every chunk
//! file matches its catalog record (length, per-block crc32, decodable, statistics recomputed
//! bit-exact), and no chunk file or topic directory exists without a catalog entry (orphans).
//! Run it while no server uses the directory (the catalog allows one process).

use crate::catalog::Catalog;
use crate::error::Result;
use std::collections::HashSet;
use std::path::Path;

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
            check_topic(&cat, &loc, &t.id, &tdir, &mut r);
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

fn check_topic(cat: &Catalog, loc: &str, id: &uuid::Uuid, tdir: &Path, r: &mut Report) {
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
    let wal = tdir.join("wal");
    if wal.is_dir() {
        match tessera_wal::verify_dir(&wal) {
            Ok(v) => {
                r.frames += v.frames;
                if let Some(t) = &v.torn_tail {
                    r.warnings.push(format!(
                        "topic `{loc}`: torn WAL tail in {} at offset {} ({} bytes, never acknowledged; cut at startup)",
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
            }
            Err(e) => r.errors.push(format!("topic `{loc}`: WAL unreadable: {e}")),
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
                "{}: {n} bytes, the catalog says {}",
                path.display(),
                rec.file_len
            )),
            Err(e) => {
                r.errors.push(format!("{}: missing ({e})", path.display()));
                continue;
            }
        }
        match tessera_format::ChunkReader::open(&path).and_then(|c| c.verify().map(|()| c)) {
            Ok(c) if c.stats() == &rec.stats => {}
            Ok(_) => r.errors.push(format!(
                "{}: statistics differ from its catalog record",
                path.display()
            )),
            Err(e) => r.errors.push(format!("{}: {e}", path.display())),
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
