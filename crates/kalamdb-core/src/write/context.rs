//! A commit closure's view of the store ([`CommitContext`]): reads see the
//! store plus writes staged earlier in the same group; writes are staged
//! until the group is written; rows written with [`CommitContext::put_row`]
//! are recorded for live subscribers.
//!
//! No gap, no duplicate — the writer's half. A live subscription registers
//! through the committer too (its closure sets the table's watch flag), so
//! for every commit either the flag was set before the commit's closure ran
//! — and `put_row` records its rows, published after the group is durable,
//! in commit order — or the commit came earlier and is durable, hence
//! visible to the snapshot the subscription reads next. Changes are
//! recorded nowhere else: DML writes rows only through `put_row`.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use kalamdb_cold::Manifest;
use kalamdb_store::{HotStore, KeyRange, Partition, RowKey, Space, WriteBatch};
use kalamdb_types::{SeqId, SnowflakeGenerator, TableId};

use crate::catalog::table::TableEntry;
use crate::error::Result;
use crate::row::value::StoredRow;
use crate::tiers::manifest::{decode_manifest, manifest_key};
use crate::write::changes::{ChangeSet, ChangeSink, RowChange};

/// Writes staged by the closures of a group so far, by key (`None`: deleted).
pub(crate) type Overlay = HashMap<(Space, Vec<u8>), Option<Vec<u8>>>;

/// What a closure hands the pipeline besides its writes.
pub(crate) struct Staged {
    pub batch: WriteBatch,
    pub local: Overlay,
    pub issued: i64,
    pub hooks: Vec<Box<dyn FnOnce() + Send>>,
    pub changes: Vec<ChangeSet>,
}

pub struct CommitContext<'a> {
    store: &'a dyn HotStore,
    seq: &'a SnowflakeGenerator,
    sink: &'a dyn ChangeSink,
    group: &'a Overlay,
    local: Overlay,
    batch: WriteBatch,
    /// Statement start time (µs) shared by every row of the statement.
    pub now_micros: i64,
    issued: Cell<i64>,
    hooks: Vec<Box<dyn FnOnce() + Send>>,
    changes: Vec<ChangeSet>,
    /// Per table: does a subscription watch it (asked once per commit)?
    watched: HashMap<TableId, bool>,
}

impl<'a> CommitContext<'a> {
    pub(crate) fn new(
        store: &'a dyn HotStore,
        seq: &'a SnowflakeGenerator,
        sink: &'a dyn ChangeSink,
        group: &'a Overlay,
        now_micros: i64,
    ) -> Self {
        Self {
            store,
            seq,
            sink,
            group,
            local: HashMap::new(),
            batch: WriteBatch::default(),
            now_micros,
            issued: Cell::new(0),
            hooks: Vec::new(),
            changes: Vec::new(),
            watched: HashMap::new(),
        }
    }

    pub(crate) fn stages_writes(&self) -> bool {
        !self.batch.is_empty()
    }

    pub(crate) fn into_staged(self) -> Staged {
        Staged {
            batch: self.batch,
            local: self.local,
            issued: self.issued.get(),
            hooks: self.hooks,
            changes: self.changes,
        }
    }

    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let k = (space, key.to_vec());
        if let Some(v) = self.local.get(&k) {
            return Ok(v.clone());
        }
        if let Some(v) = self.group.get(&k) {
            return Ok(v.clone());
        }
        Ok(self.store.get(space, key)?)
    }

    /// The current hot versions of the rows stored under `keys` (staged
    /// writes included), as [`Self::get_row`] of each would answer, with one
    /// store lookup for all the keys nothing staged answers.
    pub fn get_rows(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<StoredRow>>> {
        let mut found: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        let mut unstaged = Vec::new();
        let mut slots = Vec::new();
        for (slot, key) in keys.iter().enumerate() {
            let k = (Space::Rows, key.clone());
            match self.local.get(&k).or_else(|| self.group.get(&k)) {
                Some(v) => {
                    if let Some(cell) = found.get_mut(slot) {
                        cell.clone_from(v);
                    }
                }
                None => {
                    unstaged.push(key.clone());
                    slots.push(slot);
                }
            }
        }
        if !unstaged.is_empty() {
            let values = self.store.multi_get(Space::Rows, &unstaged)?;
            for (slot, v) in slots.into_iter().zip(values) {
                if let Some(cell) = found.get_mut(slot) {
                    *cell = v;
                }
            }
        }
        found
            .into_iter()
            .map(|v| v.map(|v| StoredRow::decode(&v)).transpose())
            .collect()
    }

    /// What this closure itself staged under `key`, if anything (`Some(None)`:
    /// a delete).
    pub fn staged_here(&self, space: Space, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.local.get(&(space, key.to_vec())).cloned()
    }

    /// A partition's manifest as of this commit (staged writes included):
    /// writers planned against an older version must not commit.
    pub fn manifest(&self, table: &TableId, partition: &Partition) -> Result<Manifest> {
        decode_manifest(self.get(Space::Meta, &manifest_key(table, partition))?)
    }

    /// The current hot version of a row (staged writes included).
    pub fn get_row(&self, key: &RowKey) -> Result<Option<StoredRow>> {
        self.get(Space::Rows, &key.encode())?
            .map(|v| StoredRow::decode(&v))
            .transpose()
    }

    pub fn put(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.local.insert((space, key.clone()), Some(value.clone()));
        self.batch.put(space, key, value);
    }

    pub fn delete(&mut self, space: Space, key: Vec<u8>) {
        self.local.insert((space, key.clone()), None);
        self.batch.delete(space, key);
    }

    /// The store itself, for an exclusive closure's reads beyond single
    /// keys (it runs alone: nothing is staged by other closures).
    pub fn exclusive_store(&self) -> &dyn HotStore {
        self.store
    }

    /// Range deletes bypass the overlay, so only exclusive requests (which
    /// run alone) may use them.
    pub fn delete_range(&mut self, space: Space, range: KeyRange) {
        self.batch.delete_range(space, range);
    }

    /// Writes a new version of a row (`new`; a tombstone for a delete) over
    /// `old` (`None`: the key had no live version), recording the change
    /// for live subscribers when one watches the table.
    pub fn put_row(
        &mut self,
        entry: &Arc<TableEntry>,
        key: RowKey,
        old: Option<StoredRow>,
        new: StoredRow,
    ) -> Result<()> {
        self.put(Space::Rows, key.encode(), new.encode()?);
        let watched = match self.watched.get(&key.table) {
            Some(w) => *w,
            None => {
                let w = self.sink.watching(&key.table);
                self.watched.insert(key.table.clone(), w);
                w
            }
        };
        if !watched {
            return Ok(());
        }
        let change = RowChange {
            pk: key.pk,
            old,
            new,
        };
        match self.changes.last_mut() {
            Some(set) if Arc::ptr_eq(&set.entry, entry) && set.partition == key.partition => {
                set.rows.push(change);
            }
            _ => self.changes.push(ChangeSet {
                entry: entry.clone(),
                partition: key.partition,
                rows: vec![change],
            }),
        }
        Ok(())
    }

    /// Runs `hook` on the committer thread once this closure's writes are
    /// durable, before any later request's closure (how DDL updates the
    /// in-memory catalog). Not run if the closure fails or the write does.
    pub fn after_commit(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.hooks.push(Box::new(hook));
    }

    /// The next `_seq` (also used for `SNOWFLAKE_ID()` defaults and row ids).
    pub fn next_seq(&self) -> SeqId {
        let id = self.seq.next_id();
        self.issued.set(id.as_i64());
        id
    }
}
