use std::sync::Arc;

use crate::testutil::{open, opts};
use crate::{CrashMode, Durability, FrameKind, SimFault, SimStorage, Wal, WalError};

fn put(wal: &mut Wal, byte: u8) -> u64 {
    wal.append(
        FrameKind::RecordBatch,
        &[&[byte; 100]],
        Durability::Buffered,
    )
    .unwrap()
}

#[test]
fn a_pending_sync_covers_what_was_appended_before_it_began() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    assert!(wal.begin_sync().unwrap().is_none(), "nothing to sync");
    put(&mut wal, 1);
    put(&mut wal, 2);
    let pending = wal.begin_sync().unwrap().unwrap();
    assert_eq!(pending.target(), 2);
    // Appends go on while the sync is pending; they are not counted by it.
    put(&mut wal, 3);
    let done = pending.run();
    assert_eq!(wal.durable_seq(), 0, "durable only once recorded");
    assert_eq!(wal.end_sync(done).unwrap(), 2);
    assert_eq!(wal.durable_seq(), 2);
    // A power loss keeps at least what was recorded durable.
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(open(&img, opts(1 << 20)).last_seq() >= 2);
    // The frame appended during the sync needs a sync of its own.
    assert_eq!(wal.begin_sync().unwrap().unwrap().target(), 3);
}

#[test]
fn durable_seq_never_goes_back_when_an_older_sync_ends_last() {
    let fs = SimStorage::new(2);
    let mut wal = open(&fs, opts(1 << 20));
    put(&mut wal, 1);
    let early = wal.begin_sync().unwrap().unwrap();
    put(&mut wal, 2);
    assert_eq!(wal.sync().unwrap(), 2, "an inline sync meanwhile");
    let done = early.run();
    assert_eq!(wal.end_sync(done).unwrap(), 2);
    assert_eq!(wal.durable_seq(), 2);
}

#[test]
fn a_sync_pending_across_a_rotation_still_counts() {
    let fs = SimStorage::new(3);
    // Each 100-byte frame is 128 bytes: the third one starts a new 300-byte segment.
    let mut wal = open(&fs, opts(300));
    put(&mut wal, 1);
    put(&mut wal, 2);
    let pending = wal.begin_sync().unwrap().unwrap();
    put(&mut wal, 3); // rotates: syncs the old segment, starts another
    assert_eq!(wal.durable_seq(), 2);
    let done = pending.run(); // syncs the old segment again through its own handle
    assert_eq!(wal.end_sync(done).unwrap(), 2);
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(open(&img, opts(300)).last_seq() >= 2);
}

#[test]
fn a_failed_pending_sync_poisons_the_log_and_every_later_sync() {
    let fs = SimStorage::new(4);
    let mut wal = open(&fs, opts(1 << 20));
    put(&mut wal, 1);
    let pending = wal.begin_sync().unwrap().unwrap();
    fs.fail_syncs(Some(SimFault::Eio));
    let done = pending.run();
    // The device recovers before the failure is recorded: an inline sync run in between
    // must not report the lost frame durable (the kernel reports a sync error only once).
    fs.fail_syncs(None);
    assert!(wal.is_poisoned(), "the gate remembers the failed sync");
    assert!(matches!(wal.sync(), Err(WalError::Poisoned)));
    assert!(matches!(
        wal.end_sync(done),
        Err(WalError::Io {
            op: "fdatasync",
            ..
        })
    ));
    assert_eq!(wal.durable_seq(), 0, "nothing unsynced reported durable");
    assert!(matches!(wal.begin_sync(), Err(WalError::Poisoned)));
    assert!(matches!(
        wal.append(FrameKind::RecordBatch, &[b"x"], Durability::Buffered),
        Err(WalError::Poisoned)
    ));
}

#[test]
fn a_sync_run_on_another_thread_while_appends_continue() {
    let fs = SimStorage::new(5);
    let wal = Arc::new(std::sync::Mutex::new(open(&fs, opts(4096))));
    let mut durable = 0;
    for round in 0..50u8 {
        let pending = {
            let mut w = wal.lock().unwrap();
            put(&mut w, round);
            w.begin_sync().unwrap()
        };
        let Some(pending) = pending else { continue };
        let target = pending.target();
        let syncer = std::thread::spawn(move || pending.run());
        // Appends go on under the lock while the sync runs on its own thread.
        put(&mut wal.lock().unwrap(), round.wrapping_add(100));
        let done = syncer.join().unwrap();
        durable = wal.lock().unwrap().end_sync(done).unwrap();
        assert!(durable >= target);
    }
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(open(&img, opts(4096)).last_seq() >= durable);
}
