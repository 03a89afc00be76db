//! Chunk sealing (zstd level 1 and 3, and uncompressed) on camera-like and sensor-like data,
//! statistics computation, and chunk reading. Run: `cargo bench -p tessera-bench --bench chunk`.

use arrow_array::{BinaryArray, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::Arc;
use tessera_format::{write_chunk, ChunkOptions, ChunkReader, ChunkStats, Compression};

/// Camera-like frames: gradients plus motion plus noise (not zeros, not pure random).
fn camera(frames: usize, w: usize, h: usize) -> RecordBatch {
    let mut seed = 7u64;
    let rows: Vec<Vec<u8>> = (0..frames)
        .map(|f| {
            (0..w * h * 3)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let (x, y) = ((i / 3) % w, (i / 3) / w);
                    ((x + y + f * 4) / 8 + (seed >> 61) as usize) as u8
                })
                .collect()
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("data", DataType::Binary, false),
    ]));
    let ts = Int64Array::from((0..frames as i64).collect::<Vec<_>>());
    let data = BinaryArray::from(rows.iter().map(|r| r.as_slice()).collect::<Vec<_>>());
    RecordBatch::try_new(schema, vec![Arc::new(ts), Arc::new(data)]).unwrap()
}

/// IMU-like rows: timestamp + 9 f64.
fn imu(rows: usize) -> RecordBatch {
    let mut fields = vec![Field::new("timestamp_ns", DataType::Int64, false)];
    let mut cols: Vec<Arc<dyn arrow_array::Array>> = vec![Arc::new(Int64Array::from(
        (0..rows as i64).rev().collect::<Vec<_>>(),
    ))];
    for k in 0..9 {
        fields.push(Field::new(format!("v{k}"), DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(
            (0..rows)
                .map(|i| ((i * (k + 1)) as f64 * 0.001).sin())
                .collect::<Vec<_>>(),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

fn seal(c: &mut Criterion) {
    let mut g = c.benchmark_group("chunk_seal");
    g.sample_size(10);
    for (name, batch) in [
        ("camera_640x480", camera(32, 640, 480)),
        ("imu_64k", imu(65536)),
    ] {
        let bytes = batch.get_array_memory_size() as u64;
        g.throughput(Throughput::Bytes(bytes));
        for (cname, comp) in [
            ("none", Compression::None),
            ("zstd1", Compression::Zstd { level: 1 }),
            ("zstd3", Compression::Zstd { level: 3 }),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let opts = ChunkOptions {
                compression: comp,
                ..ChunkOptions::default()
            };
            let mut n = 0;
            g.bench_with_input(BenchmarkId::new(cname, name), &batch, |b, batch| {
                b.iter(|| {
                    n += 1;
                    write_chunk(
                        &dir.path().join(format!("{n}.chunk")),
                        &batch.schema(),
                        std::slice::from_ref(batch),
                        &opts,
                    )
                    .unwrap()
                })
            });
        }
        g.bench_with_input(BenchmarkId::new("stats_only", name), &batch, |b, batch| {
            b.iter(|| ChunkStats::compute(&batch.schema(), std::slice::from_ref(batch)).unwrap())
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.chunk");
        write_chunk(
            &path,
            &batch.schema(),
            std::slice::from_ref(&batch),
            &ChunkOptions::default(),
        )
        .unwrap();
        g.bench_function(BenchmarkId::new("read_zstd1", name), |b| {
            b.iter(|| {
                let r = ChunkReader::open(&path).unwrap();
                r.window(None, None)
                    .map(|b| b.unwrap().num_rows())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
