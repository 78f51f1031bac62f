//! The crate's errors: [`StoreError`] for hot-store operations and
//! [`KeyError`] for bytes that do not decode as a key.
//!
//! None of these is the client's fault, so every variant maps to
//! `INTERNAL_ERROR`: callers answer `Poisoned` and `Io` as "storage
//! unavailable" and keep the detail in the server log. `KeyError` is separate
//! because the key codec is useful on its own (a dump tool decodes keys without
//! a store) and its failures are data problems rather than device problems.

use kalamdb_types::ErrorCode;

/// Why a byte string is not a valid encoded key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The input ended in the middle of a field.
    #[error("key is truncated: expected {expected}")]
    Truncated { expected: &'static str },
    /// A string or byte field contains 0x00 followed by something other than
    /// 0x00 (terminator) or 0xFF (escaped zero).
    #[error("key has an invalid escape sequence 0x00 0x{0:02X}")]
    InvalidEscape(u8),
    /// A tag byte names no known variant.
    #[error("key has an unknown {what} tag 0x{tag:02X}")]
    UnknownTag { what: &'static str, tag: u8 },
    /// A string field is not UTF-8.
    #[error("key has a string field that is not valid UTF-8")]
    InvalidUtf8,
    /// An identifier field does not satisfy its naming rule.
    #[error("key has an invalid {what}: {message}")]
    InvalidName { what: &'static str, message: String },
    /// Bytes remain after the last field of the key.
    #[error("key has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
}

/// Failure of a [`HotStore`](crate::HotStore) operation.
///
/// Callers map `Poisoned` and `Io` to an `INTERNAL_ERROR` "storage
/// unavailable" answer; see [`StoreError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The storage device or engine failed during `op` (`"write"`, `"scan"`, ...).
    #[error("storage {op} failed: {message}")]
    Io { op: &'static str, message: String },
    /// An earlier write failed, so the store refuses all writes until it is
    /// reopened: acknowledging anything after a failed fsync could lose data.
    #[error("storage is unavailable after an earlier write failure; restart the server")]
    Poisoned,
    /// Stored data is not what the writer put there.
    #[error("storage corruption: {0}")]
    Corruption(String),
    /// A stored key does not decode.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl StoreError {
    /// The wire error code for this failure. Exhaustive on purpose: a new
    /// variant must decide what clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Io { .. }
            | StoreError::Poisoned
            | StoreError::Corruption(_)
            | StoreError::Key(_) => ErrorCode::InternalError,
        }
    }

    /// True when the store cannot take writes now (`Io` or `Poisoned`):
    /// the caller should answer "storage unavailable" and not retry blindly.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Io { .. } | StoreError::Poisoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_readable_and_codes_internal() {
        let err = StoreError::Io {
            op: "write",
            message: "disk full".into(),
        };
        assert_eq!(err.to_string(), "storage write failed: disk full");
        assert_eq!(err.code(), ErrorCode::InternalError);
        assert!(err.is_unavailable());
        assert!(StoreError::Poisoned.is_unavailable());

        let key = StoreError::from(KeyError::InvalidEscape(0x01));
        assert_eq!(
            key.to_string(),
            "key has an invalid escape sequence 0x00 0x01"
        );
        assert!(!key.is_unavailable());
        assert_eq!(key.code(), ErrorCode::InternalError);
    }
}
