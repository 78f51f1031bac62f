//! The KalamDB engine.
//!
//! Owns the catalog (namespaces, tables, users, storages), the commit
//! pipeline (the one place where writes become durable, `_seq` is assigned
//! and constraints are checked), the DataFusion sessions over catalog
//! `kalam` with our `TableProvider`s, statement execution, background work
//! (flush, compaction, STREAM eviction) and live queries. Entry point:
//! [`Engine::execute`].
//!
//! It speaks to storage only through the [`kalamdb_store::HotStore`] trait and
//! must not name RocksDB (the server wires the implementation in), nor know
//! HTTP, JSON wire shapes or authentication headers (that is `kalamdb-api`).
//!
//! # Layers
//!
//! One module per layer, declared below bottom layer first. A module may
//! import only the modules declared before it (`scripts/check-structure.py`
//! checks this, and that no two files import each other in a loop):
//!
//! 1. `error` — [`KalamError`] and its wire codes.
//! 2. `access` — who asks ([`Caller`]) and the permission matrix.
//! 3. `row` — the stored row format and its Arrow conversions.
//! 4. `catalog` — namespaces, tables, users, storages; name resolution.
//! 5. `tiers` — reading the hot tier and the Parquet segments.
//! 6. `write` — the commit pipeline, INSERT/UPDATE/DELETE commits, `Shared`.
//! 7. `read` — DataFusion sessions, table providers, scans.
//! 8. `accounts` — user records and revoked tokens.
//! 9. `maintenance` — jobs, flush, compaction, deletion, STREAM eviction.
//! 10. `live` — live-query planning, snapshots, routing.
//! 11. `statements` — what each statement does; the `system` tables.
//! 12. `engine` — [`Engine`]: wiring and the public API.

pub mod access;
mod accounts;
mod catalog;
mod engine;
mod error;
pub mod live;
mod maintenance;
mod read;
mod row;
mod statements;
mod tiers;
mod write;

pub use access::Caller;
pub use accounts::{SetupOutcome, TokenDigest, hash_password};
pub use catalog::{NamespaceRecord, UserRecord};
pub use engine::{Engine, EngineConfig};
pub use error::{KalamError, Result};
pub use kalamdb_types::ParamValue;
pub use live::LiveConfig;
pub use maintenance::{
    CompactOutcome, CompactionConfig, FlushOutcome, JobRecord, JobStatus, JobsConfig,
    StreamEviction, grace_of_days,
};
pub use statements::{DmlKind, ExecuteRequest, StatementError, StatementOutput, StatementResult};
pub use write::CommitStats;
