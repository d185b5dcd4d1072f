//! Server-side apply from the generated client: applyconfiguration-gen's configurations sent
//! with `apply`/`apply_status` through the fake clientset (the real server in-process),
//! conflicts, `extract_alert` reading back what a manager owns, and the checks made before any
//! request.

use kube_codegen_client::{Error, PatchParams};
use pager_client::Clientset;
use pager_client::applyconfigurations::pager_v1beta1::{
    AlertApplyConfiguration, AlertSpecApplyConfiguration, AlertStatusApplyConfiguration,
    extract_alert, extract_alert_status,
};
use serde_json::json;

async fn clientset() -> (kube_codegen_client::fake::Fake, Clientset) {
    let fake = pager_client::clientset::fake::builder()
        .resource(pager_apiserver::alerts())
        .build()
        .await
        .unwrap();
    let clientset = Clientset::new(fake.client());
    (fake, clientset)
}

#[test]
fn configurations_send_only_what_is_set() {
    assert_eq!(
        serde_json::to_value(AlertSpecApplyConfiguration::new().content("x")).unwrap(),
        json!({"content": "x"})
    );
    assert_eq!(
        serde_json::to_value(
            AlertApplyConfiguration::new("a1", "default")
                .labels([("team", "ops")])
                .spec(AlertSpecApplyConfiguration::new().title("T"))
        )
        .unwrap(),
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
               "metadata": {"name": "a1", "namespace": "default", "labels": {"team": "ops"}},
               "spec": {"title": "T"}})
    );
}

#[tokio::test]
async fn apply_extract_and_conflicts_through_the_typed_client() {
    let (_fake, clientset) = clientset().await;
    let alerts = clientset.pager_v1beta1().alerts("default");
    let config = AlertApplyConfiguration::new("disk", "default")
        .labels([("team", "ops")])
        .spec(
            AlertSpecApplyConfiguration::new()
                .title("Disk")
                .content("full"),
        );
    let created = alerts
        .apply(&config, &PatchParams::apply("alice"))
        .await
        .unwrap();
    assert_eq!(created.spec.title, "Disk");
    // What alice owns reads back as exactly what she applied (the defaulted priority is not
    // hers).
    let extracted = extract_alert(&created, "alice").unwrap();
    assert_eq!(extracted, config);

    // bob changing alice's title: a 409 naming the field and manager.
    let bob = AlertApplyConfiguration::new("disk", "default")
        .spec(AlertSpecApplyConfiguration::new().title("CPU"));
    let err = alerts
        .apply(&bob, &PatchParams::apply("bob"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(409));
    assert_eq!(
        err.status().unwrap().message,
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.title"
    );
    let forced = alerts
        .apply(&bob, &PatchParams::apply("bob").force())
        .await
        .unwrap();
    assert_eq!(forced.spec.title, "CPU");
    assert_eq!(
        extract_alert(&forced, "alice").unwrap().spec,
        Some(AlertSpecApplyConfiguration::new().content("full"))
    );

    // alice changes her mind: extract, edit, apply — label `team` dropped, so removed.
    let mut again = extract_alert(&forced, "alice").unwrap();
    again.metadata.as_mut().unwrap().labels = None;
    let applied = alerts
        .apply(&again, &PatchParams::apply("alice"))
        .await
        .unwrap();
    assert!(applied.metadata.labels.unwrap_or_default().is_empty());

    // The status subresource, as a controller writes it.
    let status = AlertApplyConfiguration::new("disk", "default")
        .status(AlertStatusApplyConfiguration::new().sent(true));
    let sent = alerts
        .apply_status(&status, &PatchParams::apply("pager-controller"))
        .await
        .unwrap();
    assert!(sent.status.as_ref().unwrap().sent);
    assert_eq!(
        extract_alert_status(&sent, "pager-controller")
            .unwrap()
            .status,
        Some(AlertStatusApplyConfiguration::new().sent(true))
    );
    // A manager that never applied: just the object's identity.
    let nobody = extract_alert(&sent, "nobody").unwrap();
    assert_eq!(nobody, AlertApplyConfiguration::new("disk", "default"));
}

#[tokio::test]
async fn checked_before_any_request() {
    let (_fake, clientset) = clientset().await;
    let alerts = clientset.pager_v1beta1().alerts("default");
    let config = AlertApplyConfiguration::new("a1", "default");
    match alerts.apply(&config, &PatchParams::default()).await {
        Err(Error::InvalidObject { field, .. }) => assert_eq!(field, "fieldManager"),
        other => panic!("{other:?}"),
    }
    let nameless = AlertApplyConfiguration::default();
    match alerts.apply(&nameless, &PatchParams::apply("m")).await {
        Err(Error::InvalidObject { field, .. }) => assert_eq!(field, "metadata.name"),
        other => panic!("{other:?}"),
    }
    // Applied through v1alpha1, extracted with v1beta1 types: refused, naming the version.
    let alpha = clientset.pager_v1alpha1().alerts("default");
    let created = alpha
        .apply(
            &pager_client::applyconfigurations::pager_v1alpha1::AlertApplyConfiguration::new(
                "old", "default",
            )
            .spec(
                pager_client::applyconfigurations::pager_v1alpha1::AlertSpecApplyConfiguration::new()
                    .message("m"),
            ),
            &PatchParams::apply("legacy"),
        )
        .await
        .unwrap();
    let beta = alerts
        .get(created.metadata.name.as_deref().unwrap())
        .await
        .unwrap();
    let err = extract_alert(&beta, "legacy").unwrap_err();
    assert!(err.to_string().contains("pager.k8s.co/v1alpha1"), "{err}");
}
