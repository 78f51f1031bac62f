//! Who asks, and what they may do: the permission matrix of
//! `wire-protocol.md` §5.6 as one table ([`MATRIX`]) and the one function
//! that consults it ([`allow`]).
//!
//! Every `PERMISSION_DENIED` the engine answers is built here, worded by the
//! [`Action`] that was refused; the roles a refusal names as required are
//! read from the same table, so the message cannot disagree with the rule.
//! The layers above only say what a statement is about to do.
//!
//! Imports nothing of the engine but its error type.

use kalamdb_types::{AccessLevel, Role, TableDefinition, TableType, UserId};

use crate::error::{KalamError, Result};

/// Who sends a request, as the API layer authenticated it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserId,
    pub role: Role,
    /// Set for the inner statement of `EXECUTE AS USER` (then `user` is the
    /// target and `role` is `user`).
    pub execute_as: bool,
}

impl Caller {
    pub fn new(user: UserId, role: Role) -> Self {
        Self {
            user,
            role,
            execute_as: false,
        }
    }
}

/// One row of the §5.6 table (a row with a parameter, such as a SHARED
/// table's access level, is one row per value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// USER and STREAM tables: read and write the caller's own rows (the
    /// partition, not this table, confines them to their owner).
    OwnRows,
    SharedRead(AccessLevel),
    SharedWrite(AccessLevel),
    /// `system.namespaces`, `.tables`, `.columns`, `information_schema`.
    PublicSystemTables,
    /// Every other `system.*` table.
    OtherSystemTables,
    CreateTable(TableType),
    /// DROP TABLE; namespace, storage and user DDL; KILL JOB / LIVE QUERY.
    Administer,
    /// Create, alter or drop a user whose role is `system`.
    SystemRoleUsers,
    /// STORAGE FLUSH / COMPACT, and watching their jobs.
    StorageJobs,
    /// CREATE / DROP VIEW (`sql.md` §2.6a).
    ManageViews,
    /// ALTER USER self SET PASSWORD / EMAIL.
    AlterOwnAccount,
    /// EXPLAIN, SET, SHOW (DataFusion's own statements).
    DataFusionMeta,
    /// EXECUTE AS USER a user of this role (oneself is always allowed).
    ExecuteAs(Role),
    /// (ours) Writing to namespace `system` or creating tables in it.
    WriteSystemNamespace,
    /// (ours) Dropping `root` or changing its role.
    ChangeRoot,
    /// (ours) Dropping one's own account.
    DropOwnAccount,
}

const Y: bool = true;
const N: bool = false;

/// `wire-protocol.md` §5.6: per capability, whether `[user, service, dba,
/// system]` have it. The one source of every permission decision.
pub const MATRIX: &[(Capability, [bool; 4])] = {
    use AccessLevel::{Dba as LDba, Private, Public, Restricted};
    use Capability::*;
    &[
        (OwnRows, [Y, Y, Y, Y]),
        (SharedRead(Public), [Y, Y, Y, Y]),
        (SharedRead(Private), [N, Y, Y, Y]),
        (SharedRead(Restricted), [N, Y, Y, Y]),
        (SharedRead(LDba), [N, N, Y, Y]),
        (SharedWrite(Public), [N, Y, Y, Y]),
        (SharedWrite(Private), [N, Y, Y, Y]),
        (SharedWrite(Restricted), [N, Y, Y, Y]),
        (SharedWrite(LDba), [N, N, Y, Y]),
        (PublicSystemTables, [Y, Y, Y, Y]),
        (OtherSystemTables, [N, N, Y, Y]),
        (CreateTable(TableType::User), [Y, Y, Y, Y]),
        (CreateTable(TableType::Stream), [Y, Y, Y, Y]),
        (CreateTable(TableType::Shared), [N, Y, Y, Y]),
        (CreateTable(TableType::System), [N, N, N, N]),
        (Administer, [N, N, Y, Y]),
        (SystemRoleUsers, [N, N, N, Y]),
        (StorageJobs, [N, Y, Y, Y]),
        (ManageViews, [N, Y, Y, Y]),
        (AlterOwnAccount, [Y, Y, Y, Y]),
        (DataFusionMeta, [N, N, Y, Y]),
        (ExecuteAs(Role::User), [N, Y, Y, Y]),
        (ExecuteAs(Role::Service), [N, Y, Y, Y]),
        (ExecuteAs(Role::Dba), [N, N, Y, Y]),
        (ExecuteAs(Role::System), [N, N, N, Y]),
        (WriteSystemNamespace, [N, N, N, N]),
        (ChangeRoot, [N, N, N, N]),
        (DropOwnAccount, [N, N, N, N]),
    ]
};

/// The `system` tables every role may read (the rest need `OtherSystemTables`).
pub const PUBLIC_SYSTEM_TABLES: &[&str] = &["namespaces", "tables", "columns"];

const ROLES: [Role; 4] = [Role::User, Role::Service, Role::Dba, Role::System];

fn column(role: Role) -> usize {
    match role {
        Role::User => 0,
        Role::Service => 1,
        Role::Dba => 2,
        Role::System => 3,
    }
}

/// Does `role` have `cap`? A capability missing from the table is nobody's.
pub fn has(role: Role, cap: Capability) -> bool {
    MATRIX
        .iter()
        .find(|(c, _)| *c == cap)
        .and_then(|(_, roles)| roles.get(column(role)).copied())
        .unwrap_or(false)
}

/// "dba or system", "service, dba or system": the roles having `cap`.
fn required_roles(cap: Capability) -> String {
    let names: Vec<&str> = ROLES
        .iter()
        .filter(|r| has(**r, cap))
        .map(|r| r.as_str())
        .collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "none".to_string(),
    }
}

/// What a statement is about to do, with what its refusal names.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    ReadTable(&'a TableDefinition),
    WriteTable(&'a TableDefinition),
    /// `system.<name>`.
    ReadSystemTable(&'a str),
    CreateTable(TableType),
    /// ALTER TABLE of a table of this kind (the roles that may create it).
    AlterTable(TableType),
    CreateTableInSystem,
    /// A write to a table of namespace `system`, by its qualified name.
    WriteSystemTable(&'a str),
    /// A dba/system statement, by its name ("DROP TABLE").
    Administer(&'a str),
    /// STORAGE FLUSH / STORAGE COMPACT, by name.
    StorageJob(&'a str),
    /// `GET /v1/api/jobs/{id}`.
    WatchJobs,
    /// CREATE VIEW / DROP VIEW, by name.
    ManageView(&'a str),
    DataFusionMeta,
    /// `verb` ("create", "alter", "drop") a user whose role is `system`.
    ManageSystemUser {
        verb: &'a str,
        user: &'a str,
    },
    AlterOwnAccount,
    ChangeRootRole,
    DropRoot,
    DropSelf(&'a str),
    /// EXECUTE AS USER `name`; `target` is its role once known (`None`:
    /// asked before the lookup, allowed if any target role is).
    ExecuteAs {
        target: Option<Role>,
        name: &'a str,
    },
}

impl Action<'_> {
    /// The capabilities that would allow it (any one suffices).
    fn capabilities(&self) -> Vec<Capability> {
        match self {
            Action::ReadTable(def) => vec![table_capability(def, false)],
            Action::WriteTable(def) => vec![table_capability(def, true)],
            Action::ReadSystemTable(name) => vec![if PUBLIC_SYSTEM_TABLES.contains(name) {
                Capability::PublicSystemTables
            } else {
                Capability::OtherSystemTables
            }],
            Action::CreateTable(kind) | Action::AlterTable(kind) => {
                vec![Capability::CreateTable(*kind)]
            }
            Action::CreateTableInSystem | Action::WriteSystemTable(_) => {
                vec![Capability::WriteSystemNamespace]
            }
            Action::Administer(_) => vec![Capability::Administer],
            Action::StorageJob(_) | Action::WatchJobs => vec![Capability::StorageJobs],
            Action::ManageView(_) => vec![Capability::ManageViews],
            Action::DataFusionMeta => vec![Capability::DataFusionMeta],
            Action::ManageSystemUser { .. } => vec![Capability::SystemRoleUsers],
            Action::AlterOwnAccount => vec![Capability::AlterOwnAccount],
            Action::ChangeRootRole | Action::DropRoot => vec![Capability::ChangeRoot],
            Action::DropSelf(_) => vec![Capability::DropOwnAccount],
            Action::ExecuteAs {
                target: Some(r), ..
            } => vec![Capability::ExecuteAs(*r)],
            Action::ExecuteAs { target: None, .. } => {
                ROLES.iter().map(|r| Capability::ExecuteAs(*r)).collect()
            }
        }
    }

    /// The refusal, as clients read it (names the table or statement).
    fn denied(&self, role: Role) -> KalamError {
        let msg = match self {
            Action::ReadTable(def) => {
                format!("Insufficient privileges to read table '{}'", def.id())
            }
            Action::WriteTable(def) => {
                format!("Insufficient privileges to write to table '{}'", def.id())
            }
            Action::ReadSystemTable(name) => {
                format!("Insufficient privileges to read table 'system.{name}'")
            }
            Action::CreateTable(kind) => {
                format!("Insufficient privileges to create {} tables", kind.upper())
            }
            Action::AlterTable(kind) => {
                format!("Insufficient privileges to alter {} tables", kind.upper())
            }
            Action::CreateTableInSystem => "Tables cannot be created in namespace 'system'".into(),
            Action::WriteSystemTable(name) => format!("System table '{name}' is read-only"),
            Action::Administer(what) => format!(
                "Insufficient privileges for {what} (requires role {})",
                required_roles(Capability::Administer)
            ),
            Action::DataFusionMeta => format!(
                "Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role {})",
                required_roles(Capability::DataFusionMeta)
            ),
            Action::StorageJob(what) => format!(
                "Insufficient privileges for {what} (requires role {})",
                required_roles(Capability::StorageJobs)
            ),
            Action::ManageView(what) => format!(
                "Insufficient privileges for {what} (requires role {})",
                required_roles(Capability::ManageViews)
            ),
            Action::WatchJobs => format!(
                "Insufficient privileges to read jobs (requires role {})",
                required_roles(Capability::StorageJobs)
            ),
            Action::ManageSystemUser { verb, user } => format!(
                "Insufficient privileges to {verb} user '{user}' with role 'system' (requires role {})",
                required_roles(Capability::SystemRoleUsers)
            ),
            Action::AlterOwnAccount => "Insufficient privileges for ALTER USER".into(),
            Action::ChangeRootRole => "The role of user 'root' cannot be changed".into(),
            Action::DropRoot => "User 'root' cannot be dropped".into(),
            Action::DropSelf(user) => format!("User '{user}' cannot drop itself"),
            Action::ExecuteAs { name, .. } => {
                format!("Role '{}' cannot execute as user '{name}'", role.as_str())
            }
        };
        KalamError::PermissionDenied(msg)
    }
}

/// The capability a table action needs. USER and STREAM tables are open to
/// every role because the partition (the caller's own) confines them;
/// SHARED tables are gated by `ACCESS_LEVEL`; SYSTEM ones are read-only.
fn table_capability(def: &TableDefinition, write: bool) -> Capability {
    match (def.table_type, write) {
        (TableType::User | TableType::Stream, _) => Capability::OwnRows,
        (TableType::System, false) => Capability::OtherSystemTables,
        (TableType::System, true) => Capability::WriteSystemNamespace,
        (TableType::Shared, false) => {
            Capability::SharedRead(def.options.access_level.unwrap_or_default())
        }
        (TableType::Shared, true) => {
            Capability::SharedWrite(def.options.access_level.unwrap_or_default())
        }
    }
}

/// May `role` do `action`? `Err(PermissionDenied)` worded for the action if not.
pub fn allow(role: Role, action: Action<'_>) -> Result<()> {
    if action.capabilities().into_iter().any(|c| has(role, c)) {
        Ok(())
    } else {
        Err(action.denied(role))
    }
}

/// May `caller` read (or write) rows of this table? Inside `EXECUTE AS
/// USER` SHARED tables are refused whatever the role (`sql.md` §3.6): the
/// inner statement acts in one user's partition only.
pub fn allow_table(caller: &Caller, def: &TableDefinition, write: bool) -> Result<()> {
    if caller.execute_as && def.table_type == TableType::Shared {
        return Err(KalamError::exec(
            "EXECUTE AS USER is not allowed on SHARED tables",
        ));
    }
    let action = if write {
        Action::WriteTable(def)
    } else {
        Action::ReadTable(def)
    };
    allow(caller.role, action)
}

#[cfg(test)]
mod tests;
