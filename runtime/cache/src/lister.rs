//! Listers: read-only views of a [`Store`] by namespace and label selector (what lister-gen's
//! per-kind aliases name). Everything comes out as `Arc<K>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_codegen_apimachinery::LabelSelector;

use crate::store::{NAMESPACE_INDEX, Store};

/// Lists and gets cached objects of kind `K`.
pub struct Lister<K> {
    store: Store<K>,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Lister {
            store: self.store.clone(),
        }
    }
}

fn selected<K: k8s_openapi::Metadata<Ty = ObjectMeta>>(selector: &LabelSelector, obj: &K) -> bool {
    if selector.is_empty() {
        return true;
    }
    let empty = BTreeMap::new();
    selector.matches(obj.metadata().labels.as_ref().unwrap_or(&empty))
}

impl<K> Lister<K>
where
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    pub fn new(store: Store<K>) -> Self {
        Lister { store }
    }

    /// Every cached object the selector selects (`LabelSelector::everything()` for all).
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        self.store.filter_locked(|o| selected(selector, o))
    }

    /// The objects of one namespace (of every one for `""`, client-go's `NamespaceAll`).
    pub fn namespace(&self, namespace: &str) -> NamespaceLister<K>
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        NamespaceLister {
            store: self.store.clone(),
            namespace: namespace.to_string(),
        }
    }

    /// A cluster-scoped object by name.
    pub fn get(&self, name: &str) -> Option<Arc<K>>
    where
        K: k8s_openapi::Resource<Scope = k8s_openapi::ClusterResourceScope>,
    {
        self.store.get(name)
    }

    /// The store underneath (indexes: `by_index`).
    pub fn store(&self) -> &Store<K> {
        &self.store
    }
}

/// The cached objects of one namespace.
pub struct NamespaceLister<K> {
    store: Store<K>,
    namespace: String,
}

impl<K> NamespaceLister<K>
where
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.store.get(&format!("{}/{name}", self.namespace))
    }

    /// The namespace's objects the selector selects; every namespace's for `""`
    /// (`NamespaceAll`), as client-go's `ListAllByNamespace`.
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        if self.namespace.is_empty() {
            return self.store.filter_locked(|o| selected(selector, o));
        }
        self.store
            .by_index(NAMESPACE_INDEX, &self.namespace)
            .unwrap_or_default()
            .into_iter()
            .filter(|o| selected(selector, o.as_ref()))
            .collect()
    }
}
