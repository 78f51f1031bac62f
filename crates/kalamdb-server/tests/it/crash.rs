//! Crashes inside the flush and compaction protocols (the crash table in
//! docs/storage-format.md): the server binary runs with a failpoint
//! (`KALAMDB_FAILPOINTS`) that SIGKILLs it at one step, is restarted, and
//! must then serve every acknowledged row exactly once, finish the work on
//! the next flush or compaction, and leave no file behind that no manifest
//! lists. Also `KILL JOB` of a flush that is running.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tokio::sync::Notify;

use crate::binary::{PASSWORD, Proc};

/// A BIGINT as the wire sends it (a decimal string).
fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn message(body: &Value) -> String {
    body["results"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn ok(p: &Proc, client: &reqwest::Client, sql: &str) -> Value {
    p.sql(client, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The job id at the end of a "… Job ID: XX-…" answer.
fn job_id(msg: &str) -> String {
    msg.rsplit("Job ID: ")
        .next()
        .filter(|j| j.len() == 15)
        .unwrap_or_else(|| panic!("no job id in {msg:?}"))
        .to_string()
}

async fn job(p: &Proc, client: &reqwest::Client, id: &str, wait: bool) -> Value {
    let wait = if wait { "?wait_ms=30000" } else { "" };
    client
        .get(format!("{}/v1/api/jobs/{id}{wait}", p.base))
        .basic_auth("root", Some(PASSWORD))
        .send()
        .await
        .expect("job request")
        .json()
        .await
        .expect("job json")
}

/// Runs a statement that starts a job and waits for it to complete.
async fn run_job(p: &Proc, client: &reqwest::Client, sql: &str) -> Value {
    let id = job_id(&message(&ok(p, client, sql).await));
    let done = job(p, client, &id, true).await;
    assert_eq!(done["status"], "completed", "{sql}: {done}");
    done
}

/// `id -> v` of every row of app.t.
async fn content(p: &Proc, client: &reqwest::Client) -> BTreeMap<i64, String> {
    let body = ok(p, client, "SELECT id, v FROM app.t ORDER BY id").await;
    let rows = body["results"][0]["rows"].as_array().expect("rows").clone();
    let map: BTreeMap<i64, String> = rows
        .iter()
        .map(|r| (int(&r[0]), r[1].as_str().expect("v").to_string()))
        .collect();
    assert_eq!(map.len(), rows.len(), "a key is served twice");
    map
}

/// The segment files (and anything else) in the table's directory.
fn files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("storage/app/t"))
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits for the process to end and asserts it was SIGKILLed.
async fn killed(mut p: Proc) {
    let status = tokio::task::spawn_blocking(move || {
        let status = p.child.wait().expect("wait");
        (status, p)
    })
    .await
    .expect("join")
    .0;
    assert_eq!(
        status.signal(),
        Some(9),
        "the failpoint did not fire: {status:?}"
    );
}

/// A table with both tiers in play: `flushes` flushes, with updates and
/// deletes of flushed rows and new inserts between them, and hot rows left
/// at the end. Returns its content.
async fn seed(data: &Path, flushes: usize) -> BTreeMap<i64, String> {
    let client = reqwest::Client::new();
    let p = Proc::start(data);
    ok(&p, &client, "CREATE NAMESPACE app").await;
    ok(
        &p,
        &client,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT) \
         WITH (DELETED_RETENTION_HOURS = 0)",
    )
    .await;
    let mut next = 1;
    for round in 0..flushes {
        let values: Vec<String> = (next..next + 200)
            .map(|i| format!("({i}, 'a{i}')"))
            .collect();
        next += 200;
        ok(
            &p,
            &client,
            &format!("INSERT INTO app.t VALUES {}", values.join(", ")),
        )
        .await;
        run_job(&p, &client, "STORAGE FLUSH TABLE app.t").await;
        ok(
            &p,
            &client,
            &format!("UPDATE app.t SET v = 'u{round}' WHERE id % 10 = {round}"),
        )
        .await;
        ok(
            &p,
            &client,
            &format!("DELETE FROM app.t WHERE id % 7 = {round}"),
        )
        .await;
    }
    ok(
        &p,
        &client,
        &format!(
            "INSERT INTO app.t VALUES ({next}, 'hot'), ({}, 'hot')",
            next + 1
        ),
    )
    .await;
    content(&p, &client).await
}

/// Writers that insert ids from `base` up one by one until the server is
/// gone; returns (acknowledged, attempted) ids.
fn spawn_writers(
    p: &Proc,
    writers: usize,
    acks: Arc<AtomicUsize>,
    progress: Arc<Notify>,
) -> Vec<tokio::task::JoinHandle<(Vec<i64>, Vec<i64>)>> {
    (0..writers)
        .map(|w| {
            let base = p.base.clone();
            let (acks, progress) = (acks.clone(), progress.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut acked, mut attempted) = (Vec::new(), Vec::new());
                for i in 0.. {
                    let id = 1_000_000 + (w as i64) * 100_000 + i;
                    attempted.push(id);
                    let sent = client
                        .post(format!("{base}/v1/api/sql"))
                        .basic_auth("root", Some(PASSWORD))
                        .json(&serde_json::json!({
                            "sql": format!("INSERT INTO app.t VALUES ({id}, 'w')")
                        }))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            acked.push(id);
                            acks.fetch_add(1, Ordering::SeqCst);
                            progress.notify_waiters();
                        }
                        _ => break,
                    }
                }
                (acked, attempted)
            })
        })
        .collect()
}

/// Crash during a flush that runs while writers insert: after a restart the
/// seeded content and every acknowledged insert are there exactly once.
async fn crash_during_flush(failpoint: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = seed(dir.path(), 1).await;
    let files_before = files(dir.path());
    let client = reqwest::Client::new();

    let p = Proc::start_with_env(dir.path(), &[("KALAMDB_FAILPOINTS", failpoint)]);
    let acks = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let writers = spawn_writers(&p, 4, acks.clone(), progress.clone());
    while acks.load(Ordering::SeqCst) < 40 {
        let more = progress.notified();
        if acks.load(Ordering::SeqCst) >= 40 {
            break;
        }
        more.await;
    }
    // The answer may or may not make it out before the kill.
    let _ = p.sql(&client, "STORAGE FLUSH TABLE app.t").await;
    killed(p).await;
    let mut acked = Vec::new();
    let mut attempted = Vec::new();
    for w in writers {
        let (a, t) = w.await.unwrap();
        acked.extend(a);
        attempted.extend(t);
    }

    let p = Proc::start(dir.path());
    let got = content(&p, &client).await;
    for id in &acked {
        assert_eq!(
            got.get(id).map(String::as_str),
            Some("w"),
            "acknowledged {id} lost"
        );
    }
    for (id, v) in &got {
        if *id >= 1_000_000 {
            assert!(attempted.contains(id), "{id} was never sent");
            expected.insert(*id, v.clone());
        }
    }
    assert_eq!(got, expected, "{failpoint}: the seeded rows changed");
    // The interrupted job is recorded as such.
    let failed = ok(
        &p,
        &client,
        "SELECT message FROM system.jobs WHERE job_type = 'flush' AND status = 'failed'",
    )
    .await;
    assert_eq!(
        failed["results"][0]["rows"],
        serde_json::json!([["Interrupted by a server restart"]]),
        "{failpoint}"
    );
    // The next flush and compaction finish the work; what the crash left
    // unlisted is swept, and the content never changes.
    let flush = message(&ok(&p, &client, "STORAGE FLUSH TABLE app.t").await);
    if !flush.starts_with("Storage flush skipped: no pending writes") {
        let done = job(&p, &client, &job_id(&flush), true).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    assert_eq!(
        content(&p, &client).await,
        expected,
        "{failpoint}: after the flush"
    );
    run_job(&p, &client, "STORAGE COMPACT TABLE app.t").await;
    assert_eq!(
        content(&p, &client).await,
        expected,
        "{failpoint}: after compaction"
    );
    let left = files(dir.path());
    assert_eq!(left.len(), 1, "{failpoint}: {files_before:?} then {left:?}");
    let count = ok(&p, &client, "SELECT count(*) FROM app.t").await;
    assert_eq!(
        int(&count["results"][0]["rows"][0][0]),
        expected.len() as i64
    );
}

#[tokio::test]
async fn crash_after_the_flush_wrote_its_file_loses_nothing() {
    crash_during_flush("flush-after-write").await;
}

#[tokio::test]
async fn crash_after_the_flush_committed_loses_nothing() {
    crash_during_flush("flush-after-commit").await;
}

/// Crash during a compaction of three segments: the content is unchanged
/// after the restart, the files the crash left are as the crash table says,
/// and the next compaction removes them.
async fn crash_during_compaction(failpoint: &str, files_after_crash: usize, orphans: &str) {
    let dir = tempfile::tempdir().unwrap();
    let expected = seed(dir.path(), 3).await;
    assert_eq!(files(dir.path()).len(), 3);
    let client = reqwest::Client::new();

    let p = Proc::start_with_env(dir.path(), &[("KALAMDB_FAILPOINTS", failpoint)]);
    let _ = p.sql(&client, "STORAGE COMPACT TABLE app.t").await;
    killed(p).await;

    let p = Proc::start(dir.path());
    assert_eq!(content(&p, &client).await, expected, "{failpoint}");
    assert_eq!(files(dir.path()).len(), files_after_crash, "{failpoint}");
    let done = run_job(&p, &client, "STORAGE COMPACT TABLE app.t").await;
    let msg = done["message"].as_str().unwrap_or_default();
    assert!(msg.ends_with(orphans), "{failpoint}: {msg}");
    assert_eq!(
        content(&p, &client).await,
        expected,
        "{failpoint}: after compaction"
    );
    assert_eq!(files(dir.path()).len(), 1, "{failpoint}");
}

#[tokio::test]
async fn crash_after_the_compaction_wrote_its_file_loses_nothing() {
    // Three listed inputs and the unlisted output.
    crash_during_compaction("compact-after-write", 4, "; 1 orphaned file(s) removed").await;
}

#[tokio::test]
async fn crash_after_the_compaction_committed_loses_nothing() {
    // The listed output and three unlisted inputs.
    crash_during_compaction("compact-after-commit", 4, "; 3 orphaned file(s) removed").await;
}

/// The job's status once it has left `queued` (which it does as soon as a
/// job slot is free: at once here).
async fn running(p: &Proc, client: &reqwest::Client, id: &str) -> String {
    let mut status = String::new();
    for _ in 0..10_000 {
        status = job(p, client, id, false).await["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status != "queued" {
            break;
        }
        tokio::task::yield_now().await;
    }
    status
}

/// DROP TABLE cancels the table's running flush or compaction and waits
/// for it to stop: no file is written after the drop, and the name is free
/// again with nothing of the old table.
async fn drop_table_cancels_its_running_job(failpoint: &str, start: &str) {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    // The failpoint holds the job, running, until it is cancelled.
    let p = Proc::start_with_env(dir.path(), &[("KALAMDB_FAILPOINTS", failpoint)]);
    ok(&p, &client, "CREATE NAMESPACE app").await;
    ok(
        &p,
        &client,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await;
    for i in 0..2 {
        ok(&p, &client, &format!("INSERT INTO app.t VALUES ({i}, 'a')")).await;
        if start.contains("COMPACT") {
            run_job(&p, &client, "STORAGE FLUSH TABLE app.t").await;
        }
    }
    let id = job_id(&message(&ok(&p, &client, start).await));
    assert_eq!(running(&p, &client, &id).await, "running", "{start}");
    let dropped = message(&ok(&p, &client, "DROP TABLE app.t").await);
    assert!(
        dropped.starts_with("Table app.t dropped successfully"),
        "{dropped}"
    );
    let done = job(&p, &client, &id, true).await;
    assert_eq!(done["status"], "cancelled", "{start}: {done}");
    assert!(files(dir.path()).is_empty(), "{start}");
    ok(
        &p,
        &client,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await;
    assert!(content(&p, &client).await.is_empty());
}

#[tokio::test]
async fn drop_table_cancels_its_running_flush() {
    drop_table_cancels_its_running_job("flush-pause", "STORAGE FLUSH TABLE app.t").await;
}

#[tokio::test]
async fn drop_table_cancels_its_running_compaction() {
    drop_table_cancels_its_running_job("compact-pause", "STORAGE COMPACT TABLE app.t").await;
}

/// `KILL JOB` of a running flush: the job ends `cancelled`, the rows stay
/// hot and readable, no file is left, and the job cannot be killed twice.
#[tokio::test]
async fn kill_job_cancels_a_running_flush() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    // The failpoint holds the flush, running, until it is cancelled.
    let p = Proc::start_with_env(dir.path(), &[("KALAMDB_FAILPOINTS", "flush-pause")]);
    ok(&p, &client, "CREATE NAMESPACE app").await;
    ok(
        &p,
        &client,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await;
    ok(
        &p,
        &client,
        "INSERT INTO app.t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    .await;
    let id = job_id(&message(
        &ok(&p, &client, "STORAGE FLUSH TABLE app.t").await,
    ));
    assert_eq!(running(&p, &client, &id).await, "running");
    // A second flush of the table is refused while this one runs.
    assert_eq!(
        message(&ok(&p, &client, "STORAGE FLUSH TABLE app.t").await),
        "Storage flush skipped: a flush is already queued or running for table 'app.t'"
    );

    let killed = ok(&p, &client, &format!("KILL JOB '{id}'")).await;
    assert_eq!(message(&killed), format!("Job {id} killed: cancelled"));
    let done = job(&p, &client, &id, true).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["message"], "cancelled");
    assert_eq!(content(&p, &client).await.len(), 3);
    assert!(files(dir.path()).is_empty());
    let again = p
        .sql(&client, &format!("KILL JOB '{id}'"))
        .await
        .unwrap_err();
    assert!(
        again.contains(&format!("Job '{id}' already cancelled")),
        "{again}"
    );
    let unknown = p
        .sql(&client, "KILL JOB 'FL-000000000000'")
        .await
        .unwrap_err();
    assert!(
        unknown.contains("Job 'FL-000000000000' not found"),
        "{unknown}"
    );
}
