//! `CREATE TABLE` (`sql.md` §2.1–2.4): syntax through sqlparser, then every column rule.
//!
//! The result is final: the engine persists [`CreateTable`] as given, so all rules that need
//! no state (names, types, keys, defaults, options per kind) are enforced here, in a fixed
//! order so that a statement with several mistakes always reports the same one.
//!
//! - `syntax.rs`: the statement's shape (name, column list, trailing clauses) and the order
//!   the rules run in; the entry point [`parse_create_table`].
//! - `columns.rs`: each column's rules, then the table-wide ones (duplicates, the key).
//! - `defaults.rs`: which DEFAULT a column may have and the text stored for it.
//! - `clauses.rs`: `USING`, `WITH (…)` and the seed-era clauses, settled per table kind.
//!
//! `ALTER TABLE` (`alter_table.rs`) applies the same column and option rules through the
//! items re-exported here.
//!
//! [`CreateTable`]: crate::CreateTable

mod clauses;
mod columns;
mod defaults;
mod syntax;
#[cfg(test)]
mod tests;

pub(crate) use clauses::{apply_property, parse_access_level, parse_option_list};
pub(crate) use columns::{build_column, column_name, is_auto_increment, unique_error};
pub use defaults::check_default;
pub(crate) use syntax::parse_create_table;
