//! `SUBSCRIBE TO t [WHERE p] [OPTIONS (…)]` and `SUBSCRIBE TO <query> [OPTIONS (…)]`.
//!
//! Both forms become one query the engine keeps as printed text; a query that would not
//! print back as the same SQL is refused here rather than silently changed.

use sqlparser::ast::{Expr, ObjectName, Query, SetExpr, Statement, TableFactor};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::cursor::{ParserExt, expected, is_word};
use crate::dialect::DIALECT;
use crate::error::SqlError;
use crate::split::is_trivia;
use crate::statement::{KalamStatement, SubscribeToOptions};

/// After `SUBSCRIBE TO`: a table with an optional predicate, or a query, then the options.
/// `parse_statement` re-parses the printed query; the dispatcher passes itself in, since
/// importing it here would make the two modules depend on each other.
///
/// The trailing OPTIONS clause is cut off before the body is parsed, because in
/// `… FROM t OPTIONS (…)` sqlparser would take `OPTIONS` for a table alias. Errors in the
/// options are INVALID_SQL like any other error in a subscription's text (`sql.md` §6).
pub(crate) fn parse_subscribe_to(
    p: &mut Parser,
    parse_statement: fn(&str) -> Result<KalamStatement, SqlError>,
) -> Result<KalamStatement, SqlError> {
    let mut body = Vec::new();
    while let Some(token) = p.next_token_no_skip() {
        body.push(token.clone());
    }
    let options = trailing_options_start(&body).map(|start| body.split_off(start));

    let mut q = Parser::new(&DIALECT).with_tokens_with_locations(body);
    let query = if q.peek_keyword(Keyword::SELECT)
        || q.peek_keyword(Keyword::WITH)
        || q.peek_token_ref().token == Token::LParen
    {
        q.parse_query()?
    } else {
        let table = q.parse_object_name(false)?;
        let selection = if q.parse_keyword(Keyword::WHERE) {
            Some(q.parse_expr()?)
        } else {
            None
        };
        select_star(table, selection)?
    };
    q.expect_end()?;

    let options = match options {
        Some(tokens) => parse_subscribe_options(tokens)?,
        None => SubscribeToOptions::default(),
    };
    check_prints_faithfully(&query, parse_statement)?;
    Ok(KalamStatement::SubscribeTo { query, options })
}

/// The engine keeps a `SUBSCRIBE TO` query as its printed text (`query.to_string()`), which
/// is parsed again whenever the subscription is planned. sqlparser prints a string or quoted
/// name that contains `''` or `\'` without escaping it, so that text can mean something
/// else: `'a\'' OR 1=1 --'` (one string) comes back as the string `'a\'` followed by
/// `OR 1=1`. A query whose printed text does not parse back to the same query is refused
/// rather than silently changed.
fn check_prints_faithfully(
    query: &Query,
    parse_statement: fn(&str) -> Result<KalamStatement, SqlError>,
) -> Result<(), SqlError> {
    let printed = query.to_string();
    let same = match parse_statement(&printed) {
        Ok(KalamStatement::Standard(stmt)) => {
            matches!(*stmt, Statement::Query(ref reparsed) if **reparsed == *query)
        }
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(SqlError::parse(
            "SUBSCRIBE TO cannot keep this query exactly: printed back as SQL it would mean \
             something else (a string or quoted name containing '' or \\'); subscribe over \
             the WebSocket with the query text instead",
        ))
    }
}

/// Where a closing `OPTIONS ( … )` starts in `tokens`, if the statement ends with one (only
/// `;` may follow its parenthesis). Walking back from the end finds the parenthesis that
/// matches the last `)`, so parentheses inside the options or the query cannot confuse it.
fn trailing_options_start(tokens: &[TokenWithSpan]) -> Option<usize> {
    let mut backwards = tokens
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, t)| !is_trivia(&t.token))
        .skip_while(|(_, t)| t.token == Token::SemiColon);
    let mut depth = 0usize;
    loop {
        let (_, token) = backwards.next()?;
        match token.token {
            Token::RParen => depth += 1,
            Token::LParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    break;
                }
            }
            _ if depth == 0 => return None,
            _ => {}
        }
    }
    let (start, token) = backwards.next()?;
    is_word(&token.token, "OPTIONS").then_some(start)
}

/// `SELECT * FROM table [WHERE selection]`, built from a parsed template so the name and the
/// predicate stay exactly the AST the user's text produced (no printing and re-parsing).
fn select_star(table: ObjectName, selection: Option<Expr>) -> Result<Box<Query>, SqlError> {
    let mut query = Parser::new(&DIALECT)
        .try_with_sql("SELECT * FROM t")?
        .parse_query()?;
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(SqlError::parse("Invalid SUBSCRIBE statement"));
    };
    let Some(TableFactor::Table { name, .. }) = select.from.first_mut().map(|f| &mut f.relation)
    else {
        return Err(SqlError::parse("Invalid SUBSCRIBE statement"));
    };
    *name = table;
    select.selection = selection;
    Ok(query)
}

/// The options `SUBSCRIBE TO` accepts.
#[derive(Clone, Copy)]
enum SubscribeOption {
    LastRows,
    BatchSize,
    From,
}

/// `OPTIONS (name = value, …)`: names in any case, each at most once, integer values.
fn parse_subscribe_options(tokens: Vec<TokenWithSpan>) -> Result<SubscribeToOptions, SqlError> {
    let mut p = Parser::new(&DIALECT).with_tokens_with_locations(tokens);
    p.expect_word("OPTIONS")?;
    p.expect_token(&Token::LParen)?;
    let mut options = SubscribeToOptions::default();
    loop {
        let written = p.parse_identifier()?.value;
        let name = written.to_ascii_lowercase();
        let (option, taken) = match name.as_str() {
            "last_rows" => (SubscribeOption::LastRows, options.last_rows.is_some()),
            "batch_size" => (SubscribeOption::BatchSize, options.batch_size.is_some()),
            "from" => (SubscribeOption::From, options.from.is_some()),
            _ => {
                return Err(SqlError::parse(format!(
                    "Unknown SUBSCRIBE option '{written}'"
                )));
            }
        };
        if taken {
            return Err(SqlError::parse(format!("Duplicate option '{name}'")));
        }
        p.expect_token(&Token::Eq)?;
        let invalid = || SqlError::parse(format!("Invalid {name} value"));
        let text = subscribe_option_value(&mut p, option, invalid)?;
        match option {
            SubscribeOption::LastRows => {
                options.last_rows = Some(text.parse().map_err(|_| invalid())?);
            }
            SubscribeOption::BatchSize => {
                let size = text.parse::<u64>().ok().filter(|n| *n > 0);
                options.batch_size = Some(size.ok_or_else(invalid)?);
            }
            SubscribeOption::From => options.from = Some(text.parse().map_err(|_| invalid())?),
        }
        if !p.consume_token(&Token::Comma) {
            p.expect_token(&Token::RParen)?;
            break;
        }
    }
    p.expect_end()?;
    Ok(options)
}

/// The text of an option's value: a number, possibly negative (so that the range check can
/// name the option), or for `from` a quoted decimal, the way clients pass a `_seq` that a
/// JSON number would round. A word or a quoted value elsewhere is a bad value, not a syntax
/// error: the user plainly meant to give one.
fn subscribe_option_value(
    p: &mut Parser,
    option: SubscribeOption,
    invalid: impl Fn() -> SqlError,
) -> Result<String, SqlError> {
    let token = p.next_token();
    match token.token {
        Token::Number(n, _) => Ok(n),
        Token::Minus => match p.next_token().token {
            Token::Number(n, _) => Ok(format!("-{n}")),
            _ => Err(invalid()),
        },
        Token::SingleQuotedString(s) if matches!(option, SubscribeOption::From) => Ok(s),
        Token::SingleQuotedString(_) | Token::Word(_) => Err(invalid()),
        _ => Err(expected(p, "an option value", &token)),
    }
}
