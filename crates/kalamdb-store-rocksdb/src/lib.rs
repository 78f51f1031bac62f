//! RocksDB behind the [`HotStore`](kalamdb_store::HotStore) trait.
//!
//! This is the only crate that names RocksDB. It owns how the hot store sits
//! on disk (one column family per [`Space`](kalamdb_store::Space), LZ4, a
//! shared block cache) and its durability contract; it knows nothing of keys'
//! meaning, SQL or Arrow. Only the server's wiring depends on it: everything
//! else programs against the trait and tests against `MemoryStore`.

mod rocks;

pub use rocks::{RocksOptions, RocksStore};
