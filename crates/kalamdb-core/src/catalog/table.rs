//! A table as requests see it ([`TableEntry`]): the stored definition plus
//! what is derived from it once — Arrow schemas, parsed DEFAULT expressions,
//! the key column, and the lifetimes (STREAM TTL, tombstone retention) with
//! the server's defaults applied.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use kalamdb_types::{
    FlushPolicy, KalamDataType, SYSTEM_COLUMN_DELETED, SYSTEM_COLUMN_SEQ, TableDefinition, TableId,
    TableType,
};

use crate::catalog::lifetime::{expiry_cutoff, retention_horizon_ms};
use crate::error::{KalamError, Result};
use crate::row::arrow::{ROW_ID_COLUMN, arrow_type, described_field, value_from_array};
use crate::row::value::Value;
use crate::row::versions::RowLens;

/// Arrow schema metadata key of a segment's schema version.
pub const SEGMENT_SCHEMA_VERSION: &str = "kalamdb.schema_version";

/// What a table gets when its definition does not say (the server's
/// `[flush]`, `[storage]` and `[stream]` settings).
#[derive(Debug, Clone, Copy)]
pub struct TableDefaults {
    pub flush_policy: FlushPolicy,
    pub deleted_retention_hours: u64,
    pub stream_ttl_seconds: u64,
}

impl Default for TableDefaults {
    fn default() -> Self {
        Self {
            flush_policy: FlushPolicy::default(),
            deleted_retention_hours: 168,
            stream_ttl_seconds: 10,
        }
    }
}

/// A table as requests see it: the definition plus what is derived from it
/// once (Arrow schemas, parsed DEFAULT expressions).
#[derive(Debug)]
pub struct TableEntry {
    pub def: TableDefinition,
    /// User columns, `_seq`, `_deleted`.
    pub schema: SchemaRef,
    /// User columns only: the target of INSERT.
    pub insert_schema: SchemaRef,
    /// `schema` plus the hidden row key, for the engine's UPDATE/DELETE reads.
    pub keyed_schema: SchemaRef,
    /// What segments are written with (see [`Self::segment_schema`]).
    segment_schema: SchemaRef,
    /// DEFAULT expressions by column name (`CURRENT_USER()` excluded: it is
    /// bound per request).
    pub defaults: HashMap<String, Expr>,
    pub current_user_defaults: Vec<String>,
    /// How rows of older schema versions read under this one.
    pub lens: RowLens,
    /// The table's earlier schema versions, oldest first (`system.schemas`).
    pub history: Vec<Arc<TableDefinition>>,
    /// STREAM tables: rows live this long after their `_seq` time.
    ttl_seconds: Option<u64>,
    /// Tombstones are kept this long (`DELETED_RETENTION_HOURS`).
    retention_hours: u64,
    flush_policy: FlushPolicy,
}

impl TableEntry {
    /// The entry of `def`, whose earlier versions are `history` (oldest
    /// first; empty for a new table).
    pub fn new(
        def: TableDefinition,
        history: Vec<Arc<TableDefinition>>,
        state: &SessionState,
        dflt: &TableDefaults,
    ) -> Result<Self> {
        let mut read_fields = Vec::with_capacity(def.columns.len() + 3);
        let mut insert_fields = Vec::with_capacity(def.columns.len());
        for c in &def.columns {
            let flags = if c.primary_key {
                "pk,nn,uq"
            } else if !c.nullable {
                "nn"
            } else {
                ""
            };
            let field = described_field(
                &c.name,
                arrow_type(&c.data_type)?,
                &c.data_type,
                flags,
                true,
            );
            // Reads state the real nullability (information_schema, flags);
            // the INSERT target stays nullable because NOT NULL is enforced
            // by the engine with the spec's message, not DataFusion's.
            insert_fields.push(field.clone());
            read_fields.push(field.with_nullable(flags.is_empty()));
        }
        let insert_schema = Arc::new(Schema::new(insert_fields));
        read_fields.push(described_field(
            SYSTEM_COLUMN_SEQ,
            DataType::Int64,
            &KalamDataType::BigInt,
            "nn",
            false,
        ));
        read_fields.push(described_field(
            SYSTEM_COLUMN_DELETED,
            DataType::Boolean,
            &KalamDataType::Boolean,
            "nn",
            false,
        ));
        let schema = Arc::new(Schema::new(read_fields.clone()));
        read_fields.push(Field::new(ROW_ID_COLUMN, DataType::Int64, false));
        let keyed_schema = Arc::new(Schema::new(read_fields));
        let segment_schema = if def.primary_key().is_some() {
            schema.as_ref()
        } else {
            keyed_schema.as_ref()
        }
        .clone()
        .with_metadata(HashMap::from([(
            SEGMENT_SCHEMA_VERSION.to_string(),
            def.version.to_string(),
        )]));

        let df_schema = DFSchema::try_from(insert_schema.as_ref().clone())?;
        let mut defaults = HashMap::new();
        let mut current_user_defaults = Vec::new();
        for c in &def.columns {
            let Some(text) = &c.default else { continue };
            if text.eq_ignore_ascii_case("CURRENT_USER()") {
                current_user_defaults.push(c.name.clone());
                continue;
            }
            let expr = state.create_logical_expr(text, &df_schema).map_err(|e| {
                KalamError::exec(format!(
                    "Invalid DEFAULT for column '{}': {}",
                    c.name,
                    KalamError::from(e)
                ))
            })?;
            defaults.insert(c.name.clone(), expr);
        }
        let mut fills = HashMap::new();
        for c in &def.columns {
            if let Some(text) = &c.fill {
                fills.insert(c.column_id, fill_value(c, text)?);
            }
        }
        let lens = RowLens::new(
            def.version,
            &def.columns,
            history.iter().map(|h| (h.version, h.columns.clone())),
            fills,
        );
        let options = &def.options;
        Ok(Self {
            ttl_seconds: (def.table_type == TableType::Stream)
                .then(|| options.ttl_seconds.unwrap_or(dflt.stream_ttl_seconds)),
            retention_hours: options
                .deleted_retention_hours
                .unwrap_or(dflt.deleted_retention_hours),
            flush_policy: options.flush_policy.unwrap_or(dflt.flush_policy),
            def,
            schema,
            insert_schema,
            keyed_schema,
            segment_schema: Arc::new(segment_schema),
            defaults,
            current_user_defaults,
            lens,
            history,
        })
    }

    pub fn id(&self) -> TableId {
        self.def.id()
    }

    /// The column that keys rows: the primary key, or the hidden `_rowid`.
    pub fn key_column(&self) -> &str {
        self.def
            .primary_key()
            .map(|(_, c)| c.name.as_str())
            .unwrap_or(ROW_ID_COLUMN)
    }

    /// The Arrow schema of a segment file: user columns, `_seq`, `_deleted`,
    /// and the hidden row key for tables without a primary key; its
    /// metadata names the schema version (kept in the Parquet footer, so a
    /// file says what it holds; the manifest entry says it too).
    pub fn segment_schema(&self) -> SchemaRef {
        self.segment_schema.clone()
    }

    /// The smallest `_seq` still alive at `now_ms`, or `None` if the rows
    /// never expire (not a STREAM table). Computed once per scan or pass.
    pub fn expiry_cutoff(&self, now_ms: i64) -> Option<i64> {
        self.ttl_seconds.map(|ttl| expiry_cutoff(ttl, now_ms))
    }

    /// Rows whose `_seq` is this old or older (ms since the epoch) are past
    /// `DELETED_RETENTION_HOURS`: their tombstones may be dropped.
    pub fn retention_horizon_ms(&self, now_ms: i64) -> i64 {
        retention_horizon_ms(self.retention_hours, now_ms)
    }

    /// Every schema version of the table, oldest first, this one last.
    pub fn versions(&self) -> impl Iterator<Item = &TableDefinition> {
        self.history
            .iter()
            .map(|d| d.as_ref())
            .chain(std::iter::once(&self.def))
    }

    /// When the flush policy flushes this table.
    pub fn flush_policy(&self) -> FlushPolicy {
        self.flush_policy
    }
}

/// A column's fill (stored as the value's text, see
/// [`kalamdb_types::ColumnDefinition::fill`]) as a value of its type.
pub fn fill_value(col: &kalamdb_types::ColumnDefinition, text: &str) -> Result<Value> {
    let array = datafusion::arrow::array::StringArray::from(vec![text]);
    let cast = datafusion::arrow::compute::cast(&array, &arrow_type(&col.data_type)?)
        .map_err(|e| KalamError::internal(format!("stored fill of column '{}': {e}", col.name)))?;
    value_from_array(col, cast.as_ref(), 0)
}
