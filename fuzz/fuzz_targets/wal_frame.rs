//! Fuzz target: `tessera::harness::wal_frame` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::wal_frame, data) {
        eprintln!("invariant violated in wal_frame: {message}");
        std::process::abort();
    }
});
