//! Layer `live`: live queries — planning a subscription (`plan.rs`), its
//! initial snapshot and the reconciliation of changes held meanwhile
//! (`snapshot.rs`), registration and connections (`hub.rs`,
//! `connection.rs`, `registry.rs`), and routing every committed change to
//! the subscriptions it concerns (`router.rs`).
//!
//! The path of a change: a DML commit closure writes its rows with
//! `CommitContext::put_row`, which records `(key, old, new)` only when some
//! subscription watches the table; after the group is durable, in commit
//! order, the committer hands each change set to [`LiveHub`] (a
//! `write::ChangeSink`), which passes it to the router thread over a bounded
//! channel (a router that falls behind slows writers down rather than
//! growing memory). The router finds the candidate subscriptions by table,
//! partition and equality key; only they evaluate their WHERE (a DataFusion
//! physical expression, `CURRENT_USER()` bound to the subscriber) on the
//! old and new versions, which decides insert / update / delete as that
//! subscriber sees it.
//!
//! Each connection has one bounded queue. The router never waits on it: a
//! full queue asks the connection to close ("subscriber too slow") and
//! drops its subscriptions; the client resumes from its last `_seq`.
//!
//! No gap, no duplicate: see `hub.rs` (registration) and
//! `write/context.rs` (recording), then [`reconcile`].
//!
//! May import every layer below (`read` for planning and snapshots); must
//! not know JSON or sockets: it hands Arrow batches to the API layer, which
//! encodes them.

pub mod change;
pub mod connection;
pub mod error;
pub mod hub;
pub mod plan;
pub mod registry;
pub mod router;
pub mod snapshot;

pub use change::{ChangeKind, LiveChange};
pub use connection::{CloseReason, ConnEvent, LiveConnection, LiveEvent, SubKey};
pub use error::{LiveError, LiveErrorKind};
pub use hub::{LiveConfig, LiveHub, NewSubscription, options_json};
pub use kalamdb_store::PkValue;
pub use plan::LivePlan;
pub use snapshot::{LiveSnapshot, SnapshotOptions, reconcile};
