//! WAL append throughput per payload size and durability, next to its ceiling measured in the
//! same run: plain `write` + one `fdatasync` of the same bytes to a file in the same directory.
//! Also frame header encode + verify. Run: `cargo bench -p tessera-bench --bench wal`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::io::Write;
use tessera_wal::{decode_frame, encode_header, Durability, FrameKind, Wal, WalOptions};

const SIZES: &[usize] = &[1 << 10, 64 << 10, 1 << 20, 32 << 20];

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("wal_append");
    g.sample_size(10);
    for &size in SIZES {
        let data = payload(size);
        g.throughput(Throughput::Bytes(size as u64));
        for (name, d) in [
            ("sync", Durability::Sync),
            ("buffered", Durability::Buffered),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let (mut wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
            g.bench_with_input(BenchmarkId::new(name, size), &data, |b, data| {
                b.iter(|| wal.append(FrameKind::RecordBatch, &[data], d).unwrap())
            });
        }
        // Ceiling: the same bytes written and fdatasynced without the WAL.
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join("raw")).unwrap();
        g.bench_with_input(
            BenchmarkId::new("raw_write_fdatasync", size),
            &data,
            |b, data| {
                b.iter(|| {
                    f.write_all(data).unwrap();
                    f.sync_data().unwrap();
                })
            },
        );
    }
    g.finish();
}

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    let data = payload(1 << 20);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("encode_header_1MiB", |b| {
        b.iter(|| encode_header(FrameKind::RecordBatch, 7, &[&data]).unwrap())
    });
    let (header, _) = encode_header(FrameKind::RecordBatch, 7, &[&data]).unwrap();
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(&data);
    g.bench_function("decode_verify_1MiB", |b| {
        b.iter(|| decode_frame(&bytes, 0).unwrap())
    });
    g.finish();
}

criterion_group!(benches, append, frame);
criterion_main!(benches);
