//! `GET /v1/ws`: live queries over WebSocket (`wire-protocol.md` §6).
//!
//! One task per connection owns the socket and every subscription's
//! delivery state, and waits on four things at once: frames from the
//! client, events from the engine's router (one bounded queue per
//! connection), finished snapshot reads, and the heartbeat tick. A
//! subscription is registered with the engine before its snapshot is read;
//! the changes that arrive meanwhile are held back and reconciled with the
//! snapshot (`kalamdb_core::live::reconcile`) once its last batch is sent,
//! so the client sees no gap and no duplicate between the two.
//!
//! Sending never blocks the engine: a client that stops reading fills its
//! queue, the router asks the connection to close, and every send here
//! races that request, so the socket is closed with 1013 even while a
//! write is stuck.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::datatypes::Schema;
use kalamdb_auth::{Credentials, TokenType};
use kalamdb_core::live::{
    ChangeKind, CloseReason, ConnEvent, LiveChange, LiveConnection, LiveError, LiveErrorKind,
    LiveEvent, LivePlan, LiveSnapshot, SnapshotOptions, SubKey, reconcile,
};
use kalamdb_core::{Caller, UserRecord};
use kalamdb_live::{
    BatchControl, ClientMessage, CloseCode, Compression, OutFrame, ProtocolError, ProtocolOptions,
    Row, SchemaField, Serialization, ServerMessage, SubscribeOptions, SubscriptionRequest,
    WsErrorCode, close, encode_frame, parse_client_message,
};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::auth::AuthFailure;
use crate::encode::{describe_schema, encode_row_objects};
use crate::state::SharedState;

/// WebSocket settings (`websocket.*`, `security.*` in the server config).
#[derive(Debug, Clone)]
pub struct WsConfig {
    pub auth_timeout: Duration,
    pub client_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub max_message_bytes: usize,
    pub max_pending_messages: usize,
    pub strict_origin_check: bool,
    /// Open connections per client address; 0 = no limit.
    pub max_connections_per_ip: usize,
    /// Inbound messages per connection per second; 0 = no limit.
    pub max_messages_per_second: u32,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            auth_timeout: Duration::from_secs(3),
            client_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(5),
            max_message_bytes: 1024 * 1024,
            max_pending_messages: 10_000,
            strict_origin_check: false,
            max_connections_per_ip: 0,
            max_messages_per_second: 0,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct WsQuery {
    compress: Option<String>,
    serialization: Option<String>,
    compression: Option<String>,
}

pub async fn upgrade(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(resp) = check_origin(&app, &headers) {
        return *resp;
    }
    if app.engine.live().is_shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                serde_json::json!({"error": "shutting_down", "message": "Server is shutting down"}),
            ),
        )
            .into_response();
    }
    let Some(slot) = app.ws_slots.acquire(peer.ip()) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({"error": "rate_limited",
                "message": "Too many WebSocket connections from this address"})),
        )
            .into_response();
    };
    let header_auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let compress_allowed = query.compress.as_deref() != Some("false");
    let requested = ProtocolOptions {
        serialization: query
            .serialization
            .as_deref()
            .and_then(Serialization::parse)
            .unwrap_or_default(),
        compression: query
            .compression
            .as_deref()
            .and_then(Compression::parse)
            .unwrap_or(Compression::Gzip),
    };
    // Oversized messages are answered in-band (MESSAGE_TOO_LARGE) and the
    // connection stays open, so the transport's own limit sits higher.
    let transport_limit = app
        .config
        .ws
        .max_message_bytes
        .saturating_mul(4)
        .max(64 * 1024);
    ws.max_message_size(transport_limit)
        .on_upgrade(move |socket| async move {
            run(app, socket, header_auth, requested, compress_allowed).await;
            // The address's slot is held for the connection's whole life.
            drop(slot);
        })
}

fn check_origin(app: &SharedState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let forbidden = || {
        Box::new(
            (
                StatusCode::FORBIDDEN,
                axum::Json(
                    serde_json::json!({"error": "forbidden", "message": "Origin not allowed"}),
                ),
            )
                .into_response(),
        )
    };
    let origins = &app.config.cors_origins;
    let any = origins.is_empty() || origins.iter().any(|o| o == "*");
    match headers.get(header::ORIGIN) {
        None if app.config.ws.strict_origin_check => Err(forbidden()),
        None => Ok(()),
        Some(_) if any => Ok(()),
        Some(o) => {
            let o = o.to_str().unwrap_or_default();
            if origins.iter().any(|allowed| allowed == o) {
                Ok(())
            } else {
                Err(forbidden())
            }
        }
    }
}

/// Why a connection ends.
enum Stop {
    /// Send this close frame, then end.
    Close(CloseCode),
    /// The peer is gone or closed; nothing more to send.
    Gone,
}

async fn run(
    app: SharedState,
    mut socket: WebSocket,
    header_auth: Option<String>,
    requested: ProtocolOptions,
    compress_allowed: bool,
) {
    let auth = match header_auth {
        Some(value) => header_login(&app, &value, requested, compress_allowed),
        None => in_band_login(&app, &mut socket, compress_allowed).await,
    };
    let (user, protocol) = match auth {
        Ok(ok) => ok,
        Err(LoginEnd::Refused(message, code)) => {
            let _ = send_text(&mut socket, &ServerMessage::AuthError { message }).await;
            let _ = close_with(&mut socket, code).await;
            return;
        }
        Err(LoginEnd::Gone) => return,
    };
    let success = ServerMessage::AuthSuccess {
        user: user.user_id.to_string(),
        role: user.role.as_str().to_string(),
        protocol,
    };
    if send_text(&mut socket, &success).await.is_err() {
        return;
    }
    let hub = app.engine.live().clone();
    let Some((conn, events)) = hub.connect(
        user.user_id.clone(),
        user.role,
        app.config.ws.max_pending_messages,
    ) else {
        let _ = close_with(&mut socket, close::SERVER_SHUTDOWN).await;
        return;
    };
    let (snap_tx, snap_rx) = mpsc::unbounded_channel();
    let mut session = Session {
        app: app.clone(),
        caller: Caller::new(user.user_id, user.role),
        socket,
        conn: conn.clone(),
        gzip: protocol.gzip(),
        success,
        subs: HashMap::new(),
        by_key: HashMap::new(),
        snap_tx,
        buffered: 0,
        rate: crate::limits::MessageRate::new(app.config.ws.max_messages_per_second),
    };
    let stop = session.serve(events, snap_rx).await;
    // The close frame queues behind whatever the socket still holds; a
    // client that drains it within the heartbeat timeout learns why
    // (1013 tells it to resume from its `_seq`), one that never reads is
    // cut off then. Memory stays bounded either way: the queue is gone.
    hub.disconnect(&conn);
    if let Stop::Close(code) = stop {
        let _ = tokio::time::timeout(
            app.config.ws.client_timeout,
            close_with(&mut session.socket, code),
        )
        .await;
    }
}

enum LoginEnd {
    Refused(String, CloseCode),
    Gone,
}

fn verify_token(app: &SharedState, token: &str) -> Result<UserRecord, String> {
    app.user_for_token(token, TokenType::Access)
        .map_err(|e| match e {
            AuthFailure::Expired => kalamdb_live::AUTH_TOKEN_EXPIRED.to_string(),
            _ => kalamdb_live::AUTH_INVALID_CREDENTIALS.to_string(),
        })
}

fn header_login(
    app: &SharedState,
    value: &str,
    requested: ProtocolOptions,
    compress_allowed: bool,
) -> Result<(UserRecord, ProtocolOptions), LoginEnd> {
    let refused = |m: String| LoginEnd::Refused(m, close::AUTH_FAILED);
    match kalamdb_auth::parse_authorization(value) {
        Ok(Credentials::Bearer(token)) => verify_token(app, &token)
            .map(|u| (u, requested.negotiate(compress_allowed)))
            .map_err(refused),
        _ => Err(refused(kalamdb_live::AUTH_INVALID_CREDENTIALS.to_string())),
    }
}

/// Waits for `authenticate` (browser clients). `subscribe` before it gets
/// `AUTH_REQUIRED`; other early messages are ignored.
async fn in_band_login(
    app: &SharedState,
    socket: &mut WebSocket,
    compress_allowed: bool,
) -> Result<(UserRecord, ProtocolOptions), LoginEnd> {
    let timeout = app.config.ws.auth_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Err(_) => {
                return Err(LoginEnd::Refused(
                    kalamdb_live::auth_timeout_message(timeout.as_secs()),
                    close::AUTH_TIMEOUT,
                ));
            }
            Ok(None) | Ok(Some(Err(_))) => return Err(LoginEnd::Gone),
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Err(LoginEnd::Gone),
            _ => continue,
        };
        match parse_client_message(text.as_str()) {
            Ok(ClientMessage::Authenticate {
                method,
                token,
                protocol,
            }) => {
                if method != "jwt" {
                    return Err(LoginEnd::Refused(
                        kalamdb_live::AUTH_INVALID_CREDENTIALS.to_string(),
                        close::AUTH_FAILED,
                    ));
                }
                return verify_token(app, &token)
                    .map(|u| (u, protocol.negotiate(compress_allowed)))
                    .map_err(|m| LoginEnd::Refused(m, close::AUTH_FAILED));
            }
            Ok(ClientMessage::Subscribe(_)) => {
                let msg = ProtocolError::auth_required().to_message();
                if send_text(socket, &msg).await.is_err() {
                    return Err(LoginEnd::Gone);
                }
            }
            _ => {}
        }
    }
}

async fn send_text(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), axum::Error> {
    socket
        .send(Message::Text(Utf8Bytes::from(msg.to_json())))
        .await
}

async fn close_with(socket: &mut WebSocket, code: CloseCode) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code: code.code,
            reason: Utf8Bytes::from_static(code.reason),
        })))
        .await
}

/// Where one subscription's delivery stands.
enum Phase {
    /// The snapshot is being read; changes wait in `held`.
    Loading {
        held: Vec<LiveChange>,
    },
    /// Batches remain for `next_batch`; changes wait in `held`.
    Paging {
        rows: VecDeque<Row>,
        batch_size: usize,
        next_batch: u32,
        last_seq: Option<i64>,
        snapshot: LiveSnapshotRest,
        held: Vec<LiveChange>,
    },
    Live,
}

/// What the last batch needs from the snapshot to go live.
struct LiveSnapshotRest {
    keys: Vec<(kalamdb_core::live::PkValue, i64)>,
    deleted: Vec<LiveChange>,
    seqs: VecDeque<i64>,
}

struct ClientSub {
    id: String,
    key: SubKey,
    plan: Arc<LivePlan>,
    options: Option<SubscribeOptions>,
    phase: Phase,
}

type SnapshotResult = (SubKey, Result<LiveSnapshot, LiveError>);

struct Session {
    app: SharedState,
    caller: Caller,
    socket: WebSocket,
    conn: Arc<LiveConnection>,
    gzip: bool,
    success: ServerMessage,
    subs: HashMap<String, ClientSub>,
    by_key: HashMap<SubKey, String>,
    snap_tx: mpsc::UnboundedSender<SnapshotResult>,
    /// Changes held back by loading subscriptions (bounded like the queue).
    buffered: usize,
    rate: crate::limits::MessageRate,
}

fn ws_code(kind: LiveErrorKind) -> WsErrorCode {
    match kind {
        LiveErrorKind::InvalidSql => WsErrorCode::InvalidSql,
        LiveErrorKind::Unsupported => WsErrorCode::Unsupported,
        LiveErrorKind::NotFound => WsErrorCode::NotFound,
        LiveErrorKind::Unauthorized => WsErrorCode::Unauthorized,
        LiveErrorKind::LimitExceeded => WsErrorCode::SubscriptionLimitExceeded,
        LiveErrorKind::Failed => WsErrorCode::SubscriptionFailed,
        LiveErrorKind::Conversion => WsErrorCode::ConversionError,
    }
}

fn close_code(reason: CloseReason) -> CloseCode {
    match reason {
        CloseReason::TooSlow => close::SUBSCRIBER_TOO_SLOW,
        CloseReason::UserDropped => close::USER_DROPPED,
        CloseReason::Shutdown => close::SERVER_SHUTDOWN,
    }
}

impl Session {
    async fn serve(
        &mut self,
        mut events: mpsc::Receiver<ConnEvent>,
        mut snapshots: mpsc::UnboundedReceiver<SnapshotResult>,
    ) -> Stop {
        let cfg = self.app.config.ws.clone();
        let mut last_inbound = Instant::now();
        let mut tick = tokio::time::interval(cfg.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let conn = self.conn.clone();
        loop {
            let step = tokio::select! {
                reason = conn.close_requested() => Err(Stop::Close(close_code(reason))),
                msg = self.socket.recv() => {
                    last_inbound = Instant::now();
                    self.conn.touch();
                    match msg {
                        None | Some(Err(_)) => Err(Stop::Gone),
                        Some(Ok(m)) => self.on_frame(m).await,
                    }
                }
                ev = events.recv() => match ev {
                    Some(ev) => self.on_event(ev).await,
                    None => Err(Stop::Gone),
                },
                Some((key, result)) = snapshots.recv() => self.on_snapshot(key, result).await,
                _ = tick.tick() => {
                    if last_inbound.elapsed() > cfg.client_timeout {
                        Err(Stop::Close(close::HEARTBEAT_TIMEOUT))
                    } else {
                        Ok(())
                    }
                }
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    /// Sends one message, giving up when the server wants the connection
    /// closed (a stuck write must not outlive a "too slow" verdict).
    async fn send(&mut self, msg: &ServerMessage) -> Result<(), Stop> {
        let frame = match encode_frame(msg, self.gzip) {
            OutFrame::Text(t) => Message::Text(Utf8Bytes::from(t)),
            OutFrame::Binary(b) => Message::Binary(b.into()),
        };
        let conn = self.conn.clone();
        tokio::select! {
            r = self.socket.send(frame) => r.map_err(|_| Stop::Gone),
            reason = conn.close_requested() => Err(Stop::Close(close_code(reason))),
        }
    }

    async fn on_frame(&mut self, msg: Message) -> Result<(), Stop> {
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                return self
                    .send(&ProtocolError::unsupported_data().to_message())
                    .await;
            }
            Message::Close(_) => return Err(Stop::Gone),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        // Over the rate: refused, not processed; the connection stays open.
        if !self.rate.allow() {
            return self
                .send(&ProtocolError::rate_limit_exceeded().to_message())
                .await;
        }
        if text.len() > self.app.config.ws.max_message_bytes {
            let e = ProtocolError::message_too_large(self.app.config.ws.max_message_bytes);
            return self.send(&e.to_message()).await;
        }
        match parse_client_message(text.as_str()) {
            Err(e) => {
                self.send(&e.to_message()).await?;
                match e.close_code() {
                    Some(code) => Err(Stop::Close(code)),
                    None => Ok(()),
                }
            }
            Ok(ClientMessage::Authenticate { .. }) => {
                let success = self.success.clone();
                self.send(&success).await
            }
            Ok(ClientMessage::Subscribe(req)) => self.subscribe(req).await,
            Ok(ClientMessage::NextBatch {
                subscription_id, ..
            }) => self.next_batch(&subscription_id).await,
            Ok(ClientMessage::Unsubscribe { subscription_id }) => {
                self.drop_sub(&subscription_id);
                Ok(())
            }
            Ok(ClientMessage::Ping) => Ok(()),
        }
    }

    fn drop_sub(&mut self, id: &str) {
        if let Some(sub) = self.subs.remove(id) {
            self.by_key.remove(&sub.key);
            self.app.engine.live().unregister(sub.key);
            self.buffered = self.buffered.saturating_sub(held_len(&sub.phase));
        }
    }

    async fn error(&mut self, id: &str, code: WsErrorCode, message: String) -> Result<(), Stop> {
        self.send(&ServerMessage::error(id, code, message)).await
    }

    async fn subscribe(&mut self, req: SubscriptionRequest) -> Result<(), Stop> {
        let max = self.app.engine.live().config().max_initial_rows;
        if let Err(e) = req.check_batch_size(u32::try_from(max).unwrap_or(u32::MAX)) {
            return self.send(&e.to_message()).await;
        }
        // Reusing an id replaces the subscription.
        self.drop_sub(&req.id);
        let plan = match self.app.engine.plan_live(&self.caller, &req.sql).await {
            Ok(p) => Arc::new(p),
            Err(e) => return self.error(&req.id, ws_code(e.kind), e.message).await,
        };
        let options_json = match &req.options {
            None => Value::Null.to_string(),
            Some(o) => kalamdb_core::live::options_json(
                o.batch_size.map(u64::from),
                o.last_rows.map(u64::from),
                o.from,
            )
            .to_string(),
        };
        let key = match self
            .app
            .engine
            .register_live(&self.conn, &req.id, &req.sql, options_json, plan.clone())
            .await
        {
            Ok(k) => k,
            Err(e) => return self.error(&req.id, ws_code(e.kind), e.message).await,
        };
        self.by_key.insert(key, req.id.clone());
        let schema = schema_fields(&plan.schema);
        match req.options {
            None => {
                self.subs.insert(
                    req.id.clone(),
                    ClientSub {
                        id: req.id.clone(),
                        key,
                        plan,
                        options: None,
                        phase: Phase::Live,
                    },
                );
                self.send(&ServerMessage::SubscriptionAck {
                    subscription_id: req.id,
                    total_rows: 0,
                    batch_control: BatchControl::without_initial_data(),
                    schema,
                })
                .await
            }
            Some(opts) => {
                self.subs.insert(
                    req.id.clone(),
                    ClientSub {
                        id: req.id.clone(),
                        key,
                        plan: plan.clone(),
                        options: Some(opts),
                        phase: Phase::Loading { held: Vec::new() },
                    },
                );
                let engine = self.app.engine.clone();
                let caller = self.caller.clone();
                let tx = self.snap_tx.clone();
                // `from` wins over `last_rows` (§6.5): a resuming client
                // re-sends both and must get everything it missed.
                let snap_opts = SnapshotOptions {
                    from: opts.from,
                    last_rows: opts
                        .last_rows
                        .filter(|_| opts.from.is_none())
                        .map(u64::from),
                };
                tokio::spawn(async move {
                    let result = engine.live_snapshot(&plan, &caller, snap_opts).await;
                    let _ = tx.send((key, result));
                });
                Ok(())
            }
        }
    }

    async fn on_snapshot(
        &mut self,
        key: SubKey,
        result: Result<LiveSnapshot, LiveError>,
    ) -> Result<(), Stop> {
        let Some(id) = self.by_key.get(&key).cloned() else {
            return Ok(());
        };
        let snap = match result {
            Ok(s) => s,
            Err(e) => {
                self.drop_sub(&id);
                let code = match e.kind {
                    LiveErrorKind::InvalidSql | LiveErrorKind::NotFound => ws_code(e.kind),
                    _ => WsErrorCode::SubscriptionFailed,
                };
                return self.error(&id, code, e.message).await;
            }
        };
        let rows = match encode_row_objects(&snap.schema, &snap.batches) {
            Ok(r) => r,
            Err(e) => {
                self.drop_sub(&id);
                return self
                    .error(&id, WsErrorCode::ConversionError, e.to_string())
                    .await;
            }
        };
        let Some(sub) = self.subs.get_mut(&id) else {
            return Ok(());
        };
        let held = match &mut sub.phase {
            Phase::Loading { held } => std::mem::take(held),
            _ => Vec::new(),
        };
        let total = rows.len();
        // `last_rows` (without `from`) is one batch; else `batch_size` pages.
        let one_batch = sub
            .options
            .is_some_and(|o| o.last_rows.is_some() && o.from.is_none());
        let batch_size = match sub.options.and_then(|o| o.batch_size) {
            Some(b) if !one_batch => (b as usize).max(1),
            _ => total.max(1),
        };
        let seqs: VecDeque<i64> = snap.keys.iter().map(|(_, s)| *s).collect();
        sub.phase = Phase::Paging {
            rows: rows.into(),
            batch_size,
            next_batch: 0,
            last_seq: None,
            snapshot: LiveSnapshotRest {
                keys: snap.keys,
                deleted: snap.deleted,
                seqs,
            },
            held,
        };
        let schema = schema_fields(&snap.schema);
        self.send_batch(
            &id,
            Some((u32::try_from(total).unwrap_or(u32::MAX), schema)),
        )
        .await
    }

    /// Sends the next initial batch (with the ack before batch 0); after
    /// the last one, the held changes the snapshot does not reflect.
    async fn send_batch(
        &mut self,
        id: &str,
        ack: Option<(u32, Vec<SchemaField>)>,
    ) -> Result<(), Stop> {
        let Some(sub) = self.subs.get_mut(id) else {
            return Ok(());
        };
        let Phase::Paging {
            rows,
            batch_size,
            next_batch,
            last_seq,
            snapshot,
            ..
        } = &mut sub.phase
        else {
            return Ok(());
        };
        let n = (*batch_size).min(rows.len());
        let batch: Vec<Row> = rows.drain(..n).collect();
        for _ in 0..n {
            if let Some(s) = snapshot.seqs.pop_front() {
                *last_seq = Some(s);
            }
        }
        let has_more = !rows.is_empty();
        let control = BatchControl::for_batch(*next_batch, has_more, *last_seq);
        *next_batch += 1;
        let subscription_id = sub.id.clone();
        if let Some((total_rows, schema)) = ack {
            self.send(&ServerMessage::SubscriptionAck {
                subscription_id: subscription_id.clone(),
                total_rows,
                batch_control: control,
                schema,
            })
            .await?;
        }
        self.send(&ServerMessage::InitialDataBatch {
            subscription_id,
            rows: batch,
            batch_control: control,
        })
        .await?;
        if has_more {
            return Ok(());
        }
        self.go_live(id).await
    }

    async fn go_live(&mut self, id: &str) -> Result<(), Stop> {
        let Some(sub) = self.subs.get_mut(id) else {
            return Ok(());
        };
        let Phase::Paging { snapshot, held, .. } = std::mem::replace(&mut sub.phase, Phase::Live)
        else {
            return Ok(());
        };
        self.buffered = self.buffered.saturating_sub(held.len());
        let plan = sub.plan.clone();
        let resume = sub.options.is_some_and(|o| o.from.is_some());
        let mut keys = snapshot.keys;
        // Resume deletes already sent count as seen at their `_seq`.
        keys.extend(snapshot.deleted.iter().flat_map(|d| d.keys.iter().cloned()));
        let pending = snapshot
            .deleted
            .into_iter()
            .chain(reconcile(&keys, held, resume));
        for change in pending.collect::<Vec<_>>() {
            self.send_change(id, &plan, change).await?;
        }
        Ok(())
    }

    async fn next_batch(&mut self, id: &str) -> Result<(), Stop> {
        match self.subs.get(id).map(|s| &s.phase) {
            None => {
                self.error(
                    id,
                    WsErrorCode::NotFound,
                    format!("Subscription '{id}' not found"),
                )
                .await
            }
            Some(Phase::Paging { .. }) => self.send_batch(id, None).await,
            // Nothing left to page (already live, or still loading): no reply.
            Some(Phase::Live) | Some(Phase::Loading { .. }) => Ok(()),
        }
    }

    async fn on_event(&mut self, ev: ConnEvent) -> Result<(), Stop> {
        let Some(id) = self.by_key.get(&ev.key).cloned() else {
            return Ok(());
        };
        match ev.event {
            LiveEvent::Ended(e) => {
                if let Some(sub) = self.subs.remove(&id) {
                    self.by_key.remove(&sub.key);
                    self.buffered = self.buffered.saturating_sub(held_len(&sub.phase));
                }
                self.error(&id, ws_code(e.kind), e.message).await
            }
            LiveEvent::Change(change) => {
                let limit = self.app.config.ws.max_pending_messages;
                let Some(sub) = self.subs.get_mut(&id) else {
                    return Ok(());
                };
                match &mut sub.phase {
                    Phase::Loading { held } | Phase::Paging { held, .. } => {
                        held.push(change);
                        self.buffered += 1;
                        if self.buffered > limit {
                            return Err(Stop::Close(close::SUBSCRIBER_TOO_SLOW));
                        }
                        Ok(())
                    }
                    Phase::Live => {
                        let plan = sub.plan.clone();
                        self.send_change(&id, &plan, change).await
                    }
                }
            }
        }
    }

    async fn send_change(
        &mut self,
        id: &str,
        plan: &LivePlan,
        change: LiveChange,
    ) -> Result<(), Stop> {
        let msg = match change_message(id, plan, &change) {
            Ok(m) => m,
            Err(e) => ServerMessage::error(id, WsErrorCode::ConversionError, e),
        };
        self.send(&msg).await
    }
}

fn held_len(phase: &Phase) -> usize {
    match phase {
        Phase::Loading { held } | Phase::Paging { held, .. } => held.len(),
        Phase::Live => 0,
    }
}

fn schema_fields(schema: &Schema) -> Vec<SchemaField> {
    describe_schema(schema)
        .into_iter()
        .map(|d| {
            let flags = d
                .flags
                .iter()
                .filter_map(|f| match f.as_str() {
                    "pk" => Some(kalamdb_live::FieldFlag::PrimaryKey),
                    "nn" => Some(kalamdb_live::FieldFlag::NotNull),
                    "uq" => Some(kalamdb_live::FieldFlag::Unique),
                    _ => None,
                })
                .collect();
            SchemaField::new(d.name, d.data_type, d.index).with_flags(flags)
        })
        .collect()
}

/// The `change` message of §6.6. Update `old_values` keep the key, the
/// previous `_seq` and the columns whose value changed.
fn change_message(id: &str, plan: &LivePlan, change: &LiveChange) -> Result<ServerMessage, String> {
    let rows = encode_row_objects(&plan.schema, std::slice::from_ref(&change.rows))
        .map_err(|e| e.to_string())?;
    Ok(match change.kind {
        ChangeKind::Insert => ServerMessage::insert(id, rows),
        ChangeKind::Delete => ServerMessage::delete(id, rows),
        ChangeKind::Update => {
            let old = match &change.old {
                Some(old) => encode_row_objects(&plan.schema, std::slice::from_ref(old))
                    .map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            let keep = |name: &str| {
                name == kalamdb_types::SYSTEM_COLUMN_SEQ || plan.pk_column.as_deref() == Some(name)
            };
            let old = old
                .into_iter()
                .zip(&rows)
                .map(|(old, new)| {
                    old.into_iter()
                        .filter(|(k, v)| keep(k) || new.get(k) != Some(v))
                        .collect::<Row>()
                })
                .collect();
            ServerMessage::update(id, rows, old)
        }
    })
}
