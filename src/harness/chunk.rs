//! Chunk file targets: reading (possibly damaged) chunk files, and statistics decoding.

use super::*;

/// The schema of the harness's valid chunks: index, float, string, list and a geo struct.
pub(super) fn chunk_schema() -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    let geo = arrow_schema::Fields::from(vec![
        Field::new("latitude", DataType::Float64, true),
        Field::new("longitude", DataType::Float64, true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("samples", DataType::List(item), true),
        Field::new("position", DataType::Struct(geo), true),
    ]))
}

/// A small batch of [`chunk_schema`] rows with timestamps `ts` (unsorted, with duplicates).
pub fn chunk_batch(ts: &[i64]) -> RecordBatch {
    let f = |g: fn(i64) -> Option<f64>| {
        Arc::new(Float64Array::from(
            ts.iter().map(|&t| g(t)).collect::<Vec<_>>(),
        )) as ArrayRef
    };
    let labels: Vec<Option<String>> = ts
        .iter()
        .map(|t| (t % 3 != 0).then(|| format!("label-{t}")))
        .collect();
    let mut samples =
        arrow_array::builder::ListBuilder::new(arrow_array::builder::Float64Builder::new());
    for &t in ts {
        for k in 0..(t.rem_euclid(4)) {
            samples.values().append_value((t * k) as f64);
        }
        samples.append(t % 5 != 0);
    }
    let position = arrow_array::StructArray::new(
        arrow_schema::Fields::from(vec![
            Field::new("latitude", DataType::Float64, true),
            Field::new("longitude", DataType::Float64, true),
        ]),
        vec![
            f(|t| Some((t % 90) as f64)),
            f(|t| Some((t % 180) as f64 - 1.5)),
        ],
        None,
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ts.to_vec())),
        f(|t| match (t % 7, t % 11) {
            (0, _) => None,
            (_, 0) => Some(f64::NAN),
            _ => Some(t as f64 / 3.0),
        }),
        Arc::new(StringArray::from(labels)),
        Arc::new(samples.finish()),
        Arc::new(position),
    ];
    RecordBatch::try_new(chunk_schema(), columns).expect("harness batch matches its schema")
}

/// Bytes of a valid chunk file (several blocks), compressed with zstd or not.
pub fn valid_chunk(zstd: bool) -> &'static [u8] {
    static CHUNKS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    let [raw, compressed] = CHUNKS.get_or_init(|| {
        let make = |compression| {
            let path = thread_file("valid-chunk");
            let _ = std::fs::remove_file(&path);
            let ts: Vec<i64> = (0..40).map(|i| (i * 7919) % 97 - 20).collect();
            let (a, b) = ts.split_at(25);
            let batches = [chunk_batch(a), chunk_batch(b)];
            let opts = ChunkOptions {
                compression,
                max_batch_bytes: 512,
            };
            tessera_format::write_chunk(&path, &chunk_schema(), &batches, &opts)
                .expect("harness chunk writes");
            let bytes = std::fs::read(&path).expect("harness chunk reads back");
            let _ = std::fs::remove_file(&path);
            bytes
        };
        [
            make(Compression::None),
            make(Compression::Zstd { level: 1 }),
        ]
    });
    if zstd {
        compressed
    } else {
        raw
    }
}

/// Apply edits read from `input` to `bytes`: records of `[u32 LE op|position][u8 value]`; the
/// top two bits of the u32 choose xor / set / truncate / insert.
pub(super) fn mutate(bytes: &mut Vec<u8>, input: &mut Input<'_>) {
    for _ in 0..64 {
        if input.is_empty() {
            return;
        }
        let word = input.u32();
        let value = input.byte();
        let pos = (word & 0x3fff_ffff) as usize % bytes.len().max(1);
        match word >> 30 {
            0 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b ^= value.max(1);
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(pos) {
                    *b = value;
                }
            }
            2 => bytes.truncate(pos),
            _ => bytes.insert(pos.min(bytes.len()), value),
        }
    }
}

/// First byte: bit 0 = start from a valid chunk (bit 1: the zstd one) and apply the rest of the
/// input as [`mutate`] edits; otherwise the rest of the input is the whole file. Then open it
/// with [`ChunkReader`] and check every batch, windows, stats and `verify` against each other.
pub fn chunk_file(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.byte();
    let bytes = if mode & 1 == 1 {
        let mut b = valid_chunk(mode & 2 == 2).to_vec();
        mutate(&mut b, &mut input);
        b
    } else {
        input.0.to_vec()
    };
    let path = thread_file("chunk");
    std::fs::write(&path, &bytes).expect("harness writes the chunk file");
    let Ok(reader) = ChunkReader::open(&path) else {
        return;
    };
    let schema = reader.schema();
    let ts_index = schema
        .index_of("timestamp_ns")
        .expect("an open chunk has timestamp_ns");
    let stats = reader.stats().clone();
    assert_eq!(
        ChunkStats::decode(&stats.encode()).ok().as_ref(),
        Some(&stats)
    );
    let mut rows: Vec<i64> = Vec::new();
    let mut all_read = true;
    for i in 0..reader.num_batches() {
        let Ok(batch) = reader.read_batch(i) else {
            all_read = false;
            continue;
        };
        assert_eq!(batch.schema().fields(), schema.fields());
        let ts = timestamps(&batch, ts_index);
        assert!(!ts.is_empty(), "a chunk yielded an empty batch");
        assert!(ts.is_sorted(), "batch {i} is not sorted");
        let range = ts.first().copied().zip(ts.last().copied());
        assert_eq!(range, reader.batch_time_range(i));
        if let (Some(prev), Some(first)) = (rows.last(), ts.first()) {
            assert!(prev <= first, "batches out of time order");
        }
        rows.extend(ts);
    }
    assert!(reader.read_batch(reader.num_batches()).is_err());
    if reader.verify().is_ok() {
        assert!(all_read, "verify passed but a batch failed to read");
    }
    if !all_read {
        return;
    }
    assert_eq!(rows.len() as u64, stats.row_count);
    if let (Some(lo), Some(hi)) = (rows.first(), rows.last()) {
        assert_eq!((*lo, *hi), (stats.ts_min, stats.ts_max));
    }
    let (lo, hi) = (stats.ts_min, stats.ts_max);
    let mid = lo / 2 + hi / 2;
    for (start, end) in [
        (None, None),
        (Some(mid), None),
        (Some(lo.saturating_add(1)), Some(hi)),
    ] {
        let mut got = Vec::new();
        for b in reader.window(start, end) {
            let b = b.expect("a verified chunk reads in windows");
            assert!(b.num_rows() > 0, "window yielded an empty batch");
            got.extend(timestamps(&b, ts_index));
        }
        let w = Window { start, end };
        let want: Vec<i64> = rows.iter().copied().filter(|&t| w.contains(t)).collect();
        assert_eq!(
            got, want,
            "window [{start:?}, {end:?}) lost or invented rows"
        );
    }
}

pub(super) fn timestamps(batch: &RecordBatch, ts_index: usize) -> Vec<i64> {
    let col = batch.columns().get(ts_index).expect("timestamp column");
    let ts = col
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("timestamp_ns is Int64");
    assert_eq!(ts.null_count(), 0, "null timestamps in a chunk");
    ts.values().to_vec()
}

/// [`ChunkStats::decode`] on the input and on the input with its trailing crc fixed: decoded
/// stats re-encode to exactly the input bytes; pruning by time is sound on them.
pub fn chunk_stats(data: &[u8]) {
    let mut fixed = data.to_vec();
    if let Some(body) = fixed.len().checked_sub(4) {
        let crc = crc32(fixed.get(..body).unwrap_or(&[]));
        if let Some(tail) = fixed.get_mut(body..) {
            tail.copy_from_slice(&crc.to_le_bytes());
        }
    }
    for bytes in [data, &fixed[..]] {
        let Ok(stats) = ChunkStats::decode(bytes) else {
            continue;
        };
        assert_eq!(
            stats.encode(),
            bytes,
            "decoded stats re-encode to other bytes"
        );
        let mut merged = stats.clone();
        merged.merge(&stats);
        let mut input = Input(bytes.get(8..).unwrap_or(&[]));
        let (a, b) = (input.i64(), input.i64());
        for (start, end) in [(Some(a), Some(b)), (Some(a), None), (None, Some(b))] {
            let w = Window { start, end };
            let hit = stats.row_count > 0 && (w.contains(stats.ts_min) || w.contains(stats.ts_max));
            if hit {
                assert_eq!(
                    tessera_format::prune_time(&stats, start, end),
                    Prune::Keep,
                    "pruned a chunk with a row in the window"
                );
            }
        }
    }
}
