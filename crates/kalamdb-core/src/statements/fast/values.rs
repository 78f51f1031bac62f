//! Values of the fast path: a SQL literal as the scalar DataFusion's planner
//! makes of it, and a scalar (literal or `$n` parameter) as the stored
//! value of a column — by the same Arrow cast (`safe: false`) DataFusion
//! applies to an INSERT's values and a bound parameter, then the same
//! [`value_from_array`] the INSERT sink reads cells with. Where that chain
//! is not known to match the planner's exactly (a DECIMAL from text, a
//! string into an integer literal's place, mixed literal kinds in one
//! column) the answer is `None`: the statement goes to DataFusion.

use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::common::ScalarValue;
use kalamdb_types::{ColumnDefinition, KalamDataType as T};
use sqlparser::ast::{Expr, UnaryOperator, Value as SqlValue};

use crate::row::arrow::{arrow_type, value_from_array};
use crate::row::value::Value;

/// A literal or parameter of a recognised statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `$n` (1-based).
    Param(usize),
    Literal(Literal),
}

/// A SQL literal, as DataFusion's planner types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl Literal {
    pub fn scalar(&self) -> ScalarValue {
        match self {
            Literal::Null => ScalarValue::Null,
            Literal::Int(i) => ScalarValue::Int64(Some(*i)),
            Literal::Float(f) => ScalarValue::Float64(Some(*f)),
            Literal::Text(s) => ScalarValue::Utf8(Some(s.clone())),
            Literal::Bool(b) => ScalarValue::Boolean(Some(*b)),
        }
    }

    /// Which literals of a column may share one converted column: DataFusion
    /// unifies a VALUES column's types across rows first, which only
    /// matters when they differ.
    pub fn kind(&self) -> Option<u8> {
        match self {
            Literal::Null => None,
            Literal::Int(_) => Some(1),
            Literal::Float(_) => Some(2),
            Literal::Text(_) => Some(3),
            Literal::Bool(_) => Some(4),
        }
    }

    /// Whether a literal of this kind into a column of `ty` is converted by
    /// the planner exactly as [`to_value`] does.
    pub fn fits_kind(&self, ty: &T) -> bool {
        match self {
            Literal::Null => true,
            Literal::Int(_) => matches!(
                ty,
                T::SmallInt
                    | T::Int
                    | T::BigInt
                    | T::Float
                    | T::Double
                    | T::Decimal { .. }
                    | T::Timestamp
                    | T::DateTime
            ),
            Literal::Float(_) => matches!(ty, T::Float | T::Double),
            Literal::Text(_) => matches!(
                ty,
                T::Text | T::Json | T::Uuid | T::Timestamp | T::DateTime | T::Date | T::Time
            ),
            Literal::Bool(_) => matches!(ty, T::Boolean),
        }
    }
}

/// The source an expression is, if it is a plain literal or `$n`.
pub fn source_of(expr: &Expr) -> Option<Source> {
    match expr {
        Expr::Value(v) => match &v.value {
            SqlValue::Placeholder(p) => {
                let n: usize = p.strip_prefix('$')?.parse().ok()?;
                (n >= 1).then_some(Source::Param(n))
            }
            other => literal(other, false).map(Source::Literal),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(v) if matches!(v.value, SqlValue::Number(..)) => {
                literal(&v.value, true).map(Source::Literal)
            }
            _ => None,
        },
        _ => None,
    }
}

/// What DataFusion's planner makes of a literal: an integer that fits i64
/// is Int64, other numbers Float64 (integers beyond i64 are not taken).
fn literal(v: &SqlValue, negative: bool) -> Option<Literal> {
    match v {
        SqlValue::Null => Some(Literal::Null),
        SqlValue::Boolean(b) if !negative => Some(Literal::Bool(*b)),
        SqlValue::SingleQuotedString(s) if !negative => Some(Literal::Text(s.clone())),
        SqlValue::Number(n, false) => {
            let signed = if negative { format!("-{n}") } else { n.clone() };
            if let Ok(i) = signed.parse::<i64>() {
                return Some(Literal::Int(i));
            }
            if n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            signed
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Literal::Float)
        }
        _ => None,
    }
}

/// A parameter or literal value into `col`'s stored form, or `None` when
/// only DataFusion can say (including every failure: its error is the
/// statement's answer).
pub fn to_value(col: &ColumnDefinition, v: &ScalarValue) -> Option<Value> {
    if v.is_null() {
        return Some(Value::Null);
    }
    // The shapes a chat app sends all day, where the cast is the identity.
    match (&col.data_type, v) {
        (T::BigInt, ScalarValue::Int64(Some(i))) => return Some(Value::I64(*i)),
        (T::Text, ScalarValue::Utf8(Some(s))) => return Some(Value::Text(s.clone())),
        (T::Boolean, ScalarValue::Boolean(Some(b))) => return Some(Value::Bool(*b)),
        (T::Double, ScalarValue::Float64(Some(f))) => return Some(Value::F64(*f)),
        // A DECIMAL from anything but an integer is checked for rounding by
        // the planner's path with its own wording.
        (T::Decimal { .. }, ScalarValue::Int64(_)) => {}
        (T::Decimal { .. }, _) | (T::Bytes | T::File | T::Embedding(_), _) => return None,
        _ => {}
    }
    let target = arrow_type(&col.data_type).ok()?;
    let array = v.to_array_of_size(1).ok()?;
    let cast = cast_with_options(
        array.as_ref(),
        &target,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .ok()?;
    value_from_array(col, cast.as_ref(), 0).ok()
}

/// A value a NOT NULL column (or the key) may not hold.
pub fn refused_null(col: &ColumnDefinition, v: &Value) -> bool {
    *v == Value::Null && (!col.nullable || col.primary_key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn col(ty: T) -> ColumnDefinition {
        ColumnDefinition::new(1, "c", ty)
    }

    fn expr(sql: &str) -> Expr {
        let dialect = sqlparser::dialect::GenericDialect {};
        sqlparser::parser::Parser::new(&dialect)
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap()
    }

    #[test]
    fn literals_are_typed_as_the_planner_types_them() {
        assert_eq!(
            source_of(&expr("42")),
            Some(Source::Literal(Literal::Int(42)))
        );
        assert_eq!(
            source_of(&expr("-9223372036854775808")),
            Some(Source::Literal(Literal::Int(i64::MIN)))
        );
        assert_eq!(
            source_of(&expr("1.5")),
            Some(Source::Literal(Literal::Float(1.5)))
        );
        assert_eq!(source_of(&expr("99999999999999999999")), None);
        assert_eq!(
            source_of(&expr("'x'")),
            Some(Source::Literal(Literal::Text("x".into())))
        );
        assert_eq!(source_of(&expr("$3")), Some(Source::Param(3)));
        assert_eq!(source_of(&expr("$0")), None);
        assert_eq!(
            source_of(&expr("NULL")),
            Some(Source::Literal(Literal::Null))
        );
        assert_eq!(source_of(&expr("-'x'")), None);
        assert_eq!(source_of(&expr("1 + 1")), None);
        assert_eq!(source_of(&expr("now()")), None);
    }

    #[test]
    fn values_convert_like_the_planner_or_not_at_all() {
        let int = ScalarValue::Int64(Some(7));
        assert_eq!(to_value(&col(T::BigInt), &int), Some(Value::I64(7)));
        assert_eq!(to_value(&col(T::Int), &int), Some(Value::I32(7)));
        assert_eq!(to_value(&col(T::SmallInt), &int), Some(Value::I16(7)));
        assert_eq!(
            to_value(&col(T::SmallInt), &ScalarValue::Int64(Some(70_000))),
            None,
            "overflow is DataFusion's error to give"
        );
        let text = |s: &str| ScalarValue::Utf8(Some(s.into()));
        assert_eq!(to_value(&col(T::BigInt), &text("12")), Some(Value::I64(12)));
        assert_eq!(to_value(&col(T::BigInt), &text("x")), None);
        assert_eq!(to_value(&col(T::Json), &text("{bad")), None);
        assert_eq!(
            to_value(&col(T::Json), &text("[1]")),
            Some(Value::Text("[1]".into()))
        );
        assert_eq!(to_value(&col(T::Uuid), &text("nope")), None);
        assert!(matches!(
            to_value(&col(T::Uuid), &text("0190a6e2-5c2b-7d3e-8f4a-1b2c3d4e5f60")),
            Some(Value::Uuid(_))
        ));
        assert_eq!(
            to_value(&col(T::Timestamp), &int),
            Some(Value::Timestamp(7))
        );
        assert_eq!(
            to_value(
                &col(T::Decimal {
                    precision: 6,
                    scale: 2
                }),
                &text("1.5")
            ),
            None
        );
        assert_eq!(
            to_value(&col(T::Text), &ScalarValue::Null),
            Some(Value::Null)
        );
    }
}
