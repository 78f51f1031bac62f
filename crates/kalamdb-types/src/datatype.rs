//! Column types and their wire spellings (`wire-protocol.md` §3.4).

use std::fmt;

use serde::{Deserialize, Serialize};

pub const DECIMAL_MAX_PRECISION: u8 = 38;

/// A column's logical type. Serde's default (externally tagged) encoding *is*
/// the wire spelling: `"BigInt"`, `{"Decimal":{"precision":10,"scale":2}}`,
/// `{"Embedding":384}`. Renaming a variant breaks every published client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KalamDataType {
    Boolean,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Text,
    Bytes,
    Json,
    Uuid,
    Date,
    Time,
    Timestamp,
    DateTime,
    File,
    Decimal { precision: u8, scale: i8 },
    Embedding(u32),
}

impl KalamDataType {
    /// The SQL spelling used by DESCRIBE and `system.columns` (`sql.md` §7).
    pub fn sql_name(&self) -> String {
        match self {
            KalamDataType::Boolean => "BOOLEAN".into(),
            KalamDataType::SmallInt => "SMALLINT".into(),
            KalamDataType::Int => "INT".into(),
            KalamDataType::BigInt => "BIGINT".into(),
            KalamDataType::Float => "FLOAT".into(),
            KalamDataType::Double => "DOUBLE".into(),
            KalamDataType::Text => "TEXT".into(),
            KalamDataType::Bytes => "BYTES".into(),
            KalamDataType::Json => "JSON".into(),
            KalamDataType::Uuid => "UUID".into(),
            KalamDataType::Date => "DATE".into(),
            KalamDataType::Time => "TIME".into(),
            KalamDataType::Timestamp => "TIMESTAMP".into(),
            KalamDataType::DateTime => "DATETIME".into(),
            KalamDataType::File => "FILE".into(),
            KalamDataType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
            KalamDataType::Embedding(n) => format!("EMBEDDING({n})"),
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            KalamDataType::SmallInt | KalamDataType::Int | KalamDataType::BigInt
        )
    }

    /// Types a PRIMARY KEY may have (`sql.md` §2.4).
    pub fn can_be_primary_key(&self) -> bool {
        self.is_integer() || matches!(self, KalamDataType::Text | KalamDataType::Uuid)
    }

    /// The wire spelling as a JSON value.
    pub fn wire_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Display for KalamDataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spellings_match_the_spec() {
        let cases = [
            (KalamDataType::BigInt, r#""BigInt""#),
            (KalamDataType::DateTime, r#""DateTime""#),
            (
                KalamDataType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                r#"{"Decimal":{"precision":10,"scale":2}}"#,
            ),
            (KalamDataType::Embedding(384), r#"{"Embedding":384}"#),
        ];
        for (ty, wire) in cases {
            assert_eq!(serde_json::to_string(&ty).ok().as_deref(), Some(wire));
            let back: Option<KalamDataType> = serde_json::from_str(wire).ok();
            assert_eq!(back, Some(ty));
        }
    }
}
