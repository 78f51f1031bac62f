//! The CLI's one error type. Every variant is something a person at a
//! terminal must read, so messages are single lines, and each variant knows
//! which exit code it means (0 ok, 1 SQL error, 2 usage/connection/auth).

use thiserror::Error;

/// Why a command or statement did not succeed.
#[derive(Debug, Error)]
pub enum CliError {
    /// The server rejected a statement (§4 envelope): printed `ERROR CODE: message`.
    #[error("ERROR {code}: {message}")]
    Sql { code: String, message: String },
    /// Login or token problems.
    #[error("ERROR {code}: {message}")]
    Auth { code: String, message: String },
    /// The server could not be reached or answered something unreadable.
    #[error("ERROR CONNECTION: {0}")]
    Connection(String),
    /// Bad flags, unreadable files, unknown `\` commands.
    #[error("ERROR USAGE: {0}")]
    Usage(String),
    /// The user pressed Ctrl-C while a request was in flight.
    #[error("Cancelled")]
    Cancelled,
}

impl CliError {
    /// The process exit code this error means (documented in `--help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Sql { .. } | CliError::Cancelled => 1,
            CliError::Auth { .. } | CliError::Connection(_) | CliError::Usage(_) => 2,
        }
    }

    pub fn connection(what: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        CliError::Connection(format!("{what}: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        let sql = CliError::Sql {
            code: "TABLE_NOT_FOUND".into(),
            message: "Table 'a.b' not found".into(),
        };
        assert_eq!(sql.exit_code(), 1);
        assert_eq!(
            sql.to_string(),
            "ERROR TABLE_NOT_FOUND: Table 'a.b' not found"
        );
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::Connection("x".into()).exit_code(), 2);
    }
}
