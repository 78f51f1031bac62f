//! Layer `statements`: what each statement does. The dispatcher
//! (`executor.rs`: split, parse, parameters, one module per statement
//! family), the fast path for point writes and reads (`fast.rs`), namespaces, tables and storages DDL, users, STORAGE FLUSH and
//! COMPACT, UPDATE/DELETE and INSERT checks, RETURNING (`returning.rs`),
//! transactions (`txn.rs`), views (`views.rs`), SHOW/DESCRIBE and the
//! `system` tables, `SUBSCRIBE TO`. Permission checks name an
//! `access::Action`.
//!
//! May import every layer below; nothing below imports it (the `system`
//! schema reaches sessions through `read::SystemSchemas`).

pub mod alter_table;
pub mod describe;
pub mod dml;
pub mod executor;
pub mod fast;
pub mod namespace;
pub mod output;
pub mod returning;
pub mod storage_ddl;
pub mod storage_jobs;
pub mod subscribe;
pub mod sys_table;
pub mod system_tables;
pub mod table_ddl;
pub mod txn;
pub mod users;
pub mod views;

pub use output::{DmlKind, ExecuteRequest, StatementError, StatementOutput, StatementResult};
