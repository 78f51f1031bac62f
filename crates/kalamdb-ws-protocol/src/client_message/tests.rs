//! The parser against the spec's examples (§6.2, §6.3) and every way a client message can
//! be wrong (§6.5, §6.9).

use serde_json::json;

use super::*;
use crate::close;
use crate::options::{Compression, Serialization};

fn parse_ok(text: &str) -> ClientMessage {
    match parse_client_message(text) {
        Ok(msg) => msg,
        Err(err) => panic!("{text} should parse, got {err:?}"),
    }
}

fn parse_err(text: &str) -> ProtocolError {
    match parse_client_message(text) {
        Ok(msg) => panic!("{text} should fail, got {msg:?}"),
        Err(err) => err,
    }
}

fn subscribe_options(text: &str) -> Option<SubscribeOptions> {
    match parse_ok(text) {
        ClientMessage::Subscribe(req) => req.options,
        other => panic!("expected subscribe, got {other:?}"),
    }
}

const SEQ: i64 = 269_880_183_715_823_617;

// ---- client → server: the §6.2 / §6.3 examples ----

#[test]
fn parses_spec_subscribe_example() {
    let msg = parse_ok(
        r#"{"type":"subscribe","subscription":{"id":"sub-1a2b3c","sql":"SELECT * FROM app.messages WHERE room = 'a'",
 "options":{"batch_size":500,"last_rows":50,"from":269880183715823617}}}"#,
    );
    assert_eq!(
        msg,
        ClientMessage::Subscribe(SubscriptionRequest {
            id: "sub-1a2b3c".into(),
            sql: "SELECT * FROM app.messages WHERE room = 'a'".into(),
            options: Some(SubscribeOptions {
                batch_size: Some(500),
                last_rows: Some(50),
                from: Some(SEQ),
            }),
        })
    );
}

#[test]
fn parses_spec_next_batch_unsubscribe_and_ping_examples() {
    assert_eq!(
        parse_ok(
            r#"{"type":"next_batch","subscription_id":"sub-1a2b3c","last_seq_id":269880183715823617}"#
        ),
        ClientMessage::NextBatch {
            subscription_id: "sub-1a2b3c".into(),
            last_seq_id: Some(SEQ),
        }
    );
    assert_eq!(
        parse_ok(r#"{"type":"unsubscribe","subscription_id":"sub-1a2b3c"}"#),
        ClientMessage::Unsubscribe {
            subscription_id: "sub-1a2b3c".into()
        }
    );
    assert_eq!(parse_ok(r#"{"type":"ping"}"#), ClientMessage::Ping);
    assert_eq!(parse_ok(r#"{"type":"ping","ts":123}"#), ClientMessage::Ping);
}

#[test]
fn parses_spec_authenticate_example() {
    assert_eq!(
        parse_ok(
            r#"{"type":"authenticate","method":"jwt","token":"<access JWT>","protocol":{"serialization":"json","compression":"gzip"}}"#
        ),
        ClientMessage::Authenticate {
            method: "jwt".into(),
            token: "<access JWT>".into(),
            protocol: ProtocolOptions {
                serialization: Serialization::Json,
                compression: Compression::Gzip,
            },
        }
    );
    assert_eq!(
        parse_ok(
            r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"msgpack","compression":"none"}}"#
        ),
        ClientMessage::Authenticate {
            method: "jwt".into(),
            token: "t".into(),
            protocol: ProtocolOptions {
                serialization: Serialization::Msgpack,
                compression: Compression::None,
            },
        }
    );
}

#[test]
fn authenticate_requires_a_valid_protocol() {
    for text in [
        r#"{"type":"authenticate","method":"jwt","token":"t"}"#,
        r#"{"type":"authenticate","method":"jwt","token":"t","protocol":null}"#,
        r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"json"}}"#,
        r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"xml","compression":"gzip"}}"#,
        r#"{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"json","compression":"br"}}"#,
        r#"{"type":"authenticate","method":"jwt","protocol":{"serialization":"json","compression":"gzip"}}"#,
    ] {
        let err = parse_err(text);
        assert_eq!(err.code, WsErrorCode::Protocol, "{text}");
        assert_eq!(err.subscription_id, "protocol", "{text}");
    }
}

// ---- options: absent / null / {} ----

#[test]
fn options_absent_or_null_mean_no_initial_data() {
    let base = r#"{"type":"subscribe","subscription":{"id":"s","sql":"SELECT * FROM a.b""#;
    assert_eq!(subscribe_options(&format!("{base}}}}}")), None);
    assert_eq!(
        subscribe_options(&format!(r#"{base},"options":null}}}}"#)),
        None
    );
    let empty = subscribe_options(&format!(r#"{base},"options":{{}}}}}}"#));
    assert_eq!(empty, Some(SubscribeOptions::default()));
    let ClientMessage::Subscribe(req) = parse_ok(&format!(r#"{base},"options":{{}}}}}}"#)) else {
        panic!("expected subscribe")
    };
    assert!(req.wants_initial_data());
}

#[test]
fn from_accepts_string_and_the_from_seq_id_alias() {
    let with = |options: &str| {
        subscribe_options(&format!(
            r#"{{"type":"subscribe","subscription":{{"id":"s","sql":"q","options":{options}}}}}"#
        ))
        .unwrap()
        .from
    };
    assert_eq!(with(r#"{"from":269880183715823617}"#), Some(SEQ));
    assert_eq!(with(r#"{"from":"269880183715823617"}"#), Some(SEQ));
    assert_eq!(with(r#"{"from_seq_id":269880183715823617}"#), Some(SEQ));
    assert_eq!(with(r#"{"from_seq_id":"269880183715823617"}"#), Some(SEQ));
    assert_eq!(with(r#"{"from":null}"#), None);
    // `from` wins when a client sends both spellings.
    assert_eq!(with(r#"{"from":"5","from_seq_id":7}"#), Some(5));
    assert_eq!(with(r#"{"from":null,"from_seq_id":7}"#), Some(7));
}

#[test]
fn unknown_option_fields_are_ignored() {
    let options = subscribe_options(
        r#"{"type":"subscribe","subscription":{"id":"s","sql":"q","options":{"batch_size":10,"include_old":true,"x":{"y":[1]}}}}"#,
    );
    assert_eq!(
        options,
        Some(SubscribeOptions {
            batch_size: Some(10),
            last_rows: None,
            from: None,
        })
    );
}

#[test]
fn invalid_option_values_are_unsupported_for_that_subscription() {
    for options in [
        r#"{"batch_size":0}"#,
        r#"{"batch_size":-1}"#,
        r#"{"batch_size":"10"}"#,
        r#"{"batch_size":1.5}"#,
        r#"{"batch_size":4294967296}"#,
        r#"{"last_rows":-3}"#,
        r#"{"last_rows":60,"batch_size":50}"#,
        r#"{"from":"abc"}"#,
        r#"{"from":1.5}"#,
        r#"{"from":true}"#,
        r#"{"from":9223372036854775808}"#,
        r#"{"from_seq_id":"12x"}"#,
        r#"[1]"#,
        r#""fast""#,
    ] {
        let text = format!(
            r#"{{"type":"subscribe","subscription":{{"id":"sub-9","sql":"q","options":{options}}}}}"#
        );
        let err = parse_err(&text);
        assert_eq!(err.code, WsErrorCode::Unsupported, "{options}");
        assert_eq!(err.subscription_id, "sub-9", "{options}");
        assert_eq!(err.close_code(), None);
    }
    // Equal is allowed.
    assert_eq!(
        subscribe_options(
            r#"{"type":"subscribe","subscription":{"id":"s","sql":"q","options":{"last_rows":50,"batch_size":50}}}"#
        )
        .unwrap()
        .last_rows,
        Some(50)
    );
}

#[test]
fn batch_size_is_checked_against_the_configured_maximum() {
    let ClientMessage::Subscribe(req) = parse_ok(
        r#"{"type":"subscribe","subscription":{"id":"s1","sql":"q","options":{"batch_size":1001}}}"#,
    ) else {
        panic!("expected subscribe")
    };
    assert!(req.check_batch_size(1001).is_ok());
    let err = req.check_batch_size(1000).unwrap_err();
    assert_eq!(err.code, WsErrorCode::Unsupported);
    assert_eq!(err.subscription_id, "s1");
    let ClientMessage::Subscribe(no_options) =
        parse_ok(r#"{"type":"subscribe","subscription":{"id":"s1","sql":"q"}}"#)
    else {
        panic!("expected subscribe")
    };
    assert!(no_options.check_batch_size(1).is_ok());
}

// ---- next_batch last_seq_id ----

#[test]
fn next_batch_last_seq_id_number_string_null_or_absent() {
    let last = |text: &str| match parse_ok(text) {
        ClientMessage::NextBatch { last_seq_id, .. } => last_seq_id,
        other => panic!("expected next_batch, got {other:?}"),
    };
    assert_eq!(
        last(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":42}"#),
        Some(42)
    );
    assert_eq!(
        last(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":"269880183715823617"}"#),
        Some(SEQ)
    );
    assert_eq!(
        last(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":null}"#),
        None
    );
    assert_eq!(last(r#"{"type":"next_batch","subscription_id":"s"}"#), None);

    let err = parse_err(r#"{"type":"next_batch","subscription_id":"s","last_seq_id":"x"}"#);
    assert_eq!(err.code, WsErrorCode::Unsupported);
    assert_eq!(err.subscription_id, "s");
}

// ---- error cases ----

#[test]
fn blank_subscription_id_is_its_own_error() {
    for id in ["", " ", "\t \n"] {
        let text = serde_json::to_string(&json!({
            "type": "subscribe",
            "subscription": {"id": id, "sql": "SELECT * FROM a.b", "options": {}}
        }))
        .unwrap();
        let err = parse_err(&text);
        assert_eq!(err.code, WsErrorCode::InvalidSubscriptionId);
        assert_eq!(err.subscription_id, "invalid_subscription");
        assert_eq!(err.close_code(), None);
    }
    // Ids are echoed exactly, surrounding spaces included.
    let ClientMessage::Subscribe(req) =
        parse_ok(r#"{"type":"subscribe","subscription":{"id":" a ","sql":"q"}}"#)
    else {
        panic!("expected subscribe")
    };
    assert_eq!(req.id, " a ");
}

#[test]
fn blank_id_is_reported_before_bad_options() {
    let err = parse_err(
        r#"{"type":"subscribe","subscription":{"id":"","sql":"q","options":{"batch_size":0}}}"#,
    );
    assert_eq!(err.code, WsErrorCode::InvalidSubscriptionId);
}

#[test]
fn malformed_messages_are_protocol_errors() {
    for text in [
        "",
        "not json",
        r#"{"type":"ping""#,
        "[1,2]",
        "42",
        "null",
        r#"{}"#,
        r#"{"type":"shout"}"#,
        r#"{"type":7}"#,
        r#"{"type":"subscribe"}"#,
        r#"{"type":"subscribe","subscription":null}"#,
        r#"{"type":"subscribe","subscription":{"sql":"q"}}"#,
        r#"{"type":"subscribe","subscription":{"id":"s"}}"#,
        r#"{"type":"subscribe","subscription":{"id":5,"sql":"q"}}"#,
        r#"{"type":"next_batch"}"#,
        r#"{"type":"unsubscribe"}"#,
        r#"{"type":"unsubscribe","subscription_id":null}"#,
    ] {
        let err = parse_err(text);
        assert_eq!(err.code, WsErrorCode::Protocol, "{text}");
        assert_eq!(err.subscription_id, "protocol", "{text}");
        assert_eq!(err.close_code(), Some(close::PROTOCOL_ERROR), "{text}");
        assert!(!err.message.is_empty());
    }
    assert!(
        parse_err("not json")
            .message
            .starts_with("Message is not valid JSON")
    );
    let unknown = parse_err(r#"{"type":"shout"}"#).message;
    assert!(unknown.contains("shout"), "{unknown}");
    let missing = parse_err(r#"{"type":"subscribe","subscription":{"id":"s"}}"#).message;
    assert!(missing.contains("sql"), "{missing}");
    // Internal type names never reach the client.
    assert!(!parse_err("[1,2]").message.contains("Raw"));
}
