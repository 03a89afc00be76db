//! Data generators for `tessera-bench`: camera-like raw RGB frames and IMU rows, encoded as the
//! Flight messages a client sends (one schema message, then one record batch per message).
//!
//! Generation must not be the bottleneck, so both generators do their expensive work once:
//! - video: a few base frames (gradients, shapes, sensor noise) are computed up front; each
//!   frame is one base frame panned by a few pixels (a rotated copy), with a moving rectangle
//!   drawn on it and sparse noise re-sprinkled. Compresses like a camera (smooth with noise in
//!   the low bits), neither zeros nor pure random. A pool of such frame batches (8 frames by
//!   default) is made up front and loops; each batch gets fresh timestamps (zero copy).
//! - imu: a pool of 9-column value sets (smooth signals + noise) is computed up front; each
//!   batch gets fresh timestamps and reuses a pooled value set (zero copy).
//!
//! The remaining per-batch cost is the IPC encoding copy, timed by the caller.

use anyhow::{anyhow, bail, Result};
use arrow_array::{ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_flight::{FlightData, FlightDescriptor, SchemaAsIpc};
use arrow_ipc::writer::{DictionaryTracker, IpcDataGenerator, IpcWriteContext, IpcWriteOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Base frames precomputed by the video generator.
const BASE_FRAMES: usize = 4;
/// Distinct frames in the video loop (rounded up to whole batches).
const VIDEO_LOOP_FRAMES: usize = 8;
/// Value sets precomputed by the IMU generator.
const IMU_POOL: usize = 4;
/// Nanoseconds between video frames (30 fps).
const FRAME_PERIOD_NS: i64 = 33_333_333;
/// Nanoseconds between IMU rows (1 kHz).
const IMU_PERIOD_NS: i64 = 1_000_000;
/// 2026-01-01T00:00:00Z, the first timestamp.
const START_NS: i64 = 1_767_225_600_000_000_000;

/// A tiny deterministic PRNG (xorshift64*), enough for noise.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

enum Kind {
    Video {
        frames_per_batch: usize,
        pool: Vec<ArrayRef>,
    },
    Imu {
        rows_per_batch: usize,
        pool: Vec<Vec<ArrayRef>>,
    },
}

/// Produces the messages of one topic's upload.
pub struct Generator {
    kind: Kind,
    schema: SchemaRef,
    /// Index of the next frame (video) or row (imu) over the whole stream.
    next: u64,
    batches: u64,
    ipc: IpcDataGenerator,
    tracker: DictionaryTracker,
    context: IpcWriteContext,
    options: IpcWriteOptions,
}

/// The video schema: `timestamp_ns` + one raw RGB frame per row.
pub fn video_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp_ns", DataType::Int64, false),
        Field::new("frame", DataType::Binary, false),
    ]))
}

/// The IMU schema: `timestamp_ns` + 9 f64 (accelerometer, gyroscope, magnetometer).
pub fn imu_schema() -> SchemaRef {
    let mut fields = vec![Field::new("timestamp_ns", DataType::Int64, false)];
    for sensor in ["acc", "gyr", "mag"] {
        for axis in ["x", "y", "z"] {
            fields.push(Field::new(
                format!("{sensor}_{axis}"),
                DataType::Float64,
                false,
            ));
        }
    }
    Arc::new(Schema::new(fields))
}

/// One camera-like base frame: diagonal gradients per channel, a vignette-like bump, a few
/// flat shapes, and sensor noise in the low bits.
fn base_frame(width: usize, height: usize, k: usize, rng: &mut Rng) -> Vec<u8> {
    let mut f = vec![0u8; width * height * 3];
    let (w, h) = (width.max(1), height.max(1));
    for (y, row) in f.chunks_exact_mut(width * 3).enumerate() {
        let gy = y * 160 / h;
        let dy = (y as i64 - h as i64 / 2).unsigned_abs() as usize * 64 / h;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let gx = x * 200 / w;
            let dx = (x as i64 - w as i64 / 2).unsigned_abs() as usize * 64 / w;
            let shade = 255usize.saturating_sub(dx + dy);
            let noise = (rng.next() >> 61) as usize; // 0..8
            let base = [gx + gy / 2 + k * 6, gy + gx / 3 + 20, (gx + gy) / 2 + 40];
            for (c, v) in px.iter_mut().enumerate() {
                let b = base.get(c).copied().unwrap_or(0);
                *v = ((b * shade / 255 + noise) & 0xff) as u8;
            }
        }
    }
    // A few static objects: flat boxes of distinct colours.
    for s in 0..3 {
        let (bw, bh) = (w / 6, h / 5);
        let (x0, y0) = ((s * w / 3 + k * w / 40) % w, (s * h / 4 + h / 8) % h);
        fill_rect(
            &mut f,
            width,
            height,
            x0,
            y0,
            bw,
            bh,
            [40 + 60 * s as u8, 90, 200 - 50 * s as u8],
        );
    }
    f
}

#[allow(clippy::too_many_arguments)]
fn fill_rect(
    f: &mut [u8],
    width: usize,
    height: usize,
    x0: usize,
    y0: usize,
    bw: usize,
    bh: usize,
    rgb: [u8; 3],
) {
    for y in y0..(y0 + bh).min(height) {
        let start = (y * width + x0.min(width)) * 3;
        let end = (y * width + (x0 + bw).min(width)) * 3;
        if let Some(row) = f.get_mut(start..end) {
            for px in row.chunks_exact_mut(3) {
                px.copy_from_slice(&rgb);
            }
        }
    }
}

/// Frames `frames` (indices in the stream) as one binary column.
fn frame_batch(
    bases: &[Vec<u8>],
    width: usize,
    height: usize,
    frames: std::ops::Range<u64>,
    rng: &mut Rng,
) -> Result<BinaryArray> {
    let frame = width * height * 3;
    let n = (frames.end - frames.start) as usize;
    let mut values = Vec::with_capacity(frame * n);
    for i in frames {
        let start = values.len();
        let base = bases
            .get(i as usize % bases.len().max(1))
            .ok_or_else(|| anyhow!("no base frame"))?;
        // Pan: rotate by 7 pixels per frame.
        let shift = (i as usize * 21) % frame;
        values.extend_from_slice(base.get(shift..).unwrap_or_default());
        values.extend_from_slice(base.get(..shift).unwrap_or_default());
        let f = values.get_mut(start..).unwrap_or_default();
        // A moving object.
        let (bw, bh) = (width / 10 + 1, height / 8 + 1);
        let x0 = (i as usize * width / 50) % width;
        let y0 = (i as usize * height / 70) % height;
        fill_rect(f, width, height, x0, y0, bw, bh, [230, (i % 200) as u8, 30]);
        // Fresh sensor noise, sparse.
        let mut pos = (rng.next() % 997) as usize;
        while let Some(v) = f.get_mut(pos) {
            *v ^= (rng.next() >> 62) as u8;
            pos += 997;
        }
    }
    let offsets: Vec<i32> = (0..=n)
        .map(|k| i32::try_from(k * frame))
        .collect::<Result<_, _>>()?;
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Ok(BinaryArray::try_new(
        offsets,
        Buffer::from_vec(values),
        None,
    )?)
}

impl Generator {
    /// Raw RGB frames of `width` x `height`, `frames_per_batch` rows per batch.
    pub fn video(width: usize, height: usize, frames_per_batch: usize, seed: u64) -> Result<Self> {
        if width == 0 || height == 0 || frames_per_batch == 0 {
            bail!("frame size and frames per batch must be positive");
        }
        let frame = width * height * 3;
        if frame
            .checked_mul(frames_per_batch)
            .is_none_or(|b| b > i32::MAX as usize)
        {
            bail!("a batch of {frames_per_batch} frames of {frame} bytes exceeds a binary column (2 GiB)");
        }
        let mut rng = Rng::new(seed);
        let bases: Vec<Vec<u8>> = (0..BASE_FRAMES)
            .map(|k| base_frame(width, height, k, &mut rng))
            .collect();
        let batches = VIDEO_LOOP_FRAMES.div_ceil(frames_per_batch);
        let mut pool = Vec::with_capacity(batches);
        for b in 0..batches {
            let first = (b * frames_per_batch) as u64;
            pool.push(Arc::new(frame_batch(
                &bases,
                width,
                height,
                first..first + frames_per_batch as u64,
                &mut rng,
            )?) as ArrayRef);
        }
        Ok(Self::with(
            Kind::Video {
                frames_per_batch,
                pool,
            },
            video_schema(),
        ))
    }

    /// IMU rows, `rows_per_batch` per batch.
    pub fn imu(rows_per_batch: usize, seed: u64) -> Result<Self> {
        if rows_per_batch == 0 {
            bail!("rows per batch must be positive");
        }
        let mut rng = Rng::new(seed);
        let pool = (0..IMU_POOL)
            .map(|p| {
                (0..9)
                    .map(|c| {
                        let freq = 0.001 * (c + 1) as f64 + 0.0003 * p as f64;
                        let amp = [9.81, 9.81, 9.81, 0.5, 0.5, 0.5, 40.0, 40.0, 40.0]
                            .get(c)
                            .copied()
                            .unwrap_or(1.0);
                        let v: Vec<f64> = (0..rows_per_batch)
                            .map(|i| {
                                let noise = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                                amp * (i as f64 * freq).sin() + 0.01 * amp * (noise - 0.5)
                            })
                            .collect();
                        Arc::new(Float64Array::from(v)) as ArrayRef
                    })
                    .collect()
            })
            .collect();
        Ok(Self::with(
            Kind::Imu {
                rows_per_batch,
                pool,
            },
            imu_schema(),
        ))
    }

    fn with(kind: Kind, schema: SchemaRef) -> Self {
        Generator {
            kind,
            schema,
            next: 0,
            batches: 0,
            ipc: IpcDataGenerator::default(),
            tracker: DictionaryTracker::new(false),
            context: IpcWriteContext::default(),
            options: IpcWriteOptions::default(),
        }
    }

    /// Rows in each batch.
    pub fn rows_per_batch(&self) -> usize {
        match &self.kind {
            Kind::Video {
                frames_per_batch, ..
            } => *frames_per_batch,
            Kind::Imu { rows_per_batch, .. } => *rows_per_batch,
        }
    }

    /// The first message of a DoPut: `descriptor` (JSON command) + the schema.
    pub fn schema_message(&self, descriptor: &serde_json::Value) -> FlightData {
        let mut fd: FlightData = SchemaAsIpc::new(&self.schema, &self.options).into();
        fd.flight_descriptor = Some(FlightDescriptor::new_cmd(descriptor.to_string()));
        fd
    }

    /// The next record batch, as a Flight message; returns it with its row count.
    pub fn next_message(&mut self) -> Result<(FlightData, u64)> {
        let batch = self.next_batch()?;
        let rows = batch.num_rows() as u64;
        let (_dicts, encoded) =
            self.ipc
                .encode(&batch, &mut self.tracker, &self.options, &mut self.context)?;
        Ok((encoded.into(), rows))
    }

    /// The next record batch.
    pub fn next_batch(&mut self) -> Result<RecordBatch> {
        let b = self.batches;
        self.batches += 1;
        let columns: Vec<ArrayRef> = match &self.kind {
            Kind::Video {
                frames_per_batch,
                pool,
            } => {
                let n = *frames_per_batch as u64;
                let first = self.next;
                self.next += n;
                let ts: Vec<i64> = (first..first + n)
                    .map(|i| START_NS + i as i64 * FRAME_PERIOD_NS)
                    .collect();
                let frames = pool
                    .get(b as usize % pool.len().max(1))
                    .ok_or_else(|| anyhow!("empty video pool"))?;
                vec![Arc::new(Int64Array::from(ts)), Arc::clone(frames)]
            }
            Kind::Imu {
                rows_per_batch,
                pool,
            } => {
                let n = *rows_per_batch as u64;
                let first = self.next;
                self.next += n;
                let ts: Vec<i64> = (first..first + n)
                    .map(|i| START_NS + i as i64 * IMU_PERIOD_NS)
                    .collect();
                let values = pool
                    .get(b as usize % pool.len().max(1))
                    .ok_or_else(|| anyhow!("empty IMU pool"))?;
                let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(ts))];
                cols.extend(values.iter().cloned());
                cols
            }
        };
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_frames_move_and_are_not_trivial() {
        let mut g = Generator::video(64, 48, 2, 1).unwrap();
        let a = g.next_batch().unwrap();
        let b = g.next_batch().unwrap();
        let col = |rb: &RecordBatch| {
            rb.column(1)
                .as_any()
                .downcast_ref::<BinaryArray>()
                .unwrap()
                .value(0)
                .to_vec()
        };
        let (fa, fb) = (col(&a), col(&b));
        assert_eq!(fa.len(), 64 * 48 * 3);
        assert_ne!(fa, fb, "frames differ from one to the next");
        let distinct = fa.iter().collect::<std::collections::HashSet<_>>().len();
        assert!(
            distinct > 16,
            "not a flat frame: {distinct} distinct byte values"
        );
        let (m, _) = g.next_message().unwrap();
        assert!(!m.data_header.is_empty() && m.data_body.len() >= 2 * 64 * 48 * 3);
    }

    #[test]
    fn imu_batches_have_fresh_increasing_timestamps() {
        let mut g = Generator::imu(100, 1).unwrap();
        let a = g.next_batch().unwrap();
        let b = g.next_batch().unwrap();
        assert_eq!(a.num_columns(), 10);
        let ts = |rb: &RecordBatch| {
            rb.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        };
        assert!(ts(&a).last() < ts(&b).first());
    }
}
