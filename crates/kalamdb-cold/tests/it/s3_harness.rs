//! A real S3-compatible server for the S3 tests: moto, installed by
//! `scripts/s3-server.sh` and started on loopback. Requests go over HTTP to
//! a server that speaks the S3 protocol (SigV4 included when asked for), so
//! the tests exercise object_store's real S3 client, never a mock of it.
//!
//! One server per test: it is ready in about half a second (bucket
//! included), and nextest runs every test in its own process, where a shared
//! server would not be shared anyway.
//! moto binds port 0 and prints the port it got, so there is no race between
//! picking a free port and binding it.
//!
//! When moto cannot be installed or started the tests fail, naming the cause;
//! they skip (loudly) only if `KALAMDB_SKIP_S3_TESTS=1`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kalamdb_cold::{StorageDef, StorageType};
use kalamdb_types::StorageId;

/// How long moto may take to import and answer; generous because the tests
/// often run while rustc keeps both cores busy.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Lines of moto's log kept for failure messages.
const LOG_LINES: usize = 200;

/// An access key pair, as put into a storage's `credentials` JSON.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// A running moto server with one bucket; killed on drop.
pub struct S3Server {
    child: Child,
    endpoint: String,
    bucket: String,
    credentials: Credentials,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl S3Server {
    /// A server that accepts any credentials (moto's default: it does not
    /// check signatures). `None` only when skipping is allowed and moto is
    /// unavailable.
    pub async fn start() -> Option<Self> {
        let server = Self::spawn().await?;
        server.create_bucket(&server.bucket).await;
        Some(server)
    }

    /// A server that checks SigV4 signatures and IAM permissions: it creates
    /// an IAM user allowed `s3:*` and an access key for it, then switches
    /// moto's authentication on. `credentials()` is that key; any other key,
    /// or a wrong secret, is refused.
    pub async fn start_with_auth() -> Option<Self> {
        let mut server = Self::spawn().await?;
        server.create_bucket(&server.bucket).await;
        server.credentials = server.create_iam_key().await;
        // From now on (zero unauthenticated actions left) every request is
        // authenticated and authorised.
        let response = client()
            .post(format!("{}/moto-api/reset-auth", server.endpoint))
            .body("0")
            .send()
            .await
            .expect("POST /moto-api/reset-auth");
        server
            .expect_success(response, "enable authentication")
            .await;
        Some(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// An S3 storage on this server's bucket, rooted at `prefix` (may be
    /// empty), with the server's credentials.
    pub fn storage_def(&self, prefix: &str) -> StorageDef {
        self.storage_def_with(&self.bucket, prefix, Some(&self.credentials))
    }

    /// An S3 storage on this server with any bucket (existing or not) and any
    /// credentials (`None`: the `credentials` column is NULL).
    pub fn storage_def_with(
        &self,
        bucket: &str,
        prefix: &str,
        credentials: Option<&Credentials>,
    ) -> StorageDef {
        let base_directory = if prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        let config = serde_json::json!({
            "region": "us-east-1",
            "endpoint": self.endpoint,
            "allow_http": true,
        });
        let credentials = credentials.map(|c| {
            serde_json::json!({
                "access_key_id": c.access_key_id,
                "secret_access_key": c.secret_access_key,
            })
            .to_string()
        });
        StorageDef {
            storage_id: StorageId::parse("s3_test").expect("valid storage id"),
            storage_name: "S3 test storage".to_string(),
            description: Some(format!("moto at {}", self.endpoint)),
            storage_type: StorageType::S3,
            base_directory,
            credentials,
            config_json: Some(config.to_string()),
            shared_tables_template: "{namespace}/{tableName}".to_string(),
            user_tables_template: "{namespace}/{tableName}/{userId}".to_string(),
            created_at: 0,
            updated_at: 0,
        }
    }

    /// Creates a bucket with a plain (unsigned) `PUT /<bucket>`.
    pub async fn create_bucket(&self, bucket: &str) {
        let response = client()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("PUT bucket");
        self.expect_success(response, &format!("create bucket '{bucket}'"))
            .await;
    }

    /// moto's recent log lines, for failure messages.
    pub fn log(&self) -> String {
        join_log(&self.log)
    }

    async fn spawn() -> Option<Self> {
        let launcher = match find_launcher() {
            Ok(path) => path,
            Err(why) => return unavailable(&why),
        };
        let mut child = match Command::new(&launcher)
            .args(["-H", "127.0.0.1", "-p", "0"])
            // The server exits when this pipe closes, so a test process that
            // is killed (timeout, SIGKILL) does not leave it running.
            .env("KALAMDB_MOTO_EXIT_ON_STDIN_EOF", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => return unavailable(&format!("cannot run {}: {e}", launcher.display())),
        };
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr is piped");
        let thread_log = Arc::clone(&log);
        // Drains moto's log for the server's whole life: a full pipe would
        // block its request handlers.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = announced_port(&line) {
                    let _ = port_tx.send(port);
                }
                let mut log = lock_log(&thread_log);
                if log.len() >= LOG_LINES {
                    log.pop_front();
                }
                log.push_back(line);
            }
        });
        let started = Instant::now();
        let port = match port_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "moto ({}) did not announce its port within {STARTUP_TIMEOUT:?} \
                     (exit status: {status:?}); its log:\n{}",
                    launcher.display(),
                    join_log(&log)
                );
            }
        };
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: format!("kalamdb-{}", uuid::Uuid::new_v4().simple()),
            credentials: Credentials {
                access_key_id: "test".to_string(),
                secret_access_key: "test".to_string(),
            },
            log,
        };
        server.wait_until_answering(started).await;
        Some(server)
    }

    /// Polls until moto answers HTTP. It prints its address just after it
    /// starts listening, so this usually succeeds at once.
    async fn wait_until_answering(&self, started: Instant) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        loop {
            let error = match client
                .get(format!("{}/moto-api/", self.endpoint))
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => response.status().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "moto at {} does not answer after {STARTUP_TIMEOUT:?}: {error}; its log:\n{}",
                self.endpoint,
                self.log()
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Creates IAM user `kalamdb` with an inline policy allowing `s3:*` and
    /// returns a new access key for it. moto routes a request to IAM by the
    /// service named in the `Authorization` header's credential scope; before
    /// authentication is switched on the signature itself is not checked.
    async fn create_iam_key(&self) -> Credentials {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        self.iam(&[("Action", "CreateUser"), ("UserName", "kalamdb")])
            .await;
        self.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "kalamdb"),
            ("PolicyName", "s3-all"),
            ("PolicyDocument", policy),
        ])
        .await;
        let body = self
            .iam(&[("Action", "CreateAccessKey"), ("UserName", "kalamdb")])
            .await;
        let field = |name: &str| {
            xml_text(&body, name)
                .unwrap_or_else(|| panic!("no <{name}> in CreateAccessKey response: {body}"))
        };
        Credentials {
            access_key_id: field("AccessKeyId"),
            secret_access_key: field("SecretAccessKey"),
        }
    }

    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = form_encode(params);
        form.push_str("&Version=2010-05-08");
        let response = client()
            .post(format!("{}/", self.endpoint))
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("IAM request");
        let what = params.first().map_or("IAM", |(_, action)| action);
        self.expect_success(response, what).await
    }

    async fn expect_success(&self, response: reqwest::Response, what: &str) -> String {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "moto refused to {what}: {status} {body}; its log:\n{}",
            self.log()
        );
        body
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The launcher path: `$KALAMDB_MOTO_SERVER` (exported by `scripts/deps.sh`),
/// else whatever `scripts/s3-server.sh` prints (it installs moto first if
/// needed, so `cargo test` alone also works on a fresh machine).
fn find_launcher() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KALAMDB_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "KALAMDB_MOTO_SERVER={} does not exist",
                path.display()
            ))
        };
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed ({})", script.display(), output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout.lines().last().unwrap_or_default().trim();
    if path.is_empty() {
        return Err(format!("{} printed no launcher path", script.display()));
    }
    Ok(PathBuf::from(path))
}

fn unavailable<T>(why: &str) -> Option<T> {
    if std::env::var("KALAMDB_SKIP_S3_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!! SKIPPED: S3 test (KALAMDB_SKIP_S3_TESTS=1) because the S3 test server \
             is unavailable: {why}\n"
        );
        return None;
    }
    panic!(
        "the S3 test server (moto) is unavailable: {why}. Install it with \
         `bash scripts/s3-server.sh` (needs python3 with pip and access to PyPI), \
         or set KALAMDB_SKIP_S3_TESTS=1 to skip the S3 tests"
    );
}

/// The port in werkzeug's ` * Running on http://127.0.0.1:<port>` line.
fn announced_port(line: &str) -> Option<u16> {
    let rest = line.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = xml.get(start..)?.find(&format!("</{tag}>"))?;
    xml.get(start..start + len).map(str::to_string)
}

/// `application/x-www-form-urlencoded` (reqwest's `form` feature is off).
fn form_encode(params: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn lock_log(log: &Mutex<VecDeque<String>>) -> std::sync::MutexGuard<'_, VecDeque<String>> {
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn join_log(log: &Mutex<VecDeque<String>>) -> String {
    Vec::from(lock_log(log).clone()).join("\n")
}

#[test]
fn announced_port_parses_werkzeug_banner() {
    assert_eq!(
        announced_port(" * Running on http://127.0.0.1:40895"),
        Some(40895)
    );
    assert_eq!(announced_port("Press CTRL+C to quit"), None);
}

#[test]
fn form_encode_escapes_json() {
    assert_eq!(
        form_encode(&[("A", "x y"), ("P", r#"{"a":"*"}"#)]),
        "A=x%20y&P=%7B%22a%22%3A%22%2A%22%7D"
    );
}
