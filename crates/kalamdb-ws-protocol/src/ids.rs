//! The protocol-level `subscription_id`s of errors that concern no subscription (§6.9). The
//! Rust client ignores errors whose id names none of its subscriptions, so these never fail
//! a subscribe call by accident.

/// Malformed messages, oversized messages and binary frames.
pub const PROTOCOL: &str = "protocol";
/// Inbound message rate exceeded.
pub const RATE_LIMIT: &str = "rate_limit";
/// `subscribe` before authentication.
pub const SUBSCRIBE: &str = "subscribe";
/// A `subscribe` whose `subscription.id` is blank (there is no id to echo).
pub const INVALID_SUBSCRIPTION: &str = "invalid_subscription";
