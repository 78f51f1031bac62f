//! The [`HotStore`] contract on a [`RocksStore`]: reads of the live store,
//! atomic batches, snapshots ([`RocksSnapshot`]), manual compaction. The
//! durability and recovery guarantees are in `rocks.rs`'s module docs.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kalamdb_store::{
    Direction, HotRead, HotStore, KeyRange, KvPair, Space, StoreError, WriteBatch,
};
use rocksdb::WriteOptions;

use crate::rocks::{RocksStore, io};
use crate::snapshot::RocksSnapshot;

impl HotRead for RocksStore {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_at(None, space, key)
    }

    fn multi_get(
        &self,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.multi_get_at(None, space, keys)
    }

    fn scan(
        &self,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        self.scan_at(None, space, range, direction, limit)
    }
}

impl HotStore for RocksStore {
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if self.is_poisoned() {
            return Err(StoreError::Poisoned);
        }
        if batch.is_empty() {
            return Ok(());
        }
        let batch = self.build_batch(batch)?;
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(self.sync_writes);
        self.db.write_opt(batch, &write_opts).map_err(|err| {
            self.poisoned.store(true, Ordering::SeqCst);
            let err = io("write")(err);
            tracing::error!(error = %err, "hot store write failed; refusing further writes");
            err
        })
    }

    fn approximate_size(&self, space: Space, range: &KeyRange) -> Result<u64, StoreError> {
        let Some(Range { start, end }) = self.finite_range(space, range, &[])? else {
            return Ok(0);
        };
        let sizes = self
            .db
            .get_approximate_sizes_cf(self.cf(space)?, &[rocksdb::Range::new(&start, &end)]);
        Ok(sizes.into_iter().sum())
    }

    fn is_durable(&self) -> bool {
        self.sync_writes
    }

    /// RocksDB's manual compaction of the range (memtables holding it are
    /// flushed first); other compactions may run meanwhile.
    fn compact_range(&self, space: Space, range: &KeyRange) -> Result<(), StoreError> {
        if range.is_empty() {
            return Ok(());
        }
        let (start, end) = range.half_open();
        let mut opts = rocksdb::CompactOptions::default();
        opts.set_exclusive_manual_compaction(false);
        self.db
            .compact_range_cf_opt(self.cf(space)?, Some(start), end, &opts);
        Ok(())
    }

    fn snapshot(self: Arc<Self>) -> Result<Arc<dyn HotRead>, StoreError> {
        Ok(Arc::new(RocksSnapshot::of(self)))
    }
}
