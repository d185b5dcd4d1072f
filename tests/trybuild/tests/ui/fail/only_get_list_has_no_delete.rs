// `+genclient:onlyVerbs=get,list`: Fischer's v1beta1 client cannot delete.
use fixture_crate::client::Clientset;

async fn delete(cs: Clientset) {
    let fischers = cs.wardle_v1beta1().fischers();
    let _ = fischers.delete("fritz", &Default::default()).await;
}

fn main() {
    let _ = delete;
}
