//! SQL through `execute_query`: parameters as the SDK sends them (`QueryParam`, wire-protocol
//! §3.6), strict decoding of schemas and rows (§3.3–3.5), errors (§4) and batches (§3.3).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use kalam_client::{
    FieldFlag, KalamCellValue, KalamDataType, KalamLinkError, QueryParam, QueryResult,
};
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::root_client;

/// Custom epoch of `_seq` Snowflakes (wire-protocol §7).
const SEQ_EPOCH_MS: i64 = 1_704_067_200_000;
/// Above 2^53: a JSON number would lose the last digit, so BIGINTs travel as strings.
const BIG_ID: i64 = 9_007_199_254_740_993;
/// 2026-01-14T17:27:29.929Z in µs.
const TS_MICROS: i64 = 1_768_411_649_929_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Asserts `_seq` is a BIGINT string whose Snowflake time is now (± 5 minutes).
fn assert_fresh_seq(cell: &KalamCellValue) -> i64 {
    assert!(cell.is_string(), "_seq must be a JSON string: {cell:?}");
    let seq = cell.as_big_int().expect("_seq decodes as BIGINT");
    let commit_ms = (seq >> 22) + SEQ_EPOCH_MS;
    assert!(
        (commit_ms - now_ms()).abs() < 300_000,
        "_seq {seq} is not from now"
    );
    seq
}

fn schema_types(result: &QueryResult) -> Vec<(String, KalamDataType)> {
    result
        .schema
        .iter()
        .map(|f| (f.name.clone(), f.data_type.clone()))
        .collect()
}

async fn create_items(client: &kalam_client::KalamLinkClient) {
    for sql in [
        "CREATE NAMESPACE app",
        "CREATE TABLE app.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INT, score DOUBLE, \
         active BOOLEAN, note TEXT, created_at TIMESTAMP, price DECIMAL(10,2))",
    ] {
        let resp = client.execute_query(sql, None, None, None).await.unwrap();
        assert!(resp.success(), "{sql} -> {resp:?}");
        assert_eq!(resp.results[0].row_count, 0, "DDL reports row_count 0");
    }
}

async fn insert_item(client: &kalam_client::KalamLinkClient, params: Vec<QueryParam>) {
    let resp = client
        .execute_query(
            "INSERT INTO app.items (id, name, qty, score, active, note, created_at, price) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            None,
            Some(params),
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.results[0].row_count, 1);
    assert_eq!(
        resp.results[0].message.as_deref(),
        Some("Inserted 1 row(s)")
    );
}

#[tokio::test]
async fn params_round_trip_through_the_typed_accessors() {
    let server = TestServer::start();
    let client = root_client(&server);
    create_items(&client).await;

    insert_item(
        &client,
        vec![
            QueryParam::Int(BIG_ID),
            QueryParam::Text("widget".into()),
            QueryParam::Int(7),
            QueryParam::Float(2.5),
            QueryParam::Bool(true),
            QueryParam::Null,
            // An integer into a TIMESTAMP column means µs; a string into DECIMAL is cast.
            QueryParam::Int(TS_MICROS),
            QueryParam::Text("200.75".into()),
        ],
    )
    .await;
    insert_item(
        &client,
        vec![
            QueryParam::from(2_i64),
            QueryParam::from("gadget"),
            QueryParam::Null,
            QueryParam::from(-0.125_f64),
            QueryParam::from(false),
            QueryParam::from("fragile"),
            QueryParam::from("2026-01-14T17:27:29.929Z"),
            QueryParam::from(3.5_f64),
        ],
    )
    .await;

    let resp = client
        .execute_query(
            "SELECT id, name, qty, score, active, note, created_at, price, _seq FROM app.items WHERE id = $1",
            None,
            Some(vec![QueryParam::from(BIG_ID)]),
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.row_count(), 1);
    let result = &resp.results[0];
    assert_eq!(
        schema_types(result),
        vec![
            ("id".into(), KalamDataType::BigInt),
            ("name".into(), KalamDataType::Text),
            ("qty".into(), KalamDataType::Int),
            ("score".into(), KalamDataType::Double),
            ("active".into(), KalamDataType::Boolean),
            ("note".into(), KalamDataType::Text),
            ("created_at".into(), KalamDataType::Timestamp),
            (
                "price".into(),
                KalamDataType::Decimal {
                    precision: 10,
                    scale: 2
                }
            ),
            ("_seq".into(), KalamDataType::BigInt),
        ]
    );
    let id_flags = result.schema[0].flags.clone().unwrap_or_default();
    assert!(
        [FieldFlag::PrimaryKey, FieldFlag::NonNull, FieldFlag::Unique]
            .iter()
            .all(|f| id_flags.contains(f)),
        "{id_flags:?}"
    );
    assert!(
        result.schema.iter().enumerate().all(|(i, f)| f.index == i),
        "descriptors in index order"
    );

    let rows = resp.rows_as_maps();
    let row = &rows[0];
    assert_eq!(
        row["id"].inner(),
        &json!(BIG_ID.to_string()),
        "BIGINT travels as a string"
    );
    assert_eq!(row["id"].as_big_int(), Some(BIG_ID));
    assert_eq!(row["name"].as_text(), Some("widget"));
    assert_eq!(row["qty"].as_int(), Some(7));
    assert_eq!(row["score"].as_double(), Some(2.5));
    assert_eq!(row["active"].as_boolean(), Some(true));
    assert!(row["note"].is_null());
    assert_eq!(row["created_at"].as_timestamp(), Some(TS_MICROS));
    assert_eq!(row["price"].inner(), &json!("200.75"));
    assert_eq!(row["price"].as_decimal(), Some(200.75));
    assert_fresh_seq(&row["_seq"]);

    // A BIGINT parameter may also be sent as a string (what JS clients do), and the other
    // parameter types work in predicates.
    let resp = client
        .execute_query(
            "SELECT id, qty, score, active, note, created_at, price FROM app.items \
             WHERE id = $1 AND active = $2 AND score < $3 AND note = $4",
            None,
            Some(vec![
                QueryParam::from("2"),
                QueryParam::from(false),
                QueryParam::from(0.0_f64),
                QueryParam::from("fragile"),
            ]),
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    let rows = resp.rows_as_maps();
    assert_eq!(rows.len(), 1, "{resp:?}");
    let row = &rows[0];
    assert_eq!(row["id"].as_big_int(), Some(2));
    assert_eq!(
        row["id"].inner(),
        &json!("2"),
        "small BIGINTs are strings too"
    );
    assert!(row["qty"].is_null());
    assert_eq!(row["score"].as_double(), Some(-0.125));
    assert_eq!(row["active"].as_boolean(), Some(false));
    assert_eq!(row["created_at"].as_timestamp(), Some(TS_MICROS));
    assert_eq!(
        row["price"].inner(),
        &json!("3.50"),
        "exactly `scale` decimals"
    );

    // Every row, both `_seq`s distinct and increasing in insert order.
    let resp = client
        .execute_query(
            "SELECT id, _seq FROM app.items ORDER BY _seq",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let rows = resp.rows_as_maps();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_big_int().unwrap()).collect();
    assert_eq!(ids, vec![BIG_ID, 2]);
    let seqs: Vec<i64> = rows.iter().map(|r| assert_fresh_seq(&r["_seq"])).collect();
    assert!(seqs[0] < seqs[1], "{seqs:?}");
}

#[tokio::test]
async fn select_star_returns_user_columns_then_system_columns() {
    let server = TestServer::start();
    let client = root_client(&server);
    create_items(&client).await;
    insert_item(
        &client,
        vec![
            QueryParam::from(1_i64),
            QueryParam::from("a"),
            QueryParam::from(1_i32),
            QueryParam::from(1.0_f64),
            QueryParam::from(true),
            QueryParam::Null,
            QueryParam::Null,
            QueryParam::Null,
        ],
    )
    .await;

    let resp = client
        .execute_query("SELECT * FROM app.items", None, None, None)
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    let result = &resp.results[0];
    assert_eq!(
        result.column_names(),
        [
            "id",
            "name",
            "qty",
            "score",
            "active",
            "note",
            "created_at",
            "price",
            "_seq",
            "_deleted"
        ]
    );
    let seq_field = &result.schema[8];
    assert_eq!(seq_field.data_type, KalamDataType::BigInt);
    assert_eq!(
        seq_field
            .flags
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![FieldFlag::NonNull]
    );
    assert_eq!(result.schema[9].data_type, KalamDataType::Boolean);
    let row = resp.first_row_as_map().unwrap();
    assert_fresh_seq(&row["_seq"]);
    assert_eq!(row["_deleted"].as_boolean(), Some(false));
    assert!(row["created_at"].is_null() && row["price"].is_null());
}

#[tokio::test]
async fn every_column_type_decodes() {
    let server = TestServer::start();
    let client = root_client(&server);
    for sql in [
        "CREATE NAMESPACE app",
        "CREATE TABLE app.all_types (id INT PRIMARY KEY, c_bool BOOLEAN, c_small SMALLINT, c_int INT, \
         c_big BIGINT, c_float FLOAT, c_double DOUBLE, c_dec DECIMAL(10,2), c_text TEXT, c_bytes BYTES, \
         c_json JSON, c_uuid UUID, c_date DATE, c_time TIME, c_ts TIMESTAMP, c_dt DATETIME)",
        "INSERT INTO app.all_types VALUES (1, true, 7, 42, 9007199254740993, 1.5, 2.25, 123.45, 'hi', \
         X'6869', '{\"a\":1}', '01900000-0000-7000-8000-000000000000', '2025-05-06', '10:00:00', \
         '2026-01-14 17:27:29.929', '2026-01-14T17:27:29.929Z')",
        "INSERT INTO app.all_types (id) VALUES (2)",
    ] {
        let resp = client.execute_query(sql, None, None, None).await.unwrap();
        assert!(resp.success(), "{sql} -> {resp:?}");
    }

    // One unknown `data_type` spelling would fail this whole call in the SDK.
    let resp = client
        .execute_query("SELECT * FROM app.all_types ORDER BY id", None, None, None)
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    let result = &resp.results[0];
    let types: HashMap<String, KalamDataType> = schema_types(result).into_iter().collect();
    let expected = [
        ("id", KalamDataType::Int),
        ("c_bool", KalamDataType::Boolean),
        ("c_small", KalamDataType::SmallInt),
        ("c_int", KalamDataType::Int),
        ("c_big", KalamDataType::BigInt),
        ("c_float", KalamDataType::Float),
        ("c_double", KalamDataType::Double),
        (
            "c_dec",
            KalamDataType::Decimal {
                precision: 10,
                scale: 2,
            },
        ),
        ("c_text", KalamDataType::Text),
        ("c_bytes", KalamDataType::Bytes),
        ("c_json", KalamDataType::Json),
        ("c_uuid", KalamDataType::Uuid),
        ("c_date", KalamDataType::Date),
        ("c_time", KalamDataType::Time),
        ("c_ts", KalamDataType::Timestamp),
        ("c_dt", KalamDataType::DateTime),
        ("_seq", KalamDataType::BigInt),
        ("_deleted", KalamDataType::Boolean),
    ];
    for (name, ty) in &expected {
        assert_eq!(types.get(*name), Some(ty), "data_type of {name}");
    }

    let rows = resp.rows_as_maps();
    assert_eq!(rows.len(), 2);
    let row = &rows[0];
    assert_eq!(row["id"].as_int(), Some(1));
    assert_eq!(row["c_bool"].as_boolean(), Some(true));
    assert_eq!(row["c_small"].as_small_int(), Some(7));
    assert_eq!(row["c_int"].as_int(), Some(42));
    assert_eq!(row["c_big"].inner(), &json!("9007199254740993"));
    assert_eq!(row["c_big"].as_big_int(), Some(BIG_ID));
    assert_eq!(row["c_float"].as_float(), Some(1.5));
    assert_eq!(row["c_double"].as_double(), Some(2.25));
    assert_eq!(row["c_dec"].inner(), &json!("123.45"));
    assert_eq!(row["c_dec"].as_decimal(), Some(123.45));
    assert_eq!(row["c_text"].as_text(), Some("hi"));
    // Bytes are an array of byte values and Json a string holding the document (the
    // reference's encoding); the SDK's `as_bytes`/`as_json` expect other shapes, so read raw.
    assert_eq!(row["c_bytes"].inner(), &json!([104, 105]));
    let doc: Value =
        serde_json::from_str(row["c_json"].as_text().expect("Json is a string")).unwrap();
    assert_eq!(doc, json!({"a": 1}));
    assert_eq!(
        row["c_uuid"].as_uuid(),
        Some("01900000-0000-7000-8000-000000000000")
    );
    assert_eq!(row["c_date"].as_date(), Some(20214));
    assert_eq!(row["c_time"].as_time(), Some(36_000_000_000));
    assert_eq!(row["c_ts"].as_timestamp(), Some(TS_MICROS));
    assert_eq!(row["c_dt"].as_datetime(), Some(TS_MICROS));

    let nulls = &rows[1];
    for (name, _) in expected.iter().filter(|(n, _)| n.starts_with("c_")) {
        assert!(
            nulls[*name].is_null(),
            "{name} should be null: {:?}",
            nulls[*name]
        );
    }
}

#[tokio::test]
async fn computed_columns_decode() {
    let server = TestServer::start();
    let client = root_client(&server);

    let before_us = now_ms() * 1000;
    let resp = client
        .execute_query(
            "SELECT COUNT(*) AS n, CAST(5 AS INT) AS i, 1.5 AS d, 'x' AS s, true AS b, now() AS t, \
             CAST('2026-01-14 17:27:29.929' AS TIMESTAMP) AS ts, \
             arrow_cast(CAST('2026-01-14 17:27:29.929' AS TIMESTAMP), 'Timestamp(Nanosecond, Some(\"UTC\"))') AS tz, \
             NULL AS nothing",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let after_us = now_ms() * 1000;
    assert!(resp.success(), "{resp:?}");
    let types: HashMap<String, KalamDataType> =
        schema_types(&resp.results[0]).into_iter().collect();
    assert_eq!(types["n"], KalamDataType::BigInt);
    assert_eq!(types["i"], KalamDataType::Int);
    assert_eq!(types["d"], KalamDataType::Double);
    assert_eq!(types["s"], KalamDataType::Text);
    assert_eq!(types["b"], KalamDataType::Boolean);
    // DataFusion's `now()` carries the session time zone, if one is configured.
    assert!(
        matches!(
            types["t"],
            KalamDataType::Timestamp | KalamDataType::DateTime
        ),
        "{:?}",
        types["t"]
    );
    assert_eq!(types["ts"], KalamDataType::Timestamp, "no time zone");
    assert_eq!(types["tz"], KalamDataType::DateTime, "with a time zone");

    let row = resp.first_row_as_map().unwrap();
    assert_eq!(row["n"].inner(), &json!("1"), "64-bit integers are strings");
    assert_eq!(row["n"].as_big_int(), Some(1));
    assert_eq!(row["i"].inner(), &json!(5));
    assert_eq!(row["d"].as_double(), Some(1.5));
    assert_eq!(row["s"].as_text(), Some("x"));
    assert_eq!(row["b"].as_boolean(), Some(true));
    let t = row["t"].as_timestamp().expect("now() decodes");
    assert!(
        (before_us - 1_000_000..=after_us + 1_000_000).contains(&t),
        "now() {t} is µs"
    );
    // Nanosecond timestamps are converted to µs on the wire.
    assert_eq!(row["ts"].as_timestamp(), Some(TS_MICROS));
    assert_eq!(row["tz"].as_datetime(), Some(TS_MICROS));
    assert!(row["nothing"].is_null());
}

#[tokio::test]
async fn namespace_id_resolves_unqualified_table_names() {
    let server = TestServer::start();
    let client = root_client(&server);
    create_items(&client).await;
    let resp = client
        .execute_query(
            "INSERT INTO items (id, name) VALUES (5, 'five')",
            None,
            None,
            Some("app"),
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");

    let resp = client
        .execute_query("SELECT name FROM items", None, None, Some("app"))
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    assert_eq!(resp.get_string("name").as_deref(), Some("five"));
}

/// The 4xx error the SDK returns carries the raw body; decodes it as the §4 envelope.
fn error_envelope(err: KalamLinkError) -> (u16, Value) {
    let KalamLinkError::ServerError {
        status_code,
        message,
    } = err
    else {
        panic!("expected a server error carrying the body, got {err:?}");
    };
    let body = serde_json::from_str(&message)
        .unwrap_or_else(|e| panic!("body is not JSON ({e}): {message}"));
    (status_code, body)
}

#[tokio::test]
async fn unknown_table_reports_table_not_found() {
    let server = TestServer::start();
    let client = root_client(&server);
    assert!(
        client
            .execute_query("CREATE NAMESPACE app", None, None, None)
            .await
            .unwrap()
            .success()
    );

    let err = client
        .execute_query("SELECT * FROM app.nope", None, None, None)
        .await
        .unwrap_err();

    assert!(err.to_string().contains("TABLE_NOT_FOUND"), "{err}");
    let (status, body) = error_envelope(err);
    assert_eq!(status, 400);
    assert_eq!(body["status"], "error");
    assert_eq!(body["results"], json!([]));
    assert_eq!(body["error"]["code"], "TABLE_NOT_FOUND");
    assert_eq!(body["error"]["message"], "Table 'app.nope' not found");
    // Root is an admin, so it also gets the failing statement.
    assert_eq!(body["error"]["details"], "SELECT * FROM app.nope");
}

#[tokio::test]
async fn parameter_errors_are_reported() {
    let server = TestServer::start();
    let client = root_client(&server);

    let err = client
        .execute_query(
            "SELECT $1 AS a, $2 AS b",
            None,
            Some(vec![QueryParam::from(1_i64)]),
            None,
        )
        .await
        .unwrap_err();
    let (status, body) = error_envelope(err);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "INVALID_PARAMETER");
    assert_eq!(body["error"]["message"], "Parameter $2 not provided");

    let err = client
        .execute_query(
            "SELECT 1; SELECT $1",
            None,
            Some(vec![QueryParam::from(1_i64)]),
            None,
        )
        .await
        .unwrap_err();
    let (status, body) = error_envelope(err);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "PARAMS_WITH_BATCH");
}

#[tokio::test]
async fn multi_statement_results_decode() {
    let server = TestServer::start();
    let client = root_client(&server);

    let resp = client
        .execute_query(
            "CREATE NAMESPACE app; \
             CREATE TABLE app.t (id BIGINT PRIMARY KEY, title TEXT); \
             INSERT INTO app.t VALUES (1, 'one'); \
             INSERT INTO app.t VALUES (2, 'two'), (3, 'three'); \
             SELECT id, title FROM app.t ORDER BY id; \
             UPDATE app.t SET title = 'TWO' WHERE id = 2",
            None,
            None,
            None,
        )
        .await
        .unwrap();

    assert!(resp.success(), "{resp:?}");
    assert!(resp.took.is_some_and(|t| t >= 0.0));
    // DDL and SELECT in place; plain DML summed after them, Inserted before Updated.
    let r = &resp.results;
    assert_eq!(r.len(), 5, "{r:?}");
    assert_eq!(
        r[0].message.as_deref(),
        Some("Namespace 'app' created successfully")
    );
    assert_eq!(r[0].row_count, 0);
    assert_eq!(
        r[1].message.as_deref(),
        Some("Shared table app.t created successfully")
    );
    assert_eq!(r[1].row_count, 0);
    let rows = r[2].rows_as_maps();
    assert_eq!(r[2].row_count, 3);
    let got: Vec<(i64, String)> = rows
        .iter()
        .map(|m| {
            (
                m["id"].as_big_int().unwrap(),
                m["title"].as_text().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(1, "one".into()), (2, "two".into()), (3, "three".into())]
    );
    assert_eq!(r[3].row_count, 3);
    assert_eq!(r[3].message.as_deref(), Some("Inserted 3 row(s)"));
    assert!(r[3].schema.is_empty() && r[3].rows.is_none());
    assert_eq!(r[4].row_count, 1);
    assert_eq!(r[4].message.as_deref(), Some("Updated 1 row(s)"));
    assert!(r.iter().all(|x| x.as_user.as_deref() == Some("root")));
}

#[tokio::test]
async fn a_failing_statement_in_a_batch_names_its_position() {
    let server = TestServer::start();
    let client = root_client(&server);

    let err = client
        .execute_query(
            "CREATE NAMESPACE app; SELECT * FROM app.missing; CREATE NAMESPACE never",
            None,
            None,
            None,
        )
        .await
        .unwrap_err();

    let (status, body) = error_envelope(err);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "TABLE_NOT_FOUND");
    assert_eq!(
        body["error"]["message"],
        "Statement 2 failed: Table 'app.missing' not found"
    );
    // Earlier statements stay applied, later ones never ran.
    let resp = client
        .execute_query(
            "SELECT name FROM system.namespaces WHERE name IN ('app', 'never')",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let names: Vec<String> = resp
        .rows_as_maps()
        .iter()
        .map(|m| m["name"].as_text().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["app".to_string()]);
}

/// Runs each statement, each of which must succeed.
async fn run_all(client: &kalam_client::KalamLinkClient, statements: &[&str]) {
    for sql in statements {
        let resp = client.execute_query(sql, None, None, None).await.unwrap();
        assert!(resp.success(), "{sql} -> {resp:?}");
    }
}

/// RETURNING (sql.md §3.1–3.3) through the SDK: the result decodes with its schema, rows, count
/// and message, so an application learns the key and `_seq` the server assigned in one call.
#[tokio::test]
async fn returning_gives_the_assigned_key_and_seq() {
    let server = TestServer::start();
    let client = root_client(&server);
    run_all(
        &client,
        &[
            "CREATE NAMESPACE app",
            "CREATE TABLE app.notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body TEXT, qty INT DEFAULT 1)",
        ],
    )
    .await;
    let resp = client
        .execute_query(
            "INSERT INTO app.notes (body) VALUES ($1) RETURNING id, qty, _seq",
            None,
            Some(vec![QueryParam::from("hello")]),
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    let result = &resp.results[0];
    assert_eq!(result.row_count, 1);
    assert_eq!(result.message.as_deref(), Some("Inserted 1 row(s)"));
    assert_eq!(
        schema_types(result),
        [
            ("id".to_string(), KalamDataType::BigInt),
            ("qty".to_string(), KalamDataType::Int),
            ("_seq".to_string(), KalamDataType::BigInt),
        ]
    );
    let rows = resp.rows_as_maps();
    let id = rows[0]["id"].as_big_int().expect("a generated id");
    assert!(id > 0);
    assert_eq!(rows[0]["qty"].as_int(), Some(1));
    let seq = assert_fresh_seq(&rows[0]["_seq"]);

    // The key and `_seq` returned are the stored row's.
    let resp = client
        .execute_query(
            "SELECT _seq FROM app.notes WHERE id = $1",
            None,
            Some(vec![QueryParam::from(id)]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.rows_as_maps()[0]["_seq"].as_big_int(), Some(seq));

    let resp = client
        .execute_query(
            "UPDATE app.notes SET qty = 2 WHERE id = $1 RETURNING qty, _seq",
            None,
            Some(vec![QueryParam::from(id)]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.results[0].message.as_deref(), Some("Updated 1 row(s)"));
    let rows = resp.rows_as_maps();
    assert_eq!(rows[0]["qty"].as_int(), Some(2));
    assert!(assert_fresh_seq(&rows[0]["_seq"]) > seq, "a new version");
}

/// A transaction through the SDK (sql.md §3.7): one request, its results decode (the messages
/// name the transaction), and its writes land together; a rolled-back one leaves nothing.
#[tokio::test]
async fn a_transaction_commits_through_the_sdk() {
    let server = TestServer::start();
    let client = root_client(&server);
    run_all(
        &client,
        &[
            "CREATE NAMESPACE app",
            "CREATE TABLE app.acct (id BIGINT PRIMARY KEY, balance INT)",
            "INSERT INTO app.acct VALUES (1, 100), (2, 0)",
        ],
    )
    .await;
    let resp = client
        .execute_query(
            "BEGIN; UPDATE app.acct SET balance = balance - 40 WHERE id = 1; \
             UPDATE app.acct SET balance = balance + 40 WHERE id = 2 RETURNING balance; COMMIT",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");
    let messages: Vec<&str> = resp
        .results
        .iter()
        .filter_map(|r| r.message.as_deref())
        .collect();
    assert!(
        messages[0].starts_with("Transaction started ("),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Transaction committed (")),
        "{messages:?}"
    );
    let returned = resp
        .results
        .iter()
        .find(|r| !r.schema.is_empty())
        .expect("RETURNING rows");
    assert_eq!(returned.row_count, 1);

    let resp = client
        .execute_query(
            "BEGIN; DELETE FROM app.acct WHERE id = 1; ROLLBACK",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    assert!(resp.success(), "{resp:?}");

    let resp = client
        .execute_query(
            "SELECT id, balance FROM app.acct ORDER BY id",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let rows = resp.rows_as_maps();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["balance"].as_int(), Some(60));
    assert_eq!(rows[1]["balance"].as_int(), Some(40));
}
