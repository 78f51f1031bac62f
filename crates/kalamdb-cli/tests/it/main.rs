//! End-to-end tests of the built `kalam` binary against a real server
//! (`TestServer`, in process): the non-interactive modes through pipes, and
//! the interactive shell through a pseudo-terminal (rexpect), waiting on the
//! expected output rather than sleeping.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "../../../kalamdb-server/tests/it/common.rs"]
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{ROOT_PASSWORD, TestServer};
use tempfile::TempDir;

const KALAM: &str = env!("CARGO_BIN_EXE_kalam");

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `kalam` against `server` as root, HOME in `home`, stdin closed.
fn kalam(server: &TestServer, home: &TempDir, args: &[&str]) -> Command {
    let mut cmd = Command::new(KALAM);
    cmd.env("HOME", home.path())
        .env_remove("KALAM_URL")
        .env_remove("KALAM_PASSWORD")
        .arg("--url")
        .arg(server.url(""))
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn as_root<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["-u", "root", "-p", ROOT_PASSWORD];
    v.extend_from_slice(rest);
    v
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn seeded() -> TestServer {
    let server = TestServer::start();
    block(server.sql(
        "CREATE NAMESPACE app; \
         CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED'); \
         INSERT INTO app.items VALUES (1, 'first'), (2, NULL)",
    ));
    server
}

#[test]
fn command_prints_an_aligned_table_with_row_count_and_null() {
    let server = seeded();
    let home = TempDir::new().unwrap();
    let out = kalam(
        &server,
        &home,
        &as_root(&["-c", "SELECT id, title FROM app.items ORDER BY id"]),
    )
    .output()
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("(2 rows)"), "{stdout}");
    let first = stdout.lines().find(|l| l.contains("first")).unwrap();
    assert!(first.contains('1'), "{stdout}");
    let second = stdout.lines().find(|l| l.contains("NULL")).unwrap();
    assert!(second.contains('2'), "{stdout}");
    // Aligned: every table line has the same display width.
    let widths: Vec<usize> = stdout
        .lines()
        .filter(|l| !l.starts_with('('))
        .map(|l| l.chars().count())
        .collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{stdout}");
}

#[test]
fn json_and_csv_formats() {
    let server = seeded();
    let home = TempDir::new().unwrap();
    let sql = "SELECT id, title FROM app.items ORDER BY id";
    let out = kalam(&server, &home, &as_root(&["-c", sql, "--format", "json"]))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{"id":"1","title":"first"},{"id":"2","title":null}])
    );
    let out = kalam(&server, &home, &as_root(&["-c", sql, "--format", "csv"]))
        .output()
        .unwrap();
    assert_eq!(text(&out).0, "id,title\n1,first\n2,\n");
}

#[test]
fn file_stops_at_the_first_error_unless_continue_on_error() {
    let server = seeded();
    let home = TempDir::new().unwrap();
    let file = home.path().join("script.sql");
    std::fs::write(
        &file,
        "INSERT INTO app.items VALUES (10, 'before');\n\
         SELECT * FROM app.missing;\n\
         INSERT INTO app.items VALUES (11, 'after');\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = kalam(&server, &home, &as_root(&["-f", path]))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("Inserted 1 row(s)"), "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("ERROR TABLE_NOT_FOUND: "), "{stderr}");
    let rows = block(server.rows("SELECT id FROM app.items WHERE id >= 10 ORDER BY id"));
    assert_eq!(rows, vec![serde_json::json!(["10"])]);

    std::fs::write(
        &file,
        "SELECT * FROM app.missing;\nINSERT INTO app.items VALUES (12, 'kept going');\n",
    )
    .unwrap();
    let out = kalam(
        &server,
        &home,
        &as_root(&["-f", path, "--continue-on-error"]),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = block(server.rows("SELECT title FROM app.items WHERE id = 12"));
    assert_eq!(rows, vec![serde_json::json!(["kept going"])]);
}

#[test]
fn sql_from_piped_stdin() {
    let server = seeded();
    let home = TempDir::new().unwrap();
    let mut child = kalam(&server, &home, &as_root(&["--format", "csv"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"-- a comment; with a semicolon\nSELECT 'a;b' AS x;\nSELECT title FROM app.items WHERE id = 1;\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "x\na;b\ntitle\nfirst\n");
}

#[test]
fn bad_password_is_a_one_line_auth_error_with_exit_2() {
    let server = seeded();
    let home = TempDir::new().unwrap();
    let out = kalam(
        &server,
        &home,
        &["-u", "root", "-p", "not-the-password", "-c", "SELECT 1"],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr, "ERROR UNAUTHORIZED: Invalid credentials\n");
    assert!(!home.path().join(".kalam/credentials.json").exists());
}

#[test]
fn saved_credentials_are_private_and_reused() {
    use std::os::unix::fs::PermissionsExt;
    let server = seeded();
    let home = TempDir::new().unwrap();
    let out = kalam(&server, &home, &as_root(&["-c", "SELECT 1 AS one"]))
        .output()
        .unwrap();
    assert!(out.status.success());
    let file = home.path().join(".kalam/credentials.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(home.path().join(".kalam"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved[server.url("")]["user"], "root");
    // No flags: the saved entry logs in.
    let out = kalam(
        &server,
        &home,
        &[
            "-c",
            "SELECT title FROM app.items WHERE id = 1",
            "--format",
            "csv",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(text(&out).0, "title\nfirst\n");
}

mod interactive {
    use super::*;
    use rexpect::session::{PtySession, spawn_command};

    /// `kalam` on a pty as `user`. A fresh pty reports 0x0; it gets a real
    /// size first, as a terminal emulator would, so line editing redraws
    /// normally.
    fn spawn_as(server: &TestServer, home: &TempDir, user: &str, password: &str) -> PtySession {
        let mut cmd = Command::new("sh");
        cmd.env("HOME", home.path())
            .env("TERM", "xterm")
            .env_remove("KALAM_URL")
            .env_remove("KALAM_PASSWORD")
            .args(["-c", "stty cols 120 rows 40; exec \"$0\" \"$@\"", KALAM])
            .args(["--url", &server.url(""), "-u", user, "-p", password]);
        spawn_command(cmd, Some(20_000)).unwrap()
    }

    fn shell(server: &TestServer, home: &TempDir) -> PtySession {
        let mut p = spawn_as(server, home, "root", ROOT_PASSWORD);
        p.exp_string("kalam (root@").unwrap();
        p
    }

    #[test]
    fn first_run_setup_from_the_shell() {
        // A server whose root has no password answers login with 428.
        let server = TestServer::start_with(std::sync::Arc::new(TempDir::new().unwrap()), |c| {
            c.auth.root_password = None
        });
        let home = TempDir::new().unwrap();
        // Without a terminal the CLI explains and exits 2.
        let out = kalam(&server, &home, &["-u", "root", "-p", "x", "-c", "SELECT 1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out).1.contains("SETUP_REQUIRED"), "{:?}", text(&out));

        let mut p = spawn_as(&server, &home, "root", "unset-yet");
        p.exp_string("New root password: ").unwrap();
        p.send_line("Root-Passw0rd-9").unwrap();
        p.exp_string("Repeat: ").unwrap();
        p.send_line("Root-Passw0rd-9").unwrap();
        p.exp_string("[admin]: ").unwrap();
        p.send_line("ops").unwrap();
        p.exp_string("Password for ops: ").unwrap();
        p.send_line("Ops-Passw0rd-77").unwrap();
        p.exp_string("Repeat: ").unwrap();
        p.send_line("Ops-Passw0rd-77").unwrap();
        // Set up, then logged in as root with the new password.
        p.exp_string("kalam (root@").unwrap();
        p.send_line("SELECT user_id, role FROM system.users WHERE user_id = 'ops';")
            .unwrap();
        p.exp_string("dba").unwrap();
        p.exp_string("(1 row)").unwrap();
        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
        let (status, _) = block(server.sql_as("ops", "Ops-Passw0rd-77", "SELECT 1"));
        assert_eq!(status, 200);
    }

    #[test]
    fn multi_line_statement_and_history_across_restarts() {
        let server = seeded();
        let home = TempDir::new().unwrap();
        let mut p = shell(&server, &home);
        p.send_line("SELECT title").unwrap();
        p.exp_string("...> ").unwrap();
        p.send_line("FROM app.items WHERE id = 1;").unwrap();
        p.exp_string("first").unwrap();
        p.exp_string("(1 row)").unwrap();
        p.exp_string("Time: ").unwrap();
        p.send_control('d').unwrap();
        p.exp_eof().unwrap();

        let history = std::fs::read_to_string(home.path().join(".kalam/history")).unwrap();
        assert!(
            history.contains("FROM app.items WHERE id = 1;"),
            "{history}"
        );

        let mut p = shell(&server, &home);
        // Up arrow recalls the previous session's statement; Enter runs it.
        p.send("\x1b[A").unwrap();
        p.flush().unwrap();
        p.exp_string("WHERE id = 1;").unwrap();
        p.send("\r").unwrap();
        p.flush().unwrap();
        p.exp_string("(1 row)").unwrap();
        p.exp_string("kalam (root@").unwrap();
        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
    }

    #[test]
    fn ctrl_c_clears_the_input() {
        let server = seeded();
        let home = TempDir::new().unwrap();
        let mut p = shell(&server, &home);
        // Ctrl-C drops a half-typed statement: the next line starts afresh.
        p.send("SELECT 'never run'").unwrap();
        p.flush().unwrap();
        p.send_control('c').unwrap();
        p.exp_string("kalam (root@").unwrap();
        p.send_line("SELECT 41 + 1 AS answer;").unwrap();
        p.exp_string("42").unwrap();
        // Type the next line only at the next prompt: once, in CI, a `\q`
        // sent while the answer was still being printed was never read.
        p.exp_string("kalam (root@").unwrap();
        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
    }

    #[test]
    fn describe_and_list_tables() {
        let server = seeded();
        let home = TempDir::new().unwrap();
        let mut p = shell(&server, &home);
        p.send_line("\\d app.items").unwrap();
        p.exp_string("column_name").unwrap();
        p.exp_string("BIGINT").unwrap();
        p.exp_string("Table type: shared").unwrap();
        p.exp_string("Flush policy: ").unwrap();
        p.send_line("\\dt app").unwrap();
        p.exp_string("items").unwrap();
        p.exp_string("(1 row)").unwrap();
        p.send_line("SELECT * FROM app.nope;").unwrap();
        p.exp_string("ERROR TABLE_NOT_FOUND: ").unwrap();
        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
    }

    #[test]
    fn subscribe_shows_an_insert_from_another_client() {
        let server = seeded();
        let home = TempDir::new().unwrap();
        let mut p = shell(&server, &home);
        p.send_line("\\subscribe SELECT * FROM app.items WHERE id > 1")
            .unwrap();
        p.exp_string("(1 row)").unwrap();
        p.exp_string("Watching for changes").unwrap();
        block(server.sql("INSERT INTO app.items VALUES (42, 'live one')"));
        p.exp_string("INSERT id=42, title=live one").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("Unsubscribed.").unwrap();
        p.exp_string("kalam (root@").unwrap();
        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
    }
}
