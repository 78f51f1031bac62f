//! `CREATE STORAGE`, `ALTER STORAGE`, `DROP STORAGE` (`sql.md` §4.2).
//!
//! Only what the text alone decides is checked here (type, a location given, template
//! placeholders); whether the location is reachable and the JSON valid is the engine's
//! business when it probes the storage.

use kalamdb_types::StorageId;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::cursor::{ParserExt, expected, parse_word_or_string, set_once};
use super::names::parse_name;
use crate::error::SqlError;
use crate::statement::{CreateStorage, KalamStatement};

const STORAGE_TYPES: &[&str] = &["filesystem", "s3", "gcs", "azure"];
/// Items `ALTER STORAGE … SET` may change.
const ALTERABLE: &[&str] = &[
    "NAME",
    "DESCRIPTION",
    "CONFIG",
    "SHARED_TABLES_TEMPLATE",
    "USER_TABLES_TEMPLATE",
];

/// A storage id: an object name, folded.
fn parse_storage_id(p: &mut Parser) -> Result<String, SqlError> {
    let id = parse_name(p)?;
    StorageId::parse(&id)?;
    Ok(id)
}

/// The unquoted word at the cursor, upper-cased, if any.
fn peek_item(p: &Parser) -> Option<String> {
    match &p.peek_token_ref().token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// After `CREATE STORAGE`: `id TYPE t [NAME 'n'] …`, items in any order, `=` optional.
pub(crate) fn parse_create_storage(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let mut storage = CreateStorage {
        id: parse_storage_id(p)?,
        ..CreateStorage::default()
    };
    let mut storage_type = None;
    while !p.next_is_end(0) {
        let item = peek_item(p).unwrap_or_default();
        let slot = match item.as_str() {
            "TYPE" => &mut storage_type,
            "NAME" => &mut storage.name,
            "DESCRIPTION" => &mut storage.description,
            "PATH" => &mut storage.path,
            "BUCKET" => &mut storage.bucket,
            "REGION" => &mut storage.region,
            "BASE_DIRECTORY" => &mut storage.base_directory,
            "SHARED_TABLES_TEMPLATE" => &mut storage.shared_tables_template,
            "USER_TABLES_TEMPLATE" => &mut storage.user_tables_template,
            "CREDENTIALS" => &mut storage.credentials,
            "CONFIG" => &mut storage.config,
            _ => return Err(expected(p, "end of statement", p.peek_token_ref())),
        };
        p.advance_token();
        let _ = p.consume_token(&Token::Eq);
        let value = if item == "TYPE" {
            // The type may be a bare word: TYPE filesystem.
            parse_word_or_string(p, "a storage type")?
        } else {
            p.parse_literal_string()?
        };
        set_once(slot, value, &item)?;
    }

    let Some(storage_type) = storage_type else {
        return Err(SqlError::parse(
            "CREATE STORAGE requires TYPE filesystem, s3, gcs or azure",
        ));
    };
    storage.storage_type = storage_type.to_ascii_lowercase();
    if !STORAGE_TYPES.contains(&storage.storage_type.as_str()) {
        return Err(SqlError::invalid(format!(
            "Invalid storage type '{storage_type}'. Must be 'filesystem', 's3', 'gcs', or 'azure'"
        )));
    }
    if storage.path.is_none() && storage.bucket.is_none() && storage.base_directory.is_none() {
        return Err(SqlError::invalid("PATH or BASE_DIRECTORY is required"));
    }
    if let Some(t) = &storage.shared_tables_template {
        check_template("SHARED_TABLES_TEMPLATE", t)?;
    }
    if let Some(t) = &storage.user_tables_template {
        check_template("USER_TABLES_TEMPLATE", t)?;
    }
    Ok(KalamStatement::CreateStorage(storage))
}

/// After `ALTER STORAGE`: `id SET item value [SET item value …]` (commas also separate).
pub(crate) fn parse_alter_storage(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let id = parse_storage_id(p)?;
    p.expect_keyword_is(Keyword::SET)?;
    let mut changes: Vec<(String, String)> = Vec::new();
    loop {
        let Some(item) = peek_item(p) else {
            return Err(expected(p, "a storage setting", p.peek_token_ref()));
        };
        if !ALTERABLE.contains(&item.as_str()) {
            return Err(SqlError::invalid(format!(
                "Storage option '{item}' cannot be altered; use NAME, DESCRIPTION, CONFIG, \
                 SHARED_TABLES_TEMPLATE or USER_TABLES_TEMPLATE"
            )));
        }
        p.advance_token();
        let _ = p.consume_token(&Token::Eq);
        let value = p.parse_literal_string()?;
        if item.ends_with("_TEMPLATE") {
            check_template(&item, &value)?;
        }
        if changes.iter().any(|(name, _)| *name == item) {
            return Err(SqlError::invalid(format!("Duplicate option {item}")));
        }
        changes.push((item, value));
        if !(p.consume_token(&Token::Comma) || p.parse_keyword(Keyword::SET)) {
            break;
        }
    }
    Ok(KalamStatement::AlterStorage { id, changes })
}

/// After `DROP STORAGE`: `[IF EXISTS] id`.
pub(crate) fn parse_drop_storage(p: &mut Parser) -> Result<KalamStatement, SqlError> {
    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let id = parse_storage_id(p)?;
    Ok(KalamStatement::DropStorage { id, if_exists })
}

/// Placeholders are `{namespace}`, `{tableName}`, `{userId}`; per-user files must be told
/// apart by `{userId}` and shared files must not depend on it.
fn check_template(item: &str, template: &str) -> Result<(), SqlError> {
    let mut rest = template;
    let mut has_user = false;
    while let Some((_, after)) = rest.split_once('{') {
        let (name, tail) = after.split_once('}').unwrap_or((after, ""));
        match name {
            "namespace" | "tableName" => {}
            "userId" => has_user = true,
            _ => {
                return Err(SqlError::invalid(format!(
                    "Unknown placeholder '{{{name}}}' in template"
                )));
            }
        }
        rest = tail;
    }
    match item {
        "USER_TABLES_TEMPLATE" if !has_user => Err(SqlError::invalid(
            "USER_TABLES_TEMPLATE must contain {userId}",
        )),
        "SHARED_TABLES_TEMPLATE" if has_user => Err(SqlError::invalid(
            "SHARED_TABLES_TEMPLATE must not contain {userId}",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{SqlErrorKind, parse_statement};

    fn create(sql: &str) -> CreateStorage {
        match parse_statement(sql) {
            Ok(KalamStatement::CreateStorage(s)) => s,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn error(sql: &str) -> SqlError {
        match parse_statement(sql) {
            Err(e) => e,
            Ok(stmt) => panic!("{sql} parsed: {stmt:?}"),
        }
    }

    #[test]
    fn create_storage_forms() {
        assert_eq!(
            create(
                "CREATE STORAGE S3_Main TYPE 's3' NAME 'Main bucket' DESCRIPTION 'd' BUCKET 'b' \
                 REGION 'eu-west-1' USER_TABLES_TEMPLATE '{namespace}/{tableName}/{userId}' \
                 SHARED_TABLES_TEMPLATE '{namespace}/{tableName}' CREDENTIALS '{\"k\":1}' \
                 CONFIG '{\"endpoint\":\"http://localhost:9000\",\"allow_http\":true}'"
            ),
            CreateStorage {
                id: "s3_main".into(),
                storage_type: "s3".into(),
                name: Some("Main bucket".into()),
                description: Some("d".into()),
                path: None,
                bucket: Some("b".into()),
                region: Some("eu-west-1".into()),
                base_directory: None,
                shared_tables_template: Some("{namespace}/{tableName}".into()),
                user_tables_template: Some("{namespace}/{tableName}/{userId}".into()),
                credentials: Some("{\"k\":1}".into()),
                config: Some("{\"endpoint\":\"http://localhost:9000\",\"allow_http\":true}".into()),
            }
        );
        let fs = create("create storage archive path '/data/archive' type FILESYSTEM");
        assert_eq!(
            (fs.storage_type.as_str(), fs.path.as_deref()),
            ("filesystem", Some("/data/archive"))
        );
        let gcs = create("CREATE STORAGE g TYPE gcs BASE_DIRECTORY 'gs://bucket/prefix'");
        assert_eq!(gcs.base_directory.as_deref(), Some("gs://bucket/prefix"));
    }

    #[test]
    fn create_storage_errors() {
        let invalid = |sql: &str, message: &str| {
            let err = error(sql);
            assert_eq!(
                (err.kind, err.message.as_str()),
                (SqlErrorKind::Invalid, message),
                "{sql}"
            );
        };
        invalid(
            "CREATE STORAGE x TYPE ftp PATH '/x'",
            "Invalid storage type 'ftp'. Must be 'filesystem', 's3', 'gcs', or 'azure'",
        );
        invalid(
            "CREATE STORAGE x TYPE filesystem NAME 'n'",
            "PATH or BASE_DIRECTORY is required",
        );
        invalid(
            "CREATE STORAGE x TYPE filesystem PATH '/x' USER_TABLES_TEMPLATE '{namespace}/{tableName}'",
            "USER_TABLES_TEMPLATE must contain {userId}",
        );
        invalid(
            "CREATE STORAGE x TYPE filesystem PATH '/x' SHARED_TABLES_TEMPLATE '{namespace}/{userId}'",
            "SHARED_TABLES_TEMPLATE must not contain {userId}",
        );
        invalid(
            "CREATE STORAGE x TYPE filesystem PATH '/x' SHARED_TABLES_TEMPLATE '{namespace}/{table}'",
            "Unknown placeholder '{table}' in template",
        );
        invalid(
            "CREATE STORAGE x TYPE s3 BUCKET 'a' BUCKET 'b'",
            "Duplicate option BUCKET",
        );
        invalid(
            "CREATE STORAGE \"1x\" TYPE s3 BUCKET 'a'",
            "Name cannot start with a number",
        );
        let err = error("CREATE STORAGE x PATH '/x'");
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                SqlErrorKind::Parse,
                "CREATE STORAGE requires TYPE filesystem, s3, gcs or azure"
            )
        );
        assert_eq!(
            error("CREATE STORAGE x TYPE s3 BUCKET 'b' COLOR 'red'").kind,
            SqlErrorKind::Parse
        );
    }

    #[test]
    fn alter_drop_show_storage() {
        assert_eq!(
            parse_statement(
                "ALTER STORAGE s3_main SET NAME 'New' SET config '{}', DESCRIPTION = 'x'"
            )
            .unwrap(),
            KalamStatement::AlterStorage {
                id: "s3_main".into(),
                changes: vec![
                    ("NAME".into(), "New".into()),
                    ("CONFIG".into(), "{}".into()),
                    ("DESCRIPTION".into(), "x".into()),
                ],
            }
        );
        let err = error("ALTER STORAGE s SET PATH '/elsewhere'");
        assert_eq!(err.kind, SqlErrorKind::Invalid);
        assert!(
            err.message
                .starts_with("Storage option 'PATH' cannot be altered"),
            "{}",
            err.message
        );
        assert_eq!(
            error("ALTER STORAGE s SET USER_TABLES_TEMPLATE '{namespace}'").message,
            "USER_TABLES_TEMPLATE must contain {userId}"
        );
        assert_eq!(
            error("ALTER STORAGE s SET NAME 'a' SET NAME 'b'").message,
            "Duplicate option NAME"
        );
        assert_eq!(error("ALTER STORAGE s").kind, SqlErrorKind::Parse);
        assert_eq!(
            parse_statement("DROP STORAGE IF EXISTS Archive").unwrap(),
            KalamStatement::DropStorage {
                id: "archive".into(),
                if_exists: true
            }
        );
        assert_eq!(
            parse_statement("DROP STORAGE archive").unwrap(),
            KalamStatement::DropStorage {
                id: "archive".into(),
                if_exists: false
            }
        );
        assert_eq!(
            parse_statement("SHOW STORAGES").unwrap(),
            KalamStatement::ShowStorages
        );
    }
}
