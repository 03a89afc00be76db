//! Descriptor, ticket and name parsing target.

use super::*;

/// First byte chooses the parser: DoPut descriptor, GetFlightInfo descriptor, ticket, PATH
/// descriptor, sequence name, topic locator or session locator; the rest is its input. Parsed
/// values re-serialize and re-parse to themselves; refusals are `InvalidArgument`.
pub fn descriptors(data: &[u8]) {
    let mut input = Input(data);
    let which = input.byte();
    let bytes = input.0;
    let cmd = FlightDescriptor::new_cmd(bytes.to_vec());
    let text = String::from_utf8_lossy(bytes);
    let refused = |e: Error| assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e:?}");
    match which % 7 {
        0 => match PutDescriptor::parse(&cmd) {
            Ok(p) => {
                let ack = p.ack_durable.then_some("durable");
                let j = json!({"resource_locator": p.resource_locator, "key": p.token, "ack": ack});
                let again = PutDescriptor::parse(&FlightDescriptor::new_cmd(j.to_string()));
                assert_eq!(again.ok(), Some(p));
            }
            Err(e) => refused(e),
        },
        1 => match ResourceDescriptor::parse(&cmd) {
            Ok(r) => {
                if let (Some(s), Some(e)) = (r.window.start, r.window.end) {
                    assert!(s < e, "accepted an empty window");
                }
                let j = json!({"resource_locator": r.resource_locator,
                    "timestamp_ns_start": r.window.start, "timestamp_ns_end": r.window.end});
                let again = ResourceDescriptor::parse(&FlightDescriptor::new_cmd(j.to_string()));
                assert_eq!(again.ok(), Some(r));
            }
            Err(e) => refused(e),
        },
        2 => match TicketBody::decode(bytes) {
            Ok(t) => {
                let encoded = t.encode();
                if encoded.len() <= crate::flight::descriptor::MAX_DESCRIPTOR_BYTES {
                    assert_eq!(TicketBody::decode(&encoded).ok(), Some(t));
                }
            }
            Err(e) => refused(e),
        },
        3 => {
            let path = FlightDescriptor::new_path(text.split('/').map(str::to_owned).collect());
            PutDescriptor::parse(&path)
                .map(|_| panic!("PATH accepted"))
                .unwrap_or_else(refused);
            ResourceDescriptor::parse(&path)
                .map(|_| panic!("PATH accepted"))
                .unwrap_or_else(refused);
        }
        4 => match names::sequence_name(&text) {
            Ok(n) => {
                assert!(!n.is_empty() && n.len() <= names::MAX_NAME_BYTES && !n.contains('/'));
                assert_eq!(names::sequence_name(&n).ok(), Some(n));
            }
            Err(e) => refused(e),
        },
        5 => match names::topic_locator(&text) {
            Ok(l) => assert_eq!(names::topic_locator(&l.locator()).ok(), Some(l)),
            Err(e) => refused(e),
        },
        _ => match names::session_locator(&text) {
            Ok((s, id)) => {
                let again = names::session_locator(&format!("{s}:{id}"));
                assert_eq!(again.ok(), Some((s, id)));
            }
            Err(e) => refused(e),
        },
    }
}
