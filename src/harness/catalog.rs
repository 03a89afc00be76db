//! Catalog value target: every record type decodes or is refused, and round-trips.

use super::*;

/// Decode `bytes` as `T`; a decoded value re-encodes to bytes that decode and re-encode to
/// themselves; a refusal is `DataLoss` naming the entry.
pub(super) fn catalog_round_trip<T>(bytes: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    match records::decode::<T>(bytes, "fuzz-entry") {
        Ok(value) => {
            let once = records::encode(&value).expect("a decoded record encodes");
            assert_eq!(once.first(), Some(&records::VALUE_VERSION));
            let back: T = records::decode(&once, "again").expect("an encoded record decodes");
            let twice = records::encode(&back).expect("a decoded record encodes");
            assert_eq!(once, twice, "catalog record does not round-trip");
        }
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::DataLoss, "{e:?}");
            assert!(
                e.message.contains("fuzz-entry"),
                "error does not name the entry: {e:?}"
            );
        }
    }
}

/// First byte chooses the record type (sequence, session, topic, token, notification, topic
/// statistics, raw schema value); the rest is the stored value.
pub fn catalog_record(data: &[u8]) {
    let mut input = Input(data);
    let which = input.byte();
    let value = input.0;
    match which % 7 {
        0 => catalog_round_trip::<SequenceRecord>(value),
        1 => catalog_round_trip::<SessionRecord>(value),
        2 => catalog_round_trip::<TopicRecord>(value),
        3 => catalog_round_trip::<TokenRecord>(value),
        4 => catalog_round_trip::<NotificationRecord>(value),
        5 => catalog_round_trip::<DataStats>(value),
        _ => match records::decode_raw(value, "raw") {
            Ok(body) => assert_eq!(records::encode_raw(body), value),
            Err(e) => assert_eq!(e.kind, ErrorKind::DataLoss),
        },
    }
}
