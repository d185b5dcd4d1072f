//! `kube::Api<K>` works unchanged with generated kinds: namespaced and cluster-wide handles,
//! typed results, and generated list types. A plain test, not a trybuild case: what must compile
//! compiles here with the workspace's own build, and trybuild, left with only cases that must
//! fail, checks its dependencies instead of building them (`cargo check` instead of
//! `cargo build` in its own target directory, minutes of the suite on a fresh machine).

use kube::api::{Api, ListParams, PostParams};
use pager::v1alpha1::{Alert, AlertList};

/// Compiled, never called: no server is needed to prove that the calls type-check.
#[allow(dead_code)]
async fn use_api(client: kube::Client) -> Result<(), kube::Error> {
    let alerts: Api<Alert> = Api::namespaced(client.clone(), "default");
    let created: Alert = alerts
        .create(&PostParams::default(), &Alert::default())
        .await?;
    let fetched: Alert = alerts
        .get(created.metadata.name.as_deref().unwrap_or("a1"))
        .await?;
    let listed = alerts.list(&ListParams::default()).await?;
    let _: Vec<Alert> = listed.items;
    let beta: Api<pager::v1beta1::Alert> = Api::all(client);
    let _ = beta.get_status("a1").await;
    let _list: AlertList = AlertList {
        items: vec![fetched],
        metadata: Default::default(),
    };
    Ok(())
}

fn assert_resource<
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
>() {
}

#[test]
fn generated_kinds_are_kube_resources() {
    assert_resource::<Alert>();
    assert_resource::<pager::v1beta1::Alert>();
    assert_eq!(<Alert as kube::Resource>::plural(&()), "alerts");
    assert_eq!(<Alert as kube::Resource>::kind(&()), "Alert");
    assert_eq!(
        <pager::v1beta1::Alert as kube::Resource>::api_version(&()),
        "pager.k8s.co/v1beta1"
    );
}
