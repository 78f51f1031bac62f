//! RocksDB behind the [`HotStore`](kalamdb_store::HotStore) trait.
//!
//! This is the only crate that names RocksDB. It owns how the hot store sits
//! on disk (one column family per [`Space`](kalamdb_store::Space), LZ4, a
//! shared block cache) and its durability contract; it knows nothing of keys'
//! meaning, SQL or Arrow. Only the server's wiring depends on it: everything
//! else programs against the trait and tests against `MemoryStore`.
//!
//! Files: `rocks.rs` opens the store and reads it (live or at a snapshot);
//! `snapshot.rs` is the shareable snapshot; `hot_store.rs` implements the
//! trait over both.

mod hot_store;
mod rocks;
mod snapshot;

pub use rocks::{RocksOptions, RocksStore};
