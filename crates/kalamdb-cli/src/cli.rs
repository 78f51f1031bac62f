//! Command-line flags of `kalam` and the help text that documents its exit
//! codes (scripts branch on them, so they are part of the interface).

use std::path::PathBuf;

use clap::Parser;

use crate::output::Format;

const AFTER_HELP: &str = "\
Without -c or -f, SQL is read from stdin when it is not a terminal;
otherwise an interactive shell starts (type \\? for its commands).

Credentials: --user/--password, or --token. With none, the entry saved for
--url in ~/.kalam/credentials.json is used (file mode 0600); otherwise
user root and a password prompt. Successful logins are saved unless --no-save.

Exit codes:
  0  every statement succeeded
  1  a SQL statement failed (the server's error is printed as `ERROR CODE: message`)
  2  usage, connection or authentication error";

/// `kalam`: KalamDB's SQL shell.
#[derive(Debug, Parser)]
#[command(name = "kalam", version, about = "KalamDB's SQL shell", after_long_help = AFTER_HELP, after_help = AFTER_HELP)]
pub struct Args {
    /// Server URL.
    #[arg(long, env = "KALAM_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// User to log in as (default: root).
    #[arg(short, long)]
    pub user: Option<String>,
    /// Password (prompted without echo when omitted and stdin is a terminal).
    #[arg(short, long, env = "KALAM_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// An access token (JWT) instead of user and password.
    #[arg(long, conflicts_with_all = ["user", "password"])]
    pub token: Option<String>,
    /// Run this SQL and exit.
    #[arg(short, long, conflicts_with = "file")]
    pub command: Option<String>,
    /// Run the SQL in this file and exit.
    #[arg(short, long)]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Keep going after a failing statement (the exit code is still 1).
    #[arg(long)]
    pub continue_on_error: bool,
    /// Print `Time: … ms` after each statement (always on in the shell; `\timing` toggles).
    #[arg(long)]
    pub timing: bool,
    /// Do not save the credentials in ~/.kalam/credentials.json.
    #[arg(long)]
    pub no_save: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_parse_and_conflict() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["kalam", "-c", "SELECT 1", "--format", "csv"]);
        assert!(
            matches!(a, Ok(ref a) if a.format == Format::Csv && a.command.as_deref() == Some("SELECT 1"))
        );
        assert!(Args::try_parse_from(["kalam", "-c", "x", "-f", "y"]).is_err());
        assert!(Args::try_parse_from(["kalam", "--token", "t", "-u", "root"]).is_err());
    }
}
