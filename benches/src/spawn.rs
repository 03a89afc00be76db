//! A `tessera serve` child process on a loopback port, for one workload.

use anyhow::{anyhow, bail, Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Server settings passed through to `tessera serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--sync` value.
    pub sync: String,
    /// `--zstd-level`.
    pub zstd_level: i32,
    /// `--chunk-size-mib`.
    pub chunk_size_mib: u64,
    /// `--max-message-mib`.
    pub max_message_mib: usize,
}

/// A running server process.
pub struct Spawned {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
}

/// The server executable used without `--server-exe`: `tessera` in the directory of the
/// running executable (`cargo run --release -p tessera-bench` runs target/release/tessera-bench,
/// next to target/release/tessera).
pub fn default_server_exe() -> Result<PathBuf> {
    let me = std::env::current_exe().context("locate the running executable")?;
    server_exe_beside(&me)
}

/// `tessera` next to `exe`, or an error saying how to build it.
pub fn server_exe_beside(exe: &Path) -> Result<PathBuf> {
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent directory", exe.display()))?;
    let server = dir.join(format!("tessera{}", std::env::consts::EXE_SUFFIX));
    if server.is_file() {
        return Ok(server);
    }
    bail!(
        "no tessera server executable at {}: build it first with `cargo build --release -p tessera` \
         (or `cargo build -p tessera` for a debug bench), or give one with --server-exe PATH, \
         or drive a running server with --server ADDR",
        server.display()
    )
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

impl Spawned {
    /// Start `exe serve` on `data_dir`, logging to `log`.
    pub fn start(exe: &Path, data_dir: &Path, opts: &ServeOptions, log: &Path) -> Result<Self> {
        let addr = free_port()?;
        let out =
            std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(exe)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--sync")
            .arg(&opts.sync)
            .arg("--zstd-level")
            .arg(opts.zstd_level.to_string())
            .arg("--chunk-size-mib")
            .arg(opts.chunk_size_mib.to_string())
            .arg("--max-message-mib")
            .arg(opts.max_message_mib.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("spawn {} serve", exe.display()))?;
        let pid = child.id();
        Ok(Spawned { child, addr, pid })
    }

    /// Whether the process has exited (then the bench fails with its log).
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Stop with SIGTERM (graceful), SIGKILL after `grace`.
    pub fn stop(mut self, grace: Duration) -> Result<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(anyhow!("server exited with {status}"))
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        let _ = self.child.wait();
        Err(anyhow!("server did not stop within {grace:?}; killed"))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_server_executable_says_how_to_build_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = super::server_exe_beside(&dir.path().join("tessera-bench")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("cargo build --release -p tessera") && msg.contains("--server-exe"),
            "{msg}"
        );
        let server = dir
            .path()
            .join(format!("tessera{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&server, b"").unwrap();
        let found = super::server_exe_beside(&dir.path().join("tessera-bench")).unwrap();
        assert_eq!(found, server);
    }
}
