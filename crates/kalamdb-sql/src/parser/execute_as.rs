//! `EXECUTE AS USER name (<statement>)`: one DML statement run as another user.
//!
//! The inner statement is kept as the exact text the user wrote (`inner_sql`, cut out of
//! the request by token positions) and parsed again as a whole statement, so it obeys
//! every rule a top-level statement does; only queries and DML may be wrapped.

use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::cursor::{ParserExt, expected};
use super::names::parse_user_name;
use crate::dialect::DIALECT;
use crate::error::SqlError;
use crate::split::{Locator, split_statements};
use crate::statement::KalamStatement;

/// After `EXECUTE AS USER`: `name (<statement>)`. `parse_statement` parses the inner
/// statement; the dispatcher passes itself in, since importing it here would make the two
/// modules depend on each other.
pub(crate) fn parse_execute_as_user(
    p: &mut Parser,
    sql: &str,
    parse_statement: fn(&str) -> Result<KalamStatement, SqlError>,
) -> Result<KalamStatement, SqlError> {
    let (user, inner_sql) = user_and_inner(p, sql)?;
    let inner = parse_statement(&inner_sql)?;
    let is_dml = matches!(
        &inner,
        KalamStatement::Standard(stmt) if matches!(
            stmt.as_ref(),
            Statement::Query(_) | Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)
        )
    );
    if !is_dml {
        return Err(SqlError::parse(
            "EXECUTE AS USER requires exactly one statement",
        ));
    }
    Ok(KalamStatement::ExecuteAsUser {
        user,
        inner_sql,
        inner: Box::new(inner),
    })
}

/// After `EXECUTE AS USER`: the user's name and the inner statement's text.
fn user_and_inner(p: &mut Parser, sql: &str) -> Result<(String, String), SqlError> {
    let user = parse_user_name(p)?;
    let open = p.expect_token(&Token::LParen)?;
    let mut depth = 0usize;
    let close = loop {
        let token = p.next_token();
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => break token,
            Token::RParen => depth -= 1,
            Token::EOF => return Err(expected(p, "')'", &token)),
            _ => {}
        }
    };
    let one_statement = || SqlError::parse("EXECUTE AS USER requires exactly one statement");
    let text = Locator::new(sql).slice(open.span.end, close.span.start);
    let inner_sql = match split_statements(text) {
        Ok(mut pieces) if pieces.len() == 1 => pieces.pop().ok_or_else(one_statement)?,
        Ok(_) | Err(_) => return Err(one_statement()),
    };
    Ok((user, inner_sql))
}

/// The user and the inner statement's text of `EXECUTE AS USER name
/// (<statement>)` as the full parse finds them (the same code), without
/// parsing the inner statement: what a cache of inner statements is keyed
/// by. `None` when the text is anything else or malformed (the full parse
/// then answers).
pub fn execute_as_parts(sql: &str, tokens: &[TokenWithSpan]) -> Option<(String, String)> {
    let mut p = Parser::new(&DIALECT).with_tokens_with_locations(tokens.to_vec());
    while p.consume_token(&Token::SemiColon) {}
    if !p.parse_keywords(&[Keyword::EXECUTE, Keyword::AS, Keyword::USER]) {
        return None;
    }
    let parts = user_and_inner(&mut p, sql).ok()?;
    p.expect_end().ok()?;
    Some(parts)
}
