//! Both tiers against a model: a seeded random sequence of INSERT, UPDATE
//! and DELETE (single keys and key ranges, new keys and keys already in
//! segments), flushes and compactions on a SHARED table with an integer
//! key, a SHARED table with a text key and a USER table written by two
//! users; after every step every query shape — full scan, key lookup, key
//! range, filter on another column, aggregate, `_seq >` — must equal what a
//! plain in-memory table says.
//!
//! Key ranges of segments sometimes stay apart (new keys after a flush: the
//! segments are read by DataFusion's Parquet scan as they are) and
//! sometimes meet (updates and deletes of flushed keys: those segments are
//! merged under the hot rows), so both paths of a scan and their mix are
//! compared with the same model.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};

const ALICE: (&str, &str) = ("alice", "Alice-pass-123");
const BOB: (&str, &str) = ("bob", "Bob-pass-12345");
const ROOT: (&str, &str) = ("root", ROOT_PASSWORD);

/// A table under test and what it holds, per owner (`""` for SHARED).
struct Table {
    name: &'static str,
    text_key: bool,
    writers: Vec<(&'static str, &'static str)>,
    rows: BTreeMap<(&'static str, i64), (String, i64)>,
    next_fresh: i64,
}

impl Table {
    /// The key `i` as SQL and as the wire shows it.
    fn key_sql(&self, i: i64) -> String {
        if self.text_key {
            format!("'{}'", text_key(i))
        } else {
            i.to_string()
        }
    }

    fn key_wire(&self, i: i64) -> Value {
        if self.text_key {
            json!(text_key(i))
        } else {
            json!(i.to_string())
        }
    }

    fn owner(&self, who: (&'static str, &'static str)) -> &'static str {
        if self.writers.len() > 1 { who.0 } else { "" }
    }

    fn live(&self, owner: &str) -> impl Iterator<Item = (i64, &(String, i64))> {
        self.rows
            .iter()
            .filter(move |((o, _), _)| *o == owner)
            .map(|((_, k), v)| (*k, v))
    }
}

/// Text keys sort as their numbers do (zero-padded).
fn text_key(i: i64) -> String {
    format!("k{i:06}")
}

async fn run_as(server: &TestServer, (user, password): (&str, &str), sql: &str) -> Value {
    let (status, body) = server.sql_as(user, password, sql).await;
    assert_eq!(status, 200, "{sql}: {body}");
    body
}

async fn rows_as(server: &TestServer, who: (&str, &str), sql: &str) -> Vec<Value> {
    run_as(server, who, sql).await["results"][0]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A key range `lo..=hi` as SQL.
fn between(t: &Table, lo: i64, hi: i64) -> String {
    format!("k BETWEEN {} AND {}", t.key_sql(lo), t.key_sql(hi))
}

/// One write step on `t` as `who`; returns what it did.
async fn write(
    server: &TestServer,
    t: &mut Table,
    who: (&'static str, &'static str),
    rng: &mut StdRng,
) -> String {
    let owner = t.owner(who);
    let roll = rng.random_range(0..100);
    let (room, n) = (
        format!("r{}", rng.random_range(0..4)),
        rng.random_range(-50..50),
    );
    if roll < 40 {
        // New keys: mostly past every key so far, sometimes in gaps among
        // flushed ones (their segments then meet the hot rows).
        let count = rng.random_range(1..12);
        let mut keys = Vec::new();
        for _ in 0..count {
            let k = if rng.random_bool(0.7) {
                t.next_fresh += rng.random_range(1..4);
                t.next_fresh
            } else {
                rng.random_range(0..t.next_fresh.max(1))
            };
            if !t.rows.contains_key(&(owner, k)) && !keys.contains(&k) {
                keys.push(k);
            }
        }
        if keys.is_empty() {
            return "nothing".into();
        }
        let values: Vec<String> = keys
            .iter()
            .map(|&k| format!("({}, '{room}', {n})", t.key_sql(k)))
            .collect();
        let sql = format!(
            "INSERT INTO app.{} (k, room, n) VALUES {}",
            t.name,
            values.join(", ")
        );
        run_as(server, who, &sql).await;
        for k in keys {
            t.rows.insert((owner, k), (room.clone(), n));
        }
        return sql;
    }
    let lo = rng.random_range(0..t.next_fresh.max(1));
    let hi = if rng.random_bool(0.5) {
        lo
    } else {
        lo + rng.random_range(0..8)
    };
    let hit: Vec<i64> = t
        .live(owner)
        .map(|(k, _)| k)
        .filter(|k| (lo..=hi).contains(k))
        .collect();
    let sql = if roll < 75 {
        let sql = format!(
            "UPDATE app.{} SET room = '{room}', n = {n} WHERE {}",
            t.name,
            between(t, lo, hi)
        );
        for k in hit {
            t.rows.insert((owner, k), (room.clone(), n));
        }
        sql
    } else {
        for k in hit {
            t.rows.remove(&(owner, k));
        }
        format!("DELETE FROM app.{} WHERE {}", t.name, between(t, lo, hi))
    };
    run_as(server, who, &sql).await;
    sql
}

/// Every query shape on `t` as `who`, against the model.
async fn check(
    server: &TestServer,
    t: &Table,
    who: (&'static str, &'static str),
    rng: &mut StdRng,
    context: &str,
) {
    let owner = t.owner(who);
    let name = t.name;
    let row = |k: i64, (room, n): &(String, i64)| json!([t.key_wire(k), room, n]);
    // Full scan, with `_seq` for the last shape.
    let full = rows_as(
        server,
        who,
        &format!("SELECT k, room, n, _seq FROM app.{name} ORDER BY k"),
    )
    .await;
    let got: Vec<Value> = full.iter().map(|r| json!([r[0], r[1], r[2]])).collect();
    let want: Vec<Value> = t.live(owner).map(|(k, v)| row(k, v)).collect();
    assert_eq!(got, want, "full scan; {context}");

    // Key lookup, present or not.
    let k = rng.random_range(0..t.next_fresh + 2);
    let got = rows_as(
        server,
        who,
        &format!(
            "SELECT k, room, n FROM app.{name} WHERE k = {}",
            t.key_sql(k)
        ),
    )
    .await;
    let want: Vec<Value> = t
        .rows
        .get(&(owner, k))
        .map(|v| row(k, v))
        .into_iter()
        .collect();
    assert_eq!(got, want, "lookup of {k}; {context}");

    // Key range.
    let lo = rng.random_range(0..t.next_fresh + 1);
    let hi = lo + rng.random_range(0..20);
    let got = rows_as(
        server,
        who,
        &format!(
            "SELECT k, room, n FROM app.{name} WHERE k >= {} AND k < {} ORDER BY k",
            t.key_sql(lo),
            t.key_sql(hi)
        ),
    )
    .await;
    let want: Vec<Value> = t
        .live(owner)
        .filter(|(k, _)| (lo..hi).contains(k))
        .map(|(k, v)| row(k, v))
        .collect();
    assert_eq!(got, want, "range {lo}..{hi}; {context}");

    // A filter on another column (pruned by segment statistics).
    let x = rng.random_range(-50..50);
    let got = rows_as(
        server,
        who,
        &format!("SELECT k FROM app.{name} WHERE n > {x} ORDER BY k"),
    )
    .await;
    let want: Vec<Value> = t
        .live(owner)
        .filter(|(_, (_, n))| *n > x)
        .map(|(k, _)| json!([t.key_wire(k)]))
        .collect();
    assert_eq!(got, want, "n > {x}; {context}");

    // An aggregate.
    let got = rows_as(
        server,
        who,
        &format!("SELECT room, count(*), sum(n) FROM app.{name} GROUP BY room ORDER BY room"),
    )
    .await;
    let mut groups: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (_, (room, n)) in t.live(owner) {
        let g = groups.entry(room).or_default();
        g.0 += 1;
        g.1 += n;
    }
    let want: Vec<Value> = groups
        .iter()
        .map(|(room, (c, s))| json!([room, c.to_string(), s.to_string()]))
        .collect();
    assert_eq!(got, want, "GROUP BY room; {context}");

    // `_seq >` a value in the middle: the rows of the full scan above it
    // (segments wholly below it are skipped).
    if let Some(mid) = full.get(full.len() / 2) {
        let seq = mid[3].as_str().unwrap().to_string();
        let got = rows_as(
            server,
            who,
            &format!("SELECT k FROM app.{name} WHERE _seq > {seq} ORDER BY k"),
        )
        .await;
        let want: Vec<Value> = full
            .iter()
            .filter(|r| {
                r[3].as_str().unwrap().parse::<i64>().unwrap() > seq.parse::<i64>().unwrap()
            })
            .map(|r| json!([r[0]]))
            .collect();
        assert_eq!(got, want, "_seq > {seq}; {context}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_writes_flushes_and_compactions_match_a_model_in_every_query_shape() {
    let server = TestServer::start();
    for sql in [
        "CREATE NAMESPACE app",
        "CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user",
        "CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user",
        "CREATE SHARED TABLE app.s (k BIGINT PRIMARY KEY, room TEXT, n INT)",
        "CREATE SHARED TABLE app.x (k TEXT PRIMARY KEY, room TEXT, n INT)",
        "CREATE USER TABLE app.u (k BIGINT PRIMARY KEY, room TEXT, n INT)",
    ] {
        run_as(&server, ROOT, sql).await;
    }
    let table = |name, text_key, writers| Table {
        name,
        text_key,
        writers,
        rows: BTreeMap::new(),
        next_fresh: 0,
    };
    let mut tables = [
        table("s", false, vec![ROOT]),
        table("x", true, vec![ROOT]),
        table("u", false, vec![ALICE, BOB]),
    ];
    let mut rng = StdRng::seed_from_u64(19);
    let mut log: Vec<String> = Vec::new();
    for step in 0..240 {
        let t = &mut tables[rng.random_range(0..3)];
        let who = t.writers[rng.random_range(0..t.writers.len())];
        let roll = rng.random_range(0..100);
        let did = if roll < 80 {
            write(&server, t, who, &mut rng).await
        } else if roll < 93 {
            crate::alter::flush_if_any(&server, &format!("app.{}", t.name)).await;
            format!("flush app.{}", t.name)
        } else {
            let id = crate::alter::app_table(t.name);
            server.engine().compact_now(&id).await.unwrap();
            format!("compact app.{}", t.name)
        };
        log.push(did);
        let tail: Vec<&String> = log.iter().rev().take(6).collect();
        let context = format!("step {step} on app.{}; last steps: {tail:#?}", t.name);
        for &reader in &t.writers {
            check(&server, t, reader, &mut rng, &context).await;
        }
    }
    // The sequence went through both paths: segments read as they are and
    // segments merged under hot rows.
    let stats = rows_as(
        &server,
        ROOT,
        "SELECT metric_name, metric_value FROM system.stats",
    )
    .await;
    let stat = |name: &str| -> u64 {
        stats
            .iter()
            .find(|r| r[0] == name)
            .and_then(|r| r[1].as_str()?.parse().ok())
            .unwrap_or_default()
    };
    assert!(stat("cold_segments_plain") > 100, "{stats:?}");
    assert!(stat("cold_segments_merged") > 100, "{stats:?}");
}

/// Scans racing flushes and compactions: every scan answers, and with
/// every row exactly once. Compaction replaces segments a running scan
/// may still be reading; the scan's lease keeps those files until it is
/// done (a scan never retries, so a deleted file would fail it or, if it
/// retried, repeat rows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_racing_flushes_and_compactions_see_each_row_once() {
    let server = std::sync::Arc::new(TestServer::start());
    run_as(&server, ROOT, "CREATE NAMESPACE app").await;
    run_as(
        &server,
        ROOT,
        "CREATE SHARED TABLE app.r (k BIGINT PRIMARY KEY, n BIGINT)",
    )
    .await;
    const ROWS: i64 = 600;
    for part in 0..6 {
        let values: Vec<String> = (part * 100..(part + 1) * 100)
            .map(|k| format!("({k}, {})", k * 2))
            .collect();
        let sql = format!("INSERT INTO app.r (k, n) VALUES {}", values.join(", "));
        run_as(&server, ROOT, &sql).await;
        crate::alter::flush_if_any(&server, "app.r").await;
    }
    let want: Vec<Value> = (0..ROWS)
        .map(|k| json!([k.to_string(), (k * 2).to_string()]))
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (server, stop, want) = (server.clone(), stop.clone(), want.clone());
            tokio::spawn(async move {
                let mut scans = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || scans == 0 {
                    let got = rows_as(&server, ROOT, "SELECT k, n FROM app.r ORDER BY k").await;
                    assert_eq!(got.len(), want.len(), "scan {scans}");
                    assert_eq!(got, want, "scan {scans}");
                    scans += 1;
                }
                scans
            })
        })
        .collect();
    let table = crate::alter::app_table("r");
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..12 {
        // New versions of some keys, with the same values: the answer
        // stays the same while the segments under it change.
        let lo = rng.random_range(0..ROWS - 50);
        let sql = format!(
            "UPDATE app.r SET n = k * 2 WHERE k BETWEEN {lo} AND {}",
            lo + rng.random_range(0..50)
        );
        run_as(&server, ROOT, &sql).await;
        crate::alter::flush_if_any(&server, "app.r").await;
        server.engine().compact_now(&table).await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }
    assert_eq!(
        rows_as(&server, ROOT, "SELECT k, n FROM app.r ORDER BY k").await,
        want
    );
}

/// A filter that rules a segment out by its statistics leaves it unread:
/// five flushes of disjoint `n` ranges, a query wanting one range reads one
/// segment (`cold_segments_pruned` counts the other four), and answers as
/// over all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_the_filter_rules_out_are_not_read() {
    let server = TestServer::start();
    run_as(&server, ROOT, "CREATE NAMESPACE app").await;
    run_as(
        &server,
        ROOT,
        "CREATE SHARED TABLE app.f (k BIGINT PRIMARY KEY, room TEXT, n INT)",
    )
    .await;
    for part in 0..5i64 {
        let values: Vec<String> = (0..100i64)
            .map(|i| format!("({}, 'room{part}', {})", part * 100 + i, part * 1000 + i))
            .collect();
        let sql = format!(
            "INSERT INTO app.f (k, room, n) VALUES {}",
            values.join(", ")
        );
        run_as(&server, ROOT, &sql).await;
        crate::alter::flush_if_any(&server, "app.f").await;
    }
    let stat = |name: &'static str| {
        let server = &server;
        async move {
            let rows = rows_as(
                server,
                ROOT,
                &format!("SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"),
            )
            .await;
            rows[0][0].as_str().unwrap().parse::<u64>().unwrap()
        }
    };
    for (filter, want) in [
        ("n >= 2000 AND n < 3000", json!([["100", "204950"]])),
        ("room = 'room3'", json!([["100", "304950"]])),
    ] {
        let (pruned, read) = (
            stat("cold_segments_pruned").await,
            stat("cold_rows_read").await,
        );
        let got = rows_as(
            &server,
            ROOT,
            &format!("SELECT count(*), sum(n) FROM app.f WHERE {filter}"),
        )
        .await;
        assert_eq!(Value::Array(got), want, "{filter}");
        assert_eq!(stat("cold_segments_pruned").await - pruned, 4, "{filter}");
        assert_eq!(stat("cold_rows_read").await - read, 100, "{filter}");
    }
}
