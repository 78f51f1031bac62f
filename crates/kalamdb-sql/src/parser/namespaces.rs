//! `CREATE NAMESPACE`, `DROP NAMESPACE`, `USE [NAMESPACE]` and `SET NAMESPACE`.
//!
//! Creating a namespace is the one place a reserved name (`system`, …) is refused; every
//! other statement only refers to existing namespaces, reserved ones included.

use kalamdb_types::NamespaceId;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::names::{parse_name, parse_namespace, parse_namespace_clause};
use crate::error::SqlError;
use crate::statement::KalamStatement;

/// After `CREATE NAMESPACE`: `[IF NOT EXISTS] ns`.
pub(crate) fn parse_create_namespace(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parse_name(p)?;
    NamespaceId::parse_user(&name)?;
    Ok(KalamStatement::CreateNamespace {
        name,
        if_not_exists,
    })
}

/// After `DROP NAMESPACE`: `[IF EXISTS] ns [CASCADE]`.
pub(crate) fn parse_drop_namespace(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = parse_namespace(p)?;
    let cascade = p.parse_keyword(Keyword::CASCADE);
    Ok(KalamStatement::DropNamespace {
        name,
        if_exists,
        cascade,
    })
}

/// After `USE`: `[NAMESPACE] ns`.
pub(crate) fn parse_use_namespace(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    Ok(KalamStatement::UseNamespace {
        name: parse_namespace_clause(p)?,
    })
}

/// After `SET NAMESPACE`: `[= | TO] ns`.
pub(crate) fn parse_set_namespace(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    if !p.consume_token(&Token::Eq) {
        let _ = p.parse_keyword(Keyword::TO);
    }
    Ok(KalamStatement::UseNamespace {
        name: parse_namespace(p)?,
    })
}
