//! Limits on what costs the server most to answer: password checks per
//! address (each one burns Argon2 work), WebSocket connections per address
//! (each holds a task, a queue and subscriptions), inbound WebSocket
//! messages, and SQL requests per user (so one flooding account cannot
//! starve the others).
//!
//! All are off (0) unless configured (`[rate_limit]`): a server behind a
//! proxy sees one address for everyone, so the operator decides.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Addresses remembered at most; past it, windows that are over are dropped
/// (a flood of spoofed addresses cannot grow memory without bound).
const MAX_TRACKED: usize = 100_000;

/// At most `limit` events per key per `window` (fixed windows).
#[derive(Debug)]
pub struct RateLimiter<K> {
    limit: u32,
    window: Duration,
    seen: Mutex<HashMap<K, (Instant, u32)>>,
}

/// Password checks per client address.
pub type IpRateLimiter = RateLimiter<IpAddr>;

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records one event of `key`; `false` when it is over the limit.
    pub fn allow(&self, key: K) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: K, now: Instant) -> bool {
        if self.limit == 0 {
            return true;
        }
        let mut seen = self.seen.lock();
        if seen.len() >= MAX_TRACKED {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.limit
    }
}

/// Open connections per address (TCP connections in `listener.rs`,
/// WebSocket sessions in `ws.rs`: two separate counts).
#[derive(Debug)]
pub struct ConnectionSlots {
    max_per_ip: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one connection slot; released on drop.
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<ConnectionSlots>,
    ip: IpAddr,
}

impl ConnectionSlots {
    pub fn new(max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_per_ip,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `ip`, or `None` when it already holds the maximum.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<SlotGuard> {
        let mut open = self.open.lock();
        let n = open.entry(ip).or_insert(0);
        if self.max_per_ip > 0 && *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        Some(SlotGuard {
            slots: self.clone(),
            ip,
        })
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Inbound messages of one connection per second.
#[derive(Debug)]
pub struct MessageRate {
    per_second: u32,
    start: Instant,
    count: u32,
}

impl MessageRate {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            start: Instant::now(),
            count: 0,
        }
    }

    /// Records one message; `false` when it is over the rate.
    pub fn allow(&mut self) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let now = Instant::now();
        if now.duration_since(self.start) >= Duration::from_secs(1) {
            self.start = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count <= self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_window_allows_the_limit_then_refuses_until_it_ends() {
        let l = IpRateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(l.allow_at(ip(1), t0));
        assert!(l.allow_at(ip(1), t0));
        assert!(!l.allow_at(ip(1), t0 + Duration::from_secs(59)));
        // Another address has its own budget.
        assert!(l.allow_at(ip(2), t0));
        assert!(l.allow_at(ip(1), t0 + Duration::from_secs(60)));
    }

    #[test]
    fn zero_means_no_limit() {
        let l = IpRateLimiter::new(0, Duration::from_secs(60));
        assert!((0..1000).all(|_| l.allow(ip(1))));
        let mut r = MessageRate::new(0);
        assert!((0..1000).all(|_| r.allow()));
    }

    #[test]
    fn slots_are_released_when_their_guard_drops() {
        let slots = ConnectionSlots::new(2);
        let a = slots.acquire(ip(1));
        let b = slots.acquire(ip(1));
        assert!(a.is_some() && b.is_some());
        assert!(slots.acquire(ip(1)).is_none());
        assert!(slots.acquire(ip(2)).is_some());
        drop(a);
        assert!(slots.acquire(ip(1)).is_some());
    }

    #[test]
    fn the_message_rate_counts_per_second() {
        let mut r = MessageRate::new(3);
        assert!(r.allow() && r.allow() && r.allow());
        assert!(!r.allow());
    }
}
