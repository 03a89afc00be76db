use super::*;

/// Segment header for first_seq = 42; checksum computed independently with Python's
/// `zlib.crc32`.
const GOLDEN: [u8; 32] = [
    0x54, 0x53, 0x52, 0x41, 0x57, 0x41, 0x4c, 0x00, // "TSRAWAL\0"
    0x01, 0x00, 0x00, 0x00, // version 1, flags 0
    0x00, 0x00, 0x00, 0x00, // reserved
    0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // first_seq = 42
    0x00, 0x00, 0x00, 0x00, // reserved
    0x4e, 0x9b, 0x7b, 0x94, // crc32 of bytes 0..28
];

#[test]
fn golden_bytes() {
    assert_eq!(encode_segment_header(42), GOLDEN);
    assert_eq!(
        decode_segment_header(&GOLDEN),
        Ok(SegmentHeader { first_seq: 42 })
    );
}

#[test]
fn decode_ignores_bytes_after_the_header() {
    let mut b = GOLDEN.to_vec();
    b.extend_from_slice(&[9; 40]);
    assert_eq!(decode_segment_header(&b).unwrap().first_seq, 42);
}

#[test]
fn every_bit_flip_is_rejected() {
    for bit in 0..256 {
        let mut b = GOLDEN;
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(decode_segment_header(&b).is_err(), "bit {bit}");
    }
}

#[test]
fn defects() {
    assert_eq!(
        decode_segment_header(&GOLDEN[..31]),
        Err(HeaderDefect::Short(31))
    );
    assert_eq!(decode_segment_header(&[0; 32]), Err(HeaderDefect::BadMagic));
    let mut torn = [0u8; 32];
    torn[..8].copy_from_slice(&GOLDEN[..8]);
    assert_eq!(decode_segment_header(&torn), Err(HeaderDefect::ZeroVersion));
    let mut v2 = GOLDEN;
    v2[8] = 2;
    assert_eq!(
        decode_segment_header(&v2),
        Err(HeaderDefect::Unsupported {
            version: 2,
            flags: 0
        })
    );
    let mut flagged = GOLDEN;
    flagged[10] = 1;
    let crc = crc32fast::hash(&flagged[..28]);
    flagged[28..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        decode_segment_header(&flagged),
        Err(HeaderDefect::Unsupported {
            version: 1,
            flags: 1
        })
    );
    let mut reserved = GOLDEN;
    reserved[13] = 1;
    let crc = crc32fast::hash(&reserved[..28]);
    reserved[28..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        decode_segment_header(&reserved),
        Err(HeaderDefect::ReservedNotZero)
    );
    assert_eq!(
        decode_segment_header(&encode_segment_header(0)),
        Err(HeaderDefect::ZeroFirstSeq)
    );
}

#[test]
fn file_names() {
    assert_eq!(segment_file_name(1), "00000000000000000001.wal");
    assert_eq!(segment_file_name(u64::MAX), "18446744073709551615.wal");
    assert_eq!(parse_segment_file_name("00000000000000000001.wal"), Some(1));
    assert_eq!(
        parse_segment_file_name("18446744073709551615.wal"),
        Some(u64::MAX)
    );
    for bad in [
        "1.wal",
        "00000000000000000000.wal",
        "99999999999999999999.wal",
        "0000000000000000000a.wal",
        "00000000000000000001.wal.tmp",
        "+0000000000000000001.wal",
        "",
    ] {
        assert_eq!(parse_segment_file_name(bad), None, "{bad}");
    }
}
