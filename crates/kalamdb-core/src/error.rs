//! The engine's error type and its exhaustive mapping to wire codes (the
//! bottom layer: every other module returns [`KalamError`]; it imports none
//! of them).

use std::sync::Arc;

use datafusion::error::DataFusionError;
use kalamdb_sql::{SqlError, SqlErrorKind};
use kalamdb_store::StoreError;
use kalamdb_types::ErrorCode;

/// Everything a statement can fail with. The `Display` text is the message
/// clients see (except [`KalamError::Internal`]/[`KalamError::Storage`], which
/// the API hides from non-admin callers).
#[derive(Debug, Clone, thiserror::Error)]
pub enum KalamError {
    #[error("{0}")]
    EmptySql(String),
    #[error("{0}")]
    InvalidSql(String),
    #[error("{0}")]
    BatchParse(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("Parameters are only allowed with a single statement")]
    ParamsWithBatch,
    /// Carries the qualified name, `ns.t`.
    #[error("Table '{0}' not found")]
    TableNotFound(String),
    /// A statement that failed on its input: exists already, constraint,
    /// cast, unknown namespace, …
    #[error("{0}")]
    Execution(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// A row read by UPDATE/DELETE changed before the write committed; the
    /// statement is retried, and reports this only when retries run out.
    #[error("{0}")]
    WriteConflict(String),
    /// The hot store failed or is poisoned after a failed write: nothing
    /// more is acknowledged until the server restarts.
    #[error("Storage unavailable: {0}")]
    Storage(#[from] StoreError),
    /// A segment a manifest lists is not in its storage. Readers reload the
    /// manifest and retry (a compaction replaced the file); it reaches the
    /// client only when the current manifest still lists the missing file.
    #[error("Internal error: {0}")]
    ColdSegmentMissing(String),
    /// A bug: an invariant the engine relies on did not hold.
    #[error("Internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = KalamError> = std::result::Result<T, E>;

impl KalamError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KalamError::EmptySql(_) => ErrorCode::EmptySql,
            KalamError::InvalidSql(_) => ErrorCode::InvalidSql,
            KalamError::BatchParse(_) => ErrorCode::BatchParseError,
            KalamError::InvalidParameter(_) => ErrorCode::InvalidParameter,
            KalamError::ParamsWithBatch => ErrorCode::ParamsWithBatch,
            KalamError::TableNotFound(_) => ErrorCode::TableNotFound,
            KalamError::Execution(_) | KalamError::WriteConflict(_) => ErrorCode::SqlExecutionError,
            KalamError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            KalamError::Storage(_)
            | KalamError::ColdSegmentMissing(_)
            | KalamError::Internal(_) => ErrorCode::InternalError,
        }
    }

    pub fn exec(msg: impl Into<String>) -> Self {
        KalamError::Execution(msg.into())
    }

    pub fn internal(msg: impl std::fmt::Display) -> Self {
        KalamError::Internal(msg.to_string())
    }

    /// Wraps this error so it can travel through DataFusion and come back
    /// out intact (see the `From<DataFusionError>` impl).
    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }
}

impl From<kalamdb_store::KeyError> for KalamError {
    fn from(e: kalamdb_store::KeyError) -> Self {
        KalamError::Storage(StoreError::Key(e))
    }
}

impl From<kalamdb_cold::ColdError> for KalamError {
    fn from(e: kalamdb_cold::ColdError) -> Self {
        match e {
            kalamdb_cold::ColdError::InvalidStorage(m)
            | kalamdb_cold::ColdError::NotWritable(m) => KalamError::Execution(m),
            kalamdb_cold::ColdError::Missing(m) => KalamError::ColdSegmentMissing(m),
            other => KalamError::Internal(format!("cold storage: {other}")),
        }
    }
}

impl From<SqlError> for KalamError {
    fn from(e: SqlError) -> Self {
        match e.kind {
            SqlErrorKind::Empty => KalamError::EmptySql(e.message),
            SqlErrorKind::BatchParse => KalamError::BatchParse(e.message),
            SqlErrorKind::Parse => KalamError::InvalidSql(e.message),
            SqlErrorKind::Invalid => KalamError::Execution(e.message),
        }
    }
}

impl From<DataFusionError> for KalamError {
    fn from(e: DataFusionError) -> Self {
        // Our own errors come back wrapped, possibly under context layers.
        let e = strip_context(e);
        match e {
            DataFusionError::External(inner) => match inner.downcast::<KalamError>() {
                Ok(k) => *k,
                Err(other) => match other.downcast::<DataFusionError>() {
                    Ok(df) => KalamError::from(*df),
                    Err(other) => KalamError::Execution(other.to_string()),
                },
            },
            // An error several partitions share (e.g. behind a
            // repartition): ours inside keeps its code and message.
            DataFusionError::Shared(shared) => match Arc::try_unwrap(shared) {
                Ok(e) => KalamError::from(e),
                Err(shared) => match strip_context_ref(&shared) {
                    DataFusionError::External(inner) => match inner.downcast_ref::<KalamError>() {
                        Some(k) => k.clone(),
                        None => KalamError::Execution(inner.to_string()),
                    },
                    DataFusionError::ParquetError(e) => match cold_error(e) {
                        Some(cold) => KalamError::from(cold),
                        None => KalamError::Execution(format!("Parquet error: {e}")),
                    },
                    other => KalamError::from(DataFusionError::Execution(other.to_string())),
                },
            },
            // A segment read by DataFusion's Parquet scan failed: the
            // reader classified it as our own reads do (`cold_scan.rs`).
            DataFusionError::ParquetError(e) => match cold_error(&e) {
                Some(cold) => KalamError::from(cold),
                None => KalamError::Execution(format!("Parquet error: {e}")),
            },
            DataFusionError::Plan(msg) => plan_error(msg),
            DataFusionError::SQL(err, _) => KalamError::InvalidSql(err.to_string()),
            DataFusionError::Internal(msg) => KalamError::Internal(msg),
            DataFusionError::IoError(err) => KalamError::Internal(err.to_string()),
            DataFusionError::ObjectStore(err) => KalamError::Internal(err.to_string()),
            other => KalamError::Execution(other.to_string()),
        }
    }
}

/// The classified failure of a segment read that DataFusion's Parquet scan
/// reports (`kalamdb_cold::SegmentFileReader` puts it there).
fn cold_error(e: &datafusion::parquet::errors::ParquetError) -> Option<kalamdb_cold::ColdError> {
    match e {
        datafusion::parquet::errors::ParquetError::External(inner) => {
            inner.downcast_ref::<kalamdb_cold::ColdError>().cloned()
        }
        _ => None,
    }
}

fn strip_context_ref(e: &DataFusionError) -> &DataFusionError {
    match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            strip_context_ref(inner)
        }
        other => other,
    }
}

fn strip_context(e: DataFusionError) -> DataFusionError {
    match e {
        DataFusionError::Context(_, inner) => strip_context(*inner),
        DataFusionError::Diagnostic(_, inner) => strip_context(*inner),
        other => other,
    }
}

/// DataFusion reports unknown tables as `table 'kalam.ns.t' not found`;
/// clients expect `TABLE_NOT_FOUND` with `ns.t`.
fn plan_error(msg: String) -> KalamError {
    if let Some(rest) = msg.strip_prefix("table '")
        && let Some(name) = rest.strip_suffix("' not found")
    {
        let name = name.strip_prefix("kalam.").unwrap_or(name);
        return KalamError::TableNotFound(name.to_string());
    }
    KalamError::Execution(format!("Error during planning: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_errors_survive_a_trip_through_datafusion() {
        let df =
            KalamError::exec("Duplicate primary key value '1' in table 'a.b'").into_datafusion();
        let df = DataFusionError::Context("writing".into(), Box::new(df));
        let back = KalamError::from(df);
        assert_eq!(back.code(), ErrorCode::SqlExecutionError);
        assert_eq!(
            back.to_string(),
            "Duplicate primary key value '1' in table 'a.b'"
        );
    }

    #[test]
    fn our_errors_survive_being_shared_between_partitions() {
        let cause = KalamError::internal("cold storage: Segment 'a/seg.parquet' is unreadable");
        let shared = Arc::new(cause.into_datafusion());
        let _other_partition = shared.clone();
        let back = KalamError::from(DataFusionError::Shared(shared));
        assert_eq!(back.code(), ErrorCode::InternalError);
        assert_eq!(
            back.to_string(),
            "Internal error: cold storage: Segment 'a/seg.parquet' is unreadable"
        );
        let alone = Arc::new(KalamError::exec("Duplicate").into_datafusion());
        let back = KalamError::from(DataFusionError::Shared(alone));
        assert_eq!(back.code(), ErrorCode::SqlExecutionError);
        assert_eq!(back.to_string(), "Duplicate");
    }

    #[test]
    fn unknown_tables_map_to_table_not_found() {
        let e = KalamError::from(DataFusionError::Plan(
            "table 'kalam.app.nope' not found".into(),
        ));
        assert_eq!(e.code(), ErrorCode::TableNotFound);
        assert_eq!(e.to_string(), "Table 'app.nope' not found");
    }
}
