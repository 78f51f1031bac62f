//! The USER-table isolation matrix (issue 4, items 4, 5 and 7): every
//! statement shape, sent over HTTP by two users of each role whose rows share
//! primary keys, must see and change exactly its own partition, and
//! `EXECUTE AS USER` must follow the role hierarchy of `wire-protocol.md`
//! §5.6. Each user's row bodies carry the user's name and the two users of a
//! pair hold different row counts, so a leaked row shows up either as a
//! foreign name or as a wrong count; expectations are exact rows, never
//! "at least".
//!
//! The cases are tables (shape name, SQL, expected for user a, expected for
//! user b) run for every role; a failure names the case, the role and the
//! user, and all failures are reported together.

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::wire::{Auth, post_raw, sql_req};

const ROLES: [&str; 4] = ["user", "service", "dba", "system"];

/// What a case must answer. Strings inside (SQL, rows, messages) are
/// templates: `{me}`, `{peer}`, `{seq}`, `{peer_seq}`, `{caller}`,
/// `{crole}` and `{t}` are filled in per user.
#[derive(Clone, Debug)]
enum Want {
    /// Exactly these rows, in order (`_seq` cells are compared as
    /// `"<seq>"` after checking they are decimal strings).
    Rows(Value),
    /// [`Want::Rows`] plus the exact column names.
    Table(&'static [&'static str], Value),
    /// A DML result: `row_count` and the message `"<verb> N row(s)"`.
    Dml(u64, &'static str),
    /// The error envelope: HTTP status, `error.code` and the exact message.
    Err(u16, &'static str, &'static str),
}

fn rows(v: Value) -> Want {
    Want::Rows(v)
}

/// One row with one BIGINT cell (COUNT, SUM, …: 64-bit values are strings).
fn count(n: u64) -> Want {
    Want::Rows(json!([[n.to_string()]]))
}

/// `[id, body, owner]` rows of `iso.notes` as the seed writes them.
fn notes(ids: &[u64]) -> Want {
    Want::Rows(Value::Array(
        ids.iter()
            .map(|i| json!([i.to_string(), format!("{{me}} note {i}"), "{me}"]))
            .collect(),
    ))
}

/// Single BIGINT column rows (`SELECT id …`).
fn ids(ids: &[u64]) -> Want {
    Want::Rows(Value::Array(
        ids.iter().map(|i| json!([i.to_string()])).collect(),
    ))
}

fn inserted(n: u64) -> Want {
    Want::Dml(n, "Inserted")
}

fn updated(n: u64) -> Want {
    Want::Dml(n, "Updated")
}

fn deleted(n: u64) -> Want {
    Want::Dml(n, "Deleted")
}

const EXEC_ERR: &str = "SQL_EXECUTION_ERROR";
const DENIED: &str = "PERMISSION_DENIED";

/// A read-only shape, run by both users of every role.
struct Shape {
    name: &'static str,
    sql: &'static str,
    namespace: Option<&'static str>,
    params: Option<Value>,
    a: Want,
    b: Want,
}

fn shape(name: &'static str, sql: &'static str, a: Want, b: Want) -> Shape {
    Shape {
        name,
        sql,
        namespace: None,
        params: None,
        a,
        b,
    }
}

/// Both users answer the same (counts aside, which the templates carry).
fn same(name: &'static str, sql: &'static str, want: Want) -> Shape {
    shape(name, sql, want.clone(), want)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    A,
    B,
}

/// One step of the write script; steps run in order for each role pair.
struct Step {
    name: &'static str,
    who: Who,
    sql: &'static str,
    namespace: Option<&'static str>,
    want: Want,
}

fn step(name: &'static str, who: Who, sql: &'static str, want: Want) -> Step {
    Step {
        name,
        who,
        sql,
        namespace: None,
        want,
    }
}

fn fill(text: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(text.to_string(), |acc, (k, v)| {
        acc.replace(&format!("{{{k}}}"), v)
    })
}

fn fill_value(v: &Value, vars: &[(&str, &str)]) -> Value {
    serde_json::from_str(&fill(&v.to_string(), vars)).expect("template stays JSON")
}

/// A logged-in user (Bearer token: one Argon2 verification per user).
struct Session {
    name: String,
    token: String,
}

impl Session {
    async fn login(server: &TestServer, name: &str, password: &str) -> Self {
        let (status, _, body) = post_raw(
            server,
            "/v1/api/auth/login",
            Auth::None,
            json!({"user": name, "password": password}).to_string(),
        )
        .await;
        assert_eq!(status, 200, "login {name}: {body}");
        Session {
            name: name.to_string(),
            token: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
        }
    }

    async fn send(
        &self,
        server: &TestServer,
        sql: &str,
        namespace: Option<&str>,
        params: Option<&Value>,
    ) -> (u16, Value) {
        let mut body = json!({ "sql": sql });
        if let Some(ns) = namespace {
            body["namespace_id"] = json!(ns);
        }
        if let Some(p) = params {
            body["params"] = p.clone();
        }
        sql_req(server, Auth::Bearer(&self.token), body).await
    }
}

fn password_of(name: &str) -> String {
    format!("Iso-{name}-pw9")
}

/// Compares one answer with its expectation; `Err` holds what differed.
fn verify(
    status: u16,
    body: &Value,
    want: &Want,
    as_user: &str,
    vars: &[(&str, &str)],
) -> Result<(), String> {
    if let Want::Err(want_status, code, message) = want {
        let message = fill(message, vars);
        let got = (
            status,
            body["status"].as_str(),
            body["error"]["code"].as_str(),
            body["error"]["message"].as_str(),
        );
        let expected = (
            *want_status,
            Some("error"),
            Some(*code),
            Some(message.as_str()),
        );
        return if got == expected {
            Ok(())
        } else {
            Err(format!("want error {expected:?}"))
        };
    }
    if status != 200 || body["status"] != "success" {
        return Err(format!("want success, {want:?}"));
    }
    let results = body["results"].as_array().cloned().unwrap_or_default();
    let Some(last) = results.last() else {
        return Err("no results".into());
    };
    if last["as_user"] != as_user {
        return Err(format!("want as_user {as_user:?}"));
    }
    match want {
        Want::Dml(n, verb) => {
            let message = format!("{verb} {n} row(s)");
            if last["row_count"] != *n || last["message"] != message {
                return Err(format!("want row_count {n}, message {message:?}"));
            }
            Ok(())
        }
        Want::Rows(expected) | Want::Table(_, expected) => {
            let names: Vec<&str> = last["schema"]
                .as_array()
                .map(|s| s.iter().filter_map(|c| c["name"].as_str()).collect())
                .unwrap_or_default();
            if let Want::Table(cols, _) = want
                && names != *cols
            {
                return Err(format!("want columns {cols:?}, got {names:?}"));
            }
            let got = normalize_seq(&names, last["rows"].as_array().cloned());
            let expected = fill_value(expected, vars);
            let n = expected.as_array().map_or(0, Vec::len);
            if got != expected {
                return Err(format!("want rows {expected}, got {got}"));
            }
            if last["row_count"] != n {
                return Err(format!("want row_count {n}"));
            }
            Ok(())
        }
        Want::Err(..) => unreachable!("handled above"),
    }
}

/// `_seq` values differ per run: a cell that is a decimal string becomes
/// `"<seq>"`, anything else stays and fails the comparison.
fn normalize_seq(names: &[&str], rows: Option<Vec<Value>>) -> Value {
    let seq_cols: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| **n == "_seq")
        .map(|(i, _)| i)
        .collect();
    let mut rows = rows.unwrap_or_default();
    for row in &mut rows {
        for &i in &seq_cols {
            if let Some(cell) = row.get_mut(i)
                && cell
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            {
                *cell = json!("<seq>");
            }
        }
    }
    Value::Array(rows)
}

/// Counts checks and collects failures, so one run reports every mismatch.
#[derive(Default)]
struct Tally {
    checked: usize,
    failures: Vec<String>,
}

impl Tally {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        case: &str,
        role: &str,
        user: &str,
        sql: &str,
        (status, body): (u16, Value),
        want: &Want,
        as_user: &str,
        vars: &[(&str, &str)],
    ) {
        self.checked += 1;
        if let Err(why) = verify(status, &body, want, as_user, vars) {
            self.failures.push(format!(
                "[{case}] role={role} user={user}: {why}\n    sql: {sql}\n    got: {status} {body}"
            ));
        }
    }

    /// A check that is not one answer against one [`Want`].
    fn expect(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures.push(failure());
        }
    }

    fn finish(self, what: &str, expected_cases: usize) {
        println!("{what}: {} cases", self.checked);
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} cases failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        assert_eq!(self.checked, expected_cases, "{what}: cases run");
    }
}

/// Root's schema: two USER tables (for joins), a STREAM table and a public
/// SHARED table (for USER × SHARED joins and the EXECUTE AS refusal).
async fn create_schema(server: &TestServer) {
    server
        .sql(
            "CREATE NAMESPACE iso;
             CREATE USER TABLE iso.notes (id BIGINT PRIMARY KEY, body TEXT,
                 owner TEXT DEFAULT CURRENT_USER());
             CREATE USER TABLE iso.tags (note_id BIGINT, tag TEXT, id BIGINT AUTO_INCREMENT);
             CREATE STREAM TABLE iso.events (id BIGINT, kind TEXT) WITH (TTL_SECONDS = 3600);
             CREATE SHARED TABLE iso.colors (id BIGINT PRIMARY KEY, name TEXT)
                 WITH (ACCESS_LEVEL = 'public');
             INSERT INTO iso.colors VALUES (1, 'red'), (2, 'green'), (3, 'blue')",
        )
        .await;
}

/// The seed of one user: notes, tags and events `1..=n`, bodies naming the
/// user (`owner` comes from its `DEFAULT CURRENT_USER()`).
fn seed_sql(name: &str, n: u64) -> String {
    let list = |f: &dyn Fn(u64) -> String| (1..=n).map(f).collect::<Vec<_>>().join(", ");
    format!(
        "INSERT INTO iso.notes (id, body) VALUES {};
         INSERT INTO iso.tags (note_id, tag) VALUES {};
         INSERT INTO iso.events (id, kind) VALUES {}",
        list(&|i| format!("({i}, '{name} note {i}')")),
        list(&|i| format!("({i}, '{name} tag {i}')")),
        list(&|i| format!("({i}, '{name} ev {i}')")),
    )
}

/// Rows a-users and b-users seed: different counts so leaks change counts.
const A_ROWS: u64 = 3;
const B_ROWS: u64 = 2;

fn read_shapes() -> Vec<Shape> {
    use Want::Table;
    vec![
        shape(
            "SELECT *",
            "SELECT * FROM iso.notes ORDER BY id",
            Table(
                &["id", "body", "owner", "_seq", "_deleted"],
                json!([
                    ["1", "{me} note 1", "{me}", "<seq>", false],
                    ["2", "{me} note 2", "{me}", "<seq>", false],
                    ["3", "{me} note 3", "{me}", "<seq>", false]
                ]),
            ),
            Table(
                &["id", "body", "owner", "_seq", "_deleted"],
                json!([
                    ["1", "{me} note 1", "{me}", "<seq>", false],
                    ["2", "{me} note 2", "{me}", "<seq>", false]
                ]),
            ),
        ),
        shape(
            "projection",
            "SELECT id, body, owner FROM iso.notes ORDER BY id",
            notes(&[1, 2, 3]),
            notes(&[1, 2]),
        ),
        same(
            "pk = (both have it)",
            "SELECT id, body, owner FROM iso.notes WHERE id = 1",
            notes(&[1]),
        ),
        shape(
            "pk = (only a has it)",
            "SELECT id, body, owner FROM iso.notes WHERE id = 3",
            notes(&[3]),
            notes(&[]),
        ),
        shape(
            "pk IN",
            "SELECT id, body, owner FROM iso.notes WHERE id IN (1, 3) ORDER BY id",
            notes(&[1, 3]),
            notes(&[1]),
        ),
        shape(
            "pk OR",
            "SELECT id, body, owner FROM iso.notes WHERE id = 2 OR id = 3 ORDER BY id",
            notes(&[2, 3]),
            notes(&[2]),
        ),
        shape(
            "pk BETWEEN",
            "SELECT id FROM iso.notes WHERE id BETWEEN 2 AND 10 ORDER BY id",
            ids(&[2, 3]),
            ids(&[2]),
        ),
        Shape {
            params: Some(json!([3])),
            ..shape(
                "pk = $1",
                "SELECT id, body, owner FROM iso.notes WHERE id = $1",
                notes(&[3]),
                notes(&[]),
            )
        },
        same(
            "no foreign body",
            "SELECT COUNT(*) FROM iso.notes WHERE body NOT LIKE '{me} %' OR owner <> '{me}'",
            count(0),
        ),
        same(
            "peer's body by value",
            "SELECT COUNT(*) FROM iso.notes WHERE body = '{peer} note 1'",
            count(0),
        ),
        same(
            "_seq = own",
            "SELECT id FROM iso.notes WHERE _seq = {seq}",
            ids(&[1]),
        ),
        same(
            "_seq = peer's",
            "SELECT id FROM iso.notes WHERE _seq = {peer_seq}",
            ids(&[]),
        ),
        same(
            "_seq IN (own, peer's)",
            "SELECT id FROM iso.notes WHERE _seq IN ({seq}, {peer_seq})",
            ids(&[1]),
        ),
        Shape {
            params: Some(json!(["{seq}"])),
            ..same(
                "_seq = $1 (own, string param)",
                "SELECT id FROM iso.notes WHERE _seq = $1",
                ids(&[1]),
            )
        },
        Shape {
            params: Some(json!(["{peer_seq}"])),
            ..same(
                "_seq = $1 (peer's, string param)",
                "SELECT id FROM iso.notes WHERE _seq = $1",
                ids(&[]),
            )
        },
        shape(
            "COUNT(*)",
            "SELECT COUNT(*) FROM iso.notes",
            count(A_ROWS),
            count(B_ROWS),
        ),
        shape(
            "SUM/MIN/MAX",
            "SELECT SUM(id), MIN(id), MAX(id) FROM iso.notes",
            rows(json!([["6", "1", "3"]])),
            rows(json!([["3", "1", "2"]])),
        ),
        shape(
            "GROUP BY",
            "SELECT owner, COUNT(*) FROM iso.notes GROUP BY owner",
            rows(json!([["{me}", "3"]])),
            rows(json!([["{me}", "2"]])),
        ),
        shape(
            "HAVING",
            "SELECT id % 2 AS odd, COUNT(*) FROM iso.notes GROUP BY id % 2 HAVING COUNT(*) > 1",
            rows(json!([["1", "2"]])),
            rows(json!([])),
        ),
        same(
            "DISTINCT",
            "SELECT DISTINCT owner FROM iso.notes",
            rows(json!([["{me}"]])),
        ),
        shape(
            "window",
            "SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) AS rn, COUNT(*) OVER () AS total \
             FROM iso.notes ORDER BY id",
            rows(json!([["1", "3", "3"], ["2", "2", "3"], ["3", "1", "3"]])),
            rows(json!([["1", "2", "2"], ["2", "1", "2"]])),
        ),
        shape(
            "self-join",
            "SELECT x.id, y.id FROM iso.notes x JOIN iso.notes y ON x.id < y.id \
             ORDER BY x.id, y.id",
            rows(json!([["1", "2"], ["1", "3"], ["2", "3"]])),
            rows(json!([["1", "2"]])),
        ),
        shape(
            "self-join on pk",
            "SELECT COUNT(*), SUM(CASE WHEN x.owner = y.owner THEN 1 ELSE 0 END) \
             FROM iso.notes x JOIN iso.notes y ON x.id = y.id",
            rows(json!([["3", "3"]])),
            rows(json!([["2", "2"]])),
        ),
        shape(
            "join USER × USER",
            "SELECT n.id, t.tag FROM iso.notes n JOIN iso.tags t ON t.note_id = n.id ORDER BY n.id",
            rows(json!([
                ["1", "{me} tag 1"],
                ["2", "{me} tag 2"],
                ["3", "{me} tag 3"]
            ])),
            rows(json!([["1", "{me} tag 1"], ["2", "{me} tag 2"]])),
        ),
        shape(
            "LEFT JOIN USER × USER",
            "SELECT n.id, COUNT(t.tag) FROM iso.notes n LEFT JOIN iso.tags t \
             ON t.note_id = n.id GROUP BY n.id ORDER BY n.id",
            rows(json!([["1", "1"], ["2", "1"], ["3", "1"]])),
            rows(json!([["1", "1"], ["2", "1"]])),
        ),
        shape(
            "cross join USER × USER",
            "SELECT COUNT(*) FROM iso.notes, iso.tags",
            count(A_ROWS * A_ROWS),
            count(B_ROWS * B_ROWS),
        ),
        shape(
            "three-way join USER × USER × STREAM",
            "SELECT n.id, t.tag, e.kind FROM iso.notes n JOIN iso.tags t ON t.note_id = n.id \
             JOIN iso.events e ON e.id = t.note_id WHERE n.id >= 2 ORDER BY n.id",
            rows(json!([
                ["2", "{me} tag 2", "{me} ev 2"],
                ["3", "{me} tag 3", "{me} ev 3"]
            ])),
            rows(json!([["2", "{me} tag 2", "{me} ev 2"]])),
        ),
        shape(
            "join USER × SHARED",
            "SELECT n.id, c.name FROM iso.notes n JOIN iso.colors c ON c.id = n.id ORDER BY n.id",
            rows(json!([["1", "red"], ["2", "green"], ["3", "blue"]])),
            rows(json!([["1", "red"], ["2", "green"]])),
        ),
        shape(
            "SHARED LEFT JOIN USER",
            "SELECT c.id, n.body FROM iso.colors c LEFT JOIN iso.notes n ON n.id = c.id \
             ORDER BY c.id",
            rows(json!([
                ["1", "{me} note 1"],
                ["2", "{me} note 2"],
                ["3", "{me} note 3"]
            ])),
            rows(json!([
                ["1", "{me} note 1"],
                ["2", "{me} note 2"],
                ["3", null]
            ])),
        ),
        shape(
            "join USER × STREAM",
            "SELECT n.id, e.kind FROM iso.notes n JOIN iso.events e ON e.id = n.id ORDER BY n.id",
            rows(json!([
                ["1", "{me} ev 1"],
                ["2", "{me} ev 2"],
                ["3", "{me} ev 3"]
            ])),
            rows(json!([["1", "{me} ev 1"], ["2", "{me} ev 2"]])),
        ),
        shape(
            "STREAM select",
            "SELECT id, kind FROM iso.events ORDER BY id",
            rows(json!([
                ["1", "{me} ev 1"],
                ["2", "{me} ev 2"],
                ["3", "{me} ev 3"]
            ])),
            rows(json!([["1", "{me} ev 1"], ["2", "{me} ev 2"]])),
        ),
        shape(
            "IN (subquery)",
            "SELECT id FROM iso.colors WHERE id IN (SELECT id FROM iso.notes) ORDER BY id",
            ids(&[1, 2, 3]),
            ids(&[1, 2]),
        ),
        shape(
            "NOT IN (subquery)",
            "SELECT id FROM iso.colors WHERE id NOT IN (SELECT id FROM iso.notes) ORDER BY id",
            ids(&[]),
            ids(&[3]),
        ),
        shape(
            "EXISTS",
            "SELECT c.id FROM iso.colors c \
             WHERE EXISTS (SELECT 1 FROM iso.notes n WHERE n.id = c.id) ORDER BY c.id",
            ids(&[1, 2, 3]),
            ids(&[1, 2]),
        ),
        shape(
            "NOT EXISTS",
            "SELECT c.id FROM iso.colors c \
             WHERE NOT EXISTS (SELECT 1 FROM iso.notes n WHERE n.id = c.id) ORDER BY c.id",
            ids(&[]),
            ids(&[3]),
        ),
        shape(
            "scalar subquery",
            "SELECT (SELECT COUNT(*) FROM iso.notes), (SELECT MAX(note_id) FROM iso.tags)",
            rows(json!([["3", "3"]])),
            rows(json!([["2", "2"]])),
        ),
        shape(
            "correlated subquery",
            "SELECT n.id, (SELECT COUNT(*) FROM iso.tags t WHERE t.note_id = n.id) \
             FROM iso.notes n ORDER BY n.id",
            rows(json!([["1", "1"], ["2", "1"], ["3", "1"]])),
            rows(json!([["1", "1"], ["2", "1"]])),
        ),
        shape(
            "derived table",
            "SELECT COUNT(*) FROM (SELECT * FROM iso.notes WHERE id > 1) s",
            count(2),
            count(1),
        ),
        shape(
            "CTE",
            "WITH mine AS (SELECT id FROM iso.notes WHERE id >= 2) SELECT COUNT(*) FROM mine",
            count(2),
            count(1),
        ),
        shape(
            "CTE self-join",
            "WITH m AS (SELECT id, body FROM iso.notes) \
             SELECT COUNT(*) FROM m a JOIN m b ON a.id = b.id",
            count(A_ROWS),
            count(B_ROWS),
        ),
        shape(
            "UNION",
            "SELECT id FROM iso.notes UNION SELECT id FROM iso.notes ORDER BY id",
            ids(&[1, 2, 3]),
            ids(&[1, 2]),
        ),
        shape(
            "UNION ALL",
            "SELECT COUNT(*) FROM (SELECT id FROM iso.notes UNION ALL SELECT id FROM iso.notes) u",
            count(2 * A_ROWS),
            count(2 * B_ROWS),
        ),
        shape(
            "UNION ALL with SHARED",
            "SELECT body FROM iso.notes WHERE id = 3 \
             UNION ALL SELECT name FROM iso.colors WHERE id = 3 ORDER BY 1",
            rows(json!([["blue"], ["{me} note 3"]])),
            rows(json!([["blue"]])),
        ),
        shape(
            "INTERSECT",
            "SELECT id FROM iso.colors INTERSECT SELECT id FROM iso.notes ORDER BY id",
            ids(&[1, 2, 3]),
            ids(&[1, 2]),
        ),
        shape(
            "EXCEPT",
            "SELECT id FROM iso.colors EXCEPT SELECT id FROM iso.notes ORDER BY id",
            ids(&[]),
            ids(&[3]),
        ),
        shape(
            "ORDER BY/LIMIT/OFFSET",
            "SELECT id FROM iso.notes ORDER BY id DESC LIMIT 2 OFFSET 1",
            ids(&[2, 1]),
            ids(&[1]),
        ),
        shape(
            "OFFSET past own rows",
            "SELECT id FROM iso.notes ORDER BY id LIMIT 5 OFFSET 2",
            ids(&[3]),
            ids(&[]),
        ),
        same(
            "CURRENT_USER()",
            "SELECT CURRENT_USER()",
            rows(json!([["{me}"]])),
        ),
        shape(
            "CURRENT_USER() in WHERE",
            "SELECT COUNT(*) FROM iso.notes WHERE owner = CURRENT_USER()",
            count(A_ROWS),
            count(B_ROWS),
        ),
        Shape {
            namespace: Some("iso"),
            ..shape(
                "unqualified via namespace_id",
                "SELECT COUNT(*) FROM notes",
                count(A_ROWS),
                count(B_ROWS),
            )
        },
        shape(
            "unqualified via USE",
            "USE iso; SELECT id, body, owner FROM notes WHERE id = 3",
            notes(&[3]),
            notes(&[]),
        ),
        shape(
            "kalam.ns.t and case folding",
            "SELECT COUNT(*) FROM KALAM.ISO.NOTES",
            count(A_ROWS),
            count(B_ROWS),
        ),
        same(
            "information_schema is metadata only",
            "SELECT table_name, table_type FROM information_schema.tables \
             WHERE table_schema = 'iso' ORDER BY table_name",
            rows(json!([
                ["colors", "BASE TABLE"],
                ["events", "BASE TABLE"],
                ["notes", "BASE TABLE"],
                ["tags", "BASE TABLE"]
            ])),
        ),
        same(
            "system.tables is metadata only",
            "SELECT table_name, table_type FROM system.tables \
             WHERE namespace_id = 'iso' ORDER BY table_name",
            rows(json!([
                ["colors", "shared"],
                ["events", "stream"],
                ["notes", "user"],
                ["tags", "user"]
            ])),
        ),
    ]
}

/// The write script for one pair. Starts from the seed (a: notes 1–3, b:
/// notes 1–2) and ends in a fixed state that [`final_shapes`] checks.
fn write_steps() -> Vec<Step> {
    use Who::{A, B};
    let count_sql = "SELECT COUNT(*) FROM iso.notes";
    vec![
        // Earlier pairs' writes must not have reached this pair.
        step("seed intact", A, count_sql, count(A_ROWS)),
        step("seed intact", B, count_sql, count(B_ROWS)),
        step(
            "UPDATE by the peer's _seq",
            B,
            "UPDATE iso.notes SET body = 'hijacked' WHERE _seq = {peer_seq}",
            updated(0),
        ),
        step(
            "DELETE by the peer's _seq",
            B,
            "DELETE FROM iso.notes WHERE _seq = {peer_seq}",
            deleted(0),
        ),
        step(
            "INSERT pk the peer has",
            B,
            "INSERT INTO iso.notes (id, body) VALUES (3, '{me} note 3')",
            inserted(1),
        ),
        step(
            "peer's row with that pk untouched",
            A,
            "SELECT id, body, owner FROM iso.notes WHERE id = 3",
            notes(&[3]),
        ),
        step(
            "INSERT duplicate own pk",
            A,
            "INSERT INTO iso.notes (id, body) VALUES (3, 'dup')",
            Want::Err(
                400,
                EXEC_ERR,
                "Duplicate primary key value '3' in table 'iso.notes'",
            ),
        ),
        step(
            "INSERT duplicate own pk",
            B,
            "INSERT INTO iso.notes (id, body) VALUES (3, 'dup')",
            Want::Err(
                400,
                EXEC_ERR,
                "Duplicate primary key value '3' in table 'iso.notes'",
            ),
        ),
        step(
            "INSERT duplicate pk within one statement",
            A,
            "INSERT INTO iso.notes (id, body) VALUES (7, 'x'), (7, 'y')",
            Want::Err(
                400,
                EXEC_ERR,
                "Duplicate primary key value '7' in table 'iso.notes'",
            ),
        ),
        step(
            "failed INSERTs wrote nothing",
            A,
            "SELECT id, body, owner FROM iso.notes ORDER BY id",
            notes(&[1, 2, 3]),
        ),
        step(
            "INSERT … SELECT own rows",
            A,
            "INSERT INTO iso.notes (id, body) SELECT id + 10, body || ' copy' FROM iso.notes",
            inserted(3),
        ),
        step(
            "INSERT … SELECT own rows",
            B,
            "INSERT INTO iso.notes (id, body) SELECT id + 10, body || ' copy' FROM iso.notes",
            inserted(3),
        ),
        step(
            "INSERT … SELECT result",
            A,
            "SELECT id, body, owner FROM iso.notes WHERE id > 10 ORDER BY id",
            rows(json!([
                ["11", "{me} note 1 copy", "{me}"],
                ["12", "{me} note 2 copy", "{me}"],
                ["13", "{me} note 3 copy", "{me}"]
            ])),
        ),
        step(
            "INSERT … SELECT from SHARED",
            A,
            "INSERT INTO iso.notes (id, body) SELECT id + 20, name FROM iso.colors WHERE id = 1",
            inserted(1),
        ),
        step("count after inserts", A, count_sql, count(7)),
        step("count after inserts", B, count_sql, count(6)),
        // Ownership is the storage partition, not a column value.
        step(
            "INSERT naming the peer in a column",
            A,
            "INSERT INTO iso.notes (id, body, owner) VALUES (50, 'forged', '{peer}')",
            inserted(1),
        ),
        step(
            "row naming the peer stays in the writer's partition",
            B,
            "SELECT COUNT(*) FROM iso.notes WHERE id = 50 OR body = 'forged'",
            count(0),
        ),
        step(
            "row naming the peer is the writer's",
            A,
            "SELECT id, body, owner FROM iso.notes WHERE owner <> CURRENT_USER()",
            rows(json!([["50", "forged", "{peer}"]])),
        ),
        step(
            "DELETE by the peer's name in a column",
            A,
            "DELETE FROM iso.notes WHERE owner = '{peer}'",
            deleted(1),
        ),
        step(
            "UPDATE with WHERE",
            A,
            "UPDATE iso.notes SET body = 'edited by {me}' WHERE id = 1",
            updated(1),
        ),
        step(
            "_seq of a superseded version finds nothing",
            A,
            "SELECT COUNT(*) FROM iso.notes WHERE _seq = {seq}",
            count(0),
        ),
        step(
            "peer's row with that pk unchanged",
            B,
            "SELECT id, body, owner FROM iso.notes WHERE id = 1",
            notes(&[1]),
        ),
        step(
            "UPDATE aimed at the peer's values",
            B,
            "UPDATE iso.notes SET body = 'hijacked' WHERE body = 'edited by {peer}'",
            updated(0),
        ),
        step(
            "UPDATE without WHERE",
            A,
            "UPDATE iso.notes SET body = body || ' !'",
            updated(7),
        ),
        step(
            "peer unchanged by UPDATE without WHERE",
            B,
            "SELECT COUNT(*) FROM iso.notes WHERE body LIKE '%!' OR body LIKE 'edited%'",
            count(0),
        ),
        step(
            "UPDATE without WHERE reached every own row",
            A,
            "SELECT COUNT(*) FROM iso.notes WHERE body LIKE '%!'",
            count(7),
        ),
        step(
            "UPDATE to the same value (CURRENT_USER())",
            A,
            "UPDATE iso.notes SET owner = CURRENT_USER()",
            updated(0),
        ),
        step(
            "DELETE with WHERE",
            B,
            "DELETE FROM iso.notes WHERE id = 1",
            deleted(1),
        ),
        step(
            "peer's row with that pk kept",
            A,
            "SELECT id, body FROM iso.notes WHERE id = 1",
            rows(json!([["1", "edited by {me} !"]])),
        ),
        step(
            "DELETE aimed at the peer's values",
            B,
            "DELETE FROM iso.notes WHERE body LIKE 'edited by%'",
            deleted(0),
        ),
        step(
            "DELETE without WHERE",
            B,
            "DELETE FROM iso.notes",
            deleted(5),
        ),
        step("emptied", B, count_sql, count(0)),
        step(
            "tombstones are invisible",
            B,
            "SELECT COUNT(*) FROM iso.notes WHERE _deleted OR _seq = {seq}",
            count(0),
        ),
        step("peer kept every row", A, count_sql, count(7)),
        step(
            "re-INSERT a deleted pk",
            B,
            "INSERT INTO iso.notes (id, body) VALUES (1, '{me} again')",
            inserted(1),
        ),
        step(
            "DELETE with IN (subquery on USER table)",
            A,
            "DELETE FROM iso.notes WHERE id IN (SELECT note_id + 10 FROM iso.tags)",
            deleted(3),
        ),
        step(
            "DELETE with WHERE",
            A,
            "DELETE FROM iso.notes WHERE id = 21",
            deleted(1),
        ),
        step(
            "STREAM UPDATE refused",
            A,
            "UPDATE iso.events SET kind = 'x'",
            Want::Err(400, EXEC_ERR, "STREAM tables are append-only"),
        ),
        step(
            "STREAM DELETE refused",
            B,
            "DELETE FROM iso.events",
            Want::Err(400, EXEC_ERR, "STREAM tables are append-only"),
        ),
        step(
            "STREAM INSERT",
            B,
            "INSERT INTO iso.events (id, kind) VALUES (1, '{me} ev 1 again')",
            inserted(1),
        ),
        step(
            "STREAM count",
            A,
            "SELECT COUNT(*) FROM iso.events",
            count(A_ROWS),
        ),
        step(
            "STREAM count",
            B,
            "SELECT COUNT(*) FROM iso.events",
            count(B_ROWS + 1),
        ),
        Step {
            namespace: Some("iso"),
            ..step(
                "INSERT unqualified via namespace_id",
                A,
                "INSERT INTO tags (note_id, tag) VALUES (9, '{me} ns tag')",
                inserted(1),
            )
        },
        step(
            "peer cannot see it via USE",
            B,
            "USE iso; SELECT COUNT(*) FROM tags WHERE note_id = 9",
            count(0),
        ),
        step(
            "UPDATE unqualified via USE",
            A,
            "USE iso; UPDATE tags SET tag = 'x' WHERE note_id = 9",
            updated(1),
        ),
        step(
            "DELETE unqualified via USE",
            A,
            "USE iso; DELETE FROM tags WHERE note_id = 9",
            deleted(1),
        ),
        step(
            "peer's UPDATE via USE touches nothing",
            B,
            "USE iso; UPDATE tags SET tag = 'x' WHERE note_id = 3",
            updated(0),
        ),
    ]
}

/// The state every pair ends in, read after all pairs have written.
fn final_shapes() -> Vec<Shape> {
    vec![
        shape(
            "final notes",
            "SELECT id, body, owner FROM iso.notes ORDER BY id",
            rows(json!([
                ["1", "edited by {me} !", "{me}"],
                ["2", "{me} note 2 !", "{me}"],
                ["3", "{me} note 3 !", "{me}"]
            ])),
            rows(json!([["1", "{me} again", "{me}"]])),
        ),
        shape(
            "final tags",
            "SELECT note_id, tag FROM iso.tags ORDER BY note_id",
            rows(json!([
                ["1", "{me} tag 1"],
                ["2", "{me} tag 2"],
                ["3", "{me} tag 3"]
            ])),
            rows(json!([["1", "{me} tag 1"], ["2", "{me} tag 2"]])),
        ),
    ]
}

/// The two users of one role, logged in, with the `_seq` of their note 1.
struct Pair {
    role: &'static str,
    a: Session,
    b: Session,
    seq_a: String,
    seq_b: String,
}

impl Pair {
    fn user(&self, who: Who) -> (&Session, &Session, &str, &str) {
        match who {
            Who::A => (&self.a, &self.b, &self.seq_a, &self.seq_b),
            Who::B => (&self.b, &self.a, &self.seq_b, &self.seq_a),
        }
    }

    /// Runs `sql` as `who` and records the check.
    #[allow(clippy::too_many_arguments)]
    async fn check(
        &self,
        server: &TestServer,
        tally: &mut Tally,
        case: &str,
        who: Who,
        sql: &str,
        namespace: Option<&str>,
        params: Option<&Value>,
        want: &Want,
    ) {
        let (me, peer, seq, peer_seq) = self.user(who);
        let vars = [
            ("me", me.name.as_str()),
            ("peer", peer.name.as_str()),
            ("seq", seq),
            ("peer_seq", peer_seq),
        ];
        let sql = fill(sql, &vars);
        let params = params.map(|p| fill_value(p, &vars));
        let answer = me.send(server, &sql, namespace, params.as_ref()).await;
        tally.record(
            case, self.role, &me.name, &sql, answer, want, &me.name, &vars,
        );
    }

    async fn run_shapes(&self, server: &TestServer, tally: &mut Tally, shapes: &[Shape]) {
        for s in shapes {
            for (who, want) in [(Who::A, &s.a), (Who::B, &s.b)] {
                self.check(
                    server,
                    tally,
                    s.name,
                    who,
                    s.sql,
                    s.namespace,
                    s.params.as_ref(),
                    want,
                )
                .await;
            }
        }
    }
}

/// The `_seq` of the caller's note 1.
async fn seq_of_note_1(server: &TestServer, s: &Session) -> String {
    let (status, body) = s
        .send(
            server,
            "SELECT _seq FROM iso.notes WHERE id = 1",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{}: {body}", s.name);
    body["results"][0]["rows"][0][0]
        .as_str()
        .unwrap_or_else(|| panic!("{}: _seq of note 1: {body}", s.name))
        .to_string()
}

/// Creates `iso_<role>_a` and `iso_<role>_b` for every role, logs them in
/// and seeds their rows.
async fn pairs(server: &TestServer) -> Vec<Pair> {
    let create: Vec<String> = ROLES
        .iter()
        .flat_map(|role| ["a", "b"].map(|s| format!("iso_{role}_{s}")))
        .zip(ROLES.iter().flat_map(|r| [*r, *r]))
        .map(|(name, role)| {
            format!(
                "CREATE USER {name} WITH PASSWORD '{}' ROLE {role}",
                password_of(&name)
            )
        })
        .collect();
    server.sql(&create.join(";\n")).await;
    let mut out = Vec::new();
    for role in ROLES {
        let a_name = format!("iso_{role}_a");
        let b_name = format!("iso_{role}_b");
        let a = Session::login(server, &a_name, &password_of(&a_name)).await;
        let b = Session::login(server, &b_name, &password_of(&b_name)).await;
        for (s, n) in [(&a, A_ROWS), (&b, B_ROWS)] {
            let (status, body) = s.send(server, &seed_sql(&s.name, n), None, None).await;
            assert_eq!(status, 200, "seed {}: {body}", s.name);
        }
        let seq_a = seq_of_note_1(server, &a).await;
        let seq_b = seq_of_note_1(server, &b).await;
        assert_ne!(seq_a, seq_b);
        out.push(Pair {
            role,
            a,
            b,
            seq_a,
            seq_b,
        });
    }
    out
}

/// Every shape × roles user/service/dba/system × two users with the same
/// primary keys; then the write script per pair; then the final state of
/// every pair (so a later pair's writes leaking into an earlier one show).
/// Root (role system) owns no rows and must see none.
#[tokio::test]
async fn user_table_isolation_matrix() {
    let server = TestServer::start();
    create_schema(&server).await;
    let pairs = pairs(&server).await;
    let reads = read_shapes();
    let writes = write_steps();
    let finals = final_shapes();
    let mut tally = Tally::default();

    for pair in &pairs {
        pair.run_shapes(&server, &mut tally, &reads).await;
    }
    for pair in &pairs {
        for s in &writes {
            pair.check(
                &server,
                &mut tally,
                s.name,
                s.who,
                s.sql,
                s.namespace,
                None,
                &s.want,
            )
            .await;
        }
    }
    for pair in &pairs {
        pair.run_shapes(&server, &mut tally, &finals).await;
    }

    // Root is a system-role caller with an empty partition: no implicit
    // cross-user read, whatever the shape.
    for (case, sql, want) in [
        ("root COUNT", "SELECT COUNT(*) FROM iso.notes", count(0)),
        (
            "root join",
            "SELECT COUNT(*) FROM iso.notes n JOIN iso.tags t ON t.note_id = n.id",
            count(0),
        ),
        ("root STREAM", "SELECT COUNT(*) FROM iso.events", count(0)),
        (
            "root SHARED LEFT JOIN USER",
            "SELECT c.id, n.body FROM iso.colors c LEFT JOIN iso.notes n ON n.id = c.id \
             ORDER BY c.id",
            rows(json!([["1", null], ["2", null], ["3", null]])),
        ),
        (
            "root _seq of a user's row",
            "SELECT COUNT(*) FROM iso.notes WHERE _seq = {seq}",
            count(0),
        ),
        (
            "root UPDATE without WHERE",
            "UPDATE iso.notes SET body = 'root was here'",
            updated(0),
        ),
        (
            "root DELETE without WHERE",
            "DELETE FROM iso.notes",
            deleted(0),
        ),
    ] {
        let seq = pairs.first().map(|p| p.seq_a.as_str()).unwrap_or("0");
        let vars = [("seq", seq)];
        let sql = fill(sql, &vars);
        let answer = server
            .sql_as("root", crate::common::ROOT_PASSWORD, &sql)
            .await;
        tally.record(case, "system", "root", &sql, answer, &want, "root", &vars);
    }
    // The root writes above must not have reached anyone.
    for pair in &pairs {
        pair.run_shapes(&server, &mut tally, &finals).await;
    }

    assert_eq!(reads.len(), 54);
    assert_eq!(writes.len(), 48);
    let expected = ROLES.len() * (2 * reads.len() + writes.len() + 2 * 2 * finals.len()) + 7;
    tally.finish("isolation matrix", expected);
}

/// May a caller of role `caller` run `EXECUTE AS USER` for a target of role
/// `target` (`wire-protocol.md` §5.6; self is always allowed)?
fn may_execute_as(caller: &str, target: &str) -> bool {
    match caller {
        "system" => true,
        "dba" => target != "system",
        "service" => matches!(target, "user" | "service"),
        _ => false,
    }
}

/// Notes each EXECUTE AS target owns: different counts per target, so a
/// statement that ran in the wrong partition is visible.
fn target_rows(role: &str) -> u64 {
    match role {
        "user" => 1,
        "service" => 2,
        "dba" => 3,
        _ => 4,
    }
}

/// Callers `ex_<role>` (with passwords) × targets `tg_<role>` (INTERNAL
/// users, they cannot log in) and self: allowed per the hierarchy, the inner
/// statement sees and writes exactly the target's partition with `as_user` =
/// target, denied ones are 403 and change nothing; SHARED tables are refused
/// inside EXECUTE AS.
#[tokio::test]
async fn execute_as_user_matrix() {
    let server = TestServer::start();
    create_schema(&server).await;
    let mut ddl = Vec::new();
    for role in ROLES {
        let caller = format!("ex_{role}");
        ddl.push(format!(
            "CREATE USER {caller} WITH PASSWORD '{}' ROLE {role}",
            password_of(&caller)
        ));
        ddl.push(format!("CREATE USER tg_{role} WITH INTERNAL ROLE {role}"));
    }
    // Names are case-sensitive: TG_USER is a different partition from
    // tg_user, and both must stay as seeded.
    ddl.push("CREATE USER TG_USER WITH INTERNAL ROLE user".into());
    server.sql(&ddl.join(";\n")).await;
    server
        .sql("EXECUTE AS USER 'TG_USER' (INSERT INTO iso.notes (id, body) VALUES (1, 'TG_USER note 1'))")
        .await;
    // Root (system) seeds every target through EXECUTE AS itself.
    for role in ROLES {
        let t = format!("tg_{role}");
        let n = target_rows(role);
        let values = (1..=n)
            .map(|i| format!("({i}, '{t} note {i}')"))
            .collect::<Vec<_>>()
            .join(", ");
        let kinds = (1..=n)
            .map(|i| format!("({i}, '{t} ev {i}')"))
            .collect::<Vec<_>>()
            .join(", ");
        server
            .sql(&format!(
                "EXECUTE AS USER '{t}' (INSERT INTO iso.notes (id, body) VALUES {values});
                 EXECUTE AS USER '{t}' (INSERT INTO iso.events (id, kind) VALUES {kinds})"
            ))
            .await;
    }
    let mut callers = Vec::new();
    for role in ROLES {
        let name = format!("ex_{role}");
        let s = Session::login(&server, &name, &password_of(&name)).await;
        let (status, body) = s.send(&server, &seed_sql(&name, 1), None, None).await;
        assert_eq!(status, 200, "{body}");
        callers.push((role, s));
    }

    let mut tally = Tally::default();
    let target_notes = |t: &str, n: u64| {
        Want::Rows(Value::Array(
            (1..=n)
                .map(|i| json!([i.to_string(), format!("{t} note {i}"), t]))
                .collect(),
        ))
    };
    for (crole, caller) in &callers {
        let targets: Vec<(String, &str)> = ROLES
            .iter()
            .map(|r| (format!("tg_{r}"), *r))
            .chain([(caller.name.clone(), *crole)])
            .collect();
        for (t, trole) in &targets {
            let is_self = *t == caller.name;
            let allowed = is_self || may_execute_as(crole, trole);
            let vars = [
                ("t", t.as_str()),
                ("caller", caller.name.as_str()),
                ("crole", crole),
                ("me", caller.name.as_str()),
            ];
            let n = if is_self { 1 } else { target_rows(trole) };
            let denied = Want::Err(403, DENIED, "Role '{crole}' cannot execute as user '{t}'");
            let shared_refused = Want::Err(
                400,
                EXEC_ERR,
                "EXECUTE AS USER is not allowed on SHARED tables",
            );
            let body_of = |i: u64| format!("{t} note {i}");
            let self_rows = Want::Rows(json!([["1", body_of(1), t]]));
            let own_rows = if is_self {
                self_rows
            } else {
                target_notes(t, n)
            };
            let cases: Vec<(&str, &str, Want)> = vec![
                (
                    "SELECT",
                    "EXECUTE AS USER '{t}' (SELECT id, body, owner FROM iso.notes ORDER BY id)",
                    own_rows,
                ),
                (
                    "COUNT on STREAM",
                    "EXECUTE AS USER '{t}' (SELECT COUNT(*) FROM iso.events)",
                    count(n),
                ),
                (
                    "INSERT",
                    "EXECUTE AS USER '{t}' (INSERT INTO iso.notes (id, body) VALUES (100, 'via {caller}'))",
                    inserted(1),
                ),
                (
                    "INSERT landed in the target's partition (owner = target)",
                    "EXECUTE AS USER '{t}' (SELECT id, body, owner FROM iso.notes WHERE id = 100)",
                    rows(json!([["100", "via {caller}", "{t}"]])),
                ),
                (
                    "UPDATE",
                    "EXECUTE AS USER '{t}' (UPDATE iso.notes SET body = 'edited via {caller}' WHERE id = 100)",
                    updated(1),
                ),
                (
                    "DELETE",
                    "EXECUTE AS USER '{t}' (DELETE FROM iso.notes WHERE id = 100)",
                    deleted(1),
                ),
                (
                    "SELECT on SHARED",
                    "EXECUTE AS USER '{t}' (SELECT * FROM iso.colors)",
                    shared_refused.clone(),
                ),
                (
                    "JOIN USER × SHARED",
                    "EXECUTE AS USER '{t}' (SELECT n.id FROM iso.notes n JOIN iso.colors c ON c.id = n.id)",
                    shared_refused.clone(),
                ),
                (
                    "INSERT on SHARED",
                    "EXECUTE AS USER '{t}' (INSERT INTO iso.colors VALUES (9, 'x'))",
                    shared_refused,
                ),
            ];
            for (case, sql, want) in cases {
                // A refused target is refused before the statement is looked
                // at (the spec does not order the two checks; this pins the
                // server's order: the role check comes first).
                let want = if allowed { want } else { denied.clone() };
                let sql = fill(sql, &vars);
                let answer = caller.send(&server, &sql, None, None).await;
                let as_user = if allowed { t.as_str() } else { "" };
                let label = format!("EXECUTE AS {trole} target {t}: {case}");
                tally.record(
                    &label,
                    crole,
                    &caller.name,
                    &sql,
                    answer,
                    &want,
                    as_user,
                    &vars,
                );
            }
            if !is_self {
                // The caller's own partition never saw the target's row 100.
                let sql = "SELECT id, body, owner FROM iso.notes ORDER BY id";
                let answer = caller.send(&server, sql, None, None).await;
                let want = rows(json!([["1", "{me} note 1", "{me}"]]));
                let label = format!("own rows after EXECUTE AS {t}");
                tally.record(
                    &label,
                    crole,
                    &caller.name,
                    sql,
                    answer,
                    &want,
                    &caller.name,
                    &vars,
                );
            }
        }
        // Unknown target: a plain user learns nothing (403), the others
        // get "not found".
        let vars = [("crole", *crole)];
        let want = if *crole == "user" {
            Want::Err(403, DENIED, "Role 'user' cannot execute as user 'ghost'")
        } else {
            Want::Err(400, EXEC_ERR, "User 'ghost' not found")
        };
        let sql = "EXECUTE AS USER 'ghost' (SELECT COUNT(*) FROM iso.notes)";
        let answer = caller.send(&server, sql, None, None).await;
        tally.record(
            "unknown target",
            crole,
            &caller.name,
            sql,
            answer,
            &want,
            "",
            &vars,
        );
    }

    // Forms and limits, by the system caller: (case, sql, namespace_id,
    // expected, as_user).
    let (_, sys) = callers.last().expect("system caller");
    let shared_refused = || {
        Want::Err(
            400,
            EXEC_ERR,
            "EXECUTE AS USER is not allowed on SHARED tables",
        )
    };
    let extra: Vec<(&str, &str, Option<&str>, Want, &str)> = vec![
        (
            "bare name, lowercase keywords",
            "execute as user tg_user (select id, body, owner from iso.notes)",
            None,
            target_notes("tg_user", 1),
            "tg_user",
        ),
        (
            "bare name keeps its case",
            "execute as user TG_USER (select id, body, owner from iso.notes)",
            None,
            target_notes("TG_USER", 1),
            "TG_USER",
        ),
        (
            "CURRENT_USER() is the target",
            "EXECUTE AS USER 'tg_service' (SELECT CURRENT_USER())",
            None,
            rows(json!([["tg_service"]])),
            "tg_service",
        ),
        (
            "unqualified inner name via USE",
            "USE iso; EXECUTE AS USER 'tg_dba' (SELECT COUNT(*) FROM notes)",
            None,
            count(3),
            "tg_dba",
        ),
        (
            "unqualified inner name via namespace_id",
            "EXECUTE AS USER 'tg_dba' (SELECT COUNT(*) FROM notes)",
            Some("iso"),
            count(3),
            "tg_dba",
        ),
        // The spec requires PERMISSION_DENIED naming the table; the text is
        // the server's, worded like the SHARED-table refusals.
        (
            "inner statement runs with role user",
            "EXECUTE AS USER 'tg_dba' (SELECT COUNT(*) FROM system.users)",
            None,
            Want::Err(
                403,
                DENIED,
                "Insufficient privileges to read table 'system.users'",
            ),
            "",
        ),
        (
            "exactly one inner statement",
            "EXECUTE AS USER 'tg_user' (SELECT 1; SELECT 2)",
            None,
            Want::Err(
                400,
                "INVALID_SQL",
                "EXECUTE AS USER requires exactly one statement",
            ),
            "",
        ),
        (
            "SHARED in a DELETE subquery",
            "EXECUTE AS USER 'tg_user' (DELETE FROM iso.notes WHERE id IN (SELECT id FROM iso.colors))",
            None,
            shared_refused(),
            "",
        ),
        (
            "SHARED as INSERT … SELECT source",
            "EXECUTE AS USER 'tg_user' (INSERT INTO iso.notes (id, body) SELECT id + 50, name FROM iso.colors)",
            None,
            shared_refused(),
            "",
        ),
        (
            "SHARED in an UPDATE scalar subquery",
            "EXECUTE AS USER 'tg_user' (UPDATE iso.notes SET body = (SELECT name FROM iso.colors WHERE id = 1))",
            None,
            shared_refused(),
            "",
        ),
        (
            "SHARED in a CTE",
            "EXECUTE AS USER 'tg_user' (WITH c AS (SELECT id FROM iso.colors) SELECT COUNT(*) FROM c)",
            None,
            shared_refused(),
            "",
        ),
        (
            "SHARED as kalam.ns.t, upper case",
            "EXECUTE AS USER 'tg_user' (SELECT COUNT(*) FROM KALAM.ISO.COLORS)",
            None,
            shared_refused(),
            "",
        ),
        (
            "SHARED unqualified via namespace_id",
            "EXECUTE AS USER 'tg_user' (SELECT COUNT(*) FROM colors)",
            Some("iso"),
            shared_refused(),
            "",
        ),
    ];
    for (case, sql, namespace, want, as_user) in extra {
        let answer = sys.send(&server, sql, namespace, None).await;
        tally.record(case, "system", &sys.name, sql, answer, &want, as_user, &[]);
    }

    // Nothing a caller did (allowed or denied) changed any target.
    let finals = ROLES
        .iter()
        .map(|r| (format!("tg_{r}"), target_rows(r)))
        .chain([("TG_USER".to_string(), 1)]);
    for (t, n) in finals {
        let sql =
            format!("EXECUTE AS USER '{t}' (SELECT id, body, owner FROM iso.notes ORDER BY id)");
        let answer = server
            .sql_as("root", crate::common::ROOT_PASSWORD, &sql)
            .await;
        let want = target_notes(&t, n);
        tally.record(
            "targets unchanged at the end",
            "system",
            "root",
            &sql,
            answer,
            &want,
            &t,
            &[],
        );
    }

    // 4 callers × 5 targets × 9 statements, 4 × 4 own-row checks, 4 unknown
    // targets, 13 forms, 5 final target checks.
    tally.finish("execute as matrix", 4 * 5 * 9 + 4 * 4 + 4 + 13 + 5);
}

/// Primary keys are unique per user under concurrency too: when two users
/// each race several INSERTs of the same key, exactly one per user wins and
/// the others get the duplicate error; racing UPDATEs and DELETEs without
/// WHERE of one user neither lose writes nor touch the other user.
#[tokio::test]
async fn same_primary_key_races_within_and_across_users() {
    const KEYS: u64 = 5;
    const TRIES: usize = 3;
    let server = TestServer::start();
    create_schema(&server).await;
    // One name is a prefix of the other: partitions must not overlap.
    let names = ["race", "race_2"];
    let ddl: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                "CREATE USER {n} WITH PASSWORD '{}' ROLE user",
                password_of(n)
            )
        })
        .collect();
    server.sql(&ddl.join(";")).await;
    let mut users = Vec::new();
    for n in names {
        users.push(Session::login(&server, n, &password_of(n)).await);
    }
    let server = &server;
    let mut tally = Tally::default();

    for k in 1..=KEYS {
        let sends = users.iter().flat_map(|s| {
            (0..TRIES).map(move |i| async move {
                let sql = format!(
                    "INSERT INTO iso.notes (id, body) VALUES ({k}, '{} try {i}')",
                    s.name
                );
                (s.name.as_str(), s.send(server, &sql, None, None).await)
            })
        });
        let answers = futures::future::join_all(sends).await;
        for s in &users {
            let mine: Vec<&(u16, Value)> = answers
                .iter()
                .filter(|(n, _)| *n == s.name)
                .map(|(_, a)| a)
                .collect();
            let wins = mine
                .iter()
                .filter(|(_, b)| verify(200, b, &inserted(1), &s.name, &[]).is_ok())
                .count();
            let dup = format!("Duplicate primary key value '{k}' in table 'iso.notes'");
            let dups = mine
                .iter()
                .filter(|(st, b)| {
                    *st == 400 && b["error"]["code"] == EXEC_ERR && b["error"]["message"] == dup
                })
                .count();
            tally.expect(wins == 1 && dups == TRIES - 1, || {
                format!(
                    "[racing INSERTs of pk {k}] role=user user={}: want 1 win and {} \
                     duplicates, got {mine:?}",
                    s.name,
                    TRIES - 1
                )
            });
        }
    }

    // Racing UPDATEs without WHERE: each sees and changes all five own rows
    // (a conflicting one is re-run), so every body gains exactly TRIES marks.
    let sends = users.iter().flat_map(|s| {
        (0..TRIES).map(move |_| async move {
            let sql = "UPDATE iso.notes SET body = body || '+'";
            (s, s.send(server, sql, None, None).await)
        })
    });
    for (s, answer) in futures::future::join_all(sends).await {
        let sql = "UPDATE iso.notes SET body = body || '+' (racing)";
        tally.record(
            "racing UPDATE without WHERE",
            "user",
            &s.name,
            sql,
            answer,
            &updated(KEYS),
            &s.name,
            &[],
        );
    }
    for s in &users {
        let sql = "SELECT COUNT(*) FROM iso.notes \
                   WHERE body LIKE '{me} try _+++' AND owner = '{me}'";
        let vars = [("me", s.name.as_str())];
        let sql = fill(sql, &vars);
        let answer = s.send(server, &sql, None, None).await;
        tally.record(
            "racing UPDATEs all applied, own rows only",
            "user",
            &s.name,
            &sql,
            answer,
            &count(KEYS),
            &s.name,
            &vars,
        );
    }

    // Racing DELETEs without WHERE by one user while the other inserts: the
    // rows are deleted once in total, and the other user keeps everything.
    let (a, b) = (&users[0], &users[1]);
    let (d1, d2, ins) = tokio::join!(
        a.send(server, "DELETE FROM iso.notes", None, None),
        a.send(server, "DELETE FROM iso.notes", None, None),
        b.send(
            server,
            "INSERT INTO iso.notes (id, body) VALUES (6, 'race_2 six')",
            None,
            None
        ),
    );
    let deleted_total: Vec<Option<u64>> = [&d1, &d2]
        .iter()
        .map(|(st, body)| {
            let r = &body["results"][0];
            let n = r["row_count"].as_u64()?;
            (*st == 200 && r["message"] == format!("Deleted {n} row(s)")).then_some(n)
        })
        .collect();
    tally.expect(
        deleted_total.iter().all(Option::is_some)
            && deleted_total.iter().flatten().sum::<u64>() == KEYS,
        || format!("[racing DELETEs] role=user user=race: want {KEYS} in total, got {d1:?} {d2:?}"),
    );
    let sql = "INSERT INTO iso.notes (id, body) VALUES (6, 'race_2 six') (racing)";
    tally.record(
        "INSERT racing the peer's DELETE",
        "user",
        &b.name,
        sql,
        ins,
        &inserted(1),
        &b.name,
        &[],
    );
    for (s, n) in [(a, 0), (b, KEYS + 1)] {
        let sql = "SELECT COUNT(*) FROM iso.notes";
        let answer = s.send(server, sql, None, None).await;
        tally.record(
            "counts after the racing DELETEs",
            "user",
            &s.name,
            sql,
            answer,
            &count(n),
            &s.name,
            &[],
        );
    }

    // 2 users × KEYS insert races, 2 × TRIES updates, 2 update results,
    // 1 delete total, 1 racing insert, 2 final counts.
    let users_n = users.len();
    tally.finish(
        "primary key races",
        users_n * KEYS as usize + users_n * TRIES + users_n + 1 + 1 + 2,
    );
}
