//! Storage definitions: the rows of `system.storages` (`sql.md` §4.2, §8)
//! and their validation. A definition is plain data that the engine stores;
//! [`crate::ColdStore::open`] turns it into an object store. Everything a
//! user can get wrong is caught here, with the spec's messages, before a
//! definition is saved, and the same parsing is what `open` uses, so a saved
//! definition always opens.

use std::path::Path as FsPath;

use kalamdb_types::StorageId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ColdError;
use crate::template::{DEFAULT_SHARED_TEMPLATE, DEFAULT_USER_TEMPLATE, validate_template};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    Filesystem,
    S3,
    Gcs,
    Azure,
}

impl StorageType {
    /// Parses a `TYPE` (case-insensitive, as the SQL layer passes it).
    pub fn parse(s: &str) -> Result<Self, ColdError> {
        match s.to_ascii_lowercase().as_str() {
            "filesystem" => Ok(Self::Filesystem),
            "s3" => Ok(Self::S3),
            "gcs" => Ok(Self::Gcs),
            "azure" => Ok(Self::Azure),
            _ => Err(ColdError::InvalidStorage(format!(
                "Invalid storage type '{s}'. Must be 'filesystem', 's3', 'gcs', or 'azure'"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filesystem => "filesystem",
            Self::S3 => "s3",
            Self::Gcs => "gcs",
            Self::Azure => "azure",
        }
    }
}

impl std::fmt::Display for StorageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A storage as persisted: exactly the `system.storages` columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageDef {
    pub storage_id: StorageId,
    pub storage_name: String,
    pub description: Option<String>,
    pub storage_type: StorageType,
    /// Filesystem: a directory (absolute; a relative one is resolved against
    /// the working directory when opened). S3: `s3://bucket[/prefix]`.
    pub base_directory: String,
    /// JSON object. S3: `{"access_key_id", "secret_access_key",
    /// "session_token"?}`; without it, S3 credentials come from the
    /// environment (`AWS_*` variables, instance metadata).
    pub credentials: Option<String>,
    /// JSON object. S3: `{"region", "endpoint", "allow_http",
    /// "virtual_hosted_style_request"}`, all optional (region `us-east-1`).
    pub config_json: Option<String>,
    pub shared_tables_template: String,
    pub user_tables_template: String,
    /// µs since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

impl StorageDef {
    /// The built-in `local` storage: files under `data_storage_dir`.
    pub fn local(data_storage_dir: &FsPath, now: i64) -> Self {
        Self {
            storage_id: StorageId::local(),
            storage_name: "local".into(),
            description: Some("Local filesystem storage under the data directory".into()),
            storage_type: StorageType::Filesystem,
            base_directory: data_storage_dir.display().to_string(),
            credentials: None,
            config_json: None,
            shared_tables_template: DEFAULT_SHARED_TEMPLATE.into(),
            user_tables_template: DEFAULT_USER_TEMPLATE.into(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Checks everything that can be checked without I/O. Opening a valid
    /// definition can still fail (a missing bucket, a read-only directory):
    /// that is what [`crate::ColdStore::probe`] finds out.
    pub fn validate(&self) -> Result<(), ColdError> {
        if self.base_directory.trim().is_empty() {
            return Err(invalid("PATH or BASE_DIRECTORY is required"));
        }
        let config = json_object(self.config_json.as_deref(), "CONFIG")?;
        let credentials = json_object(self.credentials.as_deref(), "CREDENTIALS")?;
        validate_template(&self.shared_tables_template, false)?;
        validate_template(&self.user_tables_template, true)?;
        match self.storage_type {
            StorageType::Filesystem => {
                if self.base_directory.contains("://") {
                    return Err(invalid(format!(
                        "A filesystem storage needs a directory PATH, not the URL '{}'",
                        self.base_directory
                    )));
                }
            }
            StorageType::S3 => {
                S3Settings::parse(&self.base_directory, &config, &credentials)?;
            }
            // Accepted structurally so they can be defined and listed;
            // `ColdStore::open` says they cannot be opened yet.
            StorageType::Gcs | StorageType::Azure => {}
        }
        Ok(())
    }

    pub(crate) fn s3_settings(&self) -> Result<S3Settings, ColdError> {
        let config = json_object(self.config_json.as_deref(), "CONFIG")?;
        let credentials = json_object(self.credentials.as_deref(), "CREDENTIALS")?;
        S3Settings::parse(&self.base_directory, &config, &credentials)
    }
}

fn invalid(m: impl Into<String>) -> ColdError {
    ColdError::InvalidStorage(m.into())
}

fn json_object(text: Option<&str>, what: &str) -> Result<Map<String, Value>, ColdError> {
    let Some(text) = text else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(format!("{what} must be a JSON object"))),
        Err(_) => Err(invalid(format!("{what} is not valid JSON"))),
    }
}

fn opt_string(
    map: &Map<String, Value>,
    what: &str,
    key: &str,
) -> Result<Option<String>, ColdError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!(
            "{what} '{key}' must be a non-empty string"
        ))),
    }
}

fn opt_bool(map: &Map<String, Value>, what: &str, key: &str) -> Result<Option<bool>, ColdError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{what} '{key}' must be true or false"))),
    }
}

/// An S3 storage's settings, parsed from `base_directory`, `config_json`
/// and `credentials`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket, without leading or trailing `/`.
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub allow_http: Option<bool>,
    pub virtual_hosted_style: Option<bool>,
    /// `(access_key_id, secret_access_key, session_token)`.
    pub keys: Option<(String, String, Option<String>)>,
}

impl S3Settings {
    fn parse(
        base_directory: &str,
        config: &Map<String, Value>,
        credentials: &Map<String, Value>,
    ) -> Result<Self, ColdError> {
        let base = base_directory.trim();
        let Some(rest) = base.strip_prefix("s3://") else {
            return Err(invalid(format!(
                "An s3 storage needs BUCKET or BASE_DIRECTORY 's3://bucket[/prefix]', not '{base}'"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's naming rules, loosened to what S3-compatible servers accept.
        let bucket_ok = !bucket.is_empty()
            && bucket.len() <= 255
            && bucket
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !bucket_ok {
            return Err(invalid(format!("Invalid S3 bucket name '{bucket}'")));
        }
        let prefix = prefix.trim_matches('/').to_string();
        if !prefix.is_empty() && object_store::path::Path::parse(&prefix).is_err() {
            return Err(invalid(format!(
                "Invalid S3 key prefix '{prefix}': segments must be non-empty, without '.' or '..'"
            )));
        }
        let endpoint = opt_string(config, "CONFIG", "endpoint")?;
        if let Some(e) = &endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(invalid(format!(
                "CONFIG 'endpoint' must be an http:// or https:// URL, not '{e}'"
            )));
        }
        let key_id = opt_string(credentials, "CREDENTIALS", "access_key_id")?;
        let secret = opt_string(credentials, "CREDENTIALS", "secret_access_key")?;
        let token = opt_string(credentials, "CREDENTIALS", "session_token")?;
        let keys = match (key_id, secret) {
            (Some(k), Some(s)) => Some((k, s, token)),
            (None, None) if token.is_none() => None,
            _ => {
                return Err(invalid(
                    "CREDENTIALS needs both 'access_key_id' and 'secret_access_key'",
                ));
            }
        };
        Ok(Self {
            bucket: bucket.to_string(),
            prefix,
            region: opt_string(config, "CONFIG", "region")?,
            endpoint,
            allow_http: opt_bool(config, "CONFIG", "allow_http")?,
            virtual_hosted_style: opt_bool(config, "CONFIG", "virtual_hosted_style_request")?,
            keys,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn s3(base: &str, config: Option<&str>, credentials: Option<&str>) -> StorageDef {
        StorageDef {
            storage_id: StorageId::parse("remote").unwrap(),
            storage_name: "remote".into(),
            description: None,
            storage_type: StorageType::S3,
            base_directory: base.into(),
            credentials: credentials.map(str::to_string),
            config_json: config.map(str::to_string),
            shared_tables_template: DEFAULT_SHARED_TEMPLATE.into(),
            user_tables_template: DEFAULT_USER_TEMPLATE.into(),
            created_at: 1,
            updated_at: 1,
        }
    }

    fn err(def: &StorageDef) -> String {
        def.validate().unwrap_err().to_string()
    }

    #[test]
    fn storage_types() {
        assert_eq!(StorageType::parse("S3").unwrap(), StorageType::S3);
        assert_eq!(
            StorageType::parse("Filesystem").unwrap(),
            StorageType::Filesystem
        );
        assert_eq!(StorageType::parse("gcs").unwrap().as_str(), "gcs");
        assert_eq!(StorageType::parse("azure").unwrap().to_string(), "azure");
        assert_eq!(
            StorageType::parse("ftp").unwrap_err().to_string(),
            "Invalid storage type 'ftp'. Must be 'filesystem', 's3', 'gcs', or 'azure'"
        );
        assert_eq!(
            serde_json::to_string(&StorageType::Filesystem).unwrap(),
            "\"filesystem\""
        );
    }

    #[test]
    fn local_definition() {
        let def = StorageDef::local(FsPath::new("/data/storage"), 42);
        def.validate().unwrap();
        assert_eq!(def.storage_id, StorageId::local());
        assert_eq!(def.base_directory, "/data/storage");
        assert_eq!(def.shared_tables_template, "{namespace}/{tableName}");
        assert_eq!(def.user_tables_template, "{namespace}/{tableName}/{userId}");
        assert_eq!((def.created_at, def.updated_at), (42, 42));
        // The serialized form is the system.storages row.
        let json = serde_json::to_value(&def).unwrap();
        assert_eq!(json["storage_type"], "filesystem");
        assert_eq!(json["credentials"], Value::Null);
        let back: StorageDef = serde_json::from_value(json).unwrap();
        assert_eq!(back, def);
    }

    #[test]
    fn definition_errors() {
        let mut def = StorageDef::local(FsPath::new("/d"), 0);
        def.base_directory = "  ".into();
        assert_eq!(err(&def), "PATH or BASE_DIRECTORY is required");
        def.base_directory = "s3://bucket".into();
        assert!(err(&def).contains("not the URL"));

        let mut def = StorageDef::local(FsPath::new("/d"), 0);
        def.config_json = Some("{not json".into());
        assert_eq!(err(&def), "CONFIG is not valid JSON");
        def.config_json = Some("[1]".into());
        assert_eq!(err(&def), "CONFIG must be a JSON object");
        def.config_json = None;
        def.credentials = Some("nope".into());
        assert_eq!(err(&def), "CREDENTIALS is not valid JSON");

        let mut def = StorageDef::local(FsPath::new("/d"), 0);
        def.user_tables_template = "{namespace}".into();
        assert_eq!(err(&def), "USER_TABLES_TEMPLATE must contain {userId}");
        def.user_tables_template = DEFAULT_USER_TEMPLATE.into();
        def.shared_tables_template = "{userId}".into();
        assert_eq!(
            err(&def),
            "SHARED_TABLES_TEMPLATE must not contain {userId}"
        );
    }

    #[test]
    fn s3_definitions() {
        let ok = s3(
            "s3://my-bucket/some/prefix/",
            Some(r#"{"region":"eu-west-1","endpoint":"http://127.0.0.1:9000","allow_http":true}"#),
            Some(r#"{"access_key_id":"AK","secret_access_key":"SK"}"#),
        );
        ok.validate().unwrap();
        let s = ok.s3_settings().unwrap();
        assert_eq!(s.bucket, "my-bucket");
        assert_eq!(s.prefix, "some/prefix");
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s.allow_http, Some(true));
        assert_eq!(s.keys, Some(("AK".into(), "SK".into(), None)));

        let bare = s3("s3://b", None, None);
        bare.validate().unwrap();
        let s = bare.s3_settings().unwrap();
        assert_eq!((s.prefix.as_str(), s.keys.is_none()), ("", true));

        assert!(err(&s3("/tmp/x", None, None)).starts_with("An s3 storage needs BUCKET"));
        assert_eq!(err(&s3("s3://", None, None)), "Invalid S3 bucket name ''");
        assert_eq!(
            err(&s3("s3://a b", None, None)),
            "Invalid S3 bucket name 'a b'"
        );
        assert!(err(&s3("s3://b/x/../y", None, None)).starts_with("Invalid S3 key prefix"));
        assert!(err(&s3("s3://b/x//y", None, None)).starts_with("Invalid S3 key prefix"));
        assert_eq!(
            err(&s3("s3://b", Some(r#"{"allow_http":"yes"}"#), None)),
            "CONFIG 'allow_http' must be true or false"
        );
        assert_eq!(
            err(&s3("s3://b", Some(r#"{"region":5}"#), None)),
            "CONFIG 'region' must be a non-empty string"
        );
        assert!(
            err(&s3(
                "s3://b",
                Some(r#"{"endpoint":"localhost:9000"}"#),
                None
            ))
            .starts_with("CONFIG 'endpoint' must be an http:// or https:// URL")
        );
        assert_eq!(
            err(&s3("s3://b", None, Some(r#"{"access_key_id":"AK"}"#))),
            "CREDENTIALS needs both 'access_key_id' and 'secret_access_key'"
        );
        assert_eq!(
            err(&s3("s3://b", None, Some(r#"{"session_token":"T"}"#))),
            "CREDENTIALS needs both 'access_key_id' and 'secret_access_key'"
        );
    }

    #[test]
    fn gcs_and_azure_are_accepted_structurally() {
        let mut def = s3("gs://bucket", None, None);
        def.storage_type = StorageType::Gcs;
        def.validate().unwrap();
        def.storage_type = StorageType::Azure;
        def.validate().unwrap();
    }
}
