//! Fuzz target: `tessera::harness::chunk_file` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::chunk_file, data) {
        eprintln!("invariant violated in chunk_file: {message}");
        std::process::abort();
    }
});
