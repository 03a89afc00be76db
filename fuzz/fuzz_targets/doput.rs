//! Fuzz target: `tessera::harness::doput` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::doput, data) {
        eprintln!("invariant violated in doput: {message}");
        std::process::abort();
    }
});
