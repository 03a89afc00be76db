//! The disk ceiling: sequential `write` + `fdatasync` bandwidth of the filesystem holding the
//! data directory, with the write size of each topic's WAL frames and the fsync cadence of
//! the server's sync mode (`always` with durable acks: one `fdatasync` per frame), one writer
//! thread and one fresh file per topic, as the WAL has one log per topic. The bench runs it
//! twice, with that cadence and with one `fdatasync` at the end (the disk's sequential
//! bandwidth, which a log overlapping each sync with the next write can approach), and takes
//! the faster as the ceiling.

use anyhow::{anyhow, Context, Result};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the disk ceiling measured.
#[derive(Debug, Clone, Copy)]
pub struct DiskRun {
    /// Bytes written (all streams).
    pub bytes: u64,
    /// Wall time from the first write to the last stream's final fsync.
    pub elapsed: Duration,
    /// fdatasync calls (all streams).
    pub syncs: u64,
}

/// For each `(write_size, bytes)` of `streams`, write `bytes` in `write_size` pieces to a new
/// file under `dir`, all streams in parallel; `fdatasync` after every `sync_every` bytes (0:
/// after every write).
pub fn ceiling(dir: &Path, streams: &[(usize, u64)], sync_every: u64) -> Result<DiskRun> {
    let largest = streams.iter().map(|s| s.0).max().unwrap_or(1).max(1);
    let mut buf = vec![0u8; largest];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let start = Instant::now();
    let results: Vec<Result<(u64, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = streams
            .iter()
            .enumerate()
            .map(|(i, &(write_size, bytes_per_stream))| {
                let path = dir.join(format!(".bench-disk-ceiling-{i}"));
                let buf = buf.get(..write_size.max(1)).unwrap_or(buf.as_slice());
                scope.spawn(move || -> Result<(u64, u64)> {
                    let mut f = std::fs::File::create(&path)
                        .with_context(|| format!("create {}", path.display()))?;
                    let (mut written, mut unsynced, mut syncs) = (0u64, 0u64, 0u64);
                    while written < bytes_per_stream {
                        let n = (bytes_per_stream - written).min(buf.len() as u64) as usize;
                        f.write_all(buf.get(..n).unwrap_or(buf))?;
                        written += n as u64;
                        unsynced += n as u64;
                        if unsynced >= sync_every {
                            f.sync_data()?;
                            syncs += 1;
                            unsynced = 0;
                        }
                    }
                    if unsynced > 0 {
                        f.sync_data()?;
                        syncs += 1;
                    }
                    drop(f);
                    std::fs::remove_file(&path)?;
                    Ok((written, syncs))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow!("disk ceiling writer panicked"))?
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut run = DiskRun {
        bytes: 0,
        elapsed,
        syncs: 0,
    };
    for r in results {
        let (b, s) = r?;
        run.bytes += b;
        run.syncs += s;
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_what_it_says_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let r = super::ceiling(dir.path(), &[(1000, 4500), (3000, 6000)], 0).unwrap();
        assert_eq!(r.bytes, 10500);
        assert_eq!(r.syncs, 7); // 4 full writes + 1 partial, then 2 full writes
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
