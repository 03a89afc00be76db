//! End-to-end tests on real files: round trips across rotation with frames of 0 bytes to ~1 MiB,
//! reopen, readers from the middle and from another thread, preallocation, torn tails made with
//! the real file system, verify_dir, reclaim and destroy.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use tessera_wal::{
    segment_file_name, verify_dir, Durability, FrameKind, Wal, WalOptions, SEGMENT_HEADER_LEN,
};

fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as usize * 31 + i * 17 % 251) as u8)
        .collect()
}

/// Sizes from 0 to a bit over 1 MiB, mostly small, deterministic.
fn sizes() -> Vec<usize> {
    let mut out = vec![0, 1, 7, 8, 9, 4095, 4096, 65_537, (1 << 20) + 3];
    let mut x: u64 = 0x1234_5678;
    for _ in 0..120 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(((x >> 33) % 20_000) as usize);
    }
    out.push(1 << 20);
    out
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    v.sort();
    v
}

fn check(wal: &Wal, from: u64, sizes: &[usize]) {
    let mut expect = from.max(1);
    for f in wal.reader(from) {
        let f = f.unwrap();
        assert_eq!(f.seq, expect);
        assert_eq!(
            f.payload,
            payload(f.seq, sizes[f.seq as usize - 1]),
            "seq {}",
            f.seq
        );
        expect += 1;
    }
    assert_eq!(expect, sizes.len() as u64 + 1);
}

fn roundtrip(preallocate: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("topic");
    let opts = WalOptions {
        segment_size_bytes: 512 * 1024,
        preallocate,
    };
    let sizes = sizes();
    let (mut wal, report) = Wal::open(&dir, opts).unwrap();
    assert_eq!((report.segments, report.frames, report.last_seq), (1, 0, 0));
    for (i, &n) in sizes.iter().enumerate() {
        let p = payload(i as u64 + 1, n);
        let (a, b) = p.split_at(n / 3);
        let kind = if i == 0 {
            FrameKind::Schema
        } else {
            FrameKind::RecordBatch
        };
        let d = if i % 10 == 0 {
            Durability::Sync
        } else {
            Durability::Buffered
        };
        assert_eq!(wal.append(kind, &[a, b], d).unwrap(), i as u64 + 1);
    }
    assert_eq!(wal.sync().unwrap(), sizes.len() as u64);
    check(&wal, 0, &sizes);
    check(&wal, 77, &sizes);
    let live = wal.live_bytes();
    let segs = segments(&dir);
    assert!(
        segs.len() >= 4,
        "expected rotation, got {} segments",
        segs.len()
    );
    let (active, sealed) = segs.split_last().unwrap();
    for s in sealed {
        // Sealed segments hold no preallocated tail; only a lone oversized frame exceeds the size.
        let len = fs::metadata(s).unwrap().len();
        let frames = tessera_wal::scan_segment_bytes(&fs::read(s).unwrap())
            .frames
            .len();
        assert!(
            len <= opts.segment_size_bytes || frames == 1,
            "{}",
            s.display()
        );
        assert_eq!(
            tessera_wal::scan_segment_bytes(&fs::read(s).unwrap()).valid_end,
            len
        );
    }
    let active_len = fs::metadata(active).unwrap().len();
    let used = tessera_wal::scan_segment_bytes(&fs::read(active).unwrap()).valid_end;
    if preallocate {
        assert_eq!(active_len, used.max(opts.segment_size_bytes));
    } else {
        assert_eq!(active_len, used);
    }
    drop(wal);

    let report = verify_dir(&dir).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.frames, sizes.len() as u64);

    let (wal, report) = Wal::open(&dir, opts).unwrap();
    assert_eq!(report.frames, sizes.len() as u64);
    assert_eq!(report.last_seq, sizes.len() as u64);
    assert_eq!(report.truncated, None);
    assert_eq!(wal.live_bytes(), live);
    check(&wal, 0, &sizes);
    check(&wal, sizes.len() as u64 - 2, &sizes);
}

#[test]
fn roundtrip_across_rotation() {
    roundtrip(false);
}

#[test]
fn roundtrip_across_rotation_preallocated() {
    roundtrip(true);
}

#[test]
fn reader_on_another_thread_while_appending() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size_bytes: 4096,
        preallocate: true,
    };
    let (mut wal, _) = Wal::open(tmp.path(), opts).unwrap();
    for i in 1..=50u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 100)],
            Durability::Buffered,
        )
        .unwrap();
    }
    let reader = wal.reader(10);
    let t = std::thread::spawn(move || {
        reader
            .map(|f| {
                let f = f.unwrap();
                assert_eq!(f.payload, payload(f.seq, 100));
                f.seq
            })
            .collect::<Vec<_>>()
    });
    for i in 51..=300u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 100)],
            Durability::Buffered,
        )
        .unwrap();
    }
    assert_eq!(t.join().unwrap(), (10..=50).collect::<Vec<_>>());
    assert_eq!(wal.reader(299).count(), 2);
}

#[test]
fn torn_tail_on_disk_is_truncated_and_verify_sees_it_first() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = WalOptions::default();
    let (mut wal, _) = Wal::open(tmp.path(), opts).unwrap();
    for i in 1..=3u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 100)],
            Durability::Sync,
        )
        .unwrap();
    }
    drop(wal);
    let seg = tmp.path().join(segment_file_name(1));
    let full = fs::metadata(&seg).unwrap().len();
    let last_frame = full - (24 + 104);
    let before = fs::read(&seg).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(full - 50)
        .unwrap();
    let report = verify_dir(tmp.path()).unwrap();
    let torn = report.torn_tail.expect("verify reports the torn tail");
    assert_eq!(torn.offset, last_frame);
    assert_eq!(
        fs::metadata(&seg).unwrap().len(),
        full - 50,
        "verify modifies nothing"
    );
    let (wal, report) = Wal::open(tmp.path(), opts).unwrap();
    assert_eq!(report.truncated, Some(torn.clone()));
    assert_eq!(report.frames, 2);
    assert_eq!(fs::metadata(&seg).unwrap().len(), last_frame);
    assert_eq!(wal.durable_seq(), 2);
    // The cut bytes are kept beside the segment, which the log then ignores.
    let kept = tmp
        .path()
        .join(format!("{}.cut-{last_frame:020}", segment_file_name(1)));
    assert_eq!(report.cut_kept.as_ref(), Some(&kept));
    let cut = &before[last_frame as usize..(last_frame + torn.bytes_dropped) as usize];
    assert_eq!(fs::read(&kept).unwrap(), cut);
    drop(wal);
    let (wal, report) = Wal::open(tmp.path(), opts).unwrap();
    assert_eq!(
        (report.frames, report.truncated, report.cut_kept),
        (2, None, None)
    );
    assert_eq!(wal.reader(1).count(), 2);
    assert!(verify_dir(tmp.path()).unwrap().is_clean());
}

#[test]
fn reclaim_then_reopen_starts_after_one() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size_bytes: 1024,
        preallocate: false,
    };
    let (mut wal, _) = Wal::open(tmp.path(), opts).unwrap();
    for i in 1..=40u64 {
        wal.append(
            FrameKind::RecordBatch,
            &[&payload(i, 200)],
            Durability::Buffered,
        )
        .unwrap();
    }
    wal.sync().unwrap();
    let before = segments(tmp.path());
    let removed = wal.reclaim_before(20).unwrap();
    let after = segments(tmp.path());
    assert_eq!(after.len(), before.len() - removed);
    // Exactly the segments whose successor starts at or before seq 20 are gone.
    let firsts: Vec<u64> = before
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect();
    let expect_removed = firsts.windows(2).filter(|w| w[1] <= 20).count();
    assert_eq!(removed, expect_removed);
    assert!(removed > 0);
    let first_left = firsts[removed];
    assert!(first_left > 1 && first_left <= 20);
    drop(wal);
    let (mut wal, report) = Wal::open(tmp.path(), opts).unwrap();
    assert_eq!(report.last_seq, 40);
    assert_eq!(report.frames, 40 - first_left + 1);
    assert_eq!(wal.reader(0).next().unwrap().unwrap().seq, first_left);
    assert_eq!(
        wal.append(FrameKind::Marker, &[], Durability::Sync)
            .unwrap(),
        41
    );
    assert_eq!(
        wal.live_bytes(),
        segments(tmp.path())
            .iter()
            .map(|p| fs::metadata(p).unwrap().len())
            .sum::<u64>()
    );
}

#[test]
fn destroy_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/topic");
    let (mut wal, _) = Wal::open(&dir, WalOptions::default()).unwrap();
    wal.append(FrameKind::Schema, &[b"s"], Durability::Sync)
        .unwrap();
    assert_eq!(
        fs::metadata(dir.join(segment_file_name(1))).unwrap().len(),
        SEGMENT_HEADER_LEN as u64 + 32
    );
    wal.destroy().unwrap();
    assert!(!dir.exists());
    assert!(tmp.path().join("a/b").exists());
}
