//! Tables on an S3 storage, end to end: `CREATE STORAGE … TYPE s3` against a
//! real S3-compatible server (moto, see `kalamdb-cold/tests/it/s3_harness.rs`),
//! flushes that land in the bucket, queries and writes that read them back,
//! and DROP TABLE that deletes them.

use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};
use crate::s3_harness::S3Server;

async fn ok(server: &TestServer, sql: &str) -> Value {
    server.sql(sql).await
}

async fn flush_and_wait(server: &TestServer, table: &str) -> Value {
    let body = ok(server, &format!("STORAGE FLUSH TABLE {table}")).await;
    let msg = body["results"][0]["message"].as_str().unwrap().to_string();
    let job = msg
        .split("Job ID: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{msg}"));
    let job: Value = server
        .client
        .get(server.url(&format!("/v1/api/jobs/{job}?wait_ms=30000")))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    job
}

/// What the bucket holds under `prefix`, read with the cold tier's own client.
async fn bucket_files(s3: &S3Server, prefix: &str) -> Vec<String> {
    let store = kalamdb_cold::ColdStore::open(&s3.storage_def("")).unwrap();
    let mut files: Vec<String> = store
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn tables_on_s3_flush_read_write_and_drop() {
    let Some(s3) = S3Server::start_with_auth().await else {
        return;
    };
    let server = TestServer::start();
    let creds = s3.credentials();
    let create = format!(
        "CREATE STORAGE s3main TYPE s3 NAME 'Main bucket' BUCKET '{}' REGION 'us-east-1' \
         CONFIG '{{\"endpoint\":\"{}\",\"allow_http\":true}}' \
         CREDENTIALS '{{\"access_key_id\":\"{}\",\"secret_access_key\":\"{}\"}}'",
        s3.bucket(),
        s3.endpoint(),
        creds.access_key_id,
        creds.secret_access_key
    );
    let body = ok(&server, &create).await;
    assert_eq!(
        body["results"][0]["message"],
        "Storage 's3main' created successfully"
    );
    // Credentials never leave the server.
    let rows = server
        .rows("SELECT storage_type, base_directory, credentials FROM system.storages WHERE storage_id = 's3main'")
        .await;
    assert_eq!(
        rows,
        vec![json!(["s3", format!("s3://{}", s3.bucket()), "***"])]
    );
    // A storage the server cannot write to is refused when it is defined.
    let (status, body) = server
        .sql_as(
            "root",
            ROOT_PASSWORD,
            &format!(
                "CREATE STORAGE s3bad TYPE s3 BUCKET 'no-such-bucket' \
                 CONFIG '{{\"endpoint\":\"{}\",\"allow_http\":true}}' \
                 CREDENTIALS '{{\"access_key_id\":\"{}\",\"secret_access_key\":\"{}\"}}'",
                s3.endpoint(),
                creds.access_key_id,
                creds.secret_access_key
            ),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Storage 's3bad' is not writable: "),
        "{msg}"
    );

    ok(&server, "CREATE NAMESPACE app").await;
    ok(
        &server,
        "CREATE SHARED TABLE app.events (id BIGINT PRIMARY KEY, kind TEXT) WITH (STORAGE_ID = 's3main')",
    )
    .await;
    ok(
        &server,
        "CREATE USER TABLE app.inbox (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 's3main')",
    )
    .await;
    ok(
        &server,
        "CREATE USER alice WITH PASSWORD 'alice-Passw0rd' ROLE user",
    )
    .await;
    ok(
        &server,
        "INSERT INTO app.events VALUES (1, 'open'), (2, 'click'), (3, 'close')",
    )
    .await;
    let (status, body) = server
        .sql_as(
            "alice",
            "alice-Passw0rd",
            "INSERT INTO app.inbox VALUES (1, 'hello'), (2, 'world')",
        )
        .await;
    assert_eq!(status, 200, "{body}");

    flush_and_wait(&server, "app.events").await;
    flush_and_wait(&server, "app.inbox").await;
    let events = bucket_files(&s3, "app/events/").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].starts_with("app/events/seg-"), "{events:?}");
    assert_eq!(bucket_files(&s3, "app/inbox/alice/").await.len(), 1);

    // Reads, key checks and writes over the S3 tier.
    assert_eq!(
        server
            .rows("SELECT id, kind FROM app.events ORDER BY id")
            .await,
        vec![
            json!(["1", "open"]),
            json!(["2", "click"]),
            json!(["3", "close"])
        ]
    );
    let (status, _) = server
        .sql_as(
            "root",
            ROOT_PASSWORD,
            "INSERT INTO app.events VALUES (2, 'dup')",
        )
        .await;
    assert_eq!(status, 400);
    ok(&server, "UPDATE app.events SET kind = 'tap' WHERE id = 2").await;
    ok(&server, "DELETE FROM app.events WHERE id = 3").await;
    let (status, body) = server
        .sql_as(
            "alice",
            "alice-Passw0rd",
            "SELECT body FROM app.inbox WHERE id = 2",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["rows"], json!([["world"]]));

    // Across a restart, then a second flush.
    let server = server.restart();
    let after = vec![json!(["1", "open"]), json!(["2", "tap"])];
    assert_eq!(
        server
            .rows("SELECT id, kind FROM app.events ORDER BY id")
            .await,
        after
    );
    flush_and_wait(&server, "app.events").await;
    assert_eq!(bucket_files(&s3, "app/events/").await.len(), 2);
    assert_eq!(
        server
            .rows("SELECT id, kind FROM app.events ORDER BY id")
            .await,
        after
    );
    // Compaction merges the two objects into one, in the bucket too.
    let body = ok(&server, "STORAGE COMPACT TABLE app.events").await;
    let msg = body["results"][0]["message"].as_str().unwrap().to_string();
    let job = msg
        .split("Job ID: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{msg}"));
    let job: Value = server
        .client
        .get(server.url(&format!("/v1/api/jobs/{job}?wait_ms=30000")))
        .basic_auth("root", Some(ROOT_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    let merged = bucket_files(&s3, "app/events/").await;
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].contains("-c"), "{merged:?}");
    assert_eq!(
        server
            .rows("SELECT id, kind FROM app.events ORDER BY id")
            .await,
        after
    );

    // DROP TABLE deletes the objects and reports them.
    let body = ok(&server, "DROP TABLE app.inbox").await;
    let msg = body["results"][0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Table app.inbox dropped successfully: files_deleted=1, bytes_freed="),
        "{msg}"
    );
    assert!(bucket_files(&s3, "app/inbox/").await.is_empty());
    let body = ok(&server, "DROP TABLE app.events").await;
    assert!(
        body["results"][0]["message"]
            .as_str()
            .unwrap()
            .contains("files_deleted=1,"),
        "{body}"
    );
    assert!(bucket_files(&s3, "app/").await.is_empty());
    let body = ok(&server, "DROP STORAGE s3main").await;
    assert_eq!(
        body["results"][0]["message"],
        "Storage 's3main' dropped successfully"
    );
}
