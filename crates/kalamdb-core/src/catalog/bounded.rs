//! A map of bounded size that keeps what is in use ([`BoundedMap`]): behind
//! the plan cache, the statement fast path's shapes and the recently read
//! user records.

use std::collections::HashMap;
use std::hash::Hash;

use parking_lot::Mutex;

/// A map of at most `2 × half` entries: two halves, the newer taking
/// inserts; when it is full the older is dropped and the newer becomes the
/// older. A hit in the older half moves the entry to the newer one, so
/// what is in use survives (an approximate LRU without a list to keep).
pub struct BoundedMap<K, V> {
    half: usize,
    halves: Mutex<(HashMap<K, V>, HashMap<K, V>)>,
}

impl<K: Hash + Eq, V: Clone> BoundedMap<K, V> {
    pub fn new(half: usize) -> Self {
        Self {
            half: half.max(1),
            halves: Mutex::new((HashMap::new(), HashMap::new())),
        }
    }

    pub fn get(&self, key: &K) -> Option<V>
    where
        K: Clone,
    {
        let mut h = self.halves.lock();
        if let Some(v) = h.0.get(key) {
            return Some(v.clone());
        }
        let v = h.1.remove(key)?;
        Self::insert_into(&mut h, self.half, key.clone(), v.clone());
        Some(v)
    }

    pub fn put(&self, key: K, value: V) {
        let mut h = self.halves.lock();
        Self::insert_into(&mut h, self.half, key, value);
    }

    fn insert_into(h: &mut (HashMap<K, V>, HashMap<K, V>), half: usize, key: K, value: V) {
        if h.0.len() >= half {
            h.1 = std::mem::take(&mut h.0);
        }
        h.0.insert(key, value);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        let h = self.halves.lock();
        h.0.len() + h.1.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_bounded_and_keeps_what_is_used() {
        let map: BoundedMap<String, u32> = BoundedMap::new(64);
        map.put("kept".into(), 7);
        for i in 0..64 * 5 {
            map.put(format!("q{i}"), 1);
            assert_eq!(map.get(&"kept".to_string()), Some(7), "lost after {i}");
            assert!(map.len() <= 128);
        }
        assert_eq!(map.get(&"q0".to_string()), None, "old entries are dropped");
    }
}
