//! `SUBSCRIBE TO …` over HTTP (`sql.md` §6): validates the subscription as
//! a WebSocket `subscribe` would and answers how to open it. No server
//! state is created.

use kalamdb_types::{KalamDataType, NamespaceId};
use sqlparser::ast::{Ident, ObjectNamePart, Query, SetExpr, TableFactor};

use crate::access::Caller;
use crate::error::Result;
use crate::live::error::LiveError;
use crate::live::hub::{LiveHub, options_json};
use crate::live::plan::plan;
use crate::read::session::Sessions;
use crate::statements::output::StatementOutput;
use crate::statements::sys_table::{SysTable, text};

pub async fn subscribe_to(
    sessions: &Sessions,
    live: &LiveHub,
    caller: &Caller,
    mut query: Query,
    options: kalamdb_sql::SubscribeToOptions,
    namespace: &NamespaceId,
) -> Result<StatementOutput> {
    // An unqualified table resolves in the current namespace.
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let TableFactor::Table { name, .. } = &mut from.relation
        && name.0.len() == 1
    {
        name.0.insert(
            0,
            ObjectNamePart::Identifier(Ident::new(namespace.as_str())),
        );
    }
    let sql = query.to_string();
    plan(sessions, caller, &sql)
        .await
        .map_err(LiveError::into_kalam)?;
    let opts = options_json(options.batch_size, options.last_rows, options.from);
    let id = format!("sub-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let subscription = serde_json::json!({"id": id, "sql": sql, "options": opts});
    let mut t = SysTable::new(&[
        ("status", KalamDataType::Text, ""),
        ("ws_url", KalamDataType::Text, ""),
        ("subscription", KalamDataType::Json, ""),
        ("message", KalamDataType::Text, ""),
    ]);
    t.push(vec![
        text("active"),
        text(live.config().ws_url.clone()),
        text(subscription.to_string()),
        text("WebSocket subscription created. Connect to ws_url to receive updates."),
    ]);
    t.into_output()
}
