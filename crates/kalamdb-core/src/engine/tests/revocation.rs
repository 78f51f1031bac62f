//! Tokens revoked at logout, through the engine: checked, persisted,
//! pruned at start-up and by later revocations.

use kalamdb_store::HotRead as _;
use std::sync::Arc;

use kalamdb_store::{Direction, HotStore, MemoryStore, MetaKey, MetaPrefix, Space};

use crate::accounts::revocation::{Revocations, TokenDigest};
use crate::engine::{Engine, EngineConfig};

fn now_secs() -> i64 {
    kalamdb_types::now_micros() / 1_000_000
}

fn key(digest: &TokenDigest) -> Vec<u8> {
    MetaKey::RevokedToken(*digest).encode()
}

fn digest(n: u8) -> TokenDigest {
    [n; 32]
}

async fn open(store: Arc<MemoryStore>, dir: &tempfile::TempDir) -> Engine {
    let config = EngineConfig {
        storage_dir: dir.path().join("storage"),
        ..Default::default()
    };
    Engine::open(store, config).await.unwrap()
}

fn stored(store: &MemoryStore) -> Vec<(TokenDigest, i64)> {
    store
        .scan(
            Space::Meta,
            &MetaPrefix::RevokedTokens.range(),
            Direction::Forward,
            usize::MAX,
        )
        .unwrap()
        .into_iter()
        .map(|(k, v)| {
            let MetaKey::RevokedToken(d) = MetaKey::decode(&k).unwrap() else {
                panic!("wrong key kind");
            };
            (d, i64::from_be_bytes(v.as_slice().try_into().unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn revocations_are_checked_persisted_and_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = open(store.clone(), &dir).await;
    let now = now_secs();
    assert!(!engine.is_token_revoked(&digest(1)));
    engine
        .revoke_tokens(vec![(digest(1), now + 3600), (digest(2), now + 60)])
        .await
        .unwrap();
    // Already expired: nothing to remember.
    engine
        .revoke_tokens(vec![(digest(3), now - 10)])
        .await
        .unwrap();
    assert!(engine.is_token_revoked(&digest(1)));
    assert!(engine.is_token_revoked(&digest(2)));
    assert!(!engine.is_token_revoked(&digest(3)));
    assert!(!engine.is_token_revoked(&digest(4)));
    assert_eq!(engine.revoked_token_count(), 2);
    let mut on_disk = stored(&store);
    on_disk.sort();
    assert_eq!(
        on_disk,
        vec![(digest(1), now + 3600), (digest(2), now + 60)]
    );
    drop(engine);

    // A record that expired while the server was down is dropped at
    // start-up, in memory and on disk; the others survive the restart.
    store
        .write({
            let mut b = kalamdb_store::WriteBatch::new();
            b.put(
                Space::Meta,
                key(&digest(5)),
                (now - 5).to_be_bytes().to_vec(),
            );
            b
        })
        .unwrap();
    let engine = open(store.clone(), &dir).await;
    assert!(engine.is_token_revoked(&digest(1)));
    assert!(engine.is_token_revoked(&digest(2)));
    assert!(!engine.is_token_revoked(&digest(5)));
    assert_eq!(engine.revoked_token_count(), 2);
    assert!(!stored(&store).iter().any(|(d, _)| *d == digest(5)));
}

#[tokio::test]
async fn a_later_revocation_prunes_expired_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = open(store.clone(), &dir).await;
    let now = now_secs();
    // Placed directly, as if revoked earlier with a short lifetime left.
    engine.inner.revoked.insert_for_test(digest(7), now - 1);
    Revocations::persist(
        &engine.shared().committer,
        vec![(digest(7), now - 1)],
        Vec::new(),
    )
    .await
    .unwrap();
    engine
        .revoke_tokens(vec![(digest(8), now + 600)])
        .await
        .unwrap();
    assert!(!engine.is_token_revoked(&digest(7)));
    assert_eq!(stored(&store), vec![(digest(8), now + 600)]);
}
