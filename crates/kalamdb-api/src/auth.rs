//! The `/v1/api/auth/*` endpoints: login, refresh, me, logout, status and
//! first-run setup. Checking credentials is `authenticate.rs`'s; this file
//! owns the bodies, cookies and the `{"error","message"}` envelope they are
//! answered with (§5.2).
//!
//! **(ours)** Logout revokes the tokens it is shown (cookies or Bearer) until
//! they expire, so a token replayed after logout is refused.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kalamdb_auth::{Credentials, JWT_LEEWAY_SECS, TokenType};
use kalamdb_core::{SetupOutcome, UserRecord};
use kalamdb_types::{LoginRequest, Role, SetupRequest, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authenticate::{AuthFailure, is_loopback, rfc3339};
use crate::error::AuthEndpointError;
use crate::state::{AppState, SharedState};

fn rfc3339_secs(secs: i64) -> String {
    rfc3339(secs.saturating_mul(1_000_000))
}

fn user_info(user: &UserRecord) -> Value {
    json!({
        "id": user.user_id.as_str(),
        "role": user.role.as_str(),
        "email": user.email,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
    })
}

/// The token-pair body of login and refresh, with its cookies.
fn token_response(app: &AppState, user: &UserRecord) -> Result<Response, AuthEndpointError> {
    let issue = |t| {
        app.jwt
            .issue(&user.user_id, user.role, user.email.as_deref(), t)
            .map_err(|e| AuthEndpointError::Internal(e.to_string()))
    };
    let access = issue(TokenType::Access)?;
    let refresh = issue(TokenType::Refresh)?;
    let body = json!({
        "user": user_info(user),
        "admin_ui_access": user.role.is_admin(),
        "expires_at": rfc3339_secs(access.expires_at),
        "access_token": access.token,
        "refresh_token": refresh.token,
        "refresh_expires_at": rfc3339_secs(refresh.expires_at),
    });
    let now_secs = kalamdb_types::now_micros() / 1_000_000;
    let mut resp = Json(body).into_response();
    let headers = resp.headers_mut();
    for (name, token, exp) in [
        ("kalamdb_auth", &access.token, access.expires_at),
        ("kalamdb_refresh", &refresh.token, refresh.expires_at),
    ] {
        headers.append(
            header::SET_COOKIE,
            cookie(app, name, token, exp - now_secs)?,
        );
    }
    Ok(resp)
}

fn cookie(
    app: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, AuthEndpointError> {
    let secure = if app.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| AuthEndpointError::Internal(e.to_string()))
}

/// Reads a JSON body under the configured size limit (413 beyond it).
async fn parse_json<T: for<'de> Deserialize<'de>>(
    app: &AppState,
    body: axum::body::Body,
) -> Result<T, AuthEndpointError> {
    let limit = app.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AuthEndpointError::PayloadTooLarge(format!(
            "Request body exceeds the limit of {limit} bytes"
        ))
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AuthEndpointError::BadRequest(format!("Invalid JSON payload: {e}")))
}

pub async fn login(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Body,
) -> Result<Response, AuthEndpointError> {
    let req: LoginRequest = parse_json(&app, body).await?;
    if req.user.is_empty() || req.user.len() > 128 || req.password.len() > 256 {
        return Err(AuthFailure::Invalid.into());
    }
    let user = app
        .verify_password(&req.user, &req.password, peer, true)
        .await?;
    token_response(&app, &user)
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    match kalamdb_auth::parse_authorization(v).ok()? {
        Credentials::Bearer(t) => Some(t),
        Credentials::Basic { .. } => None,
    }
}

pub async fn refresh(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AuthEndpointError> {
    app.count_auth_attempt(peer)?;
    let token = cookie_value(&headers, "kalamdb_refresh")
        .or_else(|| bearer(&headers))
        .ok_or(AuthFailure::Invalid)?;
    let user = app.user_for_token(&token, TokenType::Refresh)?;
    token_response(&app, &user)
}

pub async fn me(
    State(app): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, AuthEndpointError> {
    let token = bearer(&headers)
        .or_else(|| cookie_value(&headers, "kalamdb_auth"))
        .ok_or(AuthFailure::Invalid)?;
    let user = app.user_for_token(&token, TokenType::Access)?;
    Ok(
        Json(json!({"user": user_info(&user), "admin_ui_access": user.role.is_admin()}))
            .into_response(),
    )
}

/// Logout needs no credentials and always answers the same (§5.2). Tokens it
/// is shown that verify are revoked until their `exp`; anything else it is
/// shown (garbage, expired or foreign tokens) is ignored.
pub async fn logout(
    State(app): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, AuthEndpointError> {
    let shown = [
        (
            cookie_value(&headers, "kalamdb_refresh"),
            TokenType::Refresh,
        ),
        (cookie_value(&headers, "kalamdb_auth"), TokenType::Access),
        (bearer(&headers), TokenType::Access),
        (bearer(&headers), TokenType::Refresh),
    ];
    let mut revoke = Vec::new();
    for (token, token_type) in shown {
        let Some(token) = token else { continue };
        let Ok(claims) = app.jwt.verify(&token, token_type) else {
            continue;
        };
        let digest = kalamdb_auth::token_digest(&token);
        if !app.engine.is_token_revoked(&digest) && !revoke.iter().any(|(d, _)| *d == digest) {
            // Verification tolerates the leeway past `exp`; so must the list.
            revoke.push((digest, claims.exp.saturating_add(JWT_LEEWAY_SECS)));
        }
    }
    if let Err(e) = app.engine.revoke_tokens(revoke).await {
        // The tokens are refused already (the in-memory list is updated
        // first); only their survival across a restart is in doubt.
        tracing::error!(error = %e, "could not persist revoked tokens");
    }
    let mut resp = Json(json!({"message": "Logged out successfully"})).into_response();
    for name in ["kalamdb_auth", "kalamdb_refresh"] {
        resp.headers_mut()
            .append(header::SET_COOKIE, cookie(&app, name, "", 0)?);
    }
    Ok(resp)
}

fn root_needs_setup(app: &AppState) -> Result<bool, AuthEndpointError> {
    Ok(app
        .engine
        .user(&UserId::root())
        .map_err(|e| AuthEndpointError::Internal(e.to_string()))?
        .is_some_and(|r| r.password_hash.is_none()))
}

fn check_setup_peer(app: &AppState, peer: &SocketAddr) -> Result<(), AuthEndpointError> {
    if is_loopback(peer) || app.config.allow_remote_setup {
        Ok(())
    } else {
        Err(AuthEndpointError::Forbidden(
            "Setup is only available from localhost".into(),
        ))
    }
}

pub async fn status(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, AuthEndpointError> {
    check_setup_peer(&app, &peer)?;
    app.count_auth_attempt(peer)?;
    let body = if root_needs_setup(&app)? {
        json!({"needs_setup": true, "message": "Server requires initial setup. Set a root password and create a DBA user with POST /v1/api/auth/setup."})
    } else {
        json!({"needs_setup": false, "message": "Server is configured and ready."})
    };
    Ok(Json(body).into_response())
}

pub async fn setup(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Body,
) -> Result<Response, AuthEndpointError> {
    check_setup_peer(&app, &peer)?;
    let req: SetupRequest = parse_json(&app, body).await?;
    let internal = |e: kalamdb_core::KalamError| AuthEndpointError::Internal(e.to_string());
    let already = || AuthEndpointError::AlreadyConfigured("Server is already configured".into());
    if !root_needs_setup(&app)? {
        return Err(already());
    }
    let id = UserId::parse(&req.user)
        .ok()
        .filter(|u| !u.is_root() && !u.as_str().eq_ignore_ascii_case("anonymous"))
        .ok_or_else(|| {
            AuthEndpointError::InvalidUser(format!("Invalid user name '{}'", req.user))
        })?;
    let exists = || AuthEndpointError::UserExists(format!("User '{id}' already exists"));
    if app.engine.user(&id).map_err(internal)?.is_some() {
        return Err(exists());
    }
    for pw in [&req.password, &req.root_password] {
        kalamdb_auth::check_password_policy(pw)
            .map_err(|e| AuthEndpointError::WeakPassword(e.to_string()))?;
    }
    let hash = |p: String| async move { kalamdb_core::hash_password(p).await.map_err(internal) };
    let admin = UserRecord::new(
        id.clone(),
        Role::Dba,
        Some(hash(req.password).await?),
        req.email,
    );
    let root_hash = hash(req.root_password).await?;
    // Re-checked inside one commit: of two racing setups, one wins.
    match app
        .engine
        .complete_setup(admin.clone(), root_hash)
        .await
        .map_err(internal)?
    {
        SetupOutcome::Done => {}
        SetupOutcome::AlreadyConfigured => return Err(already()),
        SetupOutcome::UserExists => return Err(exists()),
    }
    Ok(Json(json!({
        "user": user_info(&admin),
        "message": format!("Server setup complete. Root password configured and DBA user '{id}' created. Please login to continue."),
    }))
    .into_response())
}
