//! Informers over the fake clientset (the real API server in-process): sync, handlers for add,
//! update and delete, one watch per kind however many consumers, listers and indexes, a
//! transform before caching, resync, selector tweaks, and shutdown.

use std::sync::Arc;
use std::time::Duration;

use kube_codegen_cache::{Deleted, Handlers, LabelSelector, SharedInformerFactory};
use kube_codegen_client::{DeleteParams, PostParams};
use pager::v1beta1::Alert;
use pager_client::Clientset;
use parking_lot::Mutex;

fn alert(name: &str, team: &str) -> Alert {
    let mut a = Alert::default();
    a.metadata.name = Some(name.into());
    a.metadata.labels = Some([("team".to_string(), team.to_string())].into());
    a.spec.title = name.into();
    a.spec.content = format!("{name}!");
    a
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..500 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn informers_sync_notify_and_share_one_watch() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("seeded", "ops"))
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let alerts = cs.pager_v1beta1().alerts("default");
    let factory = SharedInformerFactory::builder(fake.client())
        .transform::<Alert>(|a| a.metadata.managed_fields = None)
        .build();
    let informer = factory.namespaced::<Alert>();
    // A second consumer asking for the same kind gets the same informer.
    assert!(Arc::ptr_eq(&informer, &factory.namespaced::<Alert>()));
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let log2 = seen.clone();
    let log3 = seen.clone();
    informer.add_event_handler(
        Handlers::new()
            .on_add(move |a: Arc<Alert>| {
                log.lock()
                    .push(format!("add {}", a.metadata.name.as_deref().unwrap()))
            })
            .on_update(move |_old, new: Arc<Alert>| {
                log2.lock()
                    .push(format!("update {}", new.metadata.name.as_deref().unwrap()))
            })
            .on_delete(move |d: Deleted<Alert>| {
                let kind = match &d {
                    Deleted::Object(_) => "delete",
                    Deleted::FinalStateUnknown { .. } => "delete-unknown",
                };
                log3.lock().push(format!(
                    "{kind} {}",
                    d.object().metadata.name.as_deref().unwrap()
                ))
            }),
    );
    fake.recorder().clear();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    assert!(informer.has_synced());
    assert_eq!(informer.store().len(), 1);

    let pp = PostParams::default();
    alerts.create(&pp, &alert("disk", "storage")).await.unwrap();
    let mut disk = alerts.get("disk").await.unwrap();
    disk.spec.content = "90%".into();
    alerts.update(&pp, &disk).await.unwrap();
    alerts
        .delete("seeded", &DeleteParams::default())
        .await
        .unwrap();
    eventually("four events", || seen.lock().len() >= 4).await;
    assert_eq!(
        *seen.lock(),
        ["add seeded", "add disk", "update disk", "delete seeded"]
    );

    // The lister reads the cache: shared, immutable objects.
    let lister = informer.lister();
    let in_ns = lister.namespace("default");
    assert_eq!(in_ns.get("disk").unwrap().spec.content, "90%");
    assert_eq!(
        lister
            .list(&LabelSelector::parse("team=storage").unwrap())
            .len(),
        1
    );
    assert!(
        in_ns
            .list(&LabelSelector::parse("team=ops").unwrap())
            .is_empty()
    );
    let a = in_ns.get("disk").unwrap();
    let b = in_ns.get("disk").unwrap();
    assert!(
        Arc::ptr_eq(&a, &b),
        "the cache hands out the object it holds"
    );
    // User indexes.
    informer
        .store()
        .add_indexer("team", |a: &Alert| {
            a.metadata
                .labels
                .iter()
                .flat_map(|l| l.get("team").cloned())
                .collect()
        })
        .unwrap();
    // A name taken is refused, the listers' namespace index above all.
    for taken in ["team", kube_codegen_cache::NAMESPACE_INDEX] {
        assert_eq!(
            informer.store().add_indexer(taken, |_: &Alert| Vec::new()),
            Err(kube_codegen_cache::IndexExists(taken.to_string()))
        );
    }
    assert_eq!(
        in_ns
            .list(&LabelSelector::parse("team=storage").unwrap())
            .len(),
        1,
        "the namespace index is as it was"
    );
    assert_eq!(
        informer.store().by_index("team", "storage").unwrap().len(),
        1
    );
    assert!(informer.store().by_index("nope", "x").is_err());

    // One watch for the kind, whoever consumes it.
    let watches = fake
        .recorder()
        .requests()
        .iter()
        .filter(|r| r.verb == "watch" && r.resource == "alerts")
        .count();
    assert_eq!(watches, 1, "{:?}", fake.recorder().requests());
    factory.shutdown().await;
}

#[tokio::test]
async fn resync_selectors_and_late_handlers() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("a", "ops"))
        .object(alert("b", "storage"))
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client())
        .tweak_list_options(|c| c.label_selector = Some("team=ops".into()))
        .resync_for::<Alert>(Duration::from_millis(50))
        .build();
    let informer = factory.namespaced::<Alert>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    assert_eq!(
        informer.store().keys(),
        ["default/a"],
        "the selector applies"
    );
    // A handler added after the sync hears of what is cached, then resyncs.
    let updates = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let adds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (u, a) = (updates.clone(), adds.clone());
    informer.add_event_handler(
        Handlers::new()
            .on_add(move |_| {
                a.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
            .on_update(move |old: Arc<Alert>, new: Arc<Alert>| {
                assert!(Arc::ptr_eq(&old, &new), "a resync hands the same object");
                u.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }),
    );
    eventually("resyncs", || {
        updates.load(std::sync::atomic::Ordering::SeqCst) >= 2
    })
    .await;
    assert_eq!(adds.load(std::sync::atomic::Ordering::SeqCst), 1);
    let generic = factory
        .for_resource("pager.k8s.co", "v1beta1", "alerts")
        .unwrap();
    assert!(generic.has_synced());
    assert_eq!(generic.get_json("default/a").unwrap()["spec"]["title"], "a");
    factory.shutdown().await;
}

#[tokio::test]
async fn informers_work_with_streaming_lists_too() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("a", "ops"))
        .object(alert("b", "ops"))
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client())
        .streaming_lists()
        .build();
    let informer = factory.namespaced::<Alert>();
    fake.recorder().clear();
    factory.start();
    assert!(
        factory.wait_for_cache_sync().await,
        "synced from the initial-events-end bookmark"
    );
    assert_eq!(informer.store().len(), 2);
    Clientset::new(fake.client())
        .pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("c", "ops"))
        .await
        .unwrap();
    eventually("the live event", || informer.store().len() == 3).await;
    let verbs: Vec<String> = fake
        .recorder()
        .requests()
        .into_iter()
        .map(|r| r.verb)
        .collect();
    assert!(!verbs.contains(&"list".to_string()), "no list: {verbs:?}");
    factory.shutdown().await;
}

#[tokio::test]
async fn a_410_on_rewatch_relists_and_the_cache_stays_whole() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("a", "ops"))
        .object(alert("b", "ops"))
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client())
        .tweak_list_options(|c| c.timeout = Some(1))
        .build();
    let informer = factory.namespaced::<Alert>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    let lists = || {
        fake.recorder()
            .requests()
            .iter()
            .filter(|r| r.verb == "list")
            .count()
    };
    let before = lists();
    fake.reactors().expire_watches("alerts", 1);
    eventually("a relist", || lists() > before).await;
    assert_eq!(informer.store().len(), 2);
    factory.shutdown().await;
}

#[tokio::test]
async fn a_factory_can_watch_one_namespace() {
    let mut other = alert("elsewhere", "ops");
    other.metadata.namespace = Some("other".into());
    let fake = pager_client::clientset::fake::builder()
        .object(alert("here", "ops"))
        .object(other)
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client())
        .namespace("other")
        .build();
    let informer = factory.namespaced::<Alert>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    assert_eq!(informer.store().keys(), ["other/elsewhere"]);
    factory.shutdown().await;
}

/// An informer's life ends visibly: after shutdown `wait_for_sync` answers false at once and
/// `start` starts nothing more; a panicking index function stops the informer (logged,
/// `has_synced` false, the factory's `wait_for_cache_sync` false) rather than leaving a cache
/// that silently stopped following the server.
#[tokio::test]
async fn stopped_informers_say_so() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("seeded", "ops"))
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client()).build();
    let informer = factory.namespaced::<Alert>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    factory.shutdown().await;
    assert!(!informer.has_synced() && informer.has_stopped());
    let answered = tokio::time::timeout(Duration::from_secs(5), informer.wait_for_sync()).await;
    assert_eq!(answered, Ok(false), "stopped: false, at once");
    // Asked for and started after shutdown: not started.
    let late = factory.namespaced::<pager::v1alpha1::Alert>();
    factory.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!late.has_synced());

    // An index function that panics on an object stops its informer.
    let fake = pager_client::clientset::fake::builder()
        .object(alert("labelled", "ops"))
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let factory = SharedInformerFactory::builder(fake.client()).build();
    let informer = factory.namespaced::<Alert>();
    informer
        .store()
        .add_indexer("team", |a: &Alert| {
            vec![a.metadata.labels.as_ref().expect("labelled")["team"].clone()]
        })
        .unwrap();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    let mut unlabelled = alert("unlabelled", "x");
    unlabelled.metadata.labels = None;
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &unlabelled)
        .await
        .unwrap();
    eventually("the informer to stop", || informer.has_stopped()).await;
    assert!(!informer.has_synced());
    assert!(!factory.wait_for_cache_sync().await);
    factory.shutdown().await;
}

/// client-go's `NamespaceAll` (""): every namespace, not a request to `/namespaces//alerts`
/// that never syncs; and a zero resync period is none (`NewSharedInformerFactory(cs, 0)`), not a
/// panic that stops the informer.
#[tokio::test]
async fn an_empty_namespace_is_every_namespace_and_a_zero_resync_is_none() {
    let mut other = alert("elsewhere", "ops");
    other.metadata.namespace = Some("other".into());
    let fake = pager_client::clientset::fake::builder()
        .object(alert("here", "ops"))
        .object(other)
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client())
        .namespace("")
        .resync(Duration::ZERO)
        .build();
    let informer = factory.namespaced::<Alert>();
    factory.start();
    let synced = tokio::time::timeout(Duration::from_secs(10), factory.wait_for_cache_sync()).await;
    assert_eq!(synced, Ok(true));
    let mut keys = informer.store().keys();
    keys.sort();
    assert_eq!(keys, ["default/here", "other/elsewhere"]);
    assert!(!informer.has_stopped());
    factory.shutdown().await;
}

/// A server that keeps answering "Too large resource version" (its history behind the cache)
/// is relisted from scratch with a backoff, as client-go's reflector does (0.8 s, doubling):
/// not thousands of lists a second.
#[tokio::test]
async fn relists_for_a_server_behind_the_cache_back_off() {
    let fake = pager_client::clientset::fake::builder()
        .object(alert("seeded", "ops"))
        .build()
        .await
        .unwrap();
    let status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 504,
        "reason": "Timeout", "message": "Timeout: Too large resource version: 99, current: 2",
    });
    fake.reactors().respond(
        "watch",
        "alerts",
        1_000_000,
        200,
        &serde_json::json!({"type": "ERROR", "object": status}),
    );
    let factory = SharedInformerFactory::builder(fake.client()).build();
    let _informer = factory.namespaced::<Alert>();
    factory.start();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let lists = fake
        .recorder()
        .requests()
        .iter()
        .filter(|r| r.verb == "list")
        .count();
    factory.shutdown().await;
    // 0.8 s, then 1.6 s: two or three lists in two seconds, never hundreds.
    assert!((1..=4).contains(&lists), "{lists} lists in 2 s");
}

/// An informer started with a receiver subscribed after the shutdown was sent (a factory's
/// `start` racing its `shutdown`) returns at once: the receiver has already seen the change, so
/// waiting for the next one would keep `shutdown().await` waiting for ever.
#[tokio::test]
async fn an_informer_started_after_the_shutdown_was_sent_returns() {
    let fake = pager_client::clientset::fake::builder()
        .build()
        .await
        .unwrap();
    let factory = SharedInformerFactory::builder(fake.client()).build();
    let informer = factory.namespaced::<Alert>();
    let (stop, _) = tokio::sync::watch::channel(false);
    stop.send_replace(true);
    let ran = tokio::time::timeout(
        Duration::from_secs(10),
        informer.clone().run(stop.subscribe()),
    );
    assert!(
        ran.await.is_ok(),
        "the informer kept running after the shutdown"
    );
    assert!(informer.has_stopped());
}
