//! The engine's side of one WebSocket connection ([`LiveConnection`]): its
//! bounded outbound queue of [`ConnEvent`]s, and the close the server may
//! ask for. The router never waits on the queue: a full one asks the
//! connection to close ("subscriber too slow").

use std::sync::atomic::{AtomicI64, Ordering};

use kalamdb_types::{Role, UserId};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

use crate::live::change::LiveChange;
use crate::live::error::LiveError;

/// What a connection receives about one of its subscriptions.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Change(LiveChange),
    /// The subscription is over (table dropped, killed, schema changed).
    Ended(LiveError),
}

/// Identifies one registered subscription (unique for the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubKey(pub u64);

#[derive(Debug)]
pub struct ConnEvent {
    pub key: SubKey,
    pub event: LiveEvent,
}

/// Why the server wants a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    TooSlow,
    UserDropped,
    Shutdown,
}

/// The engine's side of one WebSocket connection.
pub struct LiveConnection {
    pub id: String,
    pub user: UserId,
    pub role: Role,
    tx: mpsc::Sender<ConnEvent>,
    close: Mutex<Option<CloseReason>>,
    close_notify: Notify,
    last_seen: AtomicI64,
}

impl LiveConnection {
    pub fn new(id: String, user: UserId, role: Role, tx: mpsc::Sender<ConnEvent>) -> Self {
        Self {
            id,
            user,
            role,
            tx,
            close: Mutex::new(None),
            close_notify: Notify::new(),
            last_seen: AtomicI64::new(kalamdb_types::now_micros()),
        }
    }

    /// When the client last sent anything (µs).
    pub fn last_seen(&self) -> i64 {
        self.last_seen.load(Ordering::Relaxed)
    }

    /// Records inbound traffic (`system.live.last_ping_at`).
    pub fn touch(&self) {
        self.last_seen
            .store(kalamdb_types::now_micros(), Ordering::Relaxed);
    }

    pub fn request_close(&self, reason: CloseReason) {
        let mut slot = self.close.lock();
        if slot.is_none() {
            *slot = Some(reason);
            self.close_notify.notify_one();
        }
    }

    /// Resolves once the server wants this connection closed.
    pub async fn close_requested(&self) -> CloseReason {
        loop {
            let notified = self.close_notify.notified();
            if let Some(r) = *self.close.lock() {
                return r;
            }
            notified.await;
        }
    }

    /// Queues an event without waiting; a full queue asks the connection
    /// to close instead (`false`: not delivered).
    pub fn send(&self, ev: ConnEvent) -> bool {
        match self.tx.try_send(ev) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.request_close(CloseReason::TooSlow);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
