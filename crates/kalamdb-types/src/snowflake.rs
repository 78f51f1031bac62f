//! Snowflake ids: the layout of `_seq` and `SNOWFLAKE_ID()` (`wire-protocol.md` §7).
//!
//! From the top: 1 sign bit (0), 41 bits of milliseconds since 2024-01-01T00:00:00Z,
//! 10 bits of worker id, 12 bits of sequence within the millisecond.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// 2024-01-01T00:00:00Z in Unix milliseconds.
pub const SNOWFLAKE_EPOCH_MS: i64 = 1_704_067_200_000;
const WORKER_BITS: u32 = 10;
const SEQUENCE_BITS: u32 = 12;
const MAX_SEQUENCE: i64 = (1 << SEQUENCE_BITS) - 1;

/// A row version id (`_seq`): strictly increasing in commit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SeqId(pub i64);

impl SeqId {
    pub const ZERO: SeqId = SeqId(0);

    /// Commit time in Unix milliseconds.
    pub fn unix_millis(self) -> i64 {
        (self.0 >> (WORKER_BITS + SEQUENCE_BITS)) + SNOWFLAKE_EPOCH_MS
    }

    pub fn as_i64(self) -> i64 {
        self.0
    }
}

impl fmt::Display for SeqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug)]
struct State {
    last_ms: i64,
    sequence: i64,
}

/// The server's one generator. Ids strictly increase even if the wall clock
/// steps back (the last millisecond is kept) or a millisecond's 4096 ids run
/// out (the generator moves on to the next millisecond).
#[derive(Debug)]
pub struct SnowflakeGenerator {
    worker_id: i64,
    state: Mutex<State>,
}

impl SnowflakeGenerator {
    pub fn new(worker_id: u16) -> Self {
        Self {
            worker_id: i64::from(worker_id) & ((1 << WORKER_BITS) - 1),
            state: Mutex::new(State {
                last_ms: 0,
                sequence: 0,
            }),
        }
    }

    /// Makes every later id larger than `floor` (used at start-up with the
    /// largest `_seq` on disk, so a clock set back across a restart cannot
    /// reuse ids).
    pub fn observe(&self, floor: SeqId) {
        let mut st = self.state.lock();
        let ms = floor.0 >> (WORKER_BITS + SEQUENCE_BITS);
        let seq = floor.0 & MAX_SEQUENCE;
        if (ms, seq) > (st.last_ms, st.sequence) {
            st.last_ms = ms;
            st.sequence = seq;
        }
    }

    pub fn next_id(&self) -> SeqId {
        let now = Self::now_ms();
        let mut st = self.state.lock();
        if now > st.last_ms {
            st.last_ms = now;
            st.sequence = 0;
        } else if st.sequence < MAX_SEQUENCE {
            st.sequence += 1;
        } else {
            // Out of ids for this millisecond: borrow the next one rather than
            // spin; the clock catches up within a millisecond.
            st.last_ms += 1;
            st.sequence = 0;
        }
        SeqId(
            (st.last_ms << (WORKER_BITS + SEQUENCE_BITS))
                | (self.worker_id << SEQUENCE_BITS)
                | st.sequence,
        )
    }

    fn now_ms() -> i64 {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        (unix_ms - SNOWFLAKE_EPOCH_MS).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_strictly_increase_and_decode_to_now() {
        let g = SnowflakeGenerator::new(0);
        let mut last = SeqId(0);
        for _ in 0..20_000 {
            let id = g.next_id();
            assert!(id > last);
            last = id;
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        // 20k ids may borrow up to ~5 ms ahead of the clock.
        assert!((last.unix_millis() - now_ms).abs() < 1_000);
    }

    #[test]
    fn observe_moves_past_a_floor_in_the_future() {
        let g = SnowflakeGenerator::new(0);
        let future = SeqId((SnowflakeGenerator::now_ms() + 60_000) << 22);
        g.observe(future);
        assert!(g.next_id() > future);
    }
}
