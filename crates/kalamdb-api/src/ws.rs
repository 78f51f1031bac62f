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
//!
//! This file owns the HTTP side of the handshake (origin, shutdown and
//! per-address checks, protocol options from the query string); the
//! connection itself is its children's, bottom first:
//! - `outbox`: sending frames, and why a connection stops;
//! - `messages`: engine values as protocol messages (schemas, error codes,
//!   `change` messages);
//! - `login`: the header or in-band `authenticate` phase;
//! - `subscriptions`: each subscription's snapshot, batches and held
//!   changes;
//! - `session`: the connection's lifetime and its serve loop.

mod login;
mod messages;
mod outbox;
mod session;
mod subscriptions;

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use kalamdb_ws_protocol::{Compression, ProtocolOptions, Serialization};
use serde::Deserialize;

pub use crate::config::WsConfig;
use crate::error::kind_response;
use crate::state::SharedState;
use session::run;

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
        return kind_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "Server is shutting down",
        );
    }
    let Some(slot) = app.ws_slots.acquire(peer.ip()) else {
        return kind_response(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many WebSocket connections from this address",
        );
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
        Box::new(kind_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Origin not allowed",
        ))
    };
    match headers.get(header::ORIGIN) {
        None if app.config.ws.strict_origin_check => Err(forbidden()),
        None => Ok(()),
        Some(_) if app.config.any_origin() => Ok(()),
        Some(o) => {
            let o = o.to_str().unwrap_or_default();
            if app.config.cors_origins.iter().any(|allowed| allowed == o) {
                Ok(())
            } else {
                Err(forbidden())
            }
        }
    }
}
