//! Tests of the commit pipeline alone: group commit, poisoning.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use kalamdb_store::HotRead as _;
use std::sync::mpsc as std_mpsc;

use kalamdb_store::{Direction, FaultyStore, KeyRange, KvPair, MemoryStore, StoreError};

use super::*;
use crate::write::changes::NoChanges;

/// A store whose first write blocks until the test opens the gate, so
/// requests provably queue up behind a group that is being written.
struct GatedStore {
    inner: MemoryStore,
    entered: parking_lot::Mutex<Option<std_mpsc::Sender<()>>>,
    gate: parking_lot::Mutex<Option<std_mpsc::Receiver<()>>>,
    writes: AtomicU64,
}

impl kalamdb_store::HotRead for GatedStore {
    fn get(&self, space: Space, key: &[u8]) -> std::result::Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }
    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> std::result::Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.multi_get(space, keys)
    }
    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> std::result::Result<Vec<KvPair>, StoreError> {
        self.inner.scan(space, range, direction, limit)
    }
}

impl HotStore for GatedStore {
    fn write(&self, batch: WriteBatch) -> std::result::Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(entered) = self.entered.lock().take() {
            let _ = entered.send(());
        }
        if let Some(gate) = self.gate.lock().take() {
            let _ = gate.recv();
        }
        self.inner.write(batch)
    }
    fn approximate_size(
        &self,
        space: Space,
        range: &KeyRange,
    ) -> std::result::Result<u64, StoreError> {
        self.inner.approximate_size(space, range)
    }
    fn is_durable(&self) -> bool {
        true
    }
    /// Reads go on being counted; no test of this store writes while
    /// it reads, so the live store serves as its own snapshot.
    fn snapshot(
        self: Arc<Self>,
    ) -> std::result::Result<Arc<dyn kalamdb_store::HotRead>, StoreError> {
        Ok(self)
    }
}

fn put(i: u8) -> impl FnOnce(&mut CommitContext<'_>) -> Result<u64> + Send + 'static {
    move |ctx| {
        ctx.put(Space::Rows, vec![i], vec![i]);
        Ok(1)
    }
}

/// Nine requests arriving while a group is being written (held inside the
/// store's write) are committed together in the next group, by the
/// committer thread: ten writers, two syncs. Returns the thread that
/// committed the first request.
async fn requests_queued_behind_a_write() -> String {
    let (entered_tx, entered_rx) = std_mpsc::channel();
    let (gate_tx, gate_rx) = std_mpsc::channel();
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        entered: parking_lot::Mutex::new(Some(entered_tx)),
        gate: parking_lot::Mutex::new(Some(gate_rx)),
        writes: AtomicU64::new(0),
    });
    let committer = Committer::start(
        store.clone(),
        Arc::new(SnowflakeGenerator::new(0)),
        Arc::new(NoChanges),
    )
    .unwrap();
    let named = |i: u8| move |ctx: &mut CommitContext<'_>| Ok((put(i)(ctx)?, thread_name()));
    let first = tokio::spawn({
        let c = committer.clone();
        async move { c.write(named(0)).await }
    });
    // The first group is inside `write`, held there.
    tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
        .await
        .unwrap();
    // Nine more requests: a commit is queued on its first poll.
    let mut rest: Vec<_> = (1..10u8)
        .map(|i| Box::pin(committer.write(named(i))))
        .collect();
    for f in &mut rest {
        assert!(futures::poll!(f.as_mut()).is_pending());
    }
    gate_tx.send(()).unwrap();
    let (n, first_thread) = first.await.unwrap().unwrap();
    assert_eq!(n, 1);
    for f in rest {
        assert_eq!(f.await.unwrap(), (1, "kalamdb-committer".to_string()));
    }
    let stats = committer.stats();
    assert_eq!(stats.requests.load(Ordering::SeqCst), 10);
    assert_eq!(
        stats.groups.load(Ordering::SeqCst),
        2,
        "nine writers, one sync"
    );
    assert_eq!(store.writes.load(Ordering::SeqCst), 2);
    first_thread
}

#[tokio::test]
async fn requests_queued_behind_a_write_share_the_next_group() {
    assert_eq!(requests_queued_behind_a_write().await, "kalamdb-committer");
}

/// The same when the first writer found the pipeline idle and commits its
/// own group on its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_behind_a_writer_committing_itself_share_the_next_group() {
    assert_ne!(requests_queued_behind_a_write().await, "kalamdb-committer");
}

fn message(r: Result<u64>) -> String {
    match r {
        Ok(n) => panic!("acknowledged ({n})"),
        Err(e) => {
            assert_eq!(e.code(), kalamdb_types::ErrorCode::InternalError, "{e}");
            e.to_string()
        }
    }
}

#[tokio::test]
async fn a_failed_fsync_poisons_the_committer_until_restart() {
    failed_fsync_poisons().await;
}

/// The same on a multi-threaded runtime, where a writer finding the
/// pipeline idle commits its group of one itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fsync_poisons_the_committer_also_when_the_writer_commits() {
    failed_fsync_poisons().await;
}

async fn failed_fsync_poisons() {
    let mem = Arc::new(MemoryStore::new());
    let (store, switch) = FaultyStore::wrap(mem.clone());
    let committer = Committer::start(
        store,
        Arc::new(SnowflakeGenerator::new(0)),
        Arc::new(NoChanges),
    )
    .unwrap();
    assert_eq!(committer.write(put(1)).await.unwrap(), 1);
    assert!(!committer.storage_failed());

    switch.fail_sync();
    let first = message(committer.write(put(2)).await);
    assert_eq!(
        first,
        "Internal error: Storage unavailable: the write failed (storage write failed: \
         injected fsync failure); writes are refused until the server restarts"
    );
    // The dangerous case: applied, visible, yet never acknowledged.
    assert_eq!(mem.get(Space::Rows, &[2]).unwrap(), Some(vec![2]));
    assert!(committer.storage_failed());
    assert_eq!(
        committer.storage_failure(),
        Some("storage write failed: injected fsync failure")
    );

    // A healthy device again proves nothing: still refused, not written.
    switch.heal();
    let attempts = switch.writes_attempted();
    let hook_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = hook_ran.clone();
    let later = message(
        committer
            .exclusive(move |ctx| {
                ctx.put(Space::Meta, vec![9], vec![9]);
                ctx.after_commit(move || flag.store(true, Ordering::SeqCst));
                Ok(1u64)
            })
            .await,
    );
    assert_eq!(
        later,
        "Internal error: Storage unavailable: writes are refused after a failed write \
         (storage write failed: injected fsync failure); restart the server"
    );
    assert!(message(committer.write(put(3)).await).contains("refused"));
    assert!(
        !hook_ran.load(Ordering::SeqCst),
        "no post-commit for a refused write"
    );
    assert_eq!(
        switch.writes_attempted(),
        attempts,
        "nothing reached the store"
    );
    assert_eq!(mem.get(Space::Rows, &[3]).unwrap(), None);
    assert_eq!(mem.get(Space::Meta, &[9]).unwrap(), None);

    // A request that stages nothing still runs (and its hook too).
    let read_only = committer
        .write(|ctx| {
            assert_eq!(ctx.get(Space::Rows, &[1])?, Some(vec![1]));
            Ok(0u64)
        })
        .await;
    assert_eq!(read_only.unwrap(), 0);
    // A closure's own error is still its own.
    let own = committer
        .write(|_| Err::<u64, _>(KalamError::exec("Duplicate primary key value '1'")))
        .await
        .unwrap_err();
    assert_eq!(own.to_string(), "Duplicate primary key value '1'");
}

#[tokio::test]
async fn a_failed_write_applies_nothing_of_its_group() {
    let mem = Arc::new(MemoryStore::new());
    let (store, switch) = FaultyStore::wrap(mem.clone());
    let committer = Committer::start(
        store,
        Arc::new(SnowflakeGenerator::new(0)),
        Arc::new(NoChanges),
    )
    .unwrap();
    switch.fail_writes();
    let seq_put = |ctx: &mut CommitContext<'_>| {
        let id = ctx.next_seq();
        ctx.put(Space::Rows, vec![5], id.as_i64().to_be_bytes().to_vec());
        Ok(1u64)
    };
    let err = message(committer.write(seq_put).await);
    assert!(err.contains("injected write failure"), "{err}");
    assert!(mem.is_empty(Space::Rows));
    assert!(
        mem.is_empty(Space::Meta),
        "not even the seq high-water mark"
    );
    assert_eq!(switch.writes_failed(), 1);
    assert!(committer.storage_failed());
}

/// Which thread ran a commit closure.
fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or_default()
        .to_string()
}

/// On a multi-threaded runtime a writer that finds the pipeline idle runs
/// its own group on its own thread (no hand-off); DDL (exclusive) still
/// goes to the committer thread; `_seq` keeps increasing across both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_pipeline_lets_the_writer_commit_itself() {
    let store = Arc::new(MemoryStore::new());
    let committer = Committer::start(
        store.clone(),
        Arc::new(SnowflakeGenerator::new(0)),
        Arc::new(NoChanges),
    )
    .unwrap();
    let mut seqs = Vec::new();
    for i in 0..5u8 {
        let (name, seq) = committer
            .write(move |ctx| {
                ctx.put(Space::Rows, vec![i], vec![i]);
                Ok((thread_name(), ctx.next_seq().as_i64()))
            })
            .await
            .unwrap();
        assert_ne!(name, "kalamdb-committer", "write {i} was handed off");
        seqs.push(seq);
    }
    let (name, seq) = committer
        .exclusive(|ctx| Ok((thread_name(), ctx.next_seq().as_i64())))
        .await
        .unwrap();
    assert_eq!(name, "kalamdb-committer");
    seqs.push(seq);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(committer.stats().groups.load(Ordering::SeqCst), 6);
    for i in 0..5u8 {
        assert_eq!(store.get(Space::Rows, &[i]).unwrap(), Some(vec![i]));
    }
}
