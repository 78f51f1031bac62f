//! Layer `accounts`: user accounts and tokens as durable state — creating
//! and changing user records through the committer, the first-run setup,
//! Argon2id hashing off the async workers (`users.rs`), and the tokens
//! revoked at logout (`revocation.rs`). Who may do these is decided by the
//! statements above (`access.rs` holds the rules).
//!
//! May import: `error`, `access`, `row`, `catalog`, `tiers`, `write`.

pub mod revocation;
pub mod users;

pub use revocation::TokenDigest;
pub use users::{SetupOutcome, hash_password};
