//! `kalamdb-server`: starts the server from flags, environment and an
//! optional `server.toml`, and stops cleanly on SIGINT/SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kalamdb_server::{Overrides, ServerConfig};
use tracing_subscriber::EnvFilter;

/// KalamDB: a SQL-first realtime database.
#[derive(Debug, Parser)]
#[command(name = "kalamdb-server", version)]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long, env = "KALAMDB_SERVER_HOST")]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one [default: 8080].
    #[arg(long, env = "KALAMDB_SERVER_PORT")]
    port: Option<u16>,
    /// Data directory [default: ./data].
    #[arg(long, env = "KALAMDB_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[arg(
        long,
        env = "KALAMDB_ROOT_PASSWORD",
        hide_env_values = true,
        hide = true
    )]
    root_password: Option<String>,
    #[arg(long, env = "KALAMDB_JWT_SECRET", hide_env_values = true, hide = true)]
    jwt_secret: Option<String>,
    /// Log filter (`info`, `debug`, …).
    #[arg(long, env = "KALAMDB_LOG_LEVEL")]
    log_level: Option<String>,
    /// `false` sends every statement through DataFusion's planner, skipping
    /// the fast path for point writes and reads [default: true].
    #[arg(long, env = "KALAMDB_QUERY_FAST_PATH", value_name = "BOOL")]
    fast_path: Option<bool>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        host: cli.host,
        port: cli.port,
        data_dir: cli.data_dir,
        root_password: cli.root_password,
        jwt_secret: cli.jwt_secret,
        log_level: cli.log_level,
        fast_path: cli.fast_path,
    };
    let config = match ServerConfig::load(cli.config.as_deref(), overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kalamdb-server: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kalamdb-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("kalamdb-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let addr = format!("{}:{}", config.server.host, config.server.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    kalamdb_server::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; draining connections");
}

fn init_logging(config: &ServerConfig) {
    let filter =
        EnvFilter::try_new(&config.logging.level).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if config.logging.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
