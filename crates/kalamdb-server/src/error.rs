//! Why the server could not start or stopped serving ([`ServerError`]);
//! `main` turns it into a message and a non-zero exit code.

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("cannot open the data directory {path}: {message}")]
    DataDir { path: String, message: String },
    #[error("cannot open the hot store: {0}")]
    Store(#[from] kalamdb_store::StoreError),
    #[error("engine start-up failed: {0}")]
    Engine(#[from] kalamdb_core::KalamError),
    #[error("HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}
