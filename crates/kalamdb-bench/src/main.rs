//! `kalamdb-bench`: the one tool behind KalamDB's performance numbers.
//!
//! It owns the workloads of issue 7, their timing and the table (and JSON)
//! they produce. It talks to the server only over the public wire protocol
//! (HTTP + WebSocket, `wire-protocol.md`), so the same run can target our
//! server or any other that speaks the protocol (`--url`). Without `--url`
//! it starts a fresh `kalamdb-server` in process on a temporary directory —
//! the only use it makes of the server crate; it must never reach into the
//! engine to take a shortcut or read a number. `--compare` runs the same
//! workloads against a second target and prints both side by side.

mod cli;
mod client;
mod ctx;
mod machine;
mod report;
mod server;
mod workloads;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::Args;
use crate::client::Http;
use crate::ctx::Ctx;
use crate::report::{Header, Outcome, Row};
use crate::server::InProcessServer;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.serve_child {
        let password = args.password.clone().unwrap_or_default();
        return match server::serve_child(dir, &password, args.durable(), args.fast_path()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kalamdb-bench --serve-child: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&args) {
        Ok(rows) if rows.iter().any(|r| matches!(r.outcome, Outcome::Failed(_))) => {
            eprintln!("kalamdb-bench: some workloads failed");
            ExitCode::FAILURE
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kalamdb-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A server the workloads run against.
enum Target {
    Url { base: String, password: String },
    InProcess { password: String, fast_path: bool },
}

impl Target {
    fn primary(args: &Args) -> anyhow::Result<Self> {
        match &args.url {
            Some(url) => {
                if args.no_durable || args.durable || args.fast_path.is_some() {
                    eprintln!(
                        "kalamdb-bench: --durable/--no-durable/--fast-path only apply to the in-process server; ignored"
                    );
                }
                let password = args
                    .password
                    .clone()
                    .context("--password (or KALAMDB_PASSWORD) is required with --url")?;
                Ok(Target::Url {
                    base: url.trim_end_matches('/').to_string(),
                    password,
                })
            }
            None => Ok(Target::InProcess {
                password: args
                    .password
                    .clone()
                    .unwrap_or_else(|| cli::IN_PROCESS_PASSWORD.to_string()),
                fast_path: args.fast_path(),
            }),
        }
    }

    fn compared(args: &Args, what: &str) -> anyhow::Result<Self> {
        if what == "in-process" {
            return Ok(Target::InProcess {
                password: cli::IN_PROCESS_PASSWORD.to_string(),
                fast_path: args.compare_fast_path,
            });
        }
        let password = args
            .compare_password
            .clone()
            .or_else(|| args.password.clone())
            .context("--compare-password (or --password) is required with --compare URL")?;
        Ok(Target::Url {
            base: what.trim_end_matches('/').to_string(),
            password,
        })
    }
}

fn run(args: &Args) -> anyhow::Result<Vec<Row>> {
    let selected = workloads::select(&args.only).map_err(anyhow::Error::msg)?;
    let fsync_p50_ms = match machine::fsync_p50_ms() {
        Ok(ms) => Some(ms),
        Err(e) => {
            eprintln!("kalamdb-bench: fsync probe failed: {e}");
            None
        }
    };
    let (header, rows) = run_target(args, &selected, Target::primary(args)?, fsync_p50_ms)?;
    let mut json = report::to_json(&header, &rows);
    if let Some(what) = &args.compare {
        println!();
        let (other_header, other_rows) =
            run_target(args, &selected, Target::compared(args, what)?, fsync_p50_ms)?;
        println!();
        print!(
            "{}",
            report::comparison(&header.target, &rows, &other_header.target, &other_rows)
        );
        if let Some(obj) = json.as_object_mut() {
            obj.insert(
                "compare".into(),
                report::to_json(&other_header, &other_rows),
            );
        }
        if let Some(path) = &args.json {
            write_json(path, &json)?;
        }
        let mut all = rows;
        all.extend(other_rows);
        return Ok(all);
    }
    if let Some(path) = &args.json {
        write_json(path, &json)?;
    }
    Ok(rows)
}

fn write_json(path: &std::path::Path, json: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(json)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `selected` against one target, printing its header and table.
fn run_target(
    args: &Args,
    selected: &[workloads::Spec],
    target: Target,
    fsync_p50_ms: Option<f64>,
) -> anyhow::Result<(Header, Vec<Row>)> {
    let (mut server, base, password, fast_path) = match target {
        Target::Url { base, password } => (None, base, password, true),
        Target::InProcess {
            password,
            fast_path,
        } => {
            let server = InProcessServer::start(&password, args.durable(), fast_path)?;
            let base = server.base_url();
            (Some(server), base, password, fast_path)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kalamdb-bench-client")
        .build()
        .context("cannot build the client runtime")?;
    let in_process = server.is_some();
    let result = runtime.block_on(async {
        let http = Http::login(&base, &args.user, &password).await?;
        let durable = http
            .stat("durable_writes")
            .await
            .ok()
            .flatten()
            .and_then(|v| v.parse::<bool>().ok());
        let header = Header {
            target: if in_process {
                let path = if fast_path { "" } else { ", fast path off" };
                format!("in-process kalamdb-server ({base}{path})")
            } else {
                base.clone()
            },
            durable,
            cores: machine::cores(),
            fsync_p50_ms,
            quick: args.quick,
        };
        print!("{}", header.render());
        println!("{}", report::table_heading());
        let ws_url = client::ws_url(&base)?;
        let mut ctx = Ctx::new(http, ws_url, args.plan(), in_process);
        ctx.memory_server =
            server::MemoryServer::new(!in_process, &password, args.durable(), fast_path);
        let mut rows = Vec::with_capacity(selected.len());
        for spec in selected {
            if spec.kind.is_some() {
                eprintln!("running {} …", spec.name);
            }
            let row = workloads::run(*spec, &mut ctx).await;
            println!("{}", row.render());
            rows.push(row);
        }
        Ok::<_, anyhow::Error>((header, rows))
    });
    // Client sockets go first so the server's shutdown has nothing to drain.
    drop(runtime);
    if let Some(server) = server.as_mut() {
        server.stop()?;
    }
    result
}
