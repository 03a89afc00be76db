//! Date and time literals for temporal columns. The SDK sends datetime operands as strings:
//! ISO-8601 (`datetime.isoformat()`: `2024-05-01T12:00:00.5`, with or without an offset;
//! dates `2024-05-01`; times `12:00:00.25`) or a nanosecond integer as a string
//! (protocol.md §3.12). They are turned into the column's native integer (its unit since the
//! epoch or midnight), which is how rows and skip indices hold temporal values. A naive
//! datetime is taken as UTC; a string that is neither form is INVALID_ARGUMENT.

use super::ops::{Lit, Op};
use crate::error::{Error, Result};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

const NS_PER_DAY: i128 = 86_400_000_000_000;

fn per_unit(u: &TimeUnit) -> i128 {
    match u {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// Nanoseconds since the epoch (or since midnight for a bare time) of `s`.
fn nanos(s: &str, time_of_day: bool) -> Option<i128> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Some(i128::from(n));
    }
    if time_of_day {
        let t = NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok()?;
        return Some(
            i128::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i128::from(t.nanosecond()),
        );
    }
    let dt = if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        d.naive_utc()
    } else if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z") {
        d.naive_utc()
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        d
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        d
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
    };
    let utc = dt.and_utc();
    Some(i128::from(utc.timestamp()) * 1_000_000_000 + i128::from(utc.timestamp_subsec_nanos()))
}

/// Nanoseconds per unit of the column, and whether values count from midnight; `None` for
/// non-temporal types.
fn scale(dt: &DataType) -> Option<(i128, bool)> {
    Some(match dt {
        DataType::Timestamp(u, _) | DataType::Duration(u) => (per_unit(u), false),
        DataType::Date32 => (NS_PER_DAY, false),
        DataType::Date64 => (1_000_000, false),
        DataType::Time32(u) | DataType::Time64(u) => (per_unit(u), true),
        _ => return None,
    })
}

fn convert(l: &Lit, key: &str, dt: &DataType) -> Result<Lit> {
    let (Some((unit, tod)), Lit::Str(s)) = (scale(dt), l) else {
        return Ok(l.clone());
    };
    let ns = nanos(s, tod).ok_or_else(|| {
        Error::invalid(format!(
            "`{key}` is a {dt} field: `{}` is neither an ISO-8601 date/time nor an integer of \
             nanoseconds.",
            s.escape_debug()
        ))
    })?;
    let v = ns.div_euclid(unit);
    i64::try_from(v)
        .map(Lit::Int)
        .map_err(|_| Error::invalid(format!("`{key}`: `{s}` is out of range for {dt}.")))
}

/// `op` with string operands of a temporal column converted to the column's integers.
pub fn adapt_temporal(op: &Op, key: &str, dt: &DataType) -> Result<Op> {
    if scale(dt).is_none() {
        return Ok(op.clone());
    }
    let c = |l: &Lit| convert(l, key, dt);
    Ok(match op {
        Op::Eq(l) => Op::Eq(c(l)?),
        Op::Neq(l) => Op::Neq(c(l)?),
        Op::Lt(l) => Op::Lt(c(l)?),
        Op::Leq(l) => Op::Leq(c(l)?),
        Op::Gt(l) => Op::Gt(c(l)?),
        Op::Geq(l) => Op::Geq(c(l)?),
        Op::In(ls) => Op::In(ls.iter().map(c).collect::<Result<_>>()?),
        Op::Between(a, b) => Op::Between(c(a)?, c(b)?),
        Op::Outside(a, b) => Op::Outside(c(a)?, c(b)?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(op: Op) -> Lit {
        match op {
            Op::Eq(l) => l,
            other => panic!("{other:?}"),
        }
    }

    fn eq(s: &str, dt: DataType) -> Lit {
        lit(adapt_temporal(&Op::Eq(Lit::Str(s.into())), "T.t", &dt).unwrap())
    }

    #[test]
    fn iso_and_integer_strings_become_column_integers() {
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, None);
        assert_eq!(
            eq("1700000000000000001", ns.clone()),
            Lit::Int(1_700_000_000_000_000_001)
        );
        assert_eq!(
            eq("2023-11-14T22:13:20", ns.clone()),
            Lit::Int(1_700_000_000_000_000_000)
        );
        assert_eq!(
            eq("2023-11-14T22:13:20.5+00:00", ns.clone()),
            Lit::Int(1_700_000_000_500_000_000)
        );
        assert_eq!(
            eq("2023-11-14T23:13:20+01:00", ns),
            Lit::Int(1_700_000_000_000_000_000)
        );
        let ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        assert_eq!(
            eq("2023-11-14T22:13:20.25", ms),
            Lit::Int(1_700_000_000_250)
        );
        assert_eq!(eq("1970-01-03", DataType::Date32), Lit::Int(2));
        assert_eq!(
            eq("01:00:00.5", DataType::Time64(TimeUnit::Microsecond)),
            Lit::Int(3_600_500_000)
        );
        // Numbers and other types pass through.
        let op = Op::Gt(Lit::Int(5));
        assert_eq!(adapt_temporal(&op, "k", &DataType::Date32).unwrap(), op);
        let op = Op::Eq(Lit::Str("x".into()));
        assert_eq!(adapt_temporal(&op, "k", &DataType::Utf8).unwrap(), op);
    }

    #[test]
    fn other_strings_are_invalid_argument() {
        let e = adapt_temporal(
            &Op::Eq(Lit::Str("yesterday".into())),
            "T.t",
            &DataType::Date32,
        )
        .unwrap_err();
        assert!(
            e.message.contains("`T.t` is a Date32 field"),
            "{}",
            e.message
        );
    }
}
