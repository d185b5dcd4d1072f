// Tip #4, by the type system: a lister hands out `Arc<Flunder>`, shared with the cache.
use fixture_crate::client::SharedInformerFactory;
use kube_codegen_cache::LabelSelector;

fn rename(factory: &SharedInformerFactory) {
    let lister = factory.wardle().v1beta1().flunders().lister();
    let flunder = lister.flunders("default").get("f").unwrap();
    flunder.spec.reference = "changed".into();
    for policy in factory.fleet().v1beta1().policies().lister().list(&LabelSelector::everything()) {
        policy.metadata.labels = None;
    }
}

fn main() {
    let _ = rename;
}
