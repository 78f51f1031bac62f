//! Layer `row`: the stored row format and every conversion of a row or
//! cell — to and from Arrow, to a storage key, and whether a value fits its
//! column. Pure data: no store, no catalog, no DataFusion session.
//!
//! May import: `error`. Everything above builds on it.

pub mod arrow;
pub mod fit;
pub mod key;
pub mod value;
pub mod versions;
