//! Turning credentials into a [`Caller`], and the `/v1/api/auth/*` endpoints.
//!
//! Every path that checks a password goes through [`AppState::verify_password`]:
//! unknown users burn the same Argon2 work as known ones (no timing oracle),
//! five consecutive failures lock the account for 15 minutes, and verifications
//! run on the blocking pool, at most one per core. A successful Basic check is
//! remembered for up to 60 s (keyed hash, never the password) so `curl -u`
//! sessions do not pay Argon2 on every request.
//!
//! **(ours)** Logout revokes the tokens it is shown (cookies or Bearer) until
//! they expire; every token check consults that list, so a refresh or access
//! token replayed after logout is refused like a forged one.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, TimeZone, Utc};
use kalamdb_auth::{AuthError, Credentials, JWT_LEEWAY_SECS, TokenType};
use kalamdb_core::{Caller, SetupOutcome, UserRecord};
use kalamdb_types::{ErrorCode, LoginRequest, Role, SetupRequest, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, AuthEndpointError};
use crate::state::SharedState;

const LOCKOUT_THRESHOLD: u32 = 5;
const RATE_LIMITED: &str = "Too many authentication attempts from this address; retry in a minute";
const LOCKOUT_MICROS: i64 = 15 * 60 * 1_000_000;

/// Why a request could not be authenticated.
#[derive(Debug)]
pub enum AuthFailure {
    Missing,
    Invalid,
    Expired,
    Locked(i64),
    SetupRequired,
    RemoteDenied,
    /// Too many password checks from this address (`[rate_limit]`).
    RateLimited,
    Internal(String),
}

impl AuthFailure {
    /// The `/v1/api/sql` answer (SQL envelope, so clients can branch on
    /// `TOKEN_EXPIRED`).
    pub fn api_error(&self) -> ApiError {
        match self {
            AuthFailure::Missing => {
                ApiError::new(ErrorCode::MissingAuthorization, "Authentication required")
            }
            AuthFailure::Invalid => {
                ApiError::new(ErrorCode::InvalidCredentials, "Invalid credentials")
            }
            AuthFailure::Expired => ApiError::new(ErrorCode::TokenExpired, "Token expired"),
            AuthFailure::Locked(until) => ApiError::new(
                ErrorCode::AccountLocked,
                format!("Account locked until {}", rfc3339(*until)),
            ),
            AuthFailure::SetupRequired => ApiError::new(
                ErrorCode::SetupRequired,
                "Server requires initial setup: root has no password. Use POST /v1/api/auth/setup.",
            ),
            AuthFailure::RemoteDenied => ApiError::new(
                ErrorCode::RemoteAccessDenied,
                "A system user without a password may only connect from localhost",
            ),
            AuthFailure::RateLimited => ApiError::new(ErrorCode::RateLimitExceeded, RATE_LIMITED),
            AuthFailure::Internal(_) => {
                ApiError::new(ErrorCode::AuthenticationError, "Authentication error")
            }
        }
    }

    fn endpoint_error(&self) -> AuthEndpointError {
        match self {
            AuthFailure::Missing | AuthFailure::Invalid => {
                AuthEndpointError::Unauthorized("Invalid credentials".into())
            }
            AuthFailure::Expired => AuthEndpointError::Unauthorized("Token expired".into()),
            AuthFailure::Locked(until) => AuthEndpointError::AccountLocked(format!(
                "Account locked until {}",
                rfc3339(*until)
            )),
            AuthFailure::SetupRequired => AuthEndpointError::SetupRequired(
                "Server requires initial setup: root has no password. Use POST /v1/api/auth/setup."
                    .into(),
            ),
            AuthFailure::RemoteDenied => AuthEndpointError::Forbidden(
                "A system user without a password may only connect from localhost".into(),
            ),
            AuthFailure::RateLimited => AuthEndpointError::RateLimited(RATE_LIMITED.into()),
            AuthFailure::Internal(m) => AuthEndpointError::Internal(m.clone()),
        }
    }
}

pub fn rfc3339(micros: i64) -> String {
    Utc.timestamp_micros(micros)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

fn rfc3339_secs(secs: i64) -> String {
    rfc3339(secs.saturating_mul(1_000_000))
}

pub fn is_loopback(peer: &SocketAddr) -> bool {
    peer.ip().is_loopback()
}

impl crate::state::AppState {
    /// Authenticates `/v1/api/sql`: Bearer JWT or Basic.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
    ) -> Result<Caller, AuthFailure> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(AuthFailure::Missing);
        };
        let value = value.to_str().map_err(|_| AuthFailure::Invalid)?;
        match kalamdb_auth::parse_authorization(value).map_err(|_| AuthFailure::Invalid)? {
            Credentials::Bearer(token) => {
                let user = self.user_for_token(&token, TokenType::Access)?;
                Ok(Caller::new(user.user_id, user.role))
            }
            Credentials::Basic { user, password } => {
                let record = self.verify_password(&user, &password, peer, false).await?;
                Ok(Caller::new(record.user_id, record.role))
            }
        }
    }

    /// Validates a JWT and re-checks it against the stored user: it must
    /// exist, not be deleted or locked, and still have the token's role.
    pub fn user_for_token(
        &self,
        token: &str,
        expected: TokenType,
    ) -> Result<UserRecord, AuthFailure> {
        let claims = self.jwt.verify(token, expected).map_err(|e| match e {
            AuthError::TokenExpired => AuthFailure::Expired,
            _ => AuthFailure::Invalid,
        })?;
        // After the signature check: an unsigned string never costs a hash.
        if self
            .engine
            .is_token_revoked(&kalamdb_auth::token_digest(token))
        {
            return Err(AuthFailure::Invalid);
        }
        let id = UserId::parse(&claims.sub).map_err(|_| AuthFailure::Invalid)?;
        let user = self
            .engine
            .catalog()
            .user(&id)
            .map_err(|e| AuthFailure::Internal(e.to_string()))?
            .ok_or(AuthFailure::Invalid)?;
        if !user.is_active() {
            return Err(AuthFailure::Invalid);
        }
        if let Some(until) = user.locked_until
            && until > kalamdb_types::now_micros()
        {
            return Err(AuthFailure::Locked(until));
        }
        if claims.role.is_some_and(|r| r != user.role) {
            return Err(AuthFailure::Invalid);
        }
        Ok(user)
    }

    /// Checks a user's password (login, Basic). `is_login` also records
    /// `last_login_at`.
    pub async fn verify_password(
        &self,
        user: &str,
        password: &str,
        peer: SocketAddr,
        is_login: bool,
    ) -> Result<UserRecord, AuthFailure> {
        // Counted before any Argon2 work; a Basic check answered from the
        // cache costs nothing and is not counted.
        let limit = || {
            if self.auth_limiter.allow(peer.ip()) {
                Ok(())
            } else {
                Err(AuthFailure::RateLimited)
            }
        };
        if is_login {
            limit()?;
        }
        let record = match UserId::parse(user) {
            Ok(id) => self
                .engine
                .catalog()
                .user(&id)
                .map_err(|e| AuthFailure::Internal(e.to_string()))?,
            Err(_) => None,
        };
        let Some(record) = record.filter(UserRecord::is_active) else {
            if !is_login {
                limit()?;
            }
            return Err(self.refuse_after_dummy_work(password).await);
        };
        let now = kalamdb_types::now_micros();
        if let Some(until) = record.locked_until
            && until > now
        {
            return Err(AuthFailure::Locked(until));
        }
        let Some(hash) = record.password_hash.clone() else {
            // Without a password nobody logs in: root awaits first-run setup
            // (offered on loopback only), `WITH INTERNAL ROLE` users never
            // log in, and remote peers learn no more than that (§5.5).
            return Err(match (record.role, is_loopback(&peer)) {
                (Role::System, false) => AuthFailure::RemoteDenied,
                (_, true) if record.user_id.is_root() => AuthFailure::SetupRequired,
                _ => self.refuse_after_dummy_work(password).await,
            });
        };
        // Bound to the stored hash: a changed password misses the cache at
        // once, whatever verification was in flight when it changed.
        let cached = !is_login && self.basic_cache.check(user, &hash, password);
        let ok = if cached {
            true
        } else {
            if !is_login {
                limit()?;
            }
            let pw = password.to_string();
            let _permit = self
                .verify_slots
                .acquire()
                .await
                .map_err(|e| AuthFailure::Internal(e.to_string()))?;
            let stored = hash.clone();
            tokio::task::spawn_blocking(move || kalamdb_auth::verify_password(&pw, &stored))
                .await
                .map_err(|e| AuthFailure::Internal(e.to_string()))?
                .map_err(|e| AuthFailure::Internal(e.to_string()))?
        };
        let internal = |e: kalamdb_core::KalamError| AuthFailure::Internal(e.to_string());
        if !ok {
            // Counted on the current record inside the commit, so parallel
            // guesses cannot each see "0 failures" and never trip the lockout.
            self.engine
                .update_user(&record.user_id, move |r| {
                    r.failed_login_attempts += 1;
                    if r.failed_login_attempts >= LOCKOUT_THRESHOLD {
                        r.locked_until = Some(now + LOCKOUT_MICROS);
                        r.failed_login_attempts = 0;
                    }
                    r.updated_at = now;
                    Ok(())
                })
                .await
                .map_err(internal)?;
            return Err(AuthFailure::Invalid);
        }
        if !cached {
            self.basic_cache.remember(user, &hash, password);
        }
        if record.failed_login_attempts > 0 || record.locked_until.is_some() || is_login {
            let updated = self
                .engine
                .update_user(&record.user_id, move |r| {
                    r.failed_login_attempts = 0;
                    r.locked_until = None;
                    if is_login {
                        r.last_login_at = Some(now);
                    }
                    Ok(())
                })
                .await
                .map_err(internal)?;
            return updated.ok_or(AuthFailure::Invalid);
        }
        Ok(record)
    }

    /// Answers "invalid credentials" only after as much Argon2 work as a real
    /// check, so response time does not tell which accounts exist.
    async fn refuse_after_dummy_work(&self, password: &str) -> AuthFailure {
        let password = password.to_string();
        let Ok(_permit) = self.verify_slots.acquire().await else {
            return AuthFailure::Internal("verification slots closed".into());
        };
        let _ = tokio::task::spawn_blocking(move || kalamdb_auth::verify_dummy(&password)).await;
        AuthFailure::Invalid
    }

    fn user_info(&self, user: &UserRecord) -> Value {
        json!({
            "id": user.user_id.as_str(),
            "role": user.role.as_str(),
            "email": user.email,
            "created_at": rfc3339(user.created_at),
            "updated_at": rfc3339(user.updated_at),
        })
    }

    /// The token-pair body of login and refresh, with its cookies.
    fn token_response(&self, user: &UserRecord) -> Result<Response, AuthEndpointError> {
        let issue = |t| {
            self.jwt
                .issue(&user.user_id, user.role, user.email.as_deref(), t)
                .map_err(|e| AuthEndpointError::Internal(e.to_string()))
        };
        let access = issue(TokenType::Access)?;
        let refresh = issue(TokenType::Refresh)?;
        let body = json!({
            "user": self.user_info(user),
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
                self.cookie(name, token, exp - now_secs)?,
            );
        }
        Ok(resp)
    }

    fn cookie(
        &self,
        name: &str,
        value: &str,
        max_age: i64,
    ) -> Result<HeaderValue, AuthEndpointError> {
        let secure = if self.config.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        HeaderValue::from_str(&format!(
            "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
        ))
        .map_err(|e| AuthEndpointError::Internal(e.to_string()))
    }
}

/// Reads a JSON body under the configured size limit (413 beyond it).
async fn parse_json<T: for<'de> Deserialize<'de>>(
    app: &crate::state::AppState,
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
        return Err(AuthEndpointError::Unauthorized(
            "Invalid credentials".into(),
        ));
    }
    let user = app
        .verify_password(&req.user, &req.password, peer, true)
        .await
        .map_err(|f| f.endpoint_error())?;
    app.token_response(&user)
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
    if !app.auth_limiter.allow(peer.ip()) {
        return Err(AuthFailure::RateLimited.endpoint_error());
    }
    let token = cookie_value(&headers, "kalamdb_refresh")
        .or_else(|| bearer(&headers))
        .ok_or_else(|| AuthEndpointError::Unauthorized("Invalid credentials".into()))?;
    let user = app
        .user_for_token(&token, TokenType::Refresh)
        .map_err(|f| f.endpoint_error())?;
    app.token_response(&user)
}

pub async fn me(
    State(app): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, AuthEndpointError> {
    let token = bearer(&headers)
        .or_else(|| cookie_value(&headers, "kalamdb_auth"))
        .ok_or_else(|| AuthEndpointError::Unauthorized("Invalid credentials".into()))?;
    let user = app
        .user_for_token(&token, TokenType::Access)
        .map_err(|f| f.endpoint_error())?;
    Ok(
        Json(json!({"user": app.user_info(&user), "admin_ui_access": user.role.is_admin()}))
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
            .append(header::SET_COOKIE, app.cookie(name, "", 0)?);
    }
    Ok(resp)
}

fn root_needs_setup(app: &crate::state::AppState) -> Result<bool, AuthEndpointError> {
    Ok(app
        .engine
        .catalog()
        .user(&UserId::root())
        .map_err(|e| AuthEndpointError::Internal(e.to_string()))?
        .is_some_and(|r| r.password_hash.is_none()))
}

fn check_setup_peer(
    app: &crate::state::AppState,
    peer: &SocketAddr,
) -> Result<(), AuthEndpointError> {
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
    if !app.auth_limiter.allow(peer.ip()) {
        return Err(AuthFailure::RateLimited.endpoint_error());
    }
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
    if app.engine.catalog().user(&id).map_err(internal)?.is_some() {
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
        "user": app.user_info(&admin),
        "message": format!("Server setup complete. Root password configured and DBA user '{id}' created. Please login to continue."),
    }))
    .into_response())
}
