//! Smoke test of the built binary: a `--quick` run against the in-process
//! server must finish and produce numbers for every selected workload. No
//! thresholds: this guards the tool, not the server's speed.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::process::Command;

use serde_json::Value;

/// The whole `--quick` run: every workload must produce numbers.
const SMOKE: &[&str] = &[
    "memory_idle_fresh",
    "memory_users_logins",
    "memory_after_idle",
    "login_seq",
    "http_floor_seq",
    "insert_single_seq",
    "insert_single_c8",
    "insert_single_c64",
    "insert_batch_50",
    "insert_batch_1000",
    "select_pk_shared_10k",
    "select_pk_user_10k",
    "update_pk_10k",
    "delete_pk_10k",
    "select_filter_200",
    "count_200",
    "order_limit_200",
    "scan_agg_1m_hot",
    "scan_agg_1m_cold",
    "cold_query_200k_20f",
    "flush_throughput",
    "alter_1m_10f",
    "live_idle_memory",
    "live_latency_1",
    "live_latency_100",
    "live_latency_1000",
    "live_fanout_1000",
    "live_initial_1000",
    "ws_connect_1000",
];

/// Workloads whose rows/s column is filled.
const WITH_ROWS: &[&str] = &[
    "insert_single_c8",
    "insert_batch_1000",
    "scan_agg_1m_hot",
    "scan_agg_1m_cold",
    "cold_query_200k_20f",
    "flush_throughput",
];

#[test]
fn quick_run_writes_numbers_for_the_selected_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("bench.json");
    let output = Command::new(env!("CARGO_BIN_EXE_kalamdb-bench"))
        .args(["--quick", "--json"])
        .arg(&json_path)
        .env_remove("KALAMDB_PASSWORD")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for name in SMOKE {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["quick"], true);
    assert_eq!(report["server"]["durable"], true, "{report}");
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    let workloads = report["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), SMOKE.len(), "{report}");
    for &name in SMOKE {
        let row = workloads
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {report}"));
        assert_eq!(row["status"], "ok", "{row}");
        if name == "live_idle_memory" {
            // A size, not a latency: it has no percentiles, and a warm
            // allocator may absorb 1,000 subscriptions without growing.
            continue;
        }
        if name.starts_with("memory_") {
            // A size: the server's resident set, in MB.
            assert_eq!(row["unit"], "MB", "{row}");
            assert!(row["value"].as_f64().unwrap() > 0.0, "{row}");
            continue;
        }
        for field in ["ops_per_sec", "p50_ms", "p95_ms", "p99_ms", "max_ms"] {
            let v = row[field]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}.{field}: {row}"));
            assert!(v > 0.0, "{name}.{field} = {v}");
        }
        assert!(row["samples"].as_u64().unwrap() > 0, "{row}");
        if WITH_ROWS.contains(&name) {
            let rows = row["rows_per_sec"].as_f64().unwrap_or_default();
            assert!(rows > 0.0, "{name}.rows_per_sec: {row}");
        }
    }
}

/// `--compare in-process`: the same workloads against a second fresh server
/// (here with the fast path off), both tables and the side-by-side one
/// printed, both in the JSON.
#[test]
fn compare_runs_the_same_workloads_against_a_second_server() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("bench.json");
    let output = Command::new(env!("CARGO_BIN_EXE_kalamdb-bench"))
        .args([
            "--quick",
            "--only",
            "select_pk_shared_10k,count_200",
            "--compare",
            "in-process",
            "--json",
        ])
        .arg(&json_path)
        .env_remove("KALAMDB_PASSWORD")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("fast path off"), "{stdout}");
    let side_by_side = stdout
        .split("B/A")
        .nth(1)
        .unwrap_or_else(|| panic!("no comparison table:\n{stdout}"));
    for name in ["select_pk_shared_10k", "count_200"] {
        let line = side_by_side
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{stdout}"));
        let ratio: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(ratio > 0.0, "{line}");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for side in [&report, &report["compare"]] {
        let workloads = side["workloads"].as_array().unwrap();
        assert_eq!(workloads.len(), 2, "{side}");
        assert!(workloads.iter().all(|w| w["status"] == "ok"), "{side}");
    }
    assert!(
        report["compare"]["server"]["target"]
            .as_str()
            .unwrap()
            .contains("fast path off"),
        "{report}"
    );
}
