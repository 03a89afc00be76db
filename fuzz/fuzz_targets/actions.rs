//! Fuzz target: `tessera::harness::actions` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::actions, data) {
        eprintln!("invariant violated in actions: {message}");
        std::process::abort();
    }
});
