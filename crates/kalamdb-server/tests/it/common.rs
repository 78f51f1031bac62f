//! `TestServer`: the real server, in process, on port 0 with a temporary
//! data directory, talked to over HTTP like any client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use kalamdb_core::Engine;
use kalamdb_server::{RunHooks, ServerConfig, WrapStoreHook, run_with_hooks};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const ROOT_PASSWORD: &str = "root-Passw0rd-test";

/// A running server. Dropping it shuts the server down and joins it; the
/// data directory lives as long as the `TestServer` (or its `data` handle).
pub struct TestServer {
    pub addr: SocketAddr,
    pub data: Arc<TempDir>,
    pub client: reqwest::Client,
    /// The server's engine, for awaiting its events ([`TestServer::engine`]).
    /// Dropped before shutdown: a clone kept alive would hold the store
    /// open and lock the data directory against a restart.
    engine: Option<Engine>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// A fresh server with root's password set.
    pub fn start() -> Self {
        Self::start_with(Arc::new(tempfile::tempdir().expect("tempdir")), |_| {})
    }

    /// A server over an existing data directory, with a config hook.
    pub fn start_with(data: Arc<TempDir>, tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::start_hooked(data, tweak, None)
    }

    /// [`TestServer::start_with`], the engine's hot store wrapped by `wrap`
    /// (fault injection). A restart starts without it.
    pub fn start_with_store_wrapper(
        data: Arc<TempDir>,
        tweak: impl FnOnce(&mut ServerConfig),
        wrap: WrapStoreHook,
    ) -> Self {
        Self::start_hooked(data, tweak, Some(wrap))
    }

    fn start_hooked(
        data: Arc<TempDir>,
        tweak: impl FnOnce(&mut ServerConfig),
        wrap_store: Option<WrapStoreHook>,
    ) -> Self {
        let mut config = ServerConfig::default();
        config.server.port = 0;
        config.storage.data_dir = data.path().to_path_buf();
        config.auth.root_password = Some(ROOT_PASSWORD.to_string());
        config.logging.level = "warn".into();
        tweak(&mut config);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (engine_tx, engine_rx) = std::sync::mpsc::channel::<Engine>();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let ready = move |engine: Engine| {
                    let _ = engine_tx.send(engine);
                };
                let hooks = RunHooks {
                    ready: Some(Box::new(ready)),
                    wrap_store,
                };
                run_with_hooks(
                    listener,
                    config,
                    async move {
                        let _ = shutdown_rx.await;
                    },
                    hooks,
                )
                .await
                .expect("server run");
            });
        });
        let addr = addr_rx.recv().expect("server address");
        let engine = engine_rx
            .recv()
            .expect("the server failed to open its engine");
        let server = Self {
            addr,
            data,
            client: reqwest::Client::new(),
            engine: Some(engine),
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        server.wait_ready();
        server
    }

    /// Stops the server (gracefully) and starts a new one on the same data.
    pub fn restart(mut self) -> Self {
        let data = self.data.clone();
        self.stop();
        Self::start_with(data, |_| {})
    }

    /// The running server's engine (in process).
    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("the server is stopped")
    }

    pub fn stop(&mut self) {
        self.engine = None;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
    }

    fn wait_ready(&self) {
        // The listener is bound before `run` starts, so connections queue;
        // readiness is when the engine answers.
        let url = self.url("/health");
        for _ in 0..500 {
            if probe_ok(&url).unwrap_or(false) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("server did not become ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn data_path(&self) -> &Path {
        self.data.path()
    }

    /// POST /v1/api/sql as `user` (Basic), returning (status, body).
    pub async fn sql_as(&self, user: &str, password: &str, sql: &str) -> (u16, Value) {
        self.sql_body_as(user, password, json!({ "sql": sql }))
            .await
    }

    pub async fn sql_body_as(&self, user: &str, password: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url("/v1/api/sql"))
            .basic_auth(user, Some(password))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.expect("json body");
        (status, body)
    }

    /// As root; panics unless the request succeeds.
    pub async fn sql(&self, sql: &str) -> Value {
        let (status, body) = self.sql_as("root", ROOT_PASSWORD, sql).await;
        assert_eq!(status, 200, "{sql} -> {body}");
        assert_eq!(body["status"], "success", "{sql} -> {body}");
        body
    }

    /// As root, the first result's rows.
    pub async fn rows(&self, sql: &str) -> Vec<Value> {
        let body = self.sql(sql).await;
        body["results"][0]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A blocking `GET` that reports whether the answer is 200 (readiness probe
/// without a second runtime).
fn probe_ok(url: &str) -> std::io::Result<bool> {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(2)))?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    Ok(buf.starts_with("HTTP/1.1 200"))
}

/// Path of the repository's golden SQL files.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql")
}
