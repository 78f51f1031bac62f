//! The `system` schema: read-only views of the catalog, the jobs, the live
//! subscriptions and the server's counters (`sql.md` §8), supplied to every
//! session through `read::SystemSchemas`.
//!
//! Each table is materialised when a query references it (a handful of rows
//! per namespace/table/user), so these are plain `MemTable`s.
//! `system.namespaces`, `.tables` and `.columns` are readable by every role
//! (ours); the others by dba/system only (`access.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::catalog::SchemaProvider;
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::error::Result as DfResult;
use kalamdb_types::KalamDataType;

use crate::access::{self, Action, PUBLIC_SYSTEM_TABLES};
use crate::error::{KalamError, Result};
use crate::live::hub::LiveHub;
use crate::maintenance::tasks::Maintenance;
use crate::read::context::QueryContext;
use crate::read::session::SystemSchemas;
use crate::statements::sys_table::{SysTable, opt_text, text, ts};
use crate::write::shared::Shared;

const ADMIN_TABLES: &[&str] = &["users", "schemas", "stats", "jobs", "storages", "live"];
/// Older names, resolvable but not listed.
const ADMIN_ALIASES: &[&str] = &["live_queries"];

/// What the `system` tables show (cheap to clone: handles).
#[derive(Clone)]
pub struct SystemTables {
    pub shared: Arc<Shared>,
    pub maintenance: Arc<Maintenance>,
    pub live: Arc<LiveHub>,
    pub fast: Arc<crate::statements::fast::FastPath>,
    /// Queries answered with a kept physical plan (`read/plan_cache.rs`).
    pub plan_hits: Arc<std::sync::atomic::AtomicU64>,
    /// When the engine started (µs).
    pub started_at: i64,
}

impl std::fmt::Debug for SystemTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemTables")
    }
}

impl SystemSchemas for SystemTables {
    fn schema(&self, ctx: Arc<QueryContext>) -> Arc<dyn SchemaProvider> {
        Arc::new(SystemSchema {
            tables: self.clone(),
            ctx,
        })
    }
}

/// The `system` schema as one statement sees it.
#[derive(Debug)]
struct SystemSchema {
    tables: SystemTables,
    ctx: Arc<QueryContext>,
}

#[async_trait]
impl SchemaProvider for SystemSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = PUBLIC_SYSTEM_TABLES.iter().map(|s| s.to_string()).collect();
        names.extend(
            ADMIN_TABLES
                .iter()
                .filter(|t| access::allow(self.ctx.caller.role, Action::ReadSystemTable(t)).is_ok())
                .map(|s| s.to_string()),
        );
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if !self.table_exist(name) {
            return Ok(None);
        }
        access::allow(self.ctx.caller.role, Action::ReadSystemTable(name))
            .map_err(KalamError::into_datafusion)?;
        let t = &self.tables;
        let table = match name {
            "namespaces" => namespaces(&t.shared),
            "tables" => tables(&t.shared),
            "columns" => columns(&t.shared),
            "schemas" => schemas(&t.shared),
            "users" => users(&t.shared),
            "stats" => stats(t),
            "jobs" => jobs(&t.maintenance),
            "storages" => storages(&t.shared),
            // `live_queries` is the older name (`sql.md` §8).
            "live" | "live_queries" => live(&t.live),
            _ => return Ok(None),
        }
        .map_err(KalamError::into_datafusion)?;
        Ok(Some(Arc::new(
            table
                .into_mem_table()
                .map_err(KalamError::into_datafusion)?,
        )))
    }

    fn table_exist(&self, name: &str) -> bool {
        PUBLIC_SYSTEM_TABLES.contains(&name)
            || ADMIN_TABLES.contains(&name)
            || ADMIN_ALIASES.contains(&name)
    }
}

fn namespaces(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("namespace_id", KalamDataType::Text, "pk"),
        ("name", KalamDataType::Text, "nn"),
        ("created_at", KalamDataType::Timestamp, ""),
        ("options", KalamDataType::Json, ""),
        ("table_count", KalamDataType::BigInt, ""),
    ]);
    for ns in shared.catalog.namespaces() {
        let count = shared.catalog.tables(Some(&ns.name)).len() as i64;
        t.push(vec![
            text(ns.name.as_str()),
            text(ns.name.as_str()),
            ts(Some(ns.created_at)),
            text(ns.options.to_string()),
            ScalarValue::Int64(Some(count)),
        ]);
    }
    Ok(t)
}

fn tables(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("namespace_id", KalamDataType::Text, "nn"),
        ("table_name", KalamDataType::Text, "nn"),
        ("table_type", KalamDataType::Text, "nn"),
        ("storage_id", KalamDataType::Text, ""),
        ("version", KalamDataType::Int, ""),
        ("options", KalamDataType::Json, ""),
        ("comment", KalamDataType::Text, ""),
        ("updated_at", KalamDataType::Timestamp, ""),
        ("created_at", KalamDataType::Timestamp, ""),
    ]);
    for e in shared.catalog.tables(None) {
        let d = &e.def;
        t.push(vec![
            text(d.namespace.as_str()),
            text(d.name.as_str()),
            text(d.table_type.as_str()),
            opt_text(d.options.storage_id.as_ref().map(|s| s.to_string())),
            ScalarValue::Int32(Some(d.version as i32)),
            text(d.options_json().to_string()),
            opt_text(d.comment.clone()),
            ts(Some(d.updated_at)),
            ts(Some(d.created_at)),
        ]);
    }
    // Views (sql.md §2.6a): their definition in `options`.
    for v in shared.catalog.views(None) {
        t.push(vec![
            text(v.id.namespace.as_str()),
            text(v.id.table.as_str()),
            text("view"),
            opt_text(None::<String>),
            ScalarValue::Int32(None),
            text(serde_json::json!({ "sql": v.sql }).to_string()),
            opt_text(None::<String>),
            ts(Some(v.updated_at)),
            ts(Some(v.created_at)),
        ]);
    }
    // The system tables themselves (sql.md §8), whoever may read them.
    let mut system: Vec<&str> = PUBLIC_SYSTEM_TABLES.to_vec();
    system.extend(ADMIN_TABLES);
    system.sort_unstable();
    for name in system {
        t.push(vec![
            text("system"),
            text(name),
            text("system"),
            opt_text(None::<String>),
            ScalarValue::Int32(None),
            opt_text(None::<String>),
            opt_text(None::<String>),
            ts(None),
            ts(None),
        ]);
    }
    Ok(t)
}

/// One row per schema version of every table (sql.md §8): each ALTER TABLE
/// adds one; the current definition is the row with `is_latest`. Tables
/// created before versions were kept show their current version only.
fn schemas(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("table_id", KalamDataType::Text, "nn"),
        ("table_name", KalamDataType::Text, "nn"),
        ("namespace_id", KalamDataType::Text, "nn"),
        ("table_type", KalamDataType::Text, "nn"),
        ("created_at", KalamDataType::Timestamp, ""),
        ("schema_version", KalamDataType::Int, "nn"),
        ("columns", KalamDataType::Json, ""),
        ("table_comment", KalamDataType::Text, ""),
        ("updated_at", KalamDataType::Timestamp, ""),
        ("options", KalamDataType::Json, ""),
        ("access_level", KalamDataType::Text, ""),
        ("is_latest", KalamDataType::Boolean, "nn"),
        ("storage_id", KalamDataType::Text, ""),
        ("use_user_storage", KalamDataType::Boolean, "nn"),
    ]);
    for (e, d) in shared
        .catalog
        .tables(None)
        .iter()
        .flat_map(|e| e.versions().map(move |d| (e, d)))
    {
        let columns: Vec<serde_json::Value> = d
            .columns
            .iter()
            .map(|c| {
                serde_json::json!({
                    "column_id": c.column_id,
                    "column_name": c.name,
                    "data_type": c.data_type.sql_name(),
                    "ordinal": c.ordinal,
                    "nullable": c.nullable && !c.primary_key,
                    "primary_key": c.primary_key,
                    "default_value": c.default,
                    "comment": c.comment,
                    "since_version": c.since_version,
                    "fill": c.fill,
                })
            })
            .collect();
        t.push(vec![
            text(d.id().to_string()),
            text(d.name.as_str()),
            text(d.namespace.as_str()),
            text(d.table_type.as_str()),
            ts(Some(d.created_at)),
            ScalarValue::Int32(Some(d.version as i32)),
            text(serde_json::Value::Array(columns).to_string()),
            opt_text(d.comment.clone()),
            ts(Some(d.updated_at)),
            text(d.options_json().to_string()),
            opt_text(d.options.access_level.map(|a| a.as_str().to_string())),
            ScalarValue::Boolean(Some(d.version == e.def.version)),
            opt_text(d.options.storage_id.as_ref().map(|s| s.to_string())),
            ScalarValue::Boolean(Some(false)),
        ]);
    }
    Ok(t)
}

fn columns(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("namespace_id", KalamDataType::Text, "nn"),
        ("table_name", KalamDataType::Text, "nn"),
        ("version", KalamDataType::Int, ""),
        ("column_id", KalamDataType::Int, ""),
        ("column_name", KalamDataType::Text, "nn"),
        ("comment", KalamDataType::Text, ""),
        ("data_type", KalamDataType::Text, ""),
        ("default_value", KalamDataType::Text, ""),
        ("ordinal", KalamDataType::Int, ""),
        ("nullable", KalamDataType::Boolean, ""),
        ("primary_key", KalamDataType::Boolean, ""),
        ("primary_key_pos", KalamDataType::Int, ""),
    ]);
    for e in shared.catalog.tables(None) {
        let d = &e.def;
        for c in &d.columns {
            t.push(vec![
                text(d.namespace.as_str()),
                text(d.name.as_str()),
                ScalarValue::Int32(Some(d.version as i32)),
                ScalarValue::Int32(Some(c.column_id as i32)),
                text(c.name.clone()),
                opt_text(c.comment.clone()),
                text(c.data_type.sql_name()),
                opt_text(c.default.clone()),
                ScalarValue::Int32(Some(c.ordinal as i32)),
                ScalarValue::Boolean(Some(c.nullable && !c.primary_key)),
                ScalarValue::Boolean(Some(c.primary_key)),
                ScalarValue::Int32(c.primary_key.then_some(1)),
            ]);
        }
    }
    Ok(t)
}

fn users(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("user_id", KalamDataType::Text, "pk"),
        ("password_hash", KalamDataType::Text, ""),
        ("role", KalamDataType::Text, "nn"),
        ("email", KalamDataType::Text, ""),
        ("auth_type", KalamDataType::Text, ""),
        ("auth_data", KalamDataType::Json, ""),
        ("storage_mode", KalamDataType::Text, ""),
        ("storage_id", KalamDataType::Text, ""),
        ("failed_login_attempts", KalamDataType::BigInt, ""),
        ("locked_until", KalamDataType::Timestamp, ""),
        ("last_login_at", KalamDataType::Timestamp, ""),
        ("created_at", KalamDataType::Timestamp, ""),
        ("updated_at", KalamDataType::Timestamp, ""),
        ("last_seen", KalamDataType::Timestamp, ""),
        ("deleted_at", KalamDataType::Timestamp, ""),
    ]);
    for u in shared.catalog.users()? {
        t.push(vec![
            text(u.user_id.as_str()),
            // Never leaves the server, whoever asks (ours).
            text("***"),
            text(u.role.as_str()),
            opt_text(u.email.clone()),
            text(u.auth_type.clone()),
            opt_text(u.auth_data.clone()),
            opt_text(u.storage_mode.clone()),
            opt_text(u.storage_id.clone()),
            ScalarValue::Int64(Some(i64::from(u.failed_login_attempts))),
            ts(u.locked_until),
            ts(u.last_login_at),
            ts(Some(u.created_at)),
            ts(Some(u.updated_at)),
            ts(u.last_seen),
            ts(u.deleted_at),
        ]);
    }
    Ok(t)
}

fn stats(sys: &SystemTables) -> Result<SysTable> {
    let shared = &sys.shared;
    let mut t = SysTable::new(&[
        ("metric_name", KalamDataType::Text, "pk"),
        ("metric_value", KalamDataType::Text, ""),
    ]);
    let commit = shared.committer.stats();
    let uptime = (kalamdb_types::now_micros() - sys.started_at) / 1_000_000;
    let metrics = [
        ("server_uptime_seconds", uptime.to_string()),
        ("total_users", shared.catalog.user_count().to_string()),
        (
            "total_namespaces",
            shared.catalog.namespaces().len().to_string(),
        ),
        (
            "total_tables",
            shared.catalog.tables(None).len().to_string(),
        ),
        (
            "commit_groups",
            commit.groups.load(Ordering::Relaxed).to_string(),
        ),
        (
            "commit_requests",
            commit.requests.load(Ordering::Relaxed).to_string(),
        ),
        ("durable_writes", shared.store.is_durable().to_string()),
        // Statements answered without DataFusion, and recognised ones
        // handed back to it at run time (`statements/fast.rs`).
        (
            "fast_path_statements",
            sys.fast
                .stats
                .statements
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "fast_path_fallbacks",
            sys.fast.stats.fallbacks.load(Ordering::Relaxed).to_string(),
        ),
        (
            "plan_cache_hits",
            sys.plan_hits.load(Ordering::Relaxed).to_string(),
        ),
        // 1 once a write failed: writes are refused until a restart.
        (
            "storage_write_failed",
            u8::from(shared.committer.storage_failed()).to_string(),
        ),
        (
            "cold_rows_read",
            shared.cold_rows_read.load(Ordering::Relaxed).to_string(),
        ),
        (
            "cold_segments_plain",
            shared
                .cold_segments_plain
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "cold_segments_merged",
            shared
                .cold_segments_merged
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "cold_segments_pruned",
            shared
                .cold_segments_pruned
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "hot_rows_read",
            shared.hot_rows_read.load(Ordering::Relaxed).to_string(),
        ),
        (
            "stream_rows_evicted",
            sys.maintenance
                .stream
                .evicted
                .load(Ordering::Relaxed)
                .to_string(),
        ),
    ];
    let live_metrics = [
        (
            "active_connections",
            sys.live.connection_count().to_string(),
        ),
        (
            "active_subscriptions",
            sys.live.subscription_count().to_string(),
        ),
        ("live_notifications", sys.live.notifications().to_string()),
        ("live_candidates", sys.live.candidates().to_string()),
        ("memory_usage_bytes", resident_bytes().to_string()),
    ];
    for (name, value) in metrics.into_iter().chain(live_metrics) {
        t.push(vec![text(name), text(value)]);
    }
    Ok(t)
}

/// Resident memory of the process (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn live(hub: &LiveHub) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("live_id", KalamDataType::Text, "pk"),
        ("connection_id", KalamDataType::Text, ""),
        ("subscription_id", KalamDataType::Text, ""),
        ("namespace_id", KalamDataType::Text, ""),
        ("table_name", KalamDataType::Text, ""),
        ("user_id", KalamDataType::Text, ""),
        ("query", KalamDataType::Text, ""),
        ("options", KalamDataType::Json, ""),
        ("status", KalamDataType::Text, ""),
        ("created_at", KalamDataType::Timestamp, ""),
        ("last_update", KalamDataType::Timestamp, ""),
        ("changes", KalamDataType::BigInt, ""),
        ("node_id", KalamDataType::Text, ""),
        ("last_ping_at", KalamDataType::Timestamp, ""),
    ]);
    for r in hub.rows() {
        t.push(vec![
            text(r.live_id),
            text(r.connection_id),
            text(r.subscription_id),
            text(r.namespace_id),
            text(r.table_name),
            text(r.user_id),
            text(r.query),
            text(r.options),
            text("active"),
            ts(Some(r.created_at)),
            ts(Some(r.last_update)),
            ScalarValue::Int64(Some(i64::try_from(r.changes).unwrap_or(i64::MAX))),
            text("node-1"),
            ts(Some(r.last_ping_at)),
        ]);
    }
    Ok(t)
}

fn jobs(maintenance: &Maintenance) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("job_id", KalamDataType::Text, "pk"),
        ("job_type", KalamDataType::Text, "nn"),
        ("status", KalamDataType::Text, "nn"),
        ("parameters", KalamDataType::Json, ""),
        ("message", KalamDataType::Text, ""),
        ("exception_trace", KalamDataType::Text, ""),
        ("idempotency_key", KalamDataType::Text, ""),
        ("queue", KalamDataType::Text, ""),
        ("priority", KalamDataType::Int, ""),
        ("retry_count", KalamDataType::Int, ""),
        ("max_retries", KalamDataType::Int, ""),
        ("memory_used", KalamDataType::BigInt, ""),
        ("cpu_used", KalamDataType::BigInt, ""),
        ("created_at", KalamDataType::Timestamp, ""),
        ("updated_at", KalamDataType::Timestamp, ""),
        ("started_at", KalamDataType::Timestamp, ""),
        ("finished_at", KalamDataType::Timestamp, ""),
        ("node_id", KalamDataType::Text, ""),
        ("leader_status", KalamDataType::Text, ""),
        ("leader_node_id", KalamDataType::Text, ""),
    ]);
    for j in maintenance.jobs.list()? {
        let int = |v: u32| ScalarValue::Int32(Some(i32::try_from(v).unwrap_or(i32::MAX)));
        t.push(vec![
            text(j.job_id),
            text(j.job_type),
            text(j.status.as_str()),
            text(j.parameters.to_string()),
            opt_text(j.message),
            opt_text(j.exception_trace),
            opt_text(j.idempotency_key),
            opt_text(j.queue),
            ScalarValue::Int32(Some(j.priority)),
            int(j.retry_count),
            int(j.max_retries),
            ScalarValue::Int64(None),
            ScalarValue::Int64(None),
            ts(Some(j.created_at)),
            ts(Some(j.updated_at)),
            ts(j.started_at),
            ts(j.finished_at),
            text(j.node_id),
            opt_text(None::<String>),
            opt_text(None::<String>),
        ]);
    }
    Ok(t)
}

fn storages(shared: &Shared) -> Result<SysTable> {
    let mut t = SysTable::new(&[
        ("storage_id", KalamDataType::Text, "pk"),
        ("storage_name", KalamDataType::Text, "nn"),
        ("description", KalamDataType::Text, ""),
        ("storage_type", KalamDataType::Text, "nn"),
        ("base_directory", KalamDataType::Text, "nn"),
        ("credentials", KalamDataType::Text, ""),
        ("config_json", KalamDataType::Json, ""),
        ("shared_tables_template", KalamDataType::Text, "nn"),
        ("user_tables_template", KalamDataType::Text, "nn"),
        ("created_at", KalamDataType::Timestamp, ""),
        ("updated_at", KalamDataType::Timestamp, ""),
    ]);
    for d in shared.storages.all() {
        t.push(vec![
            text(d.storage_id.as_str()),
            text(d.storage_name),
            opt_text(d.description),
            text(d.storage_type.as_str()),
            text(d.base_directory),
            // Never leaves the server (the encoder masks the column too).
            opt_text(d.credentials.map(|_| "***")),
            opt_text(d.config_json),
            text(d.shared_tables_template),
            text(d.user_tables_template),
            ts(Some(d.created_at)),
            ts(Some(d.updated_at)),
        ]);
    }
    Ok(t)
}
