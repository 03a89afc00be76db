//! The server's per-message ingest costs, on the messages `tessera-bench` sends: IPC
//! validation + decode (`ipc::decode_batch`, what `TopicWriter::write` does before the WAL
//! append), the time-range scan, statistics, and sealing one 4K batch (zstd 1 and 3, none).
//! Run: `cargo bench -p tessera-bench --bench ingest`.

use arrow_schema::SchemaRef;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::Arc;
use tessera_bench::workload::{imu_schema, video_schema, Generator};
use tessera_format::{write_chunk, ChunkOptions, ChunkStats, Compression};

fn messages() -> Vec<(&'static str, SchemaRef, Generator)> {
    vec![
        (
            "video_4k_x2",
            video_schema(),
            Generator::video(3840, 2160, 2, 1).unwrap(),
        ),
        ("imu_64k", imu_schema(), Generator::imu(65536, 1).unwrap()),
    ]
}

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    for (name, schema, mut gen) in messages() {
        let (msg, _) = gen.next_message().unwrap();
        let (header, body) = (msg.data_header.clone(), msg.data_body.clone());
        g.throughput(Throughput::Bytes((header.len() + body.len()) as u64));
        g.bench_function(BenchmarkId::new("generate_encode", name), |b| {
            b.iter(|| gen.next_message().unwrap())
        });
        g.bench_function(BenchmarkId::new("decode_validate", name), |b| {
            b.iter(|| tessera::ipc::decode_batch(&header, body.clone(), &schema).unwrap())
        });
        let batch = tessera::ipc::decode_batch(&header, body.clone(), &schema).unwrap();
        g.bench_function(BenchmarkId::new("time_range", name), |b| {
            b.iter(|| tessera::ipc::time_range(&batch, 0).unwrap())
        });
        g.bench_function(BenchmarkId::new("stats", name), |b| {
            b.iter(|| ChunkStats::compute(&schema, std::slice::from_ref(&batch)).unwrap())
        });
        let batch = Arc::new(batch);
        for (cname, comp) in [
            ("seal_none", Compression::None),
            ("seal_zstd1", Compression::Zstd { level: 1 }),
            ("seal_zstd3", Compression::Zstd { level: 3 }),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let opts = ChunkOptions {
                compression: comp,
                ..ChunkOptions::default()
            };
            let mut n = 0;
            g.bench_function(BenchmarkId::new(cname, name), |b| {
                b.iter(|| {
                    n += 1;
                    let path = dir.path().join(format!("{n}.chunk"));
                    let meta =
                        write_chunk(&path, &schema, std::slice::from_ref(&batch), &opts).unwrap();
                    std::fs::remove_file(&path).unwrap();
                    meta
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
