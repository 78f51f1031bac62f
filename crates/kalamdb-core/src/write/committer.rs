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
//! A request that finds the pipeline idle and nobody queued commits on its
//! own thread, as a group of one (`Committer::submit`): a sequential writer
//! then pays no hand-off to the committer thread and back (two thread
//! wake-ups, about 0.05 ms on this 2-core machine, a sixth of a durable
//! single-row INSERT). Only one group is ever being committed (`busy`), so
//! commit order, `_seq` order, hooks and publication order stay those of
//! one thread; the committer thread takes everything that queues meanwhile.
//! On a current-thread runtime (tests) and for exclusive requests, which
//! may scan, the thread always commits.
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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Condvar, Mutex};

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

/// Handle to the commit pipeline. Dropping every handle stops the
/// committer thread after it drains its queue.
#[derive(Clone)]
pub struct Committer {
    queue: Arc<Queue>,
    pipeline: Arc<Pipeline>,
    stats: Arc<CommitStats>,
    /// The first failed write's error, once there was one (see the module
    /// docs): set once, never cleared.
    poison: Arc<OnceLock<String>>,
    /// Closes the queue when the last handle goes.
    _closer: Arc<Closer>,
}

/// Requests waiting for a group, and whether a group is being committed.
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when a request is queued, a group ends, or the queue closes.
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<Request>,
    /// A group is being committed (by the thread or by a submitter).
    busy: bool,
    /// Every handle is gone: the thread drains the queue and stops.
    closed: bool,
}

struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.state.lock().closed = true;
        self.0.changed.notify_all();
    }
}

/// Ends a group committed by a submitter, also if it panicked: the
/// pipeline is free again, and the thread takes what queued meanwhile.
struct Release<'a>(&'a Queue);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.state.lock().busy = false;
        self.0.changed.notify_all();
    }
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
        let stats = Arc::new(CommitStats::default());
        let poison = Arc::new(OnceLock::new());
        let pipeline = Arc::new(Pipeline {
            store,
            seq,
            sink,
            stats: stats.clone(),
            poison: poison.clone(),
        });
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            changed: Condvar::new(),
        });
        let (q, p) = (queue.clone(), pipeline.clone());
        std::thread::Builder::new()
            .name("kalamdb-committer".into())
            .spawn(move || run(&q, &p))
            .map_err(KalamError::internal)?;
        Ok(Self {
            _closer: Arc::new(Closer(queue.clone())),
            queue,
            pipeline,
            stats,
            poison,
        })
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
        let request = Request {
            job,
            exclusive,
            now_micros: kalamdb_types::now_micros(),
        };
        // Commit here when nothing else is being committed or waits, on a
        // runtime whose other workers keep serving meanwhile.
        let inline = !exclusive
            && tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let own = {
            let mut st = self.queue.state.lock();
            if st.closed {
                return Err(KalamError::internal("the committer has stopped"));
            }
            if inline && !st.busy && st.waiting.is_empty() {
                st.busy = true;
                Some(request)
            } else {
                st.waiting.push_back(request);
                self.queue.changed.notify_all();
                None
            }
        };
        if let Some(request) = own {
            let _release = Release(&self.queue);
            commit_group(vec![request], &self.pipeline);
        }
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

/// The committer thread: takes every request waiting once the pipeline is
/// free as one group (an exclusive one alone), until the queue is closed
/// and empty.
fn run(queue: &Queue, pipeline: &Pipeline) {
    loop {
        let group = {
            let mut st = queue.state.lock();
            loop {
                if !st.busy && !st.waiting.is_empty() {
                    break;
                }
                if st.closed && !st.busy && st.waiting.is_empty() {
                    return;
                }
                queue.changed.wait(&mut st);
            }
            let mut group = Vec::new();
            while group.len() < MAX_GROUP {
                let Some(next) = st.waiting.front() else {
                    break;
                };
                // An exclusive request runs alone: it ends a group, or is one.
                if next.exclusive && !group.is_empty() {
                    break;
                }
                let Some(r) = st.waiting.pop_front() else {
                    break;
                };
                let exclusive = r.exclusive;
                group.push(r);
                if exclusive {
                    break;
                }
            }
            st.busy = true;
            group
        };
        commit_group(group, pipeline);
        queue.state.lock().busy = false;
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
