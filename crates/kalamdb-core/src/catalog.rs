//! Layer `catalog`: what exists — namespaces, table definitions (with what
//! is derived from them), users, cold storages — and how names in
//! statements resolve to them. Persisted as `meta` records; changed only by
//! the commits of the layers above, after they are durable.
//!
//! May import: `error`, `access`, `row`.

pub mod bounded;
pub mod lifetime;
pub mod names;
pub mod records;
pub mod registry;
pub mod storage_registry;
pub mod table;

pub use records::{NamespaceRecord, UserRecord};
