//! Named points in the flush and compaction protocols where crash tests
//! stop the server. `KALAMDB_FAILPOINTS` (read once, comma-separated) names
//! the points to arm; unset, every check is one load of an empty list.
//!
//! `crash` ends the process with SIGKILL — what `kill -9` or a power cut
//! does to the process: no destructor, no buffered write, no clean close of
//! the store — so the test of each step in docs/storage-format.md ("crash
//! analysis") runs the real recovery path. `pause` holds a job at a point
//! until it is cancelled, so `KILL JOB` can be tested on a running job
//! without racing its end.
//!
//! This is test instrumentation compiled into the server on purpose: the
//! crash tests drive the binary users run, not a special build.

use std::sync::OnceLock;

use crate::maintenance::jobs::CancelFlag;

pub const FLUSH_AFTER_WRITE: &str = "flush-after-write";
pub const FLUSH_AFTER_COMMIT: &str = "flush-after-commit";
pub const FLUSH_PAUSE: &str = "flush-pause";
pub const COMPACT_AFTER_WRITE: &str = "compact-after-write";
pub const COMPACT_AFTER_COMMIT: &str = "compact-after-commit";
pub const COMPACT_PAUSE: &str = "compact-pause";

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var("KALAMDB_FAILPOINTS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    })
}

pub fn is_armed(name: &str) -> bool {
    armed().iter().any(|a| a == name)
}

/// Kills this process with SIGKILL when `name` is armed.
pub fn crash(name: &str) {
    if !is_armed(name) {
        return;
    }
    tracing::error!(failpoint = name, "failpoint armed: killing the server");
    let pid = std::process::id().to_string();
    // SIGKILL through kill(1): the standard library cannot send signals
    // and the workspace forbids unsafe code; abort is the fallback.
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status();
    std::process::abort();
}

/// Waits, when `name` is armed, until the job is cancelled.
pub async fn pause(name: &str, cancel: &CancelFlag) {
    if is_armed(name) {
        tracing::warn!(failpoint = name, "failpoint armed: job paused until killed");
        cancel.cancelled().await;
    }
}
