//! A shared informer against a running `pager-apiserver` that is killed: while it is down the
//! data changes (an alert deleted by another server on the same data), and after the restart the
//! informer catches up. The embedded store keeps its history on disk, so the informer resumes
//! its watch and sees the deletion as a delete; once that history is compacted, it gets a 410,
//! relists, and the deletion reaches handlers as `FinalStateUnknown` with the last known object.
//! Either way a new alert comes as an add.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use kube::api::VersionMatch;
use kube_codegen_cache::{Deleted, Handlers, SharedInformerFactory};
use kube_codegen_client::{DeleteParams, ListParams, PostParams};
use pager::v1beta1::Alert;
use pager_client::Clientset;
use parking_lot::Mutex;

fn clientset(addr: &str) -> Clientset {
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    Clientset::new(kube::Client::try_from(config).unwrap())
}

fn alert(name: &str) -> Alert {
    let mut a = Alert::default();
    a.metadata.name = Some(name.into());
    a.spec.title = name.into();
    a.spec.content = format!("{name}!");
    a
}

#[tokio::test]
async fn deletes_missed_while_the_server_was_down_come_as_final_state_unknown() {
    missed_while_down(true).await
}

#[tokio::test]
async fn a_restarted_server_resumes_watches_from_its_persisted_history() {
    missed_while_down(false).await
}

/// With `compact`, the server that changes the data while the first is down compacts its
/// history past the informer's resourceVersion.
async fn missed_while_down(compact: bool) {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("pager.db");
    let db = db.to_str().unwrap();
    let embedded = ["--storage", "embedded", "--data", db];
    let mut server = common::Server::start(&embedded);
    let addr = server.addr.clone();
    let cs = clientset(&addr);
    let alerts = cs.pager_v1beta1().alerts("default");
    for name in ["kept", "doomed"] {
        alerts
            .create(&PostParams::default(), &alert(name))
            .await
            .unwrap();
    }
    let factory = SharedInformerFactory::builder(cs.client().clone())
        .transform::<Alert>(|a| {
            a.metadata.managed_fields = None;
            a.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert("cached".into(), "yes".into());
        })
        .build();
    let informer = factory.namespaced::<Alert>();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let (e1, e2) = (events.clone(), events.clone());
    informer.add_event_handler(
        Handlers::new()
            .on_add(move |a: Arc<Alert>| {
                e1.lock()
                    .push(format!("add {}", a.metadata.name.as_deref().unwrap()))
            })
            .on_delete(move |d: Deleted<Alert>| {
                let what = match &d {
                    Deleted::Object(_) => "delete",
                    Deleted::FinalStateUnknown { .. } => "delete-final-state-unknown",
                };
                e2.lock().push(format!(
                    "{what} {}",
                    d.object().metadata.name.as_deref().unwrap()
                ));
            }),
    );
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    let cached = informer.store().get("default/kept").unwrap();
    assert_eq!(
        cached.metadata.annotations.as_ref().unwrap()["cached"],
        "yes",
        "transformed"
    );

    // Down; meanwhile another server on the same data deletes one alert and creates another.
    server.kill9();
    let seen_rv = alerts_rv(&informer);
    {
        let mut args = embedded.to_vec();
        if compact {
            args.extend(["--compaction-interval", "1"]);
        }
        let other = common::Server::start(&args);
        let cs2 = clientset(&other.addr);
        let a2 = cs2.pager_v1beta1().alerts("default");
        a2.delete("doomed", &DeleteParams::default()).await.unwrap();
        a2.create(&PostParams::default(), &alert("new"))
            .await
            .unwrap();
        if compact {
            // Until a list at the informer's resourceVersion is 410 Gone.
            let at = ListParams::default()
                .at(&seen_rv)
                .matching(VersionMatch::Exact);
            let mut compacted = false;
            for _ in 0..100 {
                if let Err(e) = a2.list(&at).await {
                    assert!(
                        e.to_string().contains("410") || e.to_string().contains("Expired"),
                        "{e}"
                    );
                    compacted = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(compacted, "the history was never compacted");
        }
    }
    let _server = common::Server::start_at(&addr, &embedded);
    for _ in 0..600 {
        if events.lock().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut got = events.lock().clone();
    got.sort();
    let deleted = if compact {
        "delete-final-state-unknown doomed"
    } else {
        "delete doomed"
    };
    assert_eq!(got, ["add doomed", "add kept", "add new", deleted]);
    assert!(informer.store().get("default/doomed").is_none());
    factory.shutdown().await;
}

/// A server restarted with an empty memory store starts its resourceVersions again, below the
/// informer's: every resumed watch is "Too large resource version". The informer relists then,
/// as client-go's reflector does: its cache becomes the new server's (the old objects deleted as
/// `FinalStateUnknown`, the new ones added), instead of keeping the old ones for good and missing
/// every new one until the counter catches up.
#[tokio::test]
async fn a_server_restarted_with_less_history_is_relisted() {
    let memory = ["--storage", "memory"];
    let mut server = common::Server::start(&memory);
    let addr = server.addr.clone();
    let cs = clientset(&addr);
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..5 {
        alerts
            .create(&PostParams::default(), &alert(&format!("old{i}")))
            .await
            .unwrap();
    }
    let factory = SharedInformerFactory::builder(cs.client().clone()).build();
    let informer = factory.namespaced::<Alert>();
    let gone: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = gone.clone();
    informer.add_event_handler(Handlers::new().on_delete(move |d: Deleted<Alert>| {
        if let Deleted::FinalStateUnknown { key, .. } = d {
            g.lock().push(key)
        }
    }));
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    server.kill9();
    let _server = common::Server::start_at(&addr, &memory);
    for name in ["new0", "new1"] {
        alerts
            .create(&PostParams::default(), &alert(name))
            .await
            .unwrap();
    }
    let mut keys = Vec::new();
    for _ in 0..600 {
        keys = informer.store().keys();
        keys.sort();
        if keys == ["default/new0", "default/new1"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(keys, ["default/new0", "default/new1"]);
    let mut gone = gone.lock().clone();
    gone.sort();
    assert_eq!(gone.len(), 5, "{gone:?}");
    factory.shutdown().await;
}

/// The newest resourceVersion among the informer's cached alerts.
fn alerts_rv(informer: &kube_codegen_cache::SharedInformer<Alert>) -> String {
    informer
        .store()
        .list()
        .iter()
        .filter_map(|a| a.metadata.resource_version.clone())
        .max_by_key(|rv| rv.parse::<u64>().unwrap_or(0))
        .unwrap()
}

/// A handler that panics on one event goes on receiving the next ones (the panic is logged):
/// its task used to end, and the handler silently got nothing more while the cache stayed fresh.
#[tokio::test]
async fn a_panicking_handler_keeps_receiving_events() {
    let fake = pager_client::clientset::fake::builder()
        .resource(pager_apiserver::alerts())
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let factory = SharedInformerFactory::builder(cs.client().clone()).build();
    let informer = factory.namespaced::<Alert>();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    informer.add_event_handler(Handlers::new().on_add(move |a: Arc<Alert>| {
        let name = a.metadata.name.clone().unwrap();
        s.lock().push(name.clone());
        if name == "boom" {
            panic!("a bug in the handler");
        }
    }));
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    let alerts = cs.pager_v1beta1().alerts("default");
    for name in ["boom", "after"] {
        alerts
            .create(&PostParams::default(), &alert(name))
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.lock().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler got {:?}",
            seen.lock()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*seen.lock(), ["boom", "after"]);
}

/// Bytes a test's tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An informer asked for after `start()` is not waited for (as in client-go), and
/// `wait_for_cache_sync` names it in a warning; `start()` again starts it.
#[tokio::test]
async fn an_informer_asked_for_after_start_is_named_in_a_warning() {
    let fake = pager_client::clientset::fake::builder()
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let factory = SharedInformerFactory::builder(cs.client().clone()).build();
    let _beta = factory.namespaced::<Alert>();
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    let late = factory.namespaced::<pager::v1alpha1::Alert>();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        assert!(factory.wait_for_cache_sync().await);
    }
    assert!(!late.has_synced());
    let out = String::from_utf8(captured.0.lock().clone()).unwrap();
    assert!(
        out.contains("call start() again") && out.contains("v1alpha1"),
        "{out}"
    );
    factory.start();
    assert!(factory.wait_for_cache_sync().await);
    assert!(late.has_synced());
}
