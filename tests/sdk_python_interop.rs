//! The real Mosaico Python SDK (`mosaicolabs` from PyPI) against an in-process server.
//!
//! Each test gets a pinned virtualenv from `scripts/python-env.sh VERSION` (built once under
//! `target/python/`, then cached), starts a [`TestServer`] on an ephemeral loopback port and runs
//! `python -m pytest -x -q tests/python/<suite>` from the repository root with
//! `TESSERA_HOST`/`TESSERA_PORT` pointing at it. pytest's output streams straight to the
//! terminal. A missing Python, venv or pip fails the test: nothing here is skipped.
mod common;

use common::TestServer;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Upper bound for one pytest run; the suites take well under a minute.
const PYTEST_DEADLINE: Duration = Duration::from_secs(300);
/// Upper bound for building a venv from scratch (downloads from PyPI).
const SETUP_DEADLINE: Duration = Duration::from_secs(900);

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `cmd` to completion, killing it after `deadline`; returns its exit status.
fn run_with_deadline(mut cmd: Command, what: &str, deadline: Duration) -> std::process::ExitStatus {
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {deadline:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The venv python for `mosaicolabs==version`, built or reused by `scripts/python-env.sh`.
fn python_for(version: &str) -> PathBuf {
    let script = repo_root().join("scripts/python-env.sh");
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(version)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("reopen temp file"))
        .stderr(Stdio::inherit());
    let status = run_with_deadline(cmd, "scripts/python-env.sh", SETUP_DEADLINE);
    let stdout = std::fs::read_to_string(out.path()).expect("read script output");
    assert!(
        status.success(),
        "scripts/python-env.sh {version} failed ({status}); Python 3 with venv and pip is \
         required for the SDK interop tests. Output:\n{stdout}"
    );
    let python = PathBuf::from(
        stdout
            .lines()
            .last()
            .unwrap_or_else(|| panic!("scripts/python-env.sh {version} printed nothing"))
            .trim(),
    );
    assert!(
        python.is_file(),
        "scripts/python-env.sh {version} named {python:?}, which is not a file"
    );
    python
}

/// Start a server, run one pytest suite against it, assert it passed.
async fn run_suite(version: &str, suite: &str) {
    let v = version.to_string();
    let python = tokio::task::spawn_blocking(move || python_for(&v))
        .await
        .expect("python setup panicked");
    let server = TestServer::start().await;
    let port = server.addr.port();
    let suite_path = format!("tests/python/{suite}");
    // Straight to stderr (not libtest's capture), like pytest's own output below it.
    let _ = writeln!(
        std::io::stderr(),
        "== pytest {suite_path} (mosaicolabs {version}) against {}",
        server.addr
    );
    let status = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "pytest", "-x", "-q"])
            .arg(&suite_path)
            .current_dir(repo_root())
            .env("TESSERA_HOST", "127.0.0.1")
            .env("TESSERA_PORT", port.to_string())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        run_with_deadline(cmd, &format!("pytest {suite_path}"), PYTEST_DEADLINE)
    })
    .await
    .expect("pytest runner panicked");
    server.stop().await;
    assert!(
        status.success(),
        "pytest tests/python/{suite} failed ({status}); its output is above"
    );
}

/// The full 0.7.0 suite: write, read back, windows, handlers, sessions, error policies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_0_7_0_suite_passes() {
    run_suite("0.7.0", "sdk070").await;
}

/// The 0.6.3 client (older connect probe and metadata paths): write, read back, handlers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_0_6_3_suite_passes() {
    run_suite("0.6.3", "sdk063").await;
}
