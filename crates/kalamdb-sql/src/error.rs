//! The one error type of the SQL front end.
//!
//! Every failure is classified by what the server must answer (`wire-protocol.md` §4), so the
//! HTTP layer never inspects message text: [`SqlErrorKind`] maps exhaustively to a stable code.
//! Messages are the user-facing texts of `sql.md`, never debug dumps.

use kalamdb_types::NameError;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::TokenizerError;

/// Why a request's SQL was refused before anything ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlErrorKind {
    /// Nothing but whitespace and comments.
    Empty,
    /// The text cannot be cut into statements (unterminated quote or comment).
    BatchParse,
    /// A statement does not parse, or is a statement KalamDB does not run.
    Parse,
    /// A statement parses but breaks a rule of `sql.md` (bad name, type, option, column rule).
    Invalid,
}

impl SqlErrorKind {
    /// The wire error code (`wire-protocol.md` §4).
    pub fn code(self) -> &'static str {
        match self {
            SqlErrorKind::Empty => "EMPTY_SQL",
            SqlErrorKind::BatchParse => "BATCH_PARSE_ERROR",
            SqlErrorKind::Parse => "INVALID_SQL",
            SqlErrorKind::Invalid => "SQL_EXECUTION_ERROR",
        }
    }

    /// The HTTP status that goes with [`Self::code`]; all of these are the caller's fault.
    pub fn http_status(self) -> u16 {
        match self {
            SqlErrorKind::Empty
            | SqlErrorKind::BatchParse
            | SqlErrorKind::Parse
            | SqlErrorKind::Invalid => 400,
        }
    }
}

/// A refused statement: its [`SqlErrorKind`] and the message shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    pub kind: SqlErrorKind,
    pub message: String,
}

impl SqlError {
    pub fn new(kind: SqlErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn empty() -> Self {
        Self::new(SqlErrorKind::Empty, "SQL is empty")
    }

    pub(crate) fn parse(message: impl Into<String>) -> Self {
        Self::new(SqlErrorKind::Parse, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(SqlErrorKind::Invalid, message)
    }

    pub(crate) fn batch(err: &TokenizerError) -> Self {
        Self::new(SqlErrorKind::BatchParse, err.to_string())
    }

    pub(crate) fn unsupported(what: &str) -> Self {
        Self::parse(format!("Unsupported statement: {what}"))
    }
}

/// sqlparser's own text is the message (`sql.md` §0: "INVALID_SQL with the parser's message").
impl From<ParserError> for SqlError {
    fn from(err: ParserError) -> Self {
        Self::parse(err.to_string())
    }
}

impl From<NameError> for SqlError {
    fn from(err: NameError) -> Self {
        Self::invalid(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_wire_codes() {
        assert_eq!(SqlErrorKind::Empty.code(), "EMPTY_SQL");
        assert_eq!(SqlErrorKind::BatchParse.code(), "BATCH_PARSE_ERROR");
        assert_eq!(SqlErrorKind::Parse.code(), "INVALID_SQL");
        assert_eq!(SqlErrorKind::Invalid.code(), "SQL_EXECUTION_ERROR");
        assert_eq!(SqlErrorKind::Invalid.http_status(), 400);
    }

    #[test]
    fn display_is_the_message_only() {
        let err = SqlError::invalid("Duplicate column 'c'");
        assert_eq!(err.to_string(), "Duplicate column 'c'");
        let name: SqlError = NameError::StartsWithDigit.into();
        assert_eq!(name.kind, SqlErrorKind::Invalid);
        assert_eq!(name.message, "Name cannot start with a number");
    }
}
