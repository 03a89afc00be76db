//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/*`) through the matching
//! `tessera::harness` function, so CI catches regressions of fuzz findings on stable without
//! cargo-fuzz. Fails naming every file whose input violates an invariant. `tessera::harness`
//! needs the `fuzz-harness` feature, which the root Cargo.toml's self dev-dependency turns on for
//! every test build, so this file always compiles and runs under `cargo test`.
//!
//! Inputs that still reveal an open server defect live in `fuzz/defects/<target>/` (outside the
//! corpus, so fuzzing is not stopped by them) and are replayed by an ignored test; once fixed,
//! move them into the corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use tessera::harness::{self, Target, TARGETS};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

fn defects_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/defects")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus directory {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Feed every file of `root/<name>`; returns `(file count, failures)`.
fn replay(root: &Path, name: &str, target: Target) -> (usize, Vec<String>) {
    harness::install_panic_hook();
    let files = files(&root.join(name));
    let mut failures = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if let Err(message) = harness::run_checked(target, &data) {
            failures.push(format!("{}: {message}", path.display()));
        }
    }
    (files.len(), failures)
}

fn target(name: &str) -> Target {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no harness target `{name}`"))
}

fn check(name: &str) {
    let (count, failures) = replay(&corpus_root(), name, target(name));
    assert!(count > 0, "corpus of `{name}` is empty");
    assert!(
        failures.is_empty(),
        "{} of {count} `{name}` inputs violate invariants:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus_root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(dirs, names);
    for name in &names {
        let target = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(target.is_file(), "missing fuzz target {}", target.display());
    }
}

#[test]
fn replay_wal_frame() {
    check("wal_frame");
}

#[test]
fn replay_wal_segment() {
    check("wal_segment");
}

#[test]
fn replay_wal_recovery() {
    check("wal_recovery");
}

#[test]
fn replay_chunk_file() {
    check("chunk_file");
}

#[test]
fn replay_chunk_stats() {
    check("chunk_stats");
}

#[test]
fn replay_catalog_record() {
    check("catalog_record");
}

#[test]
fn replay_actions() {
    check("actions");
}

#[test]
fn replay_ipc_message() {
    check("ipc_message");
}

#[test]
fn replay_doput() {
    check("doput");
}

#[test]
fn replay_descriptors() {
    check("descriptors");
}

/// Open defects found by fuzzing; `fuzz/defects/README.md` has the analysis of each.
#[test]
#[ignore = "replays fuzz/defects: inputs of open defects (none open now)"]
fn known_defects_are_fixed() {
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(defects_root()).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        failures.extend(replay(&defects_root(), &name, target(&name)).1);
    }
    assert!(
        failures.is_empty(),
        "open defects:\n{}",
        failures.join("\n")
    );
}

/// The harness does detect violations: a panicking target is reported with its message.
#[test]
fn a_violated_invariant_is_reported() {
    harness::install_panic_hook();
    fn broken(data: &[u8]) {
        assert!(data.is_empty(), "invariant broken on {} bytes", data.len());
    }
    assert_eq!(harness::run_checked(broken, b""), Ok(()));
    let err = harness::run_checked(broken, b"xyz").unwrap_err();
    assert!(err.contains("invariant broken on 3 bytes"), "{err}");
}
