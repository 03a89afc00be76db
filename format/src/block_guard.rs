//! Pre-decode checks on one record batch block, run after its CRC matched and before arrow-ipc
//! decodes it. arrow-ipc 60.1.0 trusts the message: it slices buffers without bounds checks
//! (panics) and sizes zstd output by the declared uncompressed length (an absurd length aborts the
//! process on allocation, which `catch_unwind` cannot stop). So, per the `chunk.rs` spec, this
//! checks that the block holds one V5 `RecordBatch` message with the expected row count, that
//! every buffer lies inside the body, that compression (if any) is zstd, and that the declared
//! uncompressed lengths sum to at most [`MAX_BLOCK_DECODED_BYTES`].

use arrow_ipc::{BodyCompressionMethod, CompressionType, MetadataVersion};

use crate::chunk::MAX_BLOCK_DECODED_BYTES;

/// Encapsulated-message continuation marker.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// Checks `block` (metadata of `meta_len` bytes followed by the body) expecting `rows` rows.
/// `Err` carries the reason.
pub(crate) fn check_block(block: &[u8], meta_len: usize, rows: u64) -> Result<(), String> {
    let (meta, body) = block
        .split_at_checked(meta_len)
        .ok_or("block shorter than its metadata")?;
    if meta.get(..4) != Some(&CONTINUATION[..]) {
        return Err("missing continuation marker".into());
    }
    let fb_len = meta
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or("invalid message length")?;
    let fb = 8usize
        .checked_add(fb_len)
        .and_then(|end| meta.get(8..end))
        .ok_or("message longer than the block metadata")?;
    let message = arrow_ipc::root_as_message(fb).map_err(|e| format!("message flatbuffer: {e}"))?;
    if message.version() != MetadataVersion::V5 {
        return Err(format!("message version {:?}", message.version()));
    }
    if u64::try_from(message.bodyLength()).ok() != Some(body.len() as u64) {
        return Err("message body length differs from the block's".into());
    }
    let batch = message
        .header_as_record_batch()
        .ok_or("message is not a record batch")?;
    if u64::try_from(batch.length()).ok() != Some(rows) {
        return Err(format!(
            "message has {} rows, block table says {rows}",
            batch.length()
        ));
    }
    let compressed = match batch.compression() {
        None => false,
        Some(c)
            if c.codec() == CompressionType::ZSTD
                && c.method() == BodyCompressionMethod::BUFFER =>
        {
            true
        }
        Some(c) => return Err(format!("unsupported compression {:?}", c.codec())),
    };
    let mut declared_total: u64 = 0;
    for (i, buf) in batch.buffers().into_iter().flatten().enumerate() {
        let range = usize::try_from(buf.offset())
            .ok()
            .zip(usize::try_from(buf.length()).ok())
            .and_then(|(off, len)| Some(off..off.checked_add(len)?));
        let data = range
            .and_then(|r| body.get(r))
            .ok_or_else(|| format!("buffer {i} lies outside the body"))?;
        if !compressed || data.is_empty() {
            continue;
        }
        let prefix = data
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .ok_or_else(|| format!("compressed buffer {i} has no length prefix"))?;
        match i64::from_le_bytes(prefix) {
            -1 | 0 => {}
            n if n > 0 => declared_total = declared_total.saturating_add(n as u64),
            n => return Err(format!("buffer {i} declares length {n}")),
        }
    }
    if declared_total > MAX_BLOCK_DECODED_BYTES {
        return Err(format!(
            "buffers declare {declared_total} uncompressed bytes, limit {MAX_BLOCK_DECODED_BYTES}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
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
