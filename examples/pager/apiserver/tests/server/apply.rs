//! Server-side apply from the generated client: applyconfiguration-gen's configurations sent
//! with `apply`/`apply_status` through the fake clientset (the real server in-process),
//! conflicts, `extract_alert` reading back what a manager owns, and the checks made before any
//! request. Then `kubectl apply` moving from client-side to server-side apply against the
//! server binary.

use kube_codegen_client::{Error, PatchParams};
use pager_client::Clientset;
use pager_client::applyconfigurations::pager_v1beta1::{
    AlertApplyConfiguration, AlertSpecApplyConfiguration, AlertStatusApplyConfiguration,
    extract_alert, extract_alert_status,
};
use serde_json::{Value, json};

use crate::common;
use common::{Kubectl, Server};
use std::process::Command;

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

/// A field a create never sent is not the creator's: v1beta1's optional `title` is left out of
/// an object that has none (Go's `omitempty`), so a later apply of a title by another manager
/// does not conflict with the creator (it did while an empty title was written as `""`).
#[tokio::test]
async fn a_create_does_not_own_an_optional_field_it_left_out() {
    let (_fake, clientset) = clientset().await;
    let alerts = clientset.pager_v1beta1().alerts("default");
    let alert = pager::v1beta1::Alert {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("untitled".into()),
            ..Default::default()
        },
        spec: pager::v1beta1::AlertSpec {
            content: "c".into(),
            ..Default::default()
        },
        status: None,
    };
    let pp = kube_codegen_client::PostParams {
        field_manager: Some("creator".into()),
        ..Default::default()
    };
    let created = alerts.create(&pp, &alert).await.unwrap();
    let owned = serde_json::to_value(&created.metadata.managed_fields).unwrap();
    assert!(
        !owned.to_string().contains("f:title"),
        "the creator owns no title: {owned}"
    );
    let titled = alerts
        .apply(
            &AlertApplyConfiguration::new("untitled", "default")
                .spec(AlertSpecApplyConfiguration::new().title("Disk")),
            &PatchParams::apply("bob"),
        )
        .await
        .unwrap();
    assert_eq!(titled.spec.title, "Disk");
}

/// An apply in another version than the manager's last one removes what it no longer sets,
/// as structured-merge-diff's prune does (it converts to the last apply's version): a dropped
/// priority falls back to its default, a dropped title to the one admission gives an untitled
/// alert (its content's first line). Both ways between the versions.
#[tokio::test]
async fn an_apply_in_another_version_removes_what_it_no_longer_sets() {
    use kube::api::{Api, Patch};
    let (fake, _) = clientset().await;
    let alpha: Api<pager::v1alpha1::Alert> = Api::namespaced(fake.client(), "default");
    let beta: Api<pager::v1beta1::Alert> = Api::namespaced(fake.client(), "default");
    let pp = kube::api::PatchParams::apply("kubectl");
    let alpha_config = |name: &str, spec: Value| {
        Patch::Apply(
            json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
                            "metadata": {"name": name}, "spec": spec}),
        )
    };
    let beta_config = |name: &str, spec: Value| {
        Patch::Apply(
            json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                            "metadata": {"name": name}, "spec": spec}),
        )
    };
    let priority = |a: &pager::v1beta1::Alert| serde_json::to_value(a.spec.priority).unwrap();

    // v1alpha1 with a priority, then v1beta1 without it.
    alpha
        .patch(
            "up",
            &pp,
            &alpha_config("up", json!({"message": "hello", "priority": "high"})),
        )
        .await
        .unwrap();
    let moved = beta
        .patch("up", &pp, &beta_config("up", json!({"content": "hello"})))
        .await
        .unwrap();
    assert_eq!(moved.spec.content, "hello");
    assert_eq!(priority(&moved), json!("normal"), "{moved:?}");
    // Applying the same configuration again changes nothing.
    let again = beta
        .patch("up", &pp, &beta_config("up", json!({"content": "hello"})))
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        moved.metadata.resource_version
    );

    // v1beta1 with a title and a priority, then v1alpha1 with neither.
    beta.patch(
        "down",
        &pp,
        &beta_config(
            "down",
            json!({"content": "hello", "title": "T", "priority": "high"}),
        ),
    )
    .await
    .unwrap();
    alpha
        .patch(
            "down",
            &pp,
            &alpha_config("down", json!({"message": "bye"})),
        )
        .await
        .unwrap();
    let back = beta.get("down").await.unwrap();
    assert_eq!(back.spec.content, "bye");
    assert_eq!(
        back.spec.title, "bye",
        "the pager's default title: {back:?}"
    );
    assert_eq!(priority(&back), json!("normal"), "{back:?}");

    // A field another manager set stays.
    beta.patch(
        "shared",
        &pp,
        &beta_config("shared", json!({"content": "c", "priority": "high"})),
    )
    .await
    .unwrap();
    beta.patch(
        "shared",
        &kube::api::PatchParams::apply("other"),
        &beta_config("shared", json!({"priority": "high"})),
    )
    .await
    .unwrap();
    let kept = beta
        .patch(
            "shared",
            &pp,
            &beta_config("shared", json!({"content": "c"})),
        )
        .await
        .unwrap();
    assert_eq!(priority(&kept), json!("high"), "{kept:?}");
    let kept = alpha
        .patch(
            "shared",
            &pp,
            &alpha_config("shared", json!({"message": "c"})),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(kept.spec.priority).unwrap(),
        json!("high")
    );
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
    // A configuration in another namespace than the client's, as create and update refuse it.
    let elsewhere = AlertApplyConfiguration::new("a1", "other")
        .spec(AlertSpecApplyConfiguration::new().content("c"));
    for result in [
        alerts.apply(&elsewhere, &PatchParams::apply("m")).await,
        alerts
            .apply_status(&elsewhere, &PatchParams::apply("m"))
            .await,
    ] {
        match result {
            Err(Error::InvalidObject { field, message, .. }) => {
                assert_eq!(field, "metadata.namespace");
                assert!(message.contains("\"other\""), "{message}");
            }
            other => panic!("{other:?}"),
        }
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

/// Writes `m.yaml` (an Alert named `name`) in kubectl's directory and returns its path.
fn manifest(k: &Kubectl, name: &str, spec: &str) -> String {
    k.file(
        "m.yaml",
        &format!("apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: {name}\nspec:\n{spec}"),
    )
}

fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("kubectl is not installed; CI never skips a component");
    }
    found
}

/// `kubectl apply` twice with a changed title, then `kubectl apply --server-side` with another
/// change: kube-apiserver lets kubectl take over what its client-side apply last applied (no
/// conflict with `kubectl-client-side-apply`), and kubectl migrates the rest. A field someone
/// else changed since still conflicts; an undeclared field is refused.
#[test]
fn kubectl_moves_from_client_side_to_server_side_apply_after_changes() {
    if !kubectl_available() {
        eprintln!("kubectl not found: skipped outside CI");
        return;
    }
    let server = Server::start(&["--storage", "memory"]);
    let k = Kubectl::new(&server, "default");
    let m = manifest(&k, "csa", "  title: A\n  content: c\n");
    assert_eq!(
        k.ok(&["apply", "-f", &m]).trim(),
        "alert.pager.k8s.co/csa created"
    );
    manifest(&k, "csa", "  title: B\n  content: c\n");
    assert_eq!(
        k.ok(&["apply", "-f", &m]).trim(),
        "alert.pager.k8s.co/csa configured"
    );
    manifest(&k, "csa", "  title: C\n  content: c\n");
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", &m]).trim(),
        "alert.pager.k8s.co/csa serverside-applied"
    );
    let obj: Value = serde_json::from_str(&k.ok(&[
        "get",
        "alert",
        "csa",
        "--show-managed-fields",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(obj["spec"]["title"], "C");
    let entries = obj["metadata"]["managedFields"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e["manager"] != "kubectl-client-side-apply"),
        "{entries:?}"
    );
    let ssa = entries
        .iter()
        .find(|e| e["manager"] == "kubectl" && e["operation"] == "Apply")
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert_eq!(ssa["fieldsV1"]["f:spec"]["f:title"], json!({}));

    // The title changed by someone else after the client-side applies: still a conflict.
    let m = manifest(&k, "edited", "  title: A\n  content: c\n");
    k.ok(&["apply", "-f", &m]);
    k.ok(&[
        "patch",
        "alert",
        "edited",
        "--type=merge",
        "--field-manager=editor",
        "-p",
        r#"{"spec":{"title":"X"}}"#,
    ]);
    manifest(&k, "edited", "  title: C\n  content: c\n");
    let o = k.run(&["apply", "--server-side", "-f", &m]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            r#"Apply failed with 1 conflict: conflict with "editor" using pager.k8s.co/v1beta1"#
        ) && err.contains(".spec.title"),
        "{err}"
    );

    // A field the schema does not declare: refused, whatever the validation asked.
    let m = manifest(&k, "b1", "  content: c\n  bogus:\n    deep: 1\n");
    let o = k.run(&["apply", "--server-side", "--validate=false", "-f", &m]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Error from server (BadRequest): failed to create typed patch object (default/b1; pager.k8s.co/v1beta1, Kind=Alert): .spec.bogus: field not declared in schema"),
        "{err}"
    );
    assert!(!k.run(&["get", "alert", "b1"]).status.success());
}
