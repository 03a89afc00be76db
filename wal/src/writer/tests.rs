use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::testutil::payload;
use crate::{
    CrashMode, Durability, FrameKind, SimFault, SimStorage, Wal, WalError, SEGMENT_HEADER_LEN,
};

use crate::testutil::{open, opts, DIR};

fn seg(first_seq: u64) -> PathBuf {
    Path::new(DIR).join(crate::segment_file_name(first_seq))
}

fn read_all(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
    wal.reader(from)
        .map(|f| f.map(|f| (f.seq, f.payload)).unwrap())
        .collect()
}

#[test]
fn seqs_are_contiguous_and_payload_parts_concatenate() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    assert_eq!(wal.last_seq(), 0);
    assert_eq!(wal.live_bytes(), SEGMENT_HEADER_LEN as u64);
    let a = wal
        .append(FrameKind::Schema, &[b"sch", b"ema"], Durability::Buffered)
        .unwrap();
    let b = wal
        .append(FrameKind::RecordBatch, &[], Durability::Buffered)
        .unwrap();
    assert_eq!((a, b), (1, 2));
    assert_eq!(wal.last_seq(), 2);
    assert_eq!(wal.live_bytes(), 32 + 32 + 24);
    let frames: Vec<_> = wal.reader(1).map(Result::unwrap).collect();
    assert_eq!(frames[0].kind, FrameKind::Schema);
    assert_eq!(frames[0].payload, b"schema");
    assert_eq!(frames[1].kind, FrameKind::RecordBatch);
    assert!(frames[1].payload.is_empty());
}

#[test]
fn durability_is_explicit() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    let syncs = fs.stats().file_syncs;
    wal.append(FrameKind::RecordBatch, &[b"a"], Durability::Buffered)
        .unwrap();
    assert_eq!(
        fs.stats().file_syncs,
        syncs,
        "buffered append must not sync"
    );
    assert_eq!(wal.durable_seq(), 0);
    // A power loss now loses the buffered frame.
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(open(&img, opts(1 << 20)).last_seq(), 0);

    wal.append(FrameKind::RecordBatch, &[b"b"], Durability::Sync)
        .unwrap();
    assert_eq!(fs.stats().file_syncs, syncs + 1);
    assert_eq!(wal.durable_seq(), 2);
    assert_eq!(wal.sync().unwrap(), 2);
    assert_eq!(fs.stats().file_syncs, syncs + 1, "nothing new to sync");
    let img = fs.crash_image(CrashMode::DurableOnly);
    let reopened = open(&img, opts(1 << 20));
    assert_eq!(
        read_all(&reopened, 1),
        [(1, b"a".to_vec()), (2, b"b".to_vec())]
    );
}

#[test]
fn rotation_keeps_segments_within_size_and_big_frames_alone() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(256));
    // Frames of 64 + 24 = 88 bytes: two fit after the 32-byte header (32 + 176 = 208 <= 256).
    for i in 1..=5u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 64)],
            Durability::Buffered,
        )
        .unwrap();
    }
    // A 1000-byte frame goes into a segment of its own, and the next frame starts another.
    let big = payload(6, 1000);
    wal.append(FrameKind::RecordBatch, &[&big], Durability::Buffered)
        .unwrap();
    wal.append(FrameKind::Marker, &[b"m"], Durability::Buffered)
        .unwrap();
    let names: Vec<u64> = crate::segment::list_segments(&fs, Path::new(DIR))
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(names, [1, 3, 5, 6, 7]);
    for (first, len) in [(1, 208), (3, 208), (5, 120), (6, 32 + 24 + 1000), (7, 64)] {
        assert_eq!(
            fs.contents(&seg(first)).unwrap().len(),
            len,
            "segment {first}"
        );
    }
    // Rotation synced every sealed segment: after a power loss, 1..=6 survive without any
    // explicit sync (7 was never synced).
    let img = fs.crash_image(CrashMode::DurableOnly);
    let reopened = open(&img, opts(256));
    assert_eq!(reopened.last_seq(), 6);
    assert_eq!(read_all(&reopened, 6), [(6, big)]);
    assert_eq!(wal.durable_seq(), 6);
}

#[test]
fn sync_failure_poisons_everything_after() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    wal.append(FrameKind::RecordBatch, &[b"ok"], Durability::Sync)
        .unwrap();
    wal.append(FrameKind::RecordBatch, &[b"lost?"], Durability::Buffered)
        .unwrap();
    fs.fail_syncs(Some(SimFault::Eio));
    assert!(matches!(
        wal.sync(),
        Err(WalError::Io {
            op: "fdatasync",
            ..
        })
    ));
    assert!(wal.is_poisoned());
    fs.fail_syncs(None); // the device recovered, but the handle stays poisoned
    assert!(matches!(wal.sync(), Err(WalError::Poisoned)));
    assert!(matches!(
        wal.append(FrameKind::RecordBatch, &[b"x"], Durability::Buffered),
        Err(WalError::Poisoned)
    ));
    assert!(matches!(
        wal.append(FrameKind::RecordBatch, &[b"x"], Durability::Sync),
        Err(WalError::Poisoned)
    ));
    assert_eq!(wal.durable_seq(), 1, "nothing unsynced reported durable");
    // Reopening recovers; a power loss may or may not have kept seq 2.
    drop(wal);
    let mut wal = open(&fs, opts(1 << 20));
    assert!(!wal.is_poisoned());
    assert_eq!(wal.last_seq(), 2);
    assert_eq!(wal.durable_seq(), 2, "open syncs what it recovered");
    assert_eq!(
        wal.append(FrameKind::Marker, &[], Durability::Sync)
            .unwrap(),
        3
    );
}

#[test]
fn write_failure_poisons_and_reopen_trims_the_partial_frame() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    wal.append(FrameKind::RecordBatch, &[b"first"], Durability::Sync)
        .unwrap();
    fs.fail_writes_after(30, SimFault::NoSpace);
    let e = wal
        .append(
            FrameKind::RecordBatch,
            &[&payload(2, 100)],
            Durability::Sync,
        )
        .unwrap_err();
    assert!(
        matches!(e, WalError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::StorageFull),
        "{e}"
    );
    assert!(matches!(
        wal.append(FrameKind::RecordBatch, &[b"x"], Durability::Buffered),
        Err(WalError::Poisoned)
    ));
    assert_eq!(wal.last_seq(), 1);
    fs.clear_faults();
    drop(wal);
    let (wal, report) =
        Wal::open_with_storage(Arc::new(fs.clone()), Path::new(DIR), opts(1 << 20)).unwrap();
    let t = report.truncated.expect("partial frame trimmed");
    assert_eq!(t.offset, 32 + 32);
    assert_eq!(t.bytes_dropped, 30);
    let kept = report.cut_kept.expect("the cut bytes are kept");
    let name = crate::segment_file_name(1);
    assert_eq!(kept, Path::new(DIR).join(format!("{name}.cut-{:020}", 64)));
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(
        img.contents(&kept).map(|b| b.len()),
        Some(30),
        "kept durably"
    );
    assert_eq!(read_all(&wal, 1), [(1, b"first".to_vec())]);
}

#[test]
fn rotation_failure_poisons() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(100));
    wal.append(
        FrameKind::RecordBatch,
        &[&payload(1, 40)],
        Durability::Buffered,
    )
    .unwrap();
    fs.fail_syncs(Some(SimFault::Eio));
    assert!(wal
        .append(
            FrameKind::RecordBatch,
            &[&payload(2, 40)],
            Durability::Buffered
        )
        .is_err());
    assert!(wal.is_poisoned());
    assert_eq!(wal.durable_seq(), 0);
}

#[test]
fn short_writes_are_completed() {
    let fs = SimStorage::new(7);
    fs.set_short_writes(true);
    let mut wal = open(&fs, opts(4096));
    let payloads: Vec<Vec<u8>> = (1..=20).map(|i| payload(i, i as usize * 37)).collect();
    for p in &payloads {
        let half = p.len() / 2;
        wal.append(
            FrameKind::RecordBatch,
            &[&p[..half], &p[half..]],
            Durability::Sync,
        )
        .unwrap();
    }
    let got: Vec<Vec<u8>> = read_all(&wal, 0).into_iter().map(|(_, p)| p).collect();
    assert_eq!(got, payloads);
}

#[test]
fn too_large_is_refused_without_poisoning() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    let chunk = vec![0u8; 1 << 20];
    let parts: Vec<&[u8]> = std::iter::repeat_n(chunk.as_slice(), 1025).collect();
    assert!(matches!(
        wal.append(FrameKind::RecordBatch, &parts, Durability::Sync),
        Err(WalError::FrameTooLarge { .. })
    ));
    assert!(!wal.is_poisoned());
    assert_eq!(
        wal.append(FrameKind::RecordBatch, &[b"ok"], Durability::Sync)
            .unwrap(),
        1
    );
}

#[test]
fn reclaim_removes_exactly_the_covered_segments() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(128));
    // 72-byte frames (48-byte payloads): one per segment after the first.
    for i in 1..=6u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 48)],
            Durability::Buffered,
        )
        .unwrap();
    }
    let before = wal.live_bytes();
    assert_eq!(before, 6 * (32 + 72));
    assert_eq!(wal.first_seq(), 1);
    assert_eq!(wal.reclaim_before(1).unwrap(), 0);
    assert_eq!(wal.reclaim_before(3).unwrap(), 2); // segments 1 and 2
    assert_eq!(wal.first_seq(), 3);
    assert!(fs.contents(&seg(1)).is_none() && fs.contents(&seg(2)).is_none());
    assert!(fs.contents(&seg(3)).is_some());
    assert_eq!(wal.live_bytes(), before - 2 * (32 + 72));
    assert_eq!(wal.reclaim_before(u64::MAX).unwrap(), 3); // never the active one (6)
    assert!(fs.contents(&seg(6)).is_some());
    assert_eq!(read_all(&wal, 0), [(6, payload(6, 48))]);
    // The removals are durable, and reopening continues the seqs.
    wal.sync().unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(img.contents(&seg(5)).is_none());
    let (mut wal, report) =
        Wal::open_with_storage(Arc::new(img), Path::new(DIR), opts(128)).unwrap();
    assert_eq!((report.segments, report.frames, report.last_seq), (1, 1, 6));
    assert_eq!(
        wal.append(FrameKind::Marker, &[], Durability::Sync)
            .unwrap(),
        7
    );
}

#[test]
fn roll_lets_reclaim_remove_every_written_frame() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(1 << 20));
    assert!(!wal.roll().unwrap(), "nothing to roll in an empty segment");
    for i in 1..=3u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 48)],
            Durability::Buffered,
        )
        .unwrap();
    }
    assert!(wal.roll().unwrap());
    assert_eq!(wal.durable_seq(), 3, "rolling syncs the ended segment");
    assert!(!wal.roll().unwrap(), "the new segment is empty");
    assert_eq!(wal.reclaim_before(4).unwrap(), 1);
    assert!(fs.contents(&seg(1)).is_none() && fs.contents(&seg(4)).is_some());
    assert_eq!(
        (wal.first_seq(), wal.last_seq()),
        (4, 3),
        "empty, numbering kept"
    );
    assert!(read_all(&wal, 0).is_empty());
    assert_eq!(wal.live_bytes(), SEGMENT_HEADER_LEN as u64);
    // After a crash the log reopens empty and continues the seqs.
    let img = fs.crash_image(CrashMode::DurableOnly);
    let (mut wal, report) =
        Wal::open_with_storage(Arc::new(img), Path::new(DIR), opts(1 << 20)).unwrap();
    assert_eq!((report.segments, report.frames, report.last_seq), (1, 0, 3));
    assert_eq!(
        wal.append(FrameKind::Marker, &[], Durability::Sync)
            .unwrap(),
        4
    );
}

#[test]
fn destroy_removes_the_directory_durably() {
    let fs = SimStorage::new(1);
    let mut wal = open(&fs, opts(128));
    wal.append(FrameKind::Marker, &[b"x"], Durability::Sync)
        .unwrap();
    wal.destroy().unwrap();
    use crate::Storage;
    assert!(fs.list_dir(Path::new(DIR)).is_err());
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(img.list_dir(Path::new(DIR)).is_err());
}

#[test]
fn wal_and_reader_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Wal>();
    is_send::<crate::WalReader>();
}
