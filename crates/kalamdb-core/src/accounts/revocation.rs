//! Tokens revoked at logout (**ours**; `wire-protocol.md` §5.2 calls tokens
//! stateless).
//!
//! A client that logs out expects the tokens it showed at logout to be dead,
//! not merely forgotten by the browser: a refresh token copied before logout
//! must not mint new pairs afterwards. So logout records each verified token
//! it was shown, by digest, until the token's own `exp`; after that the JWT
//! check refuses it anyway and the entry is useless.
//!
//! Entries are `meta` records (`MetaKey::RevokedToken` → `exp` as 8 bytes,
//! big-endian i64 seconds), written through the committer like every other
//! durable change, so a revocation survives a restart. The check on every
//! authenticated request is a lookup in an in-memory map loaded at start-up.
//! Expired entries are dropped at start-up and with every later revocation,
//! so the list holds at most the tokens revoked within one refresh lifetime.

use std::collections::{BTreeSet, HashMap};

use kalamdb_store::{Direction, HotStore, MetaKey, MetaPrefix, Space};

use crate::error::{KalamError, Result};
use crate::write::committer::Committer;

/// A token's digest (`kalamdb_auth::token_digest`).
pub type TokenDigest = [u8; 32];

#[derive(Debug, Default)]
struct Entries {
    by_digest: HashMap<TokenDigest, i64>,
    /// The same entries ordered by expiry, so pruning touches only what expired.
    by_exp: BTreeSet<(i64, TokenDigest)>,
}

impl Entries {
    fn insert(&mut self, digest: TokenDigest, exp: i64) {
        if let Some(old) = self.by_digest.insert(digest, exp) {
            self.by_exp.remove(&(old, digest));
        }
        self.by_exp.insert((exp, digest));
    }

    /// Removes the entries whose `exp` is before `now`; returns their digests.
    fn take_expired(&mut self, now: i64) -> Vec<TokenDigest> {
        let mut gone = Vec::new();
        while let Some(&(exp, digest)) = self.by_exp.first() {
            if exp >= now {
                break;
            }
            self.by_exp.pop_first();
            self.by_digest.remove(&digest);
            gone.push(digest);
        }
        gone
    }
}

/// The revocation list: durable records mirrored in memory.
#[derive(Debug, Default)]
pub struct Revocations {
    entries: parking_lot::RwLock<Entries>,
}

fn key(digest: &TokenDigest) -> Vec<u8> {
    MetaKey::RevokedToken(*digest).encode()
}

fn now_secs() -> i64 {
    kalamdb_types::now_micros() / 1_000_000
}

impl Revocations {
    /// Reads every stored entry. Expired ones are loaded too and returned
    /// for deletion (the caller commits that once the committer runs).
    pub fn load(store: &dyn HotStore) -> Result<(Self, Vec<TokenDigest>)> {
        let mut entries = Entries::default();
        let stored = store.scan(
            Space::Meta,
            &MetaPrefix::RevokedTokens.range(),
            Direction::Forward,
            usize::MAX,
        )?;
        for (k, v) in stored {
            let MetaKey::RevokedToken(digest) = MetaKey::decode(&k)? else {
                return Err(KalamError::internal("a revocation key of another kind"));
            };
            let exp: [u8; 8] = v
                .as_slice()
                .try_into()
                .map_err(|_| KalamError::internal("corrupt revoked-token record"))?;
            entries.insert(digest, i64::from_be_bytes(exp));
        }
        let expired = entries.take_expired(now_secs());
        Ok((
            Self {
                entries: parking_lot::RwLock::new(entries),
            },
            expired,
        ))
    }

    pub fn contains(&self, digest: &TokenDigest) -> bool {
        self.entries.read().by_digest.contains_key(digest)
    }

    pub fn len(&self) -> usize {
        self.entries.read().by_digest.len()
    }

    /// Revokes tokens until their `exp` (Unix seconds): from now on
    /// [`Revocations::contains`] names them, also after a restart.
    ///
    /// The tokens are refused from the moment this is called, before the
    /// write is durable: if the write then fails they stay refused until the
    /// server restarts, and the error is returned.
    pub async fn revoke(
        &self,
        committer: &Committer,
        tokens: Vec<(TokenDigest, i64)>,
    ) -> Result<()> {
        let now = now_secs();
        let live: Vec<(TokenDigest, i64)> = tokens.into_iter().filter(|t| t.1 >= now).collect();
        if live.is_empty() {
            return Ok(());
        }
        let expired = {
            let mut entries = self.entries.write();
            for (digest, exp) in &live {
                entries.insert(*digest, *exp);
            }
            entries.take_expired(now)
        };
        Self::persist(committer, live, expired).await
    }

    /// Writes `put` and deletes `expired` in one commit.
    pub async fn persist(
        committer: &Committer,
        put: Vec<(TokenDigest, i64)>,
        expired: Vec<TokenDigest>,
    ) -> Result<()> {
        if put.is_empty() && expired.is_empty() {
            return Ok(());
        }
        committer
            .write(move |ctx| {
                for digest in expired {
                    ctx.delete(Space::Meta, key(&digest));
                }
                for (digest, exp) in put {
                    ctx.put(Space::Meta, key(&digest), exp.to_be_bytes().to_vec());
                }
                Ok(())
            })
            .await
    }

    /// Places an entry in memory only (tests: a revocation made earlier).
    #[cfg(test)]
    pub(crate) fn insert_for_test(&self, digest: TokenDigest, exp: i64) {
        self.entries.write().insert(digest, exp);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use kalamdb_store::MemoryStore;

    use super::*;

    fn digest(n: u8) -> TokenDigest {
        [n; 32]
    }

    #[test]
    fn entries_prune_in_expiry_order() {
        let mut e = Entries::default();
        e.insert(digest(1), 100);
        e.insert(digest(2), 50);
        e.insert(digest(3), 200);
        // Re-revoking moves the entry to its new expiry.
        e.insert(digest(2), 300);
        assert_eq!(e.take_expired(150), vec![digest(1)]);
        assert_eq!(e.by_digest.len(), 2);
        assert_eq!(e.by_exp.len(), 2);
        assert_eq!(e.take_expired(250), vec![digest(3)]);
        assert!(e.by_digest.contains_key(&digest(2)));
        assert!(e.take_expired(300).is_empty(), "exp itself is still valid");
    }

    #[test]
    fn a_corrupt_record_is_an_error_not_a_panic() {
        let store = MemoryStore::new();
        let mut b = kalamdb_store::WriteBatch::new();
        b.put(Space::Meta, key(&digest(1)), vec![1, 2, 3]);
        store.write(b).unwrap();
        assert!(Revocations::load(&store).is_err());
    }
}
