//! Column DEFAULTs: which expressions a column may default to, for which types, and the
//! text stored for each (one spelling per function, so `CURRENT_TIMESTAMP` is kept as
//! `NOW()`).

use kalamdb_types::KalamDataType;
use sqlparser::ast::{Expr, Function, FunctionArguments, ObjectNamePart, UnaryOperator, Value};

use crate::error::SqlError;

/// The DEFAULT an AUTO_INCREMENT column gets, and may also be given explicitly.
pub(crate) const SNOWFLAKE_ID: &str = "SNOWFLAKE_ID()";

/// Checks a column's DEFAULT against the column's type and returns the SQL text stored for
/// it: a literal as written (`'abc'`, `-1.5`) or the canonical call of a DEFAULT function
/// (`NOW()` for `CURRENT_TIMESTAMP`, `SNOWFLAKE_ID()`, `UUID_V7()`, `ULID()`,
/// `CURRENT_USER()`), as [`ColumnSpec::default`] holds it (`sql.md` §2.4). `column` names the
/// column in messages.
///
/// # Errors
///
/// [`SqlErrorKind::Invalid`]: an expression that is neither a literal nor one of those
/// functions, or a function the column's type cannot hold (`"DEFAULT SNOWFLAKE_ID() requires
/// a BIGINT column"`).
///
/// [`ColumnSpec::default`]: crate::ColumnSpec::default
/// [`SqlErrorKind::Invalid`]: crate::SqlErrorKind::Invalid
pub fn check_default(
    column: &str,
    data_type: KalamDataType,
    expr: &Expr,
) -> Result<String, SqlError> {
    let mut expr = expr;
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    let unsupported = || {
        SqlError::invalid(format!(
            "Unsupported DEFAULT '{expr}' for column '{column}': use a literal, NOW(), \
             CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()"
        ))
    };
    match expr {
        Expr::Value(v) if !matches!(v.value, Value::Placeholder(_)) => Ok(expr.to_string()),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr: inner,
        } if matches!(inner.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))) => {
            Ok(expr.to_string())
        }
        Expr::TypedString(_) => Ok(expr.to_string()),
        Expr::Function(f) => {
            let (written, canonical, allowed, kinds) =
                default_function(f).ok_or_else(unsupported)?;
            if allowed.contains(&data_type) {
                Ok(canonical.to_string())
            } else {
                Err(SqlError::invalid(format!(
                    "DEFAULT {written} requires a {kinds} column"
                )))
            }
        }
        _ => Err(unsupported()),
    }
}

/// For a supported DEFAULT function: (name as cited in errors, stored text, allowed column
/// types, their names for the message).
fn default_function(
    f: &Function,
) -> Option<(
    &'static str,
    &'static str,
    &'static [KalamDataType],
    &'static str,
)> {
    use KalamDataType as K;
    let [ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() else {
        return None;
    };
    let no_args = match &f.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => {
            list.args.is_empty() && list.clauses.is_empty() && list.duplicate_treatment.is_none()
        }
        FunctionArguments::Subquery(_) => false,
    };
    if !no_args || f.over.is_some() || f.filter.is_some() {
        return None;
    }
    const TIME: &[KalamDataType] = &[K::Timestamp, K::DateTime, K::Date];
    match ident.value.to_ascii_uppercase().as_str() {
        "NOW" => Some(("NOW()", "NOW()", TIME, "TIMESTAMP, DATETIME or DATE")),
        // Stored as NOW(): one spelling for one function.
        "CURRENT_TIMESTAMP" => Some((
            "CURRENT_TIMESTAMP",
            "NOW()",
            TIME,
            "TIMESTAMP, DATETIME or DATE",
        )),
        "SNOWFLAKE_ID" => Some((SNOWFLAKE_ID, SNOWFLAKE_ID, &[K::BigInt], "BIGINT")),
        "UUID_V7" => Some((
            "UUID_V7()",
            "UUID_V7()",
            &[K::Uuid, K::Text],
            "UUID or TEXT",
        )),
        "ULID" => Some(("ULID()", "ULID()", &[K::Text], "TEXT")),
        "CURRENT_USER" => Some(("CURRENT_USER()", "CURRENT_USER()", &[K::Text], "TEXT")),
        _ => None,
    }
}
