use std::path::Path;
use std::sync::Arc;

use crate::testutil::payload;
use crate::{Durability, FrameKind, SimStorage, Wal, WalError, WalOptions};

fn wal(fs: &SimStorage, segment_size_bytes: u64) -> Wal {
    let o = WalOptions {
        segment_size_bytes,
        preallocate: false,
    };
    Wal::open_with_storage(Arc::new(fs.clone()), Path::new("/r"), o)
        .unwrap()
        .0
}

fn seqs(r: crate::WalReader) -> Vec<u64> {
    r.map(|f| f.unwrap().seq).collect()
}

#[test]
fn from_any_seq_across_segments() {
    let fs = SimStorage::new(1);
    let mut w = wal(&fs, 200);
    for i in 1..=12u64 {
        let p = payload(i, (i as usize * 13) % 90);
        w.append(FrameKind::RecordBatch, &[&p], Durability::Buffered)
            .unwrap();
    }
    assert!(w.sealed.len() >= 4, "test needs several segments");
    for from in 0..=14u64 {
        let expect: Vec<u64> = (from.max(1)..=12).collect();
        assert_eq!(seqs(w.reader(from)), expect, "from {from}");
    }
    for f in w.reader(5) {
        let f = f.unwrap();
        assert_eq!(f.payload, payload(f.seq, (f.seq as usize * 13) % 90));
    }
}

#[test]
fn snapshot_ignores_later_appends_and_runs_on_another_thread() {
    let fs = SimStorage::new(1);
    let mut w = wal(&fs, 300);
    for i in 1..=5u64 {
        w.append(
            FrameKind::RecordBatch,
            &[&payload(i, 50)],
            Durability::Buffered,
        )
        .unwrap();
    }
    let reader = w.reader(2);
    let handle = std::thread::spawn(move || seqs(reader));
    for i in 6..=40u64 {
        w.append(
            FrameKind::RecordBatch,
            &[&payload(i, 50)],
            Durability::Buffered,
        )
        .unwrap();
    }
    assert_eq!(handle.join().unwrap(), [2, 3, 4, 5]);
    assert_eq!(seqs(w.reader(39)), [39, 40]);
}

#[test]
fn damage_is_yielded_once_then_the_reader_ends() {
    let fs = SimStorage::new(1);
    let mut w = wal(&fs, 1 << 20);
    for i in 1..=3u64 {
        w.append(FrameKind::RecordBatch, &[&payload(i, 16)], Durability::Sync)
            .unwrap();
    }
    let path = w.active.meta.path.clone();
    let mut bytes = fs.contents(&path).unwrap();
    bytes[32 + 40 + 30] ^= 4; // payload of seq 2
    fs.put_file(&path, &bytes).unwrap();
    let mut r = w.reader(1);
    assert_eq!(r.next().unwrap().unwrap().seq, 1);
    match r.next() {
        Some(Err(WalError::Corrupt { offset, reason, .. })) => {
            assert_eq!(offset, 72);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(r.next().is_none());
    assert!(r.next().is_none());
}

#[test]
fn reclaimed_segments_are_an_io_error() {
    let fs = SimStorage::new(1);
    let mut w = wal(&fs, 100);
    for i in 1..=3u64 {
        w.append(
            FrameKind::RecordBatch,
            &[&payload(i, 40)],
            Durability::Buffered,
        )
        .unwrap();
    }
    let r = w.reader(1);
    assert_eq!(w.reclaim_before(3).unwrap(), 2);
    let items: Vec<_> = r.collect();
    assert_eq!(items.len(), 1);
    assert!(matches!(items[0], Err(WalError::Io { .. })), "{items:?}");
}

#[test]
fn empty_log_reads_nothing() {
    let fs = SimStorage::new(1);
    let w = wal(&fs, 100);
    assert_eq!(seqs(w.reader(0)), Vec::<u64>::new());
    assert!(format!("{:?}", w.reader(0)).contains("from_seq: 0"));
}
