//! A small column-wise table builder over `ScalarValue`s ([`SysTable`]):
//! the rows of `system.*`, `DESCRIBE TABLE` and `SUBSCRIBE TO`, with the
//! field metadata the wire encoding reads.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use kalamdb_types::KalamDataType;

use crate::error::{KalamError, Result};
use crate::row::arrow::described_field;
use crate::statements::output::StatementOutput;

/// A small column-wise table builder over `ScalarValue`s.
pub struct SysTable {
    fields: Vec<Field>,
    columns: Vec<Vec<ScalarValue>>,
}

impl SysTable {
    /// `cols`: name, type, flags (`"pk"` → pk,nn,uq).
    pub fn new(cols: &[(&str, KalamDataType, &str)]) -> Self {
        let fields = cols
            .iter()
            .map(|(name, ty, flags)| {
                let flags = if *flags == "pk" { "pk,nn,uq" } else { flags };
                described_field(name, sys_arrow_type(ty), ty, flags, flags.is_empty())
            })
            .collect::<Vec<Field>>();
        let columns = vec![Vec::new(); fields.len()];
        Self { fields, columns }
    }

    pub fn push(&mut self, row: Vec<ScalarValue>) {
        for (col, v) in self.columns.iter_mut().zip(row) {
            col.push(v);
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.fields.clone()))
    }

    pub fn into_batch(self) -> Result<RecordBatch> {
        let schema = self.schema();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.fields.len());
        for (field, values) in self.fields.iter().zip(self.columns) {
            let array = if values.is_empty() {
                datafusion::arrow::array::new_empty_array(field.data_type())
            } else {
                ScalarValue::iter_to_array(values).map_err(KalamError::from)?
            };
            arrays.push(array);
        }
        RecordBatch::try_new(schema, arrays).map_err(KalamError::internal)
    }

    /// The table as a statement's answer.
    pub fn into_output(self) -> Result<StatementOutput> {
        let schema = self.schema();
        Ok(StatementOutput::Rows {
            schema,
            batches: vec![self.into_batch()?],
        })
    }

    pub fn into_mem_table(self) -> Result<MemTable> {
        let schema = self.schema();
        let batch = self.into_batch()?;
        MemTable::try_new(schema, vec![vec![batch]]).map_err(KalamError::from)
    }
}

fn sys_arrow_type(ty: &KalamDataType) -> DataType {
    match ty {
        KalamDataType::Boolean => DataType::Boolean,
        KalamDataType::Int => DataType::Int32,
        KalamDataType::BigInt => DataType::Int64,
        KalamDataType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        _ => DataType::Utf8,
    }
}

pub fn text(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}

pub fn opt_text(s: Option<impl Into<String>>) -> ScalarValue {
    ScalarValue::Utf8(s.map(Into::into))
}

pub fn ts(micros: Option<i64>) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(micros, None)
}
