//! The list of workloads (issue 7) and what they share: the admin session,
//! the bench users, the plan. Every workload of the spec has a row here
//! from the start; one without an implementation reports "n/a" so a table
//! never looks more complete than the tool is.

pub mod ddl;
pub mod keyed;
pub mod live;
pub mod memory;
pub mod sql;

use crate::ctx::Ctx;
use crate::report::{Outcome, Row};

/// How a workload runs; `None` in [`Spec::kind`] means not implemented yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Single-row INSERTs from this many concurrent clients.
    InsertSingle(usize),
    /// Multi-row INSERTs of this many rows.
    InsertBatch(usize),
    /// `GET /health` round trips: the HTTP floor under every statement.
    HttpFloor,
    SelectPkShared,
    SelectPkUser,
    UpdatePk,
    DeletePk,
    Small(keyed::SmallQuery),
    ScanHot,
    ScanCold,
    ColdQuery,
    Flush,
    Alter,
    LiveIdleMemory,
    /// Insert→notification latency with this many subscriptions.
    LiveLatency(usize),
    LiveFanout,
    LiveInitial,
    WsConnect,
    MemoryIdleFresh,
    MemoryUsersLogins,
    MemoryAfterIdle,
    LoginSeq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Option<Kind>,
}

const fn spec(name: &'static str, kind: Kind) -> Spec {
    Spec {
        name,
        kind: Some(kind),
    }
}

/// Every workload, in the order they run and print.
pub const ALL: &[Spec] = &[
    // Memory first: with `--url` the server is then as fresh as it gets.
    spec("memory_idle_fresh", Kind::MemoryIdleFresh),
    spec("memory_users_logins", Kind::MemoryUsersLogins),
    spec("memory_after_idle", Kind::MemoryAfterIdle),
    spec("login_seq", Kind::LoginSeq),
    spec("http_floor_seq", Kind::HttpFloor),
    spec("insert_single_seq", Kind::InsertSingle(1)),
    spec("insert_single_c8", Kind::InsertSingle(8)),
    spec("insert_single_c64", Kind::InsertSingle(64)),
    spec("insert_batch_50", Kind::InsertBatch(50)),
    spec("insert_batch_1000", Kind::InsertBatch(1000)),
    spec("select_pk_shared_10k", Kind::SelectPkShared),
    spec("select_pk_user_10k", Kind::SelectPkUser),
    spec("update_pk_10k", Kind::UpdatePk),
    spec("delete_pk_10k", Kind::DeletePk),
    spec("select_filter_200", Kind::Small(keyed::SmallQuery::Filter)),
    spec("count_200", Kind::Small(keyed::SmallQuery::Count)),
    spec(
        "order_limit_200",
        Kind::Small(keyed::SmallQuery::OrderLimit),
    ),
    // Hot before cold: the cold workload flushes the table the hot one
    // measured.
    spec("scan_agg_1m_hot", Kind::ScanHot),
    spec("scan_agg_1m_cold", Kind::ScanCold),
    spec("cold_query_200k_20f", Kind::ColdQuery),
    spec("flush_throughput", Kind::Flush),
    spec("alter_1m_10f", Kind::Alter),
    // First of the live ones: the server's memory is least disturbed by
    // earlier workloads' buffers.
    spec("live_idle_memory", Kind::LiveIdleMemory),
    spec("live_latency_1", Kind::LiveLatency(1)),
    spec("live_latency_100", Kind::LiveLatency(100)),
    spec("live_latency_1000", Kind::LiveLatency(1000)),
    spec("live_fanout_1000", Kind::LiveFanout),
    spec("live_initial_1000", Kind::LiveInitial),
    spec("ws_connect_1000", Kind::WsConnect),
];

/// The workloads `--only` names, in run order (all of them when empty).
pub fn select(only: &[String]) -> Result<Vec<Spec>, String> {
    let wanted: Vec<&str> = only
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(unknown) = wanted.iter().find(|w| !ALL.iter().any(|s| s.name == **w)) {
        let known: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        return Err(format!(
            "unknown workload '{unknown}'; known: {}",
            known.join(", ")
        ));
    }
    Ok(ALL
        .iter()
        .filter(|s| wanted.is_empty() || wanted.contains(&s.name))
        .copied()
        .collect())
}

/// Password of the `bench_u*` users the bench creates.
/// Runs one workload; failures become an `error` row, not an abort.
pub async fn run(spec: Spec, ctx: &mut Ctx) -> Row {
    let outcome = match spec.kind {
        None => Outcome::NotImplemented,
        Some(kind) => {
            let result = match kind {
                Kind::InsertSingle(clients) => sql::insert_single(ctx, clients).await,
                Kind::InsertBatch(rows) => sql::insert_batch(ctx, rows).await,
                Kind::SelectPkShared => sql::select_pk_shared(ctx).await,
                Kind::SelectPkUser => sql::select_pk_user(ctx).await,
                Kind::HttpFloor => keyed::http_floor(ctx).await,
                Kind::UpdatePk => keyed::update_pk(ctx).await,
                Kind::DeletePk => keyed::delete_pk(ctx).await,
                Kind::Small(q) => keyed::small_query(ctx, q).await,
                Kind::ScanHot => sql::scan_hot(ctx).await,
                Kind::ScanCold => sql::scan_cold(ctx).await,
                Kind::ColdQuery => sql::cold_query(ctx).await,
                Kind::Flush => sql::flush_throughput(ctx).await,
                Kind::Alter => ddl::alter(ctx).await,
                Kind::LiveIdleMemory => live::idle_memory(ctx).await,
                Kind::LiveLatency(subs) => live::latency(ctx, subs).await,
                Kind::LiveFanout => live::fanout(ctx).await,
                Kind::LiveInitial => live::initial(ctx).await,
                Kind::WsConnect => live::connect_storm(ctx).await,
                Kind::MemoryIdleFresh => memory::idle_fresh(ctx).await,
                Kind::MemoryUsersLogins => memory::users_logins(ctx).await,
                Kind::MemoryAfterIdle => memory::after_idle(ctx).await,
                Kind::LoginSeq => memory::login_seq(ctx).await,
            };
            match result {
                Ok(m) => Outcome::Measured(m),
                Err(e) => Outcome::Failed(format!("{e:#}")),
            }
        }
    };
    Row {
        name: spec.name,
        outcome,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(
                ALL.iter().skip(i + 1).all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
    }

    #[test]
    fn only_keeps_run_order_and_rejects_unknown_names() {
        let picked = select(&["ws_connect_1000".into(), "live_latency_1".into()]).unwrap();
        let names: Vec<_> = picked.iter().map(|s| s.name).collect();
        assert_eq!(names, ["live_latency_1", "ws_connect_1000"]);
        assert_eq!(select(&[]).unwrap().len(), ALL.len());
        let err = select(&["nope".into()]).unwrap_err();
        assert!(err.contains("unknown workload 'nope'"), "{err}");
        assert!(err.contains("live_fanout_1000"), "{err}");
    }

    #[test]
    fn every_workload_of_issue_7_is_implemented() {
        for spec in ALL {
            assert!(spec.kind.is_some(), "{} is not implemented", spec.name);
        }
        assert_eq!(
            ALL.iter()
                .find(|s| s.name == "insert_single_c64")
                .unwrap()
                .kind,
            Some(Kind::InsertSingle(64))
        );
        let hot = ALL
            .iter()
            .position(|s| s.name == "scan_agg_1m_hot")
            .unwrap();
        let cold = ALL
            .iter()
            .position(|s| s.name == "scan_agg_1m_cold")
            .unwrap();
        assert!(hot < cold);
    }
}
