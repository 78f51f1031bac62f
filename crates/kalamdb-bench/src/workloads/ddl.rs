//! `alter_1m_10f`: what ALTER TABLE costs on a large flushed table. The
//! plan's scan rows (1M by default) are loaded and flushed in 10 parts, so
//! they sit in 10 Parquet files; then ADD COLUMN … DEFAULT, RENAME COLUMN
//! and DROP COLUMN run in turns. None of them may read or rewrite a
//! segment (`sql.md` §2.6): each costs one catalog commit, whatever the
//! table holds. `SET NOT NULL` must read every row (cold and hot); it runs
//! once and is reported in the note.

use std::time::Instant;

use anyhow::bail;

use crate::ctx::Ctx;
use crate::report::{Latency, Measurement};
use crate::workloads::sql::{
    FlushStats, cell_u64, drop_table, flush_table, fresh_table, load, micros, per_second,
};

/// Parquet files the rows are written as.
const FILES: u64 = 10;
/// ADD / RENAME / DROP rounds (three ALTERs each).
const ROUNDS: usize = 10;

pub async fn alter(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let http = &ctx.http;
    let table = fresh_table(http, "schema_change", "SHARED").await?;
    let rows = ctx.plan.scan_rows as u64;
    let per_file = rows / FILES;
    let mut files = 0;
    for f in 0..FILES {
        load(http, &table, f * per_file..(f + 1) * per_file).await?;
        let (job, _) = flush_table(http, &table).await?;
        files += FlushStats::parse(&job).map_or(0, |s| s.files);
    }
    let mut samples = Vec::with_capacity(ROUNDS * 3);
    let started = Instant::now();
    for i in 0..ROUNDS {
        for sql in [
            format!("ALTER TABLE {table} ADD COLUMN extra_{i} TEXT DEFAULT 'x'"),
            format!("ALTER TABLE {table} RENAME COLUMN extra_{i} TO gone_{i}"),
            format!("ALTER TABLE {table} DROP COLUMN gone_{i}"),
        ] {
            let t = Instant::now();
            http.sql(&sql).await?;
            samples.push(micros(t.elapsed()));
        }
    }
    let total = started.elapsed();
    let t = Instant::now();
    http.sql(&format!(
        "ALTER TABLE {table} ALTER COLUMN room SET NOT NULL"
    ))
    .await?;
    let not_null = t.elapsed();
    let counted = http
        .rows(&format!("SELECT count(*) FROM {table}"))
        .await?
        .first()
        .and_then(|r| r.get(0))
        .and_then(cell_u64);
    drop_table(http, &table).await?;
    if counted != Some(FILES * per_file) {
        bail!(
            "{table} holds {counted:?} rows after the ALTERs, expected {}",
            FILES * per_file
        );
    }
    let n = samples.len();
    Ok(Measurement {
        ops_per_sec: per_second(n, total),
        op: "ALTERs",
        latency: Latency::from_micros(&mut samples),
        samples: n,
        note: format!(
            "ADD COLUMN … DEFAULT / RENAME / DROP on {} rows in {files} Parquet file(s): no segment read or written; \
             SET NOT NULL (reads every row) {:.0} ms",
            FILES * per_file,
            not_null.as_secs_f64() * 1000.0
        ),
        ..Default::default()
    })
}
