//! The manifest of one scope (a table partition): the list of its segments,
//! and the source of truth for the cold tier (a file no manifest lists does
//! not exist for readers). It is encoded here but *stored* by the engine, in
//! its meta keyspace, so that a flush commits the new manifest and deletes
//! the flushed hot rows in one atomic batch. Changes are pure: each returns
//! a new manifest with `version` bumped, which the engine compares to detect
//! a flush that committed while it was reading.

use std::collections::HashSet;

use kalamdb_types::StorageId;
use serde::{Deserialize, Serialize};

use crate::error::ColdError;
use crate::segment::SegmentMeta;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// 0 for a scope that never flushed; +1 per change.
    pub version: u64,
    /// The storage holding the segments (absent in manifests that predate
    /// the field, and in `Manifest::default()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<StorageId>,
    /// In the order they were added.
    pub segments: Vec<SegmentMeta>,
    /// µs since the epoch.
    pub updated_at: i64,
}

impl Manifest {
    /// An empty manifest for segments on `storage_id`.
    pub fn new(storage_id: StorageId) -> Self {
        Self {
            storage_id: Some(storage_id),
            ..Self::default()
        }
    }

    /// JSON (the format is a contract: field names never change meaning).
    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serializing to a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes and sanity-checks a stored manifest.
    pub fn decode(bytes: &[u8]) -> Result<Self, ColdError> {
        let m: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| ColdError::Corrupt(format!("Corrupt manifest: {e}")))?;
        let mut paths = HashSet::new();
        for s in &m.segments {
            if s.path.is_empty() || s.min_seq > s.max_seq {
                return Err(ColdError::Corrupt(format!(
                    "Corrupt manifest: segment '{}' has seq range {}..{}",
                    s.path, s.min_seq, s.max_seq
                )));
            }
            if let Some(sums) = &s.checksums
                && let Err(e) = sums.check_shape(s.bytes)
            {
                return Err(ColdError::Corrupt(format!(
                    "Corrupt manifest: segment '{}' has {e}",
                    s.path
                )));
            }
            if !paths.insert(s.path.as_str()) {
                return Err(ColdError::Corrupt(format!(
                    "Corrupt manifest: segment '{}' is listed twice",
                    s.path
                )));
            }
        }
        Ok(m)
    }

    /// After a flush: `segment` added (replacing an entry with the same
    /// path, e.g. a file rewritten by a retried flush).
    pub fn with_segment(&self, segment: SegmentMeta, now: i64) -> Self {
        self.replace(&[], vec![segment], now)
    }

    /// After a compaction: the `removed` paths dropped, `added` appended.
    pub fn replace(&self, removed: &[String], added: Vec<SegmentMeta>, now: i64) -> Self {
        let mut next = self.clone();
        next.segments
            .retain(|s| !removed.contains(&s.path) && !added.iter().any(|a| a.path == s.path));
        next.segments.extend(added);
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// The newest `_seq` in the cold tier of this scope.
    pub fn max_seq(&self) -> Option<i64> {
        self.segments.iter().map(|s| s.max_seq).max()
    }

    pub fn total_rows(&self) -> u64 {
        self.segments.iter().map(|s| s.rows).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.bytes).sum()
    }

    /// Newest first (by `max_seq`): the first segment holding a key has its
    /// newest cold version, since a scope's flushes cover disjoint,
    /// increasing `_seq` ranges.
    pub fn segments_newest_first(&self) -> Vec<&SegmentMeta> {
        let mut segs: Vec<&SegmentMeta> = self.segments.iter().collect();
        segs.sort_by(|a, b| b.max_seq.cmp(&a.max_seq).then(b.min_seq.cmp(&a.min_seq)));
        segs
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::segment::{ColumnStats, segment_file_name};

    fn seg(min: i64, max: i64, rows: u64) -> SegmentMeta {
        let mut columns = BTreeMap::new();
        columns.insert(
            "id".to_string(),
            ColumnStats {
                min: Some(1.into()),
                max: Some(serde_json::json!(rows)),
                null_count: 0,
            },
        );
        SegmentMeta {
            path: format!("app/notes/{}", segment_file_name(max)),
            rows,
            bytes: rows * 10,
            min_seq: min,
            max_seq: max,
            created_at: 7,
            columns,
            checksums: None,
            schema_version: None,
        }
    }

    #[test]
    fn round_trip_and_growth() {
        let empty = Manifest::new(StorageId::local());
        assert_eq!(empty.version, 0);
        assert_eq!(empty.max_seq(), None);
        let m1 = empty.with_segment(seg(1, 10, 3), 100);
        let m2 = m1.with_segment(seg(11, 20, 4), 200);
        assert_eq!((m1.version, m2.version), (1, 2));
        assert_eq!(m2.updated_at, 200);
        assert_eq!(m2.max_seq(), Some(20));
        assert_eq!((m2.total_rows(), m2.total_bytes()), (7, 70));
        let newest: Vec<i64> = m2
            .segments_newest_first()
            .iter()
            .map(|s| s.max_seq)
            .collect();
        assert_eq!(newest, vec![20, 10]);
        assert_eq!(Manifest::decode(&m2.encode()).unwrap(), m2);
        // The encoding is JSON with the documented field names.
        let v: serde_json::Value = serde_json::from_slice(&m2.encode()).unwrap();
        assert_eq!(v["storage_id"], "local");
        assert_eq!(v["segments"][1]["max_seq"], 20);
        assert_eq!(v["segments"][0]["columns"]["id"]["max"], 3);
        // The input manifest is unchanged.
        assert_eq!(m1.segments.len(), 1);
    }

    #[test]
    fn re_adding_a_path_replaces_it() {
        let m = Manifest::default()
            .with_segment(seg(1, 10, 3), 1)
            .with_segment(seg(1, 10, 5), 2);
        assert_eq!(m.segments.len(), 1);
        assert_eq!(m.segments[0].rows, 5);
    }

    #[test]
    fn compaction_replaces_segments() {
        let m = Manifest::default()
            .with_segment(seg(1, 10, 3), 1)
            .with_segment(seg(11, 20, 4), 2)
            .with_segment(seg(21, 30, 5), 3);
        let removed = vec![m.segments[0].path.clone(), m.segments[1].path.clone()];
        let merged = seg(1, 20, 6);
        let c = m.replace(&removed, vec![merged.clone()], 9);
        assert_eq!(c.version, 4);
        assert_eq!(c.updated_at, 9);
        assert_eq!(c.segments.len(), 2);
        assert_eq!(c.total_rows(), 11);
        assert!(c.segments.contains(&merged));
        let order: Vec<(i64, i64)> = c
            .segments_newest_first()
            .iter()
            .map(|s| (s.min_seq, s.max_seq))
            .collect();
        assert_eq!(order, vec![(21, 30), (1, 20)]);
        // Removing a path that is not there changes nothing but the version.
        let same = c.replace(&["nope".into()], vec![], 10);
        assert_eq!(same.segments, c.segments);
        assert_eq!(same.version, 5);
    }

    #[test]
    fn older_and_damaged_manifests() {
        // Written before `storage_id` existed; unknown fields are ignored.
        let old = br#"{"version":3,"segments":[],"updated_at":5,"later_field":1}"#;
        let m = Manifest::decode(old).unwrap();
        assert_eq!((m.version, m.storage_id.clone()), (3, None));
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            br#"{"version":-1,"segments":[],"updated_at":0}"#,
            br#"{"version":1,"updated_at":0}"#,
        ] {
            let err = Manifest::decode(bad).unwrap_err();
            assert!(
                matches!(&err, ColdError::Corrupt(m) if m.starts_with("Corrupt manifest: ")),
                "{err}"
            );
        }
        let mut twice = Manifest::default().with_segment(seg(1, 2, 1), 0);
        twice.segments.push(seg(1, 2, 1));
        assert!(
            Manifest::decode(&twice.encode())
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        let backwards = Manifest::default().with_segment(seg(9, 2, 1), 0);
        assert!(
            Manifest::decode(&backwards.encode())
                .unwrap_err()
                .to_string()
                .contains("has seq range 9..2")
        );
        // Checksums that cannot describe the file (its tail past its end).
        let mut s = seg(1, 2, 1);
        s.checksums = Some(crate::checksum::SegmentChecksums {
            algorithm: crate::checksum::ChecksumAlgorithm::Crc32,
            tail_start: s.bytes,
            tail_crc: 0,
        });
        let err = Manifest::default().with_segment(s, 0).encode();
        assert_eq!(
            Manifest::decode(&err).unwrap_err().to_string(),
            "Corrupt manifest: segment 'app/notes/seg-00000000000000000002.parquet' has a tail at 10 in a file of 10 bytes"
        );
        // A segment entry from before format 5 (no checksums) is read
        // unchecked.
        let old = seg(1, 2, 1);
        assert!(crate::read::SegmentRef::from(&old).expected.is_none());
    }
}
