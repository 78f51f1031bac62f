//! Roles (`wire-protocol.md` §5.6).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user's role. Ordered by privilege: `User < Service < Dba < System`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Service,
    Dba,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Service => "service",
            Role::Dba => "dba",
            Role::System => "system",
        }
    }

    /// Parses a role name or one of the SQL aliases of §5.6, case-insensitively.
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "user" | "viewer" | "readonly" => Some(Role::User),
            "service" | "developer" | "analyst" => Some(Role::Service),
            "dba" | "admin" => Some(Role::Dba),
            "system" => Some(Role::System),
            _ => None,
        }
    }

    /// dba and system administer the server.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Dba | Role::System)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_roles() {
        assert_eq!(Role::parse("ADMIN"), Some(Role::Dba));
        assert_eq!(Role::parse("analyst"), Some(Role::Service));
        assert_eq!(Role::parse("readonly"), Some(Role::User));
        assert_eq!(Role::parse("superuser"), None);
        assert!(
            Role::System > Role::Dba && Role::Dba > Role::Service && Role::Service > Role::User
        );
    }
}
