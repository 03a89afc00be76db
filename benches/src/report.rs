//! Results of `tessera-bench`: the JSON document (`--json FILE`) and the human table.

use serde::Serialize;
use std::fmt::Write;
use std::time::Duration;

/// One run of the client against one server (Tessera or the no-op transport ceiling).
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// IPC bytes (header + body) of the batch messages sent.
    pub bytes: u64,
    /// Record batches sent.
    pub batches: u64,
    /// Rows sent.
    pub rows_sent: u64,
    /// Rows the server reported durable in its last PutResult of each stream, summed.
    pub rows_acked: u64,
    /// PutResults received.
    pub acks: u64,
    /// From the first DoPut to the last DoPut's OK, in seconds.
    pub elapsed_s: f64,
    /// `bytes / elapsed_s`, in MB/s (10^6 bytes).
    pub mb_s: f64,
    /// `rows_sent / elapsed_s`.
    pub rows_s: f64,
    /// Median per-batch durable-ack latency, in ms.
    pub ack_p50_ms: Option<f64>,
    /// 99th percentile per-batch durable-ack latency, in ms.
    pub ack_p99_ms: Option<f64>,
    /// Largest per-batch durable-ack latency, in ms.
    pub ack_max_ms: Option<f64>,
    /// Client-side generation + IPC encoding rate (bytes / time spent generating), MB/s.
    pub client_generate_mb_s: f64,
    /// `sequence_finalize` duration (waits for pending seals), in seconds.
    pub finalize_s: f64,
    /// Per topic: (IPC bytes, batches) sent.
    pub per_topic: Vec<(u64, u64)>,
}

/// The disk ceiling run.
#[derive(Debug, Clone, Serialize)]
pub struct DiskCeiling {
    /// Bytes written.
    pub bytes: u64,
    /// Size of each writer's writes (its topic's mean batch message size).
    pub write_sizes: Vec<u64>,
    /// Parallel writers (one per topic).
    pub streams: usize,
    /// fdatasync calls of the cadence run.
    pub syncs: u64,
    /// Seconds of the cadence run.
    pub elapsed_s: f64,
    /// MB/s with the server's fsync cadence (one `fdatasync` per frame with durable acks),
    /// each write waiting for the previous sync: the bound of a log without group commit.
    pub cadence_mb_s: f64,
    /// MB/s writing the same bytes with one `fdatasync` at the end: the disk's sequential
    /// bandwidth, which group commit (a sync overlapping the next write) can approach.
    pub stream_mb_s: f64,
    /// The ceiling: the larger of the two, MB/s (10^6 bytes).
    pub mb_s: f64,
}

/// Everything measured for one workload.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    /// `video`, `imu` or `parallel`.
    pub workload: String,
    /// What was sent.
    pub description: String,
    /// Topics uploaded in parallel.
    pub topics: usize,
    /// The Tessera run.
    pub tessera: Measured,
    /// Peak resident memory of the server, in bytes.
    pub server_peak_rss_bytes: Option<u64>,
    /// Where the peak comes from (`VmHWM` or `sampled VmRSS`).
    pub rss_source: Option<String>,
    /// Sampled server RSS over the run: (seconds, bytes), at most ~40 points.
    pub rss_samples: Vec<(f64, u64)>,
    /// Bytes of all files in the data directory after finalize.
    pub disk_bytes: Option<u64>,
    /// The same client against the no-op server.
    pub transport: Option<Measured>,
    /// Sequential write + fsync of the data directory's filesystem.
    pub disk: Option<DiskCeiling>,
    /// Tessera MB/s / transport MB/s.
    pub ratio_transport: Option<f64>,
    /// Tessera MB/s / disk MB/s.
    pub ratio_disk: Option<f64>,
    /// Tessera MB/s / min(transport, disk) MB/s.
    pub ratio_min: Option<f64>,
}

impl WorkloadReport {
    /// Fill in the ratios from the measured rates.
    pub fn compute_ratios(&mut self) {
        let t = self.tessera.mb_s;
        let tr = self.transport.as_ref().map(|m| m.mb_s);
        let d = self.disk.as_ref().map(|d| d.mb_s);
        let div = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        self.ratio_transport = tr.and_then(|x| div(t, x));
        self.ratio_disk = d.and_then(|x| div(t, x));
        let min = match (tr, d) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.ratio_min = min.and_then(|x| div(t, x));
    }
}

/// Machine facts recorded with the results.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available.
    pub nproc: usize,
    /// `MemTotal` from /proc/meminfo, in bytes.
    pub mem_total_bytes: Option<u64>,
}

impl Machine {
    /// Read this machine's facts.
    pub fn probe() -> Self {
        let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            s.lines().find_map(|l| {
                let kb = l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?;
                kb.trim().parse::<u64>().ok().map(|k| k * 1024)
            })
        });
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total_bytes: mem,
        }
    }
}

/// The whole result document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Tessera version.
    pub version: String,
    /// The machine.
    pub machine: Machine,
    /// The settings the run used (server flags and sizes).
    pub settings: serde_json::Value,
    /// One entry per workload.
    pub workloads: Vec<WorkloadReport>,
}

/// Percentile `p` (0..=1) of sorted durations, in ms (nearest rank).
pub fn percentile_ms(sorted: &[Duration], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    sorted.get(rank - 1).map(|d| d.as_secs_f64() * 1e3)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

fn mib(v: Option<u64>) -> String {
    v.map_or_else(
        || "-".to_string(),
        |b| format!("{:.0}", b as f64 / 1048576.0),
    )
}

impl Report {
    /// The human table.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<9} {:<9} {:>9} {:>12} {:>9} {:>9} {:>8} {:>9} {:>6} {:>6} {:>6}",
            "workload",
            "run",
            "MB/s",
            "rows/s",
            "p50 ms",
            "p99 ms",
            "RSS MiB",
            "disk MB",
            "/tr",
            "/disk",
            "/min"
        );
        for w in &self.workloads {
            let t = &w.tessera;
            let _ = writeln!(
                s,
                "{:<9} {:<9} {:>9.1} {:>12.0} {:>9} {:>9} {:>8} {:>9} {:>6} {:>6} {:>6}",
                w.workload,
                "tessera",
                t.mb_s,
                t.rows_s,
                opt(t.ack_p50_ms, 1),
                opt(t.ack_p99_ms, 1),
                mib(w.server_peak_rss_bytes),
                w.disk_bytes
                    .map_or_else(|| "-".to_string(), |b| format!("{:.0}", b as f64 / 1e6)),
                opt(w.ratio_transport, 2),
                opt(w.ratio_disk, 2),
                opt(w.ratio_min, 2),
            );
            if let Some(m) = &w.transport {
                let _ = writeln!(
                    s,
                    "{:<9} {:<9} {:>9.1} {:>12.0} {:>9} {:>9} {:>8} {:>9}",
                    "",
                    "transport",
                    m.mb_s,
                    m.rows_s,
                    opt(m.ack_p50_ms, 1),
                    opt(m.ack_p99_ms, 1),
                    "-",
                    "-"
                );
            }
            if let Some(d) = &w.disk {
                let _ = writeln!(
                    s,
                    "{:<9} {:<9} {:>9.1} {:>12} {:>9} {:>9} {:>8} {:>9}   (fsync per frame {:.1}, one fsync {:.1})",
                    "", "disk", d.mb_s, "-", "-", "-", "-", "-", d.cadence_mb_s, d.stream_mb_s
                );
            }
        }
        for w in &self.workloads {
            let t = &w.tessera;
            let _ = writeln!(
                s,
                "{}: {}; {} topic(s), {} batches, {} rows sent, {} acked, {:.2} GB in {:.1} s, finalize {:.2} s, client generation {:.0} MB/s",
                w.workload,
                w.description,
                w.topics,
                t.batches,
                t.rows_sent,
                t.rows_acked,
                t.bytes as f64 / 1e9,
                t.elapsed_s,
                t.finalize_s,
                t.client_generate_mb_s
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&v, 0.5), Some(50.0));
        assert_eq!(percentile_ms(&v, 0.99), Some(99.0));
        assert_eq!(percentile_ms(&v[..1], 0.99), Some(1.0));
        assert_eq!(percentile_ms(&[], 0.5), None);
    }
}
