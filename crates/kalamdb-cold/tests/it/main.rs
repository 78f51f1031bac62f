//! Integration tests of the cold tier against real storage: the local
//! filesystem (`local`) and an S3-compatible server (`s3`).

mod local;
mod s3;
mod s3_harness;
