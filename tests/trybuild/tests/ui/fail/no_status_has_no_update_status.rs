// `+genclient:noStatus`: Reservation's client has no `update_status` (nor `patch_status`).
use fixture_crate::apis::fleet::v1beta1::Reservation;
use fixture_crate::client::Clientset;

async fn update_status(cs: Clientset, reservation: Reservation) {
    let reservations = cs.fleet_v1beta1().reservations("default");
    let _ = reservations
        .update_status(&Default::default(), &reservation)
        .await;
}

fn main() {
    let _ = update_status;
}
