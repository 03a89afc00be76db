//! GetFlightInfo, GetSchema and ListFlights (protocol.md §5.2-§5.6).

use super::source::TopicData;
use super::views::{served_schema, with_topic_metadata};
use crate::descriptor::{ResourceDescriptor, TicketBody, Window};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::names;
use arrow_flight::{
    FlightDescriptor, FlightEndpoint, FlightInfo, SchemaAsIpc, SchemaResult, Ticket,
};
use arrow_ipc::writer::IpcWriteOptions;
use arrow_schema::Schema;
use serde_json::{json, Value};

/// FlightInfo for `seq` or `seq/topic`.
pub fn flight_info(engine: &Engine, desc: &FlightDescriptor) -> Result<FlightInfo> {
    let req = ResourceDescriptor::parse(desc)?;
    if req.resource_locator.contains(':') {
        return Err(Error::invalid(
            "GetFlightInfo takes a sequence or topic locator, not a session locator.",
        ));
    }
    let trimmed = req.resource_locator.trim_matches('/');
    if trimmed.contains('/') {
        let topic = TopicData::open(engine, trimmed)?;
        let endpoint = topic_endpoint(engine, &topic, req.window)?;
        let schema = topic
            .schema
            .as_deref()
            .map(|s| with_topic_metadata(&served_schema(s), &topic, whole_topic(&topic)));
        let info = FlightInfo::new()
            .with_descriptor(desc.clone())
            .with_endpoint(endpoint);
        let info = match schema {
            Some(s) => info.try_with_schema(&s),
            None => info.try_with_schema(&Schema::empty()),
        };
        return info.map_err(|e| Error::internal(format!("cannot encode schema: {e}.")));
    }
    sequence_info(engine, trimmed, req.window, desc)
}

fn sequence_info(
    engine: &Engine,
    raw: &str,
    window: Window,
    desc: &FlightDescriptor,
) -> Result<FlightInfo> {
    let name = names::sequence_name(raw)?;
    let cat = engine.catalog();
    let seq = cat
        .sequence(&name)?
        .ok_or_else(|| Error::not_found(format!("sequence `{name}` does not exist.")))?;
    let topics = cat.topics_of(&name)?;
    let mut sessions = Vec::new();
    for (id, s) in cat.sessions_of(&name)? {
        let names: Vec<String> = topics
            .iter()
            .filter(|(_, t)| t.session_id == id)
            .map(|(t, _)| format!("{name}/{t}"))
            .collect();
        sessions.push(json!({
            "locator": format!("{name}:{id}"),
            "created_at_ns": s.created_at_ns,
            "completed_at_ns": s.completed_at_ns,
            "locked": s.completed_at_ns.is_some(),
            "topics": names,
        }));
    }
    let user_metadata: Value = serde_json::from_str(seq.user_metadata.get())
        .map_err(|e| Error::data_loss(format!("metadata of `{name}` is damaged: {e}.")))?;
    let app = json!({
        "resource_locator": name,
        "created_at_ns": seq.created_at_ns,
        "user_metadata": user_metadata,
        "sessions": sessions,
    });
    let mut info = FlightInfo::new()
        .with_descriptor(desc.clone())
        .with_app_metadata(app.to_string().into_bytes());
    for (t, _) in &topics {
        let topic = TopicData::open(engine, &format!("{name}/{t}"))?;
        info = info.with_endpoint(topic_endpoint(engine, &topic, window)?);
    }
    let meta = [
        ("mosaico:context".to_string(), "sequence".to_string()),
        (
            "mosaico:user_metadata".to_string(),
            seq.user_metadata.get().to_string(),
        ),
    ];
    let schema = Schema::empty().with_metadata(
        meta.into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
    );
    info.try_with_schema(&schema)
        .map_err(|e| Error::internal(format!("cannot encode schema: {e}.")))
}

/// Row count and time range of the whole topic.
pub fn whole_topic(topic: &TopicData) -> (u64, Option<i64>, Option<i64>) {
    let st = topic.record.stats;
    (st.rows, st.ts_min, st.ts_max)
}

fn interval(lo: Option<i64>, hi: Option<i64>) -> Value {
    match (lo, hi) {
        (Some(s), Some(e)) => json!({ "start_ns": s, "end_ns": e }),
        _ => Value::Null,
    }
}

fn topic_endpoint(engine: &Engine, topic: &TopicData, window: Window) -> Result<FlightEndpoint> {
    let r = &topic.record;
    let locator = topic.locator.locator();
    // `data_info` comes from the record: first make sure the topic still stores that much
    // (cheap: chunk files once per process, the log's numbering; `logs::integrity`).
    crate::logs::check_stored(engine.catalog(), engine.logs(), r)
        .map_err(|e| e.for_topic(&locator))?;
    let stats = r.stats;
    let chunks = topic.chunks(engine)?;
    let sealed_rows: u64 = chunks.iter().map(|c| c.stats.row_count).sum();
    let sealed_bytes: u64 = chunks.iter().map(|c| c.file_len).sum();
    // Rows still only in the WAL count as one more (unsealed) chunk, sized by their Arrow bytes.
    let tail = stats.rows > sealed_rows;
    let chunk_count = chunks.len() as u64 + u64::from(tail);
    let unsealed_bytes = if tail && stats.rows > 0 {
        stats.bytes / stats.rows * (stats.rows - sealed_rows)
    } else {
        0
    };
    let total_bytes = sealed_bytes + unsealed_bytes;
    let user_metadata: Value = serde_json::from_str(r.user_metadata.get())
        .map_err(|e| Error::data_loss(format!("metadata of `{locator}` is damaged: {e}.")))?;
    let mut app = json!({
        "resource_locator": locator,
        "created_at_ns": r.created_at_ns,
        "completed_at_ns": topic.completed_at_ns,
        "locked": topic.locked,
        "ontology_tag": r.ontology_tag,
        "serialization_format": r.serialization_format.as_str(),
        "user_metadata": user_metadata,
        "data_info": {
            "total_bytes": total_bytes,
            "total_chunks_count": chunk_count,
            "total_row_count": stats.rows,
            "interval": interval(stats.ts_min, stats.ts_max),
        },
        "info": {
            "chunks_number": chunk_count,
            "total_bytes": total_bytes,
            "timestamp": interval(stats.ts_min, stats.ts_max),
        },
    });
    if window.is_bounded() {
        let (rows, lo, hi) = topic.window_summary(engine, window)?;
        if let Some(obj) = app.as_object_mut() {
            let info = json!({ "row_count": rows, "interval": interval(lo, hi) });
            obj.insert("time_window_info".to_string(), info);
        }
    }
    let ticket = TicketBody {
        locator: locator.clone(),
        window,
    };
    Ok(FlightEndpoint::new()
        .with_ticket(Ticket::new(ticket.encode()))
        .with_app_metadata(app.to_string().into_bytes()))
}

/// GetSchema: the served form of the stored schema.
pub fn schema_result(engine: &Engine, desc: &FlightDescriptor) -> Result<SchemaResult> {
    let req = ResourceDescriptor::parse(desc)?;
    let topic = TopicData::open(engine, &req.resource_locator)?;
    let stored = topic.schema.ok_or_else(|| {
        Error::precondition(format!(
            "topic `{}` has no schema yet: its upload has not started.",
            topic.locator.locator()
        ))
    })?;
    let served = served_schema(&stored);
    SchemaAsIpc::new(&served, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: arrow_schema::ArrowError| {
            Error::internal(format!("cannot encode schema: {e}."))
        })
}

/// ListFlights: one FlightInfo with a PATH descriptor per sequence.
pub fn list_flights(engine: &Engine, criteria: &[u8]) -> Result<Vec<FlightInfo>> {
    if !criteria.is_empty() && criteria != b"/" {
        return Err(Error::invalid("ListFlights takes no criteria (or `/`)."));
    }
    engine
        .catalog()
        .sequences()?
        .into_iter()
        .map(|(name, _)| {
            FlightInfo::new()
                .with_descriptor(FlightDescriptor::new_path(vec![name]))
                .try_with_schema(&Schema::empty())
                .map_err(|e| Error::internal(format!("cannot encode schema: {e}.")))
        })
        .collect()
}
