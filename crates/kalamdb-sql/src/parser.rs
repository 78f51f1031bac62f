//! Recognising KalamDB's statements and handing everything else to sqlparser.
//!
//! A statement is tokenized once; its leading words decide whether it is one of ours
//! (namespaces, KalamDB tables, users, storages, flush, jobs, EXECUTE AS USER,
//! SUBSCRIBE TO, transactions), parsed here with sqlparser's `Parser` primitives, or
//! ordinary SQL, parsed by `Parser::parse_statement` and passed on untouched as long as it
//! is something DataFusion may run. Keywords that sqlparser does not know (`NAMESPACE`,
//! `TTL`, …) are matched as unquoted words, so a quoted `"namespace"` stays an identifier.
//!
//! - `dispatch.rs`: [`parse_statement`], the budget, and which family a statement goes to.
//! - `standard.rs`: ordinary SQL, and refusing what DataFusion must not run.
//! - One module per family of our statements: `namespaces.rs`, `tables.rs` (DROP, SHOW,
//!   DESCRIBE), `create_table.rs`, `alter_table.rs` (which applies `create_table.rs`'s
//!   column and option rules), `views.rs`, `users.rs`, `storage_ddl.rs` (CREATE/ALTER/DROP
//!   STORAGE), `flush_compact.rs`, `execute_as.rs`, `subscribe.rs`. KILL and the
//!   transaction statements are a few words each and stay in `dispatch.rs`.
//! - Helpers the families share and that import none of them: `cursor.rs` (words, errors,
//!   settings given once) and `names.rs` (folding and validating names).

mod alter_table;
mod create_table;
mod cursor;
mod dispatch;
mod execute_as;
mod flush_compact;
mod names;
mod namespaces;
mod standard;
mod storage_ddl;
mod subscribe;
mod tables;
#[cfg(test)]
mod tests;
mod users;
mod views;

pub use create_table::check_default;
pub use dispatch::{parse_statement, parse_statement_tokens};
pub use execute_as::execute_as_parts;
