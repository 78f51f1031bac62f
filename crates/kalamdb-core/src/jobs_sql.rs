//! `STORAGE FLUSH TABLE` / `STORAGE FLUSH ALL` (`sql.md` §4.1) and
//! `STORAGE COMPACT TABLE` / `ALL`: starting flush and compaction jobs, and
//! the policy loop that starts flushes on its own.

use std::sync::Arc;

use kalamdb_sql::ObjectRef;
use kalamdb_types::{NamespaceId, Role, TableId, TableType};

use crate::engine::{Caller, Shared, StatementOutput};
use crate::error::{KalamError, Result};
use crate::flush;
use crate::jobs::Submitted;

fn require_storage_role(role: Role, what: &str) -> Result<()> {
    if role == Role::User {
        return Err(KalamError::PermissionDenied(format!(
            "Insufficient privileges for {what} (requires role service, dba or system)"
        )));
    }
    Ok(())
}

fn require_flush_role(role: Role) -> Result<()> {
    require_storage_role(role, "STORAGE FLUSH")
}

/// The namespace of `… ALL IN ns`, which must exist.
fn existing_namespace(shared: &Shared, namespace: Option<&str>) -> Result<Option<NamespaceId>> {
    let Some(n) = namespace else {
        return Ok(None);
    };
    let ns = NamespaceId::parse(n).map_err(|e| KalamError::exec(e.to_string()))?;
    if shared.catalog.namespace(&ns).is_none() {
        return Err(KalamError::exec(format!("Namespace '{ns}' not found")));
    }
    Ok(Some(ns))
}

pub(crate) fn flush_key(table: &TableId) -> String {
    format!("flush:{table}")
}

/// Starts a flush job for `table`, unless one is active for it.
pub async fn submit_flush(shared: &Arc<Shared>, table: &TableId) -> Result<Submitted> {
    let s = shared.clone();
    let t = table.clone();
    shared
        .jobs
        .submit(
            "FL",
            "flush",
            serde_json::json!({"namespace_id": table.namespace.as_str(), "table_name": table.table.as_str()}),
            Some(flush_key(table)),
            move |cancel| {
                let s = s.clone();
                let t = t.clone();
                async move {
                    let outcome = flush::flush_table(&s, &t, &cancel).await?;
                    Ok(outcome.message())
                }
            },
        )
        .await
}

pub async fn flush_table(
    shared: &Arc<Shared>,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    require_flush_role(caller.role)?;
    let entry = crate::ddl::resolve_table(shared, table, current)?;
    let id = entry.id();
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec(
            "STORAGE FLUSH TABLE is not supported for STREAM tables",
        ));
    }
    if shared.jobs.is_active(&flush_key(&id)) {
        return Ok(StatementOutput::Message(format!(
            "Storage flush skipped: a flush is already queued or running for table '{id}'"
        )));
    }
    if !flush::has_hot_rows(shared, &id)? {
        return Ok(StatementOutput::Message(format!(
            "Storage flush skipped: no pending writes for table '{id}'"
        )));
    }
    Ok(StatementOutput::Message(
        match submit_flush(shared, &id).await? {
            Submitted::Started(job) => {
                format!("Storage flush started for table '{id}'. Job ID: {job}")
            }
            Submitted::AlreadyActive(_) => format!(
                "Storage flush skipped: a flush is already queued or running for table '{id}'"
            ),
        },
    ))
}

pub async fn flush_all(
    shared: &Arc<Shared>,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<StatementOutput> {
    require_flush_role(caller.role)?;
    let ns = existing_namespace(shared, namespace)?;
    let mut jobs = Vec::new();
    for entry in shared.catalog.tables(ns.as_ref()) {
        if entry.def.table_type == TableType::Stream {
            continue;
        }
        let id = entry.id();
        if !flush::has_hot_rows(shared, &id)? {
            continue;
        }
        if let Submitted::Started(job) = submit_flush(shared, &id).await? {
            jobs.push(job);
        }
    }
    let scope = match &ns {
        Some(ns) => format!(" in namespace '{ns}'"),
        None => String::new(),
    };
    if jobs.is_empty() {
        let what = match &ns {
            Some(ns) => format!("in namespace '{ns}'"),
            None => "in any table".to_string(),
        };
        return Ok(StatementOutput::Message(format!(
            "Storage flush skipped: no pending writes {what}"
        )));
    }
    Ok(StatementOutput::Message(format!(
        "Storage flush started for {} table(s){scope}. Job IDs: [{}]",
        jobs.len(),
        jobs.join(", ")
    )))
}

pub(crate) fn compact_key(table: &TableId) -> String {
    format!("compact:{table}")
}

/// Starts a compaction job for `table`, unless one is active for it.
pub async fn submit_compaction(shared: &Arc<Shared>, table: &TableId) -> Result<Submitted> {
    let s = shared.clone();
    let t = table.clone();
    shared
        .jobs
        .submit(
            "CO",
            "compact",
            serde_json::json!({"namespace_id": table.namespace.as_str(), "table_name": table.table.as_str()}),
            Some(compact_key(table)),
            move |cancel| {
                let s = s.clone();
                let t = t.clone();
                async move {
                    let outcome = crate::compact::compact_table(&s, &t, &cancel).await?;
                    Ok(outcome.message())
                }
            },
        )
        .await
}

/// Has the table any flushed segment (in any partition)?
fn has_segments(shared: &Shared, table: &TableId) -> Result<bool> {
    Ok(crate::cold::manifests_of(shared.store.as_ref(), table)?
        .iter()
        .any(|(_, m)| !m.segments.is_empty()))
}

pub async fn compact_table(
    shared: &Arc<Shared>,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    require_storage_role(caller.role, "STORAGE COMPACT")?;
    let entry = crate::ddl::resolve_table(shared, table, current)?;
    let id = entry.id();
    if entry.def.table_type == TableType::Stream {
        return Err(KalamError::exec(
            "STORAGE COMPACT TABLE is not supported for STREAM tables",
        ));
    }
    if !has_segments(shared, &id)? {
        return Ok(StatementOutput::Message(format!(
            "Storage compaction skipped: no flushed files for table '{id}'"
        )));
    }
    Ok(StatementOutput::Message(
        match submit_compaction(shared, &id).await? {
            Submitted::Started(job) => {
                format!("Storage compaction started for table '{id}'. Job ID: {job}")
            }
            Submitted::AlreadyActive(_) => format!(
                "Storage compaction skipped: a compaction is already queued or running for table '{id}'"
            ),
        },
    ))
}

pub async fn compact_all(
    shared: &Arc<Shared>,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<StatementOutput> {
    require_storage_role(caller.role, "STORAGE COMPACT")?;
    let ns = existing_namespace(shared, namespace)?;
    let mut jobs = Vec::new();
    for entry in shared.catalog.tables(ns.as_ref()) {
        let id = entry.id();
        if entry.def.table_type == TableType::Stream || !has_segments(shared, &id)? {
            continue;
        }
        if let Submitted::Started(job) = submit_compaction(shared, &id).await? {
            jobs.push(job);
        }
    }
    let scope = match &ns {
        Some(ns) => format!(" in namespace '{ns}'"),
        None => String::new(),
    };
    if jobs.is_empty() {
        return Ok(StatementOutput::Message(format!(
            "Storage compaction skipped: no flushed files{}",
            if scope.is_empty() {
                " in any table".to_string()
            } else {
                scope
            }
        )));
    }
    Ok(StatementOutput::Message(format!(
        "Storage compaction started for {} table(s){scope}. Job IDs: [{}]",
        jobs.len(),
        jobs.join(", ")
    )))
}

/// The flush policy (`sql.md` §2.1), run every `flush.check_interval_seconds`
/// by `Engine::open`: a table is flushed when it has at least N hot rows or
/// its oldest hot row is older than S seconds. Counting hot rows scans them,
/// so the count stops at N.
/// One policy pass; returns the jobs it started.
pub async fn run_policy_once(shared: &Arc<Shared>) -> Result<Vec<String>> {
    let mut started = Vec::new();
    for entry in shared.catalog.tables(None) {
        if entry.def.table_type == TableType::Stream {
            continue;
        }
        let id = entry.id();
        if shared.jobs.is_active(&flush_key(&id)) {
            continue;
        }
        let policy = entry
            .def
            .options
            .flush_policy
            .unwrap_or(shared.config.default_flush_policy);
        let due = {
            let s = shared.clone();
            let t = id.clone();
            tokio::task::spawn_blocking(move || flush::is_due(&s, &t, policy))
                .await
                .map_err(KalamError::internal)??
        };
        if due && let Submitted::Started(job) = submit_flush(shared, &id).await? {
            started.push(job);
        }
    }
    Ok(started)
}
