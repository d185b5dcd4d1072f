//! What kube-codegen's generated listers and informers stand on (client-go's `tools/cache` and
//! `util/workqueue`, over kube-rs):
//!
//! - [`Store`]: a thread-safe cache of `Arc<K>` by `namespace/name`, with indexes (`namespace`
//!   built in, [`Store::add_indexer`] for your own, [`Store::by_index`]). Cached objects are
//!   shared and immutable: the type system keeps anyone from changing the cache in place.
//! - [`SharedInformer`]: a reflector on `kube::runtime::watcher` that keeps a store in sync,
//!   reports [`has_synced`](SharedInformer::has_synced), survives watch errors, 410 relists and
//!   server restarts, and calls [`EventHandler`]s — deletes noticed only at a relist come as
//!   [`Deleted::FinalStateUnknown`] — with an optional periodic resync.
//! - [`SharedInformerFactory`]: one informer (one watch) per kind for every consumer.
//! - [`Lister`]: read-only views by namespace and label selector.
//! - [`WorkQueue`]: a deduplicating, rate-limited queue of keys for workers.

mod factory;
mod informer;
mod lister;
mod store;
mod workqueue;

pub use factory::{AnyInformer, FactoryBuilder, SharedInformerFactory};
pub use informer::{
    Cached, Deleted, EventHandler, Handlers, InformerOptions, SharedInformer, Transform,
};
pub use kube_codegen_apimachinery::LabelSelector;
pub use lister::{Lister, NamespaceLister};
pub use store::{IndexExists, IndexFn, NAMESPACE_INDEX, Store, StoreWriter, UnknownIndex, key_of};
pub use workqueue::{Processing, RateLimits, WorkQueue};
