//! Facts about the machine printed with every result: a durable write can
//! never be faster than the disk's fsync, so a table without that number
//! cannot be compared across machines.

use std::io::Write;
use std::time::Instant;

use crate::report::Latency;

/// CPU cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Median time to write and fsync a fresh 4 KiB file, over 50 files in a
/// temporary directory (`TMPDIR`, where the in-process server keeps its
/// data too).
pub fn fsync_p50_ms() -> std::io::Result<f64> {
    let dir = tempfile::Builder::new()
        .prefix("kalamdb-bench-fsync-")
        .tempdir()?;
    let block = [0x5a_u8; 4096];
    let mut samples = Vec::with_capacity(50);
    for i in 0..50 {
        let started = Instant::now();
        let mut file = std::fs::File::create(dir.path().join(format!("probe-{i}")))?;
        file.write_all(&block)?;
        file.sync_all()?;
        samples.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    Ok(Latency::from_micros(&mut samples)
        .map(|l| l.p50_ms)
        .unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_measured() {
        assert!(cores() >= 1);
        let ms = fsync_p50_ms().unwrap();
        assert!(ms.is_finite() && ms >= 0.0, "{ms}");
    }
}
