//! The statement fast path ([`FastPath`]): the statements a chat app sends
//! all day — `INSERT … VALUES` with literals or `$n`, `SELECT cols|* … WHERE
//! pk = x` (or `pk IN (…)`), `UPDATE … SET c = x … WHERE pk = x`, `DELETE …
//! WHERE pk = x`, each also inside `EXECUTE AS USER` — run without
//! DataFusion: no session, no logical or physical plan, values bound
//! straight into the commit or the point read.
//!
//! A statement's shape is recognised once (`fast/shape.rs`) and cached by
//! (SQL text, namespace), valid while the catalog generation it was
//! recognised under lasts (any DDL bumps it). The prepared form holds no
//! caller: identity, access checks and the partition are applied per run
//! (`fast/run.rs`). Anything else, and anything the fast path is unsure of,
//! goes to DataFusion, which stays the reference: `[query] fast_path =
//! false` turns this off, and the golden suite and an equivalence test run
//! both ways against the same answers.
//!
//! Must not: plan through DataFusion, or answer an error the planner's path
//! would word differently (it falls back instead).

mod run;
mod shape;
mod values;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::common::ScalarValue;
use kalamdb_sql::KalamStatement;
use kalamdb_types::{NamespaceId, Role, SnowflakeGenerator};

use crate::access::Caller;
use crate::catalog::bounded::BoundedMap;
use crate::error::Result;
use crate::statements::output::StatementResult;
use crate::statements::users;
use crate::write::shared::Shared;

use run::{Ran, RunContext};
pub use shape::Prepared;
use shape::prepare;

/// Prefix of the key under which an `EXECUTE AS USER` statement's shape is
/// also kept, by its inner statement alone: every user's text differs by
/// the name, the shape does not. (No SQL text starts with this byte.)
const INNER_KEY: char = '\u{1}';

/// Texts longer than this are recognised every time, not cached: a long
/// statement is a literal batch, which is not sent twice.
const MAX_CACHED_SQL: usize = 4096;
/// Entries per half of the shape cache (see [`BoundedMap`]).
const CACHE_HALF: usize = 1024;

/// How often the fast path answered (`system.stats`).
#[derive(Debug, Default)]
pub struct FastStats {
    /// Statements the fast path ran to the end (errors of the commit included).
    pub statements: AtomicU64,
    /// Recognised statements handed to DataFusion at run time.
    pub fallbacks: AtomicU64,
}

pub struct FastPath {
    enabled: bool,
    seq: Arc<SnowflakeGenerator>,
    /// Prepared shapes by (request text, namespace).
    cache: BoundedMap<(String, NamespaceId), Arc<Prepared>>,
    pub stats: FastStats,
}

/// What [`FastPath::cached`] found for a request's text.
pub enum Lookup {
    Hit(Arc<Prepared>),
    /// Not cached: split and parse, then [`FastPath::recognise`].
    Miss,
}

impl FastPath {
    pub fn new(enabled: bool, seq: Arc<SnowflakeGenerator>) -> Self {
        Self {
            enabled,
            seq,
            cache: BoundedMap::new(CACHE_HALF),
            stats: FastStats::default(),
        }
    }

    /// The prepared form of a whole request's text, if cached and current.
    pub fn cached(&self, shared: &Shared, sql: &str, ns: &NamespaceId) -> Lookup {
        if !self.enabled {
            return Lookup::Miss;
        }
        let generation = shared.catalog.generation();
        match self.cache.get(&(sql.to_string(), ns.clone())) {
            Some(p) if p.generation == generation => Lookup::Hit(p),
            _ => Lookup::Miss,
        }
    }

    /// Recognises a request's one statement (`statement`, as split from
    /// the request's text `sql`, parsed into `stmt`); caches it.
    pub fn recognise(
        &self,
        shared: &Shared,
        sql: &str,
        statement: &str,
        stmt: &mut KalamStatement,
        ns: &NamespaceId,
    ) -> Option<Arc<Prepared>> {
        if !self.enabled {
            return None;
        }
        let generation = shared.catalog.generation();
        let inner_sql = match &*stmt {
            KalamStatement::ExecuteAsUser { inner_sql, .. } => Some(inner_sql.clone()),
            _ => None,
        };
        let prepared = Arc::new(prepare(
            &shared.catalog,
            statement,
            stmt,
            ns,
            generation,
            None,
        )?);
        if sql.len() <= MAX_CACHED_SQL {
            self.cache
                .put((sql.to_string(), ns.clone()), prepared.clone());
            if let Some(inner) = inner_sql {
                self.cache.put(
                    (format!("{INNER_KEY}{inner}"), ns.clone()),
                    prepared.clone(),
                );
            }
        }
        Some(prepared)
    }

    /// Recognises a request's text that is one `INSERT … VALUES` of literal
    /// rows without splitting or parsing the rows: the scanner reads them
    /// (`kalamdb_sql::scan_insert_rows`), the parser only the statement
    /// with its first row. Caches it as [`FastPath::recognise`] does.
    pub fn recognise_rows(
        &self,
        shared: &Shared,
        sql: &str,
        ns: &NamespaceId,
    ) -> Option<Arc<Prepared>> {
        if !self.enabled {
            return None;
        }
        let scanned = kalamdb_sql::scan_insert_rows(sql)?;
        let mut stmt = kalamdb_sql::parse_statement(&scanned.probe()).ok()?;
        let generation = shared.catalog.generation();
        let prepared = Arc::new(prepare(
            &shared.catalog,
            scanned.statement,
            &mut stmt,
            ns,
            generation,
            Some(&scanned.rows),
        )?);
        if sql.len() <= MAX_CACHED_SQL {
            self.cache
                .put((sql.to_string(), ns.clone()), prepared.clone());
        }
        Some(prepared)
    }

    /// The prepared form of `EXECUTE AS USER <someone> (<inner_sql>)`, if a
    /// statement with that inner text was recognised under the current
    /// catalog generation (for any user: run it with
    /// [`FastPath::run`]).
    pub fn cached_inner(&self, shared: &Shared, inner_sql: &str, ns: &NamespaceId) -> Lookup {
        if !self.enabled {
            return Lookup::Miss;
        }
        let generation = shared.catalog.generation();
        match self
            .cache
            .get(&(format!("{INNER_KEY}{inner_sql}"), ns.clone()))
        {
            Some(p) if p.generation == generation && p.as_user.is_some() => Lookup::Hit(p),
            _ => Lookup::Miss,
        }
    }

    /// Runs a prepared statement for `caller`; with `as_user`, an `EXECUTE
    /// AS USER` statement for that user instead of the one it was
    /// recognised with.
    pub async fn run(
        &self,
        shared: &Arc<Shared>,
        prepared: &Prepared,
        as_user: Option<&str>,
        caller: &Caller,
        params: &[ScalarValue],
        max_result_rows: usize,
    ) -> Result<Option<StatementResult>> {
        let ran = self
            .run_inner(shared, prepared, as_user, caller, params, max_result_rows)
            .await;
        let counter = match &ran {
            Ok(None) => &self.stats.fallbacks,
            _ => &self.stats.statements,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        ran
    }

    async fn run_inner(
        &self,
        shared: &Arc<Shared>,
        prepared: &Prepared,
        as_user: Option<&str>,
        caller: &Caller,
        params: &[ScalarValue],
        max_result_rows: usize,
    ) -> Result<Option<StatementResult>> {
        // Exactly the parameters the statement names: any other count is
        // answered by the planner's binding, in its words.
        if params.len() != prepared.params {
            return Ok(None);
        }
        let as_target;
        // The name of this request, not the one the shape was first seen with.
        let caller = match as_user.or(prepared.as_user.as_deref()) {
            None => caller,
            Some(name) => {
                let Ok(target) = users::execute_as_target(shared, caller, name) else {
                    return Ok(None);
                };
                as_target = Caller {
                    user: target.user_id,
                    role: Role::User,
                    execute_as: true,
                };
                &as_target
            }
        };
        let cx = RunContext {
            shared,
            seq: &self.seq,
            caller,
            params,
            max_result_rows,
        };
        Ok(match run::run(&prepared.op, &cx).await? {
            Ran::Done(output) => Some(StatementResult {
                output,
                as_user: caller.user.clone(),
            }),
            Ran::Fallback => None,
        })
    }
}
