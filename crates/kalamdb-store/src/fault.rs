//! [`FaultyStore`]: a [`HotStore`] wrapper that makes writes fail on
//! command, so the engine's and the server's answers to a broken disk can be
//! tested without one.
//!
//! Two failures matter and they differ in what the disk holds afterwards:
//! a failed *write* (nothing of the batch is applied) and a failed *fsync*
//! (the batch is applied, so readers see it, but nobody knows whether it is
//! durable — the dangerous case: the only honest answer is an error, and the
//! data may or may not be there after a restart). A [`FaultSwitch`], cloned
//! out before the store is handed to the engine, arms either at run time.
//! Once a fault fires, the switch stays tripped and every later write fails
//! the same way until [`FaultSwitch::heal`], as a broken device would.
//!
//! Test instrumentation: production wiring never builds one. Reads always
//! pass through.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::error::StoreError;
use crate::store::{Direction, HotRead, HotStore, KeyRange, KvPair, Space, WriteBatch};

/// How an injected failure behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The batch is not applied and `write` returns "injected write failure".
    Write,
    /// The batch is applied to the inner store, then `write` returns
    /// "injected fsync failure": visible, but not known to be durable.
    Sync,
}

impl Fault {
    /// The error a write suffering this fault returns; `MemoryStore`'s
    /// armed failures return the `Write` one too, so tests see one message.
    pub(crate) fn error(self) -> StoreError {
        StoreError::Io {
            op: "write",
            message: match self {
                Fault::Write => "injected write failure",
                Fault::Sync => "injected fsync failure",
            }
            .to_string(),
        }
    }
}

const HEALTHY: u8 = 0;
const ARMED: u8 = 1;
const TRIPPED: u8 = 2;

type BatchFilter = Box<dyn Fn(&WriteBatch) -> bool + Send + Sync>;

struct Plan {
    fault: Fault,
    /// Successful writes still allowed before the fault fires.
    after: u64,
    /// Only a batch this accepts fires the fault (`None`: any batch).
    filter: Option<BatchFilter>,
}

#[derive(Default)]
struct SwitchState {
    state: AtomicU8,
    plan: Mutex<Option<Plan>>,
    attempted: AtomicU64,
    failed: AtomicU64,
}

/// The control handle of a [`FaultyStore`]; cheap to clone, shared with the
/// store it came from.
#[derive(Clone, Default)]
pub struct FaultSwitch(Arc<SwitchState>);

impl std::fmt::Debug for FaultSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultSwitch")
            .field("state", &self.0.state.load(Ordering::SeqCst))
            .field("attempted", &self.writes_attempted())
            .field("failed", &self.writes_failed())
            .finish()
    }
}

impl FaultSwitch {
    /// A healthy switch, to hand to [`FaultyStore::new`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Every write from now on fails without being applied.
    pub fn fail_writes(&self) {
        self.arm(Fault::Write, 0, None);
    }

    /// Every write from now on is applied and then reported as failed.
    pub fn fail_sync(&self) {
        self.arm(Fault::Sync, 0, None);
    }

    /// `fault` fires once `n` more writes have succeeded.
    pub fn fail_after(&self, n: u64, fault: Fault) {
        self.arm(fault, n, None);
    }

    /// `fault` fires at the first write whose batch `filter` accepts (e.g.
    /// the one that deletes rows: a flush's commit); other writes succeed
    /// until then.
    pub fn fail_when(
        &self,
        fault: Fault,
        filter: impl Fn(&WriteBatch) -> bool + Send + Sync + 'static,
    ) {
        self.arm(fault, 0, Some(Box::new(filter)));
    }

    /// Disarms: writes pass through again.
    pub fn heal(&self) {
        let mut plan = self.0.plan.lock();
        *plan = None;
        self.0.state.store(HEALTHY, Ordering::SeqCst);
    }

    /// True once a fault has fired (until [`FaultSwitch::heal`]).
    pub fn is_tripped(&self) -> bool {
        self.0.state.load(Ordering::SeqCst) == TRIPPED
    }

    /// Writes handed to the store, failed or not.
    pub fn writes_attempted(&self) -> u64 {
        self.0.attempted.load(Ordering::SeqCst)
    }

    /// Writes that returned an injected error.
    pub fn writes_failed(&self) -> u64 {
        self.0.failed.load(Ordering::SeqCst)
    }

    fn arm(&self, fault: Fault, after: u64, filter: Option<BatchFilter>) {
        let mut plan = self.0.plan.lock();
        *plan = Some(Plan {
            fault,
            after,
            filter,
        });
        self.0.state.store(ARMED, Ordering::SeqCst);
    }

    /// The fault this write must suffer, if any. Counts the write.
    fn decide(&self, batch: &WriteBatch) -> Option<Fault> {
        self.0.attempted.fetch_add(1, Ordering::SeqCst);
        if self.0.state.load(Ordering::SeqCst) == HEALTHY {
            return None;
        }
        let mut plan = self.0.plan.lock();
        let p = plan.as_mut()?;
        if self.0.state.load(Ordering::SeqCst) == ARMED {
            if p.filter.as_ref().is_some_and(|f| !f(batch)) {
                return None;
            }
            if p.after > 0 {
                p.after -= 1;
                return None;
            }
            self.0.state.store(TRIPPED, Ordering::SeqCst);
        }
        self.0.failed.fetch_add(1, Ordering::SeqCst);
        Some(p.fault)
    }
}

/// A [`HotStore`] whose writes fail when its [`FaultSwitch`] says so; see
/// the module docs.
pub struct FaultyStore {
    inner: Arc<dyn HotStore>,
    switch: FaultSwitch,
}

impl FaultyStore {
    /// Wraps `inner`, controlled by `switch` (keep a clone of it).
    pub fn new(inner: Arc<dyn HotStore>, switch: FaultSwitch) -> Self {
        FaultyStore { inner, switch }
    }

    /// Wraps `inner`; the returned switch controls the new store.
    pub fn wrap(inner: Arc<dyn HotStore>) -> (Arc<FaultyStore>, FaultSwitch) {
        let switch = FaultSwitch::new();
        let store = Arc::new(FaultyStore::new(inner, switch.clone()));
        (store, switch)
    }

    pub fn switch(&self) -> &FaultSwitch {
        &self.switch
    }
}

impl HotRead for FaultyStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key)
    }

    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.multi_get(space, keys)
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        self.inner.scan(space, range, direction, limit)
    }
}

impl HotStore for FaultyStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        match self.switch.decide(&batch) {
            None => self.inner.write(batch),
            Some(Fault::Write) => Err(Fault::Write.error()),
            Some(Fault::Sync) => {
                self.inner.write(batch)?;
                Err(Fault::Sync.error())
            }
        }
    }

    fn approximate_size(&self, space: Space, range: &KeyRange) -> Result<u64, StoreError> {
        self.inner.approximate_size(space, range)
    }

    fn is_durable(&self) -> bool {
        self.inner.is_durable()
    }

    fn snapshot(self: Arc<Self>) -> Result<Arc<dyn HotRead>, StoreError> {
        self.inner.clone().snapshot()
    }

    fn compact_range(&self, space: Space, range: &KeyRange) -> Result<(), StoreError> {
        self.inner.compact_range(space, range)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::WriteOp;

    fn put(k: u8) -> WriteBatch {
        let mut b = WriteBatch::new();
        b.put(Space::Rows, vec![k], vec![k]);
        b
    }

    fn faulty() -> (Arc<MemoryStore>, Arc<FaultyStore>, FaultSwitch) {
        let mem = Arc::new(MemoryStore::new());
        let (store, switch) = FaultyStore::wrap(mem.clone());
        (mem, store, switch)
    }

    #[test]
    fn a_failed_write_applies_nothing_until_healed() {
        let (mem, store, switch) = faulty();
        store.write(put(1)).unwrap();
        switch.fail_writes();
        let err = store.write(put(2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "storage write failed: injected write failure"
        );
        assert!(err.is_unavailable());
        assert!(store.write(put(3)).is_err(), "the switch stays tripped");
        assert!(switch.is_tripped());
        assert_eq!(mem.len(Space::Rows), 1);
        assert_eq!(store.get(Space::Rows, &[1]).unwrap(), Some(vec![1]));

        switch.heal();
        assert!(!switch.is_tripped());
        store.write(put(4)).unwrap();
        assert_eq!(store.get(Space::Rows, &[4]).unwrap(), Some(vec![4]));
        assert_eq!(store.get(Space::Rows, &[2]).unwrap(), None);
        assert_eq!(switch.writes_attempted(), 4);
        assert_eq!(switch.writes_failed(), 2);
    }

    #[test]
    fn a_failed_fsync_applies_the_batch_and_still_fails() {
        let (mem, store, switch) = faulty();
        switch.fail_sync();
        let err = store.write(put(7)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "storage write failed: injected fsync failure"
        );
        assert_eq!(store.get(Space::Rows, &[7]).unwrap(), Some(vec![7]));
        assert_eq!(mem.len(Space::Rows), 1);
        assert_eq!(switch.writes_failed(), 1);
    }

    #[test]
    fn fail_after_lets_n_writes_through_first() {
        let (mem, store, switch) = faulty();
        switch.fail_after(2, Fault::Write);
        store.write(put(1)).unwrap();
        store.write(put(2)).unwrap();
        assert!(!switch.is_tripped());
        assert!(store.write(put(3)).is_err());
        assert!(store.write(put(4)).is_err());
        assert_eq!(mem.len(Space::Rows), 2);
        assert_eq!((switch.writes_attempted(), switch.writes_failed()), (4, 2));
    }

    #[test]
    fn fail_when_waits_for_a_matching_batch() {
        let (mem, store, switch) = faulty();
        store.write(put(1)).unwrap();
        switch.fail_when(Fault::Write, |b| {
            b.ops()
                .iter()
                .any(|op| matches!(op, WriteOp::Delete { .. }))
        });
        store.write(put(2)).unwrap();
        let mut delete = WriteBatch::new();
        delete.delete(Space::Rows, vec![1]);
        assert!(store.write(delete).is_err());
        // Tripped: now every write fails, matching or not.
        assert!(store.write(put(3)).is_err());
        assert_eq!(mem.len(Space::Rows), 2);
        assert_eq!(store.get(Space::Rows, &[1]).unwrap(), Some(vec![1]));
    }

    #[test]
    fn reads_and_durability_pass_through() {
        let (_mem, store, switch) = faulty();
        store.write(put(1)).unwrap();
        switch.fail_writes();
        assert_eq!(
            store
                .scan(Space::Rows, &KeyRange::all(), Direction::Forward, 10)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.multi_get(Space::Rows, &[vec![1], vec![2]]).unwrap(),
            vec![Some(vec![1]), None]
        );
        assert!(!store.is_durable(), "MemoryStore is not durable");
        assert!(
            store
                .approximate_size(Space::Rows, &KeyRange::all())
                .unwrap()
                > 0
        );
    }
}
