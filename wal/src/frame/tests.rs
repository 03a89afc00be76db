use super::*;

use crate::testutil::encode_frame;

/// kind = RecordBatch, seq = 0x0102030405060708, payload "hello". The checksum literal was
/// computed independently (Python `zlib.crc32` over bytes 8..24 ++ b"hello").
const GOLDEN: [u8; 32] = [
    0x05, 0x00, 0x00, 0x00, // len = 5
    0xeb, 0x3a, 0x55, 0xfa, // crc
    0x02, 0, 0, 0, 0, 0, 0, 0, // kind = 2, reserved
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq
    b'h', b'e', b'l', b'l', b'o', 0, 0, 0, // payload + padding
];

#[test]
fn golden_bytes() {
    let bytes = encode_frame(FrameKind::RecordBatch, 0x0102_0304_0506_0708, b"hello");
    assert_eq!(bytes, GOLDEN);
    let f = decode_frame(&GOLDEN, 0).unwrap().unwrap();
    assert_eq!(f.kind, FrameKind::RecordBatch);
    assert_eq!(f.seq, 0x0102_0304_0506_0708);
    assert_eq!(&GOLDEN[f.payload.clone()], b"hello");
    assert_eq!(f.next_offset, 32);
}

#[test]
fn parts_are_concatenated() {
    let (a, _) = encode_header(FrameKind::Schema, 9, &[b"he", b"", b"llo"]).unwrap();
    let (b, _) = encode_header(FrameKind::Schema, 9, &[b"hello"]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn lengths_and_padding() {
    assert_eq!(frame_len(0), 24);
    assert_eq!(frame_len(1), 32);
    assert_eq!(frame_len(8), 32);
    assert_eq!(frame_len(9), 40);
    assert_eq!(frame_len(u32::MAX), 24 + (1u64 << 32));
    assert_eq!(padding_len(0), 0);
    assert_eq!(padding_len(5), 3);
    assert_eq!(padding_len(8), 0);
}

#[test]
fn every_single_bit_flip_is_detected() {
    for bit in 0..GOLDEN.len() * 8 {
        let mut b = GOLDEN;
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(decode_frame(&b, 0).is_err(), "bit {bit} flip not detected");
    }
}

#[test]
fn zero_header_and_zero_tail_are_clean_end() {
    assert_eq!(decode_frame(&[], 0), Ok(None));
    assert_eq!(decode_frame(&[0; 24], 0), Ok(None));
    assert_eq!(decode_frame(&[0; 16], 0), Ok(None));
    assert_eq!(decode_frame(&GOLDEN, 32), Ok(None));
    assert_eq!(decode_frame(&GOLDEN, 1000), Ok(None));
}

#[test]
fn defects_are_classified() {
    assert_eq!(
        decode_frame(&GOLDEN[..10], 0),
        Err(FrameDefect::PartialHeader { available: 10 })
    );
    assert_eq!(
        decode_frame(&GOLDEN[..30], 0),
        Err(FrameDefect::PartialPayload {
            needed: 8,
            available: 6
        })
    );
    let mut b = GOLDEN;
    b[8] = 7;
    assert_eq!(decode_frame(&b, 0), Err(FrameDefect::UnknownKind(7)));
    let mut b = GOLDEN;
    b[12] = 1;
    assert_eq!(decode_frame(&b, 0), Err(FrameDefect::ReservedNotZero));
    let mut b = GOLDEN;
    b[3] = 0x40; // len = 1 GiB + 5: refused before looking at (or allocating) the payload
    assert_eq!(
        decode_frame(&b, 0),
        Err(FrameDefect::TooLarge(MAX_PAYLOAD_LEN + 5))
    );
    let mut b = GOLDEN;
    b[31] = 1;
    assert_eq!(decode_frame(&b, 0), Err(FrameDefect::PaddingNotZero));
    assert!(FrameDefect::PartialHeader { available: 1 }.is_incomplete());
    assert!(!FrameDefect::PaddingNotZero.is_incomplete());
}

#[test]
fn oversized_parts_are_refused_before_hashing() {
    // 1 GiB + 1 byte in 1025 parts: refused from the lengths alone (hashing 1 GiB in a
    // debug build would take seconds; this test is instant).
    let big = vec![0u8; 1 << 20];
    let mut parts: Vec<&[u8]> = std::iter::repeat_n(big.as_slice(), 1024).collect();
    parts.push(b"x");
    match encode_header(FrameKind::Marker, 1, &parts) {
        Err(WalError::FrameTooLarge { len, max }) => {
            assert_eq!(len, (1 << 30) + 1);
            assert_eq!(max, 1 << 30);
        }
        other => panic!("unexpected {other:?}"),
    }
    let (_, len) = encode_header(FrameKind::Marker, 1, &parts[..2]).unwrap();
    assert_eq!(len, 2 << 20);
}

#[test]
fn kinds_round_trip() {
    for k in [FrameKind::Schema, FrameKind::RecordBatch, FrameKind::Marker] {
        assert_eq!(FrameKind::from_u8(k.as_u8()), Some(k));
    }
    assert_eq!(FrameKind::from_u8(0), None);
    assert_eq!(FrameKind::from_u8(4), None);
}
