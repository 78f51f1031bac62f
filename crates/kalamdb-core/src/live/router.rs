//! The router thread ([`Router`]): routes every committed change set to the
//! subscriptions it concerns, at a cost that follows what the change
//! concerns, not how many subscriptions exist. Subscriptions are indexed by
//! table, then partition (a USER/STREAM change only meets its owner's
//! subscriptions), then by their equality key (`room = 'a'` is found by
//! hashing the row's old and new `room`); only those candidates, plus the
//! unindexed ones of that partition, evaluate their WHERE, once per change
//! set over Arrow batches built once ([`VersionBatches`]). Old/new matching
//! decides insert, update or delete per subscriber. Events go to each
//! connection's queue without waiting.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::physical_expr::utils::collect_columns;
use kalamdb_store::Partition;
use kalamdb_types::TableId;

use crate::access::{self, Action};
use crate::catalog::table::TableEntry;
use crate::live::change::{ChangeKind, LiveChange};
use crate::live::connection::{ConnEvent, LiveEvent, SubKey};
use crate::live::error::LiveError;
use crate::live::plan::{IndexKey, evaluate, index_key};
use crate::live::registry::{Registry, Sub};
use crate::row::arrow::rows_to_batch;
use crate::row::value::StoredRow;
use crate::write::changes::ChangeSet;

/// What the router thread is told, in order.
pub enum RouterMsg {
    Register(Arc<Sub>),
    Unregister(SubKey),
    Changes(ChangeSet),
    TableGone(TableId, LiveError),
    /// An ALTER TABLE committed; the table's new entry.
    SchemaChanged(Arc<TableEntry>),
}

/// The router thread's state: subscriptions indexed by table, partition
/// and equality predicate.
pub struct Router {
    registry: Arc<Registry>,
    subs: HashMap<SubKey, Arc<Sub>>,
    tables: HashMap<TableId, HashMap<Partition, Bucket>>,
    /// The newest entry of each altered table: a subscription planned
    /// before an ALTER whose registration arrives after it is checked
    /// against it.
    altered: HashMap<TableId, Arc<TableEntry>>,
}

#[derive(Default)]
struct Bucket {
    unindexed: HashSet<SubKey>,
    /// By the indexed column's stable `column_id`: subscriptions planned
    /// under different schema versions of the table share the index.
    eq: HashMap<u32, HashMap<IndexKey, HashSet<SubKey>>>,
}

/// The `column_id` a subscription is indexed under, with its key.
fn index_of(sub: &Sub) -> Option<(u32, &IndexKey)> {
    let (col, key) = sub.plan.eq_index.as_ref()?;
    let def = sub.plan.entry.def.columns.get(*col)?;
    Some((def.column_id, key))
}

impl Bucket {
    fn is_empty(&self) -> bool {
        self.unindexed.is_empty() && self.eq.is_empty()
    }
}

impl Router {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            subs: HashMap::new(),
            tables: HashMap::new(),
            altered: HashMap::new(),
        }
    }

    /// Runs until every sender is gone (the hub dropped).
    pub fn run(mut self, rx: std::sync::mpsc::Receiver<RouterMsg>) {
        while let Ok(msg) = rx.recv() {
            match msg {
                RouterMsg::Register(sub) => self.add(sub),
                RouterMsg::Unregister(key) => self.remove(key),
                RouterMsg::Changes(set) => self.route(set),
                RouterMsg::TableGone(table, error) => {
                    self.altered.remove(&table);
                    self.end_where(&table, &error, |_| true);
                }
                RouterMsg::SchemaChanged(entry) => {
                    let table = entry.id();
                    self.end_where(&table, &LiveError::schema_changed(), |sub| {
                        broken_by(sub, &entry)
                    });
                    self.altered.insert(table, entry);
                }
            }
        }
    }

    /// Ends the subscriptions on `table` that `which` picks with `error`.
    fn end_where(&mut self, table: &TableId, error: &LiveError, which: impl Fn(&Sub) -> bool) {
        let keys: Vec<SubKey> = self
            .subs
            .values()
            .filter(|s| &s.plan.table == table && which(s))
            .map(|s| s.key)
            .collect();
        for key in keys {
            if let Some(sub) = self.subs.get(&key).cloned() {
                sub.conn.send(ConnEvent {
                    key,
                    event: LiveEvent::Ended(error.clone()),
                });
            }
            self.remove(key);
            self.registry.remove(key);
        }
    }

    fn add(&mut self, sub: Arc<Sub>) {
        // Unsubscribed before its registration reached us.
        if !self.registry.contains(sub.key) {
            self.registry.unwatch(&sub.plan.table);
            return;
        }
        // Planned before an ALTER that breaks it, registered after it.
        if let Some(latest) = self.altered.get(&sub.plan.table)
            && latest.def.version > sub.plan.entry.def.version
            && broken_by(&sub, latest)
        {
            sub.conn.send(ConnEvent {
                key: sub.key,
                event: LiveEvent::Ended(LiveError::schema_changed()),
            });
            self.registry.remove(sub.key);
            self.registry.unwatch(&sub.plan.table);
            return;
        }
        let bucket = self
            .tables
            .entry(sub.plan.table.clone())
            .or_default()
            .entry(sub.plan.partition.clone())
            .or_default();
        match index_of(&sub) {
            Some((col, key)) => {
                bucket
                    .eq
                    .entry(col)
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .insert(sub.key);
            }
            None => {
                bucket.unindexed.insert(sub.key);
            }
        }
        self.subs.insert(sub.key, sub);
    }

    fn remove(&mut self, key: SubKey) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        self.registry.unwatch(&sub.plan.table);
        let table = &sub.plan.table;
        let Some(parts) = self.tables.get_mut(table) else {
            return;
        };
        if let Some(bucket) = parts.get_mut(&sub.plan.partition) {
            match index_of(&sub) {
                Some((col, k)) => {
                    if let Some(by_value) = bucket.eq.get_mut(&col) {
                        if let Some(set) = by_value.get_mut(k) {
                            set.remove(&key);
                            if set.is_empty() {
                                by_value.remove(k);
                            }
                        }
                        if by_value.is_empty() {
                            bucket.eq.remove(&col);
                        }
                    }
                }
                None => {
                    bucket.unindexed.remove(&key);
                }
            }
            if bucket.is_empty() {
                parts.remove(&sub.plan.partition);
            }
        }
        if parts.is_empty() {
            self.tables.remove(table);
        }
    }

    fn route(&mut self, set: ChangeSet) {
        let table = set.entry.id();
        let Some(bucket) = self.tables.get(&table).and_then(|p| p.get(&set.partition)) else {
            return;
        };
        // Candidates per row: the unindexed subscriptions, and those indexed
        // under the old or new value of their column.
        let mut candidates: HashMap<SubKey, Vec<usize>> = HashMap::new();
        for (i, rc) in set.rows.iter().enumerate() {
            for key in &bucket.unindexed {
                candidates.entry(*key).or_default().push(i);
            }
            for (col, by_value) in &bucket.eq {
                let def = set.entry.def.columns.iter().find(|c| c.column_id == *col);
                let versions = std::iter::once(&rc.new).chain(rc.old.as_ref());
                for row in versions {
                    // Through the writer's schema version (a row older
                    // than the column reads its fill); a column the writer
                    // did not know reads as stored.
                    let value = match def {
                        Some(def) => set.entry.lens.cell(row, def),
                        None => std::borrow::Cow::Borrowed(row.value(*col)),
                    };
                    let Some(k) = index_key(&value) else {
                        continue;
                    };
                    for key in by_value.get(&k).into_iter().flatten() {
                        let rows = candidates.entry(*key).or_default();
                        if rows.last() != Some(&i) {
                            rows.push(i);
                        }
                    }
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        // Built once per schema version the candidates were planned under
        // (one, unless an ALTER TABLE happened since some subscribed): a
        // subscription reads the rows through its own plan's columns.
        let mut built: Vec<(Arc<TableEntry>, Option<VersionBatches>)> = Vec::new();
        self.registry
            .candidates
            .fetch_add(candidates.len() as u64, Ordering::Relaxed);
        let mut dead = Vec::new();
        let mut sent = 0u64;
        for (key, rows) in candidates {
            let Some(sub) = self.subs.get(&key) else {
                continue;
            };
            let at = match built
                .iter()
                .position(|(e, _)| Arc::ptr_eq(e, &sub.plan.entry))
            {
                Some(at) => at,
                None => {
                    let batches = VersionBatches::build(&set, &sub.plan.entry);
                    built.push((sub.plan.entry.clone(), batches));
                    built.len() - 1
                }
            };
            let Some((_, Some(batches))) = built.get(at) else {
                continue;
            };
            for change in changes_for(sub, &set, batches, &rows) {
                if !sub.conn.send(ConnEvent {
                    key,
                    event: LiveEvent::Change(change),
                }) {
                    dead.push(sub.conn.clone());
                    break;
                }
                sent += 1;
                sub.changes.fetch_add(1, Ordering::Relaxed);
                sub.last_update
                    .store(kalamdb_types::now_micros(), Ordering::Relaxed);
            }
        }
        self.registry
            .notifications
            .fetch_add(sent, Ordering::Relaxed);
        for conn in dead {
            // Its queue is full or gone: it will close; stop routing to it.
            let keys: Vec<SubKey> = self
                .subs
                .values()
                .filter(|s| s.conn.id == conn.id)
                .map(|s| s.key)
                .collect();
            for k in keys {
                self.remove(k);
                self.registry.remove(k);
            }
        }
    }
}

/// The rows of a change set as batches over the table's read schema, built
/// once and shared by every candidate subscription.
struct VersionBatches {
    /// New versions (tombstones for deletes).
    new: RecordBatch,
    /// Previous versions (the new row where there is none).
    old: RecordBatch,
    /// Previous values carrying the new `_seq`: what a delete, or an update
    /// leaving the subscription's filter, sends.
    gone: RecordBatch,
}

impl VersionBatches {
    /// The rows of `set` read through `entry` (a subscription's plan's).
    fn build(set: &ChangeSet, entry: &TableEntry) -> Option<Self> {
        let lens = &entry.lens;
        let schema = &entry.schema;
        let new: Vec<StoredRow> = set.rows.iter().map(|r| r.new.clone()).collect();
        let old: Vec<StoredRow> = set
            .rows
            .iter()
            .map(|r| r.old.clone().unwrap_or_else(|| r.new.clone()))
            .collect();
        let gone: Vec<StoredRow> = set
            .rows
            .iter()
            .map(|r| {
                let before = r.old.as_ref().unwrap_or(&r.new);
                StoredRow {
                    seq: r.new.seq,
                    deleted: false,
                    version: before.version,
                    values: before.values.clone(),
                }
            })
            .collect();
        Some(Self {
            new: rows_to_batch(lens, schema, &new, None).ok()?,
            old: rows_to_batch(lens, schema, &old, None).ok()?,
            gone: rows_to_batch(lens, schema, &gone, None).ok()?,
        })
    }
}

/// Whether the table's new definition `new` breaks `sub` (`sql.md` §2.6):
/// a column its projection or WHERE uses was dropped, renamed or retyped,
/// or its subscriber may no longer read the table (a SHARED table's access
/// level). Other subscriptions go on under the columns they were planned
/// with: rows of any version read through their plan's entry.
fn broken_by(sub: &Sub, new: &TableEntry) -> bool {
    let plan = &sub.plan;
    if access::allow(sub.conn.role, Action::ReadTable(&new.def)).is_err() {
        return true;
    }
    let mut used: Vec<String> = plan
        .projection
        .iter()
        .filter_map(|i| plan.entry.schema.fields().get(*i))
        .map(|f| f.name().clone())
        .collect();
    if let Some(filter) = &plan.filter {
        used.extend(
            collect_columns(filter)
                .into_iter()
                .map(|c| c.name().to_string()),
        );
    }
    used.iter().any(|name| {
        let Some((_, old)) = plan.entry.def.column(name) else {
            return false; // `_seq`, `_deleted`
        };
        match new
            .def
            .columns
            .iter()
            .find(|c| c.column_id == old.column_id)
        {
            None => true,
            Some(c) => c.name != old.name || c.data_type != old.data_type,
        }
    })
}

/// What `sub` sees of rows `rows` of `set`: consecutive rows of the same
/// kind share one change.
fn changes_for(
    sub: &Sub,
    set: &ChangeSet,
    batches: &VersionBatches,
    rows: &[usize],
) -> Vec<LiveChange> {
    let plan = &sub.plan;
    let new_mask = evaluate(&plan.filter, &batches.new);
    let has_old = rows
        .iter()
        .any(|i| set.rows.get(*i).is_some_and(|r| r.old.is_some()));
    let old_mask = if has_old {
        evaluate(&plan.filter, &batches.old)
    } else {
        None
    };
    let filter_failed =
        plan.filter.is_some() && (new_mask.is_none() || (has_old && old_mask.is_none()));
    if filter_failed {
        return Vec::new();
    }
    let matches = |mask: &Option<BooleanArray>, i: usize| match mask {
        None => true,
        Some(m) => m.is_valid(i) && m.value(i),
    };
    let mut out: Vec<(ChangeKind, Vec<usize>)> = Vec::new();
    for &i in rows {
        let Some(rc) = set.rows.get(i) else { continue };
        let new_match = !rc.new.deleted && matches(&new_mask, i);
        let old_match = rc.old.as_ref().is_some_and(|o| !o.deleted) && matches(&old_mask, i);
        let kind = match (old_match, new_match) {
            (false, true) => ChangeKind::Insert,
            (true, true) => ChangeKind::Update,
            (true, false) => ChangeKind::Delete,
            (false, false) => continue,
        };
        match out.last_mut() {
            Some((k, idx)) if *k == kind => idx.push(i),
            _ => out.push((kind, vec![i])),
        }
    }
    out.into_iter()
        .filter_map(|(kind, idx)| {
            let take =
                UInt32Array::from_iter_values(idx.iter().filter_map(|i| u32::try_from(*i).ok()));
            let project = |b: &RecordBatch| {
                take_record_batch(b, &take)
                    .and_then(|b| b.project(&plan.projection))
                    .ok()
                    .and_then(|b| {
                        RecordBatch::try_new(plan.schema.clone(), b.columns().to_vec()).ok()
                    })
            };
            let (rows, old) = match kind {
                ChangeKind::Insert => (project(&batches.new)?, None),
                ChangeKind::Update => (project(&batches.new)?, Some(project(&batches.old)?)),
                ChangeKind::Delete => (project(&batches.gone)?, None),
            };
            let keys = idx
                .iter()
                .filter_map(|i| set.rows.get(*i).map(|r| (r.pk.clone(), r.new.seq)))
                .collect();
            Some(LiveChange {
                kind,
                keys,
                rows,
                old,
            })
        })
        .collect()
}
