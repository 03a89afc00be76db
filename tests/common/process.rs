//! The real `tessera` binary as a child process: start it on a data directory, learn its
//! address from its log, watch its log lines, kill it with SIGKILL, run `tessera verify`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Path of the binary cargo built for this test run.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_tessera")
}

/// A running `tessera serve`.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    lines: broadcast::Sender<String>,
    recent: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    /// Start `tessera serve --data-dir dir --listen 127.0.0.1:0 <extra>` and wait until it
    /// logs its address. Logs go through `TESSERA_LOG=info,tessera::compactor=debug`.
    pub fn start(dir: &Path, extra: &[String]) -> ServerProcess {
        Self::try_start(dir, extra, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`ServerProcess::start`] with extra environment variables; `Err` (with the log) when
    /// the server exits or stays silent instead of listening.
    pub fn try_start(
        dir: &Path,
        extra: &[String],
        env: &[(&str, &str)],
    ) -> Result<ServerProcess, String> {
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("TESSERA_LOG", "info,tessera::compactor=debug")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn tessera: {e}"))?;
        let (lines, mut rx) = broadcast::channel(4096);
        let recent = Arc::new(Mutex::new(VecDeque::new()));
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        pump(out, lines.clone(), Arc::clone(&recent));
        pump(err, lines.clone(), Arc::clone(&recent));
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            match rx.try_recv() {
                Ok(line) => {
                    if let Some(addr) = listening_addr(&line) {
                        break addr;
                    }
                }
                Err(broadcast::error::TryRecvError::Empty) => {
                    if let Some(status) = child.try_wait().unwrap() {
                        std::thread::sleep(Duration::from_millis(50)); // the last lines
                        return Err(format!(
                            "tessera exited ({status}) before listening:\n{}",
                            tail(&recent)
                        ));
                    }
                    if Instant::now() >= deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!(
                            "tessera did not log its address in 60 s:\n{}",
                            tail(&recent)
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(broadcast::error::TryRecvError::Closed) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("tessera closed its output:\n{}", tail(&recent)));
                }
            }
        };
        Ok(ServerProcess {
            child,
            addr,
            lines,
            recent,
        })
    }

    /// Every log line from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.lines.subscribe()
    }

    /// The last log lines, for failure messages.
    pub fn recent_log(&self) -> String {
        tail(&self.recent)
    }

    /// SIGKILL, then reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "tessera exited with {status} on SIGTERM:\n{}",
            tail(&self.recent)
        );
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `tessera verify --data-dir dir`: (success, report).
pub fn verify_offline(dir: &Path) -> (bool, String) {
    let out = Command::new(binary())
        .arg("verify")
        .arg("--data-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run tessera verify");
    let mut report = String::from_utf8_lossy(&out.stdout).into_owned();
    report.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report)
}

fn pump(
    from: impl Read + Send + 'static,
    to: broadcast::Sender<String>,
    recent: Arc<Mutex<VecDeque<String>>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            let line = strip_ansi(&line);
            {
                let mut r = recent.lock().unwrap();
                if r.len() == 200 {
                    r.pop_front();
                }
                r.push_back(line.clone());
            }
            let _ = to.send(line);
        }
    });
}

fn tail(recent: &Mutex<VecDeque<String>>) -> String {
    let r = recent.lock().unwrap();
    r.iter().cloned().collect::<Vec<_>>().join("\n")
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("tessera listening") {
        return None;
    }
    let rest = &line[line.find("addr=")? + 5..];
    rest.split_whitespace().next()?.parse().ok()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
