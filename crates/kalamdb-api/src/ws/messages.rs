//! Engine values as WebSocket protocol messages: result schemas as
//! `SchemaField`s, live-query error kinds as wire codes, and committed
//! changes as §6.6 `change` messages. Rows are encoded by `crate::encode`,
//! the same as HTTP rows, so a client keying rows by primary key sees the
//! same values on both.

use datafusion::arrow::datatypes::Schema;
use kalamdb_core::live::{ChangeKind, LiveChange, LiveErrorKind, LivePlan};
use kalamdb_ws_protocol::{FieldFlag, Row, SchemaField, ServerMessage, WsErrorCode};

use crate::encode::{describe_schema, encode_row_objects};

pub(super) fn ws_code(kind: LiveErrorKind) -> WsErrorCode {
    match kind {
        LiveErrorKind::InvalidSql => WsErrorCode::InvalidSql,
        LiveErrorKind::Unsupported => WsErrorCode::Unsupported,
        LiveErrorKind::NotFound => WsErrorCode::NotFound,
        LiveErrorKind::Unauthorized => WsErrorCode::Unauthorized,
        LiveErrorKind::LimitExceeded => WsErrorCode::SubscriptionLimitExceeded,
        LiveErrorKind::Failed => WsErrorCode::SubscriptionFailed,
        LiveErrorKind::Conversion => WsErrorCode::ConversionError,
    }
}

pub(super) fn schema_fields(schema: &Schema) -> Vec<SchemaField> {
    describe_schema(schema)
        .into_iter()
        .map(|d| {
            let flags = d
                .flags
                .iter()
                .filter_map(|f| match f.as_str() {
                    "pk" => Some(FieldFlag::PrimaryKey),
                    "nn" => Some(FieldFlag::NotNull),
                    "uq" => Some(FieldFlag::Unique),
                    _ => None,
                })
                .collect();
            SchemaField::new(d.name, d.data_type, d.index).with_flags(flags)
        })
        .collect()
}

/// The `change` message of §6.6. Update `old_values` keep the key, the
/// previous `_seq` and the columns whose value changed.
pub(super) fn change_message(
    id: &str,
    plan: &LivePlan,
    change: &LiveChange,
) -> Result<ServerMessage, String> {
    let rows = encode_row_objects(&plan.schema, std::slice::from_ref(&change.rows))
        .map_err(|e| e.to_string())?;
    Ok(match change.kind {
        ChangeKind::Insert => ServerMessage::insert(id, rows),
        ChangeKind::Delete => ServerMessage::delete(id, rows),
        ChangeKind::Update => {
            let old = match &change.old {
                Some(old) => encode_row_objects(&plan.schema, std::slice::from_ref(old))
                    .map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            let keep = |name: &str| {
                name == kalamdb_types::SYSTEM_COLUMN_SEQ || plan.pk_column.as_deref() == Some(name)
            };
            let old = old
                .into_iter()
                .zip(&rows)
                .map(|(old, new)| {
                    old.into_iter()
                        .filter(|(k, v)| keep(k) || new.get(k) != Some(v))
                        .collect::<Row>()
                })
                .collect();
            ServerMessage::update(id, rows, old)
        }
    })
}
