//! `CREATE TABLE` (`sql.md` §2.1–2.4): syntax through sqlparser, then every column rule.
//!
//! The result is final: the engine persists [`CreateTable`] as given, so all rules that need
//! no state (names, types, keys, defaults, options per kind) are enforced here, in a fixed
//! order so that a statement with several mistakes always reports the same one.

use std::collections::HashSet;

use kalamdb_types::{KalamDataType, TableType, validate_object_name};
use sqlparser::ast::{
    ColumnDef, ColumnOption, Expr, Function, FunctionArguments, IndexColumn, ObjectNamePart,
    TableConstraint, UnaryOperator, Value,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::datatype::{ColumnType, map_data_type};
use crate::error::SqlError;
use crate::parser::{expected, fold_ident, parse_object_ref};
use crate::statement::{ColumnSpec, CreateTable};
use crate::table_options::parse_table_clauses;

/// Parses the rest of `CREATE [kind] TABLE`; `keyword` is the kind keyword, if any.
pub(crate) fn parse_create_table(
    p: &mut Parser,
    keyword: Option<TableType>,
) -> Result<CreateTable, SqlError> {
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let table = parse_object_ref(p)?;
    if p.peek_keyword(Keyword::AS) {
        return Err(SqlError::unsupported("CREATE TABLE AS"));
    }
    let (defs, constraints) = parse_column_list(p)?;
    let clauses = parse_table_clauses(p)?;

    let columns = build_columns(&defs, &constraints)?;
    let resolved = clauses.resolve(keyword)?;
    Ok(CreateTable {
        table,
        if_not_exists,
        table_type: resolved.table_type,
        columns,
        options: resolved.options,
        ignored: resolved.ignored,
    })
}

/// `( column_def | table_constraint [, …] )`. Only constraint keywords that cannot name a
/// column start a constraint, so columns called `key` or `index` stay columns.
fn parse_column_list(p: &mut Parser) -> Result<(Vec<ColumnDef>, Vec<TableConstraint>), SqlError> {
    p.expect_token(&Token::LParen)?;
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    if p.consume_token(&Token::RParen) {
        return Err(SqlError::invalid(
            "CREATE TABLE requires at least one column",
        ));
    }
    loop {
        let constraint_start = [
            Keyword::CONSTRAINT,
            Keyword::PRIMARY,
            Keyword::UNIQUE,
            Keyword::FOREIGN,
            Keyword::CHECK,
        ];
        if p.peek_one_of_keywords(&constraint_start).is_some() {
            match p.parse_optional_table_constraint()? {
                Some(constraint) => constraints.push(constraint),
                None => return Err(expected(p, "a table constraint", p.peek_token_ref())),
            }
        } else {
            columns.push(p.parse_column_def()?);
        }
        if p.consume_token(&Token::Comma) {
            // A trailing comma before `)` is tolerated, as DataFusion does.
            if p.consume_token(&Token::RParen) {
                break;
            }
        } else {
            p.expect_token(&Token::RParen)?;
            break;
        }
    }
    if columns.is_empty() {
        return Err(SqlError::invalid(
            "CREATE TABLE requires at least one column",
        ));
    }
    Ok((columns, constraints))
}

/// A column while the table-wide rules are still pending.
struct Draft {
    spec: ColumnSpec,
    not_null: bool,
    explicit_null: bool,
    inline_pk: bool,
    unique: bool,
}

fn build_columns(
    defs: &[ColumnDef],
    constraints: &[TableConstraint],
) -> Result<Vec<ColumnSpec>, SqlError> {
    let mut seen = HashSet::new();
    let mut drafts = Vec::with_capacity(defs.len());
    for def in defs {
        let draft = build_column(def)?;
        if !seen.insert(draft.spec.name.clone()) {
            return Err(SqlError::invalid(format!(
                "Duplicate column '{}'",
                draft.spec.name
            )));
        }
        drafts.push(draft);
    }

    let mut table_pks = Vec::new();
    let mut table_uniques = Vec::new();
    for constraint in constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let [column] = pk.columns.as_slice() else {
                    return Err(SqlError::invalid(
                        "Composite PRIMARY KEYs are not supported yet",
                    ));
                };
                table_pks.push(constraint_column(column)?);
            }
            TableConstraint::Unique(unique) => {
                let [column] = unique.columns.as_slice() else {
                    return Err(unique_error());
                };
                table_uniques.push(constraint_column(column)?);
            }
            other => {
                return Err(SqlError::invalid(format!(
                    "Unsupported table constraint '{other}'"
                )));
            }
        }
    }

    let inline_pks = drafts.iter().filter(|d| d.inline_pk).count();
    if inline_pks + table_pks.len() > 1 {
        return Err(SqlError::invalid("Multiple PRIMARY KEY definitions found"));
    }
    let pk_index = if let Some(i) = drafts.iter().position(|d| d.inline_pk) {
        Some(i)
    } else if let Some(name) = table_pks.first() {
        let position = drafts.iter().position(|d| &d.spec.name == name);
        Some(position.ok_or_else(|| {
            SqlError::invalid(format!(
                "PRIMARY KEY column '{name}' not found in column list"
            ))
        })?)
    } else {
        // Older form: a lone AUTO_INCREMENT/SERIAL column is the key.
        let mut auto = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.spec.auto_increment);
        match (auto.next(), auto.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    };
    if let Some(draft) = pk_index.and_then(|i| drafts.get_mut(i)) {
        let name = &draft.spec.name;
        if !draft.spec.data_type.can_be_primary_key() {
            return Err(SqlError::invalid(format!(
                "Column '{name}' of type {} cannot be a PRIMARY KEY",
                draft.spec.data_type.sql_name()
            )));
        }
        if draft.explicit_null {
            return Err(SqlError::invalid(format!(
                "Column '{name}' is a PRIMARY KEY and cannot be nullable"
            )));
        }
        draft.spec.primary_key = true;
    }

    let is_pk = |name: &str| {
        drafts
            .iter()
            .any(|d| d.spec.primary_key && d.spec.name == name)
    };
    if drafts.iter().any(|d| d.unique && !d.spec.primary_key)
        || table_uniques.iter().any(|name| !is_pk(name))
    {
        return Err(unique_error());
    }

    Ok(drafts
        .into_iter()
        .map(|mut d| {
            d.spec.nullable = !(d.not_null || d.spec.primary_key);
            d.spec
        })
        .collect())
}

fn unique_error() -> SqlError {
    SqlError::invalid("UNIQUE is only supported on the PRIMARY KEY")
}

/// The single column named in a table-level `PRIMARY KEY (c)` / `UNIQUE (c)`.
fn constraint_column(column: &IndexColumn) -> Result<String, SqlError> {
    match &column.column.expr {
        Expr::Identifier(ident) => Ok(fold_ident(ident)),
        other => Err(SqlError::invalid(format!("Invalid key column '{other}'"))),
    }
}

/// One column's own rules: name, type, options, AUTO_INCREMENT and DEFAULT.
fn build_column(def: &ColumnDef) -> Result<Draft, SqlError> {
    let name = fold_ident(&def.name);
    if name.starts_with('_') {
        return Err(SqlError::invalid(format!(
            "Column name '{name}' is reserved and cannot be used"
        )));
    }
    validate_object_name(&name)?;
    let ColumnType {
        mut data_type,
        serial,
    } = map_data_type(&def.data_type)?;

    let mut draft = Draft {
        spec: ColumnSpec {
            name,
            data_type,
            nullable: true,
            primary_key: false,
            default: None,
            auto_increment: serial,
        },
        not_null: false,
        explicit_null: false,
        inline_pk: false,
        unique: false,
    };
    let name = &draft.spec.name;
    let mut default = None;
    for option in &def.options {
        match &option.option {
            ColumnOption::Null => draft.explicit_null = true,
            ColumnOption::NotNull => draft.not_null = true,
            ColumnOption::PrimaryKey(_) => draft.inline_pk = true,
            ColumnOption::Unique(_) => draft.unique = true,
            ColumnOption::Default(expr) => {
                if default.replace(expr).is_some() {
                    return Err(SqlError::invalid(format!(
                        "Multiple DEFAULT values for column '{name}'"
                    )));
                }
            }
            ColumnOption::DialectSpecific(tokens) if is_auto_increment(tokens) => {
                draft.spec.auto_increment = true;
            }
            other => {
                return Err(SqlError::invalid(format!(
                    "Unsupported column option '{other}' on column '{name}'"
                )));
            }
        }
    }
    if draft.not_null && draft.explicit_null {
        return Err(SqlError::invalid(format!(
            "Column '{name}' cannot be both NULL and NOT NULL"
        )));
    }

    if draft.spec.auto_increment {
        if !data_type.is_integer() {
            return Err(SqlError::invalid(
                "AUTO_INCREMENT requires an integer column",
            ));
        }
        data_type = KalamDataType::BigInt;
        let explicit = default
            .map(|expr| check_default(name, data_type, expr))
            .transpose()?;
        if explicit.as_ref().is_some_and(|d| d != SNOWFLAKE_ID) {
            return Err(SqlError::invalid(format!(
                "Column '{name}' cannot have both AUTO_INCREMENT and DEFAULT"
            )));
        }
        draft.spec.data_type = data_type;
        draft.spec.default = Some(SNOWFLAKE_ID.to_string());
    } else if let Some(expr) = default {
        draft.spec.default = Some(check_default(name, data_type, expr)?);
    }
    Ok(draft)
}

const SNOWFLAKE_ID: &str = "SNOWFLAKE_ID()";

/// sqlparser gives MySQL's `AUTO_INCREMENT` and SQLite's `AUTOINCREMENT` as dialect tokens.
fn is_auto_increment(tokens: &[Token]) -> bool {
    matches!(
        tokens,
        [Token::Word(w)] if matches!(w.keyword, Keyword::AUTO_INCREMENT | Keyword::AUTOINCREMENT)
    )
}

/// Checks a DEFAULT against the column type and returns its stored SQL text.
fn check_default(column: &str, data_type: KalamDataType, expr: &Expr) -> Result<String, SqlError> {
    let mut expr = expr;
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    let unsupported = || {
        SqlError::invalid(format!(
            "Unsupported DEFAULT '{expr}' for column '{column}': use a literal, NOW(), \
             CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()"
        ))
    };
    match expr {
        Expr::Value(v) if !matches!(v.value, Value::Placeholder(_)) => Ok(expr.to_string()),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr: inner,
        } if matches!(inner.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))) => {
            Ok(expr.to_string())
        }
        Expr::TypedString(_) => Ok(expr.to_string()),
        Expr::Function(f) => {
            let (written, canonical, allowed, kinds) =
                default_function(f).ok_or_else(unsupported)?;
            if allowed.contains(&data_type) {
                Ok(canonical.to_string())
            } else {
                Err(SqlError::invalid(format!(
                    "DEFAULT {written} requires a {kinds} column"
                )))
            }
        }
        _ => Err(unsupported()),
    }
}

/// For a supported DEFAULT function: (name as cited in errors, stored text, allowed column
/// types, their names for the message).
fn default_function(
    f: &Function,
) -> Option<(
    &'static str,
    &'static str,
    &'static [KalamDataType],
    &'static str,
)> {
    use KalamDataType as K;
    let [ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() else {
        return None;
    };
    let no_args = match &f.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => {
            list.args.is_empty() && list.clauses.is_empty() && list.duplicate_treatment.is_none()
        }
        FunctionArguments::Subquery(_) => false,
    };
    if !no_args || f.over.is_some() || f.filter.is_some() {
        return None;
    }
    const TIME: &[KalamDataType] = &[K::Timestamp, K::DateTime, K::Date];
    match ident.value.to_ascii_uppercase().as_str() {
        "NOW" => Some(("NOW()", "NOW()", TIME, "TIMESTAMP, DATETIME or DATE")),
        // Stored as NOW(): one spelling for one function.
        "CURRENT_TIMESTAMP" => Some((
            "CURRENT_TIMESTAMP",
            "NOW()",
            TIME,
            "TIMESTAMP, DATETIME or DATE",
        )),
        "SNOWFLAKE_ID" => Some((SNOWFLAKE_ID, SNOWFLAKE_ID, &[K::BigInt], "BIGINT")),
        "UUID_V7" => Some((
            "UUID_V7()",
            "UUID_V7()",
            &[K::Uuid, K::Text],
            "UUID or TEXT",
        )),
        "ULID" => Some(("ULID()", "ULID()", &[K::Text], "TEXT")),
        "CURRENT_USER" => Some(("CURRENT_USER()", "CURRENT_USER()", &[K::Text], "TEXT")),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use kalamdb_types::{AccessLevel, FlushPolicy, StorageId, TableOptions};

    use super::*;
    use crate::{KalamStatement, ObjectRef, SqlErrorKind, parse_statement};

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

        let typed =
            create("CREATE SHARED TABLE t (a TEXT) WITH (TYPE=SHARED, ACCESS_LEVEL=public)");
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
        let ct =
            create("CREATE TABLE t (a TEXT) WITH (storage_id = S3_main, Access_Level = 'DBA')");
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
}
