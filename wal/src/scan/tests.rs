use proptest::prelude::*;

use super::*;
use crate::testutil::{encode_frame, payload, segment_bytes};

fn three() -> Vec<u8> {
    segment_bytes(5, &[b"alpha", b"", b"0123456789abcdef0"])
}

#[test]
fn clean_segment() {
    let b = three();
    let r = scan_segment_bytes(&b);
    assert_eq!(r.header, Some(SegmentHeader { first_seq: 5 }));
    assert_eq!(r.stop, ScanStop::EndOfFile);
    assert_eq!(r.after, AfterStop::Nothing);
    assert_eq!(r.valid_end, b.len() as u64);
    let seqs: Vec<u64> = r.frames.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, [5, 6, 7]);
    let offsets: Vec<u64> = r.frames.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [32, 64, 88]);
    assert_eq!(r.frames[2].payload_len, 17);
    assert_eq!(r.frames[0].kind, FrameKind::RecordBatch);
}

#[test]
fn zero_tail_is_end_marker_with_nothing_after() {
    let mut b = three();
    let end = b.len() as u64;
    b.resize(b.len() + 4096, 0);
    let r = scan_segment_bytes(&b);
    assert_eq!(r.frames.len(), 3);
    assert_eq!(r.valid_end, end);
    assert_eq!(r.stop, ScanStop::EndMarker);
    assert_eq!(r.after, AfterStop::NoValidFrame);
}

#[test]
fn every_truncation_of_the_last_frame_keeps_the_prefix() {
    let b = three();
    let last = 88;
    for cut in last..b.len() {
        let r = scan_segment_bytes(&b[..cut]);
        assert_eq!(r.frames.len(), 2, "cut {cut}");
        assert_eq!(r.valid_end, last as u64);
        if cut == last {
            assert_eq!(r.stop, ScanStop::EndOfFile);
        } else {
            assert!(
                matches!(&r.stop, ScanStop::Invalid(d) if d.is_incomplete()),
                "cut {cut}: {:?}",
                r.stop
            );
            assert_eq!(r.after, AfterStop::NoValidFrame);
        }
    }
}

#[test]
fn damaged_middle_frame_reveals_the_later_frame() {
    let mut b = three();
    b[64 + 8] = 9; // kind of seq 6
    let r = scan_segment_bytes(&b);
    assert_eq!(r.frames.len(), 1);
    assert_eq!(r.stop, ScanStop::Invalid(FrameDefect::UnknownKind(9)));
    assert_eq!(r.after, AfterStop::ValidFrame { offset: 88, seq: 7 });
}

#[test]
fn flipped_length_is_caught_and_later_frame_found() {
    let mut b = three();
    b[32] ^= 0x40; // len of seq 5 becomes 69: runs into the next frames
    let r = scan_segment_bytes(&b);
    assert_eq!(r.frames.len(), 0);
    assert!(matches!(r.stop, ScanStop::Invalid(_)), "{:?}", r.stop);
    assert_eq!(r.after, AfterStop::ValidFrame { offset: 64, seq: 6 });
}

#[test]
fn zeroed_frame_header_with_data_after_is_detected() {
    let mut b = three();
    b[64..88].fill(0);
    let r = scan_segment_bytes(&b);
    assert_eq!(r.stop, ScanStop::EndMarker);
    assert_eq!(r.after, AfterStop::ValidFrame { offset: 88, seq: 7 });
}

#[test]
fn stale_lower_seqs_do_not_count_as_later_data() {
    // A frame whose payload embeds a whole segment (seqs 1..3) is torn: the embedded frames
    // are valid but their seqs are below the expected one, so they are not evidence of loss.
    let inner = segment_bytes(1, &[b"a", b"b", b"c"]);
    let mut b = segment_bytes(10, &[b"x"]);
    b.extend(encode_frame(FrameKind::RecordBatch, 11, &inner));
    b.truncate(b.len() - 8);
    let r = scan_segment_bytes(&b);
    assert_eq!(r.frames.len(), 1);
    assert_eq!(r.after, AfterStop::NoValidFrame);
}

#[test]
fn seq_mismatch_stops_the_scan() {
    let mut b = segment_bytes(1, &[b"a"]);
    b.extend(encode_frame(FrameKind::Marker, 3, b"c"));
    let r = scan_segment_bytes(&b);
    assert_eq!(r.frames.len(), 1);
    assert_eq!(
        r.stop,
        ScanStop::SeqMismatch {
            expected: 2,
            found: 3
        }
    );
    assert_eq!(r.valid_end, 64);
}

#[test]
fn bad_header_reads_no_frames() {
    let mut b = three();
    b[0] = b'X';
    let r = scan_segment_bytes(&b);
    assert_eq!(r.header, None);
    assert!(r.frames.is_empty());
    assert_eq!(r.valid_end, 0);
    assert_eq!(r.stop, ScanStop::BadHeader(HeaderDefect::BadMagic));
    assert_eq!(r.stop.to_string(), "segment header has wrong magic");
}

#[test]
fn search_budget_bounds_adversarial_work() {
    // Many fake headers that each declare a large payload that fits: checksum work would be
    // quadratic without the budget.
    let n = 1 << 12;
    let mut region = vec![0u8; n * 24];
    for i in 0..n {
        let h = &mut region[i * 24..i * 24 + 24];
        h[..4].copy_from_slice(&((n - i - 1) as u32 * 24).to_le_bytes());
        h[8] = 2;
        h[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    }
    // ~200 MiB of checksumming in total; a 1 MiB budget gives up early.
    let found = find_later_frame_within(&region, 0, 1, 1 << 20);
    assert!(matches!(found, AfterStop::Abandoned { .. }), "{found:?}");
    // The same bytes followed by a genuine frame are found when the budget allows it.
    let mut with_frame = region[(n - 64) * 24..].to_vec();
    with_frame.extend(encode_frame(FrameKind::Schema, 9, b"real"));
    assert_eq!(
        find_later_frame(&with_frame, 0, 9),
        AfterStop::ValidFrame {
            offset: 64 * 24,
            seq: 9
        }
    );
}

#[test]
fn later_frame_after_a_long_zero_run_is_found_at_any_alignment() {
    for gap in [0usize, 8, 56, 64, 72, 4096, 4104] {
        let mut b = vec![0u8; 8 + gap];
        b.extend(encode_frame(FrameKind::Marker, 4, b"z"));
        b.resize(b.len() + 100, 0);
        assert_eq!(
            find_later_frame(&b, 0, 4),
            AfterStop::ValidFrame {
                offset: 8 + gap as u64,
                seq: 4
            },
            "gap {gap}"
        );
    }
    assert_eq!(first_nonzero(&[0, 0, 3], 0), 2);
    assert_eq!(first_nonzero(&[0; 200], 5), 200);
    assert_eq!(first_nonzero(&[1], 9), 1);
}

#[test]
fn later_frame_search_edge_cases() {
    assert_eq!(find_later_frame(&[], 0, 1), AfterStop::Nothing);
    assert_eq!(find_later_frame(&[1, 2, 3], 10, 1), AfterStop::Nothing);
    assert_eq!(find_later_frame(&[7; 40], 0, 1), AfterStop::NoValidFrame);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let r = scan_segment_bytes(&bytes);
        prop_assert!(r.valid_end as usize <= bytes.len());
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..600),
        first in 1u64..u64::MAX,
    ) {
        let mut b = segment_bytes(first, &[]);
        b.extend_from_slice(&tail);
        let r = scan_segment_bytes(&b);
        prop_assert!(r.header.is_some());
        prop_assert!(r.valid_end as usize <= b.len());
        for (i, f) in r.frames.iter().enumerate() {
            prop_assert_eq!(f.seq, first + i as u64);
        }
    }

    #[test]
    fn mutated_valid_segments_never_panic_and_keep_a_valid_prefix(
        sizes in proptest::collection::vec(0usize..100, 1..8),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let payloads: Vec<Vec<u8>> =
            sizes.iter().enumerate().map(|(i, &n)| payload(i as u64, n)).collect();
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let mut b = segment_bytes(1, &refs);
        for (idx, bit) in &flips {
            let i = idx.index(b.len());
            b[i] ^= 1 << bit;
        }
        b.truncate(cut.index(b.len() + 1));
        let r = scan_segment_bytes(&b);
        for f in &r.frames {
            let start = f.offset as usize + 24;
            let got = &b[start..start + f.payload_len as usize];
            prop_assert_eq!(got, payloads[(f.seq - 1) as usize].as_slice());
        }
    }
}
