//! `CREATE USER`, `ALTER USER`, `DROP USER` (`sql.md` §5) and who may
//! `EXECUTE AS USER` whom (`wire-protocol.md` §5.6).
//!
//! Every rule that depends on the *target's* current state (its role, whether
//! it is still active) is checked inside the commit closure, against the
//! record as it is at commit time; checks done before (existence, password
//! policy) only spare an Argon2 hash for a statement that must fail anyway.

use std::sync::Arc;

use kalamdb_sql::AlterUserChange;
use kalamdb_types::{Role, UserId};

use crate::access::{self, Action, Caller};
use crate::accounts::users::{create_user as store_user, hash_password, update_user_durable};
use crate::catalog::records::UserRecord;
use crate::error::{KalamError, Result};
use crate::live::hub::LiveHub;
use crate::maintenance::tasks::Maintenance;
use crate::statements::output::StatementOutput;
use crate::write::shared::Shared;

/// Longest accepted e-mail address (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// A name `CREATE USER` may take: the id alphabet, minus reserved names.
fn new_user_id(name: &str) -> Result<UserId> {
    let invalid = || KalamError::exec(format!("Invalid user name '{name}'"));
    let id = UserId::parse(name).map_err(|_| invalid())?;
    if id.as_str().eq_ignore_ascii_case("anonymous") {
        return Err(invalid());
    }
    Ok(id)
}

fn check_email(email: &str) -> Result<()> {
    let valid = email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if valid {
        Ok(())
    } else {
        Err(KalamError::exec(format!("Invalid email '{email}'")))
    }
}

async fn hash_checked(password: String) -> Result<String> {
    // The policy's message already reads "Password too weak: …".
    kalamdb_auth::check_password_policy(&password).map_err(|e| KalamError::exec(e.to_string()))?;
    hash_password(password).await
}

/// Acting on a user whose role is (or becomes) `system` needs that role.
fn allow_system_user(caller_role: Role, verb: &str, user: &UserId) -> Result<()> {
    access::allow(
        caller_role,
        Action::ManageSystemUser {
            verb,
            user: user.as_str(),
        },
    )
}

fn not_found(id: &UserId) -> KalamError {
    KalamError::exec(format!("User '{id}' not found"))
}

pub async fn create_user(
    shared: &Arc<Shared>,
    caller: &Caller,
    name: &str,
    password: Option<String>,
    role: Role,
    email: Option<String>,
) -> Result<StatementOutput> {
    access::allow(caller.role, Action::Administer("CREATE USER"))?;
    let id = new_user_id(name)?;
    if role == Role::System {
        allow_system_user(caller.role, "create", &id)?;
    }
    if let Some(e) = &email {
        check_email(e)?;
    }
    if shared.catalog.user(&id)?.is_some() {
        return Err(KalamError::exec(format!("User '{id}' already exists")));
    }
    let hash = match password {
        Some(p) => Some(hash_checked(p).await?),
        None => None,
    };
    store_user(shared, UserRecord::new(id.clone(), role, hash, email)).await?;
    Ok(StatementOutput::Message(format!("User '{id}' created")))
}

pub async fn alter_user(
    shared: &Arc<Shared>,
    caller: &Caller,
    name: &str,
    change: AlterUserChange,
) -> Result<StatementOutput> {
    let id = UserId::parse(name).map_err(|_| not_found_name(name))?;
    let is_self = id == caller.user;
    match &change {
        AlterUserChange::Password(_) | AlterUserChange::Email(_) if is_self => {
            access::allow(caller.role, Action::AlterOwnAccount)?
        }
        _ => access::allow(caller.role, Action::Administer("ALTER USER"))?,
    }
    if shared
        .catalog
        .user(&id)?
        .filter(UserRecord::is_active)
        .is_none()
    {
        return Err(not_found(&id));
    }
    enum Change {
        Password(String),
        Role(Role),
        Email(String),
    }
    let change = match change {
        AlterUserChange::Password(p) => Change::Password(hash_checked(p).await?),
        AlterUserChange::Email(e) => {
            check_email(&e)?;
            Change::Email(e)
        }
        AlterUserChange::Role(r) => {
            if id.is_root() {
                access::allow(caller.role, Action::ChangeRootRole)?;
            }
            if r == Role::System {
                allow_system_user(caller.role, "alter", &id)?;
            }
            Change::Role(r)
        }
    };
    let caller_role = caller.role;
    let target = id.clone();
    let written = update_user_durable(shared, &id, move |u| {
        if u.role == Role::System && !is_self {
            allow_system_user(caller_role, "alter", &target)?;
        }
        match change {
            Change::Password(hash) => {
                u.password_hash = Some(hash);
                // A reset password is how an admin unlocks an account.
                u.failed_login_attempts = 0;
                u.locked_until = None;
            }
            Change::Role(r) => u.role = r,
            Change::Email(e) => u.email = Some(e),
        }
        u.updated_at = kalamdb_types::now_micros();
        Ok(())
    })
    .await?;
    match written {
        Some(_) => Ok(StatementOutput::Message(format!("User '{id}' updated"))),
        None => Err(not_found(&id)),
    }
}

fn not_found_name(name: &str) -> KalamError {
    KalamError::exec(format!("User '{name}' not found"))
}

pub async fn drop_user(
    maintenance: &Arc<Maintenance>,
    live: &LiveHub,
    caller: &Caller,
    name: &str,
    if_exists: bool,
) -> Result<StatementOutput> {
    let shared = maintenance.shared();
    access::allow(caller.role, Action::Administer("DROP USER"))?;
    let skipped = || {
        Ok(StatementOutput::Message(format!(
            "User '{name}' does not exist (skipped)"
        )))
    };
    let Ok(id) = UserId::parse(name) else {
        return if if_exists {
            skipped()
        } else {
            Err(not_found_name(name))
        };
    };
    if id.is_root() {
        access::allow(caller.role, Action::DropRoot)?;
    }
    if id == caller.user {
        access::allow(caller.role, Action::DropSelf(id.as_str()))?;
    }
    let caller_role = caller.role;
    let target = id.clone();
    let written = update_user_durable(shared, &id, move |u| {
        if u.role == Role::System {
            allow_system_user(caller_role, "drop", &target)?;
        }
        let now = kalamdb_types::now_micros();
        u.deleted_at = Some(now);
        u.updated_at = now;
        Ok(())
    })
    .await?;
    match written {
        Some(_) => {
            // Its open WebSocket connections close with 1008 (§6.10).
            live.user_dropped(&id);
            // Without a grace period the cleanup job starts now (sql.md §5).
            if maintenance.user_grace.is_zero() {
                maintenance.submit_user_cleanup(&id).await?;
            }
            Ok(StatementOutput::Message(format!(
                "User '{id}' dropped (soft delete)"
            )))
        }
        None if if_exists => skipped(),
        None => Err(not_found(&id)),
    }
}

/// Resolves the target of `EXECUTE AS USER` and checks the caller may act as
/// it: itself always; otherwise service → user/service, dba → also dba,
/// system → anyone (`wire-protocol.md` §5.6).
pub fn execute_as_target(shared: &Shared, caller: &Caller, name: &str) -> Result<UserRecord> {
    let is_self = name == caller.user.as_str();
    // A role that may act as nobody else (a plain user) is refused before
    // the lookup: answering "not found" first would let it probe which
    // accounts exist.
    if !is_self {
        access::allow(caller.role, Action::ExecuteAs { target: None, name })?;
    }
    let target = UserId::parse(name)
        .ok()
        .map(|id| shared.catalog.user(&id))
        .transpose()?
        .flatten()
        .filter(UserRecord::is_active)
        .ok_or_else(|| not_found_name(name))?;
    if !is_self {
        access::allow(
            caller.role,
            Action::ExecuteAs {
                target: Some(target.role),
                name,
            },
        )?;
    }
    Ok(target)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_invalid_names() {
        assert!(new_user_id("alice").is_ok());
        assert!(new_user_id("Alice-01_x").is_ok());
        assert!(new_user_id("anonymous").is_err());
        assert!(new_user_id("ANONYMOUS").is_err());
        assert!(new_user_id("a b").is_err());
        assert!(new_user_id("").is_err());
    }

    #[test]
    fn emails() {
        assert!(check_email("a@b.c").is_ok());
        assert!(check_email("a@localhost").is_ok());
        for bad in ["", "ab", "@b", "a@", "a b@c", "a@b\n"] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_email(&format!("{}@b.c", "a".repeat(300))).is_err());
    }
}
