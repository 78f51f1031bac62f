//! Tests that run the built `kalamdb-server` binary: configuration from
//! flags and environment, clean shutdown on SIGTERM, and `kill -9` in the
//! middle of concurrent writes losing nothing that was acknowledged.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::sync::Notify;

pub(crate) const PASSWORD: &str = "binary-Passw0rd";

/// A server process and the address it announced.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Proc {
    pub(crate) fn start(data: &Path) -> Proc {
        Self::start_with_env(data, &[])
    }

    /// With extra environment (e.g. `KALAMDB_FAILPOINTS`).
    pub(crate) fn start_with_env(data: &Path, env: &[(&str, &str)]) -> Proc {
        Self::start_with_args(data, &[], env)
    }

    /// With extra command-line arguments (e.g. `--config`) and environment.
    pub(crate) fn start_with_args(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
        // `KALAMDB_SERVER_BIN` runs another build (a release binary, or a
        // copy that a rebuild during a long crash run cannot replace).
        let bin = std::env::var("KALAMDB_SERVER_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kalamdb-server").to_string());
        let mut command = Command::new(bin);
        command
            .args(args)
            .args(["--port", "0", "--data-dir"])
            .arg(data)
            .env("KALAMDB_ROOT_PASSWORD", PASSWORD)
            .env("KALAMDB_LOG_LEVEL", "info");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kalamdb-server");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read log");
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest.split_whitespace().next().expect("addr").to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Proc {
            child,
            base: format!("http://{addr}"),
        }
    }

    pub(crate) async fn sql(&self, client: &reqwest::Client, sql: &str) -> Result<Value, String> {
        let resp = client
            .post(format!("{}/v1/api/sql", self.base))
            .basic_auth("root", Some(PASSWORD))
            .json(&json!({ "sql": sql }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if status.is_success() && body["status"] == "success" {
            Ok(body)
        } else {
            Err(body.to_string())
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_data_survives() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = Proc::start(dir.path());
    let health: Value = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
    server.sql(&client, "CREATE NAMESPACE app").await.unwrap();
    server
        .sql(&client, "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    server
        .sql(&client, "INSERT INTO app.t VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(
        exit.success(),
        "kalamdb-server exited with {exit:?} on SIGTERM"
    );

    let server = Proc::start(dir.path());
    let body = server
        .sql(&client, "SELECT id, v FROM app.t ORDER BY id")
        .await
        .unwrap();
    assert_eq!(body["results"][0]["rows"], json!([[1, "a"], [2, "b"]]));
}

#[tokio::test]
async fn bad_config_file_fails_with_a_clear_message_and_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.toml");
    std::fs::write(&cfg, "[server]\nprot = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kalamdb-server"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("configuration error") && err.contains("prot"),
        "{err}"
    );
}

/// Writers insert concurrently and record every acknowledged id; the
/// server is killed with SIGKILL while they run; after a restart every
/// acknowledged row is present exactly once and no row appears that was
/// never sent.
#[tokio::test]
async fn kill_9_during_concurrent_writes_loses_nothing_acknowledged() {
    const WRITERS: usize = 8;
    const KILL_AFTER_ACKS: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut acked_all = BTreeSet::new();
    let mut attempted_all = BTreeSet::new();
    let mut next_id = 0i64;
    for round in 0..3 {
        let server = Arc::new(Proc::start(dir.path()));
        if round == 0 {
            server.sql(&client, "CREATE NAMESPACE crash").await.unwrap();
            server
                .sql(
                    &client,
                    "CREATE TABLE crash.t (id BIGINT PRIMARY KEY, w INT, body TEXT)",
                )
                .await
                .unwrap();
        }
        let acks = Arc::new(AtomicUsize::new(0));
        let enough = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let (server, client, acks, enough) =
                (server.clone(), client.clone(), acks.clone(), enough.clone());
            let base_id = next_id + (w as i64) * 1_000_000;
            tasks.push(tokio::spawn(async move {
                let (mut acked, mut attempted) = (Vec::new(), Vec::new());
                for i in 0..100_000i64 {
                    let id = base_id + i;
                    attempted.push(id);
                    let sql = format!("INSERT INTO crash.t VALUES ({id}, {w}, 'payload-{id}')");
                    match server.sql(&client, &sql).await {
                        Ok(_) => {
                            acked.push(id);
                            if acks.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS {
                                enough.notify_one();
                            }
                        }
                        Err(_) => break, // the server is gone
                    }
                }
                (acked, attempted)
            }));
        }
        enough.notified().await;
        let pid = server.child.id();
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for t in tasks {
            let (acked, attempted) = t.await.unwrap();
            acked_all.extend(acked);
            attempted_all.extend(attempted);
        }
        drop(server);
        next_id += 10_000_000;
    }

    let server = Proc::start(dir.path());
    let body = server
        .sql(&client, "SELECT id, body FROM crash.t")
        .await
        .unwrap();
    let rows = body["results"][0]["rows"].as_array().unwrap().clone();
    let mut present = BTreeSet::new();
    for row in &rows {
        let id: i64 = row[0].as_str().unwrap().parse().unwrap();
        assert_eq!(row[1], json!(format!("payload-{id}")), "a row was torn");
        assert!(present.insert(id), "row {id} appears twice");
    }
    let lost: Vec<_> = acked_all.difference(&present).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged rows lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let phantom: Vec<_> = present.difference(&attempted_all).collect();
    assert!(phantom.is_empty(), "rows that were never sent: {phantom:?}");
    assert!(acked_all.len() >= 3 * KILL_AFTER_ACKS);
    println!(
        "acknowledged {} rows across 3 kills; {} present after restart",
        acked_all.len(),
        present.len()
    );
}
