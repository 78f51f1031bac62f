//! The table statements other than `CREATE TABLE`: `DROP [kind] TABLE`, `SHOW TABLES`,
//! `DESCRIBE`, and telling a table statement from a user one after CREATE or DROP.
//!
//! `CREATE TABLE` has its own module (`create_table`) for its column and option rules.

use kalamdb_types::TableType;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

use super::names::{parse_object_ref, parse_optional_in_namespace};
use crate::error::SqlError;
use crate::statement::KalamStatement;

/// `[USER | SHARED | STREAM] TABLE` after CREATE or DROP: `Some(kind)` when it is a table
/// statement (kind `None` for plain `TABLE`). `USER` not followed by `TABLE` is left for
/// CREATE/DROP USER.
pub(crate) fn parse_table_kind(p: &mut Parser) -> Option<Option<TableType>> {
    for (keyword, kind) in [
        (Keyword::USER, TableType::User),
        (Keyword::SHARED, TableType::Shared),
        (Keyword::STREAM, TableType::Stream),
    ] {
        if p.parse_keywords(&[keyword, Keyword::TABLE]) {
            return Some(Some(kind));
        }
    }
    p.parse_keyword(Keyword::TABLE).then_some(None)
}

/// After `DROP [kind] TABLE`: `[IF EXISTS] t`.
pub(crate) fn parse_drop_table(
    p: &mut Parser,
    kind: Option<TableType>,
) -> Result<KalamStatement, SqlError> {
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let table = parse_object_ref(p)?;
    Ok(KalamStatement::DropTable {
        table,
        if_exists,
        kind,
    })
}

/// After `SHOW TABLES`: `[IN | FROM [NAMESPACE] ns]`.
pub(crate) fn parse_show_tables(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let namespace = parse_optional_in_namespace(p)?;
    Ok(KalamStatement::ShowTables { namespace })
}

/// After `DESCRIBE` or `DESC`: `[TABLE] t [HISTORY]`.
pub(crate) fn parse_describe_table(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let _ = p.parse_keyword(Keyword::TABLE);
    let table = parse_object_ref(p)?;
    let history = p.parse_keyword(Keyword::HISTORY);
    Ok(KalamStatement::DescribeTable { table, history })
}
