//! The pure planning of each ALTER TABLE change: versions, stable column
//! ids, the PRIMARY KEY rules, widening, and what needs a check of the rows.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use kalamdb_sql::{AlterTableChange as C, ColumnSpec, TableProperties};
use kalamdb_types::{
    AccessLevel, ColumnDefinition, FlushPolicy, KalamDataType as T, NamespaceId, TableDefinition,
    TableName, TableOptions, TableType,
};

use super::*;

fn table(kind: TableType) -> TableDefinition {
    let mut id = ColumnDefinition::new(1, "id", T::BigInt);
    id.primary_key = true;
    id.nullable = false;
    let mut n = ColumnDefinition::new(2, "n", T::SmallInt);
    n.ordinal = 2;
    let mut body = ColumnDefinition::new(3, "body", T::Text);
    body.ordinal = 3;
    TableDefinition {
        namespace: NamespaceId::parse("app").unwrap(),
        name: TableName::parse("t").unwrap(),
        table_type: kind,
        columns: vec![id, n, body],
        version: 1,
        options: TableOptions::default(),
        comment: None,
        created_at: 1,
        updated_at: 1,
        next_column_id: 0,
        writable_since: 0,
    }
}

fn apply(def: &TableDefinition, change: C) -> Result<Planned> {
    plan_change(
        def,
        &change,
        Some("'x'".into()),
        |_| Ok(Some("filled".into())),
        |_, _| Ok(()),
    )
}

fn msg(r: Result<Planned>) -> String {
    match r {
        Ok(p) => panic!("expected an error, got {:?}", p.text),
        Err(e) => e.to_string(),
    }
}

fn spec(name: &str, ty: T, nullable: bool, default: Option<&str>) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        data_type: ty,
        nullable,
        primary_key: false,
        default: default.map(Into::into),
        auto_increment: false,
    }
}

#[test]
fn column_ids_are_never_reused_and_versions_count_up() {
    let v1 = table(TableType::User);
    let v2 = apply(
        &v1,
        C::DropColumn {
            column: "body".into(),
        },
    )
    .unwrap()
    .def
    .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.columns.len(), 2);
    let v3 = apply(&v2, C::AddColumn(spec("body", T::Text, true, None)))
        .unwrap()
        .def
        .unwrap();
    let body = v3.column("body").unwrap().1;
    assert_eq!(body.column_id, 4, "the dropped column's id 3 is not reused");
    assert_eq!((body.ordinal, body.since_version), (3, 3));
    assert_eq!(v3.next_column_id, 5);
}

#[test]
fn add_column_fills_older_rows_or_needs_an_empty_table() {
    let v1 = table(TableType::Shared);
    let p = apply(
        &v1,
        C::AddColumn(spec("lang", T::Text, false, Some("'en'"))),
    )
    .unwrap();
    let lang = p.def.unwrap().column("lang").unwrap().1.clone();
    assert_eq!(lang.fill.as_deref(), Some("filled"));
    assert_eq!(p.check, RowCheck::None);
    assert_eq!(p.text, "ADD COLUMN lang TEXT NOT NULL DEFAULT 'en'");
    let p = plan_change(
        &v1,
        &C::AddColumn(spec("tag", T::Text, false, Some("ULID()"))),
        None,
        |_| Ok(None),
        |_, _| Ok(()),
    )
    .unwrap();
    assert!(matches!(p.check, RowCheck::Empty { .. }));
    let p = apply(&v1, C::AddColumn(spec("x", T::Int, false, None))).unwrap();
    assert!(matches!(
        p.check,
        RowCheck::Empty {
            why: "without DEFAULT",
            ..
        }
    ));
    assert_eq!(
        msg(apply(&v1, C::AddColumn(spec("n", T::Int, true, None)))),
        "Column 'n' already exists"
    );
}

#[test]
fn the_primary_key_is_fixed() {
    let v1 = table(TableType::User);
    let pk = "Cannot drop, rename or change the PRIMARY KEY column 'id'";
    assert_eq!(
        msg(apply(
            &v1,
            C::DropColumn {
                column: "id".into()
            }
        )),
        pk
    );
    assert_eq!(
        msg(apply(
            &v1,
            C::RenameColumn {
                from: "id".into(),
                to: "k".into()
            }
        )),
        pk
    );
    assert_eq!(
        msg(apply(
            &v1,
            C::ModifyColumn {
                column: "id".into(),
                data_type: T::Text,
                not_null: true
            }
        )),
        pk
    );
    assert_eq!(
        msg(apply(
            &v1,
            C::DropNotNull {
                column: "id".into()
            }
        )),
        "Column 'id' is a PRIMARY KEY and cannot be nullable"
    );
    assert!(
        apply(
            &v1,
            C::SetNotNull {
                column: "id".into()
            }
        )
        .unwrap()
        .def
        .is_none()
    );
}

#[test]
fn modify_only_widens_and_not_null_tightens_writes() {
    let v1 = table(TableType::User);
    let p = apply(
        &v1,
        C::ModifyColumn {
            column: "n".into(),
            data_type: T::BigInt,
            not_null: true,
        },
    )
    .unwrap();
    let def = p.def.unwrap();
    assert_eq!(def.column("n").unwrap().1.data_type, T::BigInt);
    assert_eq!(def.writable_since, 2);
    assert_eq!(
        p.check,
        RowCheck::NoNulls {
            column_id: 2,
            name: "n".into()
        }
    );
    assert_eq!(
        msg(apply(
            &v1,
            C::ModifyColumn {
                column: "body".into(),
                data_type: T::Int,
                not_null: false
            }
        )),
        "Cannot change column 'body' from TEXT to INT"
    );
    let same = apply(
        &v1,
        C::ModifyColumn {
            column: "n".into(),
            data_type: T::SmallInt,
            not_null: false,
        },
    );
    assert!(
        same.unwrap().def.is_none(),
        "MODIFY to what it is changes nothing"
    );
    let p = apply(
        &v1,
        C::SetNotNull {
            column: "body".into(),
        },
    )
    .unwrap();
    assert_eq!(p.def.unwrap().writable_since, 2);
    let p = apply(
        &v1,
        C::DropNotNull {
            column: "body".into(),
        },
    )
    .unwrap();
    assert!(p.def.is_none());
}

#[test]
fn options_follow_the_table_kind() {
    let shared = table(TableType::Shared);
    let p = apply(&shared, C::SetAccessLevel(AccessLevel::Public)).unwrap();
    assert_eq!(
        p.def.unwrap().options.access_level,
        Some(AccessLevel::Public)
    );
    assert_eq!(
        msg(apply(
            &table(TableType::User),
            C::SetAccessLevel(AccessLevel::Public)
        )),
        "SET ACCESS LEVEL is only valid for SHARED tables"
    );
    let props = TableProperties {
        flush_policy: Some(FlushPolicy {
            rows: Some(5),
            interval_secs: None,
        }),
        ttl_seconds: None,
        deleted_retention_hours: Some(0),
    };
    let p = apply(&shared, C::SetProperties(props.clone())).unwrap();
    assert_eq!(
        p.text,
        "SET TBLPROPERTIES (FLUSH_POLICY = 'rows:5', DELETED_RETENTION_HOURS = 0)"
    );
    let def = p.def.unwrap();
    assert!(
        apply(&def, C::SetProperties(props.clone()))
            .unwrap()
            .def
            .is_none()
    );
    assert_eq!(
        msg(apply(&table(TableType::Stream), C::SetProperties(props))),
        "FLUSH_POLICY is only valid for USER and SHARED tables"
    );
    let ttl = TableProperties {
        ttl_seconds: Some(9),
        ..Default::default()
    };
    assert_eq!(
        msg(apply(&shared, C::SetProperties(ttl.clone()))),
        "TTL_SECONDS is only valid for STREAM tables"
    );
    let p = apply(&table(TableType::Stream), C::SetProperties(ttl)).unwrap();
    assert_eq!(p.def.unwrap().options.ttl_seconds, Some(9));
}

#[test]
fn rename_and_defaults() {
    let v1 = table(TableType::User);
    assert_eq!(
        msg(apply(
            &v1,
            C::RenameColumn {
                from: "n".into(),
                to: "body".into()
            }
        )),
        "Column 'body' already exists"
    );
    assert_eq!(
        msg(apply(
            &v1,
            C::DropColumn {
                column: "zz".into()
            }
        )),
        "Column 'zz' not found in table 'app.t'"
    );
    let p = apply(
        &v1,
        C::RenameColumn {
            from: "n".into(),
            to: "count".into(),
        },
    )
    .unwrap();
    let def = p.def.unwrap();
    assert_eq!(def.column("count").unwrap().1.column_id, 2);
    let expr = kalamdb_sql::sqlparser::ast::Expr::value(kalamdb_sql::sqlparser::ast::Value::Null);
    let p = apply(
        &def,
        C::SetDefault {
            column: "body".into(),
            default: Box::new(expr),
        },
    )
    .unwrap();
    let def = p.def.unwrap();
    assert_eq!(
        def.column("body").unwrap().1.default.as_deref(),
        Some("'x'")
    );
    assert!(
        apply(
            &def,
            C::DropDefault {
                column: "count".into()
            }
        )
        .unwrap()
        .def
        .is_none()
    );
    let p = apply(
        &def,
        C::DropDefault {
            column: "body".into(),
        },
    )
    .unwrap();
    assert_eq!(p.def.unwrap().column("body").unwrap().1.default, None);
}
