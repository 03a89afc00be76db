//! `tessera-bench`: drive a Tessera server over Flight with camera-like 4K frames, IMU rows and
//! parallel topics, and measure in the same run what bounds it: the same client against a
//! no-op Flight server (transport ceiling) and sequential write + fdatasync of the data
//! directory's filesystem (disk ceiling). See BENCHMARKS.md for method and results.
//!
//! A client of the server, kept out of the `tessera` library: run it as
//! `cargo run --release -p tessera-bench -- [FLAGS]`. It spawns `tessera serve` from the
//! `tessera` executable next to its own (`cargo build --release -p tessera`) or `--server-exe`.
//!
//! - `workload`: data generators; `client`: the Flight driver (seed protocol, durable acks);
//! - `noop`: the no-op server; `disk`: the disk ceiling; `spawn`: the `tessera serve` child;
//! - `rss`: peak RSS and bytes on disk; `report`: JSON document and table.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod client;
pub mod disk;
pub mod noop;
pub mod report;
pub mod rss;
pub mod spawn;
pub mod workload;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use client::{Progress, StreamOutcome};
use report::{DiskCeiling, Machine, Measured, Report, WorkloadReport};
use serde_json::{json, Value};
use spawn::{ServeOptions, Spawned};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::Generator;

/// A workload of `tessera-bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Raw RGB frames (default 3840x2160x3 bytes per row) in a binary column.
    Video,
    /// IMU rows: timestamp + 9 f64, 64k-row batches.
    Imu,
    /// Several topics uploading in parallel in one sequence.
    Parallel,
}

/// What the parallel workload's topics carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParallelKind {
    /// Every topic IMU.
    Imu,
    /// Every topic video.
    Video,
    /// Even topics video, odd topics IMU.
    Mixed,
}

/// `tessera-bench` flags. Defaults are a smoke-sized run (about a minute); BENCHMARKS.md
/// lists the sizes used for the published figures.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Workloads to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "video,imu,parallel")]
    pub workloads: Vec<Workload>,
    /// Frames sent by the video workload (rounded up to whole batches).
    #[arg(long, default_value_t = 48)]
    pub video_frames: u64,
    /// Frames per record batch (2 4K frames = 49.8 MB fit the default 64 MiB message limit).
    #[arg(long, default_value_t = 2)]
    pub frames_per_batch: usize,
    /// Frame size, WIDTHxHEIGHT (3 bytes per pixel).
    #[arg(long, default_value = "3840x2160", value_parser = parse_frame)]
    pub frame: (usize, usize),
    /// Batches sent by the imu workload.
    #[arg(long, default_value_t = 64)]
    pub imu_batches: u64,
    /// Rows per IMU batch.
    #[arg(long, default_value_t = 65536)]
    pub imu_rows_per_batch: usize,
    /// Topics of the parallel workload.
    #[arg(long, default_value_t = 8)]
    pub parallel_topics: usize,
    /// Batches per topic in the parallel workload.
    #[arg(long, default_value_t = 16)]
    pub parallel_batches: u64,
    /// What the parallel topics carry.
    #[arg(long, value_enum, default_value = "imu")]
    pub parallel_kind: ParallelKind,
    /// Drive an already running server at this loopback address instead of spawning one.
    #[arg(long)]
    pub server: Option<SocketAddr>,
    /// With `--server`: its process id, for peak RSS.
    #[arg(long, requires = "server")]
    pub server_pid: Option<u32>,
    /// Spawned server: root of the per-workload data directories (default: a temporary
    /// directory, removed afterwards). With `--server`: that server's data directory, for
    /// bytes on disk and the disk ceiling.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The `tessera` executable to spawn (default: `tessera` in the directory of this
    /// executable, e.g. target/release/tessera after `cargo build --release -p tessera`).
    #[arg(long)]
    pub server_exe: Option<PathBuf>,
    /// Spawned server's `--sync` (the default durability is `always`).
    #[arg(long, default_value = "always")]
    pub sync: String,
    /// Spawned server's `--zstd-level`.
    #[arg(long, default_value_t = 1)]
    pub zstd_level: i32,
    /// Spawned server's `--chunk-size-mib`.
    #[arg(long, default_value_t = 128)]
    pub chunk_size_mib: u64,
    /// Spawned server's `--max-message-mib` (also the no-op server's limit).
    #[arg(long, default_value_t = 64)]
    pub max_message_mib: usize,
    /// Skip the transport and disk ceilings.
    #[arg(long)]
    pub no_ceilings: bool,
    /// Most bytes the disk ceiling writes per workload, in MB.
    #[arg(long, default_value_t = 2000)]
    pub disk_ceiling_mb: u64,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_frame(s: &str) -> Result<(usize, usize), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got `{s}`"))?;
    let w: usize = w.parse().map_err(|_| format!("bad width `{w}`"))?;
    let h: usize = h.parse().map_err(|_| format!("bad height `{h}`"))?;
    if w == 0 || h == 0 {
        return Err("frame dimensions must be positive".to_string());
    }
    Ok((w, h))
}

/// What one topic of a workload sends.
#[derive(Debug, Clone, Copy)]
enum Source {
    Video {
        width: usize,
        height: usize,
        frames_per_batch: usize,
    },
    Imu {
        rows_per_batch: usize,
    },
}

impl Source {
    fn generator(self, seed: u64) -> Result<Generator> {
        match self {
            Source::Video {
                width,
                height,
                frames_per_batch,
            } => Generator::video(width, height, frames_per_batch, seed),
            Source::Imu { rows_per_batch } => Generator::imu(rows_per_batch, seed),
        }
    }

    /// Approximate IPC size of one batch message.
    fn batch_bytes(self) -> u64 {
        match self {
            Source::Video {
                width,
                height,
                frames_per_batch,
            } => (frames_per_batch * (width * height * 3 + 12)) as u64 + 512,
            Source::Imu { rows_per_batch } => (rows_per_batch * 80) as u64 + 1024,
        }
    }
}

struct Plan {
    workload: Workload,
    description: String,
    topics: Vec<(String, Source, u64)>,
}

impl Plan {
    fn new(args: &BenchArgs, w: Workload) -> Self {
        let (width, height) = args.frame;
        let video = Source::Video {
            width,
            height,
            frames_per_batch: args.frames_per_batch,
        };
        let imu = Source::Imu {
            rows_per_batch: args.imu_rows_per_batch,
        };
        let video_batches = args
            .video_frames
            .div_ceil(args.frames_per_batch.max(1) as u64);
        match w {
            Workload::Video => Plan {
                workload: w,
                description: format!(
                    "{width}x{height} RGB frames ({} B/row), {} per batch",
                    width * height * 3,
                    args.frames_per_batch
                ),
                topics: vec![("camera".to_string(), video, video_batches)],
            },
            Workload::Imu => Plan {
                workload: w,
                description: format!(
                    "timestamp + 9 f64, {} rows per batch",
                    args.imu_rows_per_batch
                ),
                topics: vec![("imu".to_string(), imu, args.imu_batches)],
            },
            Workload::Parallel => {
                let topics = (0..args.parallel_topics.max(1))
                    .map(|i| {
                        let src = match args.parallel_kind {
                            ParallelKind::Imu => imu,
                            ParallelKind::Video => video,
                            ParallelKind::Mixed if i % 2 == 0 => video,
                            ParallelKind::Mixed => imu,
                        };
                        let name = match src {
                            Source::Video { .. } => format!("camera_{i}"),
                            Source::Imu { .. } => format!("imu_{i}"),
                        };
                        (name, src, args.parallel_batches)
                    })
                    .collect();
                Plan {
                    workload: w,
                    description: format!(
                        "{} topics ({:?}), {} batches each",
                        args.parallel_topics, args.parallel_kind, args.parallel_batches
                    ),
                    topics,
                }
            }
        }
    }

    fn name(&self) -> &'static str {
        match self.workload {
            Workload::Video => "video",
            Workload::Imu => "imu",
            Workload::Parallel => "parallel",
        }
    }

    fn total_bytes(&self) -> u64 {
        self.topics
            .iter()
            .map(|(_, s, b)| s.batch_bytes() * b)
            .sum()
    }
}

/// Print a progress line on stderr until `done`.
fn progress_line(
    label: String,
    total: u64,
    progress: Arc<Progress>,
    done: Arc<AtomicBool>,
    quiet: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if quiet {
            return;
        }
        let tty = std::io::stderr().is_terminal();
        let start = Instant::now();
        let period = if tty { 250 } else { 5000 };
        let mut last = Instant::now();
        loop {
            let finished = done.load(Ordering::Relaxed);
            if finished || last.elapsed() >= Duration::from_millis(period) {
                last = Instant::now();
                let sent = progress.bytes.load(Ordering::Relaxed);
                // The total is an estimate; at the end it is what was sent.
                let total = if finished { sent } else { total.max(sent) };
                let secs = start.elapsed().as_secs_f64().max(1e-9);
                let pct = if total > 0 {
                    (sent as f64 * 100.0 / total as f64).min(100.0)
                } else {
                    100.0
                };
                let bar_len = 30;
                let filled = (pct / 100.0 * bar_len as f64) as usize;
                let line = format!(
                    "{label:<21} [{}{}] {:>5.1}% {:>8.1} / {:.1} MB {:>8.1} MB/s",
                    "#".repeat(filled),
                    "-".repeat(bar_len - filled.min(bar_len)),
                    pct,
                    sent as f64 / 1e6,
                    total as f64 / 1e6,
                    sent as f64 / 1e6 / secs
                );
                if tty {
                    eprint!("\r{line}");
                    if finished {
                        eprintln!();
                    }
                } else {
                    eprintln!("{line}");
                }
            }
            if finished {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// Upload the plan's topics to `addr` in one sequence (seed protocol), then finalize.
async fn drive(addr: SocketAddr, plan: &Plan, label: &str, quiet: bool) -> Result<Measured> {
    let (mut client, max_message) = client::connect(addr, Duration::from_secs(60)).await?;
    for (name, src, _) in &plan.topics {
        if src.batch_bytes() > max_message as u64 {
            bail!(
                "topic {name}: a batch is about {} bytes, over the server's message limit of {max_message}; lower --frames-per-batch or --imu-rows-per-batch",
                src.batch_bytes()
            );
        }
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let seq = format!("bench_{}_{label}_{stamp}", plan.name());
    let created = client::action(
        &mut client,
        "sequence_create",
        json!({"name": seq, "user_metadata": {"bench": plan.name()}}),
    )
    .await?;
    let seq_key = key_of(&created, "sequence_create")?;
    let mut topics = Vec::new();
    for (i, (name, src, batches)) in plan.topics.iter().enumerate() {
        let locator = format!("{seq}/{name}");
        let r = client::action(
            &mut client,
            "topic_create",
            json!({"name": locator, "sequence_key": seq_key, "serialization_format": "default",
                   "ontology_tag": "bench", "user_metadata": {}}),
        )
        .await?;
        let key = key_of(&r, "topic_create")?;
        let src = *src;
        let generator = tokio::task::spawn_blocking(move || src.generator(i as u64 + 1))
            .await
            .map_err(|e| anyhow!("generator setup panicked: {e}"))??;
        topics.push((locator, key, generator, *batches));
    }
    let progress = Arc::new(Progress::default());
    let done = Arc::new(AtomicBool::new(false));
    let bar = progress_line(
        format!("{} -> {label}", plan.name()),
        plan.total_bytes(),
        Arc::clone(&progress),
        Arc::clone(&done),
        quiet,
    );
    let start = Instant::now();
    let uploads = topics
        .into_iter()
        .map(|(locator, key, generator, batches)| {
            client::put_topic(
                client.clone(),
                locator,
                key,
                generator,
                batches,
                Arc::clone(&progress),
            )
        });
    let outcomes = futures::future::try_join_all(uploads).await;
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = bar.await;
    let outcomes = outcomes?;
    let t_fin = Instant::now();
    client::action(
        &mut client,
        "sequence_finalize",
        json!({"name": seq, "key": seq_key}),
    )
    .await?;
    let finalize = t_fin.elapsed();
    Ok(measure(&outcomes, elapsed, finalize))
}

fn key_of(v: &Value, action: &str) -> Result<String> {
    v.get("key")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("`{action}` returned no key: {v}"))
}

fn measure(outcomes: &[StreamOutcome], elapsed: Duration, finalize: Duration) -> Measured {
    let mut lat: Vec<Duration> = outcomes
        .iter()
        .flat_map(|o| o.latencies.iter().copied())
        .collect();
    lat.sort_unstable();
    let sum = |f: fn(&StreamOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let bytes = sum(|o| o.bytes);
    let rows = sum(|o| o.rows_sent);
    let gen: f64 = outcomes.iter().map(|o| o.generate.as_secs_f64()).sum();
    let secs = elapsed.as_secs_f64().max(1e-9);
    Measured {
        bytes,
        batches: sum(|o| o.batches),
        rows_sent: rows,
        rows_acked: sum(|o| o.rows_acked),
        acks: sum(|o| o.acks),
        elapsed_s: elapsed.as_secs_f64(),
        mb_s: bytes as f64 / 1e6 / secs,
        rows_s: rows as f64 / secs,
        ack_p50_ms: report::percentile_ms(&lat, 0.50),
        ack_p99_ms: report::percentile_ms(&lat, 0.99),
        ack_max_ms: lat.last().map(|d| d.as_secs_f64() * 1e3),
        client_generate_mb_s: if gen > 0.0 {
            bytes as f64 / 1e6 / gen
        } else {
            0.0
        },
        finalize_s: finalize.as_secs_f64(),
        per_topic: outcomes.iter().map(|o| (o.bytes, o.batches)).collect(),
    }
}

/// Keep at most `n` evenly spread samples.
fn thin(samples: Vec<(f64, u64)>, n: usize) -> Vec<(f64, u64)> {
    if samples.len() <= n {
        return samples;
    }
    let step = samples.len().div_ceil(n);
    let last = samples.last().copied();
    let mut v: Vec<_> = samples.into_iter().step_by(step).collect();
    if let (Some(l), Some(tail)) = (last, v.last()) {
        if tail.0 < l.0 {
            v.push(l);
        }
    }
    v
}

struct TesseraRun {
    measured: Measured,
    peak_rss: Option<u64>,
    rss_source: Option<String>,
    rss_samples: Vec<(f64, u64)>,
    disk_bytes: Option<u64>,
}

async fn run_tessera(args: &BenchArgs, plan: &Plan, root: &Path) -> Result<TesseraRun> {
    if let Some(addr) = args.server {
        let reset = args.server_pid.is_some_and(rss::reset_peak);
        let sampler = args
            .server_pid
            .map(|pid| rss::Sampler::start(pid, Duration::from_millis(100)));
        let measured = drive(addr, plan, "tessera", args.quiet).await?;
        let (sampled, samples) = sampler.map(|s| s.finish()).unwrap_or_default();
        let (peak_rss, rss_source) = match args.server_pid {
            Some(pid) if reset => (
                rss::status_bytes(pid, "VmHWM"),
                Some("VmHWM (reset before the workload)".to_string()),
            ),
            Some(_) => (Some(sampled), Some("sampled VmRSS (100 ms)".to_string())),
            None => (None, None),
        };
        let disk_bytes = match &args.data_dir {
            Some(d) => Some(rss::dir_bytes(d)?),
            None => None,
        };
        return Ok(TesseraRun {
            measured,
            peak_rss,
            rss_source,
            rss_samples: thin(samples, 40),
            disk_bytes,
        });
    }
    let exe = match &args.server_exe {
        Some(p) => p.clone(),
        None => spawn::default_server_exe()?,
    };
    let dir = root.join(plan.name());
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!("{} is not empty; give a fresh --data-dir", dir.display());
    }
    std::fs::create_dir_all(&dir)?;
    let log = root.join(format!("server-{}.log", plan.name()));
    let opts = ServeOptions {
        sync: args.sync.clone(),
        zstd_level: args.zstd_level,
        chunk_size_mib: args.chunk_size_mib,
        max_message_mib: args.max_message_mib,
    };
    let mut server = Spawned::start(&exe, &dir, &opts, &log)?;
    let sampler = rss::Sampler::start(server.pid, Duration::from_millis(100));
    let measured = drive(server.addr, plan, "tessera", args.quiet).await;
    let (_, samples) = sampler.finish();
    let measured = match measured {
        Ok(m) => m,
        Err(e) => {
            let exited = server.exited();
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: String = tail
                .lines()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(e.context(format!(
                "tessera server{} (log {}):\n{tail}",
                if exited { " exited" } else { "" },
                log.display()
            )));
        }
    };
    let peak_rss = rss::status_bytes(server.pid, "VmHWM");
    let disk_bytes = rss::dir_bytes(&dir)?;
    server.stop(Duration::from_secs(60))?;
    Ok(TesseraRun {
        measured,
        peak_rss,
        rss_source: Some("VmHWM of the spawned server".to_string()),
        rss_samples: thin(samples, 40),
        disk_bytes: Some(disk_bytes),
    })
}

async fn run_workload(args: &BenchArgs, w: Workload, root: &Path) -> Result<WorkloadReport> {
    let plan = Plan::new(args, w);
    let t = run_tessera(args, &plan, root).await?;
    let mut transport = None;
    let mut disk = None;
    if !args.no_ceilings {
        let noop = noop::NoopServer::start(args.max_message_mib << 20).await?;
        let m = drive(noop.addr, &plan, "transport", args.quiet).await;
        noop.stop().await;
        transport = Some(m?);
        // One writer per topic with that topic's mean message size; the same bytes as the
        // Tessera run, scaled down to at most --disk-ceiling-mb.
        let total = t.measured.bytes.max(1);
        let cap = t.measured.bytes.min(args.disk_ceiling_mb * 1_000_000);
        let streams: Vec<(usize, u64)> = t
            .measured
            .per_topic
            .iter()
            .map(|&(bytes, batches)| {
                let write = usize::try_from(bytes / batches.max(1)).unwrap_or(usize::MAX);
                let share = (u128::from(bytes) * u128::from(cap) / u128::from(total)) as u64;
                (write.max(1), share)
            })
            .collect();
        let sync_every = if args.sync == "always" { 0 } else { 64 << 20 };
        let dir = match (&args.server, &args.data_dir) {
            (Some(_), Some(d)) => d.clone(),
            _ => root.to_path_buf(),
        };
        let writers = streams.clone();
        let (d, one) = tokio::task::spawn_blocking(move || {
            let cadence = disk::ceiling(&dir, &writers, sync_every)?;
            let one_sync = disk::ceiling(&dir, &writers, u64::MAX)?;
            anyhow::Ok((cadence, one_sync))
        })
        .await
        .map_err(|e| anyhow!("disk ceiling panicked: {e}"))??;
        let rate = |r: &disk::DiskRun| r.bytes as f64 / 1e6 / r.elapsed.as_secs_f64().max(1e-9);
        let (cadence_mb_s, stream_mb_s) = (rate(&d), rate(&one));
        disk = Some(DiskCeiling {
            bytes: d.bytes,
            write_sizes: streams.iter().map(|s| s.0 as u64).collect(),
            streams: streams.len(),
            syncs: d.syncs,
            elapsed_s: d.elapsed.as_secs_f64(),
            cadence_mb_s,
            stream_mb_s,
            mb_s: cadence_mb_s.max(stream_mb_s),
        });
    }
    let mut report = WorkloadReport {
        workload: plan.name().to_string(),
        description: plan.description.clone(),
        topics: plan.topics.len(),
        tessera: t.measured,
        server_peak_rss_bytes: t.peak_rss,
        rss_source: t.rss_source,
        rss_samples: t.rss_samples,
        disk_bytes: t.disk_bytes,
        transport,
        disk,
        ratio_transport: None,
        ratio_disk: None,
        ratio_min: None,
    };
    report.compute_ratios();
    Ok(report)
}

/// Run the benchmark; returns the report (also written to `--json` when given).
pub async fn run(mut args: BenchArgs) -> Result<Report> {
    if let Some(addr) = args.server {
        if !addr.ip().is_loopback() {
            bail!(
                "--server must be a loopback address (the bench sends no traffic off this machine)"
            );
        }
    }
    if args.server.is_none() && args.server_exe.is_none() {
        // Before any work: a missing server executable fails at once, saying how to build it.
        let exe = spawn::default_server_exe()?;
        if !args.quiet {
            eprintln!("tessera-bench: server executable {}", exe.display());
        }
        args.server_exe = Some(exe);
    }
    let tmp;
    let root = match (&args.data_dir, args.server) {
        (Some(d), None) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        _ => {
            tmp = tempfile::Builder::new()
                .prefix("tessera-bench-")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let mut workloads = Vec::new();
    for &w in &args.workloads {
        workloads.push(run_workload(&args, w, &root).await?);
    }
    let report = Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        machine: Machine::probe(),
        settings: json!({
            "server": args.server.map_or_else(|| "spawned".to_string(), |a| a.to_string()),
            "sync": args.sync,
            "zstd_level": args.zstd_level,
            "chunk_size_mib": args.chunk_size_mib,
            "max_message_mib": args.max_message_mib,
            "video_frames": args.video_frames,
            "frames_per_batch": args.frames_per_batch,
            "frame": format!("{}x{}", args.frame.0, args.frame.1),
            "imu_batches": args.imu_batches,
            "imu_rows_per_batch": args.imu_rows_per_batch,
            "parallel_topics": args.parallel_topics,
            "parallel_batches": args.parallel_batches,
            "parallel_kind": format!("{:?}", args.parallel_kind).to_lowercase(),
            "disk_ceiling_mb": args.disk_ceiling_mb,
        }),
        workloads,
    };
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(report)
}
