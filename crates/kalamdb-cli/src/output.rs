//! Turns §3.3 result bodies into what a person or a pipe reads: aligned
//! tables (comfy-table, wrapped to the terminal width), JSON or CSV. NULL is
//! printed as `NULL` in tables so it never looks like an empty string.

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::{Map, Value};

/// Narrower terminals get unwrapped tables (they scroll instead).
const MIN_WRAP_WIDTH: u16 = 20;

/// How results are printed (`--format`, `\format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Some(Format::Table),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Column names of a result's `schema`.
pub fn columns(result: &Value) -> Vec<String> {
    result
        .get("schema")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .map(|c| {
                    c.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every entry of `results` rendered in `format`, separated by blank lines.
pub fn render_body(body: &Value, format: Format) -> String {
    let results = body
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    results
        .iter()
        .map(|r| render_result(r, format))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One result: rows when it has a schema, else the server's message.
pub fn render_result(result: &Value, format: Format) -> String {
    let rows = result
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if result.get("schema").is_none() {
        let message = result
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                let n = result.get("row_count").and_then(Value::as_u64).unwrap_or(0);
                format!("OK ({n} row(s))")
            });
        return match format {
            Format::Json => {
                let mut m = Map::new();
                m.insert("message".into(), Value::String(message));
                if let Some(n) = result.get("row_count") {
                    m.insert("row_count".into(), n.clone());
                }
                format!("{}\n", pretty(&Value::Object(m)))
            }
            Format::Table | Format::Csv => format!("{message}\n"),
        };
    }
    let cols = columns(result);
    let types: Vec<Value> = result
        .get("schema")
        .and_then(Value::as_array)
        .map(|s| s.iter().map(|f| f["data_type"].clone()).collect())
        .unwrap_or_default();
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|r| match r {
            Value::Array(cells) => cells,
            other => vec![other],
        })
        .map(|cells| match format {
            // JSON stays the wire's numbers; people read dates.
            Format::Json => cells,
            Format::Table | Format::Csv => cells
                .into_iter()
                .enumerate()
                .map(|(i, v)| readable(types.get(i), v))
                .collect(),
        })
        .collect();
    render_rows(&cols, &rows, format)
}

/// Temporal cells as text: the wire carries µs since the epoch (Timestamp,
/// DateTime), days since the epoch (Date) and µs since midnight (Time).
pub fn readable(data_type: Option<&Value>, v: Value) -> Value {
    let Some(n) = v.as_i64() else {
        return v;
    };
    let text = match data_type.and_then(Value::as_str) {
        Some("Timestamp") => chrono::DateTime::from_timestamp_micros(n)
            .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()),
        Some("DateTime") => chrono::DateTime::from_timestamp_micros(n)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.f+00").to_string()),
        Some("Date") => i32::try_from(n)
            .ok()
            .and_then(chrono::NaiveDate::from_epoch_days)
            .map(|d| d.to_string()),
        Some("Time") => u32::try_from(n / 1_000_000).ok().and_then(|secs| {
            let nanos = u32::try_from((n % 1_000_000) * 1000).ok()?;
            chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                .map(|t| t.format("%H:%M:%S%.f").to_string())
        }),
        _ => None,
    };
    text.map(Value::String).unwrap_or(v)
}

/// A grid of cells in `format`.
pub fn render_rows(cols: &[String], rows: &[Vec<Value>], format: Format) -> String {
    match format {
        Format::Table => {
            let mut table = Table::new();
            table
                .load_style(presets::UTF8_FULL_CONDENSED)
                .set_header(cols.iter().map(String::as_str));
            // Wrap to the terminal only when its width is believable: a pty
            // that reports 0 columns would squeeze every cell to one letter.
            if table.width().is_some_and(|w| w >= MIN_WRAP_WIDTH) {
                table.set_content_arrangement(ContentArrangement::Dynamic);
            }
            for row in rows {
                table.add_row(row.iter().map(table_cell));
            }
            let n = rows.len();
            let plural = if n == 1 { "row" } else { "rows" };
            format!("{table}\n({n} {plural})\n")
        }
        Format::Json => {
            let objects: Vec<Value> = rows
                .iter()
                .map(|row| {
                    Value::Object(
                        cols.iter()
                            .cloned()
                            .zip(row.iter().cloned())
                            .collect::<Map<_, _>>(),
                    )
                })
                .collect();
            format!("{}\n", pretty(&Value::Array(objects)))
        }
        Format::Csv => {
            let mut out = csv_line(cols.iter().map(|c| c.to_string()));
            for row in rows {
                out.push_str(&csv_line(row.iter().map(csv_cell)));
            }
            out
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn table_cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// CSV has no NULL; an empty field is the usual convention.
fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_line(fields: impl Iterator<Item = String>) -> String {
    let mut line = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `Time: 1.234 ms`.
pub fn timing(elapsed: std::time::Duration) -> String {
    format!("Time: {:.3} ms\n", elapsed.as_secs_f64() * 1000.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn temporal_cells_read_as_dates_except_in_json() {
        let ts = json!("Timestamp");
        assert_eq!(
            readable(Some(&ts), json!(1_764_072_000_123_456_i64)),
            json!("2025-11-25 12:00:00.123456")
        );
        assert_eq!(
            readable(Some(&json!("DateTime")), json!(0)),
            json!("1970-01-01 00:00:00+00")
        );
        assert_eq!(
            readable(Some(&json!("Date")), json!(20417)),
            json!("2025-11-25")
        );
        assert_eq!(
            readable(Some(&json!("Time")), json!(45_296_500_000_i64)),
            json!("12:34:56.500")
        );
        // Other types, strings (BIGINT) and NULL pass through.
        assert_eq!(readable(Some(&json!("Int")), json!(5)), json!(5));
        assert_eq!(readable(Some(&ts), Value::Null), Value::Null);
        let body = json!({"schema":[{"name":"at","data_type":"Timestamp","index":0}],"rows":[[0]]});
        assert!(render_result(&body, Format::Table).contains("1970-01-01 00:00:00"));
        assert!(render_result(&body, Format::Json).contains("\"at\": 0"));
    }

    fn body() -> Value {
        json!({"status":"success","results":[
            {"schema":[{"name":"id","data_type":"BigInt","index":0},{"name":"note","data_type":"Text","index":1}],
             "rows":[["1","a, \"b\""],["2",null]],"row_count":2},
            {"row_count":1,"message":"Inserted 1 row(s)"}]})
    }

    #[test]
    fn table_shows_null_and_row_count_and_messages() {
        let out = render_body(&body(), Format::Table);
        assert!(out.contains("NULL"), "{out}");
        assert!(out.contains("(2 rows)"), "{out}");
        assert!(out.contains("Inserted 1 row(s)"), "{out}");
        let header = out.lines().find(|l| l.contains("id")).unwrap_or("");
        assert!(header.contains("note"), "{out}");
    }

    #[test]
    fn csv_quotes_and_leaves_null_empty() {
        let out = render_result(&body()["results"][0], Format::Csv);
        assert_eq!(out, "id,note\n1,\"a, \"\"b\"\"\"\n2,\n");
    }

    #[test]
    fn json_is_objects_by_column() {
        let out = render_result(&body()["results"][0], Format::Json);
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        assert_eq!(
            v,
            json!([{"id":"1","note":"a, \"b\""},{"id":"2","note":null}])
        );
    }

    #[test]
    fn one_row_is_singular() {
        let out = render_rows(&["x".into()], &[vec![json!(1)]], Format::Table);
        assert!(out.ends_with("(1 row)\n"), "{out}");
    }
}
