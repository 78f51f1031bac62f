//! ALTER TABLE against a model: a seeded random sequence of INSERT, UPDATE,
//! DELETE, ADD / DROP / RENAME / MODIFY COLUMN, flushes and compactions on
//! one table, and after every step the server's `SELECT *` must equal what
//! a plain in-memory table says. Rows end up written under many schema
//! versions in both tiers, so every way a stored row reads through a newer
//! version is exercised together.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{ROOT_PASSWORD, TestServer};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    Int,
    BigInt,
    Text,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Int => "INT",
            Ty::BigInt => "BIGINT",
            Ty::Text => "TEXT",
        }
    }
}

/// A cell as the model keeps it: an integer, or text.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Int(i64),
    Text(String),
}

impl Cell {
    fn literal(&self) -> String {
        match self {
            Cell::Int(i) => i.to_string(),
            Cell::Text(t) => format!("'{t}'"),
        }
    }

    /// The wire form under a column of type `ty` (BIGINT as a JSON string).
    fn wire(&self, ty: Ty) -> Value {
        match (self, ty) {
            (Cell::Int(i), Ty::Int) => json!(i),
            (Cell::Int(i), Ty::BigInt) => json!(i.to_string()),
            (Cell::Int(i), Ty::Text) => json!(i.to_string()),
            (Cell::Text(t), _) => json!(t),
        }
    }
}

struct Column {
    name: String,
    ty: Ty,
    default: Option<Cell>,
}

#[derive(Default)]
struct Model {
    columns: Vec<Column>,
    /// By (owner, id): in a USER table, `alice` runs the sequence and
    /// `bob`'s row only goes through the ALTERs.
    rows: BTreeMap<(&'static str, i64), BTreeMap<String, Option<Cell>>>,
    next_name: usize,
    /// Who runs the statements: (user, password).
    who: (&'static str, &'static str),
}

impl Model {
    fn fresh_name(&mut self) -> String {
        self.next_name += 1;
        format!("c{}", self.next_name)
    }

    fn value_for(&self, rng: &mut StdRng, ty: Ty) -> Option<Cell> {
        if rng.random_bool(0.2) {
            return None;
        }
        Some(match ty {
            Ty::Int => Cell::Int(rng.random_range(-1000..1000)),
            Ty::BigInt => Cell::Int(rng.random_range(-5_000_000_000i64..5_000_000_000)),
            Ty::Text => Cell::Text(format!("t{}", rng.random_range(0..10_000))),
        })
    }

    /// `SELECT *`'s rows for `owner` as the model has them.
    fn expected(&self, owner: &str) -> Vec<Vec<Value>> {
        self.rows
            .iter()
            .filter(|((o, _), _)| *o == owner)
            .map(|((_, id), row)| {
                let mut out = vec![json!(id.to_string())];
                for c in &self.columns {
                    out.push(match row.get(&c.name).cloned().flatten() {
                        Some(v) => v.wire(c.ty),
                        None => Value::Null,
                    });
                }
                out
            })
            .collect()
    }
}

async fn run_as(server: &TestServer, (user, password): (&str, &str), sql: &str) -> Value {
    let (status, body) = server.sql_as(user, password, sql).await;
    assert_eq!(status, 200, "{sql}: {body}");
    body
}

async fn run(server: &TestServer, sql: &str) {
    run_as(server, ("root", ROOT_PASSWORD), sql).await;
}

/// One step of the sequence, applied to the server and the model.
async fn step(
    server: &TestServer,
    model: &mut Model,
    rng: &mut StdRng,
    next_id: &mut i64,
) -> String {
    let roll = rng.random_range(0..100);
    let me = model.who.0;
    let ids: Vec<i64> = model
        .rows
        .keys()
        .filter(|(o, _)| *o == me)
        .map(|(_, id)| *id)
        .collect();
    if roll < 35 || ids.is_empty() {
        // INSERT naming a random subset of the columns: the rest take
        // their DEFAULT (or NULL).
        let id = *next_id;
        *next_id += 1;
        let mut names = vec!["id".to_string()];
        let mut values = vec![id.to_string()];
        let mut row = BTreeMap::new();
        for c in &model.columns {
            if rng.random_bool(0.7) {
                let v = model.value_for(rng, c.ty);
                names.push(c.name.clone());
                values.push(v.as_ref().map_or("NULL".into(), Cell::literal));
                row.insert(c.name.clone(), v);
            } else {
                row.insert(c.name.clone(), c.default.clone());
            }
        }
        model.rows.insert((me, id), row);
        let sql = format!(
            "INSERT INTO app.t ({}) VALUES ({})",
            names.join(", "),
            values.join(", ")
        );
        run_as(server, model.who, &sql).await;
        return sql;
    }
    let id = ids[rng.random_range(0..ids.len())];
    if roll < 55 && !model.columns.is_empty() {
        let c = &model.columns[rng.random_range(0..model.columns.len())];
        let v = model.value_for(rng, c.ty);
        let sql = format!(
            "UPDATE app.t SET {} = {} WHERE id = {id}",
            c.name,
            v.as_ref().map_or("NULL".into(), Cell::literal)
        );
        let name = c.name.clone();
        model.rows.get_mut(&(me, id)).unwrap().insert(name, v);
        run_as(server, model.who, &sql).await;
        return sql;
    }
    if roll < 62 {
        model.rows.remove(&(me, id));
        let sql = format!("DELETE FROM app.t WHERE id = {id}");
        run_as(server, model.who, &sql).await;
        return sql;
    }
    if roll < 72 || model.columns.len() < 2 {
        let name = model.fresh_name();
        let ty = [Ty::Int, Ty::BigInt, Ty::Text][rng.random_range(0..3)];
        let default = if rng.random_bool(0.5) {
            model.value_for(rng, ty)
        } else {
            None
        };
        let sql = format!(
            "ALTER TABLE app.t ADD COLUMN {name} {}{}",
            ty.sql(),
            default
                .as_ref()
                .map_or(String::new(), |d| format!(" DEFAULT {}", d.literal()))
        );
        for row in model.rows.values_mut() {
            row.insert(name.clone(), default.clone());
        }
        model.columns.push(Column { name, ty, default });
        run_as(server, model.who, &sql).await;
        return sql;
    }
    let at = rng.random_range(0..model.columns.len());
    if roll < 78 {
        let c = model.columns.remove(at);
        for row in model.rows.values_mut() {
            row.remove(&c.name);
        }
        let sql = format!("ALTER TABLE app.t DROP COLUMN {}", c.name);
        run_as(server, model.who, &sql).await;
        return sql;
    }
    if roll < 84 {
        let to = model.fresh_name();
        let from = std::mem::replace(&mut model.columns[at].name, to.clone());
        for row in model.rows.values_mut() {
            if let Some(v) = row.remove(&from) {
                row.insert(to.clone(), v);
            }
        }
        let sql = format!("ALTER TABLE app.t RENAME COLUMN {from} TO {to}");
        run_as(server, model.who, &sql).await;
        return sql;
    }
    if roll < 90 {
        let (name, ty) = (model.columns[at].name.clone(), model.columns[at].ty);
        let to = match ty {
            Ty::Int if rng.random_bool(0.5) => Ty::BigInt,
            Ty::Int | Ty::BigInt => Ty::Text,
            Ty::Text => return "skip".into(),
        };
        let sql = format!("ALTER TABLE app.t MODIFY COLUMN {name} {}", to.sql());
        if to == Ty::Text {
            // Stored integers read as their text from now on, defaults too.
            let as_text = |c: Option<Cell>| match c {
                Some(Cell::Int(i)) => Some(Cell::Text(i.to_string())),
                other => other,
            };
            for row in model.rows.values_mut() {
                let v = row.remove(&name).flatten();
                row.insert(name.clone(), as_text(v));
            }
            let c = &mut model.columns[at];
            c.default = as_text(c.default.take());
        }
        model.columns[at].ty = to;
        run_as(server, model.who, &sql).await;
        return sql;
    }
    if roll < 97 {
        crate::alter::flush_if_any(server, "app.t").await;
        return "flush".into();
    }
    let table = crate::alter::app_table("t");
    server.engine().compact_now(&table).await.unwrap();
    "compact".into()
}

/// Reads `owner`'s rows of app.t with the model's columns, as `who`.
async fn read(server: &TestServer, model: &Model, who: (&str, &str)) -> Vec<Vec<Value>> {
    let names: Vec<String> = std::iter::once("id".to_string())
        .chain(model.columns.iter().map(|c| c.name.clone()))
        .collect();
    let sql = format!("SELECT {} FROM app.t ORDER BY id", names.join(", "));
    let body = run_as(server, who, &sql).await;
    body["results"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect()
}

/// A SHARED table written by root, and a USER table written by alice in
/// which bob's one row goes through every ALTER untouched otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_alters_writes_flushes_and_compactions_match_a_model() {
    const ALICE: (&str, &str) = ("alice", "Alice-pass-123");
    const BOB: (&str, &str) = ("bob", "Bob-pass-12345");
    for (seed, kind) in [(7u64, "SHARED"), (2026, "USER")] {
        let server = TestServer::start();
        run(&server, "CREATE NAMESPACE app").await;
        let mut model = Model {
            who: ("root", ROOT_PASSWORD),
            ..Model::default()
        };
        if kind == "USER" {
            run(
                &server,
                "CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user",
            )
            .await;
            run(
                &server,
                "CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user",
            )
            .await;
            run(&server, "CREATE USER TABLE app.t (id BIGINT PRIMARY KEY)").await;
            run_as(&server, BOB, "INSERT INTO app.t (id) VALUES (1)").await;
            model.rows.insert(("bob", 1), BTreeMap::new());
            model.who = ALICE;
        } else {
            run(
                &server,
                "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC')",
            )
            .await;
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut next_id = 1;
        let mut log = Vec::new();
        for n in 0..150 {
            log.push(step(&server, &mut model, &mut rng, &mut next_id).await);
            let got = read(&server, &model, model.who).await;
            let tail: Vec<&String> = log.iter().rev().take(8).collect();
            assert_eq!(
                got,
                model.expected(model.who.0),
                "{kind} seed {seed}, step {n}; last steps (newest first): {tail:#?}"
            );
        }
        if kind == "USER" {
            assert_eq!(
                read(&server, &model, BOB).await,
                model.expected("bob"),
                "bob's row"
            );
        }
    }
}
