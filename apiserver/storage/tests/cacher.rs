//! The watch cache ([`Cacher`]) beyond the conformance suite: what it serves itself (counted on
//! the store behind it), its answers against the store's, and how it survives a failed watch.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiserver_storage::{
    Bytes, Cacher, EventType, KeyValue, ListOptions, ListResult, MemoryStore, Revision, Storage,
    StorageError, StoreOptions, WatchStream,
};
use common::{b, next_event, next_item};

/// A store that counts the lists and watches it answers, and can be told what its next watch
/// does.
#[derive(Clone)]
struct Counting<S> {
    inner: S,
    lists: Arc<AtomicUsize>,
    watches: Arc<AtomicUsize>,
    next_watch: Arc<Mutex<Option<NextWatch>>>,
}

/// What the next [`Counting::watch`] does instead of only asking the store behind.
enum NextWatch {
    /// Answers with this stream (fed by the test).
    Stream(WatchStream),
    /// Writes this many keys under the prefix and compacts at the last of them, then asks.
    WriteAndCompact(usize),
}

impl<S> Counting<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            lists: Arc::default(),
            watches: Arc::default(),
            next_watch: Arc::default(),
        }
    }

    fn on_next_watch(&self, next: NextWatch) {
        *self.next_watch.lock().unwrap() = Some(next);
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.lists.load(Ordering::SeqCst),
            self.watches.load(Ordering::SeqCst),
        )
    }
}

impl<S: Storage> Storage for Counting<S> {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        self.inner.get(key).await
    }
    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list(prefix, opts).await
    }
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        self.inner.create(key, value).await
    }
    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.inner.update(key, value, expected).await
    }
    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<KeyValue, StorageError> {
        self.inner.delete(key, expected).await
    }
    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StorageError> {
        self.watches.fetch_add(1, Ordering::SeqCst);
        let next = self.next_watch.lock().unwrap().take();
        match next {
            Some(NextWatch::Stream(stream)) => return Ok(stream),
            Some(NextWatch::WriteAndCompact(n)) => {
                let mut last = 0;
                for i in 0..n {
                    let key = format!("{prefix}interleaved-{i}");
                    last = self.inner.create(&key, b("v")).await?.mod_revision;
                }
                self.inner.compact(last).await?;
            }
            None => {}
        }
        self.inner.watch(prefix, from).await
    }
    async fn revision(&self) -> Result<Revision, StorageError> {
        self.inner.revision().await
    }
    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await
    }
}

const ALERTS: &str = "/registry/pager.k8s.co/alerts/";

/// Waits until the cache serving `prefix` has reached `revision`.
async fn reached<S: Storage + Clone>(cacher: &Cacher<S>, prefix: &str, revision: Revision) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cacher.cached_revision(prefix).is_none_or(|r| r < revision) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache did not reach {revision}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn recent(revision: Revision) -> ListOptions {
    ListOptions {
        not_older_than: Some(revision),
        ..ListOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_store_watch_serves_every_watcher_and_recent_lists_come_from_memory() {
    let store = Counting::new(MemoryStore::new());
    let cacher = Cacher::new(store.clone(), StoreOptions::default());
    cacher.cache(ALERTS);
    let first = cacher
        .create(&format!("{ALERTS}default/a"), b("1"))
        .await
        .unwrap();
    // The first use starts the cache (one list, one watch of the store); until it follows the
    // store, the store answers.
    let _ = cacher.list(ALERTS, recent(0)).await.unwrap();
    reached(&cacher, ALERTS, first.mod_revision).await;
    let built = store.counts();

    let mut watches = Vec::new();
    for _ in 0..100 {
        watches.push(cacher.watch(ALERTS, first.mod_revision).await.unwrap());
    }
    let mut namespaced = cacher
        .watch(&format!("{ALERTS}other/"), first.mod_revision)
        .await
        .unwrap();
    let second = cacher
        .create(&format!("{ALERTS}default/b"), b("2"))
        .await
        .unwrap();
    let third = cacher
        .create(&format!("{ALERTS}other/c"), b("3"))
        .await
        .unwrap();
    for w in &mut watches {
        assert_eq!(next_event(w).await.revision, second.mod_revision);
        assert_eq!(next_event(w).await.revision, third.mod_revision);
    }
    assert_eq!(next_event(&mut namespaced).await.kv.key, third.key);

    // Recent lists (resourceVersion="0", NotOlderThan) from memory, equal to the store's.
    reached(&cacher, ALERTS, third.mod_revision).await;
    for (prefix, opts) in [
        (ALERTS.to_string(), recent(0)),
        (ALERTS.to_string(), recent(third.mod_revision)),
        (format!("{ALERTS}default/"), recent(second.mod_revision)),
        (
            ALERTS.to_string(),
            ListOptions {
                limit: Some(1),
                ..recent(0)
            },
        ),
        (
            ALERTS.to_string(),
            ListOptions {
                revision: Some(second.mod_revision),
                ..ListOptions::default()
            },
        ),
    ] {
        let cached = cacher.list(&prefix, opts.clone()).await.unwrap();
        let at = ListOptions {
            revision: Some(cached.revision),
            not_older_than: None,
            ..opts
        };
        assert_eq!(
            cached,
            store.inner.list(&prefix, at).await.unwrap(),
            "{prefix}"
        );
    }
    assert_eq!(store.counts(), built, "served without the store");

    // A consistent list when the last change to the store was one the cache applied: the
    // mirror (the store is asked only for its revision).
    let now = cacher.list(ALERTS, ListOptions::default()).await.unwrap();
    assert_eq!(now.items.len(), 3);
    assert_eq!(now.revision, third.mod_revision);
    assert_eq!(
        store.counts(),
        built,
        "the current revision is the mirror's"
    );

    // Once the store has moved on through keys the cache does not follow, the mirror cannot
    // tell it is current: a consistent list, a watch "from now" and a revision the cache has not
    // reached go to the store (which answers them exactly).
    let elsewhere = store.create("/registry/other/x", b("x")).await.unwrap();
    let now = cacher.list(ALERTS, ListOptions::default()).await.unwrap();
    assert_eq!(now.items.len(), 3);
    assert_eq!(now.revision, elsewhere.mod_revision);
    let _ = cacher.watch(ALERTS, 0).await.unwrap();
    let _ = cacher
        .list(ALERTS, recent(elsewhere.mod_revision + 5))
        .await
        .unwrap();
    assert_eq!(store.counts(), (built.0 + 2, built.1 + 1));

    // A change the cache applies makes it current again.
    let fourth = store
        .create(&format!("{ALERTS}default/d"), b("4"))
        .await
        .unwrap();
    reached(&cacher, ALERTS, fourth.mod_revision).await;
    let now = cacher.list(ALERTS, ListOptions::default()).await.unwrap();
    assert_eq!(now.items.len(), 4);
    assert_eq!(
        store.counts(),
        (built.0 + 2, built.1 + 1),
        "from the mirror again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_older_than_the_cache_and_compactions_go_to_the_store() {
    let store = Counting::new(MemoryStore::new());
    let early = store
        .create(&format!("{ALERTS}ns/a"), b("1"))
        .await
        .unwrap();
    store.update(&early.key, b("2"), None).await.unwrap();
    let cacher = Cacher::new(store.clone(), StoreOptions::default());
    cacher.cache(ALERTS);
    let _ = cacher.list(ALERTS, recent(0)).await.unwrap();
    let start = store.revision().await.unwrap();
    reached(&cacher, ALERTS, start).await;

    // The cache began after `early`: watching from it replays from the store.
    let watches = store.counts().1;
    let mut w = cacher.watch(ALERTS, early.mod_revision).await.unwrap();
    assert_eq!(next_event(&mut w).await.kind, EventType::Modified);
    assert_eq!(store.counts().1, watches + 1);
    let old = cacher
        .list(
            ALERTS,
            ListOptions {
                revision: Some(early.mod_revision),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(old.items[0].value, "1");

    // After a compaction, a watch or list older than it is 410 through the cache too.
    // (Two writes: a compaction keeps its own revision, so a watch from the one before it
    // still starts, as on etcd.)
    cacher.update(&early.key, b("3"), None).await.unwrap();
    let later = cacher.update(&early.key, b("3.1"), None).await.unwrap();
    reached(&cacher, ALERTS, later.mod_revision).await;
    cacher.compact(later.mod_revision).await.unwrap();
    assert!(matches!(
        cacher.watch(ALERTS, start).await,
        Err(StorageError::Expired { .. })
    ));
    // The compaction's own revision is kept: a watch from the one before it is the cache's.
    let watches = store.counts().1;
    let mut w = cacher.watch(ALERTS, later.mod_revision - 1).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, later.mod_revision);
    assert_eq!(store.counts().1, watches, "served by the cache");
    assert!(matches!(
        cacher
            .list(
                ALERTS,
                ListOptions {
                    revision: Some(start),
                    ..ListOptions::default()
                }
            )
            .await,
        Err(StorageError::Expired { .. })
    ));

    // Compacting beyond the store's revision clamps, for the cache too: later watches are still
    // the cache's.
    cacher.compact(1_000_000).await.unwrap();
    let watches = store.counts().1;
    let mut w = cacher.watch(ALERTS, later.mod_revision).await.unwrap();
    let last = cacher.update(&early.key, b("4"), None).await.unwrap();
    assert_eq!(next_event(&mut w).await.revision, last.mod_revision);
    assert_eq!(store.counts().1, watches, "served by the cache");
}

/// The store's watch of the cache falls behind a burst (past its buffer and the store's
/// history): the cache's own watchers end with that error (their clients watch again from where
/// they were), and the cache rebuilds itself.
#[tokio::test(flavor = "current_thread")]
async fn a_failed_store_watch_ends_the_watches_and_the_cache_rebuilds() {
    let store = Counting::new(MemoryStore::with_options(StoreOptions {
        watch_buffer: 2,
        history_capacity: 4,
        ..StoreOptions::default()
    }));
    let cacher = Cacher::new(store.clone(), StoreOptions::default());
    cacher.cache(ALERTS);
    let first = cacher
        .create(&format!("{ALERTS}ns/a"), b("0"))
        .await
        .unwrap();
    let _ = cacher.list(ALERTS, recent(0)).await.unwrap();
    reached(&cacher, ALERTS, first.mod_revision).await;
    let lists = store.counts().0;
    let mut w = cacher.watch(ALERTS, first.mod_revision).await.unwrap();

    // Writes without a yield: the cache's task cannot keep up with a buffer of 2 and a history
    // of 4.
    let mut last = first.mod_revision;
    for i in 0..20 {
        last = store
            .create(&format!("{ALERTS}ns/k{i}"), b("v"))
            .await
            .unwrap()
            .mod_revision;
    }
    let mut seen = 0;
    let error = loop {
        match next_item(&mut w).await {
            Some(Ok(_)) => seen += 1,
            Some(Err(e)) => break e,
            None => panic!("the watch ended without an error"),
        }
    };
    assert!(matches!(error, StorageError::Behind { .. }), "{error}");
    assert!(seen < 20);

    // Rebuilt from a new list: everything is there and watches work again.
    reached(&cacher, ALERTS, last).await;
    assert_eq!(store.counts().0, lists + 1, "one list per build");
    let listed = cacher.list(ALERTS, recent(last)).await.unwrap();
    assert_eq!(listed.items.len(), 21);
    watch_sees_a_write(&cacher, last, "z").await;
}

/// A watch of the cache from `from` sees a create of `name` made after it.
async fn watch_sees_a_write<S: Storage + Clone>(cacher: &Cacher<S>, from: Revision, name: &str) {
    let mut w = cacher.watch(ALERTS, from).await.unwrap();
    let written = cacher
        .create(&format!("{ALERTS}ns/{name}"), b("v"))
        .await
        .unwrap();
    assert_eq!(next_event(&mut w).await.revision, written.mod_revision);
}

/// The cache's watch of the store is cancelled by a compaction past it (a mirror too slow for
/// etcd's history): the cache's watchers end as when the store is down (`Unavailable`), not with
/// `Expired` (their own revisions may well be in the history), and watching again from their
/// last event they get what follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_past_the_caches_watch_ends_its_watchers_as_unavailable() {
    let store = Counting::new(MemoryStore::with_options(StoreOptions::default()));
    let first = store
        .create(&format!("{ALERTS}ns/a"), b("0"))
        .await
        .unwrap();
    // The cache's watch of the store is fed by the test.
    let (feed, fed) = tokio::sync::mpsc::channel(8);
    store.on_next_watch(NextWatch::Stream(WatchStream::from_receiver(fed)));
    let cacher = Cacher::new(store.clone(), StoreOptions::default());
    cacher.cache(ALERTS);
    reached(&cacher, ALERTS, first.mod_revision).await;
    let mut w = cacher.watch(ALERTS, first.mod_revision).await.unwrap();
    assert_eq!(store.counts().1, 1, "the cache serves the watch");

    let compacted = StorageError::Expired {
        requested: first.mod_revision,
        oldest: first.mod_revision + 5,
    };
    feed.send(Err(Box::new(compacted))).await.unwrap();
    match next_item(&mut w).await {
        Some(Err(StorageError::Unavailable(m))) => assert!(m.contains("rebuilt"), "{m}"),
        other => panic!("expected the watch to end as Unavailable, got {other:?}"),
    }
    watch_sees_a_write(&cacher, first.mod_revision, "b").await;
}

/// etcd: writes and a compaction past the cache's list land before its etcd watch is made.
/// etcd cancels such a watch only when it syncs it, up to 100 ms later; the cache is never
/// installed over it (it would serve watches, then end them all), but starts again from a new
/// list and follows etcd.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_etcd_a_compaction_between_the_caches_list_and_watch_is_caught_at_once() {
    let (etcd, guard) = common::etcd(StoreOptions::default());
    let _guard = guard.expect("the etcd process");
    let store = Counting::new(etcd);
    let listed_at = store.revision().await.unwrap();
    store.on_next_watch(NextWatch::WriteAndCompact(10));
    let cacher = Cacher::new(store.clone(), StoreOptions::default());
    cacher.cache(ALERTS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let installed_at = loop {
        if let Some(revision) = cacher.cached_revision(ALERTS) {
            break revision;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache did not start"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert!(
        installed_at >= listed_at + 10,
        "the cache was installed at revision {installed_at}, over a watch from before the \
         compaction at {}",
        listed_at + 10
    );
    assert_eq!(
        store.counts(),
        (3, 2),
        "lists: two for the cache, one check; watches: two"
    );

    // It follows etcd, past etcd's sync of new watchers.
    let mut w = cacher.watch(ALERTS, installed_at).await.unwrap();
    for i in 0..2 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let written = cacher
            .create(&format!("{ALERTS}ns/after-{i}"), b("v"))
            .await
            .unwrap();
        assert_eq!(next_event(&mut w).await.revision, written.mod_revision);
    }
    assert_eq!(store.counts().1, 2, "the cache serves the watch");
}

/// etcd: one transaction writing two keys makes two events of one revision; both reach a
/// watcher of the cache. etcd killed: the cache's watchers end with an error; once etcd is back
/// the cache follows it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_etcd_a_transactions_events_all_arrive_and_the_cache_survives_a_restart() {
    let (cacher, guard) = common::cached_etcd(StoreOptions::default());
    let mut guard = guard.expect("the etcd process");
    let etcd = guard
        .downcast_mut::<common::etcd::Etcd>()
        .expect("an etcd process");
    let start = cacher.revision().await.unwrap();
    let mut w = cacher.watch("/registry/", start).await.unwrap();

    let mut raw = etcd_client::Client::connect([etcd.client_url()], None)
        .await
        .unwrap();
    use etcd_client::{Txn, TxnOp};
    raw.txn(Txn::new().and_then([
        TxnOp::put("/registry/t/a", "1", None),
        TxnOp::put("/registry/t/b", "2", None),
    ]))
    .await
    .unwrap();
    let (a, b2) = (next_event(&mut w).await, next_event(&mut w).await);
    assert_eq!(
        (a.kv.key.as_str(), b2.kv.key.as_str()),
        ("/registry/t/a", "/registry/t/b")
    );
    assert_eq!(a.revision, b2.revision);

    etcd.kill();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match w.recv().await {
                Some(Ok(e)) if e.kind == EventType::Progress => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("the cache's watch must end when etcd goes away");
    assert!(matches!(ended, Some(Err(_)) | None), "{ended:?}");
    etcd.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let written = loop {
        match cacher.create("/registry/t/c", b("3")).await {
            Ok(kv) => break kv,
            Err(e) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "etcd is not back: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    reached(&cacher, "/registry/", written.mod_revision).await;
    let listed = cacher
        .list("/registry/t/", recent(written.mod_revision))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 3);
}

/// etcd's own count of its watchers (`/metrics`).
async fn etcd_watchers(url: &str) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("etcd_debugging_mvcc_watcher_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("etcd reports its watchers") as u64
}

/// A dropped watch of a quiet prefix cancels its etcd watch at once (not at the prefix's next
/// event, which may never come).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_etcd_watch_is_cancelled_without_waiting_for_an_event() {
    let (store, guard) = common::etcd(StoreOptions::default());
    let guard = guard.expect("the etcd process");
    let url = guard
        .downcast_ref::<common::etcd::Etcd>()
        .expect("an etcd process")
        .client_url();
    let before = etcd_watchers(&url).await;
    let from = store.revision().await.unwrap();
    let watches: Vec<_> = open_all((0..5).map(|_| store.watch("/registry/quiet/", from))).await;
    assert_eq!(etcd_watchers(&url).await, before + 5);
    drop(watches);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while etcd_watchers(&url).await > before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "etcd still has the dropped watches"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn open_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = Result<T, StorageError>>,
{
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await.unwrap());
    }
    out
}
