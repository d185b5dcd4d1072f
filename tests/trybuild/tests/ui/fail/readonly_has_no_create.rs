// `+genclient:readonly`: FleetSnapshot's client has get, list and watch only.
use fixture_crate::apis::fleet::v1beta1::FleetSnapshot;
use fixture_crate::client::Clientset;

async fn create(cs: Clientset, snapshot: FleetSnapshot) {
    let snapshots = cs.fleet_v1beta1().fleet_snapshots("default");
    let _ = snapshots.create(&Default::default(), &snapshot).await;
}

fn main() {
    let _ = create;
}
