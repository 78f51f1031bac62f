//! Why a subscription was refused or ended ([`LiveError`]), classified for
//! the WebSocket error codes of `wire-protocol.md` §6.9, and its HTTP face
//! for `SUBSCRIBE TO`.

use kalamdb_types::TableId;

use crate::error::KalamError;

/// Why a subscription was refused or ended (the API maps these to the
/// WebSocket error codes of `wire-protocol.md` §6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveErrorKind {
    InvalidSql,
    Unsupported,
    NotFound,
    Unauthorized,
    LimitExceeded,
    Failed,
    Conversion,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LiveError {
    pub kind: LiveErrorKind,
    pub message: String,
}

impl LiveError {
    pub fn new(kind: LiveErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn from_kalam(e: KalamError) -> Self {
        let kind = match &e {
            KalamError::InvalidSql(_) | KalamError::EmptySql(_) | KalamError::BatchParse(_) => {
                LiveErrorKind::InvalidSql
            }
            KalamError::TableNotFound(_) => LiveErrorKind::NotFound,
            KalamError::PermissionDenied(_) => LiveErrorKind::Unauthorized,
            _ => LiveErrorKind::Failed,
        };
        Self::new(kind, e.to_string())
    }

    /// What the subscribers of a dropped table receive (§6.7).
    pub fn dropped(table: &TableId) -> Self {
        Self::new(
            LiveErrorKind::NotFound,
            format!("Table '{table}' was dropped"),
        )
    }

    /// What a subscription ends with when an ALTER TABLE changed a column
    /// it uses, or its subscriber's right to read the table (`sql.md` §2.6).
    pub fn schema_changed() -> Self {
        Self::new(LiveErrorKind::Failed, "Table schema changed; re-subscribe")
    }

    /// The HTTP face of a refusal (`SUBSCRIBE TO`, `sql.md` §6).
    pub fn into_kalam(self) -> KalamError {
        match self.kind {
            LiveErrorKind::InvalidSql | LiveErrorKind::Unsupported => {
                KalamError::InvalidSql(self.message)
            }
            LiveErrorKind::NotFound => match self
                .message
                .strip_prefix("Table '")
                .and_then(|m| m.strip_suffix("' not found"))
            {
                Some(table) => KalamError::TableNotFound(table.to_string()),
                // An unknown column, as a query would report it.
                None => KalamError::Execution(self.message),
            },
            LiveErrorKind::Unauthorized => KalamError::PermissionDenied(self.message),
            _ => KalamError::Execution(self.message),
        }
    }
}

/// A query shape live queries do not support.
pub fn unsupported(what: &str) -> LiveError {
    LiveError::new(
        LiveErrorKind::Unsupported,
        format!("{what} are not supported in live queries"),
    )
}
