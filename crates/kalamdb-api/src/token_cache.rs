//! Access tokens already verified ([`TokenCache`]): a Bearer request whose
//! token was checked before skips the signature check, the claims' parsing
//! and the read of the user record — together the largest part of a point
//! query's server time once the statement itself takes the fast path.
//!
//! An entry holds what the full check found (the stored user, the token's
//! expiry and revocation digest) and the engine's users generation at the
//! time: any change to any user record (role, password, lock, drop, even a
//! login's bookkeeping) bumps it, and every entry made before is then
//! checked again in full. What can change without a user write is checked
//! on every hit: the expiry (an entry is used only before `exp`; within
//! the verifier's leeway the full check decides), a revocation by logout,
//! and a lock still in force. Entries are keyed by the token itself, so
//! only a holder of the token can reach its entry.
//!
//! Must not: answer a refresh token, or outlive the checks above.

use std::collections::HashMap;

use kalamdb_core::{TokenDigest, UserRecord};
use parking_lot::Mutex;

/// Entries kept at most; beyond it the cache starts over (tokens are
/// re-verified once each).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct Verified {
    pub user: UserRecord,
    pub digest: TokenDigest,
    /// The token's `exp` (Unix seconds).
    exp: i64,
    generation: u64,
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Verified>>,
}

impl TokenCache {
    /// The entry of `token`, if it was made under `generation` and the
    /// token has not expired at `now_secs`.
    pub fn get(&self, token: &str, generation: u64, now_secs: i64) -> Option<Verified> {
        let entries = self.entries.lock();
        let hit = entries.get(token)?;
        (hit.generation == generation && now_secs < hit.exp).then(|| hit.clone())
    }

    pub fn put(
        &self,
        token: &str,
        user: UserRecord,
        digest: TokenDigest,
        exp: i64,
        generation: u64,
    ) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            token.to_string(),
            Verified {
                user,
                digest,
                exp,
                generation,
            },
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use kalamdb_types::{Role, UserId};

    fn user() -> UserRecord {
        UserRecord::new(UserId::parse("alice").unwrap(), Role::User, None, None)
    }

    #[test]
    fn entries_serve_only_their_generation_and_lifetime() {
        let cache = TokenCache::default();
        cache.put("t", user(), [7; 32], 1_000, 3);
        assert_eq!(cache.get("t", 3, 999).unwrap().digest, [7; 32]);
        assert!(cache.get("t", 4, 999).is_none(), "a user changed since");
        assert!(cache.get("t", 3, 1_000).is_none(), "expired");
        assert!(cache.get("other", 3, 10).is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES * 2 + 1 {
            cache.put(&format!("t{i}"), user(), [0; 32], i64::MAX, 0);
            assert!(cache.entries.lock().len() <= MAX_ENTRIES);
        }
    }
}
