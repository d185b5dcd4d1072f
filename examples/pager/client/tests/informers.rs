//! The generated informer factory and listers over the fake: `factory.pager().v1beta1().alerts()`
//! gives the shared informer and its lister; both versions can be watched; `for_resource` finds
//! an informer by group, version and plural.

use std::time::Duration;

use kube_codegen_cache::LabelSelector;
use kube_codegen_client::PostParams;
use pager::{v1alpha1, v1beta1};
use pager_client::{Clientset, SharedInformerFactory};

#[tokio::test]
async fn generated_factory_informers_and_listers() {
    let fake = pager_client::clientset::fake::builder()
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let mut a = v1beta1::Alert::default();
    a.metadata.name = Some("disk".into());
    a.metadata.labels = Some([("team".to_string(), "ops".to_string())].into());
    a.spec.title = "Disk".into();
    a.spec.content = "full".into();
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &a)
        .await
        .unwrap();

    let factory = SharedInformerFactory::new(&cs);
    let beta = factory.pager().v1beta1().alerts();
    let alpha = factory.pager().v1alpha1().alerts();
    // The same kind asked for twice: one informer.
    assert!(std::sync::Arc::ptr_eq(
        beta.informer(),
        factory.pager().v1beta1().alerts().informer()
    ));
    factory.start();
    assert!(factory.wait_for_cache_sync().await);

    let lister = beta.lister();
    let cached: std::sync::Arc<v1beta1::Alert> = lister.alerts("default").get("disk").unwrap();
    assert_eq!(cached.spec.title, "Disk");
    assert_eq!(
        lister
            .list(&LabelSelector::parse("team=ops").unwrap())
            .len(),
        1
    );
    assert!(
        lister
            .alerts("other")
            .list(&LabelSelector::everything())
            .is_empty()
    );
    // The other version's cache holds the same alert, converted by the server.
    let old: std::sync::Arc<v1alpha1::Alert> =
        alpha.lister().alerts("default").get("disk").unwrap();
    assert_eq!(old.spec.message, "full");

    let generic = factory
        .for_resource("pager.k8s.co", "v1alpha1", "alerts")
        .expect("asked for");
    assert!(generic.has_synced());
    assert_eq!(generic.keys(), ["default/disk"]);
    assert!(
        factory
            .for_resource("pager.k8s.co", "v1", "alerts")
            .is_none()
    );

    tokio::time::timeout(Duration::from_secs(5), factory.shutdown())
        .await
        .expect("shut down");
}
