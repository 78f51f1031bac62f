//! Integration tests: a real server on port 0, driven over HTTP.
//! One test binary for the crate (each binary links DataFusion and RocksDB).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

mod bad_input;
mod binary;
mod golden;
mod isolation;
mod restart;
mod users;
mod wire;
