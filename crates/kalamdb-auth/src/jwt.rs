//! JWT issue and verification (`wire-protocol.md` §5.3).
//!
//! Tokens are HS256 with a shared secret. Verification accepts nothing else:
//! the algorithm allow-list is exactly `[HS256]`, so `alg: none`, other HMAC
//! widths and asymmetric algorithms (the classic RS256-with-HMAC-key
//! confusion) are refused before any signature maths. Expiry is reported
//! separately from every other failure because clients refresh and retry on
//! it; all other failures are one opaque "invalid credentials".
//!
//! Whether the subject still exists and still has the claimed role is the
//! caller's check: this module has no user records.
//!
//! **(ours)** Issued tokens carry a random `jti`, so two tokens minted in the
//! same second for the same user differ, and [`token_digest`] names one
//! token for revocation at logout without naming its sibling sessions.

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kalamdb_types::{Role, UserId};
use serde::{Deserialize, Serialize};

use crate::error::AuthError;

/// Issuer written into tokens we mint, unless configured otherwise.
pub const DEFAULT_ISSUER: &str = "kalamdb";
/// Access-token lifetime by default (24 h, `auth.jwt_expiry_hours`).
pub const DEFAULT_ACCESS_TTL_SECS: i64 = 24 * 60 * 60;
/// Refresh tokens live this many times longer than access tokens.
pub const REFRESH_TTL_FACTOR: i64 = 7;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const JWT_LEEWAY_SECS: i64 = 60;

/// Which of the pair a token is; an access token never refreshes and a
/// refresh token never authorizes a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims of a KalamDB token. `email` and `role` serialize as `null`
/// when absent, as the wire protocol shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub iss: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub token_type: TokenType,
    /// **(ours)** A random token id; absent from hand-made or partner tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// How tokens are signed and which ones are accepted.
#[derive(Clone)]
pub struct JwtConfig {
    /// The HMAC key. Length and strength rules (§5.3) are the server's to
    /// enforce at start-up; any length works here.
    pub secret: Vec<u8>,
    /// Written into issued tokens and always accepted (`"kalamdb"`).
    pub issuer: String,
    /// Further issuers whose tokens (signed with the same secret) are accepted.
    pub trusted_issuers: Vec<String>,
    /// Access-token lifetime; refresh tokens get [`REFRESH_TTL_FACTOR`] times this.
    pub access_ttl_secs: i64,
}

impl JwtConfig {
    /// A configuration with the protocol defaults: issuer `"kalamdb"`, no
    /// trusted issuers, 24 h access tokens.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        JwtConfig {
            secret: secret.into(),
            issuer: DEFAULT_ISSUER.to_string(),
            trusted_issuers: Vec::new(),
            access_ttl_secs: DEFAULT_ACCESS_TTL_SECS,
        }
    }
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("trusted_issuers", &self.trusted_issuers)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .finish()
    }
}

/// A freshly signed token and when it stops being accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    /// Unix seconds; equals the token's `exp` claim.
    pub expires_at: i64,
}

/// Signs and verifies tokens for one configuration. Build it once at start-up
/// and share it: the keys and validation rules are precomputed.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    access_ttl_secs: i64,
}

impl fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtCodec")
            .field("issuer", &self.issuer)
            .field("accepted_issuers", &self.validation.iss)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    pub fn new(cfg: JwtConfig) -> Self {
        // jsonwebtoken picks its crypto backend from crate features and
        // panics on first use if it cannot decide (for instance when another
        // crate in the build also enables `aws_lc_rs`). Installing the
        // RustCrypto provider explicitly removes that failure mode; if a
        // provider is already installed, that one stays and is equally fine.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();

        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = JWT_LEEWAY_SECS.unsigned_abs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let mut issuers = Vec::with_capacity(cfg.trusted_issuers.len() + 1);
        issuers.push(cfg.issuer.clone());
        issuers.extend(cfg.trusted_issuers.iter().cloned());
        validation.set_issuer(&issuers);

        JwtCodec {
            encoding: EncodingKey::from_secret(&cfg.secret),
            decoding: DecodingKey::from_secret(&cfg.secret),
            validation,
            issuer: cfg.issuer,
            access_ttl_secs: cfg.access_ttl_secs,
        }
    }

    /// Lifetime of tokens of `token_type`, in seconds.
    pub fn ttl_secs(&self, token_type: TokenType) -> i64 {
        match token_type {
            TokenType::Access => self.access_ttl_secs,
            TokenType::Refresh => self.access_ttl_secs.saturating_mul(REFRESH_TTL_FACTOR),
        }
    }

    /// Mints a token for `user`, valid from now for [`JwtCodec::ttl_secs`].
    pub fn issue(
        &self,
        user: &UserId,
        role: Role,
        email: Option<&str>,
        token_type: TokenType,
    ) -> Result<IssuedToken, AuthError> {
        let now = unix_now();
        let exp = now.saturating_add(self.ttl_secs(token_type));
        let claims = Claims {
            sub: user.as_str().to_string(),
            iss: self.issuer.clone(),
            iat: now,
            exp,
            email: email.map(str::to_string),
            role: Some(role),
            token_type,
            jti: Some(new_jti()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Hash(format!("could not sign token: {e}")))?;
        Ok(IssuedToken {
            token,
            expires_at: exp,
        })
    }

    /// Checks signature, algorithm, header, issuer, `exp`/`nbf`/`iat` (with
    /// [`JWT_LEEWAY_SECS`]), the subject's syntax and the token type.
    ///
    /// The signature is checked before any claim, so a forged token is never
    /// reported as merely expired.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(map_jwt_error)?;

        // `typ` is optional in RFC 7519; when present it must say JWT
        // (case-insensitively, RFC 7515 §4.1.9).
        if let Some(typ) = &data.header.typ
            && !typ.eq_ignore_ascii_case("JWT")
        {
            return Err(AuthError::invalid(format!(
                "token header has typ '{typ}', expected JWT"
            )));
        }
        // RFC 7515 §4.1.11: extensions we do not understand must be refused.
        if data.header.crit.is_some() {
            return Err(AuthError::invalid("token header lists critical extensions"));
        }

        let claims = data.claims;
        if claims.iat > unix_now().saturating_add(JWT_LEEWAY_SECS) {
            return Err(AuthError::invalid("token issued in the future"));
        }
        if UserId::parse(&claims.sub).is_err() {
            return Err(AuthError::invalid("token subject is not a valid user id"));
        }
        if claims.token_type != expected {
            return Err(AuthError::invalid(match expected {
                TokenType::Access => "refresh token used where an access token is required",
                TokenType::Refresh => "access token used where a refresh token is required",
            }));
        }
        Ok(claims)
    }
}

fn map_jwt_error(e: jsonwebtoken::errors::Error) -> AuthError {
    let reason = match e.kind() {
        ErrorKind::ExpiredSignature => return AuthError::TokenExpired,
        ErrorKind::InvalidSignature => "bad token signature".to_string(),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "token algorithm not accepted (HS256 only)".to_string()
        }
        ErrorKind::InvalidIssuer => "untrusted token issuer".to_string(),
        ErrorKind::ImmatureSignature => "token not yet valid".to_string(),
        ErrorKind::InvalidAudience => {
            "token has an audience this server is not part of".to_string()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("token lacks the '{claim}' claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("token claim '{claim}' is malformed"),
        _ => format!("malformed token: {e}"),
    };
    AuthError::InvalidCredentials(reason)
}

fn unix_now() -> i64 {
    kalamdb_types::now_micros() / 1_000_000
}

/// 128 random bits, hex: unique per issued token.
fn new_jti() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

/// SHA-256 of a token's signing input (`header.payload`), the name under
/// which a revoked token is remembered.
///
/// The signing input, not the whole string: HMAC makes the signature a
/// function of it, so every byte string that verifies as this token has the
/// same digest, whatever spelling of the signature a client might try.
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let signed = token.rsplit_once('.').map_or(token, |(input, _)| input);
    Sha256::digest(signed.as_bytes()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use sha2::{Sha256, Sha512};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn codec() -> JwtCodec {
        let mut cfg = JwtConfig::new(SECRET);
        cfg.trusted_issuers = vec!["partner-idp".to_string()];
        JwtCodec::new(cfg)
    }

    fn alice() -> UserId {
        UserId::parse("alice").unwrap()
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s.as_bytes())
    }

    fn hs256(message: &str, secret: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn hs512(message: &str, secret: &[u8]) -> String {
        let mut mac = Hmac::<Sha512>::new_from_slice(secret).unwrap();
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A token assembled byte by byte, signed HS256 with `secret`.
    fn craft(header: &str, claims: &str, secret: &[u8]) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let sig = hs256(&message, secret);
        format!("{message}.{sig}")
    }

    const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    fn claims_json(iss: &str, iat: i64, exp: i64, token_type: &str) -> String {
        format!(
            r#"{{"sub":"alice","iss":"{iss}","iat":{iat},"exp":{exp},"email":null,"role":"user","token_type":"{token_type}"}}"#
        )
    }

    fn valid_claims() -> String {
        let now = unix_now();
        claims_json("kalamdb", now, now + 3600, "access")
    }

    /// Asserts an `InvalidCredentials` whose log reason mentions `why`, so a
    /// case cannot pass by failing for an unrelated reason.
    fn assert_invalid(result: Result<Claims, AuthError>, case: &str, why: &str) {
        match result {
            Err(AuthError::InvalidCredentials(reason)) => assert!(
                reason.contains(why),
                "{case}: rejected for '{reason}', expected a reason mentioning '{why}'"
            ),
            other => panic!("{case}: expected InvalidCredentials, got {other:?}"),
        }
    }

    #[test]
    fn issue_then_verify_round_trip() {
        let codec = codec();
        let before = unix_now();
        let issued = codec
            .issue(
                &alice(),
                Role::Dba,
                Some("alice@example.com"),
                TokenType::Access,
            )
            .unwrap();
        let claims = codec.verify(&issued.token, TokenType::Access).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.iss, "kalamdb");
        assert_eq!(claims.role, Some(Role::Dba));
        assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
        assert_eq!(claims.token_type, TokenType::Access);
        assert_eq!(claims.exp, issued.expires_at);
        assert!(claims.iat >= before && claims.iat <= unix_now());
        assert_eq!(claims.exp - claims.iat, DEFAULT_ACCESS_TTL_SECS);
    }

    #[test]
    fn refresh_tokens_live_seven_times_longer() {
        let codec = codec();
        let issued = codec
            .issue(&alice(), Role::User, None, TokenType::Refresh)
            .unwrap();
        let claims = codec.verify(&issued.token, TokenType::Refresh).unwrap();
        assert_eq!(claims.exp - claims.iat, 7 * DEFAULT_ACCESS_TTL_SECS);
        assert_eq!(claims.email, None);
        assert_eq!(codec.ttl_secs(TokenType::Refresh), 168 * 3600);
    }

    #[test]
    fn issued_token_has_the_protocol_header_and_claim_spellings() {
        let issued = codec()
            .issue(&alice(), Role::Service, None, TokenType::Access)
            .unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert!(header.contains(r#""alg":"HS256""#), "{header}");
        assert!(header.contains(r#""typ":"JWT""#), "{header}");
        assert_eq!(
            header.matches(':').count(),
            2,
            "no other header fields: {header}"
        );
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert!(payload.contains(r#""role":"service""#), "{payload}");
        assert!(payload.contains(r#""token_type":"access""#), "{payload}");
        assert!(payload.contains(r#""email":null"#), "{payload}");
        assert!(payload.contains(r#""iss":"kalamdb""#), "{payload}");
    }

    #[test]
    fn hand_crafted_valid_token_is_accepted() {
        let token = craft(HS256_HEADER, &valid_claims(), SECRET);
        let claims = codec().verify(&token, TokenType::Access).unwrap();
        assert_eq!(claims.role, Some(Role::User));
    }

    #[test]
    fn alg_none_is_refused() {
        let token = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&valid_claims())
        );
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "alg none",
            "malformed token",
        );
        let token = format!(
            "{}.{}.",
            b64(r#"{"alg":"None","typ":"JWT"}"#),
            b64(&valid_claims())
        );
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "alg None",
            "malformed token",
        );
    }

    #[test]
    fn other_hmac_widths_are_refused() {
        let message = format!(
            "{}.{}",
            b64(r#"{"alg":"HS512","typ":"JWT"}"#),
            b64(&valid_claims())
        );
        let token = format!("{message}.{}", hs512(&message, SECRET));
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "HS512",
            "algorithm",
        );
    }

    #[test]
    fn rs256_header_is_refused_even_when_hmac_signed_with_the_secret() {
        // Algorithm confusion: an attacker signs with HMAC and claims RS256.
        let message = format!(
            "{}.{}",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(&valid_claims())
        );
        let token = format!("{message}.{}", hs256(&message, SECRET));
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "RS256",
            "algorithm",
        );
    }

    #[test]
    fn bad_signature_is_refused() {
        let token = craft(
            HS256_HEADER,
            &valid_claims(),
            b"some-other-secret-of-32-bytes!!!",
        );
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "wrong secret",
            "signature",
        );

        // Valid signature, then a tampered payload.
        let good = craft(HS256_HEADER, &valid_claims(), SECRET);
        let sig = good.rsplit('.').next().unwrap();
        let tampered_claims = valid_claims().replace(r#""role":"user""#, r#""role":"system""#);
        let tampered = format!("{}.{}.{sig}", b64(HS256_HEADER), b64(&tampered_claims));
        assert_invalid(
            codec().verify(&tampered, TokenType::Access),
            "tampered payload",
            "signature",
        );
    }

    #[test]
    fn forged_expired_token_is_invalid_not_expired() {
        let now = unix_now();
        let claims = claims_json("kalamdb", now - 7200, now - 3600, "access");
        let token = craft(HS256_HEADER, &claims, b"not-our-secret");
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "forged + expired",
            "signature",
        );
    }

    #[test]
    fn issuer_must_be_ours_or_trusted() {
        let now = unix_now();
        let wrong = craft(
            HS256_HEADER,
            &claims_json("evil", now, now + 600, "access"),
            SECRET,
        );
        assert_invalid(
            codec().verify(&wrong, TokenType::Access),
            "wrong issuer",
            "issuer",
        );

        let trusted = craft(
            HS256_HEADER,
            &claims_json("partner-idp", now, now + 600, "access"),
            SECRET,
        );
        let claims = codec().verify(&trusted, TokenType::Access).unwrap();
        assert_eq!(claims.iss, "partner-idp");

        // Without the trusted list the partner is a stranger.
        let strict = JwtCodec::new(JwtConfig::new(SECRET));
        assert_invalid(
            strict.verify(&trusted, TokenType::Access),
            "untrusted partner",
            "issuer",
        );
    }

    #[test]
    fn token_type_must_match() {
        let codec = codec();
        let refresh = codec
            .issue(&alice(), Role::User, None, TokenType::Refresh)
            .unwrap();
        assert_invalid(
            codec.verify(&refresh.token, TokenType::Access),
            "refresh as access",
            "refresh token used",
        );
        let access = codec
            .issue(&alice(), Role::User, None, TokenType::Access)
            .unwrap();
        assert_invalid(
            codec.verify(&access.token, TokenType::Refresh),
            "access as refresh",
            "access token used",
        );
    }

    #[test]
    fn expiry_honours_the_leeway() {
        let codec = codec();
        let now = unix_now();
        let long_gone = craft(
            HS256_HEADER,
            &claims_json("kalamdb", now - 7200, now - 120, "access"),
            SECRET,
        );
        assert!(matches!(
            codec.verify(&long_gone, TokenType::Access),
            Err(AuthError::TokenExpired)
        ));
        let just_gone = craft(
            HS256_HEADER,
            &claims_json("kalamdb", now - 7200, now - 30, "access"),
            SECRET,
        );
        assert!(codec.verify(&just_gone, TokenType::Access).is_ok());
    }

    #[test]
    fn iat_in_the_future_beyond_leeway_is_refused() {
        let codec = codec();
        let now = unix_now();
        let future = craft(
            HS256_HEADER,
            &claims_json("kalamdb", now + 600, now + 3600, "access"),
            SECRET,
        );
        assert_invalid(
            codec.verify(&future, TokenType::Access),
            "iat in the future",
            "future",
        );
        let skewed = craft(
            HS256_HEADER,
            &claims_json("kalamdb", now + 30, now + 3600, "access"),
            SECRET,
        );
        assert!(codec.verify(&skewed, TokenType::Access).is_ok());
    }

    #[test]
    fn nbf_in_the_future_is_refused() {
        let now = unix_now();
        let claims = format!(
            r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"exp":{},"nbf":{},"role":"user","token_type":"access"}}"#,
            now + 3600,
            now + 600
        );
        let token = craft(HS256_HEADER, &claims, SECRET);
        assert_invalid(
            codec().verify(&token, TokenType::Access),
            "nbf in the future",
            "not yet valid",
        );
    }

    #[test]
    fn missing_claims_are_refused() {
        let now = unix_now();
        let exp = now + 3600;
        let cases = [
            (
                "no sub",
                "sub",
                format!(r#"{{"iss":"kalamdb","iat":{now},"exp":{exp},"token_type":"access"}}"#),
            ),
            (
                "no iss",
                "iss",
                format!(r#"{{"sub":"alice","iat":{now},"exp":{exp},"token_type":"access"}}"#),
            ),
            (
                "no iat",
                "iat",
                format!(r#"{{"sub":"alice","iss":"kalamdb","exp":{exp},"token_type":"access"}}"#),
            ),
            (
                "no exp",
                "exp",
                format!(r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"token_type":"access"}}"#),
            ),
            (
                "no token_type",
                "token_type",
                format!(r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"exp":{exp}}}"#),
            ),
            (
                "unknown role",
                "root",
                format!(
                    r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"exp":{exp},"role":"root","token_type":"access"}}"#
                ),
            ),
            (
                "exp as string",
                "invalid type",
                format!(
                    r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"exp":"{exp}","token_type":"access"}}"#
                ),
            ),
            (
                "bad subject",
                "subject",
                format!(
                    r#"{{"sub":"a b","iss":"kalamdb","iat":{now},"exp":{exp},"token_type":"access"}}"#
                ),
            ),
        ];
        for (case, why, claims) in cases {
            let token = craft(HS256_HEADER, &claims, SECRET);
            assert_invalid(codec().verify(&token, TokenType::Access), case, why);
        }
        // email and role are optional.
        let minimal = format!(
            r#"{{"sub":"alice","iss":"kalamdb","iat":{now},"exp":{exp},"token_type":"access"}}"#
        );
        let claims = codec()
            .verify(&craft(HS256_HEADER, &minimal, SECRET), TokenType::Access)
            .unwrap();
        assert_eq!(claims.role, None);
        assert_eq!(claims.email, None);
    }

    #[test]
    fn header_oddities_are_refused() {
        let claims = valid_claims();
        let jwe = craft(r#"{"alg":"HS256","typ":"JWE"}"#, &claims, SECRET);
        assert_invalid(codec().verify(&jwe, TokenType::Access), "typ JWE", "typ");
        let crit = craft(
            r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
            &claims,
            SECRET,
        );
        assert_invalid(codec().verify(&crit, TokenType::Access), "crit", "critical");
        // typ is optional.
        let bare = craft(r#"{"alg":"HS256"}"#, &claims, SECRET);
        assert!(codec().verify(&bare, TokenType::Access).is_ok());
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        let codec = codec();
        for garbage in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b",
            "a.b.c.d",
            "Bearer x",
            "\u{0}\u{1}",
        ] {
            assert_invalid(codec.verify(garbage, TokenType::Access), garbage, "");
        }
    }

    #[test]
    fn tokens_minted_in_the_same_second_differ() {
        let codec = codec();
        let a = codec
            .issue(&alice(), Role::User, None, TokenType::Access)
            .unwrap();
        let b = codec
            .issue(&alice(), Role::User, None, TokenType::Access)
            .unwrap();
        assert_ne!(a.token, b.token);
        assert_ne!(token_digest(&a.token), token_digest(&b.token));
        let (ca, cb) = (
            codec.verify(&a.token, TokenType::Access).unwrap(),
            codec.verify(&b.token, TokenType::Access).unwrap(),
        );
        assert_eq!(ca.jti.as_ref().map(String::len), Some(32));
        assert_ne!(ca.jti, cb.jti);
    }

    #[test]
    fn digest_names_the_signed_part() {
        let token = craft(HS256_HEADER, &valid_claims(), SECRET);
        let (input, sig) = token.rsplit_once('.').unwrap();
        // Same signing input, whatever follows the last dot.
        assert_eq!(
            token_digest(&token),
            token_digest(&format!("{input}.{sig}x"))
        );
        let other = craft(
            HS256_HEADER,
            &valid_claims().replace("alice", "bob"),
            SECRET,
        );
        assert_ne!(token_digest(&token), token_digest(&other));
        // The value is SHA-256 of the text before the last dot.
        use sha2::Digest;
        let want: [u8; 32] = Sha256::digest(input.as_bytes()).into();
        assert_eq!(token_digest(&token), want);
    }

    #[test]
    fn secret_does_not_leak_through_debug() {
        let cfg = JwtConfig::new(b"super-secret-value".to_vec());
        assert!(!format!("{cfg:?}").contains("super-secret"));
        let codec = JwtCodec::new(cfg);
        assert!(!format!("{codec:?}").contains("super-secret"));
    }

    #[test]
    fn a_crypto_provider_is_installed_by_the_codec() {
        let _codec = codec();
        // Installing again fails only because one is already in place, so
        // signing can never hit jsonwebtoken's "no provider" panic.
        assert!(
            jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
                .install_default()
                .is_err()
        );
    }
}
