//! Password hashing and the password policy (`wire-protocol.md` §5.4).
//!
//! Hashes are Argon2id PHC strings with the OWASP parameters, so the stored
//! string carries its own algorithm, parameters and salt and old hashes keep
//! verifying if the defaults ever change. Verification is deliberately slow;
//! [`verify_dummy`] spends the same time for users that do not exist so that
//! response times do not reveal which user names are real.
//!
//! Every hash and verification fills 19 MiB of Argon2 working memory. It is
//! taken from a small pool ([`memory`]) and given back, never allocated per
//! call: a server that creates users or logs them in all day keeps a fixed
//! amount of it instead of growing its allocator's arenas.

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AuthError;
use crate::memory;

/// Memory cost in KiB (19 MiB).
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// Shortest password the policy accepts, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password the policy accepts, in characters (also the login limit).
pub const MAX_PASSWORD_LEN: usize = 256;

/// A hash of a random throwaway password with exactly the parameters of
/// [`hash_password`], so verifying against it costs one real verification.
/// Fixed rather than computed at start-up: the first unknown-user login must
/// not cost two hashes.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$18Dqya7HZ3L+cbvc6rdxIA$BLAUPI8Cy+uOW3dsa4rPZx+5Yg62paNKnJuXYoaS4tM";

/// Passwords that are refused whatever their length; compared
/// case-insensitively. Entries shorter than [`MIN_PASSWORD_LEN`] would be
/// refused anyway, so the list holds only ones that pass the length rule.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password!",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "87654321",
    "11111111",
    "00000000",
    "88888888",
    "12341234",
    "123123123",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "qwertyui",
    "qwerty12",
    "qwerty123",
    "qwerty1234",
    "qwertyuiop",
    "asdfghjkl",
    "asdf1234",
    "zxcvbnm1",
    "abcd1234",
    "abc12345",
    "abcdefgh",
    "iloveyou",
    "iloveyou1",
    "letmein1",
    "letmein123",
    "welcome1",
    "welcome123",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "trustno1",
    "starwars",
    "whatever",
    "computer",
    "changeme",
    "changeme123",
    "admin123",
    "administrator",
    "rootroot",
    "default1",
];

fn hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .map_err(|e| AuthError::Hash(format!("invalid Argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` into an Argon2id PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt_bytes: [u8; SALT_LEN] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AuthError::Hash(format!("could not encode salt: {e}")))?;
    let argon = hasher()?;
    let mut out = [0u8; OUTPUT_LEN];
    memory::with_blocks(argon.params().block_count(), |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, blocks)
    })
    .map_err(|e| AuthError::Hash(format!("could not hash password: {e}")))?;
    let output =
        Output::new(&out).map_err(|e| AuthError::Hash(format!("could not hash password: {e}")))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon
            .params()
            .try_into()
            .map_err(|e| AuthError::Hash(format!("could not encode parameters: {e}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string in constant time.
///
/// `Ok(false)` means the password is wrong; `Err` means the stored hash is
/// unusable (malformed, not Argon2, or missing its salt or output), which is a
/// data problem the caller must not report as a wrong password.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| AuthError::Hash(format!("malformed password hash: {e}")))?;
    // Without these argon2 reports a plain mismatch, which would hide corrupt
    // records behind "wrong password".
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(AuthError::Hash(
            "malformed password hash: missing salt or output".to_string(),
        ));
    }
    // Algorithm, version and parameters come from the PHC string, so hashes
    // made under other parameters keep verifying.
    let malformed =
        |e: &dyn std::fmt::Display| AuthError::Hash(format!("malformed password hash: {e}"));
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| malformed(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| malformed(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(malformed(&"missing salt or output"));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| malformed(&e))?;
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    memory::with_blocks(argon.params().block_count(), |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    })
    .map_err(|e| AuthError::Hash(format!("could not verify password: {e}")))?;
    // `Output` compares in constant time.
    let computed = Output::new(&out).map_err(|e| malformed(&e))?;
    Ok(computed == expected)
}

/// Spends the time of one [`verify_password`] call and discards the result,
/// for logins naming a user that does not exist (no timing oracle).
pub fn verify_dummy(password: &str) {
    // The outcome is meaningless by construction; only the work matters.
    let _ = verify_password(password, DUMMY_HASH);
}

/// Enforces the password policy: 8–256 characters and not a well-known
/// password.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword(format!(
            "Password too weak: must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(AuthError::WeakPassword(format!(
            "Password too weak: must be at most {MAX_PASSWORD_LEN} characters"
        )));
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(AuthError::WeakPassword(
            "Password too weak: it is a commonly used password".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip_and_wrong_password() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &phc).unwrap());
        assert!(!verify_password("correct horse batterY", &phc).unwrap());
        assert!(!verify_password("", &phc).unwrap());
    }

    #[test]
    fn phc_string_names_argon2id_with_owasp_parameters() {
        let phc = hash_password("s3cret-enough").unwrap();
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected PHC prefix: {phc}"
        );
        let parsed = PasswordHash::new(&phc).unwrap();
        let mut salt = [0u8; 64];
        assert_eq!(
            parsed.salt.unwrap().decode_b64(&mut salt).unwrap().len(),
            SALT_LEN
        );
        assert_eq!(parsed.hash.unwrap().len(), OUTPUT_LEN);
    }

    #[test]
    fn hashes_made_with_other_parameters_keep_verifying() {
        use argon2::password_hash::PasswordHasher;
        // Smaller and larger memory than ours (larger is not pooled).
        for m_cost in [8_192, 20_480] {
            let params = Params::new(m_cost, 1, 1, None).unwrap();
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
            let phc = argon
                .hash_password(b"imported secret", &salt)
                .unwrap()
                .to_string();
            assert!(verify_password("imported secret", &phc).unwrap(), "{phc}");
            assert!(!verify_password("imported secreT", &phc).unwrap(), "{phc}");
        }
        // And Argon2i hashes, whose algorithm the string names.
        let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let phc = argon.hash_password(b"older", &salt).unwrap().to_string();
        assert!(verify_password("older", &phc).unwrap());
    }

    #[test]
    fn salts_are_random() {
        let a = hash_password("same password").unwrap();
        let b = hash_password("same password").unwrap();
        assert_ne!(a, b);
        assert!(verify_password("same password", &a).unwrap());
        assert!(verify_password("same password", &b).unwrap());
    }

    #[test]
    fn malformed_hash_is_an_error_not_a_mismatch() {
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=19456,t=2,p=1$18Dqya7HZ3L+cbvc6rdxIA",
            "$bcrypt$v=19$m=19456,t=2,p=1$18Dqya7HZ3L+cbvc6rdxIA$BLAUPI8Cy+uOW3dsa4rPZx+5Yg62paNKnJuXYoaS4tM",
        ] {
            assert!(
                matches!(verify_password("whatever", bad), Err(AuthError::Hash(_))),
                "{bad:?} should be rejected as malformed"
            );
        }
    }

    #[test]
    fn dummy_hash_matches_the_real_parameters() {
        // The dummy must cost what a real verification costs.
        let real = hash_password("anything at all").unwrap();
        let real_prefix = real.rsplitn(3, '$').nth(2).unwrap();
        let dummy_prefix = DUMMY_HASH.rsplitn(3, '$').nth(2).unwrap();
        assert_eq!(real_prefix, dummy_prefix);
        assert!(!verify_password("anything at all", DUMMY_HASH).unwrap());
        verify_dummy("anything at all");
    }

    #[test]
    fn policy_enforces_length() {
        assert!(check_password_policy("Tr0ub4dor&3").is_ok());
        assert!(check_password_policy(&"x".repeat(MIN_PASSWORD_LEN)).is_ok());
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_LEN)).is_ok());
        // Length counts characters, not bytes.
        assert!(check_password_policy("ééééééé").is_err());
        assert!(check_password_policy("éééééééé").is_ok());

        let short = check_password_policy("Ab1!xyz").unwrap_err();
        assert!(
            matches!(&short, AuthError::WeakPassword(m) if m.starts_with("Password too weak: "))
        );
        assert!(check_password_policy("").is_err());
        let long = check_password_policy(&"x".repeat(MAX_PASSWORD_LEN + 1)).unwrap_err();
        assert!(matches!(&long, AuthError::WeakPassword(m) if m.contains("at most 256")));
    }

    #[test]
    fn policy_rejects_common_passwords_case_insensitively() {
        for common in [
            "password",
            "12345678",
            "qwerty123",
            "PassWord123",
            "IloveYou",
        ] {
            let err = check_password_policy(common).unwrap_err();
            assert!(
                matches!(&err, AuthError::WeakPassword(m) if m.contains("commonly used")),
                "{common} should be refused"
            );
        }
        assert!(check_password_policy("password-with-more-words").is_ok());
    }

    #[test]
    fn common_list_holds_only_entries_the_length_rule_would_accept() {
        assert!(COMMON_PASSWORDS.len() >= 50);
        for p in COMMON_PASSWORDS {
            assert!(p.chars().count() >= MIN_PASSWORD_LEN, "{p} is dead weight");
            assert_eq!(*p, p.to_lowercase(), "{p} must be lowercase to match");
        }
    }
}
