//! The random-kill crash test: nothing acknowledged is ever lost, nothing
//! unacknowledged appears half-done.
//!
//! Each round starts the real `kalamdb-server` binary on the data directory
//! the previous round left and runs, concurrently:
//! - writers on a SHARED table (INSERT, UPDATE and DELETE of one or several
//!   rows per statement), each owning a range of keys;
//! - writers on a USER table through `EXECUTE AS USER`, two users sharing
//!   the same key numbers in their own partitions;
//! - appends with server-assigned ids (`AUTO_INCREMENT`), each carrying a
//!   unique token, to check exactly-once where the key cannot;
//! - maintenance: flushes and compactions at random moments, with small
//!   tables flushed often and `DELETED_RETENTION_HOURS = 0`, so deletes meet
//!   flushed rows and compaction drops tombstones;
//! - DDL: short-lived tables created, written, flushed and dropped.
//!
//! It then SIGKILLs the server at a random moment, or just after a flush, a
//! compaction or a DDL statement starts (the kill *mode*). Every client
//! records what was acknowledged; the one request per client still in
//! flight at the kill is *pending*. After the restart every key is checked
//! against the model: acknowledged state exactly; each pending request
//! wholly applied or wholly absent; nothing that was never sent; no key
//! served twice; the same answer from a scan, `count(*)` and point lookups;
//! tokens at most once and acknowledged ones exactly once; a short-lived
//! table in the state of its last acknowledged DDL (or the pending one),
//! the same in `system.tables`; and a new write's `_seq` above every stored
//! one. The model then adopts what the pending requests did, and the next
//! round begins. The last round also checks that no dropped table left a
//! Parquet file behind.
//!
//! `KALAMDB_CRASH_ROUNDS` (default 20) and `KALAMDB_CRASH_SEED` (default:
//! from the clock, printed on failure) choose the run; docs/reliability.md
//! has the long-run command and the figures of the last long run.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::binary::{PASSWORD, Proc};

const USERS: [&str; 2] = ["crash_alice", "crash_bob"];
const SHARED_WRITERS: i64 = 3;
const KEYS_PER_WRITER: i64 = 60;
const USER_KEYS: i64 = 60;

/// A row's value; `None` = absent.
type Val = Option<i64>;

/// Where a row lives: the SHARED table, or one user's partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Shared(i64),
    User(usize, i64),
}

/// A request whose answer never came: what it would change.
#[derive(Debug, Clone)]
struct Pending {
    sql: String,
    changes: Vec<(Key, Val, Val)>,
}

/// What a statement answered, as far as the harness cares.
enum Answer {
    Ok(Value),
    /// A definite refusal (an HTTP answer with an error): nothing applied.
    Refused(String),
    /// No answer: the server died with the request in flight.
    Lost,
}

async fn send(client: &reqwest::Client, base: &str, sql: &str) -> Answer {
    let sent = client
        .post(format!("{base}/v1/api/sql"))
        .basic_auth("root", Some(PASSWORD))
        .json(&json!({ "sql": sql }))
        .send()
        .await;
    let Ok(resp) = sent else {
        return Answer::Lost;
    };
    let status = resp.status();
    match resp.json::<Value>().await {
        Ok(body) if status.is_success() && body["status"] == "success" => Answer::Ok(body),
        Ok(body) => Answer::Refused(format!("{status} {body}")),
        Err(_) => Answer::Lost,
    }
}

/// Runs a statement on a live server and returns its body.
async fn must(client: &reqwest::Client, base: &str, sql: &str) -> Value {
    match send(client, base, sql).await {
        Answer::Ok(body) => body,
        Answer::Refused(e) => panic!("{sql}: {e}"),
        Answer::Lost => panic!("{sql}: no answer"),
    }
}

fn rows(body: &Value) -> Vec<Value> {
    body["results"][0]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A BIGINT as the wire sends it (a decimal string).
fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Things that happened in a round, for the kill modes and the summary.
#[derive(Default)]
struct Events {
    acked: AtomicU64,
    flush_started: Notify,
    compact_started: Notify,
    ddl_sent: Notify,
    progress: Notify,
}

/// A writer's rows: the SHARED table (`user = None`) or one user's
/// partition, keys `keys`.
struct Writer {
    user: Option<usize>,
    keys: std::ops::Range<i64>,
    rows: BTreeMap<i64, i64>,
    seed: u64,
}

struct WriterEnd {
    rows: BTreeMap<i64, i64>,
    pending: Option<Pending>,
    acked: u64,
    /// Tokens appended (acknowledged) and the one in flight, if any.
    tokens: Vec<String>,
    pending_token: Option<String>,
}

impl Writer {
    fn key(&self, id: i64) -> Key {
        match self.user {
            Some(u) => Key::User(u, id),
            None => Key::Shared(id),
        }
    }

    /// One random request and the changes it makes if applied.
    fn next(&self, rng: &mut StdRng, value: &AtomicI64) -> (String, Vec<(i64, Val, Val)>) {
        let fresh = || value.fetch_add(1, Ordering::SeqCst);
        let absent: Vec<i64> = self
            .keys
            .clone()
            .filter(|k| !self.rows.contains_key(k))
            .collect();
        let present: Vec<i64> = self.rows.keys().copied().collect();
        let pick = |rng: &mut StdRng, from: &[i64], n: usize| -> Vec<i64> {
            let mut out = BTreeSet::new();
            for _ in 0..n * 3 {
                if out.len() == n || from.is_empty() {
                    break;
                }
                out.insert(from[rng.random_range(0..from.len())]);
            }
            out.into_iter().collect()
        };
        let roll = rng.random_range(0..100);
        let (table, wrap): (&str, Box<dyn Fn(String) -> String>) = match self.user {
            Some(u) => (
                "crash.inbox",
                Box::new(move |s| format!("EXECUTE AS USER '{}' ({s})", USERS[u])),
            ),
            None => ("crash.kv", Box::new(|s| s)),
        };
        if roll < 35 || present.is_empty() {
            let n = 1 + rng.random_range(0..4);
            let ids = pick(rng, &absent, n);
            if !ids.is_empty() {
                let changes: Vec<_> = ids.iter().map(|&k| (k, None, Some(fresh()))).collect();
                let values: Vec<String> = changes
                    .iter()
                    .map(|(k, _, v)| format!("({k}, {})", v.unwrap_or_default()))
                    .collect();
                let sql = format!("INSERT INTO {table} (id, v) VALUES {}", values.join(", "));
                return (wrap(sql), changes);
            }
        }
        if roll < 60 {
            let k = pick(rng, &present, 1)[0];
            let v = fresh();
            let sql = format!("UPDATE {table} SET v = {v} WHERE id = {k}");
            return (wrap(sql), vec![(k, self.rows.get(&k).copied(), Some(v))]);
        }
        if roll < 70 {
            let n = 2 + rng.random_range(0..3);
            let ids = pick(rng, &present, n);
            let v = fresh();
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            let sql = format!(
                "UPDATE {table} SET v = {v} WHERE id IN ({})",
                list.join(", ")
            );
            let changes = ids
                .iter()
                .map(|k| (*k, self.rows.get(k).copied(), Some(v)))
                .collect();
            return (wrap(sql), changes);
        }
        if roll < 88 {
            let k = pick(rng, &present, 1)[0];
            let sql = format!("DELETE FROM {table} WHERE id = {k}");
            return (wrap(sql), vec![(k, self.rows.get(&k).copied(), None)]);
        }
        let n = 2 + rng.random_range(0..3);
        let ids = pick(rng, &present, n);
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!("DELETE FROM {table} WHERE id IN ({})", list.join(", "));
        let changes = ids
            .iter()
            .map(|k| (*k, self.rows.get(k).copied(), None))
            .collect();
        (wrap(sql), changes)
    }

    /// Writes until the server dies; returns what it knows.
    async fn run(mut self, base: String, value: Arc<AtomicI64>, events: Arc<Events>) -> WriterEnd {
        let client = client();
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut end = WriterEnd {
            rows: BTreeMap::new(),
            pending: None,
            acked: 0,
            tokens: Vec::new(),
            pending_token: None,
        };
        loop {
            // Appends with server-assigned ids, from the SHARED writers.
            if self.user.is_none() && rng.random_range(0..10) == 0 {
                let token = format!("t{}", value.fetch_add(1, Ordering::SeqCst));
                let sql = format!("INSERT INTO crash.events (token) VALUES ('{token}')");
                match send(&client, &base, &sql).await {
                    Answer::Ok(_) => end.tokens.push(token),
                    Answer::Refused(e) => panic!("{sql}: refused: {e}"),
                    Answer::Lost => {
                        end.pending_token = Some(token);
                        break;
                    }
                }
                continue;
            }
            let (sql, changes) = self.next(&mut rng, &value);
            match send(&client, &base, &sql).await {
                Answer::Ok(_) => {
                    for (k, _, after) in changes {
                        match after {
                            Some(v) => self.rows.insert(k, v),
                            None => self.rows.remove(&k),
                        };
                    }
                    end.acked += 1;
                    events.acked.fetch_add(1, Ordering::SeqCst);
                    events.progress.notify_waiters();
                }
                Answer::Refused(e) => panic!("{sql}: refused: {e}"),
                Answer::Lost => {
                    let changes = changes
                        .into_iter()
                        .map(|(k, b, a)| (self.key(k), b, a))
                        .collect();
                    end.pending = Some(Pending { sql, changes });
                    break;
                }
            }
        }
        end.rows = self.rows;
        end
    }
}

/// Random flushes and compactions until the server dies.
async fn maintenance(base: String, seed: u64, events: Arc<Events>) {
    let client = client();
    let mut rng = StdRng::seed_from_u64(seed);
    loop {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..200))).await;
        let (sql, started) = match rng.random_range(0..5) {
            0 | 1 => ("STORAGE FLUSH TABLE crash.kv", &events.flush_started),
            2 => ("STORAGE FLUSH TABLE crash.inbox", &events.flush_started),
            3 => ("STORAGE COMPACT TABLE crash.kv", &events.compact_started),
            _ => ("STORAGE COMPACT TABLE crash.inbox", &events.compact_started),
        };
        match send(&client, &base, sql).await {
            Answer::Ok(body) => {
                let msg = body["results"][0]["message"].as_str().unwrap_or_default();
                if msg.contains("Job ID") {
                    started.notify_waiters();
                }
            }
            Answer::Refused(e) => panic!("{sql}: refused: {e}"),
            Answer::Lost => return,
        }
    }
}

/// The life of a short-lived table `crash.d{n}`, one step per statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Life {
    Absent,
    Created,
    Inserted,
    Dropped,
}

impl Life {
    fn next(self) -> Life {
        match self {
            Life::Absent => Life::Created,
            Life::Created => Life::Inserted,
            Life::Inserted | Life::Dropped => Life::Dropped,
        }
    }

    fn statement(self, n: u64) -> String {
        match self {
            Life::Absent => format!(
                "CREATE SHARED TABLE crash.d{n} (id BIGINT PRIMARY KEY, v TEXT) \
                 WITH (DELETED_RETENTION_HOURS = 0)"
            ),
            // Flushed right away, so the DROP has Parquet files to remove.
            Life::Created => format!("INSERT INTO crash.d{n} VALUES (1, 'x')"),
            Life::Inserted | Life::Dropped => format!("DROP TABLE crash.d{n}"),
        }
    }

    /// Absent and dropped look alike from outside.
    fn seen(self) -> Life {
        if self == Life::Dropped {
            Life::Absent
        } else {
            self
        }
    }
}

/// Short-lived tables: their known states, and the step in flight at the kill.
#[derive(Default)]
struct Ddl {
    tables: BTreeMap<u64, Life>,
    pending: Option<(u64, Life)>,
    next: u64,
}

/// DDL until the server dies: advances the newest live table by one step,
/// or creates the next one.
async fn ddl(base: String, mut model: Ddl, seed: u64, events: Arc<Events>) -> Ddl {
    let client = client();
    let mut rng = StdRng::seed_from_u64(seed);
    loop {
        tokio::time::sleep(Duration::from_millis(rng.random_range(10..120))).await;
        let live = model
            .tables
            .iter()
            .rev()
            .find(|(_, l)| **l != Life::Dropped)
            .map(|(n, l)| (*n, *l));
        let (n, from) = match live {
            Some(t) if rng.random_range(0..4) > 0 => t,
            _ => {
                model.next += 1;
                (model.next, Life::Absent)
            }
        };
        let sql = from.statement(n);
        events.ddl_sent.notify_waiters();
        match send(&client, &base, &sql).await {
            Answer::Ok(_) => {
                model.tables.insert(n, from.next());
                if from == Life::Created {
                    // Best effort: a flush in flight at the kill is fine.
                    let flush = format!("STORAGE FLUSH TABLE crash.d{n}");
                    if let Answer::Lost = send(&client, &base, &flush).await {
                        return model;
                    }
                }
            }
            Answer::Refused(e) => panic!("{sql}: refused: {e}"),
            Answer::Lost => {
                model.pending = Some((n, from));
                return model;
            }
        }
    }
}

/// The state of the whole database as the harness believes it.
#[derive(Default)]
struct Model {
    rows: BTreeMap<Key, i64>,
    pending: Vec<Pending>,
    tokens: BTreeSet<String>,
    pending_tokens: BTreeSet<String>,
    ddl: Ddl,
}

/// Totals over the run, printed at the end.
#[derive(Default, Debug)]
struct Totals {
    rounds: u64,
    acked_requests: u64,
    keys_checked: u64,
    pending_applied: u64,
    pending_absent: u64,
    tokens_checked: u64,
    ddl_checked: u64,
    kills_by_mode: [u64; 4],
    interrupted_flushes: u64,
    interrupted_compactions: u64,
}

const SETUP: &[&str] = &[
    "CREATE NAMESPACE crash",
    "CREATE SHARED TABLE crash.kv (id BIGINT PRIMARY KEY, v BIGINT NOT NULL) \
     WITH (DELETED_RETENTION_HOURS = 0, FLUSH_POLICY = 'rows:200')",
    "CREATE USER TABLE crash.inbox (id BIGINT PRIMARY KEY, v BIGINT NOT NULL) \
     WITH (DELETED_RETENTION_HOURS = 0, FLUSH_POLICY = 'rows:200')",
    "CREATE SHARED TABLE crash.events (id BIGINT PRIMARY KEY AUTO_INCREMENT, token TEXT NOT NULL)",
    "CREATE SHARED TABLE crash.probe (id BIGINT PRIMARY KEY, v BIGINT)",
    "CREATE USER crash_alice WITH INTERNAL ROLE user",
    "CREATE USER crash_bob WITH INTERNAL ROLE user",
];

const CONFIG: &str = "[flush]\ncheck_interval_seconds = 1\n\n[compaction]\nauto_min_files = 3\n";

fn start(data: &Path, config: &Path) -> Proc {
    let config = config.to_str().expect("utf-8 path");
    Proc::start_with_args(data, &["--config", config], &[])
}

#[tokio::test]
async fn random_kills_lose_no_acknowledged_write() {
    let rounds: u64 = std::env::var("KALAMDB_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("KALAMDB_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    eprintln!("random_kills: {rounds} rounds, KALAMDB_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, CONFIG).unwrap();

    let mut p = start(&data, &config);
    let c = client();
    for sql in SETUP {
        must(&c, &p.base, sql).await;
    }
    let mut model = Model::default();
    let mut totals = Totals::default();
    let value = Arc::new(AtomicI64::new(1));
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..rounds {
        let mode = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3][rng.random_range(0..10usize)];
        let (killed_at, ends, ddl_model) =
            run_round(&p, &mut model, &mut rng, mode, value.clone()).await;
        let ctx = format!("round {round}, killed {killed_at} (KALAMDB_CRASH_SEED={seed})");
        totals.kills_by_mode[mode] += 1;
        let status = tokio::task::spawn_blocking(move || {
            let status = p.child.wait().expect("wait");
            (status, p)
        })
        .await
        .unwrap();
        assert_eq!(status.0.signal(), Some(9), "{ctx}: not SIGKILLed");
        drop(status.1);
        // Merge what the clients know.
        let mut acked = 0;
        for (writer, end) in ends {
            acked += end.acked;
            model.rows.retain(|k, _| !writer.owns(k));
            for (id, v) in end.rows {
                model.rows.insert(writer.key(id), v);
            }
            model.pending.extend(end.pending);
            model.tokens.extend(end.tokens);
            model.pending_tokens.extend(end.pending_token);
        }
        model.ddl = ddl_model;
        totals.acked_requests += acked;

        p = start(&data, &config);
        verify(&p, &mut model, &mut totals, &mut rng, &ctx).await;
        totals.rounds += 1;
    }
    // Dropped tables left no Parquet file behind, even when the kill
    // came during their flush or their DROP.
    let storage = data.join("storage/crash");
    for (n, life) in &model.ddl.tables {
        if *life == Life::Dropped {
            let left = parquet_files(&storage.join(format!("d{n}")));
            assert!(left.is_empty(), "dropped crash.d{n} left {left:?}");
        }
    }
    eprintln!("random_kills: {totals:?}");
    drop(p);
}

fn parquet_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|x| x == "parquet") {
            out.push(path.display().to_string());
        }
    }
    out
}

impl Writer {
    fn owns(&self, key: &Key) -> bool {
        match (self.user, key) {
            (None, Key::Shared(id)) => self.keys.contains(id),
            (Some(u), Key::User(ku, id)) => u == *ku && self.keys.contains(id),
            _ => false,
        }
    }
}

/// Runs the clients until the kill; returns the kill mode's label, the
/// writers' ends and the DDL model.
async fn run_round(
    p: &Proc,
    model: &mut Model,
    rng: &mut StdRng,
    mode: usize,
    value: Arc<AtomicI64>,
) -> (&'static str, Vec<(Writer, WriterEnd)>, Ddl) {
    let events = Arc::new(Events::default());
    let mut writers = Vec::new();
    for w in 0..SHARED_WRITERS {
        writers.push((None, w * KEYS_PER_WRITER..(w + 1) * KEYS_PER_WRITER));
    }
    for u in 0..USERS.len() {
        writers.push((Some(u), 0..USER_KEYS));
    }
    let mut tasks = Vec::new();
    for (user, keys) in writers {
        let shape = Writer {
            user,
            keys,
            rows: BTreeMap::new(),
            seed: rng.random(),
        };
        let writer = Writer {
            rows: model
                .rows
                .iter()
                .filter(|(k, _)| shape.owns(k))
                .map(|(k, v)| match k {
                    Key::Shared(id) | Key::User(_, id) => (*id, *v),
                })
                .collect(),
            user,
            keys: shape.keys.clone(),
            seed: shape.seed,
        };
        let (base, value, events) = (p.base.clone(), value.clone(), events.clone());
        tasks.push((shape, tokio::spawn(writer.run(base, value, events))));
    }
    let maint = tokio::spawn(maintenance(p.base.clone(), rng.random(), events.clone()));
    let ddl_task = tokio::spawn(ddl(
        p.base.clone(),
        std::mem::take(&mut model.ddl),
        rng.random(),
        events.clone(),
    ));

    // Let some writes land first, so every round has work in flight.
    let want = rng.random_range(5..60);
    loop {
        let more = events.progress.notified();
        if events.acked.load(Ordering::SeqCst) >= want {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), more).await;
    }
    let label = match mode {
        0 => {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..800))).await;
            "random"
        }
        _ => {
            let event = match mode {
                1 => &events.flush_started,
                2 => &events.compact_started,
                _ => &events.ddl_sent,
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), event.notified()).await;
            let max = if mode == 3 { 15 } else { 80 };
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..max))).await;
            [
                "random",
                "after a flush started",
                "after a compaction started",
                "after a DDL was sent",
            ][mode]
        }
    };
    // SIGKILL: no destructor, no buffered write, no clean close.
    let status = std::process::Command::new("kill")
        .args(["-9", &p.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());

    let mut ends = Vec::new();
    for (shape, task) in tasks {
        ends.push((shape, task.await.expect("writer panicked")));
    }
    maint.await.expect("maintenance panicked");
    let ddl_model = ddl_task.await.expect("ddl panicked");
    (label, ends, ddl_model)
}

/// Checks the restarted server against the model, then adopts what the
/// pending requests did.
async fn verify(p: &Proc, model: &mut Model, totals: &mut Totals, rng: &mut StdRng, ctx: &str) {
    let c = client();
    // Every stored row, by key.
    let mut got: BTreeMap<Key, i64> = BTreeMap::new();
    let body = must(&c, &p.base, "SELECT id, v FROM crash.kv").await;
    let shared = rows(&body);
    for r in &shared {
        let prev = got.insert(Key::Shared(int(&r[0])), int(&r[1]));
        assert!(prev.is_none(), "{ctx}: crash.kv serves key {} twice", r[0]);
    }
    let count = must(&c, &p.base, "SELECT count(*) FROM crash.kv").await;
    assert_eq!(
        int(&rows(&count)[0][0]),
        shared.len() as i64,
        "{ctx}: count(*) disagrees with the scan"
    );
    for (u, name) in USERS.iter().enumerate() {
        let sql = format!("EXECUTE AS USER '{name}' (SELECT id, v FROM crash.inbox)");
        for r in rows(&must(&c, &p.base, &sql).await) {
            let prev = got.insert(Key::User(u, int(&r[0])), int(&r[1]));
            assert!(
                prev.is_none(),
                "{ctx}: {name}'s inbox serves {} twice",
                r[0]
            );
        }
    }

    // Each pending request: wholly applied or wholly absent.
    let mut expected = model.rows.clone();
    for pending in std::mem::take(&mut model.pending) {
        let applied = pending
            .changes
            .iter()
            .all(|(k, _, after)| got.get(k).copied() == *after);
        let absent = pending
            .changes
            .iter()
            .all(|(k, before, _)| got.get(k).copied() == *before);
        assert!(
            applied || absent,
            "{ctx}: request half-applied: {}\nchanges (key, before, after): {:?}\nfound: {:?}",
            pending.sql,
            pending.changes,
            pending
                .changes
                .iter()
                .map(|(k, _, _)| got.get(k))
                .collect::<Vec<_>>()
        );
        if applied && !absent {
            totals.pending_applied += 1;
            for (k, _, after) in &pending.changes {
                match after {
                    Some(v) => expected.insert(*k, *v),
                    None => expected.remove(k),
                };
            }
        } else {
            totals.pending_absent += 1;
        }
    }
    // Everything else exactly as acknowledged.
    for (k, v) in &expected {
        assert_eq!(
            got.get(k),
            Some(v),
            "{ctx}: acknowledged row {k:?} = {v} lost or changed"
        );
    }
    for (k, v) in &got {
        assert!(
            expected.contains_key(k),
            "{ctx}: row {k:?} = {v} was never acknowledged or pending"
        );
    }
    totals.keys_checked += expected.len() as u64;
    model.rows = expected;

    // Point lookups take the primary-key path.
    for _ in 0..5 {
        let id = rng.random_range(0..SHARED_WRITERS * KEYS_PER_WRITER);
        let body = must(
            &c,
            &p.base,
            &format!("SELECT v FROM crash.kv WHERE id = {id}"),
        )
        .await;
        let found: Vec<i64> = rows(&body).iter().map(|r| int(&r[0])).collect();
        let want: Vec<i64> = model
            .rows
            .get(&Key::Shared(id))
            .copied()
            .into_iter()
            .collect();
        assert_eq!(found, want, "{ctx}: point lookup of {id}");
    }

    // Appends: acknowledged tokens exactly once, pending ones at most once.
    let body = must(&c, &p.base, "SELECT token FROM crash.events").await;
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for r in rows(&body) {
        *seen
            .entry(r[0].as_str().expect("token").to_string())
            .or_default() += 1;
    }
    for (token, n) in &seen {
        assert_eq!(*n, 1, "{ctx}: token {token} stored {n} times");
        assert!(
            model.tokens.contains(token) || model.pending_tokens.contains(token),
            "{ctx}: token {token} was never sent"
        );
    }
    for token in &model.tokens {
        assert!(seen.contains_key(token), "{ctx}: acknowledged {token} lost");
    }
    for token in std::mem::take(&mut model.pending_tokens) {
        if seen.contains_key(&token) {
            model.tokens.insert(token);
        }
    }
    totals.tokens_checked += model.tokens.len() as u64;

    verify_ddl(p, &c, model, totals, ctx).await;

    // `_seq` keeps increasing across the crash.
    let top = must(
        &c,
        &p.base,
        "SELECT max(_seq) FROM (SELECT _seq FROM crash.kv UNION ALL SELECT _seq FROM crash.events)",
    )
    .await;
    let top = rows(&top)[0][0].clone();
    let n = totals.rounds as i64;
    must(
        &c,
        &p.base,
        &format!("INSERT INTO crash.probe VALUES ({n}, {n})"),
    )
    .await;
    let probe = must(
        &c,
        &p.base,
        &format!("SELECT _seq FROM crash.probe WHERE id = {n}"),
    )
    .await;
    if !top.is_null() {
        assert!(
            int(&rows(&probe)[0][0]) > int(&top),
            "{ctx}: a new _seq {} is not above the stored {top}",
            rows(&probe)[0][0]
        );
    }

    // Jobs the kill interrupted are recorded as such.
    let body = must(
        &c,
        &p.base,
        "SELECT job_type, count(*) FROM system.jobs \
         WHERE message = 'Interrupted by a server restart' GROUP BY job_type",
    )
    .await;
    for r in rows(&body) {
        let n = int(&r[1]) as u64;
        match r[0].as_str() {
            Some("flush") => totals.interrupted_flushes = n,
            Some("compact") | Some("compaction") => totals.interrupted_compactions = n,
            _ => {}
        }
    }
}

/// Each short-lived table is in its last acknowledged state, or the state
/// its pending statement would give; `system.tables` agrees.
async fn verify_ddl(
    p: &Proc,
    c: &reqwest::Client,
    model: &mut Model,
    totals: &mut Totals,
    ctx: &str,
) {
    let listed: BTreeSet<String> = rows(
        &must(
            c,
            &p.base,
            "SELECT table_name FROM system.tables WHERE namespace_id = 'crash'",
        )
        .await,
    )
    .iter()
    .map(|r| r[0].as_str().expect("name").to_string())
    .collect();
    let pending = model.ddl.pending.take();
    let mut check: BTreeMap<u64, Life> = model
        .ddl
        .tables
        .iter()
        .filter(|(n, l)| **l != Life::Dropped || **n + 3 > model.ddl.next)
        .map(|(n, l)| (*n, *l))
        .collect();
    if let Some((n, from)) = pending {
        check.entry(n).or_insert(from);
    }
    for (n, known) in check {
        let seen = observe(p, c, n, &listed, ctx).await;
        let candidates: Vec<Life> = match pending {
            Some((pn, from)) if pn == n => vec![from.seen(), from.next().seen()],
            _ => vec![known.seen()],
        };
        assert!(
            candidates.contains(&seen),
            "{ctx}: crash.d{n} is {seen:?}, expected one of {candidates:?}"
        );
        // Adopt; a table seen absent after its DROP is dropped.
        let adopted = match (seen, pending) {
            (Life::Absent, Some((pn, from))) if pn == n && from != Life::Absent => Life::Dropped,
            (Life::Absent, _) if known == Life::Dropped => Life::Dropped,
            (s, _) => s,
        };
        if adopted == Life::Absent {
            model.ddl.tables.remove(&n);
        } else {
            model.ddl.tables.insert(n, adopted);
        }
        totals.ddl_checked += 1;
    }
}

/// What `crash.d{n}` looks like from outside.
async fn observe(
    p: &Proc,
    c: &reqwest::Client,
    n: u64,
    listed: &BTreeSet<String>,
    ctx: &str,
) -> Life {
    let name = format!("d{n}");
    let life = match send(c, &p.base, &format!("SELECT * FROM crash.{name}")).await {
        Answer::Ok(body) => match rows(&body).len() {
            0 => Life::Created,
            1 => Life::Inserted,
            r => panic!("{ctx}: crash.{name} has {r} rows"),
        },
        Answer::Refused(e) if e.contains("TABLE_NOT_FOUND") => Life::Absent,
        Answer::Refused(e) => panic!("{ctx}: SELECT from crash.{name}: {e}"),
        Answer::Lost => panic!("{ctx}: the server died"),
    };
    assert_eq!(
        listed.contains(&name),
        life != Life::Absent,
        "{ctx}: system.tables and queries disagree about crash.{name}"
    );
    life
}
