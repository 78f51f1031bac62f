//! `GET /health` and `GET /v1/api/healthcheck` (`wire-protocol.md` §2):
//! loopback peers only.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn health(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "Access denied. Health endpoint is localhost-only."})),
        )
            .into_response();
    }
    Json(json!({
        "status": "healthy",
        "version": env!("CARGO_PKG_VERSION"),
        "api_version": "v1",
        "build_date": option_env!("KALAMDB_BUILD_DATE").unwrap_or("unknown"),
    }))
    .into_response()
}
