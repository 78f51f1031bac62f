//! [`Maintenance`]: the background work on table data the engine owns —
//! flush and compaction jobs (started by statements or by the flush
//! policy), their turns per table, STREAM TTL eviction, the cleanup of
//! dropped users (`user_cleanup.rs`) — as one handle the
//! statements and the engine's periodic tasks call.

use std::sync::Arc;

use kalamdb_types::{TableId, TableType};

use crate::error::Result;
use crate::maintenance::compact::{CompactOutcome, compact_table};
use crate::maintenance::flush::{FlushOutcome, flush_table, is_due};
use crate::maintenance::jobs::{CancelFlag, JobManager, Submitted, compact_key, flush_key};
use crate::maintenance::segments::ColdWork;
use crate::maintenance::stream_ttl::StreamTtl;
use crate::tiers::manifest::manifests_of;
use crate::write::shared::Shared;

pub struct Maintenance {
    pub work: Arc<ColdWork>,
    pub jobs: Arc<JobManager>,
    pub stream: StreamTtl,
    /// How long a dropped user is kept before its cleanup job
    /// (`user_management.deletion_grace_period_days`; `user_cleanup.rs`).
    pub user_grace: std::time::Duration,
}

impl Maintenance {
    pub fn shared(&self) -> &Arc<Shared> {
        &self.work.shared
    }

    /// Starts a flush job for `table`, unless one is active for it.
    pub async fn submit_flush(&self, table: &TableId) -> Result<Submitted> {
        let work = self.work.clone();
        let t = table.clone();
        self.jobs
            .submit(
                "FL",
                "flush",
                serde_json::json!({"namespace_id": table.namespace.as_str(), "table_name": table.table.as_str()}),
                Some(flush_key(table)),
                move |cancel| {
                    let work = work.clone();
                    let t = t.clone();
                    async move { Ok(flush_table(&work, &t, &cancel).await?.message()) }
                },
            )
            .await
    }

    /// Starts a compaction job for `table`, unless one is active for it.
    pub async fn submit_compaction(&self, table: &TableId) -> Result<Submitted> {
        let work = self.work.clone();
        let t = table.clone();
        self.jobs
            .submit(
                "CO",
                "compact",
                serde_json::json!({"namespace_id": table.namespace.as_str(), "table_name": table.table.as_str()}),
                Some(compact_key(table)),
                move |cancel| {
                    let work = work.clone();
                    let t = t.clone();
                    async move { Ok(compact_table(&work, &t, &cancel).await?.message()) }
                },
            )
            .await
    }

    /// Flushes a table now, outside the job system (tests run the golden
    /// suite with flushes after every statement this way).
    pub async fn flush_now(&self, table: &TableId) -> Result<FlushOutcome> {
        flush_table(&self.work, table, &CancelFlag::default()).await
    }

    /// Compacts a table now, outside the job system.
    pub async fn compact_now(&self, table: &TableId) -> Result<CompactOutcome> {
        compact_table(&self.work, table, &CancelFlag::default()).await
    }

    /// Has the table any flushed segment (in any partition)?
    pub fn has_segments(&self, table: &TableId) -> Result<bool> {
        Ok(manifests_of(self.shared().store.as_ref(), table)?
            .iter()
            .any(|(_, m)| !m.segments.is_empty()))
    }

    /// Stops a table's background work before it is dropped: its flushes
    /// and compactions are cancelled, and the returned turn is held until
    /// the one running has stopped, so no file is written after the drop
    /// deletes the table's directories.
    pub async fn stop_table_work(&self, table: &TableId) -> tokio::sync::MutexGuard<'_, ()> {
        self.jobs.cancel_keyed(&flush_key(table));
        self.jobs.cancel_keyed(&compact_key(table));
        self.work.locks.lock(table).await
    }

    /// The table's turn without stopping its work: ALTER TABLE waits for a
    /// running flush or compaction and holds the next ones back.
    pub async fn table_turn(&self, table: &TableId) -> tokio::sync::MutexGuard<'_, ()> {
        self.work.locks.lock(table).await
    }

    /// One pass of the flush policy (`sql.md` §2.1), run every
    /// `flush.check_interval_seconds`: a table is flushed when it has at
    /// least N hot rows or its oldest hot row is older than S seconds.
    /// Counting hot rows scans them, so the count stops at N. Returns the
    /// jobs it started.
    pub async fn run_policy_once(&self) -> Result<Vec<String>> {
        let mut started = Vec::new();
        for entry in self.shared().catalog.tables(None) {
            if entry.def.table_type == TableType::Stream {
                continue;
            }
            let id = entry.id();
            if self.jobs.is_active(&flush_key(&id)) {
                continue;
            }
            let policy = entry.flush_policy();
            let t = id.clone();
            let due = self
                .shared()
                .blocking(move |s| is_due(s.store.as_ref(), &t, policy))
                .await?;
            if due && let Submitted::Started(job) = self.submit_flush(&id).await? {
                started.push(job);
            }
        }
        Ok(started)
    }

    /// One pass of STREAM TTL eviction.
    pub async fn evict_expired(&self) -> Result<u64> {
        self.stream.evict_expired(self.shared()).await
    }
}
