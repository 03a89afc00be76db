//! WAL targets: single frames, whole segments, recovery of a directory.

use super::*;

/// Recompute every frame checksum that a plausible header declares, walking frames from
/// `start`, so mutated inputs get past the crc check and reach the deeper rules.
pub(super) fn fix_frame_crcs(bytes: &mut [u8], start: usize) {
    let mut pos = start;
    while let Some(h) = bytes
        .get(pos..)
        .and_then(|r| r.first_chunk::<FRAME_HEADER_LEN>())
    {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let Some(kind) = FrameKind::from_u8(h[8]) else {
            return;
        };
        let seq = u64::from_le_bytes([h[16], h[17], h[18], h[19], h[20], h[21], h[22], h[23]]);
        let body = pos + FRAME_HEADER_LEN;
        let Some(payload) = bytes.get(body..body.saturating_add(len as usize)) else {
            return;
        };
        let Ok((fixed, _)) = encode_header(kind, seq, &[payload]) else {
            return;
        };
        if let Some(crc) = bytes.get_mut(pos + 4..pos + 8) {
            crc.copy_from_slice(&fixed[4..8]);
        }
        pos = pos.saturating_add(frame_len(len) as usize);
    }
}

pub(super) fn fix_segment_crcs(bytes: &mut [u8]) {
    if let Some(h) = bytes.first_chunk_mut::<SEGMENT_HEADER_LEN>() {
        let (covered, crc) = h.split_at_mut(28);
        crc.copy_from_slice(&crc32(covered).to_le_bytes());
    }
    fix_frame_crcs(bytes, SEGMENT_HEADER_LEN);
}

/// Check one `decode_frame` result against the bytes it came from.
pub(super) fn check_frame(bytes: &[u8], offset: usize) -> Option<tessera_wal::DecodedFrame> {
    let rest = bytes.get(offset..).unwrap_or(&[]);
    match decode_frame(bytes, offset) {
        Ok(Some(f)) => {
            let payload = bytes
                .get(f.payload.clone())
                .expect("payload lies inside the bytes");
            let (header, len) =
                encode_header(f.kind, f.seq, &[payload]).expect("a decoded frame re-encodes");
            assert_eq!(
                rest.get(..FRAME_HEADER_LEN),
                Some(&header[..]),
                "header re-encodes to different bytes"
            );
            assert_eq!(f.next_offset, offset + frame_len(len) as usize);
            assert!(f.next_offset <= bytes.len());
            let pad = bytes
                .get(f.payload.end..f.next_offset)
                .expect("padding in bounds");
            assert!(pad.iter().all(|&b| b == 0), "accepted non-zero padding");
            Some(f)
        }
        Ok(None) => {
            let head = rest.get(..FRAME_HEADER_LEN).unwrap_or(rest);
            assert!(head.iter().all(|&b| b == 0), "end marker on non-zero bytes");
            None
        }
        Err(d) => {
            if let FrameDefect::PartialHeader { available } = d {
                assert!(available < FRAME_HEADER_LEN as u64);
            }
            None
        }
    }
}

/// `decode_frame` on the input, on the input with its checksum fixed, and the encode → decode
/// round trip of `[kind][seq u64][payload...]` read from the input.
pub fn wal_frame(data: &[u8]) {
    let offset = data.first().map_or(0, |b| usize::from(b & 7) * 8);
    check_frame(data, offset);
    let mut fixed = data.to_vec();
    fix_frame_crcs(&mut fixed, offset);
    check_frame(&fixed, offset);
    if let Err(d) = decode_frame(&fixed, offset) {
        assert!(
            !matches!(d, FrameDefect::ChecksumMismatch { .. }),
            "checksum still wrong after fixing it"
        );
    }
    let mut input = Input(data);
    let kind = FrameKind::from_u8(input.byte() % 3 + 1).expect("kinds 1..=3 exist");
    let seq = input.i64() as u64;
    let payload = input.0;
    let (header, len) = encode_header(kind, seq, &[payload]).expect("small payloads encode");
    let mut frame = header.to_vec();
    frame.extend_from_slice(payload);
    frame.resize(frame_len(len) as usize, 0);
    let f = decode_frame(&frame, 0)
        .expect("an encoded frame decodes")
        .expect("an encoded frame is not an end marker");
    assert_eq!((f.kind, f.seq), (kind, seq));
    assert_eq!(frame.get(f.payload), Some(payload));
    assert_eq!(f.next_offset, frame.len());
}

/// Check a segment scan: every frame verifies, seqs are contiguous, offsets chain, and the stop
/// reason and the later-frame report agree with the bytes.
pub(super) fn check_scan(bytes: &[u8]) {
    let r = scan_segment_bytes(bytes);
    let Some(header) = r.header else {
        assert!(
            matches!(r.stop, ScanStop::BadHeader(_)),
            "no header but {:?}",
            r.stop
        );
        assert!(r.frames.is_empty() && r.valid_end == 0);
        return;
    };
    let mut pos = SEGMENT_HEADER_LEN;
    let mut seq = header.first_seq;
    for f in &r.frames {
        assert_eq!(f.offset, pos as u64, "frames do not chain");
        assert_eq!(f.seq, seq, "frame seqs are not contiguous");
        let d = check_frame(bytes, pos).expect("a scanned frame verifies");
        assert_eq!((d.kind, d.payload.len()), (f.kind, f.payload_len as usize));
        pos = d.next_offset;
        seq = seq.wrapping_add(1);
    }
    assert_eq!(r.valid_end, pos as u64);
    match &r.stop {
        ScanStop::EndOfFile => assert_eq!(pos, bytes.len()),
        ScanStop::EndMarker => assert!(matches!(decode_frame(bytes, pos), Ok(None))),
        ScanStop::Invalid(d) => assert_eq!(decode_frame(bytes, pos).err().as_ref(), Some(d)),
        ScanStop::SeqMismatch { found, .. } => {
            let f = check_frame(bytes, pos).expect("the mismatching frame is valid");
            assert_eq!(f.seq, *found);
        }
        ScanStop::BadHeader(_) => panic!("a valid header reported as bad"),
    }
    if let AfterStop::ValidFrame { offset, seq: later } = r.after {
        assert!(offset > r.valid_end && offset % 8 == 0);
        let f = check_frame(bytes, offset as usize).expect("the later frame is valid");
        assert_eq!(f.seq, later);
    }
}

/// [`scan_segment_bytes`] on the input as a whole segment file, raw and with every checksum
/// (segment header and frames) fixed.
pub fn wal_segment(data: &[u8]) {
    check_scan(data);
    let mut fixed = data.to_vec();
    fix_segment_crcs(&mut fixed);
    check_scan(&fixed);
}

/// The input as a WAL directory in [`SimStorage`]: split at each segment magic into segment
/// files (named by their header's `first_seq` when readable), checksums fixed when the first
/// byte is odd. `Wal::open_with_storage` must fail cleanly or recover a valid prefix of the
/// frames the files hold, durable, appendable, and the same after a reopen.
pub fn wal_recovery(data: &[u8]) {
    let mut input = Input(data);
    let fix = input.byte() & 1 == 1;
    let mut starts: Vec<usize> = (1..input.0.len())
        .filter(|&i| input.0.get(i..i + 8) == Some(&SEGMENT_MAGIC[..]))
        .take(15)
        .collect();
    starts.insert(0, 0);
    let sim = SimStorage::new(7);
    let dir = Path::new("/wal");
    let mut originals = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(input.0.len());
        let mut seg = input.0.get(s..end).unwrap_or(&[]).to_vec();
        if fix {
            fix_segment_crcs(&mut seg);
        }
        let first = tessera_wal::decode_segment_header(&seg).map_or(i as u64 + 1, |h| h.first_seq);
        let path = dir.join(segment_file_name(first));
        sim.put_file(&path, &seg)
            .expect("sim storage accepts files");
        originals.push(seg);
    }
    // Every valid frame any file holds, by seq: what recovery may return.
    let mut valid = std::collections::HashMap::new();
    for seg in &originals {
        let r = scan_segment_bytes(seg);
        for f in &r.frames {
            let start = f.offset as usize + FRAME_HEADER_LEN;
            let payload = seg
                .get(start..start + f.payload_len as usize)
                .unwrap_or(&[]);
            valid
                .entry(f.seq)
                .or_insert_with(Vec::new)
                .push((f.kind, payload.to_vec()));
        }
    }
    let opts = WalOptions {
        segment_size_bytes: 4096,
        preallocate: false,
    };
    let storage: Arc<dyn tessera_wal::Storage> = Arc::new(sim.clone());
    let Ok((mut wal, report)) = Wal::open_with_storage(Arc::clone(&storage), dir, opts) else {
        return; // refusing (corruption, unsupported version) is a correct answer
    };
    assert_eq!(wal.last_seq(), report.last_seq);
    assert_eq!(
        wal.durable_seq(),
        wal.last_seq(),
        "recovered frames must be durable"
    );
    let frames = read_all(&wal);
    assert_eq!(frames.len() as u64, report.frames);
    if let [only] = originals.as_slice() {
        let scanned = scan_segment_bytes(only).frames.len();
        assert_eq!(
            frames.len(),
            scanned,
            "recovery dropped valid frames of the only segment"
        );
    }
    for f in &frames {
        let candidates = valid.get(&f.seq).map(Vec::as_slice).unwrap_or(&[]);
        assert!(
            candidates
                .iter()
                .any(|(k, p)| *k == f.kind && *p == f.payload),
            "recovered frame {} is not a valid frame of the input",
            f.seq
        );
    }
    if wal.last_seq() == u64::MAX {
        return;
    }
    let seq = wal
        .append(
            FrameKind::Marker,
            &[b"after recovery"],
            tessera_wal::Durability::Sync,
        )
        .expect("a recovered log accepts appends");
    assert_eq!(seq, report.last_seq + 1);
    drop(wal);
    let (again, report2) =
        Wal::open_with_storage(storage, dir, opts).expect("a recovered log reopens");
    assert!(
        report2.truncated.is_none(),
        "reopen truncated again: {report2:?}"
    );
    let frames2 = read_all(&again);
    assert_eq!(frames2.len(), frames.len() + 1);
    assert_eq!(frames2.get(..frames.len()), Some(&frames[..]));
}

pub(super) fn read_all(wal: &Wal) -> Vec<tessera_wal::Frame> {
    let first = wal.reader(0).next().map(|f| f.map(|f| f.seq));
    let mut out = Vec::new();
    for (i, f) in wal.reader(0).enumerate() {
        let f = f.unwrap_or_else(|e| panic!("recovered log fails to read back: {e}"));
        if let Some(Ok(first)) = first {
            assert_eq!(f.seq, first + i as u64, "recovered seqs not contiguous");
        }
        out.push(f);
    }
    out
}
