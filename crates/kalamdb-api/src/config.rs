//! The API's settings: [`ApiConfig`] for HTTP and [`WsConfig`] for
//! WebSocket sessions. The server maps its own configuration file onto
//! these; the API never reads configuration from anywhere else.

use std::time::Duration;

/// API settings (the server maps its config here).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `security.max_request_body_size`: larger bodies get 413.
    pub max_body_bytes: usize,
    /// CORS origins; empty or `*` means any.
    pub cors_origins: Vec<String>,
    pub cookie_secure: bool,
    pub allow_remote_setup: bool,
    pub ws: WsConfig,
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
            ws: WsConfig::default(),
            auth_attempts_per_minute: 0,
            queries_per_second: 0,
        }
    }
}

impl ApiConfig {
    /// Whether every origin is allowed; one reading of the list, so CORS
    /// and the WebSocket `Origin` check cannot disagree about it.
    pub(crate) fn any_origin(&self) -> bool {
        self.cors_origins.is_empty() || self.cors_origins.iter().any(|o| o == "*")
    }
}

/// WebSocket settings (`websocket.*`, `security.*` in the server config).
#[derive(Debug, Clone)]
pub struct WsConfig {
    pub auth_timeout: Duration,
    pub client_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub max_message_bytes: usize,
    pub max_pending_messages: usize,
    pub strict_origin_check: bool,
    /// Open connections per client address; 0 = no limit.
    pub max_connections_per_ip: usize,
    /// Inbound messages per connection per second; 0 = no limit.
    pub max_messages_per_second: u32,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            auth_timeout: Duration::from_secs(3),
            client_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(5),
            max_message_bytes: 1024 * 1024,
            max_pending_messages: 10_000,
            strict_origin_check: false,
            max_connections_per_ip: 0,
            max_messages_per_second: 0,
        }
    }
}
