//! USER tables as SDK applications see them (wire-protocol §5.6, §8): two users writing the
//! same primary keys into one table each read, update and count only their own rows, a dba's
//! `EXECUTE AS USER` reports the target in `as_user`, and `system.users` stays closed to users.

use std::collections::BTreeMap;

use kalam_client::{AuthProvider, KalamLinkClient, KalamLinkError, QueryParam, QueryResponse};
use serde_json::Value;

use crate::builder;
use crate::common::TestServer;

const ALICE_PW: &str = "alice-Secret-42";
const BOB_PW: &str = "bob-Secret-42";
const DBA_PW: &str = "dba-Secret-42";

/// A client that logs in as `user` by itself on the first query.
fn client_as(server: &TestServer, user: &str, password: &str) -> KalamLinkClient {
    builder(server)
        .auth(AuthProvider::basic_auth(user.into(), password.into()))
        .build()
        .expect("build client")
}

async fn query(client: &KalamLinkClient, sql: &str, params: Vec<QueryParam>) -> QueryResponse {
    let params = (!params.is_empty()).then_some(params);
    let resp = client
        .execute_query(sql, None, params, None)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(resp.success(), "{sql} -> {resp:?}");
    resp
}

/// The first result's rows as `id → body`.
fn notes(resp: &QueryResponse) -> BTreeMap<i64, String> {
    resp.rows_as_maps()
        .iter()
        .map(|row| {
            (
                row["id"].as_big_int().expect("id is a BIGINT"),
                row["body"].as_text().expect("body is TEXT").to_string(),
            )
        })
        .collect()
}

fn expect_notes(pairs: &[(i64, &str)]) -> BTreeMap<i64, String> {
    pairs
        .iter()
        .map(|(id, b)| (*id, (*b).to_string()))
        .collect()
}

/// The 4xx error the SDK returns carries the raw body; decodes it as the §4 envelope.
fn error_envelope(err: KalamLinkError) -> (u16, Value) {
    let KalamLinkError::ServerError {
        status_code,
        message,
    } = err
    else {
        panic!("expected a server error carrying the body, got {err:?}");
    };
    let body = serde_json::from_str(&message)
        .unwrap_or_else(|e| panic!("body is not JSON ({e}): {message}"));
    (status_code, body)
}

/// Root creates alice, bob (role user), dba (role dba) and the USER table `app.notes`.
async fn setup(server: &TestServer) {
    for sql in [
        format!("CREATE USER alice WITH PASSWORD '{ALICE_PW}' ROLE user"),
        format!("CREATE USER bob WITH PASSWORD '{BOB_PW}' ROLE user"),
        format!("CREATE USER dba1 WITH PASSWORD '{DBA_PW}' ROLE dba"),
        "CREATE NAMESPACE app".into(),
        "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)".into(),
    ] {
        server.sql(&sql).await;
    }
}

const INSERT: &str = "INSERT INTO app.notes (id, body) VALUES ($1, $2)";
const SELECT: &str = "SELECT id, body FROM app.notes ORDER BY id";

#[tokio::test]
async fn two_users_with_the_same_keys_see_only_their_own_rows() {
    let server = TestServer::start();
    setup(&server).await;
    let alice = client_as(&server, "alice", ALICE_PW);
    let bob = client_as(&server, "bob", BOB_PW);

    for (client, who, ids) in [(&alice, "alice", 1..=2_i64), (&bob, "bob", 1..=3_i64)] {
        for id in ids {
            let resp = query(
                client,
                INSERT,
                vec![
                    QueryParam::from(id),
                    QueryParam::from(format!("{who}-{id}")),
                ],
            )
            .await;
            let r = &resp.results[0];
            assert_eq!(r.row_count, 1);
            assert_eq!(r.message.as_deref(), Some("Inserted 1 row(s)"));
            assert_eq!(r.as_user.as_deref(), Some(who));
        }
    }

    let resp = query(&alice, SELECT, vec![]).await;
    assert_eq!(resp.results[0].as_user.as_deref(), Some("alice"));
    assert_eq!(
        notes(&resp),
        expect_notes(&[(1, "alice-1"), (2, "alice-2")])
    );
    let resp = query(&bob, SELECT, vec![]).await;
    assert_eq!(
        notes(&resp),
        expect_notes(&[(1, "bob-1"), (2, "bob-2"), (3, "bob-3")])
    );
    // A key lookup with a parameter finds only the caller's row of that key.
    let resp = query(
        &bob,
        "SELECT id, body FROM app.notes WHERE id = $1",
        vec![QueryParam::from(2_i64)],
    )
    .await;
    assert_eq!(notes(&resp), expect_notes(&[(2, "bob-2")]));
    // Bob's id 3 does not exist for alice.
    let resp = query(
        &alice,
        "SELECT id, body FROM app.notes WHERE id = $1",
        vec![QueryParam::from(3_i64)],
    )
    .await;
    assert_eq!(resp.results[0].row_count, 0);
    assert!(notes(&resp).is_empty());

    // UPDATE without WHERE touches, and counts, only the caller's rows.
    let resp = query(
        &alice,
        "UPDATE app.notes SET body = $1",
        vec![QueryParam::from("changed")],
    )
    .await;
    assert_eq!(resp.results[0].row_count, 2);
    assert_eq!(resp.results[0].message.as_deref(), Some("Updated 2 row(s)"));
    assert_eq!(
        notes(&query(&alice, SELECT, vec![]).await),
        expect_notes(&[(1, "changed"), (2, "changed")])
    );
    assert_eq!(
        notes(&query(&bob, SELECT, vec![]).await),
        expect_notes(&[(1, "bob-1"), (2, "bob-2"), (3, "bob-3")])
    );
    // So does DELETE without WHERE.
    let resp = query(&bob, "DELETE FROM app.notes", vec![]).await;
    assert_eq!(resp.results[0].row_count, 3);
    assert_eq!(resp.results[0].message.as_deref(), Some("Deleted 3 row(s)"));
    assert_eq!(
        notes(&query(&alice, SELECT, vec![]).await),
        expect_notes(&[(1, "changed"), (2, "changed")])
    );
    let resp = query(&alice, "SELECT COUNT(*) AS n FROM app.notes", vec![]).await;
    assert_eq!(resp.get_i64("n"), Some(2));

    // Primary keys are unique per user: alice's id 1 exists, bob's no longer does.
    let err = alice
        .execute_query(
            INSERT,
            None,
            Some(vec![QueryParam::from(1_i64), QueryParam::from("again")]),
            None,
        )
        .await
        .unwrap_err();
    let (status, body) = error_envelope(err);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "SQL_EXECUTION_ERROR", "{body}");
    let resp = query(
        &bob,
        INSERT,
        vec![QueryParam::from(1_i64), QueryParam::from("bob-again")],
    )
    .await;
    assert_eq!(resp.results[0].row_count, 1);
}

#[tokio::test]
async fn execute_as_user_reports_the_target_in_as_user() {
    let server = TestServer::start();
    setup(&server).await;
    let bob = client_as(&server, "bob", BOB_PW);
    query(
        &bob,
        INSERT,
        vec![QueryParam::from(5_i64), QueryParam::from("bob-5")],
    )
    .await;
    let dba = client_as(&server, "dba1", DBA_PW);

    // Plain statements run as the caller: the dba's own partition is empty.
    let resp = query(&dba, SELECT, vec![]).await;
    assert_eq!(resp.results[0].as_user.as_deref(), Some("dba1"));
    assert_eq!(resp.results[0].row_count, 0);

    let resp = query(
        &dba,
        "EXECUTE AS USER 'bob' (SELECT id, body FROM app.notes ORDER BY id)",
        vec![],
    )
    .await;
    assert_eq!(resp.results[0].as_user.as_deref(), Some("bob"));
    assert_eq!(notes(&resp), expect_notes(&[(5, "bob-5")]));

    // Writes as the target land in the target's partition; params reach the inner statement.
    let resp = query(
        &dba,
        "EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES ($1, $2))",
        vec![QueryParam::from(5_i64), QueryParam::from("for alice")],
    )
    .await;
    let r = &resp.results[0];
    assert_eq!(r.as_user.as_deref(), Some("alice"));
    assert_eq!(r.row_count, 1);
    assert_eq!(r.message.as_deref(), Some("Inserted 1 row(s)"));
    let alice = client_as(&server, "alice", ALICE_PW);
    let resp = query(&alice, SELECT, vec![]).await;
    assert_eq!(notes(&resp), expect_notes(&[(5, "for alice")]));
    assert_eq!(
        notes(&query(&bob, SELECT, vec![]).await),
        expect_notes(&[(5, "bob-5")])
    );
    assert_eq!(query(&dba, SELECT, vec![]).await.results[0].row_count, 0);

    // A user may not act as another user.
    let err = alice
        .execute_query(
            "EXECUTE AS USER 'bob' (SELECT id FROM app.notes)",
            None,
            None,
            None,
        )
        .await
        .unwrap_err();
    let (status, body) = error_envelope(err);
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "PERMISSION_DENIED", "{body}");
    assert_eq!(
        body["error"]["message"],
        "Role 'user' cannot execute as user 'bob'"
    );
}

#[tokio::test]
async fn a_user_reading_system_users_gets_permission_denied() {
    let server = TestServer::start();
    setup(&server).await;
    let alice = client_as(&server, "alice", ALICE_PW);

    let err = alice
        .execute_query("SELECT user_id FROM system.users", None, None, None)
        .await
        .unwrap_err();

    assert!(err.to_string().contains("PERMISSION_DENIED"), "{err}");
    let (status, body) = error_envelope(err);
    assert_eq!(status, 403);
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"]["code"], "PERMISSION_DENIED");
    // Non-admins do not get the failing statement back (§4 `details`).
    assert!(body["error"].get("details").is_none(), "{body}");

    // The catalog tables stay readable, and the dba reads system.users.
    let resp = query(
        &alice,
        "SELECT table_name FROM system.tables WHERE namespace_id = 'app'",
        vec![],
    )
    .await;
    assert_eq!(resp.get_string("table_name").as_deref(), Some("notes"));
    let dba = client_as(&server, "dba1", DBA_PW);
    let resp = query(
        &dba,
        "SELECT user_id, role FROM system.users WHERE user_id = 'alice'",
        vec![],
    )
    .await;
    assert_eq!(resp.get_string("role").as_deref(), Some("user"));
}
