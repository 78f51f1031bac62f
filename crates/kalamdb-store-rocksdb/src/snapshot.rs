//! [`RocksSnapshot`]: a RocksDB snapshot that can be shared as an
//! `Arc<dyn HotRead>` (`HotStore::snapshot`). A RocksDB snapshot borrows
//! its DB; `self_cell` keeps it together with the `Arc` of the store it
//! borrows from, so it may outlive the call that took it, and it is
//! released before that `Arc`.

use std::sync::Arc;

use kalamdb_store::{Direction, HotRead, KeyRange, KvPair, Space, StoreError};

use crate::rocks::RocksStore;

type Snap<'a> = rocksdb::Snapshot<'a>;

self_cell::self_cell!(
    /// A RocksDB snapshot together with the store it borrows from, so it
    /// can be shared (`Arc<dyn HotRead>`) and outlive the call that took it.
    pub(crate) struct RocksSnapshot {
        owner: Arc<RocksStore>,
        #[covariant]
        dependent: Snap,
    }
);

impl HotRead for RocksSnapshot {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_dependent(|store, snap| store.get_at(Some(snap), space, key))
    }

    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.with_dependent(|store, snap| store.multi_get_at(Some(snap), space, keys))
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        self.with_dependent(|store, snap| store.scan_at(Some(snap), space, range, direction, limit))
    }
}

impl RocksSnapshot {
    /// A snapshot of `store` as of now.
    pub(crate) fn of(store: Arc<RocksStore>) -> Self {
        Self::new(store, |store| store.db().snapshot())
    }
}
