//! [`SharedInformerFactory`]: one informer (one watch) per kind, however many consumers ask
//! for it; started, synced and shut down together.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::watcher;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::informer::{Cached, InformerOptions, SharedInformer, Transform};

/// An informer whatever its kind: what the factory starts, syncs and lists by resource.
pub trait AnyInformer: Send + Sync {
    fn has_synced(&self) -> bool;
    /// Stopped: shut down, or a transform or index function panicked.
    fn has_stopped(&self) -> bool;
    /// `group`, `version`, `plural`.
    fn resource(&self) -> (&'static str, &'static str, &'static str);
    /// Cached keys (`namespace/name`).
    fn keys(&self) -> Vec<String>;
    /// A cached object as JSON.
    fn get_json(&self, key: &str) -> Option<serde_json::Value>;
    fn as_any(&self) -> &dyn Any;
}

impl<K: Cached + serde::Serialize> AnyInformer for SharedInformer<K> {
    fn has_synced(&self) -> bool {
        SharedInformer::has_synced(self)
    }
    fn has_stopped(&self) -> bool {
        SharedInformer::has_stopped(self)
    }
    fn resource(&self) -> (&'static str, &'static str, &'static str) {
        (K::GROUP, K::VERSION, K::URL_PATH_SEGMENT)
    }
    fn keys(&self) -> Vec<String> {
        self.store().keys()
    }
    fn get_json(&self, key: &str) -> Option<serde_json::Value> {
        self.store()
            .get(key)
            .and_then(|o| serde_json::to_value(o.as_ref()).ok())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Entry {
    informer: Arc<dyn AnyInformer>,
    /// The same informer, typed (an `Arc<SharedInformer<K>>`).
    typed: Arc<dyn Any + Send + Sync>,
    /// Starts the informer (taken when started).
    run: Option<Starter>,
}

type Tweak = Arc<dyn Fn(&mut watcher::Config) + Send + Sync>;
type Starter = Box<dyn FnOnce(watch::Receiver<bool>) -> JoinHandle<()> + Send>;

/// Builds a [`SharedInformerFactory`].
pub struct FactoryBuilder {
    client: kube::Client,
    namespace: Option<String>,
    tweak: Option<Tweak>,
    resync: Option<Duration>,
    resync_by_kind: HashMap<TypeId, Duration>,
    transforms: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    streaming_lists: bool,
}

impl FactoryBuilder {
    /// Informers of namespaced kinds watch only this namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        // client-go's `NamespaceAll` is "": every namespace.
        self.namespace = (!namespace.is_empty()).then(|| namespace.into());
        self
    }

    /// Changes every informer's watch options (label and field selectors, timeouts).
    pub fn tweak_list_options(
        mut self,
        f: impl Fn(&mut watcher::Config) + Send + Sync + 'static,
    ) -> Self {
        self.tweak = Some(Arc::new(f));
        self
    }

    /// Resync period of every informer (each cached object to `on_update(obj, obj)`).
    pub fn resync(mut self, every: Duration) -> Self {
        self.resync = Some(every);
        self
    }

    /// Resync period of kind `K`'s informer.
    pub fn resync_for<K: 'static>(mut self, every: Duration) -> Self {
        self.resync_by_kind.insert(TypeId::of::<K>(), every);
        self
    }

    /// Changes each `K` before it is cached (e.g. drops `managedFields`).
    pub fn transform<K: 'static>(mut self, f: impl Fn(&mut K) + Send + Sync + 'static) -> Self {
        let t: Transform<K> = Arc::new(f);
        self.transforms.insert(TypeId::of::<K>(), Box::new(t));
        self
    }

    /// Initial lists as streaming watches (`sendInitialEvents`) rather than paged lists.
    pub fn streaming_lists(mut self) -> Self {
        self.streaming_lists = true;
        self
    }

    pub fn build(self) -> SharedInformerFactory {
        SharedInformerFactory {
            builder: self,
            informers: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        }
    }
}

/// One informer per kind, shared. Ask for informers, then [`start`](Self::start) them,
/// [`wait_for_cache_sync`](Self::wait_for_cache_sync), and [`shutdown`](Self::shutdown) at the
/// end.
pub struct SharedInformerFactory {
    builder: FactoryBuilder,
    informers: Mutex<HashMap<TypeId, Entry>>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl SharedInformerFactory {
    pub fn builder(client: kube::Client) -> FactoryBuilder {
        FactoryBuilder {
            client,
            namespace: None,
            tweak: None,
            resync: None,
            resync_by_kind: HashMap::new(),
            transforms: HashMap::new(),
            streaming_lists: false,
        }
    }

    pub fn client(&self) -> &kube::Client {
        &self.builder.client
    }

    /// The informer of a namespaced kind (in the factory's namespace, else all).
    pub fn namespaced<K>(&self) -> Arc<SharedInformer<K>>
    where
        K: Cached
            + serde::Serialize
            + k8s_openapi::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        self.informer_with(|client, ns| match ns {
            Some(ns) => kube::Api::namespaced(client, ns),
            None => kube::Api::all(client),
        })
    }

    /// The informer of a cluster-scoped kind.
    pub fn cluster<K>(&self) -> Arc<SharedInformer<K>>
    where
        K: Cached
            + serde::Serialize
            + k8s_openapi::Resource<Scope = k8s_openapi::ClusterResourceScope>,
    {
        self.informer_with(|client, _| kube::Api::all(client))
    }

    fn informer_with<K>(
        &self,
        api: impl FnOnce(kube::Client, Option<&str>) -> kube::Api<K>,
    ) -> Arc<SharedInformer<K>>
    where
        K: Cached + serde::Serialize,
    {
        let id = TypeId::of::<K>();
        let mut informers = self.informers.lock();
        if let Some(e) = informers.get(&id) {
            return e
                .typed
                .clone()
                .downcast::<SharedInformer<K>>()
                .expect("one informer type per TypeId");
        }
        let b = &self.builder;
        let mut config = watcher::Config::default();
        if b.streaming_lists {
            config = config.streaming_lists();
        }
        if let Some(t) = &b.tweak {
            t(&mut config);
        }
        let options = InformerOptions {
            watcher: config,
            resync: b.resync_by_kind.get(&id).copied().or(b.resync),
            transform: b
                .transforms
                .get(&id)
                .and_then(|t| t.downcast_ref::<Transform<K>>())
                .cloned(),
        };
        let informer = Arc::new(SharedInformer::new(
            api(b.client.clone(), b.namespace.as_deref()),
            options,
        ));
        let runner = informer.clone();
        informers.insert(
            id,
            Entry {
                informer: informer.clone(),
                typed: informer.clone(),
                run: Some(Box::new(move |shutdown| tokio::spawn(runner.run(shutdown)))),
            },
        );
        informer
    }

    /// Starts every informer asked for and not started yet (call again after asking for more).
    /// After [`shutdown`](Self::shutdown) it starts nothing, as in client-go.
    pub fn start(&self) {
        if *self.shutdown.borrow() {
            return;
        }
        let mut informers = self.informers.lock();
        let mut tasks = self.tasks.lock();
        for e in informers.values_mut() {
            if let Some(run) = e.run.take() {
                tasks.push(run(self.shutdown.subscribe()));
            }
        }
    }

    /// Waits until every started informer has synced; false if the factory shut down first, or
    /// an informer stopped (a panicking transform or index function).
    /// An informer asked for after [`start`](Self::start) is not waited for (as in client-go):
    /// it is named in a warning, and `start` must be called again for it.
    pub async fn wait_for_cache_sync(&self) -> bool {
        let mut shutdown = self.shutdown.subscribe();
        for e in self.informers.lock().values().filter(|e| e.run.is_some()) {
            let (group, version, plural) = e.informer.resource();
            tracing::warn!(
                group,
                version,
                resource = plural,
                "an informer asked for is not started, and not waited for: call start() again"
            );
        }
        loop {
            let pending: Vec<Arc<dyn AnyInformer>> = self
                .informers
                .lock()
                .values()
                .filter(|e| e.run.is_none() && !e.informer.has_synced())
                .map(|e| e.informer.clone())
                .collect();
            if pending.is_empty() {
                return true;
            }
            if *shutdown.borrow() || pending.iter().any(|i| i.has_stopped()) {
                return false;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// The informer of a resource by group, version and plural, among those asked for.
    pub fn for_resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<dyn AnyInformer>> {
        self.informers
            .lock()
            .values()
            .find(|e| e.informer.resource() == (group, version, plural))
            .map(|e| e.informer.clone())
    }

    /// Stops every informer and waits for their tasks.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.tasks.lock());
        for t in tasks {
            let _ = t.await;
        }
    }
}
