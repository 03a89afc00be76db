//! [`SimStats`]: what a [`super::SimStorage`] has served.

/// Counters of the calls a [`super::SimStorage`] has served (successful ones unless noted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Write calls, including failed and short ones.
    pub writes: u64,
    /// Successful `sync_data` calls.
    pub file_syncs: u64,
    /// Successful `sync_dir` calls.
    pub dir_syncs: u64,
    /// Writes refused by an injected fault.
    pub failed_writes: u64,
    /// Syncs refused by an injected fault.
    pub failed_syncs: u64,
}
