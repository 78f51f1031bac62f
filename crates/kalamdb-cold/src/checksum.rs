//! Checksums of segment files: what lets a reader tell a damaged segment
//! from a good one before decoding a byte of it.
//!
//! The `parquet` writer leaves the page CRC unset and zstd frames carry no
//! checksum, so a flipped bit in a data page can decode to a different
//! value. A checksum of the whole file would only help reads that fetch the
//! whole file, and point lookups fetch a footer and a few pages. So a file
//! is checked in two parts:
//!
//! - the *tail* (page index and footer, everything Parquet writes at
//!   close) by one CRC kept in the manifest entry ([`SegmentChecksums`]);
//!   a reader fetches the tail whole anyway;
//! - the *data* before it (row groups and their bloom filters) in blocks
//!   of 16 KiB or more, whose CRCs the footer holds under
//!   [`BLOCK_CHECKSUMS_KEY`] ([`BlockChecksums`]) — trustworthy because the
//!   footer was checked first.
//!
//! Every ranged read is widened to whole blocks and checked before Parquet
//! sees it (`read/reader.rs`). The manifest grows by one small object per
//! segment, whatever the file's size; the footer by 4 bytes per block (at
//! most 4,096 blocks, 22 KB of base64, for a segment of 64 MiB or more).

use std::ops::Range;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The footer key-value entry holding the data blocks' CRCs.
pub const BLOCK_CHECKSUMS_KEY: &str = "kalamdb.block_checksums";

/// The smallest block: Parquet page reads are rarely smaller, so a lookup
/// reads little more than it needs.
const MIN_BLOCK_BYTES: u64 = 16 * 1024;
/// Blocks per file at most (larger files get larger blocks).
const MAX_BLOCKS: u64 = 4096;

/// The checksum function. Stored by name so that a later format can add
/// another; a manifest naming one this build does not know fails to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    /// CRC-32 (IEEE), as `crc32fast` computes it.
    Crc32,
}

/// What a segment's manifest entry records to check the file:
/// `{"algorithm":"crc32","tail_start":N,"tail_crc":C}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentChecksums {
    pub algorithm: ChecksumAlgorithm,
    /// Where the tail (page index and footer) starts; the data blocks
    /// cover `[0, tail_start)`.
    pub tail_start: u64,
    /// CRC of `[tail_start, file size)`.
    pub tail_crc: u32,
}

impl SegmentChecksums {
    /// Do these checksums fit a file of `size` bytes? (A manifest entry
    /// whose checksums do not is damaged.)
    pub fn check_shape(&self, size: u64) -> Result<(), String> {
        // At least the leading magic before the tail, at least the
        // trailing length and magic in it.
        if self.tail_start < 4 || self.tail_start + 8 > size {
            return Err(format!(
                "a tail at {} in a file of {size} bytes",
                self.tail_start
            ));
        }
        Ok(())
    }
}

/// The CRCs of the data blocks, as the footer keeps them:
/// `{"algorithm":"crc32","block_bytes":16384,"blocks":"<base64>"}`, the
/// blocks being the big-endian CRCs of `[i * block_bytes, (i + 1) *
/// block_bytes)`, the last block ending at the tail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockChecksums {
    pub algorithm: ChecksumAlgorithm,
    pub block_bytes: u64,
    #[serde(serialize_with = "blocks_out", deserialize_with = "blocks_in")]
    pub blocks: Vec<u32>,
}

impl BlockChecksums {
    /// The checksums of `data` (a file's bytes before its tail).
    pub fn compute(data: &[u8]) -> Self {
        let block_bytes = block_bytes_for(data.len() as u64);
        let blocks = data
            .chunks(usize::try_from(block_bytes).unwrap_or(usize::MAX))
            .map(crc32fast::hash)
            .collect();
        Self {
            algorithm: ChecksumAlgorithm::Crc32,
            block_bytes,
            blocks,
        }
    }

    /// Do these checksums cover `len` bytes of data?
    pub fn check_shape(&self, len: u64) -> Result<(), String> {
        if self.block_bytes == 0 {
            return Err("checksum blocks of 0 bytes".into());
        }
        if self.blocks.len() as u64 != len.div_ceil(self.block_bytes) {
            return Err(format!(
                "{} checksums for {len} bytes in blocks of {}",
                self.blocks.len(),
                self.block_bytes
            ));
        }
        Ok(())
    }
}

/// Bytes that do not match their checksum (or are missing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bytes {}..{} fail their checksum{}", .range.start, .range.end, if *.short { " (the file is shorter than when it was written)" } else { "" })]
pub struct ChecksumMismatch {
    pub range: Range<u64>,
    /// The storage returned fewer bytes than were asked for.
    pub short: bool,
}

/// A file's checked regions: the data blocks (once the footer is known)
/// and the tail.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) size: u64,
    pub(crate) tail_start: u64,
    tail_crc: u32,
    /// `None` until the footer has been read and checked: only the tail
    /// can be read then.
    blocks: Option<Arc<BlockChecksums>>,
}

impl Layout {
    pub(crate) fn new(size: u64, sums: &SegmentChecksums) -> Self {
        Self {
            size,
            tail_start: sums.tail_start,
            tail_crc: sums.tail_crc,
            blocks: None,
        }
    }

    /// With the data blocks' CRCs from the (checked) footer.
    pub(crate) fn with_blocks(mut self, blocks: Arc<BlockChecksums>) -> Result<Self, String> {
        blocks.check_shape(self.tail_start)?;
        self.blocks = Some(blocks);
        Ok(self)
    }

    /// The checked region holding byte `at`, and its CRC.
    fn region_at(&self, at: u64) -> Option<(Range<u64>, u32)> {
        if at >= self.tail_start {
            return (at < self.size).then_some((self.tail_start..self.size, self.tail_crc));
        }
        let blocks = self.blocks.as_ref()?;
        let b = blocks.block_bytes.max(1);
        let index = at / b;
        let crc = *blocks.blocks.get(usize::try_from(index).ok()?)?;
        Some((index * b..((index + 1) * b).min(self.tail_start), crc))
    }

    /// `range` widened to whole checked regions; `None` if part of it is in
    /// no region (beyond the file, or data before the footer is known).
    pub(crate) fn widen(&self, range: &Range<u64>) -> Option<Range<u64>> {
        if range.start >= range.end {
            return Some(range.clone());
        }
        let first = self.region_at(range.start)?.0;
        let last = self.region_at(range.end - 1)?.0;
        Some(first.start..last.end)
    }

    /// Checks `bytes`, read from `start` (a region boundary), `want` bytes
    /// asked for: every region in them must match.
    pub(crate) fn verify(
        &self,
        start: u64,
        want: u64,
        bytes: &[u8],
    ) -> Result<(), ChecksumMismatch> {
        let mut offset = start;
        let end = start + want;
        while offset < end {
            let Some((region, crc)) = self.region_at(offset) else {
                return Err(ChecksumMismatch {
                    range: offset..end,
                    short: true,
                });
            };
            let from = region.start - start;
            let to = region.end - start;
            let part = usize::try_from(from)
                .ok()
                .zip(usize::try_from(to).ok())
                .and_then(|(f, t)| bytes.get(f..t));
            match part {
                None => {
                    return Err(ChecksumMismatch {
                        range: region,
                        short: true,
                    });
                }
                Some(p) if crc32fast::hash(p) != crc => {
                    return Err(ChecksumMismatch {
                        range: region,
                        short: false,
                    });
                }
                Some(_) => {}
            }
            offset = region.end;
        }
        Ok(())
    }
}

/// Powers of two from 16 KiB, so that at most 4,096 blocks cover the data.
fn block_bytes_for(len: u64) -> u64 {
    len.div_ceil(MAX_BLOCKS)
        .max(MIN_BLOCK_BYTES)
        .next_power_of_two()
}

fn blocks_out<S: Serializer>(blocks: &[u32], s: S) -> Result<S::Ok, S::Error> {
    let bytes: Vec<u8> = blocks.iter().flat_map(|c| c.to_be_bytes()).collect();
    s.serialize_str(&STANDARD.encode(bytes))
}

fn blocks_in<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let text = String::deserialize(d)?;
    let bytes = STANDARD
        .decode(text.as_bytes())
        .map_err(serde::de::Error::custom)?;
    let (crcs, rest) = bytes.as_chunks::<4>();
    if !rest.is_empty() {
        return Err(serde::de::Error::custom(
            "checksum blocks are not a whole number of CRC-32s",
        ));
    }
    Ok(crcs.iter().map(|c| u32::from_be_bytes(*c)).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn file(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// 70,000 bytes: data blocks of 16 KiB over the first 60,000, a tail of
    /// 10,000.
    fn layout(data: &[u8]) -> Layout {
        let sums = SegmentChecksums {
            algorithm: ChecksumAlgorithm::Crc32,
            tail_start: 60_000,
            tail_crc: crc32fast::hash(&data[60_000..]),
        };
        sums.check_shape(data.len() as u64).unwrap();
        Layout::new(data.len() as u64, &sums)
            .with_blocks(Arc::new(BlockChecksums::compute(&data[..60_000])))
            .unwrap()
    }

    #[test]
    fn block_sizes_grow_with_the_data() {
        assert_eq!(block_bytes_for(0), 16 * 1024);
        assert_eq!(block_bytes_for(64 * 1024 * 1024), 16 * 1024);
        assert_eq!(block_bytes_for(64 * 1024 * 1024 + 1), 32 * 1024);
        assert_eq!(block_bytes_for(1 << 30), 256 * 1024);
        let c = BlockChecksums::compute(&file(60_000));
        assert_eq!((c.block_bytes, c.blocks.len()), (16_384, 4));
        c.check_shape(60_000).unwrap();
        assert!(c.check_shape(70_000).is_err());
        assert!(BlockChecksums::compute(&[]).blocks.is_empty());
    }

    #[test]
    fn stored_forms_round_trip_and_refuse_damage() {
        let c = BlockChecksums::compute(&file(20_000));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"algorithm":"crc32","block_bytes":16384,"blocks":""#));
        assert_eq!(serde_json::from_str::<BlockChecksums>(&json).unwrap(), c);
        for bad in [
            r#"{"algorithm":"crc32","block_bytes":16384,"blocks":"AAAA"}"#,
            r#"{"algorithm":"crc32","block_bytes":16384,"blocks":"not base64!"}"#,
            r#"{"algorithm":"md5","block_bytes":16384,"blocks":""}"#,
        ] {
            assert!(
                serde_json::from_str::<BlockChecksums>(bad).is_err(),
                "{bad}"
            );
        }
        let s: SegmentChecksums =
            serde_json::from_str(r#"{"algorithm":"crc32","tail_start":100,"tail_crc":7}"#).unwrap();
        assert!(s.check_shape(108).is_ok());
        assert!(s.check_shape(107).is_err());
    }

    #[test]
    fn reads_widen_to_regions_and_every_flip_is_caught() {
        let data = file(70_000);
        let l = layout(&data);
        assert_eq!(l.widen(&(10..20)), Some(0..16_384));
        assert_eq!(l.widen(&(16_384..16_385)), Some(16_384..32_768));
        assert_eq!(l.widen(&(50_000..60_000)), Some(49_152..60_000));
        assert_eq!(l.widen(&(59_999..60_001)), Some(49_152..70_000));
        assert_eq!(l.widen(&(69_000..70_000)), Some(60_000..70_000));
        assert_eq!(l.widen(&(69_000..70_001)), None, "beyond the file");
        let no_footer_yet = Layout::new(
            70_000,
            &SegmentChecksums {
                algorithm: ChecksumAlgorithm::Crc32,
                tail_start: 60_000,
                tail_crc: 0,
            },
        );
        assert_eq!(no_footer_yet.widen(&(0..10)), None);
        assert_eq!(no_footer_yet.widen(&(65_000..66_000)), Some(60_000..70_000));

        l.verify(0, 70_000, &data).unwrap();
        l.verify(49_152, 70_000 - 49_152, &data[49_152..]).unwrap();
        for (at, region) in [
            (0, 0..16_384),
            (16_384, 16_384..32_768),
            (59_999, 49_152..60_000),
            (60_000, 60_000..70_000),
            (69_999, 60_000..70_000),
        ] {
            let mut bad = data.clone();
            bad[at] ^= 0x01;
            let err = l.verify(0, 70_000, &bad).unwrap_err();
            assert_eq!(
                err,
                ChecksumMismatch {
                    range: region,
                    short: false
                },
                "{at}"
            );
        }
        // A short read: the file was truncated.
        let err = l
            .verify(49_152, 70_000 - 49_152, &data[49_152..65_000])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "bytes 60000..70000 fail their checksum (the file is shorter than when it was written)"
        );
    }
}
