//! Conversions of the pager API through its hub: generated where fields match, hand-written for
//! v1alpha1's `message` (`v1alpha1/conversion.rs`), and lossless round trips for random objects
//! of every version — through the title annotation where v1alpha1 cannot hold the data.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_codegen_scheme::{ConvertHub, convert};
use pager::{v1alpha1, v1beta1};
use proptest::prelude::*;

fn meta() -> impl Strategy<Value = ObjectMeta> {
    let labels = proptest::option::of(proptest::collection::btree_map(
        "[a-z]{1,8}",
        "[a-z0-9]{0,8}",
        0..3,
    ));
    // Any annotation but the one v1alpha1 uses for the title.
    let annotations = proptest::option::of(proptest::collection::btree_map(
        "[a-z]{1,8}(/[a-z]{1,5})?",
        ".{0,12}",
        0..3,
    ));
    (
        "[a-z][a-z0-9-]{0,12}",
        proptest::option::of("[a-z]{1,8}"),
        labels,
        annotations,
        proptest::option::of(1i64..1000),
    )
        .prop_map(
            |(name, namespace, labels, annotations, generation)| ObjectMeta {
                name: Some(name),
                namespace,
                labels,
                // An empty map and none are one object on the wire (Kubernetes omits empty maps);
                // the title annotation's carrier leaves none behind.
                annotations: annotations.filter(|a| !a.is_empty()),
                generation,
                ..ObjectMeta::default()
            },
        )
}

fn priority() -> impl Strategy<Value = Option<pager::Priority>> {
    proptest::option::of(prop_oneof![
        Just(pager::Priority::Low),
        Just(pager::Priority::Normal),
        Just(pager::Priority::High),
    ])
}

fn hub_alert() -> impl Strategy<Value = pager::Alert> {
    (
        meta(),
        ".{0,20}",
        ".{0,40}",
        priority(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(metadata, title, content, priority, sent)| pager::Alert {
            metadata,
            spec: pager::AlertSpec {
                title,
                content,
                priority,
            },
            status: sent.map(|sent| pager::AlertStatus { sent }),
        })
}

fn alpha_alert() -> impl Strategy<Value = v1alpha1::Alert> {
    (
        meta(),
        ".{0,40}",
        priority(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(metadata, message, priority, sent)| v1alpha1::Alert {
            metadata,
            spec: v1alpha1::AlertSpec {
                message,
                priority: priority.map(|p| v1alpha1::Priority::from_hub(p).unwrap()),
            },
            status: sent.map(|sent| v1alpha1::AlertStatus { sent }),
        })
}

fn beta_alert() -> impl Strategy<Value = v1beta1::Alert> {
    hub_alert().prop_map(|h| v1beta1::Alert::from_hub(h).unwrap())
}

proptest! {
    // Failures are printed with their minimal input, never saved into the source tree.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        cases: 256,
        ..ProptestConfig::default()
    })]

    #[test]
    fn v1alpha1_through_the_hub_is_the_identity(a in alpha_alert()) {
        prop_assert_eq!(v1alpha1::Alert::from_hub(a.to_hub().unwrap()).unwrap(), a);
    }

    #[test]
    fn v1beta1_through_the_hub_is_the_identity(b in beta_alert()) {
        prop_assert_eq!(v1beta1::Alert::from_hub(b.to_hub().unwrap()).unwrap(), b);
    }

    #[test]
    fn the_hub_through_every_version_is_the_identity(h in hub_alert()) {
        prop_assert_eq!(v1beta1::Alert::from_hub(h.clone()).unwrap().into_hub().unwrap(), h.clone());
        // v1alpha1 has no title field: the annotation carries it, and only it.
        let alpha = v1alpha1::Alert::from_hub(h.clone()).unwrap();
        prop_assert_eq!(alpha.spec.message.as_str(), h.spec.content.as_str());
        prop_assert_eq!(alpha.into_hub().unwrap(), h);
    }

    #[test]
    fn v1beta1_to_v1alpha1_and_back_keeps_the_title(b in beta_alert()) {
        let alpha: v1alpha1::Alert = convert(b.clone()).unwrap();
        let back: v1beta1::Alert = convert(alpha.clone()).unwrap();
        prop_assert_eq!(back, b);
    }

    #[test]
    fn v1alpha1_to_v1beta1_and_back(a in alpha_alert()) {
        let beta: v1beta1::Alert = convert(a.clone()).unwrap();
        prop_assert_eq!(beta.spec.content.as_str(), a.spec.message.as_str());
        prop_assert_eq!(beta.spec.title.as_str(), "");
        let back: v1alpha1::Alert = convert(beta.clone()).unwrap();
        prop_assert_eq!(back, a);
    }
}

#[test]
fn the_title_rides_in_an_annotation() {
    let beta = v1beta1::Alert {
        metadata: ObjectMeta {
            name: Some("disk".into()),
            ..ObjectMeta::default()
        },
        spec: v1beta1::AlertSpec {
            title: "Disk full".into(),
            content: "/var is at 99%".into(),
            priority: Some(v1beta1::Priority::High),
        },
        status: None,
    };
    let alpha: v1alpha1::Alert = convert(beta.clone()).unwrap();
    assert_eq!(alpha.spec.message, "/var is at 99%");
    assert_eq!(
        alpha.metadata.annotations,
        Some(BTreeMap::from([(
            v1alpha1::TITLE_ANNOTATION.to_string(),
            "Disk full".to_string()
        )]))
    );
    let json = serde_json::to_value(&alpha).unwrap();
    assert_eq!(json["apiVersion"], "pager.k8s.co/v1alpha1");
    assert_eq!(
        json["metadata"]["annotations"]["pager.k8s.co/title"],
        "Disk full"
    );
    let back: v1beta1::Alert = convert(alpha.clone()).unwrap();
    assert_eq!(back, beta);
    assert_eq!(
        back.metadata.annotations, None,
        "the carrier annotation is not left behind"
    );
}

/// The title annotation is conversion's own: one a client wrote on a v1beta1 object is dropped on
/// the way into the hub (as Kubernetes' versions drop each other's round-trip annotations), so a
/// v1beta1 object read as v1alpha1 and written back keeps its own title — whatever the
/// annotation said — and no other field changes.
#[test]
fn a_title_annotation_a_client_wrote_is_not_a_title() {
    for title in ["", "Disk"] {
        let beta = v1beta1::Alert {
            metadata: ObjectMeta {
                name: Some("b-1".into()),
                annotations: Some(BTreeMap::from([
                    (
                        v1alpha1::TITLE_ANNOTATION.to_string(),
                        "From annotation".to_string(),
                    ),
                    ("team".to_string(), "ops".to_string()),
                ])),
                ..ObjectMeta::default()
            },
            spec: v1beta1::AlertSpec {
                title: title.into(),
                content: "c".into(),
                priority: None,
            },
            status: None,
        };
        let hub = beta.to_hub().unwrap();
        assert_eq!(hub.spec.title, title);
        assert_eq!(
            hub.metadata.annotations,
            Some(BTreeMap::from([("team".to_string(), "ops".to_string())])),
            "the hub never holds the round-trip annotation"
        );
        let alpha: v1alpha1::Alert = convert(beta.clone()).unwrap();
        let carried = alpha
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(v1alpha1::TITLE_ANNOTATION));
        assert_eq!(
            carried.map(String::as_str),
            (!title.is_empty()).then_some(title)
        );
        let back: v1beta1::Alert = convert(alpha.clone()).unwrap();
        let mut expected = beta.clone();
        expected
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(v1alpha1::TITLE_ANNOTATION);
        assert_eq!(back, expected, "title {title:?}");
    }
}

/// The versioned codec: any served version's JSON in, the hub inside, any version's JSON out.
#[test]
fn versioned_codec_reads_and_writes_every_version() {
    use kube_codegen_scheme::{Gvk, Scheme};
    let mut scheme = Scheme::new();
    v1alpha1::register_conversions(&mut scheme);
    v1beta1::register_conversions(&mut scheme);
    v1alpha1::register_defaults(&mut scheme);
    v1beta1::register_defaults(&mut scheme);
    let alpha = Gvk::new("pager.k8s.co", "v1alpha1", "Alert");
    let beta = Gvk::new("pager.k8s.co", "v1beta1", "Alert");
    assert_eq!(
        scheme.versions_of("pager.k8s.co", "Alert"),
        ["v1alpha1", "v1beta1"]
    );

    let body = br#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"a","annotations":{"pager.k8s.co/title":"Hi"}},"spec":{"message":"hello"}}"#;
    let hub: pager::Alert = scheme.decode_as(&alpha, body).unwrap();
    assert_eq!(
        (hub.spec.title.as_str(), hub.spec.content.as_str()),
        ("Hi", "hello")
    );
    assert_eq!(hub.metadata.annotations, None);

    let out: serde_json::Value =
        serde_json::from_slice(&scheme.encode(&beta, &hub).unwrap()).unwrap();
    assert_eq!(out["apiVersion"], "pager.k8s.co/v1beta1");
    assert_eq!(
        out["spec"],
        serde_json::json!({"title": "Hi", "content": "hello", "priority": "normal"}),
        "decoded as v1alpha1, so defaulted as v1alpha1"
    );
    let back: serde_json::Value =
        serde_json::from_slice(&scheme.encode(&alpha, &hub).unwrap()).unwrap();
    assert_eq!(
        back["spec"],
        serde_json::json!({"message": "hello", "priority": "normal"})
    );
    assert_eq!(back["metadata"]["annotations"]["pager.k8s.co/title"], "Hi");

    // Bytes of one version are not an object of another; a hub of another kind is refused.
    let err = scheme.decode(&beta, body).unwrap_err().to_string();
    assert!(
        err.contains("apiVersion is `pager.k8s.co/v1alpha1`"),
        "{err}"
    );
    let err = scheme
        .encode(&beta, &"not an alert")
        .unwrap_err()
        .to_string();
    assert!(err.contains("encodes a pager::types::Alert"), "{err}");
    let err = scheme
        .decode(&Gvk::new("pager.k8s.co", "v2", "Alert"), body)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no kind Alert is registered in pager.k8s.co/v2"),
        "{err}"
    );
}
