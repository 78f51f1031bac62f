//! Layer `read`: how DataFusion sees our tables. Per-statement sessions
//! over catalog `kalam` (`session.rs`, with our SQL functions in
//! `functions.rs`), the table provider (`provider.rs`) and the scan of a
//! partition across both tiers: planned as `table_scan_exec.rs`, each run
//! from one snapshot (`range_scan.rs`): the hot rows and the segments they must be merged with
//! in `scan.rs` (as `scan_exec.rs` with its size estimate), the segments
//! that need no merge by DataFusion's Parquet scan in `cold_scan.rs` (those
//! the query rules out by their statistics left out in `segment_pruning.rs`); a
//! transaction's own rows laid over it in `overlay.rs`; the INSERT sink (`insert_sink.rs`),
//! the identity every provider of a statement carries (`context.rs`), and
//! running one planned statement (`query.rs`).
//!
//! May import: `error`, `access`, `row`, `catalog`, `tiers`, `write`. The
//! `system` schema is supplied from above through [`session::SystemSchemas`].

pub mod cold_scan;
pub mod context;
pub mod functions;
pub mod insert_sink;
pub mod overlay;
pub mod plan_cache;
pub mod provider;
pub mod query;
pub mod range_scan;
pub mod scan;
pub mod scan_exec;
pub mod segment_pruning;
pub mod session;
pub mod table_scan_exec;
