//! Decoding the schema message that opens an Arrow IPC file (offset 64, see `chunk.rs`).
//!
//! The footer's schema is not covered by any checksum, so `ChunkReader::open` requires it to be
//! equal to this leading copy: a damaged byte in either makes them differ and the chunk is
//! reported corrupt instead of being served under a silently altered schema.

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_schema::Schema;

/// Decodes the encapsulated schema message at the start of `bytes` (the file region between
/// the 64-byte header and the first block). `Err` carries the reason.
pub(crate) fn decode_schema_message(bytes: &[u8]) -> Result<Schema, String> {
    if bytes.get(..4) != Some(&[0xff; 4][..]) {
        return Err("schema message lacks the continuation marker".into());
    }
    let len = bytes
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("invalid schema message length")?;
    let fb = 8usize
        .checked_add(len)
        .and_then(|end| bytes.get(8..end))
        .ok_or("schema message longer than its region")?;
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let message = arrow_ipc::root_as_message(fb).map_err(|e| format!("schema message: {e}"))?;
        let schema = message
            .header_as_schema()
            .ok_or("first message is not a schema")?;
        arrow_ipc::convert::try_fb_to_schema(schema).map_err(|e| e.to_string())
    }));
    parsed.map_err(|_| "schema message parser panicked".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_ipc::writer::FileWriter;
    use arrow_schema::{DataType, Field};
    use std::collections::HashMap;

    #[test]
    fn decodes_the_leading_schema_and_rejects_damage() {
        let schema = Schema::new(vec![Field::new("timestamp_ns", DataType::Int64, false)])
            .with_metadata(HashMap::from([("k".to_owned(), "v".to_owned())]));
        let mut out = Vec::new();
        FileWriter::try_new(&mut out, &schema)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(decode_schema_message(&out[64..]).unwrap(), schema);
        assert!(decode_schema_message(&out[65..]).is_err());
        assert!(decode_schema_message(&out[64..80]).is_err());
        assert!(decode_schema_message(&[]).is_err());
    }
}
