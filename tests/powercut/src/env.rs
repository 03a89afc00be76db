//! Can this machine mount the power-cut file system? Tests call [`require_fuse`] first.
//!
//! It runs `scripts/fuse-env.sh` (installs Debian's `fuse3` when `fusermount3` is missing and
//! we are root; a no-op once installed), checks root and `/dev/fuse`, and mounts a probe. When
//! something is missing the test is skipped with the reason printed, except when the
//! environment variable `CI` is `true`: CI runs as root, so there a missing piece fails the test.

use std::path::Path;
use std::process::Command;

/// The setup script, found from this crate's manifest (`tests/powercut/`).
pub fn setup_script() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/fuse-env.sh"
    ))
}

/// Whether FUSE mounts work here; `Err` says why not.
pub fn fuse_status() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return Err("not running as root (mounting the power-cut file system needs root)".into());
    }
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse is absent (no FUSE in this kernel or container)".into());
    }
    let out = Command::new("bash")
        .arg(setup_script())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", setup_script().display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            setup_script().display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let probe = std::env::temp_dir().join(format!("tessera-powercut-probe-{}", std::process::id()));
    std::fs::create_dir_all(&probe).map_err(|e| format!("create {}: {e}", probe.display()))?;
    let result = crate::PowerCutMount::mount(&probe)
        .map(drop)
        .map_err(|e| format!("a probe mount on {} failed: {e}", probe.display()));
    let _ = std::fs::remove_dir(&probe);
    result
}

/// `true`: run the test. `false`: FUSE is unusable here and the test should return at once
/// (the reason is printed). Panics instead when `CI=true`.
pub fn require_fuse(test: &str) -> bool {
    match fuse_status() {
        Ok(()) => true,
        Err(reason) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: CI=true, so the power-cut test must run, but: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED {test}: {reason}");
            false
        }
    }
}
