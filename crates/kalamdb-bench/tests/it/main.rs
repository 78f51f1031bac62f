//! Smoke test of the built binary: a `--quick` run of two workloads against
//! the in-process server must finish and produce numbers. No thresholds:
//! this guards the tool, not the server's speed.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::process::Command;

use serde_json::Value;

#[test]
fn quick_run_writes_numbers_for_the_selected_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("bench.json");
    let output = Command::new(env!("CARGO_BIN_EXE_kalamdb-bench"))
        .args([
            "--quick",
            "--only",
            "live_latency_1,ws_connect_1000",
            "--json",
        ])
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
    assert!(stdout.contains("live_latency_1"), "{stdout}");
    assert!(stdout.contains("ws_connect_1000"), "{stdout}");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["quick"], true);
    assert_eq!(report["server"]["durable"], true, "{report}");
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    let workloads = report["workloads"].as_array().unwrap();
    assert_eq!(workloads.len(), 2, "{report}");
    for name in ["live_latency_1", "ws_connect_1000"] {
        let row = workloads
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {report}"));
        assert_eq!(row["status"], "ok", "{row}");
        for field in ["ops_per_sec", "p50_ms", "p95_ms", "p99_ms", "max_ms"] {
            let v = row[field]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}.{field}: {row}"));
            assert!(v > 0.0, "{name}.{field} = {v}");
        }
        assert!(row["samples"].as_u64().unwrap() > 0, "{row}");
    }
}
