//! The keys of one lookup ([`Wanted`]), narrowed to the key column's kind
//! and then, step by step, to those a row group or page may hold: by its
//! statistics ([`bounds`]), by its bloom filter ([`bloom_survivors`]), and
//! finally matched against the decoded key column ([`membership`]).

use std::collections::HashSet;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{DataType, Int64Type};
use arrow::error::ArrowError;
use parquet::bloom_filter::Sbbf;

use crate::segment::{KeyKind, PkKey};

/// The keys of one lookup, narrowed to the key column's kind.
#[derive(Clone)]
pub(super) enum Wanted {
    Int(Vec<i64>),
    Text(Vec<String>),
}

impl Wanted {
    pub(super) fn new(kind: KeyKind, column_type: &DataType, keys: &[PkKey]) -> Self {
        // Keys outside the column type's range cannot be stored in it.
        let (lo, hi) = match column_type {
            DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        };
        let mut w = match kind {
            KeyKind::Int => Wanted::Int(
                keys.iter()
                    .filter_map(|k| match k {
                        PkKey::Int(i) if (lo..=hi).contains(i) => Some(*i),
                        _ => None,
                    })
                    .collect(),
            ),
            KeyKind::Text => Wanted::Text(
                keys.iter()
                    .filter_map(|k| match k {
                        PkKey::Text(s) => Some(s.clone()),
                        PkKey::Int(_) => None,
                    })
                    .collect(),
            ),
        };
        w.normalize();
        w
    }

    /// Sorts and drops repeats, so that every key is checked and matched
    /// once.
    fn normalize(&mut self) {
        match self {
            Wanted::Int(v) => {
                v.sort_unstable();
                v.dedup();
            }
            Wanted::Text(v) => {
                v.sort_unstable();
                v.dedup();
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        match self {
            Wanted::Int(v) => v.is_empty(),
            Wanted::Text(v) => v.is_empty(),
        }
    }

    /// The keys within `[min, max]` (an unknown bound does not exclude).
    pub(super) fn within(&self, min: &Option<PkKey>, max: &Option<PkKey>) -> Wanted {
        match self {
            Wanted::Int(v) => {
                let lo = match min {
                    Some(PkKey::Int(m)) => *m,
                    _ => i64::MIN,
                };
                let hi = match max {
                    Some(PkKey::Int(m)) => *m,
                    _ => i64::MAX,
                };
                Wanted::Int(v.iter().copied().filter(|k| lo <= *k && *k <= hi).collect())
            }
            Wanted::Text(v) => {
                let lo = match min {
                    Some(PkKey::Text(m)) => Some(m.as_str()),
                    _ => None,
                };
                let hi = match max {
                    Some(PkKey::Text(m)) => Some(m.as_str()),
                    _ => None,
                };
                Wanted::Text(
                    v.iter()
                        .filter(|k| {
                            lo.is_none_or(|l| l <= k.as_str()) && hi.is_none_or(|h| k.as_str() <= h)
                        })
                        .cloned()
                        .collect(),
                )
            }
        }
    }

    pub(super) fn union(&mut self, other: &Wanted) {
        match (&mut *self, other) {
            (Wanted::Int(a), Wanted::Int(b)) => a.extend(b),
            (Wanted::Text(a), Wanted::Text(b)) => a.extend(b.iter().cloned()),
            _ => return,
        }
        self.normalize();
    }
}

/// Statistics values as keys (`None`: unknown).
pub(super) fn bounds(array: &ArrayRef, kind: KeyKind) -> Vec<Option<PkKey>> {
    let target = match kind {
        KeyKind::Int => DataType::Int64,
        KeyKind::Text => DataType::Utf8,
    };
    let Ok(cast) = arrow::compute::cast(array, &target) else {
        return vec![None; array.len()];
    };
    match kind {
        KeyKind::Int => cast
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(PkKey::Int))
            .collect(),
        KeyKind::Text => cast
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(|s| PkKey::Text(s.to_string())))
            .collect(),
    }
}

/// The candidates the bloom filter does not rule out. Values are hashed as
/// the writer stored them: INT64, INT32 for narrower integers, and the
/// UTF-8 bytes of text.
pub(super) fn bloom_survivors(sbbf: &Sbbf, candidates: Wanted, column_type: &DataType) -> Wanted {
    match candidates {
        Wanted::Int(v) => Wanted::Int(
            v.into_iter()
                .filter(|k| match column_type {
                    DataType::Int64 => sbbf.check(k),
                    _ => i32::try_from(*k).is_ok_and(|k32| sbbf.check(&k32)),
                })
                .collect(),
        ),
        Wanted::Text(v) => Wanted::Text(v.into_iter().filter(|k| sbbf.check(k.as_str())).collect()),
    }
}

/// `true` where `column` holds one of `wanted`.
pub(super) fn membership(column: &ArrayRef, wanted: &Wanted) -> Result<BooleanArray, ArrowError> {
    match wanted {
        Wanted::Int(keys) => {
            let set: HashSet<i64> = keys.iter().copied().collect();
            let cast = arrow::compute::cast(column, &DataType::Int64)?;
            Ok(cast
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| Some(v.is_some_and(|x| set.contains(&x))))
                .collect())
        }
        Wanted::Text(keys) => {
            let set: HashSet<&str> = keys.iter().map(String::as_str).collect();
            let cast = arrow::compute::cast(column, &DataType::Utf8)?;
            Ok(cast
                .as_string::<i32>()
                .iter()
                .map(|v| Some(v.is_some_and(|s| set.contains(s))))
                .collect())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_narrowed_to_the_column() {
        let keys = [
            PkKey::Int(5),
            PkKey::Int(70_000),
            PkKey::Int(5),
            PkKey::Int(-1),
            PkKey::Text("x".into()),
        ];
        let Wanted::Int(v) = Wanted::new(KeyKind::Int, &DataType::Int16, &keys) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![-1, 5]);
        let Wanted::Int(v) = Wanted::new(KeyKind::Int, &DataType::Int64, &keys) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![-1, 5, 70_000]);
        let Wanted::Text(v) = Wanted::new(KeyKind::Text, &DataType::Utf8, &keys) else {
            panic!("text keys expected");
        };
        assert_eq!(v, vec!["x".to_string()]);

        let w = Wanted::Int(vec![1, 5, 9]);
        let Wanted::Int(v) = w.within(&Some(PkKey::Int(2)), &Some(PkKey::Int(9))) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![5, 9]);
        let Wanted::Int(v) = w.within(&None, &Some(PkKey::Int(4))) else {
            panic!("int keys expected");
        };
        assert_eq!(v, vec![1], "an unknown minimum excludes nothing");
        let t = Wanted::Text(vec!["a".into(), "m".into(), "zz".into()]);
        let Wanted::Text(v) = t.within(&Some(PkKey::Text("b".into())), &None) else {
            panic!("text keys expected");
        };
        assert_eq!(v, vec!["m".to_string(), "zz".to_string()]);
    }
}
