//! How long rows live, as `_seq` arithmetic: a row's commit time is encoded
//! in its `_seq` (`wire-protocol.md` §7), so "expired" (STREAM `TTL_SECONDS`,
//! `sql.md` §2.5) and "past retention" (`DELETED_RETENTION_HOURS`) are one
//! integer comparison against a cutoff computed once per scan or pass,
//! never a clock read per row.

use kalamdb_types::SNOWFLAKE_EPOCH_MS;

/// Bits of a `_seq` below its millisecond timestamp (worker id and sequence).
const SEQ_TIME_SHIFT: u32 = 22;

/// The smallest `_seq` still alive at `now_ms` under a TTL of `ttl_seconds`:
/// rows with a smaller `_seq` are expired. A row committed at `t` ms expires
/// when `t + ttl <= now`, i.e. `t <= now - ttl`, so the first live `_seq` is
/// the first one of millisecond `now - ttl + 1`.
pub fn expiry_cutoff(ttl_seconds: u64, now_ms: i64) -> i64 {
    let ttl_ms = i64::try_from(ttl_seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    let first_live_ms = now_ms
        .saturating_sub(ttl_ms)
        .saturating_sub(SNOWFLAKE_EPOCH_MS)
        .saturating_add(1);
    if first_live_ms <= 0 {
        // Nothing can be older than the epoch.
        return 0;
    }
    first_live_ms.saturating_mul(1 << SEQ_TIME_SHIFT)
}

/// Rows whose `_seq` is this old or older (ms since the epoch) are past a
/// retention of `retention_hours`: their tombstones may be dropped (with
/// retention 0, at once).
pub fn retention_horizon_ms(retention_hours: u64, now_ms: i64) -> i64 {
    now_ms - i64::try_from(retention_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX)
}

/// Wall-clock time in Unix milliseconds.
pub fn now_millis() -> i64 {
    kalamdb_types::now_micros() / 1000
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use kalamdb_types::SeqId;

    use super::*;

    #[test]
    fn the_cutoff_is_the_first_seq_of_the_first_live_millisecond() {
        let now = SNOWFLAKE_EPOCH_MS + 100_000;
        let cutoff = expiry_cutoff(10, now);
        assert_eq!(cutoff, 90_001 << 22);
        // Committed exactly TTL ago: expired (it "disappears TTL after").
        let at_ttl = SeqId((90_000 << 22) | 0x3F_FFFF);
        assert_eq!(at_ttl.unix_millis() + 10_000, now);
        assert!(at_ttl.as_i64() < cutoff);
        // One millisecond later: still alive, whatever its worker/sequence bits.
        let younger = SeqId(90_001 << 22);
        assert_eq!(younger.unix_millis() + 10_000, now + 1);
        assert!(younger.as_i64() >= cutoff);
        assert_eq!(SeqId(cutoff).unix_millis(), now - 10_000 + 1);
    }

    #[test]
    fn the_cutoff_never_goes_below_zero_nor_overflows() {
        assert_eq!(expiry_cutoff(10, SNOWFLAKE_EPOCH_MS), 0);
        assert_eq!(expiry_cutoff(u64::MAX, SNOWFLAKE_EPOCH_MS + 5_000), 0);
        assert_eq!(expiry_cutoff(1, 0), 0);
        assert_eq!(expiry_cutoff(0, i64::MAX), i64::MAX);
        // A real clock: rows committed now are alive under a 1 s TTL, and
        // expired a second later. `now` is read after the id is drawn: the
        // clock may tick between the two (this once failed under load when
        // `now` was read first and the id fell in the next millisecond).
        let seq = kalamdb_types::SnowflakeGenerator::new(0).next_id();
        let now = now_millis();
        assert!(seq.as_i64() >= expiry_cutoff(1, now));
        assert!(seq.as_i64() < expiry_cutoff(1, now + 1_000));
    }
}
