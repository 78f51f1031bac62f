//! What a range scan of one partition reads ([`RangeScan`], fixed when the
//! query is planned) and, each time it runs, what it reads it from
//! ([`prepare`]): the hot rows, the segments that must be merged beneath
//! them, and the segments that need no merge, read by DataFusion's Parquet
//! scan (`cold_scan.rs`). `table_scan_exec.rs` is the plan node.
//!
//! One state per run: a scope lease is taken (`tiers/leases.rs`), then one
//! store snapshot, and the manifest is read from that snapshot. The hot
//! rows are read from the same snapshot, so a flush or compaction after it
//! changes nothing the run sees, and the lease keeps the files the
//! manifest lists.
//!
//! The rule of the tiers — the hot version of a key wins, else the highest
//! `_seq` among the segments; tombstones hide — needs work only where keys
//! can meet. A segment is *plain* when no other version of any of its keys
//! can exist: its key range (from the manifest's statistics) overlaps no
//! other wanted segment's, and the snapshot holds no hot row in it (one
//! bounded seek). Its live rows are then the answer as they are. The rest
//! are *merged*: read into keyed rows after the hot rows and merged with
//! them as every read did before (`scan.rs`, [`ColdPart::Segments`]). A
//! segment of an older schema version, or without checksums or key
//! statistics, is merged too (the row path reads any version through the
//! lens). Plain segments the query's filters rule out by their manifest
//! statistics are not read at all (`segment_pruning.rs`).

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::physical_expr::PhysicalExpr;
use kalamdb_cold::{PkKey, SegmentMeta};
use kalamdb_store::{Direction, HotRead, KeyRange, Partition, RowKey, Space};

use crate::catalog::storage_registry::storage_of;
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::read::cold_scan::{PlainPlan, PlainSegments, plain_exec};
use crate::read::scan::{ColdPart, HotScan};
use crate::read::segment_pruning::SegmentPruning;
use crate::row::arrow::ROW_ID_COLUMN;
use crate::row::key::pk_from_key;
use crate::tiers::manifest::load_manifest;
use crate::write::shared::Shared;

/// What a range scan reads; fixed when the query is planned (a kept plan
/// runs it again: [`prepare`] is per run).
pub struct RangeScan {
    pub shared: Arc<Shared>,
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    /// The schema read (before `projection`).
    pub schema: SchemaRef,
    pub projection: Option<Vec<usize>>,
    /// Only rows with a greater `_seq` are wanted (older segments skipped).
    pub seq_after: Option<i64>,
    /// The query's filters over the segment schema, for pruning
    /// (`cold_scan.rs`, `pruning_predicate`).
    pub predicate: Option<Arc<dyn PhysicalExpr>>,
    /// The same, to leave out plain segments by their manifest statistics.
    pub pruning: Option<Arc<SegmentPruning>>,
}

impl RangeScan {
    /// The schema of the rows the scan yields.
    pub fn output_schema(&self) -> DfResult<SchemaRef> {
        Ok(match &self.projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        })
    }
}

/// One run of a [`RangeScan`]: the hot rows (and the segments merged with
/// them) as a [`HotScan`] of the snapshot, the plain segments as a Parquet
/// scan of `groups` partitions at most. Holds the lease on their files.
pub struct Prepared {
    pub hot: HotScan,
    pub plain: Option<Arc<PlainPlan>>,
}

/// Takes the scope lease, the snapshot and its manifest, and splits the
/// wanted segments (see the module docs).
pub fn prepare(scan: &RangeScan, groups: usize) -> Result<Prepared> {
    let table = scan.entry.id();
    let scope = scan.shared.read_leases.scope(&table, &scan.partition);
    let snapshot = scan.shared.store.clone().snapshot()?;
    let manifest = load_manifest(snapshot.as_ref(), &table, &scan.partition)?;
    let wanted: Vec<SegmentMeta> = manifest
        .segments
        .into_iter()
        .filter(|s| scan.seq_after.is_none_or(|after| s.max_seq > after))
        .collect();
    let (plain, merged) = split_segments(&scan.entry, &scan.partition, snapshot.as_ref(), wanted)?;
    // Only plain segments: see `segment_pruning.rs`.
    let (plain, pruned) = match &scan.pruning {
        Some(p) => p.keep(plain),
        None => (plain, 0),
    };
    let lease = Arc::new(scope.narrow(plain.iter().chain(&merged).map(|s| s.path.clone())));
    let shared = &scan.shared;
    shared
        .cold_segments_plain
        .fetch_add(plain.len() as u64, Ordering::Relaxed);
    shared
        .cold_segments_merged
        .fetch_add(merged.len() as u64, Ordering::Relaxed);
    shared
        .cold_segments_pruned
        .fetch_add(pruned as u64, Ordering::Relaxed);
    // The hot rows are decoded into the projected columns only.
    let out = scan.output_schema().map_err(KalamError::from)?;
    let hot = HotScan {
        shared: scan.shared.clone(),
        entry: scan.entry.clone(),
        partition: scan.partition.clone(),
        points: None,
        seq_after: scan.seq_after,
        schema: out.clone(),
        with_row_id: out.field_with_name(ROW_ID_COLUMN).is_ok(),
        snapshot: Some(snapshot),
        cold: ColdPart::Segments(Arc::new(merged), lease.clone()),
    };
    if plain.is_empty() {
        return Ok(Prepared { hot, plain: None });
    }
    let storage = scan.shared.storages.open(&storage_of(&scan.entry.def))?;
    let plain = PlainSegments {
        storage,
        segments: plain,
        lease,
    };
    let plan = plain_exec(&scan.entry, plain, &out, scan.predicate.clone(), groups)
        .map_err(KalamError::from)?;
    Ok(Prepared {
        hot,
        plain: Some(Arc::new(plan)),
    })
}

/// `segments` split into (plain, merged); see the module docs.
fn split_segments(
    entry: &TableEntry,
    partition: &Partition,
    snapshot: &dyn HotRead,
    segments: Vec<SegmentMeta>,
) -> Result<(Vec<SegmentMeta>, Vec<SegmentMeta>)> {
    let key_column = entry.key_column();
    let bounds: Vec<Option<(PkKey, PkKey)>> =
        segments.iter().map(|s| s.key_bounds(key_column)).collect();
    let alone = alone(&bounds);
    let mut plain = Vec::new();
    let mut merged = Vec::new();
    for ((seg, bounds), alone) in segments.into_iter().zip(bounds).zip(alone) {
        let is_plain = match bounds {
            Some((lo, hi)) if alone => {
                seg.version() == entry.lens.current()
                    && seg.checksums.is_some()
                    && !hot_rows_within(entry, partition, snapshot, &lo, &hi)?
            }
            _ => false,
        };
        if is_plain {
            plain.push(seg);
        } else {
            merged.push(seg);
        }
    }
    Ok((plain, merged))
}

/// For each segment's key bounds, whether no other segment's overlap them
/// (any unknown bounds overlap everything).
fn alone(bounds: &[Option<(PkKey, PkKey)>]) -> Vec<bool> {
    let mut alone = vec![false; bounds.len()];
    let mut known: Vec<(usize, &PkKey, &PkKey)> = Vec::with_capacity(bounds.len());
    for (i, b) in bounds.iter().enumerate() {
        match b {
            Some((lo, hi)) => known.push((i, lo, hi)),
            None => return alone,
        }
    }
    known.sort_by(|a, b| a.1.cmp(b.1));
    // Sweep in order of the lower bound: a run of overlapping ranges is one
    // group; a group of one is alone.
    let mut start = 0;
    while let Some(&(_, _, first_hi)) = known.get(start) {
        let mut hi = first_hi;
        let mut end = start + 1;
        while let Some(&(_, lo, h)) = known.get(end) {
            if lo > hi {
                break;
            }
            hi = hi.max(h);
            end += 1;
        }
        if end == start + 1
            && let Some(&(i, _, _)) = known.get(start)
            && let Some(slot) = alone.get_mut(i)
        {
            *slot = true;
        }
        start = end;
    }
    alone
}

/// Whether `snapshot` holds a hot row (a tombstone counts) of `partition`
/// with a key in `lo..=hi`: one bounded seek. Keys that cannot be stored
/// keys (a malformed UUID bound) answer `true`: the segment is merged.
fn hot_rows_within(
    entry: &TableEntry,
    partition: &Partition,
    snapshot: &dyn HotRead,
    lo: &PkKey,
    hi: &PkKey,
) -> Result<bool> {
    let ty = entry.def.primary_key().map(|(_, c)| c.data_type);
    let (Some(lo), Some(hi)) = (pk_from_key(lo, ty), pk_from_key(hi, ty)) else {
        return Ok(true);
    };
    let key = |pk| RowKey::new(entry.id(), partition.clone(), pk).encode();
    let range = KeyRange::new(Bound::Included(key(lo)), Bound::Included(key(hi)));
    Ok(!snapshot
        .scan(Space::Rows, &range, Direction::Forward, 1)?
        .is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use kalamdb_store::PkValue;
    use kalamdb_types::{NamespaceId, TableId, TableName};

    use super::*;
    use crate::row::key::pk_key;

    fn b(lo: i64, hi: i64) -> Option<(PkKey, PkKey)> {
        Some((PkKey::Int(lo), PkKey::Int(hi)))
    }

    #[test]
    fn a_segment_is_alone_when_no_other_range_meets_its_own() {
        let bounds = vec![b(10, 20), b(0, 5), b(21, 30), b(25, 26), b(6, 9)];
        assert_eq!(alone(&bounds), vec![true, true, false, false, true]);
        // Touching ends share a key.
        assert_eq!(alone(&[b(0, 5), b(5, 9)]), vec![false, false]);
        // A range inside a wide one, after another group.
        assert_eq!(
            alone(&[b(0, 100), b(50, 60), b(101, 102)]),
            vec![false, false, true]
        );
        assert_eq!(alone(&[b(0, 5), None]), vec![false, false]);
        assert!(alone(&[]).is_empty());
    }

    /// `hot_rows_within` seeks stored keys between two keys of the
    /// statistics: both orders must agree, for every kind of key.
    #[test]
    fn stored_keys_sort_as_statistics_compare_them() {
        let table = TableId::new(
            NamespaceId::parse("app").unwrap(),
            TableName::parse("t").unwrap(),
        );
        let uuid = |s: &str| PkValue::Uuid(*uuid::Uuid::parse_str(s).unwrap().as_bytes());
        let kinds: Vec<Vec<PkValue>> = vec![
            [i64::MIN, -300, -1, 0, 1, 255, 256, 70_000, i64::MAX]
                .map(PkValue::Int)
                .to_vec(),
            [i64::MIN, -2, 0, 9, 10, i64::MAX]
                .map(PkValue::RowId)
                .to_vec(),
            ["", "a", "a\u{0}", "a\u{0}b", "ab", "b", "é", "\u{ffff}"]
                .map(|s| PkValue::Text(s.to_string()))
                .to_vec(),
            vec![
                uuid("00000000-0000-0000-0000-000000000000"),
                uuid("0000000a-0000-0000-0000-000000000000"),
                uuid("a0000000-0000-0000-0000-000000000000"),
                uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            ],
        ];
        for keys in kinds {
            for a in &keys {
                for c in &keys {
                    let stored = |pk: &PkValue| {
                        RowKey::new(table.clone(), Partition::Shared, pk.clone()).encode()
                    };
                    assert_eq!(
                        pk_key(a).cmp(&pk_key(c)),
                        stored(a).cmp(&stored(c)),
                        "{a:?} vs {c:?}"
                    );
                }
            }
        }
    }
}
