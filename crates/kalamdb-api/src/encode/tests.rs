//! The encoding's contract, cell by cell: every Arrow type's wire spelling
//! and JSON value, masking, flags, and rows of sliced or nested arrays.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, BinaryArray, BinaryViewArray, BooleanArray, Date32Array,
    Date64Array, Decimal128Array, Decimal256Array, DictionaryArray, DurationSecondArray,
    FixedSizeBinaryArray, FixedSizeListArray, Float16Array, Float32Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int32Builder, Int64Array, IntervalMonthDayNanoArray, LargeBinaryArray,
    LargeListArray, LargeStringArray, ListArray, MapBuilder, NullArray, StringArray, StringBuilder,
    StringViewArray, StructArray, Time32MillisecondArray, Time32SecondArray,
    Time64MicrosecondArray, Time64NanosecondArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt8Array,
    UInt16Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Fields, Float16Type, Float32Type, Float64Type, Int8Type, Int32Type, Int64Type,
    IntervalMonthDayNano, IntervalUnit, Schema, TimeUnit, UnionFields, i256,
};
use datafusion::arrow::record_batch::RecordBatch;
use kalamdb_types::{FIELD_META_DATA_TYPE, FIELD_META_FLAGS, KalamDataType};
use serde_json::{Value, json};

use super::cells::decimal_value;
use super::{
    ColumnDescriptor, EncodeError, describe_schema, encode_row_objects, encode_rows, wire_type,
};

fn field(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, true)
}

fn meta_field(name: &str, data_type: DataType, wire: &str, flags: Option<&str>) -> Field {
    let mut metadata = HashMap::from([(FIELD_META_DATA_TYPE.to_owned(), wire.to_owned())]);
    if let Some(flags) = flags {
        metadata.insert(FIELD_META_FLAGS.to_owned(), flags.to_owned());
    }
    Field::new(name, data_type, flags.is_none()).with_metadata(metadata)
}

/// Encodes a single column through the public API and returns its cells.
fn cells_of(field: Field, array: ArrayRef) -> Result<Vec<Value>, EncodeError> {
    let schema = Arc::new(Schema::new(vec![field]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array]).unwrap();
    let rows = encode_rows(&schema, &[batch])?;
    Ok(rows.into_iter().map(|mut row| row.remove(0)).collect())
}

fn cells(array: ArrayRef) -> Vec<Value> {
    let f = field("c", array.data_type().clone());
    cells_of(f, array).unwrap()
}

fn mapped(data_type: DataType) -> Value {
    wire_type(&field("c", data_type)).wire_json()
}

fn item(data_type: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", data_type, true))
}

#[test]
fn arrow_types_map_to_the_spec_spellings() {
    let utc: Option<Arc<str>> = Some("UTC".into());
    let cases = [
        (DataType::Boolean, json!("Boolean")),
        (DataType::Int8, json!("SmallInt")),
        (DataType::Int16, json!("SmallInt")),
        (DataType::UInt8, json!("SmallInt")),
        (DataType::Int32, json!("Int")),
        (DataType::UInt16, json!("Int")),
        (DataType::Int64, json!("BigInt")),
        (DataType::UInt32, json!("BigInt")),
        (DataType::UInt64, json!("BigInt")),
        (DataType::Float16, json!("Float")),
        (DataType::Float32, json!("Float")),
        (DataType::Float64, json!("Double")),
        (DataType::Utf8, json!("Text")),
        (DataType::LargeUtf8, json!("Text")),
        (DataType::Utf8View, json!("Text")),
        (DataType::Binary, json!("Bytes")),
        (DataType::LargeBinary, json!("Bytes")),
        (DataType::BinaryView, json!("Bytes")),
        (DataType::FixedSizeBinary(8), json!("Bytes")),
        (DataType::FixedSizeBinary(16), json!("Uuid")),
        (
            DataType::Decimal128(10, 2),
            json!({"Decimal": {"precision": 10, "scale": 2}}),
        ),
        (
            DataType::Decimal256(50, 4),
            json!({"Decimal": {"precision": 50, "scale": 4}}),
        ),
        (DataType::Date32, json!("Date")),
        (DataType::Date64, json!("Date")),
        (DataType::Time32(TimeUnit::Millisecond), json!("Time")),
        (DataType::Time64(TimeUnit::Nanosecond), json!("Time")),
        (
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            json!("Timestamp"),
        ),
        (
            DataType::Timestamp(TimeUnit::Microsecond, utc),
            json!("DateTime"),
        ),
        (DataType::List(item(DataType::Int32)), json!("Json")),
        (DataType::LargeList(item(DataType::Int32)), json!("Json")),
        (
            DataType::FixedSizeList(item(DataType::Float32), 3),
            json!("Json"),
        ),
        (
            DataType::Struct(Fields::from(vec![field("a", DataType::Int32)])),
            json!("Json"),
        ),
        (
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("keys", DataType::Utf8, false),
                        field("values", DataType::Int32),
                    ])),
                    false,
                )),
                false,
            ),
            json!("Json"),
        ),
        (
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            json!("Text"),
        ),
        (
            DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Int64)),
            json!("BigInt"),
        ),
        (DataType::Null, json!("Text")),
        (DataType::Duration(TimeUnit::Second), json!("Text")),
        (
            DataType::Interval(IntervalUnit::MonthDayNano),
            json!("Text"),
        ),
    ];
    for (data_type, expected) in cases {
        assert_eq!(mapped(data_type.clone()), expected, "for {data_type}");
    }
}

#[test]
fn metadata_type_overrides_the_arrow_mapping() {
    let json_col = meta_field("doc", DataType::Utf8, r#""Json""#, None);
    assert_eq!(wire_type(&json_col), KalamDataType::Json);
    let array: ArrayRef = Arc::new(StringArray::from(vec![r#"{"a":1}"#]));
    assert_eq!(
        cells_of(json_col, array).unwrap(),
        vec![json!(r#"{"a":1}"#)]
    );

    let decimal = meta_field(
        "price",
        DataType::Utf8,
        r#"{"Decimal":{"precision":10,"scale":2}}"#,
        None,
    );
    assert_eq!(
        wire_type(&decimal),
        KalamDataType::Decimal {
            precision: 10,
            scale: 2
        }
    );

    // Garbage metadata must never reach the wire as an unknown spelling.
    let bogus = meta_field("x", DataType::Int32, r#""Varchar""#, None);
    assert_eq!(wire_type(&bogus), KalamDataType::Int);
    let not_json = meta_field("y", DataType::Int64, "BigInt", None);
    assert_eq!(wire_type(&not_json), KalamDataType::BigInt);
}

#[test]
fn describe_schema_keeps_order_and_only_known_flags() {
    let schema = Schema::new(vec![
        meta_field("id", DataType::Int64, r#""BigInt""#, Some("pk,nn,uq")),
        meta_field(
            "body",
            DataType::Utf8,
            r#""Text""#,
            Some("nn, auto ,bogus,nn"),
        ),
        meta_field("weird", DataType::Utf8, r#""Text""#, Some("uq,pk")),
        field("n", DataType::Int32),
    ]);
    let described = describe_schema(&schema);
    assert_eq!(
        described,
        vec![
            ColumnDescriptor {
                name: "id".into(),
                data_type: json!("BigInt"),
                index: 0,
                flags: vec!["pk".into(), "nn".into(), "uq".into()],
            },
            ColumnDescriptor {
                name: "body".into(),
                data_type: json!("Text"),
                index: 1,
                flags: vec!["nn".into()],
            },
            ColumnDescriptor {
                name: "weird".into(),
                data_type: json!("Text"),
                index: 2,
                flags: vec!["pk".into(), "uq".into()],
            },
            ColumnDescriptor {
                name: "n".into(),
                data_type: json!("Int"),
                index: 3,
                flags: vec![],
            },
        ]
    );
    let wire = serde_json::to_value(&described).unwrap();
    assert_eq!(
        wire[0],
        json!({"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]})
    );
    // Empty flags are omitted, not sent as [].
    assert_eq!(wire[3], json!({"name":"n","data_type":"Int","index":3}));
}

#[test]
fn small_integers_are_numbers_and_64_bit_integers_are_strings() {
    assert_eq!(
        cells(Arc::new(Int8Array::from(vec![Some(-8), None]))),
        vec![json!(-8), Value::Null]
    );
    assert_eq!(
        cells(Arc::new(Int16Array::from(vec![300]))),
        vec![json!(300)]
    );
    assert_eq!(
        cells(Arc::new(Int32Array::from(vec![i32::MIN]))),
        vec![json!(i32::MIN)]
    );
    assert_eq!(
        cells(Arc::new(UInt8Array::from(vec![255]))),
        vec![json!(255)]
    );
    assert_eq!(
        cells(Arc::new(UInt16Array::from(vec![65535]))),
        vec![json!(65535)]
    );
    assert_eq!(
        cells(Arc::new(Int64Array::from(vec![
            Some(i64::MIN),
            Some(42),
            None
        ]))),
        vec![json!("-9223372036854775808"), json!("42"), Value::Null]
    );
    assert_eq!(
        cells(Arc::new(UInt32Array::from(vec![7]))),
        vec![json!("7")]
    );
    assert_eq!(
        cells(Arc::new(UInt64Array::from(vec![u64::MAX]))),
        vec![json!("18446744073709551615")]
    );
}

#[test]
fn declared_type_changes_integer_encoding_where_it_matters() {
    // A BigInt column is a string on the wire even if Arrow holds it narrower.
    let narrow = meta_field("id", DataType::Int32, r#""BigInt""#, None);
    assert_eq!(
        cells_of(narrow, Arc::new(Int32Array::from(vec![5]))).unwrap(),
        vec![json!("5")]
    );
    // A timestamp held as raw µs stays a number, as §3.5 wants for timestamps.
    let ts = meta_field("at", DataType::Int64, r#""Timestamp""#, None);
    assert_eq!(
        cells_of(ts, Arc::new(Int64Array::from(vec![1_768_411_649_929_000]))).unwrap(),
        vec![json!(1_768_411_649_929_000_i64)]
    );
}

#[test]
fn booleans_and_nulls() {
    assert_eq!(
        cells(Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false)
        ]))),
        vec![json!(true), Value::Null, json!(false)]
    );
    assert_eq!(
        cells(Arc::new(NullArray::new(2))),
        vec![Value::Null, Value::Null]
    );
}

#[test]
fn floats_are_numbers_and_keep_their_short_form() {
    assert_eq!(
        cells(Arc::new(Float64Array::from(vec![
            Some(1.5),
            None,
            Some(-0.25)
        ]))),
        vec![json!(1.5), Value::Null, json!(-0.25)]
    );
    assert_eq!(
        cells(Arc::new(Float32Array::from(vec![1.1_f32]))),
        vec![json!(1.1)]
    );
    assert_eq!(
        cells(Arc::new(Float16Array::from(vec![
            <Float16Type as ArrowPrimitiveType>::Native::from_f32(0.5)
        ]))),
        vec![json!(0.5)]
    );
}

#[test]
fn non_finite_floats_fail_naming_the_column() {
    for array in [
        Arc::new(Float64Array::from(vec![1.0, f64::NAN])) as ArrayRef,
        Arc::new(Float64Array::from(vec![f64::INFINITY])),
        Arc::new(Float32Array::from(vec![f32::NEG_INFINITY])),
    ] {
        let err = cells_of(field("ratio", array.data_type().clone()), array).unwrap_err();
        assert!(matches!(&err, EncodeError::NonFinite { column } if column == "ratio"));
        assert_eq!(
            err.to_string(),
            "Column 'ratio' holds a non-finite float (NaN or infinity), which JSON cannot carry"
        );
    }
}

#[test]
fn null_slots_are_never_decoded() {
    // A NaN hidden behind a null bit is not data and must not fail the query.
    let array = Float64Array::new(vec![f64::NAN, 2.0].into(), Some(vec![false, true].into()));
    assert_eq!(cells(Arc::new(array)), vec![Value::Null, json!(2.0)]);
}

#[test]
fn decimals_have_exactly_scale_decimals() {
    let array = Decimal128Array::from(vec![Some(-5), Some(20075), Some(0), Some(-12345), None])
        .with_precision_and_scale(10, 2)
        .unwrap();
    assert_eq!(
        cells(Arc::new(array)),
        vec![
            json!("-0.05"),
            json!("200.75"),
            json!("0.00"),
            json!("-123.45"),
            Value::Null
        ]
    );
    let scale0 = Decimal128Array::from(vec![-42, 0])
        .with_precision_and_scale(5, 0)
        .unwrap();
    assert_eq!(cells(Arc::new(scale0)), vec![json!("-42"), json!("0")]);
    let negative_scale = Decimal128Array::from(vec![12])
        .with_precision_and_scale(5, -2)
        .unwrap();
    assert_eq!(cells(Arc::new(negative_scale)), vec![json!("1200")]);
    let extreme = Decimal128Array::from(vec![i128::MIN])
        .with_precision_and_scale(38, 10)
        .unwrap();
    assert_eq!(
        cells(Arc::new(extreme)),
        vec![json!("-17014118346046923173168730371.5884105728")]
    );
    let wide = Decimal256Array::from(vec![i256::from_i128(-5), i256::from_i128(123_456)])
        .with_precision_and_scale(50, 3)
        .unwrap();
    assert_eq!(
        cells(Arc::new(wide)),
        vec![json!("-0.005"), json!("123.456")]
    );
}

#[test]
fn decimal_formatting_edge_cases() {
    assert_eq!(decimal_value("5", false, 3), json!("0.005"));
    assert_eq!(decimal_value("123", false, 3), json!("0.123"));
    assert_eq!(decimal_value("1234", true, 3), json!("-1.234"));
    assert_eq!(decimal_value("0", true, 2), json!("0.00"));
    assert_eq!(decimal_value("0", false, -3), json!("0"));
}

#[test]
fn strings_of_every_width() {
    assert_eq!(
        cells(Arc::new(StringArray::from(vec![Some("hi"), None]))),
        vec![json!("hi"), Value::Null]
    );
    assert_eq!(
        cells(Arc::new(LargeStringArray::from(vec!["large"]))),
        vec![json!("large")]
    );
    assert_eq!(
        cells(Arc::new(StringViewArray::from(vec![
            "a view string longer than twelve bytes"
        ]))),
        vec![json!("a view string longer than twelve bytes")]
    );
}

#[test]
fn binaries_are_byte_arrays() {
    let expected = vec![json!([104, 105]), Value::Null, json!([])];
    let values: Vec<Option<&[u8]>> = vec![Some(b"hi"), None, Some(b"")];
    assert_eq!(cells(Arc::new(BinaryArray::from(values.clone()))), expected);
    assert_eq!(
        cells(Arc::new(LargeBinaryArray::from(values.clone()))),
        expected
    );
    assert_eq!(cells(Arc::new(BinaryViewArray::from(values))), expected);
    let fixed = FixedSizeBinaryArray::try_from_iter(vec![vec![0_u8, 255, 16]].into_iter()).unwrap();
    assert_eq!(cells(Arc::new(fixed)), vec![json!([0, 255, 16])]);
}

#[test]
fn sixteen_byte_binaries_are_canonical_uuids() {
    let bytes: [u8; 16] = [
        0x01, 0x90, 0x00, 0x00, 0xab, 0xcd, 0x7e, 0xf0, 0x8a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56,
        0x78,
    ];
    let uuids = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        vec![Some(bytes), None].into_iter(),
        16,
    )
    .unwrap();
    assert_eq!(
        cells(Arc::new(uuids.clone())),
        vec![json!("01900000-abcd-7ef0-8abc-def012345678"), Value::Null]
    );
    // Declared Bytes keeps the raw bytes.
    let as_bytes = meta_field("b", DataType::FixedSizeBinary(16), r#""Bytes""#, None);
    let encoded = cells_of(as_bytes, Arc::new(uuids)).unwrap();
    assert_eq!(encoded[0].as_array().map(Vec::len), Some(16));
    assert_eq!(encoded[0][0], json!(1));
}

#[test]
fn timestamps_of_every_unit_become_micros() {
    assert_eq!(
        cells(Arc::new(TimestampSecondArray::from(vec![1]))),
        vec![json!(1_000_000)]
    );
    assert_eq!(
        cells(Arc::new(TimestampMillisecondArray::from(vec![
            1_768_411_649_929
        ]))),
        vec![json!(1_768_411_649_929_000_i64)]
    );
    assert_eq!(
        cells(Arc::new(
            TimestampMicrosecondArray::from(vec![Some(-3), None]).with_timezone("UTC")
        )),
        vec![json!(-3), Value::Null]
    );
    assert_eq!(
        cells(Arc::new(TimestampNanosecondArray::from(vec![
            -1,
            1_999,
            -1_000,
            1_768_411_649_929_123_456
        ]))),
        vec![
            json!(-1),
            json!(1),
            json!(-1),
            json!(1_768_411_649_929_123_i64)
        ]
    );
}

#[test]
fn timestamp_overflow_is_an_error_not_a_panic() {
    let array: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX]));
    let err = cells_of(field("at", array.data_type().clone()), array).unwrap_err();
    assert!(matches!(&err, EncodeError::Unsupported { column, .. } if column == "at"));
}

#[test]
fn dates_and_times() {
    assert_eq!(
        cells(Arc::new(Date32Array::from(vec![20214, -1]))),
        vec![json!(20214), json!(-1)]
    );
    assert_eq!(
        cells(Arc::new(Date64Array::from(vec![
            86_400_000 * 3 + 5,
            -1,
            -86_400_000
        ]))),
        vec![json!(3), json!(-1), json!(-1)]
    );
    assert_eq!(
        cells(Arc::new(Time32SecondArray::from(vec![36_000]))),
        vec![json!(36_000_000_000_i64)]
    );
    assert_eq!(
        cells(Arc::new(Time32MillisecondArray::from(vec![1_500]))),
        vec![json!(1_500_000)]
    );
    assert_eq!(
        cells(Arc::new(Time64MicrosecondArray::from(vec![36_000_000_000]))),
        vec![json!(36_000_000_000_i64)]
    );
    assert_eq!(
        cells(Arc::new(Time64NanosecondArray::from(vec![1_999]))),
        vec![json!(1)]
    );
}

#[test]
fn lists_encode_their_elements_recursively() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        None,
        Some(vec![]),
    ]);
    assert_eq!(
        cells(Arc::new(list)),
        vec![json!([1, null, 3]), Value::Null, json!([])]
    );
    // Elements follow the same rules: 64-bit integers stay strings.
    let big =
        LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1), Some(2)])]);
    assert_eq!(cells(Arc::new(big)), vec![json!(["1", "2"])]);
}

#[test]
fn sliced_lists_only_encode_their_own_elements() {
    let list = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
        Some(vec![Some(f64::NAN)]),
        Some(vec![Some(1.0), Some(2.0)]),
        Some(vec![Some(3.0)]),
    ]);
    let sliced = list.slice(1, 2);
    assert_eq!(
        cells(Arc::new(sliced)),
        vec![json!([1.0, 2.0]), json!([3.0])]
    );
}

#[test]
fn fixed_size_lists_including_sliced() {
    let list = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
        vec![
            Some(vec![Some(0.5), Some(1.5)]),
            None,
            Some(vec![Some(2.5), Some(3.5)]),
        ],
        2,
    );
    assert_eq!(
        cells(Arc::new(list.clone())),
        vec![json!([0.5, 1.5]), Value::Null, json!([2.5, 3.5])]
    );
    assert_eq!(cells(Arc::new(list.slice(2, 1))), vec![json!([2.5, 3.5])]);
}

#[test]
fn structs_become_objects_with_nested_values() {
    let inner_list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1)]),
        Some(vec![]),
        None,
    ]));
    let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let st = StructArray::try_new(
        Fields::from(vec![
            field("name", DataType::Utf8),
            field("id", DataType::Int64),
            field("tags", inner_list.data_type().clone()),
        ]),
        vec![names, ids, inner_list],
        Some(vec![true, true, false].into()),
    )
    .unwrap();
    assert_eq!(
        cells(Arc::new(st)),
        vec![
            json!({"name": "a", "id": "1", "tags": [1]}),
            json!({"name": "b", "id": "2", "tags": []}),
            Value::Null,
        ]
    );
}

fn string_map() -> ArrayRef {
    let mut builder = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    builder.keys().append_value("a");
    builder.values().append_value(1);
    builder.keys().append_value("b");
    builder.values().append_null();
    builder.append(true).unwrap();
    builder.append(false).unwrap();
    builder.keys().append_value("c");
    builder.values().append_value(3);
    builder.append(true).unwrap();
    Arc::new(builder.finish())
}

#[test]
fn string_keyed_maps_are_objects() {
    assert_eq!(
        cells(string_map()),
        vec![json!({"a": 1, "b": null}), Value::Null, json!({"c": 3})]
    );
    assert_eq!(cells(string_map().slice(2, 1)), vec![json!({"c": 3})]);
}

#[test]
fn other_maps_are_pair_arrays() {
    let mut builder = MapBuilder::new(None, Int32Builder::new(), StringBuilder::new());
    builder.keys().append_value(7);
    builder.values().append_value("seven");
    builder.append(true).unwrap();
    assert_eq!(
        cells(Arc::new(builder.finish())),
        vec![json!([[7, "seven"]])]
    );
}

#[test]
fn dictionaries_encode_their_decoded_values() {
    let dict: DictionaryArray<Int8Type> = vec![Some("x"), None, Some("y"), Some("x")]
        .into_iter()
        .collect();
    assert_eq!(
        cells(Arc::new(dict)),
        vec![json!("x"), Value::Null, json!("y"), json!("x")]
    );
    let keys = Int32Array::from(vec![1, 0]);
    let values: ArrayRef = Arc::new(Int64Array::from(vec![10, 20]));
    let ints = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
    assert_eq!(cells(Arc::new(ints)), vec![json!("20"), json!("10")]);
}

#[test]
fn other_types_use_arrow_text_rendering() {
    let interval =
        IntervalMonthDayNanoArray::from(vec![Some(IntervalMonthDayNano::new(0, 1, 0)), None]);
    let encoded = cells(Arc::new(interval));
    assert_eq!(encoded[0], json!("1 days"));
    assert_eq!(encoded[1], Value::Null);

    let durations = DurationSecondArray::from(vec![90]);
    let encoded = cells(Arc::new(durations));
    assert!(encoded[0].as_str().is_some_and(|s| !s.is_empty()));

    let union = datafusion::arrow::array::UnionArray::try_new(
        UnionFields::try_new(vec![0], vec![field("i", DataType::Int32)]).unwrap(),
        vec![0_i8, 0].into(),
        None,
        vec![Arc::new(Int32Array::from(vec![Some(4), None])) as ArrayRef],
    )
    .unwrap();
    let f = field("u", union.data_type().clone());
    assert_eq!(
        mapped(f.data_type().clone()),
        json!("Text"),
        "unions have no dedicated spelling"
    );
    let encoded = cells_of(f, Arc::new(union)).unwrap();
    assert!(encoded[0].as_str().is_some_and(|s| s.contains('4')));
    assert_eq!(encoded[1], Value::Null);
}

#[test]
fn secret_columns_are_masked() {
    let schema = Arc::new(Schema::new(vec![
        field("user_id", DataType::Utf8),
        field("password_hash", DataType::Utf8),
        field("credentials", DataType::Float64),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["alice", "bob"])),
            Arc::new(StringArray::from(vec![Some("$argon2id$..."), None])),
            // Masking never decodes, so even a NaN secret is just masked.
            Arc::new(Float64Array::from(vec![Some(f64::NAN), None])),
        ],
    )
    .unwrap();
    assert_eq!(
        encode_rows(&schema, std::slice::from_ref(&batch)).unwrap(),
        vec![
            vec![json!("alice"), json!("***"), json!("***")],
            vec![json!("bob"), Value::Null, Value::Null],
        ]
    );
    let objects = encode_row_objects(&schema, &[batch]).unwrap();
    assert_eq!(objects[0]["password_hash"], json!("***"));
    assert_eq!(objects[1]["credentials"], Value::Null);
}

fn two_column_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        meta_field("id", DataType::Int64, r#""BigInt""#, Some("pk,nn,uq")),
        field("body", DataType::Utf8),
    ]))
}

fn batch(schema: &Arc<Schema>, ids: Vec<i64>, bodies: Vec<&str>) -> RecordBatch {
    RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(bodies)),
        ],
    )
    .unwrap()
}

#[test]
fn rows_keep_batch_and_row_order() {
    let schema = two_column_schema();
    let batches = [
        batch(&schema, vec![1, 2], vec!["a", "b"]),
        batch(&schema, vec![], vec![]),
        batch(&schema, vec![3], vec!["c"]),
    ];
    assert_eq!(
        encode_rows(&schema, &batches).unwrap(),
        vec![
            vec![json!("1"), json!("a")],
            vec![json!("2"), json!("b")],
            vec![json!("3"), json!("c")],
        ]
    );
    assert!(encode_rows(&schema, &[]).unwrap().is_empty());
}

#[test]
fn sliced_batches_encode_only_their_rows() {
    let schema = two_column_schema();
    let full = batch(&schema, vec![1, 2, 3], vec!["a", "b", "c"]);
    assert_eq!(
        encode_rows(&schema, &[full.slice(1, 2)]).unwrap(),
        vec![vec![json!("2"), json!("b")], vec![json!("3"), json!("c")]]
    );
}

#[test]
fn row_objects_are_keyed_by_column_name() {
    let schema = two_column_schema();
    let batches = [
        batch(&schema, vec![1], vec!["a"]),
        batch(&schema, vec![2], vec!["b"]),
    ];
    let objects = encode_row_objects(&schema, &batches).unwrap();
    let as_json: Vec<Value> = objects.into_iter().map(Value::Object).collect();
    assert_eq!(
        as_json,
        vec![
            json!({"id": "1", "body": "a"}),
            json!({"id": "2", "body": "b"})
        ]
    );
}

#[test]
fn a_batch_not_matching_the_schema_is_an_error() {
    let schema = two_column_schema();
    let narrow = Arc::new(Schema::new(vec![field("id", DataType::Int64)]));
    let lone = RecordBatch::try_new(narrow, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    let err = encode_rows(&schema, &[lone]).unwrap_err();
    assert!(matches!(&err, EncodeError::Unsupported { column, .. } if column == "body"));
}
