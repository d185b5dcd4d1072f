//! [`Cacher`]: a watch cache in front of a store, as Kubernetes' `cacher` sits in front of etcd.
//!
//! For each registered key prefix (one per resource) it keeps a mirror of the prefix in memory —
//! a [`MemoryStore`] filled by one list of the store and kept current by one watch of it — and
//! serves from the mirror what does not need the store's latest revision:
//!
//! | call | served by |
//! | --- | --- |
//! | `watch(prefix, from)`, `from` > 0 | the mirror (one store watch for any number of watchers); the store when `from` is older than the mirror's history |
//! | `list` with `not_older_than` (`resourceVersion="0"`, `NotOlderThan`) | the mirror once it has reached that revision, else the store |
//! | `list` at a pinned `revision` (a continue token, `Exact`) | the mirror when it has reached that revision and still holds its history, else the store |
//! | `list` of the current revision (a consistent read) | the mirror when the last change it applied is at the store's current revision (one cheap read asks the store), else the store |
//! | `get`, writes, `watch(_, 0)` | the store |
//!
//! A consistent list needs everything up to the store's current revision `R`. As Kubernetes'
//! consistent reads from its cache, the cache asks the store for `R` (a count-only read) and
//! answers from the mirror when it has applied a change at `R` or later — the store's watch
//! delivers changes in revision order, so it then holds every change up to `R`. It never asks
//! etcd for a progress notification to learn that it is current when the last change was to
//! other keys: etcd releases before 3.4.31 and 3.5.13 (Debian's 3.4.23 among them) can deliver
//! requested notifications ahead of events (etcd#15220, #17507). Such a list, or one that finds
//! the mirror a change behind, is read from the store.
//!
//! When the store's watch fails (etcd down, history compacted under a slow mirror), the mirror's
//! watchers end with that error (`Unavailable` for a compaction: it is the mirror's revision
//! that was compacted, not theirs) — clients watch again from their last event, as after any
//! ended watch — and requests go to the store until a new list and watch have rebuilt the
//! mirror (retried with backoff). A mirror is never installed over a watch that a compaction
//! between its list and its watch has doomed (see `follow`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use crate::memory::MemoryStore;
use crate::watch::WatchStream;
use crate::{
    EventType, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, StoreOptions,
};

/// A watch cache over `S` (see the module docs). Cheap to clone: clones share the caches.
#[derive(Clone)]
pub struct Cacher<S> {
    inner: S,
    shared: Arc<Shared>,
}

struct Shared {
    /// Mirror options (history and watcher buffers, as for an in-process store).
    options: StoreOptions,
    caches: Mutex<BTreeMap<String, Arc<PrefixCache>>>,
    /// The highest revision compacted through this cache: older revisions go to the store, which
    /// answers them with `Expired`, even while a mirror still holds them.
    compacted: AtomicU64,
    /// Dropped with the last clone: the mirrors' tasks stop.
    stop: watch::Sender<()>,
}

struct PrefixCache {
    /// The mirror while it follows the store; `None` while it is (re)built.
    mirror: Mutex<Option<MemoryStore>>,
    started: AtomicBool,
    /// The revision of the list the mirror started from, then of each change it applied
    /// (progress notifications aside): the mirror holds every change up to it.
    applied: AtomicU64,
}

impl PrefixCache {
    fn mirror(&self) -> MutexGuard<'_, Option<MemoryStore>> {
        self.mirror.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The first retry after a failed list or watch; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl<S: Storage + Clone> Cacher<S> {
    /// A cache over `inner` with no prefix cached yet ([`Cacher::cache`]); `options` bound each
    /// mirror's history and watcher buffers.
    pub fn new(inner: S, options: StoreOptions) -> Self {
        Self {
            inner,
            shared: Arc::new(Shared {
                options,
                caches: Mutex::new(BTreeMap::new()),
                compacted: AtomicU64::new(0),
                stop: watch::channel(()).0,
            }),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Caches the keys under `prefix` (a resource's, such as `/registry/<group>/<resource>/`).
    /// Idempotent. The mirror is built in the background at once when called inside a Tokio
    /// runtime, else on the first call that could use it; until it follows the store, the store
    /// answers.
    pub fn cache(&self, prefix: impl Into<String>) {
        let prefix = prefix.into();
        let cache = self
            .caches()
            .entry(prefix.clone())
            .or_insert_with(|| {
                Arc::new(PrefixCache {
                    mirror: Mutex::new(None),
                    started: AtomicBool::new(false),
                    applied: AtomicU64::new(0),
                })
            })
            .clone();
        if tokio::runtime::Handle::try_current().is_ok() {
            self.start(prefix, &cache);
        }
    }

    /// Starts following the store for `cache` unless that is done already.
    fn start(&self, prefix: String, cache: &Arc<PrefixCache>) {
        if !cache.started.swap(true, Ordering::AcqRel) {
            tokio::spawn(follow(
                self.inner.clone(),
                prefix,
                Arc::downgrade(cache),
                self.shared.options.clone(),
                self.shared.stop.subscribe(),
            ));
        }
    }

    /// The revision through which the mirror of the cache serving `prefix` holds every change
    /// (the last change it applied, or the list it started from), `None` while it is being
    /// built (or when no cache serves `prefix`).
    pub fn cached_revision(&self, prefix: &str) -> Option<Revision> {
        self.following(prefix).map(|(_, applied)| applied)
    }

    fn compacted(&self) -> Revision {
        self.shared.compacted.load(Ordering::Acquire)
    }

    fn caches(&self) -> MutexGuard<'_, BTreeMap<String, Arc<PrefixCache>>> {
        self.shared.caches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The mirror of the cache whose prefix covers `prefix`, if it is following the store;
    /// starts building it on first use.
    fn mirror_for(&self, prefix: &str) -> Option<MemoryStore> {
        self.following(prefix).map(|(mirror, _)| mirror)
    }

    /// [`Cacher::mirror_for`], with the revision of the last change the mirror applied.
    fn following(&self, prefix: &str) -> Option<(MemoryStore, Revision)> {
        use std::ops::Bound;
        let caches = self.caches();
        // Every registered prefix of `prefix` sorts at or before it, the longest last.
        let (cached, cache) = caches
            .range::<str, _>((Bound::Unbounded, Bound::Included(prefix)))
            .rev()
            .find(|(p, _)| prefix.starts_with(p.as_str()))?;
        if !cache.started.load(Ordering::Acquire) {
            self.start(cached.clone(), cache);
        }
        // Read with the mirror's lock held, so that the two belong to one mirror.
        let mirror = cache.mirror();
        let applied = cache.applied.load(Ordering::Acquire);
        mirror.clone().map(|m| (m, applied))
    }
}

/// Keeps the mirror of `prefix` current: list, watch from the list's revision, apply every event;
/// on a failure, end the mirror's watches, and start over after a backoff.
async fn follow<S: Storage>(
    store: S,
    prefix: String,
    cache: std::sync::Weak<PrefixCache>,
    options: StoreOptions,
    mut stop: watch::Receiver<()>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = async {
            let list = store.list(&prefix, ListOptions::default()).await?;
            let stream = store.watch(&prefix, list.revision).await?;
            // A compaction past the list between the two leaves the watch doomed, and etcd says
            // so only when it syncs the watch, up to 100 ms later: the mirror would serve
            // watches meanwhile, then end them all. A read at the watch's first revision is
            // refused for the same compaction (both compare with etcd's compacted revision).
            if store.revision().await? > list.revision {
                let first = ListOptions {
                    revision: Some(list.revision + 1),
                    limit: Some(1),
                    skip_count: true,
                    ..ListOptions::default()
                };
                store.list(&prefix, first).await?;
            }
            Ok::<_, StorageError>((list, stream))
        };
        let started = tokio::select! {
            _ = stop.changed() => return,
            started = started => started,
        };
        let (list, mut stream) = match started {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(%prefix, %error, ?backoff, "watch cache: cannot list and watch the store; retrying");
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = FIRST_BACKOFF;
        let mirror = MemoryStore::snapshot(list.items, list.revision, options.clone());
        let Some(this) = cache.upgrade() else { return };
        {
            let mut slot = this.mirror();
            this.applied.store(list.revision, Ordering::Release);
            *slot = Some(mirror.clone());
        }
        let error = loop {
            let item = tokio::select! {
                _ = stop.changed() => return,
                item = stream.recv() => item,
            };
            match item {
                Some(Ok(event)) => {
                    let change = (event.kind != EventType::Progress).then_some(event.revision);
                    mirror.apply(event);
                    if let Some(revision) = change {
                        this.applied.fetch_max(revision, Ordering::AcqRel);
                    }
                }
                Some(Err(error)) => break error,
                None => break StorageError::Unavailable("the store's watch ended".into()),
            }
        };
        // Requests go to the store before the mirror's watchers learn it is gone.
        *this.mirror() = None;
        drop(this);
        tracing::warn!(%prefix, %error, "watch cache: the store's watch failed; rebuilding the cache");
        // A compaction past the mirror's watch says nothing of its watchers' own revisions:
        // they end as when the store is down, and watching again from their last event, they
        // get it from the store (or `Expired` from it, if that revision is compacted too), as
        // kube-apiserver's cacher ends its watchers when it relists.
        let error = match error {
            StorageError::Expired { .. } => {
                StorageError::Unavailable(format!("the watch cache is being rebuilt: {error}"))
            }
            error => error,
        };
        mirror.fail_watchers(error);
    }
}

impl<S: Storage + Clone> Storage for Cacher<S> {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        self.inner.get(key).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        if let Some((mirror, applied)) = self.following(prefix) {
            let reached = mirror.current_revision();
            let mut opts = opts.clone();
            let servable = match (opts.revision, opts.not_older_than) {
                (Some(at), _) => self.compacted() <= at && at <= reached,
                (None, Some(min)) => min <= reached,
                // A consistent read: the store's current revision, which the mirror may hold.
                // A store that is down or too slow to say is the answer, at once: asking it for
                // the list too would make the client wait a second timeout. (Another failure:
                // the store answers the list itself, and its error is the answer.)
                (None, None) => match self.inner.revision().await {
                    Ok(current) if applied >= current => {
                        opts.not_older_than = Some(current);
                        true
                    }
                    Err(e @ (StorageError::Timeout(_) | StorageError::Unavailable(_))) => {
                        return Err(e);
                    }
                    Ok(_) | Err(_) => false,
                },
            };
            if servable {
                match mirror.list(prefix, opts.clone()).await {
                    // The mirror's history no longer reaches `at`: the store may.
                    Err(StorageError::Expired { .. }) => {}
                    answer => return answer,
                }
            }
        }
        self.inner.list(prefix, opts).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        self.inner.create(key, value).await
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.inner.update(key, value, expected_mod_revision).await
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.inner.delete(key, expected_mod_revision).await
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        // "From now" is the store's now, which the mirror may not have reached.
        // A compaction at C keeps C's event: a watch from C - 1 is the mirror's too.
        if from > 0
            && from + 1 >= self.compacted()
            && let Some(mirror) = self.mirror_for(prefix)
        {
            match mirror.watch(prefix, from).await {
                Err(StorageError::Expired { .. }) => {}
                answer => return answer,
            }
        }
        self.inner.watch(prefix, from).await
    }

    async fn revision(&self) -> Result<Revision, StorageError> {
        self.inner.revision().await
    }

    async fn check(&self) -> Result<(), StorageError> {
        self.inner.check().await
    }

    /// The last change any mirror applied (the store has reached it).
    fn known_revision(&self) -> Option<Revision> {
        self.caches()
            .values()
            .map(|c| c.applied.load(Ordering::Acquire))
            .max()
            .filter(|r| *r > 0)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await?;
        // The store clamps a compaction to its current revision: so does the floor.
        let current = self.inner.revision().await?;
        self.shared
            .compacted
            .fetch_max(revision.min(current), Ordering::AcqRel);
        // Watches from compacted revisions are 410 through the cache too.
        let caches: Vec<_> = self.caches().values().cloned().collect();
        for cache in caches {
            let mirror = cache.mirror().clone();
            if let Some(mirror) = mirror {
                mirror.compact(revision).await?;
            }
        }
        Ok(())
    }
}
