//! What every workload runs with ([`Ctx`]): the admin session, the
//! WebSocket address, the plan, and the bench users (created once, their
//! tokens reused by every workload that needs per-user partitions).

use anyhow::bail;

use crate::cli::Plan;
use crate::client::Http;
use crate::server::MemoryServer;

const BENCH_USER_PASSWORD: &str = "kalamdb-bench-User-Passw0rd";

/// State shared by the workloads of one run.
pub struct Ctx {
    /// Session of `--user`, who sets up tables and users and inserts.
    pub http: Http,
    pub ws_url: String,
    pub plan: Plan,
    /// The server runs inside this process (its memory metric then counts
    /// the bench's client side too).
    pub in_process: bool,
    /// `bench.scan` holds the plan's rows, none flushed yet (left by
    /// `scan_agg_1m_hot` for `scan_agg_1m_cold`).
    pub scan_table_hot: bool,
    /// Access tokens of `bench_u0`, `bench_u1`, … created so far.
    user_tokens: Vec<String>,
    /// Where the memory workloads measure.
    pub memory_server: MemoryServer,
}

impl Ctx {
    pub fn new(http: Http, ws_url: String, plan: Plan, in_process: bool) -> Self {
        Self {
            http,
            ws_url,
            plan,
            in_process,
            scan_table_hot: false,
            user_tokens: Vec::new(),
            memory_server: MemoryServer::Remote,
        }
    }

    /// Tokens of `n` bench users (role `user`), creating and logging in
    /// the missing ones. Subscriptions are spread over them because
    /// servers cap subscriptions per user (100 by default).
    pub async fn user_tokens(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        while self.user_tokens.len() < n {
            let name = format!("bench_u{}", self.user_tokens.len());
            let create =
                format!("CREATE USER {name} WITH PASSWORD '{BENCH_USER_PASSWORD}' ROLE user");
            if let Err(e) = self.http.sql(&create).await {
                // Left over from an earlier run against the same server:
                // reset its password (a dropped user's name stays taken).
                if !e.to_string().contains("already exists") {
                    return Err(e);
                }
                self.http
                    .sql(&format!(
                        "ALTER USER {name} SET PASSWORD '{BENCH_USER_PASSWORD}'"
                    ))
                    .await?;
            }
            let token = self.http.login_as(&name, BENCH_USER_PASSWORD).await?;
            self.user_tokens.push(token);
        }
        match self.user_tokens.get(..n) {
            Some(tokens) => Ok(tokens.to_vec()),
            None => bail!("bench users missing"),
        }
    }
}
