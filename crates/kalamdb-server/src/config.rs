//! Server configuration: defaults, overridden by `server.toml`, overridden by
//! `KALAMDB_*` environment variables, overridden by command-line flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServerError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub server: ServerSection,
    pub storage: StorageSection,
    pub auth: AuthSection,
    pub security: SecuritySection,
    pub logging: LoggingSection,
    pub flush: FlushSection,
    pub jobs: JobsSection,
    pub compaction: CompactionSection,
    pub stream: StreamSection,
    pub websocket: WebsocketSection,
    pub rate_limit: RateLimitSection,
    pub query: QuerySection,
    pub user_management: UserManagementSection,
}

/// Dropped users (`sql.md` §5): how long they are kept before the cleanup
/// job removes them and their rows, and how often it looks for them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserManagementSection {
    /// 0: DROP USER queues the cleanup job at once.
    pub deletion_grace_period_days: u64,
    /// 0 disables the periodic pass (the one at start-up too).
    pub cleanup_interval_seconds: u64,
}

impl Default for UserManagementSection {
    fn default() -> Self {
        Self {
            deletion_grace_period_days: 30,
            cleanup_interval_seconds: 3600,
        }
    }
}

/// The default flush policy of tables that set none, and how often the
/// policy is checked (`sql.md` §2.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlushSection {
    pub default_rows: u64,
    pub default_interval_seconds: u64,
    pub check_interval_seconds: u64,
}

impl Default for FlushSection {
    fn default() -> Self {
        Self {
            default_rows: 10_000,
            default_interval_seconds: 300,
            check_interval_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSection {
    /// Jobs running at once (flushes are I/O- and CPU-heavy).
    pub max_concurrent: usize,
    /// Retries of a failed job, with exponential backoff from 500 ms.
    pub max_retries: u32,
    /// Finished jobs are removed from `system.jobs` after this long.
    pub retention_hours: u64,
}

impl Default for JobsSection {
    fn default() -> Self {
        Self {
            max_concurrent: 2,
            max_retries: 3,
            retention_hours: 168,
        }
    }
}

/// Merging of small Parquet segments (`STORAGE COMPACT TABLE`, and after
/// flushes).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionSection {
    /// Segments under this size are merged, into files under this size.
    pub target_file_mb: u64,
    /// A flush compacts a scope holding this many small segments (0: never
    /// on its own).
    pub auto_min_files: usize,
}

impl Default for CompactionSection {
    fn default() -> Self {
        Self {
            target_file_mb: 64,
            auto_min_files: 16,
        }
    }
}

/// STREAM tables' time to live (`sql.md` §2.1, §2.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSection {
    /// `TTL_SECONDS` of STREAM tables created without one.
    pub default_ttl_seconds: u64,
    /// How often expired rows are deleted (0: never; reads still hide them).
    pub eviction_interval_seconds: u64,
}

impl Default for StreamSection {
    fn default() -> Self {
        Self {
            default_ttl_seconds: 10,
            eviction_interval_seconds: 1,
        }
    }
}

/// `[websocket]`: live queries over `/v1/ws` (`wire-protocol.md` §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebsocketSection {
    /// In-band `authenticate` must arrive within this.
    pub auth_timeout_secs: u64,
    /// Silence longer than this closes the socket (never below 10 s).
    pub client_timeout_secs: u64,
    pub heartbeat_interval_secs: u64,
    /// A larger initial snapshot is refused (use `last_rows`/`batch_size`).
    pub max_initial_rows: usize,
    /// Outbound events queued per connection before it is closed 1013.
    pub max_pending_messages: usize,
}

impl Default for WebsocketSection {
    fn default() -> Self {
        Self {
            auth_timeout_secs: 3,
            client_timeout_secs: 10,
            heartbeat_interval_secs: 5,
            max_initial_rows: 100_000,
            max_pending_messages: 10_000,
        }
    }
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSection {
    pub max_subscriptions_per_user: usize,
    /// Password checks (login, refresh, setup, uncached Basic) per client
    /// address per minute; 0 = no limit.
    pub auth_attempts_per_minute: u32,
    /// Open WebSocket connections per client address; 0 = no limit.
    pub max_ws_connections_per_ip: usize,
    /// Open TCP connections (HTTP and WebSocket) per client address; one
    /// over it is answered 429 and closed; 0 = no limit.
    pub max_connections_per_ip: usize,
    /// Inbound WebSocket messages per connection per second; 0 = no limit.
    pub max_ws_messages_per_second: u32,
    /// `POST /v1/api/sql` requests per user per second (429
    /// `RATE_LIMIT_EXCEEDED` beyond); 0 = no limit.
    pub max_queries_per_second: u32,
}

impl Default for RateLimitSection {
    fn default() -> Self {
        Self {
            max_subscriptions_per_user: 100,
            auth_attempts_per_minute: 0,
            max_ws_connections_per_ip: 0,
            max_connections_per_ip: 0,
            max_ws_messages_per_second: 0,
            max_queries_per_second: 0,
        }
    }
}

/// `[query]`: what one `POST /v1/api/sql` request may ask
/// (`wire-protocol.md` §3.1 gives the defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySection {
    /// Bytes of SQL text; longer → 400 `INVALID_SQL`.
    pub max_sql_length: usize,
    /// `params` entries; more → 400 `INVALID_PARAMETER`.
    pub max_params: usize,
    /// Bytes of one string parameter; longer → 400 `INVALID_PARAMETER`.
    pub max_param_bytes: usize,
    /// Rows one query may return; more → 400 `SQL_EXECUTION_ERROR`.
    pub max_result_rows: usize,
    /// Point writes and reads (`INSERT … VALUES`, and SELECT/UPDATE/DELETE
    /// by primary key) skip DataFusion's planner; `false` plans every
    /// statement (same answers, slower). Env `KALAMDB_QUERY_FAST_PATH`.
    pub fast_path: bool,
    /// Bytes of row versions one transaction may stage before COMMIT; more
    /// → `"Transaction too large"` (sql.md §3.7).
    pub max_transaction_buffer_bytes: usize,
}

impl Default for QuerySection {
    fn default() -> Self {
        Self {
            max_sql_length: 1024 * 1024,
            max_params: 50,
            max_param_bytes: 512 * 1024,
            max_result_rows: 1_000_000,
            fast_path: true,
            max_transaction_buffer_bytes: 100 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    pub data_dir: PathBuf,
    /// fsync the WAL before acknowledging a write (default true). With
    /// `false` a process crash loses nothing, a power loss may lose the last
    /// writes.
    pub sync_writes: bool,
    pub cache_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSection {
    pub root_password: Option<String>,
    pub jwt_secret: Option<String>,
    pub jwt_expiry_hours: i64,
    pub jwt_trusted_issuers: Vec<String>,
    pub cookie_secure: bool,
    pub allow_remote_setup: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySection {
    pub max_request_body_size: usize,
    pub cors_origins: Vec<String>,
    /// Inbound WebSocket messages larger than this get `MESSAGE_TOO_LARGE`.
    pub max_ws_message_size: usize,
    /// Refuse WebSocket upgrades without an `Origin` header.
    pub strict_ws_origin_check: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingSection {
    /// A `tracing` filter: `info`, `debug`, `kalamdb_core=debug,info`, …
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
        }
    }
}

impl Default for StorageSection {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            sync_writes: true,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            root_password: None,
            jwt_secret: None,
            jwt_expiry_hours: 24,
            jwt_trusted_issuers: Vec::new(),
            cookie_secure: false,
            allow_remote_setup: false,
        }
    }
}

impl Default for SecuritySection {
    fn default() -> Self {
        Self {
            max_request_body_size: 10 * 1024 * 1024,
            cors_origins: Vec::new(),
            max_ws_message_size: 1024 * 1024,
            strict_ws_origin_check: false,
        }
    }
}

impl Default for LoggingSection {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// Values that outrank the file (flags, then environment, as clap merged them).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub data_dir: Option<PathBuf>,
    pub root_password: Option<String>,
    pub jwt_secret: Option<String>,
    pub log_level: Option<String>,
    pub fast_path: Option<bool>,
}

impl ServerConfig {
    /// Reads `path` (if given) over the defaults and applies `overrides`.
    pub fn load(path: Option<&Path>, overrides: Overrides) -> Result<Self, ServerError> {
        Self::load_with_env(path, overrides, std::env::vars())
    }

    /// [`Self::load`] with the environment given (tests).
    fn load_with_env(
        path: Option<&Path>,
        overrides: Overrides,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, ServerError> {
        let (mut table, source) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ServerError::Config(format!("cannot read {}: {e}", p.display()))
                })?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))?;
                (table, p.display().to_string())
            }
            None => (toml::Table::new(), "the environment".to_string()),
        };
        env_overlay(&mut table, env);
        let mut config: ServerConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e| ServerError::Config(format!("{source}: {e}")))?;
        let o = overrides;
        if let Some(v) = o.host {
            config.server.host = v;
        }
        if let Some(v) = o.port {
            config.server.port = v;
        }
        if let Some(v) = o.data_dir {
            config.storage.data_dir = v;
        }
        if let Some(v) = o.root_password {
            config.auth.root_password = Some(v);
        }
        if let Some(v) = o.jwt_secret {
            config.auth.jwt_secret = Some(v);
        }
        if let Some(v) = o.log_level {
            config.logging.level = v;
        }
        if let Some(v) = o.fast_path {
            config.query.fast_path = v;
        }
        Ok(config)
    }
}

/// Every key's environment form, between the file and the flags:
/// `KALAMDB_<SECTION>__<KEY>` (`KALAMDB_USER_MANAGEMENT__DELETION_GRACE_PERIOD_DAYS=0`).
/// A value that reads as a TOML boolean or number is one; anything else is a
/// string (quote a numeric string: `'"123"'`). An unknown section or key is
/// refused like one in the file.
fn env_overlay(table: &mut toml::Table, env: impl Iterator<Item = (String, String)>) {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("KALAMDB_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_table() && !v.is_array())
            .unwrap_or(toml::Value::String(raw));
        let entry = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            t.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_an_environment_form() {
        let env = [
            ("KALAMDB_USER_MANAGEMENT__DELETION_GRACE_PERIOD_DAYS", "0"),
            ("KALAMDB_QUERY__MAX_PARAMS", "7"),
            ("KALAMDB_LOGGING__LEVEL", "debug"),
            ("KALAMDB_STORAGE__SYNC_WRITES", "false"),
            ("KALAMDB_ROOT_PASSWORD", "not-a-section-key"),
            ("OTHER__X", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let cfg =
            ServerConfig::load_with_env(None, Overrides::default(), env.into_iter()).expect("load");
        assert_eq!(cfg.user_management.deletion_grace_period_days, 0);
        assert_eq!(cfg.user_management.cleanup_interval_seconds, 3600);
        assert_eq!(cfg.query.max_params, 7);
        assert_eq!(cfg.logging.level, "debug");
        assert!(!cfg.storage.sync_writes);
        let bad = [("KALAMDB_QUERY__NOPE".to_string(), "1".to_string())];
        let err = ServerConfig::load_with_env(None, Overrides::default(), bad.into_iter())
            .expect_err("unknown key");
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn overrides_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "[server]\nport = 9000\nhost = \"0.0.0.0\"\n[storage]\nsync_writes = false\n",
        )
        .expect("write");
        let cfg = ServerConfig::load(
            Some(&path),
            Overrides {
                port: Some(9100),
                ..Default::default()
            },
        )
        .expect("load");
        assert_eq!(cfg.server.port, 9100);
        assert_eq!(cfg.server.host, "0.0.0.0");
        assert!(!cfg.storage.sync_writes);
        assert_eq!(cfg.storage.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn the_stream_section_has_defaults_and_reads_from_the_file() {
        let cfg = ServerConfig::default();
        assert_eq!(cfg.stream.default_ttl_seconds, 10);
        assert_eq!(cfg.stream.eviction_interval_seconds, 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "[stream]\ndefault_ttl_seconds = 30\neviction_interval_seconds = 0\n",
        )
        .expect("write");
        let cfg = ServerConfig::load(Some(&path), Overrides::default()).expect("load");
        assert_eq!(cfg.stream.default_ttl_seconds, 30);
        assert_eq!(cfg.stream.eviction_interval_seconds, 0);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[server]\nprot = 1\n").expect("write");
        assert!(matches!(
            ServerConfig::load(Some(&path), Overrides::default()),
            Err(ServerError::Config(_))
        ));
    }
}
