//! The in-memory backend.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::semantics;
use crate::watch::{WatchHub, WatchStream};
use crate::{
    Event, EventType, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError,
    StoreOptions,
};

/// An in-memory [`Storage`]: a sorted map behind a mutex, plus the shared watch hub.
///
/// Cheap to clone; clones share the same data. Every operation completes without awaiting.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    data: Mutex<Data>,
    hub: WatchHub,
    max_value_size: usize,
}

struct Data {
    revision: Revision,
    /// Each key once: a [`KeyValue`] is made on the way out. (A copy in each entry cost a
    /// sixth of the server's memory at 100,000 small objects.)
    map: BTreeSet<Stored>,
}

/// A stored key, its value and revisions, in one allocation the map points to. The map's nodes
/// then hold a pointer a key instead of a key and a value (64 bytes): names written in order
/// (a counter, as `kubectl create` loops and the benchmark make them) leave each B-tree node
/// about half full, which cost 60 bytes an object more at 100,000 objects.
struct Stored(Box<Record>);

struct Record {
    key: Box<str>,
    value: Bytes,
    create_revision: Revision,
    mod_revision: Revision,
}

impl Stored {
    fn of(kv: &KeyValue) -> Self {
        Stored(Box::new(Record {
            key: kv.key.as_str().into(),
            value: kv.value.clone(),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
        }))
    }

    fn key_value(&self) -> KeyValue {
        let r = &self.0;
        KeyValue {
            key: r.key.to_string(),
            value: r.value.clone(),
            create_revision: r.create_revision,
            mod_revision: r.mod_revision,
        }
    }
}

// Ordered, compared and looked up by key alone (`Borrow<str>`: the set is searched with `&str`).
impl Borrow<str> for Stored {
    fn borrow(&self) -> &str {
        &self.0.key
    }
}

impl PartialEq for Stored {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}

impl Eq for Stored {}

impl PartialOrd for Stored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Stored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.key.cmp(&other.0.key)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store at revision 0 with default options.
    pub fn new() -> Self {
        Self::with_options(StoreOptions::default())
    }

    /// An empty store at revision 0.
    pub fn with_options(opts: StoreOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                data: Mutex::new(Data {
                    revision: 0,
                    map: BTreeSet::new(),
                }),
                hub: WatchHub::new(
                    0,
                    opts.history_capacity,
                    opts.history_bytes,
                    opts.watch_buffer,
                ),
                max_value_size: opts.max_value_size,
            }),
        }
    }

    /// A store holding `items` as of `revision`, its history starting there: the mirror a
    /// [`Cacher`](crate::Cacher) keeps of another store.
    pub(crate) fn snapshot(items: Vec<KeyValue>, revision: Revision, opts: StoreOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                data: Mutex::new(Data {
                    revision,
                    map: items.iter().map(Stored::of).collect(),
                }),
                hub: WatchHub::new(
                    revision,
                    opts.history_capacity,
                    opts.history_bytes,
                    opts.watch_buffer,
                ),
                max_value_size: opts.max_value_size,
            }),
        }
    }

    /// Applies an event another store committed (in revision order, as its watch delivers
    /// them): the change, and the event to this store's watchers. A progress event only moves
    /// the revision; anything older than the store's revision is ignored.
    pub(crate) fn apply(&self, event: Arc<Event>) {
        let mut data = self.data();
        if event.revision < data.revision {
            return;
        }
        data.revision = event.revision;
        match event.kind {
            EventType::Progress => {
                self.inner.hub.advance(event.revision);
                return;
            }
            EventType::Added | EventType::Modified => {
                // `replace`, not `insert`: the set keeps an equal (same-key) element.
                data.map.replace(Stored::of(&event.kv));
            }
            EventType::Deleted => {
                data.map.remove(event.kv.key.as_str());
            }
        }
        // Published under the data lock, as the store's own writes are.
        self.inner.hub.publish(event);
    }

    /// Ends every watch of this store with `error`.
    pub(crate) fn fail_watchers(&self, error: StorageError) {
        self.inner.hub.fail_all(error);
    }

    /// The store's revision, without a future.
    pub(crate) fn current_revision(&self) -> Revision {
        self.data().revision
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.inner.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get_sync(&self, key: &str) -> Option<KeyValue> {
        self.data().map.get(key).map(Stored::key_value)
    }

    fn list_sync(&self, prefix: &str, opts: &ListOptions) -> Result<ListResult, StorageError> {
        let data = self.data();
        let (revision, overlay) = match opts.revision.filter(|r| *r != data.revision) {
            None => (data.revision, Default::default()),
            Some(at) if at > data.revision => return Err(semantics::future(at, data.revision)),
            Some(at) => {
                // Writes publish under the data lock: the hub is at `data.revision` here.
                let (later, _) = self.inner.hub.since(at)?;
                (at, semantics::overlay(prefix, &later))
            }
        };
        let (start, inclusive) = semantics::start_bound(prefix, opts);
        let lower = if inclusive {
            Bound::Included(start)
        } else {
            Bound::Excluded(start)
        };
        let current = data.map.range::<str, _>((lower, Bound::Unbounded)).map(Ok);
        semantics::page(
            prefix,
            current,
            |stored| &stored.0.key,
            |stored| Ok(stored.key_value()),
            &overlay,
            revision,
            opts,
        )
    }

    fn create_sync(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        semantics::check_size(key, &value, self.inner.max_value_size)?;
        let mut data = self.data();
        if data.map.contains(key) {
            return Err(StorageError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        let rev = semantics::next_revision(data.revision)?;
        let kv = KeyValue {
            key: key.to_owned(),
            value,
            create_revision: rev,
            mod_revision: rev,
        };
        data.revision = rev;
        data.map.insert(Stored::of(&kv));
        // Published under the data lock: events reach the hub in revision order.
        self.inner.hub.publish(semantics::added(kv.clone()));
        Ok(kv)
    }

    fn update_sync(
        &self,
        key: &str,
        value: Bytes,
        expected: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        semantics::check_size(key, &value, self.inner.max_value_size)?;
        let mut data = self.data();
        let Some(prev) = data.map.get(key).map(Stored::key_value) else {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        };
        semantics::check_expected(key, &prev, expected)?;
        if prev.value == value {
            return Ok(prev);
        }
        let rev = semantics::next_revision(data.revision)?;
        let kv = KeyValue {
            key: key.to_owned(),
            value,
            create_revision: prev.create_revision,
            mod_revision: rev,
        };
        data.revision = rev;
        data.map.replace(Stored::of(&kv));
        self.inner
            .hub
            .publish(semantics::modified(kv.clone(), prev));
        Ok(kv)
    }

    fn delete_sync(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StorageError> {
        let mut data = self.data();
        let Some(prev) = data.map.get(key).map(Stored::key_value) else {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        };
        semantics::check_expected(key, &prev, expected)?;
        let rev = semantics::next_revision(data.revision)?;
        data.map.remove(key);
        data.revision = rev;
        let (event, kv) = semantics::deleted(prev, rev);
        self.inner.hub.publish(event);
        Ok(kv)
    }
}

impl Storage for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        Ok(self.get_sync(key))
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        self.list_sync(prefix, &opts)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        self.create_sync(key, value)
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.update_sync(key, value, expected_mod_revision)
    }

    async fn delete(
        &self,
        key: &str,
        expected_mod_revision: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.delete_sync(key, expected_mod_revision)
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        self.inner.hub.subscribe(prefix, from)
    }

    async fn revision(&self) -> Result<Revision, StorageError> {
        Ok(self.data().revision)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.hub.compact(revision);
        Ok(())
    }
}
