//! Table definitions as the catalog persists them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::datatype::KalamDataType;
use crate::ids::{NamespaceId, StorageId, TableId, TableName};

pub const SYSTEM_COLUMN_SEQ: &str = "_seq";
pub const SYSTEM_COLUMN_DELETED: &str = "_deleted";

/// The kind of a table (`sql.md` §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableType {
    /// One logical table, partitioned per owning user.
    User,
    /// One partition for everyone, gated by [`AccessLevel`].
    Shared,
    /// Partitioned like USER, append-only, TTL-bounded, never flushed.
    Stream,
    /// Built-in `system.*` tables.
    System,
}

impl TableType {
    pub fn as_str(self) -> &'static str {
        match self {
            TableType::User => "user",
            TableType::Shared => "shared",
            TableType::Stream => "stream",
            TableType::System => "system",
        }
    }

    /// `USER`, `SHARED`, … as used in messages.
    pub fn upper(self) -> &'static str {
        match self {
            TableType::User => "USER",
            TableType::Shared => "SHARED",
            TableType::Stream => "STREAM",
            TableType::System => "SYSTEM",
        }
    }

    pub fn parse(s: &str) -> Option<TableType> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Some(TableType::User),
            "shared" => Some(TableType::Shared),
            "stream" => Some(TableType::Stream),
            _ => None,
        }
    }

    /// Whether rows are partitioned by owning user.
    pub fn is_per_user(self) -> bool {
        matches!(self, TableType::User | TableType::Stream)
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may read and write a SHARED table (`wire-protocol.md` §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    Public,
    #[default]
    Private,
    Restricted,
    Dba,
}

impl AccessLevel {
    pub fn parse(s: &str) -> Option<AccessLevel> {
        match s.to_ascii_lowercase().as_str() {
            "public" => Some(AccessLevel::Public),
            "private" => Some(AccessLevel::Private),
            "restricted" => Some(AccessLevel::Restricted),
            "dba" => Some(AccessLevel::Dba),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Public => "public",
            AccessLevel::Private => "private",
            AccessLevel::Restricted => "restricted",
            AccessLevel::Dba => "dba",
        }
    }
}

/// When a table's hot rows move to Parquet: at `rows` unflushed rows or when
/// the oldest unflushed row is `interval_secs` old, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushPolicy {
    pub rows: Option<u64>,
    pub interval_secs: Option<u64>,
}

impl FlushPolicy {
    /// The spec's canonical text: `rows:N`, `interval:S` or `rows:N,interval:S`.
    pub fn to_option_string(&self) -> String {
        match (self.rows, self.interval_secs) {
            (Some(r), Some(s)) => format!("rows:{r},interval:{s}"),
            (Some(r), None) => format!("rows:{r}"),
            (None, Some(s)) => format!("interval:{s}"),
            (None, None) => String::new(),
        }
    }
}

impl Default for FlushPolicy {
    fn default() -> Self {
        Self {
            rows: Some(10_000),
            interval_secs: Some(300),
        }
    }
}

/// Per-table options (`sql.md` §2.1). Options that do not apply to the
/// table's kind are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TableOptions {
    pub storage_id: Option<StorageId>,
    pub flush_policy: Option<FlushPolicy>,
    pub ttl_seconds: Option<u64>,
    pub deleted_retention_hours: Option<u64>,
    pub access_level: Option<AccessLevel>,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDefinition {
    /// Stable id, never reused within a table (survives renames and drops).
    pub column_id: u32,
    pub name: String,
    pub data_type: KalamDataType,
    pub nullable: bool,
    pub primary_key: bool,
    /// The DEFAULT expression as SQL text (`'x'`, `0`, `NOW()`, `SNOWFLAKE_ID()`).
    pub default: Option<String>,
    /// 1-based position among the user columns.
    pub ordinal: u32,
    pub comment: Option<String>,
    /// The schema version that added the column (1: created with the table).
    /// Rows written under an older version have no value for it and read
    /// [`Self::fill`].
    #[serde(default = "first_version", skip_serializing_if = "is_first_version")]
    pub since_version: u32,
    /// What rows written before the column existed read: the ADD COLUMN's
    /// DEFAULT, evaluated once at the ALTER, as a SQL literal (`sql.md` §2.6).
    /// `None`: NULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<String>,
}

fn first_version() -> u32 {
    1
}

fn is_first_version(v: &u32) -> bool {
    *v == 1
}

impl ColumnDefinition {
    /// A column of a new table (schema version 1).
    pub fn new(column_id: u32, name: impl Into<String>, data_type: KalamDataType) -> Self {
        Self {
            column_id,
            name: name.into(),
            data_type,
            nullable: true,
            primary_key: false,
            default: None,
            ordinal: column_id,
            comment: None,
            since_version: 1,
            fill: None,
        }
    }
}

/// A user table's definition: what the catalog persists and every provider,
/// writer and flush job reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDefinition {
    pub namespace: NamespaceId,
    pub name: TableName,
    pub table_type: TableType,
    /// User columns in ordinal order (system columns are implied).
    pub columns: Vec<ColumnDefinition>,
    /// Schema version, 1 at creation, +1 per effective ALTER.
    pub version: u32,
    pub options: TableOptions,
    pub comment: Option<String>,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// The next `column_id` to give (ids are never reused, also after a
    /// drop). 0 in definitions written before ALTER TABLE existed: then one
    /// above the largest id, since no column could have been dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_column_id: u32,
    /// Writes planned under a version older than this are refused at commit
    /// (the ALTER that set it tightened a constraint they were not checked
    /// against: `SET NOT NULL`, `MODIFY … NOT NULL`). 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub writable_since: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl TableDefinition {
    pub fn id(&self) -> TableId {
        TableId::new(self.namespace.clone(), self.name.clone())
    }

    /// The declared primary key column, if any. Tables without one are keyed
    /// by a hidden row id.
    pub fn primary_key(&self) -> Option<(usize, &ColumnDefinition)> {
        self.columns.iter().enumerate().find(|(_, c)| c.primary_key)
    }

    /// The `column_id` the next added column gets.
    pub fn fresh_column_id(&self) -> u32 {
        let above = self.columns.iter().map(|c| c.column_id).max().unwrap_or(0) + 1;
        self.next_column_id.max(above)
    }

    pub fn column(&self, name: &str) -> Option<(usize, &ColumnDefinition)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// Options as the JSON object `system.tables.options` shows.
    pub fn options_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if let Some(s) = &self.options.storage_id {
            m.insert("storage_id".into(), s.as_str().into());
        }
        if let Some(p) = &self.options.flush_policy {
            m.insert("flush_policy".into(), p.to_option_string().into());
        }
        if let Some(t) = self.options.ttl_seconds {
            m.insert("ttl_seconds".into(), t.into());
        }
        if let Some(h) = self.options.deleted_retention_hours {
            m.insert("deleted_retention_hours".into(), h.into());
        }
        if let Some(a) = self.options.access_level {
            m.insert("access_level".into(), a.as_str().into());
        }
        serde_json::Value::Object(m)
    }
}
