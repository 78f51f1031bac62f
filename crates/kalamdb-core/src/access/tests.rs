//! The role matrix of `wire-protocol.md` §5.6, transcribed row by row and
//! checked against [`allow`] for every role and every value of a row's
//! parameter (access level, table kind, target role). If the table in
//! `access.rs` drifts from the spec, this fails naming the cell.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use kalamdb_types::{
    AccessLevel, NamespaceId, Role, TableDefinition, TableName, TableOptions, TableType, UserId,
};

use super::*;

const ROLES: [Role; 4] = [Role::User, Role::Service, Role::Dba, Role::System];

fn table(kind: TableType, level: Option<AccessLevel>) -> TableDefinition {
    TableDefinition {
        namespace: NamespaceId::parse("app").unwrap(),
        name: TableName::parse("t").unwrap(),
        table_type: kind,
        columns: vec![],
        version: 1,
        options: TableOptions {
            access_level: level,
            ..Default::default()
        },
        comment: None,
        created_at: 0,
        updated_at: 0,
        next_column_id: 0,
        writable_since: 0,
    }
}

/// `"user service dba system"` cells: `Y` allowed, `-` refused.
fn cells(spec: &str) -> [bool; 4] {
    let v: Vec<bool> = spec.split_whitespace().map(|c| c == "Y").collect();
    [v[0], v[1], v[2], v[3]]
}

#[test]
fn the_role_matrix_of_the_spec() {
    let user_table = table(TableType::User, None);
    let stream_table = table(TableType::Stream, None);
    let shared = |l| table(TableType::Shared, Some(l));
    let (public, private, restricted, dba) = (
        shared(AccessLevel::Public),
        shared(AccessLevel::Private),
        shared(AccessLevel::Restricted),
        shared(AccessLevel::Dba),
    );
    let target = |r| Action::ExecuteAs {
        target: Some(r),
        name: "someone",
    };
    //                                         user service dba system
    let rows: Vec<(&str, Action<'_>, &str)> = vec![
        // USER/STREAM tables: read/write own rows only.
        (
            "read own USER rows",
            Action::ReadTable(&user_table),
            "Y Y Y Y",
        ),
        (
            "write own USER rows",
            Action::WriteTable(&user_table),
            "Y Y Y Y",
        ),
        (
            "read own STREAM rows",
            Action::ReadTable(&stream_table),
            "Y Y Y Y",
        ),
        (
            "write own STREAM rows",
            Action::WriteTable(&stream_table),
            "Y Y Y Y",
        ),
        // SHARED read, by ACCESS_LEVEL: public | public, private,
        // restricted | all | all.
        ("read SHARED public", Action::ReadTable(&public), "Y Y Y Y"),
        (
            "read SHARED private",
            Action::ReadTable(&private),
            "- Y Y Y",
        ),
        (
            "read SHARED restricted",
            Action::ReadTable(&restricted),
            "- Y Y Y",
        ),
        ("read SHARED dba", Action::ReadTable(&dba), "- - Y Y"),
        // SHARED write: — | public, private, restricted | all | all.
        (
            "write SHARED public",
            Action::WriteTable(&public),
            "- Y Y Y",
        ),
        (
            "write SHARED private",
            Action::WriteTable(&private),
            "- Y Y Y",
        ),
        (
            "write SHARED restricted",
            Action::WriteTable(&restricted),
            "- Y Y Y",
        ),
        ("write SHARED dba", Action::WriteTable(&dba), "- - Y Y"),
        // system.namespaces, .tables, .columns (ours).
        (
            "read system.namespaces",
            Action::ReadSystemTable("namespaces"),
            "Y Y Y Y",
        ),
        (
            "read system.tables",
            Action::ReadSystemTable("tables"),
            "Y Y Y Y",
        ),
        (
            "read system.columns",
            Action::ReadSystemTable("columns"),
            "Y Y Y Y",
        ),
        // Other system.* tables.
        (
            "read system.users",
            Action::ReadSystemTable("users"),
            "- - Y Y",
        ),
        (
            "read system.jobs",
            Action::ReadSystemTable("jobs"),
            "- - Y Y",
        ),
        (
            "read system.live",
            Action::ReadSystemTable("live"),
            "- - Y Y",
        ),
        (
            "create or drop a view",
            Action::ManageView("CREATE VIEW"),
            "- Y Y Y",
        ),
        (
            "read system.schemas",
            Action::ReadSystemTable("schemas"),
            "- - Y Y",
        ),
        (
            "read system.stats",
            Action::ReadSystemTable("stats"),
            "- - Y Y",
        ),
        (
            "read system.storages",
            Action::ReadSystemTable("storages"),
            "- - Y Y",
        ),
        // CREATE TABLE of kind: USER, STREAM | USER, SHARED, STREAM | all | all.
        (
            "create USER table",
            Action::CreateTable(TableType::User),
            "Y Y Y Y",
        ),
        (
            "create STREAM table",
            Action::CreateTable(TableType::Stream),
            "Y Y Y Y",
        ),
        (
            "create SHARED table",
            Action::CreateTable(TableType::Shared),
            "- Y Y Y",
        ),
        // DROP TABLE; namespace, storage, user DDL; KILL JOB / LIVE QUERY.
        ("DROP TABLE", Action::Administer("DROP TABLE"), "- - Y Y"),
        (
            "CREATE NAMESPACE",
            Action::Administer("CREATE NAMESPACE"),
            "- - Y Y",
        ),
        (
            "CREATE STORAGE",
            Action::Administer("CREATE STORAGE"),
            "- - Y Y",
        ),
        ("CREATE USER", Action::Administer("CREATE USER"), "- - Y Y"),
        ("KILL JOB", Action::Administer("KILL JOB"), "- - Y Y"),
        (
            "KILL LIVE QUERY",
            Action::Administer("KILL LIVE QUERY"),
            "- - Y Y",
        ),
        // Create or alter users with role system.
        (
            "manage a system user",
            Action::ManageSystemUser {
                verb: "create",
                user: "x",
            },
            "- - - Y",
        ),
        // STORAGE FLUSH (and COMPACT, and watching their jobs).
        (
            "STORAGE FLUSH",
            Action::StorageJob("STORAGE FLUSH"),
            "- Y Y Y",
        ),
        (
            "STORAGE COMPACT",
            Action::StorageJob("STORAGE COMPACT"),
            "- Y Y Y",
        ),
        ("watch jobs", Action::WatchJobs, "- Y Y Y"),
        // ALTER USER self SET PASSWORD / EMAIL.
        ("alter own account", Action::AlterOwnAccount, "Y Y Y Y"),
        // EXPLAIN, SET, SHOW ALL/COLUMNS.
        ("EXPLAIN/SET/SHOW", Action::DataFusionMeta, "- - Y Y"),
        // EXECUTE AS USER targets: — | user, service | user, service, dba | all.
        ("execute as a user", target(Role::User), "- Y Y Y"),
        ("execute as a service", target(Role::Service), "- Y Y Y"),
        ("execute as a dba", target(Role::Dba), "- - Y Y"),
        ("execute as a system user", target(Role::System), "- - - Y"),
        (
            "execute as someone, before the lookup",
            Action::ExecuteAs {
                target: None,
                name: "someone",
            },
            "- Y Y Y",
        ),
        // (ours) No role writes to `system`, drops root or itself.
        ("create in system", Action::CreateTableInSystem, "- - - -"),
        (
            "write system.users",
            Action::WriteSystemTable("system.users"),
            "- - - -",
        ),
        (
            "create SYSTEM table",
            Action::CreateTable(TableType::System),
            "- - - -",
        ),
        ("change root's role", Action::ChangeRootRole, "- - - -"),
        ("drop root", Action::DropRoot, "- - - -"),
        ("drop oneself", Action::DropSelf("me"), "- - - -"),
    ];
    let mut wrong = Vec::new();
    for (what, action, spec) in &rows {
        for (role, expected) in ROLES.iter().zip(cells(spec)) {
            let got = allow(*role, *action);
            if got.is_ok() != expected {
                wrong.push(format!(
                    "{what} as {role}: expected {expected}, got {got:?}"
                ));
            }
            if let Err(e) = got {
                assert_eq!(
                    e.code(),
                    kalamdb_types::ErrorCode::PermissionDenied,
                    "{what}"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn refusals_name_the_table_or_statement_and_the_roles_required() {
    let private = table(TableType::Shared, Some(AccessLevel::Private));
    let msg = |role, action| allow(role, action).unwrap_err().to_string();
    assert_eq!(
        msg(Role::User, Action::ReadTable(&private)),
        "Insufficient privileges to read table 'app.t'"
    );
    assert_eq!(
        msg(Role::User, Action::WriteTable(&private)),
        "Insufficient privileges to write to table 'app.t'"
    );
    assert_eq!(
        msg(Role::Service, Action::Administer("DROP TABLE")),
        "Insufficient privileges for DROP TABLE (requires role dba or system)"
    );
    assert_eq!(
        msg(Role::User, Action::StorageJob("STORAGE FLUSH")),
        "Insufficient privileges for STORAGE FLUSH (requires role service, dba or system)"
    );
    assert_eq!(
        msg(
            Role::Dba,
            Action::ManageSystemUser {
                verb: "drop",
                user: "ops"
            }
        ),
        "Insufficient privileges to drop user 'ops' with role 'system' (requires role system)"
    );
    assert_eq!(
        msg(Role::Service, Action::CreateTable(TableType::System)),
        "Insufficient privileges to create SYSTEM tables"
    );
    assert_eq!(
        msg(
            Role::Service,
            Action::ExecuteAs {
                target: Some(Role::Dba),
                name: "boss"
            }
        ),
        "Role 'service' cannot execute as user 'boss'"
    );
}

#[test]
fn execute_as_refuses_shared_tables_whatever_the_role() {
    let public = table(TableType::Shared, Some(AccessLevel::Public));
    let user_table = table(TableType::User, None);
    let mut caller = Caller::new(UserId::root(), Role::System);
    assert!(allow_table(&caller, &public, true).is_ok());
    caller.execute_as = true;
    let e = allow_table(&caller, &public, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EXECUTE AS USER is not allowed on SHARED tables"
    );
    assert!(allow_table(&caller, &user_table, true).is_ok());
}
