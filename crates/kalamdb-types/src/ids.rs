//! Identifiers and the naming rules of `sql.md` §0.
//!
//! Every identifier is validated once, at construction from user input, so the
//! rest of the server can put it in a storage key or a file path without
//! re-checking (no `..`, no `/`, no control bytes can reach the disk).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Namespaces users may not create (`sql.md` §0).
pub const RESERVED_NAMESPACES: &[&str] = &[
    "system",
    "sys",
    "root",
    "kalamdb",
    "kalam",
    "main",
    "default",
    "sql",
    "admin",
    "internal",
    "information_schema",
    "pg_catalog",
    "datafusion",
];

/// SQL keywords that cannot name a namespace, table, column or storage.
/// Deliberately the reserved core of SQL, not every keyword sqlparser knows
/// (that list contains everyday words such as `name` or `data`).
const RESERVED_KEYWORDS: &[&str] = &[
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "references",
    "right",
    "select",
    "set",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "using",
    "values",
    "when",
    "where",
    "with",
];

/// Why a name was refused; the `Display` text is the message of `sql.md` §0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Name cannot be empty")]
    Empty,
    #[error("Name cannot start with a number")]
    StartsWithDigit,
    #[error("Name cannot start with underscore (reserved for system columns)")]
    StartsWithUnderscore,
    #[error("Name is too long ({0} characters, max 64)")]
    TooLong(usize),
    #[error("Name '{0}' contains invalid characters (only alphanumeric and underscore allowed)")]
    InvalidCharacters(String),
    #[error("Name '{0}' is a reserved SQL keyword and cannot be used")]
    ReservedKeyword(String),
    #[error("Namespace '{0}' is reserved and cannot be used")]
    ReservedNamespace(String),
    #[error("Invalid user name '{0}'")]
    InvalidUserName(String),
}

/// Checks the rule shared by namespace, table, column and storage names.
pub fn validate_object_name(name: &str) -> Result<(), NameError> {
    let first = name.chars().next().ok_or(NameError::Empty)?;
    if first.is_ascii_digit() {
        return Err(NameError::StartsWithDigit);
    }
    if first == '_' {
        return Err(NameError::StartsWithUnderscore);
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(NameError::InvalidCharacters(name.to_string()));
    }
    if name.len() > 64 {
        return Err(NameError::TooLong(name.len()));
    }
    if RESERVED_KEYWORDS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(NameError::ReservedKeyword(name.to_string()));
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A namespace (a DataFusion schema in catalog `kalam`).
    NamespaceId
);
string_id!(
    /// A table name within a namespace.
    TableName
);
string_id!(
    /// A user id: 1–128 of `A–Z a–z 0–9 _ -`, case-sensitive.
    UserId
);
string_id!(
    /// A storage id (`local` is built in).
    StorageId
);

impl NamespaceId {
    /// A namespace a user may create: the object-name rule plus the reserved list.
    pub fn parse_user(name: &str) -> Result<Self, NameError> {
        // Reserved before the keyword check: `default` is both, and sql.md
        // §0 answers it as a reserved namespace.
        if Self::is_reserved(name) {
            return Err(NameError::ReservedNamespace(name.to_string()));
        }
        validate_object_name(name)?;
        Ok(Self(name.to_string()))
    }

    /// An existing or built-in namespace (`default`, `system`): checks the
    /// character rules only, so lookups of reserved names still work.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        if RESERVED_NAMESPACES.contains(&name) {
            return Ok(Self(name.to_string()));
        }
        validate_object_name(name)?;
        Ok(Self(name.to_string()))
    }

    pub fn is_reserved(name: &str) -> bool {
        RESERVED_NAMESPACES.contains(&name.to_ascii_lowercase().as_str())
    }

    pub fn default_namespace() -> Self {
        Self("default".to_string())
    }

    pub fn system() -> Self {
        Self("system".to_string())
    }

    pub fn is_system(&self) -> bool {
        self.0 == "system"
    }
}

impl TableName {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        validate_object_name(name)?;
        Ok(Self(name.to_string()))
    }

    /// Names of built-in tables (`system.*`), which are not user-creatable.
    pub fn builtin(name: &str) -> Self {
        Self(name.to_string())
    }
}

impl StorageId {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        validate_object_name(name)?;
        Ok(Self(name.to_string()))
    }

    pub fn local() -> Self {
        Self("local".to_string())
    }
}

impl UserId {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(NameError::InvalidUserName(name.to_string()));
        }
        Ok(Self(name.to_string()))
    }

    pub fn root() -> Self {
        Self("root".to_string())
    }

    pub fn is_root(&self) -> bool {
        self.0 == "root"
    }
}

/// A fully qualified table: `namespace.table`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TableId {
    pub namespace: NamespaceId,
    pub table: TableName,
}

impl TableId {
    pub fn new(namespace: NamespaceId, table: TableName) -> Self {
        Self { namespace, table }
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_the_spec_rules() {
        assert!(validate_object_name("messages_2").is_ok());
        assert_eq!(
            validate_object_name("1abc"),
            Err(NameError::StartsWithDigit)
        );
        assert_eq!(
            validate_object_name("_seq"),
            Err(NameError::StartsWithUnderscore)
        );
        assert_eq!(
            validate_object_name("a-b"),
            Err(NameError::InvalidCharacters("a-b".into()))
        );
        assert_eq!(
            validate_object_name("../etc"),
            Err(NameError::InvalidCharacters("../etc".into()))
        );
        assert_eq!(
            validate_object_name(&"a".repeat(65)),
            Err(NameError::TooLong(65))
        );
        assert_eq!(
            validate_object_name("select"),
            Err(NameError::ReservedKeyword("select".into()))
        );
        assert_eq!(
            NamespaceId::parse_user("system"),
            Err(NameError::ReservedNamespace("system".into()))
        );
        assert!(NamespaceId::parse("default").is_ok());
    }

    #[test]
    fn user_ids_accept_the_client_alphabet_only() {
        assert!(UserId::parse("alice-01_X").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("a/b").is_err());
        assert!(UserId::parse(&"a".repeat(129)).is_err());
    }
}
