//! The permission matrix of `wire-protocol.md` §5.6, in one place.

use kalamdb_types::{AccessLevel, Role, TableDefinition, TableType};

use crate::error::{KalamError, Result};
use crate::provider::QueryContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// May the context's role read or write rows of this table? USER and STREAM
/// tables are open to every role because the partition (the caller's own)
/// already confines them; SHARED tables are gated by ACCESS_LEVEL.
pub fn check_table(def: &TableDefinition, ctx: &QueryContext, access: Access) -> Result<()> {
    if ctx.execute_as && def.table_type == TableType::Shared {
        return Err(KalamError::exec(
            "EXECUTE AS USER is not allowed on SHARED tables",
        ));
    }
    let allowed = match def.table_type {
        TableType::User | TableType::Stream => true,
        TableType::System => ctx.role.is_admin() && access == Access::Read,
        TableType::Shared => {
            let level = def.options.access_level.unwrap_or_default();
            match (ctx.role, access) {
                (Role::Dba | Role::System, _) => true,
                (Role::Service, _) => level != AccessLevel::Dba,
                (Role::User, Access::Read) => level == AccessLevel::Public,
                (Role::User, Access::Write) => false,
            }
        }
    };
    if allowed {
        Ok(())
    } else {
        let verb = match access {
            Access::Read => "read",
            Access::Write => "write to",
        };
        Err(KalamError::PermissionDenied(format!(
            "Insufficient privileges to {verb} table '{}'",
            def.id()
        )))
    }
}

/// Which table kinds a role may create (§5.6).
pub fn check_create_table(role: Role, kind: TableType) -> Result<()> {
    let allowed = match role {
        Role::User => matches!(kind, TableType::User | TableType::Stream),
        Role::Service => kind != TableType::System,
        Role::Dba | Role::System => kind != TableType::System,
    };
    if allowed {
        Ok(())
    } else {
        Err(KalamError::PermissionDenied(format!(
            "Insufficient privileges to create {} tables",
            kind.upper()
        )))
    }
}

/// Statements reserved to dba and system.
pub fn require_admin(role: Role, what: &str) -> Result<()> {
    if role.is_admin() {
        Ok(())
    } else {
        Err(KalamError::PermissionDenied(format!(
            "Insufficient privileges for {what} (requires role dba or system)"
        )))
    }
}
