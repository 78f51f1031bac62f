//! `BEGIN`, `COMMIT`, `ROLLBACK` (`sql.md` §3.7; `wire-protocol.md` §3.2):
//! a transaction lives within one request. The staged writes and their one
//! commit are `write/txn.rs`'s; this module says which statements open and
//! close one and which may run inside.

use std::sync::Arc;

use kalamdb_sql::KalamStatement;
use kalamdb_types::SnowflakeGenerator;
use sqlparser::ast::Statement as SqlStatement;

use crate::error::{KalamError, Result};
use crate::statements::output::StatementOutput;
use crate::write::shared::Shared;
use crate::write::txn::Txn;

/// The answer when a request ends with its transaction open.
pub const LEFT_OPEN: &str = "Transaction left open at end of request; rolled back";

/// Whether `stmt` opens or closes a transaction.
pub fn is_control(stmt: &KalamStatement) -> bool {
    matches!(
        stmt,
        KalamStatement::Begin | KalamStatement::Commit | KalamStatement::Rollback
    )
}

/// Runs BEGIN, COMMIT or ROLLBACK against the request's `open` transaction.
pub async fn control(
    shared: &Arc<Shared>,
    seq: &Arc<SnowflakeGenerator>,
    max_bytes: usize,
    stmt: &KalamStatement,
    open: &mut Option<Arc<Txn>>,
) -> Result<StatementOutput> {
    match stmt {
        KalamStatement::Begin => {
            if open.is_some() {
                return Err(KalamError::exec("Transaction already in progress"));
            }
            let txn = Txn::begin(seq.clone(), max_bytes);
            let message = format!("Transaction started ({})", txn.id);
            *open = Some(Arc::new(txn));
            Ok(StatementOutput::Message(message))
        }
        KalamStatement::Commit => {
            let txn = open
                .take()
                .ok_or_else(|| KalamError::exec("No active transaction"))?;
            txn.commit(shared).await?;
            Ok(StatementOutput::Message(format!(
                "Transaction committed ({})",
                txn.id
            )))
        }
        KalamStatement::Rollback => {
            let txn = open
                .take()
                .ok_or_else(|| KalamError::exec("No active transaction"))?;
            Ok(StatementOutput::Message(format!(
                "Transaction rolled back ({})",
                txn.id
            )))
        }
        _ => Err(KalamError::internal("not a transaction statement")),
    }
}

/// Inside a transaction only SELECT and DML run (also as `EXECUTE AS
/// USER`); anything else is refused naming the statement.
pub fn check_allowed(stmt: &KalamStatement) -> Result<()> {
    let allowed = match stmt {
        KalamStatement::Standard(s) => matches!(
            s.as_ref(),
            SqlStatement::Query(_)
                | SqlStatement::Insert(_)
                | SqlStatement::Update(_)
                | SqlStatement::Delete(_)
        ),
        KalamStatement::ExecuteAsUser { .. } => true,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(KalamError::exec(format!(
            "{} is not allowed inside a transaction",
            stmt.name()
        )))
    }
}
