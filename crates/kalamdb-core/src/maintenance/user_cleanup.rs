//! Removing dropped users (`sql.md` §5): `DROP USER` is a soft delete; once
//! `user_management.deletion_grace_period_days` have passed, a cleanup job
//! (`UC-…`, `job_type` `user_cleanup`) removes the user's rows from every
//! USER and STREAM table, hot and cold, and then the user record, so the
//! name may be taken again.
//!
//! The job takes each per-user table's turn (no flush or compaction of it
//! runs meanwhile), then one exclusive commit deletes the user's partition
//! of each table (its hot rows and its manifest) and the user record; the
//! segment files that manifests listed are deleted after the commit. A
//! crash between the two leaves files no manifest lists: never read, only
//! space (the next cleanup of a user of that name does not find them).
//! Other users' partitions are other key ranges and other directories, so
//! nothing of theirs is touched.

use std::sync::Arc;
use std::time::Duration;

use kalamdb_store::{MetaKey, Partition, RowPrefix, Space};
use kalamdb_types::{StorageId, UserId};

use crate::catalog::records::{UserRecord, user_key};
use crate::catalog::storage_registry::storage_of;
use crate::error::{KalamError, Result};
use crate::maintenance::jobs::Submitted;
use crate::maintenance::segments::scope_dir;
use crate::maintenance::tasks::Maintenance;
use crate::tiers::manifest::load_manifest;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Whether a dropped user's grace period is over at `now` (µs).
pub fn is_due(user: &UserRecord, grace: Duration, now: i64) -> bool {
    let grace = i64::try_from(grace.as_micros()).unwrap_or(i64::MAX);
    user.deleted_at
        .is_some_and(|at| now.saturating_sub(at) >= grace)
}

/// `user_management.deletion_grace_period_days` as a duration.
pub fn grace_of_days(days: u64) -> Duration {
    Duration::from_micros(
        u64::try_from(MICROS_PER_DAY)
            .unwrap_or(u64::MAX)
            .saturating_mul(days),
    )
}

impl Maintenance {
    /// Starts the cleanup job of a dropped user, unless one is active.
    pub async fn submit_user_cleanup(self: &Arc<Self>, user: &UserId) -> Result<Submitted> {
        let m = self.clone();
        let u = user.clone();
        self.jobs
            .submit(
                "UC",
                "user_cleanup",
                serde_json::json!({ "user_id": user.as_str() }),
                Some(format!("user_cleanup:{user}")),
                move |_cancel| {
                    let m = m.clone();
                    let u = u.clone();
                    async move { m.remove_user(&u).await }
                },
            )
            .await
    }

    /// One pass (at start-up, then every `cleanup_interval_seconds`): a
    /// cleanup job for every user whose grace period is over. Returns the
    /// jobs started.
    pub async fn cleanup_due_users(self: &Arc<Self>, grace: Duration) -> Result<Vec<String>> {
        let now = kalamdb_types::now_micros();
        let due: Vec<UserId> = self
            .shared()
            .catalog
            .users()?
            .into_iter()
            .filter(|u| is_due(u, grace, now))
            .map(|u| u.user_id)
            .collect();
        let mut started = Vec::new();
        for user in due {
            if let Submitted::Started(id) = self.submit_user_cleanup(&user).await? {
                started.push(id);
            }
        }
        Ok(started)
    }

    /// The job's work; see the module docs.
    async fn remove_user(&self, user: &UserId) -> Result<String> {
        let shared = self.shared().clone();
        let partition = Partition::User(user.clone());
        let tables: Vec<_> = shared
            .catalog
            .tables(None)
            .into_iter()
            .filter(|t| t.def.table_type.is_per_user())
            .collect();
        // Every table's turn: no flush or compaction writes a segment of
        // this partition meanwhile.
        let ids: Vec<_> = tables.iter().map(|t| t.id()).collect();
        let turns = self.work.locks.lock_all(&ids).await;
        let mut files: Vec<(StorageId, String)> = Vec::new();
        let mut dirs: Vec<(StorageId, String)> = Vec::new();
        for t in &tables {
            let manifest = load_manifest(shared.store.as_ref(), &t.id(), &partition)?;
            let storage = storage_of(&t.def);
            files.extend(
                manifest
                    .segments
                    .iter()
                    .map(|s| (storage.clone(), s.path.clone())),
            );
            // A directory is swept only when its template names the user
            // and the table (templates are user-defined).
            if let Some(def) = shared.storages.get(&storage)
                && def.user_tables_template.contains("{userId}")
                && def.user_tables_template.contains("{tableName}")
            {
                dirs.push((storage, scope_dir(&def, &t.id(), &partition)));
            }
        }
        let s = shared.clone();
        let u = user.clone();
        shared
            .committer
            .exclusive(move |ctx| {
                match s.catalog.user(&u)? {
                    Some(record) if record.deleted_at.is_some() => {}
                    _ => {
                        return Err(KalamError::exec(format!(
                            "User '{u}' is not a dropped user"
                        )));
                    }
                }
                for id in &ids {
                    let part = Partition::User(u.clone());
                    ctx.delete_range(
                        Space::Rows,
                        RowPrefix::Partition(id.clone(), part.clone()).range(),
                    );
                    ctx.delete(Space::Meta, MetaKey::Manifest(id.clone(), part).encode());
                }
                ctx.delete(Space::Meta, user_key(&u));
                ctx.after_commit(move || s.catalog.user_removed());
                Ok(())
            })
            .await?;
        drop(turns);
        let mut deleted = 0u64;
        for (storage, path) in &files {
            match shared.storages.open(storage) {
                Ok(store) => match store.delete(path).await {
                    Ok(()) => deleted += 1,
                    Err(e) => {
                        tracing::warn!(%user, %path, error = %e, "could not delete a removed user's segment")
                    }
                },
                Err(e) => tracing::warn!(%user, error = %e, "storage unavailable"),
            }
        }
        for (storage, dir) in &dirs {
            if let Ok(store) = shared.storages.open(storage)
                && let Ok((f, _)) = store.delete_prefix(&format!("{dir}/")).await
            {
                deleted += f;
            }
        }
        Ok(format!(
            "Removed user '{user}' and their rows in {} table(s); {deleted} file(s) deleted",
            tables.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kalamdb_types::Role;

    #[test]
    fn the_grace_period_counts_from_the_drop() {
        let alice = UserId::parse("alice").unwrap_or_else(|_| unreachable!());
        let mut u = UserRecord::new(alice, Role::User, None, None);
        let day = grace_of_days(1);
        assert!(!is_due(&u, Duration::ZERO, 0), "not dropped");
        u.deleted_at = Some(1_000);
        assert!(is_due(&u, Duration::ZERO, 1_000));
        assert!(!is_due(&u, day, 1_000 + MICROS_PER_DAY - 1));
        assert!(is_due(&u, day, 1_000 + MICROS_PER_DAY));
        assert!(!is_due(&u, grace_of_days(u64::MAX), i64::MAX), "saturates");
    }
}
