//! Writes by primary key and small queries (issue 17): `update_pk_10k` and
//! `delete_pk_10k` change random rows of a 10,000-row SHARED table by key
//! with `$n` parameters; `select_filter_200`, `count_200` and
//! `order_limit_200` run a filter, a `COUNT(*)` and an `ORDER BY … LIMIT
//! 10` on a 200-row table. One client; every answer is checked against
//! what the bench inserted (rows are a pure function of their id).
//! `http_floor_seq` measures the request floor all of them stand on.

use std::time::Instant;

use anyhow::bail;
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::report::Measurement;
use crate::workloads::sql::{
    PK_SHARED_ROWS, ROOMS, body_of, drop_table, fresh_table, load, lookups, micros, mix, n_of,
    room_of, row_count,
};

/// Rows of the small table of the query workloads.
const SMALL_ROWS: u64 = 200;
/// `select_filter_200`: one room, and `n` above this.
const FILTER_ROOM: u64 = 3;
const FILTER_MIN_N: u64 = 300;

/// The DML answer's affected-row count.
fn affected(body: &Value) -> Option<u64> {
    row_count(body)
}

/// `http_floor_seq`: `GET /health` on the bench's own keep-alive
/// connection, one request at a time: what one HTTP round trip (client,
/// loopback TCP, hyper, both wake-ups) costs on this machine with no
/// statement behind it. Every other latency row stands on this floor.
pub async fn http_floor(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let n = ctx.plan.pk_selects;
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        ctx.http.health().await?;
        samples.push(micros(t.elapsed()));
    }
    let mut m = lookups(
        n,
        (samples, started.elapsed()),
        format!("{n} GET /health round trips, 1 client, one connection"),
    );
    m.op = "requests";
    Ok(m)
}

/// `update_pk_10k`: `UPDATE t SET n = $2, body = $3 WHERE id = $1` on
/// random keys; each must change exactly one row.
pub async fn update_pk(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "upd_pk", "SHARED").await?;
    load(&ctx.http, &table, 0..PK_SHARED_ROWS as u64).await?;
    let updates = ctx.plan.pk_selects;
    let sql = format!("UPDATE {table} SET n = $2, body = $3 WHERE id = $1");
    let mut samples = Vec::with_capacity(updates);
    let started = Instant::now();
    for i in 0..updates as u64 {
        let key = mix(i ^ 0x0bad) % PK_SHARED_ROWS as u64;
        let params = [json!(key), json!(i), json!(body_of(key + i))];
        let t = Instant::now();
        let body = ctx.http.sql_params(&sql, &params).await?;
        samples.push(micros(t.elapsed()));
        if affected(&body) != Some(1) {
            bail!("the update of id {key} did not change exactly one row: {body}");
        }
    }
    let wall = started.elapsed();
    drop_table(&ctx.http, &table).await?;
    let mut m = lookups(
        updates,
        (samples, wall),
        format!(
            "{updates} UPDATEs by key ($1..$3), random keys of {PK_SHARED_ROWS} rows, 1 client"
        ),
    );
    m.op = "statements";
    Ok(m)
}

/// `delete_pk_10k`: `DELETE FROM t WHERE id = $1` on distinct random keys;
/// each must delete exactly one row.
pub async fn delete_pk(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "del_pk", "SHARED").await?;
    load(&ctx.http, &table, 0..PK_SHARED_ROWS as u64).await?;
    let deletes = ctx.plan.pk_selects.min(PK_SHARED_ROWS);
    // A fixed permutation of the keys: every delete finds its row.
    let mut keys: Vec<u64> = (0..PK_SHARED_ROWS as u64).collect();
    keys.sort_by_key(|k| mix(*k ^ 0xde1e7e));
    let sql = format!("DELETE FROM {table} WHERE id = $1");
    let mut samples = Vec::with_capacity(deletes);
    let started = Instant::now();
    for key in keys.iter().take(deletes) {
        let t = Instant::now();
        let body = ctx.http.sql_params(&sql, &[json!(key)]).await?;
        samples.push(micros(t.elapsed()));
        if affected(&body) != Some(1) {
            bail!("the delete of id {key} did not delete exactly one row: {body}");
        }
    }
    let wall = started.elapsed();
    drop_table(&ctx.http, &table).await?;
    let mut m = lookups(
        deletes,
        (samples, wall),
        format!(
            "{deletes} DELETEs by key ($1), distinct random keys of {PK_SHARED_ROWS} rows, 1 client"
        ),
    );
    m.op = "statements";
    Ok(m)
}

/// Which small query a workload times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallQuery {
    Filter,
    Count,
    OrderLimit,
}

impl SmallQuery {
    fn sql(self, table: &str) -> String {
        match self {
            SmallQuery::Filter => format!(
                "SELECT id, body FROM {table} WHERE room = '{}' AND n > {FILTER_MIN_N}",
                room_of(FILTER_ROOM)
            ),
            SmallQuery::Count => format!("SELECT count(*) AS c FROM {table}"),
            SmallQuery::OrderLimit => {
                format!("SELECT id, n FROM {table} ORDER BY n DESC, id LIMIT 10")
            }
        }
    }

    /// The rows the answer must hold.
    fn expected_rows(self) -> u64 {
        match self {
            SmallQuery::Filter => (0..SMALL_ROWS)
                .filter(|id| id % ROOMS == FILTER_ROOM && n_of(*id) > FILTER_MIN_N)
                .count() as u64,
            SmallQuery::Count => 1,
            SmallQuery::OrderLimit => 10,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SmallQuery::Filter => "a filter on two columns",
            SmallQuery::Count => "COUNT(*)",
            SmallQuery::OrderLimit => "ORDER BY n DESC, id LIMIT 10",
        }
    }
}

/// `select_filter_200`, `count_200`, `order_limit_200`: one query shape,
/// repeated on a 200-row SHARED table.
pub async fn small_query(ctx: &mut Ctx, query: SmallQuery) -> anyhow::Result<Measurement> {
    let table = fresh_table(&ctx.http, "small", "SHARED").await?;
    load(&ctx.http, &table, 0..SMALL_ROWS).await?;
    let sql = query.sql(&table);
    let expected = query.expected_rows();
    let runs = ctx.plan.pk_selects;
    let mut samples = Vec::with_capacity(runs);
    let started = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        let body = ctx.http.sql(&sql).await?;
        samples.push(micros(t.elapsed()));
        if row_count(&body) != Some(expected) {
            bail!("`{sql}` returned {body}, expected {expected} row(s)");
        }
        if query == SmallQuery::Count
            && body.pointer("/results/0/rows/0/0") != Some(&json!(SMALL_ROWS.to_string()))
        {
            bail!("`{sql}` returned {body}, expected {SMALL_ROWS}");
        }
    }
    let wall = started.elapsed();
    drop_table(&ctx.http, &table).await?;
    Ok(lookups(
        runs,
        (samples, wall),
        format!(
            "{runs} × {} on {SMALL_ROWS} rows ({expected} row(s) each), 1 client",
            query.describe()
        ),
    ))
}
