//! The INSERT sink DataFusion writes into ([`InsertSink`]): it collects the
//! statement's rows (a statement is atomic: all rows or none), converts and
//! validates them (NOT NULL with the spec's message; JSON and UUID text),
//! and commits them in one commit request (`write/insert.rs`), or inside a
//! transaction stages them there (`write/txn.rs`).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::StreamExt;
use kalamdb_store::Partition;

use crate::catalog::table::TableEntry;
use crate::error::{KalamError, Result};
use crate::read::context::ReturnedRows;
use crate::row::arrow::value_from_array;
use crate::row::value::{StoredRow, Value, stored_values};
use crate::write::insert::commit_inserts;
use crate::write::shared::Shared;
use crate::write::txn::Txn;

pub struct InsertSink {
    pub shared: Arc<Shared>,
    pub entry: Arc<TableEntry>,
    pub partition: Partition,
    /// Set for an INSERT with RETURNING: the rows written go here.
    pub returned: Option<Arc<ReturnedRows>>,
    /// Inside a transaction the rows are staged there, not committed.
    pub txn: Option<Arc<Txn>>,
}

impl fmt::Debug for InsertSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsertSink({})", self.entry.id())
    }
}

impl DisplayAs for InsertSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KalamInsert: table={}", self.entry.id())
    }
}

#[async_trait]
impl DataSink for InsertSink {
    // The sink receives the INSERT target's columns, not the table's full
    // read schema (which adds `_seq` and `_deleted`).
    #[allow(clippy::misnamed_getters)]
    fn schema(&self) -> &SchemaRef {
        &self.entry.insert_schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let mut rows: Vec<Vec<Value>> = Vec::new();
        while let Some(batch) = data.next().await {
            let batch = batch?;
            rows.extend(batch_to_rows(&self.entry, &batch).map_err(KalamError::into_datafusion)?);
        }
        let count = rows.len() as u64;
        if rows.is_empty() {
            return Ok(0);
        }
        // Only RETURNING needs the values after the commit took them.
        let kept = self.returned.as_ref().map(|_| rows.clone());
        let seqs = match &self.txn {
            Some(txn) => {
                txn.stage_inserts(&self.shared, &self.entry, self.partition.clone(), rows)
                    .await
            }
            None => commit_inserts(&self.shared, &self.entry, self.partition.clone(), rows).await,
        }
        .map_err(KalamError::into_datafusion)?;
        if let (Some(returned), Some(kept)) = (&self.returned, kept) {
            returned.extend(kept.into_iter().zip(seqs).map(|(values, seq)| StoredRow {
                seq,
                deleted: false,
                version: self.entry.def.version,
                values: stored_values(&self.entry.def.columns, values),
            }));
        }
        Ok(count)
    }
}

/// Converts an insert batch to rows of values in column order, enforcing
/// NOT NULL with the spec's message.
fn batch_to_rows(entry: &TableEntry, batch: &RecordBatch) -> Result<Vec<Vec<Value>>> {
    let mut rows = vec![Vec::with_capacity(entry.def.columns.len()); batch.num_rows()];
    for (i, col) in entry.def.columns.iter().enumerate() {
        let array = batch
            .columns()
            .get(i)
            .ok_or_else(|| KalamError::internal("insert batch is missing a column"))?;
        for (r, row) in rows.iter_mut().enumerate() {
            let v = value_from_array(col, array.as_ref(), r)?;
            if v == Value::Null && (!col.nullable || col.primary_key) {
                return Err(KalamError::exec(format!(
                    "Column '{}' cannot be NULL",
                    col.name
                )));
            }
            row.push(v);
        }
    }
    Ok(rows)
}
