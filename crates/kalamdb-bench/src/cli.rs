//! Command-line arguments and the run plan they imply. Sizes live here, in
//! one place, so `--quick` and a full run differ only by these numbers and
//! a result always says which plan produced it.

use std::path::PathBuf;

use clap::Parser;

/// Root's password of the in-process server when none is given.
pub const IN_PROCESS_PASSWORD: &str = "kalamdb-bench-Root-Passw0rd";

/// Benchmarks a KalamDB server (or any server speaking the same HTTP and
/// WebSocket protocol) and prints one row per workload.
#[derive(Debug, Parser)]
#[command(name = "kalamdb-bench", version)]
pub struct Args {
    /// Base URL of a running server (`http://host:port`). Without it a fresh
    /// server is started in process on a temporary directory and port 0.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// User the bench logs in as; it must be allowed to create namespaces,
    /// tables and users (dba or system).
    #[arg(long, default_value = "root")]
    pub user: String,
    /// Password of `--user` [default with no --url: the in-process root's].
    #[arg(long, env = "KALAMDB_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Smaller sizes: the whole run takes under a minute (CI smoke).
    #[arg(long)]
    pub quick: bool,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Run only these workloads (comma-separated names).
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    pub only: Vec<String>,
    /// In-process server: fsync every write before acknowledging it (default).
    #[arg(long, overrides_with = "no_durable")]
    pub durable: bool,
    /// In-process server: acknowledge writes without fsync
    /// (`storage.sync_writes = false`).
    #[arg(long = "no-durable", overrides_with = "durable")]
    pub no_durable: bool,
    /// In-process servers: `[query] fast_path` (false plans every
    /// statement through DataFusion) [default: true].
    #[arg(long, value_name = "BOOL")]
    pub fast_path: Option<bool>,
    /// Also run the same workloads against a second target, then print both
    /// columns side by side with their ratio: a URL, or `in-process` for a
    /// second fresh in-process server (see `--compare-fast-path`).
    #[arg(long, value_name = "URL|in-process")]
    pub compare: Option<String>,
    /// `--compare in-process`: its `[query] fast_path`.
    #[arg(long, value_name = "BOOL", default_value_t = false)]
    pub compare_fast_path: bool,
    /// Password of `--user` on the `--compare` URL [default: --password].
    #[arg(long, env = "KALAMDB_COMPARE_PASSWORD", hide_env_values = true)]
    pub compare_password: Option<String>,
    /// Internal: serve a fresh server over this directory until stdin
    /// closes (the memory workloads' server, in a process of its own).
    #[arg(long, value_name = "DIR", hide = true)]
    pub serve_child: Option<PathBuf>,
}

impl Args {
    /// Whether the in-process server fsyncs writes.
    pub fn durable(&self) -> bool {
        !self.no_durable
    }

    /// `[query] fast_path` of the in-process server.
    pub fn fast_path(&self) -> bool {
        self.fast_path.unwrap_or(true)
    }

    pub fn plan(&self) -> Plan {
        if self.quick { Plan::QUICK } else { Plan::FULL }
    }
}

/// How much work each workload does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Sequential inserts of the `live_latency_*` workloads.
    pub latency_inserts: usize,
    /// Inserts of `live_fanout_1000`, spread over its writers.
    pub fanout_inserts: usize,
    /// Subscribes measured by `live_initial_1000`.
    pub initial_repeats: usize,
    /// Connections opened by `ws_connect_1000`.
    pub connections: usize,
    /// Rows of each `insert_single_*` workload.
    pub single_inserts: usize,
    /// Statements of `insert_batch_50`.
    pub batch50_statements: usize,
    /// Statements of `insert_batch_1000`.
    pub batch1000_statements: usize,
    /// Point SELECTs of each `select_pk_*` workload.
    pub pk_selects: usize,
    /// Users (one row each) of `select_pk_user_10k`.
    pub pk_users: usize,
    /// Rows of the `scan_agg_1m_*` table.
    pub scan_rows: usize,
    /// Queries of each scan workload (`scan_agg_*`, `cold_query_*`).
    pub scan_runs: usize,
    /// Rows of each of the 20 Parquet files of `cold_query_200k_20f`.
    pub cold_rows_per_file: usize,
    /// Hot rows `flush_throughput` flushes.
    pub flush_rows: usize,
    /// Users created, then logged in once each, by `memory_users_logins`.
    pub memory_users: usize,
    /// Sequential logins of `login_seq`.
    pub logins: usize,
    /// Seconds `memory_idle_fresh` and `memory_after_idle` leave the server
    /// alone before reading: longer than the server keeps unused Argon2
    /// sets (1 s) and than jemalloc takes to decay freed small pages (10 s).
    pub memory_idle_secs: u64,
}

impl Plan {
    pub const FULL: Plan = Plan {
        latency_inserts: 200,
        fanout_inserts: 200,
        initial_repeats: 20,
        connections: 1000,
        single_inserts: 5000,
        batch50_statements: 200,
        batch1000_statements: 50,
        pk_selects: 5000,
        pk_users: 10_000,
        scan_rows: 1_000_000,
        scan_runs: 10,
        cold_rows_per_file: 10_000,
        flush_rows: 200_000,
        memory_users: 1000,
        logins: 200,
        memory_idle_secs: 12,
    };
    pub const QUICK: Plan = Plan {
        latency_inserts: 50,
        fanout_inserts: 50,
        initial_repeats: 5,
        connections: 200,
        single_inserts: 500,
        batch50_statements: 20,
        batch1000_statements: 5,
        pk_selects: 500,
        pk_users: 1000,
        scan_rows: 100_000,
        scan_runs: 3,
        cold_rows_per_file: 2_000,
        flush_rows: 20_000,
        memory_users: 100,
        logins: 30,
        memory_idle_secs: 2,
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_root_durable_full() {
        let args = Args::try_parse_from(["kalamdb-bench"]).unwrap();
        assert_eq!(args.user, "root");
        assert!(args.durable());
        assert_eq!(args.plan(), Plan::FULL);
        assert!(args.only.is_empty());
    }

    #[test]
    fn only_is_split_on_commas_and_quick_shrinks_the_plan() {
        let args = Args::try_parse_from([
            "kalamdb-bench",
            "--quick",
            "--only",
            "live_latency_1,ws_connect_1000",
        ])
        .unwrap();
        assert_eq!(args.only, ["live_latency_1", "ws_connect_1000"]);
        assert_eq!(args.plan(), Plan::QUICK);
    }

    #[test]
    fn the_last_durability_flag_wins() {
        let args = Args::try_parse_from(["kalamdb-bench", "--durable", "--no-durable"]).unwrap();
        assert!(!args.durable());
        let args = Args::try_parse_from(["kalamdb-bench", "--no-durable", "--durable"]).unwrap();
        assert!(args.durable());
    }
}
