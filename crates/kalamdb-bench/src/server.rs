//! The server under test: a URL given with `--url`, or a fresh
//! `kalamdb-server` started in this process. The in-process server runs on
//! its own thread and tokio runtime, so the bench's clients never share a
//! scheduler with it; it is reached only through its socket like any other.
//!
//! The memory workloads need a server whose memory is its own: a
//! [`ChildServer`] is this binary started again with `--serve-child`, which
//! serves until its standard input closes (so it never outlives the bench).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

use anyhow::{Context, anyhow};
use kalamdb_server::ServerConfig;
use tempfile::TempDir;

/// A `kalamdb-server` on 127.0.0.1, port 0, over a temporary data directory
/// that is removed when this is dropped (after the server has stopped).
pub struct InProcessServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    data: Option<TempDir>,
}

impl InProcessServer {
    /// Starts the server with `root_password`, `sync_writes = durable` and
    /// `[query] fast_path`. Returns once the socket is bound: requests sent
    /// before the engine is open wait in the listen queue, so no readiness
    /// polling is needed.
    pub fn start(root_password: &str, durable: bool, fast_path: bool) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("kalamdb-bench-")
            .tempdir()
            .context("cannot create the server's data directory")?;
        let config = bench_config(data.path(), root_password, durable, fast_path);

        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kalamdb-server".into())
            .spawn(move || serve(config, addr_tx, shutdown_rx))
            .context("cannot start the server thread")?;
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            shutdown: Some(shutdown),
            thread: Some(thread),
            data: Some(data),
        };
        match addr_rx.recv() {
            Ok(Ok(addr)) => {
                server.addr = addr;
                Ok(server)
            }
            Ok(Err(e)) => Err(anyhow!(e)),
            Err(_) => match server.stop() {
                Err(e) => Err(e),
                Ok(()) => Err(anyhow!("the in-process server exited before binding")),
            },
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down gracefully and reports how its run ended.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = match self.thread.take() {
            Some(thread) => match thread.join() {
                Ok(run) => run.map_err(|e| anyhow!("the in-process server failed: {e}")),
                Err(_) => Err(anyhow!("the in-process server thread panicked")),
            },
            None => Ok(()),
        };
        drop(self.data.take());
        result
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The configuration of a server the bench starts itself.
fn bench_config(
    data_dir: &Path,
    root_password: &str,
    durable: bool,
    fast_path: bool,
) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.query.fast_path = fast_path;
    config.server.port = 0;
    config.storage.data_dir = data_dir.to_path_buf();
    config.storage.sync_writes = durable;
    config.auth.root_password = Some(root_password.to_string());
    config.logging.level = "warn".into();
    // The bench spreads subscriptions over users to respect the default
    // per-user limit of external servers; here the limit only needs to
    // stay out of the way.
    config.rate_limit.max_subscriptions_per_user = 100_000;
    // `cold_query_200k_20f` needs its 20 flushed files to stay 20: no
    // compaction merges them behind the bench's back.
    config.compaction.auto_min_files = 0;
    config
}

/// A fresh server in a child process (this binary with `--serve-child`),
/// on its own temporary directory; stopped by closing its standard input.
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    _data: TempDir,
}

impl ChildServer {
    pub fn start(root_password: &str, durable: bool, fast_path: bool) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("kalamdb-bench-child-")
            .tempdir()
            .context("cannot create the child server's data directory")?;
        let exe = std::env::current_exe().context("cannot find the bench binary")?;
        let mut cmd = Command::new(exe);
        cmd.arg("--serve-child")
            .arg(data.path())
            .env("KALAMDB_PASSWORD", root_password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !durable {
            cmd.arg("--no-durable");
        }
        cmd.arg(format!("--fast-path={fast_path}"));
        let mut child = cmd.spawn().context("cannot start the child server")?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .context("the child server has no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .context("the child server said nothing")?;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("the child server did not start: {line:?}"))?;
        Ok(Self {
            child,
            stdin,
            addr,
            _data: data,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // Closing stdin is the child's shutdown signal.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Where the memory workloads measure: with `--url` the server under test
/// (its own `memory_usage_bytes`); otherwise a fresh child server started
/// by the first of them, so neither the bench nor earlier workloads count.
pub enum MemoryServer {
    Remote,
    Child {
        password: String,
        durable: bool,
        fast_path: bool,
        running: Option<ChildServer>,
    },
}

impl MemoryServer {
    pub fn new(remote: bool, password: &str, durable: bool, fast_path: bool) -> Self {
        if remote {
            MemoryServer::Remote
        } else {
            MemoryServer::Child {
                password: password.to_string(),
                durable,
                fast_path,
                running: None,
            }
        }
    }
}

/// `--serve-child DIR`: serves a fresh server on 127.0.0.1:0 over `DIR`,
/// prints `listening <addr>` once bound, and stops when stdin closes.
pub fn serve_child(
    data_dir: &Path,
    root_password: &str,
    durable: bool,
    fast_path: bool,
) -> anyhow::Result<()> {
    let config = bench_config(data_dir, root_password, durable, fast_path);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("kalamdb-server".into())
        .spawn(move || serve(config, addr_tx, shutdown_rx))
        .context("cannot start the server thread")?;
    match addr_rx.recv() {
        Ok(Ok(addr)) => println!("listening {addr}"),
        Ok(Err(e)) => return Err(anyhow!(e)),
        Err(_) => return Err(anyhow!("the server exited before binding")),
    }
    // Until the parent closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    let _ = shutdown.send(());
    match thread.join() {
        Ok(run) => run.map_err(|e| anyhow!("the server failed: {e}")),
        Err(_) => Err(anyhow!("the server thread panicked")),
    }
}

/// Body of the server thread: binds, reports the address, serves until
/// shutdown.
fn serve(
    config: ServerConfig,
    addr_tx: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) -> Result<(), String> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kalamdb-server-rt")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let message = format!("cannot build the server runtime: {e}");
            let _ = addr_tx.send(Err(message.clone()));
            return Err(message);
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                let message = format!("cannot bind 127.0.0.1:0: {e}");
                let _ = addr_tx.send(Err(message.clone()));
                return Err(message);
            }
        };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let _ = addr_tx.send(Ok(addr));
        kalamdb_server::run(listener, config, async move {
            let _ = shutdown.await;
        })
        .await
        .map_err(|e| e.to_string())
    })
}
