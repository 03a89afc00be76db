//! Shared fixtures: schemas shaped like the Mosaico SDK ontologies and deterministic data.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, FixedSizeListArray, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, Int8Array, LargeStringArray, ListArray, RecordBatch,
    StringArray, StructArray, UInt32Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use tessera_format::{ChunkReader, FormatError};

/// A tiny deterministic PRNG (xorshift64*), so fixtures need no extra crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
    }
}

fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn f(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

fn list_of(child_name: &str, dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new(child_name, dt, true)))
}

fn ts_field() -> Field {
    f("timestamp_ns", DataType::Int64, false)
        .with_metadata(meta(&[("unit", "ns"), ("mosaico.role", "time")]))
}

fn vector3(with_w: bool, list_child: &str) -> Fields {
    let mut v = vec![
        f("covariance", list_of(list_child, DataType::Float64), true),
        f("covariance_type", DataType::Int16, true),
        f("x", DataType::Float64, false),
        f("y", DataType::Float64, false),
        f("z", DataType::Float64, false),
    ];
    if with_w {
        v.push(f("w", DataType::Float64, false));
    }
    Fields::from(v)
}

fn header_fields() -> Fields {
    let stamp = Fields::from(vec![
        f("sec", DataType::Int64, false),
        f("nanosec", DataType::Int64, false),
    ]);
    Fields::from(vec![
        f("stamp", DataType::Struct(stamp), true),
        f("frame_id", DataType::Utf8, true),
    ])
}

/// IMU: header (nullable), acceleration/angular_velocity (not null), orientation (nullable).
pub fn imu_schema() -> SchemaRef {
    Arc::new(
        Schema::new(vec![
            ts_field(),
            f("header", DataType::Struct(header_fields()), true),
            f(
                "acceleration",
                DataType::Struct(vector3(false, "item")),
                false,
            ),
            f(
                "angular_velocity",
                DataType::Struct(vector3(false, "item")),
                false,
            ),
            f("orientation", DataType::Struct(vector3(true, "item")), true),
        ])
        .with_metadata(meta(&[("mosaico.ontology", "imu"), ("version", "1")])),
    )
}

/// GPS: position with latitude/longitude/altitude, status struct, `element`-named list child.
pub fn gps_schema() -> SchemaRef {
    let position = Fields::from(vec![
        f("latitude", DataType::Float64, true),
        f("longitude", DataType::Float64, true),
        f("altitude", DataType::Float64, true),
        f("covariance", list_of("element", DataType::Float64), true),
    ]);
    let status = Fields::from(vec![
        f("service", DataType::Int16, false),
        f("status", DataType::Int8, true),
    ]);
    Arc::new(
        Schema::new(vec![
            ts_field(),
            f("header", DataType::Struct(header_fields()), true),
            f("position", DataType::Struct(position), true),
            f("status", DataType::Struct(status), false),
        ])
        .with_metadata(meta(&[("mosaico.ontology", "gps")])),
    )
}

/// Image: raw binary data, width/height int32, encoding string.
pub fn image_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        ts_field(),
        f("header", DataType::Struct(header_fields()), true),
        f("data", DataType::Binary, false).with_metadata(meta(&[("mosaico.encoding", "raw")])),
        f("width", DataType::Int32, false),
        f("height", DataType::Int32, false),
        f("step", DataType::UInt32, false),
        f("is_bigendian", DataType::Boolean, true),
        f("encoding", DataType::Utf8, false),
    ]))
}

/// Object detections: a list of structs (with a nested struct and a non-nullable string) and a
/// fixed-size covariance list.
pub fn detections_schema() -> SchemaRef {
    let bbox = Fields::from(vec![
        f("x", DataType::Float32, false),
        f("y", DataType::Float32, false),
        f("w", DataType::Float32, false),
        f("h", DataType::Float32, false),
    ]);
    let detection = Fields::from(vec![
        f("label", DataType::Utf8, false),
        f("score", DataType::Float32, true),
        f("bbox", DataType::Struct(bbox), true),
    ]);
    let item = Arc::new(Field::new("item", DataType::Struct(detection), true));
    let cov = Arc::new(Field::new("item", DataType::Float64, false));
    Arc::new(Schema::new(vec![
        ts_field(),
        f("header", DataType::Struct(header_fields()), true),
        f("detections", DataType::List(item), false),
        f("covariance", DataType::FixedSizeList(cov, 9), true),
    ]))
}

/// CompressedImage: binary data plus a large-string format.
pub fn compressed_image_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        ts_field(),
        f("header", DataType::Struct(header_fields()), true),
        f("data", DataType::Binary, true),
        f("format", DataType::LargeUtf8, false),
    ]))
}

fn build(field: &Field, rows: usize, rng: &mut Rng) -> ArrayRef {
    let nulls = |rng: &mut Rng| -> Option<NullBuffer> {
        field
            .is_nullable()
            .then(|| NullBuffer::from((0..rows).map(|_| !rng.chance(20)).collect::<Vec<_>>()))
    };
    match field.data_type() {
        DataType::Struct(children) => {
            let arrays = children.iter().map(|c| build(c, rows, rng)).collect();
            Arc::new(StructArray::new(children.clone(), arrays, nulls(rng)))
        }
        DataType::List(child) => {
            let lens: Vec<usize> = (0..rows).map(|_| rng.below(4) as usize).collect();
            let total = lens.iter().sum();
            let values = build(child, total, rng);
            Arc::new(ListArray::new(
                child.clone(),
                OffsetBuffer::from_lengths(lens),
                values,
                nulls(rng),
            ))
        }
        DataType::FixedSizeList(child, size) => {
            let values = build(child, rows * *size as usize, rng);
            Arc::new(FixedSizeListArray::new(
                child.clone(),
                *size,
                values,
                nulls(rng),
            ))
        }
        DataType::Float32 => Arc::new(Float32Array::new(
            (0..rows).map(|_| rng.f64() as f32).collect(),
            nulls(rng),
        )),
        DataType::Int8 => Arc::new(Int8Array::new(
            (0..rows).map(|_| rng.next() as i8).collect(),
            nulls(rng),
        )),
        DataType::Int16 => Arc::new(Int16Array::new(
            (0..rows).map(|_| rng.next() as i16).collect(),
            nulls(rng),
        )),
        DataType::Int32 => Arc::new(Int32Array::new(
            (0..rows).map(|_| rng.below(4096) as i32).collect(),
            nulls(rng),
        )),
        DataType::Int64 => Arc::new(Int64Array::new(
            (0..rows).map(|_| rng.next() as i64).collect(),
            nulls(rng),
        )),
        DataType::UInt32 => Arc::new(UInt32Array::new(
            (0..rows).map(|_| rng.next() as u32).collect(),
            nulls(rng),
        )),
        DataType::Float64 => Arc::new(Float64Array::new(
            (0..rows).map(|_| rng.f64()).collect(),
            nulls(rng),
        )),
        DataType::Boolean => Arc::new(BooleanArray::new(
            (0..rows).map(|_| rng.chance(50)).collect(),
            nulls(rng),
        )),
        DataType::Utf8 => {
            let v: Vec<Option<String>> = (0..rows)
                .map(|_| (!field.is_nullable() || !rng.chance(20)).then(|| text(rng)))
                .collect();
            Arc::new(StringArray::from(v))
        }
        DataType::LargeUtf8 => {
            let v: Vec<String> = (0..rows).map(|_| text(rng)).collect();
            Arc::new(LargeStringArray::from(v))
        }
        DataType::Binary => {
            let v: Vec<Option<Vec<u8>>> = (0..rows)
                .map(|_| {
                    let len = rng.below(3000) as usize;
                    (!field.is_nullable() || !rng.chance(20))
                        .then(|| (0..len).map(|_| rng.next() as u8).collect())
                })
                .collect();
            Arc::new(BinaryArray::from_iter(v))
        }
        other => panic!("fixture does not build {other}"),
    }
}

/// Short text with multi-byte characters; sometimes longer than 64 bytes.
pub fn text(rng: &mut Rng) -> String {
    const PARTS: [&str; 6] = ["cam", "é", "日本", "😀", "imu_link", "z"];
    let n = if rng.chance(10) {
        30
    } else {
        rng.below(5) as usize
    };
    (0..n).map(|_| PARTS[rng.below(6) as usize]).collect()
}

/// A batch of `rows` random rows for `schema`, with timestamps drawn from `0..ts_range`
/// (so duplicates and disorder are common).
pub fn random_batch(schema: &SchemaRef, rows: usize, ts_range: u64, rng: &mut Rng) -> RecordBatch {
    let columns = schema
        .fields()
        .iter()
        .map(|field: &FieldRef| {
            if field.name() == "timestamp_ns" {
                Arc::new(Int64Array::from_iter_values(
                    (0..rows).map(|_| rng.below(ts_range) as i64),
                )) as ArrayRef
            } else {
                build(field, rows, rng)
            }
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns).unwrap()
}

/// Reads every batch of a chunk.
pub fn read_all(reader: &ChunkReader) -> Result<Vec<RecordBatch>, FormatError> {
    (0..reader.num_batches())
        .map(|i| reader.read_batch(i))
        .collect()
}

/// Input rows stably sorted by timestamp, computed independently of the crate (concat + take).
pub fn expected_sorted(schema: &SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
    let all = arrow_select::concat::concat_batches(schema, batches).unwrap();
    let ts = all.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let mut idx: Vec<u32> = (0..all.num_rows() as u32).collect();
    idx.sort_by_key(|&i| ts.value(i as usize));
    let idx = arrow_array::UInt32Array::from(idx);
    arrow_select::take::take_record_batch(&all, &idx).unwrap()
}

/// Concatenation of `batches` (which may be empty) as one batch of `schema`.
pub fn concat(schema: &SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(schema, batches).unwrap()
}

/// A fresh temp dir and a chunk path inside it.
pub fn chunk_path(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    dir.path().join(name)
}

/// File length helper.
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// `(offset, len)` of each record batch block, parsed independently with arrow-ipc.
pub fn block_regions(bytes: &[u8]) -> Vec<(usize, usize)> {
    let n = bytes.len();
    let footer_len = i32::from_le_bytes(bytes[n - 10..n - 6].try_into().unwrap()) as usize;
    let footer = arrow_ipc::root_as_footer(&bytes[n - 10 - footer_len..n - 10]).unwrap();
    footer
        .recordBatches()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b.offset() as usize,
                b.metaDataLength() as usize + b.bodyLength() as usize,
            )
        })
        .collect()
}

/// The footer's custom metadata, parsed independently with arrow-ipc's `FileReader`.
pub fn custom_metadata(path: &Path) -> HashMap<String, String> {
    let file = std::fs::File::open(path).unwrap();
    let reader = arrow_ipc::reader::FileReader::try_new(file, None).unwrap();
    reader.custom_metadata().clone()
}
