//! `Authorization` header parsing (`wire-protocol.md` §5.1).
//!
//! Turns the header text into [`Credentials`] without judging them: whether
//! a token verifies or a password matches is decided elsewhere. Every
//! malformed header is [`AuthError::InvalidCredentials`]; an absent header is
//! the caller's `MISSING_AUTHORIZATION`, since only the caller knows it was
//! absent.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::AuthError;

/// What the client presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A JWT, not yet verified.
    Bearer(String),
    /// RFC 7617 user and password, not yet checked. The password may be empty
    /// (root before setup answers `SETUP_REQUIRED`, not "malformed").
    Basic { user: String, password: String },
}

impl fmt::Debug for Credentials {
    // Headers end up in logs; secrets must not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer(_) => f.debug_tuple("Bearer").field(&"[redacted]").finish(),
            Credentials::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}

/// Parses an `Authorization` header value: `Bearer <token>` or
/// `Basic base64(user:password)`, scheme names case-insensitive.
pub fn parse_authorization(header: &str) -> Result<Credentials, AuthError> {
    let header = header.trim();
    let (scheme, rest) = header.split_once([' ', '\t']).ok_or_else(|| {
        AuthError::invalid("Authorization header has no credentials after the scheme")
    })?;
    let rest = rest.trim();

    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(AuthError::invalid(
                "Bearer token is empty or contains spaces",
            ));
        }
        Ok(Credentials::Bearer(rest.to_string()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let raw = STANDARD
            .decode(rest)
            .map_err(|_| AuthError::invalid("Basic credentials are not valid base64"))?;
        let text = String::from_utf8(raw)
            .map_err(|_| AuthError::invalid("Basic credentials are not valid UTF-8"))?;
        // RFC 7617: the user id cannot contain ':', the password may.
        let (user, password) = text
            .split_once(':')
            .ok_or_else(|| AuthError::invalid("Basic credentials lack the ':' separator"))?;
        if user.is_empty() {
            return Err(AuthError::invalid("Basic credentials have an empty user"));
        }
        Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    } else {
        Err(AuthError::invalid("unsupported Authorization scheme"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for header in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER   abc.def.ghi  ",
        ] {
            assert_eq!(
                parse_authorization(header).unwrap(),
                Credentials::Bearer("abc.def.ghi".to_string()),
                "{header}"
            );
        }
    }

    #[test]
    fn basic_splits_at_the_first_colon() {
        assert_eq!(
            parse_authorization(&basic("alice:pa:ss:word")).unwrap(),
            Credentials::Basic {
                user: "alice".to_string(),
                password: "pa:ss:word".to_string()
            }
        );
        assert_eq!(
            parse_authorization(&basic("root:")).unwrap(),
            Credentials::Basic {
                user: "root".to_string(),
                password: String::new()
            }
        );
        let lower = format!("basic {}", STANDARD.encode("bob:sécret"));
        assert_eq!(
            parse_authorization(&lower).unwrap(),
            Credentials::Basic {
                user: "bob".to_string(),
                password: "sécret".to_string()
            }
        );
    }

    #[test]
    fn malformed_headers_are_invalid_credentials() {
        let not_utf8 = format!("Basic {}", STANDARD.encode([0x61, 0x3a, 0xff, 0xfe]));
        let cases = [
            "".to_string(),
            "Bearer".to_string(),
            "Bearer ".to_string(),
            "Bearer a b".to_string(),
            "Basic".to_string(),
            "Basic !!!not-base64!!!".to_string(),
            not_utf8,
            basic("no-colon-here"),
            basic(":password-without-user"),
            "Digest username=alice".to_string(),
            "Token abc".to_string(),
            "abc.def.ghi".to_string(),
        ];
        for header in cases {
            assert!(
                matches!(
                    parse_authorization(&header),
                    Err(AuthError::InvalidCredentials(_))
                ),
                "{header:?} should be rejected"
            );
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!(
            "{:?}",
            parse_authorization(&basic("alice:hunter2hunter2")).unwrap()
        );
        assert!(
            shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
        let shown = format!("{:?}", Credentials::Bearer("eyJsecret".to_string()));
        assert!(!shown.contains("eyJsecret"), "{shown}");
    }
}
