//! Bounded LRU caches of what point lookups read before any row: segment
//! footers (Parquet metadata with page indexes) and row-group bloom
//! filters. Key uniqueness checks on INSERT look up keys that are usually
//! absent; with both cached, such a lookup does no I/O at all.
//!
//! Segments are immutable once a manifest lists them, so a cached entry
//! stays right. Writes and deletes through the owning `ColdStore`
//! invalidate their path (a retried flush may rewrite a file that no
//! manifest listed yet); a generation counter keeps a load that raced such
//! an invalidation from inserting a stale entry.
//!
//! [`Footer`], the cached form of a footer, is defined here rather than with
//! the readers that fill the cache, because `ColdStore` owns the cache and
//! the readers use `ColdStore`: both import it from this leaf.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use parquet::arrow::arrow_reader::ArrowReaderMetadata;

use crate::checksum::BlockChecksums;

/// Bounds of the footer cache: enough entries for every segment a busy
/// node touches repeatedly; bytes because decoded metadata of wide tables
/// can be tens of KiB.
pub(crate) const FOOTER_ENTRIES: usize = 1024;
pub(crate) const FOOTER_BYTES: usize = 64 * 1024 * 1024;
/// Bounds of the bloom filter cache (about 1.5 bytes per key at 1% false
/// positives: 64 MiB covers some 40 million cold keys).
pub(crate) const BLOOM_ENTRIES: usize = 8192;
pub(crate) const BLOOM_BYTES: usize = 64 * 1024 * 1024;

/// A segment's footer as the cache keeps it: Parquet's metadata and, for
/// a checked segment, the data blocks' CRCs it holds (parsed once).
#[derive(Clone)]
pub(crate) struct Footer {
    pub(crate) meta: ArrowReaderMetadata,
    pub(crate) blocks: Option<Arc<BlockChecksums>>,
}

pub(crate) struct Cache<V> {
    inner: Mutex<Lru<V>>,
    max_entries: usize,
    max_bytes: usize,
}

struct Lru<V> {
    /// key → (value, its size, last-use tick)
    map: HashMap<String, (V, usize, u64)>,
    /// last-use tick → key, oldest first.
    by_use: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
    /// Bumped by every invalidation.
    generation: u64,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Lru {
                map: HashMap::new(),
                by_use: BTreeMap::new(),
                tick: 0,
                bytes: 0,
                generation: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let mut lru = self.inner.lock();
        lru.tick += 1;
        let tick = lru.tick;
        let (value, old_tick) = {
            let (value, _, used) = lru.map.get_mut(key)?;
            let old = std::mem::replace(used, tick);
            (value.clone(), old)
        };
        lru.by_use.remove(&old_tick);
        lru.by_use.insert(tick, key.to_string());
        Some(value)
    }

    /// The generation to pass to [`Self::insert`] for a load starting now.
    pub(crate) fn generation(&self) -> u64 {
        self.inner.lock().generation
    }

    /// Caches `value` (of `size` bytes) unless an invalidation happened
    /// since `generation`.
    pub(crate) fn insert(&self, key: &str, value: V, size: usize, generation: u64) {
        let mut lru = self.inner.lock();
        if lru.generation != generation || size > self.max_bytes / 4 {
            return;
        }
        lru.remove(key);
        lru.tick += 1;
        let tick = lru.tick;
        lru.map.insert(key.to_string(), (value, size, tick));
        lru.by_use.insert(tick, key.to_string());
        lru.bytes += size;
        while lru.map.len() > self.max_entries || lru.bytes > self.max_bytes {
            let Some((_, oldest)) = lru.by_use.pop_first() else {
                break;
            };
            lru.remove(&oldest);
        }
    }

    pub(crate) fn invalidate(&self, key: &str) {
        let mut lru = self.inner.lock();
        lru.generation += 1;
        lru.remove(key);
    }

    /// Drops every key starting with `prefix`.
    pub(crate) fn invalidate_prefix(&self, prefix: &str) {
        let mut lru = self.inner.lock();
        lru.generation += 1;
        let doomed: Vec<String> = lru
            .map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in doomed {
            lru.remove(&k);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.lock().map.len()
    }
}

impl<V> Lru<V> {
    fn remove(&mut self, key: &str) {
        if let Some((_, size, tick)) = self.map.remove(key) {
            self.by_use.remove(&tick);
            self.bytes -= size;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first() {
        let cache: Cache<u32> = Cache::new(3, 1_000);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            cache.insert(k, i as u32, 1, cache.generation());
        }
        assert_eq!(cache.get("a"), Some(0));
        cache.insert("d", 3, 1, cache.generation());
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b"), None, "b was the least recently used");
        assert_eq!(
            (cache.get("a"), cache.get("c"), cache.get("d")),
            (Some(0), Some(2), Some(3))
        );
    }

    #[test]
    fn the_byte_bound_evicts_too() {
        let cache: Cache<u32> = Cache::new(100, 1_000);
        cache.insert("a", 1, 200, cache.generation());
        cache.insert("b", 2, 200, cache.generation());
        cache.insert("c", 3, 200, cache.generation());
        cache.insert("d", 4, 200, cache.generation());
        cache.insert("e", 5, 201, cache.generation());
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.len(), 4);
        // Anything above a quarter of the budget is not cached at all.
        cache.insert("huge", 6, 251, cache.generation());
        assert_eq!(cache.get("huge"), None);
        assert_eq!(cache.get("e"), Some(5));
    }

    #[test]
    fn invalidation_beats_a_racing_load() {
        let cache: Cache<u32> = Cache::new(10, 1_000);
        let before = cache.generation();
        cache.invalidate("a/x");
        cache.insert("a/x", 1, 1, before);
        assert_eq!(cache.get("a/x"), None, "stale load was cached");
        for k in ["a/x", "a/y#0", "b/z"] {
            cache.insert(k, 1, 1, cache.generation());
        }
        cache.invalidate_prefix("a/");
        assert_eq!((cache.get("a/x"), cache.get("a/y#0")), (None, None));
        assert_eq!(cache.get("b/z"), Some(1));
        cache.invalidate("b/z");
        assert_eq!(cache.len(), 0);
    }
}
