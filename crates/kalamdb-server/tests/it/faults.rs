//! I/O faults (issue 8, part 2), seen from a client: a write or fsync that
//! fails (injected through `kalamdb_store::FaultyStore`, or a real full
//! disk on a small tmpfs) is never acknowledged and makes the server refuse
//! every later write until a restart, while reads keep working; damaged
//! Parquet segments, manifests and WAL tails give clear errors or a clean
//! recovery, never a panic or wrong rows. The rules are in
//! docs/storage-format.md, "Failures of the disk".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kalamdb_store::{
    Fault, FaultSwitch, FaultyStore, HotStore, MetaKey, Partition, Space, WriteOp,
};
use kalamdb_types::{NamespaceId, TableId, TableName};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::binary::{PASSWORD, Proc};
use crate::common::{ROOT_PASSWORD, TestServer};

const DORA_PASSWORD: &str = "Dora-passw0rd-1";

/// What the write that failed answers (root sees the cause).
fn failed_write(cause: &str) -> String {
    format!(
        "Internal error: Storage unavailable: the write failed (storage write failed: {cause}); \
         writes are refused until the server restarts"
    )
}

/// What every write after it answers.
fn refused_write(cause: &str) -> String {
    format!(
        "Internal error: Storage unavailable: writes are refused after a failed write \
         (storage write failed: {cause}); restart the server"
    )
}

/// A server whose hot store fails when the returned switch says so.
fn faulty_server(data: Arc<TempDir>) -> (TestServer, FaultSwitch) {
    let switch = FaultSwitch::new();
    let handle = switch.clone();
    let server = TestServer::start_with_store_wrapper(
        data,
        |_| {},
        Box::new(move |inner| Arc::new(FaultyStore::new(inner, handle)) as Arc<dyn HotStore>),
    );
    (server, switch)
}

/// Asserts the `INTERNAL_ERROR` envelope (HTTP 500); returns its message.
fn internal_error(status: u16, body: &Value) -> String {
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["results"], json!([]), "{body}");
    assert_eq!(body["error"]["code"], "INTERNAL_ERROR", "{body}");
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

/// A BIGINT as the wire sends it (a decimal string).
fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// `id -> v` of every row of `table`, asserting no key is served twice.
async fn content(server: &TestServer, table: &str) -> BTreeMap<i64, String> {
    let rows = server
        .rows(&format!("SELECT id, v FROM {table} ORDER BY id"))
        .await;
    let map: BTreeMap<i64, String> = rows
        .iter()
        .map(|r| (int(&r[0]), r[1].as_str().expect("v").to_string()))
        .collect();
    assert_eq!(map.len(), rows.len(), "a key of {table} is served twice");
    map
}

async fn stat(server: &TestServer, name: &str) -> String {
    let rows = server
        .rows(&format!(
            "SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"
        ))
        .await;
    rows[0][0].as_str().expect("metric").to_string()
}

/// Starts a job with `sql` (as root) and returns its id.
async fn start_job(server: &TestServer, sql: &str) -> String {
    let body = server.sql(sql).await;
    let msg = body["results"][0]["message"].as_str().unwrap_or_default();
    let id = msg
        .rsplit("Job ID: ")
        .next()
        .filter(|j| j.len() == 15)
        .unwrap_or_else(|| panic!("no job id in {msg:?}"));
    id.to_string()
}

/// The job once it has finished.
async fn finished_job(server: &TestServer, id: &str) -> Value {
    let body: Value = server
        .client
        .get(server.url(&format!("/v1/api/jobs/{id}?wait_ms=30000")))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .send()
        .await
        .expect("job request")
        .json()
        .await
        .expect("job json");
    assert!(
        ["completed", "failed"].contains(&body["status"].as_str().unwrap_or_default()),
        "{body}"
    );
    body
}

/// The segment files in the directory of shared table `app.<table>`.
fn segments(data: &Path, table: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("storage/app").join(table))
        .map(|d| {
            d.map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn values(ids: impl Iterator<Item = i64>, v: impl Fn(i64) -> String) -> String {
    ids.map(|i| format!("({i}, '{}')", v(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn login_status(server: &TestServer, user: &str, password: &str) -> u16 {
    server
        .client
        .post(server.url("/v1/api/auth/login"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

async fn health_status(client: &reqwest::Client, url: String) -> u16 {
    client
        .get(url)
        .send()
        .await
        .expect("health")
        .status()
        .as_u16()
}

// ------------------------------------------------- injected write failures

/// The dangerous case: the fsync fails after the batch reached the store.
/// The write is not acknowledged, nothing is written after it even once the
/// device "works" again, reads and logins keep working, and a restart
/// brings every acknowledged row back and takes writes again.
#[tokio::test]
async fn a_failed_fsync_refuses_every_later_write_until_a_restart() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let (server, switch) = faulty_server(data.clone());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql("CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql(&format!(
            "CREATE USER dora WITH PASSWORD '{DORA_PASSWORD}' ROLE user"
        ))
        .await;
    let mut acked = BTreeMap::new();
    for i in 1..=20 {
        server
            .sql(&format!("INSERT INTO app.t VALUES ({i}, 'v{i}')"))
            .await;
        acked.insert(i, format!("v{i}"));
    }
    let (status, body) = server
        .sql_as(
            "dora",
            DORA_PASSWORD,
            "INSERT INTO app.notes VALUES (1, 'mine')",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stat(&server, "storage_write_failed").await, "0");

    switch.fail_sync();
    let (status, body) = server
        .sql_as(
            "root",
            ROOT_PASSWORD,
            "INSERT INTO app.t VALUES (21, 'unsure')",
        )
        .await;
    assert_eq!(
        internal_error(status, &body),
        failed_write("injected fsync failure")
    );

    // A later fsync that succeeds proves nothing about the lost one.
    switch.heal();
    let attempts = switch.writes_attempted();
    for sql in [
        "INSERT INTO app.t VALUES (22, 'late')",
        "UPDATE app.t SET v = 'changed' WHERE id = 1",
        "DELETE FROM app.t WHERE id = 2",
        "CREATE SHARED TABLE app.u (id BIGINT PRIMARY KEY)",
        "CREATE NAMESPACE other",
        "ALTER USER dora SET EMAIL 'dora@example.com'",
        "STORAGE FLUSH TABLE app.t",
    ] {
        let (status, body) = server.sql_as("root", ROOT_PASSWORD, sql).await;
        assert_eq!(
            internal_error(status, &body),
            refused_write("injected fsync failure"),
            "{sql}"
        );
    }
    // A user is not told the details (wire-protocol.md §4).
    let (status, body) = server
        .sql_as(
            "dora",
            DORA_PASSWORD,
            "INSERT INTO app.notes VALUES (2, 'lost')",
        )
        .await;
    assert_eq!(internal_error(status, &body), "Internal server error");
    assert_eq!(
        switch.writes_attempted(),
        attempts,
        "a refused write reached the store"
    );

    // Reads, logins, health and the operator's view keep working.
    let got = content(&server, "app.t").await;
    for (id, v) in &acked {
        assert_eq!(got.get(id), Some(v), "acknowledged row {id}");
    }
    assert!(!got.contains_key(&22));
    assert!(got.get(&21).is_none_or(|v| v == "unsure"), "{got:?}");
    let (status, body) = server
        .sql_as("dora", DORA_PASSWORD, "SELECT id, v FROM app.notes")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["rows"], json!([["1", "mine"]]));
    assert_eq!(login_status(&server, "dora", DORA_PASSWORD).await, 200);
    assert_eq!(login_status(&server, "dora", "wrong-Passw0rd").await, 401);
    assert_eq!(
        health_status(&server.client, server.url("/health")).await,
        200
    );
    assert_eq!(stat(&server, "storage_write_failed").await, "1");
    assert!(server.engine().storage_failed());

    // The restart replays the WAL: every acknowledged row, and the unsure
    // one whole if at all.
    let server = server.restart();
    let got = content(&server, "app.t").await;
    for (id, v) in &acked {
        assert_eq!(got.get(id), Some(v), "acknowledged row {id} after restart");
    }
    assert!(got.get(&21).is_none_or(|v| v == "unsure"), "{got:?}");
    assert_eq!(got.len(), acked.len() + usize::from(got.contains_key(&21)));
    assert_eq!(stat(&server, "storage_write_failed").await, "0");
    server.sql("INSERT INTO app.t VALUES (22, 'late')").await;
    server
        .sql("UPDATE app.t SET v = 'changed' WHERE id = 1")
        .await;
    server
        .sql("CREATE SHARED TABLE app.u (id BIGINT PRIMARY KEY)")
        .await;
    let (status, body) = server
        .sql_as(
            "dora",
            DORA_PASSWORD,
            "INSERT INTO app.notes VALUES (2, 'now')",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = content(&server, "app.t").await;
    assert_eq!(got.get(&1).map(String::as_str), Some("changed"));
    assert_eq!(got.get(&22).map(String::as_str), Some("late"));
}

/// A write that fails outright applies none of a multi-row INSERT.
#[tokio::test]
async fn a_failed_write_applies_no_row_of_its_insert() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let (server, switch) = faulty_server(data.clone());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql(&format!(
            "INSERT INTO app.t VALUES {}",
            values(1..=5, |i| format!("v{i}"))
        ))
        .await;
    let before = content(&server, "app.t").await;

    switch.fail_writes();
    let insert = format!(
        "INSERT INTO app.t VALUES {}",
        values(6..=105, |i| format!("v{i}"))
    );
    let (status, body) = server.sql_as("root", ROOT_PASSWORD, &insert).await;
    assert_eq!(
        internal_error(status, &body),
        failed_write("injected write failure")
    );
    assert_eq!(switch.writes_failed(), 1);
    assert_eq!(content(&server, "app.t").await, before);

    let server = server.restart();
    assert_eq!(content(&server, "app.t").await, before);
    server.sql(&insert).await;
    assert_eq!(content(&server, "app.t").await.len(), 105);
}

/// A flush whose commit (manifest + deletion of the flushed hot rows)
/// fails: the job fails with the storage error, no row is lost or served
/// twice — with a failed fsync the commit may have reached the store, so
/// the segment file must stay — and after a restart the table is whole
/// and flushes again.
async fn flush_whose_commit_fails(fault: Fault) {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let (server, switch) = faulty_server(data.clone());
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql(&format!(
            "INSERT INTO app.t VALUES {}",
            values(1..=300, |i| format!("v{i}"))
        ))
        .await;
    let before = content(&server, "app.t").await;

    // Only a flush's commit deletes hot rows here.
    switch.fail_when(fault, |batch| {
        batch.ops().iter().any(|op| {
            matches!(
                op,
                WriteOp::Delete {
                    space: Space::Rows,
                    ..
                }
            )
        })
    });
    let id = start_job(&server, "STORAGE FLUSH TABLE app.t").await;
    let job = finished_job(&server, &id).await;
    assert_eq!(job["status"], "failed", "{fault:?}: {job}");
    assert_eq!(
        job["message"], "Failed after 1 attempt(s)",
        "no retry once storage refuses writes: {job}"
    );
    let cause = match fault {
        Fault::Write => "injected write failure",
        Fault::Sync => "injected fsync failure",
    };
    assert_eq!(job["exception_trace"], failed_write(cause), "{job}");
    let jobs = server
        .rows(&format!(
            "SELECT status FROM system.jobs WHERE job_id = '{id}'"
        ))
        .await;
    assert_eq!(jobs, vec![json!(["failed"])]);
    assert_eq!(switch.writes_failed(), 1);
    assert_eq!(
        content(&server, "app.t").await,
        before,
        "{fault:?}: before the restart"
    );
    assert_eq!(segments(data.path(), "t").len(), 1, "the file is kept");

    let server = server.restart();
    assert_eq!(
        content(&server, "app.t").await,
        before,
        "{fault:?}: after the restart"
    );
    let body = server.sql("STORAGE FLUSH TABLE app.t").await;
    let msg = body["results"][0]["message"].as_str().unwrap_or_default();
    match fault {
        // Nothing reached the store: the rows are all still hot.
        Fault::Write => {
            let id = msg.rsplit("Job ID: ").next().unwrap_or_default();
            let job = finished_job(&server, id).await;
            assert_eq!(job["status"], "completed", "{job}");
            assert_eq!(
                job["message"]
                    .as_str()
                    .map(|m| m.starts_with("Flushed 300 rows")),
                Some(true),
                "{job}"
            );
        }
        // The commit was applied and replayed: the rows are in the segment.
        Fault::Sync => assert!(
            msg.starts_with("Storage flush skipped: no pending writes"),
            "{msg}"
        ),
    }
    assert_eq!(content(&server, "app.t").await, before, "{fault:?}");
    let count = server.rows("SELECT count(*) FROM app.t").await;
    assert_eq!(int(&count[0][0]), 300);
}

#[tokio::test]
async fn a_flush_whose_commit_write_fails_loses_nothing() {
    flush_whose_commit_fails(Fault::Write).await;
}

#[tokio::test]
async fn a_flush_whose_commit_fsync_fails_loses_nothing() {
    flush_whose_commit_fails(Fault::Sync).await;
}

// ---------------------------------------------------------------- full disk

/// A tmpfs mounted for one test, lazily unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"48m"`) on `path`; `Err` says why
    /// not (not root, no mount(8)).
    fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs(path.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

macro_rules! tmpfs_or_skip {
    ($path:expr, $size:expr) => {
        match Tmpfs::mount($path, $size) {
            Ok(fs) => fs,
            Err(why) => {
                println!("skipped: cannot mount a tmpfs ({why}); CI runs this as root");
                return;
            }
        }
    };
}

/// Fills the filesystem of `dir` with one file until it is full.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).expect("ballast");
    let chunk = vec![0xA5u8; 64 * 1024];
    let mut pending: &[u8] = &chunk;
    loop {
        match file.write(pending) {
            Ok(0) => break,
            Ok(n) => {
                pending = pending.get(n..).unwrap_or_default();
                if pending.is_empty() {
                    pending = &chunk;
                }
            }
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
    let _ = file.sync_all();
    path
}

/// POST /v1/api/sql to a server process as root: (status, body).
async fn proc_sql(client: &reqwest::Client, p: &Proc, sql: &str) -> (u16, Value) {
    let resp = client
        .post(format!("{}/v1/api/sql", p.base))
        .basic_auth("root", Some(PASSWORD))
        .json(&json!({ "sql": sql }))
        .send()
        .await
        .expect("the server answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON body"))
}

/// Text that does not compress: the WAL and segments hold it at full size.
fn noise(seed: i64, len: usize) -> String {
    let mut x = seed as u64 ^ 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

/// The hot store's disk fills up under inserts: the insert that hits it is
/// answered with a clear `INTERNAL_ERROR` naming the cause, every later
/// write is refused, every acknowledged row stays readable, and the server
/// stays up. Once the disk has room again, a restart (after a SIGKILL: the
/// failed append may have left a partial WAL record) serves every
/// acknowledged row, none of the failed INSERT's, and takes writes.
#[tokio::test]
async fn a_full_disk_refuses_writes_and_keeps_serving_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Below RocksDB's WAL preallocation (1.1 × the 64 MiB write buffer),
    // which tmpfs then refuses, so the WAL grows by its appends and hits
    // the limit itself; the memtable never fills, so no SST is written.
    let _fs = tmpfs_or_skip!(&data, "32m");
    let client = reqwest::Client::new();
    let mut p = Proc::start(&data);
    for sql in [
        "CREATE NAMESPACE app",
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    ] {
        let (status, body) = proc_sql(&client, &p, sql).await;
        assert_eq!(status, 200, "{sql}: {body}");
    }

    const ROWS: i64 = 50;
    let mut acked = 0i64;
    let failure = loop {
        assert!(acked < 100_000, "32 MiB never filled up");
        let sql = format!(
            "INSERT INTO app.t VALUES {}",
            values(acked + 1..=acked + ROWS, |i| noise(i, 2000))
        );
        let (status, body) = proc_sql(&client, &p, &sql).await;
        if status == 200 {
            acked += ROWS;
        } else {
            break (status, body);
        }
    };
    let msg = internal_error(failure.0, &failure.1);
    assert!(
        msg.starts_with("Internal error: Storage unavailable: the write failed (")
            && msg.contains("No space left on device"),
        "{msg}"
    );
    println!("disk full after {acked} rows: {msg}");
    let (status, body) = proc_sql(&client, &p, "INSERT INTO app.t VALUES (0, 'late')").await;
    let msg = internal_error(status, &body);
    assert!(
        msg.starts_with(
            "Internal error: Storage unavailable: writes are refused after a failed write ("
        ) && msg.contains("No space left on device"),
        "{msg}"
    );

    let (status, body) = proc_sql(&client, &p, "SELECT id, v FROM app.t ORDER BY id").await;
    assert_eq!(status, 200, "{body}");
    let rows = body["results"][0]["rows"].as_array().expect("rows");
    assert_eq!(rows.len() as i64, acked);
    for (row, id) in rows.iter().zip(1..) {
        assert_eq!(int(&row[0]), id);
        assert_eq!(row[1].as_str(), Some(noise(id, 2000).as_str()), "row {id}");
    }
    let (status, body) = proc_sql(
        &client,
        &p,
        "SELECT metric_value FROM system.stats WHERE metric_name = 'storage_write_failed'",
    )
    .await;
    assert_eq!(
        (status, &body["results"][0]["rows"]),
        (200, &json!([["1"]]))
    );
    assert_eq!(
        health_status(&client, format!("{}/health", p.base)).await,
        200
    );
    assert!(
        p.child.try_wait().expect("wait").is_none(),
        "the server exited"
    );

    p.child.kill().unwrap();
    p.child.wait().unwrap();
    let grown = Command::new("mount")
        .args(["-o", "remount,size=96m"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(grown.success());
    let p = Proc::start(&data);
    let (status, body) = proc_sql(&client, &p, "SELECT id, v FROM app.t ORDER BY id").await;
    assert_eq!(status, 200, "{body}");
    let rows = body["results"][0]["rows"].as_array().expect("rows");
    // The failed INSERT is there whole or not at all.
    assert!(
        [acked, acked + ROWS].contains(&(rows.len() as i64)),
        "{} rows after {acked} acknowledged",
        rows.len()
    );
    for (row, id) in rows.iter().zip(1..) {
        assert_eq!(int(&row[0]), id);
        assert_eq!(row[1].as_str(), Some(noise(id, 2000).as_str()), "row {id}");
    }
    let (status, body) = proc_sql(&client, &p, "INSERT INTO app.t VALUES (0, 'late')").await;
    assert_eq!(status, 200, "{body}");
}

/// The storage a flush writes to is full: the job fails with the cause,
/// no hot row is lost, and once there is room the next flush moves them.
#[tokio::test]
async fn a_flush_into_a_full_storage_fails_and_keeps_the_rows_hot() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    let storage = data.path().join("storage");
    let fs = tmpfs_or_skip!(&storage, "2m");
    let server = TestServer::start_with(data.clone(), |_| {});
    server.sql("CREATE NAMESPACE app").await;
    server
        .sql("CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql(&format!(
            "INSERT INTO app.t VALUES {}",
            values(1..=500, |i| noise(i, 100))
        ))
        .await;
    let before = content(&server, "app.t").await;
    let ballast = fill(&storage);

    let id = start_job(&server, "STORAGE FLUSH TABLE app.t").await;
    let job = finished_job(&server, &id).await;
    assert_eq!(job["status"], "failed", "{job}");
    let trace = job["exception_trace"].as_str().unwrap_or_default();
    assert!(trace.contains("No space left on device"), "{job}");
    println!("flush into a full storage: {job}");
    assert_eq!(content(&server, "app.t").await, before);
    assert!(segments(data.path(), "t").is_empty());
    // The hot store is fine: writes go on.
    assert_eq!(stat(&server, "storage_write_failed").await, "0");
    server.sql("INSERT INTO app.t VALUES (501, 'more')").await;

    std::fs::remove_file(&ballast).unwrap();
    let id = start_job(&server, "STORAGE FLUSH TABLE app.t").await;
    let job = finished_job(&server, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let mut after = before.clone();
    after.insert(501, "more".into());
    assert_eq!(content(&server, "app.t").await, after);
    assert_eq!(segments(data.path(), "t").len(), 1);
    drop(server);
    drop(fs);
}

// ------------------------------------------------- damaged Parquet segments

/// Ways a segment file gets damaged.
#[derive(Debug, Clone, Copy)]
enum Damage {
    TruncatedToHalf,
    Empty,
    BytesFlippedInTheMiddle,
    FooterMagicOverwritten,
}

fn damage(path: &Path, how: Damage) {
    let mut bytes = std::fs::read(path).unwrap();
    let len = bytes.len();
    match how {
        Damage::TruncatedToHalf => bytes.truncate(len / 2),
        Damage::Empty => bytes.clear(),
        Damage::BytesFlippedInTheMiddle => {
            for b in &mut bytes[len / 2 - 8..len / 2 + 8] {
                *b ^= 0x5A;
            }
        }
        Damage::FooterMagicOverwritten => bytes[len - 4..].copy_from_slice(b"XXXX"),
    }
    std::fs::write(path, bytes).unwrap();
}

/// Reads `app.<table>` (whose one segment is damaged) three ways: each
/// must answer a clear `INTERNAL_ERROR` naming the file, or exactly the
/// right rows (when the damage missed what the read needs).
async fn reads_of_a_damaged_table(
    server: &TestServer,
    table: &str,
    want: &BTreeMap<i64, String>,
    how: Damage,
) {
    for sql in [
        format!("SELECT id, v FROM app.{table} ORDER BY id"),
        format!("SELECT id, v FROM app.{table} WHERE id = 1000"),
        format!("SELECT count(*) FROM app.{table}"),
    ] {
        let (status, body) = server.sql_as("root", ROOT_PASSWORD, &sql).await;
        if status != 200 {
            let msg = internal_error(status, &body);
            assert!(
                msg.starts_with("Internal error: cold storage: Segment 'app/")
                    && msg.contains(".parquet' in storage 'local' is unreadable: "),
                "{how:?}: {sql}: {msg}"
            );
            println!("{how:?}: {sql} -> {msg}");
            continue;
        }
        let rows = body["results"][0]["rows"].as_array().expect("rows");
        let got: Vec<(i64, Value)> = rows
            .iter()
            .map(|r| (int(&r[0]), r.get(1).cloned().unwrap_or(Value::Null)))
            .collect();
        let right: Vec<(i64, Value)> = if sql.contains("count") {
            vec![(want.len() as i64, Value::Null)]
        } else if sql.contains("WHERE") {
            vec![(1000, json!(want[&1000]))]
        } else {
            want.iter().map(|(k, v)| (*k, json!(v))).collect()
        };
        let wrong: Vec<_> = got
            .iter()
            .zip(&right)
            .filter(|(g, r)| g != r)
            .map(|(g, _)| g.0)
            .collect();
        assert!(
            got.len() == right.len() && wrong.is_empty(),
            "{how:?}: {sql} answered wrong rows: {} rows for {}, {} differ (ids {:?}…)",
            got.len(),
            right.len(),
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
        println!("{how:?}: {sql} -> the right rows");
    }
}

/// A server with one flushed SHARED table `app.t` of 2000 rows per
/// damage, its segment damaged before anything read it (so no footer is
/// cached), and a healthy table `app.healthy` (cold and hot rows).
async fn damaged_tables(all: &[Damage]) -> (TestServer, Vec<BTreeMap<i64, String>>) {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    let mut expected = Vec::new();
    for n in 0..all.len() {
        let table = format!("t{n}");
        server
            .sql(&format!(
                "CREATE SHARED TABLE app.{table} (id BIGINT PRIMARY KEY, v TEXT)"
            ))
            .await;
        server
            .sql(&format!(
                "INSERT INTO app.{table} VALUES {}",
                values(1..=2000, |i| format!("{table}-{i}-{}", noise(i, 20)))
            ))
            .await;
        expected.push(content(&server, &format!("app.{table}")).await);
        let id = start_job(&server, &format!("STORAGE FLUSH TABLE app.{table}")).await;
        assert_eq!(finished_job(&server, &id).await["status"], "completed");
    }
    server
        .sql("CREATE SHARED TABLE app.healthy (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    server
        .sql("INSERT INTO app.healthy VALUES (1, 'one'), (2, 'two')")
        .await;
    let id = start_job(&server, "STORAGE FLUSH TABLE app.healthy").await;
    assert_eq!(finished_job(&server, &id).await["status"], "completed");
    server
        .sql("INSERT INTO app.healthy VALUES (3, 'three')")
        .await;
    for (n, how) in all.iter().enumerate() {
        let files = segments(server.data_path(), &format!("t{n}"));
        assert_eq!(files.len(), 1);
        damage(&files[0], *how);
    }
    (server, expected)
}

/// A truncated, emptied or footer-less segment makes reads of its table
/// fail with a clear `INTERNAL_ERROR` naming the file — never a panic,
/// never wrong rows — while other tables, writes and the server carry on.
#[tokio::test]
async fn damaged_segments_give_clear_errors_never_wrong_rows() {
    let all = [
        Damage::TruncatedToHalf,
        Damage::Empty,
        Damage::FooterMagicOverwritten,
    ];
    let (server, expected) = damaged_tables(&all).await;
    for (n, how) in all.iter().enumerate() {
        reads_of_a_damaged_table(&server, &format!("t{n}"), &expected[n], *how).await;
    }
    assert_eq!(content(&server, "app.healthy").await.len(), 3);
    server
        .sql("INSERT INTO app.healthy VALUES (4, 'four')")
        .await;
    assert_eq!(content(&server, "app.healthy").await.len(), 4);
    assert_eq!(
        health_status(&server.client, server.url("/health")).await,
        200
    );
}

/// Bytes flipped inside a segment's data pages. Parquet pages as written
/// carry no checksum (the `parquet` crate's writer leaves `crc` unset) and
/// zstd frames none either, so a flip in a compressed text page can decode
/// to different text. Segments carry block checksums (format 5,
/// `kalamdb-cold`'s `checksum.rs`): the damaged block is refused before
/// the decoder sees it, so every read that needs it is a clear error.
#[tokio::test]
async fn flipped_bytes_inside_a_segment_never_give_wrong_rows() {
    let (server, expected) = damaged_tables(&[Damage::BytesFlippedInTheMiddle]).await;
    reads_of_a_damaged_table(&server, "t0", &expected[0], Damage::BytesFlippedInTheMiddle).await;
    // A full scan needs every data block: it must notice.
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, "SELECT id, v FROM app.t0")
        .await;
    let msg = internal_error(status, &body);
    assert!(msg.ends_with(" fail their checksum"), "{msg}");
    assert_eq!(content(&server, "app.healthy").await.len(), 3);
}

/// The manifest (a record in the hot store) damaged or gone: a damaged one
/// is a clear error for its table only; a missing one hides the flushed
/// rows (the manifest is the source of truth for the cold tier; see the
/// storage format doc) without disturbing anything else.
#[tokio::test]
async fn a_damaged_manifest_is_a_clear_error_for_its_table_only() {
    let server = TestServer::start();
    server.sql("CREATE NAMESPACE app").await;
    for table in ["bad", "gone", "fine"] {
        server
            .sql(&format!(
                "CREATE SHARED TABLE app.{table} (id BIGINT PRIMARY KEY, v TEXT)"
            ))
            .await;
        server
            .sql(&format!(
                "INSERT INTO app.{table} VALUES (1, 'cold'), (2, 'cold')"
            ))
            .await;
        let id = start_job(&server, &format!("STORAGE FLUSH TABLE app.{table}")).await;
        assert_eq!(finished_job(&server, &id).await["status"], "completed");
        server
            .sql(&format!("INSERT INTO app.{table} VALUES (3, 'hot')"))
            .await;
    }
    let key = |table: &str| {
        MetaKey::Manifest(
            TableId::new(
                NamespaceId::parse("app").unwrap(),
                TableName::parse(table).unwrap(),
            ),
            Partition::Shared,
        )
        .encode()
    };
    let store = server.engine().hot_store();
    let mut batch = kalamdb_store::WriteBatch::new();
    batch.put(Space::Meta, key("bad"), b"{\"segments\": [garbage".to_vec());
    batch.delete(Space::Meta, key("gone"));
    store.write(batch).unwrap();
    drop(store);

    for sql in [
        "SELECT id, v FROM app.bad",
        "SELECT id, v FROM app.bad WHERE id = 1",
        "INSERT INTO app.bad VALUES (4, 'x')",
    ] {
        let (status, body) = server.sql_as("root", ROOT_PASSWORD, sql).await;
        let msg = internal_error(status, &body);
        assert!(
            msg.starts_with("Internal error: cold storage: Corrupt manifest: "),
            "{sql}: {msg}"
        );
    }
    let gone = content(&server, "app.gone").await;
    assert_eq!(gone, BTreeMap::from([(3, "hot".to_string())]));
    assert_eq!(content(&server, "app.fine").await.len(), 3);
    server.sql("INSERT INTO app.fine VALUES (4, 'x')").await;
    assert_eq!(
        health_status(&server.client, server.url("/health")).await,
        200
    );
}

// ------------------------------------------------------------- the WAL tail

/// The newest write-ahead log in the data directory.
fn newest_wal(data: &Path) -> PathBuf {
    std::fs::read_dir(data.join("rocksdb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .max()
        .expect("a WAL file")
}

/// Inserts rows `1..=n` one statement each (all acknowledged), then
/// SIGKILLs the server: every row is only in the WAL.
async fn acked_then_killed(data: &Path, n: i64) -> BTreeMap<i64, String> {
    let client = reqwest::Client::new();
    let mut p = Proc::start(data);
    p.sql(&client, "CREATE NAMESPACE app").await.unwrap();
    p.sql(
        &client,
        "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)",
    )
    .await
    .unwrap();
    let mut acked = BTreeMap::new();
    for i in 1..=n {
        let v = noise(i, 40);
        p.sql(&client, &format!("INSERT INTO app.t VALUES ({i}, '{v}')"))
            .await
            .unwrap();
        acked.insert(i, v);
    }
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    acked
}

async fn proc_content(p: &Proc) -> BTreeMap<i64, String> {
    let client = reqwest::Client::new();
    let body = p
        .sql(&client, "SELECT id, v FROM app.t ORDER BY id")
        .await
        .unwrap();
    let rows = body["results"][0]["rows"].as_array().expect("rows").clone();
    let map: BTreeMap<i64, String> = rows
        .iter()
        .map(|r| (int(&r[0]), r[1].as_str().expect("v").to_string()))
        .collect();
    assert_eq!(map.len(), rows.len(), "a key is served twice");
    map
}

/// Garbage after the last record (an append the crash interrupted) is
/// ignored: every acknowledged row is back.
#[tokio::test]
async fn garbage_after_the_wal_tail_loses_no_acknowledged_row() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let acked = acked_then_killed(dir.path(), 60).await;
    let wal = newest_wal(dir.path());
    let len = std::fs::metadata(&wal).unwrap().len() as usize;
    // Noise from a fixed seed, kept inside the WAL's last 32 KiB block.
    let room = 32 * 1024 - len % (32 * 1024);
    let garbage: Vec<u8> = noise(7, 64.min(room)).into_bytes();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&wal)
        .unwrap()
        .write_all(&garbage)
        .unwrap();

    let p = Proc::start(dir.path());
    assert_eq!(proc_content(&p).await, acked);
}

/// A torn last record (the process died while appending it) is dropped
/// alone: the server starts, every row it serves is whole and served once,
/// and only the last write may be missing.
#[tokio::test]
async fn a_torn_wal_tail_drops_only_the_torn_record() {
    let dir = tempfile::tempdir().unwrap();
    let acked = acked_then_killed(dir.path(), 60).await;
    let wal = newest_wal(dir.path());
    let len = std::fs::metadata(&wal).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
    file.set_len(len - 5).unwrap();
    drop(file);

    let p = Proc::start(dir.path());
    let got = proc_content(&p).await;
    for (id, v) in &got {
        assert_eq!(acked.get(id), Some(v), "row {id} is not what was written");
    }
    let missing: Vec<_> = acked.keys().filter(|k| !got.contains_key(k)).collect();
    assert!(missing.is_empty() || missing == [&60], "lost {missing:?}");
}

/// Damage inside the WAL (not at its tail) would silently drop every
/// acknowledged write after it under point-in-time recovery; the server
/// refuses to start instead, with the reason, and starts with every row
/// once the damage is undone.
#[tokio::test]
async fn damage_inside_the_wal_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let acked = acked_then_killed(dir.path(), 60).await;
    let wal = newest_wal(dir.path());
    let original = std::fs::read(&wal).unwrap();
    let mut bytes = original.clone();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&wal, &bytes).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_kalamdb-server"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("KALAMDB_ROOT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "kalamdb-server: cannot open the hot store: storage open failed: Corruption:"
        ),
        "{stderr}"
    );

    std::fs::write(&wal, &original).unwrap();
    let p = Proc::start(dir.path());
    assert_eq!(proc_content(&p).await, acked);
}
