//! The engine's side of the cold tier: which storages exist, where each
//! scope's manifest lives, and reading flushed rows back as stored rows.
//!
//! Manifests are kept in the `meta` keyspace (`MetaKey::Manifest`, one per
//! table partition) rather than next to the files: a flush then commits the
//! new manifest *and* deletes the flushed hot rows in one atomic, fsync'd
//! batch, so no reader or crash can see a row in neither tier or counted in
//! both (docs/storage-format.md, "Flush").
//!
//! Cold rows are converted back into [`StoredRow`]s keyed by [`PkValue`], the
//! same shape as hot rows, so every read path (scans, point reads, key checks,
//! UPDATE/DELETE) merges the tiers with one rule: the hot version of a key, if
//! any, is the newest; otherwise the one in the newest segment holding it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, SchemaRef};
use futures::future::BoxFuture;
use kalamdb_cold::{ColdStore, Manifest, PkKey, SegmentMeta, StorageDef};
use kalamdb_store::{HotStore, MetaKey, MetaPrefix, Partition, PkValue, Space};
use kalamdb_types::{
    SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, StorageId, TableDefinition, TableId,
};
use parking_lot::{Mutex, RwLock};

use crate::catalog::{ROW_ID_COLUMN, TableEntry, decode_json};
use crate::engine::Shared;
use crate::error::{KalamError, Result};
use crate::row::{StoredRow, Value, value_from_array};

impl From<kalamdb_cold::ColdError> for KalamError {
    fn from(e: kalamdb_cold::ColdError) -> Self {
        match e {
            kalamdb_cold::ColdError::InvalidStorage(m)
            | kalamdb_cold::ColdError::NotWritable(m) => KalamError::Execution(m),
            kalamdb_cold::ColdError::Missing(m) => KalamError::ColdSegmentMissing(m),
            other => KalamError::Internal(format!("cold storage: {other}")),
        }
    }
}

/// The storages of this server, and an opened handle per storage.
pub struct Storages {
    defs: RwLock<BTreeMap<StorageId, StorageDef>>,
    opened: Mutex<HashMap<StorageId, ColdStore>>,
    /// Where the built-in `local` storage keeps its files.
    pub local_dir: PathBuf,
}

impl std::fmt::Debug for Storages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Storages")
    }
}

impl Storages {
    /// Loads the storage definitions; `local` is always present.
    pub fn load(store: &dyn HotStore, local_dir: PathBuf) -> Result<Self> {
        let mut defs = BTreeMap::new();
        for (_, v) in store.scan(
            Space::Meta,
            &MetaPrefix::Storages.range(),
            kalamdb_store::Direction::Forward,
            usize::MAX,
        )? {
            let def: StorageDef = decode_json(&v)?;
            defs.insert(def.storage_id.clone(), def);
        }
        // `local` always exists and follows the data directory it was
        // started with; its other settings (ALTER STORAGE local) are kept.
        let mut local = defs
            .remove(&StorageId::local())
            .unwrap_or_else(|| StorageDef::local(&local_dir, kalamdb_types::now_micros()));
        local.base_directory = local_dir.display().to_string();
        defs.insert(local.storage_id.clone(), local);
        Ok(Self {
            defs: RwLock::new(defs),
            opened: Mutex::new(HashMap::new()),
            local_dir,
        })
    }

    pub fn get(&self, id: &StorageId) -> Option<StorageDef> {
        self.defs.read().get(id).cloned()
    }

    pub fn all(&self) -> Vec<StorageDef> {
        self.defs.read().values().cloned().collect()
    }

    /// Called after the commit that stored `def`.
    pub fn put(&self, def: StorageDef) {
        self.opened.lock().remove(&def.storage_id);
        self.defs.write().insert(def.storage_id.clone(), def);
    }

    /// Called after the commit that removed the storage.
    pub fn remove(&self, id: &StorageId) {
        self.opened.lock().remove(id);
        self.defs.write().remove(id);
    }

    /// The opened storage `id` (opened once, then shared).
    pub fn open(&self, id: &StorageId) -> Result<ColdStore> {
        if let Some(s) = self.opened.lock().get(id) {
            return Ok(s.clone());
        }
        let def = self
            .get(id)
            .ok_or_else(|| KalamError::exec(format!("Storage '{id}' not found")))?;
        let opened = ColdStore::open(&def)?;
        self.opened.lock().insert(id.clone(), opened.clone());
        Ok(opened)
    }
}

/// The storage a table writes to.
pub fn storage_of(def: &TableDefinition) -> StorageId {
    def.options
        .storage_id
        .clone()
        .unwrap_or_else(StorageId::local)
}

pub fn manifest_key(table: &TableId, partition: &Partition) -> Vec<u8> {
    MetaKey::Manifest(table.clone(), partition.clone()).encode()
}

pub fn decode_manifest(bytes: Option<Vec<u8>>) -> Result<Manifest> {
    match bytes {
        Some(b) => Ok(Manifest::decode(&b)?),
        None => Ok(Manifest::default()),
    }
}

/// The partition's manifest as committed now (empty if never flushed).
pub fn load_manifest(
    store: &dyn HotStore,
    table: &TableId,
    partition: &Partition,
) -> Result<Manifest> {
    decode_manifest(store.get(Space::Meta, &manifest_key(table, partition))?)
}

/// The Arrow schema of a segment file: user columns, `_seq`, `_deleted`,
/// and the hidden row key for tables without a primary key.
pub fn segment_schema(entry: &TableEntry) -> SchemaRef {
    if entry.def.primary_key().is_some() {
        entry.schema.clone()
    } else {
        entry.keyed_schema.clone()
    }
}

/// The column that keys a segment's rows (`_rowid` without a primary key).
pub fn segment_key_column(entry: &TableEntry) -> String {
    entry
        .def
        .primary_key()
        .map(|(_, c)| c.name.clone())
        .unwrap_or_else(|| ROW_ID_COLUMN.to_string())
}

pub fn pk_key(pk: &PkValue) -> PkKey {
    match pk {
        PkValue::Int(i) | PkValue::RowId(i) => PkKey::Int(*i),
        PkValue::Text(s) => PkKey::Text(s.clone()),
        PkValue::Uuid(u) => PkKey::Text(uuid::Uuid::from_bytes(*u).to_string()),
    }
}

/// Converts a segment batch back into keyed stored rows. Columns are matched
/// by name; a column the file lacks reads as NULL.
pub fn batch_to_rows(entry: &TableEntry, batch: &RecordBatch) -> Result<Vec<(PkValue, StoredRow)>> {
    let n = batch.num_rows();
    let col = |name: &str| batch.column_by_name(name);
    let seqs = col(SYSTEM_COLUMN_SEQ)
        .and_then(|a| a.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| KalamError::internal("segment without _seq"))?;
    let deleted = col(SYSTEM_COLUMN_DELETED)
        .and_then(|a| a.as_boolean_opt())
        .ok_or_else(|| KalamError::internal("segment without _deleted"))?;
    let row_ids = col(ROW_ID_COLUMN).and_then(|a| a.as_primitive_opt::<Int64Type>());
    let pk_idx = entry.def.primary_key().map(|(i, _)| i);
    let columns: Vec<_> = entry
        .def
        .columns
        .iter()
        .map(|c| (c, col(&c.name)))
        .collect();
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
                pk = crate::provider::pk_from_value(&v);
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
pub(crate) async fn read_current<'env, T: Default>(
    shared: &Shared,
    entry: &TableEntry,
    partition: &Partition,
    read: impl Fn(ColdStore, std::sync::Arc<Manifest>) -> BoxFuture<'env, Result<T>>,
) -> Result<(u64, T)> {
    let table = entry.id();
    let mut manifest =
        std::sync::Arc::new(load_manifest(shared.store.as_ref(), &table, partition)?);
    let mut attempts = 0;
    loop {
        if manifest.segments.is_empty() {
            return Ok((manifest.version, T::default()));
        }
        let storage = shared.storages.open(&storage_of(&entry.def))?;
        match read(storage, manifest.clone()).await {
            Err(KalamError::ColdSegmentMissing(m)) if attempts < MAX_READ_ATTEMPTS => {
                let now = load_manifest(shared.store.as_ref(), &table, partition)?;
                if now.version == manifest.version {
                    return Err(KalamError::ColdSegmentMissing(m));
                }
                manifest = std::sync::Arc::new(now);
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
    shared: &Shared,
    entry: &TableEntry,
    partition: &Partition,
    skip: &HashSet<PkValue>,
    seq_after: Option<i64>,
) -> Result<(u64, Vec<(PkValue, StoredRow)>)> {
    read_current(shared, entry, partition, |storage, manifest| {
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
            for (pk, row) in batch_to_rows(entry, &batch)? {
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
    shared: &Shared,
    entry: &TableEntry,
    partition: &Partition,
    keys: &[PkValue],
) -> Result<(u64, HashMap<PkValue, StoredRow>)> {
    if keys.is_empty() {
        let version = load_manifest(shared.store.as_ref(), &entry.id(), partition)?.version;
        return Ok((version, HashMap::new()));
    }
    read_current(shared, entry, partition, |storage, manifest| {
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
    let key_column = segment_key_column(entry);
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
            .filter(|k| seg.may_contain(&key_column, k))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let batches = kalamdb_cold::lookup_segment(storage, seg, &key_column, &wanted).await?;
        for batch in batches {
            for (pk, row) in batch_to_rows(entry, &batch)? {
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

/// Every manifest of a table, by partition.
pub fn manifests_of(store: &dyn HotStore, table: &TableId) -> Result<Vec<(Partition, Manifest)>> {
    let mut out = Vec::new();
    for (k, v) in store.scan(
        Space::Meta,
        &MetaPrefix::ManifestsOf(table.clone()).range(),
        kalamdb_store::Direction::Forward,
        usize::MAX,
    )? {
        if let MetaKey::Manifest(_, partition) = MetaKey::decode(&k)? {
            out.push((partition, Manifest::decode(&v)?));
        }
    }
    Ok(out)
}
