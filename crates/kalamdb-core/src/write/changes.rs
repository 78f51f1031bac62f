//! Row changes as live queries receive them: what a commit changed, per
//! table partition ([`ChangeSet`]), and who receives it ([`ChangeSink`]).
//!
//! The types live here, under the live engine, so that the commit pipeline
//! can record changes without knowing who consumes them: the live engine
//! implements [`ChangeSink`] and is handed to the committer at start-up.

use std::sync::Arc;

use kalamdb_store::{Partition, PkValue};
use kalamdb_types::TableId;

use crate::catalog::table::TableEntry;
use crate::row::value::StoredRow;

/// Rows of one commit for one table partition, in the order written.
pub struct ChangeSet {
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    pub rows: Vec<RowChange>,
}

/// One row's change: its previous version (none for an insert) and the new
/// one (a tombstone for a delete).
pub struct RowChange {
    pub pk: PkValue,
    pub old: Option<StoredRow>,
    pub new: StoredRow,
}

/// Receives committed changes. Called by the committer thread: `watching`
/// while a commit closure runs, `publish` after its group is durable, in
/// commit order. Neither may block for long: every writer waits behind it.
pub trait ChangeSink: Send + Sync {
    /// Does anything want the changes of `table`? Asked once per table per
    /// commit; `false` spares building the change set.
    fn watching(&self, table: &TableId) -> bool;
    /// The changes of a durable commit.
    fn publish(&self, set: ChangeSet);
}

/// A sink nobody listens to (tests of the pipeline alone).
#[cfg(test)]
pub struct NoChanges;

#[cfg(test)]
impl ChangeSink for NoChanges {
    fn watching(&self, _: &TableId) -> bool {
        false
    }
    fn publish(&self, _: ChangeSet) {}
}
