//! Live queries over `GET /v1/ws` (`wire-protocol.md` §6), driven with a
//! plain WebSocket client, message by message.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::common::{ROOT_PASSWORD, TestServer};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for one message before failing.
const WAIT: Duration = Duration::from_secs(15);

pub struct Ws {
    socket: Socket,
    /// When the client last sent anything: like real clients, a waiting
    /// `Ws` pings at least every 3 s, since the server closes sockets silent
    /// for 10 s (a loaded CI machine can stretch a test past that).
    last_sent: tokio::time::Instant,
    /// Off for the test of the heartbeat timeout itself.
    pub keepalive: bool,
}

/// What the next frame turned out to be.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed(Option<(u16, String)>),
}

impl Ws {
    /// Connects with `Authorization: Bearer` and consumes `auth_success`.
    pub async fn connect(server: &TestServer, user: &str, password: &str) -> Ws {
        let token = login(server, user, password).await;
        let mut ws = Ws::open(server, "", Some(&token), None)
            .await
            .expect("upgrade");
        let ok = ws.next().await;
        assert_eq!(ok["type"], "auth_success", "{ok}");
        ws
    }

    pub async fn open(
        server: &TestServer,
        query: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Ws, tungstenite::Error> {
        let mut req = format!("ws://{}/v1/ws{query}", server.addr)
            .into_client_request()
            .expect("request");
        if let Some(t) = token {
            req.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
            );
        }
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", HeaderValue::from_str(o).expect("header"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Ws {
            socket,
            last_sent: tokio::time::Instant::now(),
            keepalive: true,
        })
    }

    pub async fn send(&mut self, v: Value) {
        self.send_raw(Message::Text(v.to_string().into())).await;
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.socket.send(m).await.expect("send");
        self.last_sent = tokio::time::Instant::now();
    }

    async fn keep_alive(&mut self) {
        if self.keepalive && self.last_sent.elapsed() >= Duration::from_secs(3) {
            self.send(json!({"type": "ping"})).await;
        }
    }

    /// The next JSON message or the close.
    pub async fn frame(&mut self) -> Frame {
        self.frame_within(WAIT).await
    }

    async fn frame_within(&mut self, wait: Duration) -> Frame {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.keep_alive().await;
            let msg = match tokio::time::timeout(Duration::from_secs(1), self.socket.next()).await {
                Ok(m) => m,
                Err(_) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "timed out waiting for a frame"
                    );
                    continue;
                }
            };
            match msg {
                None => return Frame::Closed(None),
                Some(Err(_)) => return Frame::Closed(None),
                Some(Ok(Message::Text(t))) => {
                    return Frame::Json(serde_json::from_str(t.as_str()).expect("json"));
                }
                Some(Ok(Message::Binary(b))) => {
                    let text =
                        kalamdb_ws_protocol::gunzip(&b).expect("a binary frame is gzip'd JSON");
                    return Frame::Json(serde_json::from_str(&text).expect("json"));
                }
                Some(Ok(Message::Close(f))) => {
                    return Frame::Closed(f.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next JSON message, waiting longer (a reader across a long
    /// concurrent workload).
    pub async fn next_pinging(&mut self) -> Value {
        match self.frame_within(WAIT * 4).await {
            Frame::Json(v) => v,
            Frame::Closed(c) => panic!("connection closed: {c:?}"),
        }
    }

    pub async fn next(&mut self) -> Value {
        match self.frame().await {
            Frame::Json(v) => v,
            Frame::Closed(c) => panic!("connection closed: {c:?}"),
        }
    }

    /// Reads until the server closes; returns the close code and reason.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            if let Frame::Closed(c) = self.frame().await {
                return c;
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, sql: &str, options: Value) {
        self.send(json!({"type": "subscribe", "subscription": {"id": id, "sql": sql, "options": options}}))
            .await;
    }

    /// Subscribes with `options` and reads the ack and every initial batch
    /// (paging with `next_batch`); returns (ack, rows).
    pub async fn subscribe_all(
        &mut self,
        id: &str,
        sql: &str,
        options: Value,
    ) -> (Value, Vec<Value>) {
        self.subscribe(id, sql, options).await;
        let ack = self.next().await;
        assert_eq!(ack["type"], "subscription_ack", "{ack}");
        let mut rows = Vec::new();
        loop {
            let batch = self.next().await;
            assert_eq!(batch["type"], "initial_data_batch", "{batch}");
            rows.extend(batch["rows"].as_array().cloned().unwrap_or_default());
            if batch["batch_control"]["status"] == "ready" {
                break;
            }
            self.send(json!({"type": "next_batch", "subscription_id": id}))
                .await;
        }
        (ack, rows)
    }
}

pub async fn login(server: &TestServer, user: &str, password: &str) -> String {
    let resp = server
        .client
        .post(server.url("/v1/api/auth/login"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .expect("login");
    let body: Value = resp.json().await.expect("json");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {body}"))
        .to_string()
}

async fn setup_messages(server: &TestServer) {
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.messages (id BIGINT PRIMARY KEY, room TEXT, body TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
        .await;
}

fn seq_of(row: &Value) -> i64 {
    row["_seq"]
        .as_str()
        .expect("_seq is a string")
        .parse()
        .expect("_seq")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_auth_then_snapshot_then_every_change_in_order() {
    let server = TestServer::start();
    setup_messages(&server).await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (1, 'a', 'one'), (2, 'a', 'two'), (3, 'b', 'three')")
        .await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut ws = Ws::open(&server, "", Some(&token), None).await.unwrap();
    let ok = ws.next().await;
    assert_eq!(
        ok,
        json!({"type": "auth_success", "user": "root", "role": "system",
               "protocol": {"serialization": "json", "compression": "gzip"}})
    );

    let (ack, rows) = ws
        .subscribe_all(
            "sub-1",
            "SELECT * FROM app.messages WHERE room = 'a'",
            json!({}),
        )
        .await;
    assert_eq!(ack["subscription_id"], "sub-1");
    assert_eq!(ack["total_rows"], 2);
    assert_eq!(ack["batch_control"]["status"], "ready");
    assert_eq!(ack["batch_control"]["has_more"], false);
    assert_eq!(ack["batch_control"]["batch_num"], 0);
    let names: Vec<&str> = ack["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "room", "body", "_seq"]);
    assert_eq!(ack["schema"][0]["flags"], json!(["pk", "nn", "uq"]));
    assert_eq!(ack["schema"][0]["data_type"], "BigInt");
    assert_eq!(ack["schema"][3]["flags"], json!(["nn"]));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], "1");
    assert_eq!(rows[1]["body"], "two");
    assert!(seq_of(&rows[0]) < seq_of(&rows[1]));
    assert_eq!(
        ack["batch_control"]["last_seq_id"].as_i64().unwrap(),
        seq_of(&rows[1]),
        "last_seq_id is a JSON number"
    );

    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (4, 'a', 'four'), (5, 'b', 'five')")
        .await;
    let ins = ws.next().await;
    assert_eq!(ins["type"], "change");
    assert_eq!(ins["change_type"], "insert");
    assert_eq!(ins["subscription_id"], "sub-1");
    assert_eq!(
        ins["rows"].as_array().unwrap().len(),
        1,
        "room b is filtered out: {ins}"
    );
    assert_eq!(ins["rows"][0]["id"], "4");
    assert!(ins.get("old_values").is_none());
    let s4 = seq_of(&ins["rows"][0]);

    server
        .sql("UPDATE app.messages SET body = 'FOUR' WHERE id = 4")
        .await;
    let upd = ws.next().await;
    assert_eq!(upd["change_type"], "update", "{upd}");
    assert_eq!(upd["rows"][0]["body"], "FOUR");
    assert_eq!(upd["rows"][0]["room"], "a");
    let s4b = seq_of(&upd["rows"][0]);
    assert!(s4b > s4);
    // Old values: the key, the previous _seq and what changed.
    assert_eq!(
        upd["old_values"][0],
        json!({"id": "4", "body": "four", "_seq": s4.to_string()})
    );

    // Leaving the filter is a delete; entering it an insert.
    server
        .sql("UPDATE app.messages SET room = 'b' WHERE id = 1")
        .await;
    let left = ws.next().await;
    assert_eq!(left["change_type"], "delete", "{left}");
    assert_eq!(left["old_values"][0]["id"], "1");
    assert!(seq_of(&left["old_values"][0]) > s4b);
    server
        .sql("UPDATE app.messages SET room = 'a' WHERE id = 3")
        .await;
    let entered = ws.next().await;
    assert_eq!(entered["change_type"], "insert", "{entered}");
    assert_eq!(entered["rows"][0]["id"], "3");
    assert_eq!(entered["rows"][0]["body"], "three");

    // A delete carries the deleted row with the delete's own, newer _seq.
    let before = seq_of(&entered["rows"][0]);
    server.sql("DELETE FROM app.messages WHERE id = 2").await;
    let del = ws.next().await;
    assert_eq!(del["change_type"], "delete", "{del}");
    assert_eq!(del["old_values"][0]["id"], "2");
    assert_eq!(del["old_values"][0]["body"], "two");
    assert!(seq_of(&del["old_values"][0]) > before);
    assert!(del.get("rows").is_none());

    // Changes outside the filter never arrive: the next message is the
    // insert that follows them.
    server
        .sql("UPDATE app.messages SET body = 'x' WHERE id = 5")
        .await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (6, 'a', 'six')")
        .await;
    let next = ws.next().await;
    assert_eq!(next["rows"][0]["id"], "6", "{next}");
}

async fn create_user(server: &TestServer, name: &str) {
    server
        .sql(&format!(
            "CREATE USER {name} WITH PASSWORD '{name}-Passw0rd!' ROLE user"
        ))
        .await;
}

fn pw(name: &str) -> String {
    format!("{name}-Passw0rd!")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_authentication_and_its_failures() {
    let server = TestServer::start();
    let token = login(&server, "root", ROOT_PASSWORD).await;

    // subscribe before authenticate → AUTH_REQUIRED; then authenticate.
    let mut ws = Ws::open(&server, "?compress=false", None, None)
        .await
        .unwrap();
    ws.subscribe("s", "SELECT * FROM app.x", json!({})).await;
    let e = ws.next().await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "AUTH_REQUIRED");
    assert_eq!(e["subscription_id"], "subscribe");
    ws.send(
        json!({"type": "authenticate", "method": "jwt", "token": token,
                   "protocol": {"serialization": "msgpack", "compression": "gzip"}}),
    )
    .await;
    let ok = ws.next().await;
    // JSON only; no gzip when the URL says compress=false.
    assert_eq!(
        ok,
        json!({"type": "auth_success", "user": "root", "role": "system",
               "protocol": {"serialization": "json", "compression": "none"}})
    );
    // A repeated authenticate re-sends auth_success.
    ws.send(
        json!({"type": "authenticate", "method": "jwt", "token": token,
                   "protocol": {"serialization": "json", "compression": "none"}}),
    )
    .await;
    assert_eq!(ws.next().await["type"], "auth_success");
    // ping needs no reply: the next message is the answer to what follows.
    ws.send(json!({"type": "ping"})).await;
    ws.send(json!({"type": "next_batch", "subscription_id": "nope"}))
        .await;
    let nf = ws.next().await;
    assert_eq!(nf["code"], "NOT_FOUND", "{nf}");
    assert_eq!(nf["subscription_id"], "nope");

    // A bad token → auth_error, close 1008.
    let mut bad = Ws::open(&server, "", None, None).await.unwrap();
    bad.send(
        json!({"type": "authenticate", "method": "jwt", "token": "not-a-jwt",
                    "protocol": {"serialization": "json", "compression": "gzip"}}),
    )
    .await;
    assert_eq!(
        bad.next().await,
        json!({"type": "auth_error", "message": "Invalid credentials"})
    );
    assert_eq!(bad.closed().await.map(|c| c.0), Some(1008));

    // A bad header token: auth_error unprompted, close 1008.
    let mut bad = Ws::open(&server, "", Some("garbage"), None).await.unwrap();
    assert_eq!(bad.next().await["type"], "auth_error");
    assert_eq!(bad.closed().await.map(|c| c.0), Some(1008));

    // Silence → auth_error with the spec's text after 3 s, close 1008.
    let mut silent = Ws::open(&server, "", None, None).await.unwrap();
    assert_eq!(
        silent.next().await,
        json!({"type": "auth_error",
               "message": "Authentication timeout - no auth message received within 3 seconds"})
    );
    assert_eq!(silent.closed().await.map(|c| c.0), Some(1008));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_spec_codes() {
    let server = TestServer::start();
    setup_messages(&server).await;
    server
        .sql("CREATE SHARED TABLE app.secret (id INT PRIMARY KEY) WITH (ACCESS_LEVEL='PRIVATE')")
        .await;
    create_user(&server, "alice").await;
    let mut ws = Ws::connect(&server, "alice", &pw("alice")).await;
    let cases = [
        (
            "SELECT * FROM messages",
            "INVALID_SQL",
            "Query must use namespace.table format",
        ),
        ("SELEC nothing", "INVALID_SQL", ""),
        (
            "SELECT * FROM app.nope",
            "NOT_FOUND",
            "Table 'app.nope' not found",
        ),
        (
            "SELECT nope FROM app.messages",
            "NOT_FOUND",
            "Column 'nope' not found",
        ),
        (
            "SELECT * FROM app.messages WHERE nope = 1",
            "NOT_FOUND",
            "Column 'nope' not found",
        ),
        (
            "SELECT * FROM app.secret",
            "UNAUTHORIZED",
            "Insufficient privileges",
        ),
        ("SELECT * FROM app.messages ORDER BY id", "UNSUPPORTED", ""),
        ("SELECT * FROM app.messages LIMIT 3", "UNSUPPORTED", ""),
        (
            "SELECT room, count(*) FROM app.messages GROUP BY room",
            "UNSUPPORTED",
            "",
        ),
        (
            "SELECT * FROM app.messages m JOIN app.messages n ON m.id = n.id",
            "UNSUPPORTED",
            "",
        ),
        (
            "SELECT * FROM app.messages WHERE id IN (SELECT id FROM app.messages)",
            "UNSUPPORTED",
            "",
        ),
        ("SELECT upper(body) FROM app.messages", "UNSUPPORTED", ""),
        ("SELECT * FROM system.users", "UNSUPPORTED", ""),
    ];
    for (i, (sql, code, msg)) in cases.iter().enumerate() {
        let id = format!("s{i}");
        ws.subscribe(&id, sql, json!({})).await;
        let e = ws.next().await;
        assert_eq!(e["type"], "error", "{sql}: {e}");
        assert_eq!(e["subscription_id"], id.as_str(), "{sql}: {e}");
        assert_eq!(e["code"], *code, "{sql}: {e}");
        assert!(e["message"].as_str().unwrap().contains(msg), "{sql}: {e}");
    }
    // Blank id; last_rows above batch_size; batch_size above the limit.
    ws.subscribe("  ", "SELECT * FROM app.messages", json!({}))
        .await;
    let e = ws.next().await;
    assert_eq!(e["code"], "INVALID_SUBSCRIPTION_ID");
    assert_eq!(e["subscription_id"], "invalid_subscription");
    ws.subscribe(
        "o",
        "SELECT * FROM app.messages",
        json!({"last_rows": 5, "batch_size": 2}),
    )
    .await;
    assert_eq!(ws.next().await["code"], "UNSUPPORTED");
    ws.subscribe(
        "o",
        "SELECT * FROM app.messages",
        json!({"batch_size": 100001}),
    )
    .await;
    assert_eq!(ws.next().await["code"], "UNSUPPORTED");
    // Binary frames and oversized messages are refused; the socket stays open.
    ws.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(ws.next().await["code"], "UNSUPPORTED_DATA");
    ws.send_raw(Message::Text("x".repeat(1024 * 1024 + 1).into()))
        .await;
    assert_eq!(ws.next().await["code"], "MESSAGE_TOO_LARGE");
    let (ack, _) = ws
        .subscribe_all("ok", "SELECT id FROM app.messages", json!({}))
        .await;
    assert_eq!(ack["total_rows"], 0);
    // Not JSON → PROTOCOL, then close 1011.
    ws.send_raw(Message::Text("{not json".into())).await;
    let e = ws.next().await;
    assert_eq!(e["code"], "PROTOCOL");
    assert_eq!(e["subscription_id"], "protocol");
    assert_eq!(ws.closed().await.map(|c| c.0), Some(1011));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_paging_last_rows_from_and_none() {
    let server = TestServer::start();
    setup_messages(&server).await;
    for i in 1..=5 {
        server
            .sql(&format!(
                "INSERT INTO app.messages (id, room, body) VALUES ({i}, 'a', 'm{i}')"
            ))
            .await;
    }
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    let sql = "SELECT id, body FROM app.messages";

    // batch_size 2: 3 batches, each after a next_batch.
    ws.subscribe("p", sql, json!({"batch_size": 2})).await;
    let ack = ws.next().await;
    assert_eq!(ack["total_rows"], 5);
    assert_eq!(ack["batch_control"]["status"], "loading");
    assert_eq!(ack["batch_control"]["has_more"], true);
    let b0 = ws.next().await;
    assert_eq!(b0["batch_control"], ack["batch_control"]);
    assert_eq!(b0["rows"].as_array().unwrap().len(), 2);
    // The projection gained the key and _seq.
    assert_eq!(
        b0["rows"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["_seq", "body", "id"]
    );
    ws.send(json!({"type": "next_batch", "subscription_id": "p", "last_seq_id": 1}))
        .await;
    let b1 = ws.next().await;
    assert_eq!(b1["batch_control"]["batch_num"], 1);
    assert_eq!(b1["batch_control"]["status"], "loading_batch");
    ws.send(json!({"type": "next_batch", "subscription_id": "p"}))
        .await;
    let b2 = ws.next().await;
    assert_eq!(b2["batch_control"]["batch_num"], 2);
    assert_eq!(b2["batch_control"]["status"], "ready");
    assert_eq!(b2["batch_control"]["has_more"], false);
    let ids: Vec<&str> = [&b0, &b1, &b2]
        .iter()
        .flat_map(|b| b["rows"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    let last = seq_of(&b2["rows"][0]);
    assert_eq!(b2["batch_control"]["last_seq_id"].as_i64().unwrap(), last);

    // last_rows: the newest 2, ascending, one batch.
    let (ack, rows) = ws.subscribe_all("l", sql, json!({"last_rows": 2})).await;
    assert_eq!(ack["total_rows"], 2);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["4", "5"]);

    // from: rows after a _seq (a JSON number or a string).
    let third = seq_of(&b1["rows"][0]);
    let (_, rows) = ws.subscribe_all("f", sql, json!({"from": third})).await;
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["4", "5"]);
    // With both, `from` wins: a resuming client must get all it missed.
    let (_, rows) = ws
        .subscribe_all(
            "f2",
            sql,
            json!({"from_seq_id": third.to_string(), "last_rows": 1}),
        )
        .await;
    assert_eq!(rows.len(), 2);

    // options null: the ack alone, ready, then changes.
    ws.subscribe("n", sql, Value::Null).await;
    let ack = ws.next().await;
    assert_eq!(ack["type"], "subscription_ack");
    assert_eq!(ack["total_rows"], 0);
    assert_eq!(
        ack["batch_control"],
        json!({"batch_num": 0, "has_more": false, "status": "ready"})
    );
    // Every subscription of the connection sees the next insert, each once.
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (6, 'a', 'm6')")
        .await;
    let mut got: Vec<String> = Vec::new();
    for _ in 0..5 {
        let c = ws.next().await;
        assert_eq!(c["change_type"], "insert", "{c}");
        assert_eq!(c["rows"][0]["id"], "6");
        got.push(c["subscription_id"].as_str().unwrap().to_string());
    }
    got.sort();
    assert_eq!(got, ["f", "f2", "l", "n", "p"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tables_reach_only_their_owner_and_current_user_filters() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE chat").await;
    server
        .sql("CREATE USER TABLE chat.notes (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    server
        .sql("CREATE SHARED TABLE chat.inbox (id BIGINT PRIMARY KEY, owner TEXT, body TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
        .await;
    create_user(&server, "alice").await;
    create_user(&server, "bob").await;
    let mut a = Ws::connect(&server, "alice", &pw("alice")).await;
    let mut b = Ws::connect(&server, "bob", &pw("bob")).await;
    a.subscribe_all("n", "SELECT * FROM chat.notes", json!({}))
        .await;
    b.subscribe_all("n", "SELECT * FROM chat.notes", json!({}))
        .await;
    a.subscribe_all(
        "i",
        "SELECT * FROM chat.inbox WHERE owner = CURRENT_USER()",
        json!({}),
    )
    .await;
    b.subscribe_all(
        "i",
        "SELECT * FROM chat.inbox WHERE owner = CURRENT_USER()",
        json!({}),
    )
    .await;

    let (s, _) = server
        .sql_as(
            "alice",
            &pw("alice"),
            "INSERT INTO chat.notes (id, body) VALUES (1, 'alice note')",
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = server
        .sql_as(
            "bob",
            &pw("bob"),
            "INSERT INTO chat.notes (id, body) VALUES (1, 'bob note')",
        )
        .await;
    assert_eq!(s, 200);
    server
        .sql("INSERT INTO chat.inbox (id, owner, body) VALUES (1, 'bob', 'for bob'), (2, 'alice', 'for alice')")
        .await;
    let an = a.next().await;
    assert_eq!(an["subscription_id"], "n");
    assert_eq!(an["rows"][0]["body"], "alice note");
    let ai = a.next().await;
    assert_eq!(ai["subscription_id"], "i");
    assert_eq!(ai["rows"].as_array().unwrap().len(), 1);
    assert_eq!(ai["rows"][0]["body"], "for alice");
    let bn = b.next().await;
    assert_eq!(bn["rows"][0]["body"], "bob note");
    let bi = b.next().await;
    assert_eq!(bi["rows"][0]["body"], "for bob");
    // Nothing else was queued for either: the next message of each is the
    // answer to a ping-free probe.
    a.send(json!({"type": "next_batch", "subscription_id": "zz"}))
        .await;
    assert_eq!(a.next().await["code"], "NOT_FOUND");
    b.send(json!({"type": "next_batch", "subscription_id": "zz"}))
        .await;
    assert_eq!(b.next().await["code"], "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_gap_and_no_duplicate_under_concurrent_writes() {
    let server = std::sync::Arc::new(TestServer::start());
    setup_messages(&server).await;
    for i in 0..200 {
        server
            .sql(&format!(
                "INSERT INTO app.messages (id, room, body) VALUES ({i}, 'a', 'v0')"
            ))
            .await;
    }
    // Writers insert new rows and update existing ones while subscriptions
    // take their snapshots.
    let writer = {
        let server = server.clone();
        tokio::spawn(async move {
            for i in 200..600 {
                server
                    .sql(&format!(
                        "INSERT INTO app.messages (id, room, body) VALUES ({i}, 'a', 'v0')"
                    ))
                    .await;
                let u = i - 200;
                server
                    .sql(&format!(
                        "UPDATE app.messages SET body = 'v{i}' WHERE id = {u}"
                    ))
                    .await;
                if i % 7 == 0 {
                    server
                        .sql(&format!("DELETE FROM app.messages WHERE id = {}", u + 1))
                        .await;
                }
            }
        })
    };
    let mut clients = Vec::new();
    for k in 0..4 {
        let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
        let opts = if k % 2 == 0 {
            json!({})
        } else {
            json!({"batch_size": 37})
        };
        let (_, rows) = ws
            .subscribe_all("s", "SELECT id, body FROM app.messages", opts)
            .await;
        clients.push((ws, rows));
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|(mut ws, initial)| {
            tokio::spawn(async move {
                // Apply what the client gets, checking `_seq` only ever
                // grows per key (a duplicate or a stale replay would not).
                let mut state: std::collections::BTreeMap<String, (String, i64)> =
                    Default::default();
                for r in initial.iter() {
                    let id = r["id"].as_str().unwrap().to_string();
                    let v = (r["body"].as_str().unwrap().to_string(), seq_of(r));
                    assert!(state.insert(id, v).is_none());
                }
                loop {
                    let c = ws.next_pinging().await;
                    assert_eq!(c["type"], "change", "{c}");
                    let (rows, gone) = match c["change_type"].as_str().unwrap() {
                        "delete" => (c["old_values"].as_array().unwrap().clone(), true),
                        _ => (c["rows"].as_array().unwrap().clone(), false),
                    };
                    let mut done = false;
                    for r in rows {
                        let id = r["id"].as_str().unwrap().to_string();
                        let seq = seq_of(&r);
                        if let Some((_, old)) = state.get(&id) {
                            assert!(seq > *old, "stale or duplicate change for {id}: {c}");
                        }
                        if gone {
                            assert!(state.remove(&id).is_some(), "delete of an unseen row {id}");
                        } else {
                            if c["change_type"] == "insert" {
                                assert!(
                                    !state.contains_key(&id),
                                    "insert of a present row {id}: {c}"
                                );
                            }
                            let body = r["body"].as_str().unwrap().to_string();
                            state.insert(id.clone(), (body, seq));
                        }
                        done |= id == "100000";
                    }
                    if done {
                        return state;
                    }
                }
            })
        })
        .collect();
    writer.await.unwrap();
    // A marker row after everything, then the table's final content.
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (100000, 'a', 'end')")
        .await;
    let truth: std::collections::BTreeMap<String, (String, i64)> = server
        .rows("SELECT id, body, _seq FROM app.messages")
        .await
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                (
                    r[1].as_str().unwrap().to_string(),
                    r[2].as_str().unwrap().parse().unwrap(),
                ),
            )
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.await.unwrap(), truth);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_live_kill_unsubscribe_and_drop_table() {
    let server = TestServer::start();
    setup_messages(&server).await;
    create_user(&server, "alice").await;
    let mut ws = Ws::connect(&server, "alice", &pw("alice")).await;
    ws.subscribe_all(
        "one",
        "SELECT * FROM app.messages WHERE room = 'a'",
        json!({"last_rows": 5}),
    )
    .await;
    ws.subscribe_all("two", "SELECT id FROM app.messages", json!({}))
        .await;
    let rows = server
        .rows("SELECT live_id, connection_id, subscription_id, namespace_id, table_name, user_id, query, options, status FROM system.live ORDER BY subscription_id")
        .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let conn = rows[0][1].as_str().unwrap().to_string();
    assert_eq!(rows[0][0], format!("alice-{conn}-one"));
    assert_eq!(rows[0][2], "one");
    assert_eq!(rows[0][3], "app");
    assert_eq!(rows[0][4], "messages");
    assert_eq!(rows[0][5], "alice");
    assert_eq!(rows[0][6], "SELECT * FROM app.messages WHERE room = 'a'");
    assert_eq!(rows[0][7], r#"{"last_rows":5}"#);
    assert_eq!(rows[0][8], "active");
    // The older name, and the changes counter.
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (1, 'a', 'x')")
        .await;
    ws.next().await;
    ws.next().await;
    let old_name = server
        .rows("SELECT subscription_id, changes FROM system.live_queries ORDER BY subscription_id")
        .await;
    assert_eq!(old_name[0], json!(["one", "1"]));
    // Plain users may not list or kill live queries.
    let (status, body) = server
        .sql_as("alice", &pw("alice"), "SELECT * FROM system.live")
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = server
        .sql_as(
            "alice",
            &pw("alice"),
            &format!("KILL LIVE QUERY 'alice-{conn}-one'"),
        )
        .await;
    assert_eq!(status, 403);

    // KILL LIVE QUERY ends one subscription with SUBSCRIPTION_FAILED.
    let body = server
        .sql(&format!("KILL LIVE QUERY 'alice-{conn}-one'"))
        .await;
    assert_eq!(
        body["results"][0]["message"],
        format!("Live query killed: alice-{conn}-one")
    );
    let e = ws.next().await;
    assert_eq!(
        e,
        json!({"type": "error", "subscription_id": "one", "code": "SUBSCRIPTION_FAILED",
               "message": "Live query killed"})
    );
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, "KILL LIVE QUERY 'nope'")
        .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("Live query 'nope' not found"),
        "{body}"
    );
    assert_eq!(
        server
            .rows("SELECT subscription_id FROM system.live")
            .await
            .len(),
        1
    );

    // unsubscribe removes the row; no reply.
    ws.send(json!({"type": "unsubscribe", "subscription_id": "two"}))
        .await;
    ws.send(json!({"type": "unsubscribe", "subscription_id": "unknown"}))
        .await;
    ws.subscribe_all(
        "three",
        "SELECT id FROM app.messages",
        Value::Null.take_or_empty(),
    )
    .await;
    let subs = server.rows("SELECT subscription_id FROM system.live").await;
    assert_eq!(subs, vec![json!(["three"])]);

    // DROP TABLE ends its subscriptions with NOT_FOUND.
    server.sql("DROP TABLE app.messages").await;
    assert_eq!(
        ws.next().await,
        json!({"type": "error", "subscription_id": "three", "code": "NOT_FOUND",
               "message": "Table 'app.messages' was dropped"})
    );
    assert!(server.rows("SELECT * FROM system.live").await.is_empty());
}

trait TakeOrEmpty {
    fn take_or_empty(self) -> Value;
}

impl TakeOrEmpty for Value {
    /// `{}` for options that ask for initial data.
    fn take_or_empty(self) -> Value {
        if self.is_null() { json!({}) } else { self }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_over_http_validates_and_answers() {
    let server = TestServer::start();
    setup_messages(&server).await;
    let body = server
        .sql_body_as(
            "root",
            ROOT_PASSWORD,
            json!({"sql": "SUBSCRIBE TO messages WHERE room = 'a' OPTIONS (last_rows=10)", "namespace_id": "app"}),
        )
        .await
        .1;
    let r = &body["results"][0];
    let names: Vec<&str> = r["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["status", "ws_url", "subscription", "message"]);
    assert_eq!(r["rows"][0][0], "active");
    assert_eq!(r["rows"][0][1], format!("ws://{}/v1/ws", server.addr));
    let sub: Value = serde_json::from_str(r["rows"][0][2].as_str().unwrap()).unwrap();
    assert!(sub["id"].as_str().unwrap().starts_with("sub-"));
    assert_eq!(sub["sql"], "SELECT * FROM app.messages WHERE room = 'a'");
    assert_eq!(sub["options"], json!({"last_rows": 10}));
    assert_eq!(
        r["rows"][0][3],
        "WebSocket subscription created. Connect to ws_url to receive updates."
    );
    assert!(
        server.rows("SELECT * FROM system.live").await.is_empty(),
        "no state"
    );
    // The SELECT form; then the refusals in HTTP codes.
    let body = server
        .sql("SUBSCRIBE TO SELECT id FROM app.messages WHERE id > 3 OPTIONS (from=5, batch_size=2)")
        .await;
    let sub: Value =
        serde_json::from_str(body["results"][0]["rows"][0][2].as_str().unwrap()).unwrap();
    assert_eq!(sub["options"], json!({"batch_size": 2, "from": 5}));
    for (sql, code) in [
        ("SUBSCRIBE TO app.nope", "TABLE_NOT_FOUND"),
        (
            "SUBSCRIBE TO SELECT * FROM app.messages ORDER BY id",
            "INVALID_SQL",
        ),
        ("SUBSCRIBE TO app.messages OPTIONS (bogus=1)", "INVALID_SQL"),
    ] {
        let (status, body) = server.sql_as("root", ROOT_PASSWORD, sql).await;
        assert_eq!(status, 400, "{sql}: {body}");
        assert_eq!(body["error"]["code"], code, "{sql}: {body}");
    }
    server
        .sql("CREATE SHARED TABLE app.private (id INT PRIMARY KEY)")
        .await;
    create_user(&server, "alice").await;
    let (status, body) = server
        .sql_as("alice", &pw("alice"), "SUBSCRIBE TO app.private")
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "PERMISSION_DENIED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_tables_are_live_per_user() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE STREAM TABLE app.typing (room TEXT, who TEXT) TTL 60s")
        .await;
    create_user(&server, "alice").await;
    let mut ws = Ws::connect(&server, "alice", &pw("alice")).await;
    let (ack, rows) = ws
        .subscribe_all("t", "SELECT * FROM app.typing WHERE room = 'r1'", json!({}))
        .await;
    assert!(rows.is_empty());
    let names: Vec<&str> = ack["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["room", "who", "_seq"]);
    let (s, _) = server
        .sql_as(
            "alice",
            &pw("alice"),
            "INSERT INTO app.typing (room, who) VALUES ('r1', 'alice'), ('r2', 'alice')",
        )
        .await;
    assert_eq!(s, 200);
    // root's rows are root's partition: never alice's.
    server
        .sql("INSERT INTO app.typing (room, who) VALUES ('r1', 'root')")
        .await;
    let (s, _) = server
        .sql_as(
            "alice",
            &pw("alice"),
            "INSERT INTO app.typing (room, who) VALUES ('r1', 'again')",
        )
        .await;
    assert_eq!(s, 200);
    let c = ws.next().await;
    assert_eq!(c["change_type"], "insert");
    assert_eq!(c["rows"].as_array().unwrap().len(), 1);
    assert_eq!(c["rows"][0]["who"], "alice");
    let c = ws.next().await;
    assert_eq!(c["rows"][0]["who"], "again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_a_seq_gets_what_was_missed_including_deletes() {
    let server = TestServer::start();
    setup_messages(&server).await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (1, 'a', 'one'), (2, 'a', 'two'), (3, 'a', 'three')")
        .await;
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    let (_, rows) = ws
        .subscribe_all("s", "SELECT * FROM app.messages", json!({}))
        .await;
    let last = rows.iter().map(seq_of).max().unwrap();
    drop(ws);
    // While away: an insert, an update, a delete; half of it flushed.
    server
        .sql("UPDATE app.messages SET body = 'TWO' WHERE id = 2")
        .await;
    server.sql("DELETE FROM app.messages WHERE id = 1").await;
    let flushed = server.sql("STORAGE FLUSH TABLE app.messages").await;
    let job = flushed["results"][0]["message"]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    server
        .client
        .get(server.url(&format!("/v1/api/jobs/{job}?wait_ms=20000")))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .send()
        .await
        .unwrap();
    server.sql("DELETE FROM app.messages WHERE id = 3").await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (4, 'a', 'four')")
        .await;
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    let (_, rows) = ws
        .subscribe_all("s", "SELECT * FROM app.messages", json!({"from": last}))
        .await;
    let ids: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["body"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, [("2", "TWO"), ("4", "four")]);
    // Then the deletes it missed (one flushed, one hot), each with its own _seq.
    let d = ws.next().await;
    assert_eq!(d["change_type"], "delete", "{d}");
    let gone: Vec<&str> = d["old_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(gone, ["1", "3"]);
    for r in d["old_values"].as_array().unwrap() {
        assert!(seq_of(r) > last);
    }
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (5, 'a', 'five')")
        .await;
    assert_eq!(ws.next().await["rows"][0]["id"], "5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_closed_1013_and_others_keep_up() {
    let server = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), |c| {
        c.websocket.max_pending_messages = 16;
        // The slow client reads nothing until the writes are over; the
        // server waits this long for it to drain up to the close frame.
        c.websocket.client_timeout_secs = 60;
    });
    setup_messages(&server).await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut slow = Ws::open(&server, "?compress=false", Some(&token), None)
        .await
        .unwrap();
    slow.next().await;
    // A client that stopped: it sends nothing, not even pings (a write to
    // a socket the server has closed would reset it and lose the close).
    slow.keepalive = false;
    slow.subscribe_all("s", "SELECT * FROM app.messages", json!({}))
        .await;
    let mut fast = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    fast.subscribe_all("f", "SELECT id FROM app.messages", json!({}))
        .await;
    // Incompressible rows fill the slow client's socket buffers (8 rows of
    // 100 KB per statement); then single-row inserts pile up in its queue.
    let mut x: u64 = 42;
    let mut blob = || -> String {
        (0..100_000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b'a' + ((x >> 33) % 26) as u8)
            })
            .collect()
    };
    let mut id = 0;
    for _ in 0..30 {
        let values: Vec<String> = (0..8)
            .map(|_| {
                id += 1;
                format!("({id}, 'a', '{}')", blob())
            })
            .collect();
        server
            .sql(&format!(
                "INSERT INTO app.messages (id, room, body) VALUES {}",
                values.join(", ")
            ))
            .await;
        let c = fast.next().await;
        assert_eq!(c["rows"].as_array().unwrap().len(), 8);
    }
    for _ in 0..40 {
        id += 1;
        server
            .sql(&format!(
                "INSERT INTO app.messages (id, room, body) VALUES ({id}, 'a', 'small')"
            ))
            .await;
        // The reading subscriber is never held back.
        let c = fast.next().await;
        assert_eq!(c["rows"][0]["id"], id.to_string());
    }
    // The slow one finds, after what fit in its socket, the close.
    assert_eq!(
        slow.closed().await,
        Some((1013, "Subscriber too slow".to_string()))
    );
    assert_eq!(
        server.rows("SELECT subscription_id FROM system.live").await,
        vec![json!(["f"])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_snapshot_size() {
    let server = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), |c| {
        c.rate_limit.max_subscriptions_per_user = 3;
        c.websocket.max_initial_rows = 4;
    });
    setup_messages(&server).await;
    for i in 0..5 {
        server
            .sql(&format!(
                "INSERT INTO app.messages (id, room, body) VALUES ({i}, 'a', 'x')"
            ))
            .await;
    }
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    ws.subscribe("big", "SELECT * FROM app.messages", json!({}))
        .await;
    assert_eq!(
        ws.next().await,
        json!({"type": "error", "subscription_id": "big", "code": "SUBSCRIPTION_FAILED",
               "message": "Initial snapshot exceeds 4 rows; use last_rows or batch_size"})
    );
    let (_, rows) = ws
        .subscribe_all("a", "SELECT * FROM app.messages", json!({"last_rows": 4}))
        .await;
    assert_eq!(rows.len(), 4);
    ws.subscribe_all("b", "SELECT * FROM app.messages WHERE id < 2", json!({}))
        .await;
    let mut other = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    other
        .subscribe_all("c", "SELECT * FROM app.messages WHERE id < 2", json!({}))
        .await;
    other
        .subscribe("d", "SELECT * FROM app.messages WHERE id < 2", json!({}))
        .await;
    let e = other.next().await;
    assert_eq!(e["code"], "SUBSCRIPTION_LIMIT_EXCEEDED", "{e}");
    assert_eq!(e["subscription_id"], "d");
    // Replacing an id does not count twice.
    other
        .subscribe_all("c", "SELECT * FROM app.messages WHERE id < 1", json!({}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_ping_drop_user_and_shutdown() {
    let mut server =
        TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), |c| {
            c.security.cors_origins = vec!["http://good.example".into()];
        });
    let token = login(&server, "root", ROOT_PASSWORD).await;
    match Ws::open(&server, "", Some(&token), Some("http://evil.example")).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let mut ok = Ws::open(&server, "", Some(&token), Some("http://good.example"))
        .await
        .unwrap();
    assert_eq!(ok.next().await["type"], "auth_success");
    // A WebSocket Ping gets a Pong.
    ok.send_raw(Message::Ping(b"hi".to_vec().into())).await;
    let pong = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(Ok(Message::Pong(p))) = ok.socket.next().await {
                return p;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(&pong[..], b"hi");

    // A dropped user's connections close 1008.
    create_user(&server, "alice").await;
    let mut a = Ws::connect(&server, "alice", &pw("alice")).await;
    server.sql("DROP USER alice").await;
    assert_eq!(a.closed().await.map(|c| c.0), Some(1008));

    // Shutdown closes live connections with 1001.
    let mut b = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    let stopper = std::thread::spawn(move || {
        server.stop();
        server
    });
    assert_eq!(b.closed().await.map(|c| c.0), Some(1001));
    stopper.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_past_the_client_timeout_closes_1000() {
    let server = TestServer::start();
    let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    ws.keepalive = false;
    let started = std::time::Instant::now();
    assert_eq!(
        ws.closed().await,
        Some((1000, "Heartbeat timeout".to_string()))
    );
    assert!(started.elapsed() >= Duration::from_secs(10));
}

async fn stat(server: &TestServer, name: &str) -> i64 {
    let rows = server
        .rows(&format!(
            "SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"
        ))
        .await;
    rows[0][0].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_checked_only_against_the_subscriptions_it_concerns() {
    let server = TestServer::start();
    setup_messages(&server).await;
    server
        .sql("CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, room TEXT)")
        .await;
    create_user(&server, "alice").await;
    // 100 subscriptions on 100 rooms, 20 on alice's USER table, 3 on
    // another table of nobody's interest.
    let mut root = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    for i in 0..100 {
        root.subscribe(
            &format!("r{i}"),
            &format!("SELECT * FROM app.messages WHERE room = 'r{i}'"),
            Value::Null,
        )
        .await;
        assert_eq!(root.next().await["type"], "subscription_ack");
    }
    let mut alice = Ws::connect(&server, "alice", &pw("alice")).await;
    for i in 0..20 {
        alice
            .subscribe(
                &format!("n{i}"),
                &format!("SELECT * FROM app.notes WHERE room = 'n{i}'"),
                Value::Null,
            )
            .await;
        assert_eq!(alice.next().await["type"], "subscription_ack");
    }
    let before = stat(&server, "live_candidates").await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (1, 'r7', 'x'), (2, 'nobody', 'y')")
        .await;
    let c = root.next().await;
    assert_eq!(c["subscription_id"], "r7");
    // One subscription was a candidate; the other 119 were never looked at.
    assert_eq!(stat(&server, "live_candidates").await - before, 1);
    // An update moving a row between rooms concerns both rooms.
    server
        .sql("UPDATE app.messages SET room = 'r8' WHERE id = 1")
        .await;
    let mut got = [root.next().await, root.next().await];
    got.sort_by_key(|c| c["subscription_id"].as_str().unwrap().to_string());
    assert_eq!(got[0]["subscription_id"], "r7");
    assert_eq!(got[0]["change_type"], "delete");
    assert_eq!(got[1]["subscription_id"], "r8");
    assert_eq!(got[1]["change_type"], "insert");
    assert_eq!(stat(&server, "live_candidates").await - before, 3);
    // root's rows in the USER table never meet alice's subscriptions.
    server
        .sql("INSERT INTO app.notes (id, room) VALUES (1, 'n3')")
        .await;
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (3, 'r9', 'z')")
        .await;
    assert_eq!(root.next().await["subscription_id"], "r9");
    assert_eq!(stat(&server, "live_candidates").await - before, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_releases_its_subscriptions_and_others_carry_on() {
    let server = TestServer::start();
    setup_messages(&server).await;
    let mut count = server.engine().live().subscription_count_watch();
    let mut stays = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    stays
        .subscribe_all("s", "SELECT id FROM app.messages", json!({}))
        .await;
    let mut goes = Ws::connect(&server, "root", ROOT_PASSWORD).await;
    goes.subscribe_all("a", "SELECT id FROM app.messages", json!({}))
        .await;
    goes.subscribe_all(
        "b",
        "SELECT * FROM app.messages WHERE room = 'x'",
        json!({}),
    )
    .await;
    assert_eq!(
        server
            .rows("SELECT subscription_id FROM system.live")
            .await
            .len(),
        3
    );
    // The client vanishes: no unsubscribe, no Close frame, only the TCP FIN.
    drop(goes);
    tokio::time::timeout(WAIT, count.wait_for(|n| *n == 1))
        .await
        .expect("the dropped connection's subscriptions are released")
        .unwrap();
    assert_eq!(
        server.rows("SELECT subscription_id FROM system.live").await,
        vec![json!(["s"])]
    );
    server
        .sql("INSERT INTO app.messages (id, room, body) VALUES (1, 'x', 'after')")
        .await;
    assert_eq!(stays.next().await["rows"][0]["id"], "1");
    assert_eq!(
        server
            .rows("SELECT metric_value FROM system.stats WHERE metric_name = 'active_connections'")
            .await,
        vec![json!(["1"])]
    );
}

/// A subscription filtering with the JSON operators (sql.md §3.5; a
/// subscription projects plain columns only, wire-protocol.md §6.8): the
/// snapshot and every change go through the same functions as a query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_operators_filter_a_subscription() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.jobs (id BIGINT PRIMARY KEY, meta JSON) WITH (ACCESS_LEVEL='PUBLIC')")
        .await;
    server
        .sql(r#"INSERT INTO app.jobs VALUES (1, '{"tool":"search","n":1}'), (2, '{"tool":"calc","n":9}')"#)
        .await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut ws = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(ws.next().await["type"], "auth_success");
    let (_, rows) = ws
        .subscribe_all(
            "json",
            "SELECT id, meta FROM app.jobs WHERE meta->>'tool' = 'search' OR json_get_int(meta, 'n') > 5",
            json!({}),
        )
        .await;
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2"], "{rows:?}");

    server
        .sql(r#"INSERT INTO app.jobs VALUES (3, '{"tool":"calc","n":2}'), (4, '{"tool":"search"}'), (5, 'null')"#)
        .await;
    let change = ws.next().await;
    assert_eq!(change["change_type"], "insert", "{change}");
    let got = change["rows"].as_array().unwrap();
    assert_eq!(got.len(), 1, "only the search job passes: {change}");
    assert_eq!(got[0]["id"], "4");
    assert_eq!(got[0]["meta"], r#"{"tool":"search"}"#);
}

/// A view takes no subscription (sql.md §2.6a): `UNSUPPORTED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_takes_no_subscription() {
    let server = TestServer::start();
    setup_messages(&server).await;
    server
        .sql("CREATE VIEW app.recent AS SELECT id, body FROM app.messages")
        .await;
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut ws = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(ws.next().await["type"], "auth_success");
    ws.subscribe("v", "SELECT * FROM app.recent", json!({}))
        .await;
    let m = ws.next().await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["code"], "UNSUPPORTED", "{m}");
    assert_eq!(m["subscription_id"], "v", "{m}");
}
