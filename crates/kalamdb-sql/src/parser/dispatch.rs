//! One statement's way through the parser: tokenized once, recognised by its leading words
//! as one of ours and handed to that statement family's module, or else parsed as ordinary
//! SQL (`standard.rs`).
//!
//! The whole parse runs under the dialect's work budget (`dialect.rs`). The families that
//! parse a statement inside a statement (`EXECUTE AS USER`, `SUBSCRIBE TO`'s round-trip
//! check) are handed [`parse_statement`] instead of importing it, so no family imports this
//! file back.

use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::alter_table::parse_alter_table;
use super::create_table::parse_create_table;
use super::cursor::ParserExt;
use super::execute_as::parse_execute_as_user;
use super::flush_compact::{parse_compact, parse_flush};
use super::names::parse_loose_name;
use super::namespaces::{
    parse_create_namespace, parse_drop_namespace, parse_set_namespace, parse_use_namespace,
};
use super::standard::parse_standard;
use super::storage_ddl::{parse_alter_storage, parse_create_storage, parse_drop_storage};
use super::subscribe::parse_subscribe_to;
use super::tables::{parse_describe_table, parse_drop_table, parse_show_tables, parse_table_kind};
use super::users::{parse_alter_user, parse_create_user, parse_drop_user};
use super::views::{parse_create_view, parse_drop_view};
use crate::dialect::{BudgetExhausted, DIALECT, with_budget};
use crate::error::SqlError;
use crate::split::{is_trivia, tokenize};
use crate::statement::KalamStatement;

/// Parses one statement's text (as returned by [`split_statements`]). A trailing `;` is
/// allowed; anything else after the statement is an error.
///
/// [`split_statements`]: crate::split_statements
pub fn parse_statement(sql: &str) -> Result<KalamStatement, SqlError> {
    let tokens = tokenize(sql).map_err(|e| SqlError::parse(e.to_string()))?;
    parse_statement_tokens(sql, tokens)
}

/// [`parse_statement`] of `sql` already tokenized (as the splitter did it;
/// see `split::split_statements_with_tokens`): a request's text is then
/// tokenized once.
pub fn parse_statement_tokens(
    sql: &str,
    mut tokens: Vec<TokenWithSpan>,
) -> Result<KalamStatement, SqlError> {
    if tokens
        .iter()
        .all(|t| is_trivia(&t.token) || t.token == Token::SemiColon)
    {
        return Err(SqlError::empty());
    }
    call_current_user_as_function(&mut tokens);
    let significant = tokens.iter().filter(|t| !is_trivia(&t.token)).count();
    with_budget(significant, || parse_tokens(sql, tokens)).unwrap_or_else(|BudgetExhausted| {
        Err(SqlError::parse(
            "Statement is too complex to parse (too deeply nested); simplify it",
        ))
    })
}

/// [`parse_statement`] once the text is tokens.
fn parse_tokens(sql: &str, tokens: Vec<TokenWithSpan>) -> Result<KalamStatement, SqlError> {
    // None of our statements starts with these words: no copy of the tokens
    // for an attempt that cannot succeed (a long INSERT has many).
    let first = tokens
        .iter()
        .find(|t| !is_trivia(&t.token) && t.token != Token::SemiColon);
    if let Some(Token::Word(w)) = first.map(|t| &t.token)
        && w.quote_style.is_none()
        && matches!(
            w.keyword,
            Keyword::SELECT | Keyword::INSERT | Keyword::UPDATE | Keyword::DELETE | Keyword::WITH
        )
    {
        return parse_standard(tokens);
    }
    let mut p = Parser::new(&DIALECT).with_tokens_with_locations(tokens.clone());
    while p.consume_token(&Token::SemiColon) {}
    if let Some(stmt) = parse_kalam_statement(&mut p, sql)? {
        p.expect_end()?;
        return Ok(stmt);
    }
    parse_standard(tokens)
}

/// `CURRENT_USER()` is one of our functions (`sql.md` §2.4), but sqlparser treats
/// `CURRENT_USER` as a niladic keyword and then chokes on the `()`. Demoting the keyword to a
/// plain word when parentheses follow makes it an ordinary function call everywhere.
fn call_current_user_as_function(tokens: &mut [TokenWithSpan]) {
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens.get(i).is_some_and(|t| !is_trivia(&t.token)))
        .collect();
    for pair in significant.windows(2) {
        let [word, next] = pair else { continue };
        if tokens.get(*next).map(|t| &t.token) != Some(&Token::LParen) {
            continue;
        }
        if let Some(Token::Word(w)) = tokens.get_mut(*word).map(|t| &mut t.token)
            && w.keyword == Keyword::CURRENT_USER
            && w.quote_style.is_none()
        {
            w.keyword = Keyword::NoKeyword;
        }
    }
}

/// Our statements; `None` when the text is not one of them (the parser is then discarded).
fn parse_kalam_statement(p: &mut Parser, sql: &str) -> Result<Option<KalamStatement>, SqlError> {
    let stmt = if p.parse_keyword(Keyword::CREATE) {
        if p.parse_word("NAMESPACE") {
            parse_create_namespace(p)?
        } else if let Some(kind) = parse_table_kind(p) {
            KalamStatement::CreateTable(parse_create_table(p, kind)?)
        } else if p.parse_keyword(Keyword::USER) {
            parse_create_user(p)?
        } else if p.parse_keyword(Keyword::STORAGE) {
            parse_create_storage(p)?
        } else if p.parse_keyword(Keyword::VIEW) {
            parse_create_view(p, false)?
        } else if p.parse_keywords(&[Keyword::OR, Keyword::REPLACE, Keyword::VIEW]) {
            parse_create_view(p, true)?
        } else {
            return Ok(None);
        }
    } else if p.parse_keyword(Keyword::DROP) {
        if p.parse_word("NAMESPACE") {
            parse_drop_namespace(p)?
        } else if let Some(kind) = parse_table_kind(p) {
            parse_drop_table(p, kind)?
        } else if p.parse_keyword(Keyword::USER) {
            parse_drop_user(p)?
        } else if p.parse_keyword(Keyword::STORAGE) {
            parse_drop_storage(p)?
        } else if p.parse_keyword(Keyword::VIEW) {
            parse_drop_view(p)?
        } else {
            return Ok(None);
        }
    } else if p.parse_keyword(Keyword::ALTER) {
        if p.parse_keyword(Keyword::TABLE) {
            parse_alter_table(p)?
        } else if p.parse_keyword(Keyword::USER) {
            parse_alter_user(p)?
        } else if p.parse_keyword(Keyword::STORAGE) {
            parse_alter_storage(p)?
        } else {
            return Ok(None);
        }
    } else if p.parse_keyword(Keyword::SHOW) {
        if p.parse_word("NAMESPACES") {
            KalamStatement::ShowNamespaces
        } else if p.parse_keyword(Keyword::TABLES) {
            parse_show_tables(p)?
        } else if p.parse_word("STORAGES") {
            KalamStatement::ShowStorages
        } else {
            return Ok(None);
        }
    } else if p.parse_keyword(Keyword::USE) {
        parse_use_namespace(p)?
    } else if p.parse_words(&["SET", "NAMESPACE"]) {
        parse_set_namespace(p)?
    } else if p
        .parse_one_of_keywords(&[Keyword::DESCRIBE, Keyword::DESC])
        .is_some()
    {
        parse_describe_table(p)?
    } else if p.parse_keywords(&[Keyword::STORAGE, Keyword::FLUSH]) {
        parse_flush(p)?
    } else if p.peek_keyword(Keyword::STORAGE) && p.peek_nth_word(1, "COMPACT") {
        p.advance_token();
        p.advance_token();
        parse_compact(p)?
    } else if p.peek_keyword(Keyword::FLUSH)
        && (p.peek_nth_word(1, "TABLE") || p.peek_nth_word(1, "ALL"))
    {
        p.advance_token();
        parse_flush(p)?
    } else if p.parse_words(&["KILL", "JOB"]) {
        KalamStatement::KillJob {
            job_id: parse_loose_name(p)?,
        }
    } else if p.parse_words(&["KILL", "LIVE", "QUERY"]) {
        KalamStatement::KillLiveQuery {
            live_id: parse_loose_name(p)?,
        }
    } else if p.parse_keywords(&[Keyword::EXECUTE, Keyword::AS, Keyword::USER]) {
        parse_execute_as_user(p, sql, parse_statement)?
    } else if p.parse_words(&["SUBSCRIBE", "TO"]) {
        parse_subscribe_to(p, parse_statement)?
    } else if p.parse_keyword(Keyword::BEGIN) {
        let _ = p.parse_one_of_keywords(&[Keyword::TRANSACTION, Keyword::WORK]);
        KalamStatement::Begin
    } else if p.parse_keywords(&[Keyword::START, Keyword::TRANSACTION]) {
        KalamStatement::Begin
    } else if p.parse_keyword(Keyword::COMMIT) {
        let _ = p.parse_one_of_keywords(&[Keyword::TRANSACTION, Keyword::WORK]);
        KalamStatement::Commit
    } else if p.parse_keyword(Keyword::ROLLBACK) {
        let _ = p.parse_one_of_keywords(&[Keyword::TRANSACTION, Keyword::WORK]);
        KalamStatement::Rollback
    } else {
        return Ok(None);
    };
    Ok(Some(stmt))
}
