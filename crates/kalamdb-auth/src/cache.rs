//! A short-lived memory of successful Basic-auth checks (`wire-protocol.md`
//! §5.4).
//!
//! `curl -u` style clients send user and password with every request, and an
//! Argon2 verification per request would make the server CPU-bound on
//! hashing. A success is remembered for at most a minute, keyed by
//! HMAC-SHA256 of `user ‖ 0x00 ‖ binding ‖ 0x00 ‖ password` under a random
//! per-process key, so the cache never holds a password or an unkeyed hash of
//! one. Only successes are stored: a wrong password always pays the full
//! verification and still counts towards lockout.
//!
//! The *binding* is the user's stored password hash. Binding entries to it
//! makes invalidation implicit: after `ALTER USER … SET PASSWORD` the stored
//! hash differs, so every remembered success of the old password misses,
//! including one from a verification still in flight when the password
//! changed. (Dropped or locked users are refused before the cache is asked.)

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

/// Remembers successful Basic checks for a short time. Share one per server.
pub struct BasicAuthCache {
    /// Pre-keyed MAC, cloned per use. `None` only if HMAC refused the key,
    /// which cannot happen for HMAC; the cache then simply never hits.
    mac: Option<HmacSha256>,
    ttl: Duration,
    /// When each remembered success was recorded.
    entries: Mutex<HashMap<Digest, Instant>>,
}

impl std::fmt::Debug for BasicAuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuthCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.entries.lock().len())
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
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// True if `user`, whose stored hash is `binding`, recently
    /// authenticated with exactly `password`.
    pub fn check(&self, user: &str, binding: &str, password: &str) -> bool {
        self.check_at(user, binding, password, Instant::now())
    }

    /// Records a successful verification of `password` against `binding`.
    /// Call it only after the full check (password, lockout, user state)
    /// passed.
    pub fn remember(&self, user: &str, binding: &str, password: &str) {
        self.remember_at(user, binding, password, Instant::now());
    }

    /// Number of remembered successes, expired ones included until they are
    /// swept.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn digest(&self, user: &str, binding: &str, password: &str) -> Option<Digest> {
        // The 0x00 separators are only unambiguous if user and binding hold
        // no NUL. Real user ids and PHC strings never do, so such inputs are
        // simply never cached.
        if user.contains('\0') || binding.contains('\0') || self.ttl.is_zero() {
            return None;
        }
        let mut mac = self.mac.clone()?;
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(binding.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    fn is_fresh(&self, since: Instant, now: Instant) -> bool {
        now.saturating_duration_since(since) < self.ttl
    }

    fn check_at(&self, user: &str, binding: &str, password: &str, now: Instant) -> bool {
        let Some(digest) = self.digest(user, binding, password) else {
            return false;
        };
        let mut entries = self.entries.lock();
        match entries.get(&digest) {
            Some(&at) if self.is_fresh(at, now) => true,
            Some(_) => {
                entries.remove(&digest);
                false
            }
            None => false,
        }
    }

    fn remember_at(&self, user: &str, binding: &str, password: &str, now: Instant) {
        let Some(digest) = self.digest(user, binding, password) else {
            return;
        };
        let mut entries = self.entries.lock();
        if entries.len() >= BASIC_CACHE_MAX_ENTRIES && !entries.contains_key(&digest) {
            entries.retain(|_, at| self.is_fresh(*at, now));
            if entries.len() >= BASIC_CACHE_MAX_ENTRIES {
                let oldest = entries.iter().min_by_key(|(_, at)| **at).map(|(d, _)| *d);
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(digest, now);
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
        assert!(!cache.check("alice", "$h1", "correct-password"));
        cache.remember("alice", "$h1", "correct-password");
        assert!(cache.check("alice", "$h1", "correct-password"));
        assert!(!cache.check("alice", "$h1", "wrong-password"));
        assert!(!cache.check("bob", "$h1", "correct-password"));
        assert!(!cache.check("alic", "$h1", "ecorrect-password"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        cache.remember_at("alice", "$h1", "pw-123456", t0);
        assert!(cache.check_at("alice", "$h1", "pw-123456", t0 + TTL / 2));
        assert!(!cache.check_at("alice", "$h1", "pw-123456", t0 + TTL));
        // The expired entry was swept on the failed check.
        assert!(cache.is_empty());
    }

    #[test]
    fn short_ttl_expires_in_real_time() {
        let cache = BasicAuthCache::new(Duration::from_millis(20));
        cache.remember("alice", "$h1", "pw-123456");
        std::thread::sleep(Duration::from_millis(40));
        assert!(!cache.check("alice", "$h1", "pw-123456"));
    }

    #[test]
    fn ttl_is_clamped_to_sixty_seconds() {
        let cache = BasicAuthCache::new(Duration::from_secs(3600));
        let t0 = Instant::now();
        cache.remember_at("alice", "$h1", "pw-123456", t0);
        assert!(cache.check_at("alice", "$h1", "pw-123456", t0 + Duration::from_secs(59)));
        assert!(!cache.check_at("alice", "$h1", "pw-123456", t0 + Duration::from_secs(61)));
    }

    #[test]
    fn zero_ttl_disables_the_cache() {
        let cache = BasicAuthCache::new(Duration::ZERO);
        cache.remember("alice", "$h1", "pw-123456");
        assert!(!cache.check("alice", "$h1", "pw-123456"));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_changed_stored_hash_misses() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        cache.remember_at("alice", "$h1", "old-password", t0);
        cache.remember_at("bob", "$h1", "bobs-password", t0);
        // ALTER USER alice SET PASSWORD: her stored hash is now $h2.
        assert!(!cache.check_at("alice", "$h2", "old-password", t0));
        assert!(cache.check_at("bob", "$h1", "bobs-password", t0));
        // A verification of the old password that finishes after the change
        // is remembered against the old hash, which no check presents again.
        cache.remember_at("alice", "$h1", "old-password", t0);
        assert!(!cache.check_at("alice", "$h2", "old-password", t0));
    }

    #[test]
    fn keys_differ_per_process_and_hide_the_password() {
        let a = BasicAuthCache::new(TTL);
        let b = BasicAuthCache::new(TTL);
        let da = a.digest("alice", "$h1", "pw-123456").unwrap();
        let db = b.digest("alice", "$h1", "pw-123456").unwrap();
        assert_ne!(da, db, "each cache draws its own key");
        assert!(!da.windows(9).any(|w| w == b"pw-123456"));
    }

    #[test]
    fn nul_in_user_is_never_cached() {
        let cache = BasicAuthCache::new(TTL);
        cache.remember("alice", "$h1", "b\0c");
        // Same MAC input as ("alice\0b", ...) would be; must not be confused.
        assert!(!cache.check("alice\0b", "$h1", "c"));
        cache.remember("alice\0b", "$h1", "c");
        cache.remember("alice", "$h1\0x", "c");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn size_is_bounded_by_evicting_the_oldest() {
        let cache = BasicAuthCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..BASIC_CACHE_MAX_ENTRIES {
            let at = t0 + Duration::from_millis(u64::try_from(i).unwrap());
            cache.remember_at(&format!("user{i}"), "$h1", "pw-123456", at);
        }
        assert_eq!(cache.len(), BASIC_CACHE_MAX_ENTRIES);
        let later = t0 + Duration::from_secs(20);
        cache.remember_at("newcomer", "$h1", "pw-123456", later);
        assert_eq!(cache.len(), BASIC_CACHE_MAX_ENTRIES);
        assert!(cache.check_at("newcomer", "$h1", "pw-123456", later));
        assert!(
            !cache.check_at("user0", "$h1", "pw-123456", later),
            "oldest evicted"
        );
        assert!(cache.check_at("user1", "$h1", "pw-123456", later));
    }

    #[test]
    fn expired_entries_go_first_when_full() {
        let cache = BasicAuthCache::new(TTL);
        let t0 = Instant::now();
        for i in 0..BASIC_CACHE_MAX_ENTRIES {
            cache.remember_at(&format!("user{i}"), "$h1", "pw-123456", t0);
        }
        let later = t0 + TTL * 2;
        cache.remember_at("newcomer", "$h1", "pw-123456", later);
        assert_eq!(cache.len(), 1);
    }
}
