//! What a request is ([`ExecuteRequest`]) and what each of its statements
//! answers ([`StatementResult`], [`StatementError`]), before the API layer
//! encodes them for the wire.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use kalamdb_types::{ParamValue, UserId};

use crate::access::Caller;
use crate::error::KalamError;

#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    pub sql: String,
    pub params: Vec<ParamValue>,
    pub namespace: Option<String>,
    pub caller: Caller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmlKind {
    Insert,
    Update,
    Delete,
}

#[derive(Debug)]
pub enum StatementOutput {
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Dml {
        kind: DmlKind,
        count: u64,
    },
    /// DML with RETURNING: its count is the number of rows returned.
    Returning {
        kind: DmlKind,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Message(String),
    /// Succeeded with nothing to report (`SET`).
    Done,
}

#[derive(Debug)]
pub struct StatementResult {
    pub output: StatementOutput,
    pub as_user: UserId,
}

/// A failed request: which statement failed (1-based) and why.
#[derive(Debug)]
pub struct StatementError {
    pub index: usize,
    pub total: usize,
    pub sql: String,
    pub error: KalamError,
}
