//! The API's error envelopes: the SQL one (`ApiError`, `wire-protocol.md`
//! §4) and the `{"error","message"}` one of the auth endpoints (§5.2). One
//! variant per failure a client can see, mapped exhaustively to a wire code
//! and status, so a new failure cannot reach the wire without both.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kalamdb_core::KalamError;
use kalamdb_types::ErrorCode;
use serde_json::json;

/// An error answered with the SQL envelope
/// `{"status":"error","results":[],"took":…,"error":{code,message,details?}}`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<String>,
    pub took_ms: f64,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            took_ms: 0.0,
        }
    }

    pub fn from_kalam(e: &KalamError, caller_is_admin: bool) -> Self {
        let code = e.code();
        let message = if code == ErrorCode::InternalError && !caller_is_admin {
            "Internal server error".to_string()
        } else {
            e.to_string()
        };
        Self::new(code, message)
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.code.as_str()));
        error.insert("message".into(), json!(self.message));
        if let Some(d) = &self.details {
            error.insert("details".into(), json!(d));
        }
        json!({"status": "error", "results": [], "took": round3(self.took_ms), "error": error})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

/// Errors of the `/v1/api/auth/*` endpoints, which use
/// `{"error":"<kind>","message":"…"}` instead of the SQL envelope (§5.2).
#[derive(Debug, thiserror::Error)]
pub enum AuthEndpointError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    AccountLocked(String),
    #[error("{0}")]
    SetupRequired(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    AlreadyConfigured(String),
    #[error("{0}")]
    UserExists(String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("{0}")]
    InvalidUser(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Internal(String),
}

impl AuthEndpointError {
    fn kind_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            AuthEndpointError::Unauthorized(_) => ("unauthorized", StatusCode::UNAUTHORIZED),
            AuthEndpointError::AccountLocked(_) => ("account_locked", StatusCode::UNAUTHORIZED),
            AuthEndpointError::SetupRequired(_) => {
                ("setup_required", StatusCode::PRECONDITION_REQUIRED)
            }
            AuthEndpointError::Forbidden(_) => ("forbidden", StatusCode::FORBIDDEN),
            AuthEndpointError::AlreadyConfigured(_) => ("already_configured", StatusCode::CONFLICT),
            AuthEndpointError::UserExists(_) => ("user_exists", StatusCode::CONFLICT),
            AuthEndpointError::WeakPassword(_) => ("weak_password", StatusCode::BAD_REQUEST),
            AuthEndpointError::InvalidUser(_) => ("invalid_user", StatusCode::BAD_REQUEST),
            AuthEndpointError::BadRequest(_) => ("bad_request", StatusCode::BAD_REQUEST),
            AuthEndpointError::PayloadTooLarge(_) => {
                ("invalid_input", StatusCode::PAYLOAD_TOO_LARGE)
            }
            AuthEndpointError::RateLimited(_) => ("rate_limited", StatusCode::TOO_MANY_REQUESTS),
            AuthEndpointError::Internal(_) => ("internal_error", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for AuthEndpointError {
    fn into_response(self) -> Response {
        let (kind, status) = self.kind_and_status();
        kind_response(status, kind, &self.to_string())
    }
}

/// The `{"error":"<kind>","message":"…"}` envelope, shared by the auth
/// endpoints, unknown routes and refused WebSocket upgrades so their bodies
/// cannot drift apart.
pub fn kind_response(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": kind, "message": message})),
    )
        .into_response()
}

pub fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
