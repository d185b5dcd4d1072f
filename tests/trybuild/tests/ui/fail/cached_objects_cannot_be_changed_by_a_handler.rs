// Tip #4, by the type system: event handlers get `Arc<Flunder>`, shared with the cache.
use std::sync::Arc;

use fixture_crate::apis::wardle::v1beta1::Flunder;
use fixture_crate::client::SharedInformerFactory;
use kube_codegen_cache::Handlers;

fn watch(factory: &SharedInformerFactory) {
    factory.wardle().v1beta1().flunders().informer().add_event_handler(
        Handlers::new()
            .on_add(|f: Arc<Flunder>| f.spec.reference.clear())
            .on_update(|_old, new: Arc<Flunder>| new.metadata.labels = None),
    );
}

fn main() {
    let _ = watch;
}
