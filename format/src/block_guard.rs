//! The chunk-specific checks of one record batch block, run after its CRC matched and before
//! arrow-ipc decodes it. `ipc_message` does what every IPC message gets (flatbuffer verified,
//! every buffer inside the body, zstd or no compression, declared uncompressed lengths valid and
//! capped, here at [`MAX_BLOCK_DECODED_BYTES`]); on top of it, per the `chunk.rs` spec, the block
//! must hold one V5 `RecordBatch` message with the block table's row count whose declared body
//! is exactly the rest of the block.

use arrow_ipc::MetadataVersion;

use crate::chunk::MAX_BLOCK_DECODED_BYTES;
use crate::ipc_message::{split_encapsulated, BatchMessage};

/// Checks `block` (metadata of `meta_len` bytes followed by the body) expecting `rows` rows and
/// returns its message, to decode with the body `block[meta_len..]`. `Err` carries the reason.
pub(crate) fn check_block(
    block: &[u8],
    meta_len: usize,
    rows: u64,
) -> Result<BatchMessage<'_>, String> {
    let (meta, body) = block
        .split_at_checked(meta_len)
        .ok_or("block shorter than its metadata")?;
    let (fb, _padding) = split_encapsulated(meta).map_err(|e| e.to_string())?;
    let message =
        BatchMessage::parse(fb, body, MAX_BLOCK_DECODED_BYTES).map_err(|e| e.to_string())?;
    if message.version() != MetadataVersion::V5 {
        return Err(format!("message version {:?}", message.version()));
    }
    if u64::try_from(message.body_length()).ok() != Some(body.len() as u64) {
        return Err("message body length differs from the block's".into());
    }
    if u64::try_from(message.rows()).ok() != Some(rows) {
        return Err(format!(
            "message has {} rows, block table says {rows}",
            message.rows()
        ));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
    use arrow_ipc::CompressionType;
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    /// One zstd-compressed record batch block, its metadata length and the body offset of its
    /// first buffer that declares a positive uncompressed length.
    fn zstd_block() -> (Vec<u8>, usize, usize) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("timestamp_ns", DataType::Int64, false),
            Field::new("s", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..1000)) as ArrayRef,
                Arc::new(StringArray::from(vec!["frame"; 1000])),
            ],
        )
        .unwrap();
        let opts = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::ZSTD))
            .unwrap();
        let mut out = Vec::new();
        let mut w = FileWriter::try_new_with_options(&mut out, &schema, opts).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        drop(w);
        let n = out.len();
        let footer_len = i32::from_le_bytes(out[n - 10..n - 6].try_into().unwrap()) as usize;
        let footer = arrow_ipc::root_as_footer(&out[n - 10 - footer_len..n - 10]).unwrap();
        let b = footer.recordBatches().unwrap().get(0);
        let (off, meta) = (b.offset() as usize, b.metaDataLength() as usize);
        let block = out[off..off + meta + b.bodyLength() as usize].to_vec();
        let fb_len = i32::from_le_bytes(block[4..8].try_into().unwrap()) as usize;
        let msg = arrow_ipc::root_as_message(&block[8..8 + fb_len]).unwrap();
        let rb = msg.header_as_record_batch().unwrap();
        let body = &block[meta..];
        let first = rb
            .buffers()
            .unwrap()
            .iter()
            .map(|buf| buf.offset() as usize)
            .find(|&o| i64::from_le_bytes(body[o..o + 8].try_into().unwrap()) > 0)
            .unwrap();
        (block, meta, first)
    }

    #[test]
    fn accepts_a_real_block_and_checks_rows() {
        let (block, meta, _) = zstd_block();
        check_block(&block, meta, 1000).unwrap();
        assert!(check_block(&block, meta, 999).unwrap_err().contains("rows"));
        assert!(check_block(&block[..block.len() - 1], meta, 1000).is_err());
    }

    #[test]
    fn rejects_absurd_declared_lengths() {
        let (mut block, meta, first) = zstd_block();
        let at = meta + first;
        block[at..at + 8].copy_from_slice(&(1i64 << 40).to_le_bytes());
        assert!(check_block(&block, meta, 1000)
            .unwrap_err()
            .contains("declare"));
        block[at..at + 8].copy_from_slice(&(-7i64).to_le_bytes());
        assert!(check_block(&block, meta, 1000)
            .unwrap_err()
            .contains("declares length"));
    }

    #[test]
    fn rejects_malformed_prefixes() {
        assert!(check_block(&[], 8, 1).is_err());
        assert!(check_block(&[0; 16], 8, 1)
            .unwrap_err()
            .contains("continuation"));
        let mut b = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        b.extend_from_slice(&[0; 8]);
        assert!(check_block(&b, 16, 1).unwrap_err().contains("longer"));
        let mut b = vec![0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0];
        b.extend_from_slice(&[0xab; 8]);
        assert!(check_block(&b, 16, 1).unwrap_err().contains("flatbuffer"));
    }
}
