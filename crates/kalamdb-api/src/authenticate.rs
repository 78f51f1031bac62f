//! How a request is authenticated: credentials (Bearer JWT or Basic) become
//! a stored [`UserRecord`] or an [`AuthFailure`], and each failure has one
//! answer per envelope (SQL and `/v1/api/auth/*`).
//!
//! Every path that checks a password goes through [`AppState::verify_password`]:
//! unknown users burn the same Argon2 work as known ones (no timing oracle),
//! five consecutive failures lock the account for 15 minutes, and verifications
//! run on the blocking pool, at most one per core. A successful Basic check is
//! remembered for up to 60 s (keyed hash, never the password) so `curl -u`
//! sessions do not pay Argon2 on every request.
//!
//! **(ours)** Every token check consults the list of tokens revoked by
//! logout, so a refresh or access token replayed after logout is refused
//! like a forged one.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use chrono::{SecondsFormat, TimeZone, Utc};
use kalamdb_auth::{AuthError, Credentials, TokenType};
use kalamdb_core::{Caller, UserRecord};
use kalamdb_types::{ErrorCode, Role, UserId};

use crate::error::{ApiError, AuthEndpointError};
use crate::state::AppState;

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

    /// The `/v1/api/auth/*` answer (`{"error","message"}` envelope).
    pub fn endpoint_error(&self) -> AuthEndpointError {
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

    fn internal(e: impl ToString) -> Self {
        AuthFailure::Internal(e.to_string())
    }
}

impl From<AuthFailure> for AuthEndpointError {
    fn from(f: AuthFailure) -> Self {
        f.endpoint_error()
    }
}

pub fn rfc3339(micros: i64) -> String {
    Utc.timestamp_micros(micros)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

pub fn is_loopback(peer: &SocketAddr) -> bool {
    peer.ip().is_loopback()
}

impl AppState {
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
        // Read first: a user change committed while this check runs makes
        // what it remembers stale.
        let generation = self.engine.users_generation();
        let now = kalamdb_types::now_micros();
        let cacheable = expected == TokenType::Access;
        if cacheable && let Some(hit) = self.tokens.get(token, generation, now / 1_000_000) {
            if self.engine.is_token_revoked(&hit.digest) {
                return Err(AuthFailure::Invalid);
            }
            if let Some(until) = hit.user.locked_until
                && until > now
            {
                return Err(AuthFailure::Locked(until));
            }
            return Ok(hit.user);
        }
        let claims = self.jwt.verify(token, expected).map_err(|e| match e {
            AuthError::TokenExpired => AuthFailure::Expired,
            _ => AuthFailure::Invalid,
        })?;
        // After the signature check: an unsigned string never costs a hash.
        let digest = kalamdb_auth::token_digest(token);
        if self.engine.is_token_revoked(&digest) {
            return Err(AuthFailure::Invalid);
        }
        let id = UserId::parse(&claims.sub).map_err(|_| AuthFailure::Invalid)?;
        let user = self
            .engine
            .user(&id)
            .map_err(AuthFailure::internal)?
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
        if cacheable {
            self.tokens
                .put(token, user.clone(), digest, claims.exp, generation);
        }
        Ok(user)
    }

    /// Counts one attempt against the per-address budget of password-class
    /// checks, before any Argon2 work is spent on it.
    pub fn count_auth_attempt(&self, peer: SocketAddr) -> Result<(), AuthFailure> {
        if self.auth_limiter.allow(peer.ip()) {
            Ok(())
        } else {
            Err(AuthFailure::RateLimited)
        }
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
        if is_login {
            self.count_auth_attempt(peer)?;
        }
        let record = match UserId::parse(user) {
            Ok(id) => self.engine.user(&id).map_err(AuthFailure::internal)?,
            Err(_) => None,
        };
        let Some(record) = record.filter(UserRecord::is_active) else {
            if !is_login {
                self.count_auth_attempt(peer)?;
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
                self.count_auth_attempt(peer)?;
            }
            let pw = password.to_string();
            let _permit = self
                .verify_slots
                .acquire()
                .await
                .map_err(AuthFailure::internal)?;
            let stored = hash.clone();
            tokio::task::spawn_blocking(move || kalamdb_auth::verify_password(&pw, &stored))
                .await
                .map_err(AuthFailure::internal)?
                .map_err(AuthFailure::internal)?
        };
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
                .map_err(AuthFailure::internal)?;
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
                .map_err(AuthFailure::internal)?;
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
}
