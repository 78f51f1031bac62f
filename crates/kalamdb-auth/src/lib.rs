//! Credentials primitives for KalamDB (`wire-protocol.md` §5.1–§5.5).
//!
//! Owns password hashing (Argon2id PHC strings) and the password policy, JWT
//! issue and verification (HS256 only), `Authorization` header parsing, and a
//! short-lived cache of successful Basic-auth checks.
//!
//! It is pure logic. It must not touch storage, an HTTP framework or user
//! records: the engine owns users (existence, deletion, current role,
//! lockout counters) and the API layer composes these primitives with them.
//! Nothing here decides whether a user *exists*; callers pair
//! [`verify_password`] with a user lookup and call [`verify_dummy`] when the
//! lookup fails, so unknown users cost the same time as wrong passwords.

mod cache;
mod error;
mod header;
mod jwt;
mod memory;
mod password;

pub use cache::{BASIC_CACHE_MAX_ENTRIES, BASIC_CACHE_MAX_TTL, BasicAuthCache};
pub use error::AuthError;
pub use header::{Credentials, parse_authorization};
pub use jwt::{
    Claims, DEFAULT_ACCESS_TTL_SECS, DEFAULT_ISSUER, IssuedToken, JWT_LEEWAY_SECS, JwtCodec,
    JwtConfig, REFRESH_TTL_FACTOR, TokenType, token_digest,
};
pub use password::{
    MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, check_password_policy, hash_password, verify_dummy,
    verify_password,
};
