//! Why a result cannot be encoded. The error takes the place of the whole
//! result (HTTP), snapshot or change (WebSocket) it occurs in: a client
//! never receives a row with a silently altered value.

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(
        "Column '{column}' holds a non-finite float (NaN or infinity), which JSON cannot carry"
    )]
    NonFinite { column: String },
    #[error("Cannot encode column '{column}': {message}")]
    Unsupported { column: String, message: String },
}
