//! The real `tessera serve` on the power-cut file system (`tests/powercut`): start it, kill it
//! and cut the power, run `tessera verify`, start it again on what survived.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::process::{verify_offline, ServerProcess};
use std::net::SocketAddr;
use std::path::PathBuf;
use tempfile::TempDir;
use tessera_powercut::{CutReport, PowerCutMount, Stats};

/// A data directory on a power-cut mount and, at times, a server on it. Fields drop in order:
/// the server (killed), the mount, the mount point.
pub struct Rig {
    server: Option<ServerProcess>,
    fs: PowerCutMount,
    _mountpoint: TempDir,
    /// `<mount>/data`, created by the server itself (so its own directory syncs are tested).
    pub data_dir: PathBuf,
    args: Vec<String>,
    skip_sync: Option<String>,
}

impl Rig {
    /// Mount an empty power-cut file system. `args` are extra `tessera serve` options;
    /// `skip_sync` is passed as `TESSERA_TEST_SKIP_SYNC` (the mutation knob) to the server.
    pub fn new(args: &[String], skip_sync: Option<&str>) -> Result<Rig, String> {
        let mountpoint = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let fs = PowerCutMount::mount(mountpoint.path())
            .map_err(|e| format!("mount the power-cut file system: {e}"))?;
        let data_dir = fs.path().join("data");
        Ok(Rig {
            server: None,
            fs,
            _mountpoint: mountpoint,
            data_dir,
            args: args.to_vec(),
            skip_sync: skip_sync.map(str::to_string),
        })
    }

    /// Start `tessera serve` on the data directory; returns its address.
    pub fn start(&mut self) -> Result<SocketAddr, String> {
        assert!(self.server.is_none(), "a server is already running");
        let env: Vec<(&str, &str)> = self
            .skip_sync
            .as_deref()
            .map(|s| ("TESSERA_TEST_SKIP_SYNC", s))
            .into_iter()
            .collect();
        let server = ServerProcess::try_start(&self.data_dir, &self.args, &env)?;
        let addr = server.addr;
        self.server = Some(server);
        Ok(addr)
    }

    /// Create the data directory with a server whose syncs are all on, so that a mutation run
    /// (`skip_sync`) tests the syncs of later work only. The server is killed once it listens:
    /// everything it created at startup is durable by then. (Not SIGTERM: tessera installs its
    /// SIGTERM handler only after logging its address, so an early SIGTERM kills it outright.)
    pub fn initialize(&mut self) -> Result<(), String> {
        ServerProcess::try_start(&self.data_dir, &self.args, &[])?.kill9();
        Ok(())
    }

    /// The running server.
    pub fn server(&self) -> &ServerProcess {
        self.server.as_ref().expect("no server running")
    }

    /// The running server's last log lines (empty if none runs).
    pub fn recent_log(&self) -> String {
        self.server
            .as_ref()
            .map(|s| s.recent_log())
            .unwrap_or_default()
    }

    /// SIGKILL the server, then cut the power: only what was durable survives (with `torn`,
    /// plus a torn prefix of unsynced writes chosen by `seed`).
    pub fn cut(&mut self, seed: u64, torn: bool) -> Result<CutReport, String> {
        if let Some(s) = self.server.take() {
            s.kill9();
        }
        self.fs
            .cut_power(seed, torn)
            .map_err(|e| format!("power cut: {e}"))
    }

    /// SIGTERM the server (a clean stop).
    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.terminate();
        }
    }

    /// `tessera verify` on the data directory (no server may run): `Ok(report)` when clean.
    pub fn verify(&self) -> Result<String, String> {
        assert!(self.server.is_none(), "verify runs offline");
        if !self.data_dir.exists() {
            return Ok("no data directory (nothing durable yet)".into());
        }
        let (ok, report) = verify_offline(&self.data_dir);
        // Keep verify's findings, not the catalog's recovery log.
        let report: String = report
            .lines()
            .filter(|l| {
                ["checked ", "warning: ", "error: ", "OK", "DAMAGED"]
                    .iter()
                    .any(|p| l.starts_with(p))
                    || !l.contains(" INFO ")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        if ok {
            Ok(report)
        } else {
            Err(report)
        }
    }

    /// Paths (directories end in `/`) and sizes as processes see them now.
    pub fn listing(&self) -> Vec<(String, usize)> {
        self.fs
            .snapshot()
            .into_iter()
            .map(|(p, d)| (p, d.len()))
            .collect()
    }

    /// The file system's counters.
    pub fn stats(&self) -> Stats {
        self.fs.stats()
    }
}
