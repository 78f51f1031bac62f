//! `CREATE [OR REPLACE] VIEW [IF NOT EXISTS] v AS <query>` and `DROP VIEW [IF EXISTS] v`
//! (`sql.md` §2.6a).

use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

use super::names::parse_object_ref;
use crate::error::SqlError;
use crate::statement::KalamStatement;

/// After `CREATE [OR REPLACE] VIEW`.
pub(crate) fn parse_create_view(
    p: &mut Parser,
    or_replace: bool,
) -> Result<KalamStatement, SqlError> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    if or_replace && if_not_exists {
        return Err(SqlError::parse(
            "CREATE OR REPLACE VIEW cannot take IF NOT EXISTS".to_string(),
        ));
    }
    let view = parse_object_ref(p)?;
    p.expect_keyword_is(Keyword::AS)?;
    let query = p.parse_query()?;
    Ok(KalamStatement::CreateView {
        view,
        query,
        or_replace,
        if_not_exists,
    })
}

/// After `DROP VIEW`.
pub(crate) fn parse_drop_view(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let view = parse_object_ref(p)?;
    Ok(KalamStatement::DropView { view, if_exists })
}
