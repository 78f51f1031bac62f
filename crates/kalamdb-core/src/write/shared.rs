//! [`Shared`]: the handle to table data every reader and writer holds —
//! the hot store, the catalog, the committer, the cold storages, and the
//! read counters of `system.stats`. Nothing else: background jobs, live
//! queries and token revocations are owned by the engine, and reach table
//! data through this handle, never the other way round.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use kalamdb_store::HotStore;

use crate::catalog::registry::Catalog;
use crate::catalog::storage_registry::Storages;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::tiers::cold_read::ColdTier;
use crate::tiers::leases::ReadLeases;
use crate::write::committer::Committer;
use crate::write::context::CommitContext;

pub struct Shared {
    pub store: Arc<dyn HotStore>,
    pub catalog: Catalog,
    pub committer: Committer,
    pub storages: Storages,
    /// Row versions read from the hot store by queries (`system.stats`
    /// `hot_rows_read`): what a query cost in storage reads, which is how
    /// tests show a USER-table query touches only the caller's rows.
    pub hot_rows_read: AtomicU64,
    /// Row versions read from Parquet segments by queries (`cold_rows_read`).
    pub cold_rows_read: AtomicU64,
    /// Segments range scans read as they are, by Parquet
    /// (`cold_segments_plain`), and merged under the hot rows
    /// (`cold_segments_merged`): how often a scan pays for a merge.
    pub cold_segments_plain: AtomicU64,
    pub cold_segments_merged: AtomicU64,
    /// Plain segments left unread because their statistics rule out every
    /// row the query wants (`cold_segments_pruned`).
    pub cold_segments_pruned: AtomicU64,
    /// The segment files running scans may still open (compaction keeps
    /// them until released).
    pub read_leases: ReadLeases,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl Shared {
    pub fn new(
        store: Arc<dyn HotStore>,
        catalog: Catalog,
        committer: Committer,
        storages: Storages,
    ) -> Self {
        Self {
            store,
            catalog,
            committer,
            storages,
            hot_rows_read: AtomicU64::new(0),
            cold_rows_read: AtomicU64::new(0),
            cold_segments_plain: AtomicU64::new(0),
            cold_segments_merged: AtomicU64::new(0),
            cold_segments_pruned: AtomicU64::new(0),
            read_leases: ReadLeases::default(),
        }
    }

    /// Runs `f` on the blocking pool: store calls never run on the async
    /// workers.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Shared) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(KalamError::internal)?
    }

    /// Commits `f` for a table as the caller planned against it (`entry`):
    /// refused when a DDL committed meanwhile dropped or replaced the
    /// table, so no row, segment or manifest meant for the old definition
    /// lands in a new one of the same name. Checked inside the commit,
    /// where no DDL can interleave.
    pub async fn write_table<T: Send + 'static>(
        self: &Arc<Self>,
        entry: &Arc<TableEntry>,
        f: impl FnOnce(&mut CommitContext<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let s = self.clone();
        let planned = entry.clone();
        self.committer
            .write(move |ctx| {
                s.catalog.ensure_current(&planned)?;
                f(ctx)
            })
            .await
    }

    /// The cold tier, for reads.
    pub fn cold(&self) -> ColdTier<'_> {
        ColdTier {
            store: self.store.as_ref(),
            storages: &self.storages,
        }
    }
}
