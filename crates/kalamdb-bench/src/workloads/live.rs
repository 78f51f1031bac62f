//! Live-query workloads (issue 6's numbers). Latency is arrival minus send
//! time of the same row, both read from this process's clock: the inserting
//! client writes its send time into the row (`sent_us`) and each
//! subscription's reader stamps the frame when it comes off the socket.
//! Pacing is by counting notifications, never by sleeping.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::client::{Event, Http, SUBS_PER_CONNECTION, WAIT, Ws, now_us, spawn_reader};
use crate::ctx::Ctx;
use crate::report::{Latency, Measurement};

const LIVE_TABLE: &str = "bench.live";
const LIVE_SQL: &str = "SELECT * FROM bench.live WHERE room = 'r'";
const INITIAL_TABLE: &str = "bench.live_initial";
const INITIAL_SQL: &str = "SELECT * FROM bench.live_initial WHERE room = 'r'";
const INITIAL_ROWS: usize = 1000;
/// Subscriptions of the fan-out and idle-memory workloads.
const MANY: usize = 1000;
const FANOUT_WRITERS: usize = 4;
/// Connection attempts in flight at once in the connection storm.
const CONNECT_PARALLELISM: usize = 100;

/// A fresh PUBLIC shared table, so each workload starts from the same state.
async fn reset_table(http: &Http, table: &str) -> anyhow::Result<()> {
    http.sql("CREATE NAMESPACE IF NOT EXISTS bench").await?;
    http.sql(&format!("DROP TABLE IF EXISTS {table}")).await?;
    http.sql(&format!(
        "CREATE SHARED TABLE {table} (id BIGINT PRIMARY KEY, room TEXT, body TEXT, sent_us BIGINT) \
         WITH (ACCESS_LEVEL = 'PUBLIC')"
    ))
    .await?;
    Ok(())
}

/// One row into `bench.live`, stamped with the time it is sent.
async fn insert_stamped(http: &Http, id: usize) -> anyhow::Result<()> {
    let sent_us = now_us();
    http.sql(&format!(
        "INSERT INTO {LIVE_TABLE} (id, room, body, sent_us) VALUES ({id}, 'r', 'live bench row', {sent_us})"
    ))
    .await?;
    Ok(())
}

/// Opens `n` authenticated connections, connection `i` as bench user `i`.
async fn connect_users(ctx: &mut Ctx, n: usize) -> anyhow::Result<Vec<Ws>> {
    let tokens = ctx.user_tokens(n).await?;
    let url = ctx.ws_url.as_str();
    futures::future::try_join_all(tokens.iter().map(|t| Ws::connect(url, t))).await
}

/// `total` subscriptions to [`LIVE_SQL`], at most 100 per connection.
async fn subscribe_spread(conns: &mut [Ws], total: usize, options: &Value) -> anyhow::Result<()> {
    let jobs = conns.iter_mut().enumerate().map(|(c, ws)| {
        let first = c * SUBS_PER_CONNECTION;
        let n = total.saturating_sub(first).min(SUBS_PER_CONNECTION);
        let ids: Vec<String> = (0..n).map(|j| format!("c{c}-s{j}")).collect();
        async move { ws.subscribe_all(&ids, LIVE_SQL, options).await }
    });
    futures::future::try_join_all(jobs).await?;
    Ok(())
}

/// Connections carrying `total` acknowledged subscriptions with no initial
/// data (`options: null`).
async fn open_subscriptions(ctx: &mut Ctx, total: usize) -> anyhow::Result<Vec<Ws>> {
    let mut conns = connect_users(ctx, total.div_ceil(SUBS_PER_CONNECTION)).await?;
    subscribe_spread(&mut conns, total, &Value::Null).await?;
    Ok(conns)
}

async fn close_all(conns: Vec<Ws>) {
    futures::future::join_all(conns.into_iter().map(Ws::close)).await;
}

/// One arrival of one row at one subscription.
struct Arrival {
    id: i64,
    latency_us: u64,
    arrival_us: i64,
}

/// The reader tasks of a set of connections and the stream of what they
/// saw.
struct Readers {
    events: mpsc::UnboundedReceiver<Event>,
    sender: mpsc::UnboundedSender<Event>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Readers {
    fn spawn(conns: Vec<Ws>) -> Readers {
        let (sender, events) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let tasks = conns
            .into_iter()
            .map(|ws| spawn_reader(ws, sender.clone(), stop_rx.clone()))
            .collect();
        Readers {
            events,
            sender,
            stop,
            tasks,
        }
    }

    /// The next arrival; a reader's failure, or none within [`WAIT`], is an
    /// error.
    async fn next(&mut self) -> anyhow::Result<Arrival> {
        let event = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .map_err(|_| anyhow!("a notification did not arrive within {} s", WAIT.as_secs()))?;
        match event {
            Some(Event::Arrival {
                id,
                sent_us,
                arrival_us,
            }) => Ok(Arrival {
                id,
                latency_us: u64::try_from(arrival_us.saturating_sub(sent_us)).unwrap_or(0),
                arrival_us,
            }),
            Some(Event::Failed(e)) => Err(anyhow!(e)),
            None => bail!("every reader stopped"),
        }
    }

    /// Stops the readers; each closes its socket.
    async fn finish(self) {
        let _ = self.stop.send(true);
        futures::future::join_all(self.tasks).await;
    }
}

/// `live_latency_N`: N subscriptions, M sequential inserts; each insert's N
/// notifications are all received before the next insert is sent.
pub async fn latency(ctx: &mut Ctx, subs: usize) -> anyhow::Result<Measurement> {
    reset_table(&ctx.http, LIVE_TABLE).await?;
    let conns = open_subscriptions(ctx, subs).await?;
    let inserts = ctx.plan.latency_inserts;
    let mut readers = Readers::spawn(conns);
    let measured = async {
        let mut latencies = Vec::with_capacity(inserts * subs);
        let started = now_us();
        let mut last_arrival = started;
        for id in 0..inserts {
            insert_stamped(&ctx.http, id).await?;
            for _ in 0..subs {
                let a = readers.next().await?;
                if usize::try_from(a.id).ok() != Some(id) {
                    bail!("row {} was notified while waiting for row {id}", a.id);
                }
                latencies.push(a.latency_us);
                last_arrival = last_arrival.max(a.arrival_us);
            }
        }
        Ok((latencies, started, last_arrival))
    }
    .await;
    readers.finish().await;
    let (mut latencies, started, last_arrival) = measured?;
    let delivered = latencies.len();
    Ok(Measurement {
        ops_per_sec: per_second(delivered, last_arrival - started),
        op: "notifications",
        latency: Latency::from_micros(&mut latencies),
        samples: delivered,
        note: format!("{inserts} sequential inserts × {subs} subs; insert→notify"),
        ..Default::default()
    })
}

/// `live_fanout_1000`: 1000 subscriptions, M inserts fired by 4 concurrent
/// writers as fast as the server answers; messages per second from the
/// first send to the last arrival.
pub async fn fanout(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    reset_table(&ctx.http, LIVE_TABLE).await?;
    let conns = open_subscriptions(ctx, MANY).await?;
    let inserts = ctx.plan.fanout_inserts;
    let mut readers = Readers::spawn(conns);
    let first_send = now_us();
    let writers: Vec<_> = (0..FANOUT_WRITERS)
        .map(|w| {
            let http = ctx.http.clone();
            let failures = readers.sender.clone();
            tokio::spawn(async move {
                for id in (w..inserts).step_by(FANOUT_WRITERS) {
                    if let Err(e) = insert_stamped(&http, id).await {
                        let _ = failures.send(Event::Failed(format!("writer {w}: {e:#}")));
                        return;
                    }
                }
            })
        })
        .collect();
    let expected = inserts * MANY;
    let measured = async {
        let mut latencies = Vec::with_capacity(expected);
        let mut last_arrival = first_send;
        while latencies.len() < expected {
            let a = readers.next().await?;
            latencies.push(a.latency_us);
            last_arrival = last_arrival.max(a.arrival_us);
        }
        Ok::<_, anyhow::Error>((latencies, last_arrival))
    }
    .await;
    for w in &writers {
        w.abort();
    }
    futures::future::join_all(writers).await;
    readers.finish().await;
    let (mut latencies, last_arrival) = measured?;
    Ok(Measurement {
        ops_per_sec: per_second(expected, last_arrival - first_send),
        op: "messages",
        latency: Latency::from_micros(&mut latencies),
        samples: expected,
        note: format!("messages/s; {inserts} inserts by {FANOUT_WRITERS} writers × {MANY} subs"),
        ..Default::default()
    })
}

/// `live_initial_1000`: time from sending `subscribe` (options `{}`) to the
/// initial batch with status `ready`, over a 1000-row table.
pub async fn initial(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    reset_table(&ctx.http, INITIAL_TABLE).await?;
    for chunk in 0..INITIAL_ROWS / 100 {
        let values: Vec<String> = (chunk * 100..(chunk + 1) * 100)
            .map(|id| format!("({id}, 'r', 'initial row {id}', 0)"))
            .collect();
        ctx.http
            .sql(&format!(
                "INSERT INTO {INITIAL_TABLE} (id, room, body, sent_us) VALUES {}",
                values.join(", ")
            ))
            .await?;
    }
    let repeats = ctx.plan.initial_repeats;
    let mut conns = connect_users(ctx, 1).await?;
    let Some(mut ws) = conns.pop() else {
        bail!("no connection opened");
    };
    let measured = async {
        let mut samples = Vec::with_capacity(repeats);
        for r in 0..repeats {
            let id = format!("initial-{r}");
            let started = Instant::now();
            ws.subscribe(&id, INITIAL_SQL, json!({})).await?;
            let rows = read_snapshot(&mut ws, &id).await?;
            samples.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
            if rows != INITIAL_ROWS {
                bail!("the snapshot had {rows} rows, expected {INITIAL_ROWS}");
            }
            ws.send_json(&json!({"type": "unsubscribe", "subscription_id": id}))
                .await?;
        }
        Ok(samples)
    }
    .await;
    let _ = ws.close().await;
    let mut samples = measured?;
    let total_us: u64 = samples.iter().sum();
    Ok(Measurement {
        ops_per_sec: per_second(repeats, i64::try_from(total_us).unwrap_or(i64::MAX)),
        op: "subscriptions",
        latency: Latency::from_micros(&mut samples),
        rows_per_sec: Some(per_second(
            repeats * INITIAL_ROWS,
            i64::try_from(total_us).unwrap_or(i64::MAX),
        )),
        samples: repeats,
        note: format!("subscribe→ready, {INITIAL_ROWS} rows, {repeats} times"),
        ..Default::default()
    })
}

/// Reads the ack and the initial batches of subscription `id` (paging with
/// `next_batch` if the server splits them); returns the row count.
async fn read_snapshot(ws: &mut Ws, id: &str) -> anyhow::Result<usize> {
    let mut rows = 0;
    loop {
        let msg = ws.next_json().await?;
        if msg.get("subscription_id").and_then(Value::as_str) != Some(id) {
            continue;
        }
        match msg.get("type").and_then(Value::as_str) {
            Some("initial_data_batch") => {
                rows += msg
                    .get("rows")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let control = msg.get("batch_control");
                let status = control
                    .and_then(|c| c.get("status"))
                    .and_then(Value::as_str);
                if status == Some("ready") {
                    return Ok(rows);
                }
                let more = control
                    .and_then(|c| c.get("has_more"))
                    .and_then(Value::as_bool);
                if more == Some(true) {
                    ws.send_json(&json!({"type": "next_batch", "subscription_id": id}))
                        .await?;
                }
            }
            Some("error") => bail!("subscribe failed: {msg}"),
            _ => {}
        }
    }
}

/// `ws_connect_1000`: connections authenticating with the Bearer header,
/// up to 100 in flight; each timed from the TCP connect to `auth_success`.
/// They stay open until all are in, so the server holds them all at once.
pub async fn connect_storm(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    let n = ctx.plan.connections;
    let token = ctx
        .user_tokens(1)
        .await?
        .pop()
        .context("no bench user token")?;
    let gate = Arc::new(Semaphore::new(CONNECT_PARALLELISM));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let gate = gate.clone();
        let url = ctx.ws_url.clone();
        let token = token.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let t = Instant::now();
            let ws = Ws::connect(&url, &token).await?;
            let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
            Ok::<_, anyhow::Error>((us, ws))
        });
    }
    let mut samples = Vec::with_capacity(n);
    let mut open = Vec::with_capacity(n);
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok((us, ws))) => {
                samples.push(us);
                open.push(ws);
            }
            Ok(Err(e)) => {
                failure.get_or_insert(e);
            }
            Err(e) => {
                failure.get_or_insert(anyhow!("a connect task failed: {e}"));
            }
        }
    }
    let wall_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    close_all(open).await;
    if let Some(e) = failure {
        return Err(e.context(format!("{} of {n} connections succeeded", samples.len())));
    }
    Ok(Measurement {
        ops_per_sec: per_second(n, wall_us),
        op: "connections",
        latency: Latency::from_micros(&mut samples),
        samples: n,
        note: format!("{n} connects, ≤{CONNECT_PARALLELISM} in flight, Bearer → auth_success"),
        ..Default::default()
    })
}

/// `live_idle_memory`: the server's `memory_usage_bytes` before and after
/// 1000 idle subscriptions on 10 already open connections, so only the
/// subscriptions' cost is in the difference.
pub async fn idle_memory(ctx: &mut Ctx) -> anyhow::Result<Measurement> {
    reset_table(&ctx.http, LIVE_TABLE).await?;
    let mut conns = connect_users(ctx, MANY.div_ceil(SUBS_PER_CONNECTION)).await?;
    let measured = async {
        let before = memory_bytes(&ctx.http).await?;
        let started = Instant::now();
        subscribe_spread(&mut conns, MANY, &Value::Null).await?;
        let took_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        let after = memory_bytes(&ctx.http).await?;
        Ok::<_, anyhow::Error>((before, after, took_us))
    }
    .await;
    close_all(conns).await;
    let (before, after, took_us) = measured?;
    let per_sub = (after - before) as f64 / MANY as f64;
    let whose = if ctx.in_process {
        "RSS of bench+server process"
    } else {
        "server RSS"
    };
    Ok(Measurement {
        ops_per_sec: per_second(MANY, took_us),
        op: "subscriptions acked",
        // A resident set that shrank (jemalloc returning what earlier
        // workloads freed) says nothing about subscriptions: no value
        // rather than a negative size.
        value: (after > before).then_some((per_sub, "bytes/subscription")),
        samples: MANY,
        note: if after > before {
            format!("{per_sub:.0} B/idle subscription ({whose} delta over {MANY})")
        } else {
            // The allocator served the subscriptions from pages freed by
            // earlier work, or returned more to the OS meanwhile: only a
            // fresh server gives a meaningful delta.
            format!(
                "{whose} did not grow over {MANY} subscriptions (warm server? \
                 run it alone: --only live_idle_memory)"
            )
        },
        ..Default::default()
    })
}

async fn memory_bytes(http: &Http) -> anyhow::Result<i64> {
    let value = http
        .stat("memory_usage_bytes")
        .await?
        .context("the server does not report memory_usage_bytes in system.stats")?;
    value
        .parse()
        .with_context(|| format!("memory_usage_bytes is not a number: {value}"))
}

/// `count` events over `elapsed_us` microseconds, per second.
fn per_second(count: usize, elapsed_us: i64) -> f64 {
    if elapsed_us <= 0 {
        return 0.0;
    }
    count as f64 * 1_000_000.0 / elapsed_us as f64
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_and_zero_without_time() {
        assert_eq!(per_second(500, 250_000), 2000.0);
        assert_eq!(per_second(10, 0), 0.0);
        assert_eq!(per_second(10, -5), 0.0);
    }

    #[tokio::test]
    async fn readers_report_failures_instead_of_hanging() {
        let (sender, events) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let mut readers = Readers {
            events,
            sender: sender.clone(),
            stop,
            tasks: Vec::new(),
        };
        sender
            .send(Event::Arrival {
                id: 7,
                sent_us: 1_000,
                arrival_us: 1_750,
            })
            .unwrap();
        sender.send(Event::Failed("socket closed".into())).unwrap();
        let a = readers.next().await.unwrap();
        assert_eq!((a.id, a.latency_us, a.arrival_us), (7, 750, 1_750));
        let err = readers.next().await.err().unwrap();
        assert_eq!(err.to_string(), "socket closed");
        readers.finish().await;
    }
}
