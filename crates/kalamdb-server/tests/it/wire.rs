//! Pins the JSON shapes of `wire-protocol.md` §2–§5: the success body of
//! `/v1/api/sql`, value encodings, parameters, health, and the whole auth
//! surface (login, refresh, me, logout, JWT validation, first-run setup,
//! lockout, CORS, secret persistence) plus group commit. The published
//! clients decode these bodies strictly, so the assertions are exact.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{ROOT_PASSWORD, TestServer};

/// Secret for the servers whose tokens the tests forge themselves.
const TEST_SECRET: &str = "wire-test-secret-0123456789abcdef-0123456789";

/// Password of the `admin` (dba) user that [`start_with_admin`] creates; the
/// colon checks that Basic auth splits at the first one only.
pub(crate) const ADMIN_PASSWORD: &str = "Admin:passw0rd-1";

/// A server taken through first-run setup: root's password is
/// [`ROOT_PASSWORD`] and `admin` (role dba, email `admin@example.com`) exists
/// with [`ADMIN_PASSWORD`]. This makes a second user with a password without
/// relying on `CREATE USER`.
pub(crate) async fn start_with_admin() -> TestServer {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.auth.root_password = None);
    let body = json!({"user":"admin","password":ADMIN_PASSWORD,"root_password":ROOT_PASSWORD,
                      "email":"admin@example.com"});
    let (status, _, body) =
        post_raw(&server, "/v1/api/auth/setup", Auth::None, body.to_string()).await;
    assert_eq!(status, 200, "setup: {body}");
    server
}

/// How a request authenticates (`Authorization` header).
pub(crate) enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
    /// The raw `Authorization` header value.
    Raw(&'a str),
}

/// POSTs a raw body to `path` and returns status, headers and the JSON body
/// (`Value::Null` when the body is not JSON).
pub(crate) async fn post_raw(
    server: &TestServer,
    path: &str,
    auth: Auth<'_>,
    body: impl Into<reqwest::Body>,
) -> (u16, HeaderMap, Value) {
    let mut req = server
        .client
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body);
    req = match auth {
        Auth::None => req,
        Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::Raw(v) => req.header("authorization", v),
    };
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

/// POST /v1/api/sql with a JSON body.
pub(crate) async fn sql_req(server: &TestServer, auth: Auth<'_>, body: Value) -> (u16, Value) {
    let (status, _, body) = post_raw(server, "/v1/api/sql", auth, body.to_string()).await;
    (status, body)
}

/// Asserts the §4 SQL error envelope with exactly these keys, the given
/// status and code; returns the message.
pub(crate) fn assert_envelope(status: u16, body: &Value, want_status: u16, code: &str) -> String {
    assert_eq!(status, want_status, "{body}");
    let keys: BTreeSet<&str> = body
        .as_object()
        .expect("object body")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["status", "results", "took", "error"]),
        "{body}"
    );
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["results"], json!([]), "{body}");
    assert!(body["took"].is_number(), "{body}");
    let err = body["error"].as_object().expect("error object");
    for k in err.keys() {
        assert!(
            ["code", "message", "details"].contains(&k.as_str()),
            "unexpected error key {k}: {body}"
        );
    }
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message string")
        .to_string()
}

/// Asserts the `{"error":"<kind>","message":…}` body of the auth endpoints.
fn assert_auth_error(status: u16, body: &Value, want_status: u16, kind: &str) -> String {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], kind, "{body}");
    body["message"]
        .as_str()
        .expect("message string")
        .to_string()
}

/// Asserts the server still answers a query (no request may have broken it).
pub(crate) async fn assert_alive(server: &TestServer) {
    let rows = server.rows("SELECT 1 AS one").await;
    assert_eq!(rows, vec![json!(["1"])]);
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64
}

/// An HS256 JWT over arbitrary header and claims.
fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// Claims the server would issue for root, valid now.
fn root_claims() -> Value {
    let now = unix_now();
    json!({"sub":"root","iss":"kalamdb","iat":now,"exp":now + 3600,"email":"root@localhost",
           "role":"system","token_type":"access"})
}

fn hs256_header() -> Value {
    json!({"alg":"HS256","typ":"JWT"})
}

/// The claims of a JWT (no verification).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("claims JSON")
}

async fn login(server: &TestServer, body: Value) -> (u16, HeaderMap, Value) {
    post_raw(server, "/v1/api/auth/login", Auth::None, body.to_string()).await
}

/// Logs in and returns (access, refresh).
async fn tokens(server: &TestServer, user: &str, password: &str) -> (String, String) {
    let (status, _, body) = login(server, json!({"user": user, "password": password})).await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().expect("access").to_string(),
        body["refresh_token"].as_str().expect("refresh").to_string(),
    )
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, the shape of every timestamp in auth bodies.
fn assert_rfc3339_utc(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    let b = s.as_bytes();
    assert_eq!(b.len(), 25, "{s}");
    assert!(s.ends_with("+00:00"), "{s}");
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16]),
        (b'-', b'-', b'T', b':', b':'),
        "{s}"
    );
    assert!(s[..4].parse::<u32>().unwrap() >= 2024, "{s}");
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii cookie").to_string())
        .collect()
}

fn cookie_named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    let prefix = format!("{name}=");
    cookies
        .iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

// ---------------------------------------------------------------- §3.3 shapes

#[tokio::test]
async fn success_body_shape_schema_and_rows() {
    let server = TestServer::start();
    let body = server.sql("CREATE NAMESPACE wt").await;
    assert_eq!(
        keys(&body),
        BTreeSet::from(["status".into(), "results".into(), "took".into()])
    );
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"Namespace 'wt' created successfully","as_user":"root"}])
    );
    let took = body["took"].as_f64().expect("took is a number");
    assert!(body["took"].is_f64(), "took must be a float: {body}");
    assert!(
        took >= 0.0 && ((took * 1000.0).round() - took * 1000.0).abs() < 1e-6,
        "rounded to 3 decimals: {took}"
    );

    let body = server
        .sql("CREATE TABLE wt.msgs (id BIGINT PRIMARY KEY, body TEXT, created_at TIMESTAMP)")
        .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"Shared table wt.msgs created successfully","as_user":"root"}])
    );

    let body = server
        .sql("INSERT INTO wt.msgs (id, body, created_at) VALUES (269880183715823616, 'hello', '2026-01-14T17:27:29.929Z'), (2, 'two', NULL)")
        .await;
    assert_eq!(
        body["results"],
        json!([{"row_count":2,"message":"Inserted 2 row(s)","as_user":"root"}])
    );

    let body = server.sql("SELECT * FROM wt.msgs ORDER BY id DESC").await;
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(
        keys(r),
        BTreeSet::from([
            "schema".into(),
            "rows".into(),
            "row_count".into(),
            "as_user".into()
        ])
    );
    assert_eq!(
        r["schema"],
        json!([
            {"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
            {"name":"body","data_type":"Text","index":1},
            {"name":"created_at","data_type":"Timestamp","index":2},
            {"name":"_seq","data_type":"BigInt","index":3,"flags":["nn"]},
            {"name":"_deleted","data_type":"Boolean","index":4,"flags":["nn"]}
        ])
    );
    assert_eq!(r["row_count"], 2);
    assert_eq!(r["as_user"], "root");
    let rows = r["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let first = rows[0].as_array().expect("positional row");
    assert_eq!(first.len(), 5);
    assert_eq!(
        first[..3],
        [
            json!("269880183715823616"),
            json!("hello"),
            json!(1_768_411_649_929_000_i64)
        ]
    );
    let seq1: i64 = first[3]
        .as_str()
        .expect("_seq is a string")
        .parse()
        .expect("_seq decimal");
    assert!(seq1 > 0);
    assert_eq!(first[4], json!(false));
    let second = rows[1].as_array().expect("positional row");
    assert_eq!(second[..3], [json!("2"), json!("two"), Value::Null]);
    assert!(second[3].is_string(), "{body}");

    // A query with no rows still has `rows: []` and row_count 0.
    let body = server.sql("SELECT id FROM wt.msgs WHERE id = 999").await;
    assert_eq!(
        body["results"],
        json!([{"schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]}],
                "rows":[],"row_count":0,"as_user":"root"}])
    );
}

#[tokio::test]
async fn single_dml_messages_and_batch_rule() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wb").await;
    // CREATE …; INSERT …; INSERT …; SELECT … → [ddl, select, inserted(sum)].
    let body = server
        .sql(
            "CREATE TABLE wb.t (id BIGINT PRIMARY KEY, v INT); \
             INSERT INTO wb.t VALUES (1, 10); INSERT INTO wb.t VALUES (2, 20); \
             SELECT id, v FROM wb.t ORDER BY id",
        )
        .await;
    assert_eq!(
        body["results"],
        json!([
            {"row_count":0,"message":"Shared table wb.t created successfully","as_user":"root"},
            {"schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
                       {"name":"v","data_type":"Int","index":1}],
             "rows":[["1",10],["2",20]],"row_count":2,"as_user":"root"},
            {"row_count":2,"message":"Inserted 2 row(s)","as_user":"root"}
        ])
    );

    // Sums come in the order Inserted, Updated, Deleted whatever the statement order.
    let body = server
        .sql(
            "DELETE FROM wb.t WHERE id = 1; UPDATE wb.t SET v = 21 WHERE id = 2; \
             INSERT INTO wb.t VALUES (3, 30), (4, 40); SELECT COUNT(*) AS n FROM wb.t",
        )
        .await;
    assert_eq!(
        body["results"],
        json!([
            {"schema":[{"name":"n","data_type":"BigInt","index":0}],"rows":[["3"]],"row_count":1,"as_user":"root"},
            {"row_count":2,"message":"Inserted 2 row(s)","as_user":"root"},
            {"row_count":1,"message":"Updated 1 row(s)","as_user":"root"},
            {"row_count":1,"message":"Deleted 1 row(s)","as_user":"root"}
        ])
    );

    // A single DML statement answers in place.
    let body = server.sql("UPDATE wb.t SET v = 0").await;
    assert_eq!(
        body["results"],
        json!([{"row_count":3,"message":"Updated 3 row(s)","as_user":"root"}])
    );
    let body = server.sql("DELETE FROM wb.t WHERE id > 100").await;
    assert_eq!(
        body["results"],
        json!([{"row_count":0,"message":"Deleted 0 row(s)","as_user":"root"}])
    );
}

// ---------------------------------------------------------------- §3.4–3.5 encodings

#[tokio::test]
async fn table_value_encodings() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wv").await;
    server
        .sql(
            "CREATE TABLE wv.vals (id BIGINT PRIMARY KEY, c_small SMALLINT, c_int INT, c_bool BOOLEAN, \
             c_float FLOAT, c_double DOUBLE, c_dec DECIMAL(10,2), c_text TEXT, c_json JSON, c_bytes BYTES, \
             c_uuid UUID, c_date DATE, c_time TIME, c_ts TIMESTAMP, c_dtz DATETIME, c_null TEXT)",
        )
        .await;
    server
        .sql(
            "INSERT INTO wv.vals VALUES (42, 7, 123456, true, 1.5, 2.25, 200.75, 'hi', '{\"a\":1}', X'6869', \
             '0190ABCD-0000-7000-8000-00000000000F', '2025-05-05', '10:00:00', '2026-01-14T17:27:29.929Z', \
             '2026-01-14 17:27:29.929', NULL)",
        )
        .await;
    server
        .sql("INSERT INTO wv.vals (id, c_bool, c_dec) VALUES (9223372036854775807, false, 3), (-5, NULL, -0.5)")
        .await;

    let body = server.sql("SELECT * FROM wv.vals ORDER BY id").await;
    let r = &body["results"][0];
    assert_eq!(
        r["schema"],
        json!([
            {"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
            {"name":"c_small","data_type":"SmallInt","index":1},
            {"name":"c_int","data_type":"Int","index":2},
            {"name":"c_bool","data_type":"Boolean","index":3},
            {"name":"c_float","data_type":"Float","index":4},
            {"name":"c_double","data_type":"Double","index":5},
            {"name":"c_dec","data_type":{"Decimal":{"precision":10,"scale":2}},"index":6},
            {"name":"c_text","data_type":"Text","index":7},
            {"name":"c_json","data_type":"Json","index":8},
            {"name":"c_bytes","data_type":"Bytes","index":9},
            {"name":"c_uuid","data_type":"Uuid","index":10},
            {"name":"c_date","data_type":"Date","index":11},
            {"name":"c_time","data_type":"Time","index":12},
            {"name":"c_ts","data_type":"Timestamp","index":13},
            {"name":"c_dtz","data_type":"DateTime","index":14},
            {"name":"c_null","data_type":"Text","index":15},
            {"name":"_seq","data_type":"BigInt","index":16,"flags":["nn"]},
            {"name":"_deleted","data_type":"Boolean","index":17,"flags":["nn"]}
        ])
    );
    let rows = r["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    // Order by id: -5, 42, i64::MAX.
    let neg = rows[0].as_array().unwrap();
    assert_eq!(neg[0], json!("-5"));
    assert_eq!(neg[3], Value::Null);
    assert_eq!(neg[6], json!("-0.50"));
    let full = rows[1].as_array().unwrap();
    assert_eq!(
        full[..16],
        [
            json!("42"),
            json!(7),
            json!(123456),
            json!(true),
            json!(1.5),
            json!(2.25),
            json!("200.75"),
            json!("hi"),
            json!("{\"a\":1}"),
            json!([104, 105]),
            json!("0190abcd-0000-7000-8000-00000000000f"),
            json!(20213),
            json!(36_000_000_000_i64),
            json!(1_768_411_649_929_000_i64),
            json!(1_768_411_649_929_000_i64),
            Value::Null,
        ]
    );
    assert!(
        full[16]
            .as_str()
            .expect("_seq string")
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(full[17], json!(false));
    let max = rows[2].as_array().unwrap();
    assert_eq!(max[0], json!("9223372036854775807"));
    assert_eq!(max[3], json!(false));
    assert_eq!(max[6], json!("3.00"));
    // Every `_seq` is a distinct decimal string.
    let seqs: BTreeSet<&str> = rows
        .iter()
        .map(|row| row[16].as_str().expect("_seq string"))
        .collect();
    assert_eq!(seqs.len(), 3);
}

#[tokio::test]
async fn computed_column_encodings() {
    let server = TestServer::start();
    let before = now_micros();
    let body = server
        .sql(
            "SELECT 1 AS one, CAST(5 AS INT) AS i, CAST(5 AS SMALLINT) AS s, CAST(5 AS TINYINT) AS t8, \
             CAST(1.5 AS DOUBLE) AS d, CAST(1.5 AS FLOAT) AS f, 'x' AS txt, true AS b, \
             arrow_cast(now(), 'Timestamp(Nanosecond, Some(\"+00:00\"))') AS ts_tz, now() AS ts, CAST('2025-05-05' AS DATE) AS dt, \
             CAST(NULL AS BIGINT) AS nb, CAST(12.5 AS DECIMAL(6,3)) AS dec",
        )
        .await;
    let after = now_micros();
    let r = &body["results"][0];
    assert_eq!(
        r["schema"],
        json!([
            {"name":"one","data_type":"BigInt","index":0},
            {"name":"i","data_type":"Int","index":1},
            {"name":"s","data_type":"SmallInt","index":2},
            {"name":"t8","data_type":"SmallInt","index":3},
            {"name":"d","data_type":"Double","index":4},
            {"name":"f","data_type":"Float","index":5},
            {"name":"txt","data_type":"Text","index":6},
            {"name":"b","data_type":"Boolean","index":7},
            {"name":"ts_tz","data_type":"DateTime","index":8},
            {"name":"ts","data_type":"Timestamp","index":9},
            {"name":"dt","data_type":"Date","index":10},
            {"name":"nb","data_type":"BigInt","index":11},
            {"name":"dec","data_type":{"Decimal":{"precision":6,"scale":3}},"index":12}
        ])
    );
    let row = r["rows"][0].as_array().expect("row");
    assert_eq!(
        row[..8],
        [
            json!("1"),
            json!(5),
            json!(5),
            json!(5),
            json!(1.5),
            json!(1.5),
            json!("x"),
            json!(true)
        ]
    );
    // DataFusion's nanosecond now() arrives as µs.
    for cell in &row[8..10] {
        let us = cell
            .as_i64()
            .unwrap_or_else(|| panic!("timestamp must be a number: {cell}"));
        assert!(
            us >= before - 1_000_000 && us <= after + 1_000_000,
            "not µs now: {us} ({before}..{after})"
        );
    }
    assert_eq!(row[10], json!(20213));
    assert_eq!(row[11], Value::Null);
    assert_eq!(row[12], json!("12.500"));

    // Aggregates are 64-bit integers: strings.
    let body = server
        .sql("SELECT COUNT(*) AS n, SUM(x) AS s FROM (VALUES (1), (2)) AS v(x)")
        .await;
    assert_eq!(body["results"][0]["rows"], json!([["2", "3"]]));
    assert_eq!(body["results"][0]["schema"][0]["data_type"], "BigInt");

    // The rest of the §3.4 Arrow mapping.
    let body = server
        .sql(
            "SELECT arrow_cast(5, 'UInt64') AS u64, arrow_cast(5, 'UInt32') AS u32, \
             arrow_cast(5, 'UInt16') AS u16, arrow_cast(5, 'UInt8') AS u8, arrow_cast(5, 'Int8') AS i8, \
             arrow_cast(1.5, 'Float16') AS f16, arrow_cast('ab', 'LargeUtf8') AS lu, \
             arrow_cast('ab', 'Utf8View') AS uv, arrow_cast('ab', 'Binary') AS bin, \
             arrow_cast(X'0190ABCD00007000800000000000000F', 'FixedSizeBinary(16)') AS fsb, \
             arrow_cast(CAST('2025-05-05' AS DATE), 'Date64') AS d64, \
             arrow_cast(CAST('10:00:00' AS TIME), 'Time32(Second)') AS t32, \
             arrow_cast(1768411649929, 'Timestamp(Millisecond, None)') AS tms, \
             arrow_cast(1768411649, 'Timestamp(Second, Some(\"UTC\"))') AS tsz, \
             named_struct('a', 1) AS st, INTERVAL '1 day' AS iv",
        )
        .await;
    let r = &body["results"][0];
    let types: Vec<&Value> = r["schema"]
        .as_array()
        .expect("schema")
        .iter()
        .map(|d| &d["data_type"])
        .collect();
    assert_eq!(
        types,
        [
            "BigInt",
            "BigInt",
            "Int",
            "SmallInt",
            "SmallInt",
            "Float",
            "Text",
            "Text",
            "Bytes",
            "Uuid",
            "Date",
            "Time",
            "Timestamp",
            "DateTime",
            "Json",
            "Text"
        ]
        .map(|t| json!(t))
        .iter()
        .collect::<Vec<_>>()
    );
    let row = r["rows"][0].as_array().expect("row");
    assert_eq!(
        row[..14],
        [
            json!("5"),
            json!("5"),
            json!(5),
            json!(5),
            json!(5),
            json!(1.5),
            json!("ab"),
            json!("ab"),
            json!([97, 98]),
            json!("0190abcd-0000-7000-8000-00000000000f"),
            json!(20213),
            json!(36_000_000_000_i64),
            json!(1_768_411_649_929_000_i64),
            json!(1_768_411_649_000_000_i64),
        ]
    );
    assert!(row[14].is_object(), "struct → JSON object: {row:?}");
    assert!(row[15].is_string(), "interval → string rendering: {row:?}");

    // Lists are JSON arrays, typed Json.
    let body = server.sql("SELECT make_array(1, 2) AS l").await;
    assert_eq!(
        body["results"][0]["schema"],
        json!([{"name":"l","data_type":"Json","index":0}])
    );
    assert_eq!(
        body["results"][0]["rows"][0][0].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
}

// ---------------------------------------------------------------- §3.6 params

#[tokio::test]
async fn parameters_bind_and_coerce() {
    let server = TestServer::start();
    let root = Auth::Basic("root", ROOT_PASSWORD);
    server.sql("CREATE NAMESPACE wp").await;
    server
        .sql("CREATE TABLE wp.t (id BIGINT PRIMARY KEY, ts TIMESTAMP, note TEXT, flag BOOLEAN, d DOUBLE)")
        .await;

    // JSON → SQL types: integer BIGINT, other number DOUBLE, string TEXT, bool BOOLEAN.
    let (status, body) = sql_req(
        &server,
        root,
        json!({"sql":"SELECT $1 AS a, $2 AS b, $3 AS c, $4 AS d","params":[7,1.5,"s",true]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0]["schema"],
        json!([{"name":"a","data_type":"BigInt","index":0},{"name":"b","data_type":"Double","index":1},
               {"name":"c","data_type":"Text","index":2},{"name":"d","data_type":"Boolean","index":3}])
    );
    assert_eq!(body["results"][0]["rows"], json!([["7", 1.5, "s", true]]));

    // A string into a BIGINT column, an integer into TIMESTAMP (µs), null, bool, float.
    let insert = "INSERT INTO wp.t (id, ts, note, flag, d) VALUES ($1, $2, $3, $4, $5)";
    let cases = [
        json!(["1001", 1_768_411_649_929_000_i64, null, true, 2.5]),
        json!([1002, "2026-01-14T17:27:29.929Z", "text", false, 3]),
    ];
    for params in cases {
        let (status, body) = sql_req(
            &server,
            Auth::Basic("root", ROOT_PASSWORD),
            json!({"sql": insert, "params": params}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["results"],
            json!([{"row_count":1,"message":"Inserted 1 row(s)","as_user":"root"}])
        );
    }
    let rows = server
        .rows("SELECT id, ts, note, flag, d FROM wp.t ORDER BY id")
        .await;
    assert_eq!(
        rows,
        vec![
            json!(["1001", 1_768_411_649_929_000_i64, null, true, 2.5]),
            json!(["1002", 1_768_411_649_929_000_i64, "text", false, 3.0]),
        ]
    );

    // A string compared with a BIGINT column is cast (clients send BIGINTs as strings).
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT id FROM wp.t WHERE id = $1","params":["1002"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["1002"]]));

    // An integer compared with a TIMESTAMP column means µs.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT COUNT(*) AS n FROM wp.t WHERE ts = $1","params":[1_768_411_649_929_000_i64]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["2"]]));

    // NULL params bind as NULL (IS NULL matches, `= NULL` does not).
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT id FROM wp.t WHERE note IS NOT DISTINCT FROM $1","params":[null]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["1001"]]));

    // UPDATE and DELETE take params too.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"UPDATE wp.t SET note = $1 WHERE id = $2","params":["changed","1001"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["message"], "Updated 1 row(s)");
    assert_eq!(
        server.rows("SELECT note FROM wp.t WHERE id = 1001").await,
        vec![json!(["changed"])]
    );

    // A failed cast of a param is SQL_EXECUTION_ERROR.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql": "INSERT INTO wp.t (id) VALUES ($1)", "params": ["abc"]}),
    )
    .await;
    assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert_alive(&server).await;
}

#[tokio::test]
async fn namespace_id_resolves_unqualified_names() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wns").await;
    server
        .sql("CREATE TABLE wns.items (id BIGINT PRIMARY KEY, title TEXT)")
        .await;
    let root = || Auth::Basic("root", ROOT_PASSWORD);

    let (status, body) = sql_req(
        &server,
        root(),
        json!({"sql":"INSERT INTO items VALUES (1, 'a')","namespace_id":"wns"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sql_req(
        &server,
        root(),
        json!({"sql":"SELECT id, title FROM items","namespace_id":"wns"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["1", "a"]]));

    // Without it, unqualified names resolve in `default`.
    let (status, body) = sql_req(&server, root(), json!({"sql":"SELECT id FROM items"})).await;
    let msg = assert_envelope(status, &body, 400, "TABLE_NOT_FOUND");
    assert_eq!(msg, "Table 'default.items' not found");

    // USE later in the request beats namespace_id.
    let (status, body) = sql_req(
        &server,
        root(),
        json!({"sql":"USE wns; SELECT title FROM items","namespace_id":"default"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0],
        json!({"row_count":0,"message":"Namespace switched to 'wns'","as_user":"root"})
    );
    assert_eq!(body["results"][1]["rows"], json!([["a"]]));
}

// ---------------------------------------------------------------- §2 health

#[tokio::test]
async fn health_endpoints_on_loopback() {
    let server = TestServer::start();
    for path in ["/health", "/v1/api/healthcheck", "//v1/api/healthcheck"] {
        let resp = server
            .client
            .get(server.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let ct = resp
            .headers()
            .get("content-type")
            .expect("content-type")
            .to_str()
            .unwrap()
            .to_string();
        assert!(ct.starts_with("application/json"), "{ct}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["status"], "healthy", "{body}");
        assert_eq!(body["api_version"], "v1", "{body}");
        assert!(body["version"].is_string(), "{body}");
        assert!(body["build_date"].is_string(), "{body}");
    }
}

// ---------------------------------------------------------------- §5.2 login & co

#[tokio::test]
async fn login_response_shape_and_cookies() {
    let server = start_with_admin().await;
    let (status, headers, body) =
        login(&server, json!({"user":"admin","password":ADMIN_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "user",
            "admin_ui_access",
            "expires_at",
            "access_token",
            "refresh_token",
            "refresh_expires_at"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
    let user = &body["user"];
    assert_eq!(user["id"], "admin");
    assert_eq!(user["role"], "dba");
    assert_eq!(user["email"], "admin@example.com");
    for k in ["id", "role", "email", "created_at", "updated_at"] {
        assert!(user.get(k).is_some(), "user.{k} missing: {body}");
    }
    assert_rfc3339_utc(&user["created_at"]);
    assert_rfc3339_utc(&user["updated_at"]);
    assert_eq!(body["admin_ui_access"], true);
    assert_rfc3339_utc(&body["expires_at"]);
    assert_rfc3339_utc(&body["refresh_expires_at"]);
    assert!(
        body["refresh_expires_at"].as_str() > body["expires_at"].as_str(),
        "{body}"
    );

    let access = body["access_token"].as_str().expect("access");
    let refresh = body["refresh_token"].as_str().expect("refresh");
    let (a, r) = (jwt_claims(access), jwt_claims(refresh));
    assert_eq!(
        (
            &a["sub"],
            &a["iss"],
            &a["role"],
            &a["token_type"],
            &a["email"]
        ),
        (
            &json!("admin"),
            &json!("kalamdb"),
            &json!("dba"),
            &json!("access"),
            &json!("admin@example.com")
        )
    );
    assert_eq!(r["token_type"], "refresh");
    assert_eq!(
        a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(),
        24 * 3600
    );
    assert_eq!(
        r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(),
        7 * 24 * 3600
    );
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");

    // Two cookies: HttpOnly, SameSite=Strict, Path=/ (no Secure by default).
    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for (name, token) in [("kalamdb_auth", access), ("kalamdb_refresh", refresh)] {
        let c = cookie_named(&cookies, name);
        let attrs: Vec<&str> = c.split(';').map(str::trim).collect();
        assert_eq!(attrs[0], format!("{name}={token}"));
        assert!(attrs.contains(&"HttpOnly"), "{c}");
        assert!(attrs.contains(&"SameSite=Strict"), "{c}");
        assert!(attrs.contains(&"Path=/"), "{c}");
        assert!(!attrs.contains(&"Secure"), "{c}");
    }

    // `username` is an alias; root is an admin; an unknown field is refused.
    let (status, _, body) =
        login(&server, json!({"username":"root","password":ROOT_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "system");
    assert_eq!(body["user"]["email"], "root@localhost");
    assert_eq!(body["admin_ui_access"], true);
    let (status, _, body) = login(
        &server,
        json!({"user":"admin","password":ADMIN_PASSWORD,"x":1}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{body}"
    );

    // Wrong password or unknown user: the same opaque 401.
    for creds in [
        json!({"user":"admin","password":"nope-nope-nope"}),
        json!({"user":"ghost","password":"whatever1"}),
    ] {
        let (status, headers, body) = login(&server, creds).await;
        let msg = assert_auth_error(status, &body, 401, "unauthorized");
        assert_eq!(msg, "Invalid credentials");
        assert!(set_cookies(&headers).is_empty());
    }
}

#[tokio::test]
async fn bearer_refresh_me_and_logout() {
    let server = start_with_admin().await;
    let (access, refresh) = tokens(&server, "admin", ADMIN_PASSWORD).await;

    // The access token authorizes /sql; as_user is the token's subject.
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&access),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "admin");

    // Refresh (Bearer refresh JWT, no body) gives a new pair of the same shape.
    let resp = server
        .client
        .post(server.url("/v1/api/auth/refresh"))
        .bearer_auth(&refresh)
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(set_cookies(resp.headers()).len(), 2);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["user"]["id"], "admin");
    for k in [
        "admin_ui_access",
        "expires_at",
        "access_token",
        "refresh_token",
        "refresh_expires_at",
    ] {
        assert!(body.get(k).is_some(), "{k} missing: {body}");
    }
    let new_access = body["access_token"].as_str().expect("access");
    assert_eq!(jwt_claims(new_access)["token_type"], "access");
    assert_eq!(
        jwt_claims(body["refresh_token"].as_str().unwrap())["token_type"],
        "refresh"
    );
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(new_access),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Refresh via the kalamdb_refresh cookie works too; an access token does not refresh.
    let resp = server
        .client
        .post(server.url("/v1/api/auth/refresh"))
        .header("cookie", format!("kalamdb_refresh={refresh}"))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _, body) =
        post_raw(&server, "/v1/api/auth/refresh", Auth::Bearer(&access), "").await;
    assert_auth_error(status, &body, 401, "unauthorized");

    // The refresh token is no access token.
    let (status, body) = sql_req(&server, Auth::Bearer(&refresh), json!({"sql":"SELECT 1"})).await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");

    // /me with Bearer or the kalamdb_auth cookie.
    let me_want = |body: &Value| {
        assert_eq!(
            keys(body),
            BTreeSet::from(["user".into(), "admin_ui_access".into()]),
            "{body}"
        );
        assert_eq!(body["user"]["id"], "admin");
        assert_eq!(body["user"]["role"], "dba");
        assert_eq!(body["user"]["email"], "admin@example.com");
        assert_eq!(body["admin_ui_access"], true);
    };
    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    me_want(&resp.json().await.unwrap());
    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .header("cookie", format!("theme=dark; kalamdb_auth={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    me_want(&resp.json().await.unwrap());
    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_auth_error(status, &resp.json().await.unwrap(), 401, "unauthorized");
    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .bearer_auth(&refresh)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_auth_error(status, &resp.json().await.unwrap(), 401, "unauthorized");

    // Logout answers the message and expires both cookies.
    let (status, headers, body) = post_raw(&server, "/v1/api/auth/logout", Auth::None, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"message":"Logged out successfully"}));
    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for name in ["kalamdb_auth", "kalamdb_refresh"] {
        let c = cookie_named(&cookies, name);
        let attrs: Vec<&str> = c.split(';').map(str::trim).collect();
        assert_eq!(attrs[0], format!("{name}="), "{c}");
        assert!(
            attrs.contains(&"Max-Age=0") || c.contains("1970"),
            "cookie not expired: {c}"
        );
        assert!(attrs.contains(&"Path=/"), "{c}");
    }
    // Tokens are stateless: still valid after logout.
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&access),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------- §5.3 JWT validation

#[tokio::test]
async fn forged_expired_and_foreign_tokens() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.auth.jwt_secret = Some(TEST_SECRET.into()));
    let secret = TEST_SECRET.as_bytes();
    let sql = json!({"sql":"SELECT 1 AS x"});

    // A hand-made token with the server's secret is accepted: the forging is right.
    let good = sign_hs256(secret, &hs256_header(), &root_claims());
    let (status, body) = sql_req(&server, Auth::Bearer(&good), sql.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "root");

    // Expired (beyond the 60 s leeway) → TOKEN_EXPIRED "Token expired" in the SQL envelope.
    let now = unix_now();
    let mut claims = root_claims();
    claims["iat"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    let expired = sign_hs256(secret, &hs256_header(), &claims);
    let (status, body) = sql_req(&server, Auth::Bearer(&expired), sql.clone()).await;
    let msg = assert_envelope(status, &body, 401, "TOKEN_EXPIRED");
    assert_eq!(msg, "Token expired");

    // Expired by less than the leeway is still accepted.
    claims["exp"] = json!(now - 10);
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&sign_hs256(secret, &hs256_header(), &claims)),
        sql.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Every other failure is INVALID_CREDENTIALS.
    let mut invalid: Vec<(&str, String)> = Vec::new();
    invalid.push((
        "other secret",
        sign_hs256(
            b"another-secret-entirely-0123456789abcdef",
            &hs256_header(),
            &root_claims(),
        ),
    ));
    // Even an expired token signed with another secret is not "expired".
    invalid.push((
        "other secret, expired",
        sign_hs256(
            b"another-secret-entirely-0123456789abcdef",
            &hs256_header(),
            &claims_with(&[("exp", json!(now - 3600))]),
        ),
    ));
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg":"none","typ":"JWT"}).to_string());
    let none_claims = URL_SAFE_NO_PAD.encode(root_claims().to_string());
    invalid.push(("alg none", format!("{none_header}.{none_claims}.")));
    invalid.push(("alg none, stolen signature", {
        let sig = good.rsplit('.').next().unwrap();
        format!("{none_header}.{none_claims}.{sig}")
    }));
    for claim in ["exp", "sub", "iss", "token_type"] {
        let mut c = root_claims();
        c.as_object_mut().unwrap().remove(claim);
        invalid.push(("missing claim", sign_hs256(secret, &hs256_header(), &c)));
    }
    invalid.push((
        "HS512 header",
        sign_hs256(secret, &json!({"alg":"HS512","typ":"JWT"}), &root_claims()),
    ));
    invalid.push((
        "untrusted issuer",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("iss", json!("evil"))]),
        ),
    ));
    invalid.push((
        "refresh type",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("token_type", json!("refresh"))]),
        ),
    ));
    invalid.push((
        "wrong role",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("role", json!("user"))]),
        ),
    ));
    invalid.push((
        "unknown user",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("sub", json!("ghost"))]),
        ),
    ));
    invalid.push((
        "issued in the future",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("iat", json!(now + 3600))]),
        ),
    ));
    invalid.push((
        "not yet valid",
        sign_hs256(
            secret,
            &hs256_header(),
            &claims_with(&[("nbf", json!(now + 3600))]),
        ),
    ));
    invalid.push(("tampered payload", {
        let mut parts: Vec<&str> = good.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(claims_with(&[("sub", json!("alice"))]).to_string());
        parts[1] = &evil;
        parts.join(".")
    }));
    for (what, token) in &invalid {
        let (status, body) = sql_req(&server, Auth::Bearer(token), sql.clone()).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    }
    assert_alive(&server).await;
}

/// Root's valid claims with some fields replaced.
fn claims_with(changes: &[(&str, Value)]) -> Value {
    let mut c = root_claims();
    for (k, v) in changes {
        c[*k] = v.clone();
    }
    c
}

#[tokio::test]
async fn jwt_secret_is_generated_persisted_and_tokens_survive_restart() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start();
    let path = server.data_path().join("jwt_secret");
    let meta = std::fs::metadata(&path).expect("jwt_secret file in the data dir");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let secret = std::fs::read_to_string(&path).expect("read secret");
    assert!(secret.trim().len() >= 32, "secret too short");

    let (access, _) = tokens(&server, "root", ROOT_PASSWORD).await;
    // The generated secret is what signs tokens.
    let forged = sign_hs256(secret.trim().as_bytes(), &hs256_header(), &root_claims());
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&forged),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let server = server.restart();
    assert_eq!(
        std::fs::read_to_string(&path).expect("read secret"),
        secret,
        "secret changed on restart"
    );
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&access),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------- §5.5 first run

#[tokio::test]
async fn first_run_setup_flow() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.auth.root_password = None);

    // Basic as root → 428 SETUP_REQUIRED in the SQL envelope.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", "anything-at-all"),
        json!({"sql":"SELECT 1"}),
    )
    .await;
    assert_envelope(status, &body, 428, "SETUP_REQUIRED");
    // Login as root → 428 setup_required.
    let (status, _, body) =
        login(&server, json!({"user":"root","password":"anything-at-all"})).await;
    assert_auth_error(status, &body, 428, "setup_required");

    let status_body = |server: &TestServer| {
        let (client, url) = (server.client.clone(), server.url("/v1/api/auth/status"));
        async move {
            let resp = client.get(url).send().await.expect("status");
            assert_eq!(resp.status().as_u16(), 200);
            resp.json::<Value>().await.expect("json")
        }
    };
    let body = status_body(&server).await;
    assert_eq!(body["needs_setup"], true, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Server requires initial setup."),
        "{body}"
    );

    let setup = |body: Value| post_raw(&server, "/v1/api/auth/setup", Auth::None, body.to_string());
    // Refused setups change nothing.
    let (status, _, body) = setup(
        json!({"user":"root","password":"Admin-passw0rd-1","root_password":"Root-passw0rd-1"}),
    )
    .await;
    assert_auth_error(status, &body, 400, "invalid_user");
    let (status, _, body) =
        setup(json!({"user":"admin","password":"short","root_password":"Root-passw0rd-1"})).await;
    assert_auth_error(status, &body, 400, "weak_password");
    let (status, _, body) =
        setup(json!({"user":"admin","password":"Admin-passw0rd-1","root_password":"password"}))
            .await;
    assert_auth_error(status, &body, 400, "weak_password");
    assert_eq!(status_body(&server).await["needs_setup"], true);

    let (status, headers, body) =
        setup(json!({"user":"admin","password":"Admin-passw0rd-1","root_password":"Root-passw0rd-1","email":null}))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        BTreeSet::from(["user".into(), "message".into()]),
        "no tokens: {body}"
    );
    assert_eq!(body["user"]["id"], "admin");
    assert_eq!(body["user"]["role"], "dba");
    assert_rfc3339_utc(&body["user"]["created_at"]);
    assert_rfc3339_utc(&body["user"]["updated_at"]);
    assert_eq!(
        body["message"],
        "Server setup complete. Root password configured and DBA user 'admin' created. Please login to continue."
    );
    assert!(set_cookies(&headers).is_empty());

    let body = status_body(&server).await;
    assert_eq!(
        body,
        json!({"needs_setup":false,"message":"Server is configured and ready."})
    );

    let (status, _, body) =
        login(&server, json!({"user":"root","password":"Root-passw0rd-1"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "system");
    let (status, _, body) = login(
        &server,
        json!({"user":"admin","password":"Admin-passw0rd-1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "dba");
    assert_eq!(body["admin_ui_access"], true);
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", "Root-passw0rd-1"),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sql_req(
        &server,
        Auth::Basic("admin", "Admin-passw0rd-1"),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "admin");

    // A second setup is refused and changes nothing.
    let (status, _, body) = setup(
        json!({"user":"admin2","password":"Admin-passw0rd-2","root_password":"Root-passw0rd-2"}),
    )
    .await;
    assert_auth_error(status, &body, 409, "already_configured");
    let (status, _, body) =
        login(&server, json!({"user":"root","password":"Root-passw0rd-1"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = login(
        &server,
        json!({"user":"admin2","password":"Admin-passw0rd-2"}),
    )
    .await;
    assert_auth_error(status, &body, 401, "unauthorized");
}

// ---------------------------------------------------------------- §5.4 lockout

#[tokio::test]
async fn five_failures_lock_the_account() {
    let server = start_with_admin().await;
    // Bearer tokens issued before the lockout stop working too (§5.3: the user must not be locked).
    let (access, _) = tokens(&server, "admin", ADMIN_PASSWORD).await;
    // A remembered Basic success does not bypass the lockout either.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("admin", ADMIN_PASSWORD),
        json!({"sql":"SELECT 1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..5 {
        let (status, body) = sql_req(
            &server,
            Auth::Basic("admin", "wrong-password"),
            json!({"sql":"SELECT 1"}),
        )
        .await;
        assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
    }
    let (status, body) = sql_req(
        &server,
        Auth::Basic("admin", ADMIN_PASSWORD),
        json!({"sql":"SELECT 1"}),
    )
    .await;
    let msg = assert_envelope(status, &body, 401, "ACCOUNT_LOCKED");
    assert!(!msg.is_empty());
    let (status, _, body) = login(&server, json!({"user":"admin","password":ADMIN_PASSWORD})).await;
    assert_auth_error(status, &body, 401, "account_locked");
    let (status, body) = sql_req(&server, Auth::Bearer(&access), json!({"sql":"SELECT 1"})).await;
    assert_envelope(status, &body, 401, "ACCOUNT_LOCKED");
    // Others are unaffected.
    assert_alive(&server).await;
}

/// Guesses sent in parallel must each count: before failures were counted
/// inside the commit, ten concurrent wrong passwords all read "0 failures"
/// and the account never locked.
#[tokio::test]
async fn parallel_wrong_passwords_still_lock_the_account() {
    let server = start_with_admin().await;
    let guesses: Vec<_> = (0..10)
        .map(|i| {
            login(
                &server,
                json!({"user":"admin","password":format!("wrong-password-{i}")}),
            )
        })
        .collect();
    for (status, _, body) in futures::future::join_all(guesses).await {
        assert_eq!(status, 401, "{body}");
    }
    let (status, _, body) = login(&server, json!({"user":"admin","password":ADMIN_PASSWORD})).await;
    assert_auth_error(status, &body, 401, "account_locked");
}

#[tokio::test]
async fn failures_below_the_threshold_reset_on_success() {
    let server = start_with_admin().await;
    for round in 0..2 {
        for _ in 0..4 {
            let (status, body) = sql_req(
                &server,
                Auth::Basic("admin", "wrong-password"),
                json!({"sql":"SELECT 1"}),
            )
            .await;
            assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
        }
        let (status, _, body) =
            login(&server, json!({"user":"admin","password":ADMIN_PASSWORD})).await;
        assert_eq!(status, 200, "round {round}: {body}");
    }
}

// ---------------------------------------------------------------- §1 transport

#[tokio::test]
async fn double_slash_path_is_served() {
    let server = TestServer::start();
    let (status, _, body) = post_raw(
        &server,
        "//v1/api/sql",
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT 1 AS x"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["1"]]));
    let (status, _, body) = post_raw(
        &server,
        "//v1/api/auth/login",
        Auth::None,
        json!({"user":"root","password":ROOT_PASSWORD}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn sql_responses_are_json_and_accept_any_content_type() {
    let server = TestServer::start();
    // `curl -d` sends application/x-www-form-urlencoded.
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"sql":"SELECT 1 AS x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["results"][0]["rows"], json!([["1"]]));
    // Unknown request fields are ignored.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT 1 AS x","extra":[1]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn cors_preflight_echoes_the_origin() {
    let server = TestServer::start();
    let origin = "http://app.example.com:3000";
    let resp = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/v1/api/sql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-request-id",
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    let get = |k: &str| h.get(k).map(|v| v.to_str().unwrap().to_ascii_lowercase());
    assert_eq!(get("access-control-allow-origin").as_deref(), Some(origin));
    assert_eq!(
        get("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let methods = get("access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("post"), "{methods}");
    let allowed = get("access-control-allow-headers").unwrap_or_default();
    for want in ["authorization", "content-type", "x-request-id"] {
        assert!(allowed.contains(want), "{want} not in {allowed}");
    }

    // The actual request carries the CORS headers too.
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .header("origin", origin)
        .json(&json!({"sql":"SELECT 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("access-control-allow-origin").unwrap(),
        origin
    );
    assert_eq!(
        resp.headers()
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
}

// ---------------------------------------------------------------- §3.2 group commit

#[tokio::test]
async fn concurrent_writes_share_commit_groups() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wg").await;
    server
        .sql("CREATE TABLE wg.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    // Bearer, so the requests reach the committer together instead of
    // queueing behind Argon2. Planning, not the commit, dominates a request,
    // so only some arrive while another group is being written: 256 of them
    // make "no group at all" vanishingly unlikely. (`commit.rs` proves
    // grouping deterministically; this checks it end to end.)
    let (access, _) = tokens(&server, "root", ROOT_PASSWORD).await;
    let requests = (0..256).map(|i| {
        let access = access.clone();
        let server = &server;
        async move {
            sql_req(
                server,
                Auth::Bearer(&access),
                json!({"sql": format!("INSERT INTO wg.t VALUES ({i}, 'v{i}')")}),
            )
            .await
        }
    });
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["message"], "Inserted 1 row(s)");
    }
    assert_eq!(
        server.rows("SELECT COUNT(*) FROM wg.t").await,
        vec![json!(["256"])]
    );

    let rows = server
        .rows("SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('commit_groups','commit_requests') ORDER BY metric_name")
        .await;
    let metric = |name: &str| -> u64 {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} missing: {rows:?}"))[1]
            .as_str()
            .expect("metric_value is TEXT")
            .parse()
            .expect("a count")
    };
    let (groups, requests) = (metric("commit_groups"), metric("commit_requests"));
    println!("commit_groups={groups} commit_requests={requests}");
    assert!(requests >= 256, "requests={requests}");
    assert!(
        groups < requests,
        "no group commit: groups={groups} requests={requests}"
    );
}

/// Basic auth is checked like a login: a correct header works for any user,
/// and `Authorization: Basic` with the standard base64 alphabet is decoded.
#[tokio::test]
async fn basic_auth_header_forms() {
    let server = start_with_admin().await;
    // A colon in the password: only the first colon separates.
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"))
    );
    let (status, body) = sql_req(&server, Auth::Raw(&header), json!({"sql":"SELECT 1 AS x"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "admin");
    // The scheme is case-insensitive (RFC 7235).
    let header = format!(
        "basic {}",
        STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"))
    );
    let (status, body) = sql_req(&server, Auth::Raw(&header), json!({"sql":"SELECT 1 AS x"})).await;
    assert_eq!(status, 200, "{body}");
}

/// A `user`-role account: no admin UI access, its own `as_user`, and `/me`
/// saying so. Needs `CREATE USER` (sql.md §5).
#[tokio::test]
async fn plain_user_login_bearer_and_me() {
    let server = TestServer::start();
    server
        .sql("CREATE USER alice WITH PASSWORD 'Alice-passw0rd-1' ROLE user EMAIL 'alice@example.com'")
        .await;
    let (status, _, body) = login(
        &server,
        json!({"user":"alice","password":"Alice-passw0rd-1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], "alice");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["admin_ui_access"], false);
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(jwt_claims(&access)["role"], "user");

    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&access),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "alice");
    let (status, body) = sql_req(
        &server,
        Auth::Basic("alice", "Alice-passw0rd-1"),
        json!({"sql":"SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["as_user"], "alice");

    let resp = server
        .client
        .get(server.url("/v1/api/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["id"], "alice");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["admin_ui_access"], false);
}

// ---------------------------------------------------------------- more §3 / §5 details

/// `sql.md` §3.1 literal conversions, as they come back on the wire.
#[tokio::test]
async fn insert_literal_conversions() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wl").await;
    server
        .sql("CREATE TABLE wl.t (id BIGINT PRIMARY KEY, ts TIMESTAMP, dtz DATETIME, d DATE, b BYTES, amount DECIMAL(10,2), j JSON)")
        .await;
    server
        .sql(
            "INSERT INTO wl.t (id, ts, dtz, d, b, amount, j) VALUES \
             (1, '2026-01-14T17:27:29.929Z', '2026-01-14T18:27:29.929+01:00', '2025-05-05', 'hi', '12.5', '[1, 2]'), \
             (2, '2026-01-14 17:27:29', '2026-01-14', '1970-01-01', X'00FF', 7, 'null'), \
             (3, 1768411649929000, 1768411649929000, '1969-12-31', '', -12.34, '{\"k\":\"v\"}')",
        )
        .await;
    let rows = server
        .rows("SELECT id, ts, dtz, d, b, amount, j FROM wl.t ORDER BY id")
        .await;
    assert_eq!(
        rows,
        vec![
            json!([
                "1",
                1_768_411_649_929_000_i64,
                1_768_411_649_929_000_i64,
                20213,
                [104, 105],
                "12.50",
                "[1, 2]"
            ]),
            json!([
                "2",
                1_768_411_649_000_000_i64,
                1_768_348_800_000_000_i64,
                0,
                [0, 255],
                "7.00",
                "null"
            ]),
            json!([
                "3",
                1_768_411_649_929_000_i64,
                1_768_411_649_929_000_i64,
                -1,
                [],
                "-12.34",
                "{\"k\":\"v\"}"
            ]),
        ]
    );

    // Invalid JSON is a statement error.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"INSERT INTO wl.t (id, j) VALUES (11, '{not json')"}),
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert_eq!(msg, "Invalid JSON for column 'j'");
    assert_eq!(
        server.rows("SELECT COUNT(*) FROM wl.t").await,
        vec![json!(["3"])]
    );

    // Params: strings into UUID and DECIMAL columns are cast too (§3.6).
    server
        .sql("CREATE TABLE wl.p (id BIGINT PRIMARY KEY, u UUID, amount DECIMAL(10,2))")
        .await;
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"INSERT INTO wl.p VALUES ($1, $2, $3)","params":["5","0190ABCD-0000-7000-8000-00000000000F","99.90"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT id, u, amount FROM wl.p WHERE u = $1 AND amount = $2",
               "params":["0190abcd-0000-7000-8000-00000000000f","99.9"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"][0]["rows"],
        json!([["5", "0190abcd-0000-7000-8000-00000000000f", "99.90"]])
    );

    // Rounding beyond the scale is an error, as a literal or a param, not a
    // silent change of the value.
    for (sql, params) in [
        (
            "INSERT INTO wl.p (id, amount) VALUES (10, 1.234)",
            json!([]),
        ),
        (
            "INSERT INTO wl.p (id, amount) VALUES (11, '1.235')",
            json!([]),
        ),
        (
            "INSERT INTO wl.p (id, amount) VALUES (12, $1)",
            json!(["1.235"]),
        ),
    ] {
        let (status, body) = sql_req(
            &server,
            Auth::Basic("root", ROOT_PASSWORD),
            json!({"sql": sql, "params": params}),
        )
        .await;
        assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    }
    assert_eq!(
        server.rows("SELECT COUNT(*) FROM wl.p").await,
        vec![json!(["1"])]
    );
}

/// `_seq` strictly increases in commit order, and every write gets a new one.
#[tokio::test]
async fn seq_increases_with_every_write() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wq").await;
    server
        .sql("CREATE TABLE wq.t (id BIGINT PRIMARY KEY, v INT)")
        .await;
    let mut last = 0_i64;
    for (i, sql) in [
        "INSERT INTO wq.t VALUES (1, 1)",
        "UPDATE wq.t SET v = 2",
        "UPDATE wq.t SET v = 3",
    ]
    .iter()
    .enumerate()
    {
        server.sql(sql).await;
        let rows = server.rows("SELECT _seq, v FROM wq.t").await;
        let seq: i64 = rows[0][0]
            .as_str()
            .expect("_seq string")
            .parse()
            .expect("decimal");
        assert!(seq > last, "step {i}: {seq} <= {last}");
        assert_eq!(rows[0][1], json!(i + 1));
        last = seq;
    }
    // Setting the same value writes nothing and keeps the version.
    let body = server.sql("UPDATE wq.t SET v = 3").await;
    assert_eq!(body["results"][0]["message"], "Updated 0 row(s)");
    let rows = server.rows("SELECT _seq FROM wq.t").await;
    assert_eq!(rows[0][0].as_str().unwrap().parse::<i64>().unwrap(), last);
}

/// Statement splitting respects quotes and comments: these are single
/// statements, so params are allowed.
#[tokio::test]
async fn splitting_respects_quotes_and_comments() {
    let server = TestServer::start();
    let cases = [
        ("SELECT $1 AS x;", json!([["1"]])),
        ("SELECT $1 AS x, 'a;b' AS y", json!([["1", "a;b"]])),
        ("SELECT $1 AS x, 'it''s;' AS y", json!([["1", "it's;"]])),
        ("SELECT $1 AS \"semi;colon\"", json!([["1"]])),
        ("SELECT $1 AS x -- trailing; comment", json!([["1"]])),
        ("/* a; b */ SELECT $1 AS x /* c; d */", json!([["1"]])),
        ("  SELECT $1 AS x ; -- done", json!([["1"]])),
    ];
    for (sql, rows) in cases {
        let (status, body) = sql_req(
            &server,
            Auth::Basic("root", ROOT_PASSWORD),
            json!({"sql": sql, "params": [1]}),
        )
        .await;
        assert_eq!(status, 200, "{sql}: {body}");
        assert_eq!(
            body["results"].as_array().map(Vec::len),
            Some(1),
            "{sql}: {body}"
        );
        assert_eq!(body["results"][0]["rows"], rows, "{sql}");
    }
    // `params: []` is no params: batches are fine.
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"SELECT 1 AS a; SELECT 2 AS b","params":[]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn large_results_keep_the_shape() {
    let server = TestServer::start();
    let body = server
        .sql("SELECT value AS v FROM generate_series(1, 200000) ORDER BY value")
        .await;
    let r = &body["results"][0];
    assert_eq!(
        r["schema"],
        json!([{"name":"v","data_type":"BigInt","index":0}])
    );
    assert_eq!(r["row_count"], 200000);
    let rows = r["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 200000);
    assert_eq!(rows[0], json!(["1"]));
    assert_eq!(rows[199_999], json!(["200000"]));
    assert_eq!(r["as_user"], "root");
    assert!(body["took"].is_f64());
}

#[tokio::test]
async fn password_hashes_are_masked() {
    let server = start_with_admin().await;
    let body = server
        .sql("SELECT user_id, password_hash FROM system.users ORDER BY user_id")
        .await;
    let rows = body["results"][0]["rows"].as_array().expect("rows");
    assert!(rows.len() >= 2, "{body}");
    for row in rows {
        assert_eq!(row[1], "***", "{body}");
    }
    // A computed column named password_hash or credentials is masked too.
    let rows = server
        .rows("SELECT 'secret' AS password_hash, 'x' AS credentials")
        .await;
    assert_eq!(rows, vec![json!(["***", "***"])]);
}

/// Success sets `last_login_at` and resets the failure counter (§5.2).
#[tokio::test]
async fn login_bookkeeping_in_system_users() {
    let server = start_with_admin().await;
    async fn user_row(server: &TestServer) -> Value {
        let sql = "SELECT failed_login_attempts, last_login_at, locked_until FROM system.users WHERE user_id = 'admin'";
        server
            .rows(sql)
            .await
            .into_iter()
            .next()
            .expect("admin row")
    }
    for _ in 0..2 {
        let (status, _, _) =
            login(&server, json!({"user":"admin","password":"wrong-password"})).await;
        assert_eq!(status, 401);
    }
    let row = user_row(&server).await;
    assert_eq!(row[0], json!("2"), "{row}");
    assert_eq!(row[2], Value::Null, "{row}");
    let before = now_micros();
    let (status, _, body) = login(&server, json!({"user":"admin","password":ADMIN_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    let row = user_row(&server).await;
    assert_eq!(row[0], json!("0"), "{row}");
    let last = row[1]
        .as_i64()
        .unwrap_or_else(|| panic!("last_login_at not set: {row}"));
    assert!(
        last >= before - 1_000_000 && last <= now_micros() + 1_000_000,
        "{last}"
    );

    // Lockout via the login endpoint records locked_until.
    for _ in 0..5 {
        let (status, _, _) =
            login(&server, json!({"user":"admin","password":"wrong-password"})).await;
        assert_eq!(status, 401);
    }
    let row = user_row(&server).await;
    let until = row[2]
        .as_i64()
        .unwrap_or_else(|| panic!("locked_until not set: {row}"));
    let expect = now_micros() + 15 * 60 * 1_000_000;
    assert!(
        (until - expect).abs() < 60 * 1_000_000,
        "locked for 15 minutes: {until} vs {expect}"
    );
}

#[tokio::test]
async fn cors_with_a_configured_origin_list() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| {
        cfg.security.cors_origins = vec!["http://good.example".into()]
    });
    let preflight = |origin: &'static str, path: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    for path in ["/v1/api/sql", "/v1/api/auth/login"] {
        let resp = preflight("http://good.example", path).await.unwrap();
        assert_eq!(
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some("http://good.example"),
            "{path}"
        );
        let resp = preflight("http://evil.example", path).await.unwrap();
        let acao = resp
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            acao.is_none() || acao.as_deref() == Some("http://good.example"),
            "{path}: {acao:?}"
        );
    }
}

#[tokio::test]
async fn trusted_issuers_are_accepted() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| {
        cfg.auth.jwt_secret = Some(TEST_SECRET.into());
        cfg.auth.jwt_trusted_issuers = vec!["partner".into()];
    });
    let sql = json!({"sql":"SELECT 1 AS x"});
    let token = sign_hs256(
        TEST_SECRET.as_bytes(),
        &hs256_header(),
        &claims_with(&[("iss", json!("partner"))]),
    );
    let (status, body) = sql_req(&server, Auth::Bearer(&token), sql.clone()).await;
    assert_eq!(status, 200, "{body}");
    // `role` is optional; when absent the user's current role applies.
    let mut claims = root_claims();
    claims.as_object_mut().unwrap().remove("role");
    let (status, body) = sql_req(
        &server,
        Auth::Bearer(&sign_hs256(
            TEST_SECRET.as_bytes(),
            &hs256_header(),
            &claims,
        )),
        sql.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The Bearer scheme is case-insensitive.
    let header = format!("bearer {token}");
    let (status, body) = sql_req(&server, Auth::Raw(&header), sql.clone()).await;
    assert_eq!(status, 200, "{body}");
    let token = sign_hs256(
        TEST_SECRET.as_bytes(),
        &hs256_header(),
        &claims_with(&[("iss", json!("stranger"))]),
    );
    let (status, body) = sql_req(&server, Auth::Bearer(&token), sql).await;
    assert_envelope(status, &body, 401, "INVALID_CREDENTIALS");
}

/// Error answers are JSON too, and carry a float `took`.
#[tokio::test]
async fn error_responses_are_json() {
    let server = TestServer::start();
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .header("x-request-id", "req-123")
        .json(&json!({"sql":"SELECT * FROM nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = resp.json().await.unwrap();
    assert!(body["took"].is_f64(), "{body}");
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .json(&json!({"sql":"SELECT 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
}

/// §3.2: a transaction still open at the end of the request is rolled back
/// and answered 400 SQL_EXECUTION_ERROR.
#[tokio::test]
#[ignore = "transactions (sql.md §3.7) are not built yet"]
async fn open_transaction_at_end_of_request_is_rolled_back() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wx").await;
    server
        .sql("CREATE TABLE wx.t (id BIGINT PRIMARY KEY)")
        .await;
    let (status, body) = sql_req(
        &server,
        Auth::Basic("root", ROOT_PASSWORD),
        json!({"sql":"BEGIN; INSERT INTO wx.t VALUES (1)"}),
    )
    .await;
    let msg = assert_envelope(status, &body, 400, "SQL_EXECUTION_ERROR");
    assert_eq!(msg, "Transaction left open at end of request; rolled back");
    assert_eq!(
        server.rows("SELECT COUNT(*) FROM wx.t").await,
        vec![json!(["0"])]
    );
    let body = server
        .sql("BEGIN; INSERT INTO wx.t VALUES (2); COMMIT")
        .await;
    assert_eq!(body["status"], "success");
    assert_eq!(server.rows("SELECT id FROM wx.t").await, vec![json!(["2"])]);
}

#[tokio::test]
async fn flags_follow_column_constraints() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE wf").await;
    server
        .sql("CREATE TABLE wf.a (id BIGINT AUTO_INCREMENT, v TEXT NOT NULL, w TEXT DEFAULT 'x', c TIMESTAMP DEFAULT NOW())")
        .await;
    server
        .sql("CREATE USER TABLE wf.u (id TEXT PRIMARY KEY, n INT)")
        .await;
    server.sql("CREATE TABLE wf.h (v TEXT)").await;
    let schema = |body: Value| body["results"][0]["schema"].clone();
    assert_eq!(
        schema(server.sql("SELECT * FROM wf.a").await),
        json!([
            {"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]},
            {"name":"v","data_type":"Text","index":1,"flags":["nn"]},
            {"name":"w","data_type":"Text","index":2},
            {"name":"c","data_type":"Timestamp","index":3},
            {"name":"_seq","data_type":"BigInt","index":4,"flags":["nn"]},
            {"name":"_deleted","data_type":"Boolean","index":5,"flags":["nn"]}
        ])
    );
    assert_eq!(
        schema(server.sql("SELECT * FROM wf.u").await),
        json!([
            {"name":"id","data_type":"Text","index":0,"flags":["pk","nn","uq"]},
            {"name":"n","data_type":"Int","index":1},
            {"name":"_seq","data_type":"BigInt","index":2,"flags":["nn"]},
            {"name":"_deleted","data_type":"Boolean","index":3,"flags":["nn"]}
        ])
    );
    // The hidden row id of a table without a key is never described.
    assert_eq!(
        schema(server.sql("SELECT * FROM wf.h").await),
        json!([
            {"name":"v","data_type":"Text","index":0},
            {"name":"_seq","data_type":"BigInt","index":1,"flags":["nn"]},
            {"name":"_deleted","data_type":"Boolean","index":2,"flags":["nn"]}
        ])
    );
    // Projections keep the flags of the columns they name; expressions have none.
    assert_eq!(
        schema(server.sql("SELECT v, id, upper(v) AS up FROM wf.a").await),
        json!([
            {"name":"v","data_type":"Text","index":0,"flags":["nn"]},
            {"name":"id","data_type":"BigInt","index":1,"flags":["pk","nn","uq"]},
            {"name":"up","data_type":"Text","index":2}
        ])
    );
}

/// Every descriptor and cell of the tables the CLI reads decodes under the
/// client's strict rules (§3.3–3.5): known spellings, flags ⊆ {pk,nn,uq},
/// `index` = position, rows as wide as the schema, cells typed per column.
#[tokio::test]
async fn system_tables_decode_strictly() {
    let server = start_with_admin().await;
    server.sql("CREATE NAMESPACE wsys").await;
    server
        .sql("CREATE TABLE wsys.t (id BIGINT PRIMARY KEY, d DECIMAL(8,3), j JSON)")
        .await;
    server.sql("INSERT INTO wsys.t VALUES (1, 1.5, '{}')").await;
    for sql in [
        "SELECT * FROM system.users",
        "SELECT * FROM system.namespaces",
        "SELECT * FROM system.tables",
        "SELECT * FROM system.columns",
        "SELECT * FROM system.stats",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM information_schema.columns",
        "SHOW NAMESPACES",
        "SHOW TABLES",
        "DESCRIBE wsys.t",
        "SELECT * FROM wsys.t",
    ] {
        let body = server.sql(sql).await;
        let r = &body["results"][0];
        let schema = r["schema"]
            .as_array()
            .unwrap_or_else(|| panic!("{sql}: no schema"));
        let rows = r["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{sql}: no rows"));
        assert_eq!(r["row_count"].as_u64(), Some(rows.len() as u64), "{sql}");
        for (i, d) in schema.iter().enumerate() {
            assert!(d["name"].is_string(), "{sql}: {d}");
            assert_eq!(d["index"], json!(i), "{sql}: {d}");
            if let Some(flags) = d.get("flags") {
                let flags = flags.as_array().expect("flags array");
                assert!(!flags.is_empty(), "{sql}: empty flags must be omitted: {d}");
                assert!(
                    flags
                        .iter()
                        .all(|f| ["pk", "nn", "uq"].contains(&f.as_str().unwrap_or(""))),
                    "{sql}: {d}"
                );
            }
            assert!(
                known_data_type(&d["data_type"]),
                "{sql}: unknown data_type {d}"
            );
        }
        for row in rows {
            let cells = row
                .as_array()
                .unwrap_or_else(|| panic!("{sql}: row not an array: {row}"));
            assert_eq!(cells.len(), schema.len(), "{sql}: {row}");
            for (cell, d) in cells.iter().zip(schema) {
                assert!(
                    cell_matches(&d["data_type"], cell),
                    "{sql}: column {} {} holds {cell}",
                    d["name"],
                    d["data_type"]
                );
            }
        }
    }
}

fn known_data_type(t: &Value) -> bool {
    const NAMES: [&str; 15] = [
        "Boolean",
        "SmallInt",
        "Int",
        "BigInt",
        "Float",
        "Double",
        "Text",
        "Bytes",
        "Json",
        "Uuid",
        "Date",
        "Time",
        "Timestamp",
        "DateTime",
        "File",
    ];
    match t {
        Value::String(s) => NAMES.contains(&s.as_str()),
        Value::Object(o) if o.len() == 1 => match (o.get("Decimal"), o.get("Embedding")) {
            (Some(d), None) => {
                d["precision"].is_u64()
                    && d["scale"].is_u64()
                    && d.as_object().map(|m| m.len()) == Some(2)
            }
            (None, Some(e)) => e.is_u64(),
            _ => false,
        },
        _ => false,
    }
}

/// Whether `cell` is encoded as §3.5 says for a column of type `t`.
fn cell_matches(t: &Value, cell: &Value) -> bool {
    if cell.is_null() {
        return true;
    }
    match t.as_str() {
        Some("Boolean") => cell.is_boolean(),
        Some("SmallInt" | "Int" | "Date" | "Time" | "Timestamp" | "DateTime") => cell.is_i64(),
        Some("BigInt") => cell.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
        Some("Float" | "Double") => cell.is_number(),
        Some("Text" | "Json" | "File") => cell.is_string(),
        Some("Uuid") => cell
            .as_str()
            .is_some_and(|s| s.len() == 36 && s == s.to_lowercase()),
        Some("Bytes") => cell
            .as_array()
            .is_some_and(|a| a.iter().all(|b| b.as_u64().is_some_and(|b| b < 256))),
        Some(_) => false,
        None => match t.get("Decimal") {
            Some(d) => {
                let scale = d["scale"].as_u64().unwrap_or(0) as usize;
                cell.as_str().is_some_and(|s| match s.split_once('.') {
                    Some((_, frac)) => frac.len() == scale,
                    None => scale == 0,
                })
            }
            None => true,
        },
    }
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let data = Arc::new(tempfile::tempdir().expect("tempdir"));
    let server = TestServer::start_with(data, |cfg| cfg.auth.cookie_secure = true);
    let (status, headers, body) =
        login(&server, json!({"user":"root","password":ROOT_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for name in ["kalamdb_auth", "kalamdb_refresh"] {
        let attrs: Vec<String> = cookie_named(&cookies, name)
            .split(';')
            .map(|a| a.trim().to_string())
            .collect();
        for want in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
            assert!(
                attrs.iter().any(|a| a == want),
                "{name}: {want} missing in {attrs:?}"
            );
        }
    }
}
