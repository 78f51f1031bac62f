//! KalamDB's HTTP API.
//!
//! Owns the axum router (`/v1/api/sql`, `/v1/api/auth/*`, `/v1/api/jobs`,
//! `/v1/ws`, health), request decoding, authentication of requests
//! (composing `kalamdb-auth` with the engine's users), the wire encoding of
//! results (`encode`) and the error envelopes of `wire-protocol.md` §4.
//!
//! It must not touch storage or plan queries: everything goes through
//! [`kalamdb_core::Engine`], so the wire contract can change without the
//! engine noticing and the reverse.

mod auth;
mod authenticate;
mod config;
pub mod encode;
mod error;
mod health;
mod jobs;
pub mod limits;
mod listener;
mod sql;
mod state;
mod token_cache;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use tower::Layer;
use tower::util::MapRequestLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::{ApiConfig, WsConfig};
pub use error::{ApiError, AuthEndpointError};
pub use listener::{Connection, LimitedListener};
pub use state::{AppState, SharedState};

/// The whole HTTP service, served with
/// `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`.
/// Builds the app: routes, CORS, and `//` → `/` path normalisation (applied
/// before routing, so a base URL ending in `/` still works).
pub fn app(
    state: SharedState,
) -> impl tower::Service<
    Request<axum::body::Body>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    let cors = cors_layer(&state.config);
    let routes = Router::new()
        .route("/health", get(health::health))
        .route("/v1/api/healthcheck", get(health::health))
        .route("/v1/api/sql", post(sql::execute_sql))
        .route("/v1/api/auth/login", post(auth::login))
        .route("/v1/api/auth/refresh", post(auth::refresh))
        .route("/v1/api/auth/me", get(auth::me))
        .route("/v1/api/auth/logout", post(auth::logout))
        .route("/v1/api/auth/status", get(auth::status))
        .route("/v1/api/auth/setup", post(auth::setup))
        .route("/v1/api/jobs/{job_id}", get(jobs::get_job))
        .route("/v1/ws", get(ws::upgrade))
        .fallback(not_found)
        // The SQL handler enforces its own limit with a JSON 413.
        .layer(DefaultBodyLimit::disable())
        .layer(cors)
        .with_state(state);
    MapRequestLayer::new(normalize_path).layer(routes)
}

async fn not_found() -> Response {
    error::kind_response(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
}

fn normalize_path<B>(mut req: Request<B>) -> Request<B> {
    let path = req.uri().path();
    if path.contains("//") {
        let mut collapsed = String::with_capacity(path.len());
        for c in path.chars() {
            if !(c == '/' && collapsed.ends_with('/')) {
                collapsed.push(c);
            }
        }
        let pq = match req.uri().query() {
            Some(q) => format!("{collapsed}?{q}"),
            None => collapsed,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

fn cors_layer(config: &ApiConfig) -> CorsLayer {
    let origins = if config.any_origin() {
        // Credentials are allowed, so "any" must echo the origin rather than send `*`.
        AllowOrigin::mirror_request()
    } else {
        let list: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        AllowOrigin::list(list)
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .allow_credentials(true)
}
