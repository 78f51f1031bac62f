//! [`RocksStore`]: the durable [`HotStore`].
//!
//! # Durability
//!
//! Every [`HotStore::write`] is one RocksDB `WriteBatch`, appended to the
//! write-ahead log and applied to the memtables atomically: after a crash
//! either the whole batch is recovered or none of it.
//!
//! With `sync_writes = true` (the default), `write` returns `Ok` only after
//! the WAL record has been fsync'd, so an acknowledged batch survives
//! `kill -9` and power loss. This does not cost one fsync per write under
//! load: RocksDB queues concurrent writers, and the leader of each group
//! appends all their batches as one WAL write and one sync
//! ([`RocksStore::wal_syncs`] vs [`RocksStore::writes`] shows the grouping).
//!
//! With `sync_writes = false`, `Ok` means the record reached the OS page
//! cache: a process crash keeps it, a power loss or kernel crash may not.
//!
//! If a write fails (a failed WAL append or fsync), RocksDB's state for that
//! batch is unknown, and the data the OS had buffered may be gone. The store
//! is then poisoned: every later write returns [`StoreError::Poisoned`] until
//! it is reopened, which replays the WAL and re-establishes what is on disk.
//! Reads keep working.
//!
//! # WAL recovery
//!
//! The WAL is replayed with `TolerateCorruptedTailRecords`: an incomplete
//! record at the very end of a log (a write the crash interrupted, never
//! acknowledged) is dropped, and any other damage — a bad checksum or
//! length inside the log — fails the open with a `Corruption` error. RocksDB's
//! default, point-in-time recovery, would instead open the store and
//! silently drop every record after the damage, acknowledged ones included.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use kalamdb_store::{Direction, KeyRange, KvPair, Space, StoreError, WriteBatch, WriteOp};
use rocksdb::statistics::Ticker;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType,
    DBRecoveryMode, Options, ReadOptions,
};

/// How to open a [`RocksStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocksOptions {
    /// Fsync the WAL before a write returns (see the module docs).
    pub sync_writes: bool,
    /// Size of the block cache shared by all column families.
    pub cache_bytes: usize,
}

impl Default for RocksOptions {
    fn default() -> Self {
        Self {
            sync_writes: true,
            cache_bytes: 64 << 20,
        }
    }
}

/// A [`HotStore`] on RocksDB; see the module docs for its guarantees.
pub struct RocksStore {
    pub(crate) db: DB,
    // RocksDB's statistics object lives in the options it was opened with;
    // keeping them is how the tickers stay readable.
    db_opts: Options,
    pub(crate) sync_writes: bool,
    pub(crate) poisoned: AtomicBool,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.db.path())
            .field("sync_writes", &self.sync_writes)
            .field("poisoned", &self.is_poisoned())
            .finish()
    }
}

pub(crate) fn io(op: &'static str) -> impl FnOnce(rocksdb::Error) -> StoreError {
    move |err| StoreError::Io {
        op,
        message: err.into_string(),
    }
}

impl RocksStore {
    /// Opens (creating if needed) the store at `path`, replaying its WAL.
    pub fn open(path: &Path, opts: RocksOptions) -> Result<RocksStore, StoreError> {
        let cache = Cache::new_lru_cache(opts.cache_bytes);
        let mut table_opts = BlockBasedOptions::default();
        table_opts.set_block_cache(&cache);

        let cf_opts = || {
            let mut o = Options::default();
            o.set_compression_type(DBCompressionType::Lz4);
            o.set_bottommost_compression_type(DBCompressionType::Lz4);
            o.set_block_based_table_factory(&table_opts);
            o
        };

        let mut db_opts = cf_opts();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.enable_statistics();
        // The info LOG otherwise keeps up to 1000 old files in the data dir.
        db_opts.set_keep_log_file_num(8);
        // See "WAL recovery" in the module docs.
        db_opts.set_wal_recovery_mode(DBRecoveryMode::TolerateCorruptedTailRecords);

        let descriptors = Space::ALL
            .iter()
            .map(|space| ColumnFamilyDescriptor::new(space.name(), cf_opts()));
        let db = DB::open_cf_descriptors(&db_opts, path, descriptors).map_err(io("open"))?;
        tracing::info!(path = %path.display(), sync_writes = opts.sync_writes, "hot store opened");
        Ok(RocksStore {
            db,
            db_opts,
            sync_writes: opts.sync_writes,
            poisoned: AtomicBool::new(false),
        })
    }

    pub(crate) fn db(&self) -> &DB {
        &self.db
    }

    /// Number of WAL fsyncs since open (RocksDB ticker `rocksdb.wal.synced`).
    pub fn wal_syncs(&self) -> u64 {
        self.db_opts.get_ticker_count(Ticker::WalFileSynced)
    }

    /// Number of write batches RocksDB committed since open, whether each
    /// was written by its own thread or by a group-commit leader.
    pub fn writes(&self) -> u64 {
        self.db_opts.get_ticker_count(Ticker::WriteDoneBySelf)
            + self.db_opts.get_ticker_count(Ticker::WriteDoneByOther)
    }

    /// True after a failed write; see the module docs.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Writes all memtables to SST files. RocksDB does this by itself; this
    /// is for an orderly shutdown and for tests of on-disk sizes.
    pub fn flush(&self) -> Result<(), StoreError> {
        for space in Space::ALL {
            self.db.flush_cf(self.cf(space)?).map_err(io("flush"))?;
        }
        Ok(())
    }

    pub(crate) fn cf(&self, space: Space) -> Result<&ColumnFamily, StoreError> {
        self.db.cf_handle(space.name()).ok_or_else(|| {
            StoreError::Corruption(format!("column family '{}' is missing", space.name()))
        })
    }

    /// The exclusive end key for a range with no upper bound: just past the
    /// largest key that exists in `space` (or is put earlier in `pending`),
    /// since RocksDB range deletes and size queries need a finite end. `None`
    /// when there is nothing at or after `start`.
    ///
    /// A key written concurrently past that end is not covered; the key
    /// layouts of `kalamdb-store` never produce such ranges (their prefixes
    /// always have a successor), so only raw callers can hit this.
    fn end_past_last(
        &self,
        space: Space,
        start: &[u8],
        pending: &[WriteOp],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut it = self
            .db
            .raw_iterator_cf_opt(self.cf(space)?, ReadOptions::default());
        it.seek_to_last();
        let mut last = it.key().map(<[u8]>::to_vec);
        it.status().map_err(io("scan"))?;
        for op in pending {
            if let WriteOp::Put { space: s, key, .. } = op
                && *s == space
                && last.as_ref().is_none_or(|l| key > l)
            {
                last = Some(key.clone());
            }
        }
        Ok(last.filter(|l| l.as_slice() >= start).map(|mut l| {
            l.push(0x00);
            l
        }))
    }

    /// `range` as the finite `[start, end)` that range deletes and size
    /// queries take (an open end closed by [`Self::end_past_last`]); `None`
    /// when no key can be in it.
    pub(crate) fn finite_range(
        &self,
        space: Space,
        range: &KeyRange,
        pending: &[WriteOp],
    ) -> Result<Option<Range<Vec<u8>>>, StoreError> {
        if range.is_empty() {
            return Ok(None);
        }
        let (start, end) = range.half_open();
        let end = match end {
            Some(end) => end,
            None => match self.end_past_last(space, &start, pending)? {
                Some(end) => end,
                None => return Ok(None),
            },
        };
        Ok(Some(start..end))
    }

    pub(crate) fn build_batch(&self, batch: WriteBatch) -> Result<rocksdb::WriteBatch, StoreError> {
        let ops = batch.into_ops();
        let mut out = rocksdb::WriteBatch::default();
        for (i, op) in ops.iter().enumerate() {
            match op {
                WriteOp::Put { space, key, value } => out.put_cf(self.cf(*space)?, key, value),
                WriteOp::Delete { space, key } => out.delete_cf(self.cf(*space)?, key),
                WriteOp::DeleteRange { space, range } => {
                    let earlier = ops.get(..i).unwrap_or_default();
                    if let Some(Range { start, end }) = self.finite_range(*space, range, earlier)? {
                        out.delete_range_cf(self.cf(*space)?, start, end);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The read options of one read: of the live store, or of `snapshot`.
fn read_options(snapshot: Option<&rocksdb::Snapshot<'_>>) -> ReadOptions {
    let mut opts = ReadOptions::default();
    if let Some(snap) = snapshot {
        opts.set_snapshot(snap);
    }
    opts
}

/// The reads, of the live store (`snapshot: None`) or of a snapshot.
impl RocksStore {
    pub(crate) fn get_at(
        &self,
        snapshot: Option<&rocksdb::Snapshot<'_>>,
        space: Space,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf_opt(self.cf(space)?, key, &read_options(snapshot))
            .map_err(io("get"))
    }

    pub(crate) fn multi_get_at(
        &self,
        snapshot: Option<&rocksdb::Snapshot<'_>>,
        space: Space,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let cf = self.cf(space)?;
        self.db
            .multi_get_cf_opt(keys.iter().map(|k| (cf, k)), &read_options(snapshot))
            .into_iter()
            .map(|r| r.map_err(io("multi_get")))
            .collect()
    }

    pub(crate) fn scan_at(
        &self,
        snapshot: Option<&rocksdb::Snapshot<'_>>,
        space: Space,
        range: &KeyRange,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<KvPair>, StoreError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (start, end) = range.half_open();
        let mut read_opts = read_options(snapshot);
        read_opts.set_iterate_lower_bound(start);
        if let Some(end) = end {
            read_opts.set_iterate_upper_bound(end);
        }
        let mut it = self.db.raw_iterator_cf_opt(self.cf(space)?, read_opts);
        match direction {
            Direction::Forward => it.seek_to_first(),
            Direction::Reverse => it.seek_to_last(),
        }
        let mut out = Vec::new();
        while out.len() < limit {
            let (Some(key), Some(value)) = (it.key(), it.value()) else {
                break;
            };
            // The iterator bounds already hold; this guards the contract
            // should a RocksDB version treat them as hints.
            if !range.contains(key) {
                break;
            }
            out.push((key.to_vec(), value.to_vec()));
            match direction {
                Direction::Forward => it.next(),
                Direction::Reverse => it.prev(),
            }
        }
        it.status().map_err(io("scan"))?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::Arc;

    use kalamdb_store::{HotRead, HotStore};

    use super::*;
    use std::ops::Bound;

    fn open(dir: &Path, sync_writes: bool) -> RocksStore {
        RocksStore::open(
            dir,
            RocksOptions {
                sync_writes,
                cache_bytes: 1 << 20,
            },
        )
        .unwrap()
    }

    fn key(prefix: &str, n: u64) -> Vec<u8> {
        let mut k = prefix.as_bytes().to_vec();
        k.push(0x00);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    fn put_all(store: &RocksStore, space: Space, entries: &[(Vec<u8>, &str)]) {
        let mut batch = WriteBatch::new();
        for (k, v) in entries {
            batch.put(space, k.clone(), v.as_bytes().to_vec());
        }
        store.write(batch).unwrap();
    }

    fn keys_of(entries: &[KvPair]) -> Vec<Vec<u8>> {
        entries.iter().map(|(k, _)| k.clone()).collect()
    }

    #[test]
    fn writes_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path(), true);
            assert!(store.is_durable());
            put_all(
                &store,
                Space::Rows,
                &[(key("t", 1), "one"), (key("t", 2), "two")],
            );
            put_all(&store, Space::Meta, &[(b"ns".to_vec(), "meta")]);
            let mut batch = WriteBatch::new();
            batch.delete(Space::Rows, key("t", 2));
            store.write(batch).unwrap();
        }
        let store = open(dir.path(), true);
        assert_eq!(
            store.get(Space::Rows, &key("t", 1)).unwrap(),
            Some(b"one".to_vec())
        );
        assert_eq!(store.get(Space::Rows, &key("t", 2)).unwrap(), None);
        assert_eq!(
            store.get(Space::Meta, b"ns").unwrap(),
            Some(b"meta".to_vec())
        );
        assert_eq!(
            store.get(Space::Rows, b"ns").unwrap(),
            None,
            "spaces are separate"
        );
        assert_eq!(
            store
                .multi_get(Space::Rows, &[key("t", 2), key("t", 1)])
                .unwrap(),
            vec![None, Some(b"one".to_vec())]
        );
    }

    /// A snapshot keeps one state of both spaces: later puts, deletes and
    /// range deletes (in one batch across spaces) are not in it, and it
    /// outlives the handle it was taken from.
    #[test]
    fn a_snapshot_sees_one_state_of_every_space() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open(dir.path(), false));
        put_all(
            &store,
            Space::Rows,
            &[(key("t", 1), "one"), (key("t", 2), "two")],
        );
        put_all(&store, Space::Meta, &[(b"manifest".to_vec(), "v1")]);
        let snap = store.clone().snapshot().unwrap();
        let mut batch = WriteBatch::new();
        batch.delete_range(Space::Rows, KeyRange::prefix(b"t\0"));
        batch.put(Space::Rows, key("t", 3), "three");
        batch.put(Space::Meta, b"manifest".to_vec(), "v2");
        store.write(batch).unwrap();
        let all = |r: &dyn HotRead, space| {
            keys_of(
                &r.scan(space, &KeyRange::all(), Direction::Forward, 10)
                    .unwrap(),
            )
        };
        assert_eq!(
            all(snap.as_ref(), Space::Rows),
            vec![key("t", 1), key("t", 2)]
        );
        assert_eq!(all(store.as_ref(), Space::Rows), vec![key("t", 3)]);
        assert_eq!(
            snap.get(Space::Meta, b"manifest").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(
            snap.multi_get(Space::Rows, &[key("t", 3), key("t", 2)])
                .unwrap(),
            vec![None, Some(b"two".to_vec())]
        );
        drop(store);
        assert_eq!(
            snap.scan(Space::Rows, &KeyRange::all(), Direction::Reverse, 1)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn delete_range_persists_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path(), true);
            let entries: Vec<_> = (0..10)
                .flat_map(|n| [(key("a", n), "a"), (key("ab", n), "ab"), (key("b", n), "b")])
                .collect();
            put_all(&store, Space::Rows, &entries);
            store.flush().unwrap();
            let mut batch = WriteBatch::new();
            // Prefix "a\0": table "a" only, not "ab".
            batch.delete_range(Space::Rows, KeyRange::prefix(b"a\0"));
            store.write(batch).unwrap();
        }
        {
            let store = open(dir.path(), true);
            let left = store
                .scan(
                    Space::Rows,
                    &KeyRange::all(),
                    Direction::Forward,
                    usize::MAX,
                )
                .unwrap();
            assert_eq!(left.len(), 20);
            assert!(left.iter().all(|(_, v)| v != b"a"));

            // Unbounded end, including a key put earlier in the same batch.
            let mut batch = WriteBatch::new();
            batch.put(Space::Rows, key("z", 1), b"z".to_vec());
            batch.delete_range(
                Space::Rows,
                KeyRange::new(Bound::Included(key("b", 5)), Bound::Unbounded),
            );
            batch.put(Space::Rows, key("y", 1), b"y".to_vec());
            store.write(batch).unwrap();
        }
        let store = open(dir.path(), true);
        let left = store
            .scan(
                Space::Rows,
                &KeyRange::all(),
                Direction::Forward,
                usize::MAX,
            )
            .unwrap();
        let mut expected: Vec<_> = (0..10).map(|n| key("ab", n)).collect();
        expected.extend((0..5).map(|n| key("b", n)));
        expected.push(key("y", 1));
        assert_eq!(keys_of(&left), expected);
    }

    #[test]
    fn scans_respect_bounds_direction_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), false);
        let entries: Vec<_> = (0..10)
            .flat_map(|n| [(key("a", n), "a"), (key("ab", n), "ab")])
            .collect();
        put_all(&store, Space::Rows, &entries);

        let a = KeyRange::prefix(b"a\0");
        let fwd = store
            .scan(Space::Rows, &a, Direction::Forward, 100)
            .unwrap();
        assert_eq!(
            keys_of(&fwd),
            (0..10).map(|n| key("a", n)).collect::<Vec<_>>()
        );
        let rev = store.scan(Space::Rows, &a, Direction::Reverse, 3).unwrap();
        assert_eq!(keys_of(&rev), vec![key("a", 9), key("a", 8), key("a", 7)]);

        let bounded = KeyRange::new(Bound::Excluded(key("ab", 2)), Bound::Included(key("ab", 5)));
        let fwd = store
            .scan(Space::Rows, &bounded, Direction::Forward, 100)
            .unwrap();
        assert_eq!(
            keys_of(&fwd),
            vec![key("ab", 3), key("ab", 4), key("ab", 5)]
        );
        let rev = store
            .scan(Space::Rows, &bounded, Direction::Reverse, 2)
            .unwrap();
        assert_eq!(keys_of(&rev), vec![key("ab", 5), key("ab", 4)]);

        let tail = KeyRange::new(Bound::Included(key("ab", 8)), Bound::Unbounded);
        let rev = store
            .scan(Space::Rows, &tail, Direction::Reverse, 100)
            .unwrap();
        assert_eq!(keys_of(&rev), vec![key("ab", 9), key("ab", 8)]);

        assert!(
            store
                .scan(Space::Rows, &a, Direction::Forward, 0)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .scan(Space::Meta, &a, Direction::Forward, 10)
                .unwrap()
                .is_empty()
        );
        let inverted = KeyRange::new(Bound::Included(key("b", 0)), Bound::Excluded(key("a", 0)));
        assert!(
            store
                .scan(Space::Rows, &inverted, Direction::Reverse, 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn concurrent_writers_are_all_visible_after_reopen() {
        const THREADS: u64 = 8;
        const PER_THREAD: u64 = 50;
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Arc::new(open(dir.path(), true));
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let store = Arc::clone(&store);
                    std::thread::spawn(move || {
                        for n in 0..PER_THREAD {
                            let mut batch = WriteBatch::new();
                            batch.put(
                                Space::Rows,
                                key(&format!("t{t}"), n),
                                n.to_be_bytes().to_vec(),
                            );
                            batch.put(Space::Meta, key(&format!("t{t}"), n), b"m".to_vec());
                            store.write(batch).unwrap();
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
            assert_eq!(store.writes(), THREADS * PER_THREAD);
            let syncs = store.wal_syncs();
            assert!(
                syncs > 0 && syncs <= THREADS * PER_THREAD,
                "wal syncs: {syncs}"
            );
        }
        let store = open(dir.path(), true);
        for space in Space::ALL {
            let all = store
                .scan(space, &KeyRange::all(), Direction::Forward, usize::MAX)
                .unwrap();
            assert_eq!(all.len() as u64, THREADS * PER_THREAD, "{space}");
        }
        for t in 0..THREADS {
            let n = PER_THREAD - 1;
            assert_eq!(
                store.get(Space::Rows, &key(&format!("t{t}"), n)).unwrap(),
                Some(n.to_be_bytes().to_vec())
            );
        }
    }

    #[test]
    fn wal_syncs_count_only_sync_writes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path(), false);
            assert!(!store.is_durable());
            for n in 0..5 {
                put_all(&store, Space::Rows, &[(key("k", n), "v")]);
            }
            assert_eq!(store.writes(), 5);
            assert_eq!(store.wal_syncs(), 0);
        }
        let store = open(dir.path(), true);
        let before = store.wal_syncs();
        for n in 0..5 {
            put_all(&store, Space::Rows, &[(key("k", n), "v")]);
        }
        assert!(
            store.wal_syncs() >= before + 5,
            "sequential sync writes each sync"
        );
        assert_eq!(store.writes(), 5);
        // An empty batch is a no-op and touches nothing.
        store.write(WriteBatch::new()).unwrap();
        assert_eq!(store.writes(), 5);
    }

    #[test]
    fn approximate_size_sees_flushed_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), false);
        // Distinct values so LZ4 cannot shrink them to nothing.
        let mut batch = WriteBatch::new();
        for n in 0..2000u64 {
            let value: Vec<u8> = (0..64).map(|i| (n.wrapping_mul(31) ^ i) as u8).collect();
            batch.put(Space::Rows, key("big", n), value);
        }
        store.write(batch).unwrap();
        store.flush().unwrap();
        let big = store
            .approximate_size(Space::Rows, &KeyRange::prefix(b"big\0"))
            .unwrap();
        assert!(big > 10_000, "size {big}");
        let all = store
            .approximate_size(Space::Rows, &KeyRange::all())
            .unwrap();
        assert!(all >= big);
        assert_eq!(
            store
                .approximate_size(Space::Rows, &KeyRange::prefix(b"zzz"))
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .approximate_size(Space::Meta, &KeyRange::all())
                .unwrap(),
            0
        );
    }

    /// The newest write-ahead log of a closed store (memtables are not
    /// flushed on close, so every batch written since open is only there).
    fn newest_wal(dir: &Path) -> std::path::PathBuf {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .max()
            .expect("a WAL file")
    }

    /// A store holding keys 0..n, each written by its own synced batch,
    /// closed without a flush; returns the WAL's path.
    fn store_with_wal(dir: &Path, n: u64) -> std::path::PathBuf {
        let store = open(dir, true);
        for i in 0..n {
            put_all(&store, Space::Rows, &[(key("k", i), "value-of-a-row")]);
        }
        drop(store);
        newest_wal(dir)
    }

    fn present(dir: &Path, n: u64) -> Vec<u64> {
        let store = open(dir, true);
        (0..n)
            .filter(|i| store.get(Space::Rows, &key("k", *i)).unwrap().is_some())
            .collect()
    }

    #[test]
    fn a_torn_last_wal_record_is_dropped_alone() {
        let dir = tempfile::tempdir().unwrap();
        let wal = store_with_wal(dir.path(), 20);
        let len = std::fs::metadata(&wal).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
        file.set_len(len - 3).unwrap();
        drop(file);
        assert_eq!(present(dir.path(), 20), (0..19).collect::<Vec<_>>());
    }

    #[test]
    fn garbage_after_the_last_wal_record_is_ignored() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let wal = store_with_wal(dir.path(), 20);
        // What an interrupted append leaves: a header whose record never
        // made it to disk, then noise.
        let mut garbage = vec![0x5A, 0xA5, 0x3C, 0xC3, 0xFF, 0x7F, 0x01];
        garbage.extend((0u8..40).map(|i| i.wrapping_mul(37) ^ 0x55));
        let mut file = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
        file.write_all(&garbage).unwrap();
        drop(file);
        assert_eq!(present(dir.path(), 20), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn damage_inside_the_wal_fails_the_open_instead_of_dropping_records() {
        let dir = tempfile::tempdir().unwrap();
        let wal = store_with_wal(dir.path(), 20);
        let mut bytes = std::fs::read(&wal).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xFF;
        std::fs::write(&wal, &bytes).unwrap();
        let err = RocksStore::open(dir.path(), RocksOptions::default()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Io { op: "open", message } if message.contains("Corruption")),
            "{err}"
        );
    }

    #[test]
    fn open_on_a_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = RocksStore::open(&file, RocksOptions::default()).unwrap_err();
        assert!(matches!(err, StoreError::Io { op: "open", .. }), "{err}");
    }
}
