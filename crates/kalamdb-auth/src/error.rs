//! The crate's single error type.
//!
//! Variants follow what the caller must answer, not where the failure
//! happened: an expired token lets clients refresh and retry, every other
//! credential problem is one indistinguishable "invalid credentials" (so
//! probing reveals nothing), a weak password is the user's to fix, and
//! [`AuthError::Hash`] is our fault and stays in the log.

use kalamdb_types::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The JWT's `exp` passed more than the leeway ago; clients refresh and
    /// retry on exactly this.
    #[error("Token expired")]
    TokenExpired,
    /// Any other credential failure. The text says why, for the server log;
    /// clients only ever see [`AuthError::public_message`].
    #[error("Invalid credentials: {0}")]
    InvalidCredentials(String),
    /// The password breaks the policy; the text starts with
    /// `"Password too weak: "` and is meant for the user.
    #[error("{0}")]
    WeakPassword(String),
    /// Hashing, signing or a stored hash failed: a server-side problem.
    #[error("Credential processing failed: {0}")]
    Hash(String),
}

impl AuthError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        AuthError::InvalidCredentials(reason.into())
    }

    /// The wire code for the SQL envelope (`wire-protocol.md` §4). Exhaustive
    /// on purpose: a new variant must decide what clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::TokenExpired => ErrorCode::TokenExpired,
            AuthError::InvalidCredentials(_) => ErrorCode::InvalidCredentials,
            // Only reachable from CREATE/ALTER USER, where it is a statement failure.
            AuthError::WeakPassword(_) => ErrorCode::SqlExecutionError,
            AuthError::Hash(_) => ErrorCode::AuthenticationError,
        }
    }

    /// What a client may be told. Reasons for invalid credentials and
    /// internal details are withheld.
    pub fn public_message(&self) -> String {
        match self {
            AuthError::TokenExpired => "Token expired".to_string(),
            AuthError::InvalidCredentials(_) => "Invalid credentials".to_string(),
            AuthError::WeakPassword(message) => message.clone(),
            AuthError::Hash(_) => "Authentication error".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_masking() {
        let invalid = AuthError::invalid("bad signature");
        assert_eq!(invalid.code(), ErrorCode::InvalidCredentials);
        assert_eq!(invalid.code().http_status(), 401);
        assert_eq!(invalid.public_message(), "Invalid credentials");
        assert!(invalid.to_string().contains("bad signature"));

        assert_eq!(AuthError::TokenExpired.code().as_str(), "TOKEN_EXPIRED");
        assert_eq!(AuthError::TokenExpired.to_string(), "Token expired");

        let weak = AuthError::WeakPassword("Password too weak: too short".into());
        assert_eq!(weak.public_message(), "Password too weak: too short");
        assert_eq!(weak.code().http_status(), 400);

        let internal = AuthError::Hash("argon2 exploded".into());
        assert_eq!(internal.code().http_status(), 500);
        assert!(!internal.public_message().contains("argon2"));
    }
}
