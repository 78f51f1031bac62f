//! The hot-store interface of KalamDB.
//!
//! Owns typed storage keys ([`RowKey`], [`MetaKey`] and their prefix twins),
//! the one order-preserving byte encoding behind them ([`keycode`]), the
//! synchronous [`HotStore`] trait the engine writes through,
//! [`MemoryStore`], an in-memory implementation for tests, and
//! [`FaultyStore`], a wrapper that injects write and fsync failures.
//!
//! Modules, each importing only those listed before it: `error`; `keycode`
//! (the byte encoding); `store` (the trait and what it is called with:
//! [`Space`], [`KeyRange`], [`WriteBatch`]); `key` (typed keys, whose
//! prefixes are `KeyRange`s); `fault` and `memory` (implementations).
//!
//! It must not name RocksDB (that is `kalamdb-store-rocksdb`, wired in only by
//! the server) and knows nothing of SQL, Arrow or DataFusion: values are opaque
//! bytes here.

mod error;
mod fault;
mod key;
pub mod keycode;
mod memory;
mod store;

pub use error::{KeyError, StoreError};
pub use fault::{Fault, FaultSwitch, FaultyStore};
pub use key::{MetaKey, MetaPrefix, Partition, PkValue, RowKey, RowPrefix};
pub use keycode::{KeyReader, KeyWriter};
pub use memory::MemoryStore;
pub use store::{Direction, HotRead, HotStore, KeyRange, KvPair, Space, WriteBatch, WriteOp};
