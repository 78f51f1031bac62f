//! KalamDB's shared vocabulary.
//!
//! Owns the strong types every other crate speaks in: identifiers
//! ([`NamespaceId`], [`TableName`], [`TableId`], [`UserId`]), [`Role`],
//! [`TableType`], column types ([`KalamDataType`], with the wire spellings of
//! `wire-protocol.md` §3.4), table definitions as persisted in the catalog, and
//! the Snowflake id layout shared by `_seq` and `SNOWFLAKE_ID()`, and the decoding of the
//! JSON request bodies of the HTTP API ([`SqlRequestBody`], [`LoginRequest`],
//! [`SetupRequest`]), kept here so it can be tested and fuzzed without the server.
//!
//! It must not touch storage, SQL parsing, Arrow or DataFusion: it is the one
//! crate everything may depend on, so it stays small and dependency-light.

mod clock;
mod datatype;
mod error_code;
mod field_meta;
mod ids;
mod request;
mod role;
mod snowflake;
mod table;

pub use clock::now_micros;
pub use datatype::{DECIMAL_MAX_PRECISION, KalamDataType};
pub use error_code::ErrorCode;
pub use field_meta::{FIELD_META_DATA_TYPE, FIELD_META_FLAGS};
pub use ids::{
    NameError, NamespaceId, RESERVED_NAMESPACES, StorageId, TableId, TableName, UserId,
    validate_object_name,
};
pub use request::{LoginRequest, ParamValue, RequestError, SetupRequest, SqlRequestBody};
pub use role::Role;
pub use snowflake::{SNOWFLAKE_EPOCH_MS, SeqId, SnowflakeGenerator};
pub use table::{
    AccessLevel, ColumnDefinition, FlushPolicy, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ,
    TableDefinition, TableOptions, TableType,
};
