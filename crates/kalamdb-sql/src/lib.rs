//! KalamDB's SQL front end.
//!
//! Owns turning request text into statements: [`split_statements`] cuts a request at
//! top-level `;` using sqlparser's tokenizer, and [`parse_statement`] parses one statement
//! into a [`KalamStatement`]. KalamDB's own statements (namespaces, `CREATE/ALTER/DROP TABLE`
//! with table kinds and options, users, storages, flush, `KILL`, `EXECUTE AS USER`,
//! `SUBSCRIBE TO`, transactions, `SHOW`/`DESCRIBE` of our catalog) are parsed here with
//! sqlparser's `Parser` API — never a hand-rolled SQL parser — and returned fully validated
//! against `sql.md`. Ordinary SQL (SELECT, INSERT, UPDATE, DELETE, EXPLAIN, SET, SHOW …)
//! is parsed by sqlparser with DataFusion's default `GenericDialect` and handed over
//! untouched as a `sqlparser::ast::Statement`; DDL that DataFusion must not run is refused.
//! Every parse runs under a work budget (`dialect.rs`), so no statement costs more than time
//! linear in its length, whatever sqlparser's backtracking would make of it.
//!
//! It must not execute anything, nor know about storage, the catalog's state, Arrow or
//! DataFusion: whether a table exists or a user may do something is decided by the engine.

mod datatype;
mod dialect;
mod error;
mod parser;
mod split;
mod statement;
mod values_scan;

pub use error::{SqlError, SqlErrorKind};
pub use parser::check_default;
pub use parser::{execute_as_parts, parse_statement, parse_statement_tokens};
pub use split::{split_statements, split_statements_with_tokens};
pub use statement::{
    AlterTableChange, AlterUserChange, ColumnSpec, CreateStorage, CreateTable, KalamStatement,
    ObjectRef, SubscribeToOptions, TableProperties,
};
pub use values_scan::{InsertRows, RowCell, scan_insert_rows};

/// Re-exported so callers name the exact sqlparser version our ASTs come from.
pub use sqlparser;
