//! Live queries as SDK applications see them (wire-protocol §6, §8): the events and the keyed
//! row set `kalam-client` builds from our `GET /v1/ws`, paging with `next_batch`, `last_rows`
//! and `from`, the client's own reconnect-and-resume after the server drops every socket, and
//! refused subscriptions failing the subscribe call with the server's code.
//!
//! The client materializes events after filtering and buffering them, so some server mistakes
//! (a change sent before the last initial batch, a replayed row) would be hidden by it. Every
//! test therefore also records the raw frames the client received (its `on_receive` hook) and
//! checks the wire where the client would mask the difference; a failing wait prints them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kalam_client::models::BatchStatus;
use kalam_client::{
    ChangeEvent, DisconnectReason, EventHandlers, FieldFlag, KalamDataType, KalamLinkClient,
    KalamLinkError, LiveRowsConfig, LiveRowsEvent, LiveRowsSubscription, RowData, SeqId,
    SubscriptionConfig, SubscriptionManager, SubscriptionOptions,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::builder;
use crate::common::{ROOT_PASSWORD, TestServer};

/// How long a test waits for any one thing the client should receive.
const WAIT: Duration = Duration::from_secs(20);

const ROOM_A: &str = "SELECT * FROM app.items WHERE room = 'a'";
const ALL_ITEMS: &str = "SELECT * FROM app.items";

/// One thing the client's debug hooks saw, in arrival order.
#[derive(Debug, Clone)]
enum Seen {
    /// A server message (JSON text, or gzip'd JSON already inflated by the client).
    Frame(Value),
    /// The socket closed, with the close code when the server sent one.
    Disconnect(Option<u16>, String),
}

/// The wire as the client received it.
#[derive(Clone, Default)]
struct Wire(Arc<Mutex<Vec<Seen>>>);

impl Wire {
    fn push(&self, seen: Seen) {
        self.0.lock().unwrap().push(seen);
    }

    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    /// The server messages about subscription `id`, in arrival order.
    fn frames_for(&self, id: &str) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Frame(v) if v["subscription_id"] == id => Some(v),
                _ => None,
            })
            .collect()
    }

    /// Everything received, one line each, for failure messages.
    fn dump(&self) -> String {
        self.seen()
            .iter()
            .map(|s| match s {
                Seen::Frame(v) => format!("  recv {v}"),
                Seen::Disconnect(code, msg) => format!("  closed code={code:?} {msg}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A client with its wire recorder and a feed of disconnects (to wait for a drop without
/// sleeping).
struct LiveClient {
    client: KalamLinkClient,
    wire: Wire,
    disconnects: mpsc::UnboundedReceiver<DisconnectReason>,
}

/// A client that logs in as `user` by itself (HTTP login, then Bearer on the upgrade).
fn live_client(server: &TestServer, user: &str, password: &str) -> LiveClient {
    let wire = Wire::default();
    let (tx, disconnects) = mpsc::unbounded_channel();
    let on_frame = wire.clone();
    let on_close = wire.clone();
    let handlers = EventHandlers::new()
        .on_receive(move |text| {
            let v = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
            on_frame.push(Seen::Frame(v));
        })
        .on_disconnect(move |reason| {
            on_close.push(Seen::Disconnect(reason.code, reason.message.clone()));
            let _ = tx.send(reason);
        });
    let client = builder(server)
        .auth(kalam_client::AuthProvider::basic_auth(
            user.into(),
            password.into(),
        ))
        .event_handlers(handlers)
        .build()
        .expect("build client");
    LiveClient {
        client,
        wire,
        disconnects,
    }
}

async fn exec(client: &KalamLinkClient, sql: &str) -> kalam_client::QueryResponse {
    let resp = client
        .execute_query(sql, None, None, None)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(resp.success(), "{sql} -> {resp:?}");
    resp
}

async fn setup_items(client: &KalamLinkClient) {
    exec(client, "CREATE NAMESPACE app").await;
    exec(
        client,
        "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, room TEXT, body TEXT) \
         WITH (ACCESS_LEVEL='PUBLIC')",
    )
    .await;
}

async fn insert_item(client: &KalamLinkClient, id: i64, room: &str, body: &str) {
    exec(
        client,
        &format!("INSERT INTO app.items (id, room, body) VALUES ({id}, '{room}', '{body}')"),
    )
    .await;
}

/// A row decoded the way an application would: `id` as BIGINT, the rest as text. BIGINT and
/// `_seq` must travel as strings (§3.5), in HTTP and WebSocket rows alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    id: i64,
    room: String,
    body: String,
}

fn item(row: &RowData) -> Item {
    let text = |name: &str| {
        row.get(name)
            .and_then(|v| v.as_text())
            .unwrap_or_else(|| panic!("{name} is not TEXT in {row:?}"))
            .to_string()
    };
    Item {
        id: big_int(row, "id"),
        room: text("room"),
        body: text("body"),
    }
}

fn big_int(row: &RowData, name: &str) -> i64 {
    let cell = row
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {row:?}"));
    assert!(cell.inner().is_string(), "{name} must be a string: {row:?}");
    cell.as_big_int()
        .unwrap_or_else(|| panic!("{name} is not a BIGINT in {row:?}"))
}

fn seq(row: &RowData) -> i64 {
    big_int(row, "_seq")
}

impl Item {
    fn new(id: i64, room: &str, body: &str) -> Self {
        Self {
            id,
            room: room.into(),
            body: body.into(),
        }
    }
}

/// The table's rows over HTTP with their `_seq`, by id.
async fn stored(client: &KalamLinkClient, filter: &str) -> BTreeMap<i64, (Item, i64)> {
    let resp = exec(
        client,
        &format!("SELECT id, room, body, _seq FROM app.items {filter} ORDER BY id"),
    )
    .await;
    resp.rows_as_maps()
        .iter()
        .map(|r| (big_int(r, "id"), (item(r), seq(r))))
        .collect()
}

async fn subscribe(live: &LiveClient, config: SubscriptionConfig) -> SubscriptionManager {
    let id = config.id.clone();
    match tokio::time::timeout(WAIT, live.client.live_events_with_config(config)).await {
        Err(_) => panic!(
            "subscribe {id}: no ack within {WAIT:?}\n{}",
            live.wire.dump()
        ),
        Ok(Err(e)) => panic!("subscribe {id}: {e}\n{}", live.wire.dump()),
        Ok(Ok(sub)) => sub,
    }
}

async fn next_event(sub: &mut SubscriptionManager, wire: &Wire) -> ChangeEvent {
    let id = sub.subscription_id().to_string();
    match tokio::time::timeout(WAIT, sub.next()).await {
        Err(_) => panic!("{id}: no event within {WAIT:?}; received:\n{}", wire.dump()),
        Ok(None) => panic!("{id}: the event stream ended; received:\n{}", wire.dump()),
        Ok(Some(Err(e))) => panic!("{id}: {e}; received:\n{}", wire.dump()),
        Ok(Some(Ok(ev))) => ev,
    }
}

/// Reads the ack and every initial batch (the client pages by itself); returns the ack's
/// `total_rows` and the initial rows in arrival order.
async fn initial_rows(sub: &mut SubscriptionManager, wire: &Wire) -> (u32, Vec<RowData>) {
    let total = match next_event(sub, wire).await {
        ChangeEvent::Ack { total_rows, .. } => total_rows,
        other => panic!("expected the ack first, got {other:?}\n{}", wire.dump()),
    };
    let mut rows = Vec::new();
    loop {
        match next_event(sub, wire).await {
            ChangeEvent::InitialDataBatch {
                rows: batch,
                batch_control,
                ..
            } => {
                rows.extend(batch);
                if batch_control.status == BatchStatus::Ready {
                    return (total, rows);
                }
            }
            other => panic!("expected an initial batch, got {other:?}\n{}", wire.dump()),
        }
    }
}

/// `subscription_id`s listed by `system.live`, read as root over SQL.
async fn live_ids(root: &KalamLinkClient) -> Vec<String> {
    let resp = exec(
        root,
        "SELECT subscription_id FROM system.live ORDER BY subscription_id",
    )
    .await;
    resp.rows_as_maps()
        .iter()
        .map(|r| r["subscription_id"].as_text().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn events_carry_the_snapshot_then_every_matching_change() {
    let server = TestServer::start();
    let live = live_client(&server, "root", ROOT_PASSWORD);
    let client = &live.client;
    setup_items(client).await;
    exec(
        client,
        "INSERT INTO app.items (id, room, body) VALUES (1, 'a', 'one'), (2, 'b', 'two'), (3, 'a', 'three')",
    )
    .await;
    let before = stored(client, "WHERE room = 'a'").await;
    let snapshot_max = before.values().map(|(_, s)| *s).max().unwrap();

    let mut sub = subscribe(&live, SubscriptionConfig::new("sub-1", ROOM_A)).await;
    assert_eq!(sub.subscription_id(), "sub-1");
    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Ack {
            subscription_id,
            total_rows,
            batch_control,
            schema,
        } => {
            assert_eq!(subscription_id, "sub-1");
            assert_eq!(total_rows, 2);
            assert_eq!(batch_control.batch_num, 0);
            assert!(!batch_control.has_more);
            assert_eq!(batch_control.status, BatchStatus::Ready);
            assert_eq!(
                batch_control.last_seq_id.map(|s| s.as_i64()),
                Some(snapshot_max)
            );
            let columns: Vec<(&str, &KalamDataType)> = schema
                .iter()
                .map(|f| (f.name.as_str(), &f.data_type))
                .collect();
            assert_eq!(
                columns,
                [
                    ("id", &KalamDataType::BigInt),
                    ("room", &KalamDataType::Text),
                    ("body", &KalamDataType::Text),
                    ("_seq", &KalamDataType::BigInt),
                ]
            );
            let id_flags = schema[0].flags.clone().unwrap_or_default();
            assert!(id_flags.contains(&FieldFlag::PrimaryKey), "{schema:?}");
        }
        other => panic!("expected the ack, got {other:?}\n{}", live.wire.dump()),
    }
    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::InitialDataBatch {
            subscription_id,
            rows,
            batch_control,
        } => {
            assert_eq!(subscription_id, "sub-1");
            assert_eq!(batch_control.status, BatchStatus::Ready);
            assert!(!batch_control.has_more);
            let got: Vec<(Item, i64)> = rows.iter().map(|r| (item(r), seq(r))).collect();
            // Ascending `_seq`, the stored versions.
            let want: Vec<(Item, i64)> = before.values().cloned().collect();
            assert_eq!(got, want);
            assert_eq!(got[0].0, Item::new(1, "a", "one"));
            assert_eq!(got[1].0, Item::new(3, "a", "three"));
        }
        other => panic!(
            "expected the initial batch, got {other:?}\n{}",
            live.wire.dump()
        ),
    }

    // While the subscription is open, system.live lists it.
    assert_eq!(live_ids(client).await, ["sub-1"]);

    insert_item(client, 4, "a", "four").await;
    let seq4 = stored(client, "WHERE id = 4").await[&4].1;
    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Insert {
            subscription_id,
            rows,
        } => {
            assert_eq!(subscription_id, "sub-1");
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!(item(&rows[0]), Item::new(4, "a", "four"));
            assert_eq!(seq(&rows[0]), seq4);
            assert!(seq4 > snapshot_max);
        }
        other => panic!("expected an insert, got {other:?}\n{}", live.wire.dump()),
    }

    // A row outside the filter produces nothing: the next event is the update that follows.
    insert_item(client, 5, "b", "five").await;
    exec(client, "UPDATE app.items SET body = 'FOUR' WHERE id = 4").await;
    let seq4_new = stored(client, "WHERE id = 4").await[&4].1;
    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Update {
            subscription_id,
            rows,
            old_rows,
        } => {
            assert_eq!(subscription_id, "sub-1");
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!(item(&rows[0]), Item::new(4, "a", "FOUR"));
            assert_eq!(seq(&rows[0]), seq4_new);
            assert!(seq4_new > seq4);
            // The previous version carries the previous `_seq`, which this subscription has
            // already delivered, so the client's replay filter may drop it (§6.6); whatever
            // survives must be that version.
            for old in &old_rows {
                assert_eq!(big_int(old, "id"), 4);
                assert_eq!(old["body"].as_text(), Some("four"));
            }
        }
        other => panic!("expected an update, got {other:?}\n{}", live.wire.dump()),
    }
    // On the wire, `old_values` holds the key, the previous `_seq` and the changed column.
    let update = live
        .wire
        .frames_for("sub-1")
        .into_iter()
        .find(|f| f["change_type"] == "update")
        .unwrap();
    assert_eq!(
        update["old_values"],
        json!([{"id": "4", "body": "four", "_seq": seq4.to_string()}]),
        "{update}"
    );

    exec(client, "DELETE FROM app.items WHERE id = 3").await;
    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Delete {
            subscription_id,
            old_rows,
        } => {
            assert_eq!(subscription_id, "sub-1");
            assert_eq!(old_rows.len(), 1, "{old_rows:?}");
            assert_eq!(item(&old_rows[0]), Item::new(3, "a", "three"));
            // The delete's own `_seq`, above everything delivered so far.
            assert!(seq(&old_rows[0]) > seq4_new, "{old_rows:?}");
        }
        other => panic!("expected a delete, got {other:?}\n{}", live.wire.dump()),
    }

    // Closing sends `unsubscribe`. A later subscribe on the same socket is acknowledged only
    // after the server has read everything sent before it, so once it is acked the first
    // subscription must be gone from system.live.
    sub.close().await.unwrap();
    let _probe = subscribe(
        &live,
        SubscriptionConfig::without_initial_data("probe", ROOM_A),
    )
    .await;
    assert_eq!(live_ids(client).await, ["probe"]);
    // No change for sub-1 reached the wire after the delete.
    let kinds: Vec<Value> = live
        .wire
        .frames_for("sub-1")
        .iter()
        .map(|f| f["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "subscription_ack",
            "initial_data_batch",
            "change",
            "change",
            "change"
        ],
        "{}",
        live.wire.dump()
    );
}

/// The live rows by id, checking every row carries `_seq`.
fn keyed(rows: &[RowData]) -> BTreeMap<i64, Item> {
    rows.iter()
        .map(|r| {
            seq(r);
            (big_int(r, "id"), item(r))
        })
        .collect()
}

async fn next_rows(live_rows: &mut LiveRowsSubscription, wire: &Wire) -> BTreeMap<i64, Item> {
    match tokio::time::timeout(WAIT, live_rows.next()).await {
        Err(_) => panic!("no live rows within {WAIT:?}; received:\n{}", wire.dump()),
        Ok(None) => panic!("the live rows stream ended; received:\n{}", wire.dump()),
        Ok(Some(Err(e))) => panic!("{e}; received:\n{}", wire.dump()),
        Ok(Some(Ok(LiveRowsEvent::Error { code, message, .. }))) => {
            panic!(
                "live rows error {code}: {message}; received:\n{}",
                wire.dump()
            )
        }
        Ok(Some(Ok(LiveRowsEvent::Rows { rows, .. }))) => keyed(&rows),
    }
}

/// What an HTTP SELECT says the subscription should hold.
async fn expected_room_a(client: &KalamLinkClient) -> BTreeMap<i64, Item> {
    stored(client, "WHERE room = 'a'")
        .await
        .into_iter()
        .map(|(id, (item, _))| (id, item))
        .collect()
}

#[tokio::test]
async fn live_rows_follow_the_table_content() {
    let server = TestServer::start();
    let live = live_client(&server, "root", ROOT_PASSWORD);
    let client = &live.client;
    setup_items(client).await;
    for (id, room, body) in [(1, "a", "one"), (2, "b", "two"), (3, "a", "three")] {
        insert_item(client, id, room, body).await;
    }

    let cfg = SubscriptionConfig::new("rows-1", ROOM_A);
    let mut rows = match tokio::time::timeout(
        WAIT,
        client.live_with_config(cfg, LiveRowsConfig::default()),
    )
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => panic!("live_with_config: {e}\n{}", live.wire.dump()),
        Err(_) => panic!("live_with_config: no ack\n{}", live.wire.dump()),
    };
    assert_eq!(rows.subscription_id(), "rows-1");
    // The ready ack yields the (still empty) set, the initial batch fills it.
    let mut current = next_rows(&mut rows, &live.wire).await;
    if current.is_empty() {
        current = next_rows(&mut rows, &live.wire).await;
    }
    assert_eq!(current, expected_room_a(client).await);
    assert_eq!(current.len(), 2);

    // Every statement below changes room a; after each, the next row set is the table's.
    let steps = [
        "INSERT INTO app.items (id, room, body) VALUES (4, 'a', 'four')",
        "UPDATE app.items SET body = 'ONE' WHERE id = 1",
        "DELETE FROM app.items WHERE id = 3",
        // Leaving the filter is a delete for this subscription, entering it an insert (§6.6).
        "UPDATE app.items SET room = 'b' WHERE id = 4",
        "UPDATE app.items SET room = 'a' WHERE id = 2",
        "INSERT INTO app.items (id, room, body) VALUES (5, 'a', 'five'), (6, 'a', 'six')",
    ];
    for sql in steps {
        exec(client, sql).await;
        let want = expected_room_a(client).await;
        let mut got = next_rows(&mut rows, &live.wire).await;
        // Rows of one statement may come as one message or one per row.
        while got != want && got.len() < want.len() {
            got = next_rows(&mut rows, &live.wire).await;
        }
        assert_eq!(got, want, "after {sql}\n{}", live.wire.dump());
    }
    assert_eq!(
        expected_room_a(client)
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        [1, 2, 5, 6],
        "the steps above leave these rows in room a"
    );
    rows.close().await.unwrap();
}

#[tokio::test]
async fn batch_size_pages_the_snapshot_before_any_change() {
    let server = TestServer::start();
    let live = live_client(&server, "root", ROOT_PASSWORD);
    let client = &live.client;
    setup_items(client).await;
    let values: Vec<String> = (1..=25)
        .map(|i| format!("({i}, 'a', 'item-{i}')"))
        .collect();
    exec(
        client,
        &format!(
            "INSERT INTO app.items (id, room, body) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    let table = stored(client, "").await;

    let mut cfg = SubscriptionConfig::new("page-1", ALL_ITEMS);
    cfg.options = Some(SubscriptionOptions::new().with_batch_size(10));
    let mut sub = subscribe(&live, cfg).await;
    // Committed while the client may still be paging: it must come after all 25 rows.
    insert_item(client, 26, "a", "late").await;

    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Ack {
            total_rows,
            batch_control,
            ..
        } => {
            assert_eq!(total_rows, 25);
            assert_eq!(batch_control.batch_num, 0);
            assert!(batch_control.has_more);
            assert_eq!(batch_control.status, BatchStatus::Loading);
        }
        other => panic!("expected the ack, got {other:?}\n{}", live.wire.dump()),
    }
    let mut initial: Vec<RowData> = Vec::new();
    let expected_batches = [
        (0, 10, true, BatchStatus::Loading),
        (1, 10, true, BatchStatus::LoadingBatch),
        (2, 5, false, BatchStatus::Ready),
    ];
    for (num, len, more, status) in expected_batches {
        match next_event(&mut sub, &live.wire).await {
            ChangeEvent::InitialDataBatch {
                rows,
                batch_control,
                ..
            } => {
                assert_eq!(batch_control.batch_num, num);
                assert_eq!(rows.len(), len, "batch {num}");
                assert_eq!(batch_control.has_more, more);
                assert_eq!(batch_control.status, status);
                initial.extend(rows);
                // `last_seq_id`: the largest `_seq` delivered so far.
                let max = initial.iter().map(seq).max();
                assert_eq!(batch_control.last_seq_id.map(|s| s.as_i64()), max);
            }
            other => panic!("expected batch {num}, got {other:?}\n{}", live.wire.dump()),
        }
    }
    let got: Vec<(i64, (Item, i64))> = initial
        .iter()
        .map(|r| (big_int(r, "id"), (item(r), seq(r))))
        .collect();
    let seqs: Vec<i64> = got.iter().map(|(_, (_, s))| *s).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "ascending _seq: {seqs:?}"
    );
    assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), table);

    match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Insert { rows, .. } => {
            assert_eq!(rows.len(), 1);
            assert_eq!(item(&rows[0]), Item::new(26, "a", "late"));
        }
        other => panic!(
            "expected the late insert, got {other:?}\n{}",
            live.wire.dump()
        ),
    }
    // The client buffers early changes itself; the server must not send any before the last
    // batch either (§6.7).
    let kinds: Vec<String> = live
        .wire
        .frames_for("page-1")
        .iter()
        .map(|f| f["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "subscription_ack",
            "initial_data_batch",
            "initial_data_batch",
            "initial_data_batch",
            "change"
        ],
        "{}",
        live.wire.dump()
    );
}

#[tokio::test]
async fn last_rows_and_from_choose_the_initial_rows() {
    let server = TestServer::start();
    let live = live_client(&server, "root", ROOT_PASSWORD);
    let client = &live.client;
    setup_items(client).await;
    for id in 1..=5 {
        insert_item(client, id, "a", &format!("item-{id}")).await;
    }
    let table = stored(client, "").await;
    let seq3 = table[&3].1;

    let mut cfg = SubscriptionConfig::new("last-2", ALL_ITEMS);
    cfg.options = Some(SubscriptionOptions::new().with_last_rows(2));
    let mut last = subscribe(&live, cfg).await;
    let (_, rows) = initial_rows(&mut last, &live.wire).await;
    let ids: Vec<i64> = rows.iter().map(|r| big_int(r, "id")).collect();
    assert_eq!(ids, [4, 5], "the newest two, ascending");
    assert_eq!(
        rows.iter().map(seq).collect::<Vec<_>>(),
        [table[&4].1, table[&5].1]
    );

    let mut cfg = SubscriptionConfig::new("from-3", ALL_ITEMS);
    cfg.options = Some(SubscriptionOptions::new().with_from(SeqId::from(seq3)));
    let mut from = subscribe(&live, cfg).await;
    let (_, rows) = initial_rows(&mut from, &live.wire).await;
    let ids: Vec<i64> = rows.iter().map(|r| big_int(r, "id")).collect();
    assert_eq!(ids, [4, 5], "only rows with _seq > {seq3}");
    // The server applied `from` itself: no older row reached the wire to be filtered.
    for batch in live
        .wire
        .frames_for("from-3")
        .iter()
        .filter(|f| f["type"] == "initial_data_batch")
    {
        for row in batch["rows"].as_array().unwrap() {
            let s: i64 = row["_seq"].as_str().unwrap().parse().unwrap();
            assert!(s > seq3, "{batch}");
        }
    }

    // Both go live afterwards.
    insert_item(client, 6, "a", "item-6").await;
    for sub in [&mut last, &mut from] {
        match next_event(sub, &live.wire).await {
            ChangeEvent::Insert { rows, .. } => {
                assert_eq!(
                    rows.iter().map(item).collect::<Vec<_>>(),
                    [Item::new(6, "a", "item-6")]
                );
            }
            other => panic!("expected the insert, got {other:?}\n{}", live.wire.dump()),
        }
    }
}

/// After `drop_connections`, reads until every id of `want` arrived (initial rows of the resumed
/// subscription or changes); returns the rows in arrival order. Acks are skipped, anything else
/// fails.
async fn collect_until(
    sub: &mut SubscriptionManager,
    wire: &Wire,
    want: &[i64],
    got: &mut Vec<(i64, i64, String)>,
) {
    while !want.iter().all(|id| got.iter().any(|(g, _, _)| g == id)) {
        let rows = match next_event(sub, wire).await {
            ChangeEvent::Ack { .. } => continue,
            ChangeEvent::InitialDataBatch { rows, .. } | ChangeEvent::Insert { rows, .. } => rows,
            other => panic!("unexpected {other:?}\n{}", wire.dump()),
        };
        for r in &rows {
            let body = r["body"].as_text().unwrap().to_string();
            got.push((big_int(r, "id"), seq(r), body));
        }
    }
}

/// Waits until the server has closed the client's socket (the client's `on_disconnect`).
async fn await_drop(live: &mut LiveClient) -> DisconnectReason {
    match tokio::time::timeout(WAIT, live.disconnects.recv()).await {
        Ok(Some(reason)) => reason,
        _ => panic!("the client saw no disconnect\n{}", live.wire.dump()),
    }
}

/// Checks what the resumed subscription got on the wire: a second ack, and initial rows only
/// above what the client had consumed (the `from` it re-subscribed with).
fn check_resume_wire(wire: &Wire, id: &str, consumed: i64) {
    let seen = wire.seen();
    let cut = seen
        .iter()
        .position(|s| matches!(s, Seen::Disconnect(..)))
        .unwrap();
    let after: Vec<&Value> = seen
        .get(cut..)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| match s {
            Seen::Frame(v) if v["subscription_id"] == id => Some(v),
            _ => None,
        })
        .collect();
    assert!(
        after.iter().any(|f| f["type"] == "subscription_ack"),
        "no re-subscribe ack after the drop\n{}",
        wire.dump()
    );
    for f in after.iter().filter(|f| f["type"] == "initial_data_batch") {
        for row in f["rows"].as_array().unwrap() {
            let s: i64 = row["_seq"].as_str().unwrap().parse().unwrap();
            assert!(
                s > consumed,
                "resumed batch replays _seq {s} <= {consumed}: {f}"
            );
        }
    }
}

fn assert_exactly_once_in_order(got: &[(i64, i64, String)], ids: &[i64], wire: &Wire) {
    let got_ids: Vec<i64> = got.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(got_ids, ids, "each row once, in order\n{}", wire.dump());
    assert!(
        got.windows(2).all(|w| w[0].1 < w[1].1),
        "ascending _seq: {got:?}"
    );
}

#[tokio::test]
async fn the_client_resumes_after_the_server_drops_its_socket() {
    let server = TestServer::start();
    let mut live = live_client(&server, "root", ROOT_PASSWORD);
    setup_items(&live.client).await;
    for id in 1..=3 {
        insert_item(&live.client, id, "a", &format!("before-{id}")).await;
    }
    let mut sub = subscribe(&live, SubscriptionConfig::new("resume-1", ALL_ITEMS)).await;
    let (_, rows) = initial_rows(&mut sub, &live.wire).await;
    assert_eq!(
        rows.iter().map(|r| big_int(r, "id")).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    insert_item(&live.client, 4, "a", "live-4").await;
    let consumed = match next_event(&mut sub, &live.wire).await {
        ChangeEvent::Insert { rows, .. } => {
            assert_eq!(item(&rows[0]), Item::new(4, "a", "live-4"));
            seq(&rows[0])
        }
        other => panic!("expected the insert, got {other:?}\n{}", live.wire.dump()),
    };

    server.engine().live().drop_connections();
    let reason = await_drop(&mut live).await;
    assert_eq!(reason.code, Some(1001), "{reason}");
    // Written while the client is away (it waits 1 s before reconnecting).
    for id in 5..=7 {
        insert_item(&live.client, id, "a", &format!("away-{id}")).await;
    }
    let mut got = Vec::new();
    collect_until(&mut sub, &live.wire, &[5, 6, 7], &mut got).await;
    // Live again: a later insert arrives as a change.
    insert_item(&live.client, 8, "a", "after-8").await;
    collect_until(&mut sub, &live.wire, &[8], &mut got).await;
    assert_exactly_once_in_order(&got, &[5, 6, 7, 8], &live.wire);
    check_resume_wire(&live.wire, "resume-1", consumed);
    assert_eq!(live_ids(&live.client).await, ["resume-1"]);
}

#[tokio::test]
async fn a_user_resumes_a_user_table_subscription_with_only_own_rows() {
    const ALICE_PW: &str = "alice-Secret-42";
    let server = TestServer::start();
    let root = live_client(&server, "root", ROOT_PASSWORD);
    for sql in [
        format!("CREATE USER alice WITH PASSWORD '{ALICE_PW}' ROLE user"),
        "CREATE NAMESPACE app".into(),
        "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)".into(),
        // Root's own partition: never visible to alice.
        "INSERT INTO app.notes (id, body) VALUES (1, 'root-1'), (9, 'root-9')".into(),
    ] {
        exec(&root.client, &sql).await;
    }
    let mut alice = live_client(&server, "alice", ALICE_PW);
    let note =
        |id: i64, body: &str| format!("INSERT INTO app.notes (id, body) VALUES ({id}, '{body}')");
    exec(&alice.client, &note(1, "alice-1")).await;
    exec(&alice.client, &note(2, "alice-2")).await;

    let mut sub = subscribe(
        &alice,
        SubscriptionConfig::new("notes", "SELECT * FROM app.notes"),
    )
    .await;
    let (total, rows) = initial_rows(&mut sub, &alice.wire).await;
    assert_eq!(total, 2);
    let initial: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (big_int(r, "id"), r["body"].as_text().unwrap().to_string()))
        .collect();
    assert_eq!(initial, [(1, "alice-1".into()), (2, "alice-2".into())]);
    let consumed = rows.iter().map(seq).max().unwrap();

    server.engine().live().drop_connections();
    let reason = await_drop(&mut alice).await;
    assert_eq!(reason.code, Some(1001), "{reason}");
    exec(&alice.client, &note(3, "alice-3")).await;
    exec(&root.client, &note(3, "root-3")).await;
    exec(&alice.client, &note(4, "alice-4")).await;
    let mut got = Vec::new();
    collect_until(&mut sub, &alice.wire, &[3, 4], &mut got).await;
    exec(&root.client, &note(5, "root-5")).await;
    exec(&alice.client, &note(5, "alice-5")).await;
    collect_until(&mut sub, &alice.wire, &[5], &mut got).await;
    assert_exactly_once_in_order(&got, &[3, 4, 5], &alice.wire);
    assert!(
        got.iter().all(|(_, _, body)| body.starts_with("alice-")),
        "only alice's rows: {got:?}"
    );
    check_resume_wire(&alice.wire, "notes", consumed);
    // Root's rows never reached alice's socket.
    let leaked: Vec<Value> = alice
        .wire
        .frames_for("notes")
        .into_iter()
        .filter(|f| f.to_string().contains("root-"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

/// The error a refused subscribe fails with; the message carries the server's code.
async fn refused(live: &LiveClient, id: &str, sql: &str) -> String {
    let result = tokio::time::timeout(
        WAIT,
        live.client
            .live_events_with_config(SubscriptionConfig::new(id, sql)),
    )
    .await
    .unwrap_or_else(|_| panic!("{sql}: no answer within {WAIT:?}\n{}", live.wire.dump()));
    match result {
        Ok(_) => panic!(
            "{sql}: subscribed, expected a refusal\n{}",
            live.wire.dump()
        ),
        Err(KalamLinkError::WebSocketError(message)) => message,
        Err(other) => panic!("{sql}: unexpected error kind {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_subscribe_fails_the_call_with_the_code() {
    let server = TestServer::start();
    let live = live_client(&server, "root", ROOT_PASSWORD);
    setup_items(&live.client).await;

    let message = refused(&live, "bad-1", "SELECT * FROM items").await;
    assert!(message.contains("INVALID_SQL"), "{message}");
    assert!(
        message.contains("Query must use namespace.table format"),
        "{message}"
    );
    let message = refused(&live, "bad-2", "SELECT * FROM app.nope").await;
    assert!(message.contains("NOT_FOUND"), "{message}");
    let message = refused(&live, "bad-3", "SELECT * FROM nowhere.items").await;
    assert!(message.contains("NOT_FOUND"), "{message}");
    // The wire carried the §6.4 error shape with the ids echoed.
    let errors: Vec<Value> = live
        .wire
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Frame(v) if v["type"] == "error" => Some(v),
            _ => None,
        })
        .collect();
    let codes: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["subscription_id"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("bad-1", "INVALID_SQL"),
            ("bad-2", "NOT_FOUND"),
            ("bad-3", "NOT_FOUND")
        ]
    );

    // The connection stays usable and nothing of the refusals is left in system.live.
    let mut sub = subscribe(&live, SubscriptionConfig::new("good", ALL_ITEMS)).await;
    let (total, rows) = initial_rows(&mut sub, &live.wire).await;
    assert_eq!((total, rows.len()), (0, 0));
    assert_eq!(live_ids(&live.client).await, ["good"]);
}
