//! The parsed form of one statement, as the engine receives it.
//!
//! KalamDB's own statements arrive fully resolved and validated (names folded and checked,
//! table kind and options settled, column rules applied), so the engine only has to check
//! state (existence, permissions) and act. Ordinary SQL stays a sqlparser AST so DataFusion
//! plans exactly what the user wrote.

use std::fmt;

use kalamdb_types::{AccessLevel, FlushPolicy, KalamDataType, Role, TableOptions, TableType};
use sqlparser::ast::{Expr, Query, Statement};

/// A table reference: `t` or `ns.t` (`kalam.ns.t` arrives as `ns.t`). Names are folded
/// (unquoted → lowercase) and validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// `None`: the request's current namespace applies (`sql.md` §0).
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One statement of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KalamStatement {
    CreateNamespace {
        name: String,
        if_not_exists: bool,
    },
    DropNamespace {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    ShowNamespaces,
    /// `USE ns`, `USE NAMESPACE ns`, `SET NAMESPACE ns`.
    UseNamespace {
        name: String,
    },
    CreateTable(CreateTable),
    /// `DROP [USER|SHARED|STREAM] TABLE`; `kind` is the keyword given, which must match.
    DropTable {
        table: ObjectRef,
        if_exists: bool,
        kind: Option<TableType>,
    },
    /// `CREATE [OR REPLACE] VIEW [IF NOT EXISTS] v AS <query>` (`sql.md` §2.6a).
    CreateView {
        view: ObjectRef,
        query: Box<Query>,
        or_replace: bool,
        if_not_exists: bool,
    },
    /// `DROP VIEW [IF EXISTS] v`.
    DropView {
        view: ObjectRef,
        if_exists: bool,
    },
    /// `ALTER TABLE [ns.]t <change>` (`sql.md` §2.6).
    AlterTable {
        table: ObjectRef,
        change: AlterTableChange,
    },
    /// `SHOW TABLES [IN [NAMESPACE] ns]`.
    ShowTables {
        namespace: Option<String>,
    },
    /// `DESCRIBE|DESC [TABLE] t [HISTORY]`.
    DescribeTable {
        table: ObjectRef,
        history: bool,
    },
    CreateUser {
        name: String,
        /// `None` for `WITH INTERNAL ROLE` users, who cannot log in.
        password: Option<String>,
        /// `user` when ROLE is omitted.
        role: Role,
        email: Option<String>,
    },
    AlterUser {
        name: String,
        change: AlterUserChange,
    },
    DropUser {
        name: String,
        if_exists: bool,
    },
    /// `STORAGE FLUSH TABLE t`, older form `FLUSH TABLE t`.
    StorageFlushTable {
        table: ObjectRef,
    },
    /// `STORAGE FLUSH ALL [IN [NAMESPACE] ns]`, older form `FLUSH ALL TABLES [IN ns]`.
    StorageFlushAll {
        namespace: Option<String>,
    },
    /// `STORAGE COMPACT TABLE t`: merge the table's small segments.
    StorageCompactTable {
        table: ObjectRef,
    },
    /// `STORAGE COMPACT ALL [IN [NAMESPACE] ns]`.
    StorageCompactAll {
        namespace: Option<String>,
    },
    CreateStorage(CreateStorage),
    /// `ALTER STORAGE id SET item …`; each change is (upper-case item name, value).
    AlterStorage {
        id: String,
        changes: Vec<(String, String)>,
    },
    DropStorage {
        id: String,
        if_exists: bool,
    },
    ShowStorages,
    KillJob {
        job_id: String,
    },
    KillLiveQuery {
        live_id: String,
    },
    /// `SUBSCRIBE TO [ns.]t [WHERE p] [OPTIONS (…)]`, `SUBSCRIBE TO SELECT … [OPTIONS (…)]`.
    /// The table form arrives as the query `SELECT * FROM t [WHERE p]` (the name qualified as
    /// written), so the engine checks one shape: the same rules as a WebSocket subscription.
    SubscribeTo {
        query: Box<Query>,
        options: SubscribeToOptions,
    },
    /// `EXECUTE AS USER 'alice' (<stmt>)`; `inner` is always a [`KalamStatement::Standard`]
    /// SELECT/INSERT/UPDATE/DELETE and `inner_sql` its text.
    ExecuteAsUser {
        user: String,
        inner_sql: String,
        inner: Box<KalamStatement>,
    },
    Begin,
    Commit,
    Rollback,
    /// Everything DataFusion plans: Query, Insert, Update, Delete, Explain, SET, SHOW ALL/COLUMNS…
    Standard(Box<Statement>),
}

impl KalamStatement {
    /// The statement's name as messages cite it (`"CREATE TABLE is not allowed inside a
    /// transaction"`, permission errors).
    pub fn name(&self) -> &'static str {
        match self {
            KalamStatement::CreateNamespace { .. } => "CREATE NAMESPACE",
            KalamStatement::DropNamespace { .. } => "DROP NAMESPACE",
            KalamStatement::ShowNamespaces => "SHOW NAMESPACES",
            KalamStatement::UseNamespace { .. } => "USE",
            KalamStatement::CreateTable(_) => "CREATE TABLE",
            KalamStatement::DropTable { .. } => "DROP TABLE",
            KalamStatement::CreateView { .. } => "CREATE VIEW",
            KalamStatement::DropView { .. } => "DROP VIEW",
            KalamStatement::AlterTable { .. } => "ALTER TABLE",
            KalamStatement::ShowTables { .. } => "SHOW TABLES",
            KalamStatement::DescribeTable { .. } => "DESCRIBE TABLE",
            KalamStatement::CreateUser { .. } => "CREATE USER",
            KalamStatement::AlterUser { .. } => "ALTER USER",
            KalamStatement::DropUser { .. } => "DROP USER",
            KalamStatement::StorageFlushTable { .. } => "STORAGE FLUSH TABLE",
            KalamStatement::StorageFlushAll { .. } => "STORAGE FLUSH ALL",
            KalamStatement::StorageCompactTable { .. } => "STORAGE COMPACT TABLE",
            KalamStatement::StorageCompactAll { .. } => "STORAGE COMPACT ALL",
            KalamStatement::CreateStorage(_) => "CREATE STORAGE",
            KalamStatement::AlterStorage { .. } => "ALTER STORAGE",
            KalamStatement::DropStorage { .. } => "DROP STORAGE",
            KalamStatement::ShowStorages => "SHOW STORAGES",
            KalamStatement::KillJob { .. } => "KILL JOB",
            KalamStatement::KillLiveQuery { .. } => "KILL LIVE QUERY",
            KalamStatement::SubscribeTo { .. } => "SUBSCRIBE TO",
            KalamStatement::ExecuteAsUser { .. } => "EXECUTE AS USER",
            KalamStatement::Begin => "BEGIN",
            KalamStatement::Commit => "COMMIT",
            KalamStatement::Rollback => "ROLLBACK",
            KalamStatement::Standard(stmt) => match stmt.as_ref() {
                Statement::Query(_) => "SELECT",
                Statement::Insert(_) => "INSERT",
                Statement::Update(_) => "UPDATE",
                Statement::Delete(_) => "DELETE",
                Statement::Explain { .. } => "EXPLAIN",
                Statement::Set(_) => "SET",
                _ => "SHOW",
            },
        }
    }
}

/// `ALTER USER name SET …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterUserChange {
    Password(String),
    Role(Role),
    Email(String),
}

/// One change of `ALTER TABLE` (`sql.md` §2.6). Column names are folded and validated
/// (reserved `_` names refused); whether a column exists, and every check that depends on
/// the table, are the engine's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterTableChange {
    /// `ADD [COLUMN] c type [NOT NULL | NULL] [DEFAULT expr]`: the column rules of
    /// `CREATE TABLE` apply (its DEFAULT checked against its type); PRIMARY KEY, UNIQUE and
    /// AUTO_INCREMENT are refused.
    AddColumn(ColumnSpec),
    /// `DROP [COLUMN] c`.
    DropColumn { column: String },
    /// `RENAME COLUMN a TO b`.
    RenameColumn { from: String, to: String },
    /// `MODIFY [COLUMN] c type [NOT NULL]`.
    ModifyColumn {
        column: String,
        data_type: KalamDataType,
        not_null: bool,
    },
    /// `ALTER [COLUMN] c SET NOT NULL`.
    SetNotNull { column: String },
    /// `ALTER [COLUMN] c DROP NOT NULL`.
    DropNotNull { column: String },
    /// `ALTER [COLUMN] c SET DEFAULT expr`: the expression as parsed; the engine checks it
    /// against the column's type with [`check_default`](crate::check_default).
    SetDefault { column: String, default: Box<Expr> },
    /// `ALTER [COLUMN] c DROP DEFAULT`.
    DropDefault { column: String },
    /// `SET ACCESS LEVEL public|private|restricted|dba`.
    SetAccessLevel(AccessLevel),
    /// `SET TBLPROPERTIES (…)`: the properties given (at least one).
    SetProperties(TableProperties),
}

/// The table options `ALTER TABLE … SET TBLPROPERTIES` may change; `None` = not given.
/// Values are checked as `CREATE TABLE`'s (`FLUSH_POLICY` syntax, values ≥ 1, retention ≥ 0);
/// whether one applies to the table's kind is the engine's check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableProperties {
    pub flush_policy: Option<FlushPolicy>,
    pub ttl_seconds: Option<u64>,
    pub deleted_retention_hours: Option<u64>,
}

/// The `OPTIONS (…)` of `SUBSCRIBE TO`, the same three a WebSocket `subscribe` carries
/// (`wire-protocol.md` §6.3). Checks that depend on configuration (`batch_size` up to
/// `websocket.max_initial_rows`, `last_rows` ≤ `batch_size`) are the engine's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeToOptions {
    /// The newest N rows as initial data (0 allowed).
    pub last_rows: Option<u64>,
    /// Rows per initial-data batch; at least 1.
    pub batch_size: Option<u64>,
    /// Resume after this `_seq`: initial data is the rows with `_seq > from`.
    pub from: Option<i64>,
}

/// A validated `CREATE TABLE` (`sql.md` §2.1–2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    pub table: ObjectRef,
    pub if_not_exists: bool,
    /// From the keyword or the `TYPE` option; SHARED when neither is given.
    pub table_type: TableType,
    /// Exactly the user columns, in declaration order.
    pub columns: Vec<ColumnSpec>,
    /// Only the options valid for `table_type` are set. USER/SHARED get `storage_id` `local`
    /// when none is given and SHARED gets `access_level` PRIVATE; `flush_policy`,
    /// `ttl_seconds` and `deleted_retention_hours` stay `None` unless given, so the engine
    /// applies its configured defaults.
    pub options: TableOptions,
    /// Seed-era clauses accepted and ignored, e.g. `["LOCATION"]`, in order of appearance.
    pub ignored: Vec<String>,
}

impl CreateTable {
    /// The primary key column, declared or implied by a lone AUTO_INCREMENT column. `None`
    /// means the table is keyed by a hidden row id (or is a STREAM table without a key).
    pub fn primary_key(&self) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.primary_key)
    }
}

/// One user column of a `CREATE TABLE`, after the column rules of `sql.md` §2.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub data_type: KalamDataType,
    /// `false` for NOT NULL and PRIMARY KEY columns.
    pub nullable: bool,
    pub primary_key: bool,
    /// The DEFAULT as SQL text: a literal as written (`'abc'`, `0`, `-1.5`) or a canonical
    /// function call (`NOW()`, `SNOWFLAKE_ID()`, `UUID_V7()`, `ULID()`, `CURRENT_USER()`).
    pub default: Option<String>,
    /// AUTO_INCREMENT or a SERIAL type: the column is BIGINT with `DEFAULT SNOWFLAKE_ID()`.
    pub auto_increment: bool,
}

/// A parsed `CREATE STORAGE` (`sql.md` §4.2). Values are as written; the engine probes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateStorage {
    pub id: String,
    /// Lowercase: `filesystem`, `s3`, `gcs` or `azure`.
    pub storage_type: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub path: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub base_directory: Option<String>,
    pub shared_tables_template: Option<String>,
    pub user_tables_template: Option<String>,
    pub credentials: Option<String>,
    pub config: Option<String>,
}
