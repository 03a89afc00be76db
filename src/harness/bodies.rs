//! DoAction body target: every action parser against arbitrary JSON.

use super::*;

/// Tokens the action bodies of one input may refer to.
#[derive(Default)]
pub(super) struct Placeholders {
    session: String,
    topic: String,
    locator: String,
}

impl Placeholders {
    fn apply(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len());
        let mut rest = body;
        'outer: while let Some((&b, tail)) = rest.split_first() {
            if b == b'$' {
                for (name, value) in [
                    (&b"$SESSION"[..], &self.session),
                    (b"$TOPIC", &self.topic),
                    (b"$LOCATOR", &self.locator),
                ] {
                    if let Some(after) = rest.strip_prefix(name) {
                        out.extend_from_slice(value.as_bytes());
                        rest = after;
                        continue 'outer;
                    }
                }
            }
            out.push(b);
            rest = tail;
        }
        out
    }

    fn learn(&mut self, action: &str, response: &Value) {
        let text = |k: &str| response.get(k).and_then(Value::as_str).map(str::to_owned);
        match action {
            "session_create" => {
                self.session = text("uuid").unwrap_or_default();
                self.locator = text("locator").unwrap_or_default();
            }
            "sequence_create" => {
                if let Some(k) = text("key") {
                    self.session = k;
                }
            }
            "topic_create" => {
                self.topic = text("uuid").or_else(|| text("key")).unwrap_or_default();
            }
            _ => {}
        }
    }
}

/// Lines of `<action name> <body>` run in order through [`actions::reply`] on a fresh engine
/// state; `$SESSION`, `$TOPIC` and `$LOCATOR` in a body stand for the tokens and locator that
/// earlier actions of the same input returned. Each call returns a payload whose envelope is
/// valid JSON naming the action, or an error that blames the client; afterwards the catalog
/// still reads back.
pub fn actions(data: &[u8]) {
    let engine = engine();
    let mut tokens = Placeholders::default();
    for line in data.split(|&b| b == b'\n').take(32) {
        let (name, body) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (
                line.get(..i).unwrap_or(&[]),
                line.get(i + 1..).unwrap_or(&[]),
            ),
            None => (line, &[][..]),
        };
        let name = String::from_utf8_lossy(name);
        let body = tokens.apply(body);
        match actions::reply(&engine, &name, &body) {
            Ok(reply) => {
                let responses = match reply {
                    actions::Reply::One(v) => vec![v],
                    actions::Reply::Paged(items) => items,
                };
                for response in responses {
                    let env: Value =
                        serde_json::from_slice(&actions::envelope(&name, response.clone()))
                            .expect("the envelope is JSON");
                    assert_eq!(env.get("action").and_then(Value::as_str), Some(&*name));
                    tokens.learn(&name, &response);
                }
            }
            Err(e) => assert_client_error(&e, &format!("action `{name}`")),
        }
    }
    let catalog = engine.catalog();
    for (seq, _) in catalog.sequences().expect("sequences read back") {
        catalog.sessions_of(&seq).expect("sessions read back");
        for (_, topic) in catalog.topics_of(&seq).expect("topics read back") {
            catalog.token(&topic.uuid).expect("token reads back");
        }
        catalog
            .notifications(&seq)
            .expect("notifications read back");
    }
}
