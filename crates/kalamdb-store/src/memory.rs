//! [`MemoryStore`]: a [`HotStore`] in a `BTreeMap` per space, for tests of
//! every crate above this one.
//!
//! It follows the trait's contract exactly (atomic batches, ordered scans,
//! poisoning after a failed write), so engine tests that pass here exercise the
//! same logic as with RocksDB. Nothing survives the process; it reports itself
//! as not durable. [`MemoryStore::fail_next_writes`] injects the failure a
//! broken disk would cause, so crash and poisoning paths can be tested without
//! one.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::RwLock;

use crate::error::StoreError;
use crate::fault::Fault;
use crate::store::{Direction, HotRead, HotStore, KeyRange, KvPair, Space, WriteBatch, WriteOp};

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Default, Clone)]
struct Trees {
    meta: Tree,
    rows: Tree,
}

impl Trees {
    fn tree(&self, space: Space) -> &Tree {
        match space {
            Space::Meta => &self.meta,
            Space::Rows => &self.rows,
        }
    }

    fn tree_mut(&mut self, space: Space) -> &mut Tree {
        match space {
            Space::Meta => &mut self.meta,
            Space::Rows => &mut self.rows,
        }
    }
}

/// An in-memory [`HotStore`]; see the module docs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    // One lock over both spaces so a batch touching both is atomic to readers.
    trees: RwLock<Trees>,
    poisoned: AtomicBool,
    failures_armed: AtomicUsize,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes each of the next `n` writes fail with [`StoreError::Io`] without
    /// applying its batch, and poison the store as a failed fsync would:
    /// after them, writes return [`StoreError::Poisoned`]. Reads keep working.
    pub fn fail_next_writes(&self, n: usize) {
        self.failures_armed.store(n, Ordering::SeqCst);
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Makes the store writable again, as reopening it after a restart would.
    /// Batches that failed were never applied.
    pub fn clear_poison(&self) {
        self.poisoned.store(false, Ordering::SeqCst);
    }

    /// Number of keys in `space`.
    pub fn len(&self, space: Space) -> usize {
        self.trees.read().tree(space).len()
    }

    pub fn is_empty(&self, space: Space) -> bool {
        self.len(space) == 0
    }

    fn take_armed_failure(&self) -> bool {
        self.failures_armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

fn range_bounds(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (as_slice_bound(&range.start), as_slice_bound(&range.end))
}

fn as_slice_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Trees {
    fn get(&self, space: Space, key: &[u8]) -> Option<Vec<u8>> {
        self.tree(space).get(key).cloned()
    }

    fn multi_get(&self, space: Space, keys: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
        let tree = self.tree(space);
        keys.iter().map(|k| tree.get(k).cloned()).collect()
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Vec<KvPair> {
        // BTreeMap::range panics on inverted or doubly-excluded-equal bounds.
        if range.is_empty() || limit == 0 {
            return Vec::new();
        }
        let entries = self
            .tree(space)
            .range::<[u8], _>(range_bounds(range))
            .map(|(k, v)| (k.clone(), v.clone()));
        match direction {
            Direction::Forward => entries.take(limit).collect(),
            Direction::Reverse => entries.rev().take(limit).collect(),
        }
    }
}

impl HotRead for MemoryStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.trees.read().get(space, key))
    }

    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(self.trees.read().multi_get(space, keys))
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        Ok(self.trees.read().scan(space, range, direction, limit))
    }
}

/// A [`MemoryStore`]'s snapshot: a copy of its trees (it serves tests, where
/// stores are small).
struct MemorySnapshot(Trees);

impl HotRead for MemorySnapshot {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(space, key))
    }

    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(self.0.multi_get(space, keys))
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        Ok(self.0.scan(space, range, direction, limit))
    }
}

impl HotStore for MemoryStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.take_armed_failure() {
            self.poisoned.store(true, Ordering::SeqCst);
            return Err(Fault::Write.error());
        }
        if self.is_poisoned() {
            return Err(StoreError::Poisoned);
        }
        let mut trees = self.trees.write();
        for op in batch.into_ops() {
            match op {
                WriteOp::Put { space, key, value } => {
                    trees.tree_mut(space).insert(key, value);
                }
                WriteOp::Delete { space, key } => {
                    trees.tree_mut(space).remove(&key);
                }
                WriteOp::DeleteRange { space, range } => {
                    if range.is_empty() {
                        continue;
                    }
                    let tree = trees.tree_mut(space);
                    let doomed: Vec<Vec<u8>> = tree
                        .range::<[u8], _>(range_bounds(&range))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for key in doomed {
                        tree.remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    fn approximate_size(&self, space: Space, range: &KeyRange) -> Result<u64, StoreError> {
        if range.is_empty() {
            return Ok(0);
        }
        let trees = self.trees.read();
        let bytes: usize = trees
            .tree(space)
            .range::<[u8], _>(range_bounds(range))
            .map(|(k, v)| k.len() + v.len())
            .sum();
        Ok(u64::try_from(bytes).unwrap_or(u64::MAX))
    }

    fn is_durable(&self) -> bool {
        false
    }

    fn snapshot(self: Arc<Self>) -> Result<Arc<dyn HotRead>, StoreError> {
        Ok(Arc::new(MemorySnapshot(self.trees.read().clone())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::key::{Partition, PkValue, RowKey, RowPrefix};
    use kalamdb_types::{NamespaceId, TableId, TableName, UserId};

    fn table(name: &str) -> TableId {
        TableId::new(
            NamespaceId::parse("app").unwrap(),
            TableName::parse(name).unwrap(),
        )
    }

    fn row(t: &str, user: Option<&str>, pk: i64) -> Vec<u8> {
        let partition = match user {
            Some(u) => Partition::User(UserId::parse(u).unwrap()),
            None => Partition::Shared,
        };
        RowKey::new(table(t), partition, PkValue::Int(pk)).encode()
    }

    fn pks(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<i64> {
        entries
            .iter()
            .map(|(k, _)| match RowKey::decode(k).unwrap().pk {
                PkValue::Int(v) => v,
                other => panic!("unexpected pk {other}"),
            })
            .collect()
    }

    fn store_with_rows() -> MemoryStore {
        let store = MemoryStore::new();
        let mut batch = WriteBatch::new();
        for pk in [-3, 10, 2, 9, 0] {
            batch.put(Space::Rows, row("ab", Some("al"), pk), pk.to_string());
        }
        batch.put(Space::Rows, row("ab", Some("alice"), 1), "alice");
        batch.put(Space::Rows, row("abc", None, 1), "abc");
        batch.put(Space::Meta, b"m".to_vec(), b"meta".to_vec());
        store.write(batch).unwrap();
        store
    }

    #[test]
    fn get_and_multi_get_see_written_values() {
        let store = store_with_rows();
        assert_eq!(
            store.get(Space::Rows, &row("ab", Some("al"), 9)).unwrap(),
            Some(b"9".to_vec())
        );
        assert_eq!(
            store.get(Space::Meta, &row("ab", Some("al"), 9)).unwrap(),
            None
        );
        assert_eq!(
            store.get(Space::Meta, b"m").unwrap(),
            Some(b"meta".to_vec())
        );
        let got = store
            .multi_get(
                Space::Rows,
                &[
                    row("abc", None, 1),
                    row("abc", None, 2),
                    row("ab", Some("al"), -3),
                ],
            )
            .unwrap();
        assert_eq!(got, vec![Some(b"abc".to_vec()), None, Some(b"-3".to_vec())]);
    }

    #[test]
    fn scans_follow_key_order_both_ways_with_limits() {
        let store = store_with_rows();
        let al = RowPrefix::Partition(table("ab"), Partition::User(UserId::parse("al").unwrap()))
            .range();
        let fwd = store
            .scan(Space::Rows, &al, Direction::Forward, usize::MAX)
            .unwrap();
        assert_eq!(pks(&fwd), vec![-3, 0, 2, 9, 10]);
        let rev = store.scan(Space::Rows, &al, Direction::Reverse, 2).unwrap();
        assert_eq!(pks(&rev), vec![10, 9]);
        let fwd = store.scan(Space::Rows, &al, Direction::Forward, 3).unwrap();
        assert_eq!(pks(&fwd), vec![-3, 0, 2]);
        assert!(
            store
                .scan(Space::Rows, &al, Direction::Forward, 0)
                .unwrap()
                .is_empty()
        );

        let bounded = KeyRange::new(
            Bound::Excluded(row("ab", Some("al"), 0)),
            Bound::Included(row("ab", Some("al"), 9)),
        );
        assert_eq!(
            pks(&store
                .scan(Space::Rows, &bounded, Direction::Forward, 10)
                .unwrap()),
            vec![2, 9]
        );
        assert_eq!(
            pks(&store
                .scan(Space::Rows, &bounded, Direction::Reverse, 10)
                .unwrap()),
            vec![9, 2]
        );

        let inverted = KeyRange::new(
            Bound::Included(row("ab", Some("al"), 9)),
            Bound::Excluded(row("ab", Some("al"), 0)),
        );
        assert!(
            store
                .scan(Space::Rows, &inverted, Direction::Forward, 10)
                .unwrap()
                .is_empty()
        );

        let table_ab = store
            .scan(
                Space::Rows,
                &RowPrefix::Table(table("ab")).range(),
                Direction::Forward,
                100,
            )
            .unwrap();
        assert_eq!(table_ab.len(), 6, "table ab must not include table abc");
        assert_eq!(
            store
                .scan(Space::Rows, &KeyRange::all(), Direction::Reverse, 100)
                .unwrap()
                .len(),
            7
        );
    }

    #[test]
    fn delete_range_removes_only_the_prefix() {
        let store = store_with_rows();
        let mut batch = WriteBatch::new();
        batch.delete_range(
            Space::Rows,
            RowPrefix::Partition(table("ab"), Partition::User(UserId::parse("al").unwrap()))
                .range(),
        );
        store.write(batch).unwrap();
        let left = store
            .scan(Space::Rows, &KeyRange::all(), Direction::Forward, 100)
            .unwrap();
        assert_eq!(left.len(), 2);
        assert_eq!(left[0].1, b"alice".to_vec());
        assert_eq!(left[1].1, b"abc".to_vec());

        // Unbounded end: everything from a key on.
        let mut batch = WriteBatch::new();
        batch.delete_range(
            Space::Rows,
            KeyRange::new(Bound::Included(row("abc", None, 0)), Bound::Unbounded),
        );
        batch.delete_range(
            Space::Rows,
            KeyRange::new(
                Bound::Included(b"z".to_vec()),
                Bound::Excluded(b"a".to_vec()),
            ),
        );
        store.write(batch).unwrap();
        assert_eq!(store.len(Space::Rows), 1);
        assert_eq!(store.len(Space::Meta), 1, "other spaces are untouched");
    }

    #[test]
    fn batch_ops_apply_in_order() {
        let store = MemoryStore::new();
        let mut batch = WriteBatch::new();
        batch.put(Space::Rows, b"a".to_vec(), b"1".to_vec());
        batch.delete_range(Space::Rows, KeyRange::all());
        batch.put(Space::Rows, b"b".to_vec(), b"2".to_vec());
        batch.put(Space::Rows, b"b".to_vec(), b"3".to_vec());
        store.write(batch).unwrap();
        assert_eq!(store.get(Space::Rows, b"a").unwrap(), None);
        assert_eq!(store.get(Space::Rows, b"b").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn failed_write_poisons_and_is_not_applied() {
        let store = store_with_rows();
        store.fail_next_writes(1);
        let mut batch = WriteBatch::new();
        batch.put(Space::Rows, b"lost".to_vec(), b"x".to_vec());
        assert!(matches!(
            store.write(batch.clone()),
            Err(StoreError::Io { op: "write", .. })
        ));
        assert!(store.is_poisoned());
        assert_eq!(store.write(batch.clone()), Err(StoreError::Poisoned));
        assert_eq!(store.write(WriteBatch::new()), Err(StoreError::Poisoned));
        assert_eq!(store.get(Space::Rows, b"lost").unwrap(), None);
        // Reads still answer.
        assert_eq!(
            store.get(Space::Meta, b"m").unwrap(),
            Some(b"meta".to_vec())
        );

        store.clear_poison();
        store.write(batch).unwrap();
        assert_eq!(
            store.get(Space::Rows, b"lost").unwrap(),
            Some(b"x".to_vec())
        );
    }

    #[test]
    fn armed_failures_count_down() {
        let store = MemoryStore::new();
        store.fail_next_writes(2);
        assert!(matches!(
            store.write(WriteBatch::new()),
            Err(StoreError::Io { .. })
        ));
        assert!(matches!(
            store.write(WriteBatch::new()),
            Err(StoreError::Io { .. })
        ));
        assert_eq!(store.write(WriteBatch::new()), Err(StoreError::Poisoned));
        store.clear_poison();
        assert_eq!(store.write(WriteBatch::new()), Ok(()));
    }

    #[test]
    fn approximate_size_counts_bytes_in_range() {
        let store = store_with_rows();
        let abc = RowPrefix::Table(table("abc")).range();
        let expected = (row("abc", None, 1).len() + 3) as u64;
        assert_eq!(store.approximate_size(Space::Rows, &abc).unwrap(), expected);
        assert_eq!(store.approximate_size(Space::Meta, &abc).unwrap(), 0);
        assert!(!store.is_durable());
    }
}
