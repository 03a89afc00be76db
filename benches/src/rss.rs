//! Server memory and disk figures: peak RSS from `/proc/<pid>/status` (`VmHWM`, reset through
//! `clear_refs` when allowed) and sampled `VmRSS`; bytes on disk by walking the data directory.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `kB` field of `/proc/<pid>/status`, in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Reset the peak RSS (`VmHWM`) of `pid` (Linux `clear_refs` value 5); false if not allowed.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), b"5").is_ok()
}

/// Samples `VmRSS` of a process every `period` on a thread until dropped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    samples: Arc<Mutex<Vec<(f64, u64)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Start sampling `pid`.
    pub fn start(pid: u32, period: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (s, m, v) = (Arc::clone(&stop), Arc::clone(&max), Arc::clone(&samples));
        let t0 = Instant::now();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = status_bytes(pid, "VmRSS") {
                    m.fetch_max(rss, Ordering::Relaxed);
                    if let Ok(mut v) = v.lock() {
                        v.push((t0.elapsed().as_secs_f64(), rss));
                    }
                }
                std::thread::sleep(period);
            }
        });
        Sampler {
            stop,
            max,
            samples,
            thread: Some(thread),
        }
    }

    /// Stop; returns the largest sample and all samples (seconds since start, bytes).
    pub fn finish(mut self) -> (u64, Vec<(f64, u64)>) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let samples = self.samples.lock().map(|v| v.clone()).unwrap_or_default();
        (self.max.load(Ordering::Relaxed), samples)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Total length of the regular files under `dir` (recursively), in bytes.
pub fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.path().symlink_metadata()?;
        if meta.is_dir() {
            total += dir_bytes(&entry.path())?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_status_and_walks_dirs() {
        let pid = std::process::id();
        assert!(super::status_bytes(pid, "VmRSS").unwrap() > 0);
        assert!(super::status_bytes(pid, "VmHWM").unwrap() > 0);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x"), [1u8; 10]).unwrap();
        std::fs::write(dir.path().join("y"), [1u8; 5]).unwrap();
        assert_eq!(super::dir_bytes(dir.path()).unwrap(), 15);
    }
}
