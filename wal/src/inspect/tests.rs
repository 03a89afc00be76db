//! Recovery and verification scenarios: torn tails, zero tails, bit flips, gaps, headers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::testutil::{encode_frame, payload, segment_bytes};
use crate::{
    encode_segment_header, segment_file_name, verify_dir_with_storage, Durability, FrameKind,
    RecoveryReport, SimStorage, Wal, WalError, WalOptions,
};

const DIR: &str = "/w";

fn seg(first_seq: u64) -> PathBuf {
    Path::new(DIR).join(segment_file_name(first_seq))
}

fn opts() -> WalOptions {
    WalOptions {
        segment_size_bytes: 4096,
        preallocate: false,
    }
}

fn open(fs: &SimStorage) -> Result<(Wal, RecoveryReport), WalError> {
    Wal::open_with_storage(Arc::new(fs.clone()), Path::new(DIR), opts())
}

/// A file system holding the given segment files.
fn fs_with(files: &[(u64, Vec<u8>)]) -> SimStorage {
    let fs = SimStorage::new(3);
    for (first, bytes) in files {
        fs.put_file(&seg(*first), bytes).unwrap();
    }
    fs
}

fn payloads(wal: &Wal) -> Vec<Vec<u8>> {
    wal.reader(0).map(|f| f.unwrap().payload).collect()
}

/// Three frames with 10-, 20- and 30-byte payloads; returns the bytes and the last frame's
/// offset.
fn three() -> (Vec<u8>, usize) {
    let p: Vec<Vec<u8>> = (1..=3).map(|i| payload(i, i as usize * 10)).collect();
    let bytes = segment_bytes(1, &[&p[0], &p[1], &p[2]]);
    (bytes, 32 + 40 + 48)
}

fn expect_corrupt(fs: &SimStorage, needle: &str) {
    match open(fs) {
        Err(WalError::Corrupt { reason, .. }) => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected Corrupt({needle}), got {other:?}"),
    }
}

#[test]
fn torn_tail_at_every_offset_of_the_last_frame() {
    let (bytes, last) = three();
    for cut in last..=bytes.len() {
        let fs = fs_with(&[(1, bytes[..cut].to_vec())]);
        let (mut wal, report) = open(&fs).unwrap();
        let complete = cut == bytes.len();
        assert_eq!(report.frames, if complete { 3 } else { 2 }, "cut {cut}");
        match (&report.truncated, cut == last || complete) {
            (None, true) => {}
            (Some(t), false) => {
                assert_eq!(t.offset, last as u64);
                assert_eq!(t.segment, seg(1));
                assert!(t.bytes_dropped > 0 && t.bytes_dropped <= (cut - last) as u64);
                assert!(t.reason.contains("torn tail"), "{}", t.reason);
            }
            (t, _) => panic!("cut {cut}: unexpected truncation {t:?}"),
        }
        if !complete {
            assert_eq!(fs.contents(&seg(1)).unwrap(), &bytes[..last]);
            assert_eq!(
                wal.append(FrameKind::Marker, &[b"n"], Durability::Sync)
                    .unwrap(),
                3
            );
            let (_, again) = open(&fs).unwrap();
            assert_eq!((again.frames, again.truncated), (3, None));
        }
    }
}

#[test]
fn zero_filled_tail_is_clean() {
    let (bytes, _) = three();
    for zeros in [1usize, 7, 8, 23, 24, 1000] {
        let mut b = bytes.clone();
        b.resize(b.len() + zeros, 0);
        let (wal, report) = open(&fs_with(&[(1, b)])).unwrap();
        assert_eq!(
            (report.frames, report.truncated),
            (3, None),
            "{zeros} zeros"
        );
        assert_eq!(payloads(&wal).len(), 3);
    }
}

#[test]
fn bit_flip_anywhere_in_the_last_frame_truncates_it() {
    let (bytes, last) = three();
    for bit in last * 8..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let (wal, report) = open(&fs_with(&[(1, b)])).unwrap();
        assert_eq!(report.frames, 2, "bit {bit}");
        assert_eq!(report.truncated.unwrap().offset, last as u64, "bit {bit}");
        assert_eq!(payloads(&wal), [payload(1, 10), payload(2, 20)]);
    }
}

#[test]
fn bit_flip_in_an_earlier_frame_is_corruption() {
    let (bytes, _) = three();
    for bit in (32 + 40) * 8..(32 + 40 + 48) * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let fs = fs_with(&[(1, b.clone())]);
        match open(&fs) {
            Err(WalError::Corrupt {
                segment, offset, ..
            }) => {
                assert_eq!((segment, offset), (seg(1), 72), "bit {bit}");
            }
            other => panic!("bit {bit}: {other:?}"),
        }
        assert_eq!(
            fs.contents(&seg(1)).unwrap(),
            b,
            "a refused open modifies nothing"
        );
    }
}

#[test]
fn zeroed_frame_with_data_after_is_corruption() {
    let (mut bytes, _) = three();
    bytes[72..96].fill(0);
    expect_corrupt(
        &fs_with(&[(1, bytes)]),
        "end-of-data marker, followed by a valid frame",
    );
}

#[test]
fn seq_gaps_are_corruption() {
    let a = segment_bytes(1, &[b"a", b"b"]);
    expect_corrupt(
        &fs_with(&[(1, a.clone()), (4, segment_bytes(4, &[b"d"]))]),
        "seq gap",
    );
    let mut skip = a.clone();
    skip.extend(encode_frame(FrameKind::RecordBatch, 4, b"d"));
    expect_corrupt(&fs_with(&[(1, skip)]), "seq 4, expected 3");
    // A segment that starts after frames that were reclaimed is fine.
    let (_, report) = open(&fs_with(&[(7, segment_bytes(7, &[b"g"]))])).unwrap();
    assert_eq!((report.frames, report.last_seq), (1, 7));
}

#[test]
fn damage_in_an_older_segment_is_corruption() {
    let (bytes, last) = three();
    let next = segment_bytes(3, &[b"c"]);
    expect_corrupt(
        &fs_with(&[(1, bytes[..last + 5].to_vec()), (3, next.clone())]),
        "not the last",
    );
    let mut bad_header = segment_bytes(1, &[b"a", b"b"]);
    bad_header[20] ^= 1;
    expect_corrupt(&fs_with(&[(1, bad_header), (3, next)]), "not the last");
}

#[test]
fn interrupted_segment_creation_is_repaired() {
    let older = segment_bytes(1, &[b"a", b"b"]);
    let header = encode_segment_header(3);
    for torn in [Vec::new(), header[..10].to_vec(), {
        let mut h = header[..20].to_vec();
        h.resize(4096, 0); // preallocated
        h
    }] {
        let fs = fs_with(&[(1, older.clone()), (3, torn.clone())]);
        let (mut wal, report) = open(&fs).unwrap();
        let t = report.truncated.expect("repair reported");
        assert_eq!((t.segment, t.offset), (seg(3), 0));
        assert!(
            t.reason.contains("interrupted segment creation"),
            "{}",
            t.reason
        );
        assert_eq!(fs.contents(&seg(3)).unwrap(), header);
        assert_eq!(
            wal.append(FrameKind::Marker, &[b"c"], Durability::Sync)
                .unwrap(),
            3
        );
        assert_eq!(
            payloads(&wal),
            [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
    }
    // The same damage with data after it is not an interrupted creation.
    let mut damaged = segment_bytes(3, &[b"c"]);
    damaged[0] = 0;
    expect_corrupt(
        &fs_with(&[(1, older), (3, damaged)]),
        "with data after the header",
    );
}

#[test]
fn header_must_agree_with_file_name() {
    expect_corrupt(
        &fs_with(&[(1, segment_bytes(2, &[b"x"]))]),
        "disagrees with the file name",
    );
}

#[test]
fn unknown_version_refuses_to_open() {
    let mut b = segment_bytes(1, &[b"x"]);
    b[8] = 2;
    match open(&fs_with(&[(1, b)])) {
        Err(WalError::UnsupportedVersion {
            path,
            version: 2,
            flags: 0,
        }) => {
            assert_eq!(path, seg(1))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_files_are_ignored() {
    let fs = fs_with(&[(1, segment_bytes(1, &[b"x"]))]);
    fs.put_file(&Path::new(DIR).join("notes.txt"), b"hi")
        .unwrap();
    fs.put_file(&Path::new(DIR).join("1.wal"), b"junk").unwrap();
    let (_, report) = open(&fs).unwrap();
    assert_eq!((report.segments, report.frames), (1, 1));
}

#[test]
fn repair_re_preallocates() {
    let (bytes, last) = three();
    let fs = fs_with(&[(1, bytes[..bytes.len() - 3].to_vec())]);
    let o = WalOptions {
        segment_size_bytes: 1024,
        preallocate: true,
    };
    let (_, report) = Wal::open_with_storage(Arc::new(fs.clone()), Path::new(DIR), o).unwrap();
    assert_eq!(report.truncated.unwrap().offset, last as u64);
    let after = fs.contents(&seg(1)).unwrap();
    assert_eq!(after.len(), 1024);
    assert_eq!(&after[..last], &bytes[..last]);
    assert!(after[last..].iter().all(|&b| b == 0));
}

#[test]
fn verify_reports_without_modifying() {
    let (bytes, last) = three();
    let clean = fs_with(&[(1, bytes.clone())]);
    let r = verify_dir_with_storage(&clean, Path::new(DIR)).unwrap();
    assert!(r.is_clean());
    assert_eq!((r.frames, r.last_seq, r.segments.len()), (3, 3, 1));
    assert_eq!(r.segments[0].valid_bytes, bytes.len() as u64);

    let torn = fs_with(&[(1, bytes[..bytes.len() - 1].to_vec())]);
    let r = verify_dir_with_storage(&torn, Path::new(DIR)).unwrap();
    assert!(!r.is_clean());
    assert_eq!(r.torn_tail.unwrap().offset, last as u64);
    assert!(r.corruption.is_empty());
    assert_eq!(torn.contents(&seg(1)).unwrap().len(), bytes.len() - 1);

    let mut b = bytes.clone();
    b[40] ^= 1;
    let gap = segment_bytes(9, &[b"z"]);
    let r = verify_dir_with_storage(&fs_with(&[(1, b), (9, gap)]), Path::new(DIR)).unwrap();
    assert_eq!(r.corruption.len(), 2, "{:?}", r.corruption);
    assert_eq!(r.corruption[0].offset, 32);
    assert!(r.corruption[1].reason.contains("seq gap"));
    assert!(r.corruption[0].to_error().to_string().contains("/w/"));

    assert!(verify_dir_with_storage(&SimStorage::new(0), Path::new("/none")).is_err());
}

/// Fuzz finding (`fuzz/corpus/wal_recovery/crash-stale-bytes-after-end-marker`): non-zero bytes
/// behind an end-of-data marker used to survive recovery and surface as a "torn tail" at the
/// open after the next append. Recovery cuts them; the append then reopens cleanly.
#[test]
fn nonzero_bytes_after_the_end_marker_are_cut() {
    let (bytes, _) = three();
    let end = bytes.len() as u64;
    let mut b = bytes.clone();
    b.resize(b.len() + 48, 0);
    b.extend_from_slice(&[0x15, 0, 0, 0, 0x93, 0xc3, 0xff, 0xc3, 2, 0, 0, 7]);
    let fs = fs_with(&[(1, b)]);
    let (mut wal, report) = open(&fs).unwrap();
    let t = report.truncated.expect("the stale bytes are reported");
    assert_eq!((t.offset, t.bytes_dropped), (end, 48 + 12));
    assert_eq!(fs.contents(&seg(1)).unwrap(), bytes);
    wal.append(FrameKind::Marker, &[b"next"], Durability::Sync)
        .unwrap();
    drop(wal);
    let (wal, again) = open(&fs).unwrap();
    assert_eq!((again.frames, again.truncated), (4, None));
    assert_eq!(payloads(&wal).len(), 4);
}
