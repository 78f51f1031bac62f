//! Deleting a dropped table's files ([`Deletion`]): planned before the DROP
//! commits, recorded in the same commit, carried out after it, and finished
//! by the next start if a crash (or a file that would not go) interrupted
//! it ([`resume_deletions`]).

use std::sync::Arc;

use kalamdb_store::{Direction, MetaKey, MetaPrefix, Partition, Space};
use kalamdb_types::TableId;

use crate::catalog::storage_registry::storage_of;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::maintenance::segments::scope_dir;
use crate::write::shared::Shared;

/// What deleting a dropped table's files means: the segments its manifests
/// listed and the scope directories to sweep (for files a crashed flush
/// left). Planned before the DROP commits and stored in the same commit as
/// [`MetaKey::DroppedFiles`], so a
/// crash between the commit and the deletion cannot orphan the files: the
/// next start finishes the work ([`resume_deletions`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Deletion {
    storage: kalamdb_types::StorageId,
    /// (path, bytes) of every listed segment.
    files: Vec<(String, u64)>,
    dirs: Vec<String>,
}

impl Deletion {
    /// Plans the deletion of every segment of a table about to be dropped.
    pub fn plan(
        shared: &Arc<Shared>,
        entry: &TableEntry,
        manifests: &[(Partition, kalamdb_cold::Manifest)],
    ) -> Option<Deletion> {
        let storage = storage_of(&entry.def);
        let def = shared.storages.get(&storage)?;
        let table = entry.id();
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for (partition, manifest) in manifests {
            for seg in &manifest.segments {
                files.push((seg.path.clone(), seg.bytes));
            }
            dirs.push(scope_dir(&def, &table, partition));
        }
        if !entry.def.table_type.is_per_user() {
            dirs.push(scope_dir(&def, &table, &Partition::Shared));
        }
        dirs.sort();
        dirs.dedup();
        // Sweeping a directory is only safe when it belongs to this table
        // alone, i.e. its template names the table (templates are
        // user-defined).
        let own = |t: &str| t.contains("{namespace}") && t.contains("{tableName}");
        let template = if entry.def.table_type.is_per_user() {
            &def.user_tables_template
        } else {
            &def.shared_tables_template
        };
        if !own(template) {
            dirs.clear();
        }
        Some(Deletion {
            storage,
            files,
            dirs,
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(KalamError::internal)
    }

    /// Deletes the files, then the durable record of the plan. Returns the
    /// (files, bytes) actually deleted.
    ///
    /// Runs after the drop has committed, so it cannot fail the statement: a
    /// file it cannot delete is logged and left as an unreferenced orphan
    /// (no manifest lists it any more, so no reader ever sees it), and the
    /// record stays for the next start to retry.
    pub async fn run(&self, shared: &Arc<Shared>, table: &TableId) -> (u64, u64) {
        let Ok(storage) = shared.storages.open(&self.storage) else {
            return (0, 0);
        };
        let (mut files, mut bytes) = (0u64, 0u64);
        let mut failed = false;
        for (path, size) in &self.files {
            match storage.delete(path).await {
                Ok(()) => {
                    files += 1;
                    bytes += size;
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(%table, %path, error = %e, "could not delete a dropped table's segment")
                }
            }
        }
        // A table of the same name created since (after an earlier run of
        // this record failed) owns those directories now: its listed old
        // files go (segment names carry a `_seq`, unique across tables),
        // but nothing is swept.
        let recreated = shared.catalog.table(table).is_some();
        for dir in self.dirs.iter().filter(|_| !recreated) {
            match storage.delete_prefix(&format!("{dir}/")).await {
                Ok((f, b)) => {
                    files += f;
                    bytes += b;
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(%table, %dir, error = %e, "could not sweep a dropped table's directory")
                }
            }
        }
        if !failed {
            let key = MetaKey::DroppedFiles(table.clone()).encode();
            let done = shared
                .committer
                .write(move |ctx| {
                    ctx.delete(Space::Meta, key);
                    Ok(())
                })
                .await;
            if let Err(e) = done {
                tracing::warn!(%table, error = %e, "could not clear a finished deletion");
            }
        }
        (files, bytes)
    }
}

/// Finishes the deletions of tables dropped just before a crash (or whose
/// files could not all be deleted then).
pub async fn resume_deletions(shared: &Arc<Shared>) -> Result<()> {
    let range = MetaPrefix::DroppedFiles.range();
    let pending = shared
        .blocking(move |s| {
            Ok(s.store
                .scan(Space::Meta, &range, Direction::Forward, usize::MAX)?)
        })
        .await?;
    for (key, value) in pending {
        let Ok(MetaKey::DroppedFiles(table)) = MetaKey::decode(&key) else {
            continue;
        };
        match serde_json::from_slice::<Deletion>(&value) {
            Ok(deletion) => {
                let (files, _) = deletion.run(shared, &table).await;
                tracing::info!(%table, files, "finished deleting a dropped table's files");
            }
            Err(e) => tracing::warn!(%table, error = %e, "unreadable deletion record"),
        }
    }
    Ok(())
}
