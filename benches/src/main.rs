//! The `tessera-bench` binary: `cargo run --release -p tessera-bench -- [FLAGS]`.

use clap::Parser;
use std::process::ExitCode;

/// Benchmark ingest over Flight (4K video, IMU rows, parallel topics) next to the transport
/// and disk ceilings measured in the same run. See BENCHMARKS.md.
#[derive(Parser)]
#[command(name = "tessera-bench", version)]
struct Cli {
    #[command(flatten)]
    args: tessera_bench::BenchArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tessera_bench::run(cli.args)) {
        Ok(report) => {
            print!("{}", report.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tessera-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
