//! Running one statement through DataFusion ([`collect`]): plan it in a
//! session of the caller, bind its `$n` parameters to the types the planner
//! inferred, execute, and gather the batches — failing as soon as a row
//! limit is passed, so an oversized answer stops its scan instead of being
//! built whole.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{LogicalPlan, Statement as PlanStatement};
use datafusion::physical_plan as execution;
use datafusion::sql::parser::Statement as DfStatement;
use kalamdb_sql::KalamStatement;
use kalamdb_types::{NamespaceId, ParamValue};
use sqlparser::ast::Statement as SqlStatement;

use crate::access::Caller;
use crate::error::{KalamError, Result};
use crate::read::context::{ProviderMode, QueryContext};
use crate::read::plan_cache::{CachedPlan, PlanKey};
use crate::read::session::Sessions;
use crate::row::fit::fractional_digits;

/// Plans `stmt` for `caller` under `mode`, binds `params`, runs it and
/// collects the result; with `max_rows`, fails once the result passes it.
/// `text`: the statement as the user wrote it (it parses to `stmt`); a
/// query without parameters is then answered by, or leaves, a plan kept
/// under that text (see [`collect_kept`]).
#[allow(clippy::too_many_arguments)]
pub async fn collect(
    sessions: &Sessions,
    stmt: SqlStatement,
    text: Option<&str>,
    params: &[ScalarValue],
    namespace: &NamespaceId,
    caller: &Caller,
    mode: ProviderMode,
    max_rows: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    // A query without parameters may run a plan made for an earlier request.
    let key = match text {
        Some(text)
            if sessions.plans.enabled()
                && params.is_empty()
                && mode == ProviderMode::Read
                && max_rows.is_some()
                && matches!(stmt, SqlStatement::Query(_)) =>
        {
            Some(plan_key(sessions, text, namespace, caller))
        }
        _ => None,
    };
    if let Some(cached) = key.as_ref().and_then(|k| sessions.plans.get(k)) {
        return run_kept(sessions, &cached, max_rows).await;
    }
    let ctx = QueryContext::new(caller, mode);
    plan_and_run(sessions, stmt, params, namespace, ctx, key, max_rows).await
}

/// [`collect`] in a context of the caller's making (an INSERT whose sink
/// keeps the rows it writes for RETURNING, a statement inside a
/// transaction); its plan is neither looked up nor kept: the providers of
/// a kept plan carry another request's context.
pub async fn collect_in(
    sessions: &Sessions,
    stmt: SqlStatement,
    params: &[ScalarValue],
    namespace: &NamespaceId,
    ctx: QueryContext,
    max_rows: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    plan_and_run(sessions, stmt, params, namespace, ctx, None, max_rows).await
}

async fn plan_and_run(
    sessions: &Sessions,
    stmt: SqlStatement,
    params: &[ScalarValue],
    namespace: &NamespaceId,
    ctx: QueryContext,
    key: Option<PlanKey>,
    max_rows: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let scope = ctx.scope.clone();
    let state = sessions.state(Arc::new(ctx), namespace)?;
    let plan = state
        .statement_to_plan(DfStatement::Statement(Box::new(stmt)))
        .await?;
    let plan = bind_params(plan, params)?;
    let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
    if matches!(plan, LogicalPlan::Statement(_) | LogicalPlan::Ddl(_)) {
        // `SET` and friends: DataFusion's session applies them (to this
        // statement's own state, which ends with it).
        let set = match &plan {
            LogicalPlan::Statement(PlanStatement::SetVariable(v)) => {
                Some((v.variable.clone(), v.value.clone()))
            }
            _ => None,
        };
        let df = SessionContext::new_with_state(state)
            .execute_logical_plan(plan)
            .await?;
        let out = df.collect().await?;
        // Accepted: later statements of the request start with it.
        if let Some((variable, value)) = set {
            scope.set(variable, value);
        }
        return Ok((schema, out));
    }
    let physical = state.create_physical_plan(&plan).await?;
    if let Some(key) = key {
        sessions.plans.offer(key, &plan, &schema, &physical)?;
    }
    // The shared context has the default configuration; an earlier SET of
    // the request needs one of this state's own.
    let task = match !scope.has_settings() {
        true => sessions.task_ctx(),
        false => state.task_ctx(),
    };
    let Some(max_rows) = max_rows else {
        return Ok((schema, execution::collect(physical, task).await?));
    };
    let stream = execution::execute_stream(physical, task)?;
    Ok((schema, gather(stream, Some(max_rows)).await?))
}

/// The answer of the query `text` if a plan of it is kept for this caller
/// and namespace (`collect` keeps plans under the text the user wrote, and
/// only of parameterless queries in `Read` mode): the text is then neither
/// split, parsed nor planned again. `None`: no such plan.
pub async fn collect_kept(
    sessions: &Sessions,
    text: &str,
    namespace: &NamespaceId,
    caller: &Caller,
    max_rows: usize,
) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>> {
    if !sessions.plans.enabled() {
        return Ok(None);
    }
    let key = plan_key(sessions, text, namespace, caller);
    let Some(cached) = sessions.plans.get(&key) else {
        return Ok(None);
    };
    Ok(Some(run_kept(sessions, &cached, Some(max_rows)).await?))
}

/// The key a plan of `text` is kept under, for this caller and namespace
/// under the current catalog generation.
fn plan_key(sessions: &Sessions, text: &str, namespace: &NamespaceId, caller: &Caller) -> PlanKey {
    PlanKey::new(
        caller,
        namespace,
        text.to_string(),
        sessions.shared().catalog.generation(),
    )
}

/// Runs a reset copy of a kept plan and gathers its answer.
async fn run_kept(
    sessions: &Sessions,
    cached: &CachedPlan,
    max_rows: Option<usize>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let stream = execution::execute_stream(cached.fresh()?, sessions.task_ctx())?;
    Ok((cached.schema.clone(), gather(stream, max_rows).await?))
}

/// The batches of `stream`; with `max_rows`, fails once they pass it.
async fn gather(
    mut stream: datafusion::execution::SendableRecordBatchStream,
    max_rows: Option<usize>,
) -> Result<Vec<RecordBatch>> {
    let max_rows = max_rows.unwrap_or(usize::MAX);
    let mut batches = Vec::new();
    let mut rows = 0usize;
    while let Some(batch) = futures::StreamExt::next(&mut stream).await {
        let batch = batch?;
        rows += batch.num_rows();
        if rows > max_rows {
            return Err(KalamError::exec(format!(
                "Query result exceeds {max_rows} rows (query.max_result_rows); \
                 add a LIMIT or a narrower WHERE"
            )));
        }
        batches.push(batch);
    }
    Ok(batches)
}

/// Parses SQL the engine generated itself (SHOW, DESCRIBE, keyed reads),
/// which is always a plain DataFusion statement.
pub fn parse_standard(sql: &str) -> Result<SqlStatement> {
    match kalamdb_sql::parse_statement(sql)? {
        KalamStatement::Standard(s) => Ok(*s),
        _ => Err(KalamError::internal(format!(
            "generated SQL is not a plain statement: {sql}"
        ))),
    }
}

/// The count an INSERT plan returns (one UInt64 row).
pub fn count_of(batches: &[RecordBatch]) -> u64 {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::UInt64Type;
    batches
        .iter()
        .filter_map(|b| b.columns().first())
        .filter_map(|c| c.as_primitive_opt::<UInt64Type>())
        .flat_map(|a| a.iter().flatten())
        .sum()
}

/// A JSON parameter as the scalar it binds to before casting.
pub fn param_scalar(p: &ParamValue) -> ScalarValue {
    match p {
        ParamValue::Null => ScalarValue::Null,
        ParamValue::Bool(b) => ScalarValue::Boolean(Some(*b)),
        ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
        ParamValue::Float(f) => ScalarValue::Float64(Some(*f)),
        ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
    }
}

/// Binds `$n` values, casting each to the type the planner inferred for its
/// placeholder (clients send BIGINTs as strings, timestamps as integers).
pub fn bind_params(plan: LogicalPlan, params: &[ScalarValue]) -> Result<LogicalPlan> {
    let types = plan.get_parameter_types()?;
    for name in types.keys() {
        let idx: usize = name.trim_start_matches('$').parse().map_err(|_| {
            KalamError::InvalidParameter(format!(
                "Parameter {name} invalid: only $1..$n are supported"
            ))
        })?;
        if idx == 0 || idx > params.len() {
            return Err(KalamError::InvalidParameter(format!(
                "Parameter ${idx} not provided"
            )));
        }
    }
    if types.is_empty() {
        return Ok(plan);
    }
    let mut values = Vec::with_capacity(params.len());
    for (i, v) in params.iter().enumerate() {
        let name = format!("${}", i + 1);
        let target = types.get(&name).cloned().flatten();
        let bound = match target {
            Some(field) => {
                let ty = field_type(&field);
                if v.is_null() {
                    ScalarValue::try_from(&ty)?
                } else if let DataType::Decimal128(_, scale) = ty
                    && matches!(
                        v,
                        ScalarValue::Utf8(Some(_)) | ScalarValue::Float64(Some(_))
                    )
                    && fractional_digits(&v.to_string())
                        > usize::try_from(scale.max(0)).unwrap_or(0)
                {
                    return Err(KalamError::exec(format!(
                        "Cannot cast parameter {name} ('{v}') to {ty}: rounding beyond scale {scale}"
                    )));
                } else if v.data_type() != ty {
                    v.cast_to(&ty).map_err(|_| {
                        KalamError::exec(format!("Cannot cast parameter {name} ({v}) to {ty}"))
                    })?
                } else {
                    v.clone()
                }
            }
            None => v.clone(),
        };
        values.push(bound);
    }
    Ok(plan.with_param_values(ParamValues::from(values))?)
}

fn field_type<T: ParamType>(t: &T) -> DataType {
    t.param_type()
}

/// `get_parameter_types` has yielded `DataType`s or `Field`s across
/// DataFusion versions; this keeps `bind_params` independent of which.
trait ParamType {
    fn param_type(&self) -> DataType;
}

impl ParamType for DataType {
    fn param_type(&self) -> DataType {
        self.clone()
    }
}

impl ParamType for datafusion::arrow::datatypes::FieldRef {
    fn param_type(&self) -> DataType {
        self.data_type().clone()
    }
}
