//! Fuzz target: `tessera::harness::catalog_record` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::catalog_record, data) {
        eprintln!("invariant violated in catalog_record: {message}");
        std::process::abort();
    }
});
