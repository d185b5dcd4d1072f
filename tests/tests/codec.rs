//! The wire codec of generated roots: Kubernetes-shaped JSON, byte for byte, with `apiVersion`
//! and `kind` written and checked.

use k8s_openapi::{ListableResource, Metadata, Resource};
use pager::v1alpha1::{Alert, AlertList, AlertSpec, AlertStatus};

/// An Alert as a Kubernetes API server returns it (k8s-openapi orders metadata fields by name).
const ALERT: &str = r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"creationTimestamp":"2026-11-25T10:00:00Z","generation":1,"labels":{"team":"sre"},"name":"a1","namespace":"default","resourceVersion":"42","uid":"6c1f7f1e-8d0a-4c33-9a57-1f4a8b0c2d3e"},"spec":{"message":"Hello KubeCon :wave:"},"status":{"sent":true}}"#;

#[test]
fn round_trip_is_byte_for_byte() {
    let alert: Alert = serde_json::from_str(ALERT).unwrap();
    assert_eq!(alert.spec.message, "Hello KubeCon :wave:");
    assert_eq!(alert.status, Some(AlertStatus { sent: true }));
    assert_eq!(alert.metadata.name.as_deref(), Some("a1"));
    assert_eq!(serde_json::to_string(&alert).unwrap(), ALERT);
}

#[test]
fn absent_status_is_omitted_and_defaults_are_read() {
    let alert = Alert {
        spec: AlertSpec {
            message: "hi".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&alert).unwrap(),
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{},"spec":{"message":"hi"}}"#
    );
    let read: Alert =
        serde_json::from_str(r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert"}"#).unwrap();
    assert_eq!(read, Alert::default());
}

#[test]
fn wrong_type_meta_is_rejected() {
    let wrong_version = ALERT.replace("pager.k8s.co/v1alpha1", "pager.k8s.co/v1beta1");
    let err = serde_json::from_str::<Alert>(&wrong_version)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("apiVersion is `pager.k8s.co/v1beta1`, expected `pager.k8s.co/v1alpha1`"),
        "{err}"
    );

    let wrong_kind = ALERT.replace(r#""kind":"Alert""#, r#""kind":"Pager""#);
    let err = serde_json::from_str::<Alert>(&wrong_kind)
        .unwrap_err()
        .to_string();
    assert!(err.contains("kind is `Pager`, expected `Alert`"), "{err}");

    let err = serde_json::from_str::<Alert>(r#"{"apiVersion":"v1","kind":"Alert"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("apiVersion is `v1`"), "{err}");

    // The same JSON is a valid v1beta1 object only when its fields match v1beta1's.
    let beta = wrong_version.replace(r#""message""#, r#""content""#);
    let alert: pager::v1beta1::Alert = serde_json::from_str(&beta).unwrap();
    assert_eq!(alert.spec.content, "Hello KubeCon :wave:");
}

#[test]
fn list_items_without_type_meta_are_read() {
    // kube-apiserver leaves apiVersion/kind off list items; kube::Api::list must still work.
    let list = r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"AlertList","metadata":{},"items":[{"metadata":{"name":"a1"},"spec":{"message":"m"}}]}"#;
    let list: AlertList = serde_json::from_str(list).unwrap();
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("a1"));
    let item: Alert = serde_json::from_str(r#"{"spec":{"message":"m"}}"#).unwrap();
    assert_eq!(item.spec.message, "m");
}

#[test]
fn list_type_round_trips() {
    let list_json = format!(
        r#"{{"apiVersion":"pager.k8s.co/v1alpha1","kind":"AlertList","items":[{ALERT}],"metadata":{{"resourceVersion":"43"}}}}"#
    );
    let list: AlertList = serde_json::from_str(&list_json).unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(serde_json::to_string(&list).unwrap(), list_json);
}

#[test]
fn resource_traits_describe_the_kind() {
    assert_eq!(Alert::API_VERSION, "pager.k8s.co/v1alpha1");
    assert_eq!(Alert::GROUP, "pager.k8s.co");
    assert_eq!(Alert::VERSION, "v1alpha1");
    assert_eq!(Alert::KIND, "Alert");
    assert_eq!(Alert::LIST_KIND, "AlertList");
    assert_eq!(Alert::URL_PATH_SEGMENT, "alerts");
    let mut a = Alert::default();
    a.metadata_mut().name = Some("x".into());
    assert_eq!(a.metadata().name.as_deref(), Some("x"));
    assert_eq!(pager::v1alpha1::GROUP_VERSION, "pager.k8s.co/v1alpha1");
    assert_eq!(pager::v1beta1::VERSION, "v1beta1");
}

#[test]
fn scheme_registers_both_versions() {
    use kube_codegen_scheme::{Gvk, Kind, Scheme};
    let mut scheme = Scheme::new();
    pager::v1alpha1::add_to_scheme(&mut scheme);
    pager::v1beta1::add_to_scheme(&mut scheme);
    assert_eq!(scheme.kinds().count(), 2);
    let info = scheme
        .get(&Gvk::new("pager.k8s.co", "v1beta1", "Alert"))
        .unwrap();
    assert_eq!(info.plural, "alerts");
    assert_eq!(info.printer_columns.len(), 2);
    assert_eq!(info.printer_columns[0].json_path, ".spec.title");
    let by_short = scheme.resource("pager.k8s.co", "v1alpha1", "al").unwrap();
    assert_eq!(by_short.kind, "Alert");
    assert!(by_short.namespaced && by_short.has_status);
    assert_eq!(<Alert as Kind>::INFO.api_version(), "pager.k8s.co/v1alpha1");
}

#[test]
fn hub_types_get_generated_clone() {
    // The hub's AlertSpec does not derive Clone: deepcopy-gen wrote it.
    let spec = pager::AlertSpec {
        title: "t".into(),
        content: "c".into(),
        priority: Some(pager::Priority::High),
    };
    let copy = spec.clone();
    assert_eq!(copy, spec);
}

#[test]
fn openapi_schemas_describe_both_versions() {
    for (schemas, version, spec_fields) in [
        (
            pager::v1alpha1::OPENAPI_SCHEMAS,
            "v1alpha1",
            &["message", "priority"][..],
        ),
        (
            pager::v1beta1::OPENAPI_SCHEMAS,
            "v1beta1",
            &["title", "content", "priority"][..],
        ),
    ] {
        let doc: serde_json::Value = serde_json::from_str(schemas).unwrap();
        let alert = &doc[format!("co.k8s.pager.{version}.Alert")];
        assert_eq!(
            alert["x-kubernetes-group-version-kind"][0]["version"],
            version
        );
        assert_eq!(
            alert["description"],
            "Alert is a message to be sent to a person."
        );
        let spec = &doc[format!("co.k8s.pager.{version}.AlertSpec")];
        let props: Vec<&str> = spec["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(props, spec_fields);
        assert_eq!(spec["properties"]["priority"]["default"], "normal");
        assert_eq!(
            doc[format!("co.k8s.pager.{version}.Priority")]["enum"],
            serde_json::json!(["low", "normal", "high"])
        );
        let status = &doc[format!("co.k8s.pager.{version}.AlertStatus")];
        assert_eq!(status["properties"]["sent"]["type"], "boolean");
        assert_eq!(
            status["properties"]["sent"]["description"],
            "Whether the alert has been sent."
        );
    }
}
