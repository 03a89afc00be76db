//! Computing [`ChunkStats`] batch by batch ([`StatsAccumulator`]) with bounded memory.
//!
//! Rules:
//! * `row_count`, `ts_min`, `ts_max` come from the required top-level `timestamp_ns` Int64 column
//!   (nulls in it are an error).
//! * Leaves are found depth-first through structs; every other type (lists, maps, binary, ...) is
//!   itself a leaf. A row is null for a leaf if the leaf or any ancestor struct is null
//!   (logical nulls, so dictionary/run-end/null-typed arrays count correctly).
//! * Int8..Int64, Timestamp, Date, Time, Duration → [`crate::StatValue::Int`] (native unit);
//!   UInt8..UInt64 → [`crate::StatValue::UInt`]; Float16/32/64 → [`crate::StatValue::Float`]
//!   with NaN excluded and recorded in `has_nan`, ordered by `total_cmp` (so `-0.0 < 0.0`);
//!   Boolean → [`crate::StatValue::Bool`]; Utf8/LargeUtf8/Utf8View → [`crate::StatValue::Str`]
//!   by bytes, shortened by `strbound`; anything else → `null_count` only.
//! * Geo: every struct level (including the top level, path `""`) with direct float children
//!   named `latitude` and `longitude` gets bounds over rows where the struct, its ancestors and
//!   both coordinates are non-null and non-NaN; omitted when there are no such rows.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};

use crate::error::FormatError;
use crate::stats::{ChunkStats, ColumnStats};
use crate::stats_tree::{plan_level, visit_level, LeafAcc, Level};
use crate::stats_values::{timestamp_range, GeoAcc};

/// Name of the required top-level Int64 timestamp column.
pub const TIMESTAMP_COLUMN: &str = "timestamp_ns";

/// Incrementally computes [`ChunkStats`] over batches of one schema.
#[derive(Debug)]
pub(crate) struct StatsAccumulator {
    schema: SchemaRef,
    ts_index: usize,
    row_count: u64,
    ts_min: i64,
    ts_max: i64,
    leaves: Vec<LeafAcc>,
    geos: Vec<GeoAcc>,
    plan: Level,
}

/// Index of the top-level `timestamp_ns` column, which must be a non-dictionary Int64.
pub(crate) fn timestamp_index(schema: &SchemaRef) -> Result<usize, FormatError> {
    let idx = schema
        .index_of(TIMESTAMP_COLUMN)
        .map_err(|_| FormatError::NoTimestamp("no top-level column named timestamp_ns".into()))?;
    match schema.field(idx).data_type() {
        DataType::Int64 => Ok(idx),
        other => Err(FormatError::NoTimestamp(format!(
            "column must be Int64, found {other}"
        ))),
    }
}

impl StatsAccumulator {
    /// Prepares an accumulator for `schema`; fails if it has no usable `timestamp_ns`.
    pub(crate) fn new(schema: &SchemaRef) -> Result<Self, FormatError> {
        let ts_index = timestamp_index(schema)?;
        let mut leaves = Vec::new();
        let mut geos = Vec::new();
        let plan = plan_level(schema.fields(), "", &mut leaves, &mut geos);
        Ok(Self {
            schema: schema.clone(),
            ts_index,
            row_count: 0,
            ts_min: i64::MAX,
            ts_max: i64::MIN,
            leaves,
            geos,
            plan,
        })
    }

    /// Adds one batch, whose fields must equal the accumulator's schema fields.
    pub(crate) fn update(&mut self, batch: &RecordBatch) -> Result<(), FormatError> {
        if batch.schema_ref().fields() != self.schema.fields() {
            return Err(FormatError::SchemaMismatch(
                "batch fields differ from the chunk schema".into(),
            ));
        }
        let ts = batch.column(self.ts_index);
        if let Some((lo, hi)) = timestamp_range(ts.as_ref())? {
            self.ts_min = self.ts_min.min(lo);
            self.ts_max = self.ts_max.max(hi);
        }
        self.row_count = self.row_count.saturating_add(batch.num_rows() as u64);
        visit_level(
            &self.plan,
            batch.columns(),
            None,
            &mut self.leaves,
            &mut self.geos,
        )
    }

    /// The finished stats.
    pub(crate) fn finish(self) -> ChunkStats {
        let columns = self
            .leaves
            .into_iter()
            .map(|leaf| {
                let (min, max, has_nan) = leaf.values.into_bounds();
                ColumnStats {
                    path: leaf.path,
                    null_count: leaf.null_count,
                    min,
                    max,
                    has_nan,
                }
            })
            .collect();
        ChunkStats {
            row_count: self.row_count,
            ts_min: self.ts_min,
            ts_max: self.ts_max,
            columns,
            geo: self.geos.into_iter().filter_map(GeoAcc::finish).collect(),
        }
    }
}

impl ChunkStats {
    /// Computes the stats of `batches` (any row order), all of which must have `schema`'s fields.
    /// Fails with [`FormatError::NoTimestamp`] if `timestamp_ns` is missing, not Int64 or null.
    pub fn compute(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Self, FormatError> {
        let mut acc = StatsAccumulator::new(schema)?;
        for batch in batches {
            acc.update(batch)?;
        }
        Ok(acc.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::StatValue;
    use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray, StructArray};
    use arrow_buffer::NullBuffer;
    use arrow_schema::{Field, Fields, Schema};
    use std::sync::Arc;

    fn gps_batch() -> (SchemaRef, RecordBatch) {
        let pos_fields = Fields::from(vec![
            Field::new("latitude", DataType::Float64, true),
            Field::new("longitude", DataType::Float64, true),
        ]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("position", DataType::Struct(pos_fields.clone()), true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let lat: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(45.0),
            Some(f64::NAN),
            None,
            Some(-3.5),
        ]));
        let lon: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(9.0),
            Some(1.0),
            Some(2.0),
            Some(100.0),
        ]));
        let pos = StructArray::new(
            pos_fields,
            vec![lat, lon],
            Some(NullBuffer::from(vec![true, true, true, false])),
        );
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![30, 10, 20, 40])),
                Arc::new(pos),
                Arc::new(StringArray::from(vec![
                    Some("b"),
                    None,
                    Some("a"),
                    Some("c"),
                ])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    #[test]
    fn computes_leaves_geo_and_time() {
        let (schema, batch) = gps_batch();
        let stats = ChunkStats::compute(&schema, &[batch.clone(), batch.slice(0, 1)]).unwrap();
        assert_eq!((stats.row_count, stats.ts_min, stats.ts_max), (5, 10, 40));
        let paths: Vec<_> = stats.columns.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "timestamp_ns",
                "position.latitude",
                "position.longitude",
                "name"
            ]
        );
        let lat = stats.column("position.latitude").unwrap();
        // Row 2 lat null, row 3 parent null (its -3.5 is hidden); row 1 NaN.
        assert_eq!(lat.null_count, 2);
        assert!(lat.has_nan);
        assert_eq!(lat.min, Some(StatValue::Float(45.0)));
        let lon = stats.column("position.longitude").unwrap();
        assert_eq!(lon.null_count, 1);
        assert_eq!(lon.max, Some(StatValue::Float(9.0)));
        let geo = stats.geo_bounds("position").unwrap();
        assert_eq!(
            (geo.min_lat, geo.max_lat, geo.min_lon, geo.max_lon),
            (45.0, 45.0, 9.0, 9.0)
        );
        let name = stats.column("name").unwrap();
        assert_eq!(name.null_count, 1);
        assert_eq!(
            name.max,
            Some(StatValue::Str {
                value: "c".into(),
                truncated: false
            })
        );
    }

    #[test]
    fn timestamp_is_required_and_non_null() {
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Int64, true)]));
        assert!(matches!(
            ChunkStats::compute(&schema, &[]),
            Err(FormatError::NoTimestamp(_))
        ));
        let schema = Arc::new(Schema::new(vec![Field::new(
            "timestamp_ns",
            DataType::Int64,
            true,
        )]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
        )
        .unwrap();
        assert!(matches!(
            ChunkStats::compute(&schema, &[batch]),
            Err(FormatError::NoTimestamp(_))
        ));
        let empty = ChunkStats::compute(&schema, &[]).unwrap();
        assert_eq!(
            empty,
            ChunkStats {
                columns: empty.columns.clone(),
                ..ChunkStats::empty()
            }
        );
    }

    #[test]
    fn rejects_batches_of_another_schema() {
        let (schema, _) = gps_batch();
        let other = Arc::new(Schema::new(vec![Field::new(
            "timestamp_ns",
            DataType::Int64,
            false,
        )]));
        let batch = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
        assert!(matches!(
            ChunkStats::compute(&schema, &[batch]),
            Err(FormatError::SchemaMismatch(_))
        ));
    }
}
