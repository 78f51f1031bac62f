//! Reading segments back: whole (optionally some columns) for scans, and by
//! key for point lookups.
//!
//! Reads go through Parquet's async reader with ranged object reads, so a
//! lookup on S3 fetches the footer (once: footers and bloom filters are
//! cached per `ColdStore`), then only what survives pruning: row groups
//! whose key min/max cannot hold any wanted key are skipped, then row
//! groups whose bloom filter rules every key out, then pages (by the page
//! index) inside the remaining row groups; only then is the key column
//! decoded, and the other columns only for matching rows. An absent key
//! therefore usually costs no I/O once the segment has been looked at.
//!
//! Segments are data from storage that anything may have damaged: every
//! failure to decode is a `ColdError::Corrupt` naming the segment, and a
//! panic inside the Parquet decoder on malformed input is caught and
//! reported the same way rather than taking the server down.
//!
//! Files, each importing only those listed before it:
//! - `damage`: how failures (damaged bytes, Parquet errors, decoder panics)
//!   become `ColdError`s naming the segment;
//! - `reader`: [`SegmentRef`] and the checked, counted ranged reads Parquet
//!   goes through;
//! - `footer`: loading a footer through the cache;
//! - `scan`: [`read_segment`];
//! - `file_reader`: [`SegmentFileReader`], a segment for a Parquet scan the
//!   engine drives (DataFusion's);
//! - `keys`: the keys of a lookup and how each pruning step narrows them;
//! - `lookup`: [`lookup_segment`] and [`LookupStats`].

mod damage;
mod file_reader;
mod footer;
mod keys;
mod lookup;
mod reader;
mod scan;

pub use file_reader::SegmentFileReader;
pub use lookup::{LookupStats, lookup_segment, lookup_segment_with_stats};
pub use reader::SegmentRef;
pub use scan::read_segment;
