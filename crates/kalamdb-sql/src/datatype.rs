//! Column types: sqlparser's `DataType` to our [`KalamDataType`] (`sql.md` §2.3).
//!
//! sqlparser knows many dialects' types; we accept exactly the spellings of the spec's table
//! (plus obvious SQL-standard forms like `CHARACTER VARYING`), so a table's schema never
//! depends on a type DataFusion or the storage layer cannot represent. Names sqlparser does
//! not know (SERIAL, INT1, EMBEDDING(n), FILE) arrive as `DataType::Custom`.

use kalamdb_types::{DECIMAL_MAX_PRECISION, KalamDataType};
use sqlparser::ast::{DataType, ExactNumberInfo, ObjectNamePart, TimezoneInfo};

use crate::error::SqlError;

/// `DECIMAL` without arguments.
const DEFAULT_DECIMAL: (u64, i64) = (38, 10);

/// A column's type and whether the type itself means AUTO_INCREMENT (the SERIAL family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub data_type: KalamDataType,
    pub serial: bool,
}

impl ColumnType {
    fn plain(data_type: KalamDataType) -> Result<Self, SqlError> {
        Ok(Self {
            data_type,
            serial: false,
        })
    }
}

pub(crate) fn map_data_type(dt: &DataType) -> Result<ColumnType, SqlError> {
    use KalamDataType as K;
    match dt {
        DataType::Boolean | DataType::Bool => ColumnType::plain(K::Boolean),
        // A MySQL display width (`INT(11)`) changes nothing and is accepted.
        DataType::SmallInt(_) | DataType::Int2(_) | DataType::TinyInt(_) => {
            ColumnType::plain(K::SmallInt)
        }
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) | DataType::MediumInt(_) => {
            ColumnType::plain(K::Int)
        }
        DataType::BigInt(_) | DataType::Int8(_) => ColumnType::plain(K::BigInt),
        DataType::Real | DataType::Float4 => ColumnType::plain(K::Float),
        // SQL's FLOAT(p) is single precision up to 24 binary digits, double above.
        DataType::Float(ExactNumberInfo::None) => ColumnType::plain(K::Float),
        DataType::Float(ExactNumberInfo::Precision(p)) if (1..=24).contains(p) => {
            ColumnType::plain(K::Float)
        }
        DataType::Float(ExactNumberInfo::Precision(p)) if (25..=53).contains(p) => {
            ColumnType::plain(K::Double)
        }
        DataType::Double(ExactNumberInfo::None) | DataType::DoublePrecision | DataType::Float8 => {
            ColumnType::plain(K::Double)
        }
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            decimal(dt, info)
        }
        DataType::Text
        | DataType::Varchar(_)
        | DataType::Nvarchar(_)
        | DataType::Char(_)
        | DataType::Character(_)
        | DataType::CharVarying(_)
        | DataType::CharacterVarying(_)
        | DataType::String(_)
        | DataType::Clob(_) => ColumnType::plain(K::Text),
        DataType::Bytes(_)
        | DataType::Binary(_)
        | DataType::Varbinary(_)
        | DataType::Blob(_)
        | DataType::Bytea => ColumnType::plain(K::Bytes),
        DataType::JSON | DataType::JSONB => ColumnType::plain(K::Json),
        DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            ColumnType::plain(K::Timestamp)
        }
        DataType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz)
        | DataType::Datetime(_) => ColumnType::plain(K::DateTime),
        DataType::Date => ColumnType::plain(K::Date),
        DataType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            ColumnType::plain(K::Time)
        }
        DataType::Uuid => ColumnType::plain(K::Uuid),
        DataType::Custom(name, modifiers) => custom(dt, name.0.as_slice(), modifiers),
        _ => Err(unsupported(dt)),
    }
}

fn unsupported(dt: &DataType) -> SqlError {
    SqlError::invalid(format!(
        "Unsupported data type '{}'",
        dt.to_string().to_uppercase()
    ))
}

fn decimal(dt: &DataType, info: &ExactNumberInfo) -> Result<ColumnType, SqlError> {
    let (precision, scale) = match *info {
        ExactNumberInfo::None => DEFAULT_DECIMAL,
        ExactNumberInfo::Precision(p) => (p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (p, s),
    };
    let valid_precision = (1..=u64::from(DECIMAL_MAX_PRECISION)).contains(&precision);
    let valid_scale = i64::try_from(precision).is_ok_and(|p| (0..=p).contains(&scale));
    match (u8::try_from(precision), i8::try_from(scale)) {
        (Ok(precision), Ok(scale)) if valid_precision && valid_scale => {
            ColumnType::plain(KalamDataType::Decimal { precision, scale })
        }
        _ => Err(SqlError::invalid(format!(
            "Invalid {}: precision must be 1 to {DECIMAL_MAX_PRECISION} and scale 0 to precision",
            dt.to_string().to_uppercase()
        ))),
    }
}

/// Type names sqlparser has no variant for.
fn custom(
    dt: &DataType,
    name: &[ObjectNamePart],
    modifiers: &[String],
) -> Result<ColumnType, SqlError> {
    let [ObjectNamePart::Identifier(ident)] = name else {
        return Err(unsupported(dt));
    };
    let upper = ident.value.to_ascii_uppercase();
    let plain = |data_type| {
        if modifiers.is_empty() {
            ColumnType::plain(data_type)
        } else {
            Err(unsupported(dt))
        }
    };
    match upper.as_str() {
        "INT1" => plain(KalamDataType::SmallInt),
        "STRING" | "NVARCHAR" | "CLOB" => plain(KalamDataType::Text),
        // `TEXT(n)` arrives here because sqlparser reads its modifiers generically.
        "TEXT" => ColumnType::plain(KalamDataType::Text),
        "JSONB" => plain(KalamDataType::Json),
        "TIMESTAMPTZ" | "DATETIME" => plain(KalamDataType::DateTime),
        "UUID" => plain(KalamDataType::Uuid),
        "SERIAL" | "SERIAL4" | "BIGSERIAL" | "SERIAL8" | "SMALLSERIAL" | "SERIAL2"
            if modifiers.is_empty() =>
        {
            Ok(ColumnType {
                data_type: KalamDataType::BigInt,
                serial: true,
            })
        }
        "EMBEDDING" | "FILE" => Err(SqlError::invalid(format!(
            "Type {upper} is not supported yet"
        ))),
        _ => Err(unsupported(dt)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use sqlparser::parser::Parser;

    use super::*;
    use crate::dialect::DIALECT;

    fn map(sql_type: &str) -> Result<ColumnType, SqlError> {
        let dt = Parser::new(&DIALECT)
            .try_with_sql(sql_type)
            .unwrap()
            .parse_data_type()
            .unwrap();
        map_data_type(&dt)
    }

    fn ty(sql_type: &str) -> KalamDataType {
        let mapped = map(sql_type).unwrap_or_else(|e| panic!("{sql_type}: {e}"));
        assert!(!mapped.serial, "{sql_type} is not serial");
        mapped.data_type
    }

    #[test]
    fn every_alias_of_the_type_table_maps() {
        use KalamDataType as K;
        let table: &[(&[&str], KalamDataType)] = &[
            (&["BOOLEAN", "BOOL", "boolean"], K::Boolean),
            (&["SMALLINT", "INT2", "TINYINT", "INT1"], K::SmallInt),
            (
                &["INT", "INTEGER", "INT4", "MEDIUMINT", "int", "INT(11)"],
                K::Int,
            ),
            (&["BIGINT", "INT8"], K::BigInt),
            (&["FLOAT", "REAL", "FLOAT4", "FLOAT(24)"], K::Float),
            (
                &["DOUBLE", "DOUBLE PRECISION", "FLOAT8", "FLOAT(53)"],
                K::Double,
            ),
            (
                &[
                    "TEXT",
                    "VARCHAR",
                    "VARCHAR(255)",
                    "CHAR",
                    "CHAR(3)",
                    "STRING",
                    "NVARCHAR",
                    "NVARCHAR(10)",
                    "CLOB",
                    "CHARACTER VARYING(5)",
                    "TEXT(10)",
                ],
                K::Text,
            ),
            (
                &[
                    "BYTES",
                    "BINARY",
                    "VARBINARY",
                    "VARBINARY(16)",
                    "BLOB",
                    "BYTEA",
                ],
                K::Bytes,
            ),
            (&["JSON", "JSONB"], K::Json),
            (
                &["TIMESTAMP", "TIMESTAMP(3)", "TIMESTAMP WITHOUT TIME ZONE"],
                K::Timestamp,
            ),
            (
                &["DATETIME", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"],
                K::DateTime,
            ),
            (&["DATE"], K::Date),
            (&["TIME"], K::Time),
            (&["UUID", "uuid"], K::Uuid),
        ];
        for (aliases, expected) in table {
            for alias in *aliases {
                assert_eq!(ty(alias), *expected, "{alias}");
            }
        }
    }

    #[test]
    fn decimals_default_and_validate() {
        let dec = |p, s| KalamDataType::Decimal {
            precision: p,
            scale: s,
        };
        assert_eq!(ty("DECIMAL"), dec(38, 10));
        assert_eq!(ty("DECIMAL(10,2)"), dec(10, 2));
        assert_eq!(ty("NUMERIC(38, 38)"), dec(38, 38));
        assert_eq!(ty("NUMERIC(5)"), dec(5, 0));
        assert_eq!(
            map("DECIMAL(39,2)").unwrap_err().message,
            "Invalid DECIMAL(39,2): precision must be 1 to 38 and scale 0 to precision"
        );
        assert!(map("DECIMAL(0)").is_err());
        assert!(map("DECIMAL(5,6)").is_err());
    }

    #[test]
    fn serial_family_is_bigint_auto_increment() {
        for name in [
            "SERIAL",
            "SERIAL4",
            "BIGSERIAL",
            "SERIAL8",
            "SMALLSERIAL",
            "SERIAL2",
            "serial",
        ] {
            let mapped = map(name).unwrap();
            assert_eq!(
                mapped,
                ColumnType {
                    data_type: KalamDataType::BigInt,
                    serial: true
                },
                "{name}"
            );
        }
    }

    #[test]
    fn later_and_unknown_types_are_refused() {
        assert_eq!(
            map("EMBEDDING(384)").unwrap_err().message,
            "Type EMBEDDING is not supported yet"
        );
        assert_eq!(
            map("FILE").unwrap_err().message,
            "Type FILE is not supported yet"
        );
        assert_eq!(
            map("FOO").unwrap_err().message,
            "Unsupported data type 'FOO'"
        );
        assert_eq!(
            map("foo").unwrap_err().message,
            "Unsupported data type 'FOO'"
        );
        assert_eq!(
            map("INT[]").unwrap_err().message,
            "Unsupported data type 'INT[]'"
        );
        assert_eq!(
            map("INT UNSIGNED").unwrap_err().message,
            "Unsupported data type 'INT UNSIGNED'"
        );
        assert_eq!(
            map("INTERVAL").unwrap_err().message,
            "Unsupported data type 'INTERVAL'"
        );
        assert_eq!(
            map("FLOAT(54)").unwrap_err().message,
            "Unsupported data type 'FLOAT(54)'"
        );
        assert_eq!(
            map("TIME WITH TIME ZONE").unwrap_err().kind,
            crate::SqlErrorKind::Invalid
        );
    }
}
