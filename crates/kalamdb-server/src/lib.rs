//! The `kalamdb-server` composition root.
//!
//! Owns configuration, the wiring of the concrete hot store (RocksDB — the only
//! crate besides `kalamdb-store-rocksdb` that names it) into the engine, the
//! JWT secret's life cycle, and serving the HTTP app until shutdown. It holds
//! no database logic of its own. [`run`] takes an already bound listener, so
//! tests bind port 0 and run many servers side by side.

/// jemalloc rather than the system allocator, for a process that runs for
/// months: glibc keeps freed memory in per-thread arenas and under a
/// threshold it raises itself, so bursts (Argon2's 19 MiB sets, big query
/// batches) stay resident after they are freed, while jemalloc returns
/// allocations of 8 MiB and more to the OS as soon as they are freed and
/// decays the rest. Chosen over mimalloc and glibc by measurement (RSS and
/// speed, docs/benchmarks.md "Memory"). Declared in the library so every
/// binary that runs the server — `kalamdb-server`, the bench, the
/// integration tests — runs it on the same allocator.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod config;
mod error;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kalamdb_api::{ApiConfig, AppState};
use kalamdb_auth::{JwtCodec, JwtConfig};
use kalamdb_core::{Engine, EngineConfig};
use kalamdb_store::HotStore;
use kalamdb_store_rocksdb::{RocksOptions, RocksStore};
use tokio::net::TcpListener;

pub use config::{Overrides, ServerConfig};
pub use error::ServerError;

/// Weak or sample secrets a public deployment must never run with.
const KNOWN_DEFAULT_SECRETS: &[&str] = &[
    "secret",
    "changeme",
    "kalamdb",
    "your-secret-key",
    "CHANGE_ME",
];

/// Serves on `listener` until `shutdown` resolves, then drains connections
/// and closes the store cleanly.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_with(listener, config, shutdown, |_| {}).await
}

/// [`run`], handing `ready` a clone of the engine once it is open (before
/// the first request is served): in-process tests await engine events
/// through it. Whoever keeps that clone must drop it before `shutdown`
/// resolves, or closing the store waits for it (up to 10 s) and the data
/// directory stays locked while it lives.
pub async fn run_with(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(Engine) + Send + 'static,
) -> Result<(), ServerError> {
    let hooks = RunHooks {
        ready: Some(Box::new(ready)),
        ..RunHooks::default()
    };
    run_with_hooks(listener, config, shutdown, hooks).await
}

/// Receives the engine once it is open (see [`run_with`]).
pub type ReadyHook = Box<dyn FnOnce(Engine) + Send>;

/// Replaces the hot store the engine is given.
pub type WrapStoreHook = Box<dyn FnOnce(Arc<dyn HotStore>) -> Arc<dyn HotStore> + Send>;

/// Test hooks into [`run_with_hooks`]; the default runs the plain server.
#[derive(Default)]
pub struct RunHooks {
    /// Called with a clone of the engine before the first request is served.
    pub ready: Option<ReadyHook>,
    /// Wraps the RocksDB store before the engine opens over it (fault
    /// injection: `kalamdb_store::FaultyStore`). The engine sees only the
    /// wrapper; shutdown still flushes and closes the RocksDB store, once
    /// the wrapper (and so the engine) has let go of it.
    pub wrap_store: Option<WrapStoreHook>,
}

/// [`run`] with [`RunHooks`].
pub async fn run_with_hooks(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    hooks: RunHooks,
) -> Result<(), ServerError> {
    let data_dir = config.storage.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|e| ServerError::DataDir {
        path: data_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let bind = listener.local_addr()?;
    let secret = jwt_secret(&config, &data_dir, &bind)?;

    let rocks_path = data_dir.join("rocksdb");
    let options = RocksOptions {
        sync_writes: config.storage.sync_writes,
        cache_bytes: config.storage.cache_bytes,
    };
    let store = Arc::new(
        tokio::task::spawn_blocking(move || RocksStore::open(&rocks_path, options))
            .await
            .map_err(|e| ServerError::Config(e.to_string()))??,
    );
    let engine_config = EngineConfig {
        root_password: config.auth.root_password.clone(),
        max_sql_bytes: config.query.max_sql_length.max(1),
        max_params: config.query.max_params,
        max_param_bytes: config.query.max_param_bytes.max(1),
        max_result_rows: config.query.max_result_rows.max(1),
        fast_path: config.query.fast_path,
        user_deletion_grace: kalamdb_core::grace_of_days(
            config.user_management.deletion_grace_period_days,
        ),
        user_cleanup_interval: (config.user_management.cleanup_interval_seconds > 0)
            .then(|| Duration::from_secs(config.user_management.cleanup_interval_seconds)),
        max_transaction_buffer_bytes: config.query.max_transaction_buffer_bytes.max(1),
        storage_dir: config.storage.data_dir.join("storage"),
        default_stream_ttl_seconds: config.stream.default_ttl_seconds.max(1),
        stream_eviction_interval: (config.stream.eviction_interval_seconds > 0)
            .then(|| Duration::from_secs(config.stream.eviction_interval_seconds)),
        default_flush_policy: kalamdb_types::FlushPolicy {
            rows: Some(config.flush.default_rows.max(1)),
            interval_secs: Some(config.flush.default_interval_seconds.max(1)),
        },
        flush_check_interval: (config.flush.check_interval_seconds > 0)
            .then(|| std::time::Duration::from_secs(config.flush.check_interval_seconds)),
        jobs: kalamdb_core::JobsConfig {
            max_concurrent: config.jobs.max_concurrent.max(1),
            max_retries: config.jobs.max_retries,
            retention: std::time::Duration::from_secs(
                config.jobs.retention_hours.saturating_mul(3600),
            ),
            ..Default::default()
        },
        compaction: kalamdb_core::CompactionConfig {
            target_bytes: config
                .compaction
                .target_file_mb
                .max(1)
                .saturating_mul(1 << 20),
            auto_min_files: config.compaction.auto_min_files,
        },
        live: kalamdb_core::LiveConfig {
            max_subscriptions_per_user: config.rate_limit.max_subscriptions_per_user.max(1),
            max_initial_rows: config.websocket.max_initial_rows.max(1),
            ws_url: format!("ws://{bind}/v1/ws"),
            ..Default::default()
        },
        ..Default::default()
    };
    let engine_store = match hooks.wrap_store {
        Some(wrap) => wrap(store.clone()),
        None => store.clone(),
    };
    let engine = Engine::open(engine_store, engine_config).await?;
    if let Some(ready) = hooks.ready {
        ready(engine.clone());
    }

    let jwt = JwtCodec::new(JwtConfig {
        secret,
        issuer: kalamdb_auth::DEFAULT_ISSUER.to_string(),
        trusted_issuers: config.auth.jwt_trusted_issuers.clone(),
        access_ttl_secs: config.auth.jwt_expiry_hours.saturating_mul(3600),
    });
    let api_config = ApiConfig {
        max_body_bytes: config.security.max_request_body_size,
        cors_origins: config.security.cors_origins.clone(),
        cookie_secure: config.auth.cookie_secure,
        allow_remote_setup: config.auth.allow_remote_setup,
        ws: kalamdb_api::WsConfig {
            auth_timeout: Duration::from_secs(config.websocket.auth_timeout_secs.max(1)),
            // The Rust client pings every ~9 s: a shorter timeout would cut
            // healthy connections (§6.10).
            client_timeout: Duration::from_secs(config.websocket.client_timeout_secs.max(10)),
            heartbeat_interval: Duration::from_secs(
                config.websocket.heartbeat_interval_secs.max(1),
            ),
            max_message_bytes: config.security.max_ws_message_size.max(1024),
            max_pending_messages: config.websocket.max_pending_messages.max(1),
            strict_origin_check: config.security.strict_ws_origin_check,
            max_connections_per_ip: config.rate_limit.max_ws_connections_per_ip,
            max_messages_per_second: config.rate_limit.max_ws_messages_per_second,
        },
        auth_attempts_per_minute: config.rate_limit.auth_attempts_per_minute,
        queries_per_second: config.rate_limit.max_queries_per_second,
    };
    let state = Arc::new(AppState::new(engine, jwt, api_config));
    let app = kalamdb_api::app(state.clone());
    // Shutdown first closes live connections (1001), which graceful
    // shutdown would otherwise wait on forever.
    let live = state.engine.live().clone();
    let shutdown = async move {
        shutdown.await;
        live.shutdown();
    };
    tracing::info!(
        addr = %bind,
        data_dir = %data_dir.display(),
        durable = config.storage.sync_writes,
        "kalamdb-server listening"
    );
    // Small frames (live changes, short answers) must not wait for Nagle's
    // algorithm to coalesce them with the next write (~40 ms stalls).
    let listener = axum::serve::ListenerExt::tap_io(
        kalamdb_api::LimitedListener::new(listener, config.rate_limit.max_connections_per_ip),
        |conn: &mut kalamdb_api::Connection| {
            if let Err(e) = conn.stream().set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        },
    );
    axum::serve(
        listener,
        axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(app),
    )
    .with_graceful_shutdown(shutdown)
    .await?;

    // Release every engine reference (the committer thread exits when the
    // last one is gone), then close RocksDB so a restart in the same process
    // can take its lock.
    drop(state);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while Arc::strong_count(&store) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let flushed = tokio::task::spawn_blocking(move || {
        let result = store.flush();
        drop(store);
        result
    })
    .await
    .map_err(|e| ServerError::Config(e.to_string()))?;
    flushed?;
    tracing::info!("kalamdb-server stopped");
    Ok(())
}

/// The configured secret, or the one generated on first start and kept in
/// the data directory (never a hard-coded default).
fn jwt_secret(
    config: &ServerConfig,
    data_dir: &Path,
    bind: &SocketAddr,
) -> Result<Vec<u8>, ServerError> {
    if let Some(secret) = config.auth.jwt_secret.as_ref().filter(|s| !s.is_empty()) {
        let weak = secret.len() < 32 || KNOWN_DEFAULT_SECRETS.contains(&secret.as_str());
        if weak && !bind.ip().is_loopback() {
            return Err(ServerError::Config(
                "auth.jwt_secret must be at least 32 bytes and not a known default on a non-loopback bind".into(),
            ));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt_secret");
    let data_err = |e: std::io::Error| ServerError::DataDir {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(ServerError::Config(format!(
                "{} is too short",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(data_err(e)),
    }
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = data_dir.join("jwt_secret.tmp");
    write_private(&tmp, &hex).map_err(data_err)?;
    std::fs::rename(&tmp, &path).map_err(data_err)?;
    Ok(hex.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}
