//! A connection's lifetime after the upgrade: login, registration with the
//! engine, the serve loop, and the close frame at the end.
//!
//! The serve loop is the connection's only task, so subscription state
//! needs no locks; it waits on client frames, engine events, finished
//! snapshot reads, the heartbeat tick and the engine's close requests at
//! once, and never blocks on any one of them.

use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use kalamdb_core::Caller;
use kalamdb_core::live::ConnEvent;
use kalamdb_ws_protocol::{
    ClientMessage, ProtocolError, ProtocolOptions, ServerMessage, close, parse_client_message,
};
use tokio::sync::mpsc;

use super::login::{LoginEnd, header_login, in_band_login};
use super::outbox::{Outbox, Stop, close_code, close_with, send_text};
use super::subscriptions::{SnapshotResult, Subscriptions};
use crate::limits::MessageRate;
use crate::state::SharedState;

/// Runs one upgraded connection to its end.
pub(super) async fn run(
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
        out: Outbox {
            socket,
            conn: conn.clone(),
            gzip: protocol.gzip(),
        },
        success,
        live: Subscriptions::new(
            app.clone(),
            Caller::new(user.user_id, user.role),
            conn.clone(),
            snap_tx,
        ),
        rate: MessageRate::new(app.config.ws.max_messages_per_second),
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
            close_with(&mut session.out.socket, code),
        )
        .await;
    }
}

/// One logged-in connection.
struct Session {
    app: SharedState,
    out: Outbox,
    /// Answered again to a repeated `authenticate`.
    success: ServerMessage,
    live: Subscriptions,
    rate: MessageRate,
}

impl Session {
    async fn serve(
        &mut self,
        mut events: mpsc::Receiver<ConnEvent>,
        mut snapshots: mpsc::UnboundedReceiver<SnapshotResult>,
    ) -> Stop {
        let cfg = self.app.config.ws.clone();
        let mut last_inbound = Instant::now();
        // Checks run half an interval off the session's start, so a silent
        // client is closed between `client_timeout + interval / 2` and
        // `client_timeout + 1.5 intervals` after its last frame: never at a
        // tick that lands on the timeout itself, where a client that fell
        // silent right after connecting could, by its own clock, be cut a
        // hair before `client_timeout`.
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + cfg.heartbeat_interval / 2,
            cfg.heartbeat_interval,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let conn = self.out.conn.clone();
        loop {
            let step = tokio::select! {
                reason = conn.close_requested() => Err(Stop::Close(close_code(reason))),
                msg = self.out.socket.recv() => {
                    last_inbound = Instant::now();
                    conn.touch();
                    match msg {
                        None | Some(Err(_)) => Err(Stop::Gone),
                        Some(Ok(m)) => self.on_frame(m).await,
                    }
                }
                ev = events.recv() => match ev {
                    Some(ev) => self.live.on_event(&mut self.out, ev).await,
                    None => Err(Stop::Gone),
                },
                Some((key, result)) = snapshots.recv() => {
                    self.live.on_snapshot(&mut self.out, key, result).await
                }
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

    async fn on_frame(&mut self, msg: Message) -> Result<(), Stop> {
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                return self
                    .out
                    .send(&ProtocolError::unsupported_data().to_message())
                    .await;
            }
            Message::Close(_) => return Err(Stop::Gone),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        // Over the rate: refused, not processed; the connection stays open.
        if !self.rate.allow() {
            return self
                .out
                .send(&ProtocolError::rate_limit_exceeded().to_message())
                .await;
        }
        if text.len() > self.app.config.ws.max_message_bytes {
            let e = ProtocolError::message_too_large(self.app.config.ws.max_message_bytes);
            return self.out.send(&e.to_message()).await;
        }
        match parse_client_message(text.as_str()) {
            Err(e) => {
                self.out.send(&e.to_message()).await?;
                match e.close_code() {
                    Some(code) => Err(Stop::Close(code)),
                    None => Ok(()),
                }
            }
            Ok(ClientMessage::Authenticate { .. }) => self.out.send(&self.success).await,
            Ok(ClientMessage::Subscribe(req)) => self.live.subscribe(&mut self.out, req).await,
            Ok(ClientMessage::NextBatch {
                subscription_id, ..
            }) => self.live.next_batch(&mut self.out, &subscription_id).await,
            Ok(ClientMessage::Unsubscribe { subscription_id }) => {
                self.live.drop_sub(&subscription_id);
                Ok(())
            }
            Ok(ClientMessage::Ping) => Ok(()),
        }
    }
}
