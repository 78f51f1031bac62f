//! The cold tier on the local filesystem: real files in a temporary
//! directory, no mocks. Covers the segment round trip for every column type
//! the engine writes, pruned lookups (asserted through `LookupStats`), what
//! `put_durable` promises (atomic replacement, nothing temporary left),
//! `delete_prefix`, damaged segments, and templates end to end.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, RecordBatch, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use kalamdb_cold::{
    ColdError, ColdStore, LookupStats, Manifest, PkKey, SegmentRef, StorageDef, encode_segment,
    lookup_segment, lookup_segment_with_stats, read_segment, render_template, segment_file_name,
};
use kalamdb_types::{NamespaceId, StorageId, TableName, UserId};

fn open(dir: &Path) -> ColdStore {
    ColdStore::open(&StorageDef::local(&dir.join("storage"), 1)).expect("open local storage")
}

fn total_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn ints(batches: &[RecordBatch], name: &str) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name(name).expect("column");
            let c = arrow::compute::cast(c, &DataType::Int64).expect("cast");
            c.as_any()
                .downcast_ref::<Int64Array>()
                .expect("ints")
                .iter()
                .map(|v| v.expect("non-null"))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn texts(batches: &[RecordBatch], name: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(name)
                .expect("column")
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("text")
                .iter()
                .map(|v| v.expect("non-null").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One column of every type the engine stores, nullable ones with nulls,
/// and field and schema metadata to be kept.
fn all_types() -> (SchemaRef, RecordBatch) {
    let fields = vec![
        Field::new("id", DataType::Int64, false)
            .with_metadata(meta(&[("kalamdb.primary_key", "true")])),
        Field::new("small", DataType::Int16, true),
        Field::new("int", DataType::Int32, true),
        Field::new("real", DataType::Float32, true),
        Field::new("dbl", DataType::Float64, true),
        Field::new("price", DataType::Decimal128(10, 2), true),
        Field::new("body", DataType::Utf8, true)
            .with_metadata(meta(&[("kalamdb.comment", "the note's text")])),
        Field::new("blob", DataType::Binary, true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new("at", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new(
            "tstz",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("_seq", DataType::Int64, false),
        Field::new("_deleted", DataType::Boolean, false),
    ];
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        meta(&[("kalamdb.table", "app.notes")]),
    ));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 2, 3, i64::MAX])),
        Arc::new(Int16Array::from(vec![
            Some(-7),
            None,
            Some(i16::MAX),
            Some(0),
        ])),
        Arc::new(Int32Array::from(vec![
            Some(i32::MIN),
            Some(4),
            None,
            Some(9),
        ])),
        Arc::new(Float32Array::from(vec![
            Some(1.25),
            None,
            Some(-0.5),
            Some(3.0),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(1e300),
            Some(-2.5),
            None,
            Some(0.0),
        ])),
        Arc::new(
            Decimal128Array::from(vec![Some(12_345), None, Some(-99_999_999), Some(1)])
                .with_precision_and_scale(10, 2)
                .expect("decimal"),
        ),
        Arc::new(StringArray::from(vec![
            Some("héllo"),
            None,
            Some(""),
            Some("z"),
        ])),
        Arc::new(BinaryArray::from_opt_vec(vec![
            Some(b"\x00\x01\xff".as_ref()),
            Some(b"".as_ref()),
            None,
            Some(b"abc".as_ref()),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
        ])),
        Arc::new(Date32Array::from(vec![
            Some(19_723),
            None,
            Some(-1),
            Some(0),
        ])),
        Arc::new(Time64MicrosecondArray::from(vec![
            Some(0),
            Some(86_399_999_999),
            None,
            Some(1),
        ])),
        Arc::new(TimestampMicrosecondArray::from(vec![
            Some(1_700_000_000_000_000),
            None,
            Some(-1),
            Some(0),
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![Some(5), Some(6), None, Some(7)])
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(vec![100, 101, 102, 103])),
        Arc::new(BooleanArray::from(vec![false, false, true, false])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
    (schema, batch)
}

#[tokio::test]
async fn every_column_type_round_trips_with_its_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batch) = all_types();
    let (bytes, stats) = encode_segment(&schema, std::slice::from_ref(&batch), Some("id")).unwrap();
    assert_eq!((stats.rows, stats.min_seq, stats.max_seq), (4, 100, 103));
    let path = format!("app/notes/{}", segment_file_name(stats.max_seq));
    store.put_durable(&path, bytes.clone()).await.unwrap();

    let seg = stats.clone().into_meta(path.clone(), bytes.len() as u64, 9);
    let read = read_segment(&store, &seg, None).await.unwrap();
    assert_eq!(read.len(), 1);
    // Same schema, field metadata, schema metadata and time zones
    // included, and the same values.
    assert_eq!(read[0].schema(), schema);
    assert_eq!(read[0], batch);
    let body = read[0].schema().field_with_name("body").unwrap().clone();
    assert_eq!(
        body.metadata().get("kalamdb.comment").map(String::as_str),
        Some("the note's text")
    );

    // Statistics as the manifest keeps them.
    let c = &stats.columns;
    assert_eq!(c["id"].max, Some(serde_json::json!(i64::MAX)));
    assert_eq!(c["small"].min, Some(serde_json::json!(-7)));
    assert_eq!(c["small"].null_count, 1);
    assert_eq!(c["body"].min, Some(serde_json::json!("")));
    assert_eq!(c["body"].max, Some(serde_json::json!("z")));
    assert_eq!(c["tstz"].max, Some(serde_json::json!(7)));
    assert_eq!(c["ts"].min, Some(serde_json::json!(-1)));
    assert_eq!(c["at"].max, Some(serde_json::json!(86_399_999_999_i64)));
    assert_eq!((c["price"].min.clone(), c["price"].null_count), (None, 1));
    assert_eq!((c["blob"].max.clone(), c["blob"].null_count), (None, 1));
    let meta = stats.into_meta(path.clone(), bytes.len() as u64, 9);
    assert_eq!(meta.bytes, bytes.len() as u64);
    assert_eq!(
        store.list("app/notes").await.unwrap(),
        vec![(path.clone(), bytes.len() as u64)]
    );
}

#[tokio::test]
async fn reading_some_columns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batch) = all_types();
    let (bytes, _) = encode_segment(&schema, &[batch], Some("id")).unwrap();
    store.put_durable("s.parquet", bytes).await.unwrap();
    // File order, not request order; a column the segment lacks (added by
    // a later ALTER TABLE) is skipped.
    let read = read_segment(
        &store,
        SegmentRef::unchecked("s.parquet"),
        Some(&["_seq", "added_later", "id"]),
    )
    .await
    .unwrap();
    let names: Vec<String> = read[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, vec!["id", "_seq"]);
    assert_eq!(ints(&read, "_seq"), vec![100, 101, 102, 103]);
}

fn id_schema(key_type: DataType) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", key_type, false),
        Field::new("body", DataType::Utf8, true),
        Field::new("_seq", DataType::Int64, false),
        Field::new("_deleted", DataType::Boolean, false),
    ]))
}

/// `rows` rows with even ids `0, 2, 4, …` (odd ids are absent), seq
/// `1000 + i`, split into batches of 10,000 like a flush would hand them.
fn even_ids(rows: i64) -> (SchemaRef, Vec<RecordBatch>) {
    let schema = id_schema(DataType::Int64);
    let batches = (0..rows)
        .step_by(10_000)
        .map(|start| {
            let end = (start + 10_000).min(rows);
            let cols: Vec<ArrayRef> = vec![
                Arc::new((start..end).map(|i| i * 2).collect::<Int64Array>()),
                Arc::new(
                    (start..end)
                        .map(|i| Some(format!("note {i}")))
                        .collect::<StringArray>(),
                ),
                Arc::new((start..end).map(|i| 1_000 + i).collect::<Int64Array>()),
                Arc::new(
                    (start..end)
                        .map(|i| Some(i % 10 == 9))
                        .collect::<BooleanArray>(),
                ),
            ];
            RecordBatch::try_new(schema.clone(), cols).unwrap()
        })
        .collect();
    (schema, batches)
}

#[tokio::test]
async fn lookups_are_pruned_by_statistics_bloom_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let rows = 150_000; // row groups of 65,536, 65,536 and 18,928 rows
    let (schema, batches) = even_ids(rows);
    let (bytes, stats) = encode_segment(&schema, &batches, Some("id")).unwrap();
    assert_eq!(stats.rows, rows as u64);
    let path = format!("app/big/{}", segment_file_name(stats.max_seq));
    // Checked reads: the manifest entry's checksums come along.
    let seg = stats.into_meta(path.clone(), bytes.len() as u64, 0);
    store.put_durable(&path, bytes).await.unwrap();
    assert_eq!(store.cached_footers(), 0);

    // A present key: the footer is read (then cached), one row group is
    // read, and of its pages only the one holding the key.
    let (found, s) = lookup_segment_with_stats(&store, &seg, "id", &[PkKey::Int(131_072)])
        .await
        .unwrap();
    assert_eq!(ints(&found, "id"), vec![131_072]);
    assert_eq!(ints(&found, "_seq"), vec![1_000 + 65_536]);
    assert_eq!(texts(&found, "body"), vec!["note 65536"]);
    assert!(!s.footer_cached);
    assert_eq!(s.bloom_filters_read, 1);
    assert_eq!(s.row_groups, 3);
    assert_eq!(s.pruned_by_stats, 2, "{s:?}");
    assert_eq!(s.row_groups_read, 1, "{s:?}");
    assert_eq!(s.pages_skipped, 7, "8 pages of 8,192 rows: {s:?}");
    assert_eq!(s.rows_matched, 1);
    assert_eq!(store.cached_footers(), 1);

    // Beyond the maximum: statistics alone answer, nothing is read.
    let (found, s) =
        lookup_segment_with_stats(&store, &seg, "id", &[PkKey::Int(10 * rows), PkKey::Int(-4)])
            .await
            .unwrap();
    assert_eq!(total_rows(&found), 0);
    assert_eq!(
        s,
        LookupStats {
            footer_cached: true,
            row_groups: 3,
            pruned_by_stats: 3,
            ..LookupStats::default()
        }
    );

    // Odd keys fall inside a row group's min/max but are absent: the bloom
    // filter (1% false positives) rules out nearly all of them without
    // touching the data. Each row group's filter is read once, then cached.
    assert_eq!(store.cached_bloom_filters(), 1);
    let mut bloom_only = 0;
    let mut bloom_reads = 0;
    for k in (1..100).step_by(2).map(|i| i * 2_001) {
        let (found, s) = lookup_segment_with_stats(&store, &seg, "id", &[PkKey::Int(k)])
            .await
            .unwrap();
        assert_eq!(total_rows(&found), 0, "key {k}");
        assert!(s.footer_cached);
        assert_eq!(s.pruned_by_stats + s.pruned_by_bloom + s.row_groups_read, 3);
        bloom_reads += s.bloom_filters_read;
        if s.row_groups_read == 0 {
            bloom_only += 1;
            assert_eq!(s.pruned_by_bloom, 1, "{s:?}");
            assert_eq!(s.requests, s.bloom_filters_read as u64, "{s:?}");
        }
    }
    assert!(
        bloom_only >= 45,
        "only {bloom_only} of 50 absent keys pruned"
    );
    assert_eq!(bloom_reads, 1, "row group 0's filter, once");
    assert_eq!(store.cached_bloom_filters(), 2);
    // Now an absent key costs no I/O at all.
    let (_, s) = lookup_segment_with_stats(&store, &seg, "id", &[PkKey::Int(2_001)])
        .await
        .unwrap();
    assert_eq!(
        (s.pruned_by_bloom, s.requests, s.bytes_read),
        (1, 0, 0),
        "{s:?}"
    );

    // Many keys at once, across row groups, with duplicates, absent ones
    // and keys of the wrong kind.
    let keys: Vec<PkKey> = [0, 2, 2, 65_534 * 2, 65_536 * 2, 299_998, 7, 400_000]
        .into_iter()
        .map(PkKey::Int)
        .chain([PkKey::Text("0".into())])
        .collect();
    let found = lookup_segment(&store, &seg, "id", &keys).await.unwrap();
    let mut ids = ints(&found, "id");
    ids.sort_unstable();
    assert_eq!(ids, vec![0, 2, 131_068, 131_072, 299_998]);
    assert!(
        lookup_segment(&store, &seg, "id", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn text_and_small_integer_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());

    // UUID keys are stored as canonical lowercase text.
    let uuids: Vec<String> = (0..5_000)
        .map(|i| format!("{:08x}-0000-4000-8000-{:012x}", i * 7, i))
        .collect();
    let schema = id_schema(DataType::Utf8);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(uuids.clone())),
            Arc::new(StringArray::from(vec![None::<&str>; uuids.len()])),
            Arc::new((0..uuids.len() as i64).collect::<Int64Array>()),
            Arc::new(BooleanArray::from(vec![false; uuids.len()])),
        ],
    )
    .unwrap();
    let (bytes, stats) = encode_segment(&schema, &[batch], Some("id")).unwrap();
    assert_eq!(
        stats.columns["id"].max,
        Some(serde_json::json!(uuids[4_999].clone()))
    );
    store.put_durable("u/seg.parquet", bytes).await.unwrap();
    let want = [
        PkKey::Text(uuids[4_321].clone()),
        PkKey::Text(uuids[4_321].to_uppercase()),
        PkKey::Text("zzz".into()),
        PkKey::Int(4_321),
    ];
    let (found, s) =
        lookup_segment_with_stats(&store, SegmentRef::unchecked("u/seg.parquet"), "id", &want)
            .await
            .unwrap();
    assert_eq!(texts(&found, "id"), vec![uuids[4_321].clone()]);
    assert_eq!(ints(&found, "_seq"), vec![4_321]);
    assert_eq!(s.rows_matched, 1);

    // SMALLINT keys: keys outside its range cannot match (and do not wrap).
    let schema = id_schema(DataType::Int16);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int16Array::from(vec![-5, 1, i16::MAX])),
            Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("c")])),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(BooleanArray::from(vec![false, false, false])),
        ],
    )
    .unwrap();
    let (bytes, _) = encode_segment(&schema, &[batch], Some("id")).unwrap();
    store.put_durable("small.parquet", bytes).await.unwrap();
    let found = lookup_segment(
        &store,
        SegmentRef::unchecked("small.parquet"),
        "id",
        &[PkKey::Int(-5), PkKey::Int(32_767), PkKey::Int(65_537)],
    )
    .await
    .unwrap();
    assert_eq!(ints(&found, "_seq"), vec![1, 3]);

    // Looking up by a column that cannot be a key is refused.
    let err = lookup_segment(
        &store,
        SegmentRef::unchecked("small.parquet"),
        "_deleted",
        &[PkKey::Int(1)],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ColdError::InvalidSegment(_)), "{err}");
    let err = lookup_segment(
        &store,
        SegmentRef::unchecked("small.parquet"),
        "nope",
        &[PkKey::Int(1)],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ColdError::Corrupt(_)), "{err}");
}

#[tokio::test]
async fn a_rewritten_segment_is_not_read_through_a_stale_footer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, small) = even_ids(10);
    let (bytes, _) = encode_segment(&schema, &small, Some("id")).unwrap();
    store.put_durable("t/seg.parquet", bytes).await.unwrap();
    let found = lookup_segment(
        &store,
        SegmentRef::unchecked("t/seg.parquet"),
        "id",
        &[PkKey::Int(4)],
    )
    .await
    .unwrap();
    assert_eq!(ints(&found, "_seq"), vec![1_002]);
    assert_eq!(store.cached_footers(), 1);

    // A retried flush rewrites the same name with other rows.
    let (_, big) = even_ids(20_000);
    let (bytes, _) = encode_segment(&schema, &big, Some("id")).unwrap();
    store.put_durable("t/seg.parquet", bytes).await.unwrap();
    assert_eq!(store.cached_footers(), 0);
    let found = lookup_segment(
        &store,
        SegmentRef::unchecked("t/seg.parquet"),
        "id",
        &[PkKey::Int(39_998)],
    )
    .await
    .unwrap();
    assert_eq!(ints(&found, "_seq"), vec![1_000 + 19_999]);
    assert_eq!(
        total_rows(
            &read_segment(&store, SegmentRef::unchecked("t/seg.parquet"), None)
                .await
                .unwrap()
        ),
        20_000
    );
    store.delete("t/seg.parquet").await.unwrap();
    assert_eq!(store.cached_footers(), 0);
}

#[tokio::test]
async fn damaged_segments_are_corrupt_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batches) = even_ids(30_000);
    let (good, _) = encode_segment(&schema, &batches, Some("id")).unwrap();

    let mut damaged: Vec<(String, Bytes)> = vec![
        ("empty".into(), Bytes::new()),
        ("magic only".into(), Bytes::from_static(b"PAR1")),
        ("not parquet".into(), Bytes::from(vec![b'x'; 10_000])),
        ("truncated to half".into(), good.slice(0..good.len() / 2)),
        ("footer cut".into(), good.slice(0..good.len() - 9)),
        ("head cut".into(), good.slice(100..)),
    ];
    let mut footer_len_garbled = good.to_vec();
    let n = footer_len_garbled.len();
    footer_len_garbled[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    damaged.push(("footer length garbled".into(), footer_len_garbled.into()));
    for (what, bytes) in &damaged {
        let path = "d/seg.parquet";
        store.put_durable(path, bytes.clone()).await.unwrap();
        for result in [
            read_segment(&store, SegmentRef::unchecked(path), None)
                .await
                .map(|_| ()),
            lookup_segment(&store, SegmentRef::unchecked(path), "id", &[PkKey::Int(2)])
                .await
                .map(|_| ()),
        ] {
            let err = result.expect_err(what);
            assert!(
                matches!(&err, ColdError::Corrupt(m) if m.starts_with("Segment 'd/seg.parquet' in storage 'local' is unreadable")),
                "{what}: {err:?}"
            );
        }
    }

    // Bytes flipped inside the data pages and the footer: whatever the
    // decoder makes of it, the answer is a value or a Corrupt error.
    // (parquet-rs writes no page checksums, so a flip inside compressed
    // data is not always noticed.)
    let mut corrupt = 0;
    for offset in (4..good.len() - 8).step_by(good.len() / 40) {
        let mut bytes = good.to_vec();
        for b in bytes.iter_mut().skip(offset).take(16) {
            *b ^= 0x5a;
        }
        let path = format!("flip/{offset}.parquet");
        store.put_durable(&path, bytes.into()).await.unwrap();
        for result in [
            read_segment(&store, SegmentRef::unchecked(&path), None)
                .await
                .map(|_| ()),
            lookup_segment(
                &store,
                SegmentRef::unchecked(&path),
                "id",
                &[PkKey::Int(40_000)],
            )
            .await
            .map(|_| ()),
        ] {
            if let Err(err) = result {
                assert!(matches!(err, ColdError::Corrupt(_)), "{offset}: {err:?}");
                corrupt += 1;
            }
        }
    }
    assert!(corrupt > 0, "no damaged read noticed");

    // A missing segment is an I/O error, not corruption.
    let err = read_segment(&store, SegmentRef::unchecked("gone.parquet"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ColdError::Missing(m) if m == "Storage 'local': segment 'gone.parquet' not found"),
        "{err:?}"
    );
}

/// With the manifest entry's checksums, no damaged byte reaches the
/// decoder: a flipped bit in any block (data pages, bloom filters, page
/// index, footer) is a Corrupt error naming the bytes, for every read that
/// touches the block, and reads that do not touch it answer the right rows.
#[tokio::test]
async fn checked_reads_never_serve_a_damaged_byte() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batches) = even_ids(150_000);
    let (good, stats) = encode_segment(&schema, &batches, Some("id")).unwrap();
    let size = good.len() as u64;
    let good_meta = stats.into_meta("good.parquet".into(), size, 0);
    let sums = good_meta
        .checksums
        .clone()
        .expect("a new segment has checksums");
    sums.check_shape(size).unwrap();
    store
        .put_durable("good.parquet", good.clone())
        .await
        .unwrap();
    // A footer an unchecked read cached is loaded again, with its blocks'
    // CRCs, for a checked read.
    let unchecked = read_segment(&store, SegmentRef::unchecked("good.parquet"), None)
        .await
        .unwrap();
    let all = read_segment(&store, &good_meta, None).await.unwrap();
    assert_eq!(all, unchecked);
    assert_eq!(total_rows(&all), 150_000);
    assert_eq!(
        all[0].schema(),
        schema,
        "our footer entry is not the table's"
    );
    // One key per row group, and an absent one: every bloom filter is read.
    let keys = [0, 131_072, 299_998, 1].map(PkKey::Int);
    let found = lookup_segment(&store, &good_meta, "id", &keys)
        .await
        .unwrap();
    assert_eq!(ints(&found, "id"), vec![0, 131_072, 299_998]);

    let is_checksum_error = |err: &ColdError, path: &str| {
        matches!(err, ColdError::Corrupt(m)
            if m.starts_with(&format!("Segment '{path}' in storage 'local' is unreadable: bytes "))
                && m.ends_with(" fail their checksum"))
    };
    // A byte in every 16 KiB of the data, and across the tail (page index,
    // footer, its length and magic).
    let tail = sums.tail_start;
    let mut offsets: Vec<u64> = (0..tail)
        .step_by(16 * 1024)
        .map(|o| o + o / 1024 % 997)
        .collect();
    offsets.extend([tail, tail + (size - tail) / 2, size - 9, size - 5, size - 1]);
    for (n, at) in offsets.into_iter().enumerate() {
        let at = at.min(size - 1);
        let mut bytes = good.to_vec();
        bytes[at as usize] ^= 0x01;
        let path = format!("flip/{n}.parquet");
        store.put_durable(&path, bytes.into()).await.unwrap();
        let mut seg = good_meta.clone();
        seg.path = path.clone();
        let mut caught = 0;
        match read_segment(&store, &seg, None).await {
            Ok(read) => assert_eq!(read, all, "flip at {at}: wrong rows"),
            Err(e) => {
                assert!(is_checksum_error(&e, &path), "flip at {at}: {e:?}");
                caught += 1;
            }
        }
        match lookup_segment(&store, &seg, "id", &keys).await {
            Ok(read) => assert_eq!(read, found, "flip at {at}: wrong rows"),
            Err(e) => {
                assert!(is_checksum_error(&e, &path), "flip at {at}: {e:?}");
                caught += 1;
            }
        }
        assert!(caught > 0, "the flip at byte {at} went unnoticed");
    }

    // Shorter or longer than the manifest says: refused before decoding.
    for (what, bytes) in [
        ("truncated", good.slice(0..good.len() - 1_000)),
        ("appended to", Bytes::from([&good[..], b"tail"].concat())),
        ("emptied", Bytes::new()),
    ] {
        let path = format!("size/{}.parquet", what.replace(' ', "-"));
        store.put_durable(&path, bytes.clone()).await.unwrap();
        let mut seg = good_meta.clone();
        seg.path = path.clone();
        let err = read_segment(&store, &seg, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Segment '{path}' in storage 'local' is unreadable: it is {} bytes, its manifest entry says {size}",
                bytes.len()
            ),
            "{what}"
        );
        assert!(matches!(err, ColdError::Corrupt(_)));
    }
    // Missing is still "reload the manifest", not corruption.
    let mut seg = good_meta.clone();
    seg.path = "gone.parquet".into();
    let err = lookup_segment(&store, &seg, "id", &keys).await.unwrap_err();
    assert!(matches!(err, ColdError::Missing(_)), "{err:?}");
}

#[tokio::test]
async fn put_durable_replaces_atomically_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let root = dir.path().join("storage");
    let a = Bytes::from(vec![b'a'; 3 * 1024 * 1024]);
    let b = Bytes::from(vec![b'b'; 2 * 1024 * 1024 + 1]);
    store.put_durable("x/y/obj", a.clone()).await.unwrap();

    // Readers racing repeated replacements see one whole version or the
    // other, never a mix or a prefix.
    let writer = {
        let store = store.clone();
        let (a, b) = (a.clone(), b.clone());
        tokio::spawn(async move {
            for i in 0..20 {
                let next = if i % 2 == 0 { b.clone() } else { a.clone() };
                store.put_durable("x/y/obj", next).await.unwrap();
            }
        })
    };
    let file = root.join("x/y/obj");
    let mut seen = 0;
    while !writer.is_finished() {
        let got = store.get("x/y/obj").await.unwrap();
        assert!(got == a || got == b, "torn read of {} bytes", got.len());
        let raw = std::fs::read(&file).unwrap();
        assert!(raw == a || raw == b, "torn file of {} bytes", raw.len());
        seen += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    assert!(seen > 0);
    assert_eq!(store.get("x/y/obj").await.unwrap(), a);
    let names: Vec<_> = std::fs::read_dir(root.join("x/y"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["obj"], "only the object is left");

    // A failed write (the target is a non-empty directory, so the rename
    // fails) is an I/O error and cleans up its temporary file.
    std::fs::create_dir_all(root.join("x/dir/inner")).unwrap();
    let err = store
        .put_durable("x/dir", Bytes::from_static(b"1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ColdError::Io(m) if m.starts_with("Storage 'local': cannot write 'x/dir': ")),
        "{err:?}"
    );
    let mut names: Vec<_> = std::fs::read_dir(root.join("x"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["dir", "y"]);
}

#[tokio::test]
async fn delete_prefix_counts_what_it_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for (path, len) in [
        ("app/notes/seg-1.parquet", 10),
        ("app/notes/alice/seg-2.parquet", 200),
        ("app/notes/bob/seg-3.parquet", 3_000),
        ("app/notes2/seg-4.parquet", 44),
        ("other/seg-5.parquet", 5),
    ] {
        store
            .put_durable(path, Bytes::from(vec![7u8; len]))
            .await
            .unwrap();
    }
    assert_eq!(store.list("app/notes").await.unwrap().len(), 3);
    assert_eq!(store.delete_prefix("app/notes/").await.unwrap(), (3, 3_210));
    assert_eq!(store.delete_prefix("app/notes").await.unwrap(), (0, 0));
    assert_eq!(store.delete_prefix("missing/").await.unwrap(), (0, 0));
    let mut left = store.list("").await.unwrap();
    left.sort();
    assert_eq!(
        left,
        vec![
            ("app/notes2/seg-4.parquet".to_string(), 44),
            ("other/seg-5.parquet".to_string(), 5),
        ]
    );
    let root = dir.path().join("storage");
    assert!(!root.join("app/notes").exists(), "empty directories go");
    assert!(root.join("app/notes2").is_dir());
}

#[tokio::test]
async fn probe_reports_an_unwritable_storage() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.probe().await.unwrap();
    // The directory is replaced by a file after opening.
    let root = dir.path().join("storage");
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::write(&root, b"not a directory").unwrap();
    match store.probe().await {
        Err(ColdError::NotWritable(m)) => {
            assert!(
                m.starts_with("Storage 'local' is not writable: cannot write '_probe/"),
                "{m}"
            );
        }
        other => panic!("expected NotWritable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_flush_shaped_round_trip_through_templates_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let mut def = StorageDef::local(&dir.path().join("st"), 1);
    def.storage_id = StorageId::parse("archive").unwrap();
    def.user_tables_template = "users/{userId}/{namespace}/{tableName}".into();
    def.validate().unwrap();
    let store = ColdStore::open(&def).unwrap();
    assert_eq!(store.storage_id().as_str(), "archive");

    let ns = NamespaceId::parse("app").unwrap();
    let table = TableName::parse("notes").unwrap();
    let alice = UserId::parse("alice").unwrap();
    let scope = render_template(&def.user_tables_template, &ns, &table, Some(&alice));
    assert_eq!(scope, "users/alice/app/notes");

    let mut manifest = Manifest::new(def.storage_id.clone());
    let (schema, all) = even_ids(30_000);
    for (i, part) in all.chunks(1).enumerate() {
        let (bytes, stats) = encode_segment(&schema, part, Some("id")).unwrap();
        let path = format!("{scope}/{}", segment_file_name(stats.max_seq));
        let size = bytes.len() as u64;
        store.put_durable(&path, bytes).await.unwrap();
        manifest = manifest.with_segment(stats.into_meta(path, size, i as i64), i as i64);
    }
    let manifest = Manifest::decode(&manifest.encode()).unwrap();
    assert_eq!(manifest.version, 3);
    assert_eq!(manifest.total_rows(), 30_000);
    assert_eq!(manifest.max_seq(), Some(1_000 + 29_999));
    assert_eq!(
        manifest.total_bytes(),
        store
            .list(&scope)
            .await
            .unwrap()
            .iter()
            .map(|(_, s)| s)
            .sum::<u64>()
    );

    // The newest segment holding a key is found first; min/max tell which
    // segments can hold it at all.
    let key = PkKey::Int(2 * 25_000);
    let mut hits = Vec::new();
    for seg in manifest.segments_newest_first() {
        if !seg.may_contain("id", &key) {
            continue;
        }
        let found = lookup_segment(&store, seg, "id", std::slice::from_ref(&key))
            .await
            .unwrap();
        hits.extend(ints(&found, "_seq"));
    }
    assert_eq!(hits, vec![1_000 + 25_000]);

    // What DROP TABLE does to the scope.
    let deleted = store.delete_prefix(&format!("{scope}/")).await.unwrap();
    assert_eq!(deleted, (3, manifest.total_bytes()));
    assert!(!dir.path().join("st/users").exists());
}

#[tokio::test]
async fn concurrent_lookups_share_one_footer_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batches) = even_ids(20_000);
    let (bytes, _) = encode_segment(&schema, &batches, Some("id")).unwrap();
    store.put_durable("c/seg.parquet", bytes).await.unwrap();
    let tasks: Vec<_> = (0..8_i64)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let k = (t * 1_000 + i) * 2;
                    let found = lookup_segment(
                        &store,
                        SegmentRef::unchecked("c/seg.parquet"),
                        "id",
                        &[PkKey::Int(k)],
                    )
                    .await
                    .unwrap();
                    assert_eq!(ints(&found, "id"), vec![k]);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.cached_footers(), 1);
}

#[tokio::test]
async fn nulls_in_a_nullable_column_survive() {
    // Checked on the arrays read back, independently of batch equality.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (schema, batch) = all_types();
    let (bytes, _) = encode_segment(&schema, &[batch], None).unwrap();
    store.put_durable("n.parquet", bytes).await.unwrap();
    let read = read_segment(
        &store,
        SegmentRef::unchecked("n.parquet"),
        Some(&["small", "blob"]),
    )
    .await
    .unwrap();
    let small = read[0].column(0);
    let blob = read[0].column(1);
    assert_eq!((small.null_count(), small.is_null(1)), (1, true));
    assert_eq!((blob.null_count(), blob.is_null(2)), (1, true));
}
