//! `GET /v1/api/jobs/{job_id}` (ours): a job's state, optionally waiting for
//! it to finish (`?wait_ms=N`, at most 60 s). Clients and tests wait on this
//! event instead of polling `system.jobs` in a sleep loop.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kalamdb_core::access::{self, Action};
use kalamdb_types::ErrorCode;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::state::SharedState;

const MAX_WAIT: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
pub struct WaitQuery {
    wait_ms: Option<u64>,
}

pub async fn get_job(
    State(app): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Response {
    let caller = match app.authenticate(&headers, peer).await {
        Ok(c) => c,
        Err(f) => return f.api_error().into_response(),
    };
    // Whoever may start flushes may watch jobs (service and above).
    if let Err(e) = access::allow(caller.role, Action::WatchJobs) {
        return ApiError::from_kalam(&e, caller.role.is_admin()).into_response();
    }
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    match app.engine.wait_job(&job_id, wait).await {
        Ok(Some(job)) => Json(json!({
            "job_id": job.job_id,
            "job_type": job.job_type,
            "status": job.status.as_str(),
            "parameters": job.parameters,
            "message": job.message,
            "exception_trace": job.exception_trace,
            "retry_count": job.retry_count,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        }))
        .into_response(),
        Ok(None) => ApiError::new(
            ErrorCode::SqlExecutionError,
            format!("Job '{job_id}' not found"),
        )
        .into_response(),
        Err(e) => ApiError::from_kalam(&e, caller.role.is_admin()).into_response(),
    }
}
