//! Ordinary SQL: parsed by sqlparser and handed over untouched, but only the statements
//! DataFusion may run for us.
//!
//! DDL goes through our own statements (or is not supported), and nothing may reach files
//! or other catalogs, so everything else is refused here with a short name for the message.

use sqlparser::ast::Statement;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::cursor::ParserExt;
use crate::dialect::DIALECT;
use crate::error::SqlError;
use crate::statement::KalamStatement;

/// A statement that is not one of ours, from its tokens.
pub(crate) fn parse_standard(tokens: Vec<TokenWithSpan>) -> Result<KalamStatement, SqlError> {
    let mut p = Parser::new(&DIALECT).with_tokens_with_locations(tokens);
    while p.consume_token(&Token::SemiColon) {}
    let stmt = p.parse_statement()?;
    p.expect_end()?;
    check_supported(&stmt)?;
    Ok(KalamStatement::Standard(Box::new(stmt)))
}

/// Refuses standard statements DataFusion must not run for us.
fn check_supported(stmt: &Statement) -> Result<(), SqlError> {
    match stmt {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Set(_)
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. } => Ok(()),
        Statement::Explain { statement, .. } => match statement.as_ref() {
            Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_) => Ok(()),
            other => Err(SqlError::unsupported(&format!(
                "EXPLAIN {}",
                statement_label(other)
            ))),
        },
        other => Err(SqlError::unsupported(&statement_label(other))),
    }
}

/// A short name for an unsupported statement, for the error message.
fn statement_label(stmt: &Statement) -> String {
    let label = match stmt {
        Statement::CreateView(_) => "CREATE VIEW",
        Statement::CreateTable(ct) if ct.external => "CREATE EXTERNAL TABLE",
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::CreateSchema { .. } => "CREATE SCHEMA",
        Statement::CreateDatabase { .. } => "CREATE DATABASE",
        Statement::CreateIndex(_) => "CREATE INDEX",
        Statement::CreateFunction(_) => "CREATE FUNCTION",
        Statement::AlterTable(_) => "ALTER TABLE",
        Statement::AlterView { .. } => "ALTER VIEW",
        Statement::Drop { object_type, .. } => return format!("DROP {object_type}"),
        Statement::Truncate(_) => "TRUNCATE",
        Statement::Copy { .. } => "COPY",
        other => {
            // sqlparser prints keywords upper-case and identifiers as written, so the
            // leading upper-case words of the SQL text name the statement.
            let text = other.to_string();
            let words: Vec<&str> = text
                .split_whitespace()
                .take(2)
                .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                .collect();
            return if words.is_empty() {
                "statement".to_string()
            } else {
                words.join(" ")
            };
        }
    };
    label.to_string()
}
