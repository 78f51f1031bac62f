//! The one order-preserving byte encoding used for every hot-store key.
//!
//! RocksDB and the in-memory store sort keys as plain byte strings, so range
//! scans (one table, one user's partition, rows in primary-key order) only work
//! if byte order equals logical order. This codec guarantees that: for two
//! values `a < b` of the same type, `encode(a) < encode(b)` bytewise, and
//! because every field is self-delimiting, concatenated fields compare in tuple
//! order.
//!
//! | type        | encoding                                                        |
//! |-------------|-----------------------------------------------------------------|
//! | `u8`        | the byte                                                        |
//! | `u64`       | 8 bytes big-endian                                              |
//! | `i64`       | 8 bytes big-endian with the sign bit flipped (negatives first)  |
//! | str / bytes | each 0x00 written as 0x00 0xFF, then terminator 0x00 0x00       |
//! | `[u8; 16]`  | the 16 bytes as they are (fixed width needs no terminator)      |
//! | `[u8; 32]`  | likewise, 32 bytes                                              |
//!
//! The terminator sorts below every escaped or ordinary byte, so a string sorts
//! before all its extensions and a prefix ending in a string field cannot match
//! a longer string (`ab` never matches `abc`).

use crate::error::KeyError;

const ESCAPE: u8 = 0x00;
const ESCAPED_ZERO: u8 = 0xFF;
const TERMINATOR: u8 = 0x00;
const SIGN_BIT: u64 = 1 << 63;

/// Appends encoded fields to a key buffer.
#[derive(Debug, Default, Clone)]
pub struct KeyWriter {
    buf: Vec<u8>,
}

impl KeyWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn i64(&mut self, value: i64) -> &mut Self {
        // Flipping the sign bit maps i64::MIN..=i64::MAX onto 0..=u64::MAX
        // monotonically, so the unsigned big-endian order is the signed order.
        self.u64(u64::from_be_bytes(value.to_be_bytes()) ^ SIGN_BIT)
    }

    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        for &byte in value {
            if byte == ESCAPE {
                self.buf.extend_from_slice(&[ESCAPE, ESCAPED_ZERO]);
            } else {
                self.buf.push(byte);
            }
        }
        self.buf.extend_from_slice(&[ESCAPE, TERMINATOR]);
        self
    }

    pub fn raw16(&mut self, value: &[u8; 16]) -> &mut Self {
        self.buf.extend_from_slice(value);
        self
    }

    pub fn raw32(&mut self, value: &[u8; 32]) -> &mut Self {
        self.buf.extend_from_slice(value);
        self
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields back in the order a [`KeyWriter`] wrote them. Every method
/// fails with a [`KeyError`] on truncated or malformed input.
#[derive(Debug, Clone)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The bytes not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, KeyError> {
        let (&byte, rest) = self
            .rest
            .split_first()
            .ok_or(KeyError::Truncated { expected: "a byte" })?;
        self.rest = rest;
        Ok(byte)
    }

    pub fn u64(&mut self) -> Result<u64, KeyError> {
        let bytes = self.fixed::<8>("an 8-byte integer")?;
        Ok(u64::from_be_bytes(bytes))
    }

    pub fn i64(&mut self) -> Result<i64, KeyError> {
        let flipped = self.u64()? ^ SIGN_BIT;
        Ok(i64::from_be_bytes(flipped.to_be_bytes()))
    }

    pub fn bytes(&mut self) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::new();
        let mut iter = self.rest.iter();
        loop {
            let Some(&byte) = iter.next() else {
                return Err(KeyError::Truncated {
                    expected: "a string terminator",
                });
            };
            if byte != ESCAPE {
                out.push(byte);
                continue;
            }
            match iter.next() {
                Some(&TERMINATOR) => break,
                Some(&ESCAPED_ZERO) => out.push(0x00),
                Some(&other) => return Err(KeyError::InvalidEscape(other)),
                None => {
                    return Err(KeyError::Truncated {
                        expected: "a string escape or terminator",
                    });
                }
            }
        }
        self.rest = iter.as_slice();
        Ok(out)
    }

    pub fn str(&mut self) -> Result<String, KeyError> {
        String::from_utf8(self.bytes()?).map_err(|_| KeyError::InvalidUtf8)
    }

    pub fn raw16(&mut self) -> Result<[u8; 16], KeyError> {
        self.fixed::<16>("16 raw bytes")
    }

    pub fn raw32(&mut self) -> Result<[u8; 32], KeyError> {
        self.fixed::<32>("32 raw bytes")
    }

    /// Fails unless the whole input was consumed, so a key with garbage after
    /// its last field is not silently accepted.
    pub fn finish(self) -> Result<(), KeyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(KeyError::TrailingBytes(self.rest.len()))
        }
    }

    fn fixed<const N: usize>(&mut self, expected: &'static str) -> Result<[u8; N], KeyError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(KeyError::Truncated { expected })?;
        self.rest = rest;
        Ok(*head)
    }
}

/// The smallest byte string greater than every string starting with
/// `prefix`, or `None` when no such string exists (empty or all 0xFF).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut succ = prefix.to_vec();
    while let Some(last) = succ.pop() {
        if last < u8::MAX {
            succ.push(last + 1);
            return Some(succ);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic xorshift64* generator: reproducible "random" inputs
    /// without a property-testing dependency.
    pub(crate) struct XorShift(u64);

    impl XorShift {
        pub(crate) fn new(seed: u64) -> Self {
            Self(seed.max(1))
        }

        pub(crate) fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }

        pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }

        /// Mostly values near interesting boundaries, sometimes anything.
        pub(crate) fn i64(&mut self) -> i64 {
            match self.below(4) {
                0 => *self.pick(&[i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]),
                1 => self.below(2000) as i64 - 1000,
                _ => self.next_u64() as i64,
            }
        }

        pub(crate) fn u64(&mut self) -> u64 {
            match self.below(4) {
                0 => *self.pick(&[0, 1, 255, 256, u64::MAX - 1, u64::MAX]),
                1 => self.below(1000),
                _ => self.next_u64(),
            }
        }

        /// Short strings over a tiny alphabet, so shared prefixes are common.
        pub(crate) fn bytes_from(&mut self, alphabet: &[u8], max_len: u64) -> Vec<u8> {
            let len = self.below(max_len + 1);
            (0..len).map(|_| *self.pick(alphabet)).collect()
        }
    }

    fn key_of(f: impl FnOnce(&mut KeyWriter)) -> Vec<u8> {
        let mut w = KeyWriter::new();
        f(&mut w);
        w.finish()
    }

    #[test]
    fn every_field_round_trips() {
        let uuid = [7u8; 16];
        let mut w = KeyWriter::new();
        w.u8(9)
            .u64(u64::MAX)
            .i64(-5)
            .str("a\0b")
            .bytes(&[0x00, 0xFF, 0x00])
            .raw16(&uuid)
            .str("");
        let bytes = w.finish();
        let mut r = KeyReader::new(&bytes);
        assert_eq!(r.u8().unwrap(), 9);
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.str().unwrap(), "a\0b");
        assert_eq!(r.bytes().unwrap(), vec![0x00, 0xFF, 0x00]);
        assert_eq!(r.raw16().unwrap(), uuid);
        assert_eq!(r.str().unwrap(), "");
        r.finish().unwrap();
    }

    #[test]
    fn exact_byte_layout() {
        assert_eq!(key_of(|w| _ = w.u64(258)), vec![0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(key_of(|w| _ = w.i64(0)), vec![0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            key_of(|w| _ = w.i64(-1)),
            vec![0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(
            key_of(|w| _ = w.bytes(b"a\0")),
            vec![b'a', 0x00, 0xFF, 0x00, 0x00]
        );
    }

    #[test]
    fn i64_order_is_preserved() {
        let mut rng = XorShift::new(1);
        for _ in 0..20_000 {
            let (a, b) = (rng.i64(), rng.i64());
            let (ea, eb) = (key_of(|w| _ = w.i64(a)), key_of(|w| _ = w.i64(b)));
            assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a} vs {b}");
            assert_eq!(KeyReader::new(&ea).i64().unwrap(), a);
        }
    }

    #[test]
    fn u64_order_is_preserved() {
        let mut rng = XorShift::new(2);
        for _ in 0..20_000 {
            let (a, b) = (rng.u64(), rng.u64());
            let (ea, eb) = (key_of(|w| _ = w.u64(a)), key_of(|w| _ = w.u64(b)));
            assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a} vs {b}");
            assert_eq!(KeyReader::new(&ea).u64().unwrap(), a);
        }
    }

    #[test]
    fn bytes_order_is_preserved_with_embedded_zero_and_ff() {
        let mut rng = XorShift::new(3);
        let alphabet = [0x00, 0x01, b'a', b'b', 0xFE, 0xFF];
        for _ in 0..20_000 {
            let a = rng.bytes_from(&alphabet, 6);
            let b = rng.bytes_from(&alphabet, 6);
            let (ea, eb) = (key_of(|w| _ = w.bytes(&a)), key_of(|w| _ = w.bytes(&b)));
            assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a:?} vs {b:?}");
            assert_eq!(KeyReader::new(&ea).bytes().unwrap(), a);
        }
    }

    #[test]
    fn str_order_is_preserved_with_nul_and_high_chars() {
        let mut rng = XorShift::new(4);
        let alphabet = ['\0', 'a', 'b', 'ÿ', '\u{10FFFF}'];
        for _ in 0..20_000 {
            let gen_str = |rng: &mut XorShift| -> String {
                (0..rng.below(5)).map(|_| *rng.pick(&alphabet)).collect()
            };
            let (a, b) = (gen_str(&mut rng), gen_str(&mut rng));
            let (ea, eb) = (key_of(|w| _ = w.str(&a)), key_of(|w| _ = w.str(&b)));
            assert_eq!(a.cmp(&b), ea.cmp(&eb), "{a:?} vs {b:?}");
            assert_eq!(KeyReader::new(&ea).str().unwrap(), a);
        }
    }

    #[test]
    fn tuples_compare_in_field_order() {
        let mut rng = XorShift::new(5);
        let alphabet = [0x00, b'a', 0xFF];
        for _ in 0..20_000 {
            let a = (
                rng.bytes_from(&alphabet, 3),
                rng.i64(),
                rng.bytes_from(&alphabet, 3),
            );
            let b = (
                rng.bytes_from(&alphabet, 3),
                rng.i64(),
                rng.bytes_from(&alphabet, 3),
            );
            let enc =
                |t: &(Vec<u8>, i64, Vec<u8>)| key_of(|w| _ = w.bytes(&t.0).i64(t.1).bytes(&t.2));
            assert_eq!(a.cmp(&b), enc(&a).cmp(&enc(&b)), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(matches!(
            KeyReader::new(&[]).u8(),
            Err(KeyError::Truncated { .. })
        ));
        assert!(matches!(
            KeyReader::new(&[1, 2, 3]).u64(),
            Err(KeyError::Truncated { .. })
        ));
        assert!(matches!(
            KeyReader::new(&[0x80; 7]).i64(),
            Err(KeyError::Truncated { .. })
        ));
        assert!(matches!(
            KeyReader::new(&[1; 15]).raw16(),
            Err(KeyError::Truncated { .. })
        ));
        assert!(matches!(
            KeyReader::new(b"abc").bytes(),
            Err(KeyError::Truncated { .. })
        ));
        assert!(matches!(
            KeyReader::new(b"abc\0").bytes(),
            Err(KeyError::Truncated { .. })
        ));
        assert_eq!(
            KeyReader::new(b"a\0\x01\0\0").bytes(),
            Err(KeyError::InvalidEscape(1))
        );
        assert_eq!(
            KeyReader::new(&[0xFF, 0x00, 0x00]).str(),
            Err(KeyError::InvalidUtf8)
        );

        let mut r = KeyReader::new(&[1, 2]);
        r.u8().unwrap();
        assert_eq!(r.finish(), Err(KeyError::TrailingBytes(1)));

        // Every truncation of a valid multi-field key fails cleanly.
        let full = key_of(|w| _ = w.str("ns").i64(7).raw16(&[3; 16]));
        for cut in 0..full.len() {
            let mut r = KeyReader::new(&full[..cut]);
            let res = r.str().and_then(|_| r.i64()).and_then(|_| r.raw16());
            assert!(res.is_err(), "prefix of length {cut} decoded");
        }
    }

    #[test]
    fn prefix_successor_bounds_all_extensions() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[1, 0xFF, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_successor(&[]), None);
        let succ = prefix_successor(&[5, 0xFE]).unwrap();
        assert!([5u8, 0xFE, 0xFF, 0xFF].as_slice() < succ.as_slice());
    }
}
