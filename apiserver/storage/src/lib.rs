//! etcd-like storage for a Kubernetes-style API server.
//!
//! Keys are strings such as `/registry/<group>/<resource>/<namespace>/<name>`; values are opaque
//! bytes (the serialized storage-version object). The store keeps a global, monotonically
//! increasing [`Revision`] (what the API server exposes as `resourceVersion`), a create and a mod
//! revision per key, compare-and-swap writes on the mod revision, prefix range reads with paging,
//! and watches from a revision backed by a bounded event history (older revisions are
//! [`StorageError::Expired`], i.e. HTTP 410 Gone).
//!
//! The [`Storage`] trait is shaped after etcd 3 so that an `etcd-client` backend can implement it
//! later with the same semantics (conventions §4):
//!
//! | trait call | etcd equivalent |
//! | --- | --- |
//! | [`Storage::create`] | `Txn(If ModRevision(key) == 0, Then Put)` |
//! | [`Storage::update`] | `Txn(If ModRevision(key) == expected, Then Put, Else Get)` |
//! | [`Storage::delete`] | `Txn(If ModRevision(key) == expected, Then Delete(prev_kv))` |
//! | [`Storage::list`] | `Range(prefix, limit)`; the result carries the header revision |
//! | [`Storage::watch`] | `Watch(prefix, WithRev(from + 1), WithPrevKV)`; compacted ⇒ `Expired` |
//! | [`Storage::compact`] | `Compact(revision)` |
//!
//! Every mutation bumps the revision by exactly one and produces exactly one [`Event`] whose
//! `revision` is that new revision.
//!
//! # Backends
//!
//! * [`MemoryStore`]: a `BTreeMap` behind a mutex; for tests and the fake clientset.
//! * [`EmbeddedStore`]: a single-file, crash-safe ACID store on [`redb`] (pure Rust, copy-on-write
//!   B-trees, checksummed). Concurrent mutations share a write transaction (a group commit),
//!   made durable before any of the calls returns by one synced append to a write-ahead log
//!   beside the file (see [`StoreOptions::write_ahead_log_bytes`]). The revision counter, the per-key revisions and the history
//!   (a log of every event, MVCC-style as kine keeps it) live in the file, so revisions keep
//!   growing across restarts, and lists at an older revision and watches from one are exact
//!   across restarts until [`Storage::compact`] drops that history — run
//!   [`compact_periodically`] beside it, or the log grows with every write.
//! * [`EtcdStore`]: an etcd 3 cluster through `etcd-client`, for several API-server replicas:
//!   revisions are etcd's, writes are transactions on the key's revision, watches are etcd
//!   watches (a compacted revision is `Expired`); an unreachable etcd is `Unavailable`, a slow
//!   one `Timeout`.
//! * [`Cacher`]: a watch cache in front of any of them (Kubernetes' `cacher`): one store watch
//!   per cached prefix fans out to every watcher in memory, and lists that accept a recent
//!   revision are answered from memory. For etcd.
//! * [`AnyStore`]: any of them, chosen at run time.
//!
//! Both in-process backends share one watch implementation (the private `watch` module): bounded
//! history (default [`DEFAULT_HISTORY_CAPACITY`] events), a bounded buffer per watcher (default
//! [`DEFAULT_WATCH_BUFFER`] events). A writer never waits for a watcher: a burst bigger than a
//! watcher's buffer waits in the shared history until the watcher reads it, and a watcher more
//! than half the history behind (or missing an event the history dropped) receives one final
//! `Err(Behind)` and its stream ends; a new watch from the last revision it was given goes on
//! (as kube-apiserver's watch cache closes a slow watcher and its client watches again).
//!
//! # Example
//!
//! ```
//! use apiserver_storage::{Bytes, EventType, ListOptions, MemoryStore, Storage, StorageError};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let key = "/registry/pager.k8s.co/alerts/default/a";
//! let created = store.create(key, Bytes::from_static(b"{}")).await?;
//! let mut watch = store.watch("/registry/pager.k8s.co/alerts/", created.mod_revision).await?;
//!
//! // Optimistic concurrency: the update names the revision it read.
//! let updated = store
//!     .update(key, Bytes::from_static(b"{\"spec\":1}"), Some(created.mod_revision))
//!     .await?;
//! let stale = store.update(key, Bytes::from_static(b"{}"), Some(created.mod_revision)).await;
//! assert!(matches!(stale, Err(StorageError::Conflict { .. })));
//!
//! let event = watch.recv().await.unwrap()?;
//! assert_eq!((event.kind, event.revision), (EventType::Modified, updated.mod_revision));
//!
//! let page = store.list("/registry/pager.k8s.co/alerts/", ListOptions::default()).await?;
//! assert_eq!((page.items.len(), page.revision), (1, updated.mod_revision));
//! # Ok::<(), StorageError>(())
//! # }).unwrap();
//! ```
//!
//! # Decisions worth knowing
//!
//! * `update` checks `expected_mod_revision` *before* comparing bytes: a stale precondition is a
//!   `Conflict` even when the bytes are unchanged. With identical bytes (and a satisfied
//!   precondition) nothing is written and the stored [`KeyValue`] is returned unchanged, as
//!   Kubernetes' `GuaranteedUpdate` does.
//! * `watch(prefix, 0)` means "from now" (no replay). A `from` above the current revision is
//!   accepted; events up to and including `from` are skipped (etcd semantics).
//! * `compact(revision)` drops the history up to `revision` (clamped to the current revision);
//!   [`compact_periodically`] does it by age. The memory store's history is also bounded by
//!   [`StoreOptions::history_capacity`] (for the embedded store that bounds only the in-memory
//!   replay cache in front of its persisted log).
//! * Watch streams carry [`EventType::Progress`] events on request ([`ProgressHandle`]), so a
//!   quiet watcher learns the store's current revision (the API server's BOOKMARKs) and does not
//!   fall behind the history while other keys are busy.
//! * `ListOptions::limit` of `Some(0)` means no limit (Kubernetes `limit=0`).
//! * Values larger than [`StoreOptions::max_value_size`] (default 1.5 MiB, etcd's default request
//!   limit) are refused with [`StorageError::TooLarge`].
//! * Keys are not validated here; the registry builds them from validated names.
//! * redb is blocking: every `EmbeddedStore` call runs in `tokio::task::spawn_blocking`, which also
//!   turns an unexpected panic inside redb into an error instead of unwinding into the caller.
//!   The methods therefore need a Tokio runtime.

use std::fmt;
use std::future::Future;

pub use bytes::Bytes;

mod cacher;
mod compactor;
mod embedded;
mod etcd;
mod memory;
mod watch;

pub use cacher::Cacher;
pub use compactor::{DEFAULT_COMPACTION_INTERVAL, compact_periodically};
pub use embedded::{EmbeddedStore, GroupCommits};
pub use etcd::{EtcdOptions, EtcdStore, EtcdTls};
pub use memory::MemoryStore;
pub use watch::{ProgressHandle, WatchItem, WatchSlot, WatchStream};

/// A store revision: the `resourceVersion` of Kubernetes. `0` is "no revision".
pub type Revision = u64;

/// Default number of events kept for watch replay.
pub const DEFAULT_HISTORY_CAPACITY: usize = 10_000;
/// Default bound of the in-memory watch history in bytes (keys and values of the events kept).
pub const DEFAULT_HISTORY_BYTES: usize = 64 * 1024 * 1024;
/// Default number of live events buffered per watcher; more wait in the shared history (as
/// kube-apiserver's cacher keeps a small channel per watcher and its events in the watch cache).
/// A watch whose client stops reading holds a full buffer until the server ends it, so this
/// bounds what such a watch pins: 1,024 events held about 330 KB each.
pub const DEFAULT_WATCH_BUFFER: usize = 128;
/// Default maximum value size: etcd's default `--max-request-bytes` (1.5 MiB).
pub const DEFAULT_MAX_VALUE_SIZE: usize = 1_572_864;

/// A stored key with its value and revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the create that brought the key into existence.
    pub create_revision: Revision,
    /// Revision of the last write of this key (the object's `resourceVersion`). For a deleted
    /// value returned by `delete` or carried by a `Deleted` event: the delete's revision.
    pub mod_revision: Revision,
}

/// The kind of a watch [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
    /// Not a change: every change up to `revision` on the watched keys has been delivered (a
    /// Kubernetes BOOKMARK). `kv` has an empty key and value, `prev` is `None`. Only on watch
    /// streams (see [`WatchStream`]), never in a store's history.
    Progress,
}

/// One mutation, as seen by watchers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    /// The new value; for `Deleted`, the last value with `mod_revision` = the delete's revision.
    pub kv: KeyValue,
    /// The value before the mutation (`None` for `Added`), with its own revisions.
    pub prev: Option<KeyValue>,
    /// The revision this mutation created (= `kv.mod_revision`).
    pub revision: Revision,
    /// What a reader derives from this event (the API server: where its decoded objects are),
    /// made by the first watcher it reaches for the others.
    pub memo: Memo,
}

impl Event {
    /// An event of `kind` whose new value is `kv` (its revision is `kv.mod_revision`), for
    /// backends outside this crate; its memo starts empty.
    pub fn new(kind: EventType, kv: KeyValue, prev: Option<KeyValue>) -> Event {
        Event {
            kind,
            revision: kv.mod_revision,
            kv,
            prev,
            memo: Memo::default(),
        }
    }
}

/// A value derived from an [`Event`] by its first reader and shared by the others: an event
/// reaches every watcher of its keys by pointer, and what the API server decodes and encodes
/// from it is the same for each of them. Not part of the event's value: a clone starts empty
/// and any two compare equal.
#[derive(Default)]
pub struct Memo(std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>);

impl Memo {
    /// What is kept, made by `make` if nothing is yet; `None` when what is kept is not a `T`
    /// (another kind of reader got there first).
    pub fn get_or_init<T: std::any::Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> T,
    ) -> Option<&T> {
        self.0.get_or_init(|| Box::new(make())).downcast_ref()
    }
}

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl PartialEq for Memo {
    fn eq(&self, _: &Memo) -> bool {
        true
    }
}

impl Eq for Memo {}

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Memo(kept)"
        } else {
            "Memo"
        })
    }
}

/// Options of a [`Storage::list`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Continue after this key (exclusive): the last key of the previous page.
    pub start_after: Option<String>,
    /// At most this many items; `None` or `Some(0)` = all.
    pub limit: Option<usize>,
    /// Read at this revision (a snapshot: what the keys were then), `None` for the current one.
    /// `Expired` when that revision's history was compacted; `Timeout` when the store has not
    /// reached it.
    pub revision: Option<Revision>,
    /// With `revision` unset: any revision at or above this one will do — Kubernetes'
    /// `resourceVersion="0"` (`Some(0)`, "any") and `resourceVersionMatch=NotOlderThan`. `None`
    /// asks for the current revision (a consistent read). Stores answer with their current
    /// revision either way; a [`Cacher`] answers from its cache when that is recent enough.
    pub not_older_than: Option<Revision>,
    /// The caller does not need [`ListResult::remaining_count`]: a page stops at the first key
    /// after it instead of counting every key left (which the in-process stores do one by one).
    pub skip_count: bool,
}

/// The answer of a [`Storage::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListResult {
    /// Matching items, sorted by key.
    pub items: Vec<KeyValue>,
    /// The store revision the items were read at.
    pub revision: Revision,
    /// Whether more matching keys follow the last item (continue with `start_after`).
    pub remaining: bool,
    /// How many keys follow the last item, when the backend counted them (Kubernetes'
    /// `remainingItemCount`).
    pub remaining_count: Option<u64>,
}

/// Storage failures. The API server maps them to `Status` codes: `AlreadyExists` and `Conflict`
/// → 409, `NotFound` → 404, `Expired` → 410, `TooLarge` → 413, `Unavailable` → 503, `Timeout`
/// → 504, the rest → 500.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// `create` of a key that exists.
    AlreadyExists { key: String },
    /// `update`/`delete` of a key that does not exist.
    NotFound { key: String },
    /// The precondition on the mod revision failed; `current` is the stored mod revision.
    Conflict { key: String, current: Revision },
    /// Events after `requested` are no longer available; `oldest` is the oldest revision a watch
    /// can start from now. Also the final item of a watcher that fell behind (`requested` = the
    /// last revision it was given).
    Expired {
        requested: Revision,
        oldest: Revision,
    },
    /// A watcher that could not keep up: more than half the history behind, or the history
    /// dropped an event it had not been given (its buffer was full). It was handed every event through `delivered`; a new watch from `delivered`
    /// goes on from there while the history holds it, as Kubernetes clients go on after a watch
    /// ends. The last item of such a watch.
    Behind { delivered: Revision },
    /// The value exceeds the configured maximum size.
    TooLarge {
        key: String,
        size: usize,
        limit: usize,
    },
    /// Stored data could not be decoded.
    Corrupt(String),
    /// The backend failed (I/O, database locked by another process, …).
    Io(String),
    /// The backend cannot be reached (etcd down or without a leader): 503, try again.
    Unavailable(String),
    /// The backend did not answer in time: 504.
    Timeout(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyExists { key } => write!(f, "key already exists: {key}"),
            Self::NotFound { key } => write!(f, "key not found: {key}"),
            Self::Conflict { key, current } => write!(
                f,
                "conflict on {key}: the object has been modified (current revision {current})"
            ),
            Self::Expired { requested, oldest } => {
                write!(f, "too old resource version: {requested} ({oldest})")
            }
            Self::Behind { delivered } => write!(
                f,
                "the watcher fell behind after revision {delivered}: watch again from it"
            ),
            Self::TooLarge { key, size, limit } => {
                write!(
                    f,
                    "value for {key} is too large: {size} bytes (limit {limit})"
                )
            }
            Self::Corrupt(msg) => write!(f, "corrupt storage data: {msg}"),
            Self::Io(msg) => write!(f, "storage I/O error: {msg}"),
            Self::Unavailable(msg) => write!(f, "storage unavailable: {msg}"),
            Self::Timeout(msg) => write!(f, "storage timed out: {msg}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// Tuning shared by the backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Events kept for watch replay (older ones are compacted away).
    pub history_capacity: usize,
    /// Bytes (keys and values) of the events kept for watch replay: the history is bounded by
    /// both, whichever is reached first.
    pub history_bytes: usize,
    /// Live events buffered per watcher before it is expired (at least 1).
    pub watch_buffer: usize,
    /// Largest accepted value, in bytes.
    pub max_value_size: usize,
    /// [`EmbeddedStore`] only: verify every page checksum on every open, so that a file damaged
    /// outside redb while it was closed fails to open with `Corrupt` instead of risking an error
    /// later. Reads the whole file. Default `false`: redb checks (and repairs) a file on its own
    /// after an unclean shutdown, so a clean start reads only what it needs.
    pub verify_on_open: bool,
    /// [`EmbeddedStore`] only: memory for redb's page cache (redb's own default is 1 GiB).
    pub cache_bytes: usize,
    /// [`EmbeddedStore`] only: size of the write-ahead log beside the data file (`<file>-wal`),
    /// preallocated. A group commit is made durable by one synced append there, the data file
    /// taking it unsynced until a checkpoint; `0` commits every group durably to the data file
    /// instead (a slower fsync per group, and no second file).
    pub write_ahead_log_bytes: u64,
}

/// Default page cache of the embedded store: small, since the kernel's page cache holds the
/// file's pages already. Measured with 100,000 Alerts (58.5 MB stored, a 272 MB file), 16 MiB
/// against 64 MiB: creates, gets and LISTs of all of them within run-to-run noise, the server's
/// RSS 55 MB against 118 MB.
pub const DEFAULT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Default size of the embedded store's write-ahead log.
pub const DEFAULT_WRITE_AHEAD_LOG_BYTES: u64 = 16 * 1024 * 1024;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            history_capacity: DEFAULT_HISTORY_CAPACITY,
            history_bytes: DEFAULT_HISTORY_BYTES,
            watch_buffer: DEFAULT_WATCH_BUFFER,
            max_value_size: DEFAULT_MAX_VALUE_SIZE,
            verify_on_open: false,
            cache_bytes: DEFAULT_CACHE_BYTES,
            write_ahead_log_bytes: DEFAULT_WRITE_AHEAD_LOG_BYTES,
        }
    }
}

/// An etcd-like key-value store. See the crate docs for the semantics.
///
/// The methods return `Send` futures (written as return-position `impl Future` so that no
/// `async-trait` crate is needed); use the trait generically (`S: Storage`) or through
/// [`AnyStore`].
pub trait Storage: Send + Sync + 'static {
    /// The value at `key`, if any.
    fn get(&self, key: &str)
    -> impl Future<Output = Result<Option<KeyValue>, StorageError>> + Send;

    /// Keys starting with `prefix`, sorted, paged by `opts`, read at one revision.
    fn list(
        &self,
        prefix: &str,
        opts: ListOptions,
    ) -> impl Future<Output = Result<ListResult, StorageError>> + Send;

    /// Stores a new key; `AlreadyExists` if present.
    fn create(
        &self,
        key: &str,
        value: Bytes,
    ) -> impl Future<Output = Result<KeyValue, StorageError>> + Send;

    /// Replaces the value of an existing key (`NotFound` if absent). With
    /// `expected_mod_revision`, `Conflict` unless it equals the stored mod revision. Identical
    /// bytes are not written: the stored value is returned unchanged.
    fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> impl Future<Output = Result<KeyValue, StorageError>> + Send;

    /// Deletes a key (`NotFound` if absent, `Conflict` on a failed precondition) and returns the
    /// deleted value with `mod_revision` = the delete's revision.
    fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> impl Future<Output = Result<KeyValue, StorageError>> + Send;

    /// Every event with a revision above `from` (`0` = the current revision) on keys starting
    /// with `prefix`: first the retained history, then live, in revision order, without gaps or
    /// duplicates. `Expired` if events after `from` have been compacted away.
    fn watch(
        &self,
        prefix: &str,
        from: Revision,
    ) -> impl Future<Output = Result<WatchStream, StorageError>> + Send;

    /// The current store revision.
    fn revision(&self) -> impl Future<Output = Result<Revision, StorageError>> + Send;

    /// Whether the store serves: what the readiness probe asks. By default, that it tells its
    /// revision; a store whose revision is answered from memory reads its storage instead.
    fn check(&self) -> impl Future<Output = Result<(), StorageError>> + Send {
        async { self.revision().await.map(drop) }
    }

    /// A revision the store is known to have reached, told without asking it (a watch cache's
    /// last applied change): never more than [`Storage::revision`] would answer; `None` when only
    /// asking tells. A watch from a revision at or below it needs no round trip to a stalled
    /// etcd.
    fn known_revision(&self) -> Option<Revision> {
        None
    }

    /// Forgets history before `revision`, as etcd compacts: a watch or read from the revision
    /// before it still works (its first event is `revision`'s), older ones are `Expired`.
    fn compact(&self, revision: Revision) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// A store chosen at run time.
#[derive(Clone)]
pub enum AnyStore {
    Memory(MemoryStore),
    Embedded(EmbeddedStore),
    /// Boxed: an etcd client is large, the other stores a pointer.
    Etcd(Box<EtcdStore>),
    /// etcd behind a watch cache, as Kubernetes runs it.
    Cached(Box<Cacher<EtcdStore>>),
}

impl AnyStore {
    /// etcd behind a [`Cacher`] (`options` bound each cached prefix's history and watcher
    /// buffers); prefixes are cached once registered with [`AnyStore::cache`]. The in-process
    /// stores serve from memory already and are returned unchanged.
    pub fn with_watch_cache(self, options: StoreOptions) -> Self {
        match self {
            Self::Etcd(etcd) => Self::Cached(Box::new(Cacher::new(*etcd, options))),
            other => other,
        }
    }

    /// Caches the keys under `prefix` when this store has a watch cache; otherwise nothing.
    pub fn cache(&self, prefix: &str) {
        if let Self::Cached(cacher) = self {
            cacher.cache(prefix);
        }
    }
}

impl From<EtcdStore> for AnyStore {
    fn from(s: EtcdStore) -> Self {
        Self::Etcd(Box::new(s))
    }
}

impl From<MemoryStore> for AnyStore {
    fn from(s: MemoryStore) -> Self {
        Self::Memory(s)
    }
}

impl From<EmbeddedStore> for AnyStore {
    fn from(s: EmbeddedStore) -> Self {
        Self::Embedded(s)
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($s) => $call.await,
            AnyStore::Embedded($s) => $call.await,
            AnyStore::Etcd($s) => $call.await,
            AnyStore::Cached($s) => $call.await,
        }
    };
}

impl Storage for AnyStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        delegate!(self, s => s.get(key))
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        delegate!(self, s => s.list(prefix, opts))
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        delegate!(self, s => s.create(key, value))
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        delegate!(self, s => s.update(key, value, expected_mod_revision))
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        delegate!(self, s => s.delete(key, expected_mod_revision))
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        delegate!(self, s => s.watch(prefix, from))
    }

    async fn revision(&self) -> Result<Revision, StorageError> {
        delegate!(self, s => s.revision())
    }

    async fn check(&self) -> Result<(), StorageError> {
        delegate!(self, s => s.check())
    }

    fn known_revision(&self) -> Option<Revision> {
        match self {
            AnyStore::Memory(s) => s.known_revision(),
            AnyStore::Embedded(s) => s.known_revision(),
            AnyStore::Etcd(s) => s.known_revision(),
            AnyStore::Cached(s) => s.known_revision(),
        }
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        delegate!(self, s => s.compact(revision))
    }
}

/// Shared checks and event construction, so both backends apply identical semantics.
pub(crate) mod semantics {
    use super::*;

    pub(crate) fn check_size(key: &str, value: &[u8], limit: usize) -> Result<(), StorageError> {
        if value.len() > limit {
            return Err(StorageError::TooLarge {
                key: key.to_owned(),
                size: value.len(),
                limit,
            });
        }
        Ok(())
    }

    pub(crate) fn check_expected(
        key: &str,
        current: &KeyValue,
        expected: Option<Revision>,
    ) -> Result<(), StorageError> {
        match expected {
            Some(rev) if rev != current.mod_revision => Err(StorageError::Conflict {
                key: key.to_owned(),
                current: current.mod_revision,
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn next_revision(current: Revision) -> Result<Revision, StorageError> {
        current
            .checked_add(1)
            .ok_or_else(|| StorageError::Corrupt("revision counter overflow".into()))
    }

    pub(crate) fn added(kv: KeyValue) -> Event {
        Event::new(EventType::Added, kv, None)
    }

    pub(crate) fn modified(kv: KeyValue, prev: KeyValue) -> Event {
        Event::new(EventType::Modified, kv, Some(prev))
    }

    /// The `Deleted` event for `prev` removed at `revision`, and the value `delete` returns.
    pub(crate) fn deleted(prev: KeyValue, revision: Revision) -> (Event, KeyValue) {
        let kv = KeyValue {
            mod_revision: revision,
            ..prev.clone()
        };
        let event = Event {
            kind: EventType::Deleted,
            revision,
            kv: kv.clone(),
            prev: Some(prev),
            memo: Default::default(),
        };
        (event, kv)
    }

    /// A progress event at `revision`.
    pub(crate) fn progress(revision: Revision) -> Event {
        Event {
            kind: EventType::Progress,
            kv: KeyValue {
                key: String::new(),
                value: Bytes::new(),
                create_revision: 0,
                mod_revision: revision,
            },
            prev: None,
            memo: Default::default(),
            revision,
        }
    }

    /// What the events after some revision (`later`, in revision order) changed under `prefix`:
    /// each changed key's value at that revision, `None` where it did not exist then. The first
    /// event after the revision knows it: an `Added` key was absent, otherwise its `prev`.
    pub(crate) fn overlay(
        prefix: &str,
        later: &[impl std::borrow::Borrow<Event>],
    ) -> std::collections::BTreeMap<String, Option<KeyValue>> {
        let mut then = std::collections::BTreeMap::new();
        for e in later {
            let e = e.borrow();
            if e.kind == EventType::Progress || !e.kv.key.starts_with(prefix) {
                continue;
            }
            then.entry(e.kv.key.clone())
                .or_insert_with(|| match e.kind {
                    EventType::Added => None,
                    _ => e.prev.clone(),
                });
        }
        then
    }

    /// One page of a prefix list at `revision`: `current` (the keys now, sorted, from the page's
    /// start bound on; it may run past the prefix) merged with `overlay` (what differed at
    /// `revision`, empty when reading the current revision). Only the page's items are
    /// materialised; the keys after it are only counted.
    pub(crate) fn page<T>(
        prefix: &str,
        current: impl Iterator<Item = Result<T, StorageError>>,
        key: impl Fn(&T) -> &str,
        materialise: impl Fn(T) -> Result<KeyValue, StorageError>,
        overlay: &std::collections::BTreeMap<String, Option<KeyValue>>,
        revision: Revision,
        opts: &ListOptions,
    ) -> Result<ListResult, StorageError> {
        let (start, inclusive) = start_bound(prefix, opts);
        let lower = if inclusive {
            std::ops::Bound::Included(start)
        } else {
            std::ops::Bound::Excluded(start)
        };
        let mut changed = overlay
            .range::<str, _>((lower, std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .peekable();
        let mut current = current.peekable();
        let limit = limit(opts);
        let mut items = Vec::new();
        let mut rest: u64 = 0;
        loop {
            // The next key of the merge comes from `changed` when it has it or an earlier one.
            let (from_changed, same) = {
                let now = match current.peek() {
                    Some(Ok(t)) if key(t).starts_with(prefix) => Some(key(t)),
                    Some(Ok(_)) | None => None,
                    Some(Err(_)) => {
                        return Err(current.next().and_then(Result::err).expect("peeked error"));
                    }
                };
                let then = changed.peek().map(|(k, _)| k.as_str());
                match (now, then) {
                    (None, None) => break,
                    (Some(n), Some(t)) => (t <= n, t == n),
                    (None, Some(_)) => (true, false),
                    (Some(_), None) => (false, false),
                }
            };
            let full = limit.is_some_and(|l| items.len() >= l);
            if full && opts.skip_count && rest > 0 {
                break;
            }
            if from_changed {
                if same {
                    current.next();
                }
                let Some((_, Some(kv))) = changed.next() else {
                    continue;
                };
                if full {
                    rest += 1;
                } else {
                    items.push(kv.clone());
                }
            } else {
                let t = current.next().expect("peeked")?;
                if full {
                    rest += 1;
                } else {
                    items.push(materialise(t)?);
                }
            }
        }
        Ok(ListResult {
            items,
            revision,
            remaining: rest > 0,
            remaining_count: (!opts.skip_count).then_some(rest),
        })
    }

    /// A revision the store has not reached.
    pub(crate) fn future(revision: Revision, current: Revision) -> StorageError {
        StorageError::Timeout(format!(
            "too large resource version: {revision}, current: {current}"
        ))
    }

    /// The page size, `None` for unlimited (`limit` of `0` included).
    pub(crate) fn limit(opts: &ListOptions) -> Option<usize> {
        opts.limit.filter(|&l| l > 0)
    }

    /// Where a prefix list starts, and whether that bound is inclusive: after `start_after`
    /// (exclusive) unless it sorts before `prefix`, else at `prefix` (inclusive).
    pub(crate) fn start_bound<'a>(prefix: &'a str, opts: &'a ListOptions) -> (&'a str, bool) {
        match opts.start_after.as_deref() {
            Some(after) if after >= prefix => (after, false),
            _ => (prefix, true),
        }
    }
}
