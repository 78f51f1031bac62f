//! Tests of the engine as a whole (a `MemoryStore` underneath, SQL on top),
//! reaching into the layers where a test must arrange or observe what SQL
//! cannot.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod basics;
mod compaction;
mod revocation;
mod stream_ttl;
mod transactions;
