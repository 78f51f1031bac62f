//! Layer `write`: how writes become durable. The commit pipeline
//! (`committer.rs`: one thread, group commit, poisoning after a failed
//! write), a closure's view of the store (`context.rs`: reads through the
//! group's overlay, `put_row` recording changes for live subscribers), the
//! change sets and their consumer (`changes.rs`), the commits of INSERT
//! (`insert.rs`) and of UPDATE/DELETE (`keyed.rs`), transactions' staged
//! writes and their one commit (`txn.rs`), and [`Shared`], the handle to
//! table data the layers above hold.
//!
//! May import: `error`, `access`, `row`, `catalog`, `tiers`. Knows no SQL
//! statement shape, no DataFusion plan, no live subscription.

pub mod changes;
pub mod committer;
pub mod context;
pub mod insert;
pub mod keyed;
pub mod shared;
pub mod txn;

pub use committer::CommitStats;
