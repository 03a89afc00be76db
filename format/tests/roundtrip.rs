//! Writing chunks and reading them back: bit-exact schemas and data, sorting, batching.

mod common;

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Int64Array, LargeStringArray, RecordBatch, StringViewArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::*;
use tessera_format::{
    write_chunk, ChunkOptions, ChunkReader, ChunkStats, Compression, FormatError,
};

fn options(compression: Compression, max_batch_bytes: usize) -> ChunkOptions {
    ChunkOptions {
        compression,
        max_batch_bytes,
    }
}

/// Writes `batches`, reads them back and checks everything a reader can observe.
fn round_trip(schema: &SchemaRef, batches: &[RecordBatch], opts: &ChunkOptions) -> ChunkReader {
    let dir = tempfile::tempdir().unwrap();
    let path = chunk_path(&dir, "c.arrow");
    let meta = write_chunk(&path, schema, batches, opts).unwrap();
    assert_eq!(meta.file_len, file_len(&path));
    assert_eq!(meta.stats, ChunkStats::compute(schema, batches).unwrap());

    let reader = ChunkReader::open(&path).unwrap();
    assert_eq!(reader.schema(), *schema, "schema must be kept exactly");
    assert_eq!(reader.stats(), &meta.stats);
    reader.verify().unwrap();

    let out = read_all(&reader).unwrap();
    for (i, b) in out.iter().enumerate() {
        assert!(b.num_rows() > 0, "batch {i} is empty");
        assert_eq!(b.schema(), *schema);
        let (first, last) = reader.batch_time_range(i).unwrap();
        let ts = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!((ts.value(0), ts.value(ts.len() - 1)), (first, last));
    }
    assert_eq!(concat(schema, &out), expected_sorted(schema, batches));
    // The reader keeps its file handle open, so it stays readable after `dir` is removed.
    reader
}

#[test]
fn ontologies_round_trip_bit_exact() {
    let mut rng = Rng::new(7);
    for schema in [
        imu_schema(),
        gps_schema(),
        image_schema(),
        compressed_image_schema(),
        detections_schema(),
    ] {
        let batches: Vec<_> = (0..3)
            .map(|_| random_batch(&schema, 40, 50, &mut rng))
            .collect();
        for compression in [
            Compression::None,
            Compression::Zstd { level: 1 },
            Compression::Zstd { level: 9 },
        ] {
            let one = round_trip(&schema, &batches, &options(compression, 8 << 20));
            assert_eq!(one.num_batches(), 1);
            let many = round_trip(&schema, &batches, &options(compression, 2048));
            assert!(many.num_batches() > 3, "{}", many.num_batches());
        }
    }
}

#[test]
fn view_and_large_types_round_trip() {
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("v", DataType::Utf8View, true),
        Field::new("l", DataType::LargeUtf8, false),
        Field::new("u", DataType::UInt64, false),
    ]));
    let long = "a fairly long string that does not fit in a view".to_string();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![3, 1, 2])) as ArrayRef,
            Arc::new(StringViewArray::from(vec![
                Some("short"),
                None,
                Some(long.as_str()),
            ])),
            Arc::new(LargeStringArray::from(vec!["x", "y", "z"])),
            Arc::new(UInt64Array::from(vec![u64::MAX, 0, 1])),
        ],
    )
    .unwrap();
    let r = round_trip(&schema, &[batch], &ChunkOptions::default());
    let u = r.stats().column("u").unwrap();
    assert_eq!(u.max, Some(tessera_format::StatValue::UInt(u64::MAX)));
}

#[test]
fn unsorted_input_is_served_sorted_and_stable() {
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
    ]));
    let mut rng = Rng::new(3);
    let mut seq = 0i64;
    let batches: Vec<_> = (0..5)
        .map(|_| {
            let ts: Vec<i64> = (0..50).map(|_| rng.below(6) as i64 - 3).collect();
            let s: Vec<i64> = (0..50)
                .map(|_| {
                    seq += 1;
                    seq
                })
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ts)),
                    Arc::new(Int64Array::from(s)),
                ],
            )
            .unwrap()
        })
        .collect();
    let reader = round_trip(&schema, &batches, &options(Compression::None, 160));
    assert!(reader.num_batches() > 1);
    let all = concat(&schema, &read_all(&reader).unwrap());
    let ts = all.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let seq = all.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
    for i in 1..all.num_rows() {
        assert!(ts.value(i - 1) <= ts.value(i));
        if ts.value(i - 1) == ts.value(i) {
            assert!(seq.value(i - 1) < seq.value(i), "tie order lost at row {i}");
        }
    }
}

#[test]
fn batches_respect_the_byte_limit() {
    let schema = image_schema();
    let mut rng = Rng::new(11);
    let batches = vec![random_batch(&schema, 60, 1000, &mut rng)];
    let reader = round_trip(&schema, &batches, &options(Compression::None, 16 * 1024));
    for b in read_all(&reader).unwrap() {
        let data = b.column_by_name("data").unwrap();
        // Each batch holds one row or stays within the limit (estimated from value bytes).
        assert!(b.num_rows() == 1 || data.to_data().buffers()[1].len() <= 16 * 1024);
    }
}

#[test]
fn write_errors_leave_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let schema = gps_schema();
    let mut rng = Rng::new(5);
    let batch = random_batch(&schema, 4, 10, &mut rng);
    let opts = ChunkOptions::default();

    let path = chunk_path(&dir, "empty.arrow");
    assert!(matches!(
        write_chunk(&path, &schema, &[], &opts),
        Err(FormatError::EmptyChunk)
    ));
    assert!(!path.exists());

    let bad_level = options(Compression::Zstd { level: 1000 }, 1024);
    assert!(matches!(
        write_chunk(&path, &schema, std::slice::from_ref(&batch), &bad_level),
        Err(FormatError::InvalidOptions(_))
    ));
    assert!(!path.exists());

    let other = imu_schema();
    assert!(matches!(
        write_chunk(&path, &other, std::slice::from_ref(&batch), &opts),
        Err(FormatError::SchemaMismatch(_))
    ));

    let no_ts: SchemaRef = Arc::new(Schema::new(vec![Field::new("t", DataType::Int64, false)]));
    let b = RecordBatch::try_new(no_ts.clone(), vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    assert!(matches!(
        write_chunk(&path, &no_ts, &[b], &opts),
        Err(FormatError::NoTimestamp(_))
    ));

    let nullable_ts: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "timestamp_ns",
        DataType::Int64,
        true,
    )]));
    let b = RecordBatch::try_new(
        nullable_ts.clone(),
        vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
    )
    .unwrap();
    assert!(matches!(
        write_chunk(&path, &nullable_ts, &[b], &opts),
        Err(FormatError::NoTimestamp(_))
    ));
    assert!(!path.exists());

    let dict_schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new(
            "d",
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
            false,
        ),
    ]));
    assert!(matches!(
        write_chunk(&path, &dict_schema, &[], &opts),
        Err(FormatError::UnsupportedType(_))
    ));

    // An existing file is never overwritten.
    std::fs::write(&path, b"keep me").unwrap();
    assert!(matches!(
        write_chunk(&path, &schema, &[batch], &opts),
        Err(FormatError::Io { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
}

#[test]
fn sliced_inputs_are_written_correctly() {
    let schema = imu_schema();
    let mut rng = Rng::new(21);
    let big = random_batch(&schema, 100, 1000, &mut rng);
    let batches = vec![big.slice(10, 30), big.slice(70, 25)];
    round_trip(
        &schema,
        &batches,
        &options(Compression::Zstd { level: 1 }, 4096),
    );
    // Already sorted single input: exercised through the zero-copy slice path.
    let sorted = expected_sorted(&schema, &[big]);
    round_trip(
        &schema,
        &[sorted.slice(5, 90)],
        &options(Compression::None, 4096),
    );
    assert!(sorted.column(0).null_count() == 0);
}

#[test]
fn zstd_compresses_and_none_stores_raw() {
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("frame_id", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(0..5000)) as ArrayRef,
            Arc::new(arrow_array::StringArray::from(vec!["base_link/imu"; 5000])),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, compression| {
        let path = chunk_path(&dir, name);
        write_chunk(
            &path,
            &schema,
            std::slice::from_ref(&batch),
            &options(compression, 8 << 20),
        )
        .unwrap()
        .file_len
    };
    let raw = write("raw.arrow", Compression::None);
    let fastest = write("z-5.arrow", Compression::Zstd { level: -5 });
    let fast = write("z1.arrow", Compression::Zstd { level: 1 });
    let strong = write("z19.arrow", Compression::Zstd { level: 19 });
    assert!(raw > 5000 * (8 + 4 + 13), "{raw}");
    for z in [fastest, fast, strong] {
        assert!(z * 4 < raw, "zstd {z} vs raw {raw}");
    }
    // The level reaches the codec (sizes differ; they need not be monotonic on tiny buffers).
    assert!(
        fastest != fast && fast != strong,
        "{fastest} {fast} {strong}"
    );
    for name in ["raw.arrow", "z-5.arrow", "z1.arrow", "z19.arrow"] {
        let r = ChunkReader::open(&chunk_path(&dir, name)).unwrap();
        assert_eq!(concat(&schema, &read_all(&r).unwrap()), batch);
    }
}
