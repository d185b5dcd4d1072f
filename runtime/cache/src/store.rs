//! [`Store`]: the cache — `Arc`'d objects by `namespace/name`, with indexes kept up to date on
//! every change. Objects come out as `Arc<K>`: shared, never copied, and impossible to change in
//! place, so "never modify objects in the cache" is the type system's rule, not a convention.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use parking_lot::RwLock;

/// The index every store has: objects by namespace.
pub const NAMESPACE_INDEX: &str = "namespace";

/// Computes an object's values in one index (several values: the object is found under each).
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// `namespace/name`, or `name` for a cluster-scoped object (client-go's `MetaNamespaceKeyFunc`).
pub fn key_of(meta: &ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// An index name that was never added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownIndex(pub String);

impl std::fmt::Display for UnknownIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no index named {:?}", self.0)
    }
}

impl std::error::Error for UnknownIndex {}

/// An index name that is taken (client-go's `AddIndexers` refuses it too): replacing an index,
/// the listers' namespace index above all, would silently change what every reader finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexExists(pub String);

impl std::fmt::Display for IndexExists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an index named {:?} exists already", self.0)
    }
}

impl std::error::Error for IndexExists {}

/// What a full replacement of the contents changed.
pub(crate) struct Replaced<K> {
    pub added: Vec<Arc<K>>,
    /// `(old, new)` for objects whose `resourceVersion` changed.
    pub updated: Vec<(Arc<K>, Arc<K>)>,
    /// Objects no longer there: deleted while nobody watched.
    pub removed: Vec<(String, Arc<K>)>,
}

/// A key, shared by the items map and every index that holds it (one allocation per object).
type Key = Arc<str>;

struct Inner<K> {
    items: HashMap<Key, Arc<K>>,
    indexers: BTreeMap<String, IndexFn<K>>,
    /// index name → value → keys.
    indices: HashMap<String, HashMap<String, HashSet<Key>>>,
}

/// The writing side of a [`Store`] of your own (tests, caches you fill yourself). An informer's
/// store has none outside the informer: its reflector alone keeps it, and listers, handlers and
/// [`SharedInformer::store`](crate::SharedInformer::store) can only read it.
pub struct StoreWriter<K>(Store<K>);

impl<K> StoreWriter<K>
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    /// An empty store, and this way to fill it.
    pub fn new() -> Self {
        StoreWriter(Store::new())
    }

    /// The store, to read (clones share the contents).
    pub fn store(&self) -> Store<K> {
        self.0.clone()
    }

    /// Adds or replaces; returns what was there.
    pub fn insert(&self, obj: Arc<K>) -> Option<Arc<K>> {
        self.0.upsert(obj)
    }

    /// Removes by key; returns what was there.
    pub fn delete(&self, key: &str) -> Option<Arc<K>> {
        self.0.remove(key)
    }
}

impl<K> Default for StoreWriter<K>
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

/// A thread-safe cache of objects of kind `K` (cheap to clone: clones share the contents), read
/// only: a [`StoreWriter`] or an informer's reflector fills it.
pub struct Store<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            inner: self.inner.clone(),
        }
    }
}

impl<K> Default for Store<K>
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Store<K>
where
    K: k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    /// An empty store with the [`NAMESPACE_INDEX`].
    pub fn new() -> Self {
        let mut indexers: BTreeMap<String, IndexFn<K>> = BTreeMap::new();
        indexers.insert(
            NAMESPACE_INDEX.into(),
            // A cluster-scoped object under "", as client-go's `MetaNamespaceIndexFunc` puts it.
            Arc::new(|k: &K| vec![k.metadata().namespace.clone().unwrap_or_default()]),
        );
        let indices = indexers
            .keys()
            .map(|n| (n.clone(), HashMap::new()))
            .collect();
        Store {
            inner: Arc::new(RwLock::new(Inner {
                items: HashMap::new(),
                indexers,
                indices,
            })),
        }
    }

    /// Adds an index (built at once over what the store holds); `IndexExists` if one of that
    /// name does ([`NAMESPACE_INDEX`] is every store's).
    pub fn add_indexer(
        &self,
        name: &str,
        index: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) -> Result<(), IndexExists> {
        let mut inner = self.inner.write();
        if inner.indexers.contains_key(name) {
            return Err(IndexExists(name.to_string()));
        }
        let f: IndexFn<K> = Arc::new(index);
        let mut values: HashMap<String, HashSet<Key>> = HashMap::new();
        for (key, obj) in &inner.items {
            for v in f(obj) {
                values.entry(v).or_default().insert(key.clone());
            }
        }
        inner.indexers.insert(name.into(), f);
        inner.indices.insert(name.into(), values);
        Ok(())
    }

    /// The object at `key` (`namespace/name`, or `name` when cluster-scoped).
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.inner.read().items.get(key).cloned()
    }

    /// Every object, in no particular order.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.inner.read().items.values().cloned().collect()
    }

    /// Every object that `keep` accepts. `keep` runs outside the store's lock, so it may read
    /// this store (look up an owner, say): under the lock, a writer queued meanwhile would
    /// deadlock it.
    pub fn filter(&self, mut keep: impl FnMut(&K) -> bool) -> Vec<Arc<K>> {
        let mut all = self.list();
        all.retain(|o| keep(o));
        all
    }

    /// [`filter`](Self::filter) under the lock, without cloning the others' `Arc`s: for
    /// predicates that never touch the store (label selectors).
    pub(crate) fn filter_locked(&self, keep: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.inner
            .read()
            .items
            .values()
            .filter(|o| keep(o))
            .cloned()
            .collect()
    }

    pub fn keys(&self) -> Vec<String> {
        self.inner
            .read()
            .items
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.inner.read().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects whose `index` values include `value`.
    pub fn by_index(&self, index: &str, value: &str) -> Result<Vec<Arc<K>>, UnknownIndex> {
        let inner = self.inner.read();
        let values = inner
            .indices
            .get(index)
            .ok_or_else(|| UnknownIndex(index.into()))?;
        Ok(values
            .get(value)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| inner.items.get(k).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The values `index` holds.
    pub fn index_values(&self, index: &str) -> Result<Vec<String>, UnknownIndex> {
        let inner = self.inner.read();
        let values = inner
            .indices
            .get(index)
            .ok_or_else(|| UnknownIndex(index.into()))?;
        Ok(values.keys().cloned().collect())
    }

    pub(crate) fn upsert(&self, obj: Arc<K>) -> Option<Arc<K>> {
        let key: Key = key_of(obj.metadata()).into();
        let mut inner = self.inner.write();
        let old = inner.items.insert(key.clone(), obj.clone());
        if let Some(old) = &old {
            unindex(&mut inner, &key, old);
        }
        index(&mut inner, &key, &obj);
        old
    }

    /// Removes; returns what was there.
    pub(crate) fn remove(&self, key: &str) -> Option<Arc<K>> {
        let mut inner = self.inner.write();
        let old = inner.items.remove(key);
        if let Some(old) = &old {
            unindex(&mut inner, key, old);
        }
        old
    }

    /// Replaces the whole contents (after a list); says what changed.
    pub(crate) fn replace(&self, objects: Vec<Arc<K>>) -> Replaced<K> {
        let mut fresh: HashMap<Key, Arc<K>> = HashMap::with_capacity(objects.len());
        for o in objects {
            fresh.insert(key_of(o.metadata()).into(), o);
        }
        let mut inner = self.inner.write();
        let mut changes = Replaced {
            added: Vec::new(),
            updated: Vec::new(),
            removed: Vec::new(),
        };
        let old_items = std::mem::take(&mut inner.items);
        for (key, old) in &old_items {
            match fresh.get(key) {
                None => changes.removed.push((key.to_string(), old.clone())),
                Some(new) if new.metadata().resource_version != old.metadata().resource_version => {
                    changes.updated.push((old.clone(), new.clone()))
                }
                Some(_) => {}
            }
        }
        for (key, new) in &fresh {
            if !old_items.contains_key(key) {
                changes.added.push(new.clone());
            }
        }
        // Indexes rebuilt from scratch: one pass, no stale entries.
        let names: Vec<String> = inner.indexers.keys().cloned().collect();
        for name in names {
            inner.indices.insert(name, HashMap::new());
        }
        // Keep the old Arc where nothing changed, so holders of it keep sharing with the cache.
        for (key, new) in fresh {
            let kept = match old_items.get(&key) {
                Some(old) if old.metadata().resource_version == new.metadata().resource_version => {
                    old.clone()
                }
                _ => new,
            };
            index(&mut inner, &key, &kept);
            inner.items.insert(key, kept);
        }
        changes
    }
}

fn index<K>(inner: &mut Inner<K>, key: &Key, obj: &K) {
    let Inner {
        indexers, indices, ..
    } = inner;
    for (name, f) in indexers.iter() {
        let values = indices.entry(name.clone()).or_default();
        for v in f(obj) {
            values.entry(v).or_default().insert(key.clone());
        }
    }
}

fn unindex<K>(inner: &mut Inner<K>, key: &str, obj: &K) {
    let Inner {
        indexers, indices, ..
    } = inner;
    for (name, f) in indexers.iter() {
        if let Some(values) = indices.get_mut(name) {
            for v in f(obj) {
                if let Some(keys) = values.get_mut(&v) {
                    keys.remove(key);
                    if keys.is_empty() {
                        values.remove(&v);
                    }
                }
            }
        }
    }
}
