//! Integration tests: a real server on port 0, driven over HTTP.
//! One test binary for the crate (each binary links DataFusion and RocksDB).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

mod alter;
mod alter_model;
mod bad_input;
mod binary;
mod cold;
mod concurrency;
mod crash;
mod fast_path;
mod faults;
mod golden;
mod isolation;
mod limits;
mod live;
mod memory;
mod restart;
mod s3;
#[allow(dead_code)]
#[path = "../../../kalamdb-cold/tests/it/s3_harness.rs"]
mod s3_harness;
mod security;
mod stream;
mod tiers_model;
mod tokens;
mod torture;
mod transactions;
mod users;
mod wire;
