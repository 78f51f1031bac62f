//! Argon2 working memory, reused while hashing is busy and given back when
//! it stops ([`with_blocks`]).
//!
//! One Argon2id hash with the OWASP parameters fills 19 MiB. Allocated per
//! call, on whichever thread runs it, those blocks ended up spread over the
//! allocator's per-thread arenas, which a long-running server never got
//! back (50 new users once cost 280 MB that stayed). Instead:
//!
//! - at most one block set per core is in use at once — as many
//!   verifications as the API lets run at once (`wire-protocol.md` §5.4); a
//!   caller beyond that waits for a set to come back (callers run on
//!   blocking threads: hashing is deliberately slow);
//! - a set that comes back is kept for the next call, so a stream of logins
//!   or `CREATE USER`s reuses the same memory instead of faulting in 19 MiB
//!   each time;
//! - sets nobody used for [`KEEP_IDLE`] are freed by a short-lived reaper
//!   thread, so a server that stopped hashing (or only hashed root's
//!   password at start) holds none. Sets are larger than the allocator's
//!   threshold for huge allocations, so freeing one returns it to the OS.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use argon2::Block;
use parking_lot::{Condvar, Mutex};

/// Blocks of one set: the default parameters' memory cost (19,456 KiB).
/// Hashes made with larger parameters get a set of their own for the call.
pub const POOLED_BLOCKS: usize = 19_456;

/// How long a set is kept after its last use. Logins a second apart reuse
/// one set; a server idle for longer gives the memory back.
pub const KEEP_IDLE: Duration = Duration::from_secs(1);

struct Pool {
    state: Mutex<State>,
    /// Signalled when a set comes back (for callers waiting for one).
    returned: Condvar,
    /// Signalled when the reaper freed the idle sets (tests wait on it).
    reaped: Condvar,
    /// Sets that may be in use at once.
    limit: usize,
    keep_idle: Duration,
}

#[derive(Default)]
struct State {
    free: Vec<Vec<Block>>,
    in_use: usize,
    /// When a set last came back; the reaper frees sets `keep_idle` after.
    last_returned: Option<Instant>,
    /// Whether a reaper thread is running (it exits once nothing is kept).
    reaping: bool,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Pool::new(cores, KEEP_IDLE)
});

/// Runs `f` with at least `blocks` Argon2 blocks of working memory, taken
/// from the pool (waiting while every set is in use) and given back after.
pub fn with_blocks<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    POOL.with_blocks(blocks, f)
}

impl Pool {
    fn new(limit: usize, keep_idle: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
            reaped: Condvar::new(),
            limit: limit.max(1),
            keep_idle,
        }
    }

    fn with_blocks<T>(&'static self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if blocks > POOLED_BLOCKS {
            // Parameters above ours (a hash imported from elsewhere): rare,
            // and not worth keeping memory for.
            return f(&mut vec![Block::default(); blocks]);
        }
        let mut set = self.take();
        let out = f(&mut set);
        self.give(set);
        out
    }

    fn take(&self) -> Vec<Block> {
        let mut state = self.state.lock();
        while state.in_use >= self.limit {
            self.returned.wait(&mut state);
        }
        state.in_use += 1;
        match state.free.pop() {
            Some(set) => set,
            None => {
                drop(state);
                // Filled by the hash before it is read: the zeroing only
                // happens once per set, not per call.
                vec![Block::default(); POOLED_BLOCKS]
            }
        }
    }

    fn give(&'static self, set: Vec<Block>) {
        let mut state = self.state.lock();
        state.in_use = state.in_use.saturating_sub(1);
        state.free.push(set);
        state.last_returned = Some(Instant::now());
        let start_reaper = !state.reaping;
        state.reaping = true;
        drop(state);
        self.returned.notify_one();
        if start_reaper {
            let spawned = std::thread::Builder::new()
                .name("argon2-reaper".into())
                .spawn(move || self.reap());
            if spawned.is_err() {
                // No thread to free them later: keep nothing now rather
                // than keep the sets for good.
                let freed = {
                    let mut state = self.state.lock();
                    state.reaping = false;
                    std::mem::take(&mut state.free)
                };
                drop(freed);
            }
        }
    }

    /// The reaper: frees the kept sets once none came back for
    /// `keep_idle`, then exits (the next [`Pool::give`] starts a new one).
    fn reap(&self) {
        let mut state = self.state.lock();
        loop {
            if state.free.is_empty() {
                state.reaping = false;
                return;
            }
            let due = state
                .last_returned
                .map_or_else(Instant::now, |at| at + self.keep_idle);
            if Instant::now() >= due {
                let freed = std::mem::take(&mut state.free);
                // Free outside the lock: returning 19 MiB per set to the
                // OS is not instant, and callers may be waiting.
                drop(state);
                drop(freed);
                self.reaped.notify_all();
                state = self.state.lock();
            } else {
                self.reaped.wait_until(&mut state, due);
            }
        }
    }

    #[cfg(test)]
    fn kept(&self) -> usize {
        self.state.lock().free.len()
    }

    /// Waits until the reaper has freed every kept set (or `timeout`).
    #[cfg(test)]
    fn wait_reaped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        while !state.free.is_empty() {
            if self.reaped.wait_until(&mut state, deadline).timed_out() {
                return state.free.is_empty();
            }
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Pools in tests live for the test binary, like the real one.
    fn pool(limit: usize, keep_idle: Duration) -> &'static Pool {
        Box::leak(Box::new(Pool::new(limit, keep_idle)))
    }

    #[test]
    fn one_set_serves_calls_one_after_another() {
        let pool = pool(4, Duration::from_secs(600));
        let ptrs: Vec<usize> = (0..3)
            .map(|_| pool.with_blocks(POOLED_BLOCKS, |b| b.as_ptr() as usize))
            .collect();
        assert!(ptrs.windows(2).all(|w| w[0] == w[1]), "{ptrs:?}");
        assert_eq!(pool.kept(), 1);
    }

    #[test]
    fn concurrent_calls_stay_within_the_limit() {
        let pool = pool(2, Duration::from_secs(600));
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (busy, most) = (busy.clone(), most.clone());
                std::thread::spawn(move || {
                    pool.with_blocks(1024, |b| {
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        busy.fetch_sub(1, Ordering::SeqCst);
                        b.len()
                    })
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), POOLED_BLOCKS);
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert!((1..=2).contains(&pool.kept()), "{}", pool.kept());
    }

    #[test]
    fn idle_sets_are_freed() {
        let pool = pool(2, Duration::from_millis(50));
        pool.with_blocks(POOLED_BLOCKS, |b| b.len());
        assert!(pool.wait_reaped(Duration::from_secs(30)), "set still kept");
        assert_eq!(pool.kept(), 0);
        // And the pool keeps working afterwards, reaping again.
        pool.with_blocks(POOLED_BLOCKS, |b| b.len());
        assert!(pool.wait_reaped(Duration::from_secs(30)), "set still kept");
    }

    #[test]
    fn larger_parameters_get_memory_of_their_own() {
        let pool = pool(1, Duration::from_secs(600));
        assert_eq!(
            pool.with_blocks(POOLED_BLOCKS + 1, |b| b.len()),
            POOLED_BLOCKS + 1
        );
        assert_eq!(pool.kept(), 0);
    }
}
