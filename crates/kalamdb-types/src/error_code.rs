//! The stable error codes of `wire-protocol.md` §4, each with its HTTP status.
//!
//! Every crate's error enum maps exhaustively onto this one, so adding a
//! variant anywhere forces a decision about what clients see.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    EmptySql,
    InvalidInput,
    /// `INVALID_INPUT` for a body over the size limit (413).
    PayloadTooLarge,
    InvalidSql,
    BatchParseError,
    InvalidParameter,
    ParamsWithBatch,
    TableNotFound,
    SqlExecutionError,
    PermissionDenied,
    RateLimitExceeded,
    InternalError,
    MissingAuthorization,
    InvalidCredentials,
    TokenExpired,
    AccountLocked,
    SetupRequired,
    RemoteAccessDenied,
    InsufficientPermissions,
    AuthenticationError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::EmptySql => "EMPTY_SQL",
            ErrorCode::InvalidInput | ErrorCode::PayloadTooLarge => "INVALID_INPUT",
            ErrorCode::InvalidSql => "INVALID_SQL",
            ErrorCode::BatchParseError => "BATCH_PARSE_ERROR",
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::ParamsWithBatch => "PARAMS_WITH_BATCH",
            ErrorCode::TableNotFound => "TABLE_NOT_FOUND",
            ErrorCode::SqlExecutionError => "SQL_EXECUTION_ERROR",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::MissingAuthorization => "MISSING_AUTHORIZATION",
            ErrorCode::InvalidCredentials => "INVALID_CREDENTIALS",
            ErrorCode::TokenExpired => "TOKEN_EXPIRED",
            ErrorCode::AccountLocked => "ACCOUNT_LOCKED",
            ErrorCode::SetupRequired => "SETUP_REQUIRED",
            ErrorCode::RemoteAccessDenied => "REMOTE_ACCESS_DENIED",
            ErrorCode::InsufficientPermissions => "INSUFFICIENT_PERMISSIONS",
            ErrorCode::AuthenticationError => "AUTHENTICATION_ERROR",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::EmptySql
            | ErrorCode::InvalidInput
            | ErrorCode::InvalidSql
            | ErrorCode::BatchParseError
            | ErrorCode::InvalidParameter
            | ErrorCode::ParamsWithBatch
            | ErrorCode::TableNotFound
            | ErrorCode::SqlExecutionError => 400,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::MissingAuthorization
            | ErrorCode::InvalidCredentials
            | ErrorCode::TokenExpired
            | ErrorCode::AccountLocked => 401,
            ErrorCode::PermissionDenied
            | ErrorCode::RemoteAccessDenied
            | ErrorCode::InsufficientPermissions => 403,
            ErrorCode::SetupRequired => 428,
            ErrorCode::RateLimitExceeded => 429,
            ErrorCode::InternalError | ErrorCode::AuthenticationError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
