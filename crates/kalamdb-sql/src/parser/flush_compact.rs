//! `STORAGE FLUSH` / `FLUSH` and `STORAGE COMPACT`: which tables to flush or compact.
//!
//! Both take the same target, so it is read once here and only the statement built from it
//! differs.

use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

use super::cursor::expected;
use super::names::{parse_object_ref, parse_optional_in_namespace};
use crate::error::SqlError;
use crate::statement::{KalamStatement, ObjectRef};

/// What a FLUSH or COMPACT applies to.
enum Target {
    Table(ObjectRef),
    All { namespace: Option<String> },
}

/// After `STORAGE FLUSH` / `FLUSH`: `TABLE t` or `ALL [TABLES] [IN [NAMESPACE] ns]`.
pub(crate) fn parse_flush(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    Ok(match parse_target(p, "FLUSH")? {
        Target::Table(table) => KalamStatement::StorageFlushTable { table },
        Target::All { namespace } => KalamStatement::StorageFlushAll { namespace },
    })
}

/// After `STORAGE COMPACT`: `TABLE t` or `ALL [TABLES] [IN [NAMESPACE] ns]`.
pub(crate) fn parse_compact(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    Ok(match parse_target(p, "COMPACT")? {
        Target::Table(table) => KalamStatement::StorageCompactTable { table },
        Target::All { namespace } => KalamStatement::StorageCompactAll { namespace },
    })
}

/// `TABLE t` or `ALL [TABLES] [IN [NAMESPACE] ns]`, after the word `verb`.
fn parse_target(p: &mut Parser, verb: &str) -> Result<Target, SqlError> {
    if p.parse_keyword(Keyword::TABLE) {
        return Ok(Target::Table(parse_object_ref(p)?));
    }
    if p.parse_keyword(Keyword::ALL) {
        let _ = p.parse_keyword(Keyword::TABLES);
        let namespace = parse_optional_in_namespace(p)?;
        return Ok(Target::All { namespace });
    }
    Err(expected(
        p,
        &format!("TABLE or ALL after {verb}"),
        p.peek_token_ref(),
    ))
}
