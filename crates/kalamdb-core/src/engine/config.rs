//! [`EngineConfig`]: the engine's limits and defaults, as the server maps
//! its configuration file; `Engine::open` hands each layer its part.

use std::path::PathBuf;
use std::time::Duration;

use kalamdb_types::FlushPolicy;

use crate::catalog::table::TableDefaults;
use crate::live::hub::LiveConfig;
use crate::maintenance::jobs::JobsConfig;
use crate::maintenance::segments::CompactionConfig;
use crate::statements::executor::StatementLimits;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Password for `root` on first start; `None` leaves root without one
    /// (first-run setup, loopback only).
    pub root_password: Option<String>,
    pub max_sql_bytes: usize,
    pub max_params: usize,
    pub max_param_bytes: usize,
    /// Rows one query may return; more fail the statement instead of
    /// building an answer that exhausts memory (`query.max_result_rows`).
    pub max_result_rows: usize,
    /// Bytes one transaction may stage (`query.max_transaction_buffer_bytes`).
    pub max_transaction_buffer_bytes: usize,
    pub default_flush_policy: FlushPolicy,
    pub default_deleted_retention_hours: u64,
    pub default_stream_ttl_seconds: u64,
    /// Directory of the built-in `local` storage (`<data_dir>/storage`).
    pub storage_dir: PathBuf,
    pub jobs: JobsConfig,
    /// How often the flush policy runs; `None` disables it.
    pub flush_check_interval: Option<Duration>,
    pub compaction: CompactionConfig,
    /// How often expired STREAM rows are deleted; `None` disables it (reads
    /// still hide them).
    pub stream_eviction_interval: Option<Duration>,
    pub live: LiveConfig,
    /// How long a dropped user is kept before the cleanup job removes it
    /// and its rows (`user_management.deletion_grace_period_days`; zero:
    /// DROP USER queues the job at once).
    pub user_deletion_grace: Duration,
    /// How often dropped users past their grace are looked for (also once
    /// at start-up); `None` disables the pass.
    pub user_cleanup_interval: Option<Duration>,
    /// Point writes and reads skip DataFusion (`statements/fast.rs`);
    /// `false` sends every statement through the planner (`[query] fast_path`).
    pub fast_path: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let limits = StatementLimits::default();
        let tables = TableDefaults::default();
        Self {
            root_password: None,
            max_sql_bytes: limits.max_sql_bytes,
            max_params: limits.max_params,
            max_param_bytes: limits.max_param_bytes,
            max_result_rows: limits.max_result_rows,
            max_transaction_buffer_bytes: limits.max_transaction_buffer_bytes,
            default_flush_policy: tables.flush_policy,
            default_deleted_retention_hours: tables.deleted_retention_hours,
            default_stream_ttl_seconds: tables.stream_ttl_seconds,
            storage_dir: PathBuf::from("data/storage"),
            jobs: JobsConfig::default(),
            flush_check_interval: None,
            compaction: CompactionConfig::default(),
            stream_eviction_interval: Some(Duration::from_secs(1)),
            live: LiveConfig::default(),
            user_deletion_grace: crate::maintenance::user_cleanup::grace_of_days(30),
            user_cleanup_interval: Some(Duration::from_secs(3600)),
            fast_path: true,
        }
    }
}

impl EngineConfig {
    pub(crate) fn statement_limits(&self) -> StatementLimits {
        StatementLimits {
            max_sql_bytes: self.max_sql_bytes,
            max_params: self.max_params,
            max_param_bytes: self.max_param_bytes,
            max_result_rows: self.max_result_rows,
            max_transaction_buffer_bytes: self.max_transaction_buffer_bytes,
        }
    }

    pub(crate) fn table_defaults(&self) -> TableDefaults {
        TableDefaults {
            flush_policy: self.default_flush_policy,
            deleted_retention_hours: self.default_deleted_retention_hours,
            stream_ttl_seconds: self.default_stream_ttl_seconds,
        }
    }
}
