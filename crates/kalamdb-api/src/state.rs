//! What every handler shares: the engine, the token codec, the Basic cache,
//! the limiters and the API's configuration. How a request is authenticated
//! against it lives in `authenticate.rs`.

use std::sync::Arc;
use std::time::Duration;

use kalamdb_auth::{BasicAuthCache, JwtCodec};
use kalamdb_core::Engine;
use kalamdb_types::UserId;
use tokio::sync::Semaphore;

use crate::config::ApiConfig;
use crate::limits::{ConnectionSlots, IpRateLimiter, RateLimiter};
use crate::token_cache::TokenCache;

pub struct AppState {
    pub engine: Engine,
    pub jwt: JwtCodec,
    pub basic_cache: BasicAuthCache,
    pub config: ApiConfig,
    /// Argon2 verifications in flight, at most one per core (§5.4): a login
    /// flood queues here instead of exhausting memory and CPU.
    pub verify_slots: Semaphore,
    pub auth_limiter: IpRateLimiter,
    pub ws_slots: Arc<ConnectionSlots>,
    pub query_limiter: RateLimiter<UserId>,
    /// Access tokens already verified (`token_cache.rs`).
    pub tokens: TokenCache,
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
            auth_limiter: IpRateLimiter::new(
                config.auth_attempts_per_minute,
                Duration::from_secs(60),
            ),
            ws_slots: ConnectionSlots::new(config.ws.max_connections_per_ip),
            query_limiter: RateLimiter::new(config.queries_per_second, Duration::from_secs(1)),
            tokens: TokenCache::default(),
            config,
            verify_slots: Semaphore::new(cores),
        }
    }
}
