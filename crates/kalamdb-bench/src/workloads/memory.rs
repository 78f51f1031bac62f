//! Memory workloads (issue 25): what the server holds fresh and idle, after
//! a burst of `CREATE USER` and logins (each an Argon2id hash of 19 MiB
//! working memory), and once that burst is over — plus the login latency
//! the hashing costs.
//!
//! In process the workloads use a child server of their own
//! ([`MemoryServer`]), fresh when the first one runs, and read its
//! resident set from `/proc/<pid>/status` (`VmRSS`), so measuring runs no
//! query in it; with `--url` they read the server's own
//! `memory_usage_bytes` from `system.stats` (its resident set, which then
//! includes the code the query itself pages in).

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::client::Http;
use crate::ctx::Ctx;
use crate::report::{Latency, Measurement};
use crate::server::{ChildServer, MemoryServer};

/// Password of the users the memory workloads create.
const PASSWORD: &str = "kalamdb-bench-Mem-Passw0rd";
/// Clients creating users and logging in at once.
const CLIENTS: usize = 4;

/// The child server the memory workloads measure, started now if it is not
/// running yet; `None` with `--url`.
fn child(ctx: &mut Ctx) -> anyhow::Result<Option<&ChildServer>> {
    let MemoryServer::Child {
        password,
        durable,
        fast_path,
        running,
    } = &mut ctx.memory_server
    else {
        return Ok(None);
    };
    if running.is_none() {
        *running = Some(ChildServer::start(password, *durable, *fast_path)?);
    }
    Ok(running.as_ref())
}

/// A session on the server the memory workloads measure.
async fn target(ctx: &mut Ctx) -> anyhow::Result<Http> {
    let password = match &ctx.memory_server {
        MemoryServer::Child { password, .. } => password.clone(),
        MemoryServer::Remote => return Ok(ctx.http.clone()),
    };
    let base = child(ctx)?
        .map(ChildServer::base_url)
        .context("the child server is not running")?;
    Http::login(&base, "root", &password).await
}

/// The measured server's resident set in MB (MiB), and how it was read.
async fn resident_mb(ctx: &mut Ctx) -> anyhow::Result<(f64, &'static str)> {
    if let Some(server) = child(ctx)? {
        return Ok((vm_rss_mib(server.pid())?, "VmRSS from /proc"));
    }
    let value = ctx
        .http
        .stat("memory_usage_bytes")
        .await?
        .context("the server does not report memory_usage_bytes in system.stats")?;
    let bytes: f64 = value
        .parse()
        .with_context(|| format!("memory_usage_bytes is not a number: {value}"))?;
    Ok((bytes / (1024.0 * 1024.0), "system.stats memory_usage_bytes"))
}

fn vm_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no VmRSS in {path}"))?;
    Ok(kib / 1024.0)
}

fn memory_row((mb, how): (f64, &str), what: String) -> Measurement {
    Measurement {
        value: Some((mb, "MB")),
        samples: 1,
        note: format!("{mb:.1} MB: {what} ({how})"),
        ..Default::default()
    }
}

/// `memory_idle_fresh`: the resident set of a server that has only started
/// (root's password hashed at first start) and then sat idle.
pub async fn idle_fresh(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let fresh = child(ctx)?.is_some();
    let idle = ctx.plan.memory_idle_secs;
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let what = if fresh {
        format!("fresh server, {idle} s idle after start")
    } else {
        format!("the server, {idle} s after the bench's set-up")
    };
    Ok(memory_row(resident_mb(ctx).await?, what))
}

/// `memory_users_logins`: the resident set right after the plan's users
/// were created (`CREATE USER … WITH PASSWORD`, one hash each) and each
/// logged in once (one verification each), from 4 clients at once.
pub async fn users_logins(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let http = target(ctx).await?;
    let n = ctx.plan.memory_users;
    let run = unique();
    let started = Instant::now();
    for_each_client(n, |i| {
        let http = http.own_connection();
        let run = run.clone();
        async move {
            http.sql(&format!(
                "CREATE USER mem_{run}_{i} WITH PASSWORD '{PASSWORD}' ROLE user"
            ))
            .await
            .map(drop)
        }
    })
    .await?;
    for_each_client(n, |i| {
        let http = http.own_connection();
        let run = run.clone();
        async move {
            http.login_as(&format!("mem_{run}_{i}"), PASSWORD)
                .await
                .map(drop)
        }
    })
    .await?;
    let took = started.elapsed();
    Ok(Measurement {
        ops_per_sec: (2 * n) as f64 / took.as_secs_f64().max(1e-9),
        op: "hashes",
        ..memory_row(
            resident_mb(ctx).await?,
            format!("server RSS right after {n} CREATE USER + {n} logins, {CLIENTS} clients"),
        )
    })
}

/// `memory_after_idle`: the resident set once the burst is over and the
/// server has been idle for a while (what it keeps for good; unused
/// Argon2 sets are freed after `kalamdb_auth`'s `KEEP_IDLE`).
pub async fn after_idle(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    child(ctx)?;
    let idle = ctx.plan.memory_idle_secs;
    tokio::time::sleep(Duration::from_secs(idle)).await;
    Ok(memory_row(
        resident_mb(ctx).await?,
        format!("server RSS {idle} s after the burst"),
    ))
}

/// `login_seq`: `POST /v1/api/auth/login` one after another (Argon2id
/// verification with the default parameters, then a token pair).
pub async fn login_seq(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let http = target(ctx).await?;
    let n = ctx.plan.logins;
    let user = format!("login_{}", unique());
    http.sql(&format!(
        "CREATE USER {user} WITH PASSWORD '{PASSWORD}' ROLE user"
    ))
    .await?;
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        http.login_as(&user, PASSWORD).await?;
        samples.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    let wall = started.elapsed();
    Ok(Measurement {
        ops_per_sec: n as f64 / wall.as_secs_f64().max(1e-9),
        op: "logins",
        latency: Latency::from_micros(&mut samples),
        samples: n,
        note: format!("{n} sequential logins of one user, 1 client"),
        ..Default::default()
    })
}

/// A name part no earlier run against the same server used.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}")
}

/// Runs `op(i)` for `i` in `0..n`, [`CLIENTS`] at a time.
async fn for_each_client<F, Fut>(n: usize, op: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut next = 0;
    let mut running = tokio::task::JoinSet::new();
    while next < n || !running.is_empty() {
        while next < n && running.len() < CLIENTS {
            running.spawn(op(next));
            next += 1;
        }
        if let Some(done) = running.join_next().await {
            done.context("a bench client panicked")??;
        }
    }
    Ok(())
}
