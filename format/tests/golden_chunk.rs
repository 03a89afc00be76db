//! Golden test of a tiny chunk's footer metadata and block CRC layout, parsed independently
//! with arrow-ipc (not the whole file, whose IPC bytes arrow may legitimately change).

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::*;
use tessera_format::{
    write_chunk, ChunkOptions, ChunkStats, ColumnStats, Compression, StatValue, KEY_BLOCKS,
    KEY_STATS, KEY_VERSION,
};

/// The stats of the tiny chunk, written out by hand.
fn expected_stats() -> ChunkStats {
    let col = |path: &str, nulls, min, max| ColumnStats {
        path: path.into(),
        null_count: nulls,
        min: Some(StatValue::Int(min)),
        max: Some(StatValue::Int(max)),
        has_nan: false,
    };
    ChunkStats {
        row_count: 3,
        ts_min: 1,
        ts_max: 3,
        columns: vec![col("timestamp_ns", 0, 1, 3), col("v", 1, 20, 30)],
        geo: vec![],
    }
}

/// `expected_stats().encode()` as hex: magic `TSTS`, version 1, 3 rows, ts 1..=3, columns
/// `timestamp_ns` (0 nulls, Int 1..3) and `v` (1 null, Int 20..30), no geo, CRC `b3363542`.
#[rustfmt::skip]
const STATS_HEX: &str = concat!(
    "54535453", "0100", "0000",
    "0300000000000000", "0100000000000000", "0300000000000000",
    "02000000",
    "0c000000", "74696d657374616d705f6e73", "0000000000000000", "06",
    "01", "0100000000000000", "01", "0300000000000000",
    "01000000", "76", "0100000000000000", "06",
    "01", "1400000000000000", "01", "1e00000000000000",
    "00000000",
    "b3363542",
);

#[test]
fn tiny_chunk_footer_metadata() {
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("v", DataType::Int32, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![3, 1, 2])) as ArrayRef,
            Arc::new(Int32Array::from(vec![Some(30), None, Some(20)])),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "tiny.arrow");
    let opts = ChunkOptions {
        compression: Compression::None,
        ..Default::default()
    };
    let meta = write_chunk(&path, &schema, &[batch], &opts).unwrap();
    assert_eq!(meta.stats, expected_stats());

    let md = custom_metadata(&path);
    let mut keys: Vec<&str> = md.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, [KEY_BLOCKS, KEY_STATS, KEY_VERSION]);
    assert_eq!(KEY_VERSION, "tessera.chunk.version");
    assert_eq!(KEY_STATS, "tessera.chunk.stats");
    assert_eq!(KEY_BLOCKS, "tessera.chunk.blocks");
    assert_eq!(md[KEY_VERSION], "1");
    assert_eq!(md[KEY_STATS], STATS_HEX);
    let decoded: Vec<u8> = (0..STATS_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&STATS_HEX[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(ChunkStats::decode(&decoded).unwrap(), expected_stats());

    // One block: `crc:rows:first_ts:last_ts`, the CRC over exactly the footer's block region.
    let bytes = std::fs::read(&path).unwrap();
    let regions = block_regions(&bytes);
    assert_eq!(regions.len(), 1);
    let (offset, len) = regions[0];
    let crc = crc32fast::hash(&bytes[offset..offset + len]);
    assert_eq!(md[KEY_BLOCKS], format!("{crc:08x}:3:1:3"));
    let (hex, rest) = md[KEY_BLOCKS].split_at(8);
    assert!(hex
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_eq!(rest, ":3:1:3");
}
