//! Fuzz target: `tessera::harness::ipc_message` (invariants are documented there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::harness;

fuzz_target!(init: harness::install_panic_hook(), |data: &[u8]| {
    if let Err(message) = harness::run_checked(harness::ipc_message, data) {
        eprintln!("invariant violated in ipc_message: {message}");
        std::process::abort();
    }
});
