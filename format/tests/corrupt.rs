//! Damaged, truncated and foreign files are rejected with a `FormatError`, never a panic, and
//! never served as different data.

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use common::*;
use tessera_format::{
    write_chunk, ChunkOptions, ChunkReader, ChunkStats, Compression, FormatError, KEY_VERSION,
};

/// What a successful read of a chunk shows.
#[derive(Debug, PartialEq)]
struct Observed {
    schema: SchemaRef,
    stats: ChunkStats,
    batches: Vec<RecordBatch>,
}

/// A compact schema with a geo struct, a string and a list, so every byte can be flipped fast.
fn compact_schema() -> SchemaRef {
    let pos = Fields::from(vec![
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
    ]);
    let list = DataType::List(Arc::new(Field::new("item", DataType::Int16, true)));
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("pos", DataType::Struct(pos), true),
        Field::new("tag", DataType::Utf8, true),
        Field::new("samples", list, true),
    ]))
}

/// A small multi-block chunk of `compact_schema`.
fn small_chunk(dir: &tempfile::TempDir, compression: Compression) -> Vec<u8> {
    let schema = compact_schema();
    let mut rng = Rng::new(99);
    let batch = random_batch(&schema, 6, 100, &mut rng);
    let path = chunk_path(dir, "orig.arrow");
    let opts = ChunkOptions {
        compression,
        max_batch_bytes: 100,
    };
    write_chunk(&path, &schema, &[batch], &opts).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// Opens and verifies; only a file that passes is read again for comparison.
fn observe(path: &Path) -> Result<Observed, FormatError> {
    let reader = ChunkReader::open(path)?;
    reader.verify()?;
    Ok(Observed {
        schema: reader.schema(),
        stats: reader.stats().clone(),
        batches: read_all(&reader)?,
    })
}

#[test]
fn every_byte_flip_is_detected_or_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "flipped.arrow");
    // Raw: every byte. Zstd: every byte outside blocks, every 3rd inside (CRC-covered anyway).
    for (compression, block_stride) in [(Compression::None, 1), (Compression::Zstd { level: 1 }, 3)]
    {
        let bytes = small_chunk(&dir, compression);
        std::fs::write(&path, &bytes).unwrap();
        let baseline = observe(&path).unwrap();
        let blocks = block_regions(&bytes);
        assert!(blocks.len() >= 3, "{} blocks", blocks.len());
        let in_block = |p: usize| blocks.iter().any(|&(o, l)| (o..o + l).contains(&p));

        let (mut tried, mut detected) = (0, 0);
        for p in 0..bytes.len() {
            if in_block(p) && p % block_stride != 0 {
                continue;
            }
            tried += 1;
            let mut damaged = bytes.clone();
            damaged[p] ^= 0xff;
            std::fs::write(&path, &damaged).unwrap();
            match observe(&path) {
                Err(FormatError::Io { .. }) => panic!("byte {p}: I/O error on a readable file"),
                Err(e) => {
                    detected += 1;
                    if in_block(p) {
                        let msg = e.to_string();
                        assert!(msg.contains("block"), "byte {p}: {msg}");
                        assert!(msg.contains("flipped.arrow"), "byte {p}: {msg}");
                    }
                }
                Ok(seen) => {
                    assert!(!in_block(p), "byte {p} inside a block went unnoticed");
                    assert_eq!(seen, baseline, "byte {p} changed what readers see");
                }
            }
        }
        // Only padding, the end-of-stream marker and flatbuffer slack may be harmless.
        assert!(detected * 10 > tried * 9, "{detected} of {tried}");
    }
}

#[test]
fn block_damage_is_reported_by_read_batch_for_that_block_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "c.arrow");
    let bytes = small_chunk(&dir, Compression::Zstd { level: 3 });
    let blocks = block_regions(&bytes);
    for (i, &(offset, len)) in blocks.iter().enumerate() {
        for p in [offset, offset + 5, offset + len / 2, offset + len - 1] {
            let mut damaged = bytes.clone();
            damaged[p] ^= 0x01;
            std::fs::write(&path, &damaged).unwrap();
            let reader = ChunkReader::open(&path).unwrap();
            for j in 0..reader.num_batches() {
                match reader.read_batch(j) {
                    Err(FormatError::Corrupt { reason, .. }) if j == i => {
                        assert!(reason.starts_with(&format!("block {i}:")), "{reason}")
                    }
                    Ok(_) if j != i => {}
                    other => panic!("flip at {p} (block {i}), read {j}: {other:?}"),
                }
            }
            assert!(reader.verify().is_err());
        }
    }
}

#[test]
fn truncated_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "t.arrow");
    let bytes = small_chunk(&dir, Compression::None);
    for n in 0..bytes.len() {
        std::fs::write(&path, &bytes[..n]).unwrap();
        assert!(observe(&path).is_err(), "truncated to {n} accepted");
    }
    // A file shrunk after open: block reads fail cleanly.
    std::fs::write(&path, &bytes).unwrap();
    let reader = ChunkReader::open(&path).unwrap();
    std::fs::write(&path, &bytes[..200]).unwrap();
    let last = reader.num_batches() - 1;
    assert!(matches!(
        reader.read_batch(last),
        Err(FormatError::Corrupt { .. })
    ));
}

fn ipc_file(path: &Path, metadata: &[(&str, &str)]) {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef],
    )
    .unwrap();
    let mut w = FileWriter::try_new(std::fs::File::create(path).unwrap(), &schema).unwrap();
    w.write(&batch).unwrap();
    for (k, v) in metadata {
        w.write_metadata(*k, *v);
    }
    w.finish().unwrap();
}

#[test]
fn foreign_and_future_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = chunk_path(&dir, "f.arrow");

    ipc_file(&p, &[]);
    assert!(matches!(
        ChunkReader::open(&p),
        Err(FormatError::Foreign { .. })
    ));
    ipc_file(&p, &[("other", "x")]);
    assert!(matches!(
        ChunkReader::open(&p),
        Err(FormatError::Foreign { .. })
    ));
    ipc_file(&p, &[(KEY_VERSION, "2")]);
    match ChunkReader::open(&p) {
        Err(FormatError::UnsupportedVersion { version, .. }) => assert_eq!(version, "2"),
        other => panic!("{other:?}"),
    }
    ipc_file(&p, &[(KEY_VERSION, "1")]);
    assert!(matches!(
        ChunkReader::open(&p),
        Err(FormatError::Corrupt { .. })
    ));

    // An IPC stream is not a file.
    let schema = Schema::new(vec![Field::new("timestamp_ns", DataType::Int64, false)]);
    let mut s = StreamWriter::try_new(std::fs::File::create(&p).unwrap(), &schema).unwrap();
    s.finish().unwrap();
    assert!(matches!(
        ChunkReader::open(&p),
        Err(FormatError::Foreign { .. })
    ));

    std::fs::write(&p, b"").unwrap();
    assert!(matches!(
        ChunkReader::open(&p),
        Err(FormatError::Foreign { .. })
    ));

    let missing = chunk_path(&dir, "missing.arrow");
    assert!(matches!(
        ChunkReader::open(&missing),
        Err(FormatError::Io { .. })
    ));
}

#[test]
fn random_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = chunk_path(&dir, "r.arrow");
    let mut rng = Rng::new(1234);
    for len in [1usize, 9, 73, 74, 75, 200, 4096] {
        for framed in [false, true] {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if framed && len >= 16 {
                // ARROW1 at both ends and a plausible footer length: reaches the parsers.
                bytes[..6].copy_from_slice(b"ARROW1");
                let n = bytes.len();
                bytes[n - 6..].copy_from_slice(b"ARROW1");
                let footer = (n.saturating_sub(80) as i32).max(1);
                bytes[n - 10..n - 6].copy_from_slice(&footer.to_le_bytes());
            }
            std::fs::write(&p, &bytes).unwrap();
            let result = ChunkReader::open(&p);
            assert!(
                matches!(
                    result,
                    Err(FormatError::Foreign { .. } | FormatError::Corrupt { .. })
                ),
                "{len} {framed}: {result:?}"
            );
        }
    }
}

/// Replaces block 0's CRC in the footer's block table (same length, in place) with the CRC of
/// its current bytes, so damage inside the block gets past the checksum.
fn refresh_block0_crc(bytes: &mut [u8], original_crc: u32) {
    let (offset, len) = block_regions(bytes)[0];
    let fresh = crc32fast::hash(&bytes[offset..offset + len]);
    let old = format!("{original_crc:08x}:");
    let pos = bytes
        .windows(old.len())
        .rposition(|w| w == old.as_bytes())
        .expect("crc in footer");
    bytes[pos..pos + 8].copy_from_slice(format!("{fresh:08x}").as_bytes());
}

fn one_block_chunk(dir: &tempfile::TempDir, compression: Compression) -> Vec<u8> {
    let schema = compact_schema();
    let mut rng = Rng::new(5);
    let batch = random_batch(&schema, 6, 100, &mut rng);
    let path = chunk_path(dir, "one.arrow");
    let opts = ChunkOptions {
        compression,
        ..Default::default()
    };
    write_chunk(&path, &schema, &[batch], &opts).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

#[test]
fn damage_behind_a_valid_crc_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "d.arrow");
    for compression in [Compression::None, Compression::Zstd { level: 1 }] {
        let bytes = one_block_chunk(&dir, compression);
        let (offset, len) = block_regions(&bytes)[0];
        let crc = crc32fast::hash(&bytes[offset..offset + len]);
        let mut errors = 0;
        for p in offset..offset + len {
            let mut damaged = bytes.clone();
            damaged[p] ^= 0xff;
            refresh_block0_crc(&mut damaged, crc);
            std::fs::write(&path, &damaged).unwrap();
            let reader = ChunkReader::open(&path).unwrap();
            // Either a clean error or a batch (a flipped value byte is undetectable here).
            if reader.read_batch(0).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 0);
    }
}

#[test]
fn absurd_declared_length_behind_a_valid_crc_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "huge.arrow");
    let mut bytes = one_block_chunk(&dir, Compression::Zstd { level: 1 });
    let (offset, len) = block_regions(&bytes)[0];
    let crc = crc32fast::hash(&bytes[offset..offset + len]);
    // Locate the body and its first buffer that declares an uncompressed length.
    let fb_len = i32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap()) as usize;
    let msg = arrow_ipc::root_as_message(&bytes[offset + 8..offset + 8 + fb_len]).unwrap();
    let meta_len = len - msg.bodyLength() as usize;
    let body = offset + meta_len;
    let first = msg
        .header_as_record_batch()
        .unwrap()
        .buffers()
        .unwrap()
        .iter()
        .map(|b| body + b.offset() as usize)
        .find(|&o| i64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) > 0)
        .unwrap();
    bytes[first..first + 8].copy_from_slice(&(1i64 << 50).to_le_bytes());
    refresh_block0_crc(&mut bytes, crc);
    std::fs::write(&path, &bytes).unwrap();
    let reader = ChunkReader::open(&path).unwrap();
    match reader.read_batch(0) {
        Err(FormatError::Corrupt { reason, .. }) => assert!(reason.contains("declare"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
