//! `DESCRIBE TABLE` (`sql.md` §7): a table's columns, system columns
//! included, from its definition — or, for a `system` table, from its schema.

use datafusion::arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use kalamdb_types::{
    FIELD_META_DATA_TYPE, FIELD_META_FLAGS, KalamDataType, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ,
};

use crate::error::Result;
use crate::statements::sys_table::{SysTable, opt_text, text};

/// `DESCRIBE TABLE system.x`: the built-in table's columns, from its schema.
pub fn describe_fields(schema: &Schema) -> Result<SysTable> {
    let mut t = describe_table();
    for (i, f) in schema.fields().iter().enumerate() {
        let ty = f
            .metadata()
            .get(FIELD_META_DATA_TYPE)
            .and_then(|j| serde_json::from_str::<KalamDataType>(j).ok())
            .map(|ty| ty.sql_name())
            .unwrap_or_else(|| f.data_type().to_string());
        let pk = f
            .metadata()
            .get(FIELD_META_FLAGS)
            .is_some_and(|fl| fl.split(',').any(|x| x == "pk"));
        t.push(vec![
            text(f.name().clone()),
            ScalarValue::Int32(Some(i as i32 + 1)),
            ScalarValue::Int32(Some(i as i32 + 1)),
            text(ty),
            ScalarValue::Boolean(Some(f.is_nullable())),
            ScalarValue::Boolean(Some(pk)),
            ScalarValue::Utf8(None),
            ScalarValue::Utf8(None),
            ScalarValue::Int32(Some(1)),
        ]);
    }
    Ok(t)
}

fn describe_table() -> SysTable {
    SysTable::new(&[
        ("column_name", KalamDataType::Text, "nn"),
        ("ordinal_position", KalamDataType::Int, ""),
        ("column_id", KalamDataType::Int, ""),
        ("data_type", KalamDataType::Text, ""),
        ("is_nullable", KalamDataType::Boolean, ""),
        ("is_primary_key", KalamDataType::Boolean, ""),
        ("column_default", KalamDataType::Text, ""),
        ("column_comment", KalamDataType::Text, ""),
        ("schema_version", KalamDataType::Int, ""),
    ])
}

/// `DESCRIBE TABLE` rows (`sql.md` §7), system columns included.
pub fn describe(def: &kalamdb_types::TableDefinition) -> Result<SysTable> {
    let mut t = describe_table();
    let version = ScalarValue::Int32(Some(def.version as i32));
    for c in &def.columns {
        t.push(vec![
            text(c.name.clone()),
            ScalarValue::Int32(Some(c.ordinal as i32)),
            ScalarValue::Int32(Some(c.column_id as i32)),
            text(c.data_type.sql_name()),
            ScalarValue::Boolean(Some(c.nullable && !c.primary_key)),
            ScalarValue::Boolean(Some(c.primary_key)),
            opt_text(c.default.clone()),
            opt_text(c.comment.clone()),
            version.clone(),
        ]);
    }
    let n = def.columns.len() as i32;
    for (i, (name, ty)) in [
        (SYSTEM_COLUMN_SEQ, "BIGINT"),
        (SYSTEM_COLUMN_DELETED, "BOOLEAN"),
    ]
    .into_iter()
    .enumerate()
    {
        t.push(vec![
            text(name),
            ScalarValue::Int32(Some(n + 1 + i as i32)),
            ScalarValue::Int32(None),
            text(ty),
            ScalarValue::Boolean(Some(false)),
            ScalarValue::Boolean(Some(false)),
            ScalarValue::Utf8(None),
            text(if i == 0 {
                "Row version id (Snowflake)"
            } else {
                "Delete tombstone flag"
            }),
            version.clone(),
        ]);
    }
    Ok(t)
}
