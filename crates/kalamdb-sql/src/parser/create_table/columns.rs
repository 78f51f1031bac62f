//! The column rules of `CREATE TABLE` (`sql.md` §2.4): names, types, NULL/NOT NULL, the one
//! PRIMARY KEY, UNIQUE, AUTO_INCREMENT, and each column's DEFAULT (checked by `defaults.rs`).
//!
//! Each column is first checked on its own, then the table-wide rules (duplicates, the key)
//! run over all of them, always in the same order, so a statement with several mistakes
//! reports the same one every time.

use std::collections::HashSet;

use kalamdb_types::{KalamDataType, validate_object_name};
use sqlparser::ast::{ColumnDef, ColumnOption, Expr, Ident, IndexColumn, TableConstraint};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use super::defaults::{SNOWFLAKE_ID, check_default};
use crate::datatype::{ColumnType, map_data_type};
use crate::error::SqlError;
use crate::parser::names::fold_ident;
use crate::statement::ColumnSpec;

/// A column while the table-wide rules are still pending.
pub(crate) struct Draft {
    pub(crate) spec: ColumnSpec,
    /// `NOT NULL` was given (a PRIMARY KEY is not nullable either).
    pub(crate) not_null: bool,
    explicit_null: bool,
    inline_pk: bool,
    unique: bool,
}

/// The table's columns after every rule: each column's own, then duplicates, the key and
/// UNIQUE across the table and its constraints.
pub(crate) fn build_columns(
    defs: &[ColumnDef],
    constraints: &[TableConstraint],
) -> Result<Vec<ColumnSpec>, SqlError> {
    let mut seen = HashSet::new();
    let mut drafts = Vec::with_capacity(defs.len());
    for def in defs {
        let draft = build_column(def)?;
        if !seen.insert(draft.spec.name.clone()) {
            return Err(SqlError::invalid(format!(
                "Duplicate column '{}'",
                draft.spec.name
            )));
        }
        drafts.push(draft);
    }

    let mut table_pks = Vec::new();
    let mut table_uniques = Vec::new();
    for constraint in constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let [column] = pk.columns.as_slice() else {
                    return Err(SqlError::invalid(
                        "Composite PRIMARY KEYs are not supported yet",
                    ));
                };
                table_pks.push(constraint_column(column)?);
            }
            TableConstraint::Unique(unique) => {
                let [column] = unique.columns.as_slice() else {
                    return Err(unique_error());
                };
                table_uniques.push(constraint_column(column)?);
            }
            other => {
                return Err(SqlError::invalid(format!(
                    "Unsupported table constraint '{other}'"
                )));
            }
        }
    }

    let inline_pks = drafts.iter().filter(|d| d.inline_pk).count();
    if inline_pks + table_pks.len() > 1 {
        return Err(SqlError::invalid("Multiple PRIMARY KEY definitions found"));
    }
    let pk_index = if let Some(i) = drafts.iter().position(|d| d.inline_pk) {
        Some(i)
    } else if let Some(name) = table_pks.first() {
        let position = drafts.iter().position(|d| &d.spec.name == name);
        Some(position.ok_or_else(|| {
            SqlError::invalid(format!(
                "PRIMARY KEY column '{name}' not found in column list"
            ))
        })?)
    } else {
        // Older form: a lone AUTO_INCREMENT/SERIAL column is the key.
        let mut auto = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.spec.auto_increment);
        match (auto.next(), auto.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    };
    if let Some(draft) = pk_index.and_then(|i| drafts.get_mut(i)) {
        let name = &draft.spec.name;
        if !draft.spec.data_type.can_be_primary_key() {
            return Err(SqlError::invalid(format!(
                "Column '{name}' of type {} cannot be a PRIMARY KEY",
                draft.spec.data_type.sql_name()
            )));
        }
        if draft.explicit_null {
            return Err(SqlError::invalid(format!(
                "Column '{name}' is a PRIMARY KEY and cannot be nullable"
            )));
        }
        draft.spec.primary_key = true;
    }

    let is_pk = |name: &str| {
        drafts
            .iter()
            .any(|d| d.spec.primary_key && d.spec.name == name)
    };
    if drafts.iter().any(|d| d.unique && !d.spec.primary_key)
        || table_uniques.iter().any(|name| !is_pk(name))
    {
        return Err(unique_error());
    }

    Ok(drafts
        .into_iter()
        .map(|mut d| {
            d.spec.nullable = !(d.not_null || d.spec.primary_key);
            d.spec
        })
        .collect())
}

pub(crate) fn unique_error() -> SqlError {
    SqlError::invalid("UNIQUE is only supported on the PRIMARY KEY")
}

/// The single column named in a table-level `PRIMARY KEY (c)` / `UNIQUE (c)`.
fn constraint_column(column: &IndexColumn) -> Result<String, SqlError> {
    match &column.column.expr {
        Expr::Identifier(ident) => Ok(fold_ident(ident)),
        other => Err(SqlError::invalid(format!("Invalid key column '{other}'"))),
    }
}

/// A column's name, folded and checked: names starting with `_` are the system columns'.
pub(crate) fn column_name(ident: &Ident) -> Result<String, SqlError> {
    let name = fold_ident(ident);
    if name.starts_with('_') {
        return Err(SqlError::invalid(format!(
            "Column name '{name}' is reserved and cannot be used"
        )));
    }
    validate_object_name(&name)?;
    Ok(name)
}

/// One column's own rules: name, type, options, AUTO_INCREMENT and DEFAULT. The column's
/// `nullable` is settled by the table-wide rules (see [`Draft::not_null`]).
pub(crate) fn build_column(def: &ColumnDef) -> Result<Draft, SqlError> {
    let name = column_name(&def.name)?;
    let ColumnType {
        mut data_type,
        serial,
    } = map_data_type(&def.data_type)?;

    let mut draft = Draft {
        spec: ColumnSpec {
            name,
            data_type,
            nullable: true,
            primary_key: false,
            default: None,
            auto_increment: serial,
        },
        not_null: false,
        explicit_null: false,
        inline_pk: false,
        unique: false,
    };
    let name = &draft.spec.name;
    let mut default = None;
    for option in &def.options {
        match &option.option {
            ColumnOption::Null => draft.explicit_null = true,
            ColumnOption::NotNull => draft.not_null = true,
            ColumnOption::PrimaryKey(_) => draft.inline_pk = true,
            ColumnOption::Unique(_) => draft.unique = true,
            ColumnOption::Default(expr) => {
                if default.replace(expr).is_some() {
                    return Err(SqlError::invalid(format!(
                        "Multiple DEFAULT values for column '{name}'"
                    )));
                }
            }
            ColumnOption::DialectSpecific(tokens) if is_auto_increment(tokens) => {
                draft.spec.auto_increment = true;
            }
            other => {
                return Err(SqlError::invalid(format!(
                    "Unsupported column option '{other}' on column '{name}'"
                )));
            }
        }
    }
    if draft.not_null && draft.explicit_null {
        return Err(SqlError::invalid(format!(
            "Column '{name}' cannot be both NULL and NOT NULL"
        )));
    }

    if draft.spec.auto_increment {
        if !data_type.is_integer() {
            return Err(SqlError::invalid(
                "AUTO_INCREMENT requires an integer column",
            ));
        }
        data_type = KalamDataType::BigInt;
        let explicit = default
            .map(|expr| check_default(name, data_type, expr))
            .transpose()?;
        if explicit.as_ref().is_some_and(|d| d != SNOWFLAKE_ID) {
            return Err(SqlError::invalid(format!(
                "Column '{name}' cannot have both AUTO_INCREMENT and DEFAULT"
            )));
        }
        draft.spec.data_type = data_type;
        draft.spec.default = Some(SNOWFLAKE_ID.to_string());
    } else if let Some(expr) = default {
        draft.spec.default = Some(check_default(name, data_type, expr)?);
    }
    Ok(draft)
}

/// sqlparser gives MySQL's `AUTO_INCREMENT` and SQLite's `AUTOINCREMENT` as dialect tokens.
pub(crate) fn is_auto_increment(tokens: &[Token]) -> bool {
    matches!(
        tokens,
        [Token::Word(w)] if matches!(w.keyword, Keyword::AUTO_INCREMENT | Keyword::AUTOINCREMENT)
    )
}
