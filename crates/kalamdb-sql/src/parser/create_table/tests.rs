//! Tests of `CREATE TABLE` through `parse_statement`: the syntax forms, the seed-era clauses,
//! options per table kind, and every column rule with its exact message.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use kalamdb_types::{AccessLevel, FlushPolicy, KalamDataType, StorageId, TableOptions, TableType};

use crate::{
    ColumnSpec, CreateTable, KalamStatement, ObjectRef, SqlError, SqlErrorKind, parse_statement,
};

fn create(sql: &str) -> CreateTable {
    match parse_statement(sql) {
        Ok(KalamStatement::CreateTable(ct)) => ct,
        other => panic!("{sql}: {other:?}"),
    }
}

fn error(sql: &str) -> SqlError {
    match parse_statement(sql) {
        Err(e) => e,
        Ok(stmt) => panic!("{sql} parsed: {stmt:?}"),
    }
}

/// Asserts a semantic (SQL_EXECUTION_ERROR) refusal with exactly `message`.
fn invalid(sql: &str, message: &str) {
    let err = error(sql);
    assert_eq!(err.kind, SqlErrorKind::Invalid, "{sql}: {err:?}");
    assert_eq!(err.message, message, "{sql}");
}

fn col(name: &str, data_type: KalamDataType) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        data_type,
        nullable: true,
        primary_key: false,
        default: None,
        auto_increment: false,
    }
}

fn rows(n: u64) -> FlushPolicy {
    FlushPolicy {
        rows: Some(n),
        interval_secs: None,
    }
}

fn every(secs: u64) -> FlushPolicy {
    FlushPolicy {
        rows: None,
        interval_secs: Some(secs),
    }
}

#[test]
fn full_v04_form() {
    let ct = create(
        "CREATE USER TABLE IF NOT EXISTS app.messages (
                id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
                room TEXT NOT NULL,
                body VARCHAR(200),
                created_at TIMESTAMP DEFAULT NOW()
            ) USING kalamdb WITH (STORAGE_ID = 'local', FLUSH_POLICY = 'rows:100,interval:60',
                DELETED_RETENTION_HOURS = 24)",
    );
    assert_eq!(
        ct.table,
        ObjectRef {
            namespace: Some("app".into()),
            name: "messages".into()
        }
    );
    assert!(ct.if_not_exists);
    assert_eq!(ct.table_type, TableType::User);
    assert_eq!(
        ct.columns,
        vec![
            ColumnSpec {
                nullable: false,
                primary_key: true,
                default: Some("SNOWFLAKE_ID()".into()),
                ..col("id", KalamDataType::BigInt)
            },
            ColumnSpec {
                nullable: false,
                ..col("room", KalamDataType::Text)
            },
            col("body", KalamDataType::Text),
            ColumnSpec {
                default: Some("NOW()".into()),
                ..col("created_at", KalamDataType::Timestamp)
            },
        ]
    );
    assert_eq!(
        ct.options,
        TableOptions {
            storage_id: Some(StorageId::local()),
            flush_policy: Some(FlushPolicy {
                rows: Some(100),
                interval_secs: Some(60)
            }),
            ttl_seconds: None,
            deleted_retention_hours: Some(24),
            access_level: None,
        }
    );
    assert!(ct.ignored.is_empty());
    assert_eq!(ct.primary_key().map(|c| c.name.as_str()), Some("id"));
}

#[test]
fn kind_defaults_per_table_type() {
    let shared = create("CREATE TABLE t (id INT PRIMARY KEY)");
    assert_eq!(shared.table_type, TableType::Shared);
    assert_eq!(
        shared.options,
        TableOptions {
            storage_id: Some(StorageId::local()),
            access_level: Some(AccessLevel::Private),
            ..TableOptions::default()
        }
    );
    assert_eq!(
        shared.table,
        ObjectRef {
            namespace: None,
            name: "t".into()
        }
    );

    let stream = create("CREATE STREAM TABLE app.typing (user_id TEXT, room TEXT)");
    assert_eq!(stream.table_type, TableType::Stream);
    assert_eq!(stream.options, TableOptions::default());
    assert_eq!(stream.primary_key(), None);

    let user = create("CREATE TABLE t (a TEXT) WITH (type = 'user')");
    assert_eq!(user.table_type, TableType::User);
    assert_eq!(user.options.access_level, None);
    assert_eq!(user.primary_key(), None, "no key: hidden row id");

    let typed = create("CREATE SHARED TABLE t (a TEXT) WITH (TYPE=SHARED, ACCESS_LEVEL=public)");
    assert_eq!(typed.options.access_level, Some(AccessLevel::Public));
    let stream = create("CREATE TABLE t (a TEXT) WITH (TYPE='STREAM', TTL_SECONDS='30')");
    assert_eq!(
        (stream.table_type, stream.options.ttl_seconds),
        (TableType::Stream, Some(30))
    );
}

#[test]
fn names_fold_and_quoted_names_keep_case() {
    let ct = create(r#"CREATE TABLE App.Msgs ("Body" TEXT, Title TEXT)"#);
    assert_eq!(
        ct.table,
        ObjectRef {
            namespace: Some("app".into()),
            name: "msgs".into()
        }
    );
    assert_eq!(ct.columns[0].name, "Body");
    assert_eq!(ct.columns[1].name, "title");
    let ct = create(r#"CREATE TABLE "App"."Msgs" (a TEXT)"#);
    assert_eq!(ct.table.to_string(), "App.Msgs");
    let ct = create("CREATE TABLE kalam.app.msgs (a TEXT)");
    assert_eq!(ct.table.to_string(), "app.msgs");
    let err = error("CREATE TABLE other.app.msgs (a TEXT)");
    assert_eq!(err.kind, SqlErrorKind::Parse);
    assert_eq!(
        err.message,
        "Invalid table name 'other.app.msgs': expected [namespace.]table"
    );
    assert_eq!(
        error("CREATE TABLE a.b.c.d (a TEXT)").kind,
        SqlErrorKind::Parse
    );
    invalid(
        "CREATE TABLE app.\"1t\" (a TEXT)",
        "Name cannot start with a number",
    );
    invalid(
        "CREATE TABLE app.\"a-b\" (a TEXT)",
        "Name 'a-b' contains invalid characters (only alphanumeric and underscore allowed)",
    );
    invalid(
        "CREATE TABLE app.t (\"select\" TEXT)",
        "Name 'select' is a reserved SQL keyword and cannot be used",
    );
}

#[test]
fn seed_era_forms() {
    let ct = create(
        "CREATE USER TABLE app.messages (id INT AUTO_INCREMENT, content VARCHAR NOT NULL,
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP) FLUSH ROWS 100",
    );
    assert_eq!(
        ct.columns,
        vec![
            ColumnSpec {
                nullable: false,
                primary_key: true,
                default: Some("SNOWFLAKE_ID()".into()),
                auto_increment: true,
                ..col("id", KalamDataType::BigInt)
            },
            ColumnSpec {
                nullable: false,
                ..col("content", KalamDataType::Text)
            },
            ColumnSpec {
                default: Some("NOW()".into()),
                ..col("created_at", KalamDataType::Timestamp)
            },
        ]
    );
    assert_eq!(ct.options.flush_policy, Some(rows(100)));

    let ct = create(
        "CREATE SHARED TABLE app.rooms (id TEXT PRIMARY KEY, title TEXT) FLUSH INTERVAL 60s",
    );
    assert_eq!(ct.options.flush_policy, Some(every(60)));
    let ct = create("CREATE STREAM TABLE app.typing (user_id TEXT, room TEXT) TTL 10s");
    assert_eq!(ct.options.ttl_seconds, Some(10));

    let flush = |clause: &str| {
        create(&format!("CREATE TABLE t (a TEXT) {clause}"))
            .options
            .flush_policy
    };
    assert_eq!(flush("FLUSH INTERVAL 5m"), Some(every(300)));
    assert_eq!(flush("FLUSH INTERVAL '1h'"), Some(every(3600)));
    assert_eq!(flush("FLUSH INTERVAL 30"), Some(every(30)));
    assert_eq!(flush("FLUSH SECONDS 45"), Some(every(45)));
    assert_eq!(
        flush("FLUSH ROWS 10 INTERVAL 1d"),
        Some(FlushPolicy {
            rows: Some(10),
            interval_secs: Some(86_400)
        })
    );
    assert_eq!(flush("FLUSH POLICY ROW_LIMIT 500"), Some(rows(500)));
    assert_eq!(flush("flush policy time_interval 120"), Some(every(120)));
    assert_eq!(
        flush("FLUSH POLICY COMBINED ROW_LIMIT 5 TIME_INTERVAL 10"),
        Some(FlushPolicy {
            rows: Some(5),
            interval_secs: Some(10)
        })
    );

    let ttl = |clause: &str| {
        create(&format!("CREATE STREAM TABLE t (a TEXT) {clause}"))
            .options
            .ttl_seconds
    };
    assert_eq!(ttl("TTL 10 SECONDS"), Some(10));
    assert_eq!(ttl("TTL '2m'"), Some(120));
    assert_eq!(ttl("TTL 30"), Some(30));
    assert_eq!(ttl("RETENTION 1h"), Some(3600));
}

#[test]
fn seed_era_ignored_clauses_and_mixing_with_with() {
    let ct = create(
        "CREATE STREAM TABLE app.ev (a TEXT) BUFFER_SIZE 100 TTL 5s EPHEMERAL MAX_BUFFER 9 \
             LOCATION '/tmp/x' LOCATION '/tmp/y'",
    );
    assert_eq!(
        ct.ignored,
        ["BUFFER_SIZE", "EPHEMERAL", "MAX_BUFFER", "LOCATION"]
    );
    assert_eq!(ct.options.ttl_seconds, Some(5));

    let ct = create(
        "CREATE TABLE app.t (a TEXT PRIMARY KEY) LOCATION 'x' WITH (TYPE = 'USER') FLUSH ROWS 7 USING kalamdb",
    );
    assert_eq!(
        (ct.table_type, ct.options.flush_policy),
        (TableType::User, Some(rows(7)))
    );
    assert_eq!(ct.ignored, ["LOCATION"]);
}

#[test]
fn seed_era_value_errors() {
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH ROWS 0",
        "Invalid FLUSH ROWS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH ROWS -5",
        "Invalid FLUSH ROWS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH ROWS many",
        "Invalid FLUSH ROWS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH INTERVAL 0s",
        "Invalid FLUSH INTERVAL value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH INTERVAL '5w'",
        "Invalid FLUSH INTERVAL value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH SECONDS 0",
        "Invalid FLUSH SECONDS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH POLICY ROW_LIMIT 0",
        "Invalid ROW_LIMIT value",
    );
    invalid("CREATE STREAM TABLE t (a TEXT) TTL 0", "Invalid TTL value");
    invalid(
        "CREATE STREAM TABLE t (a TEXT) TTL -1s",
        "Invalid TTL value",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) RETENTION 0d",
        "Invalid RETENTION value",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) BUFFER_SIZE 0",
        "Invalid BUFFER_SIZE value",
    );
    let err = error("CREATE TABLE t (a TEXT) FLUSH EVERYTHING");
    assert_eq!(err.kind, SqlErrorKind::Parse);
    assert!(
        err.message
            .contains("Expected: ROWS, INTERVAL, SECONDS or POLICY after FLUSH"),
        "{}",
        err.message
    );
}

#[test]
fn option_errors() {
    invalid(
        "CREATE USER TABLE t (a TEXT) WITH (TYPE='SHARED')",
        "Conflicting table type: USER TABLE with TYPE='SHARED'",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (COLOR = 'red')",
        "Unknown table option 'COLOR'",
    );
    invalid(
        "CREATE USER TABLE t (a TEXT) WITH (ACCESS_LEVEL='public')",
        "ACCESS_LEVEL is only valid for SHARED tables",
    );
    invalid(
        "CREATE SHARED TABLE t (a TEXT) WITH (TTL_SECONDS=10)",
        "TTL_SECONDS is only valid for STREAM tables",
    );
    invalid(
        "CREATE USER TABLE t (a TEXT) TTL 10s",
        "TTL_SECONDS is only valid for STREAM tables",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) WITH (FLUSH_POLICY='rows:5')",
        "FLUSH_POLICY is only valid for USER and SHARED tables",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) FLUSH ROWS 5",
        "FLUSH_POLICY is only valid for USER and SHARED tables",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) WITH (STORAGE_ID='local')",
        "STORAGE_ID is only valid for USER and SHARED tables",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) WITH (DELETED_RETENTION_HOURS=1)",
        "DELETED_RETENTION_HOURS is only valid for USER and SHARED tables",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (FLUSH_POLICY='often')",
        "Invalid FLUSH_POLICY 'often': expected rows:N,interval:S",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (FLUSH_POLICY='rows:1') FLUSH ROWS 5",
        "Duplicate option FLUSH_POLICY",
    );
    invalid(
        "CREATE TABLE t (a TEXT) FLUSH ROWS 5 FLUSH INTERVAL 5",
        "Duplicate option FLUSH_POLICY",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (TYPE='USER', type='USER')",
        "Duplicate option TYPE",
    );
    invalid(
        "CREATE STREAM TABLE t (a TEXT) WITH (TTL_SECONDS=0)",
        "Invalid TTL_SECONDS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (DELETED_RETENTION_HOURS=-1)",
        "Invalid DELETED_RETENTION_HOURS value",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (ACCESS_LEVEL='everyone')",
        "Invalid ACCESS_LEVEL 'everyone': expected PUBLIC, PRIVATE, RESTRICTED or DBA",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (TYPE='VIEW')",
        "Invalid table TYPE 'VIEW': expected USER, SHARED or STREAM",
    );
    invalid(
        "CREATE TABLE t (a TEXT) WITH (STORAGE_ID='1x')",
        "Name cannot start with a number",
    );
    invalid(
        "CREATE TABLE t (a TEXT) USING parquet",
        "Unsupported table engine 'parquet': only USING kalamdb is accepted",
    );
    let ct = create("CREATE TABLE t (a TEXT) WITH (storage_id = S3_main, Access_Level = 'DBA')");
    assert_eq!(
        ct.options.storage_id.as_ref().map(StorageId::as_str),
        Some("s3_main")
    );
    assert_eq!(ct.options.access_level, Some(AccessLevel::Dba));
}

#[test]
fn unrecognised_trailing_tokens_are_parse_errors() {
    for sql in [
        "CREATE TABLE t (a TEXT) GARBAGE",
        "CREATE TABLE t (a TEXT) WITH (TYPE='USER') extra",
        "CREATE TABLE t (a TEXT) WITH TYPE='USER'",
        "CREATE TABLE t (a TEXT",
        "CREATE TABLE t",
        "CREATE TABLE t (a)",
    ] {
        assert_eq!(error(sql).kind, SqlErrorKind::Parse, "{sql}");
    }
    let err = error("CREATE TABLE t (a TEXT) GARBAGE");
    assert_eq!(
        err.message,
        "sql parser error: Expected: end of statement, found: GARBAGE at Line: 1, Column: 25"
    );
    assert_eq!(
        error("CREATE TABLE t AS SELECT 1").message,
        "Unsupported statement: CREATE TABLE AS"
    );
    invalid(
        "CREATE TABLE t ()",
        "CREATE TABLE requires at least one column",
    );
}

#[test]
fn primary_key_rules() {
    let ct = create("CREATE TABLE t (id TEXT, body TEXT, CONSTRAINT pk PRIMARY KEY (ID))");
    assert!(ct.columns[0].primary_key && !ct.columns[0].nullable);
    let ct = create("CREATE TABLE t (id UUID, PRIMARY KEY (id))");
    assert_eq!(
        ct.primary_key().map(|c| c.data_type),
        Some(KalamDataType::Uuid)
    );
    let ct = create("CREATE TABLE t (id SMALLINT PRIMARY KEY UNIQUE NOT NULL)");
    assert!(ct.columns[0].primary_key);
    let ct = create("CREATE TABLE t (id INT, UNIQUE (id), PRIMARY KEY (id))");
    assert!(ct.columns[0].primary_key);

    invalid(
        "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))",
        "Composite PRIMARY KEYs are not supported yet",
    );
    invalid(
        "CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)",
        "Multiple PRIMARY KEY definitions found",
    );
    invalid(
        "CREATE TABLE t (a INT PRIMARY KEY, PRIMARY KEY (a))",
        "Multiple PRIMARY KEY definitions found",
    );
    invalid(
        "CREATE TABLE t (a INT, PRIMARY KEY (b))",
        "PRIMARY KEY column 'b' not found in column list",
    );
    invalid(
        "CREATE TABLE t (x DOUBLE PRIMARY KEY)",
        "Column 'x' of type DOUBLE cannot be a PRIMARY KEY",
    );
    invalid(
        "CREATE TABLE t (x TIMESTAMP, PRIMARY KEY (x))",
        "Column 'x' of type TIMESTAMP cannot be a PRIMARY KEY",
    );
    invalid(
        "CREATE TABLE t (x INT NULL PRIMARY KEY)",
        "Column 'x' is a PRIMARY KEY and cannot be nullable",
    );
    invalid(
        "CREATE TABLE t (id INT PRIMARY KEY, email TEXT UNIQUE)",
        "UNIQUE is only supported on the PRIMARY KEY",
    );
    invalid(
        "CREATE TABLE t (id INT PRIMARY KEY, email TEXT, UNIQUE (email))",
        "UNIQUE is only supported on the PRIMARY KEY",
    );
    invalid(
        "CREATE TABLE t (id INT, UNIQUE (id))",
        "UNIQUE is only supported on the PRIMARY KEY",
    );
    invalid(
        "CREATE TABLE t (id INT, other INT, FOREIGN KEY (other) REFERENCES x (id))",
        "Unsupported table constraint 'FOREIGN KEY (other) REFERENCES x(id)'",
    );
}

#[test]
fn auto_increment_rules() {
    let ct = create("CREATE TABLE t (id INT AUTOINCREMENT, n BIGSERIAL)");
    assert!(
        ct.columns
            .iter()
            .all(|c| c.auto_increment && c.data_type == KalamDataType::BigInt)
    );
    assert_eq!(
        ct.primary_key(),
        None,
        "two AUTO_INCREMENT columns: no implied key"
    );

    let ct = create("CREATE TABLE t (id SERIAL, body TEXT)");
    assert_eq!(
        ct.columns[0],
        ColumnSpec {
            nullable: false,
            primary_key: true,
            default: Some("SNOWFLAKE_ID()".into()),
            auto_increment: true,
            ..col("id", KalamDataType::BigInt)
        }
    );
    let ct = create("CREATE TABLE t (k TEXT PRIMARY KEY, seq SMALLINT AUTO_INCREMENT)");
    assert!(!ct.columns[1].primary_key && ct.columns[1].auto_increment);
    assert_eq!(ct.columns[1].data_type, KalamDataType::BigInt);
    let ct = create("CREATE TABLE t (id BIGINT AUTO_INCREMENT DEFAULT SNOWFLAKE_ID())");
    assert_eq!(ct.columns[0].default.as_deref(), Some("SNOWFLAKE_ID()"));

    invalid(
        "CREATE TABLE t (id TEXT AUTO_INCREMENT)",
        "AUTO_INCREMENT requires an integer column",
    );
    invalid(
        "CREATE TABLE t (id INT AUTO_INCREMENT DEFAULT 5)",
        "Column 'id' cannot have both AUTO_INCREMENT and DEFAULT",
    );
}

#[test]
fn column_rules() {
    invalid("CREATE TABLE t (a TEXT, A INT)", "Duplicate column 'a'");
    invalid(
        "CREATE TABLE t (_seq BIGINT)",
        "Column name '_seq' is reserved and cannot be used",
    );
    invalid(
        "CREATE TABLE t (\"_deleted\" BOOLEAN)",
        "Column name '_deleted' is reserved and cannot be used",
    );
    invalid("CREATE TABLE t (a FOO)", "Unsupported data type 'FOO'");
    invalid(
        "CREATE TABLE t (v EMBEDDING(384))",
        "Type EMBEDDING is not supported yet",
    );
    invalid("CREATE TABLE t (f FILE)", "Type FILE is not supported yet");
    invalid(
        "CREATE TABLE t (a INT NULL NOT NULL)",
        "Column 'a' cannot be both NULL and NOT NULL",
    );
    invalid(
        "CREATE TABLE t (a INT CHECK (a > 0))",
        "Unsupported column option 'CHECK (a > 0)' on column 'a'",
    );
    invalid(
        "CREATE TABLE t (a INT DEFAULT 1 DEFAULT 2)",
        "Multiple DEFAULT values for column 'a'",
    );
    let ct = create("CREATE TABLE t (key TEXT PRIMARY KEY, index INT, name TEXT)");
    let names: Vec<_> = ct.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["key", "index", "name"]);
}

#[test]
fn defaults_are_checked_and_normalised() {
    let default = |ty: &str, expr: &str| {
        create(&format!("CREATE TABLE t (c {ty} DEFAULT {expr})")).columns[0]
            .default
            .clone()
            .unwrap()
    };
    assert_eq!(default("TEXT", "'abc'"), "'abc'");
    assert_eq!(default("INT", "0"), "0");
    assert_eq!(default("DOUBLE", "-1.5"), "-1.5");
    assert_eq!(default("BOOLEAN", "TRUE"), "true");
    assert_eq!(default("TEXT", "NULL"), "NULL");
    assert_eq!(default("INT", "(7)"), "7");
    assert_eq!(default("TIMESTAMP", "now()"), "NOW()");
    assert_eq!(default("DATETIME", "CURRENT_TIMESTAMP"), "NOW()");
    assert_eq!(default("DATE", "CURRENT_TIMESTAMP()"), "NOW()");
    assert_eq!(default("BIGINT", "snowflake_id()"), "SNOWFLAKE_ID()");
    assert_eq!(default("UUID", "UUID_V7()"), "UUID_V7()");
    assert_eq!(default("TEXT", "uuid_v7()"), "UUID_V7()");
    assert_eq!(default("TEXT", "ULID()"), "ULID()");
    assert_eq!(default("TEXT", "CURRENT_USER()"), "CURRENT_USER()");
    assert_eq!(default("TEXT", "current_user"), "CURRENT_USER()");

    invalid(
        "CREATE TABLE t (c INT DEFAULT SNOWFLAKE_ID())",
        "DEFAULT SNOWFLAKE_ID() requires a BIGINT column",
    );
    invalid(
        "CREATE TABLE t (c TEXT DEFAULT NOW())",
        "DEFAULT NOW() requires a TIMESTAMP, DATETIME or DATE column",
    );
    invalid(
        "CREATE TABLE t (c INT DEFAULT CURRENT_TIMESTAMP)",
        "DEFAULT CURRENT_TIMESTAMP requires a TIMESTAMP, DATETIME or DATE column",
    );
    invalid(
        "CREATE TABLE t (c BIGINT DEFAULT UUID_V7())",
        "DEFAULT UUID_V7() requires a UUID or TEXT column",
    );
    invalid(
        "CREATE TABLE t (c UUID DEFAULT ULID())",
        "DEFAULT ULID() requires a TEXT column",
    );
    invalid(
        "CREATE TABLE t (c INT DEFAULT CURRENT_USER())",
        "DEFAULT CURRENT_USER() requires a TEXT column",
    );
    invalid(
        "CREATE TABLE t (c INT DEFAULT random())",
        "Unsupported DEFAULT 'random()' for column 'c': use a literal, NOW(), CURRENT_TIMESTAMP, \
             SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()",
    );
    assert_eq!(
        error("CREATE TABLE t (c INT DEFAULT 1 + 2)").kind,
        SqlErrorKind::Invalid
    );
    assert_eq!(
        error("CREATE TABLE t (c INT DEFAULT $1)").kind,
        SqlErrorKind::Invalid
    );
    assert_eq!(
        error("CREATE TABLE t (c TIMESTAMP DEFAULT NOW(1))").kind,
        SqlErrorKind::Invalid
    );
}
