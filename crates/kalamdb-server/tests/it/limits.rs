//! Configurable limits: per-address password checks, WebSocket connections
//! and messages, per-user SQL requests (`[rate_limit]`), and what one
//! request may ask (`[query]`: SQL length, parameters, rows returned), each
//! answered with its 4xx/429 code while the server keeps serving everyone
//! else.

use std::sync::Arc;

use serde_json::json;

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::live::{Ws, login};

fn limited(tweak: impl FnOnce(&mut kalamdb_server::ServerConfig)) -> TestServer {
    TestServer::start_with(Arc::new(tempfile::tempdir().unwrap()), tweak)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_per_address_are_limited() {
    let server = limited(|c| c.rate_limit.auth_attempts_per_minute = 4);
    let attempt = |password: &'static str| {
        let server = &server;
        async move {
            let resp = server
                .client
                .post(server.url("/v1/api/auth/login"))
                .json(&json!({"user": "root", "password": password}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    // One good login and two bad ones are within the budget…
    let token = login(&server, "root", ROOT_PASSWORD).await;
    assert_eq!(attempt("wrong-1").await.0, 401);
    assert_eq!(attempt("wrong-2").await.0, 401);
    // …a Basic check is the fourth, then every path is refused.
    let (status, _) = server.sql_as("root", "wrong-3", "SELECT 1").await;
    assert_eq!(status, 401);
    let (status, body) = attempt(ROOT_PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "rate_limited");
    let (status, body) = server.sql_as("root", "wrong-4", "SELECT 1").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
    // Tokens need no password check: a Bearer client is not held back.
    let resp = server
        .client
        .post(server.url("/v1/api/sql"))
        .bearer_auth(&token)
        .json(&json!({"sql": "SELECT 1 AS one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_and_messages_per_address_are_limited() {
    let server = limited(|c| {
        c.rate_limit.max_ws_connections_per_ip = 2;
        c.rate_limit.max_ws_messages_per_second = 5;
    });
    let token = login(&server, "root", ROOT_PASSWORD).await;
    let mut a = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(a.next().await["type"], "auth_success");
    let mut b = Ws::open(&server, "", Some(&token), None).await.unwrap();
    assert_eq!(b.next().await["type"], "auth_success");
    match Ws::open(&server, "", Some(&token), None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429)
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // HTTP is not affected by the WebSocket limit.
    server.sql("CREATE NAMESPACE app").await;

    // A burst over 5 messages a second: the excess is refused with the
    // protocol id "rate_limit", the connection stays open and serves the
    // next allowed message.
    for i in 0..12 {
        a.send(json!({"type": "next_batch", "subscription_id": format!("x{i}")}))
            .await;
    }
    let mut not_found = 0;
    let mut limited = 0;
    for _ in 0..12 {
        let e = a.next().await;
        match e["code"].as_str().unwrap() {
            "NOT_FOUND" => not_found += 1,
            "RATE_LIMIT_EXCEEDED" => {
                assert_eq!(e["subscription_id"], "rate_limit");
                limited += 1;
            }
            other => panic!("unexpected {other}: {e}"),
        }
    }
    assert!(
        not_found >= 5 && limited >= 1,
        "{not_found} answered, {limited} limited"
    );
    // The other connection has its own budget.
    b.send(json!({"type": "next_batch", "subscription_id": "y"}))
        .await;
    assert_eq!(b.next().await["code"], "NOT_FOUND");
}

async fn post_sql(
    server: &TestServer,
    user: &str,
    password: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    server.sql_body_as(user, password, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limits_are_configurable() {
    let server = limited(|c| {
        c.query.max_sql_length = 160;
        c.query.max_params = 2;
        c.query.max_param_bytes = 8;
        c.query.max_result_rows = 10;
    });
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    let values: Vec<String> = (0..11).map(|i| format!("({i},'x')")).collect();
    server
        .sql(&format!("INSERT INTO app.t VALUES {}", values.join(",")))
        .await;

    // SQL longer than query.max_sql_length.
    let long = format!("SELECT id FROM app.t WHERE v = '{}'", "y".repeat(140));
    let (status, body) = post_sql(&server, "root", ROOT_PASSWORD, json!({"sql": long})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_SQL")),
        "{body}"
    );
    // More parameters than query.max_params, and one longer than max_param_bytes.
    let (status, body) = post_sql(
        &server,
        "root",
        ROOT_PASSWORD,
        json!({"sql": "SELECT $1, $2, $3", "params": [1, 2, 3]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_PARAMETER")),
        "{body}"
    );
    let (status, body) = post_sql(
        &server,
        "root",
        ROOT_PASSWORD,
        json!({"sql": "SELECT $1", "params": ["123456789"]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_PARAMETER")),
        "{body}"
    );

    // Rows per response: 11 rows are over the limit of 10, whatever the plan.
    for sql in [
        "SELECT * FROM app.t",
        "SELECT id FROM app.t ORDER BY id",
        "SELECT a.id FROM app.t a JOIN app.t b ON a.id = b.id",
    ] {
        let (status, body) = post_sql(&server, "root", ROOT_PASSWORD, json!({"sql": sql})).await;
        assert_eq!(status, 400, "{sql}: {body}");
        assert_eq!(body["error"]["code"], "SQL_EXECUTION_ERROR", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("exceeds 10 rows"),
            "{body}"
        );
    }
    // Ten rows, an aggregate over all eleven, and DML over all of them pass.
    assert_eq!(server.rows("SELECT id FROM app.t LIMIT 10").await.len(), 10);
    assert_eq!(
        server.rows("SELECT count(*) FROM app.t").await,
        vec![json!(["11"])]
    );
    server.sql("UPDATE app.t SET v = 'z'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flooding_user_is_limited_and_others_are_served() {
    let server = limited(|c| c.rate_limit.max_queries_per_second = 5);
    server
        .sql("CREATE USER flood WITH PASSWORD 'flood-Passw0rd' ROLE user")
        .await;
    let token = login(&server, "flood", "flood-Passw0rd").await;
    let root_token = login(&server, "root", ROOT_PASSWORD).await;
    let send = |token: String| {
        let client = server.client.clone();
        let url = server.url("/v1/api/sql");
        async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"sql": "SELECT 1 AS one"}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..60).map(|_| tokio::spawn(send(token.clone()))).collect();
    // Another user is served while the flood is refused.
    let (status, body) = send(root_token.clone()).await;
    assert_eq!(status, 200, "{body}");
    let mut ok = 0;
    let mut limited = 0;
    for f in flood {
        let (status, body) = f.await.unwrap();
        match status {
            200 => ok += 1,
            429 => {
                assert_eq!(body["status"], "error");
                assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED", "{body}");
                limited += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // 5 per started second of the flood at most.
    let windows = started.elapsed().as_secs() + 1;
    assert!(ok <= 5 * windows as usize, "{ok} served in {windows} s");
    assert!(limited > 0);
    let (status, _) = send(root_token).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_others_while_one_client_floods_it() {
    let server = limited(|_| {});
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.big (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    let values: Vec<String> = (0..2000)
        .map(|i| format!("({i},'{}')", "x".repeat(50)))
        .collect();
    server
        .sql(&format!("INSERT INTO app.big VALUES {}", values.join(",")))
        .await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // 32 connections of one client asking for scans, joins and writes non-stop.
    let flood: Vec<_> = (0..32)
        .map(|i| {
            let (client, url) = (server.client.clone(), server.url("/v1/api/sql"));
            let (stop, served) = (stop.clone(), served.clone());
            tokio::spawn(async move {
                let sql = match i % 3 {
                    0 => "SELECT count(*) FROM app.big a JOIN app.big b ON a.id = b.id".to_string(),
                    1 => "SELECT * FROM app.big ORDER BY v DESC, id".to_string(),
                    _ => format!("INSERT INTO app.big VALUES ({}, 'flood')", 100_000 + i),
                };
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let resp = client
                        .post(&url)
                        .basic_auth("root", Some(ROOT_PASSWORD))
                        .json(&json!({"sql": sql}))
                        .send()
                        .await
                        .unwrap();
                    // Repeated inserts of one key fail with 400; never 5xx.
                    assert!(resp.status().as_u16() < 500, "{}", resp.status());
                    served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        })
        .collect();
    // While it runs, another client logs in, reads, writes and subscribes.
    let probe = async {
        let token = login(&server, "root", ROOT_PASSWORD).await;
        for i in 0..5 {
            let resp = server
                .client
                .post(server.url("/v1/api/sql"))
                .bearer_auth(&token)
                .json(&json!({"sql": format!("INSERT INTO app.big VALUES ({}, 'probe')", 200_000 + i)}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        }
        let mut ws = Ws::connect(&server, "root", ROOT_PASSWORD).await;
        let (_, rows) = ws
            .subscribe_all(
                "probe",
                "SELECT * FROM app.big WHERE v = 'probe'",
                json!({}),
            )
            .await;
        assert_eq!(rows.len(), 5);
        let health = server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), probe)
        .await
        .expect("the server stopped answering others during the flood");
    assert!(
        served.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the flood never got going"
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for f in flood {
        f.await.unwrap();
    }
}

/// One raw HTTP/1.1 exchange on a new connection: the status line and the
/// body of the answer (the server closes refused connections).
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_limited() {
    let server = limited(|c| c.rate_limit.max_connections_per_ip = 3);
    // Three idle connections (a slowloris sending nothing) hold the cap…
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(server.addr).await.unwrap());
    }
    // …so a fourth is answered 429 and closed, before HTTP is parsed.
    let (status, body) = raw_get(server.addr, "/health").await;
    assert_eq!(status, "HTTP/1.1 429 Too Many Requests", "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"error": "rate_limited", "message": "Too many connections from this address"})
    );
    // A WebSocket upgrade is a connection like any other.
    let err = tokio_tungstenite::connect_async(format!("ws://{}/v1/ws", server.addr))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("429"), "{err}");
    // A closed connection frees its slot (once the server sees the close).
    idle.pop();
    let mut status = String::new();
    for _ in 0..200 {
        status = raw_get(server.addr, "/health").await.0;
        if status == "HTTP/1.1 200 OK" {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(status, "HTTP/1.1 200 OK");
    drop(idle);
}
