//! What every handler shares: the engine, the token codec, the Basic cache
//! and the API's configuration.

use std::sync::Arc;

use kalamdb_auth::{BasicAuthCache, JwtCodec};
use kalamdb_core::Engine;
use tokio::sync::Semaphore;

/// API settings (the server maps its config here).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `security.max_request_body_size`: larger bodies get 413.
    pub max_body_bytes: usize,
    /// CORS origins; empty or `*` means any.
    pub cors_origins: Vec<String>,
    pub cookie_secure: bool,
    pub allow_remote_setup: bool,
    pub ws: crate::ws::WsConfig,
    /// Password checks (login, refresh, setup, uncached Basic) per address
    /// per minute; 0 = no limit.
    pub auth_attempts_per_minute: u32,
    /// `rate_limit.max_queries_per_second`: SQL requests per user (0 = off).
    pub queries_per_second: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            cors_origins: Vec::new(),
            cookie_secure: false,
            allow_remote_setup: false,
            ws: crate::ws::WsConfig::default(),
            auth_attempts_per_minute: 0,
            queries_per_second: 0,
        }
    }
}

pub struct AppState {
    pub engine: Engine,
    pub jwt: JwtCodec,
    pub basic_cache: BasicAuthCache,
    pub config: ApiConfig,
    /// Argon2 verifications in flight, at most one per core (§5.4): a login
    /// flood queues here instead of exhausting memory and CPU.
    pub verify_slots: Semaphore,
    pub auth_limiter: crate::limits::IpRateLimiter,
    pub ws_slots: std::sync::Arc<crate::limits::ConnectionSlots>,
    pub query_limiter: crate::limits::RateLimiter<kalamdb_types::UserId>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(engine: Engine, jwt: JwtCodec, config: ApiConfig) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            engine,
            jwt,
            basic_cache: BasicAuthCache::new(kalamdb_auth::BASIC_CACHE_MAX_TTL),
            auth_limiter: crate::limits::IpRateLimiter::new(
                config.auth_attempts_per_minute,
                std::time::Duration::from_secs(60),
            ),
            ws_slots: crate::limits::ConnectionSlots::new(config.ws.max_connections_per_ip),
            query_limiter: crate::limits::RateLimiter::new(
                config.queries_per_second,
                std::time::Duration::from_secs(1),
            ),
            config,
            verify_slots: Semaphore::new(cores),
        }
    }
}
