//! The commit pipeline: the one place where writes become durable.
//!
//! Every write (DML and DDL) is a [`CommitFn`] submitted to a single
//! committer thread. The thread takes all requests waiting at that moment as
//! one *group*, runs their closures one after another — each reads the
//! current state (hot store plus the group's not-yet-written overlay),
//! checks constraints, assigns `_seq` values and stages its writes — then
//! writes the whole group as one atomic batch, fsync'd once (group commit),
//! and only then answers every request in the group.
//!
//! Why one thread: `_seq` must strictly increase in commit order
//! (`wire-protocol.md` §7) and primary-key checks must see every earlier
//! write; running the closures sequentially gives both without locks, while
//! the single `write` per group lets N concurrent writers share one fsync.
//! Closures are short (point reads and encoding); scans happen before
//! submission, outside the thread.
//!
//! A request marked `exclusive` (DDL) runs alone in its own group, and its
//! `post_commit` hook (updating the in-memory catalog) runs after its write
//! is durable and before any later request's closure — so a later INSERT
//! never sees a table whose definition is not yet on disk, and never writes
//! into a table whose DROP has committed.
//!
//! A failed group write *poisons* the committer for the rest of the
//! process: that group's requests and every later request that stages a
//! write are refused with "Storage unavailable … restart the server"
//! (`INTERNAL_ERROR`). After a failed fsync the kernel may already have
//! dropped the dirty pages it could not write, so a later fsync that
//! succeeds proves nothing about the earlier data (PostgreSQL's
//! "fsyncgate"); retrying could acknowledge writes on top of a lost one.
//! Only a restart, which replays the WAL, re-establishes what is durable.
//! Requests that stage nothing (a subscription registering its watch, an
//! UPDATE matching no row) still run, and reads never pass through here,
//! so the server keeps answering queries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};

use kalamdb_store::{HotStore, MetaKey, Space, WriteBatch};
use kalamdb_types::{SeqId, SnowflakeGenerator};
use tokio::sync::oneshot;

use crate::error::{KalamError, Result};

/// What a commit closure hands back.
#[derive(Default)]
pub struct CommitReceipt {
    /// Rows affected (inserted/updated/deleted).
    pub affected: u64,
    /// Runs on the committer thread after the group is durable.
    pub post_commit: Option<Box<dyn FnOnce() + Send>>,
}

pub type CommitFn = Box<dyn FnOnce(&mut CommitContext<'_>) -> Result<CommitReceipt> + Send>;

/// A closure's view of the store during commit: reads see the store plus
/// writes staged earlier in the same group; writes are staged until the
/// group is written.
pub struct CommitContext<'a> {
    store: &'a dyn HotStore,
    seq: &'a SnowflakeGenerator,
    group: &'a HashMap<(Space, Vec<u8>), Option<Vec<u8>>>,
    local: HashMap<(Space, Vec<u8>), Option<Vec<u8>>>,
    batch: WriteBatch,
    /// Statement start time (µs) shared by every row of the statement.
    pub now_micros: i64,
    issued: std::cell::Cell<i64>,
}

impl CommitContext<'_> {
    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let k = (space, key.to_vec());
        if let Some(v) = self.local.get(&k) {
            return Ok(v.clone());
        }
        if let Some(v) = self.group.get(&k) {
            return Ok(v.clone());
        }
        Ok(self.store.get(space, key)?)
    }

    pub fn put(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.local.insert((space, key.clone()), Some(value.clone()));
        self.batch.put(space, key, value);
    }

    pub fn delete(&mut self, space: Space, key: Vec<u8>) {
        self.local.insert((space, key.clone()), None);
        self.batch.delete(space, key);
    }

    /// Range deletes bypass the overlay, so only exclusive requests (which
    /// run alone) may use them.
    pub fn delete_range(&mut self, space: Space, range: kalamdb_store::KeyRange) {
        self.batch.delete_range(space, range);
    }

    /// The next `_seq` (also used for `SNOWFLAKE_ID()` defaults and row ids).
    pub fn next_seq(&self) -> SeqId {
        let id = self.seq.next_id();
        self.issued.set(id.as_i64());
        id
    }

    pub fn store(&self) -> &dyn HotStore {
        self.store
    }
}

/// Where the largest `_seq` ever committed is kept, written with every group
/// that issued one, so start-up can seed the generator in O(1).
fn high_water_key() -> Vec<u8> {
    MetaKey::Setting("seq_high_water".into()).encode()
}

/// The largest `_seq` committed before this start.
pub fn load_high_water(store: &dyn HotStore) -> Result<SeqId> {
    let Some(bytes) = store.get(Space::Meta, &high_water_key())? else {
        return Ok(SeqId::ZERO);
    };
    let arr: [u8; 8] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KalamError::internal("corrupt seq high-water mark"))?;
    Ok(SeqId(i64::from_be_bytes(arr)))
}

struct Request {
    f: CommitFn,
    exclusive: bool,
    now_micros: i64,
    reply: oneshot::Sender<Result<u64>>,
}

/// Counters for tests and `system.stats`: `groups < requests` under
/// concurrency is group commit at work.
#[derive(Debug, Default)]
pub struct CommitStats {
    pub groups: AtomicU64,
    pub requests: AtomicU64,
}

/// Handle to the committer thread. Dropping every handle stops the thread
/// after it drains its queue.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Request>,
    stats: Arc<CommitStats>,
    /// The first failed write's error, once there was one (see the module
    /// docs): set once, never cleared.
    poison: Arc<OnceLock<String>>,
}

/// Bound on one group, so a burst cannot build an unbounded batch.
const MAX_GROUP: usize = 512;

impl Committer {
    pub fn start(store: Arc<dyn HotStore>, seq: Arc<SnowflakeGenerator>) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Request>();
        let stats = Arc::new(CommitStats::default());
        let poison = Arc::new(OnceLock::new());
        let committer = Pipeline {
            store,
            seq,
            stats: stats.clone(),
            poison: poison.clone(),
        };
        std::thread::Builder::new()
            .name("kalamdb-committer".into())
            .spawn(move || run(rx, &committer))
            .map_err(KalamError::internal)?;
        Ok(Self { tx, stats, poison })
    }

    pub fn stats(&self) -> &CommitStats {
        &self.stats
    }

    /// True once a group write has failed: writes are refused until the
    /// server restarts.
    pub fn storage_failed(&self) -> bool {
        self.poison.get().is_some()
    }

    /// The error of the write that poisoned the committer, if one did.
    pub fn storage_failure(&self) -> Option<&str> {
        self.poison.get().map(String::as_str)
    }

    /// Submits a write and waits until it is durable (or failed). Returns
    /// the receipt's `affected` count.
    pub async fn commit(&self, exclusive: bool, now_micros: i64, f: CommitFn) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                f,
                exclusive,
                now_micros,
                reply,
            })
            .map_err(|_| KalamError::internal("the committer has stopped"))?;
        rx.await
            .map_err(|_| KalamError::internal("the committer dropped a request"))?
    }
}

struct Staged {
    reply: oneshot::Sender<Result<u64>>,
    outcome: Result<u64>,
    post_commit: Option<Box<dyn FnOnce() + Send>>,
}

/// What the committer thread owns.
struct Pipeline {
    store: Arc<dyn HotStore>,
    seq: Arc<SnowflakeGenerator>,
    stats: Arc<CommitStats>,
    poison: Arc<OnceLock<String>>,
}

/// The answer to a write staged after the committer was poisoned.
fn refused(cause: &str) -> KalamError {
    KalamError::Internal(format!(
        "Storage unavailable: writes are refused after a failed write ({cause}); restart the server"
    ))
}

fn run(rx: mpsc::Receiver<Request>, pipeline: &Pipeline) {
    let mut pending: Option<Request> = None;
    loop {
        let first = match pending.take() {
            Some(r) => r,
            None => match rx.recv() {
                Ok(r) => r,
                Err(_) => return,
            },
        };
        let mut group = vec![first];
        if !group.iter().any(|r| r.exclusive) {
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    // An exclusive request waits for the next group so it runs alone.
                    Ok(r) if r.exclusive => {
                        pending = Some(r);
                        break;
                    }
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
        }
        commit_group(group, pipeline);
    }
}

fn commit_group(group: Vec<Request>, pipeline: &Pipeline) {
    let store = pipeline.store.as_ref();
    let poisoned = pipeline.poison.get();
    let mut overlay: HashMap<(Space, Vec<u8>), Option<Vec<u8>>> = HashMap::new();
    let mut batch = WriteBatch::default();
    let mut staged = Vec::with_capacity(group.len());
    let mut high_water = 0i64;
    for req in group {
        let mut ctx = CommitContext {
            store,
            seq: &pipeline.seq,
            group: &overlay,
            local: HashMap::new(),
            batch: WriteBatch::default(),
            now_micros: req.now_micros,
            issued: std::cell::Cell::new(0),
        };
        // A panicking closure must not take the committer (and so every
        // later write) down with it.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (req.f)(&mut ctx)))
            .unwrap_or_else(|_| Err(KalamError::internal("a commit closure panicked")));
        match result {
            Ok(_) if poisoned.is_some() && !ctx.batch.is_empty() => {
                let cause = poisoned.map(String::as_str).unwrap_or_default();
                staged.push(Staged {
                    reply: req.reply,
                    outcome: Err(refused(cause)),
                    post_commit: None,
                });
            }
            Ok(receipt) => {
                high_water = high_water.max(ctx.issued.get());
                let CommitContext {
                    local,
                    batch: local_batch,
                    ..
                } = ctx;
                overlay.extend(local);
                batch.extend(local_batch);
                staged.push(Staged {
                    reply: req.reply,
                    outcome: Ok(receipt.affected),
                    post_commit: receipt.post_commit,
                });
            }
            Err(e) => staged.push(Staged {
                reply: req.reply,
                outcome: Err(e),
                post_commit: None,
            }),
        }
    }
    if high_water > 0 {
        batch.put(
            Space::Meta,
            high_water_key(),
            high_water.to_be_bytes().to_vec(),
        );
    }
    let write_result = if batch.is_empty() {
        Ok(())
    } else {
        store.write(batch)
    };
    let stats = &pipeline.stats;
    stats.groups.fetch_add(1, Ordering::Relaxed);
    stats
        .requests
        .fetch_add(staged.len() as u64, Ordering::Relaxed);
    match write_result {
        Ok(()) => {
            for s in staged {
                if s.outcome.is_ok()
                    && let Some(hook) = s.post_commit
                {
                    hook();
                }
                let _ = s.reply.send(s.outcome);
            }
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "group commit failed; writes are refused until the server restarts"
            );
            let msg = e.to_string();
            let _ = pipeline.poison.set(msg.clone());
            for s in staged {
                let outcome = match s.outcome {
                    Ok(_) => Err(KalamError::Internal(format!(
                        "Storage unavailable: the write failed ({msg}); writes are refused until the server restarts"
                    ))),
                    Err(err) => Err(err),
                };
                let _ = s.reply.send(outcome);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::mpsc as std_mpsc;

    use kalamdb_store::{Direction, FaultyStore, KeyRange, KvPair, MemoryStore, StoreError};

    use super::*;

    /// A store whose first write blocks until the test opens the gate, so
    /// requests provably queue up behind a group that is being written.
    struct GatedStore {
        inner: MemoryStore,
        entered: parking_lot::Mutex<Option<std_mpsc::Sender<()>>>,
        gate: parking_lot::Mutex<Option<std_mpsc::Receiver<()>>>,
        writes: AtomicU64,
    }

    impl HotStore for GatedStore {
        fn get(
            &self,
            space: Space,
            key: &[u8],
        ) -> std::result::Result<Option<Vec<u8>>, StoreError> {
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
    }

    fn put(i: u8) -> CommitFn {
        Box::new(move |ctx| {
            ctx.put(Space::Rows, vec![i], vec![i]);
            Ok(CommitReceipt {
                affected: 1,
                post_commit: None,
            })
        })
    }

    #[tokio::test]
    async fn requests_queued_behind_a_write_share_the_next_group() {
        let (entered_tx, entered_rx) = std_mpsc::channel();
        let (gate_tx, gate_rx) = std_mpsc::channel();
        let store = Arc::new(GatedStore {
            inner: MemoryStore::new(),
            entered: parking_lot::Mutex::new(Some(entered_tx)),
            gate: parking_lot::Mutex::new(Some(gate_rx)),
            writes: AtomicU64::new(0),
        });
        let committer =
            Committer::start(store.clone(), Arc::new(SnowflakeGenerator::new(0))).unwrap();
        let first = tokio::spawn({
            let c = committer.clone();
            async move { c.commit(false, 0, put(0)).await }
        });
        // The first group is inside `write`, held there.
        tokio::task::spawn_blocking(move || entered_rx.recv().unwrap())
            .await
            .unwrap();
        // Nine more requests: a commit is queued on its first poll.
        let mut rest: Vec<_> = (1..10u8)
            .map(|i| Box::pin(committer.commit(false, 0, put(i))))
            .collect();
        for f in &mut rest {
            assert!(futures::poll!(f.as_mut()).is_pending());
        }
        gate_tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        for f in rest {
            assert_eq!(f.await.unwrap(), 1);
        }
        let stats = committer.stats();
        assert_eq!(stats.requests.load(Ordering::SeqCst), 10);
        assert_eq!(
            stats.groups.load(Ordering::SeqCst),
            2,
            "nine writers, one sync"
        );
        assert_eq!(store.writes.load(Ordering::SeqCst), 2);
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
        let mem = Arc::new(MemoryStore::new());
        let (store, switch) = FaultyStore::wrap(mem.clone());
        let committer = Committer::start(store, Arc::new(SnowflakeGenerator::new(0))).unwrap();
        assert_eq!(committer.commit(false, 0, put(1)).await.unwrap(), 1);
        assert!(!committer.storage_failed());

        switch.fail_sync();
        let first = message(committer.commit(false, 0, put(2)).await);
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
                .commit(
                    true,
                    0,
                    Box::new(move |ctx| {
                        ctx.put(Space::Meta, vec![9], vec![9]);
                        Ok(CommitReceipt {
                            affected: 1,
                            post_commit: Some(Box::new(move || flag.store(true, Ordering::SeqCst))),
                        })
                    }),
                )
                .await,
        );
        assert_eq!(
            later,
            "Internal error: Storage unavailable: writes are refused after a failed write \
             (storage write failed: injected fsync failure); restart the server"
        );
        assert!(message(committer.commit(false, 0, put(3)).await).contains("refused"));
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
            .commit(
                false,
                0,
                Box::new(|ctx| {
                    assert_eq!(ctx.get(Space::Rows, &[1])?, Some(vec![1]));
                    Ok(CommitReceipt::default())
                }),
            )
            .await;
        assert_eq!(read_only.unwrap(), 0);
        // A closure's own error is still its own.
        let own = committer
            .commit(
                false,
                0,
                Box::new(|_| Err(KalamError::exec("Duplicate primary key value '1'"))),
            )
            .await
            .unwrap_err();
        assert_eq!(own.to_string(), "Duplicate primary key value '1'");
    }

    #[tokio::test]
    async fn a_failed_write_applies_nothing_of_its_group() {
        let mem = Arc::new(MemoryStore::new());
        let (store, switch) = FaultyStore::wrap(mem.clone());
        let committer = Committer::start(store, Arc::new(SnowflakeGenerator::new(0))).unwrap();
        switch.fail_writes();
        let seq_put: CommitFn = Box::new(|ctx| {
            let id = ctx.next_seq();
            ctx.put(Space::Rows, vec![5], id.as_i64().to_be_bytes().to_vec());
            Ok(CommitReceipt {
                affected: 1,
                post_commit: None,
            })
        });
        let err = message(committer.commit(false, 0, seq_put).await);
        assert!(err.contains("injected write failure"), "{err}");
        assert!(mem.is_empty(Space::Rows));
        assert!(
            mem.is_empty(Space::Meta),
            "not even the seq high-water mark"
        );
        assert_eq!(switch.writes_failed(), 1);
        assert!(committer.storage_failed());
    }
}
