//! Layer `maintenance`: background work on table data. Jobs (`jobs.rs`:
//! durable records, bounded concurrency, retries, `KILL JOB`), flush
//! (`flush.rs`) and compaction (`compact.rs`) with what they share
//! (`segments.rs`), deleting a dropped table's files (`deletion.rs`),
//! STREAM TTL eviction (`stream_ttl.rs`), removing dropped users and their
//! rows (`user_cleanup.rs`), the crash-test failpoints
//! (`failpoint.rs`), and the handle the layers above use (`tasks.rs`).
//!
//! May import: `error`, `access`, `row`, `catalog`, `tiers`, `write`. Never
//! a DataFusion session: background work reads the tiers directly.

pub mod compact;
pub mod deletion;
pub mod failpoint;
pub mod flush;
pub mod jobs;
pub mod segments;
pub mod stream_ttl;
pub mod tasks;
pub mod user_cleanup;

pub use compact::CompactOutcome;
pub use flush::FlushOutcome;
pub use jobs::{JobRecord, JobStatus, JobsConfig};
pub use segments::CompactionConfig;
pub use stream_ttl::StreamEviction;
pub use user_cleanup::grace_of_days;
