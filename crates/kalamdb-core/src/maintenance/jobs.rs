//! Background jobs (`system.jobs`, `sql.md` §6 and §8): flushes and
//! compactions, started by statements or by the flush policy.
//!
//! A job is a durable record in the `meta` keyspace (`MetaKey::Job`) plus a
//! tokio task. Jobs run with bounded concurrency (a semaphore), retry with
//! exponential backoff, and can be cancelled (`KILL JOB`). Every state change
//! is committed before it is visible in `system.jobs`, and wakes
//! [`JobManager::wait`], which is how tests and the API wait for a job
//! instead of sleeping.
//!
//! A job left `queued`/`running` by a crash is marked `failed` ("interrupted
//! by a restart") at start-up: its work is idempotent and the flush policy
//! re-schedules what is still pending.
//!
//! After a failed write the committer refuses every write
//! (`write/committer.rs`), so a job running then cannot record how it ended: that state is kept in
//! memory and shown instead of the stored one until the restart (which
//! marks the stored record as interrupted), and the job is not retried.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kalamdb_store::{Direction, HotStore, MetaKey, MetaPrefix, Space};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};

use crate::catalog::records::{decode_json, encode_json};
use crate::error::{KalamError, Result};
use crate::write::committer::Committer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    New,
    Queued,
    Running,
    Retrying,
    Completed,
    Failed,
    Cancelled,
    Skipped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::New => "new",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Retrying => "retrying",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Skipped => "skipped",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled | JobStatus::Skipped
        )
    }
}

/// A job as persisted (`system.jobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub job_type: String,
    pub status: JobStatus,
    pub parameters: serde_json::Value,
    pub message: Option<String>,
    pub exception_trace: Option<String>,
    pub idempotency_key: Option<String>,
    pub queue: Option<String>,
    pub priority: i32,
    pub retry_count: u32,
    pub max_retries: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub node_id: String,
}

/// What a job's work reports on success.
pub type JobResult = std::result::Result<String, KalamError>;

/// Cancellation flag a running job checks at its safe points.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<(AtomicBool, Notify)>);

impl CancelFlag {
    pub fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::Acquire)
    }

    /// Resolves once the job is cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// `Err(cancelled)` once `KILL JOB` was issued: `?` it at safe points.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(KalamError::exec("cancelled"))
        } else {
            Ok(())
        }
    }

    fn cancel(&self) {
        self.0.0.store(true, Ordering::Release);
        self.0.1.notify_waiters();
    }
}

struct Active {
    cancel: CancelFlag,
    key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub max_concurrent: usize,
    pub max_retries: u32,
    /// First retry delay; doubled per attempt.
    pub backoff: Duration,
    /// Finished jobs older than this are removed from `system.jobs`.
    pub retention: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 2,
            max_retries: 3,
            backoff: Duration::from_millis(500),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// How [`JobManager::submit`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    Started(String),
    /// A job with the same idempotency key is queued or running.
    AlreadyActive(String),
}

pub struct JobManager {
    store: Arc<dyn HotStore>,
    committer: Committer,
    config: JobsConfig,
    slots: Arc<Semaphore>,
    active: parking_lot::Mutex<HashMap<String, Active>>,
    changed: Notify,
    /// When finished jobs were last pruned (`None`: not yet).
    pruned_at: parking_lot::Mutex<Option<tokio::time::Instant>>,
    /// Job states the committer refused to store (see the module docs).
    unrecorded: parking_lot::Mutex<HashMap<String, JobRecord>>,
}

impl std::fmt::Debug for JobManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobManager")
    }
}

/// The least time between two prunes of finished jobs.
const PRUNE_EVERY: Duration = Duration::from_secs(300);

/// The idempotency key of a table's flush job: one at a time per table.
pub fn flush_key(table: &kalamdb_types::TableId) -> String {
    format!("flush:{table}")
}

/// The idempotency key of a table's compaction job.
pub fn compact_key(table: &kalamdb_types::TableId) -> String {
    format!("compact:{table}")
}

fn job_key(id: &str) -> Vec<u8> {
    MetaKey::Job(id.to_string()).encode()
}

impl JobManager {
    pub fn new(store: Arc<dyn HotStore>, committer: Committer, config: JobsConfig) -> Arc<Self> {
        Arc::new(Self {
            store,
            committer,
            slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            config,
            active: parking_lot::Mutex::new(HashMap::new()),
            changed: Notify::new(),
            pruned_at: parking_lot::Mutex::new(None),
            unrecorded: parking_lot::Mutex::new(HashMap::new()),
        })
    }

    /// Marks jobs a crash left unfinished as failed, and prunes old ones.
    pub async fn recover(&self) -> Result<()> {
        self.prune_now().await?;
        let now = kalamdb_types::now_micros();
        for mut job in self.list()? {
            if job.status.is_finished() {
                continue;
            }
            job.status = JobStatus::Failed;
            job.message = Some("Interrupted by a server restart".into());
            job.finished_at = Some(now);
            job.updated_at = now;
            self.persist(&job).await?;
        }
        Ok(())
    }

    /// Removes finished jobs that ended more than `retention` ago; returns
    /// how many. Runs at most every few minutes however often it is called
    /// (each job submission asks), since it reads every job record.
    pub async fn prune(&self) -> Result<usize> {
        {
            let mut at = self.pruned_at.lock();
            let now = tokio::time::Instant::now();
            if at.is_some_and(|t| now.duration_since(t) < PRUNE_EVERY) {
                return Ok(0);
            }
            *at = Some(now);
        }
        self.prune_now().await
    }

    /// [`Self::prune`] without the rate limit.
    pub async fn prune_now(&self) -> Result<usize> {
        let retention = i64::try_from(self.config.retention.as_micros()).unwrap_or(i64::MAX);
        let horizon = kalamdb_types::now_micros().saturating_sub(retention);
        let expired: Vec<Vec<u8>> = self
            .list()?
            .into_iter()
            .filter(|j| j.status.is_finished() && j.finished_at.is_some_and(|f| f < horizon))
            .map(|j| job_key(&j.job_id))
            .collect();
        let n = expired.len();
        if n > 0 {
            self.committer
                .write(move |ctx| {
                    for key in expired {
                        ctx.delete(Space::Meta, key);
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(n)
    }

    /// Every job record, oldest id first.
    pub fn list(&self) -> Result<Vec<JobRecord>> {
        let stored: Vec<JobRecord> = self
            .store
            .scan(
                Space::Meta,
                &MetaPrefix::Jobs.range(),
                Direction::Forward,
                usize::MAX,
            )?
            .iter()
            .map(|(_, v)| decode_json(v))
            .collect::<Result<_>>()?;
        let unrecorded = self.unrecorded.lock();
        Ok(stored
            .into_iter()
            .map(|j| unrecorded.get(&j.job_id).cloned().unwrap_or(j))
            .collect())
    }

    pub fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        if let Some(job) = self.unrecorded.lock().get(id) {
            return Ok(Some(job.clone()));
        }
        self.store
            .get(Space::Meta, &job_key(id))?
            .map(|v| decode_json(&v))
            .transpose()
    }

    async fn persist(&self, job: &JobRecord) -> Result<()> {
        let key = job_key(&job.job_id);
        let value = encode_json(job)?;
        self.committer
            .write(move |ctx| {
                ctx.put(Space::Meta, key, value);
                Ok(())
            })
            .await?;
        self.changed.notify_waiters();
        Ok(())
    }

    /// Is a job with this idempotency key queued or running?
    pub fn is_active(&self, key: &str) -> bool {
        self.active
            .lock()
            .values()
            .any(|a| a.key.as_deref() == Some(key))
    }

    /// Records a queued job and starts it. `work` runs once per attempt.
    pub async fn submit<F, Fut>(
        self: &Arc<Self>,
        prefix: &str,
        job_type: &str,
        parameters: serde_json::Value,
        idempotency_key: Option<String>,
        work: F,
    ) -> Result<Submitted>
    where
        F: Fn(CancelFlag) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        if let Err(e) = self.prune().await {
            tracing::warn!(error = %e, "could not prune finished jobs");
        }
        let id = format!("{prefix}-{:012x}", rand::random::<u64>() & 0xFFFF_FFFF_FFFF);
        let cancel = CancelFlag::default();
        {
            let mut active = self.active.lock();
            if let Some(key) = &idempotency_key
                && let Some((existing, _)) = active
                    .iter()
                    .find(|(_, a)| a.key.as_deref() == Some(key.as_str()))
            {
                return Ok(Submitted::AlreadyActive(existing.clone()));
            }
            active.insert(
                id.clone(),
                Active {
                    cancel: cancel.clone(),
                    key: idempotency_key.clone(),
                },
            );
        }
        let now = kalamdb_types::now_micros();
        let job = JobRecord {
            job_id: id.clone(),
            job_type: job_type.to_string(),
            status: JobStatus::Queued,
            parameters,
            message: None,
            exception_trace: None,
            idempotency_key,
            queue: Some("default".into()),
            priority: 0,
            retry_count: 0,
            max_retries: self.config.max_retries,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            node_id: "node-1".into(),
        };
        if let Err(e) = self.persist(&job).await {
            self.active.lock().remove(&id);
            return Err(e);
        }
        let manager = self.clone();
        tokio::spawn(async move { manager.run(job, cancel, work).await });
        Ok(Submitted::Started(id))
    }

    async fn run<F, Fut>(self: Arc<Self>, mut job: JobRecord, cancel: CancelFlag, work: F)
    where
        F: Fn(CancelFlag) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        let permit = self.slots.clone().acquire_owned().await;
        let mut delay = self.config.backoff;
        loop {
            if cancel.is_cancelled() {
                job.status = JobStatus::Cancelled;
                break;
            }
            let now = kalamdb_types::now_micros();
            job.status = JobStatus::Running;
            job.started_at.get_or_insert(now);
            job.updated_at = now;
            self.persist_logged(&job).await;
            // A panic in the work must fail the job, not leave it running.
            let outcome = tokio::spawn(work(cancel.clone()))
                .await
                .unwrap_or_else(|e| Err(KalamError::internal(format!("job panicked: {e}"))));
            match outcome {
                Ok(message) => {
                    job.status = JobStatus::Completed;
                    job.message = Some(message);
                    break;
                }
                Err(_) if cancel.is_cancelled() => {
                    job.status = JobStatus::Cancelled;
                    break;
                }
                // Retrying cannot help once storage refuses writes.
                Err(e) if job.retry_count < job.max_retries && !self.committer.storage_failed() => {
                    job.retry_count += 1;
                    job.status = JobStatus::Retrying;
                    job.exception_trace = Some(e.to_string());
                    job.updated_at = kalamdb_types::now_micros();
                    self.persist_logged(&job).await;
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(e) => {
                    job.status = JobStatus::Failed;
                    job.message = Some(format!("Failed after {} attempt(s)", job.retry_count + 1));
                    job.exception_trace = Some(e.to_string());
                    break;
                }
            }
        }
        drop(permit);
        let now = kalamdb_types::now_micros();
        job.finished_at = Some(now);
        job.updated_at = now;
        if job.status == JobStatus::Cancelled {
            job.message = Some("cancelled".into());
        }
        // No longer active *before* the final state is visible: whoever
        // sees the job finished may start the next one with the same key.
        self.active.lock().remove(&job.job_id);
        self.persist_logged(&job).await;
        self.changed.notify_waiters();
    }

    async fn persist_logged(&self, job: &JobRecord) {
        if let Err(e) = self.persist(job).await {
            tracing::error!(job = %job.job_id, error = %e, "could not record job state");
            if self.committer.storage_failed() {
                self.unrecorded
                    .lock()
                    .insert(job.job_id.clone(), job.clone());
                self.changed.notify_waiters();
            }
        }
    }

    /// `KILL JOB`: cancels a queued or running job (`sql.md` §6).
    pub async fn kill(&self, id: &str) -> Result<String> {
        let cancel = self.active.lock().get(id).map(|a| a.cancel.clone());
        match cancel {
            Some(c) => {
                c.cancel();
                self.changed.notify_waiters();
                Ok(format!("Job {id} killed: cancelled"))
            }
            None => match self.get(id)? {
                Some(job) => Err(KalamError::exec(format!(
                    "Job '{id}' already {}",
                    job.status.as_str()
                ))),
                None => Err(KalamError::exec(format!("Job '{id}' not found"))),
            },
        }
    }

    /// Cancels the active job with this idempotency key, if any (the jobs
    /// of a table being dropped).
    pub fn cancel_keyed(&self, key: &str) -> bool {
        let cancel = self
            .active
            .lock()
            .values()
            .find(|a| a.key.as_deref() == Some(key))
            .map(|a| a.cancel.clone());
        match cancel {
            Some(c) => {
                c.cancel();
                self.changed.notify_waiters();
                true
            }
            None => false,
        }
    }

    /// Waits until the job has finished (or `timeout` passes) and returns its
    /// record; `None` if there is no such job.
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<Option<JobRecord>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            let job = self.get(id)?;
            match &job {
                Some(j) if !j.status.is_finished() => {}
                _ => return Ok(job),
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(job);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use kalamdb_store::MemoryStore;
    use kalamdb_types::SnowflakeGenerator;

    use super::*;

    fn manager(store: Arc<dyn HotStore>) -> Arc<JobManager> {
        let committer = Committer::start(
            store.clone(),
            Arc::new(SnowflakeGenerator::new(0)),
            Arc::new(crate::write::changes::NoChanges),
        )
        .unwrap();
        JobManager::new(
            store,
            committer,
            JobsConfig {
                max_concurrent: 1,
                max_retries: 3,
                backoff: Duration::from_millis(1),
                retention: Duration::ZERO,
            },
        )
    }

    #[tokio::test]
    async fn finished_jobs_past_retention_are_pruned_and_active_ones_kept() {
        let jobs = manager(Arc::new(MemoryStore::new()));
        let done = started(
            jobs.submit("FL", "flush", serde_json::json!({}), None, |_| async {
                Ok("ok".to_string())
            })
            .await
            .unwrap(),
        );
        assert_eq!(
            jobs.wait(&done, WAIT).await.unwrap().unwrap().status,
            JobStatus::Completed
        );
        let running = started(
            jobs.submit("FL", "flush", serde_json::json!({}), None, |c| async move {
                c.cancelled().await;
                Err(KalamError::exec("cancelled"))
            })
            .await
            .unwrap(),
        );
        // Retention zero: the finished job goes, the running one stays.
        assert_eq!(jobs.prune_now().await.unwrap(), 1);
        assert!(jobs.get(&done).unwrap().is_none());
        assert!(jobs.get(&running).unwrap().is_some());
        jobs.kill(&running).await.unwrap();
        assert_eq!(
            jobs.wait(&running, WAIT).await.unwrap().unwrap().status,
            JobStatus::Cancelled
        );
    }

    fn started(s: Submitted) -> String {
        match s {
            Submitted::Started(id) => id,
            other => panic!("{other:?}"),
        }
    }

    const WAIT: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn failures_are_retried_with_backoff_then_complete() {
        let jobs = manager(Arc::new(MemoryStore::new()));
        let attempts = Arc::new(AtomicU32::new(0));
        let a = attempts.clone();
        let id = started(
            jobs.submit("FL", "flush", serde_json::json!({}), None, move |_| {
                let n = a.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(KalamError::exec(format!("attempt {n} failed")))
                    } else {
                        Ok("done".to_string())
                    }
                }
            })
            .await
            .unwrap(),
        );
        let job = jobs.wait(&id, WAIT).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Completed);
        assert_eq!(job.retry_count, 2);
        assert_eq!(job.message.as_deref(), Some("done"));
        assert_eq!(job.exception_trace.as_deref(), Some("attempt 1 failed"));
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
        assert!(id.starts_with("FL-") && id.len() == 15, "{id}");
    }

    #[tokio::test]
    async fn a_job_failing_every_attempt_ends_failed() {
        let jobs = manager(Arc::new(MemoryStore::new()));
        let id = started(
            jobs.submit("FL", "flush", serde_json::json!({}), None, |_| async {
                Err(KalamError::exec("disk on fire"))
            })
            .await
            .unwrap(),
        );
        let job = jobs.wait(&id, WAIT).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Failed);
        assert_eq!(job.retry_count, 3);
        assert_eq!(job.message.as_deref(), Some("Failed after 4 attempt(s)"));
        assert_eq!(job.exception_trace.as_deref(), Some("disk on fire"));
        assert_eq!(
            jobs.kill(&id).await.unwrap_err().to_string(),
            format!("Job '{id}' already failed")
        );
    }

    #[tokio::test]
    async fn kill_cancels_a_running_job_and_frees_its_key() {
        let jobs = manager(Arc::new(MemoryStore::new()));
        let (running_tx, running_rx) = tokio::sync::oneshot::channel::<()>();
        let running_tx = Arc::new(parking_lot::Mutex::new(Some(running_tx)));
        let key = Some("flush:app.t".to_string());
        let id = started(
            jobs.submit(
                "FL",
                "flush",
                serde_json::json!({}),
                key.clone(),
                move |cancel| {
                    let tx = running_tx.lock().take();
                    async move {
                        if let Some(tx) = tx {
                            let _ = tx.send(());
                        }
                        // Works until cancelled, checking at its safe points.
                        while !cancel.is_cancelled() {
                            tokio::task::yield_now().await;
                        }
                        cancel.check().map(|()| String::new())
                    }
                },
            )
            .await
            .unwrap(),
        );
        running_rx.await.unwrap();
        // Same key while it runs: refused, pointing at the running job.
        let again = jobs
            .submit(
                "FL",
                "flush",
                serde_json::json!({}),
                key.clone(),
                |_| async { Ok(String::new()) },
            )
            .await
            .unwrap();
        assert_eq!(again, Submitted::AlreadyActive(id.clone()));
        assert!(jobs.is_active("flush:app.t"));
        assert_eq!(
            jobs.kill(&id).await.unwrap(),
            format!("Job {id} killed: cancelled")
        );
        let job = jobs.wait(&id, WAIT).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Cancelled);
        assert_eq!(job.retry_count, 0, "a cancelled job is not retried");
        assert!(!jobs.is_active("flush:app.t"));
        assert_eq!(
            jobs.kill("FL-000000000000").await.unwrap_err().to_string(),
            "Job 'FL-000000000000' not found"
        );
    }

    #[tokio::test]
    async fn jobs_a_crash_left_unfinished_are_failed_on_recovery() {
        let store: Arc<dyn HotStore> = Arc::new(MemoryStore::new());
        let jobs = manager(store.clone());
        let (_hold, hold_rx) = tokio::sync::watch::channel(());
        let hold_rx = Arc::new(hold_rx);
        let (running_tx, running_rx) = tokio::sync::oneshot::channel::<()>();
        let running_tx = Arc::new(parking_lot::Mutex::new(Some(running_tx)));
        let id = started(
            jobs.submit("FL", "flush", serde_json::json!({}), None, move |_| {
                let mut rx = (*hold_rx).clone();
                let tx = running_tx.lock().take();
                async move {
                    if let Some(tx) = tx {
                        let _ = tx.send(());
                    }
                    // Never finishes while the sender lives: the "crash".
                    let _ = rx.changed().await;
                    Ok(String::new())
                }
            })
            .await
            .unwrap(),
        );
        // The work runs only after `running` was recorded.
        running_rx.await.unwrap();
        assert_eq!(jobs.get(&id).unwrap().unwrap().status, JobStatus::Running);
        // A new manager over the same store: what a restart sees.
        let after = manager(store);
        after.recover().await.unwrap();
        let job = after.get(&id).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Failed);
        assert_eq!(
            job.message.as_deref(),
            Some("Interrupted by a server restart")
        );
        assert!(job.finished_at.is_some());
    }
}
