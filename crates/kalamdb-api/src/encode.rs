//! Arrow results → KalamDB wire JSON (`wire-protocol.md` §3.3–3.5).
//!
//! Every query answer leaves the server through this module: the HTTP endpoint
//! sends a `schema` of column descriptors plus positional `rows`, the
//! WebSocket sends row objects keyed by column name, and both must spell types
//! and values exactly as the published clients decode them (one unknown
//! `data_type` or a 64-bit integer sent as a JSON number breaks a whole call).
//! Keeping the mapping in one place guarantees HTTP and WebSocket rows agree,
//! which the live-query clients rely on when they key rows by primary key.
//!
//! Encoding works column by column on downcast Arrow arrays and zips the
//! finished columns into rows, so the per-cell cost is a tight loop over a
//! typed buffer rather than dynamic dispatch through `ScalarValue`.
//!
//! Its parts, bottom first:
//! - `error`: why a result cannot be encoded;
//! - `schema`: column descriptors and wire types (`describe_schema`);
//! - `cells`: one array's values, nested types included;
//! - `rows`: batches → positional rows (`encode_rows`) or row objects
//!   (`encode_row_objects`), with secret columns masked.

mod cells;
mod error;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

pub use error::EncodeError;
pub use rows::{encode_row_objects, encode_rows};
pub use schema::{ColumnDescriptor, describe_schema, wire_type};
