//! A change as one subscriber sees it ([`LiveChange`]): insert, update or
//! delete of some rows, projected to the subscription's columns.

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use kalamdb_store::PkValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
}

/// Rows of one change, as one subscriber sees them, projected.
#[derive(Debug, Clone)]
pub struct LiveChange {
    pub kind: ChangeKind,
    /// Key and new `_seq` of each row (the delete's own `_seq` for deletes).
    pub keys: Vec<(PkValue, i64)>,
    /// Insert/update: the new versions. Delete: the deleted rows carrying
    /// the delete's `_seq`.
    pub rows: RecordBatch,
    /// Update: the previous versions (previous `_seq`).
    pub old: Option<RecordBatch>,
}

impl LiveChange {
    /// Keeps the rows whose flag is set (`None` when nothing is left).
    pub fn retain(self, keep: &[bool]) -> Option<Self> {
        if keep.iter().all(|k| *k) {
            return Some(self);
        }
        let idx: Vec<u32> = keep
            .iter()
            .enumerate()
            .filter(|(_, k)| **k)
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        if idx.is_empty() {
            return None;
        }
        let take = UInt32Array::from(idx.clone());
        let rows = take_record_batch(&self.rows, &take).ok()?;
        let old = match &self.old {
            Some(o) => Some(take_record_batch(o, &take).ok()?),
            None => None,
        };
        let keys = idx
            .iter()
            .filter_map(|i| self.keys.get(*i as usize).cloned())
            .collect();
        Some(Self {
            kind: self.kind,
            keys,
            rows,
            old,
        })
    }
}
