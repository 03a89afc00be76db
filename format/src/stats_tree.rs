//! The schema as a tree of struct levels, for stats: where the leaves and coordinate structs
//! are (`plan_level`, once per schema) and how a batch's arrays map onto them with the combined
//! validity of all ancestor structs (`visit_level`, once per batch).

use arrow_array::{Array, ArrayRef, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Fields};

use crate::error::FormatError;
use crate::stats_values::{float_values, GeoAcc, ValueAcc};

/// Running stats of one leaf column.
#[derive(Debug)]
pub(crate) struct LeafAcc {
    pub path: String,
    pub null_count: u64,
    pub values: ValueAcc,
}

/// One struct level of the schema (the top level is a level too).
#[derive(Debug)]
pub(crate) struct Level {
    /// `(geo index, latitude child, longitude child)` if this level has coordinates.
    geo: Option<(usize, usize, usize)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Leaf(usize),
    Struct(Level),
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Builds the level for `fields` at `path`, registering its leaves and coordinate structs.
pub(crate) fn plan_level(
    fields: &Fields,
    path: &str,
    leaves: &mut Vec<LeafAcc>,
    geos: &mut Vec<GeoAcc>,
) -> Level {
    let is_float = |name: &str| {
        fields
            .iter()
            .position(|f| f.name() == name && f.data_type().is_floating())
    };
    let geo = match (is_float("latitude"), is_float("longitude")) {
        (Some(lat), Some(lon)) => {
            geos.push(GeoAcc::new(path.to_owned()));
            Some((geos.len() - 1, lat, lon))
        }
        _ => None,
    };
    let children = fields
        .iter()
        .map(|f| {
            let child_path = join(path, f.name());
            match f.data_type() {
                DataType::Struct(children) => {
                    Node::Struct(plan_level(children, &child_path, leaves, geos))
                }
                dt => {
                    leaves.push(LeafAcc {
                        path: child_path,
                        null_count: 0,
                        values: ValueAcc::for_type(dt),
                    });
                    Node::Leaf(leaves.len() - 1)
                }
            }
        })
        .collect();
    Level { geo, children }
}

fn mismatch() -> FormatError {
    FormatError::SchemaMismatch("array does not match its field's data type".into())
}

/// Folds `columns` (the arrays of `level`) into the leaf and geo accumulators; `mask` is the
/// combined validity of the enclosing structs.
pub(crate) fn visit_level(
    level: &Level,
    columns: &[ArrayRef],
    mask: Option<&NullBuffer>,
    leaves: &mut [LeafAcc],
    geos: &mut [GeoAcc],
) -> Result<(), FormatError> {
    let len_ok = |a: &ArrayRef| mask.is_none_or(|m| m.len() == a.len());
    if !columns.iter().all(len_ok) {
        return Err(mismatch());
    }
    if let Some((g, lat, lon)) = level.geo {
        let (Some(lat), Some(lon)) = (columns.get(lat), columns.get(lon)) else {
            return Err(mismatch());
        };
        let lat_nulls = NullBuffer::union(mask, lat.logical_nulls().as_ref());
        let nulls = NullBuffer::union(lat_nulls.as_ref(), lon.logical_nulls().as_ref());
        let lat = float_values(lat.as_ref()).ok_or_else(mismatch)?;
        let lon = float_values(lon.as_ref()).ok_or_else(mismatch)?;
        geos.get_mut(g)
            .ok_or_else(mismatch)?
            .update(&lat, &lon, nulls.as_ref());
    }
    if level.children.len() != columns.len() {
        return Err(mismatch());
    }
    for (node, array) in level.children.iter().zip(columns) {
        match node {
            Node::Leaf(i) => {
                let nulls = NullBuffer::union(mask, array.logical_nulls().as_ref());
                let leaf = leaves.get_mut(*i).ok_or_else(mismatch)?;
                leaf.null_count = leaf
                    .null_count
                    .saturating_add(nulls.as_ref().map_or(0, |n| n.null_count()) as u64);
                leaf.values
                    .update(array.as_ref(), nulls.as_ref())
                    .ok_or_else(mismatch)?;
            }
            Node::Struct(child) => {
                let s = array
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .ok_or_else(mismatch)?;
                let nulls = NullBuffer::union(mask, s.nulls());
                visit_level(child, s.columns(), nulls.as_ref(), leaves, geos)?;
            }
        }
    }
    Ok(())
}
