//! Output schema rule (protocol.md Part B §8): top-level string/binary columns are served as
//! view types (`Utf8View`, `BinaryView`), as the reference server's Parquet reader does; nested
//! fields and all other types stay exactly as stored. The SDK canonicalises views back to
//! string/binary before fingerprinting.

use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

fn view_of(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 => Some(DataType::Utf8View),
        DataType::Binary | DataType::LargeBinary => Some(DataType::BinaryView),
        _ => None,
    }
}

/// The schema a client sees for a stored schema.
pub fn served_schema(stored: &Schema) -> SchemaRef {
    let fields: Vec<Field> = stored
        .fields()
        .iter()
        .map(|f| match view_of(f.data_type()) {
            Some(dt) => f.as_ref().clone().with_data_type(dt),
            None => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, stored.metadata().clone()))
}

/// The 0.6.x SDK reads topic properties from schema metadata (protocol.md §10.1): the served
/// schema of a topic FlightInfo and of a DoGet stream carries `mosaico:context = "topic"`,
/// `mosaico:properties` (JSON: ontology tag, serialization format, row count, time range) and
/// `mosaico:user_metadata` (the topic's JSON). The 0.7 SDK ignores schema metadata; GetSchema
/// keeps the stored schema exactly. `rows` is `(count, min, max)` of what is served: the whole
/// topic, or the requested window.
pub fn with_topic_metadata(
    served: &Schema,
    topic: &super::source::TopicData,
    rows: (u64, Option<i64>, Option<i64>),
) -> SchemaRef {
    let r = &topic.record;
    let mut props = serde_json::json!({
        "ontology_tag": r.ontology_tag,
        "serialization_format": r.serialization_format.as_str(),
        "message_count": rows.0,
    });
    if let (Some(lo), Some(hi), Some(obj)) = (rows.1, rows.2, props.as_object_mut()) {
        obj.insert("timestamp_ns_min".into(), lo.into());
        obj.insert("timestamp_ns_max".into(), hi.into());
    }
    let mut meta = served.metadata().clone();
    meta.insert("mosaico:context".to_string(), "topic".to_string());
    meta.insert("mosaico:properties".to_string(), props.to_string());
    meta.insert(
        "mosaico:user_metadata".to_string(),
        r.user_metadata.get().to_string(),
    );
    Arc::new(Schema::new_with_metadata(served.fields().clone(), meta))
}

/// Convert a stored batch to the served schema.
pub fn to_served(batch: &RecordBatch, served: &SchemaRef) -> Result<RecordBatch> {
    let cols = batch
        .columns()
        .iter()
        .zip(served.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(Arc::clone(c))
            } else {
                arrow_cast::cast(c, f.data_type()).map_err(|e| {
                    Error::internal(format!("cannot convert column `{}`: {e}.", f.name()))
                })
            }
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(Arc::clone(served), cols)
        .map_err(|e| Error::internal(format!("cannot build output batch: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{BinaryArray, Int64Array, StringArray, StructArray};

    #[test]
    fn only_top_level_strings_and_binaries_become_views() {
        let inner = Field::new("frame_id", DataType::Utf8, true);
        let stored = Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, false),
            Field::new("enc", DataType::LargeUtf8, true),
            Field::new("header", DataType::Struct(vec![inner.clone()].into()), true),
        ]);
        let served = served_schema(&stored);
        let types: Vec<_> = served
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(types[1], DataType::BinaryView);
        assert_eq!(types[2], DataType::Utf8View);
        assert_eq!(types[3], DataType::Struct(vec![inner.clone()].into()));
        assert!(!served.field(1).is_nullable());

        let stored = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("data", DataType::Binary, false),
            Field::new("header", DataType::Struct(vec![inner.clone()].into()), true),
        ]));
        let header = StructArray::from(vec![(
            Arc::new(inner),
            Arc::new(StringArray::from(vec![Some("a")])) as _,
        )]);
        let batch = RecordBatch::try_new(
            stored.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(BinaryArray::from(vec![&b"xy"[..]])),
                Arc::new(header),
            ],
        )
        .unwrap();
        let out = to_served(&batch, &served_schema(&stored)).unwrap();
        assert_eq!(out.column(1).data_type(), &DataType::BinaryView);
        assert_eq!(out.num_rows(), 1);
    }
}
