//! The bench's side of the wire protocol: SQL over HTTP with a Bearer token
//! (`wire-protocol.md` §3, §5.2) and WebSocket live queries (§6). Nothing
//! here knows which server it talks to; every number the bench reports is
//! taken at this side of a socket.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// How long any single expected answer may take before the workload is
/// declared failed (a guard against hangs, never a pacing sleep).
pub const WAIT: Duration = Duration::from_secs(30);

/// Idle sockets send `{"type":"ping"}` this often: servers close sockets
/// that stay silent for 10 s (§6.10).
const PING_EVERY: Duration = Duration::from_secs(5);

/// The server allows this many subscriptions on one connection (§6.8).
pub const SUBS_PER_CONNECTION: usize = 100;

/// Wall-clock time in µs since the Unix epoch. Inserting and receiving
/// clients live in this one process, so their timestamps share this clock.
pub fn now_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// SQL over HTTP as one logged-in user.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Http {
    /// Logs in (`POST /v1/api/auth/login`) and keeps the access token.
    pub async fn login(base: &str, user: &str, password: &str) -> anyhow::Result<Http> {
        let client = reqwest::Client::new();
        let base = base.trim_end_matches('/').to_string();
        let token = login(&client, &base, user, password).await?;
        Ok(Http {
            client,
            base,
            token,
        })
    }

    /// Another user's session sharing this client's connection pool.
    pub async fn login_as(&self, user: &str, password: &str) -> anyhow::Result<String> {
        login(&self.client, &self.base, user, password).await
    }

    /// The same session on a connection pool of its own: concurrent bench
    /// clients each keep their own keep-alive connection, as separate
    /// application processes would, instead of queueing on a shared pool.
    pub fn own_connection(&self) -> Http {
        Http {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            token: self.token.clone(),
        }
    }

    /// Runs `sql`; any answer but `status: success` is an error carrying
    /// the server's code and message.
    pub async fn sql(&self, sql: &str) -> anyhow::Result<Value> {
        self.post_sql(sql, json!({ "sql": sql })).await
    }

    /// Runs one statement with `$1..$n` bound to `params` (§3.6).
    pub async fn sql_params(&self, sql: &str, params: &[Value]) -> anyhow::Result<Value> {
        self.post_sql(sql, json!({ "sql": sql, "params": params }))
            .await
    }

    async fn post_sql(&self, sql: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .client
            .post(format!("{}/v1/api/sql", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST /v1/api/sql failed ({})", short(sql)))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .with_context(|| format!("the answer to {} is not JSON", short(sql)))?;
        if !status.is_success() || body.get("status").and_then(Value::as_str) != Some("success") {
            let code = body
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let message = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            bail!("{} -> HTTP {status} {code}: {message}", short(sql));
        }
        Ok(body)
    }

    /// `GET /v1/api/jobs/{id}?wait_ms=…`: the job's state once it has
    /// finished, the server holding the request until then (at most
    /// `wait_ms`; it caps the wait itself).
    pub async fn job(&self, id: &str, wait_ms: u64) -> anyhow::Result<Value> {
        let resp = self
            .client
            .get(format!("{}/v1/api/jobs/{id}?wait_ms={wait_ms}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET /v1/api/jobs/{id} failed"))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .with_context(|| format!("the answer about job {id} is not JSON"))?;
        if !status.is_success() {
            let message = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            bail!("GET /v1/api/jobs/{id} -> HTTP {status}: {message}");
        }
        Ok(body)
    }

    /// `GET /health` (wire-protocol.md §2): one HTTP round trip on the
    /// session's keep-alive connection with no statement behind it.
    pub async fn health(&self) -> anyhow::Result<()> {
        let resp = self
            .client
            .get(format!("{}/health", self.base))
            .send()
            .await
            .context("GET /health failed")?;
        let status = resp.status();
        let body: Value = resp.json().await.context("the health answer is not JSON")?;
        if !status.is_success() || body.get("status").and_then(Value::as_str) != Some("healthy") {
            bail!("GET /health -> HTTP {status}: {body}");
        }
        Ok(())
    }

    /// The rows of the first result.
    pub async fn rows(&self, sql: &str) -> anyhow::Result<Vec<Value>> {
        let body = self.sql(sql).await?;
        Ok(body
            .pointer("/results/0/rows")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The value of one `system.stats` metric, if the server has it.
    pub async fn stat(&self, metric: &str) -> anyhow::Result<Option<String>> {
        let rows = self
            .rows(&format!(
                "SELECT metric_value FROM system.stats WHERE metric_name = '{metric}'"
            ))
            .await?;
        Ok(rows.first().and_then(|r| r.get(0)).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }))
    }
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/v1/api/auth/login"))
        .json(&json!({ "user": user, "password": password }))
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.context("the login answer is not JSON")?;
    match body.get("access_token").and_then(Value::as_str) {
        Some(token) if status.is_success() => Ok(token.to_string()),
        _ => {
            let message = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            bail!("login as '{user}' failed: HTTP {status}: {message}")
        }
    }
}

/// `SELECT`s over 80 characters are cut in error messages.
fn short(sql: &str) -> String {
    match sql.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", sql.get(..i).unwrap_or(sql)),
        None => sql.to_string(),
    }
}

/// The WebSocket URL of a base URL, with gzip turned off so every frame is
/// JSON text (§6.1).
pub fn ws_url(base: &str) -> anyhow::Result<String> {
    let base = base.trim_end_matches('/');
    let rest = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        bail!("the URL must start with http:// or https://: {base}");
    };
    Ok(format!("{rest}/v1/ws?compress=false"))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One authenticated WebSocket connection.
pub struct Ws {
    socket: Socket,
}

impl Ws {
    /// Upgrades with `Authorization: Bearer` and waits for `auth_success`.
    pub async fn connect(url: &str, token: &str) -> anyhow::Result<Ws> {
        let mut req = url
            .into_client_request()
            .with_context(|| format!("bad WebSocket URL {url}"))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the access token is not a valid header value")?;
        req.headers_mut().insert("authorization", bearer);
        let (socket, _) = tokio::time::timeout(
            WAIT,
            // Nagle off, as real clients do: a small `subscribe` must not
            // wait ~40 ms for the ACK of the previous frame.
            tokio_tungstenite::connect_async_with_config(req, None, true),
        )
        .await
        .map_err(|_| anyhow!("WebSocket upgrade timed out"))?
        .context("WebSocket upgrade failed")?;
        let mut ws = Ws { socket };
        let first = ws.next_json().await?;
        match first.get("type").and_then(Value::as_str) {
            Some("auth_success") => Ok(ws),
            _ => bail!("expected auth_success, got {first}"),
        }
    }

    pub async fn send_json(&mut self, message: &Value) -> anyhow::Result<()> {
        self.socket
            .send(Message::Text(Utf8Bytes::from(message.to_string())))
            .await
            .context("WebSocket send failed")
    }

    pub async fn subscribe(&mut self, id: &str, sql: &str, options: Value) -> anyhow::Result<()> {
        self.send_json(&json!({
            "type": "subscribe",
            "subscription": { "id": id, "sql": sql, "options": options },
        }))
        .await
    }

    /// The next server message, waiting at most [`WAIT`].
    pub async fn next_json(&mut self) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .map_err(|_| anyhow!("no WebSocket message within {} s", WAIT.as_secs()))?;
            if let Some(text) = text_of(frame)? {
                return serde_json::from_str(text.as_str())
                    .context("a WebSocket message is not JSON");
            }
        }
    }

    /// Subscribes `ids` to `sql` and waits until every one is acknowledged.
    pub async fn subscribe_all(
        &mut self,
        ids: &[String],
        sql: &str,
        options: &Value,
    ) -> anyhow::Result<()> {
        for id in ids {
            self.subscribe(id, sql, options.clone()).await?;
        }
        let mut acked = 0;
        while acked < ids.len() {
            let msg = self.next_json().await?;
            match msg.get("type").and_then(Value::as_str) {
                Some("subscription_ack") => acked += 1,
                Some("error") => bail!("subscribe failed: {}", describe_error(&msg)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Closes politely and waits until the server has dropped the socket,
    /// which it does after releasing the connection's subscriptions, so
    /// the next workload starts from a clean per-user count.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: Utf8Bytes::from_static("bench done"),
        };
        if self.socket.close(Some(frame)).await.is_err() {
            return Ok(());
        }
        let drained = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
        drained.map_err(|_| anyhow!("the server did not close the WebSocket"))
    }
}

/// A text frame's payload; `None` for control frames. Binary frames are an
/// error: the bench asks for uncompressed JSON and must not count a frame
/// it cannot read.
fn text_of(
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> anyhow::Result<Option<Utf8Bytes>> {
    match frame {
        None | Some(Ok(Message::Close(None))) => bail!("the server closed the WebSocket"),
        Some(Err(e)) => bail!("WebSocket error: {e}"),
        Some(Ok(Message::Text(t))) => Ok(Some(t)),
        Some(Ok(Message::Binary(_))) => {
            bail!("unexpected binary frame (the server ignored compress=false)")
        }
        Some(Ok(Message::Close(Some(f)))) => bail!(
            "the server closed the WebSocket: {} {}",
            u16::from(f.code),
            f.reason
        ),
        Some(Ok(_)) => Ok(None),
    }
}

fn describe_error(msg: &Value) -> String {
    let code = msg.get("code").and_then(Value::as_str).unwrap_or("?");
    let text = msg.get("message").and_then(Value::as_str).unwrap_or("");
    format!("{code}: {text}")
}

/// What a reader task saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// One inserted row reached one subscription.
    Arrival {
        id: i64,
        sent_us: i64,
        arrival_us: i64,
    },
    /// The connection broke or the server reported an error.
    Failed(String),
}

/// Hands a connection to a task that timestamps every `change` it
/// receives, pings while idle, and closes the socket when `stop` turns
/// true.
pub fn spawn_reader(
    mut ws: Ws,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = ping.tick() => {
                    if let Err(e) = ws.send_json(&json!({"type": "ping"})).await {
                        let _ = events.send(Event::Failed(e.to_string()));
                        return;
                    }
                }
                frame = ws.socket.next() => {
                    let arrival_us = now_us();
                    match text_of(frame) {
                        Ok(Some(text)) => {
                            if let Err(e) = on_message(text.as_str(), arrival_us, &events) {
                                let _ = events.send(Event::Failed(e.to_string()));
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let _ = events.send(Event::Failed(e.to_string()));
                            return;
                        }
                    }
                }
            }
        }
        let _ = ws.close().await;
    })
}

/// Turns one server message into arrivals; an `error` message is fatal.
fn on_message(
    text: &str,
    arrival_us: i64,
    events: &mpsc::UnboundedSender<Event>,
) -> anyhow::Result<()> {
    let msg: Value = serde_json::from_str(text).context("a WebSocket message is not JSON")?;
    match msg.get("type").and_then(Value::as_str) {
        Some("change") => {
            if msg.get("change_type").and_then(Value::as_str) != Some("insert") {
                return Ok(());
            }
            let rows = msg.get("rows").and_then(Value::as_array);
            for row in rows.into_iter().flatten() {
                let id = int_field(row, "id")?;
                let sent_us = int_field(row, "sent_us")?;
                let _ = events.send(Event::Arrival {
                    id,
                    sent_us,
                    arrival_us,
                });
            }
            Ok(())
        }
        Some("error") => bail!("the server sent an error: {}", describe_error(&msg)),
        _ => Ok(()),
    }
}

/// A BIGINT cell: a JSON string by the protocol (§3.5), a number from
/// servers that send one.
pub fn int_field(row: &Value, name: &str) -> anyhow::Result<i64> {
    match row.get(name) {
        Some(Value::String(s)) => s
            .parse()
            .with_context(|| format!("column {name} is not an integer: {s}")),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| anyhow!("column {name} is not an integer: {n}")),
        _ => bail!("a change row lacks column {name}: {row}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_switches_scheme_and_disables_gzip() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080/").unwrap(),
            "ws://127.0.0.1:8080/v1/ws?compress=false"
        );
        assert_eq!(
            ws_url("https://db.example").unwrap(),
            "wss://db.example/v1/ws?compress=false"
        );
        assert!(ws_url("db.example:8080").is_err());
    }

    #[test]
    fn bigint_cells_are_read_from_strings_or_numbers() {
        let row = json!({"id": "42", "sent_us": 1_700_000_000_000_000_i64, "body": "x"});
        assert_eq!(int_field(&row, "id").unwrap(), 42);
        assert_eq!(int_field(&row, "sent_us").unwrap(), 1_700_000_000_000_000);
        assert!(int_field(&row, "body").is_err());
        assert!(int_field(&row, "missing").is_err());
    }

    #[test]
    fn insert_changes_become_one_arrival_per_row() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let msg = json!({"type": "change", "subscription_id": "s", "change_type": "insert",
            "rows": [{"id": "1", "sent_us": "100"}, {"id": "2", "sent_us": "150"}]});
        on_message(&msg.to_string(), 500, &tx).unwrap();
        assert_eq!(
            rx.try_recv().unwrap(),
            Event::Arrival {
                id: 1,
                sent_us: 100,
                arrival_us: 500
            }
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            Event::Arrival {
                id: 2,
                sent_us: 150,
                arrival_us: 500
            }
        );
        assert!(rx.try_recv().is_err());
        // Other messages are ignored; an error is fatal.
        on_message(r#"{"type":"subscription_ack"}"#, 1, &tx).unwrap();
        assert!(rx.try_recv().is_err());
        let err = on_message(
            r#"{"type":"error","subscription_id":"s","code":"NOT_FOUND","message":"gone"}"#,
            1,
            &tx,
        )
        .unwrap_err();
        assert!(err.to_string().contains("NOT_FOUND: gone"), "{err}");
    }

    #[test]
    fn long_sql_is_shortened_in_messages() {
        let sql = "x".repeat(200);
        let s = short(&sql);
        assert_eq!(s.chars().count(), 81);
        assert_eq!(short("SELECT 1"), "SELECT 1");
    }
}
