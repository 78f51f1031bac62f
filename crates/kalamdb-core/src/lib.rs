//! The KalamDB engine.
//!
//! Owns the catalog (namespaces, tables, users, tokens revoked at logout), the commit pipeline (the one
//! place where writes become durable, `_seq` is assigned and constraints are
//! checked), the DataFusion session over catalog `kalam` with our
//! `TableProvider`s, and statement execution. Entry point: [`Engine::execute`].
//!
//! It speaks to storage only through the [`kalamdb_store::HotStore`] trait and
//! must not name RocksDB (the server wires the implementation in), nor know
//! HTTP, JSON wire shapes or authentication headers (that is `kalamdb-api`).

mod access;
mod catalog;
mod cold;
mod commit;
pub mod compact;
mod ddl;
mod dml;
mod engine;
mod error;
mod failpoint;
pub mod flush;
mod functions;
pub mod jobs;
mod jobs_sql;
pub mod live;
mod provider;
mod revocation;
mod row;
mod session;
mod storages;
mod stream;
mod system_tables;
mod users;

pub use catalog::{NamespaceRecord, UserRecord};
pub use commit::CommitStats;
pub use engine::{
    Caller, DmlKind, Engine, EngineConfig, ExecuteRequest, ParamValue, SetupOutcome,
    StatementError, StatementOutput, StatementResult, hash_password,
};
pub use error::{KalamError, Result};
pub use revocation::TokenDigest;
pub use stream::StreamEviction;
