//! `POST /v1/api/sql` (`wire-protocol.md` §3): request decoding, execution,
//! and the response shapes the published clients decode strictly.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use kalamdb_core::{Caller, DmlKind, ExecuteRequest, StatementOutput, StatementResult};
use kalamdb_types::{ErrorCode, SqlRequestBody};
use serde_json::{Map, Value, json};

use crate::encode;
use crate::error::{ApiError, round3};
use crate::state::SharedState;

pub async fn execute_sql(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let took = || started.elapsed().as_secs_f64() * 1000.0;
    let with_took = |mut e: ApiError| {
        e.took_ms = took();
        e.into_response()
    };
    let caller = match app.authenticate(&headers, peer).await {
        Ok(c) => c,
        Err(f) => return with_took(f.api_error()),
    };
    if !app.query_limiter.allow(caller.user.clone()) {
        return with_took(ApiError::new(
            ErrorCode::RateLimitExceeded,
            format!(
                "Too many requests for user '{}': at most {} per second",
                caller.user, app.config.queries_per_second
            ),
        ));
    }
    let limit = app.config.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return with_took(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("Request body exceeds the limit of {limit} bytes"),
            ));
        }
    };
    let req = match decode_request(&bytes, &caller) {
        Ok(r) => r,
        Err(e) => return with_took(e),
    };
    let is_admin = caller.role.is_admin();
    let caller_id = caller.user.to_string();
    match app.engine.execute(req).await {
        Ok(results) => match success_body(results, &caller_id, took()) {
            Ok(body) => Json(body).into_response(),
            Err(e) => with_took(e),
        },
        Err(failure) => {
            let mut e = ApiError::from_kalam(&failure.error, is_admin);
            if failure.total > 1 {
                e.message = format!("Statement {} failed: {}", failure.index, e.message);
            }
            if is_admin && failure.index > 0 {
                e.details = Some(failure.sql);
            }
            with_took(e)
        }
    }
}

/// Decodes the body whatever its Content-Type (so `curl -d` works); the rules and
/// messages are `kalamdb_types::SqlRequestBody::decode`'s.
fn decode_request(bytes: &[u8], caller: &Caller) -> Result<ExecuteRequest, ApiError> {
    let body = SqlRequestBody::decode(bytes).map_err(|e| ApiError::new(e.code, e.message))?;
    Ok(ExecuteRequest {
        sql: body.sql,
        params: body.params,
        namespace: body.namespace_id,
        caller: caller.clone(),
    })
}

/// Builds the success body, applying the batch rule: with more than one
/// statement, plain DML results are summed into at most three entries
/// (Inserted, Updated, Deleted) after all other results.
fn success_body(
    results: Vec<StatementResult>,
    caller: &str,
    took_ms: f64,
) -> Result<Value, ApiError> {
    let batch = results.len() > 1;
    let mut out = Vec::with_capacity(results.len());
    // Batch rule (§3.3): DML counts summed per kind (at most three
    // entries), appended after the other results. A sum's `as_user` is the
    // one effective user of its statements; if EXECUTE AS mixed several, it
    // is the caller, so no target is credited with another user's rows.
    let mut sums: [Option<(u64, String)>; 3] = Default::default();
    for r in results {
        let as_user = r.as_user.to_string();
        match r.output {
            StatementOutput::Rows { schema, batches } => {
                out.push(rows_entry(&schema, &batches, None, as_user)?);
            }
            // Keeps its place in a batch (§3.3): rows and the DML message.
            StatementOutput::Returning {
                kind,
                schema,
                batches,
            } => out.push(rows_entry(&schema, &batches, Some(kind), as_user)?),
            StatementOutput::Dml { kind, count } => {
                if batch {
                    let [inserted, updated, deleted] = &mut sums;
                    let slot = match kind {
                        DmlKind::Insert => inserted,
                        DmlKind::Update => updated,
                        DmlKind::Delete => deleted,
                    };
                    match slot {
                        Some((sum, user)) => {
                            *sum += count;
                            if *user != as_user {
                                *user = caller.to_string();
                            }
                        }
                        None => *slot = Some((count, as_user)),
                    }
                } else {
                    out.push(dml_entry(kind, count, &as_user));
                }
            }
            StatementOutput::Done => {
                out.push(json!({"row_count": 0, "as_user": as_user}));
            }
            StatementOutput::Message(message) => {
                out.push(json!({"row_count": 0, "message": message, "as_user": as_user}));
            }
        }
    }
    for (kind, sum) in [DmlKind::Insert, DmlKind::Update, DmlKind::Delete]
        .into_iter()
        .zip(sums)
    {
        if let Some((count, as_user)) = sum {
            out.push(dml_entry(kind, count, &as_user));
        }
    }
    Ok(json!({"status": "success", "results": out, "took": round3(took_ms)}))
}

/// A result with rows (§3.3); a DML's (RETURNING) also carries its
/// message, counting the rows it returns.
fn rows_entry(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    dml: Option<DmlKind>,
    as_user: String,
) -> Result<Value, ApiError> {
    let rows = encode::encode_rows(schema, batches)
        .map_err(|e| ApiError::new(ErrorCode::SqlExecutionError, e.to_string()))?;
    let mut m = Map::new();
    m.insert("schema".into(), json!(encode::describe_schema(schema)));
    m.insert("row_count".into(), json!(rows.len()));
    if let Some(kind) = dml {
        m.insert(
            "message".into(),
            json!(format!("{} {} row(s)", verb(kind), rows.len())),
        );
    }
    m.insert("rows".into(), json!(rows));
    m.insert("as_user".into(), json!(as_user));
    Ok(Value::Object(m))
}

fn verb(kind: DmlKind) -> &'static str {
    match kind {
        DmlKind::Insert => "Inserted",
        DmlKind::Update => "Updated",
        DmlKind::Delete => "Deleted",
    }
}

fn dml_entry(kind: DmlKind, count: u64, as_user: &str) -> Value {
    let verb = verb(kind);
    json!({"row_count": count, "message": format!("{verb} {count} row(s)"), "as_user": as_user})
}
