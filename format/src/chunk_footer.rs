//! Open-time parsing and validation of a chunk's trailer and footer (layout in `chunk.rs`).
//!
//! The footer flatbuffer is verified by `arrow_ipc::root_as_footer`; everything read from it is
//! copied out under `catch_unwind` and then checked against the file length, the block table in
//! our metadata and the stats, so later block reads can trust offsets and lengths.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use arrow_ipc::MetadataVersion;
use arrow_schema::{Schema, SchemaRef};

use crate::block_table::{validate_blocks, BlockInfo, DATA_START};
use crate::chunk::{decode_blocks, hex_decode, CHUNK_VERSION, KEY_BLOCKS, KEY_STATS, KEY_VERSION};
use crate::error::FormatError;
use crate::ipc_message::{decode_schema, split_encapsulated};
use crate::stats::ChunkStats;
use crate::stats_compute::timestamp_index;

/// `ARROW1` magic at both ends of an Arrow IPC file.
const MAGIC: &[u8; 6] = b"ARROW1";
/// Leading magic plus zero padding to the 64-byte IPC alignment; the schema message follows.
const HEADER_LEN: u64 = DATA_START;
/// Footer length (i32) plus trailing magic.
const TRAILER_LEN: u64 = 10;
/// Largest footer accepted (schema + stats + block table), 64 MiB.
pub const MAX_FOOTER_BYTES: u64 = 64 << 20;

/// Everything `ChunkReader::open` needs, validated.
#[derive(Debug)]
pub(crate) struct Footer {
    pub schema: SchemaRef,
    pub stats: ChunkStats,
    pub blocks: Vec<BlockInfo>,
}

/// Owned copy of the footer flatbuffer's contents.
struct RawFooter {
    version: MetadataVersion,
    metadata: HashMap<String, String>,
    dictionaries: usize,
    schema: Result<Schema, String>,
    blocks: Vec<(i64, i32, i64)>,
}

fn read_at(file: &File, path: &Path, offset: u64, len: u64) -> Result<Vec<u8>, FormatError> {
    let len = usize::try_from(len).map_err(|_| FormatError::corrupt(path, "length overflow"))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| FormatError::io(path, e))?;
    Ok(buf)
}

/// Reads and validates the footer of the chunk `file` (of `file_len` bytes) at `path`.
pub(crate) fn read_footer(path: &Path, file: &File, file_len: u64) -> Result<Footer, FormatError> {
    let corrupt = |reason: String| FormatError::corrupt(path, reason);
    if file_len < HEADER_LEN + TRAILER_LEN {
        return Err(FormatError::foreign(
            path,
            format!("only {file_len} bytes long"),
        ));
    }
    let head = read_at(file, path, 0, 6)?;
    let trailer = read_at(file, path, file_len - TRAILER_LEN, TRAILER_LEN)?;
    if head != MAGIC || trailer.get(4..) != Some(&MAGIC[..]) {
        return Err(FormatError::foreign(path, "no ARROW1 magic at both ends"));
    }
    let mut n = [0u8; 4];
    n.copy_from_slice(trailer.get(..4).unwrap_or(&[0; 4]));
    let footer_len = i32::from_le_bytes(n);
    let footer_len = u64::try_from(footer_len)
        .ok()
        .filter(|&l| l > 0 && l <= file_len - HEADER_LEN - TRAILER_LEN && l <= MAX_FOOTER_BYTES)
        .ok_or_else(|| {
            corrupt(format!(
                "footer length {footer_len} invalid for a {file_len}-byte file"
            ))
        })?;
    let footer_start = file_len - TRAILER_LEN - footer_len;
    let bytes = read_at(file, path, footer_start, footer_len)?;

    let raw = catch_unwind(AssertUnwindSafe(|| parse_raw(&bytes)))
        .map_err(|_| corrupt("footer parser panicked".into()))?
        .map_err(corrupt)?;

    let version = raw
        .metadata
        .get(KEY_VERSION)
        .ok_or_else(|| FormatError::foreign(path, format!("footer has no {KEY_VERSION} key")))?;
    if version != CHUNK_VERSION {
        return Err(FormatError::UnsupportedVersion {
            path: path.to_path_buf(),
            version: version.clone(),
        });
    }
    if raw.version != MetadataVersion::V5 {
        return Err(corrupt(format!(
            "IPC metadata version {:?}, expected V5",
            raw.version
        )));
    }
    if raw.dictionaries != 0 {
        return Err(corrupt("footer lists dictionary blocks".into()));
    }
    let schema = Arc::new(raw.schema.map_err(|e| corrupt(format!("schema: {e}")))?);
    timestamp_index(&schema).map_err(|e| corrupt(format!("schema: {e}")))?;

    let stats_hex = raw
        .metadata
        .get(KEY_STATS)
        .ok_or_else(|| corrupt(format!("footer has no {KEY_STATS} key")))?;
    let stats_bytes =
        hex_decode(stats_hex).ok_or_else(|| corrupt("stats are not lowercase hex".into()))?;
    let stats = ChunkStats::decode(&stats_bytes).map_err(|e| corrupt(format!("stats: {e}")))?;

    let table = raw
        .metadata
        .get(KEY_BLOCKS)
        .ok_or_else(|| corrupt(format!("footer has no {KEY_BLOCKS} key")))?;
    let metas = decode_blocks(table).map_err(corrupt)?;
    let blocks = validate_blocks(&raw.blocks, &metas, footer_start, &stats).map_err(corrupt)?;

    // The footer schema has no checksum: require it to equal the leading schema message.
    let schema_end = blocks.first().map_or(HEADER_LEN, |b| b.offset);
    let schema_len = schema_end.saturating_sub(HEADER_LEN);
    if schema_len > MAX_FOOTER_BYTES {
        return Err(corrupt("schema message region too large".into()));
    }
    let leading = read_at(file, path, HEADER_LEN, schema_len)?;
    let leading = split_encapsulated(&leading)
        .and_then(|(fb, _)| decode_schema(fb))
        .map_err(|e| corrupt(format!("leading schema: {e}")))?;
    if leading != *schema {
        return Err(corrupt(
            "footer schema differs from the leading schema message".into(),
        ));
    }
    Ok(Footer {
        schema,
        stats,
        blocks,
    })
}

/// Copies the footer flatbuffer's contents out (may panic inside arrow; caller catches).
fn parse_raw(bytes: &[u8]) -> Result<RawFooter, String> {
    let footer = arrow_ipc::root_as_footer(bytes).map_err(|e| format!("footer flatbuffer: {e}"))?;
    let mut metadata = HashMap::new();
    for kv in footer.custom_metadata().into_iter().flatten() {
        if let (Some(k), Some(v)) = (kv.key(), kv.value()) {
            metadata.insert(k.to_owned(), v.to_owned());
        }
    }
    let schema = match footer.schema() {
        None => Err("missing".to_owned()),
        Some(s) if !s.endianness().equals_to_target_endianness() => {
            Err("foreign endianness".to_owned())
        }
        Some(s) => arrow_ipc::convert::try_fb_to_schema(s).map_err(|e| e.to_string()),
    };
    Ok(RawFooter {
        version: footer.version(),
        metadata,
        dictionaries: footer.dictionaries().map_or(0, |d| d.len()),
        schema,
        blocks: footer
            .recordBatches()
            .into_iter()
            .flatten()
            .map(|b| (b.offset(), b.metaDataLength(), b.bodyLength()))
            .collect(),
    })
}
