//! Whether a value fits its column: literals checked before planning (so a
//! bad value is reported as the spec words it, naming value, type and
//! column), and new values cast with the same wording. A DECIMAL that would
//! need rounding is refused instead of silently rounded.

use std::sync::Arc;

use datafusion::arrow::compute::{CastOptions, cast_with_options};
use kalamdb_types::ColumnDefinition;

use crate::error::{KalamError, Result};
use crate::row::arrow::arrow_type;

/// Digits after the decimal point that matter (trailing zeros do not).
pub fn fractional_digits(text: &str) -> usize {
    text.split_once('.')
        .map(|(_, frac)| frac.trim_end_matches('0').len())
        .unwrap_or(0)
}

/// Whether a literal (`text`, numeric or quoted) converts to the column's type.
pub fn check_value_fits(def: &ColumnDefinition, text: &str, numeric: bool) -> Result<()> {
    use kalamdb_types::KalamDataType as T;
    let fail = || {
        KalamError::exec(format!(
            "Cannot cast '{text}' to {} for column '{}'",
            def.data_type.sql_name(),
            def.name
        ))
    };
    match def.data_type {
        // Text-like columns take any literal; JSON and UUID are validated later.
        T::Text | T::Json | T::Uuid | T::Bytes => Ok(()),
        T::Decimal { scale, .. } => {
            let decimals = fractional_digits(text);
            if text.contains(['e', 'E']) || decimals > usize::try_from(scale.max(0)).unwrap_or(0) {
                if text.parse::<f64>().is_err() {
                    return Err(fail());
                }
                return Err(rounding_error(text, def, scale));
            }
            cast_literal(text, numeric, def).map_err(|_| fail())
        }
        _ => cast_literal(text, numeric, def).map_err(|_| fail()),
    }
}

fn rounding_error(text: &str, def: &ColumnDefinition, scale: i8) -> KalamError {
    KalamError::exec(format!(
        "Cannot cast '{text}' to {} for column '{}': rounding beyond scale {scale}",
        def.data_type.sql_name(),
        def.name
    ))
}

fn cast_literal(text: &str, numeric: bool, def: &ColumnDefinition) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    let target = arrow_type(&def.data_type)?;
    let array: ArrayRef = match (numeric, text.parse::<i64>()) {
        (true, Ok(i)) => Arc::new(Int64Array::from(vec![i])),
        (true, Err(_)) => Arc::new(Float64Array::from(vec![
            text.parse::<f64>().map_err(KalamError::internal)?,
        ])),
        (false, _) => Arc::new(StringArray::from(vec![text])),
    };
    cast_with_options(
        array.as_ref(),
        &target,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map(|_| ())
    .map_err(KalamError::internal)
}

/// Casts new values to a column's type; a failure names the first value
/// that does not fit, as INSERT does.
pub fn cast_new_values(
    array: &dyn datafusion::arrow::array::Array,
    def: &ColumnDefinition,
) -> Result<datafusion::arrow::array::ArrayRef> {
    let target = arrow_type(&def.data_type)?;
    if let kalamdb_types::KalamDataType::Decimal { scale, .. } = def.data_type
        && !array.data_type().is_integer()
        && let Ok(fmt) =
            datafusion::arrow::util::display::ArrayFormatter::try_new(array, &Default::default())
    {
        for i in (0..array.len()).filter(|&i| !array.is_null(i)) {
            let text = fmt.value(i).to_string();
            check_value_fits(def, &text, true).map_err(|_| rounding_error(&text, def, scale))?;
        }
    }
    cast_with_options(
        array,
        &target,
        &CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map_err(|e| {
        let lenient = cast_with_options(
            array,
            &target,
            &CastOptions {
                safe: true,
                ..Default::default()
            },
        );
        let formatter =
            datafusion::arrow::util::display::ArrayFormatter::try_new(array, &Default::default());
        let culprit = match (lenient, formatter) {
            (Ok(cast), Ok(fmt)) => (0..array.len())
                .find(|&i| !array.is_null(i) && cast.is_null(i))
                .map(|i| fmt.value(i).to_string()),
            _ => None,
        };
        match culprit {
            Some(v) => KalamError::exec(format!(
                "Cannot cast '{v}' to {} for column '{}'",
                def.data_type.sql_name(),
                def.name
            )),
            None => KalamError::exec(format!(
                "Cannot cast value to {} for column '{}': {e}",
                def.data_type.sql_name(),
                def.name
            )),
        }
    })
}
