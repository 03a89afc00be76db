//! Error notifications attached to sequences and topics (protocol.md §3.9-§3.11).

use super::service::Lifecycle;
use crate::catalog::records::NotificationRecord;
use crate::error::{Error, Result};
use crate::{ids, names};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

/// Longest notification message kept, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Lifecycle {
    /// Resolve a notification target to its canonical key, checking it exists.
    fn notification_target(&self, raw: &str, topic: bool) -> Result<String> {
        if topic {
            let loc = names::topic_locator(raw)?;
            if self.catalog.topic(&loc.sequence, &loc.topic)?.is_none() {
                return Err(Error::not_found(format!(
                    "topic `{}` does not exist.",
                    loc.locator()
                )));
            }
            Ok(loc.locator())
        } else {
            let seq = names::sequence_name(raw)?;
            if self.catalog.sequence(&seq)?.is_none() {
                return Err(Error::not_found(format!(
                    "sequence `{seq}` does not exist."
                )));
            }
            Ok(seq)
        }
    }

    /// Attach a notification of type `error` to a sequence or topic.
    pub fn create_notification(&self, raw: &str, topic: bool, kind: &str, msg: &str) -> Result<()> {
        if kind != "error" {
            return Err(Error::invalid(format!(
                "notification_type `{}` is not supported; use `error`.",
                kind.escape_debug()
            )));
        }
        if msg.len() > MAX_MESSAGE_BYTES {
            return Err(Error::invalid(format!(
                "notification message is {} bytes; the limit is {MAX_MESSAGE_BYTES}.",
                msg.len()
            )));
        }
        let target = self.notification_target(raw, topic)?;
        let rec = NotificationRecord {
            notification_type: kind.to_string(),
            msg: msg.to_string(),
            created_at_ns: ids::now_ns(),
        };
        let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.catalog
            .write(|tx| tx.put_notification(&target, counter, &rec))
    }

    /// Notifications of a target as the SDK expects them.
    pub fn list_notifications(&self, raw: &str, topic: bool) -> Result<Vec<Value>> {
        let target = self.notification_target(raw, topic)?;
        Ok(self
            .catalog
            .notifications(&target)?
            .into_iter()
            .map(|n| {
                json!({
                    "name": target,
                    "notification_type": n.notification_type,
                    "msg": n.msg,
                    "created_datetime": format_utc(n.created_at_ns),
                })
            })
            .collect())
    }

    /// Remove all notifications of a target.
    pub fn purge_notifications(&self, raw: &str, topic: bool) -> Result<()> {
        let target = self.notification_target(raw, topic)?;
        self.catalog.write(|tx| tx.purge_notifications(&target))
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff UTC` for ns since the epoch (civil-from-days algorithm).
pub fn format_utc(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00.000000 UTC");
        assert_eq!(
            format_utc(1_777_000_000_123_456_789),
            "2026-04-24 03:06:40.123456 UTC"
        );
        assert_eq!(
            format_utc(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000 UTC"
        );
    }
}
