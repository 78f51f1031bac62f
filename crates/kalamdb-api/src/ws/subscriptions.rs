//! A connection's subscriptions and where each one's delivery stands.
//!
//! A subscription is registered with the engine before its snapshot is
//! read, so changes can arrive while the snapshot loads or its batches are
//! paged out; they are held (counted against the connection's queue bound)
//! and, after the last batch, reconciled with the snapshot
//! (`kalamdb_core::live::reconcile`) so the client sees no gap and no
//! duplicate.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use kalamdb_core::Caller;
use kalamdb_core::live::{
    ConnEvent, LiveChange, LiveConnection, LiveError, LiveErrorKind, LiveEvent, LivePlan,
    LiveSnapshot, NewSubscription, PkValue, SnapshotOptions, SubKey, reconcile,
};
use kalamdb_ws_protocol::{
    BatchControl, Row, SchemaField, ServerMessage, SubscribeOptions, SubscriptionRequest,
    WsErrorCode, close,
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::messages::{change_message, schema_fields, ws_code};
use super::outbox::{Outbox, Stop};
use crate::encode::encode_row_objects;
use crate::state::SharedState;

/// A finished snapshot read, sent back to the connection's task.
pub(super) type SnapshotResult = (SubKey, Result<LiveSnapshot, LiveError>);

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
    keys: Vec<(PkValue, i64)>,
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

/// Every subscription of one connection, by client id and by engine key.
pub(super) struct Subscriptions {
    app: SharedState,
    caller: Caller,
    conn: Arc<LiveConnection>,
    subs: HashMap<String, ClientSub>,
    by_key: HashMap<SubKey, String>,
    snap_tx: mpsc::UnboundedSender<SnapshotResult>,
    /// Changes held back by loading subscriptions (bounded like the queue).
    buffered: usize,
}

impl Subscriptions {
    pub(super) fn new(
        app: SharedState,
        caller: Caller,
        conn: Arc<LiveConnection>,
        snap_tx: mpsc::UnboundedSender<SnapshotResult>,
    ) -> Self {
        Self {
            app,
            caller,
            conn,
            subs: HashMap::new(),
            by_key: HashMap::new(),
            snap_tx,
            buffered: 0,
        }
    }

    pub(super) fn drop_sub(&mut self, id: &str) {
        if let Some(sub) = self.subs.remove(id) {
            self.by_key.remove(&sub.key);
            self.app.engine.live().unregister(sub.key);
            self.buffered = self.buffered.saturating_sub(held_len(&sub.phase));
        }
    }

    pub(super) async fn subscribe(
        &mut self,
        out: &mut Outbox,
        req: SubscriptionRequest,
    ) -> Result<(), Stop> {
        let max = self.app.engine.live().config().max_initial_rows;
        if let Err(e) = req.check_batch_size(u32::try_from(max).unwrap_or(u32::MAX)) {
            return out.send(&e.to_message()).await;
        }
        // Reusing an id replaces the subscription.
        self.drop_sub(&req.id);
        let plan = match self.app.engine.plan_live(&self.caller, &req.sql).await {
            Ok(p) => Arc::new(p),
            Err(e) => return out.error(&req.id, ws_code(e.kind), e.message).await,
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
        let request = NewSubscription {
            id: req.id.clone(),
            sql: req.sql.clone(),
            options: options_json,
        };
        let key = match self
            .app
            .engine
            .register_live(&self.conn, request, plan.clone())
            .await
        {
            Ok(k) => k,
            Err(e) => return out.error(&req.id, ws_code(e.kind), e.message).await,
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
                out.send(&ServerMessage::SubscriptionAck {
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

    pub(super) async fn on_snapshot(
        &mut self,
        out: &mut Outbox,
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
                return out.error(&id, code, e.message).await;
            }
        };
        let rows = match encode_row_objects(&snap.schema, &snap.batches) {
            Ok(r) => r,
            Err(e) => {
                self.drop_sub(&id);
                return out
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
            out,
            &id,
            Some((u32::try_from(total).unwrap_or(u32::MAX), schema)),
        )
        .await
    }

    /// Sends the next initial batch (with the ack before batch 0); after
    /// the last one, the held changes the snapshot does not reflect.
    async fn send_batch(
        &mut self,
        out: &mut Outbox,
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
            out.send(&ServerMessage::SubscriptionAck {
                subscription_id: subscription_id.clone(),
                total_rows,
                batch_control: control,
                schema,
            })
            .await?;
        }
        out.send(&ServerMessage::InitialDataBatch {
            subscription_id,
            rows: batch,
            batch_control: control,
        })
        .await?;
        if has_more {
            return Ok(());
        }
        self.go_live(out, id).await
    }

    async fn go_live(&mut self, out: &mut Outbox, id: &str) -> Result<(), Stop> {
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
            send_change(out, id, &plan, change).await?;
        }
        Ok(())
    }

    pub(super) async fn next_batch(&mut self, out: &mut Outbox, id: &str) -> Result<(), Stop> {
        match self.subs.get(id).map(|s| &s.phase) {
            None => {
                out.error(
                    id,
                    WsErrorCode::NotFound,
                    format!("Subscription '{id}' not found"),
                )
                .await
            }
            Some(Phase::Paging { .. }) => self.send_batch(out, id, None).await,
            // Nothing left to page (already live, or still loading): no reply.
            Some(Phase::Live) | Some(Phase::Loading { .. }) => Ok(()),
        }
    }

    pub(super) async fn on_event(&mut self, out: &mut Outbox, ev: ConnEvent) -> Result<(), Stop> {
        let Some(id) = self.by_key.get(&ev.key).cloned() else {
            return Ok(());
        };
        match ev.event {
            LiveEvent::Ended(e) => {
                if let Some(sub) = self.subs.remove(&id) {
                    self.by_key.remove(&sub.key);
                    self.buffered = self.buffered.saturating_sub(held_len(&sub.phase));
                }
                out.error(&id, ws_code(e.kind), e.message).await
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
                        send_change(out, &id, &plan, change).await
                    }
                }
            }
        }
    }
}

/// A change that cannot be encoded is reported on its subscription rather
/// than ending the connection.
async fn send_change(
    out: &mut Outbox,
    id: &str,
    plan: &LivePlan,
    change: LiveChange,
) -> Result<(), Stop> {
    let msg = match change_message(id, plan, &change) {
        Ok(m) => m,
        Err(e) => ServerMessage::error(id, WsErrorCode::ConversionError, e),
    };
    out.send(&msg).await
}

fn held_len(phase: &Phase) -> usize {
    match phase {
        Phase::Loading { held } | Phase::Paging { held, .. } => held.len(),
        Phase::Live => 0,
    }
}
