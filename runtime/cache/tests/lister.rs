//! Listers and the namespace index as client-go's: `""` is every namespace, and a
//! cluster-scoped object is indexed under `""`.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube_codegen_cache::{LabelSelector, Lister, NAMESPACE_INDEX, StoreWriter};

fn config_map(namespace: &str, name: &str) -> Arc<ConfigMap> {
    let mut cm = ConfigMap::default();
    cm.metadata.namespace = Some(namespace.into());
    cm.metadata.name = Some(name.into());
    Arc::new(cm)
}

/// client-go's `ListAllByNamespace`: `NamespaceAll` (`""`) lists every namespace.
#[test]
fn a_namespace_lister_for_the_empty_namespace_lists_every_namespace() {
    let writer = StoreWriter::new();
    writer.insert(config_map("a", "x"));
    writer.insert(config_map("b", "y"));
    let lister = Lister::new(writer.store());
    let everything = LabelSelector::everything();
    assert_eq!(lister.namespace("").list(&everything).len(), 2);
    assert_eq!(lister.namespace("a").list(&everything).len(), 1);
    assert_eq!(lister.namespace("c").list(&everything).len(), 0);
    assert!(lister.namespace("").get("x").is_none());
    assert!(lister.namespace("a").get("x").is_some());
}

/// client-go's `MetaNamespaceIndexFunc` puts a cluster-scoped object under `""`.
#[test]
fn cluster_scoped_objects_are_indexed_under_the_empty_namespace() {
    let writer = StoreWriter::new();
    for name in ["default", "kube-system"] {
        let mut ns = Namespace::default();
        ns.metadata.name = Some(name.into());
        writer.insert(Arc::new(ns));
    }
    let store = writer.store();
    assert_eq!(store.by_index(NAMESPACE_INDEX, "").unwrap().len(), 2);
}

/// A `filter` whose closure reads the same store (an owner looked up, say) while a writer is
/// queued for the lock: it finishes, where a plain read lock would deadlock behind the writer.
#[test]
fn a_filter_reading_its_own_store_does_not_deadlock_behind_a_writer() {
    let writer = Arc::new(StoreWriter::new());
    writer.insert(config_map("a", "owner"));
    writer.insert(config_map("a", "owned"));
    let store = writer.store();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut queued = None;
        let kept = store.filter(|cm| {
            if queued.is_none() {
                // A writer waits for the lock this filter holds.
                let writer = writer.clone();
                queued = Some(std::thread::spawn(move || {
                    writer.insert(config_map("a", "late"));
                }));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            cm.metadata.name.as_deref() != Some("owner") && store.get("a/owner").is_some()
        });
        done_tx.send(kept.len()).unwrap();
        queued.unwrap().join().unwrap();
    });
    let kept = done_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the filter deadlocked");
    assert_eq!(kept, 1);
}
