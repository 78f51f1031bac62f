//! Names in our statements: folding, validation, and the `[NAMESPACE] ns` clauses.
//!
//! Object names (namespaces, tables, storages) fold like SQL identifiers and are checked
//! against `kalamdb_types`' rules here, so every statement family reports a bad name the
//! same way. User names and job ids do not fold and may contain `-` bare, so they are read
//! as loose names instead.

use kalamdb_types::{NamespaceId, TableName, UserId};
use sqlparser::ast::{Ident, ObjectNamePart};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::cursor::{ParserExt, expected};
use crate::error::SqlError;
use crate::statement::ObjectRef;

/// Folds an identifier: unquoted → lowercase, quoted → as written (`sql.md` §0).
pub(crate) fn fold_ident(ident: &Ident) -> String {
    match ident.quote_style {
        None => ident.value.to_lowercase(),
        Some(_) => ident.value.clone(),
    }
}

/// One identifier, folded but not yet validated.
pub(crate) fn parse_name(p: &mut Parser) -> Result<String, SqlError> {
    Ok(fold_ident(&p.parse_identifier()?))
}

/// A reference to an existing namespace (reserved ones such as `system` included).
pub(crate) fn parse_namespace(p: &mut Parser) -> Result<String, SqlError> {
    let name = parse_name(p)?;
    NamespaceId::parse(&name)?;
    Ok(name)
}

/// `[NAMESPACE] ns`; `NAMESPACE` right before the end is the namespace's name, not the word.
pub(crate) fn parse_namespace_clause(p: &mut Parser) -> Result<String, SqlError> {
    if p.peek_word("NAMESPACE") && !p.next_is_end(1) {
        p.advance_token();
    }
    parse_namespace(p)
}

/// `[IN | FROM [NAMESPACE] ns]`.
pub(crate) fn parse_optional_in_namespace(p: &mut Parser) -> Result<Option<String>, SqlError> {
    if p.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM])
        .is_none()
    {
        return Ok(None);
    }
    Ok(Some(parse_namespace_clause(p)?))
}

/// `t`, `ns.t` or `kalam.ns.t`, folded and validated.
pub(crate) fn parse_object_ref(p: &mut Parser) -> Result<ObjectRef, SqlError> {
    let object = p.parse_object_name(false)?;
    let mut parts = Vec::with_capacity(object.0.len());
    for part in &object.0 {
        match part {
            ObjectNamePart::Identifier(ident) => parts.push(fold_ident(ident)),
            ObjectNamePart::Function(_) => {
                return Err(SqlError::parse(format!("Invalid table name '{object}'")));
            }
        }
    }
    let (namespace, name) = match parts.as_mut_slice() {
        [name] => (None, std::mem::take(name)),
        [ns, name] => (Some(std::mem::take(ns)), std::mem::take(name)),
        [catalog, ns, name] if catalog == "kalam" => {
            (Some(std::mem::take(ns)), std::mem::take(name))
        }
        _ => {
            return Err(SqlError::parse(format!(
                "Invalid table name '{object}': expected [namespace.]table"
            )));
        }
    };
    if let Some(ns) = &namespace {
        NamespaceId::parse(ns)?;
    }
    TableName::parse(&name)?;
    Ok(ObjectRef { namespace, name })
}

/// A name that may be bare even though it contains `-` (user names, job ids): a quoted
/// string or identifier as written, or bare tokens glued while no whitespace separates
/// them (`alice-01` tokenizes as `alice`, `-`, `01`). Case is kept.
pub(crate) fn parse_loose_name(p: &mut Parser) -> Result<String, SqlError> {
    let first = p.next_token();
    let mut name = match first.token {
        Token::SingleQuotedString(s) => return Ok(s),
        Token::Word(w) if w.quote_style.is_some() => return Ok(w.value),
        Token::Word(w) => w.value,
        Token::Number(n, _) => n,
        _ => return Err(expected(p, "a name", p.get_current_token())),
    };
    loop {
        let piece = match p.peek_token_no_skip().token {
            Token::Word(w) if w.quote_style.is_none() => w.value,
            Token::Number(n, _) => n,
            Token::Minus => "-".to_string(),
            _ => break,
        };
        name.push_str(&piece);
        let _ = p.next_token_no_skip();
    }
    Ok(name)
}

/// A user name, bare or quoted, case kept, validated the way `UserId` does (`Invalid user
/// name 'x'`).
pub(crate) fn parse_user_name(p: &mut Parser) -> Result<String, SqlError> {
    let name = parse_loose_name(p)?;
    UserId::parse(&name)?;
    Ok(name)
}
