//! The `tessera` binary: `tessera serve` (the default) runs the server.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tessera::config::{Config, SyncMode, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_SEAL_LAG_MIB};
use tessera_format::Compression;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Crash-safe Arrow Flight recorder for robotics sensor data"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default when no command is given).
    Serve(ServeArgs),
    /// Check a data directory offline (catalog, WAL frames, chunk files, orphans); exits 1 on
    /// any damage. Run it while no server uses the directory.
    Verify {
        /// The data directory to check.
        #[arg(long, env = "TESSERA_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Directory holding the catalog, WAL segments and chunks.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TESSERA_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Durability: `always` fsyncs before every acknowledgement; `interval:<ms>` fsyncs a
    /// running stream at most every <ms> milliseconds (always before the final OK).
    #[arg(long, env = "TESSERA_SYNC", default_value = "always", value_parser = parse_sync)]
    sync: SyncMode,
    /// Bounded time to durability: a batch of a running stream is fsynced at most this many
    /// milliseconds after it arrived, acks asked or not (0: every batch).
    #[arg(long, env = "TESSERA_MAX_SYNC_DELAY_MS", default_value_t = tessera::config::DEFAULT_MAX_SYNC_DELAY_MS)]
    max_sync_delay_ms: u64,
    /// Largest accepted gRPC message in MiB (reported to clients by `info`).
    #[arg(long, env = "TESSERA_MAX_MESSAGE_MIB", default_value_t = 64)]
    max_message_mib: usize,
    /// Arrow data sealed into one chunk file, in MiB.
    #[arg(long, env = "TESSERA_CHUNK_SIZE_MIB", default_value_t = 128)]
    chunk_size_mib: u64,
    /// zstd level of chunk files (0 stores them uncompressed).
    #[arg(long, env = "TESSERA_ZSTD_LEVEL", default_value_t = 1)]
    zstd_level: i32,
    /// Store a chunk uncompressed when zstd saves less than this percentage on a sample of
    /// its first batch (0 = always compress).
    #[arg(long, env = "TESSERA_ZSTD_MIN_SAVING_PCT", default_value_t = 10,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    zstd_min_saving_pct: u8,
    /// Finalize a session left open with no upload for this many seconds, completing its
    /// interrupted uploads with their durable data (0 = never).
    #[arg(long, env = "TESSERA_AUTO_FINALIZE_AFTER_SECS", default_value_t = 0)]
    auto_finalize_after_secs: u64,
    /// Size of one WAL segment file in MiB; sealed data is reclaimed a whole segment at a time.
    #[arg(long, env = "TESSERA_WAL_SEGMENT_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    wal_segment_mib: u64,
    /// While an upload runs, seal its topic only once this many MiB wait unsealed: a burst is
    /// written once (to the WAL) at the disk's speed and compacted afterwards (0 = seal every
    /// chunk at once). Uploads wait beyond this plus four chunks.
    #[arg(long, env = "TESSERA_SEAL_LAG_MIB", default_value_t = DEFAULT_SEAL_LAG_MIB)]
    seal_lag_mib: u64,
    /// Compactor threads: different topics are sealed in parallel, one topic by one thread.
    #[arg(long, env = "TESSERA_COMPACTOR_THREADS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    compactor_threads: u16,
}

fn parse_sync(s: &str) -> Result<SyncMode, String> {
    match s.split_once(':') {
        None if s == "always" => Ok(SyncMode::Always),
        Some(("interval", ms)) => ms
            .parse()
            .map(|interval_ms| SyncMode::Interval { interval_ms })
            .map_err(|_| format!("bad interval `{ms}`")),
        _ => Err(format!(
            "unknown sync mode `{s}`; use `always` or `interval:<ms>`"
        )),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        Some(Command::Verify { data_dir }) => return verify(&data_dir),
        None => cli.serve,
    };
    let config = Config {
        data_dir: args.data_dir,
        listen: args.listen,
        sync: args.sync,
        max_sync_delay: std::time::Duration::from_millis(args.max_sync_delay_ms),
        max_decode_message_size: args.max_message_mib << 20,
        max_encode_message_size: args.max_message_mib << 20,
        chunk_size_bytes: args.chunk_size_mib << 20,
        wal_segment_bytes: args.wal_segment_mib << 20,
        auto_finalize_after: (args.auto_finalize_after_secs > 0)
            .then(|| std::time::Duration::from_secs(args.auto_finalize_after_secs)),
        zstd_min_saving: f64::from(args.zstd_min_saving_pct) / 100.0,
        seal_lag_bytes: args.seal_lag_mib << 20,
        compactor_threads: usize::from(args.compactor_threads),
        max_unsealed_bytes: (args.seal_lag_mib << 20)
            .saturating_add(4 * (args.chunk_size_mib << 20)),
        chunk_compression: if args.zstd_level == 0 {
            Compression::None
        } else {
            Compression::Zstd {
                level: args.zstd_level,
            }
        },
        ..Config::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tessera stopped");
            ExitCode::FAILURE
        }
    }
}

fn verify(dir: &std::path::Path) -> ExitCode {
    match tessera::verify::verify(dir) {
        Ok(report) => {
            print!("{}", report.render());
            if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!(
                "tessera verify: cannot check {}: {}",
                dir.display(),
                e.message
            );
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tessera::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
