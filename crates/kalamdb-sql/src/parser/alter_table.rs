//! `ALTER TABLE` (`sql.md` §2.6): one change per statement, read with sqlparser's `Parser`.
//!
//! The rules that need no state are `CREATE TABLE`'s, applied through its modules: a column
//! added here obeys exactly the rules of a column created there (name, type and its aliases,
//! NULL/NOT NULL, DEFAULT by type), every column name is checked as a created one's, and a
//! property set here is checked as the same `WITH` option. What only `CREATE TABLE` may
//! declare (PRIMARY KEY, UNIQUE, AUTO_INCREMENT and the SERIAL types) is refused. Whether a
//! column exists, whether a property fits the table's kind, and every other check against
//! the table are the engine's.

use sqlparser::ast::{ColumnDef, ColumnOption};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;

use super::create_table::{
    apply_property, build_column, column_name, is_auto_increment, parse_access_level,
    parse_option_list, unique_error,
};
use super::cursor::{expected, parse_word_or_string};
use super::names::parse_object_ref;
use crate::datatype::{ColumnType, map_data_type};
use crate::error::SqlError;
use crate::statement::{AlterTableChange, ColumnSpec, KalamStatement, TableProperties};

/// What may follow `ALTER TABLE t`, for the message when something else does.
const UNSUPPORTED_OPERATION: &str = "Unsupported ALTER TABLE operation: expected ADD, DROP, \
     RENAME COLUMN, MODIFY, ALTER COLUMN, SET ACCESS LEVEL or SET TBLPROPERTIES";

/// Keywords that start a table constraint, not a column, after a bare `ADD` (the ones that
/// cannot name a column, as in `CREATE TABLE`'s column list).
const CONSTRAINT_START: &[Keyword] = &[
    Keyword::CONSTRAINT,
    Keyword::PRIMARY,
    Keyword::UNIQUE,
    Keyword::FOREIGN,
    Keyword::CHECK,
];

/// After `ALTER TABLE`: `[ns.]t` and one change.
pub(crate) fn parse_alter_table(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let table = parse_object_ref(p)?;
    // `column` is a reserved name, so an optional COLUMN is always the keyword.
    let change = if p.parse_keyword(Keyword::ADD) {
        AlterTableChange::AddColumn(parse_added_column(p)?)
    } else if p.parse_keyword(Keyword::DROP) {
        let _ = p.parse_keyword(Keyword::COLUMN);
        AlterTableChange::DropColumn {
            column: parse_column_name(p)?,
        }
    } else if p.parse_keywords(&[Keyword::RENAME, Keyword::COLUMN]) {
        let from = parse_column_name(p)?;
        p.expect_keyword_is(Keyword::TO)?;
        let to = parse_column_name(p)?;
        AlterTableChange::RenameColumn { from, to }
    } else if p.parse_keyword(Keyword::MODIFY) {
        let _ = p.parse_keyword(Keyword::COLUMN);
        parse_modify_column(p)?
    } else if p.parse_keyword(Keyword::ALTER) {
        let _ = p.parse_keyword(Keyword::COLUMN);
        parse_alter_column(p)?
    } else if p.parse_keywords(&[Keyword::SET, Keyword::ACCESS, Keyword::LEVEL]) {
        let level = parse_word_or_string(p, "PUBLIC, PRIVATE, RESTRICTED or DBA")?;
        AlterTableChange::SetAccessLevel(parse_access_level(&level)?)
    } else if p.parse_keywords(&[Keyword::SET, Keyword::TBLPROPERTIES]) {
        let mut properties = TableProperties::default();
        parse_option_list(p, |name, value| {
            apply_property(&mut properties, name, value)
        })?;
        AlterTableChange::SetProperties(properties)
    } else {
        return Err(SqlError::parse(UNSUPPORTED_OPERATION));
    };
    Ok(KalamStatement::AlterTable { table, change })
}

/// A column name, folded and checked as `CREATE TABLE` checks one.
fn parse_column_name(p: &mut Parser) -> Result<String, SqlError> {
    column_name(&p.parse_identifier()?)
}

fn auto_increment_refused() -> SqlError {
    SqlError::invalid("Cannot add an AUTO_INCREMENT column with ALTER TABLE")
}

/// After `ADD`: `[COLUMN] c type [NOT NULL | NULL] [DEFAULT expr]`, under `CREATE TABLE`'s
/// rules for one column. The column's name is checked first, then what ALTER TABLE cannot
/// add, then the rest of the column's rules, so a statement with several mistakes always
/// reports the same one.
fn parse_added_column(p: &mut Parser) -> Result<ColumnSpec, SqlError> {
    if !p.parse_keyword(Keyword::COLUMN) && p.peek_one_of_keywords(CONSTRAINT_START).is_some() {
        return Err(SqlError::parse(
            "Unsupported ALTER TABLE operation: ADD adds one column; table constraints \
             cannot be added",
        ));
    }
    let def = p.parse_column_def()?;
    column_name(&def.name)?;
    refuse_key_and_auto_increment(&def)?;
    let draft = build_column(&def)?;
    if draft.spec.auto_increment {
        return Err(auto_increment_refused());
    }
    Ok(ColumnSpec {
        nullable: !draft.not_null,
        ..draft.spec
    })
}

/// PRIMARY KEY, UNIQUE, AUTO_INCREMENT and the SERIAL types: only `CREATE TABLE` declares them.
fn refuse_key_and_auto_increment(def: &ColumnDef) -> Result<(), SqlError> {
    for option in &def.options {
        match &option.option {
            ColumnOption::PrimaryKey(_) => {
                return Err(SqlError::invalid(
                    "Cannot add a PRIMARY KEY column with ALTER TABLE",
                ));
            }
            ColumnOption::Unique(_) => return Err(unique_error()),
            ColumnOption::DialectSpecific(tokens) if is_auto_increment(tokens) => {
                return Err(auto_increment_refused());
            }
            _ => {}
        }
    }
    // An unsupported type is reported by the column's own rules.
    if map_data_type(&def.data_type).is_ok_and(|t| t.serial) {
        return Err(auto_increment_refused());
    }
    Ok(())
}

/// After `MODIFY [COLUMN]`: `c type [NOT NULL]`. The type may not be (nor be made)
/// AUTO_INCREMENT; which changes of type are allowed is the engine's check.
fn parse_modify_column(p: &mut Parser) -> Result<AlterTableChange, SqlError> {
    let column = parse_column_name(p)?;
    let ColumnType { data_type, serial } = map_data_type(&p.parse_data_type()?)?;
    let auto_increment = |p: &mut Parser| {
        p.parse_one_of_keywords(&[Keyword::AUTO_INCREMENT, Keyword::AUTOINCREMENT])
            .is_some()
    };
    let mut refused = serial || auto_increment(p);
    let not_null = p.parse_keywords(&[Keyword::NOT, Keyword::NULL]);
    refused = refused || auto_increment(p);
    if refused {
        return Err(SqlError::invalid(format!(
            "Cannot make column '{column}' AUTO_INCREMENT with ALTER TABLE"
        )));
    }
    Ok(AlterTableChange::ModifyColumn {
        column,
        data_type,
        not_null,
    })
}

/// After `ALTER [COLUMN]`: `c SET NOT NULL | DROP NOT NULL | SET DEFAULT expr | DROP DEFAULT`.
fn parse_alter_column(p: &mut Parser) -> Result<AlterTableChange, SqlError> {
    let column = parse_column_name(p)?;
    let change = if p.parse_keywords(&[Keyword::SET, Keyword::NOT, Keyword::NULL]) {
        AlterTableChange::SetNotNull { column }
    } else if p.parse_keywords(&[Keyword::DROP, Keyword::NOT, Keyword::NULL]) {
        AlterTableChange::DropNotNull { column }
    } else if p.parse_keywords(&[Keyword::SET, Keyword::DEFAULT]) {
        AlterTableChange::SetDefault {
            column,
            default: Box::new(p.parse_expr()?),
        }
    } else if p.parse_keywords(&[Keyword::DROP, Keyword::DEFAULT]) {
        AlterTableChange::DropDefault { column }
    } else {
        return Err(expected(
            p,
            "SET NOT NULL, DROP NOT NULL, SET DEFAULT or DROP DEFAULT",
            p.peek_token_ref(),
        ));
    };
    Ok(change)
}

#[cfg(test)]
mod tests;
