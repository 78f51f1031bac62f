//! The records the catalog persists in the `meta` keyspace as JSON:
//! namespaces, views and users (tables are `kalamdb_types::TableDefinition`), and
//! their codec.

use kalamdb_store::MetaKey;
use kalamdb_types::{NamespaceId, Role, TableId, UserId};
use serde::{Deserialize, Serialize};

use crate::error::{KalamError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceRecord {
    pub name: NamespaceId,
    pub created_at: i64,
    pub options: serde_json::Value,
}

/// A view as persisted (`sql.md` §2.6a): its query's text, planned anew
/// each time a statement names the view, as that statement's caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewRecord {
    pub id: TableId,
    pub sql: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user as persisted (`system.users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: UserId,
    /// Argon2id PHC string; `None` for users that cannot log in (and for a
    /// root that still awaits its first-run password).
    pub password_hash: Option<String>,
    pub role: Role,
    pub email: Option<String>,
    pub auth_type: String,
    pub auth_data: Option<String>,
    pub storage_mode: Option<String>,
    pub storage_id: Option<String>,
    pub failed_login_attempts: u32,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl UserRecord {
    pub fn new(
        user_id: UserId,
        role: Role,
        password_hash: Option<String>,
        email: Option<String>,
    ) -> Self {
        let now = kalamdb_types::now_micros();
        Self {
            user_id,
            password_hash,
            role,
            email,
            auth_type: "internal".into(),
            auth_data: None,
            storage_mode: None,
            storage_id: None,
            failed_login_attempts: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            last_seen: None,
            deleted_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

pub fn user_key(id: &UserId) -> Vec<u8> {
    MetaKey::User(id.clone()).encode()
}

pub fn encode_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(KalamError::internal)
}

pub fn decode_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| KalamError::internal(format!("corrupt catalog record: {e}")))
}
