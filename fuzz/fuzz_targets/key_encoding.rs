//! The hot-store key codec (`kalamdb_store::keycode`) and the typed keys built on it
//! (`RowKey`, `MetaKey`, `PkValue`, `Partition`, and their prefixes).
//!
//! Properties:
//! - decoding arbitrary bytes, as a key or field by field, never panics, and what decodes
//!   re-encodes to exactly the bytes it came from (one encoding per value);
//! - encode → decode gives back the value;
//! - ORDER: `a.cmp(&b) == encode(a).cmp(&encode(b))` for field tuples (`u8`, `u64`, `i64`,
//!   bytes, str, 16 and 32 raw bytes), row keys (table, partition, primary key) and meta
//!   keys, which is what `keycode` promises and what range scans rely on;
//! - a prefix's range holds exactly the keys with that table / partition / kind (`ab` never
//!   matches `abc`).

#![no_main]

use kalamdb_store::{
    KeyReader, KeyWriter, MetaKey, MetaPrefix, Partition, PkValue, RowKey, RowPrefix,
};
use kalamdb_types::{NamespaceId, StorageId, TableId, TableName, UserId};
use libfuzzer_sys::arbitrary::{self, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, Copy)]
enum FieldKind {
    U8,
    U64,
    I64,
    Bytes,
    Str,
    Raw16,
    Raw32,
}

impl FieldKind {
    /// One input byte per kind, so a hand-written seed can spell its field list.
    fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<Self> {
        const ALL: [FieldKind; 7] = [
            FieldKind::U8,
            FieldKind::U64,
            FieldKind::I64,
            FieldKind::Bytes,
            FieldKind::Str,
            FieldKind::Raw16,
            FieldKind::Raw32,
        ];
        Ok(ALL[usize::from(u.arbitrary::<u8>()?) % ALL.len()])
    }
}

/// One field value; the derived order (kind, then value) is the logical order, and two
/// tuples are only compared when their kinds agree position by position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    U8(u8),
    U64(u64),
    I64(i64),
    Bytes(Vec<u8>),
    Str(String),
    Raw16([u8; 16]),
    Raw32([u8; 32]),
}

// The first input byte picks what the rest is, so seeds can be plain encoded keys:
// 0 → bytes decoded as a key; 1 → a field count `n`, `n` field-kind bytes (0 `u8`, 1 `u64`,
// 2 `i64`, 3 bytes, 4 str, 5 raw16, 6 raw32), then bytes decoded as those fields;
// 2 → two field tuples of one shape; 3 → two row keys; 4 → two meta keys.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    // Running out of input while building values just ends the run.
    let _ = match mode % 5 {
        0 => {
            check_decode_key(rest);
            Ok(())
        }
        1 => check_decode_fields(u),
        2 => check_fields(&mut u),
        3 => check_row_keys(&mut u),
        _ => check_meta_keys(&mut u),
    };
});

fn check_decode_key(bytes: &[u8]) {
    if let Ok(key) = RowKey::decode(bytes) {
        assert_eq!(key.encode(), bytes, "{key} has another encoding");
    }
    if let Ok(key) = MetaKey::decode(bytes) {
        assert_eq!(key.encode(), bytes, "{key} has another encoding");
    }
}

fn check_decode_fields(mut u: Unstructured) -> arbitrary::Result<()> {
    let count = u.int_in_range(0u8..=16)?;
    let kinds = (0..count)
        .map(|_| FieldKind::arbitrary(&mut u))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = u.take_rest();
    let mut r = KeyReader::new(bytes);
    let mut w = KeyWriter::new();
    for kind in kinds {
        let field = match read_field(&mut r, kind) {
            Ok(field) => field,
            Err(err) => {
                assert!(!err.to_string().is_empty());
                break;
            }
        };
        write_field(&mut w, &field);
        // What was read is exactly what the field encodes to.
        let consumed = bytes.len() - r.remaining().len();
        assert_eq!(w.as_bytes(), &bytes[..consumed], "{field:?}");
    }
    Ok(())
}

fn check_fields(u: &mut Unstructured) -> arbitrary::Result<()> {
    let count = u.int_in_range(1u8..=6)?;
    let kinds = (0..count)
        .map(|_| FieldKind::arbitrary(u))
        .collect::<Result<Vec<_>, _>>()?;
    let kinds = kinds.as_slice();
    let a = kinds
        .iter()
        .map(|k| arb_field(u, *k))
        .collect::<Result<Vec<_>, _>>()?;
    let b = kinds
        .iter()
        .map(|k| arb_field(u, *k))
        .collect::<Result<Vec<_>, _>>()?;
    let encode = |fields: &[Field]| {
        let mut w = KeyWriter::new();
        fields.iter().for_each(|f| write_field(&mut w, f));
        w.finish()
    };
    let (ea, eb) = (encode(&a), encode(&b));
    assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a:?} vs {b:?}");
    let mut r = KeyReader::new(&ea);
    for (field, kind) in a.iter().zip(kinds) {
        assert_eq!(
            &read_field(&mut r, *kind).expect("own encoding decodes"),
            field
        );
    }
    r.finish().expect("nothing left over");
    Ok(())
}

fn check_row_keys(u: &mut Unstructured) -> arbitrary::Result<()> {
    let a = arb_row_key(u)?;
    // Often share the table or partition, so the later fields decide the order.
    let b = match u.int_in_range(0u8..=2)? {
        0 => arb_row_key(u)?,
        1 => RowKey::new(a.table.clone(), arb_partition(u)?, arb_pk(u)?),
        _ => RowKey::new(a.table.clone(), a.partition.clone(), arb_pk(u)?),
    };
    let (ea, eb) = (a.encode(), b.encode());
    assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a} vs {b}");
    assert_eq!(RowKey::decode(&ea).as_ref(), Ok(&a));
    assert_eq!(RowKey::decode(&eb).as_ref(), Ok(&b));

    let same_table = a.table == b.table;
    assert_eq!(
        RowPrefix::Table(a.table.clone()).range().contains(&eb),
        same_table
    );
    let same_partition = same_table && a.partition == b.partition;
    let prefix = RowPrefix::Partition(a.table.clone(), a.partition.clone());
    assert_eq!(prefix.range().contains(&eb), same_partition, "{a} vs {b}");
    assert!(prefix.range().contains(&ea));
    Ok(())
}

fn check_meta_keys(u: &mut Unstructured) -> arbitrary::Result<()> {
    let a = arb_meta_key(u)?;
    let b = arb_meta_key(u)?;
    let (ea, eb) = (a.encode(), b.encode());
    assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a} vs {b}");
    assert_eq!(MetaKey::decode(&ea).as_ref(), Ok(&a));
    if let Some(prefix) = kind_prefix(&a) {
        assert!(prefix.range().contains(&ea));
        let same_kind = std::mem::discriminant(&a) == std::mem::discriminant(&b);
        assert_eq!(prefix.range().contains(&eb), same_kind, "{a} vs {b}");
    }
    if let (MetaKey::Table(ta), MetaKey::Table(tb)) = (&a, &b) {
        let prefix = MetaPrefix::TablesIn(ta.namespace.clone());
        assert_eq!(prefix.range().contains(&eb), ta.namespace == tb.namespace);
    }
    if let MetaKey::Manifest(ta, _) = &a {
        let prefix = MetaPrefix::ManifestsOf(ta.clone());
        assert!(prefix.range().contains(&ea));
        let same_table = matches!(&b, MetaKey::Manifest(tb, _) if tb == ta);
        assert_eq!(prefix.range().contains(&eb), same_table, "{a} vs {b}");
    }
    Ok(())
}

/// The prefix listing every key of `key`'s kind (manifests are only listed per table).
/// Exhaustive on purpose: a new kind of key does not build until it is fuzzed too (add it to
/// `arb_meta_key` as well).
fn kind_prefix(key: &MetaKey) -> Option<MetaPrefix> {
    Some(match key {
        MetaKey::Namespace(_) => MetaPrefix::Namespaces,
        MetaKey::Table(_) => MetaPrefix::Tables,
        MetaKey::User(_) => MetaPrefix::Users,
        MetaKey::Setting(_) => MetaPrefix::Settings,
        MetaKey::Storage(_) => MetaPrefix::Storages,
        MetaKey::Manifest(..) => return None,
        MetaKey::Job(_) => MetaPrefix::Jobs,
        MetaKey::RevokedToken(_) => MetaPrefix::RevokedTokens,
        MetaKey::DroppedFiles(_) => MetaPrefix::DroppedFiles,
        MetaKey::View(_) => MetaPrefix::Views,
        MetaKey::Schema(..) => MetaPrefix::Schemas,
    })
}

fn read_field(r: &mut KeyReader<'_>, kind: FieldKind) -> Result<Field, kalamdb_store::KeyError> {
    Ok(match kind {
        FieldKind::U8 => Field::U8(r.u8()?),
        FieldKind::U64 => Field::U64(r.u64()?),
        FieldKind::I64 => Field::I64(r.i64()?),
        FieldKind::Bytes => Field::Bytes(r.bytes()?),
        FieldKind::Str => Field::Str(r.str()?),
        FieldKind::Raw16 => Field::Raw16(r.raw16()?),
        FieldKind::Raw32 => Field::Raw32(r.raw32()?),
    })
}

fn write_field(w: &mut KeyWriter, field: &Field) {
    match field {
        Field::U8(v) => w.u8(*v),
        Field::U64(v) => w.u64(*v),
        Field::I64(v) => w.i64(*v),
        Field::Bytes(v) => w.bytes(v),
        Field::Str(v) => w.str(v),
        Field::Raw16(v) => w.raw16(v),
        Field::Raw32(v) => w.raw32(v),
    };
}

fn arb_field(u: &mut Unstructured, kind: FieldKind) -> arbitrary::Result<Field> {
    Ok(match kind {
        FieldKind::U8 => Field::U8(u.arbitrary()?),
        FieldKind::U64 => Field::U64(u.arbitrary()?),
        FieldKind::I64 => Field::I64(u.arbitrary()?),
        FieldKind::Bytes => Field::Bytes(small_bytes(u, &[0x00, 0x01, b'a', 0xFE, 0xFF])?),
        FieldKind::Str => Field::Str(arb_text(u)?),
        FieldKind::Raw16 => Field::Raw16(u.arbitrary()?),
        FieldKind::Raw32 => Field::Raw32(u.arbitrary()?),
    })
}

/// Up to 8 bytes: usually from a tiny alphabet (so values share prefixes and embed the
/// escape byte), sometimes anything.
fn small_bytes(u: &mut Unstructured, alphabet: &[u8]) -> arbitrary::Result<Vec<u8>> {
    let len = u.int_in_range(0..=8)?;
    if u.ratio(1, 4)? {
        return (0..len).map(|_| u.arbitrary()).collect();
    }
    (0..len).map(|_| u.choose(alphabet).copied()).collect()
}

/// A string: usually short over an alphabet with NUL and multi-byte characters, sometimes
/// any string.
fn arb_text(u: &mut Unstructured) -> arbitrary::Result<String> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    let len = u.int_in_range(0..=6)?;
    (0..len)
        .map(|_| {
            u.choose(&['\0', 'a', 'b', '\u{7f}', 'ÿ', '\u{10FFFF}'])
                .copied()
        })
        .collect()
}

/// A name from a small alphabet: `first` then up to 5 of `rest`.
fn word(u: &mut Unstructured, first: &[u8], rest: &[u8]) -> arbitrary::Result<String> {
    let mut s = String::from(char::from(*u.choose(first)?));
    for _ in 0..u.int_in_range(0..=5)? {
        s.push(char::from(*u.choose(rest)?));
    }
    Ok(s)
}

fn object_name(u: &mut Unstructured) -> arbitrary::Result<String> {
    word(u, b"abZ", b"ab_1Z")
}

fn arb_namespace(u: &mut Unstructured) -> arbitrary::Result<NamespaceId> {
    let name = match u.int_in_range(0u8..=5)? {
        0 => "system".to_string(),
        1 => "default".to_string(),
        _ => object_name(u)?,
    };
    NamespaceId::parse(&name).map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn arb_table(u: &mut Unstructured) -> arbitrary::Result<TableId> {
    let namespace = arb_namespace(u)?;
    // Built-in `system.*` tables may carry any non-empty name.
    let table = if namespace.is_system() && u.ratio(1, 2)? {
        let name = arb_text(u)?;
        if name.is_empty() {
            return Err(arbitrary::Error::IncorrectFormat);
        }
        TableName::builtin(&name)
    } else {
        TableName::parse(&object_name(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)?
    };
    Ok(TableId::new(namespace, table))
}

fn arb_user(u: &mut Unstructured) -> arbitrary::Result<UserId> {
    let id = word(u, b"a-0Z", b"al-_Z0")?;
    UserId::parse(&id).map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn arb_partition(u: &mut Unstructured) -> arbitrary::Result<Partition> {
    Ok(if u.ratio(1, 3)? {
        Partition::Shared
    } else {
        Partition::User(arb_user(u)?)
    })
}

fn arb_pk(u: &mut Unstructured) -> arbitrary::Result<PkValue> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => PkValue::Int(u.arbitrary()?),
        1 => PkValue::Text(arb_text(u)?),
        2 => PkValue::Uuid(u.arbitrary()?),
        _ => PkValue::RowId(u.arbitrary()?),
    })
}

fn arb_row_key(u: &mut Unstructured) -> arbitrary::Result<RowKey> {
    Ok(RowKey::new(arb_table(u)?, arb_partition(u)?, arb_pk(u)?))
}

fn arb_meta_key(u: &mut Unstructured) -> arbitrary::Result<MetaKey> {
    Ok(match u.int_in_range(0u8..=10)? {
        0 => MetaKey::Namespace(arb_namespace(u)?),
        1 => MetaKey::Table(arb_table(u)?),
        2 => MetaKey::User(arb_user(u)?),
        3 => MetaKey::Setting(arb_text(u)?),
        4 => MetaKey::Storage(
            StorageId::parse(&object_name(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)?,
        ),
        5 => MetaKey::Manifest(arb_table(u)?, arb_partition(u)?),
        6 => MetaKey::Job(arb_text(u)?),
        7 => MetaKey::RevokedToken(u.arbitrary()?),
        8 => MetaKey::DroppedFiles(arb_table(u)?),
        9 => MetaKey::View(arb_table(u)?),
        _ => MetaKey::Schema(arb_table(u)?, u.arbitrary()?),
    })
}
