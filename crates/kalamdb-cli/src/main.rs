//! `kalam`, KalamDB's command-line SQL shell.
//!
//! Owns the user-facing client experience: connecting and logging in, saved
//! credentials, running SQL from `-c`, `-f` or stdin, the interactive shell
//! with its `\` commands, and printing results. It talks to the server only
//! over the public HTTP/WebSocket protocol (`wire-protocol.md`); it must not
//! link the server crates (storage, SQL engine, auth) so it can never depend
//! on anything a third-party client could not do.

mod cli;
mod client;
mod credentials;
mod error;
mod live;
mod output;
mod shell;
mod split;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::cli::Args;
use crate::client::{Client, LoginError};
use crate::credentials::Saved;
use crate::error::CliError;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ERROR INTERNAL: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&runtime, args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Where the SQL comes from.
enum Input {
    Command(String),
    Text(String),
    Shell,
}

fn run(runtime: &tokio::runtime::Runtime, args: Args) -> Result<u8, CliError> {
    let stdin_tty = std::io::stdin().is_terminal();
    let input = if let Some(sql) = &args.command {
        Input::Command(sql.clone())
    } else if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
        Input::Text(text)
    } else if !stdin_tty {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("cannot read stdin: {e}")))?;
        Input::Text(text)
    } else {
        Input::Shell
    };
    let mut client = runtime.block_on(connect(&args, stdin_tty))?;
    match input {
        Input::Command(sql) | Input::Text(sql) => {
            runtime.block_on(run_script(&mut client, &sql, &args))
        }
        Input::Shell => shell::run(runtime, client, args.format),
    }
}

/// Runs every statement of `text` in order, printing each result. Stops at
/// the first error (exit 1) unless `--continue-on-error` (then exit 1 at the
/// end if any failed).
async fn run_script(client: &mut Client, text: &str, args: &Args) -> Result<u8, CliError> {
    let (mut statements, rest) = split::split(text);
    if !rest.is_empty() {
        statements.push(rest);
    }
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for stmt in statements {
        let started = Instant::now();
        match client.sql(&stmt).await {
            Ok(body) => {
                let _ = stdout.write_all(output::render_body(&body, args.format).as_bytes());
                if args.timing {
                    let _ = stdout.write_all(output::timing(started.elapsed()).as_bytes());
                }
            }
            Err(e @ CliError::Sql { .. }) => {
                let _ = stdout.flush();
                eprintln!("{e}");
                failed = true;
                if !args.continue_on_error {
                    return Ok(1);
                }
            }
            Err(e) => return Err(e),
        }
    }
    let _ = stdout.flush();
    Ok(if failed { 1 } else { 0 })
}

/// Picks credentials (flags, then the saved entry for this URL, then a
/// prompt), logs in, runs the first-run setup on a 428 when a person is at
/// the terminal, and remembers what worked unless `--no-save`.
async fn connect(args: &Args, stdin_tty: bool) -> Result<Client, CliError> {
    let url = client::normalize_url(&args.url);
    let dir = credentials::kalam_dir();
    let saved = dir.as_deref().and_then(|d| credentials::load(d, &url));
    let from_flags = args.user.is_some() || args.password.is_some() || args.token.is_some();

    if let Some(token) = &args.token {
        let client = Client::with_token(&url, token).await?;
        remember(
            args,
            &url,
            Saved {
                user: client.session().user.clone(),
                password: None,
                token: Some(token.clone()),
            },
        );
        return Ok(client);
    }
    if !from_flags && let Some(saved) = &saved {
        if let Some(password) = &saved.password {
            return login_or_setup(&url, &saved.user, password, stdin_tty).await;
        }
        if let Some(token) = &saved.token {
            return Client::with_token(&url, token).await;
        }
    }
    let user = args.user.clone().unwrap_or_else(|| "root".to_string());
    let password = match &args.password {
        Some(p) => p.clone(),
        None => match saved.as_ref().filter(|s| s.user == user) {
            Some(Saved {
                password: Some(p), ..
            }) => p.clone(),
            _ if stdin_tty => prompt_password(&format!("Password for {user}: "))?,
            _ => String::new(),
        },
    };
    let client = login_or_setup(&url, &user, &password, stdin_tty).await?;
    remember(
        args,
        &url,
        Saved {
            user: client.session().user.clone(),
            password: Some(client_password(&client, &password)),
            token: None,
        },
    );
    Ok(client)
}

/// After a setup the password that worked is root's new one, not the one
/// typed at first (which was empty).
fn client_password(client: &Client, typed: &str) -> String {
    client.password().unwrap_or(typed).to_string()
}

fn remember(args: &Args, url: &str, saved: Saved) {
    if args.no_save {
        return;
    }
    if let Some(dir) = credentials::kalam_dir()
        && let Err(e) = credentials::save(&dir, url, saved)
    {
        eprintln!("warning: {e}");
    }
}

async fn login_or_setup(
    url: &str,
    user: &str,
    password: &str,
    stdin_tty: bool,
) -> Result<Client, CliError> {
    match Client::login(url, user, password).await {
        Ok(c) => Ok(c),
        Err(LoginError::Other(e)) => Err(e),
        Err(LoginError::SetupRequired(message)) => {
            if !stdin_tty {
                return Err(CliError::Auth {
                    code: "SETUP_REQUIRED".into(),
                    message: format!(
                        "{message} Run `kalam --url {url}` in a terminal to set the root password \
                         and create a DBA user, or POST /v1/api/auth/setup, or start the server \
                         with KALAMDB_ROOT_PASSWORD set."
                    ),
                });
            }
            let root_password = setup_wizard(url, &message).await?;
            Client::login(url, "root", &root_password)
                .await
                .map_err(|e| match e {
                    LoginError::Other(e) => e,
                    LoginError::SetupRequired(m) => CliError::Auth {
                        code: "SETUP_REQUIRED".into(),
                        message: m,
                    },
                })
        }
    }
}

/// The first-run wizard (§5.5): root password twice, then a DBA user.
/// Returns root's new password.
async fn setup_wizard(url: &str, message: &str) -> Result<String, CliError> {
    println!("{message}");
    println!("This server has no root password yet. Let's set it up.");
    let root = prompt_new_password("New root password: ")?;
    print!("Name of the DBA user to create [admin]: ");
    let _ = std::io::stdout().flush();
    let mut name = String::new();
    std::io::stdin()
        .read_line(&mut name)
        .map_err(|e| CliError::Usage(format!("cannot read the user name: {e}")))?;
    let name = match name.trim() {
        "" => "admin",
        n => n,
    };
    let dba = prompt_new_password(&format!("Password for {name}: "))?;
    let done = client::setup(url, name, &dba, &root).await?;
    println!("{done}");
    Ok(root)
}

fn prompt_new_password(prompt: &str) -> Result<String, CliError> {
    loop {
        let first = prompt_password(prompt)?;
        let again = prompt_password("Repeat: ")?;
        if first == again {
            return Ok(first);
        }
        println!("The passwords differ; try again.");
    }
}

fn prompt_password(prompt: &str) -> Result<String, CliError> {
    rpassword::prompt_password(prompt)
        .map_err(|e| CliError::Usage(format!("cannot read a password: {e}")))
}
