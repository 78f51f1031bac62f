//! The Arrow field metadata keys that carry a column's KalamDB type and flags through
//! DataFusion plans, where the Arrow type alone loses them.

/// Arrow field metadata key carrying a column's [`KalamDataType`](crate::KalamDataType) as its wire
/// JSON (`"BigInt"`, `{"Decimal":…}`), so results keep the declared type even
/// where the Arrow type is shared (JSON and UUID columns are Arrow `Utf8`).
pub const FIELD_META_DATA_TYPE: &str = "kalam.data_type";
/// Arrow field metadata key carrying a column's wire flags, comma-separated
/// (`pk,nn,uq`).
pub const FIELD_META_FLAGS: &str = "kalam.flags";
