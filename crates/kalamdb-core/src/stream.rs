//! STREAM tables' time to live (`sql.md` §2.5): a row disappears
//! `TTL_SECONDS` after its `_seq` time.
//!
//! Two halves keep that promise. Reads hide expired rows at once
//! (`provider.rs` asks [`table_cutoff`] once per scan), so a row's lifetime
//! does not depend on when the background job runs. Eviction
//! ([`evict_expired`], run every `EngineConfig::stream_eviction_interval`)
//! then reclaims the space: STREAM rows live in the hot tier only, so without
//! it a chat's typing indicators would grow RocksDB forever. Eviction is a
//! plain hot-store delete (there is no cold version to hide) and, unlike a
//! DELETE, sends no change notification; tests observe it through
//! [`StreamEviction`] events instead of sleeping.
//!
//! A row's commit time is encoded in its `_seq` (`wire-protocol.md` §7), so
//! "expired" is one integer comparison against a cutoff `_seq` computed once
//! per scan or pass, never a clock read per row.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kalamdb_store::{Direction, KeyRange, Partition, PkValue, RowKey, RowPrefix, Space};
use kalamdb_types::{SNOWFLAKE_EPOCH_MS, TableId, TableType};

use crate::catalog::TableEntry;
use crate::commit::CommitReceipt;
use crate::engine::Shared;
use crate::error::{KalamError, Result};
use crate::row::StoredRow;

/// Row keys read per blocking scan, and the most keys deleted per commit: a
/// pass over a large backlog is many short commits, so it never holds up
/// the committer (and every writer behind it) for long.
const EVICT_CHUNK: usize = 1000;

/// Bits of a `_seq` below its millisecond timestamp (worker id and sequence).
const SEQ_TIME_SHIFT: u32 = 22;

/// Capacity of the eviction event channel; a receiver that falls further
/// behind sees `Lagged` and loses events, never the server's memory.
pub(crate) const EVENT_CAPACITY: usize = 1024;

/// One eviction commit that removed rows of a STREAM table (see
/// [`crate::Engine::stream_evictions`]).
#[derive(Debug, Clone)]
pub struct StreamEviction {
    pub table: TableId,
    /// Rows removed by this commit (a pass over a large table sends several).
    pub rows: u64,
}

/// The smallest `_seq` still alive at `now_ms` under a TTL of `ttl_seconds`:
/// rows with a smaller `_seq` are expired. A row committed at `t` ms expires
/// when `t + ttl <= now`, i.e. `t <= now - ttl`, so the first live `_seq` is
/// the first one of millisecond `now - ttl + 1`.
pub(crate) fn expiry_cutoff(ttl_seconds: u64, now_ms: i64) -> i64 {
    let ttl_ms = i64::try_from(ttl_seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    let first_live_ms = now_ms
        .saturating_sub(ttl_ms)
        .saturating_sub(SNOWFLAKE_EPOCH_MS)
        .saturating_add(1);
    if first_live_ms <= 0 {
        // Nothing can be older than the epoch.
        return 0;
    }
    first_live_ms.saturating_mul(1 << SEQ_TIME_SHIFT)
}

/// The TTL of a STREAM table (the stored option, else the engine default).
fn ttl_seconds(shared: &Shared, entry: &TableEntry) -> u64 {
    entry
        .def
        .options
        .ttl_seconds
        .unwrap_or(shared.config.default_stream_ttl_seconds)
}

/// The expiry cutoff of `entry` at `now_ms`, or `None` if its rows never
/// expire (not a STREAM table).
pub(crate) fn table_cutoff(shared: &Shared, entry: &TableEntry, now_ms: i64) -> Option<i64> {
    (entry.def.table_type == TableType::Stream)
        .then(|| expiry_cutoff(ttl_seconds(shared, entry), now_ms))
}

/// Wall-clock time in Unix milliseconds.
pub(crate) fn now_millis() -> i64 {
    kalamdb_types::now_micros() / 1000
}

/// Deletes the expired rows of every STREAM table; returns how many.
pub(crate) async fn evict_expired(shared: &Arc<Shared>) -> Result<u64> {
    evict_expired_at(shared, now_millis()).await
}

/// [`evict_expired`] as if the time were `now_ms` (tests move time forward
/// this way instead of sleeping).
pub(crate) async fn evict_expired_at(shared: &Arc<Shared>, now_ms: i64) -> Result<u64> {
    let mut total = 0;
    for entry in shared.catalog.tables(None) {
        if entry.def.table_type == TableType::Stream {
            total += evict_table(shared, &entry, now_ms).await?;
        }
    }
    Ok(total)
}

/// One table's pass: scans its rows across all partitions in chunks and
/// deletes the expired ones, one commit per chunk. A table dropped (or
/// replaced) meanwhile is skipped without error.
async fn evict_table(shared: &Arc<Shared>, entry: &Arc<TableEntry>, now_ms: i64) -> Result<u64> {
    let Some(cutoff) = table_cutoff(shared, entry, now_ms) else {
        return Ok(0);
    };
    let table = entry.id();
    let mut cursor = Some(RowPrefix::Table(table.clone()).range());
    let mut evicted = 0;
    while let Some(range) = cursor.take() {
        let s = shared.clone();
        let (expired, next) = tokio::task::spawn_blocking(move || scan_expired(&s, range, cutoff))
            .await
            .map_err(KalamError::internal)??;
        cursor = next;
        if expired.is_empty() {
            continue;
        }
        let Some(rows) = delete_expired(shared, entry, expired).await? else {
            return Ok(evicted);
        };
        evicted += rows;
        if rows > 0 {
            shared
                .stream_rows_evicted
                .fetch_add(rows, Ordering::Relaxed);
            // Nobody listening is the normal case outside tests.
            let _ = shared.stream_evictions.send(StreamEviction {
                table: table.clone(),
                rows,
            });
        }
    }
    Ok(evicted)
}

/// Expired row keys with the `_seq` they were seen with.
type Expired = Vec<(Vec<u8>, i64)>;

/// Reads up to [`EVICT_CHUNK`] rows from `range` and picks the expired ones;
/// also returns where the next chunk starts (`None`: the table is done).
///
/// Tables without a declared key are keyed by their row id, which is the
/// row's `_seq` (STREAM rows are never updated): a partition is in `_seq`
/// order there, so its first live row ends its expired prefix and the scan
/// jumps to the next partition. A pass then costs the expired rows plus one
/// row per partition rather than the whole table.
fn scan_expired(
    shared: &Shared,
    range: KeyRange,
    cutoff: i64,
) -> Result<(Expired, Option<KeyRange>)> {
    let entries = shared
        .store
        .scan(Space::Rows, &range, Direction::Forward, EVICT_CHUNK)?;
    let full = entries.len() == EVICT_CHUNK;
    let mut expired = Vec::new();
    // A partition whose remaining rows are known to be live.
    let mut live_partition: Option<Partition> = None;
    let mut last: Option<(Vec<u8>, Partition)> = None;
    for (key, value) in entries {
        let decoded = RowKey::decode(&key)?;
        if live_partition.as_ref() == Some(&decoded.partition) {
            last = Some((key, decoded.partition));
            continue;
        }
        let seq = StoredRow::decode(&value)?.seq;
        if seq < cutoff {
            expired.push((key.clone(), seq));
        } else if matches!(decoded.pk, PkValue::RowId(_)) {
            live_partition = Some(decoded.partition.clone());
        }
        last = Some((key, decoded.partition));
    }
    let Some((last_key, last_partition)) = last else {
        return Ok((expired, None));
    };
    let start = if live_partition.as_ref() == Some(&last_partition) {
        // Skip the rest of this partition: it is all newer.
        let table = RowKey::decode(&last_key)?.table;
        match RowPrefix::Partition(table, last_partition).range().end {
            Bound::Excluded(end) => Bound::Included(end),
            Bound::Included(end) => Bound::Excluded(end),
            Bound::Unbounded => return Ok((expired, None)),
        }
    } else if full {
        Bound::Excluded(last_key)
    } else {
        return Ok((expired, None));
    };
    let next = KeyRange::new(start, range.end);
    Ok((expired, (!next.is_empty()).then_some(next)))
}

/// Deletes `expired` rows in one commit, each only if it still holds the
/// version the scan saw. `None` if the table was dropped or replaced.
async fn delete_expired(
    shared: &Arc<Shared>,
    entry: &Arc<TableEntry>,
    expired: Expired,
) -> Result<Option<u64>> {
    let s = shared.clone();
    let planned = entry.clone();
    let result = shared
        .committer
        .commit(
            false,
            kalamdb_types::now_micros(),
            Box::new(move |ctx| {
                s.catalog.ensure_current(&planned)?;
                let mut deleted = 0;
                for (key, seq) in expired {
                    let Some(bytes) = ctx.get(Space::Rows, &key)? else {
                        continue;
                    };
                    if StoredRow::decode(&bytes)?.seq != seq {
                        continue;
                    }
                    ctx.delete(Space::Rows, key);
                    deleted += 1;
                }
                Ok(CommitReceipt {
                    affected: deleted,
                    post_commit: None,
                })
            }),
        )
        .await;
    match result {
        Ok(n) => Ok(Some(n)),
        Err(_) if shared.catalog.ensure_current(entry).is_err() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    use kalamdb_store::{MemoryStore, WriteBatch};
    use kalamdb_types::{NamespaceId, Role, SeqId, TableName, UserId};

    use super::*;
    use crate::engine::{
        Caller, Engine, EngineConfig, ExecuteRequest, StatementOutput, StatementResult,
    };

    #[test]
    fn the_cutoff_is_the_first_seq_of_the_first_live_millisecond() {
        let now = SNOWFLAKE_EPOCH_MS + 100_000;
        let cutoff = expiry_cutoff(10, now);
        assert_eq!(cutoff, 90_001 << 22);
        // Committed exactly TTL ago: expired (it "disappears TTL after").
        let at_ttl = SeqId((90_000 << 22) | 0x3F_FFFF);
        assert_eq!(at_ttl.unix_millis() + 10_000, now);
        assert!(at_ttl.as_i64() < cutoff);
        // One millisecond later: still alive, whatever its worker/sequence bits.
        let younger = SeqId(90_001 << 22);
        assert_eq!(younger.unix_millis() + 10_000, now + 1);
        assert!(younger.as_i64() >= cutoff);
        assert_eq!(SeqId(cutoff).unix_millis(), now - 10_000 + 1);
    }

    #[test]
    fn the_cutoff_never_goes_below_zero_nor_overflows() {
        assert_eq!(expiry_cutoff(10, SNOWFLAKE_EPOCH_MS), 0);
        assert_eq!(expiry_cutoff(u64::MAX, SNOWFLAKE_EPOCH_MS + 5_000), 0);
        assert_eq!(expiry_cutoff(1, 0), 0);
        assert_eq!(expiry_cutoff(0, i64::MAX), i64::MAX);
        // A real clock: rows committed now are alive under a 1 s TTL.
        let now = now_millis();
        let seq = kalamdb_types::SnowflakeGenerator::new(0).next_id();
        assert!(seq.as_i64() >= expiry_cutoff(1, now));
        assert!(seq.as_i64() < expiry_cutoff(1, now + 1_000));
    }

    fn caller(user: &str) -> Caller {
        match user {
            "root" => Caller::new(UserId::root(), Role::System),
            name => Caller::new(UserId::parse(name).unwrap(), Role::User),
        }
    }

    async fn exec(engine: &Engine, user: &str, sql: &str) -> Vec<StatementResult> {
        engine
            .execute(ExecuteRequest {
                sql: sql.into(),
                params: vec![],
                namespace: None,
                caller: caller(user),
            })
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", e.error))
    }

    async fn count(engine: &Engine, user: &str, table: &str) -> i64 {
        let results = exec(engine, user, &format!("SELECT count(*) FROM {table}")).await;
        match &results[0].output {
            StatementOutput::Rows { batches, .. } => {
                batches[0].column(0).as_primitive::<Int64Type>().value(0)
            }
            other => panic!("not rows: {other:?}"),
        }
    }

    fn app_table(name: &str) -> TableId {
        TableId::new(
            NamespaceId::parse("app").unwrap(),
            TableName::parse(name).unwrap(),
        )
    }

    fn user(name: &str) -> Partition {
        Partition::User(UserId::parse(name).unwrap())
    }

    /// Writes a row committed `age_ms` ago behind the engine's back (the
    /// commit pipeline only issues current `_seq` values).
    fn put_old_row(
        shared: &Shared,
        table: &TableId,
        partition: Partition,
        pk: Option<PkValue>,
        age_ms: i64,
        values: Vec<(u32, crate::row::Value)>,
    ) -> Vec<u8> {
        let seq = (now_millis() - age_ms - SNOWFLAKE_EPOCH_MS) << 22;
        let pk = pk.unwrap_or(PkValue::RowId(seq));
        let key = RowKey::new(table.clone(), partition, pk).encode();
        let row = StoredRow {
            seq,
            deleted: false,
            values,
        };
        let mut batch = WriteBatch::new();
        batch.put(Space::Rows, key.clone(), row.encode().unwrap());
        shared.store.write(batch).unwrap();
        key
    }

    async fn engine() -> Engine {
        let engine = Engine::open(
            Arc::new(MemoryStore::new()),
            EngineConfig {
                // Passes run only when a test calls them.
                stream_eviction_interval: None,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        exec(&engine, "root", "CREATE NAMESPACE app").await;
        engine
    }

    #[tokio::test]
    async fn a_pass_evicts_expired_rows_of_every_partition_and_only_those() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(
            &engine,
            "root",
            "CREATE STREAM TABLE app.typing (room TEXT) TTL 10s; \
             CREATE TABLE app.presence (id BIGINT PRIMARY KEY, s TEXT) \
             WITH (TYPE = 'STREAM', TTL_SECONDS = 10); \
             CREATE STREAM TABLE app.audit (what TEXT) TTL 1h; \
             CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY)",
        )
        .await;
        let mut events = engine.stream_evictions();
        for user in ["alice", "bob"] {
            exec(
                &engine,
                user,
                "INSERT INTO app.typing VALUES ('a'), ('b'), ('c'); \
                 INSERT INTO app.presence VALUES (1, 'x'), (2, 'y'); \
                 INSERT INTO app.audit VALUES ('kept'); \
                 INSERT INTO app.notes VALUES (1)",
            )
            .await;
        }
        // Nothing is old enough yet.
        assert_eq!(evict_expired(&shared).await.unwrap(), 0);
        assert!(events.try_recv().is_err());
        assert_eq!(count(&engine, "alice", "app.typing").await, 3);

        // Eleven seconds later: the 10 s tables empty out, the others stay.
        let later = now_millis() + 11_000;
        assert_eq!(evict_expired_at(&shared, later).await.unwrap(), 10);
        let mut by_table = std::collections::BTreeMap::new();
        while let Ok(e) = events.try_recv() {
            *by_table.entry(e.table.to_string()).or_insert(0) += e.rows;
        }
        assert_eq!(
            by_table.into_iter().collect::<Vec<_>>(),
            vec![
                ("app.presence".to_string(), 4),
                ("app.typing".to_string(), 6)
            ]
        );
        assert_eq!(shared.stream_rows_evicted.load(Ordering::Relaxed), 10);
        for user in ["alice", "bob"] {
            assert_eq!(count(&engine, user, "app.typing").await, 0);
            assert_eq!(count(&engine, user, "app.presence").await, 0);
            assert_eq!(count(&engine, user, "app.audit").await, 1);
            assert_eq!(count(&engine, user, "app.notes").await, 1);
        }
        // The keys are gone from the store, not just hidden.
        let left = shared
            .store
            .scan(
                Space::Rows,
                &RowPrefix::Table(app_table("typing")).range(),
                Direction::Forward,
                usize::MAX,
            )
            .unwrap();
        assert!(left.is_empty());
        // A second pass has nothing to do and says nothing.
        assert_eq!(evict_expired_at(&shared, later).await.unwrap(), 0);
        assert!(events.try_recv().is_err());
        // A key freed by eviction can be inserted again.
        exec(
            &engine,
            "alice",
            "INSERT INTO app.presence VALUES (1, 'back')",
        )
        .await;
        assert_eq!(count(&engine, "alice", "app.presence").await, 1);
    }

    #[tokio::test]
    async fn a_pass_over_many_chunks_and_partitions_evicts_everything() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 5s").await;
        let values = (0..1500)
            .map(|i| format!("({i})"))
            .collect::<Vec<_>>()
            .join(", ");
        for user in ["u1", "u2", "u3"] {
            exec(&engine, user, &format!("INSERT INTO app.t VALUES {values}")).await;
        }
        let mut events = engine.stream_evictions();
        let later = now_millis() + 6_000;
        assert_eq!(evict_expired_at(&shared, later).await.unwrap(), 4500);
        let mut commits = 0;
        while let Ok(e) = events.try_recv() {
            assert!(e.rows <= EVICT_CHUNK as u64, "{e:?}");
            commits += 1;
        }
        assert!(commits >= 5, "{commits} commits for 4500 rows");
        assert_eq!(count(&engine, "u2", "app.t").await, 0);
    }

    #[tokio::test]
    async fn reads_hide_expired_rows_before_any_eviction() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(
            &engine,
            "root",
            "CREATE STREAM TABLE app.t (id INT PRIMARY KEY, v TEXT) TTL 60s",
        )
        .await;
        exec(&engine, "alice", "INSERT INTO app.t VALUES (1, 'fresh')").await;
        let stale = put_old_row(
            &shared,
            &app_table("t"),
            user("alice"),
            Some(PkValue::Int(2)),
            120_000,
            vec![
                (1, crate::row::Value::I32(2)),
                (2, crate::row::Value::Text("stale".into())),
            ],
        );

        assert_eq!(count(&engine, "alice", "app.t").await, 1);
        // Point reads are filtered too.
        let results = exec(&engine, "alice", "SELECT v FROM app.t WHERE id IN (1, 2)").await;
        let StatementOutput::Rows { batches, .. } = &results[0].output else {
            panic!("not rows");
        };
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 1);
        assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "fresh");
        // Then a real pass removes it, and only it.
        assert_eq!(evict_expired(&shared).await.unwrap(), 1);
        assert!(shared.store.get(Space::Rows, &stale).unwrap().is_none());
        assert_eq!(count(&engine, "alice", "app.t").await, 1);
    }

    #[tokio::test]
    async fn an_expired_key_can_be_inserted_again_before_eviction() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(
            &engine,
            "root",
            "CREATE STREAM TABLE app.p (id INT PRIMARY KEY, v TEXT) TTL 60s",
        )
        .await;
        put_old_row(
            &shared,
            &app_table("p"),
            user("alice"),
            Some(PkValue::Int(7)),
            120_000,
            vec![(1, crate::row::Value::I32(7))],
        );
        // The expired row does not hold its key; a live one does.
        exec(&engine, "alice", "INSERT INTO app.p VALUES (7, 'again')").await;
        assert_eq!(count(&engine, "alice", "app.p").await, 1);
        let dup = engine
            .execute(ExecuteRequest {
                sql: "INSERT INTO app.p VALUES (7, 'twice')".into(),
                params: vec![],
                namespace: None,
                caller: caller("alice"),
            })
            .await;
        assert!(dup.is_err_and(|e| e.error.to_string().contains("Duplicate primary key")));
    }

    #[tokio::test]
    async fn a_live_row_ends_only_its_own_partition_of_a_keyless_table() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(
            &engine,
            "root",
            "CREATE STREAM TABLE app.t (v TEXT) TTL 60s",
        )
        .await;
        let table = app_table("t");
        let text = |s: &str| vec![(1, crate::row::Value::Text(s.into()))];
        // alice: two expired rows, then live ones; bob (a later partition):
        // expired rows only, which the skip over alice's live rows must not
        // jump past.
        let mut old = Vec::new();
        for age in [300_000, 200_000] {
            old.push(put_old_row(
                &shared,
                &table,
                user("alice"),
                None,
                age,
                text("old"),
            ));
            old.push(put_old_row(
                &shared,
                &table,
                user("bob"),
                None,
                age,
                text("old"),
            ));
        }
        // More live rows than one scan chunk, so a chunk ends inside alice's
        // live rows and the scan seeks past them to bob.
        let values = (0..1500)
            .map(|i| format!("('new{i}')"))
            .collect::<Vec<_>>()
            .join(", ");
        exec(
            &engine,
            "alice",
            &format!("INSERT INTO app.t VALUES {values}"),
        )
        .await;
        assert_eq!(count(&engine, "alice", "app.t").await, 1500);
        assert_eq!(count(&engine, "bob", "app.t").await, 0);

        assert_eq!(evict_expired(&shared).await.unwrap(), 4);
        for key in &old {
            assert!(shared.store.get(Space::Rows, key).unwrap().is_none());
        }
        assert_eq!(count(&engine, "alice", "app.t").await, 1500);
    }

    #[tokio::test]
    async fn a_replaced_table_is_skipped_and_a_rewritten_row_is_kept() {
        let engine = engine().await;
        let shared = engine.shared().clone();
        exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 1s").await;
        exec(&engine, "alice", "INSERT INTO app.t VALUES (1), (2)").await;
        let id = app_table("t");
        let dropped = shared.catalog.table(&id).unwrap();
        let later = now_millis() + 2_000;
        exec(&engine, "root", "DROP TABLE app.t").await;
        assert_eq!(evict_table(&shared, &dropped, later).await.unwrap(), 0);

        // A pass planned against the dropped table finds the rows of a new
        // one of the same name: its commit refuses, and the pass skips it.
        exec(&engine, "root", "CREATE STREAM TABLE app.t (n INT) TTL 1s").await;
        exec(&engine, "alice", "INSERT INTO app.t VALUES (1)").await;
        let mut events = engine.stream_evictions();
        assert_eq!(evict_table(&shared, &dropped, later).await.unwrap(), 0);
        assert_eq!(count(&engine, "alice", "app.t").await, 1);
        assert_eq!(shared.stream_rows_evicted.load(Ordering::Relaxed), 0);
        assert!(events.try_recv().is_err());

        // A key whose version changed after the scan is not deleted.
        let entry = shared.catalog.table(&id).unwrap();
        let range = RowPrefix::Table(id.clone()).range();
        let (mut expired, next) = scan_expired(&shared, range, expiry_cutoff(1, later)).unwrap();
        assert!(next.is_none());
        assert_eq!(expired.len(), 1);
        expired[0].1 -= 1;
        assert_eq!(
            delete_expired(&shared, &entry, expired).await.unwrap(),
            Some(0)
        );
        assert_eq!(count(&engine, "alice", "app.t").await, 1);
    }
}
