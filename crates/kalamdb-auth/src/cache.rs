//! A short-lived memory of successful Basic-auth checks (`wire-protocol.md`
//! §5.4).
//!
//! `curl -u` style clients send user and password with every request, and an
//! Argon2 verification per request would make the server CPU-bound on
//! hashing. A success is remembered for at most a minute, keyed by
//! HMAC-SHA256 of `user ‖ 0x00 ‖ password` under a random per-process key, so
//! the cache never holds a password or an unkeyed hash of one. Only
//! successes are stored: a wrong password always pays the full verification
//! and still counts towards lockout.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;
type Digest = [u8; 32];

/// Longest time a success may be remembered; longer TTLs are clamped to it.
pub const BASIC_CACHE_MAX_TTL: Duration = Duration::from_secs(60);
/// Most remembered successes; beyond it expired entries go first, then the
/// oldest.
pub const BASIC_CACHE_MAX_ENTRIES: usize = 10_000;

struct Entry {
    user: String,
    remembered_at: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Digest, Entry>,
    /// Users invalidated within the last TTL, and when. See
    /// [`BasicAuthCache::remember`] for why.
    invalidated: HashMap<String, Instant>,
}

/// Remembers successful Basic checks for a short time. Share one per server.
pub struct BasicAuthCache {
    /// Pre-keyed MAC, cloned per use. `None` only if HMAC refused the key,
    /// which cannot happen for HMAC; the cache then simply never hits.
    mac: Option<HmacSha256>,
    ttl: Duration,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for BasicAuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuthCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.inner.lock().entries.len())
            .finish_non_exhaustive()
    }
}

impl BasicAuthCache {
    /// A cache remembering successes for `ttl`, at most
    /// [`BASIC_CACHE_MAX_TTL`]. A zero TTL disables it.
    pub fn new(ttl: Duration) -> Self {
        let key: [u8; 32] = rand::random();
        BasicAuthCache {
            mac: HmacSha256::new_from_slice(&key).ok(),
            ttl: ttl.min(BASIC_CACHE_MAX_TTL),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// True if `user` recently authenticated with exactly `password`.
    pub fn check(&self, user: &str, password: &str) -> bool {
        self.check_at(user, password, Instant::now())
    }

    /// Records a successful verification of `user` with `password`. Call it
    /// only after the full check (password, lockout, user state) passed.
    pub fn remember(&self, user: &str, password: &str) {
        self.remember_at(user, password, Instant::now());
    }

    /// Forgets every success of `user`; call on ALTER USER and DROP USER.
    pub fn invalidate_user(&self, user: &str) {
        self.invalidate_at(user, Instant::now());
    }

    /// Number of remembered successes, expired ones included until they are
    /// swept.
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn digest(&self, user: &str, password: &str) -> Option<Digest> {
        // The 0x00 separator is only unambiguous if the user holds no NUL.
        // Real user ids never do, so such names are simply never cached.
        if user.contains('\0') || self.ttl.is_zero() {
            return None;
        }
        let mut mac = self.mac.clone()?;
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    fn is_fresh(&self, since: Instant, now: Instant) -> bool {
        now.saturating_duration_since(since) < self.ttl
    }

    fn check_at(&self, user: &str, password: &str, now: Instant) -> bool {
        let Some(digest) = self.digest(user, password) else {
            return false;
        };
        let mut inner = self.inner.lock();
        match inner.entries.get(&digest) {
            Some(entry) if self.is_fresh(entry.remembered_at, now) => true,
            Some(_) => {
                inner.entries.remove(&digest);
                false
            }
            None => false,
        }
    }

    fn remember_at(&self, user: &str, password: &str, now: Instant) {
        let Some(digest) = self.digest(user, password) else {
            return;
        };
        let mut inner = self.inner.lock();
        // A verification that began before ALTER USER changed the password
        // can finish after the invalidation and would re-cache the old
        // password. Refusing to cache a user for one TTL after invalidation
        // closes that window for any verification shorter than the TTL.
        if let Some(&at) = inner.invalidated.get(user) {
            if self.is_fresh(at, now) {
                return;
            }
            inner.invalidated.remove(user);
        }
        if inner.entries.len() >= BASIC_CACHE_MAX_ENTRIES && !inner.entries.contains_key(&digest) {
            inner
                .entries
                .retain(|_, e| now.saturating_duration_since(e.remembered_at) < self.ttl);
            if inner.entries.len() >= BASIC_CACHE_MAX_ENTRIES {
                let oldest = inner
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.remembered_at)
                    .map(|(d, _)| *d);
                if let Some(oldest) = oldest {
                    inner.entries.remove(&oldest);
                }
            }
        }
        inner.entries.insert(
            digest,
            Entry {
                user: user.to_string(),
                remembered_at: now,
            },
        );
    }

    fn invalidate_at(&self, user: &str, now: Instant) {
        let ttl = self.ttl;
        let mut inner = self.inner.lock();
        inner.entries.retain(|_, e| e.user != user);
        inner
            .invalidated
            .retain(|_, at| now.saturating_duration_since(*at) < ttl);
        // Bounded like the entries: only a flood of ALTER USERs within one TTL
        // gets here, and dropping the oldest marker merely re-opens the rare
        // race above for that user.
        if inner.invalidated.len() >= BASIC_CACHE_MAX_ENTRIES
            && !inner.invalidated.contains_key(user)
        {
            let oldest = inner
                .invalidated
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(u, _)| u.clone());
            if let Some(oldest) = oldest {
                inner.invalidated.remove(&oldest);
            }
        }
        inner.invalidated.insert(user.to_string(), now);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_millis(200);

    #[test]
    fn hit_after_remember_miss_otherwise() {
        let cache = BasicAuthCache::new(TTL);
        assert!(!cache.check("alice", "correct-password"));
        cache.remember("alice", "correct-password");
        assert!(cache.check("alice", "correct-password"));
        assert!(!cache.check("alice", "wrong-password"));
        assert!(!cache.check("bob", "correct-password"));
        assert!(!cache.check("alic", "ecorrect-password"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        cache.remember_at("alice", "pw-123456", t0);
        assert!(cache.check_at("alice", "pw-123456", t0 + TTL / 2));
        assert!(!cache.check_at("alice", "pw-123456", t0 + TTL));
        // The expired entry was swept on the failed check.
        assert!(cache.is_empty());
    }

    #[test]
    fn short_ttl_expires_in_real_time() {
        let cache = BasicAuthCache::new(Duration::from_millis(20));
        cache.remember("alice", "pw-123456");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!cache.check("alice", "pw-123456"));
    }

    #[test]
    fn ttl_is_clamped_to_sixty_seconds() {
        let cache = BasicAuthCache::new(Duration::from_secs(3600));
        let t0 = Instant::now();
        cache.remember_at("alice", "pw-123456", t0);
        assert!(cache.check_at("alice", "pw-123456", t0 + Duration::from_secs(59)));
        assert!(!cache.check_at("alice", "pw-123456", t0 + Duration::from_secs(61)));
    }

    #[test]
    fn zero_ttl_disables_the_cache() {
        let cache = BasicAuthCache::new(Duration::ZERO);
        cache.remember("alice", "pw-123456");
        assert!(!cache.check("alice", "pw-123456"));
        assert!(cache.is_empty());
    }

    #[test]
    fn invalidation_forgets_only_that_user() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        cache.remember_at("alice", "old-password", t0);
        cache.remember_at("bob", "bobs-password", t0);
        cache.invalidate_at("alice", t0);
        assert!(!cache.check_at("alice", "old-password", t0));
        assert!(cache.check_at("bob", "bobs-password", t0));
    }

    #[test]
    fn late_remember_after_invalidation_is_ignored_for_one_ttl() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        cache.invalidate_at("alice", t0);
        // A verification of the old password that finished just after ALTER USER.
        cache.remember_at("alice", "old-password", t0 + TTL / 4);
        assert!(!cache.check_at("alice", "old-password", t0 + TTL / 4));
        // Once the window has passed, caching resumes.
        cache.remember_at("alice", "new-password", t0 + TTL);
        assert!(cache.check_at("alice", "new-password", t0 + TTL));
    }

    #[test]
    fn keys_differ_per_process_and_hide_the_password() {
        let a = BasicAuthCache::new(TTL);
        let b = BasicAuthCache::new(TTL);
        let da = a.digest("alice", "pw-123456").unwrap();
        let db = b.digest("alice", "pw-123456").unwrap();
        assert_ne!(da, db, "each cache draws its own key");
        assert!(!da.windows(9).any(|w| w == b"pw-123456"));
    }

    #[test]
    fn nul_in_user_is_never_cached() {
        let cache = BasicAuthCache::new(TTL);
        cache.remember("alice", "b\0c");
        // Same MAC input as ("alice\0b", "c") would be; must not be confused.
        assert!(!cache.check("alice\0b", "c"));
        cache.remember("alice\0b", "c");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn size_is_bounded_by_evicting_the_oldest() {
        let cache = BasicAuthCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..BASIC_CACHE_MAX_ENTRIES {
            let at = t0 + Duration::from_millis(u64::try_from(i).unwrap());
            cache.remember_at(&format!("user{i}"), "pw-123456", at);
        }
        assert_eq!(cache.len(), BASIC_CACHE_MAX_ENTRIES);
        let later = t0 + Duration::from_secs(20);
        cache.remember_at("newcomer", "pw-123456", later);
        assert_eq!(cache.len(), BASIC_CACHE_MAX_ENTRIES);
        assert!(cache.check_at("newcomer", "pw-123456", later));
        assert!(
            !cache.check_at("user0", "pw-123456", later),
            "oldest evicted"
        );
        assert!(cache.check_at("user1", "pw-123456", later));
    }

    #[test]
    fn expired_entries_go_first_when_full() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        for i in 0..BASIC_CACHE_MAX_ENTRIES {
            cache.remember_at(&format!("user{i}"), "pw-123456", t0);
        }
        let later = t0 + TTL * 2;
        cache.remember_at("newcomer", "pw-123456", later);
        assert_eq!(cache.len(), 1);
    }
}
