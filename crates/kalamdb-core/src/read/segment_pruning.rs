//! Plain segments ruled out by their manifest entries alone
//! ([`SegmentPruning::keep`]): DataFusion's `PruningPredicate` over the
//! query's filters, evaluated against each segment's per-column min/max,
//! null count and row count as the manifest records them — so a segment
//! no row of which can match is not opened at all (no footer fetched, on
//! S3 no request), before DataFusion's Parquet scan prunes row groups and
//! pages inside the segments that are left.
//!
//! Only plain segments are pruned (`range_scan.rs`): each holds the only
//! version of its keys, so leaving one out drops exactly rows the filter
//! would drop. A merged segment may hold the newer version that hides a
//! matching older one elsewhere; those are never pruned.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column, ScalarValue};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use kalamdb_cold::{ColumnStats, SegmentMeta};

/// The query's filters, ready to rule segments out by their statistics.
#[derive(Debug)]
pub struct SegmentPruning {
    predicate: Arc<PruningPredicate>,
    schema: SchemaRef,
}

impl SegmentPruning {
    /// `predicate` over `schema` (the segment schema); `None` when it can
    /// never rule a segment out.
    pub fn new(predicate: Arc<dyn PhysicalExpr>, schema: SchemaRef) -> Option<Self> {
        let predicate = PruningPredicateBuilder::new()
            .with_file_schema(schema.clone())
            .build(predicate)?;
        Some(Self { predicate, schema })
    }

    /// `segments` without those no row of which can match; and how many
    /// were left out. On any doubt a segment is kept.
    pub fn keep(&self, segments: Vec<SegmentMeta>) -> (Vec<SegmentMeta>, usize) {
        let stats = Stats {
            segments: &segments,
            schema: &self.schema,
        };
        let Ok(keep) = self.predicate.prune(&stats) else {
            return (segments, 0);
        };
        let before = segments.len();
        let kept: Vec<SegmentMeta> = segments
            .into_iter()
            .zip(keep)
            .filter_map(|(s, k)| k.then_some(s))
            .collect();
        let pruned = before - kept.len();
        (kept, pruned)
    }
}

/// Manifest statistics as DataFusion's pruning reads them: one container
/// per segment.
struct Stats<'a> {
    segments: &'a [SegmentMeta],
    schema: &'a SchemaRef,
}

impl Stats<'_> {
    /// One bound per segment as an array of the column's type; `None` if
    /// the column's type or a recorded value cannot be read as one (then
    /// nothing is pruned by that column).
    fn bounds(
        &self,
        column: &Column,
        pick: impl Fn(&ColumnStats) -> Option<&serde_json::Value>,
    ) -> Option<ArrayRef> {
        let field = self.schema.field_with_name(&column.name).ok()?;
        let values: Vec<Option<&serde_json::Value>> = self
            .segments
            .iter()
            .map(|s| s.columns.get(&column.name).and_then(&pick))
            .collect();
        let array: ArrayRef = match field.data_type() {
            DataType::UInt64 => Arc::new(
                values
                    .iter()
                    .map(|v| v.and_then(|v| v.as_u64()))
                    .collect::<UInt64Array>(),
            ),
            DataType::Float32 | DataType::Float64 => Arc::new(
                values
                    .iter()
                    .map(|v| v.and_then(|v| v.as_f64()))
                    .collect::<Float64Array>(),
            ),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Arc::new(
                values
                    .iter()
                    .map(|v| v.and_then(|v| v.as_str()))
                    .collect::<StringArray>(),
            ),
            DataType::Boolean => Arc::new(
                values
                    .iter()
                    .map(|v| v.and_then(|v| v.as_bool()))
                    .collect::<BooleanArray>(),
            ),
            // Integers, dates, times, timestamps, durations: the recorded
            // bound is the column's raw integer.
            t if t.is_integer() || t.is_temporal() => Arc::new(
                values
                    .iter()
                    .map(|v| v.and_then(|v| v.as_i64()))
                    .collect::<Int64Array>(),
            ),
            _ => return None,
        };
        cast(&array, field.data_type()).ok()
    }
}

impl PruningStatistics for Stats<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bounds(column, |c| c.min.as_ref())
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bounds(column, |c| c.max.as_ref())
    }

    fn num_containers(&self) -> usize {
        self.segments.len()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        let counts: UInt64Array = self
            .segments
            .iter()
            .map(|s| s.columns.get(&column.name).map(|c| c.null_count))
            .collect();
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        let rows: UInt64Array = self.segments.iter().map(|s| Some(s.rows)).collect();
        Some(Arc::new(rows))
    }

    fn contained(&self, _column: &Column, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    use datafusion::common::DFSchema;
    use datafusion::logical_expr::{col, lit};
    use datafusion::prelude::SessionContext;
    use serde_json::json;

    use super::*;

    fn seg(
        path: &str,
        n: (i64, i64),
        room: (&str, &str),
        at: (i64, i64),
        nulls: u64,
    ) -> SegmentMeta {
        let stats = |min: serde_json::Value, max: serde_json::Value, null_count| ColumnStats {
            min: Some(min),
            max: Some(max),
            null_count,
        };
        let columns: BTreeMap<String, ColumnStats> = [
            ("n".to_string(), stats(json!(n.0), json!(n.1), nulls)),
            ("room".to_string(), stats(json!(room.0), json!(room.1), 0)),
            ("at".to_string(), stats(json!(at.0), json!(at.1), 0)),
        ]
        .into_iter()
        .collect();
        SegmentMeta {
            path: path.into(),
            rows: 10,
            bytes: 100,
            min_seq: 1,
            max_seq: 1,
            created_at: 0,
            columns,
            checksums: None,
            schema_version: None,
        }
    }

    fn pruning(filter: datafusion::logical_expr::Expr) -> SegmentPruning {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("room", DataType::Utf8, true),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]));
        let df = DFSchema::try_from(schema.as_ref().clone()).unwrap();
        let expr = SessionContext::new()
            .create_physical_expr(filter, &df)
            .unwrap();
        SegmentPruning::new(expr, schema).unwrap()
    }

    fn kept(p: &SegmentPruning, segs: &[SegmentMeta]) -> Vec<String> {
        p.keep(segs.to_vec())
            .0
            .into_iter()
            .map(|s| s.path)
            .collect()
    }

    #[test]
    fn segments_no_row_of_which_can_match_are_left_out() {
        let mut all_null = seg("d", (0, 0), ("r0", "r0"), (7_000, 8_000), 10);
        let n = all_null.columns.get_mut("n").unwrap();
        (n.min, n.max) = (None, None);
        let segs = vec![
            seg("a", (0, 9), ("r0", "r3"), (1_000, 2_000), 0),
            seg("b", (10, 19), ("r4", "r9"), (3_000, 4_000), 0),
            seg("c", (20, 29), ("r0", "r9"), (5_000, 6_000), 3),
            all_null,
        ];
        // An all-NULL column matches no comparison.
        assert_eq!(kept(&pruning(col("n").gt(lit(15))), &segs), ["b", "c"]);
        assert_eq!(kept(&pruning(col("n").eq(lit(3))), &segs), ["a"]);
        assert_eq!(kept(&pruning(col("room").eq(lit("r5"))), &segs), ["b", "c"]);
        let at = lit(ScalarValue::TimestampMicrosecond(Some(3_500), None));
        assert_eq!(kept(&pruning(col("at").gt_eq(at)), &segs), ["b", "c", "d"]);
        assert_eq!(
            kept(&pruning(col("n").is_not_null()), &segs),
            ["a", "b", "c"]
        );
        assert_eq!(p_count(&pruning(col("n").lt(lit(0))), &segs), 4);
    }

    fn p_count(p: &SegmentPruning, segs: &[SegmentMeta]) -> usize {
        p.keep(segs.to_vec()).1
    }

    #[test]
    fn unknown_statistics_keep_the_segment() {
        let mut unknown = seg("u", (0, 9), ("r0", "r3"), (1, 2), 0);
        unknown.columns.remove("n");
        let mut odd = seg("o", (0, 9), ("r0", "r3"), (1, 2), 0);
        odd.columns.get_mut("n").unwrap().max = Some(json!("not a number"));
        let segs = vec![unknown, odd];
        assert_eq!(kept(&pruning(col("n").gt(lit(100))), &segs), ["u", "o"]);
    }
}
