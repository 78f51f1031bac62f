//! Server messages against the spec's examples (§6.2, §6.4) and decoded with the shapes the
//! Rust client requires.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::client_message::parse_client_message;
use crate::close;
use crate::options::Compression;

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn to_value(msg: &ServerMessage) -> Value {
    serde_json::from_str(&msg.to_json()).unwrap()
}

fn spec_schema() -> Vec<SchemaField> {
    vec![
        SchemaField::new("id", "BigInt", 0).with_flags(vec![
            FieldFlag::PrimaryKey,
            FieldFlag::NotNull,
            FieldFlag::Unique,
        ]),
        SchemaField::new("body", "Text", 1),
        SchemaField::new("_seq", "BigInt", 2).with_flags(vec![FieldFlag::NotNull]),
    ]
}

const SEQ: i64 = 269_880_183_715_823_617;

#[test]
fn protocol_error_becomes_the_spec_error_message() {
    let err = parse_client_message("{").unwrap_err();
    let json = to_value(&err.clone().into());
    assert_eq!(json["type"], "error");
    assert_eq!(json["subscription_id"], "protocol");
    assert_eq!(json["code"], "PROTOCOL");
    assert_eq!(json["message"], err.message.as_str());
    assert_eq!(to_value(&err.to_message()), json);

    assert_eq!(
        to_value(&ProtocolError::auth_required().to_message()),
        json!({"type":"error","subscription_id":"subscribe","code":"AUTH_REQUIRED",
               "message":"Authentication required before subscribing"})
    );
    assert_eq!(
        ProtocolError::rate_limit_exceeded().subscription_id,
        "rate_limit"
    );
    assert_eq!(
        ProtocolError::message_too_large(1 << 20).code,
        WsErrorCode::MessageTooLarge
    );
    assert_eq!(
        ProtocolError::unsupported_data().code.as_str(),
        "UNSUPPORTED_DATA"
    );
}

#[test]
fn close_codes_and_auth_messages() {
    let codes: Vec<u16> = [
        close::HEARTBEAT_TIMEOUT,
        close::SERVER_SHUTDOWN,
        close::AUTH_FAILED,
        close::AUTH_TIMEOUT,
        close::USER_DROPPED,
        close::PROTOCOL_ERROR,
        close::SUBSCRIBER_TOO_SLOW,
    ]
    .iter()
    .map(|c| c.code)
    .collect();
    assert_eq!(codes, [1000, 1001, 1008, 1008, 1008, 1011, 1013]);
    assert_eq!(close::HEARTBEAT_TIMEOUT.reason, "Heartbeat timeout");
    assert_eq!(close::SUBSCRIBER_TOO_SLOW.reason, "Subscriber too slow");
    assert_eq!(
        auth_timeout_message(3),
        "Authentication timeout - no auth message received within 3 seconds"
    );
}

// ---- server → client: the §6.2 / §6.4 examples ----

#[test]
fn auth_messages_match_spec() {
    let ok = ServerMessage::AuthSuccess {
        user: "alice".into(),
        role: "user".into(),
        protocol: ProtocolOptions::default(),
    };
    assert_eq!(
        to_value(&ok),
        json!({"type":"auth_success","user":"alice","role":"user",
               "protocol":{"serialization":"json","compression":"gzip"}})
    );
    assert!(ok.is_auth());
    let err = ServerMessage::AuthError {
        message: AUTH_INVALID_CREDENTIALS.into(),
    };
    assert_eq!(
        to_value(&err),
        json!({"type":"auth_error","message":"Invalid credentials"})
    );
    assert!(err.is_auth());
    assert_eq!(err.subscription_id(), None);
}

#[test]
fn subscription_ack_matches_spec() {
    let ack = ServerMessage::SubscriptionAck {
        subscription_id: "sub-1a2b3c".into(),
        total_rows: 1,
        batch_control: BatchControl::for_batch(0, false, Some(SEQ)),
        schema: spec_schema(),
    };
    let expected: Value = serde_json::from_str(
        r#"{"type":"subscription_ack","subscription_id":"sub-1a2b3c","total_rows":1,
 "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":269880183715823617},
 "schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
       {"name":"body","data_type":"Text","index":1},{"name":"_seq","data_type":"BigInt","index":2,"flags":["nn"]}]}"#,
    )
    .unwrap();
    assert_eq!(to_value(&ack), expected);
    assert_eq!(ack.subscription_id(), Some("sub-1a2b3c"));
    assert!(!ack.is_auth());
}

#[test]
fn initial_data_batch_matches_spec() {
    let batch = ServerMessage::InitialDataBatch {
        subscription_id: "sub-1a2b3c".into(),
        rows: vec![row(
            json!({"id":"269880183715823616","body":"hi","_seq":"269880183715823617"}),
        )],
        batch_control: BatchControl::for_batch(0, false, Some(SEQ)),
    };
    let expected: Value = serde_json::from_str(
        r#"{"type":"initial_data_batch","subscription_id":"sub-1a2b3c",
 "rows":[{"id":"269880183715823616","body":"hi","_seq":"269880183715823617"}],
 "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":269880183715823617}}"#,
    )
    .unwrap();
    assert_eq!(to_value(&batch), expected);
}

#[test]
fn changes_match_spec() {
    let new = json!({"id":"1","body":"b","_seq":"20"});
    let old = json!({"id":"1","body":"a","_seq":"10"});
    assert_eq!(
        to_value(&ServerMessage::insert("sub-1a2b3c", vec![row(new.clone())])),
        json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"insert","rows":[new]})
    );
    assert_eq!(
        to_value(&ServerMessage::update(
            "sub-1a2b3c",
            vec![row(new.clone())],
            vec![row(old.clone())]
        )),
        json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"update",
               "rows":[new],"old_values":[old]})
    );
    let deleted = json!({"id":"1","body":"b","_seq":"30"});
    assert_eq!(
        to_value(&ServerMessage::delete(
            "sub-1a2b3c",
            vec![row(deleted.clone())]
        )),
        json!({"type":"change","subscription_id":"sub-1a2b3c","change_type":"delete",
               "old_values":[deleted]})
    );
}

#[test]
fn error_matches_spec() {
    assert_eq!(
        to_value(&ServerMessage::error(
            "sub-1a2b3c",
            WsErrorCode::NotFound,
            "Table 'app.x' not found"
        )),
        json!({"type":"error","subscription_id":"sub-1a2b3c","code":"NOT_FOUND",
               "message":"Table 'app.x' not found"})
    );
}

#[test]
fn batch_control_status_follows_position() {
    assert_eq!(
        serde_json::to_value(BatchControl::without_initial_data()).unwrap(),
        json!({"batch_num":0,"has_more":false,"status":"ready"})
    );
    assert_eq!(
        BatchControl::for_batch(0, true, Some(5)).status,
        BatchStatus::Loading
    );
    assert_eq!(
        BatchControl::for_batch(3, true, Some(5)).status,
        BatchStatus::LoadingBatch
    );
    assert_eq!(
        BatchControl::for_batch(3, false, Some(5)).status,
        BatchStatus::Ready
    );
    assert_eq!(
        serde_json::to_value(BatchControl::for_batch(1, true, None)).unwrap(),
        json!({"batch_num":1,"has_more":true,"status":"loading_batch"})
    );
}

#[test]
fn object_data_types_are_kept_as_objects() {
    let field = SchemaField::new("price", json!({"Decimal":{"precision":10,"scale":2}}), 3);
    assert_eq!(
        serde_json::to_value(&field).unwrap(),
        json!({"name":"price","data_type":{"Decimal":{"precision":10,"scale":2}},"index":3})
    );
}

// ---- decoding our output with the shapes the Rust client requires (§6.4) ----
//
// These mirror what `kalam-client` 0.5 demands: required fields, `total_rows` as u32,
// `batch_control.last_seq_id` absent or a number, `data_type` one of the §3.4 spellings,
// flags one of pk/nn/uq, lowercase `change_type`, and unknown fields tolerated.

#[derive(Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum ClientView {
    AuthSuccess {
        user: String,
        role: RoleView,
        protocol: ProtocolOptions,
    },
    AuthError {
        message: String,
    },
    SubscriptionAck {
        subscription_id: String,
        total_rows: u32,
        batch_control: BatchControlView,
        schema: Vec<SchemaFieldView>,
    },
    InitialDataBatch {
        subscription_id: String,
        rows: Vec<HashMapRow>,
        batch_control: BatchControlView,
    },
    Change {
        subscription_id: String,
        change_type: ChangeTypeView,
        #[serde(default)]
        rows: Option<Vec<HashMapRow>>,
        #[serde(default)]
        old_values: Option<Vec<HashMapRow>>,
    },
    Error {
        subscription_id: String,
        code: String,
        message: String,
    },
}

type HashMapRow = std::collections::HashMap<String, Value>;

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum RoleView {
    User,
    Service,
    Dba,
    System,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ChangeTypeView {
    Insert,
    Update,
    Delete,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum StatusView {
    Loading,
    LoadingBatch,
    Ready,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct BatchControlView {
    batch_num: u32,
    has_more: bool,
    status: StatusView,
    // A plain i64: a string here would fail to decode.
    #[serde(default)]
    last_seq_id: Option<i64>,
}

// The client accepts exactly the §3.4 spellings, which `KalamDataType`'s serde encoding is
// by definition, so decoding into it checks the same thing without a copy that could drift.
type DataTypeView = kalamdb_types::KalamDataType;

#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FlagView {
    #[serde(rename = "pk")]
    Pk,
    #[serde(rename = "nn")]
    Nn,
    #[serde(rename = "uq")]
    Uq,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct SchemaFieldView {
    name: String,
    data_type: DataTypeView,
    index: usize,
    #[serde(default)]
    flags: Option<BTreeSet<FlagView>>,
}

fn decode(msg: &ServerMessage) -> ClientView {
    serde_json::from_str(&msg.to_json())
        .unwrap_or_else(|err| panic!("client cannot decode {}: {err}", msg.to_json()))
}

#[test]
fn rust_client_shapes_decode_everything_we_send() {
    let ack = decode(&ServerMessage::SubscriptionAck {
        subscription_id: "s".into(),
        total_rows: 0,
        batch_control: BatchControl::without_initial_data(),
        schema: vec![
            SchemaField::new("id", "BigInt", 0).with_flags(vec![FieldFlag::PrimaryKey]),
            SchemaField::new("d", json!({"Decimal":{"precision":10,"scale":2}}), 1),
            SchemaField::new("e", json!({"Embedding":384}), 2),
            SchemaField::new("_seq", "BigInt", 3).with_flags(vec![FieldFlag::NotNull]),
        ],
    });
    let ClientView::SubscriptionAck {
        batch_control,
        schema,
        ..
    } = ack
    else {
        panic!("expected ack, got {ack:?}")
    };
    assert_eq!(batch_control.last_seq_id, None);
    assert_eq!(batch_control.status, StatusView::Ready);
    assert_eq!(
        schema[1].data_type,
        DataTypeView::Decimal {
            precision: 10,
            scale: 2
        }
    );
    assert_eq!(schema[2].data_type, DataTypeView::Embedding(384));
    assert_eq!(schema[1].flags, None);
    assert_eq!(schema[3].flags, Some(BTreeSet::from([FlagView::Nn])));

    let batch = decode(&ServerMessage::InitialDataBatch {
        subscription_id: "s".into(),
        rows: vec![row(json!({"id":"1","_seq":"269880183715823617"}))],
        batch_control: BatchControl::for_batch(0, true, Some(SEQ)),
    });
    let ClientView::InitialDataBatch {
        rows,
        batch_control,
        ..
    } = batch
    else {
        panic!("expected batch, got {batch:?}")
    };
    assert_eq!(batch_control.last_seq_id, Some(SEQ));
    assert_eq!(batch_control.status, StatusView::Loading);
    assert!(batch_control.has_more);
    // `_seq` in rows stays whatever the caller encoded (a string per §3.5).
    assert_eq!(rows[0]["_seq"], json!("269880183715823617"));

    let empty = decode(&ServerMessage::InitialDataBatch {
        subscription_id: "s".into(),
        rows: vec![],
        batch_control: BatchControl::for_batch(2, false, None),
    });
    assert!(matches!(
        empty,
        ClientView::InitialDataBatch { ref rows, .. } if rows.is_empty()
    ));

    let delete = decode(&ServerMessage::delete(
        "s",
        vec![row(json!({"id":"1","_seq":"9"}))],
    ));
    assert!(matches!(
        delete,
        ClientView::Change { change_type: ChangeTypeView::Delete, rows: None, old_values: Some(ref old), .. }
            if old.len() == 1
    ));

    let auth = decode(&ServerMessage::AuthSuccess {
        user: "u1".into(),
        role: "dba".into(),
        protocol: ProtocolOptions::default().negotiate(false),
    });
    assert!(matches!(
        auth,
        ClientView::AuthSuccess { role: RoleView::Dba, protocol, .. }
            if protocol.compression == Compression::None
    ));

    let error = decode(&ProtocolError::unsupported_data().to_message());
    assert!(matches!(
        error,
        ClientView::Error { ref code, .. } if code == "UNSUPPORTED_DATA"
    ));
}
