//! The commit pipeline: the one place where writes become durable.
//!
//! Every write (DML and DDL) is a closure submitted to a single committer
//! thread with [`Committer::write`] or [`Committer::exclusive`]. The thread
//! takes all requests waiting at that moment as one *group*, runs their
//! closures one after another — each reads the current state (hot store
//! plus the group's not-yet-written overlay), checks constraints, assigns
//! `_seq` values and stages its writes — then writes the whole group as one
//! atomic batch, fsync'd once (group commit), and only then answers every
//! request in the group with the value its closure returned.
//!
//! Why one thread: `_seq` must strictly increase in commit order
//! (`wire-protocol.md` §7) and primary-key checks must see every earlier
//! write; running the closures sequentially gives both without locks, while
//! the single `write` per group lets N concurrent writers share one fsync.
//! Closures are short (point reads and encoding); scans happen before
//! submission, outside the thread.
//!
//! An *exclusive* request (DDL) runs alone in its own group, and its
//! after-commit hooks (updating the in-memory catalog) run after its write
//! is durable and before any later request's closure — so a later INSERT
//! never sees a table whose definition is not yet on disk, and never writes
//! into a table whose DROP has committed. After a group is durable, in
//! commit order, each request's recorded row changes go to the live engine
//! (see `context.rs`), then its hooks run, then it is answered.
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};

use kalamdb_store::{HotStore, MetaKey, Space, WriteBatch};
use kalamdb_types::{SeqId, SnowflakeGenerator};
use tokio::sync::oneshot;

use crate::error::{KalamError, Result};
use crate::write::changes::ChangeSink;
use crate::write::context::{CommitContext, Overlay, Staged};

/// Hands a request its outcome once the group's write is done (`Ok`) or
/// failed (`Err`).
type Deliver = Box<dyn FnOnce(Result<()>) + Send>;

/// A request's closure, wrapped: `None` when it failed (it has answered).
type Job = Box<dyn FnOnce(&mut CommitContext<'_>) -> Option<Deliver> + Send>;

struct Request {
    job: Job,
    exclusive: bool,
    now_micros: i64,
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
    /// Starts the committer thread; `sink` receives the row changes of
    /// every durable commit.
    pub fn start(
        store: Arc<dyn HotStore>,
        seq: Arc<SnowflakeGenerator>,
        sink: Arc<dyn ChangeSink>,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Request>();
        let stats = Arc::new(CommitStats::default());
        let poison = Arc::new(OnceLock::new());
        let pipeline = Pipeline {
            store,
            seq,
            sink,
            stats: stats.clone(),
            poison: poison.clone(),
        };
        std::thread::Builder::new()
            .name("kalamdb-committer".into())
            .spawn(move || run(rx, &pipeline))
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

    /// Runs `f` in the next group and returns what it returned once its
    /// writes are durable (or the error of `f`, or of the write).
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut CommitContext<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.submit(false, f).await
    }

    /// [`Self::write`] in a group of its own: nothing else commits between
    /// it and its after-commit hooks (DDL).
    pub async fn exclusive<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut CommitContext<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.submit(true, f).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        exclusive: bool,
        f: impl FnOnce(&mut CommitContext<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |ctx| match f(ctx) {
            Ok(value) => Some(Box::new(move |written: Result<()>| {
                let _ = reply.send(written.map(|()| value));
            })),
            Err(e) => {
                let _ = reply.send(Err(e));
                None
            }
        });
        self.tx
            .send(Request {
                job,
                exclusive,
                now_micros: kalamdb_types::now_micros(),
            })
            .map_err(|_| KalamError::internal("the committer has stopped"))?;
        // The reply is dropped unanswered only when the closure panicked
        // (the pipeline catches the panic and carries on).
        rx.await
            .map_err(|_| KalamError::internal("a commit closure panicked"))?
    }
}

/// What the committer thread owns.
struct Pipeline {
    store: Arc<dyn HotStore>,
    seq: Arc<SnowflakeGenerator>,
    sink: Arc<dyn ChangeSink>,
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

/// A request whose closure succeeded, waiting for the group's write.
struct Accepted {
    deliver: Deliver,
    hooks: Vec<Box<dyn FnOnce() + Send>>,
    changes: Vec<crate::write::changes::ChangeSet>,
}

fn commit_group(group: Vec<Request>, pipeline: &Pipeline) {
    let store = pipeline.store.as_ref();
    let poisoned = pipeline.poison.get();
    let mut overlay = Overlay::new();
    let mut batch = WriteBatch::default();
    let mut accepted = Vec::with_capacity(group.len());
    let mut high_water = 0i64;
    let requests = group.len() as u64;
    for req in group {
        let mut ctx = CommitContext::new(
            store,
            &pipeline.seq,
            pipeline.sink.as_ref(),
            &overlay,
            req.now_micros,
        );
        // A panicking closure must not take the committer (and so every
        // later write) down with it; its request is answered by the drop of
        // its reply channel.
        let job = req.job;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ctx)))
            .unwrap_or(None);
        let Some(deliver) = outcome else { continue };
        if let Some(cause) = poisoned
            && ctx.stages_writes()
        {
            deliver(Err(refused(cause)));
            continue;
        }
        let Staged {
            batch: staged,
            local,
            issued,
            hooks,
            changes,
        } = ctx.into_staged();
        high_water = high_water.max(issued);
        overlay.extend(local);
        batch.extend(staged);
        accepted.push(Accepted {
            deliver,
            hooks,
            changes,
        });
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
    stats.requests.fetch_add(requests, Ordering::Relaxed);
    match write_result {
        Ok(()) => {
            for a in accepted {
                for set in a.changes {
                    pipeline.sink.publish(set);
                }
                for hook in a.hooks {
                    hook();
                }
                (a.deliver)(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "group commit failed; writes are refused until the server restarts"
            );
            let msg = e.to_string();
            let _ = pipeline.poison.set(msg.clone());
            for a in accepted {
                (a.deliver)(Err(KalamError::Internal(format!(
                    "Storage unavailable: the write failed ({msg}); writes are refused until the server restarts"
                ))));
            }
        }
    }
}

#[cfg(test)]
mod tests;
