//! `STORAGE FLUSH TABLE` / `STORAGE FLUSH ALL` (`sql.md` §4.1) and
//! `STORAGE COMPACT TABLE` / `ALL`: who may start them, which tables they
//! concern, and what they answer; the jobs themselves are `maintenance`'s.

use kalamdb_sql::ObjectRef;
use kalamdb_types::{NamespaceId, TableType};

use crate::access::{self, Action, Caller};
use crate::catalog::names::resolve_table;
use crate::error::Result;
use crate::maintenance::jobs::{Submitted, flush_key};
use crate::maintenance::segments::refuse_stream;
use crate::maintenance::tasks::Maintenance;
use crate::statements::namespace::existing;
use crate::statements::output::StatementOutput;
use crate::tiers::hot::has_hot_rows;

/// The namespace of `… ALL IN ns`, which must exist.
fn scope(m: &Maintenance, namespace: Option<&str>) -> Result<Option<NamespaceId>> {
    namespace.map(|n| existing(m.shared(), n)).transpose()
}

pub async fn flush_table(
    m: &Maintenance,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::StorageJob("STORAGE FLUSH"))?;
    let entry = resolve_table(&m.shared().catalog, table, current)?;
    let id = entry.id();
    refuse_stream(&entry, "STORAGE FLUSH TABLE")?;
    if m.jobs.is_active(&flush_key(&id)) {
        return Ok(StatementOutput::Message(format!(
            "Storage flush skipped: a flush is already queued or running for table '{id}'"
        )));
    }
    if !has_hot_rows(m.shared().store.as_ref(), &id)? {
        return Ok(StatementOutput::Message(format!(
            "Storage flush skipped: no pending writes for table '{id}'"
        )));
    }
    Ok(StatementOutput::Message(
        match m.submit_flush(&id).await? {
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
    m: &Maintenance,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::StorageJob("STORAGE FLUSH"))?;
    let ns = scope(m, namespace)?;
    let mut jobs = Vec::new();
    for entry in m.shared().catalog.tables(ns.as_ref()) {
        if entry.def.table_type == TableType::Stream {
            continue;
        }
        let id = entry.id();
        if !has_hot_rows(m.shared().store.as_ref(), &id)? {
            continue;
        }
        if let Submitted::Started(job) = m.submit_flush(&id).await? {
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

pub async fn compact_table(
    m: &Maintenance,
    caller: &Caller,
    table: &ObjectRef,
    current: &NamespaceId,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::StorageJob("STORAGE COMPACT"))?;
    let entry = resolve_table(&m.shared().catalog, table, current)?;
    let id = entry.id();
    refuse_stream(&entry, "STORAGE COMPACT TABLE")?;
    if !m.has_segments(&id)? {
        return Ok(StatementOutput::Message(format!(
            "Storage compaction skipped: no flushed files for table '{id}'"
        )));
    }
    Ok(StatementOutput::Message(
        match m.submit_compaction(&id).await? {
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
    m: &Maintenance,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::StorageJob("STORAGE COMPACT"))?;
    let ns = scope(m, namespace)?;
    let mut jobs = Vec::new();
    for entry in m.shared().catalog.tables(ns.as_ref()) {
        let id = entry.id();
        if entry.def.table_type == TableType::Stream || !m.has_segments(&id)? {
            continue;
        }
        if let Submitted::Started(job) = m.submit_compaction(&id).await? {
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
