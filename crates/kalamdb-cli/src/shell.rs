//! The interactive shell: a rustyline editor with a history file, SQL
//! statements over several lines until `;`, `\` commands, and completion of
//! keywords, commands and the server's namespaces, tables and columns.
//! Ctrl-C clears the current input or cancels the request in flight (its
//! future is dropped); Ctrl-D leaves.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Config, Context, Editor, Helper};
use serde_json::Value;

use crate::client::Client;
use crate::error::CliError;
use crate::output::{self, Format};
use crate::{credentials, live, split};

const HELP: &str = "\
SQL statements end with `;` and may span lines. Ctrl-C clears the input or
cancels a running query; Ctrl-D or \\q exits.

  \\q                 quit
  \\?                 this help
  \\dn                list namespaces
  \\dt [ns]           list tables (of one namespace)
  \\d ns.table        describe a table: columns, types, key, table type, flush policy
  \\du                list users
  \\health            server health check
  \\info              connection details
  \\format table|json|csv   output format
  \\timing            toggle `Time: … ms` after each statement
  \\subscribe SELECT … FROM ns.table [WHERE …]   live query until Ctrl-C
  \\unsubscribe       (a subscription ends with Ctrl-C, which unsubscribes)
  \\as user SQL       run one statement as another user (EXECUTE AS USER)
  \\flush ns.table    flush a table to cold storage (STORAGE FLUSH TABLE)
";

const COMMANDS: &[&str] = &[
    "\\q",
    "\\?",
    "\\dn",
    "\\dt",
    "\\d",
    "\\du",
    "\\health",
    "\\info",
    "\\format",
    "\\timing",
    "\\subscribe",
    "\\unsubscribe",
    "\\as",
    "\\flush",
];

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "BETWEEN",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "ASC",
    "DESC",
    "AS",
    "JOIN",
    "LEFT",
    "INNER",
    "ON",
    "DISTINCT",
    "COUNT",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "TABLE",
    "NAMESPACE",
    "USER",
    "SHARED",
    "STREAM",
    "IF",
    "EXISTS",
    "PRIMARY",
    "KEY",
    "DEFAULT",
    "BIGINT",
    "INT",
    "TEXT",
    "BOOLEAN",
    "DOUBLE",
    "TIMESTAMP",
    "SHOW",
    "TABLES",
    "NAMESPACES",
    "DESCRIBE",
    "STORAGE",
    "FLUSH",
    "EXECUTE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "WITH",
    "FLUSH_POLICY",
    "TTL_SECONDS",
    "ACCESS_LEVEL",
    "PASSWORD",
    "ROLE",
    "SUBSCRIBE",
    "TO",
    "SNOWFLAKE_ID",
    "NOW",
    "CURRENT_USER",
];

/// Names offered by completion; refreshed at start and after DDL.
#[derive(Default)]
struct Names {
    namespaces: BTreeSet<String>,
    tables: BTreeSet<String>,
    columns: BTreeSet<String>,
}

struct KalamHelper {
    names: Arc<Mutex<Names>>,
}

impl Completer for KalamHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let head = line.get(..pos).unwrap_or(line);
        let start = head
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '\\'))
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let word = head.get(start..).unwrap_or("");
        let names = match self.names.lock() {
            Ok(n) => n,
            Err(p) => p.into_inner(),
        };
        Ok((start, candidates(word, &names)))
    }
}

/// Completions for the word under the cursor: `\` commands, keywords (in
/// the case the user types), namespaces, `ns.table` and column names.
fn candidates(word: &str, names: &Names) -> Vec<String> {
    if word.is_empty() {
        return Vec::new();
    }
    if word.starts_with('\\') {
        let mut out: Vec<String> = COMMANDS
            .iter()
            .filter(|c| c.starts_with(word))
            .map(|c| c.to_string())
            .collect();
        out.sort();
        return out;
    }
    let lower = word.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    if !word.contains('.') {
        let lowercase_typed = word.chars().next().is_some_and(char::is_lowercase);
        out.extend(
            KEYWORDS
                .iter()
                .filter(|k| k.to_ascii_lowercase().starts_with(&lower))
                .map(|k| {
                    if lowercase_typed {
                        k.to_ascii_lowercase()
                    } else {
                        k.to_string()
                    }
                }),
        );
        out.extend(
            names
                .namespaces
                .iter()
                .filter(|n| n.starts_with(word))
                .cloned(),
        );
        out.extend(
            names
                .columns
                .iter()
                .filter(|n| n.starts_with(word))
                .cloned(),
        );
    }
    out.extend(names.tables.iter().filter(|n| n.starts_with(word)).cloned());
    out.sort();
    out.dedup();
    out
}

impl Hinter for KalamHelper {
    type Hint = String;
}
impl Highlighter for KalamHelper {}
impl Validator for KalamHelper {}
impl Helper for KalamHelper {}

struct Shell {
    client: Client,
    format: Format,
    timing: bool,
    names: Arc<Mutex<Names>>,
}

/// Runs the shell until `\q` or Ctrl-D. Returns the exit code.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    client: Client,
    format: Format,
) -> Result<u8, CliError> {
    let names = Arc::new(Mutex::new(Names::default()));
    let config = Config::builder().auto_add_history(false).build();
    let mut editor: Editor<KalamHelper, FileHistory> = Editor::with_config(config)
        .map_err(|e| CliError::Usage(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(KalamHelper {
        names: names.clone(),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut shell = Shell {
        client,
        format,
        timing: true,
        names,
    };
    let host = shell
        .client
        .base()
        .split_once("://")
        .map(|(_, h)| h.to_string())
        .unwrap_or_else(|| shell.client.base().to_string());
    let prompt = format!("kalam ({}@{host})> ", shell.client.session().user);
    println!(
        "Connected to {} as {} ({}). Type \\? for help.",
        shell.client.base(),
        shell.client.session().user,
        shell.client.session().role
    );
    runtime.block_on(shell.refresh_names());

    let mut buffer = String::new();
    loop {
        let p = if buffer.is_empty() {
            prompt.as_str()
        } else {
            "...> "
        };
        match editor.readline(p) {
            Ok(line) => {
                if buffer.is_empty() && line.trim_start().starts_with('\\') {
                    let line = line.trim().to_string();
                    remember(&mut editor, &history, &line);
                    if line == "\\q" || line == "\\quit" {
                        break;
                    }
                    if let Err(e) = runtime.block_on(shell.command(&line)) {
                        eprintln!("{e}");
                    }
                    continue;
                }
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                let (statements, rest) = split::split(&buffer);
                if statements.is_empty() {
                    if rest.is_empty() {
                        buffer.clear();
                    }
                    continue;
                }
                let entry = buffer
                    .get(..buffer.len() - rest.len())
                    .unwrap_or(&buffer)
                    .trim()
                    .to_string();
                remember(&mut editor, &history, &entry);
                buffer = rest;
                for stmt in statements {
                    if let Err(e) = runtime.block_on(shell.execute(&stmt)) {
                        eprintln!("{e}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Usage(format!("terminal error: {e}"))),
        }
    }
    Ok(0)
}

fn history_path() -> Option<PathBuf> {
    let dir = credentials::kalam_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// Adds to history and saves at once, so a killed shell keeps it too.
fn remember(editor: &mut Editor<KalamHelper, FileHistory>, path: &Option<PathBuf>, entry: &str) {
    if entry.is_empty() {
        return;
    }
    let _ = editor.add_history_entry(entry);
    if let Some(path) = path {
        let _ = editor.save_history(path);
    }
}

impl Shell {
    /// Runs SQL, cancelled by Ctrl-C (the request future is dropped).
    async fn sql(&mut self, sql: &str) -> Result<Value, CliError> {
        tokio::select! {
            r = self.client.sql(sql) => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::Cancelled),
        }
    }

    /// One SQL statement: print results (and timing), refresh completion
    /// names after DDL.
    async fn execute(&mut self, stmt: &str) -> Result<(), CliError> {
        let started = Instant::now();
        let body = self.sql(stmt).await?;
        print!("{}", output::render_body(&body, self.format));
        if self.timing {
            print!("{}", output::timing(started.elapsed()));
        }
        let first = stmt
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if matches!(first.as_str(), "CREATE" | "DROP" | "ALTER") {
            self.refresh_names().await;
        }
        Ok(())
    }

    async fn query_print(&mut self, sql: &str) -> Result<(), CliError> {
        let body = self.sql(sql).await?;
        print!("{}", output::render_body(&body, self.format));
        Ok(())
    }

    async fn command(&mut self, line: &str) -> Result<(), CliError> {
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        match cmd {
            "\\?" | "\\help" | "\\h" => print!("{HELP}"),
            "\\dn" => {
                self.query_print(
                    "SELECT name, table_count, created_at FROM system.namespaces ORDER BY name",
                )
                .await?
            }
            "\\dt" => {
                let filter = if arg.is_empty() {
                    "namespace_id <> 'system'".to_string()
                } else {
                    format!("namespace_id = {}", quote(arg))
                };
                self.query_print(&format!(
                    "SELECT namespace_id, table_name, table_type, storage_id, created_at \
                     FROM system.tables WHERE {filter} ORDER BY namespace_id, table_name"
                ))
                .await?
            }
            "\\d" => self.describe(arg).await?,
            "\\du" => {
                self.query_print(
                    "SELECT user_id, role, email, auth_type, created_at, last_login_at \
                     FROM system.users ORDER BY user_id",
                )
                .await?
            }
            "\\health" => {
                let body = self.client.health().await?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string())
                );
            }
            "\\info" => {
                let version = self
                    .client
                    .health()
                    .await
                    .ok()
                    .and_then(|b| b.get("version").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| "unknown".into());
                let s = self.client.session();
                println!("Server:  {}", self.client.base());
                println!("User:    {}", s.user);
                println!("Role:    {}", s.role);
                println!("Version: {version}");
                println!("Format:  {:?}", self.format);
                println!("Timing:  {}", if self.timing { "on" } else { "off" });
            }
            "\\format" => match Format::parse(arg) {
                Some(f) => {
                    self.format = f;
                    println!("Output format is {arg}.");
                }
                None => {
                    return Err(CliError::Usage(
                        "\\format takes table, json or csv".to_string(),
                    ));
                }
            },
            "\\timing" => {
                self.timing = !self.timing;
                println!("Timing is {}.", if self.timing { "on" } else { "off" });
            }
            "\\subscribe" => {
                if arg.is_empty() {
                    return Err(CliError::Usage(
                        "\\subscribe SELECT … FROM ns.table [WHERE …]".to_string(),
                    ));
                }
                let sql = arg.trim_end_matches(';').trim();
                live::subscribe(&self.client, sql, self.format).await?
            }
            "\\unsubscribe" => {
                println!(
                    "No active subscription: \\subscribe runs until Ctrl-C, which unsubscribes."
                )
            }
            "\\as" => {
                let Some((user, sql)) = arg.split_once(char::is_whitespace) else {
                    return Err(CliError::Usage("\\as user SQL".to_string()));
                };
                let sql = sql.trim().trim_end_matches(';').trim();
                let stmt = format!("EXECUTE AS USER {} ({sql})", quote(user));
                self.execute(&stmt).await?
            }
            "\\flush" => {
                if arg.is_empty() {
                    return Err(CliError::Usage("\\flush ns.table".to_string()));
                }
                self.execute(&format!("STORAGE FLUSH TABLE {arg}")).await?
            }
            other => {
                return Err(CliError::Usage(format!(
                    "unknown command {other}; \\? lists the commands"
                )));
            }
        }
        Ok(())
    }

    /// `\d ns.table`: DESCRIBE TABLE for the columns, system.tables for the
    /// table type, storage and flush policy.
    async fn describe(&mut self, arg: &str) -> Result<(), CliError> {
        if arg.is_empty() {
            return Err(CliError::Usage("\\d ns.table".to_string()));
        }
        let body = self.sql(&format!("DESCRIBE TABLE {arg}")).await?;
        let result = body.pointer("/results/0").cloned().unwrap_or(Value::Null);
        let cols = output::columns(&result);
        let wanted = [
            "column_name",
            "data_type",
            "is_nullable",
            "is_primary_key",
            "column_default",
        ];
        let idx: Vec<usize> = wanted
            .iter()
            .filter_map(|w| cols.iter().position(|c| c == w))
            .collect();
        let rows: Vec<Vec<Value>> = result
            .get("rows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .map(|r| {
                idx.iter()
                    .map(|&i| r.get(i).cloned().unwrap_or(Value::Null))
                    .collect()
            })
            .collect();
        let headers: Vec<String> = idx.iter().filter_map(|&i| cols.get(i).cloned()).collect();
        println!("Table {arg}");
        print!("{}", output::render_rows(&headers, &rows, self.format));
        let (ns, table) = match arg.split_once('.') {
            Some((n, t)) => (n, t),
            None => ("default", arg),
        };
        let meta = self
            .sql(&format!(
                "SELECT table_type, storage_id, options FROM system.tables \
                 WHERE namespace_id = {} AND table_name = {}",
                quote(ns),
                quote(table)
            ))
            .await?;
        if let Some(row) = meta.pointer("/results/0/rows/0").and_then(Value::as_array) {
            let text = |i: usize| match row.get(i) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "NULL".to_string(),
                Some(v) => v.to_string(),
            };
            println!("Table type: {}", text(0));
            println!("Storage:    {}", text(1));
            println!("Flush policy: {}", flush_policy(row.get(2)));
        }
        Ok(())
    }

    /// Reloads namespaces, tables and columns for completion; failures only
    /// mean fewer completions.
    async fn refresh_names(&mut self) {
        let mut fresh = Names::default();
        let first_col = |body: &Value| -> Vec<Vec<String>> {
            body.pointer("/results/0/rows")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .map(|r| {
                    r.iter()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .collect()
        };
        if let Ok(b) = self.client.sql("SELECT name FROM system.namespaces").await {
            for r in first_col(&b) {
                fresh.namespaces.extend(r.into_iter().next());
            }
        }
        if let Ok(b) = self
            .client
            .sql("SELECT namespace_id, table_name FROM system.tables")
            .await
        {
            for r in first_col(&b) {
                if let [ns, t] = r.as_slice() {
                    fresh.tables.insert(format!("{ns}.{t}"));
                }
            }
        }
        if let Ok(b) = self
            .client
            .sql("SELECT DISTINCT column_name FROM information_schema.columns")
            .await
        {
            for r in first_col(&b) {
                fresh.columns.extend(r.into_iter().next());
            }
        }
        match self.names.lock() {
            Ok(mut n) => *n = fresh,
            Err(p) => *p.into_inner() = fresh,
        }
    }
}

/// The flush policy out of `system.tables.options` (a JSON document, sent
/// as a string): whatever key names it, else the whole options text.
fn flush_policy(options: Option<&Value>) -> String {
    let parsed = match options {
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.clone()))
        }
        Some(v) => v.clone(),
        None => Value::Null,
    };
    match parsed.get("flush_policy") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None if parsed.is_object() => "none".to_string(),
        Some(v) => v.to_string(),
        None => parsed.to_string(),
    }
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        Names {
            namespaces: ["app".to_string()].into(),
            tables: ["app.messages".to_string()].into(),
            columns: ["body".to_string()].into(),
        }
    }

    #[test]
    fn completes_commands_keywords_and_names() {
        let n = names();
        assert_eq!(candidates("\\d", &n), vec!["\\d", "\\dn", "\\dt", "\\du"]);
        assert_eq!(candidates("sel", &n), vec!["select"]);
        assert_eq!(candidates("SEL", &n), vec!["SELECT"]);
        assert!(candidates("ap", &n).contains(&"app".to_string()));
        assert_eq!(candidates("app.m", &n), vec!["app.messages"]);
        assert!(candidates("bo", &n).contains(&"body".to_string()));
        assert!(candidates("", &n).is_empty());
    }

    #[test]
    fn flush_policy_is_read_from_options() {
        let o = json!("{\"flush_policy\":\"rows:1000\",\"ttl\":null}");
        assert_eq!(flush_policy(Some(&o)), "rows:1000");
        assert_eq!(flush_policy(Some(&json!("{}"))), "none");
        assert_eq!(quote("it's"), "'it''s'");
    }
}
