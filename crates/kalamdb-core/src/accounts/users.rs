//! User records, changed through the committer: creation, changes applied
//! to the *current* record inside the commit (so racing changes serialize
//! instead of overwriting one another), the first-run setup, and Argon2id
//! hashing off the async workers.

use std::sync::Arc;

use kalamdb_store::Space;
use kalamdb_types::UserId;

use crate::catalog::records::{UserRecord, decode_json, encode_json, user_key};
use crate::error::{KalamError, Result};
use crate::write::shared::Shared;

/// How [`complete_setup`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupOutcome {
    Done,
    AlreadyConfigured,
    UserExists,
}

/// Stores a new user (durably). Fails with `"User 'x' already exists"` if
/// the id is taken, by a dropped user too: a name is reused only after the
/// user's cleanup (`sql.md` §5).
pub async fn create_user(shared: &Arc<Shared>, user: UserRecord) -> Result<()> {
    let s = shared.clone();
    shared
        .committer
        .write(move |ctx| {
            let key = user_key(&user.user_id);
            // Reads the group's overlay too, so two racing CREATE USERs of
            // one name cannot both succeed.
            if ctx.get(Space::Meta, &key)?.is_some() {
                return Err(KalamError::exec(format!(
                    "User '{}' already exists",
                    user.user_id
                )));
            }
            ctx.put(Space::Meta, key, encode_json(&user)?);
            ctx.after_commit(move || s.catalog.user_created());
            Ok(())
        })
        .await
}

/// Login bookkeeping on an active user (failed-attempt counting, lockout,
/// `last_login_at`): like [`update_user_durable`], except that when storage
/// refuses writes (a failed write, see `write/committer.rs`) the change is
/// not saved — a warning is logged and the record is returned as `change`
/// left it — so a correct password still logs in on a server that can only
/// serve reads. Statements that change users must use
/// [`update_user_durable`].
pub async fn update_user(
    shared: &Arc<Shared>,
    id: &UserId,
    change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
) -> Result<Option<UserRecord>> {
    let changed = Arc::new(parking_lot::Mutex::new(None));
    let seen = changed.clone();
    let result = update_user_durable(shared, id, move |user| {
        change(user)?;
        *seen.lock() = Some(user.clone());
        Ok(())
    })
    .await;
    match result {
        Err(e) if shared.committer.storage_failed() => match changed.lock().take() {
            Some(user) => {
                tracing::warn!(user = %id, error = %e, "user bookkeeping not saved: storage refuses writes");
                Ok(Some(user))
            }
            None => Err(e),
        },
        other => other,
    }
}

/// Changes an active user by applying `change` to its *current* record
/// inside the commit pipeline, so concurrent updates serialize instead of
/// overwriting one another. `change` may refuse with an error, and then
/// nothing is written. Returns the record as written, or `None` if the user
/// does not exist or was dropped.
pub async fn update_user_durable(
    shared: &Arc<Shared>,
    id: &UserId,
    change: impl FnOnce(&mut UserRecord) -> Result<()> + Send + 'static,
) -> Result<Option<UserRecord>> {
    let id = id.clone();
    let s = shared.clone();
    shared
        .committer
        .write(move |ctx| {
            let key = user_key(&id);
            // Through the commit context: it sees writes staged earlier in
            // the same group, so the record is current.
            let current = ctx
                .get(Space::Meta, &key)?
                .map(|v| decode_json::<UserRecord>(&v))
                .transpose()?;
            let Some(mut user) = current.filter(UserRecord::is_active) else {
                return Ok(None);
            };
            change(&mut user)?;
            ctx.put(Space::Meta, key, encode_json(&user)?);
            // Remembered tokens of any user are checked in full again.
            ctx.after_commit(move || s.catalog.user_changed());
            Ok(Some(user))
        })
        .await
}

/// The first-run setup (`wire-protocol.md` §5.5) as one commit: sets root's
/// password and creates the dba `admin`, unless root already has a password
/// or the name is taken — checked inside the commit, so of two racing
/// setups exactly one wins.
pub async fn complete_setup(
    shared: &Arc<Shared>,
    admin: UserRecord,
    root_hash: String,
) -> Result<SetupOutcome> {
    let s = shared.clone();
    shared
        .committer
        .write(move |ctx| {
            let root_key = user_key(&UserId::root());
            let Some(root) = ctx.get(Space::Meta, &root_key)? else {
                return Err(KalamError::internal("root user missing"));
            };
            let mut root: UserRecord = decode_json(&root)?;
            if root.password_hash.is_some() {
                return Ok(SetupOutcome::AlreadyConfigured);
            }
            let admin_key = user_key(&admin.user_id);
            if ctx.get(Space::Meta, &admin_key)?.is_some() {
                return Ok(SetupOutcome::UserExists);
            }
            root.password_hash = Some(root_hash);
            root.updated_at = ctx.now_micros;
            ctx.put(Space::Meta, root_key, encode_json(&root)?);
            ctx.put(Space::Meta, admin_key, encode_json(&admin)?);
            ctx.after_commit(move || s.catalog.user_created());
            Ok(SetupOutcome::Done)
        })
        .await
}

/// Hashes a password on the blocking pool (Argon2id is deliberately slow).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || kalamdb_auth::hash_password(&password))
        .await
        .map_err(KalamError::internal)?
        .map_err(KalamError::internal)
}
