//! Compaction (`STORAGE COMPACT TABLE`): merging a scope's small segments
//! into fewer, keeping only the newest version of each key and dropping
//! tombstones past `DELETED_RETENTION_HOURS`.
//!
//! Per scope (table partition), under the table's turn (`segments.rs`, `ColdLocks`),
//! per group of small segments:
//! 1. read the group and keep the newest `_seq` of every key; drop a
//!    tombstone past retention unless a segment outside the group may hold
//!    an older version of its key (dropping it would bring that back);
//! 2. write the result as one new segment, under a name no listed file can
//!    have (`compacted_segment_file_name`), atomically and durably;
//! 3. commit the manifest with the group replaced by the new segment;
//! 4. delete the group's files.
//!
//! Step 4 skips files a running scan may still open (`tiers/leases.rs`);
//! they are unlisted, and a later sweep (step 0) deletes them. Point reads,
//! which take no lease, may find a file of the group gone: they reload the
//! manifest and read again (`tiers/cold_read.rs`, `read_current`). A crash before 3 leaves an unlisted file, after 3
//! unlisted inputs; the next compaction of the scope deletes both (step 0,
//! `sweep_orphans`), which is safe because nothing else writes the scope's
//! directory while the table's turn is held. The crash analysis is in
//! docs/storage-format.md.

use std::collections::HashSet;
use std::sync::Arc;

use kalamdb_cold::SegmentMeta;
use kalamdb_store::{Partition, PkValue, Space};
use kalamdb_types::{SeqId, TableId};

use crate::catalog::lifetime::now_millis;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::maintenance::failpoint;
use crate::maintenance::jobs::CancelFlag;
use crate::maintenance::segments::{
    ColdWork, add_fields, discard_uncommitted, scope_dir, write_segment,
};
use crate::row::key::pk_key;
use crate::row::value::StoredRow;
use crate::tiers::cold_read::scan_segments;
use crate::tiers::leases::ReadLeases;
use crate::tiers::manifest::{load_manifest, manifest_key, manifests_of};

/// How long a compaction waits for the scans that may still open the
/// files it replaced before it leaves them to the next sweep.
const LEASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactOutcome {
    pub files_in: u64,
    pub files_out: u64,
    pub rows_in: u64,
    pub rows_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Files no manifest listed (left by a crash), deleted.
    pub orphans: u64,
}

impl CompactOutcome {
    fn add(&mut self, o: CompactOutcome) {
        add_fields!(
            self, o, files_in, files_out, rows_in, rows_out, bytes_in, bytes_out, orphans
        );
    }

    pub fn message(&self) -> String {
        let mut m = format!(
            "Compacted {} file(s) into {}: {} rows read, {} kept, {} bytes into {}",
            self.files_in,
            self.files_out,
            self.rows_in,
            self.rows_out,
            self.bytes_in,
            self.bytes_out
        );
        if self.orphans > 0 {
            m.push_str(&format!("; {} orphaned file(s) removed", self.orphans));
        }
        m
    }
}

/// Compacts every scope of `table`.
pub async fn compact_table(
    work: &ColdWork,
    table: &TableId,
    cancel: &CancelFlag,
) -> Result<CompactOutcome> {
    let (entry, _turn) = work
        .take_turn(
            table,
            "STORAGE COMPACT TABLE",
            failpoint::COMPACT_PAUSE,
            cancel,
        )
        .await?;
    let t = table.clone();
    let scopes = work
        .shared
        .blocking(move |s| manifests_of(s.store.as_ref(), &t));
    let mut total = CompactOutcome::default();
    // Every scope with a manifest, even an empty one: it may hold orphans.
    for partition in scopes.await?.into_iter().map(|(p, _)| p) {
        cancel.check()?;
        total.add(compact_partition(work, &entry, &partition, cancel).await?);
    }
    Ok(total)
}

/// After a flush of `partition` (under the table's turn): compacts it if
/// it has gathered `auto_min_files` small segments.
pub async fn compact_if_due(
    work: &ColdWork,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    cancel: &CancelFlag,
) -> Result<()> {
    let config = &work.compaction;
    if config.auto_min_files == 0 {
        return Ok(());
    }
    let manifest = load_manifest(work.shared.store.as_ref(), &entry.id(), partition)?;
    let small = manifest
        .segments
        .iter()
        .filter(|s| s.bytes < config.target_bytes)
        .count();
    if small >= config.auto_min_files {
        compact_partition(work, entry, partition, cancel).await?;
    }
    Ok(())
}

/// Groups of small segments to merge, oldest first: small segments in
/// `max_seq` order, cut so a group's inputs stay under `target_bytes`;
/// a group of one is left alone.
pub fn plan_groups(segments: &[SegmentMeta], target_bytes: u64) -> Vec<Vec<SegmentMeta>> {
    let mut small: Vec<&SegmentMeta> = segments.iter().filter(|s| s.bytes < target_bytes).collect();
    small.sort_by(|a, b| a.max_seq.cmp(&b.max_seq).then(a.min_seq.cmp(&b.min_seq)));
    let mut groups = Vec::new();
    let mut current: Vec<SegmentMeta> = Vec::new();
    let mut bytes = 0u64;
    for seg in small {
        if !current.is_empty() && bytes + seg.bytes > target_bytes {
            groups.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += seg.bytes;
        current.push(seg.clone());
    }
    groups.push(current);
    groups.retain(|g| g.len() >= 2);
    groups
}

async fn compact_partition(
    work: &ColdWork,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    cancel: &CancelFlag,
) -> Result<CompactOutcome> {
    let shared = &work.shared;
    let table = entry.id();
    let (storage, def) = shared.storages.for_table(&entry.def)?;
    let mut outcome = CompactOutcome::default();
    let manifest = load_manifest(shared.store.as_ref(), &table, partition)?;
    let leases = &shared.read_leases;
    outcome.orphans = sweep_orphans(entry, partition, &storage, &def, &manifest, leases).await;
    for group in plan_groups(&manifest.segments, work.compaction.target_bytes) {
        cancel.check()?;
        outcome.add(merge_group(work, entry, partition, &storage, &def, group).await?);
    }
    Ok(outcome)
}

async fn merge_group(
    work: &ColdWork,
    entry: &Arc<TableEntry>,
    partition: &Partition,
    storage: &kalamdb_cold::ColdStore,
    def: &kalamdb_cold::StorageDef,
    group: Vec<SegmentMeta>,
) -> Result<CompactOutcome> {
    let shared = &work.shared;
    let table = entry.id();
    // The manifest as of now (the table's turn is held: it cannot change
    // until this group's commit).
    let manifest = load_manifest(shared.store.as_ref(), &table, partition)?;
    let in_group: HashSet<&str> = group.iter().map(|s| s.path.as_str()).collect();
    let others: Vec<&SegmentMeta> = manifest
        .segments
        .iter()
        .filter(|s| !in_group.contains(s.path.as_str()))
        .collect();
    let rows = scan_segments(storage, entry, group.iter(), &HashSet::new()).await?;
    let rows_in: u64 = group.iter().map(|s| s.rows).sum();
    let horizon_ms = entry.retention_horizon_ms(now_millis());
    let key_column = entry.key_column();
    let mut kept: Vec<(PkValue, StoredRow)> = rows
        .into_iter()
        .filter(|(pk, row)| {
            let expired = row.deleted && SeqId(row.seq).unix_millis() <= horizon_ms;
            !expired
                || others
                    .iter()
                    .any(|s| s.min_seq < row.seq && s.may_contain(key_column, &pk_key(pk)))
        })
        .collect();
    // Key order, as a flush writes: tight min/max per row group.
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = CompactOutcome {
        files_in: group.len() as u64,
        rows_in,
        rows_out: kept.len() as u64,
        bytes_in: group.iter().map(|s| s.bytes).sum(),
        ..CompactOutcome::default()
    };
    let mut segment = None;
    if !kept.is_empty() {
        let row_ids: Vec<i64> = kept
            .iter()
            .map(|(pk, _)| match pk {
                PkValue::RowId(id) => *id,
                _ => 0,
            })
            .collect();
        let rows: Vec<StoredRow> = kept.into_iter().map(|(_, r)| r).collect();
        let seg = write_segment(storage, def, entry, partition, &rows, &row_ids, |max_seq| {
            kalamdb_cold::compacted_segment_file_name(max_seq, rand::random())
        })
        .await?;
        failpoint::crash(failpoint::COMPACT_AFTER_WRITE);
        out.files_out = 1;
        out.bytes_out = seg.bytes;
        segment = Some(seg);
    }
    let removed: Vec<String> = group.iter().map(|s| s.path.clone()).collect();
    let (t, p) = (table.clone(), partition.clone());
    let (seg, gone) = (segment.clone(), removed.clone());
    let committed = shared
        .write_table(entry, move |ctx| {
            let manifest = ctx.manifest(&t, &p)?;
            if gone
                .iter()
                .any(|g| !manifest.segments.iter().any(|s| &s.path == g))
            {
                return Err(KalamError::internal(format!(
                    "the manifest of {t} changed during its compaction"
                )));
            }
            let next = manifest.replace(&gone, seg.into_iter().collect(), ctx.now_micros);
            ctx.put(Space::Meta, manifest_key(&t, &p), next.encode());
            Ok(())
        })
        .await;
    if let Err(e) = committed {
        discard_uncommitted(shared, storage, segment.as_ref()).await;
        return Err(e);
    }
    failpoint::crash(failpoint::COMPACT_AFTER_COMMIT);
    for path in removed {
        let leases = &shared.read_leases;
        if !leases
            .wait_deletable(&table, partition, &path, LEASE_PATIENCE)
            .await
        {
            // A running scan may still open it (`tiers/leases.rs`): unlisted
            // now, the next compaction's sweep deletes it.
            tracing::debug!(%table, %path, "a compacted segment is kept for a running scan");
            continue;
        }
        if let Err(e) = storage.delete(&path).await {
            // Unlisted now: the next compaction's sweep retries.
            tracing::warn!(%table, %path, error = %e, "could not delete a compacted segment");
        }
    }
    Ok(out)
}

/// Deletes the files in the scope's directory that its manifest does not
/// list: outputs of a flush or compaction that crashed before its commit,
/// inputs of one that crashed after it, temporary files of an interrupted
/// write. Only direct children with segment (or temporary) names, and only
/// when the template gives the scope a directory of its own. Best effort:
/// returns how many files it deleted.
async fn sweep_orphans(
    entry: &TableEntry,
    partition: &Partition,
    storage: &kalamdb_cold::ColdStore,
    def: &kalamdb_cold::StorageDef,
    manifest: &kalamdb_cold::Manifest,
    leases: &ReadLeases,
) -> u64 {
    let template = match partition {
        Partition::Shared => &def.shared_tables_template,
        Partition::User(_) => &def.user_tables_template,
    };
    let own = template.contains("{namespace}")
        && template.contains("{tableName}")
        && (matches!(partition, Partition::Shared) || template.contains("{userId}"));
    if !own {
        return 0;
    }
    let dir = scope_dir(def, &entry.id(), partition);
    let listed: HashSet<&str> = manifest.segments.iter().map(|s| s.path.as_str()).collect();
    let files = match storage.list_all(&format!("{dir}/")).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(table = %entry.id(), %dir, error = %e, "could not list a scope for orphans");
            return 0;
        }
    };
    let mut deleted = 0;
    for (path, _) in files {
        let Some(name) = path
            .strip_prefix(dir.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let ours = kalamdb_cold::is_segment_file_name(name)
            || (name.starts_with(".seg-") && !name.contains('/'));
        if !ours
            || listed.contains(path.as_str())
            || !leases.may_delete(&entry.id(), partition, &path)
        {
            continue;
        }
        match storage.delete(&path).await {
            Ok(()) => deleted += 1,
            Err(e) => tracing::warn!(%path, error = %e, "could not delete an orphaned segment"),
        }
    }
    deleted
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn seg(name: &str, min: i64, max: i64, bytes: u64) -> SegmentMeta {
        SegmentMeta {
            path: name.into(),
            rows: 1,
            bytes,
            min_seq: min,
            max_seq: max,
            created_at: 0,
            columns: Default::default(),
            checksums: None,
            schema_version: None,
        }
    }

    fn names(groups: &[Vec<SegmentMeta>]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.path.as_str()).collect())
            .collect()
    }

    #[test]
    fn groups_take_small_segments_oldest_first_under_the_target() {
        let segs = vec![
            seg("c", 5, 6, 40),
            seg("big", 3, 4, 1000),
            seg("a", 1, 2, 40),
            seg("d", 7, 8, 40),
            seg("e", 9, 10, 40),
        ];
        // 100 bytes: two 40-byte files fit, a third does not.
        assert_eq!(
            names(&plan_groups(&segs, 100)),
            vec![vec!["a", "c"], vec!["d", "e"]]
        );
        // A lone small file is not rewritten.
        assert!(plan_groups(&segs[..2], 100).is_empty());
        assert!(plan_groups(&[], 100).is_empty());
        assert_eq!(
            names(&plan_groups(&segs, 1 << 20)),
            vec![vec!["a", "big", "c", "d", "e"]]
        );
    }
}
