//! Read leases: which segment files running scans may still open, so that
//! compaction does not delete them underneath ([`ReadLeases`]).
//!
//! A scan plans its cold reads from one snapshot of the store and the
//! manifest in it; a compaction that commits after that snapshot replaces
//! segments the scan will still read. Retrying such a read could emit rows
//! twice, so instead files stay until no scan holds them.
//!
//! The protocol, and why it has no window:
//! 1. A scan takes a [`ScopeLease`] on (table, partition) *before* its
//!    snapshot, then, once it has read the manifest, turns it into a
//!    [`FilesLease`] on exactly the files it will read.
//! 2. Compaction commits its manifest, *then* asks [`ReadLeases::may_delete`]
//!    for each replaced file: not while a scope lease on that partition or a
//!    file lease on that file is held. It waits a little for those leases
//!    ([`ReadLeases::wait_deletable`]); a file still held is left unlisted,
//!    and the next compaction's sweep of orphans deletes it (asking again).
//!
//! Both sides go through one mutex. If the compaction's question comes
//! before a scan's scope lease, that scan's snapshot is taken after the
//! compaction's commit, so its manifest no longer lists the file.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kalamdb_store::Partition;
use kalamdb_types::TableId;
use parking_lot::Mutex;
use tokio::sync::Notify;

type Scope = (TableId, Partition);

#[derive(Default)]
struct Counts {
    scopes: HashMap<Scope, usize>,
    files: HashMap<(TableId, String), usize>,
}

/// The leases of every running scan; see the module docs.
#[derive(Default, Clone)]
pub struct ReadLeases {
    counts: Arc<Mutex<Counts>>,
    /// Woken whenever a lease is released.
    released: Arc<Notify>,
}

impl ReadLeases {
    /// A lease on every file of `partition` of `table`, taken before the
    /// snapshot a scan plans from.
    pub fn scope(&self, table: &TableId, partition: &Partition) -> ScopeLease {
        let scope = (table.clone(), partition.clone());
        *self.counts.lock().scopes.entry(scope.clone()).or_insert(0) += 1;
        ScopeLease {
            leases: self.clone(),
            scope: Some(scope),
        }
    }

    /// Whether `path` (a segment of `partition` of `table`, no longer
    /// listed) can be deleted now: no scan may still open it.
    pub fn may_delete(&self, table: &TableId, partition: &Partition, path: &str) -> bool {
        let counts = self.counts.lock();
        let scope = (table.clone(), partition.clone());
        !counts.scopes.contains_key(&scope)
            && !counts
                .files
                .contains_key(&(table.clone(), path.to_string()))
    }

    /// Waits until [`Self::may_delete`] says yes, for at most `patience`
    /// (woken by each release, never polling); answers whether it did.
    /// Compaction waits a little for the scans that started before its
    /// commit, so the files it replaced go at once, not at the next sweep.
    pub async fn wait_deletable(
        &self,
        table: &TableId,
        partition: &Partition,
        path: &str,
        patience: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            // Registered before the check: a release in between still wakes.
            released.as_mut().enable();
            if self.may_delete(table, partition, path) {
                return true;
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return self.may_delete(table, partition, path);
            }
        }
    }

    fn release_scope(counts: &mut Counts, scope: &Scope) {
        if let Some(n) = counts.scopes.get_mut(scope) {
            *n -= 1;
            if *n == 0 {
                counts.scopes.remove(scope);
            }
        }
    }
}

/// Held from before a scan's snapshot until it knows its files.
pub struct ScopeLease {
    leases: ReadLeases,
    scope: Option<Scope>,
}

impl ScopeLease {
    /// The lease narrowed to `paths`, the files the scan will read.
    pub fn narrow(mut self, paths: impl IntoIterator<Item = String>) -> FilesLease {
        let scope = self.scope.take();
        let table = scope.as_ref().map(|(t, _)| t.clone());
        let mut counts = self.leases.counts.lock();
        let files: Vec<(TableId, String)> = match table {
            Some(table) => paths.into_iter().map(|p| (table.clone(), p)).collect(),
            None => Vec::new(),
        };
        for f in &files {
            *counts.files.entry(f.clone()).or_insert(0) += 1;
        }
        if let Some(scope) = &scope {
            ReadLeases::release_scope(&mut counts, scope);
        }
        drop(counts);
        self.leases.released.notify_waiters();
        FilesLease {
            leases: self.leases.clone(),
            files,
        }
    }
}

impl Drop for ScopeLease {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take() {
            ReadLeases::release_scope(&mut self.leases.counts.lock(), &scope);
            self.leases.released.notify_waiters();
        }
    }
}

/// Held by a scan's plan while it may open its files.
pub struct FilesLease {
    leases: ReadLeases,
    files: Vec<(TableId, String)>,
}

impl Drop for FilesLease {
    fn drop(&mut self) {
        let mut counts = self.leases.counts.lock();
        for f in &self.files {
            if let Some(n) = counts.files.get_mut(f) {
                *n -= 1;
                if *n == 0 {
                    counts.files.remove(f);
                }
            }
        }
        drop(counts);
        self.leases.released.notify_waiters();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn table() -> TableId {
        TableId::new(
            kalamdb_types::NamespaceId::parse("app").unwrap(),
            kalamdb_types::TableName::parse("t").unwrap(),
        )
    }

    #[tokio::test]
    async fn a_deletion_waits_for_the_release_not_longer() {
        let leases = ReadLeases::default();
        let (t, p) = (table(), Partition::Shared);
        let held = leases.scope(&t, &p).narrow(["a".to_string()]);
        let patience = Duration::from_secs(30);
        let wait = tokio::spawn({
            let (leases, t, p) = (leases.clone(), t.clone(), p.clone());
            async move { leases.wait_deletable(&t, &p, "a", patience).await }
        });
        tokio::task::yield_now().await;
        drop(held);
        assert!(wait.await.unwrap());
        let _held = leases.scope(&t, &p);
        assert!(!leases.wait_deletable(&t, &p, "a", Duration::ZERO).await);
    }

    #[test]
    fn files_stay_while_a_scope_or_file_lease_holds_them() {
        let leases = ReadLeases::default();
        let (t, p) = (table(), Partition::Shared);
        assert!(leases.may_delete(&t, &p, "a"));
        let scope = leases.scope(&t, &p);
        let other = leases.scope(&t, &p);
        assert!(
            !leases.may_delete(&t, &p, "a"),
            "a scope lease holds every file"
        );
        let files = scope.narrow(["a".to_string()]);
        assert!(!leases.may_delete(&t, &p, "b"), "the other scope lease");
        drop(other);
        assert!(!leases.may_delete(&t, &p, "a"));
        assert!(leases.may_delete(&t, &p, "b"));
        let again = leases.scope(&t, &p).narrow(["a".to_string()]);
        drop(files);
        assert!(
            !leases.may_delete(&t, &p, "a"),
            "counted: one lease is left"
        );
        drop(again);
        assert!(leases.may_delete(&t, &p, "a"));
        let user = Partition::User(kalamdb_types::UserId::parse("alice").unwrap());
        let _u = leases.scope(&t, &user);
        assert!(leases.may_delete(&t, &p, "a"), "another partition's lease");
    }
}
