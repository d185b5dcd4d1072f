//! Watch in the registry: initial ADDEDs, then store events decoded into hub objects once,
//! filtered by the selectors on the hub (an object leaving the selection is DELETED, entering it
//! ADDED), and encoded once per served version for every watcher of that version.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use apiserver_storage::{Event, EventType, KeyValue, Storage, StorageError};
use futures::StreamExt;
use kube_codegen_scheme::Object;

use super::rest::{ListOptions, Scope, Seen, Watch, WatchItem};
use super::store::GenericStore;
use super::strategy::Strategy;
use crate::status::ApiError;

/// How many decoded events are kept: enough for every watcher to catch up on a burst.
const EVENT_CACHE_CAPACITY: usize = 4096;

/// Store events as hub objects, shared by all watchers of a resource (bounded, most recent
/// kept). Each is decoded once, and encoded once per version someone watches it in.
pub(crate) struct EventCache<H> {
    /// Which registry's events these are: an event's [`Memo`](apiserver_storage::Memo) holds what one registry made of
    /// it (its versions are that registry's), and another over the same store makes its own.
    id: u64,
    entries: Mutex<Entries<H>>,
}

/// By revision (one key changes per revision; the key is checked too).
struct Entries<H> {
    map: HashMap<u64, Arc<CachedEvent<H>>>,
    order: VecDeque<u64>,
}

impl<H> Default for EventCache<H> {
    fn default() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        EventCache {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }
}

/// A stored object at one revision: the hub, and its encoding per version (by index).
pub(crate) struct CachedEvent<H> {
    kv: KeyValue,
    hub: H,
    versions: Box<[OnceLock<Arc<Seen>>]>,
    /// Per version: the DELETED a watcher gets when the object leaves its selection here (the
    /// previous content at this revision), encoded at most once.
    left: Mutex<Vec<Option<Arc<Seen>>>>,
}

impl<H> EventCache<H> {
    fn lock(&self) -> MutexGuard<'_, Entries<H>> {
        // A panic while holding the lock leaves nothing half-written worth refusing.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<H, S> GenericStore<H, S>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    /// `kv` as a hub object, decoded at most once.
    fn cached(&self, kv: &KeyValue) -> Result<Arc<CachedEvent<H>>, ApiError> {
        let key = kv.mod_revision;
        if let Some(e) = self.events.lock().map.get(&key)
            && e.kv.key == kv.key
        {
            return Ok(e.clone());
        }
        let event = Arc::new(CachedEvent {
            hub: self.decode_stored(kv)?,
            kv: kv.clone(),
            versions: self.versions.iter().map(|_| OnceLock::new()).collect(),
            left: Mutex::new(vec![None; self.versions.len()]),
        });
        let mut entries = self.events.lock();
        let cached = entries.map.entry(key).or_insert(event.clone()).clone();
        if cached.kv.key != kv.key {
            // Two keys at one revision (not written by this server): not cached.
            return Ok(event);
        }
        let event = cached;
        if entries.order.len() < entries.map.len() {
            entries.order.push_back(key);
            while entries.order.len() > EVENT_CACHE_CAPACITY {
                if let Some(old) = entries.order.pop_front() {
                    entries.map.remove(&old);
                }
            }
        }
        Ok(event)
    }

    /// The cached event in version `index`, encoded at most once.
    fn seen_in(&self, event: &CachedEvent<H>, index: usize) -> Result<Arc<Seen>, ApiError> {
        let cell = &event.versions[index];
        if let Some(seen) = cell.get() {
            return Ok(seen.clone());
        }
        // Two watchers may both encode it the first time; one encoding is kept.
        let seen = Arc::new(self.seen(&self.versions[index], &event.kv, &event.hub)?);
        Ok(cell.get_or_init(|| seen).clone())
    }

    /// An object that left a selection at `new`: its previous content (`old`) at `new`'s
    /// revision, as kube-apiserver's watch cache sends such a DELETED, encoded at most once per
    /// version.
    fn left_in(
        &self,
        new: &CachedEvent<H>,
        old: &CachedEvent<H>,
        index: usize,
    ) -> Result<Arc<Seen>, ApiError> {
        let mut left = new.left.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(seen) = &left[index] {
            return Ok(seen.clone());
        }
        let kv = KeyValue {
            mod_revision: new.kv.mod_revision,
            ..old.kv.clone()
        };
        let mut hub = old.hub.clone();
        hub.metadata_mut().resource_version = Some(new.kv.mod_revision.to_string());
        let seen = Arc::new(self.seen(&self.versions[index], &kv, &hub)?);
        left[index] = Some(seen.clone());
        Ok(seen)
    }

    /// What every watcher of this registry needs of a store event: its new and previous values
    /// as hub objects.
    fn decode_event(&self, ev: &Event) -> Decoded<H> {
        let old = match ev.prev.as_ref().map(|p| self.cached(p)) {
            None => None,
            Some(Ok(old)) => Some(old),
            // The previous value is only needed to tell ADDED from MODIFIED: an unreadable one
            // (which this server did not write) counts as not selected.
            Some(Err(e)) => {
                tracing::warn!(key = %ev.kv.key, error = %e.message, "previous value of a watch event is unreadable");
                None
            }
        };
        let new = self.cached(&ev.kv).map_err(|e| {
            // Once per event, not once per watcher its ERROR goes to.
            tracing::error!(key = %ev.kv.key, revision = ev.revision, error = %e.message, "a watch event does not decode");
            // An unsafe delete of such an object (KEP-3926): kube-apiserver's reason and words.
            if ev.kind == EventType::Deleted {
                ApiError::new(
                    500,
                    "StoreReadError",
                    format!("saw a DELETED event, but object data is corrupt - {}", e.message),
                )
            } else {
                e
            }
        });
        Decoded { new, old }
    }

    /// [`Self::decode_event`], made by the first of this registry's watchers to see the event
    /// and found by the others through the event's memo (while the event cache keeps it).
    fn decoded(&self, ev: &Event) -> Decoded<H> {
        let mut made = None;
        let kept = ev.memo.get_or_init(|| {
            let decoded = self.decode_event(ev);
            let kept = decoded.downgrade(self.events.id);
            made = Some(decoded);
            kept
        });
        if let Some(decoded) = made {
            return decoded;
        }
        kept.filter(|k| k.registry == self.events.id)
            .and_then(Kept::upgrade)
            .unwrap_or_else(|| self.decode_event(ev))
    }

    /// One store event as the watcher sees it, if it concerns its selection.
    fn watch_event(
        &self,
        index: usize,
        opts: &ListOptions,
        item: Result<Arc<Event>, StorageError>,
    ) -> Option<(u64, WatchItem)> {
        let ev = match item {
            Ok(ev) => ev,
            Err(e) => return Some((0, WatchItem::Error(self.storage_error(e, "")))),
        };
        if ev.kind == EventType::Progress {
            return Some((ev.revision, WatchItem::Progress));
        }
        let decoded = self.decoded(&ev);
        let new = match &decoded.new {
            Ok(new) => new,
            Err(e) => return Some((ev.revision, WatchItem::Error(e.clone()))),
        };
        let old = decoded
            .old
            .as_ref()
            .filter(|old| self.matches(opts, &old.hub));
        let new_matches = self.matches(opts, &new.hub);
        let seen = || self.seen_in(new, index);
        let item = match (ev.kind, &old) {
            (EventType::Deleted, _) if old.is_some() || new_matches => {
                seen().map(WatchItem::Deleted)
            }
            (EventType::Deleted, _) => return None,
            (_, Some(_)) if new_matches => seen().map(WatchItem::Modified),
            _ if new_matches => seen().map(WatchItem::Added),
            // Left the selection: the object as the watcher last saw it selected.
            (_, Some(old)) => self.left_in(new, old, index).map(WatchItem::Deleted),
            _ => return None,
        };
        Some((ev.revision, item.unwrap_or_else(WatchItem::Error)))
    }
}

/// A store event decoded for one registry's watchers.
struct Decoded<H> {
    new: Result<Arc<CachedEvent<H>>, ApiError>,
    /// The previous value, when there is one and it reads.
    old: Option<Arc<CachedEvent<H>>>,
}

impl<H> Decoded<H> {
    fn downgrade(&self, registry: u64) -> Kept<H> {
        Kept {
            registry,
            new: self.new.as_ref().map(Arc::downgrade).map_err(Clone::clone),
            old: self.old.as_ref().map(Arc::downgrade),
        }
    }
}

/// [`Decoded`] as the event's [`Memo`](apiserver_storage::Memo) keeps it: pointers into the
/// registry's bounded event cache, which alone keeps the objects (the store's history holds
/// events for longer, and counts only their bytes).
struct Kept<H> {
    /// The [`EventCache::id`] of the registry that made it.
    registry: u64,
    new: Result<std::sync::Weak<CachedEvent<H>>, ApiError>,
    old: Option<std::sync::Weak<CachedEvent<H>>>,
}

impl<H> Kept<H> {
    /// `None` once the cache let go of either value.
    fn upgrade(&self) -> Option<Decoded<H>> {
        let new = match &self.new {
            Ok(new) => Ok(new.upgrade()?),
            Err(e) => Err(e.clone()),
        };
        let old = match &self.old {
            Some(old) => Some(old.upgrade()?),
            None => None,
        };
        Some(Decoded { new, old })
    }
}

/// The ADDED a watch from now starts with for a stored object, if the watch selects it; a
/// stored object that does not decode ends the watch with its error.
fn initial_event<H, S>(
    this: &GenericStore<H, S>,
    index: usize,
    opts: &ListOptions,
    kv: &KeyValue,
) -> Option<(u64, WatchItem)>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    let added = this.decode_stored(kv).and_then(|obj| {
        if !this.matches(opts, &obj) {
            return Ok(None);
        }
        let seen = this.seen(&this.versions[index], kv, &obj)?;
        Ok(Some(WatchItem::Added(Arc::new(seen))))
    });
    match added {
        Ok(item) => item.map(|item| (kv.mod_revision, item)),
        Err(e) => Some((kv.mod_revision, WatchItem::Error(e))),
    }
}

/// Starts a watch: ADDEDs for what exists (when no resourceVersion, or "0", is given), then the
/// store's events after that revision; a compacted history ends the stream with an error
/// (410 Gone).
pub(crate) async fn start<H, S>(
    this: Arc<GenericStore<H, S>>,
    scope: Scope,
    opts: ListOptions,
    resource_version: Option<u64>,
    send_initial_events: Option<bool>,
) -> Result<Watch, ApiError>
where
    H: Object + Clone + Send + Sync + 'static,
    S: Strategy<H>,
{
    let (index, _) = this.codec(&scope.version)?;
    let prefix = this.key(scope.namespace.as_deref(), None);
    let mut initial: futures::stream::BoxStream<'static, (u64, WatchItem)> =
        futures::stream::empty().boxed();
    let from_now = matches!(resource_version, None | Some(0));
    // A legacy watch from now replays what exists; `sendInitialEvents` decides when given
    // (false: from now without it, as a watch cache starts such a watch).
    let initial_events = send_initial_events.unwrap_or(from_now);
    let mut freshness = None;
    let from = if initial_events {
        // `resourceVersion="0"` starts from any recent state (a watch cache's); none from the
        // current one.
        let recent = apiserver_storage::ListOptions {
            not_older_than: resource_version.filter(|rv| *rv == 0),
            ..Default::default()
        };
        let list = || async {
            this.store
                .list(&prefix, recent.clone())
                .await
                .map_err(|e| this.storage_error(e, ""))
        };
        let mut page = list().await?;
        // From a revision the store has not reached (read from a replica a little ahead): it
        // waits for it, as kube-apiserver's watch cache waits to be fresh (3 s), then lists
        // again; or fails as a started watch does (a 200 stream ending with the ERROR event
        // carrying the 504 `Too large resource version`), not with an error answer at once.
        if let Some(asked) = resource_version.filter(|rv| *rv > page.revision) {
            let reached = match this.wait_for_revision(asked).await {
                Ok(_) => list().await.and_then(|p| {
                    if p.revision >= asked {
                        Ok(p)
                    } else {
                        Err(ApiError::too_large_resource_version(asked, p.revision))
                    }
                }),
                Err(e) => Err(e),
            };
            match reached {
                Ok(p) => page = p,
                Err(e) => {
                    return Ok(Watch {
                        from: asked,
                        events: futures::stream::iter([(asked, WatchItem::Error(e))]).boxed(),
                        progress: None,
                    });
                }
            }
        }
        // Each object is decoded and encoded as the connection takes the one before, as a
        // list's items are: a watcher that does not read holds the stored list, never every
        // object decoded and encoded for it (hundreds of MB for a large store, per watcher).
        let end = (send_initial_events == Some(true))
            .then_some((page.revision, WatchItem::InitialEventsEnd));
        let store = this.clone();
        let selected = opts.clone();
        initial = futures::stream::iter(page.items)
            .filter_map(move |kv| {
                futures::future::ready(initial_event(&store, index, &selected, &kv))
            })
            .chain(futures::stream::iter(end))
            .boxed();
        page.revision
    } else if from_now {
        this.store
            .revision()
            .await
            .map_err(|e| this.storage_error(e, ""))?
    } else {
        // From a revision the store has not reached: kube-apiserver serves the watch (events
        // after it, once they come), as when the client read that revision from another
        // replica a little ahead of this one. A store whose history restarted below it (a
        // memory store restarted, etcd restored from a backup) would leave such a watch silent
        // for good: if the store has not reached the revision within the watch cache's
        // freshness wait, the stream ends with an ERROR event carrying the 504 `Too large
        // resource version` Status, in a 200 stream as kube-apiserver fails a watch it has
        // started. client-go's reflector, and this crate's informers, relist on it.
        let asked = resource_version.unwrap_or_default();
        // A revision the watch cache has applied needs no round trip (kube-apiserver's cacher
        // checks against its own revision): informers re-watch while etcd stalls.
        if this
            .store
            .known_revision()
            .is_none_or(|known| asked > known)
        {
            let current = this
                .store
                .revision()
                .await
                .map_err(|e| this.storage_error(e, ""))?;
            if asked > current {
                freshness = Some(asked);
            }
        }
        asked
    };
    let mut progress = None;
    let waited_for = this.clone();
    let events = match this.store.watch(&prefix, from).await {
        Ok(stream) => {
            progress = stream.progress_handle();
            // A watch that fell behind ends here without an error, as kube-apiserver ends a
            // slow watcher: its client watches again from the last event it read, which the
            // history still holds (or gets 410 and relists), instead of relisting at once. So
            // does one whose store failed under it (etcd gone): kube-apiserver's watch cache
            // closes its watchers without an ERROR event when its etcd watch fails, and clients
            // watch again from where they were (a 503 while etcd is down; what they missed, or
            // 410 and a relist, once it is back).
            let live = stream
                .take_while(move |item| {
                    let end = match item {
                        Err(StorageError::Behind { .. }) => true,
                        Err(
                            e @ (StorageError::Unavailable(_)
                            | StorageError::Timeout(_)
                            | StorageError::Io(_)),
                        ) => {
                            tracing::warn!(prefix = %prefix, error = %e, "a watch's store failed: the watch ends");
                            true
                        }
                        _ => false,
                    };
                    futures::future::ready(!end)
                })
                .filter_map(move |item| {
                    futures::future::ready(this.watch_event(index, &opts, item))
                });
            initial.chain(live).boxed()
        }
        Err(e) => {
            let error = (from, WatchItem::Error(this.storage_error(e, "")));
            initial.chain(futures::stream::iter([error])).boxed()
        }
    };
    // A watch from a revision still to come starts once the store reached it, or ends with
    // the error.
    let events = match freshness {
        None => events,
        Some(asked) => futures::stream::once(async move {
            match waited_for.wait_for_revision(asked).await {
                Ok(_) => events,
                Err(e) => futures::stream::iter([(asked, WatchItem::Error(e))]).boxed(),
            }
        })
        .flatten()
        .boxed(),
    };
    Ok(Watch {
        from,
        events,
        progress,
    })
}
