//! The fixture's generated clientset (client-gen into the build script's `OUT_DIR`): every client
//! flavour against the fake — cluster-scoped kinds, `onlyVerbs`, versions through a hub,
//! `+genclient:method=` subresource methods. (The verbs a kind lacks are refused at compile time:
//! `compile.rs`.)

use fixture_crate::apis::{fleet, wardle};
use fixture_crate::client::fleet_v1beta1::FleetMethods;
use fixture_crate::client::{Clientset, fake};
use kube_codegen_client::{Error, ListParams, PostParams};

fn named<T: Default>(
    name: &str,
    meta: impl FnOnce(&mut T) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> T {
    let mut t = T::default();
    meta(&mut t).name = Some(name.into());
    t
}

#[tokio::test]
async fn every_client_flavour_works_against_the_fake() {
    let fake = fake::builder().build().await.unwrap();
    let cs = Clientset::new(fake.client());
    let pp = PostParams::default();

    // Cluster-scoped: no namespace anywhere.
    let policies = cs.fleet_v1beta1().policies();
    let policy: fleet::v1beta1::Policy =
        named("strict", |p: &mut fleet::v1beta1::Policy| &mut p.metadata);
    policies.create(&pp, &policy).await.unwrap();
    assert_eq!(
        policies
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let mut namespaced = policy.clone();
    namespaced.metadata.namespace = Some("default".into());
    let err = policies.create(&pp, &namespaced).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidObject {
                field: "metadata.namespace",
                ..
            }
        ),
        "{err}"
    );

    // Versions through the hub: written as v1alpha1, read as v1beta1.
    let mut flunder: wardle::v1alpha1::Flunder =
        named("f", |f: &mut wardle::v1alpha1::Flunder| &mut f.metadata);
    flunder.spec.reference = "other".into();
    flunder.spec.reference_type = Some(wardle::v1alpha1::ReferenceType::Flunder);
    cs.wardle_v1alpha1()
        .flunders("default")
        .create(&pp, &flunder)
        .await
        .unwrap();
    let beta = cs
        .wardle_v1beta1()
        .flunders("default")
        .get("f")
        .await
        .unwrap();
    assert_eq!(beta.metadata.name.as_deref(), Some("f"));

    // `onlyVerbs=get,list`: the verbs it has work (it is written through v1alpha1).
    let fischer: wardle::v1alpha1::Fischer =
        named("fritz", |f: &mut wardle::v1alpha1::Fischer| &mut f.metadata);
    cs.wardle_v1alpha1()
        .fischers()
        .create(&pp, &fischer)
        .await
        .unwrap();
    let fischers = cs.wardle_v1beta1().fischers();
    assert_eq!(
        fischers
            .get("fritz")
            .await
            .unwrap()
            .metadata
            .name
            .as_deref(),
        Some("fritz")
    );
    assert_eq!(
        fischers
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A `+genclient:method=` method asks for its subresource with its own result type (the
    // fake, like pager-apiserver, serves no `scale`: a typed 404).
    fake.recorder().clear();
    let err = cs
        .fleet_v1beta1()
        .fleets("default")
        .get_scale("web")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let asked = &fake.recorder().requests()[0];
    assert_eq!(
        (
            asked.verb.as_str(),
            asked.resource.as_str(),
            asked.subresource.as_deref()
        ),
        ("get", "fleets", Some("scale"))
    );
    // Answered (by a reactor, standing in for a server that serves `scale`): the method's own
    // result type.
    fake.reactors().respond(
        "get",
        "fleets/scale",
        1,
        200,
        &serde_json::json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web"}, "spec": {"replicas": 5}, "status": {"replicas": 3}}),
    );
    let scale = cs
        .fleet_v1beta1()
        .fleets("default")
        .get_scale("web")
        .await
        .unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(5));
    assert_eq!(scale.status.map(|s| s.replicas), Some(3));
    fake.recorder().clear();
    let scale = k8s_openapi::api::autoscaling::v1::Scale::default();
    let err = cs
        .fleet_v1beta1()
        .fleets("default")
        .update_scale("web", &scale, &pp)
        .await
        .unwrap_err();
    assert!(err.code().is_some(), "{err}");
    let asked = &fake.recorder().requests()[0];
    assert_eq!(
        (asked.verb.as_str(), asked.subresource.as_deref()),
        ("update", Some("scale"))
    );
}

/// A kind in kopium's layout (its own `pub mod`, not re-exported by the version module): the
/// clientset names it through its module, and it round-trips through the fake.
#[tokio::test]
async fn a_kind_in_its_own_public_module_has_a_client() {
    use fixture_crate::apis::gateway::v1::httproutes::{HTTPRoute, HTTPRouteProtocol};
    let fake = fake::builder().build().await.unwrap();
    let cs = Clientset::new(fake.client());
    let routes = cs.gateway_v1().http_routes("default");
    let mut route: HTTPRoute = named("web", |r: &mut HTTPRoute| &mut r.metadata);
    route.spec.hostnames = Some(vec!["example.com".into()]);
    route.spec.protocol = Some(HTTPRouteProtocol::Https);
    // Keyed by a `String` alias declared in the module's prelude.
    route.spec.headers = Some([("x-team".to_string(), "web".to_string())].into());
    route.spec.backend_port =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("http".into()));
    let created = routes.create(&PostParams::default(), &route).await.unwrap();
    let json = |s: &fixture_crate::apis::gateway::v1::httproutes::HTTPRouteSpec| {
        serde_json::to_value(s).unwrap()
    };
    assert_eq!(json(&created.spec), json(&route.spec));
    let got = routes.get("web").await.unwrap();
    assert!(matches!(got.spec.protocol, Some(HTTPRouteProtocol::Https)));

    // Its apply configuration holds the enum as is, without `PartialEq` (the enum has none).
    use fixture_crate::client::applyconfigurations::gateway_v1::HTTPRouteApplyConfiguration;
    let mut config = HTTPRouteApplyConfiguration::new("web", "default");
    config.spec = Some(Default::default());
    let patch = serde_json::to_value(&config).unwrap();
    assert_eq!(patch["kind"], "HTTPRoute");
}
