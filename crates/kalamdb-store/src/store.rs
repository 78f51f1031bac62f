//! The [`HotStore`] trait: what the engine needs from an ordered key-value
//! store, and nothing more, over raw bytes: the keyspaces ([`Space`]), key
//! ranges ([`KeyRange`]) and atomic [`WriteBatch`]es it is called with.
//!
//! The engine and the SQL layer program against this trait so they can be
//! tested against [`MemoryStore`](crate::MemoryStore) and so only the server's
//! wiring names RocksDB. The API is synchronous because RocksDB is; async
//! callers run it on `spawn_blocking`. Writes go through [`WriteBatch`]es only,
//! which makes atomicity explicit: one batch is all-or-nothing.
//!
//! Typed keys (`key.rs`) are built on top of this module and give their
//! prefixes as [`KeyRange`]s; nothing here knows what a key means, so
//! imports only run from `key.rs` to here.

use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use crate::error::StoreError;
use crate::keycode::prefix_successor;

/// A keyspace; RocksDB keeps each in its own column family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    /// Catalog records: namespaces, tables, users, settings.
    Meta,
    /// Table rows not yet flushed to Parquet.
    Rows,
}

impl Space {
    pub const ALL: [Space; 2] = [Space::Meta, Space::Rows];

    /// The column-family name; part of the on-disk format.
    pub fn name(self) -> &'static str {
        match self {
            Space::Meta => "meta",
            Space::Rows => "rows",
        }
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key and its value, as returned by [`HotStore::scan`].
pub type KvPair = (Vec<u8>, Vec<u8>);

/// A range of raw keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    pub fn new(start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Self {
        Self { start, end }
    }

    /// Every key.
    pub fn all() -> Self {
        Self::new(Bound::Unbounded, Bound::Unbounded)
    }

    /// Every key starting with `prefix`: `[prefix, successor(prefix))`, open
    /// ended when the prefix has no successor (empty or all 0xFF).
    pub fn prefix(prefix: &[u8]) -> Self {
        let end = match prefix_successor(prefix) {
            Some(succ) => Bound::Excluded(succ),
            None => Bound::Unbounded,
        };
        Self::new(Bound::Included(prefix.to_vec()), end)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }

    /// The same range as `[start, end)` with an inclusive start and an
    /// exclusive end (`None` = unbounded), the form RocksDB's bounds and range
    /// deletes take. Uses that `k ++ [0x00]` is the least key after `k`.
    pub fn half_open(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let start = match &self.start {
            Bound::Included(s) => s.clone(),
            Bound::Excluded(s) => immediate_successor(s),
            Bound::Unbounded => Vec::new(),
        };
        let end = match &self.end {
            Bound::Included(e) => Some(immediate_successor(e)),
            Bound::Excluded(e) => Some(e.clone()),
            Bound::Unbounded => None,
        };
        (start, end)
    }

    /// True when no key can lie in the range.
    pub fn is_empty(&self) -> bool {
        match self.half_open() {
            (start, Some(end)) => start >= end,
            (_, None) => false,
        }
    }
}

fn immediate_successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0x00);
    next
}

/// One mutation inside a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Put {
        space: Space,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        space: Space,
        key: Vec<u8>,
    },
    DeleteRange {
        space: Space,
        range: KeyRange,
    },
}

/// Mutations applied atomically, in order, by [`HotStore::write`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, space: Space, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Put {
            space,
            key: key.into(),
            value: value.into(),
        });
    }

    pub fn delete(&mut self, space: Space, key: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Delete {
            space,
            key: key.into(),
        });
    }

    pub fn delete_range(&mut self, space: Space, range: KeyRange) {
        self.ops.push(WriteOp::DeleteRange { space, range });
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    pub fn into_ops(self) -> Vec<WriteOp> {
        self.ops
    }

    /// Appends `other`'s operations after this batch's.
    pub fn extend(&mut self, other: WriteBatch) {
        self.ops.extend(other.ops);
    }

    /// Drops the operations after the first `len`: with `len` taken earlier
    /// from [`WriteBatch::len`], rolls the batch back to that savepoint.
    pub fn truncate(&mut self, len: usize) {
        self.ops.truncate(len);
    }
}

/// Scan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Forward,
    Reverse,
}

/// Reads of an ordered key-value store with one keyspace per [`Space`]:
/// the live store ([`HotStore`]) or a snapshot of it
/// ([`HotStore::snapshot`]).
pub trait HotRead: Send + Sync + 'static {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// One answer per key, in the order of `keys`.
    fn multi_get(&self, space: Space, keys: &[Vec<u8>])
    -> Result<Vec<Option<Vec<u8>>>, StoreError>;

    /// Up to `limit` entries of `range` in `direction` order.
    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError>;
}

/// An ordered key-value store with one keyspace per [`Space`].
pub trait HotStore: HotRead {
    /// Applies the batch atomically. When it returns Ok, the batch is durable
    /// if the store was opened durable (fsync'd WAL). After a failed write the
    /// store is poisoned: every later write returns [`StoreError::Poisoned`]
    /// (never acknowledge data that may be lost).
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// Approximate on-disk bytes of a range (for DROP TABLE metrics); 0 if
    /// unknown.
    fn approximate_size(&self, space: Space, range: &KeyRange) -> Result<u64, StoreError>;

    /// True when writes fsync before returning.
    fn is_durable(&self) -> bool;

    /// Rewrites the store's files under `range` so that what deletes left
    /// there (tombstones, which every later scan of the range would step
    /// over one by one) is gone. For after a delete of many keys (a flush);
    /// writes and reads go on meanwhile. A store without such leftovers
    /// does nothing.
    fn compact_range(&self, _space: Space, _range: &KeyRange) -> Result<(), StoreError> {
        Ok(())
    }

    /// Every space as of now, unchanged by later writes: a batch is in it
    /// whole or not at all. Readers that must see one state of several keys
    /// (a table's manifest and the rows it does not cover) read from one
    /// snapshot. Cheap to take; holding it keeps old versions alive, so
    /// hold it for one read, not for good.
    fn snapshot(self: Arc<Self>) -> Result<Arc<dyn HotRead>, StoreError>;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_covers_exactly_the_extensions() {
        let r = KeyRange::prefix(b"ab");
        assert!(r.contains(b"ab"));
        assert!(r.contains(b"ab\xff\xff"));
        assert!(!r.contains(b"aa\xff"));
        assert!(!r.contains(b"ac"));
        assert_eq!(r.half_open(), (b"ab".to_vec(), Some(b"ac".to_vec())));

        let top = KeyRange::prefix(&[0xFF]);
        assert_eq!(top.end, Bound::Unbounded);
        assert!(top.contains(&[0xFF, 0xFF, 0x01]));
        assert!(!top.contains(&[0xFE]));
    }

    #[test]
    fn half_open_normalises_every_bound_kind() {
        let r = KeyRange::new(
            Bound::Excluded(b"a".to_vec()),
            Bound::Included(b"c".to_vec()),
        );
        assert_eq!(r.half_open(), (b"a\0".to_vec(), Some(b"c\0".to_vec())));
        assert!(!r.contains(b"a"));
        assert!(r.contains(b"a\0"));
        assert!(r.contains(b"c"));
        assert!(!r.contains(b"c\0"));
        assert_eq!(KeyRange::all().half_open(), (Vec::new(), None));
        assert!(!KeyRange::all().is_empty());
        assert!(
            KeyRange::new(
                Bound::Included(b"b".to_vec()),
                Bound::Excluded(b"b".to_vec())
            )
            .is_empty()
        );
        assert!(
            KeyRange::new(
                Bound::Excluded(b"b".to_vec()),
                Bound::Included(b"a".to_vec())
            )
            .is_empty()
        );
    }

    #[test]
    fn batch_savepoints_and_extend() {
        let mut batch = WriteBatch::new();
        batch.put(Space::Rows, b"k1".to_vec(), b"v1".to_vec());
        let savepoint = batch.len();
        batch.delete(Space::Meta, b"k2".to_vec());
        batch.delete_range(Space::Rows, KeyRange::prefix(b"t"));
        assert_eq!(batch.len(), 3);
        batch.truncate(savepoint);
        assert_eq!(
            batch.ops(),
            &[WriteOp::Put {
                space: Space::Rows,
                key: b"k1".to_vec(),
                value: b"v1".to_vec()
            }]
        );

        let mut other = WriteBatch::new();
        other.delete(Space::Rows, b"k1".to_vec());
        batch.extend(other);
        assert_eq!(batch.len(), 2);
        assert!(matches!(batch.ops()[1], WriteOp::Delete { .. }));
        assert!(!batch.is_empty());
        assert!(WriteBatch::default().is_empty());
    }

    #[test]
    fn spaces_have_stable_names() {
        assert_eq!(Space::ALL.map(Space::name), ["meta", "rows"]);
    }
}
