//! `CREATE TABLE`'s syntax: the table name, the column list and the clauses after it, read
//! with sqlparser's `Parser`; the rules are applied by `columns.rs` and `clauses.rs`.

use kalamdb_types::TableType;
use sqlparser::ast::{ColumnDef, TableConstraint};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::clauses::parse_table_clauses;
use super::columns::build_columns;
use crate::error::SqlError;
use crate::parser::cursor::expected;
use crate::parser::names::parse_object_ref;
use crate::statement::CreateTable;

/// Parses the rest of `CREATE [kind] TABLE`; `keyword` is the kind keyword, if any.
pub(crate) fn parse_create_table(
    p: &mut Parser,
    keyword: Option<TableType>,
) -> Result<CreateTable, SqlError> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let table = parse_object_ref(p)?;
    if p.peek_keyword(Keyword::AS) {
        return Err(SqlError::unsupported("CREATE TABLE AS"));
    }
    let (defs, constraints) = parse_column_list(p)?;
    let clauses = parse_table_clauses(p)?;

    let columns = build_columns(&defs, &constraints)?;
    let resolved = clauses.resolve(keyword)?;
    Ok(CreateTable {
        table,
        if_not_exists,
        table_type: resolved.table_type,
        columns,
        options: resolved.options,
        ignored: resolved.ignored,
    })
}

/// `( column_def | table_constraint [, …] )`. Only constraint keywords that cannot name a
/// column start a constraint, so columns called `key` or `index` stay columns.
fn parse_column_list(p: &mut Parser) -> Result<(Vec<ColumnDef>, Vec<TableConstraint>), SqlError> {
    p.expect_token(&Token::LParen)?;
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    if p.consume_token(&Token::RParen) {
        return Err(SqlError::invalid(
            "CREATE TABLE requires at least one column",
        ));
    }
    loop {
        let constraint_start = [
            Keyword::CONSTRAINT,
            Keyword::PRIMARY,
            Keyword::UNIQUE,
            Keyword::FOREIGN,
            Keyword::CHECK,
        ];
        if p.peek_one_of_keywords(&constraint_start).is_some() {
            match p.parse_optional_table_constraint()? {
                Some(constraint) => constraints.push(constraint),
                None => return Err(expected(p, "a table constraint", p.peek_token_ref())),
            }
        } else {
            columns.push(p.parse_column_def()?);
        }
        if p.consume_token(&Token::Comma) {
            // A trailing comma before `)` is tolerated, as DataFusion does.
            if p.consume_token(&Token::RParen) {
                break;
            }
        } else {
            p.expect_token(&Token::RParen)?;
            break;
        }
    }
    if columns.is_empty() {
        return Err(SqlError::invalid(
            "CREATE TABLE requires at least one column",
        ));
    }
    Ok((columns, constraints))
}
