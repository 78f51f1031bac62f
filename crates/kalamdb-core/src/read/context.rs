//! Who runs a statement, and how its table references resolve
//! ([`QueryContext`]): carried by every provider of a statement — each side
//! of a join, each subquery, CTE and UNION branch, the keyed read behind
//! UPDATE/DELETE, the INSERT sink — so all of them act for the same
//! effective user, in that user's partition.

use std::sync::{Arc, Mutex};

use kalamdb_store::Partition;
use kalamdb_types::{TableId, TableType};

use crate::access::Caller;
use crate::row::value::StoredRow;
use crate::write::txn::Txn;

/// What table references are being resolved for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderMode {
    /// Ordinary reads: user columns, `_seq`, `_deleted`.
    Read,
    /// An INSERT into this table: it exposes its user columns only (system
    /// columns are never written); other tables read normally.
    Insert(TableId),
    /// The engine's UPDATE/DELETE read: tables without a declared key also
    /// expose their hidden row key.
    KeyedRead,
}

#[derive(Debug, Clone)]
pub struct QueryContext {
    /// The effective caller (the `EXECUTE AS USER` target, else the one
    /// who sent the request).
    pub caller: Caller,
    pub mode: ProviderMode,
    /// Where an INSERT with RETURNING leaves the rows it wrote.
    pub returned: Option<Arc<ReturnedRows>>,
    /// What the statement inherits from earlier ones of its request.
    pub scope: RequestScope,
}

/// What a statement inherits from the statements before it in its request
/// (HTTP is stateless: nothing outlives the request).
#[derive(Debug, Default, Clone)]
pub struct RequestScope {
    /// The open transaction: its writes are staged there, and its scans
    /// see them.
    pub txn: Option<Arc<Txn>>,
    /// `SET` variables of earlier statements, in order (`sql.md` §3.5:
    /// `SET` applies to the rest of the request).
    pub settings: Arc<Mutex<Vec<(String, String)>>>,
}

impl RequestScope {
    pub fn settings(&self) -> Vec<(String, String)> {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, variable: String, value: String) {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((variable, value));
    }

    /// Neither a transaction nor a setting: a statement may run a plan
    /// kept from another request.
    pub fn is_plain(&self) -> bool {
        self.txn.is_none() && !self.has_settings()
    }

    /// Any `SET` so far (asked for every statement: no copy).
    pub fn has_settings(&self) -> bool {
        !self
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_empty()
    }
}

/// The row versions an INSERT wrote (values, `_seq`), gathered by its sink
/// for the statement's RETURNING clause.
#[derive(Debug, Default)]
pub struct ReturnedRows(Mutex<Vec<StoredRow>>);

impl ReturnedRows {
    pub fn extend(&self, rows: impl IntoIterator<Item = StoredRow>) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(rows);
    }

    pub fn take(&self) -> Vec<StoredRow> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl QueryContext {
    /// The one constructor: every context of a statement comes from its caller.
    pub fn new(caller: &Caller, mode: ProviderMode) -> Self {
        Self {
            caller: caller.clone(),
            mode,
            returned: None,
            scope: RequestScope::default(),
        }
    }

    /// The same context in its request's `scope`.
    pub fn in_scope(mut self, scope: &RequestScope) -> Self {
        self.scope = scope.clone();
        self
    }

    pub fn txn(&self) -> Option<&Arc<Txn>> {
        self.scope.txn.as_ref()
    }

    /// The same context, its INSERT sink keeping the rows it writes in
    /// `returned`.
    pub fn returning_into(mut self, returned: Arc<ReturnedRows>) -> Self {
        self.returned = Some(returned);
        self
    }

    /// The partition a table of `table_type` resolves to: the caller's own
    /// for USER and STREAM tables. No other code builds a USER-table key
    /// from anything but this.
    pub fn partition_for(&self, table_type: TableType) -> Partition {
        if table_type.is_per_user() {
            Partition::User(self.caller.user.clone())
        } else {
            Partition::Shared
        }
    }
}
