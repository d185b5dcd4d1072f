//! [`SharedInformer`]: a reflector on `kube::runtime::watcher` (list, watch, resume, relist on
//! 410, backoff: kube's, not rewritten) that keeps a [`Store`] in sync and tells event handlers
//! what changed, each handler on its own task so a slow one delays no other.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};

use crate::lister::Lister;
use crate::store::{Store, key_of};

/// What an informer caches: a Kubernetes kind that kube's watcher can read.
pub trait Cached:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Clone
    + Debug
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<K> Cached for K where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// A deletion as a handler sees it.
#[derive(Debug)]
pub enum Deleted<K> {
    /// The watch saw the delete: the object as it was deleted.
    Object(Arc<K>),
    /// The object was gone at a relist (the delete happened while the watch was down): the last
    /// state the cache knew (client-go's `DeletedFinalStateUnknown`).
    FinalStateUnknown { key: String, last_known: Arc<K> },
}

impl<K> Deleted<K> {
    /// The object as last known, whichever way its deletion was noticed.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Deleted::Object(o) => o,
            Deleted::FinalStateUnknown { last_known, .. } => last_known,
        }
    }
}

/// Reacts to changes of the cache. Objects are shared with the cache (`Arc<K>`): read them,
/// clone what you want to change.
pub trait EventHandler<K>: Send + Sync + 'static {
    fn on_add(&self, _obj: Arc<K>) {}
    /// `old` and `new` are the same object on a periodic resync.
    fn on_update(&self, _old: Arc<K>, _new: Arc<K>) {}
    fn on_delete(&self, _deleted: Deleted<K>) {}
}

type AddFn<K> = Box<dyn Fn(Arc<K>) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(Arc<K>, Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(Deleted<K>) + Send + Sync>;

/// An [`EventHandler`] from closures (client-go's `ResourceEventHandlerFuncs`).
pub struct Handlers<K> {
    add: Option<AddFn<K>>,
    update: Option<UpdateFn<K>>,
    delete: Option<DeleteFn<K>>,
}

impl<K> Default for Handlers<K> {
    fn default() -> Self {
        Handlers {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> Handlers<K> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn on_add(mut self, f: impl Fn(Arc<K>) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }
    pub fn on_update(mut self, f: impl Fn(Arc<K>, Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }
    pub fn on_delete(mut self, f: impl Fn(Deleted<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K: Send + Sync + 'static> EventHandler<K> for Handlers<K> {
    fn on_add(&self, obj: Arc<K>) {
        if let Some(f) = &self.add {
            f(obj)
        }
    }
    fn on_update(&self, old: Arc<K>, new: Arc<K>) {
        if let Some(f) = &self.update {
            f(old, new)
        }
    }
    fn on_delete(&self, deleted: Deleted<K>) {
        if let Some(f) = &self.delete {
            f(deleted)
        }
    }
}

/// A change, on its way to one handler.
enum Notification<K> {
    Add(Arc<K>),
    Update(Arc<K>, Arc<K>),
    Delete(Deleted<K>),
}

impl<K> Clone for Notification<K> {
    fn clone(&self) -> Self {
        match self {
            Notification::Add(o) => Notification::Add(o.clone()),
            Notification::Update(a, b) => Notification::Update(a.clone(), b.clone()),
            Notification::Delete(Deleted::Object(o)) => {
                Notification::Delete(Deleted::Object(o.clone()))
            }
            Notification::Delete(Deleted::FinalStateUnknown { key, last_known }) => {
                Notification::Delete(Deleted::FinalStateUnknown {
                    key: key.clone(),
                    last_known: last_known.clone(),
                })
            }
        }
    }
}

/// Drops fields before an object is cached (e.g. `managedFields`).
pub type Transform<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

/// How an informer watches.
pub struct InformerOptions<K> {
    pub watcher: watcher::Config,
    /// Every `resync`, each cached object is handed to `on_update(obj, obj)`.
    pub resync: Option<Duration>,
    pub transform: Option<Transform<K>>,
}

impl<K> Default for InformerOptions<K> {
    fn default() -> Self {
        InformerOptions {
            watcher: watcher::Config::default(),
            resync: None,
            transform: None,
        }
    }
}

/// Where an informer is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not synced yet (starting, or not started).
    Syncing,
    /// The first full list is cached.
    Synced,
    /// Stopped (shut down, or a transform or index function panicked): the cache no longer
    /// follows the server.
    Stopped,
}

/// One kind's cache and its watch, shared by every consumer.
pub struct SharedInformer<K> {
    api: kube::Api<K>,
    store: Store<K>,
    /// Held while the store changes and the change is handed to the handlers, so that a handler
    /// added meanwhile sees the cache either before a change and then the change, or after it.
    handlers: Mutex<Vec<mpsc::UnboundedSender<Notification<K>>>>,
    phase: watch::Sender<Phase>,
    started: AtomicBool,
    options: InformerOptions<K>,
}

impl<K: Cached> SharedInformer<K> {
    pub fn new(api: kube::Api<K>, options: InformerOptions<K>) -> Self {
        SharedInformer {
            api,
            store: Store::new(),
            handlers: Mutex::new(Vec::new()),
            phase: watch::channel(Phase::Syncing).0,
            started: AtomicBool::new(false),
            options,
        }
    }

    pub fn store(&self) -> &Store<K> {
        &self.store
    }

    pub fn lister(&self) -> Lister<K> {
        Lister::new(self.store.clone())
    }

    /// Whether the first full list has been cached and the informer still follows the server
    /// (false once it stopped).
    pub fn has_synced(&self) -> bool {
        *self.phase.borrow() == Phase::Synced
    }

    /// Whether the informer stopped: shut down, or a transform or index function panicked (its
    /// cache no longer follows the server).
    pub fn has_stopped(&self) -> bool {
        *self.phase.borrow() == Phase::Stopped
    }

    /// Waits until [`has_synced`](Self::has_synced); false if the informer stopped first (or
    /// has stopped already).
    pub async fn wait_for_sync(&self) -> bool {
        let mut rx = self.phase.subscribe();
        matches!(
            rx.wait_for(|p| *p != Phase::Syncing).await.as_deref(),
            Ok(Phase::Synced)
        )
    }

    /// Adds a handler; it first receives `on_add` for every object already cached. Each handler
    /// runs on a task of its own, in order of the changes. A handler that panics is logged at
    /// error level and goes on receiving events (client-go crashes the process instead: build
    /// with `panic = "abort"` for that).
    pub fn add_event_handler(&self, handler: impl EventHandler<K>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Notification<K>>();
        let mut handlers = self.handlers.lock();
        for obj in self.store.list() {
            let _ = tx.send(Notification::Add(obj));
        }
        handlers.push(tx);
        tokio::spawn(async move {
            while let Some(n) = rx.recv().await {
                let event = match &n {
                    Notification::Add(_) => "add",
                    Notification::Update(..) => "update",
                    Notification::Delete(_) => "delete",
                };
                // A panic would end this task, and the handler would silently get no more
                // events while the cache stays fresh.
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match n {
                    Notification::Add(o) => handler.on_add(o),
                    Notification::Update(a, b) => handler.on_update(a, b),
                    Notification::Delete(d) => handler.on_delete(d),
                }));
                if let Err(panic) = handled {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic without a message".to_string());
                    tracing::error!(
                        kind = K::KIND,
                        event,
                        panic = %message,
                        "an event handler panicked; it keeps receiving events"
                    );
                }
            }
        });
    }

    /// Changes the store with `change` and hands the handlers what it returns, holding the
    /// handlers' lock over both (see [`SharedInformer::handlers`]).
    fn change(&self, change: impl FnOnce(&Store<K>) -> Vec<Notification<K>>) {
        let mut handlers = self.handlers.lock();
        for n in change(&self.store) {
            handlers.retain(|tx| tx.send(n.clone()).is_ok());
        }
    }

    fn prepare(&self, mut obj: K) -> Arc<K> {
        if let Some(t) = &self.options.transform {
            t(&mut obj);
        }
        Arc::new(obj)
    }

    /// Runs the reflector until `shutdown` turns true (or its sender is dropped). Runs once: a
    /// second call returns at once.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        // However the loop ends — shutdown, or a panicking transform or index function
        // unwinding through it — the informer says it stopped.
        struct Stopping<'a>(&'a watch::Sender<Phase>);
        impl Drop for Stopping<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    tracing::error!(
                        "an informer stopped: a transform or an index function panicked; its cache no longer follows the server"
                    );
                }
                self.0.send_replace(Phase::Stopped);
            }
        }
        let _stopping = Stopping(&self.phase);
        // A receiver subscribed after the shutdown was sent has already seen it: `changed()`
        // would never fire, and a factory's `shutdown` would wait for this task for ever.
        if *shutdown.borrow_and_update() {
            return;
        }
        let new_stream = || {
            watcher(self.api.clone(), self.options.watcher.clone())
                .default_backoff()
                .boxed()
        };
        let mut stream = new_stream();
        // A zero period is no resync (client-go's `NewSharedInformerFactory(cs, 0)`).
        let mut resync = self.options.resync.filter(|d| !d.is_zero()).map(|d| {
            let mut i = tokio::time::interval(d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        if let Some(i) = &mut resync {
            i.tick().await;
        }
        // Objects of a relist in progress.
        let mut relist: Option<Vec<Arc<K>>> = None;
        // The wait before a relist from scratch, doubling while the server keeps answering
        // "Too large resource version" (client-go's reflector backs off 0.8 s to 30 s between
        // ListAndWatch runs), and when that last happened.
        let mut relist_backoff: Option<(Duration, tokio::time::Instant)> = None;
        loop {
            let tick = async {
                match &mut resync {
                    Some(i) => {
                        i.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
                _ = tick => {
                    self.change(|store| {
                        store
                            .list()
                            .into_iter()
                            .map(|obj| Notification::Update(obj.clone(), obj))
                            .collect()
                    });
                }
                event = stream.next() => {
                    let Some(event) = event else { break };
                    match event {
                        Ok(watcher::Event::Init) => relist = Some(Vec::new()),
                        Ok(watcher::Event::InitApply(obj)) => {
                            // An object the cache holds unchanged is kept, not held twice: a
                            // relist costs one copy of what changed, not of the whole cache.
                            let key = key_of(obj.metadata());
                            let obj = match self.store.get(&key) {
                                Some(cached) if cached.metadata().resource_version.is_some()
                                    && cached.metadata().resource_version == obj.metadata().resource_version => cached,
                                _ => self.prepare(obj),
                            };
                            relist.get_or_insert_with(Vec::new).push(obj);
                        }
                        Ok(watcher::Event::InitDone) => {
                            let listed = relist.take().unwrap_or_default();
                            self.change(|store| {
                                let changes = store.replace(listed);
                                let mut out: Vec<Notification<K>> =
                                    changes.added.into_iter().map(Notification::Add).collect();
                                out.extend(
                                    changes
                                        .updated
                                        .into_iter()
                                        .map(|(old, new)| Notification::Update(old, new)),
                                );
                                out.extend(changes.removed.into_iter().map(|(key, last_known)| {
                                    Notification::Delete(Deleted::FinalStateUnknown { key, last_known })
                                }));
                                out
                            });
                            self.phase.send_replace(Phase::Synced);
                        }
                        Ok(watcher::Event::Apply(obj)) => {
                            let obj = self.prepare(obj);
                            self.change(|store| match store.upsert(obj.clone()) {
                                Some(old) => vec![Notification::Update(old, obj)],
                                None => vec![Notification::Add(obj)],
                            });
                        }
                        Ok(watcher::Event::Delete(obj)) => {
                            let obj = self.prepare(obj);
                            self.change(|store| {
                                store.remove(&key_of(obj.metadata()));
                                vec![Notification::Delete(Deleted::Object(obj))]
                            });
                        }
                        // A server whose history restarted below the cache's resourceVersion
                        // (a memory store restarted, etcd restored from a backup) answers
                        // every resumed watch "Too large resource version": client-go's
                        // reflector relists then, from scratch, and so does this one. The
                        // relist replaces the cache: what is gone is deleted
                        // (`FinalStateUnknown`), what is new added.
                        Err(e) if too_large_resource_version(&e) => {
                            let now = tokio::time::Instant::now();
                            let delay = match relist_backoff {
                                // Two minutes without one: the server caught up in between.
                                Some((last, at)) if now.duration_since(at) < RELIST_BACKOFF_RESET => {
                                    (last * 2).min(RELIST_BACKOFF_MAX)
                                }
                                _ => RELIST_BACKOFF_FIRST,
                            };
                            relist_backoff = Some((delay, now));
                            tracing::warn!(kind = K::KIND, error = %e, ?delay, "the server's history is behind the cache; relisting");
                            relist = None;
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                changed = shutdown.changed() => {
                                    if changed.is_err() || *shutdown.borrow() {
                                        break;
                                    }
                                }
                            }
                            stream = new_stream();
                        }
                        // The watcher backs off and resumes (or relists): the cache stays as it
                        // is meanwhile.
                        Err(e) => tracing::warn!(kind = K::KIND, error = %e, "watch failed; retrying"),
                    }
                }
            }
        }
        // Handlers' tasks end once their queues are drained.
        self.handlers.lock().clear();
    }
}

/// The first wait before relisting from scratch, the longest, and how long without another
/// "Too large resource version" resets it (client-go's reflector backoff manager).
const RELIST_BACKOFF_FIRST: Duration = Duration::from_millis(800);
const RELIST_BACKOFF_MAX: Duration = Duration::from_secs(30);
const RELIST_BACKOFF_RESET: Duration = Duration::from_secs(120);

/// kube-apiserver's answer to a watch from a resourceVersion it has not reached (504 with
/// "Too large resource version", as client-go's `IsTooLargeResourceVersion` reads it).
fn too_large_resource_version(e: &watcher::Error) -> bool {
    let status = match e {
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::InitialListFailed(kube::Error::Api(s)) => s,
        watcher::Error::WatchError(s) => s,
        _ => return false,
    };
    status.message.contains("Too large resource version")
}
