//! Typed hot-store keys: the only way the server names a stored record.
//!
//! Building keys with `format!` invites two bugs that are hard to see: a
//! table `ab` whose scan also returns table `abc`, and integer primary keys
//! that sort as text (`10` before `9`). Here every key is an enum encoded by
//! [`keycode`](crate::keycode), so byte order is logical order, and each key
//! kind has a prefix twin that yields its scan range.
//!
//! Layout: one kind tag byte, then the fields in tuple order. The `space`
//! column is the [`Space`](crate::Space) (defined with the store interface)
//! a key is stored in.
//!
//! | tag  | space  | key                       | fields after the tag                  |
//! |------|--------|---------------------------|---------------------------------------|
//! | 0x01 | `meta` | [`MetaKey::Namespace`]    | namespace                             |
//! | 0x02 | `meta` | [`MetaKey::Table`]        | namespace, table                      |
//! | 0x03 | `meta` | [`MetaKey::User`]         | user id                               |
//! | 0x04 | `meta` | [`MetaKey::Setting`]      | setting name                          |
//! | 0x05 | `meta` | [`MetaKey::Storage`]      | storage id                            |
//! | 0x06 | `meta` | [`MetaKey::Manifest`]     | namespace, table, partition           |
//! | 0x07 | `meta` | [`MetaKey::Job`]          | job id                                |
//! | 0x08 | `meta` | [`MetaKey::RevokedToken`] | 32-byte token digest                  |
//! | 0x09 | `meta` | [`MetaKey::DroppedFiles`] | namespace, table                      |
//! | 0x10 | `rows` | [`RowKey`]                | namespace, table, partition, pk       |
//!
//! A partition is `0x00` for [`Partition::Shared`] or `0x01` + user id for
//! [`Partition::User`]. A primary key is a tag then its value:
//!
//! | tag  | [`PkValue`] | value encoding              |
//! |------|-------------|-----------------------------|
//! | 0x01 | `Int`       | i64 (sign-flipped, BE)      |
//! | 0x02 | `Text`      | escaped, terminated string  |
//! | 0x03 | `Uuid`      | 16 raw bytes                |
//! | 0x04 | `RowId`     | i64 (sign-flipped, BE)      |
//!
//! Names are strings with a terminator, so no prefix for one name matches a
//! longer name that starts with it. The tags are part of the on-disk format:
//! never renumber them.

use std::fmt;

use kalamdb_types::{NameError, NamespaceId, StorageId, TableId, TableName, UserId};

use crate::error::KeyError;
use crate::keycode::{KeyReader, KeyWriter};
use crate::store::KeyRange;

const TAG_META_NAMESPACE: u8 = 0x01;
const TAG_META_TABLE: u8 = 0x02;
const TAG_META_USER: u8 = 0x03;
const TAG_META_SETTING: u8 = 0x04;
const TAG_META_STORAGE: u8 = 0x05;
const TAG_META_MANIFEST: u8 = 0x06;
const TAG_META_JOB: u8 = 0x07;
const TAG_META_REVOKED_TOKEN: u8 = 0x08;
const TAG_META_DROPPED_FILES: u8 = 0x09;
const TAG_META_VIEW: u8 = 0x0A;
const TAG_META_SCHEMA: u8 = 0x0B;
const TAG_ROW: u8 = 0x10;

const TAG_PARTITION_SHARED: u8 = 0x00;
const TAG_PARTITION_USER: u8 = 0x01;

const TAG_PK_INT: u8 = 0x01;
const TAG_PK_TEXT: u8 = 0x02;
const TAG_PK_UUID: u8 = 0x03;
const TAG_PK_ROW_ID: u8 = 0x04;

/// Whose rows: a shared table has one partition, a user table one per user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    Shared,
    User(UserId),
}

impl Partition {
    fn write(&self, w: &mut KeyWriter) {
        match self {
            Partition::Shared => {
                w.u8(TAG_PARTITION_SHARED);
            }
            Partition::User(user) => {
                w.u8(TAG_PARTITION_USER).str(user.as_str());
            }
        }
    }

    fn read(r: &mut KeyReader<'_>) -> Result<Self, KeyError> {
        match r.u8()? {
            TAG_PARTITION_SHARED => Ok(Partition::Shared),
            TAG_PARTITION_USER => Ok(Partition::User(read_user(r)?)),
            tag => Err(KeyError::UnknownTag {
                what: "partition",
                tag,
            }),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partition::Shared => f.write_str("shared"),
            Partition::User(user) => write!(f, "user:{user}"),
        }
    }
}

/// A row's primary key. The derived order (variant, then value) equals the
/// encoded byte order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PkValue {
    Int(i64),
    Text(String),
    Uuid([u8; 16]),
    /// The hidden row id of a table without a primary key.
    RowId(i64),
}

impl PkValue {
    fn write(&self, w: &mut KeyWriter) {
        match self {
            PkValue::Int(v) => w.u8(TAG_PK_INT).i64(*v),
            PkValue::Text(v) => w.u8(TAG_PK_TEXT).str(v),
            PkValue::Uuid(v) => w.u8(TAG_PK_UUID).raw16(v),
            PkValue::RowId(v) => w.u8(TAG_PK_ROW_ID).i64(*v),
        };
    }

    fn read(r: &mut KeyReader<'_>) -> Result<Self, KeyError> {
        match r.u8()? {
            TAG_PK_INT => Ok(PkValue::Int(r.i64()?)),
            TAG_PK_TEXT => Ok(PkValue::Text(r.str()?)),
            TAG_PK_UUID => Ok(PkValue::Uuid(r.raw16()?)),
            TAG_PK_ROW_ID => Ok(PkValue::RowId(r.i64()?)),
            tag => Err(KeyError::UnknownTag {
                what: "primary key",
                tag,
            }),
        }
    }
}

impl fmt::Display for PkValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkValue::Int(v) => write!(f, "int:{v}"),
            PkValue::Text(v) => write!(f, "text:{v:?}"),
            PkValue::Uuid(v) => {
                f.write_str("uuid:")?;
                for (i, byte) in v.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            PkValue::RowId(v) => write!(f, "rowid:{v}"),
        }
    }
}

/// The key of one row in [`Space::Rows`](crate::Space::Rows).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub table: TableId,
    pub partition: Partition,
    pub pk: PkValue,
}

impl RowKey {
    pub fn new(table: TableId, partition: Partition, pk: PkValue) -> Self {
        Self {
            table,
            partition,
            pk,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = KeyWriter::with_capacity(64);
        write_table(w.u8(TAG_ROW), &self.table);
        self.partition.write(&mut w);
        self.pk.write(&mut w);
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, KeyError> {
        let mut r = KeyReader::new(bytes);
        let tag = r.u8()?;
        if tag != TAG_ROW {
            return Err(KeyError::UnknownTag {
                what: "row key",
                tag,
            });
        }
        let table = read_table(&mut r)?;
        let partition = Partition::read(&mut r)?;
        let pk = PkValue::read(&mut r)?;
        r.finish()?;
        Ok(Self {
            table,
            partition,
            pk,
        })
    }
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row/{}/{}/{}", self.table, self.partition, self.pk)
    }
}

/// A set of row keys sharing a prefix: for range scans and for dropping a
/// table or one user's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowPrefix {
    /// Every row of a table, all partitions.
    Table(TableId),
    /// The rows of one partition of a table.
    Partition(TableId, Partition),
}

impl RowPrefix {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = KeyWriter::with_capacity(48);
        w.u8(TAG_ROW);
        match self {
            RowPrefix::Table(table) => write_table(&mut w, table),
            RowPrefix::Partition(table, partition) => {
                write_table(&mut w, table);
                partition.write(&mut w);
            }
        }
        w.finish()
    }

    /// All row keys with this prefix.
    pub fn range(&self) -> KeyRange {
        KeyRange::prefix(&self.encode())
    }
}

/// The key of one catalog record in [`Space::Meta`](crate::Space::Meta).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetaKey {
    Namespace(NamespaceId),
    Table(TableId),
    User(UserId),
    Setting(String),
    Storage(StorageId),
    /// The cold-tier manifest of one partition (scope) of a table.
    Manifest(TableId, Partition),
    Job(String),
    /// A token revoked at logout, by digest (**ours**; see
    /// `kalamdb_auth::token_digest`).
    RevokedToken([u8; 32]),
    /// The files of a dropped table still to delete: written by the DROP's
    /// commit, removed once they are gone, replayed at startup after a crash.
    DroppedFiles(TableId),
    /// A view's definition (its SQL), by namespace and name.
    View(TableId),
    /// One schema version of a table (`system.schemas`): the definition as
    /// it was at that version. Versions of one table sort in order.
    Schema(TableId, u32),
}

impl MetaKey {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = KeyWriter::with_capacity(32);
        match self {
            MetaKey::Namespace(ns) => {
                w.u8(TAG_META_NAMESPACE).str(ns.as_str());
            }
            MetaKey::Table(table) => write_table(w.u8(TAG_META_TABLE), table),
            MetaKey::User(user) => {
                w.u8(TAG_META_USER).str(user.as_str());
            }
            MetaKey::Setting(name) => {
                w.u8(TAG_META_SETTING).str(name);
            }
            MetaKey::Storage(id) => {
                w.u8(TAG_META_STORAGE).str(id.as_str());
            }
            MetaKey::Manifest(table, partition) => {
                write_table(w.u8(TAG_META_MANIFEST), table);
                partition.write(&mut w);
            }
            MetaKey::Job(id) => {
                w.u8(TAG_META_JOB).str(id);
            }
            MetaKey::RevokedToken(digest) => {
                w.u8(TAG_META_REVOKED_TOKEN).raw32(digest);
            }
            MetaKey::DroppedFiles(table) => write_table(w.u8(TAG_META_DROPPED_FILES), table),
            MetaKey::View(view) => write_table(w.u8(TAG_META_VIEW), view),
            MetaKey::Schema(table, version) => {
                write_table(w.u8(TAG_META_SCHEMA), table);
                w.u64(u64::from(*version));
            }
        }
        w.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, KeyError> {
        let mut r = KeyReader::new(bytes);
        let key = match r.u8()? {
            TAG_META_NAMESPACE => MetaKey::Namespace(read_namespace(&mut r)?),
            TAG_META_TABLE => MetaKey::Table(read_table(&mut r)?),
            TAG_META_USER => MetaKey::User(read_user(&mut r)?),
            TAG_META_SETTING => MetaKey::Setting(r.str()?),
            TAG_META_STORAGE => {
                MetaKey::Storage(StorageId::parse(&r.str()?).map_err(invalid_name("storage id"))?)
            }
            TAG_META_MANIFEST => {
                let table = read_table(&mut r)?;
                MetaKey::Manifest(table, Partition::read(&mut r)?)
            }
            TAG_META_JOB => MetaKey::Job(r.str()?),
            TAG_META_REVOKED_TOKEN => MetaKey::RevokedToken(r.raw32()?),
            TAG_META_DROPPED_FILES => MetaKey::DroppedFiles(read_table(&mut r)?),
            TAG_META_VIEW => MetaKey::View(read_table(&mut r)?),
            TAG_META_SCHEMA => {
                let table = read_table(&mut r)?;
                let version = u32::try_from(r.u64()?).map_err(|_| KeyError::InvalidName {
                    what: "schema version",
                    message: "out of range".into(),
                })?;
                MetaKey::Schema(table, version)
            }
            tag => {
                return Err(KeyError::UnknownTag {
                    what: "meta key",
                    tag,
                });
            }
        };
        r.finish()?;
        Ok(key)
    }
}

impl fmt::Display for MetaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaKey::Namespace(ns) => write!(f, "meta/namespace/{ns}"),
            MetaKey::Table(table) => write!(f, "meta/table/{table}"),
            MetaKey::User(user) => write!(f, "meta/user/{user}"),
            MetaKey::Setting(name) => write!(f, "meta/setting/{name:?}"),
            MetaKey::Storage(id) => write!(f, "meta/storage/{id}"),
            MetaKey::Manifest(table, partition) => write!(f, "meta/manifest/{table}/{partition}"),
            MetaKey::Job(id) => write!(f, "meta/job/{id}"),
            MetaKey::RevokedToken(digest) => {
                f.write_str("meta/revoked_token/")?;
                digest.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            MetaKey::DroppedFiles(table) => write!(f, "meta/dropped_files/{table}"),
            MetaKey::View(view) => write!(f, "meta/view/{view}"),
            MetaKey::Schema(table, version) => write!(f, "meta/schema/{table}/{version}"),
        }
    }
}

/// A set of catalog keys sharing a prefix, for listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetaPrefix {
    Namespaces,
    Tables,
    /// The tables of one namespace.
    TablesIn(NamespaceId),
    Users,
    Settings,
    Storages,
    /// Every manifest of a table (all partitions).
    ManifestsOf(TableId),
    Jobs,
    RevokedTokens,
    DroppedFiles,
    Views,
    /// Every stored schema version of every table.
    Schemas,
    /// The schema versions of one table.
    SchemasOf(TableId),
}

impl MetaPrefix {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = KeyWriter::with_capacity(16);
        match self {
            MetaPrefix::Namespaces => w.u8(TAG_META_NAMESPACE),
            MetaPrefix::Tables => w.u8(TAG_META_TABLE),
            MetaPrefix::TablesIn(ns) => w.u8(TAG_META_TABLE).str(ns.as_str()),
            MetaPrefix::Users => w.u8(TAG_META_USER),
            MetaPrefix::Settings => w.u8(TAG_META_SETTING),
            MetaPrefix::Storages => w.u8(TAG_META_STORAGE),
            MetaPrefix::ManifestsOf(table) => {
                let w = w.u8(TAG_META_MANIFEST);
                write_table(w, table);
                w
            }
            MetaPrefix::Jobs => w.u8(TAG_META_JOB),
            MetaPrefix::RevokedTokens => w.u8(TAG_META_REVOKED_TOKEN),
            MetaPrefix::DroppedFiles => w.u8(TAG_META_DROPPED_FILES),
            MetaPrefix::Views => w.u8(TAG_META_VIEW),
            MetaPrefix::Schemas => w.u8(TAG_META_SCHEMA),
            MetaPrefix::SchemasOf(table) => {
                let w = w.u8(TAG_META_SCHEMA);
                write_table(w, table);
                w
            }
        };
        w.finish()
    }

    /// All meta keys with this prefix.
    pub fn range(&self) -> KeyRange {
        KeyRange::prefix(&self.encode())
    }
}

fn write_table(w: &mut KeyWriter, table: &TableId) {
    w.str(table.namespace.as_str()).str(table.table.as_str());
}

fn invalid_name(what: &'static str) -> impl FnOnce(NameError) -> KeyError {
    move |err| KeyError::InvalidName {
        what,
        message: err.to_string(),
    }
}

// Keys are only built from validated identifiers, so decoding re-validates:
// a name that fails here means the bytes were not written by this codec.
fn read_namespace(r: &mut KeyReader<'_>) -> Result<NamespaceId, KeyError> {
    NamespaceId::parse(&r.str()?).map_err(invalid_name("namespace"))
}

fn read_user(r: &mut KeyReader<'_>) -> Result<UserId, KeyError> {
    UserId::parse(&r.str()?).map_err(invalid_name("user id"))
}

fn read_table(r: &mut KeyReader<'_>) -> Result<TableId, KeyError> {
    let namespace = read_namespace(r)?;
    let name = r.str()?;
    // Built-in `system.*` tables are named by the server, not by the
    // user-facing rule (`TableName::builtin`), so only they skip it.
    let table = match TableName::parse(&name) {
        Ok(table) => table,
        Err(_) if namespace.is_system() && !name.is_empty() => TableName::builtin(&name),
        Err(err) => return Err(invalid_name("table name")(err)),
    };
    Ok(TableId::new(namespace, table))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::keycode::tests::XorShift;

    fn table(ns: &str, name: &str) -> TableId {
        TableId::new(
            NamespaceId::parse(ns).unwrap(),
            TableName::parse(name).unwrap(),
        )
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn all_row_keys() -> Vec<RowKey> {
        let t = table("app", "messages");
        vec![
            RowKey::new(t.clone(), Partition::Shared, PkValue::Int(-42)),
            RowKey::new(
                t.clone(),
                Partition::User(user("alice")),
                PkValue::Text("hi\0there".into()),
            ),
            RowKey::new(
                t.clone(),
                Partition::User(user("b-ob_1")),
                PkValue::Uuid([0xAB; 16]),
            ),
            RowKey::new(t, Partition::Shared, PkValue::RowId(i64::MAX)),
            RowKey::new(
                TableId::new(NamespaceId::system(), TableName::builtin("live_queries")),
                Partition::Shared,
                PkValue::Text(String::new()),
            ),
        ]
    }

    fn all_meta_keys() -> Vec<MetaKey> {
        vec![
            MetaKey::Namespace(NamespaceId::parse("app").unwrap()),
            MetaKey::Namespace(NamespaceId::system()),
            MetaKey::Table(table("app", "messages")),
            MetaKey::User(user("root")),
            MetaKey::Setting("jwt.secret\0x".into()),
            MetaKey::Setting(String::new()),
            MetaKey::Storage(StorageId::local()),
            MetaKey::Manifest(table("app", "messages"), Partition::Shared),
            MetaKey::Manifest(table("app", "messages"), Partition::User(user("al"))),
            MetaKey::Job("FL-0123456789ab".into()),
            MetaKey::RevokedToken([0x00; 32]),
            MetaKey::RevokedToken([0xAB; 32]),
            MetaKey::DroppedFiles(table("app", "messages")),
            MetaKey::View(table("app", "recent")),
            MetaKey::Schema(table("app", "messages"), 1),
            MetaKey::Schema(table("app", "messages"), u32::MAX),
        ]
    }

    #[test]
    fn row_keys_round_trip() {
        for key in all_row_keys() {
            assert_eq!(RowKey::decode(&key.encode()).unwrap(), key, "{key}");
        }
    }

    #[test]
    fn schema_versions_sort_in_order_under_their_table() {
        let t = table("app", "messages");
        let keys: Vec<Vec<u8>> = [1u32, 2, 255, 256, 70_000]
            .iter()
            .map(|v| MetaKey::Schema(t.clone(), *v).encode())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let own = MetaPrefix::SchemasOf(t).range();
        assert!(keys.iter().all(|k| own.contains(k)));
        let other = MetaKey::Schema(table("app", "messages2"), 1).encode();
        assert!(!own.contains(&other));
    }

    #[test]
    fn meta_keys_round_trip() {
        for key in all_meta_keys() {
            assert_eq!(MetaKey::decode(&key.encode()).unwrap(), key, "{key}");
        }
    }

    #[test]
    fn keys_print_readably() {
        let t = table("app", "messages");
        let key = RowKey::new(t.clone(), Partition::User(user("alice")), PkValue::Int(42));
        assert_eq!(key.to_string(), "row/app.messages/user:alice/int:42");
        let key = RowKey::new(t.clone(), Partition::Shared, PkValue::Text("a\"b".into()));
        assert_eq!(key.to_string(), r#"row/app.messages/shared/text:"a\"b""#);
        let mut uuid = [0u8; 16];
        uuid[0] = 0x12;
        uuid[15] = 0xEF;
        let key = RowKey::new(t, Partition::Shared, PkValue::Uuid(uuid));
        assert_eq!(
            key.to_string(),
            "row/app.messages/shared/uuid:12000000-0000-0000-0000-0000000000ef"
        );
        assert_eq!(
            MetaKey::Table(table("app", "messages")).to_string(),
            "meta/table/app.messages"
        );
        assert_eq!(MetaKey::User(user("bob")).to_string(), "meta/user/bob");
        assert_eq!(
            MetaKey::Setting("x".into()).to_string(),
            "meta/setting/\"x\""
        );
        let mut digest = [0u8; 32];
        digest[0] = 0xAB;
        digest[31] = 0x01;
        assert_eq!(
            MetaKey::RevokedToken(digest).to_string(),
            format!("meta/revoked_token/ab{}01", "00".repeat(30))
        );
    }

    #[test]
    fn table_prefix_does_not_match_longer_table_name() {
        let ab = RowPrefix::Table(table("app", "ab")).range();
        let abc_row = RowKey::new(table("app", "abc"), Partition::Shared, PkValue::Int(1)).encode();
        let ab_row = RowKey::new(table("app", "ab"), Partition::Shared, PkValue::Int(1)).encode();
        assert!(ab.contains(&ab_row));
        assert!(!ab.contains(&abc_row));

        // Same for the namespace field and for meta listings.
        let ns_ab = MetaPrefix::TablesIn(NamespaceId::parse("ab").unwrap()).range();
        assert!(ns_ab.contains(&MetaKey::Table(table("ab", "t")).encode()));
        assert!(!ns_ab.contains(&MetaKey::Table(table("abc", "t")).encode()));
        assert!(!ns_ab.contains(&MetaKey::Namespace(NamespaceId::parse("ab").unwrap()).encode()));
    }

    #[test]
    fn user_partition_prefix_does_not_match_longer_user_id() {
        let t = table("app", "messages");
        let al = RowPrefix::Partition(t.clone(), Partition::User(user("al"))).range();
        let al_row = RowKey::new(t.clone(), Partition::User(user("al")), PkValue::Int(5)).encode();
        let alice_row =
            RowKey::new(t.clone(), Partition::User(user("alice")), PkValue::Int(5)).encode();
        let shared_row = RowKey::new(t.clone(), Partition::Shared, PkValue::Int(5)).encode();
        assert!(al.contains(&al_row));
        assert!(!al.contains(&alice_row));
        assert!(!al.contains(&shared_row));

        let shared = RowPrefix::Partition(t.clone(), Partition::Shared).range();
        assert!(shared.contains(&shared_row));
        assert!(!shared.contains(&al_row));
        assert!(RowPrefix::Table(t).range().contains(&alice_row));
    }

    #[test]
    fn meta_prefixes_select_their_kind() {
        let keys = all_meta_keys();
        let count = |p: MetaPrefix| {
            keys.iter()
                .filter(|k| p.range().contains(&k.encode()))
                .count()
        };
        assert_eq!(count(MetaPrefix::Namespaces), 2);
        assert_eq!(count(MetaPrefix::Tables), 1);
        assert_eq!(count(MetaPrefix::Users), 1);
        assert_eq!(count(MetaPrefix::Settings), 2);
        assert_eq!(count(MetaPrefix::Jobs), 1);
        assert_eq!(count(MetaPrefix::RevokedTokens), 2);
    }

    fn random_row_key(rng: &mut XorShift) -> RowKey {
        // Tiny alphabets so names often share prefixes.
        let name = |rng: &mut XorShift| {
            let mut s = String::from(*rng.pick(&["a", "b"]));
            for _ in 0..rng.below(3) {
                s.push(*rng.pick(&['a', 'b', '_', '1']));
            }
            s
        };
        let t = table(&name(rng), &name(rng));
        let partition = if rng.below(3) == 0 {
            Partition::Shared
        } else {
            let mut id = String::from(*rng.pick(&["a", "-", "0"]));
            for _ in 0..rng.below(3) {
                id.push(*rng.pick(&['a', 'l', '-', 'Z']));
            }
            Partition::User(user(&id))
        };
        let pk = match rng.below(4) {
            0 => PkValue::Int(rng.i64()),
            1 => PkValue::Text(
                (0..rng.below(4))
                    .map(|_| *rng.pick(&['\0', 'x', 'ÿ']))
                    .collect(),
            ),
            2 => {
                let mut uuid = [0u8; 16];
                uuid[0] = rng.below(3) as u8;
                uuid[15] = *rng.pick(&[0x00, 0xFF]);
                PkValue::Uuid(uuid)
            }
            _ => PkValue::RowId(rng.i64()),
        };
        RowKey::new(t, partition, pk)
    }

    #[test]
    fn row_key_encoding_preserves_tuple_order() {
        let mut rng = XorShift::new(42);
        for _ in 0..20_000 {
            let a = random_row_key(&mut rng);
            let b = random_row_key(&mut rng);
            let (ea, eb) = (a.encode(), b.encode());
            assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a} vs {b}");
            assert_eq!(RowKey::decode(&ea).unwrap(), a);
        }
    }

    #[test]
    fn pk_order_within_a_variant_is_value_order() {
        let t = table("app", "t");
        let enc = |pk: PkValue| RowKey::new(t.clone(), Partition::Shared, pk).encode();
        assert!(enc(PkValue::Int(-10)) < enc(PkValue::Int(9)));
        assert!(enc(PkValue::Int(9)) < enc(PkValue::Int(10)));
        assert!(enc(PkValue::RowId(-1)) < enc(PkValue::RowId(0)));
        assert!(enc(PkValue::Text("a".into())) < enc(PkValue::Text("a\0".into())));
        assert!(enc(PkValue::Text("a\0".into())) < enc(PkValue::Text("ab".into())));
        assert!(enc(PkValue::Uuid([0; 16])) < enc(PkValue::Uuid([0xFF; 16])));
    }

    #[test]
    fn decode_rejects_truncated_and_malformed_keys() {
        for key in all_row_keys() {
            let bytes = key.encode();
            for cut in 0..bytes.len() {
                assert!(RowKey::decode(&bytes[..cut]).is_err(), "{key} cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(RowKey::decode(&longer), Err(KeyError::TrailingBytes(1)));
        }
        for key in all_meta_keys() {
            let bytes = key.encode();
            for cut in 0..bytes.len() {
                assert!(
                    MetaKey::decode(&bytes[..cut]).is_err(),
                    "{key} cut at {cut}"
                );
            }
        }
        let meta = MetaKey::User(user("bob")).encode();
        assert!(matches!(
            RowKey::decode(&meta),
            Err(KeyError::UnknownTag { .. })
        ));
        assert!(matches!(
            MetaKey::decode(&[0x7F]),
            Err(KeyError::UnknownTag { .. })
        ));

        // A well-formed string that is not a valid identifier.
        let mut w = KeyWriter::new();
        w.u8(TAG_META_USER).str("no spaces allowed");
        assert!(matches!(
            MetaKey::decode(&w.finish()),
            Err(KeyError::InvalidName {
                what: "user id",
                ..
            })
        ));
        let mut w = KeyWriter::new();
        w.u8(TAG_ROW).str("app").str("t").u8(0x09);
        assert!(matches!(
            RowKey::decode(&w.finish()),
            Err(KeyError::UnknownTag {
                what: "partition",
                tag: 0x09
            })
        ));
    }
}
