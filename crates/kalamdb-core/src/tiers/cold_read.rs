//! Reading flushed rows back: a partition's Parquet segments, under its
//! current manifest, as the same keyed [`StoredRow`]s the hot tier holds.
//!
//! Cold rows are converted back into stored rows keyed by [`PkValue`], so
//! every read path (scans, point reads, key checks, UPDATE/DELETE) merges
//! the tiers with one rule: the hot version of a key, if any, is the
//! newest; otherwise the one with the highest `_seq` among the segments.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use futures::future::BoxFuture;
use kalamdb_cold::{ColdStore, Manifest, PkKey, SegmentMeta};
use kalamdb_store::{HotStore, Partition, PkValue};
use kalamdb_types::{SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ};

use crate::catalog::storage_registry::{Storages, storage_of};
use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::row::arrow::{ROW_ID_COLUMN, value_from_array};
use crate::row::key::{pk_from_value, pk_key};
use crate::row::value::{StoredRow, Value};
use crate::tiers::manifest::load_manifest;

/// What reading the cold tier needs: the manifests (in the hot store) and
/// the opened storages.
#[derive(Clone, Copy)]
pub struct ColdTier<'a> {
    pub store: &'a dyn HotStore,
    pub storages: &'a Storages,
}

/// Converts a batch of `segment` back into keyed stored rows, under the
/// schema version the segment was written with: its columns are matched by
/// that version's names and read as that version's types, and the rows name
/// the version, so they read through the current one like hot rows do. A
/// column the file lacks reads as NULL.
pub fn batch_to_rows(
    entry: &TableEntry,
    segment: &SegmentMeta,
    batch: &RecordBatch,
) -> Result<Vec<(PkValue, StoredRow)>> {
    let version = segment.version();
    let layout = entry.lens.columns_at(version).ok_or_else(|| {
        KalamError::internal(format!(
            "segment '{}' of {} has schema version {version}, which the table does not know",
            segment.path,
            entry.id()
        ))
    })?;
    let n = batch.num_rows();
    let col = |name: &str| batch.column_by_name(name);
    let seqs = col(SYSTEM_COLUMN_SEQ)
        .and_then(|a| a.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| KalamError::internal("segment without _seq"))?;
    let deleted = col(SYSTEM_COLUMN_DELETED)
        .and_then(|a| a.as_boolean_opt())
        .ok_or_else(|| KalamError::internal("segment without _deleted"))?;
    let row_ids = col(ROW_ID_COLUMN).and_then(|a| a.as_primitive_opt::<Int64Type>());
    let pk_idx = layout.iter().position(|c| c.primary_key);
    let columns: Vec<_> = layout.iter().map(|c| (c, col(&c.name))).collect();
    let mut out = Vec::with_capacity(n);
    for row in 0..n {
        let mut values = Vec::with_capacity(columns.len());
        let mut pk = None;
        for (i, (c, array)) in columns.iter().enumerate() {
            let v = match array {
                Some(a) => value_from_array(c, a.as_ref(), row)?,
                None => Value::Null,
            };
            if Some(i) == pk_idx {
                pk = pk_from_value(&v);
            }
            if v != Value::Null {
                values.push((c.column_id, v));
            }
        }
        let pk = match (pk_idx, pk, row_ids) {
            (Some(_), Some(pk), _) => pk,
            (None, _, Some(ids)) if !ids.is_null(row) => PkValue::RowId(ids.value(row)),
            _ => return Err(KalamError::internal("segment row without a key")),
        };
        out.push((
            pk,
            StoredRow {
                seq: seqs.value(row),
                deleted: deleted.value(row),
                version,
                values,
            },
        ));
    }
    Ok(out)
}

/// Reads a partition's cold tier under its current manifest; returns the
/// manifest version the answer is valid for (writers compare it in their
/// commit). A compaction may delete a segment the loaded manifest still
/// listed: then the read starts over under the new manifest. A segment that
/// is missing although the current manifest lists it is an error.
pub async fn read_current<'env, T: Default>(
    tier: ColdTier<'_>,
    entry: &TableEntry,
    partition: &Partition,
    read: impl Fn(ColdStore, Arc<Manifest>) -> BoxFuture<'env, Result<T>>,
) -> Result<(u64, T)> {
    let table = entry.id();
    let mut manifest = Arc::new(load_manifest(tier.store, &table, partition)?);
    let mut attempts = 0;
    loop {
        if manifest.segments.is_empty() {
            return Ok((manifest.version, T::default()));
        }
        let storage = tier.storages.open(&storage_of(&entry.def))?;
        match read(storage, manifest.clone()).await {
            Err(KalamError::ColdSegmentMissing(m)) if attempts < MAX_READ_ATTEMPTS => {
                let now = load_manifest(tier.store, &table, partition)?;
                if now.version == manifest.version {
                    return Err(KalamError::ColdSegmentMissing(m));
                }
                manifest = Arc::new(now);
                attempts += 1;
            }
            other => return other.map(|v| (manifest.version, v)),
        }
    }
}

/// Compactions that may overtake one read before it gives up.
const MAX_READ_ATTEMPTS: usize = 8;

/// Every current cold row of a partition except keys in `skip` (those have
/// a newer hot version), tombstones included; with `seq_after`, only from
/// segments holding a greater `_seq` (the caller filters the rows). For a key in several
/// segments the newest `_seq` wins, whatever segment holds it: segment
/// order alone is not enough, since a flush reads the hot tier in chunks
/// and a key rewritten during that read lands in a later segment whose
/// `max_seq` may be lower.
pub async fn scan_cold(
    tier: ColdTier<'_>,
    entry: &TableEntry,
    partition: &Partition,
    skip: &HashSet<PkValue>,
    seq_after: Option<i64>,
) -> Result<(u64, Vec<(PkValue, StoredRow)>)> {
    read_current(tier, entry, partition, |storage, manifest| {
        Box::pin(async move {
            let wanted = manifest
                .segments
                .iter()
                .filter(|s| seq_after.is_none_or(|after| s.max_seq > after));
            scan_segments(&storage, entry, wanted, skip).await
        })
    })
    .await
}

/// The newest version of every key in `segments` but those in `skip`, in
/// the order first seen.
pub async fn scan_segments(
    storage: &ColdStore,
    entry: &TableEntry,
    segments: impl Iterator<Item = &SegmentMeta>,
    skip: &HashSet<PkValue>,
) -> Result<Vec<(PkValue, StoredRow)>> {
    let mut at: HashMap<PkValue, usize> = HashMap::new();
    let mut out: Vec<(PkValue, StoredRow)> = Vec::new();
    let mut segments: Vec<&SegmentMeta> = segments.collect();
    segments.sort_by(|a, b| b.max_seq.cmp(&a.max_seq).then(b.min_seq.cmp(&a.min_seq)));
    for seg in segments {
        for batch in kalamdb_cold::read_segment(storage, seg, None).await? {
            for (pk, row) in batch_to_rows(entry, seg, &batch)? {
                if skip.contains(&pk) {
                    continue;
                }
                match at.get(&pk) {
                    Some(&i) => {
                        if let Some(slot) = out.get_mut(i)
                            && row.seq > slot.1.seq
                        {
                            slot.1 = row;
                        }
                    }
                    None => {
                        at.insert(pk.clone(), out.len());
                        out.push((pk, row));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The newest cold version of each of `keys` (absent keys are left out).
pub async fn lookup_cold(
    tier: ColdTier<'_>,
    entry: &TableEntry,
    partition: &Partition,
    keys: &[PkValue],
) -> Result<(u64, HashMap<PkValue, StoredRow>)> {
    if keys.is_empty() {
        let version = load_manifest(tier.store, &entry.id(), partition)?.version;
        return Ok((version, HashMap::new()));
    }
    read_current(tier, entry, partition, |storage, manifest| {
        Box::pin(async move { lookup_segments(&storage, entry, &manifest, keys).await })
    })
    .await
}

async fn lookup_segments(
    storage: &ColdStore,
    entry: &TableEntry,
    manifest: &Manifest,
    keys: &[PkValue],
) -> Result<HashMap<PkValue, StoredRow>> {
    let mut found: HashMap<PkValue, StoredRow> = HashMap::new();
    let wanted_keys: HashSet<&PkValue> = keys.iter().collect();
    let key_column = entry.key_column();
    // Newest `max_seq` first: a key is settled once its version is at least
    // as new as anything the remaining segments can hold.
    for seg in manifest.segments_newest_first() {
        let open = |k: &PkValue| found.get(k).is_none_or(|r| r.seq < seg.max_seq);
        if found.len() == wanted_keys.len() && !wanted_keys.iter().any(|k| open(k)) {
            break;
        }
        // The manifest's min/max per segment rules most segments out
        // without touching them (ids of one flush are usually one range).
        let wanted: Vec<PkKey> = wanted_keys
            .iter()
            .filter(|k| open(k))
            .map(|k| pk_key(k))
            .filter(|k| seg.may_contain(key_column, k))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let batches = kalamdb_cold::lookup_segment(storage, seg, key_column, &wanted).await?;
        for batch in batches {
            for (pk, row) in batch_to_rows(entry, seg, &batch)? {
                if !wanted_keys.contains(&pk) {
                    continue;
                }
                match found.get(&pk) {
                    Some(prev) if prev.seq >= row.seq => {}
                    _ => {
                        found.insert(pk, row);
                    }
                }
            }
        }
    }
    Ok(found)
}
