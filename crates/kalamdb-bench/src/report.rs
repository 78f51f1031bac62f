//! Results and their two renderings: the printed table people compare side
//! by side, and the JSON file machines compare. A workload that did not run
//! says so ("n/a"); no number is ever invented to fill a cell.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles of samples in microseconds; `None` when
    /// there are none.
    pub fn from_micros(samples: &mut [u64]) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = (p / 100.0 * samples.len() as f64).ceil() as usize;
            let index = rank.clamp(1, samples.len()) - 1;
            samples.get(index).copied().unwrap_or_default() as f64 / 1000.0
        };
        Some(Latency {
            p50_ms: at(50.0),
            p95_ms: at(95.0),
            p99_ms: at(99.0),
            max_ms: at(100.0),
        })
    }
}

/// What one workload measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    pub ops_per_sec: f64,
    /// What one "op" is, for the reader (`notifications`, `connections`…).
    pub op: &'static str,
    pub latency: Option<Latency>,
    pub rows_per_sec: Option<f64>,
    /// A headline value that is neither a rate nor a latency (bytes per
    /// idle subscription), with its unit.
    pub value: Option<(f64, &'static str)>,
    /// Latency samples (or operations) the numbers come from.
    pub samples: usize,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Measured(Measurement),
    NotImplemented,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: &'static str,
    pub outcome: Outcome,
}

/// Facts printed above the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `in-process (http://…)` or the URL given.
    pub target: String,
    /// `system.stats` `durable_writes`, when the server reports it.
    pub durable: Option<bool>,
    pub cores: usize,
    pub fsync_p50_ms: Option<f64>,
    pub quick: bool,
}

impl Header {
    pub fn render(&self) -> String {
        let mode = match self.durable {
            Some(true) => "durable (writes fsync'd before the answer)",
            Some(false) => "NOT durable (writes acknowledged before fsync)",
            None => "unknown (system.stats durable_writes unavailable)",
        };
        let fsync = match self.fsync_p50_ms {
            Some(ms) => format!("{ms:.3} ms"),
            None => "unmeasured".to_string(),
        };
        format!(
            "kalamdb-bench {} — {} run\nserver:  {}\nmode:    {}\nmachine: {} cores, fsync of a 4 KiB file p50 {}\n",
            env!("CARGO_PKG_VERSION"),
            if self.quick { "quick" } else { "full" },
            self.target,
            mode,
            self.cores,
            fsync,
        )
    }
}

const NAME_W: usize = 20;

pub fn table_heading() -> String {
    format!(
        "{:<NAME_W$} {:>11} {:>10} {:>10} {:>10} {:>10} {:>11}  note",
        "workload", "ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "rows/s"
    )
}

impl Row {
    /// One line of the table.
    pub fn render(&self) -> String {
        let mut line = format!("{:<NAME_W$}", self.name);
        match &self.outcome {
            Outcome::NotImplemented => line.push_str(" n/a — not implemented yet"),
            Outcome::Failed(e) => {
                let _ = write!(line, " error: {e}");
            }
            Outcome::Measured(m) => {
                let cell = |v: Option<f64>, decimals: usize| match v {
                    Some(v) => format!("{v:.decimals$}"),
                    None => "-".to_string(),
                };
                let l = m.latency;
                let _ = write!(
                    line,
                    " {:>11} {:>10} {:>10} {:>10} {:>10} {:>11}  {}",
                    cell(Some(m.ops_per_sec), 1),
                    cell(l.map(|l| l.p50_ms), 3),
                    cell(l.map(|l| l.p95_ms), 3),
                    cell(l.map(|l| l.p99_ms), 3),
                    cell(l.map(|l| l.max_ms), 3),
                    cell(m.rows_per_sec, 1),
                    m.note,
                );
            }
        }
        line.trim_end().to_string()
    }

    pub fn to_json(&self) -> Value {
        match &self.outcome {
            Outcome::Measured(m) => json!({
                "name": self.name,
                "status": "ok",
                "op": m.op,
                "ops_per_sec": m.ops_per_sec,
                "p50_ms": m.latency.map(|l| l.p50_ms),
                "p95_ms": m.latency.map(|l| l.p95_ms),
                "p99_ms": m.latency.map(|l| l.p99_ms),
                "max_ms": m.latency.map(|l| l.max_ms),
                "rows_per_sec": m.rows_per_sec,
                "value": m.value.map(|(v, _)| v),
                "unit": m.value.map(|(_, u)| u),
                "samples": m.samples,
                "note": m.note,
            }),
            Outcome::NotImplemented => json!({
                "name": self.name,
                "status": "n/a",
                "note": "not implemented yet",
            }),
            Outcome::Failed(e) => json!({
                "name": self.name,
                "status": "error",
                "note": e,
            }),
        }
    }
}

/// The whole run as JSON (`--json`).
pub fn to_json(header: &Header, rows: &[Row]) -> Value {
    json!({
        "tool": "kalamdb-bench",
        "version": env!("CARGO_PKG_VERSION"),
        "quick": header.quick,
        "server": {
            "target": header.target,
            "durable": header.durable,
        },
        "machine": {
            "cores": header.cores,
            "fsync_4k_p50_ms": header.fsync_p50_ms,
        },
        "workloads": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    })
}

/// The two runs of `--compare` side by side: ops/s and p50 of each, and
/// the ratio of B's ops/s to A's (above 1: B is faster). A workload that
/// failed or was not measured on either side shows "–".
pub fn comparison(a_name: &str, a: &[Row], b_name: &str, b: &[Row]) -> String {
    let mut out = format!("A: {a_name}\nB: {b_name}\n");
    let _ = writeln!(
        out,
        "{:<NAME_W$} {:>11} {:>10} {:>11} {:>10} {:>8}",
        "workload", "A ops/s", "A p50 ms", "B ops/s", "B p50 ms", "B/A"
    );
    let cells = |row: Option<&Row>| match row.map(|r| &r.outcome) {
        Some(Outcome::Measured(m)) => (
            Some(m.ops_per_sec),
            format!("{:.1}", m.ops_per_sec),
            m.latency
                .map_or_else(|| "–".to_string(), |l| format!("{:.3}", l.p50_ms)),
        ),
        _ => (None, "–".to_string(), "–".to_string()),
    };
    for row in a {
        let (a_ops, a_rate, a_p50) = cells(Some(row));
        let (b_ops, b_rate, b_p50) = cells(b.iter().find(|r| r.name == row.name));
        let ratio = match (a_ops, b_ops) {
            (Some(x), Some(y)) if x > 0.0 => format!("{:.2}", y / x),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<NAME_W$} {a_rate:>11} {a_p50:>10} {b_rate:>11} {b_p50:>10} {ratio:>8}",
            row.name
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn comparison_gives_both_columns_and_the_ratio() {
        let measured = |ops: f64, p50: f64| {
            Outcome::Measured(Measurement {
                ops_per_sec: ops,
                latency: Some(Latency {
                    p50_ms: p50,
                    p95_ms: p50,
                    p99_ms: p50,
                    max_ms: p50,
                }),
                ..Default::default()
            })
        };
        let a = [
            Row {
                name: "w1",
                outcome: measured(100.0, 2.0),
            },
            Row {
                name: "w2",
                outcome: Outcome::Failed("boom".into()),
            },
        ];
        let b = [
            Row {
                name: "w1",
                outcome: measured(400.0, 0.5),
            },
            Row {
                name: "w2",
                outcome: measured(1.0, 1.0),
            },
        ];
        let text = comparison("one", &a, "two", &b);
        assert!(text.starts_with("A: one\nB: two\n"), "{text}");
        let w1 = text.lines().find(|l| l.starts_with("w1")).unwrap();
        let cols: Vec<&str> = w1.split_whitespace().collect();
        assert_eq!(cols, ["w1", "100.0", "2.000", "400.0", "0.500", "4.00"]);
        let w2 = text.lines().find(|l| l.starts_with("w2")).unwrap();
        assert!(w2.split_whitespace().any(|c| c == "1.0"), "{w2}");
        assert!(w2.trim_end().ends_with('–'), "no ratio without both: {w2}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().map(|i| i * 1000).collect();
        let l = Latency::from_micros(&mut samples).unwrap();
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p95_ms, 95.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        let mut one = vec![1234];
        let l = Latency::from_micros(&mut one).unwrap();
        assert_eq!((l.p50_ms, l.max_ms), (1.234, 1.234));
        assert_eq!(Latency::from_micros(&mut []), None);
    }

    #[test]
    fn rows_render_numbers_with_three_decimals_and_never_fake_missing_ones() {
        let measured = Row {
            name: "live_latency_1",
            outcome: Outcome::Measured(Measurement {
                ops_per_sec: 812.25,
                op: "notifications",
                latency: Some(Latency {
                    p50_ms: 1.0,
                    p95_ms: 1.5,
                    p99_ms: 2.25,
                    max_ms: 3.0,
                }),
                samples: 50,
                note: "50 inserts".into(),
                ..Default::default()
            }),
        };
        let line = measured.render();
        assert!(line.starts_with("live_latency_1 "), "{line}");
        for cell in [
            "812.2",
            "1.000",
            "1.500",
            "2.250",
            "3.000",
            " - ",
            "50 inserts",
        ] {
            assert!(line.contains(cell), "{cell} missing in {line}");
        }
        let na = Row {
            name: "flush_throughput",
            outcome: Outcome::NotImplemented,
        };
        assert!(na.render().ends_with("n/a — not implemented yet"));
        assert_eq!(na.to_json()["status"], "n/a");
        assert!(na.to_json().get("ops_per_sec").is_none());
    }

    #[test]
    fn json_carries_header_and_every_row() {
        let header = Header {
            target: "http://x".into(),
            durable: Some(false),
            cores: 2,
            fsync_p50_ms: Some(0.5),
            quick: true,
        };
        let rows = [
            Row {
                name: "live_idle_memory",
                outcome: Outcome::Measured(Measurement {
                    ops_per_sec: 10.0,
                    value: Some((512.0, "bytes/subscription")),
                    ..Default::default()
                }),
            },
            Row {
                name: "ws_connect_1000",
                outcome: Outcome::Failed("refused".into()),
            },
        ];
        let v = to_json(&header, &rows);
        assert_eq!(v["server"]["durable"], false);
        assert_eq!(v["machine"]["cores"], 2);
        assert_eq!(v["workloads"][0]["value"], 512.0);
        assert_eq!(v["workloads"][0]["unit"], "bytes/subscription");
        assert_eq!(v["workloads"][0]["p50_ms"], Value::Null);
        assert_eq!(v["workloads"][1]["status"], "error");
        assert_eq!(v["workloads"][1]["note"], "refused");
        assert!(header.render().contains("NOT durable"));
    }
}
