//! Tests of `ALTER TABLE` through `parse_statement`: every form, what each parses to, and
//! every refusal with its kind and exact message.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use kalamdb_types::{AccessLevel, FlushPolicy, KalamDataType};

use crate::{
    AlterTableChange, ColumnSpec, KalamStatement, ObjectRef, SqlError, SqlErrorKind,
    TableProperties, check_default, parse_statement,
};

fn alter(sql: &str) -> (ObjectRef, AlterTableChange) {
    match parse_statement(sql) {
        Ok(KalamStatement::AlterTable { table, change }) => (table, change),
        other => panic!("{sql}: {other:?}"),
    }
}

fn change(sql: &str) -> AlterTableChange {
    alter(sql).1
}

fn error(sql: &str) -> SqlError {
    match parse_statement(sql) {
        Err(e) => e,
        Ok(stmt) => panic!("{sql} parsed: {stmt:?}"),
    }
}

/// Asserts a rule violation (SQL_EXECUTION_ERROR) with exactly `message`.
fn invalid(sql: &str, message: &str) {
    let err = error(sql);
    assert_eq!(
        (err.kind, err.message.as_str()),
        (SqlErrorKind::Invalid, message),
        "{sql}"
    );
}

/// Asserts a syntax error (INVALID_SQL) whose message contains `part`.
fn syntax(sql: &str, part: &str) {
    let err = error(sql);
    assert_eq!(err.kind, SqlErrorKind::Parse, "{sql}: {err:?}");
    assert!(err.message.contains(part), "{sql}: {}", err.message);
}

fn obj(namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    }
}

fn col(name: &str, data_type: KalamDataType, nullable: bool, default: Option<&str>) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        data_type,
        nullable,
        primary_key: false,
        default: default.map(Into::into),
        auto_increment: false,
    }
}

fn add(spec: ColumnSpec) -> AlterTableChange {
    AlterTableChange::AddColumn(spec)
}

const UNSUPPORTED: &str = "Unsupported ALTER TABLE operation: expected ADD, DROP, RENAME COLUMN, \
                           MODIFY, ALTER COLUMN, SET ACCESS LEVEL or SET TBLPROPERTIES";

#[test]
fn table_references_fold_and_qualify() {
    let drop_c = AlterTableChange::DropColumn { column: "c".into() };
    for (sql, table) in [
        ("ALTER TABLE ns.t DROP c", obj(Some("ns"), "t")),
        ("alter table NS.T drop column c;", obj(Some("ns"), "t")),
        ("ALTER TABLE kalam.ns.t DROP c", obj(Some("ns"), "t")),
        ("ALTER TABLE \"Ns\".\"T\" DROP c", obj(Some("Ns"), "T")),
        ("ALTER TABLE t DROP c", obj(None, "t")),
    ] {
        assert_eq!(alter(sql), (table, drop_c.clone()), "{sql}");
    }
    assert_eq!(
        parse_statement("ALTER TABLE t DROP c").unwrap().name(),
        "ALTER TABLE"
    );
    syntax("ALTER TABLE a.b.c.d DROP c", "expected [namespace.]table");
    invalid(
        "ALTER TABLE ns.\"select\" DROP c",
        "Name 'select' is a reserved SQL keyword and cannot be used",
    );
}

#[test]
fn add_column_forms() {
    assert_eq!(
        alter("ALTER TABLE ns.t ADD c INT"),
        (
            obj(Some("ns"), "t"),
            add(col("c", KalamDataType::Int, true, None))
        )
    );
    for (sql, spec) in [
        (
            "ALTER TABLE t ADD COLUMN C INT4 NOT NULL DEFAULT 0",
            col("c", KalamDataType::Int, false, Some("0")),
        ),
        (
            "ALTER TABLE t ADD \"Body\" VARCHAR(10) NULL DEFAULT 'x'",
            col("Body", KalamDataType::Text, true, Some("'x'")),
        ),
        (
            "ALTER TABLE t ADD at TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
            col("at", KalamDataType::Timestamp, true, Some("NOW()")),
        ),
        (
            "ALTER TABLE t ADD COLUMN owner TEXT DEFAULT CURRENT_USER()",
            col("owner", KalamDataType::Text, true, Some("CURRENT_USER()")),
        ),
        (
            "ALTER TABLE t ADD n BIGINT DEFAULT SNOWFLAKE_ID()",
            col("n", KalamDataType::BigInt, true, Some("SNOWFLAKE_ID()")),
        ),
        (
            "ALTER TABLE t ADD score DOUBLE PRECISION DEFAULT -1.5",
            col("score", KalamDataType::Double, true, Some("-1.5")),
        ),
        (
            "alter table t add column flag bool not null default true",
            col("flag", KalamDataType::Boolean, false, Some("true")),
        ),
    ] {
        assert_eq!(change(sql), add(spec), "{sql}");
    }
}

#[test]
fn add_column_follows_create_table_column_rules() {
    for (sql, message) in [
        (
            "ALTER TABLE t ADD _x INT",
            "Column name '_x' is reserved and cannot be used",
        ),
        (
            "ALTER TABLE t ADD COLUMN \"_seq\" BIGINT",
            "Column name '_seq' is reserved and cannot be used",
        ),
        (
            "ALTER TABLE t ADD \"a-b\" INT",
            "Name 'a-b' contains invalid characters (only alphanumeric and underscore allowed)",
        ),
        ("ALTER TABLE t ADD c FOO", "Unsupported data type 'FOO'"),
        ("ALTER TABLE t ADD c FILE", "Type FILE is not supported yet"),
        (
            "ALTER TABLE t ADD c INT DEFAULT SNOWFLAKE_ID()",
            "DEFAULT SNOWFLAKE_ID() requires a BIGINT column",
        ),
        (
            "ALTER TABLE t ADD c INT NULL NOT NULL",
            "Column 'c' cannot be both NULL and NOT NULL",
        ),
        (
            "ALTER TABLE t ADD c INT PRIMARY KEY",
            "Cannot add a PRIMARY KEY column with ALTER TABLE",
        ),
        (
            "ALTER TABLE t ADD COLUMN c UUID NOT NULL PRIMARY KEY DEFAULT UUID_V7()",
            "Cannot add a PRIMARY KEY column with ALTER TABLE",
        ),
        (
            "ALTER TABLE t ADD c TEXT UNIQUE",
            "UNIQUE is only supported on the PRIMARY KEY",
        ),
        (
            "ALTER TABLE t ADD c BIGINT AUTO_INCREMENT",
            "Cannot add an AUTO_INCREMENT column with ALTER TABLE",
        ),
        (
            "ALTER TABLE t ADD c TEXT AUTOINCREMENT",
            "Cannot add an AUTO_INCREMENT column with ALTER TABLE",
        ),
        (
            "ALTER TABLE t ADD c SERIAL",
            "Cannot add an AUTO_INCREMENT column with ALTER TABLE",
        ),
        (
            "ALTER TABLE t ADD COLUMN c bigserial DEFAULT 5",
            "Cannot add an AUTO_INCREMENT column with ALTER TABLE",
        ),
    ] {
        invalid(sql, message);
    }
    assert!(
        error("ALTER TABLE t ADD c INT CHECK (c > 0)")
            .message
            .starts_with("Unsupported column option")
    );
}

#[test]
fn add_syntax_errors() {
    for sql in [
        "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (c)",
        "ALTER TABLE t ADD PRIMARY KEY (c)",
        "ALTER TABLE t ADD UNIQUE (c)",
    ] {
        syntax(sql, "table constraints cannot be added");
    }
    syntax("ALTER TABLE t ADD c", "Expected");
    syntax("ALTER TABLE t ADD", "Expected");
    syntax(
        "ALTER TABLE t ADD c INT, d INT",
        "Expected: end of statement, found: ,",
    );
    syntax(
        "ALTER TABLE t ADD c INT junk",
        "Expected: end of statement, found: junk",
    );
}

#[test]
fn drop_and_rename_columns() {
    for sql in ["ALTER TABLE t DROP COLUMN Body", "ALTER TABLE t DROP body"] {
        assert_eq!(
            change(sql),
            AlterTableChange::DropColumn {
                column: "body".into()
            },
            "{sql}"
        );
    }
    assert_eq!(
        change("ALTER TABLE t DROP COLUMN \"Body\""),
        AlterTableChange::DropColumn {
            column: "Body".into()
        }
    );
    assert_eq!(
        change("ALTER TABLE t RENAME COLUMN Old TO \"New\""),
        AlterTableChange::RenameColumn {
            from: "old".into(),
            to: "New".into()
        }
    );
    invalid(
        "ALTER TABLE t DROP COLUMN _seq",
        "Column name '_seq' is reserved and cannot be used",
    );
    invalid(
        "ALTER TABLE t RENAME COLUMN a TO _b",
        "Column name '_b' is reserved and cannot be used",
    );
    invalid(
        "ALTER TABLE t RENAME COLUMN _deleted TO b",
        "Column name '_deleted' is reserved and cannot be used",
    );
    invalid(
        "ALTER TABLE t RENAME COLUMN a TO \"9b\"",
        "Name cannot start with a number",
    );
    syntax("ALTER TABLE t DROP", "Expected: identifier");
    syntax(
        "ALTER TABLE t DROP COLUMN a, b",
        "Expected: end of statement",
    );
    syntax("ALTER TABLE t RENAME COLUMN a b", "Expected: TO, found: b");
    syntax("ALTER TABLE t RENAME COLUMN a TO", "Expected: identifier");
    for sql in ["ALTER TABLE t RENAME TO t2", "ALTER TABLE t RENAME a TO b"] {
        syntax(sql, UNSUPPORTED);
    }
}

#[test]
fn modify_column() {
    let modify = |column: &str, data_type, not_null| AlterTableChange::ModifyColumn {
        column: column.into(),
        data_type,
        not_null,
    };
    assert_eq!(
        change("ALTER TABLE t MODIFY c BIGINT"),
        modify("c", KalamDataType::BigInt, false)
    );
    assert_eq!(
        change("ALTER TABLE t MODIFY COLUMN C varchar(20) NOT NULL"),
        modify("c", KalamDataType::Text, true)
    );
    assert_eq!(
        change("ALTER TABLE t MODIFY \"Amount\" NUMERIC(12, 2)"),
        modify(
            "Amount",
            KalamDataType::Decimal {
                precision: 12,
                scale: 2
            },
            false
        )
    );
    for sql in [
        "ALTER TABLE t MODIFY c SERIAL",
        "ALTER TABLE t MODIFY c BIGINT AUTO_INCREMENT",
        "ALTER TABLE t MODIFY COLUMN c BIGINT NOT NULL AUTOINCREMENT",
    ] {
        invalid(
            sql,
            "Cannot make column 'c' AUTO_INCREMENT with ALTER TABLE",
        );
    }
    invalid("ALTER TABLE t MODIFY c FOO", "Unsupported data type 'FOO'");
    invalid(
        "ALTER TABLE t MODIFY c EMBEDDING(3)",
        "Type EMBEDDING is not supported yet",
    );
    invalid(
        "ALTER TABLE t MODIFY _c INT",
        "Column name '_c' is reserved and cannot be used",
    );
    syntax("ALTER TABLE t MODIFY c", "Expected");
    syntax(
        "ALTER TABLE t MODIFY c INT DEFAULT 1",
        "Expected: end of statement",
    );
    syntax(
        "ALTER TABLE t MODIFY c INT NULL",
        "Expected: end of statement",
    );
}

#[test]
fn alter_column_not_null_and_default() {
    for (sql, expected) in [
        (
            "ALTER TABLE t ALTER COLUMN C SET NOT NULL",
            AlterTableChange::SetNotNull { column: "c".into() },
        ),
        (
            "ALTER TABLE t ALTER c DROP NOT NULL",
            AlterTableChange::DropNotNull { column: "c".into() },
        ),
        (
            "alter table t alter column \"C\" drop default",
            AlterTableChange::DropDefault { column: "C".into() },
        ),
    ] {
        assert_eq!(change(sql), expected, "{sql}");
    }

    // SET DEFAULT keeps the expression; the engine checks it against the column's type.
    for (sql, text, data_type, stored) in [
        (
            "ALTER TABLE t ALTER COLUMN c SET DEFAULT 'it''s'",
            "'it''s'",
            KalamDataType::Text,
            Ok("'it''s'"),
        ),
        (
            "ALTER TABLE t ALTER c SET DEFAULT -1",
            "-1",
            KalamDataType::Int,
            Ok("-1"),
        ),
        (
            "ALTER TABLE t ALTER c SET DEFAULT CURRENT_USER()",
            "CURRENT_USER()",
            KalamDataType::Text,
            Ok("CURRENT_USER()"),
        ),
        (
            "ALTER TABLE t ALTER c SET DEFAULT current_timestamp",
            "current_timestamp",
            KalamDataType::DateTime,
            Ok("NOW()"),
        ),
        (
            "ALTER TABLE t ALTER c SET DEFAULT NOW()",
            "NOW()",
            KalamDataType::Int,
            Err("DEFAULT NOW() requires a TIMESTAMP, DATETIME or DATE column"),
        ),
        (
            "ALTER TABLE t ALTER c SET DEFAULT a + 1",
            "a + 1",
            KalamDataType::Int,
            Err(
                "Unsupported DEFAULT 'a + 1' for column 'c': use a literal, NOW(), \
                 CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()",
            ),
        ),
    ] {
        let AlterTableChange::SetDefault { column, default } = change(sql) else {
            panic!("{sql}");
        };
        assert_eq!(
            (column.as_str(), default.to_string().as_str()),
            ("c", text),
            "{sql}"
        );
        let checked = check_default(&column, data_type, &default);
        assert_eq!(
            checked.as_deref().map_err(|e| (e.kind, e.message.as_str())),
            stored.map_err(|m| (SqlErrorKind::Invalid, m)),
            "{sql}"
        );
    }

    let wanted = "SET NOT NULL, DROP NOT NULL, SET DEFAULT or DROP DEFAULT";
    syntax("ALTER TABLE t ALTER COLUMN c TYPE INT", wanted);
    syntax("ALTER TABLE t ALTER COLUMN c SET NULL", wanted);
    syntax("ALTER TABLE t ALTER c", wanted);
    syntax(
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT",
        "Expected: an expression",
    );
    syntax(
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT 1",
        "Expected: end of statement",
    );
    invalid(
        "ALTER TABLE t ALTER COLUMN _seq SET NOT NULL",
        "Column name '_seq' is reserved and cannot be used",
    );
}

#[test]
fn set_access_level() {
    for (sql, level) in [
        ("ALTER TABLE t SET ACCESS LEVEL public", AccessLevel::Public),
        (
            "ALTER TABLE t SET ACCESS LEVEL PRIVATE",
            AccessLevel::Private,
        ),
        (
            "alter table t set access level 'Restricted'",
            AccessLevel::Restricted,
        ),
        ("ALTER TABLE t SET ACCESS LEVEL \"DBA\";", AccessLevel::Dba),
    ] {
        assert_eq!(
            change(sql),
            AlterTableChange::SetAccessLevel(level),
            "{sql}"
        );
    }
    invalid(
        "ALTER TABLE t SET ACCESS LEVEL everyone",
        "Invalid ACCESS_LEVEL 'everyone': expected PUBLIC, PRIVATE, RESTRICTED or DBA",
    );
    syntax(
        "ALTER TABLE t SET ACCESS LEVEL",
        "Expected: PUBLIC, PRIVATE, RESTRICTED or DBA",
    );
    syntax(
        "ALTER TABLE t SET ACCESS LEVEL public private",
        "Expected: end of statement",
    );
    syntax("ALTER TABLE t SET ACCESS public", UNSUPPORTED);
}

#[test]
fn set_tblproperties() {
    let props = |flush_policy, ttl_seconds, deleted_retention_hours| {
        AlterTableChange::SetProperties(TableProperties {
            flush_policy,
            ttl_seconds,
            deleted_retention_hours,
        })
    };
    let policy = |rows, interval_secs| {
        Some(FlushPolicy {
            rows,
            interval_secs,
        })
    };
    for (sql, expected) in [
        (
            "ALTER TABLE t SET TBLPROPERTIES (FLUSH_POLICY = 'rows:100,interval:60', \
             TTL_SECONDS = 10, DELETED_RETENTION_HOURS = 0)",
            props(policy(Some(100), Some(60)), Some(10), Some(0)),
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (flush_policy='interval:30')",
            props(policy(None, Some(30)), None, None),
        ),
        (
            "alter table t set tblproperties (Deleted_Retention_Hours = '48', ttl_seconds='5')",
            props(None, Some(5), Some(48)),
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = 1)",
            props(None, Some(1), None),
        ),
    ] {
        assert_eq!(change(sql), expected, "{sql}");
    }

    for (sql, message) in [
        (
            "ALTER TABLE t SET TBLPROPERTIES (FLUSH_POLICY = 'rows:0')",
            "Invalid FLUSH_POLICY 'rows:0': expected rows:N,interval:S",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (FLUSH_POLICY = 'often')",
            "Invalid FLUSH_POLICY 'often': expected rows:N,interval:S",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = 0)",
            "Invalid TTL_SECONDS value",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (DELETED_RETENTION_HOURS = -1)",
            "Invalid DELETED_RETENTION_HOURS value",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (FLUSH_POLICY = 'rows:1', flush_policy = 'rows:2')",
            "Duplicate option FLUSH_POLICY",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (Compression = 'zstd')",
            "Unknown table option 'COMPRESSION'",
        ),
        // Set only by their own statements or at CREATE TABLE.
        (
            "ALTER TABLE t SET TBLPROPERTIES (ACCESS_LEVEL = 'public')",
            "Unknown table option 'ACCESS_LEVEL'",
        ),
        (
            "ALTER TABLE t SET TBLPROPERTIES (TYPE = 'USER')",
            "Unknown table option 'TYPE'",
        ),
    ] {
        invalid(sql, message);
    }
    syntax(
        "ALTER TABLE t SET TBLPROPERTIES ()",
        "Expected: identifier, found: )",
    );
    syntax("ALTER TABLE t SET TBLPROPERTIES", "Expected: (");
    syntax(
        "ALTER TABLE t SET TBLPROPERTIES TTL_SECONDS = 5",
        "Expected: (",
    );
    syntax(
        "ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS 5)",
        "Expected: =",
    );
    syntax(
        "ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = 5,)",
        "Expected: identifier",
    );
    syntax(
        "ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = 5) x",
        "Expected: end of statement",
    );
}

#[test]
fn other_operations_are_refused() {
    for sql in [
        "ALTER TABLE t",
        "ALTER TABLE t;",
        "ALTER TABLE t OWNER TO alice",
        "ALTER TABLE t SET SCHEMA other",
        "ALTER TABLE t SET ACCESS_LEVEL = 'public'",
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE t \"ADD\" c INT",
    ] {
        let err = error(sql);
        assert_eq!(
            (err.kind, err.message.as_str()),
            (SqlErrorKind::Parse, UNSUPPORTED),
            "{sql}"
        );
    }
}
