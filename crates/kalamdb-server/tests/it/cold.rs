//! The cold tier over HTTP (issue 5): flush jobs move rows into Parquet
//! segments on the `local` storage, and every read and write sees both tiers
//! as one table. Jobs are awaited through `GET /v1/api/jobs/{id}?wait_ms`,
//! never by sleeping.

use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};

/// Runs SQL as root and returns the body, asserting success.
async fn ok(server: &TestServer, sql: &str) -> Value {
    server.sql(sql).await
}

fn message(body: &Value) -> String {
    body["results"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `STORAGE FLUSH TABLE t` and waits for the job; returns the finished job.
pub(crate) async fn flush(server: &TestServer, table: &str) -> Value {
    let body = ok(server, &format!("STORAGE FLUSH TABLE {table}")).await;
    let msg = message(&body);
    let prefix = format!("Storage flush started for table '{table}'. Job ID: ");
    let job = msg
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("unexpected flush answer: {msg}"));
    assert!(job.starts_with("FL-") && job.len() == 15, "{job}");
    wait_job(server, job).await
}

pub(crate) async fn wait_job(server: &TestServer, job: &str) -> Value {
    let resp = server
        .client
        .get(server.url(&format!("/v1/api/jobs/{job}?wait_ms=30000")))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .send()
        .await
        .expect("job request");
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("job json");
    assert_eq!(body["status"], "completed", "{body}");
    body
}

async fn stat(server: &TestServer, name: &str) -> u64 {
    let rows = server
        .rows(&format!(
            "SELECT metric_value FROM system.stats WHERE metric_name = '{name}'"
        ))
        .await;
    rows[0][0]
        .as_str()
        .expect("metric")
        .parse()
        .expect("number")
}

fn segment_files(server: &TestServer, dir: &str) -> Vec<String> {
    let path = server.data_path().join("storage").join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn flushed_rows_read_update_and_delete_like_hot_ones() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT)",
    )
    .await;
    let values: Vec<String> = (1..=10)
        .map(|i| format!("({i}, 'item {i}', {})", i * 10))
        .collect();
    ok(
        &server,
        &format!("INSERT INTO app.items VALUES {}", values.join(", ")),
    )
    .await;
    let all = "SELECT id, title, qty, _seq FROM app.items ORDER BY id";
    let before = server.rows(all).await;
    assert_eq!(before.len(), 10);

    let job = flush(&server, "app.items").await;
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .starts_with("Flushed 10 rows, "),
        "{job}"
    );
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .ends_with(" bytes, 1 file(s)")
    );
    let files = segment_files(&server, "app/items");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("seg-") && files[0].ends_with(".parquet"));

    // Same rows, same versions, now read from Parquet only.
    let (hot0, cold0) = (
        stat(&server, "hot_rows_read").await,
        stat(&server, "cold_rows_read").await,
    );
    assert_eq!(server.rows(all).await, before);
    assert_eq!(stat(&server, "hot_rows_read").await, hot0);
    assert_eq!(stat(&server, "cold_rows_read").await, cold0 + 10);
    // Point reads find flushed keys, and not absent ones.
    assert_eq!(
        server
            .rows("SELECT title FROM app.items WHERE id = 7")
            .await,
        vec![json!(["item 7"])]
    );
    assert!(
        server
            .rows("SELECT title FROM app.items WHERE id = 70")
            .await
            .is_empty()
    );
    // Nothing left to flush.
    let body = ok(&server, "STORAGE FLUSH TABLE app.items").await;
    assert_eq!(
        message(&body),
        "Storage flush skipped: no pending writes for table 'app.items'"
    );

    // Keys are unique across tiers; UPDATE/DELETE reach flushed rows.
    let (status, body) = server
        .sql_as(
            "root",
            ROOT_PASSWORD,
            "INSERT INTO app.items VALUES (3, 'again', 0)",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Duplicate primary key value '3' in table 'app.items'"
    );
    let body = ok(&server, "UPDATE app.items SET qty = qty + 1 WHERE id <= 4").await;
    assert_eq!(body["results"][0]["row_count"], 4);
    let body = ok(&server, "DELETE FROM app.items WHERE id IN (5, 6)").await;
    assert_eq!(body["results"][0]["row_count"], 2);
    ok(
        &server,
        "INSERT INTO app.items VALUES (5, 'reborn', 1), (11, 'new', 2)",
    )
    .await;
    let expect = |rows: &[Value]| {
        rows.iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect::<Vec<_>>()
    };
    let mixed = server.rows(all).await;
    let mut wanted = Vec::new();
    for i in 1..=11i64 {
        let row = match i {
            1..=4 => (
                json!(i.to_string()),
                json!(format!("item {i}")),
                json!(i * 10 + 1),
            ),
            5 => (json!("5"), json!("reborn"), json!(1)),
            6 => continue,
            11 => (json!("11"), json!("new"), json!(2)),
            _ => (
                json!(i.to_string()),
                json!(format!("item {i}")),
                json!(i * 10),
            ),
        };
        wanted.push(row);
    }
    assert_eq!(expect(&mixed), wanted);
    // Unchanged rows keep their version.
    assert_eq!(mixed[6], before[7]);

    // Flush again: two segments, same answers; then across a restart.
    flush(&server, "app.items").await;
    assert_eq!(segment_files(&server, "app/items").len(), 2);
    assert_eq!(server.rows(all).await, mixed);
    assert_eq!(
        server
            .rows("SELECT count(*), sum(qty) FROM app.items")
            .await,
        vec![json!([
            "10",
            (10 + 20 + 30 + 40 + 4 + 1 + 70 + 80 + 90 + 100 + 2).to_string()
        ])]
    );
    let server = server.restart();
    assert_eq!(server.rows(all).await, mixed);

    // DROP TABLE removes the files and reports them.
    let body = ok(&server, "DROP TABLE app.items").await;
    let msg = message(&body);
    assert!(
        msg.starts_with("Table app.items dropped successfully: files_deleted=2, bytes_freed="),
        "{msg}"
    );
    let freed: u64 = msg.rsplit('=').next().unwrap().parse().unwrap();
    assert!(freed > 0, "{msg}");
    assert!(segment_files(&server, "app/items").is_empty());
    // The name is free again and starts empty.
    ok(
        &server,
        "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT)",
    )
    .await;
    assert!(server.rows(all).await.is_empty());
}

#[tokio::test]
async fn user_tables_flush_per_user_and_stay_isolated() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE USER alice WITH PASSWORD 'alice-Passw0rd' ROLE user",
    )
    .await;
    ok(
        &server,
        "CREATE USER bob WITH PASSWORD 'bob-Passw0rd-1' ROLE user",
    )
    .await;
    ok(
        &server,
        "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)",
    )
    .await;
    for (user, pw, n) in [("alice", "alice-Passw0rd", 3), ("bob", "bob-Passw0rd-1", 2)] {
        let values: Vec<String> = (1..=n).map(|i| format!("({i}, '{user} {i}')")).collect();
        let (status, body) = server
            .sql_as(
                user,
                pw,
                &format!("INSERT INTO app.notes VALUES {}", values.join(", ")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let job = flush(&server, "app.notes").await;
    assert_eq!(
        job["message"].as_str().unwrap().split(',').next().unwrap(),
        "Flushed 5 rows"
    );
    assert!(job["message"].as_str().unwrap().ends_with(" 2 file(s)"));
    assert_eq!(segment_files(&server, "app/notes/alice").len(), 1);
    assert_eq!(segment_files(&server, "app/notes/bob").len(), 1);

    let read = |user: &'static str, pw: &'static str, sql: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server.sql_as(user, pw, sql).await;
            assert_eq!(status, 200, "{body}");
            body["results"][0]["rows"].clone()
        }
    };
    assert_eq!(
        read(
            "alice",
            "alice-Passw0rd",
            "SELECT id, body FROM app.notes ORDER BY id"
        )
        .await,
        json!([["1", "alice 1"], ["2", "alice 2"], ["3", "alice 3"]])
    );
    assert_eq!(
        read(
            "bob",
            "bob-Passw0rd-1",
            "SELECT id, body FROM app.notes ORDER BY id"
        )
        .await,
        json!([["1", "bob 1"], ["2", "bob 2"]])
    );
    assert_eq!(
        read(
            "bob",
            "bob-Passw0rd-1",
            "SELECT body FROM app.notes WHERE id = 3"
        )
        .await,
        json!([])
    );
    // Root (its own partition) sees none of them.
    assert!(server.rows("SELECT * FROM app.notes").await.is_empty());
    // Each user's keys stay unique per user across tiers.
    let (status, _) = server
        .sql_as(
            "bob",
            "bob-Passw0rd-1",
            "INSERT INTO app.notes VALUES (3, 'bob 3')",
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .sql_as(
            "bob",
            "bob-Passw0rd-1",
            "INSERT INTO app.notes VALUES (1, 'dup')",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server
        .sql_as("alice", "alice-Passw0rd", "DELETE FROM app.notes")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["row_count"], 3);
    assert_eq!(
        read("bob", "bob-Passw0rd-1", "SELECT count(*) FROM app.notes").await,
        json!([["3"]])
    );
    assert_eq!(
        read("alice", "alice-Passw0rd", "SELECT count(*) FROM app.notes").await,
        json!([["0"]])
    );
}

#[tokio::test]
async fn flush_statements_answer_per_spec() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(&server, "CREATE SHARED TABLE app.a (id INT PRIMARY KEY)").await;
    ok(&server, "CREATE SHARED TABLE app.b (id INT PRIMARY KEY)").await;
    ok(&server, "CREATE STREAM TABLE app.s (id INT) TTL 10s").await;
    let body = ok(&server, "STORAGE FLUSH ALL IN app").await;
    assert_eq!(
        message(&body),
        "Storage flush skipped: no pending writes in namespace 'app'"
    );
    ok(
        &server,
        "INSERT INTO app.a VALUES (1); INSERT INTO app.b VALUES (2)",
    )
    .await;
    let body = ok(&server, "STORAGE FLUSH ALL IN NAMESPACE app").await;
    let msg = message(&body);
    assert!(
        msg.starts_with("Storage flush started for 2 table(s) in namespace 'app'. Job IDs: [FL-"),
        "{msg}"
    );
    let ids = msg.split_once('[').unwrap().1.trim_end_matches(']');
    for id in ids.split(", ") {
        wait_job(&server, id).await;
    }
    let jobs = server
        .rows("SELECT job_type, status, message FROM system.jobs ORDER BY created_at")
        .await;
    assert_eq!(jobs.len(), 2);
    for j in &jobs {
        assert_eq!(j[0], "flush");
        assert_eq!(j[1], "completed");
        assert!(j[2].as_str().unwrap().starts_with("Flushed 1 rows"), "{j}");
    }
    // The older form, and STREAM tables.
    ok(&server, "INSERT INTO app.a VALUES (3)").await;
    let body = ok(&server, "FLUSH TABLE app.a").await;
    assert!(message(&body).starts_with("Storage flush started for table 'app.a'. Job ID: FL-"));
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, "STORAGE FLUSH TABLE app.s")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "STORAGE FLUSH TABLE is not supported for STREAM tables"
    );
    // KILL JOB on a finished or unknown job.
    let first = ids.split(", ").next().unwrap();
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, &format!("KILL JOB '{first}'"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        format!("Job '{first}' already completed")
    );
    let (_, body) = server
        .sql_as("root", ROOT_PASSWORD, "KILL JOB 'FL-000000000000'")
        .await;
    assert_eq!(body["error"]["message"], "Job 'FL-000000000000' not found");
    // A plain user may not flush.
    ok(
        &server,
        "CREATE USER u WITH PASSWORD 'u-Passw0rd-1' ROLE user",
    )
    .await;
    let (status, body) = server
        .sql_as("u", "u-Passw0rd-1", "STORAGE FLUSH ALL")
        .await;
    assert_eq!(status, 403, "{body}");
    // The built-in storage.
    let rows = server
        .rows("SELECT storage_id, storage_type, shared_tables_template, user_tables_template FROM system.storages")
        .await;
    assert_eq!(
        rows,
        vec![json!([
            "local",
            "filesystem",
            "{namespace}/{tableName}",
            "{namespace}/{tableName}/{userId}"
        ])]
    );
}

#[tokio::test]
async fn dropped_namespaces_take_their_cold_files_along() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE gone").await;
    ok(
        &server,
        "CREATE SHARED TABLE gone.t (id INT PRIMARY KEY, v TEXT)",
    )
    .await;
    ok(&server, "INSERT INTO gone.t VALUES (1, 'old'), (2, 'old')").await;
    flush(&server, "gone.t").await;
    assert_eq!(segment_files(&server, "gone/t").len(), 1);
    ok(&server, "DROP NAMESPACE gone CASCADE").await;
    assert!(segment_files(&server, "gone/t").is_empty());
    // Same names again: nothing of the old table comes back.
    ok(&server, "CREATE NAMESPACE gone").await;
    ok(
        &server,
        "CREATE SHARED TABLE gone.t (id INT PRIMARY KEY, v TEXT)",
    )
    .await;
    assert!(server.rows("SELECT * FROM gone.t").await.is_empty());
    ok(&server, "INSERT INTO gone.t VALUES (1, 'new')").await;
    assert_eq!(
        server.rows("SELECT id, v FROM gone.t").await,
        vec![json!([1, "new"])]
    );
}

/// `STORAGE COMPACT TABLE` / `ALL` over HTTP: the answers, the job, and a
/// USER table whose users' scopes are compacted each on its own, with
/// every user still seeing exactly their rows.
#[tokio::test]
async fn compact_statements_merge_each_scope_and_answer_per_spec() {
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)",
    )
    .await;
    ok(&server, "CREATE STREAM TABLE app.s (id INT) TTL 10s").await;
    for u in ["ua", "ub"] {
        ok(
            &server,
            &format!("CREATE USER {u} WITH PASSWORD '{u}-Passw0rd-1' ROLE user"),
        )
        .await;
    }
    let body = ok(&server, "STORAGE COMPACT TABLE app.notes").await;
    assert_eq!(
        message(&body),
        "Storage compaction skipped: no flushed files for table 'app.notes'"
    );
    // Three flushes per user, with an update of a flushed row between.
    for round in 0..3 {
        for u in ["ua", "ub"] {
            let (status, body) = server
                .sql_as(
                    u,
                    &format!("{u}-Passw0rd-1"),
                    &format!(
                        "INSERT INTO app.notes VALUES ({round}, '{u}{round}'); \
                         UPDATE app.notes SET body = body || '!' WHERE id = 0"
                    ),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        flush(&server, "app.notes").await;
    }
    for u in ["ua", "ub"] {
        assert_eq!(segment_files(&server, &format!("app/notes/{u}")).len(), 3);
    }
    let body = ok(&server, "STORAGE COMPACT TABLE app.notes").await;
    let msg = message(&body);
    let job = msg
        .strip_prefix("Storage compaction started for table 'app.notes'. Job ID: ")
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(job.starts_with("CO-") && job.len() == 15, "{job}");
    let done = wait_job(&server, job).await;
    assert_eq!(done["job_type"], "compact");
    // Per user: 1 + 2 + 2 versions flushed (row 0 was updated in each
    // round), 3 rows kept.
    let msg = done["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Compacted 6 file(s) into 2: 10 rows read, 6 kept, "),
        "{msg}"
    );
    for u in ["ua", "ub"] {
        assert_eq!(segment_files(&server, &format!("app/notes/{u}")).len(), 1);
        let (status, body) = server
            .sql_as(
                u,
                &format!("{u}-Passw0rd-1"),
                "SELECT id, body FROM app.notes ORDER BY id",
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["results"][0]["rows"],
            json!([
                [0, format!("{u}0!!!")],
                [1, format!("{u}1")],
                [2, format!("{u}2")]
            ])
        );
    }
    // ALL, by namespace; STREAM tables are refused; users may not compact.
    let body = ok(&server, "STORAGE COMPACT ALL IN app").await;
    assert!(
        message(&body).starts_with(
            "Storage compaction started for 1 table(s) in namespace 'app'. Job IDs: [CO-"
        ),
        "{body}"
    );
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, "STORAGE COMPACT ALL IN nope")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "Namespace 'nope' not found");
    let (status, body) = server
        .sql_as("root", ROOT_PASSWORD, "STORAGE COMPACT TABLE app.s")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "STORAGE COMPACT TABLE is not supported for STREAM tables"
    );
    let (status, body) = server
        .sql_as("ua", "ua-Passw0rd-1", "STORAGE COMPACT TABLE app.notes")
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Insufficient privileges for STORAGE COMPACT (requires role service, dba or system)"
    );
}

/// The cold tier is plain Parquet: pyarrow (an independent reader,
/// installed by `scripts/s3-server.sh python`) reads a table's segments and,
/// applying the rule docs/storage-format.md gives outside engines (newest
/// `_seq` per key, `_deleted` rows dropped), gets the rows the server
/// answers — across two flushes whose segments share keys (updated and
/// deleted after the first flush).
#[tokio::test]
async fn pyarrow_reads_a_flushed_table() {
    let python = std::env::var("KALAMDB_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "KALAMDB_TEST_PYTHON is not set: run scripts/test.sh, or set it to \
             the output of `bash scripts/s3-server.sh python`"
        )
    });
    let server = TestServer::start();
    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE SHARED TABLE app.p (k BIGINT PRIMARY KEY, room TEXT, n INT, ok BOOLEAN, x DOUBLE)",
    )
    .await;
    let values: Vec<String> = (1..=40)
        .map(|k| {
            format!(
                "({k}, 'r{}', {}, {}, {k}.5)",
                k % 3,
                k * 7 - 100,
                k % 2 == 0
            )
        })
        .collect();
    ok(
        &server,
        &format!(
            "INSERT INTO app.p (k, room, n, ok, x) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    flush(&server, "app.p").await;
    for sql in [
        "UPDATE app.p SET room = 'moved', n = 0 WHERE k BETWEEN 5 AND 9",
        "DELETE FROM app.p WHERE k IN (1, 2, 20)",
        "INSERT INTO app.p (k, room, n, ok, x) VALUES (41, 'new', NULL, NULL, NULL)",
    ] {
        ok(&server, sql).await;
    }
    flush(&server, "app.p").await;
    let dir = server.data_path().join("storage").join("app").join("p");
    let script = r#"
import glob, json, sys
import pyarrow.parquet as pq
files = sorted(glob.glob(sys.argv[1] + "/seg-*.parquet"))
newest = {}
for f in files:
    for r in pq.read_table(f).to_pylist():
        if r["k"] not in newest or r["_seq"] > newest[r["k"]]["_seq"]:
            newest[r["k"]] = r
rows = [[str(k), r["room"], r["n"], r["ok"], r["x"]]
        for k, r in sorted(newest.items()) if not r["_deleted"]]
print(json.dumps({"files": len(files), "rows": rows}))
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&dir)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("json from python");
    assert_eq!(read["files"], 2, "{read}");
    let served = server
        .rows("SELECT k, room, n, ok, x FROM app.p ORDER BY k")
        .await;
    assert_eq!(served.len(), 38);
    assert_eq!(read["rows"], Value::Array(served));
}
