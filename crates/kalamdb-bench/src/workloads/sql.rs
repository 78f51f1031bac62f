//! SQL workloads over `POST /v1/api/sql`: single-row INSERTs from 1, 8 and
//! 64 clients, multi-row INSERTs, primary-key point SELECTs on a SHARED and
//! a USER table, scan + filter + GROUP BY over hot and flushed rows, a cold
//! query over 20 Parquet files, and flush throughput. Every latency is one
//! HTTP round trip timed at this side of the socket; flushes are awaited
//! through `GET /v1/api/jobs/{id}?wait_ms`, never by sleeping. Rows are a
//! pure function of their id, so every result can be checked against what
//! the bench itself inserted.

use std::ops::Range;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

use crate::client::Http;
use crate::ctx::Ctx;
use crate::report::{Latency, Measurement};

/// Only the bench's own `STORAGE FLUSH` moves rows to Parquet: a policy
/// flush in the middle of a workload would measure something else.
const NEVER_FLUSH: &str = "FLUSH_POLICY = 'rows:100000000,interval:100000'";
const COLUMNS: &str = "id BIGINT PRIMARY KEY, room TEXT, n BIGINT, body TEXT";
const INSERT_COLUMNS: &str = "(id, room, n, body)";
pub(super) const ROOMS: u64 = 16;
/// The scans' filter `n > 99`: `n` is spread over 0..1000, so 90 % of the
/// rows pass and the aggregate, not the filter, does most of the work.
const SCAN_MIN_N: u64 = 99;
/// Rows per INSERT when loading a table for a read workload.
const LOAD_BATCH: usize = 1000;
/// Connections loading at once.
const LOADERS: usize = 4;
/// Rows of the `select_pk_shared_10k` table in both plans.
pub(super) const PK_SHARED_ROWS: usize = 10_000;
/// Connections creating the users of `select_pk_user_10k` at once.
const USER_SETUP_CONNECTIONS: usize = 8;
/// `CREATE USER`s per request (statements run in order, §3.2).
const USERS_PER_REQUEST: usize = 25;
/// Users' rows per request, as `EXECUTE AS USER` INSERTs.
const USER_ROWS_PER_REQUEST: usize = 100;
const PK_USER_PREFIX: &str = "bench_pk";
const COLD_FILES: usize = 20;
/// Per request to the jobs endpoint (the server caps it at 60 s).
const JOB_WAIT_MS: u64 = 60_000;
/// A flush that takes longer than this is reported as failed.
const FLUSH_DEADLINE: Duration = Duration::from_secs(600);

/// splitmix64: a fixed, well-spread function of the id, so rows and key
/// orders are random-looking but identical on every run and machine.
pub(super) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(super) fn room_of(id: u64) -> String {
    format!("room{}", id % ROOMS)
}

pub(super) fn n_of(id: u64) -> u64 {
    mix(id) % 1000
}

pub(super) fn body_of(id: u64) -> String {
    format!("kalamdb bench row {id:010} payload")
}

/// `(id, 'room', n, 'body')` of one row.
fn tuple(id: u64) -> String {
    format!("({id}, '{}', {}, '{}')", room_of(id), n_of(id), body_of(id))
}

fn insert_sql(table: &str, ids: Range<u64>) -> String {
    let values: Vec<String> = ids.map(tuple).collect();
    format!(
        "INSERT INTO {table} {INSERT_COLUMNS} VALUES {}",
        values.join(", ")
    )
}

pub(super) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub(super) fn per_second(count: usize, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    count as f64 / secs
}

/// A BIGINT cell: a JSON string by the protocol (§3.5), a number from
/// servers that send one.
pub(super) fn cell_u64(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

pub(super) fn row_count(body: &Value) -> Option<u64> {
    body.pointer("/results/0/row_count").and_then(Value::as_u64)
}

/// A fresh `bench.<name>` of `kind` (USER or SHARED) that never flushes on
/// its own.
pub(super) async fn fresh_table(http: &Http, name: &str, kind: &str) -> anyhow::Result<String> {
    let table = format!("bench.{name}");
    http.sql("CREATE NAMESPACE IF NOT EXISTS bench").await?;
    http.sql(&format!("DROP TABLE IF EXISTS {table}")).await?;
    http.sql(&format!(
        "CREATE {kind} TABLE {table} ({COLUMNS}) WITH ({NEVER_FLUSH})"
    ))
    .await?;
    Ok(table)
}

/// Drops a workload's table so its rows do not weigh on later workloads.
pub(super) async fn drop_table(http: &Http, table: &str) -> anyhow::Result<()> {
    http.sql(&format!("DROP TABLE IF EXISTS {table}")).await?;
    Ok(())
}

/// Inserts rows `ids` in [`LOAD_BATCH`]-row INSERTs over [`LOADERS`]
/// connections at once.
pub(super) async fn load(http: &Http, table: &str, ids: Range<u64>) -> anyhow::Result<()> {
    let batch = LOAD_BATCH as u64;
    let chunks: Vec<Range<u64>> = (ids.start..ids.end)
        .step_by(LOAD_BATCH)
        .map(|start| start..(start + batch).min(ids.end))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for loader in 0..LOADERS {
        let mine: Vec<Range<u64>> = chunks
            .iter()
            .skip(loader)
            .step_by(LOADERS)
            .cloned()
            .collect();
        let http = http.own_connection();
        let table = table.to_string();
        tasks.spawn(async move {
            for chunk in mine {
                http.sql(&insert_sql(&table, chunk)).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    join_all_ok(tasks).await?;
    Ok(())
}

/// Waits for every task; the first failure wins.
async fn join_all_ok<T: 'static>(
    mut tasks: tokio::task::JoinSet<anyhow::Result<T>>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(v)) => out.push(v),
            Ok(Err(e)) => {
                failure.get_or_insert(e);
            }
            Err(e) => {
                failure.get_or_insert(anyhow!("a client task failed: {e}"));
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

async fn count_rows(http: &Http, table: &str) -> anyhow::Result<u64> {
    let rows = http.rows(&format!("SELECT count(*) FROM {table}")).await?;
    rows.first()
        .and_then(|r| r.get(0))
        .and_then(cell_u64)
        .with_context(|| format!("no count from {table}"))
}

async fn expect_rows(http: &Http, table: &str, expected: usize) -> anyhow::Result<()> {
    let got = count_rows(http, table).await?;
    if usize::try_from(got).ok() != Some(expected) {
        bail!("{table} holds {got} rows, expected {expected}");
    }
    Ok(())
}

/// `system.stats` `commit_groups` and `commit_requests`, when the server
/// reports them (group commit at work: several requests per fsync).
async fn commit_counts(http: &Http) -> Option<(u64, u64)> {
    let groups = http.stat("commit_groups").await.ok()??.parse().ok()?;
    let requests = http.stat("commit_requests").await.ok()??.parse().ok()?;
    Some((groups, requests))
}

/// `insert_single_seq`, `insert_single_c8`, `insert_single_c64`: the plan's
/// rows as single-row INSERTs with `$1..$4` parameters, spread over
/// `clients` clients that each own a keep-alive connection and send their
/// next INSERT as soon as the previous one is answered.
pub async fn insert_single(ctx: &mut Ctx, clients: usize) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, &format!("ins_c{clients}"), "SHARED").await?;
    let total = ctx.plan.single_inserts;
    let sql = format!("INSERT INTO {table} {INSERT_COLUMNS} VALUES ($1, $2, $3, $4)");
    let conns: Vec<Http> = (0..clients).map(|_| ctx.http.own_connection()).collect();
    // Each connection is opened before the clock starts, so TCP set-up is
    // not in the first sample.
    futures::future::try_join_all(conns.iter().map(|h| h.sql("SELECT 1"))).await?;
    let gate = std::sync::Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for (c, http) in conns.into_iter().enumerate() {
        let sql = sql.clone();
        let gate = gate.clone();
        tasks.spawn(async move {
            let ids: Vec<u64> = (c..total).step_by(clients).map(|i| i as u64).collect();
            let params: Vec<[Value; 4]> = ids
                .iter()
                .map(|&id| {
                    [
                        json!(id),
                        json!(room_of(id)),
                        json!(n_of(id)),
                        json!(body_of(id)),
                    ]
                })
                .collect();
            let mut samples = Vec::with_capacity(params.len());
            gate.wait().await;
            for p in &params {
                let t = Instant::now();
                http.sql_params(&sql, p).await?;
                samples.push(micros(t.elapsed()));
            }
            Ok::<_, anyhow::Error>(samples)
        });
    }
    let commits_before = commit_counts(&ctx.http).await;
    gate.wait().await;
    let started = Instant::now();
    let per_client = join_all_ok(tasks).await;
    let wall = started.elapsed();
    let commits = match (commits_before, commit_counts(&ctx.http).await) {
        (Some((g0, r0)), Some((g1, r1))) if g1 > g0 => {
            // The two stat queries themselves are not commits.
            let (groups, requests) = (g1 - g0, r1 - r0);
            format!(
                "; {requests} commit requests in {groups} groups ({:.1} per fsync)",
                requests as f64 / groups as f64
            )
        }
        _ => String::new(),
    };
    let mut samples: Vec<u64> = per_client?.into_iter().flatten().collect();
    expect_rows(&ctx.http, &table, total).await?;
    drop_table(&ctx.http, &table).await?;
    let rate = per_second(total, wall);
    Ok(Measurement {
        ops_per_sec: rate,
        op: "statements",
        latency: Latency::from_micros(&mut samples),
        rows_per_sec: Some(rate),
        samples: samples.len(),
        note: format!(
            "{total} single-row INSERTs ($1..$4), {clients} client(s), one connection each{commits}"
        ),
        ..Default::default()
    })
}

/// `insert_batch_50`, `insert_batch_1000`: one client sends multi-row
/// INSERTs (literal VALUES lists, built before the clock starts) one after
/// the other.
pub async fn insert_batch(ctx: &mut Ctx, rows_per_statement: usize) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, &format!("ins_b{rows_per_statement}"), "SHARED").await?;
    let statements = if rows_per_statement <= 50 {
        ctx.plan.batch50_statements
    } else {
        ctx.plan.batch1000_statements
    };
    let per = rows_per_statement as u64;
    let sqls: Vec<String> = (0..statements as u64)
        .map(|s| insert_sql(&table, s * per..(s + 1) * per))
        .collect();
    let mut samples = Vec::with_capacity(statements);
    let started = Instant::now();
    for sql in &sqls {
        let t = Instant::now();
        ctx.http.sql(sql).await?;
        samples.push(micros(t.elapsed()));
    }
    let wall = started.elapsed();
    let rows = statements * rows_per_statement;
    expect_rows(&ctx.http, &table, rows).await?;
    drop_table(&ctx.http, &table).await?;
    Ok(Measurement {
        ops_per_sec: per_second(statements, wall),
        op: "statements",
        latency: Latency::from_micros(&mut samples),
        rows_per_sec: Some(per_second(rows, wall)),
        samples: statements,
        note: format!("{statements} INSERTs of {rows_per_statement} rows, 1 client"),
        ..Default::default()
    })
}

/// Times `selects` point lookups; `sql_of(key)` gives the statement and
/// every answer must hold exactly one row.
async fn point_selects(
    http: &Http,
    keys: usize,
    selects: usize,
    sql_of: impl Fn(u64) -> String,
) -> anyhow::Result<(Vec<u64>, Duration)> {
    let keys = keys.max(1) as u64;
    let mut samples = Vec::with_capacity(selects);
    let started = Instant::now();
    for i in 0..selects as u64 {
        let key = mix(i ^ 0x5eed) % keys;
        let sql = sql_of(key);
        let t = Instant::now();
        let body = http.sql_params(&sql, &[json!(key)]).await?;
        samples.push(micros(t.elapsed()));
        if row_count(&body) != Some(1) {
            bail!("the lookup of id {key} did not return exactly one row: {body}");
        }
    }
    Ok((samples, started.elapsed()))
}

/// `select_pk_shared_10k`: `SELECT … WHERE id = $1` on random keys of a
/// 10,000-row SHARED table, one client.
pub async fn select_pk_shared(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "pk_shared", "SHARED").await?;
    load(&ctx.http, &table, 0..PK_SHARED_ROWS as u64).await?;
    let selects = ctx.plan.pk_selects;
    let sql = format!("SELECT id, room, n, body FROM {table} WHERE id = $1");
    let measured = point_selects(&ctx.http, PK_SHARED_ROWS, selects, |_| sql.clone()).await;
    drop_table(&ctx.http, &table).await?;
    Ok(lookups(
        selects,
        measured?,
        format!("{selects} PK lookups ($1), random keys of {PK_SHARED_ROWS} rows, 1 client"),
    ))
}

/// What `selects` point queries measured (latency samples in µs, wall time).
pub(super) fn lookups(
    selects: usize,
    (mut samples, wall): (Vec<u64>, Duration),
    note: String,
) -> Measurement {
    Measurement {
        ops_per_sec: per_second(selects, wall),
        op: "queries",
        latency: Latency::from_micros(&mut samples),
        samples: selects,
        note,
        ..Default::default()
    }
}

/// `select_pk_user_10k`: a USER table with one row for each of the plan's
/// users; root looks rows up as their owners with
/// `EXECUTE AS USER 'u' (SELECT … WHERE id = $1)`, so no per-user login is
/// needed.
pub async fn select_pk_user(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let users = ctx.plan.pk_users;
    let table = fresh_table(&ctx.http, "pk_user", "USER").await?;
    let setup = Instant::now();
    let created = ensure_pk_users(&ctx.http, users).await?;
    let users_took = setup.elapsed();
    load_user_rows(&ctx.http, &table, users).await?;
    let selects = ctx.plan.pk_selects;
    let measured = point_selects(&ctx.http, users, selects, |key| {
        format!(
            "EXECUTE AS USER '{PK_USER_PREFIX}{key}' (SELECT id, room, n, body FROM {table} WHERE id = $1)"
        )
    })
    .await;
    drop_table(&ctx.http, &table).await?;
    Ok(lookups(
        selects,
        measured?,
        format!(
            "{selects} PK lookups via EXECUTE AS USER, {users} users × 1 row \
             (set-up created {created} users in {:.1} s)",
            users_took.as_secs_f64()
        ),
    ))
}

/// Creates the users `bench_pk0…` that do not exist yet, over several
/// connections at once; returns how many it created.
async fn ensure_pk_users(http: &Http, users: usize) -> anyhow::Result<usize> {
    let existing: std::collections::HashSet<String> = http
        .rows(&format!(
            "SELECT user_id FROM system.users WHERE user_id LIKE '{PK_USER_PREFIX}%'"
        ))
        .await?
        .iter()
        .filter_map(|r| r.get(0).and_then(Value::as_str).map(str::to_string))
        .collect();
    let missing: Vec<String> = (0..users)
        .map(|i| format!("{PK_USER_PREFIX}{i}"))
        .filter(|name| !existing.contains(name))
        .collect();
    let requests: Vec<String> = missing
        .chunks(USERS_PER_REQUEST)
        .map(|names| {
            names
                .iter()
                // No password: these users are only reached through
                // `EXECUTE AS USER`, and 10,000 Argon2 hashes would make
                // the set-up, not the lookups, the slow part.
                .map(|n| format!("CREATE USER {n} WITH INTERNAL ROLE user"))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect();
    run_spread(http, requests, USER_SETUP_CONNECTIONS).await?;
    Ok(missing.len())
}

/// One row per user, written into the user's own partition.
async fn load_user_rows(http: &Http, table: &str, users: usize) -> anyhow::Result<()> {
    let requests: Vec<String> = (0..users as u64)
        .collect::<Vec<_>>()
        .chunks(USER_ROWS_PER_REQUEST)
        .map(|ids| {
            ids.iter()
                .map(|&id| {
                    format!(
                        "EXECUTE AS USER '{PK_USER_PREFIX}{id}' (INSERT INTO {table} {INSERT_COLUMNS} VALUES {})",
                        tuple(id)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect();
    run_spread(http, requests, LOADERS).await
}

/// Sends `requests` over `connections` connections at once.
async fn run_spread(http: &Http, requests: Vec<String>, connections: usize) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let mine: Vec<String> = requests
            .iter()
            .skip(c)
            .step_by(connections)
            .cloned()
            .collect();
        let http = http.own_connection();
        tasks.spawn(async move {
            for sql in mine {
                http.sql(&sql).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    join_all_ok(tasks).await?;
    Ok(())
}

const SCAN_TABLE: &str = "bench.scan";

fn scan_sql(table: &str) -> String {
    format!(
        "SELECT room, count(*) AS c, avg(n) AS a FROM {table} WHERE n > {SCAN_MIN_N} GROUP BY room"
    )
}

/// Rows of `0..rows` that pass the scans' filter.
fn passing(rows: usize) -> u64 {
    (0..rows as u64).filter(|&id| n_of(id) > SCAN_MIN_N).count() as u64
}

/// Runs the GROUP BY `runs` times, checking each answer against the rows
/// the bench inserted.
async fn timed_scans(
    http: &Http,
    table: &str,
    rows: usize,
    runs: usize,
) -> anyhow::Result<(Vec<u64>, Duration)> {
    let sql = scan_sql(table);
    let expected = passing(rows);
    let groups = ROOMS.min(rows as u64) as usize;
    let mut samples = Vec::with_capacity(runs);
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let t = Instant::now();
        let result = http.rows(&sql).await?;
        let took = t.elapsed();
        total += took;
        samples.push(micros(took));
        let counted: u64 = result
            .iter()
            .filter_map(|r| r.get(1).and_then(cell_u64))
            .sum();
        if result.len() != groups || counted != expected {
            bail!(
                "the GROUP BY returned {} groups counting {counted} rows, expected {groups} and {expected}",
                result.len()
            );
        }
    }
    Ok((samples, total))
}

fn scan_measurement(
    mut samples: Vec<u64>,
    total: Duration,
    rows: usize,
    note: String,
) -> Measurement {
    let runs = samples.len();
    Measurement {
        ops_per_sec: per_second(runs, total),
        op: "queries",
        latency: Latency::from_micros(&mut samples),
        rows_per_sec: Some(per_second(rows * runs, total)),
        samples: runs,
        note,
        ..Default::default()
    }
}

/// Makes sure `bench.scan` holds the plan's rows, all hot.
async fn ensure_hot_scan_table(ctx: &mut Ctx) -> anyhow::Result<()> {
    if ctx.scan_table_hot {
        return Ok(());
    }
    fresh_table(&ctx.http, "scan", "SHARED").await?;
    load(&ctx.http, SCAN_TABLE, 0..ctx.plan.scan_rows as u64).await?;
    ctx.scan_table_hot = true;
    Ok(())
}

/// `scan_agg_1m_hot`: the GROUP BY over rows that were never flushed.
pub async fn scan_hot(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    ensure_hot_scan_table(ctx).await?;
    let rows = ctx.plan.scan_rows;
    let (samples, total) = timed_scans(&ctx.http, SCAN_TABLE, rows, ctx.plan.scan_runs).await?;
    Ok(scan_measurement(
        samples,
        total,
        rows,
        format!("GROUP BY room over {rows} hot rows, n > {SCAN_MIN_N}; rows/s = rows scanned"),
    ))
}

/// `scan_agg_1m_cold`: the same table after one `STORAGE FLUSH TABLE`, so
/// every row is read from Parquet.
pub async fn scan_cold(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    ensure_hot_scan_table(ctx).await?;
    let rows = ctx.plan.scan_rows;
    ctx.scan_table_hot = false;
    let (job, _) = flush_table(&ctx.http, SCAN_TABLE).await?;
    let stats = FlushStats::parse(&job);
    let measured = timed_scans(&ctx.http, SCAN_TABLE, rows, ctx.plan.scan_runs).await;
    drop_table(&ctx.http, SCAN_TABLE).await?;
    let (samples, total) = measured?;
    let files = stats.map_or_else(|| "?".to_string(), |s| s.files.to_string());
    Ok(scan_measurement(
        samples,
        total,
        rows,
        format!("GROUP BY room over {rows} flushed rows ({files} Parquet file(s))"),
    ))
}

/// `cold_query_200k_20f`: 20 loads each followed by a flush, so the rows
/// sit in 20 Parquet files, then the GROUP BY.
pub async fn cold_query(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "cold20", "SHARED").await?;
    let per_file = ctx.plan.cold_rows_per_file as u64;
    let mut files = 0;
    for f in 0..COLD_FILES as u64 {
        load(&ctx.http, &table, f * per_file..(f + 1) * per_file).await?;
        let (job, _) = flush_table(&ctx.http, &table).await?;
        files += FlushStats::parse(&job).map_or(0, |s| s.files);
    }
    let rows = COLD_FILES * ctx.plan.cold_rows_per_file;
    let measured = timed_scans(&ctx.http, &table, rows, ctx.plan.scan_runs).await;
    drop_table(&ctx.http, &table).await?;
    let (samples, total) = measured?;
    let compaction = if ctx.in_process {
        "auto compaction off"
    } else {
        "the server's auto compaction may have merged them"
    };
    Ok(scan_measurement(
        samples,
        total,
        rows,
        format!("GROUP BY room over {rows} rows written as {files} Parquet files ({compaction})"),
    ))
}

/// `flush_throughput`: one `STORAGE FLUSH TABLE` of the plan's hot rows,
/// timed from sending the statement to the job's `completed`.
pub async fn flush_throughput(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "flush", "SHARED").await?;
    let rows = ctx.plan.flush_rows;
    load(&ctx.http, &table, 0..rows as u64).await?;
    let flushed = flush_table(&ctx.http, &table).await;
    drop_table(&ctx.http, &table).await?;
    let (job, took) = flushed?;
    let secs = took.as_secs_f64();
    let stats = FlushStats::parse(&job);
    let mb_per_sec = stats
        .filter(|_| secs > 0.0)
        .map(|s| s.bytes as f64 / 1e6 / secs);
    let note = match (stats, mb_per_sec) {
        (Some(s), Some(mbps)) => format!(
            "1 flush of {rows} hot rows, submit→completed; {:.1} MB in {} file(s) = {mbps:.1} MB/s",
            s.bytes as f64 / 1e6,
            s.files
        ),
        _ => format!("1 flush of {rows} hot rows, submit→completed; MB/s n/a (no size in the job)"),
    };
    let mut samples = vec![micros(took)];
    Ok(Measurement {
        ops_per_sec: if secs > 0.0 { 1.0 / secs } else { 0.0 },
        op: "flushes",
        latency: Latency::from_micros(&mut samples),
        rows_per_sec: Some(per_second(rows, took)),
        value: mb_per_sec.map(|v| (v, "MB/s")),
        samples: 1,
        note,
    })
}

/// `STORAGE FLUSH TABLE` and the wait for its job; returns the finished job
/// and the time from sending the statement to the job's completion.
pub(super) async fn flush_table(http: &Http, table: &str) -> anyhow::Result<(Value, Duration)> {
    let started = Instant::now();
    let body = http.sql(&format!("STORAGE FLUSH TABLE {table}")).await?;
    let message = body
        .pointer("/results/0/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(job_id) = job_id_of(message) else {
        bail!("STORAGE FLUSH TABLE {table} started no job: {message}");
    };
    loop {
        let job = http.job(job_id, JOB_WAIT_MS).await?;
        match job.get("status").and_then(Value::as_str) {
            Some("completed") => return Ok((job, started.elapsed())),
            Some("failed" | "cancelled" | "skipped") => bail!("flush job {job_id} ended: {job}"),
            _ if started.elapsed() > FLUSH_DEADLINE => {
                bail!(
                    "flush job {job_id} not done after {} s: {job}",
                    FLUSH_DEADLINE.as_secs()
                )
            }
            // The wait ran out with the job still running: wait again.
            _ => {}
        }
    }
}

/// The id in `Storage flush started for table 't'. Job ID: FL-…`.
fn job_id_of(message: &str) -> Option<&str> {
    message
        .split_once("Job ID:")
        .map(|(_, id)| id.trim().trim_end_matches('.'))
        .filter(|id| !id.is_empty())
}

/// What a flush job's message (`Flushed N rows, B bytes, F file(s)`) says
/// it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FlushStats {
    rows: u64,
    bytes: u64,
    pub(super) files: usize,
}

impl FlushStats {
    pub(super) fn parse(job: &Value) -> Option<FlushStats> {
        let message = job.get("message").and_then(Value::as_str)?;
        let number_before = |unit: &str| -> Option<u64> {
            let (head, _) = message.split_once(unit)?;
            head.trim_end().rsplit([' ', ',']).next()?.parse().ok()
        };
        Some(FlushStats {
            rows: number_before(" rows")?,
            bytes: number_before(" bytes")?,
            files: usize::try_from(number_before(" file")?).ok()?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_a_pure_function_of_their_id() {
        assert_eq!(tuple(7), tuple(7));
        assert_eq!(room_of(17), "room1");
        assert!((0..10_000).all(|id| n_of(id) < 1000));
        // The filter keeps roughly 90 % of the rows and every room.
        let kept = passing(10_000);
        assert!((8_700..9_300).contains(&kept), "{kept}");
        assert_eq!(
            insert_sql("bench.t", 3..5),
            format!(
                "INSERT INTO bench.t (id, room, n, body) VALUES {}, {}",
                tuple(3),
                tuple(4)
            )
        );
    }

    #[test]
    fn flush_answers_give_job_ids_and_sizes() {
        assert_eq!(
            job_id_of("Storage flush started for table 'bench.t'. Job ID: FL-1a2b3c4d5e6f"),
            Some("FL-1a2b3c4d5e6f")
        );
        assert_eq!(
            job_id_of("Storage flush skipped: no pending writes for table 'bench.t'"),
            None
        );
        let job = json!({"status": "completed", "message": "Flushed 200000 rows, 7340032 bytes, 1 file(s)"});
        assert_eq!(
            FlushStats::parse(&job),
            Some(FlushStats {
                rows: 200_000,
                bytes: 7_340_032,
                files: 1
            })
        );
        assert_eq!(FlushStats::parse(&json!({"message": "done"})), None);
        assert_eq!(FlushStats::parse(&json!({})), None);
    }

    #[test]
    fn cells_and_rates() {
        assert_eq!(cell_u64(&json!("42")), Some(42));
        assert_eq!(cell_u64(&json!(42)), Some(42));
        assert_eq!(cell_u64(&json!("x")), None);
        assert_eq!(per_second(10, Duration::from_millis(500)), 20.0);
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert_eq!(row_count(&json!({"results": [{"row_count": 1}]})), Some(1));
    }
}
