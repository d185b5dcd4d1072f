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

    // A `+genclient:method=` method asks for its subresource with its own result type.
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
    // Answered by a reactor: the method's own result type.
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
}

fn fleet(name: &str, replicas: i32) -> fleet::v1beta1::Fleet {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
    let mut f: fleet::v1beta1::Fleet = named(name, |f: &mut fleet::v1beta1::Fleet| &mut f.metadata);
    f.spec.replicas = Some(replicas);
    f.spec.selector = LabelSelector {
        match_labels: Some([("app".to_string(), "web".to_string())].into()),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "tier".into(),
            operator: "In".into(),
            values: Some(vec!["front".into(), "back".into()]),
        }]),
    };
    f
}

/// Admission webhooks on `fleets/scale` see `autoscaling/v1` `Scale`s, as kube-apiserver's do:
/// the review names kind `Scale` and resource `fleets` with subresource `scale`, its objects
/// are the new and old `Scale`, a mutating webhook's patch of the `Scale`'s replicas lands in
/// the object, and the validating webhook after it sees the patched `Scale`.
#[tokio::test]
async fn webhooks_on_the_scale_subresource_see_a_scale() {
    use base64::Engine;
    use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec};
    use serde_json::{Value, json};
    type Reviews = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;
    let dir = tempfile::tempdir().unwrap();
    let files = apiserver::serve::certs::self_signed(dir.path(), &["127.0.0.1".into()]).unwrap();
    let ca =
        std::fs::read_to_string(dir.path().join(apiserver::serve::certs::GENERATED_CA)).unwrap();
    let tls = apiserver::serve::Tls::new(files, &[]).unwrap();
    let reviews: Reviews = Default::default();
    let answer = |reviews: Reviews, patch: Option<Value>| {
        move |axum::Json(review): axum::Json<Value>| {
            let reviews = reviews.clone();
            let patch = patch.clone();
            async move {
                let mut response = json!({"uid": review["request"]["uid"], "allowed": true});
                if let Some(p) = patch {
                    response["patchType"] = json!("JSONPatch");
                    response["patch"] =
                        json!(base64::engine::general_purpose::STANDARD.encode(p.to_string()));
                }
                reviews.lock().unwrap().push(review);
                axum::Json(
                    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}),
                )
            }
        }
    };
    let hooks = axum::Router::new()
        .route(
            "/mutate",
            axum::routing::post(answer(
                reviews.clone(),
                Some(json!([{"op": "replace", "path": "/spec/replicas", "value": 4}])),
            )),
        )
        .route(
            "/validate",
            axum::routing::post(answer(reviews.clone(), None)),
        )
        .route(
            "/negative",
            axum::routing::post(answer(
                Default::default(),
                Some(json!([{"op": "replace", "path": "/spec/replicas", "value": -1}])),
            )),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(apiserver::serve::serve(
        listener,
        hooks,
        Some(tls),
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    let config = |kind: &str, path: &str| {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": path},
            "webhooks": [{
                "name": format!("{path}.example.com"),
                "clientConfig": {"url": format!("{url}/{path}"),
                    "caBundle": base64::engine::general_purpose::STANDARD.encode(&ca)},
                "rules": [{"operations": ["UPDATE"], "apiGroups": ["fleet.example.com"],
                    "apiVersions": ["*"], "resources": ["fleets/scale"]}],
                "sideEffects": "None", "admissionReviewVersions": ["v1"],
            }],
        })
        .to_string()
    };
    let webhooks = apiserver::Webhooks::from_yaml(&format!(
        "{}\n---\n{}",
        config("MutatingWebhookConfiguration", "mutate"),
        config("ValidatingWebhookConfiguration", "validate")
    ))
    .unwrap();
    let fake = fake::builder()
        .admission_webhooks(webhooks)
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let pp = PostParams::default();
    let fleets = cs.fleet_v1beta1().fleets("default");
    fleets.create(&pp, &fleet("web", 3)).await.unwrap();
    assert!(
        reviews.lock().unwrap().is_empty(),
        "a write of the object is not one of its scale"
    );

    let mut wanted: Scale = fleets.get_scale("web").await.unwrap();
    wanted.spec = Some(ScaleSpec { replicas: Some(5) });
    let scaled = fleets.update_scale("web", &wanted, &pp).await.unwrap();
    assert_eq!(
        scaled.spec.and_then(|s| s.replicas),
        Some(4),
        "the webhook's"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(4));
    let reviews = reviews.lock().unwrap().clone();
    assert_eq!(reviews.len(), 2, "{reviews:#?}");
    for (review, replicas) in reviews.iter().zip([5, 4]) {
        let request = &review["request"];
        let scale_kind = json!({"group": "autoscaling", "version": "v1", "kind": "Scale"});
        assert_eq!(request["kind"], scale_kind, "{request:#}");
        assert_eq!(request["requestKind"], scale_kind, "{request:#}");
        assert_eq!(
            request["resource"],
            json!({"group": "fleet.example.com", "version": "v1beta1", "resource": "fleets"})
        );
        assert_eq!(request["subResource"], "scale");
        for (object, replicas) in [(&request["object"], replicas), (&request["oldObject"], 3)] {
            assert_eq!(
                (
                    &object["apiVersion"],
                    &object["kind"],
                    &object["metadata"]["name"]
                ),
                (&json!("autoscaling/v1"), &json!("Scale"), &json!("web")),
                "{object:#}"
            );
            assert_eq!(object["spec"]["replicas"], replicas, "{object:#}");
            assert!(
                object["status"]["selector"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("app=web,")),
                "{object:#}"
            );
        }
    }
    // A webhook's patch is validated as a client's `Scale` is: fewer than no replicas is the
    // 422 kube-apiserver answers, and nothing is written.
    let fake = fake::builder()
        .admission_webhooks(
            apiserver::Webhooks::from_yaml(&config("MutatingWebhookConfiguration", "negative"))
                .unwrap(),
        )
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let fleets = cs.fleet_v1beta1().fleets("default");
    fleets.create(&pp, &fleet("web", 3)).await.unwrap();
    let mut wanted: Scale = fleets.get_scale("web").await.unwrap();
    wanted.spec = Some(ScaleSpec { replicas: Some(5) });
    let err = fleets.update_scale("web", &wanted, &pp).await.unwrap_err();
    assert_eq!(err.code(), Some(422), "{err}");
    assert!(
        err.to_string().contains("should be a non-negative integer"),
        "{err}"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(3));
}

/// `+scale`: the fake (the real server) serves `autoscaling/v1` `Scale` for fleets, read from
/// and written to the paths the tag names, as kube-apiserver does for a CRD's scale.
#[tokio::test]
async fn the_scale_subresource_reads_and_writes_the_replicas() {
    use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec};
    let fake = fake::builder().build().await.unwrap();
    let cs = Clientset::new(fake.client());
    let pp = PostParams::default();
    let fleets = cs.fleet_v1beta1().fleets("default");
    let created = fleets.create(&pp, &fleet("web", 3)).await.unwrap();
    let mut with_status = created.clone();
    with_status.status = Some(fleet::v1beta1::FleetStatus {
        replicas: 2,
        ..Default::default()
    });
    let stored = fleets.update_status(&pp, &with_status).await.unwrap();

    // Read: the counts, the selector in its text form (Go's `LabelSelectorAsSelector`), and
    // the object's identity.
    let scale = fleets.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let status = scale.status.clone().unwrap();
    assert_eq!(status.replicas, 2);
    assert_eq!(
        status.selector.as_deref(),
        Some("app=web,tier in (back,front)")
    );
    assert_eq!(scale.metadata.name.as_deref(), Some("web"));
    assert_eq!(scale.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(scale.metadata.uid, stored.metadata.uid);
    assert_eq!(
        scale.metadata.resource_version,
        stored.metadata.resource_version
    );
    assert!(scale.metadata.labels.is_none() && scale.metadata.managed_fields.is_none());

    // Write: the replicas land in the object, whose generation moves; the status stays.
    let mut wanted = scale.clone();
    wanted.spec = Some(ScaleSpec { replicas: Some(5) });
    let scaled = fleets.update_scale("web", &wanted, &pp).await.unwrap();
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(scaled.status.as_ref().map(|s| s.replicas), Some(2));
    assert_ne!(
        scaled.metadata.resource_version,
        scale.metadata.resource_version
    );
    let now = fleets.get("web").await.unwrap();
    assert_eq!(now.spec.replicas, Some(5));
    assert_eq!(now.status.as_ref().map(|s| s.replicas), Some(2));
    assert_eq!(
        now.metadata.generation,
        stored.metadata.generation.map(|g| g + 1)
    );
    assert_eq!(
        now.metadata.resource_version,
        scaled.metadata.resource_version
    );
    // Field ownership says the write came through `/scale`.
    assert!(
        now.metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|m| m.subresource.as_deref() == Some("scale")
                && m.operation.as_deref() == Some("Update")),
        "{:?}",
        now.metadata.managed_fields
    );

    // The Scale's resourceVersion is a precondition: a stale one is a conflict, nothing written.
    let err = fleets.update_scale("web", &wanted, &pp).await.unwrap_err();
    assert_eq!(err.code(), Some(409), "{err}");
    // Without one, the write is unconditional.
    let mut unconditional = wanted.clone();
    unconditional.metadata.resource_version = None;
    unconditional.spec = Some(ScaleSpec { replicas: Some(0) });
    let zero = fleets
        .update_scale("web", &unconditional, &pp)
        .await
        .unwrap();
    assert_eq!(
        zero.spec.as_ref().and_then(|s| s.replicas),
        None,
        "0 is omitted, as Go's omitempty"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(0));

    // Validated as Go's `ValidateScale`; a name other than the URL's is a bad request.
    let mut negative = unconditional.clone();
    negative.spec = Some(ScaleSpec { replicas: Some(-1) });
    let err = fleets
        .update_scale("web", &negative, &pp)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(422), "{err}");
    assert!(err.to_string().contains("spec.replicas"), "{err}");
    let mut renamed = unconditional.clone();
    renamed.metadata.name = Some("other".into());
    let err = fleets.update_scale("web", &renamed, &pp).await.unwrap_err();
    assert_eq!(err.code(), Some(400), "{err}");
    // A missing object is a 404 for reads and writes alike.
    let err = fleets
        .update_scale(
            "nope",
            &{
                let mut s = unconditional.clone();
                s.metadata.name = Some("nope".into());
                s
            },
            &pp,
        )
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(0));

    // Patches of the Scale (what `kubectl scale` and autoscalers send), through kube's `Api`.
    let api: kube::Api<fleet::v1beta1::Fleet> = kube::Api::namespaced(fake.client(), "default");
    let merge = kube::api::Patch::Merge(serde_json::json!({"spec": {"replicas": 7}}));
    let patched: Scale = api
        .patch_scale("web", &Default::default(), &merge)
        .await
        .unwrap();
    assert_eq!(patched.spec.and_then(|s| s.replicas), Some(7));
    let json = kube::api::Patch::<()>::Json(
        serde_json::from_value(
            serde_json::json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]),
        )
        .unwrap(),
    );
    let patched: Scale = api
        .patch_scale("web", &Default::default(), &json)
        .await
        .unwrap();
    assert_eq!(patched.spec.and_then(|s| s.replicas), Some(4));
    let strategic = kube::api::Patch::Strategic(serde_json::json!({"spec": {"replicas": 6}}));
    let patched: Scale = api
        .patch_scale("web", &Default::default(), &strategic)
        .await
        .unwrap();
    assert_eq!(patched.spec.and_then(|s| s.replicas), Some(6));
    // A patch naming a stale resourceVersion is the caller's precondition: a conflict.
    let stale = kube::api::Patch::Merge(
        serde_json::json!({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 9}}),
    );
    let err = api
        .patch_scale("web", &Default::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409),
        "{err}"
    );
    // A dry run changes nothing.
    let dry = kube::api::PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let tried: Scale = api.patch_scale("web", &dry, &merge).await.unwrap();
    assert_eq!(tried.spec.and_then(|s| s.replicas), Some(7));
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(6));
    // Server-side apply of a `Scale`, as kube-apiserver's scale handler serves it: the replicas
    // are the object's, owned through `scale`; another owner of them is a conflict unless forced,
    // and forcing takes the field from it.
    let scale_config = |replicas: i32| {
        kube::api::Patch::Apply(serde_json::json!({
            "apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": replicas}}))
    };
    let err = api
        .patch_scale(
            "web",
            &kube::api::PatchParams::apply("me"),
            &scale_config(1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.message.contains(".spec.replicas")),
        "the patches' manager owns the replicas: {err}"
    );
    let applied: Scale = api
        .patch_scale(
            "web",
            &kube::api::PatchParams::apply("me").force(),
            &scale_config(1),
        )
        .await
        .unwrap();
    assert_eq!(applied.spec.and_then(|s| s.replicas), Some(1));
    let now = fleets.get("web").await.unwrap();
    assert_eq!(now.spec.replicas, Some(1));
    let managed = now.metadata.managed_fields.clone().unwrap_or_default();
    let mine = managed
        .iter()
        .find(|m| m.manager.as_deref() == Some("me"))
        .expect("an entry of the applier");
    assert_eq!(
        (
            mine.operation.as_deref(),
            mine.subresource.as_deref(),
            mine.api_version.as_deref(),
            mine.fields_v1.as_ref().map(|f| &f.0),
        ),
        (
            Some("Apply"),
            Some("scale"),
            Some("fleet.example.com/v1beta1"),
            Some(&serde_json::json!({"f:spec": {"f:replicas": {}}})),
        )
    );
    assert!(
        managed.iter().all(|m| m.manager.as_deref() == Some("me")
            || m.fields_v1
                .as_ref()
                .is_none_or(|f| f.0.pointer("/f:spec/f:replicas").is_none())),
        "forcing took the replicas from their other owners: {managed:?}"
    );
    // The same value again is no conflict for another applier (shared ownership); another
    // value is, and the object's own apply meets the scale applier's ownership too.
    let err = api
        .patch_scale(
            "web",
            &kube::api::PatchParams::apply("hpa"),
            &scale_config(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.message.contains("\"me\"")),
        "{err}"
    );
    let err = api
        .patch(
            "web",
            &kube::api::PatchParams::apply("deployer"),
            &kube::api::Patch::Apply(serde_json::json!({
                "apiVersion": "fleet.example.com/v1beta1", "kind": "Fleet",
                "metadata": {"name": "web"}, "spec": {"replicas": 8}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409),
        "{err}"
    );
    // A configuration of another type, or for an object that does not exist, is refused.
    let err = api
        .patch_scale(
            "web",
            &kube::api::PatchParams::apply("me"),
            &kube::api::Patch::Apply(serde_json::json!({
                "apiVersion": "fleet.example.com/v1beta1", "kind": "Scale",
                "spec": {"replicas": 3}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 400
            && s.message == "Incorrect version specified in apply patch. Specified patch version: fleet.example.com/v1beta1, expected: autoscaling/v1"),
        "{err}"
    );
    let err = api
        .patch_scale(
            "nope",
            &kube::api::PatchParams::apply("me"),
            &scale_config(3),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404),
        "{err}"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(1));

    // Discovery names the subresource and its kind, as kube-apiserver does.
    let req = http::Request::get("/apis/fleet.example.com/v1beta1")
        .body(Vec::new())
        .unwrap();
    let list: serde_json::Value = fake.client().request(req).await.unwrap();
    let scale_resource = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "fleets/scale")
        .cloned()
        .expect("fleets/scale in discovery");
    assert_eq!(
        (
            &scale_resource["group"],
            &scale_resource["version"],
            &scale_resource["kind"],
            &scale_resource["verbs"],
        ),
        (
            &serde_json::json!("autoscaling"),
            &serde_json::json!("v1"),
            &serde_json::json!("Scale"),
            &serde_json::json!(["get", "patch", "update"]),
        )
    );
    // OpenAPI (v3 and v2) describes it, with the `Scale` definition.
    let req = http::Request::get("/openapi/v3/apis/fleet.example.com/v1beta1")
        .body(Vec::new())
        .unwrap();
    let doc: serde_json::Value = fake.client().request(req).await.unwrap();
    let path =
        &doc["paths"]["/apis/fleet.example.com/v1beta1/namespaces/{namespace}/fleets/{name}/scale"];
    assert_eq!(
        path["put"]["x-kubernetes-group-version-kind"],
        serde_json::json!({"group": "autoscaling", "kind": "Scale", "version": "v1"}),
        "{path}"
    );
    assert!(
        doc["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"].is_object(),
        "no Scale schema"
    );
    let req = http::Request::get("/openapi/v2").body(Vec::new()).unwrap();
    let doc: serde_json::Value = fake.client().request(req).await.unwrap();
    assert!(
        doc["paths"]["/apis/fleet.example.com/v1beta1/namespaces/{namespace}/fleets/{name}/scale"]
            ["patch"]
            .is_object()
    );
    assert!(doc["definitions"]["io.k8s.api.autoscaling.v1.Scale"].is_object());
    // A kind without `+scale` has none.
    let req = http::Request::get(
        "/apis/fleet.example.com/v1beta1/namespaces/default/fleetsnapshots/x/scale",
    )
    .body(Vec::new())
    .unwrap();
    let err = fake
        .client()
        .request::<serde_json::Value>(req)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404),
        "{err}"
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

/// The scale subresource's edges, as kube-apiserver answers a custom resource's: preconditions
/// (uid, revision 0), namespaces, unknown fields under `fieldValidation`, a selector with no
/// text form, concurrent blind patches, a watch of one object's scale.
#[tokio::test]
async fn the_scale_subresource_checks_what_go_checks() {
    use k8s_openapi::api::autoscaling::v1::Scale;
    let fake = fake::builder().build().await.unwrap();
    let cs = Clientset::new(fake.client());
    let pp = PostParams::default();
    let fleets = cs.fleet_v1beta1().fleets("default");
    fleets.create(&pp, &fleet("web", 3)).await.unwrap();
    let raw = |method: &str, path: &str, ct: &str, body: serde_json::Value| {
        http::Request::builder()
            .method(method)
            .uri(format!(
                "/apis/fleet.example.com/v1beta1/namespaces/default/fleets/{path}"
            ))
            .header("content-type", ct)
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let code = |e: kube::Error| match e {
        kube::Error::Api(s) => (s.code, s.message),
        other => panic!("{other}"),
    };
    let scale = |extra: serde_json::Value| {
        let mut s = serde_json::json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 4}});
        for (k, v) in extra.as_object().unwrap() {
            if k == "metadata" {
                for (mk, mv) in v.as_object().unwrap() {
                    s["metadata"][mk] = mv.clone();
                }
            } else {
                s[k] = v.clone();
            }
        }
        s
    };
    let client = fake.client();
    let put = |body: serde_json::Value| {
        let client = client.clone();
        async move {
            client
                .request::<Scale>(raw("PUT", "web/scale", "application/json", body))
                .await
        }
    };
    // Another namespace: 400; another uid: 409; revision 0: 422 (Go's CRD strategy allows no
    // unconditional update by that name); the CRD wording for negative replicas.
    let (c, m) = code(
        put(scale(
            serde_json::json!({"metadata": {"namespace": "other"}}),
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(c, 400, "{m}");
    let (c, m) = code(
        put(scale(
            serde_json::json!({"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}}),
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(c, 409, "{m}");
    let (c, m) = code(
        put(scale(
            serde_json::json!({"metadata": {"resourceVersion": "0"}}),
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(c, 422, "{m}");
    assert!(m.contains("must be specified for an update"), "{m}");
    let (c, m) = code(
        put(scale(serde_json::json!({"spec": {"replicas": -2}})))
            .await
            .unwrap_err(),
    );
    assert_eq!(c, 422);
    assert_eq!(
        m,
        "Fleet.fleet.example.com \"web\" is invalid: .spec.replicas: Invalid value: -2: should be a non-negative integer"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(3));

    // Unknown fields: a 400 under Strict, a warning by default (kube's client drops warnings:
    // the answer is a 200 and the write is made).
    let strict = client
        .request::<Scale>(raw(
            "PUT",
            "web/scale?fieldValidation=Strict",
            "application/json",
            scale(serde_json::json!({"spec": {"replicas": 5, "bogus": 1}})),
        ))
        .await
        .unwrap_err();
    let (c, m) = code(strict);
    assert_eq!(c, 400, "{m}");
    assert!(m.contains("unknown field \"spec.bogus\""), "{m}");
    let warned = client
        .request::<Scale>(raw(
            "PATCH",
            "web/scale",
            "application/merge-patch+json",
            serde_json::json!({"spec": {"replicas": 5, "bogus": 1}}),
        ))
        .await
        .unwrap();
    assert_eq!(warned.spec.and_then(|s| s.replicas), Some(5));

    // Blind patches racing each other all succeed (Go's GuaranteedUpdate retries them).
    let mut racing = Vec::new();
    for i in 0..24 {
        let client = client.clone();
        racing.push(tokio::spawn(async move {
            client
                .request::<Scale>(raw(
                    "PATCH",
                    "web/scale",
                    "application/merge-patch+json",
                    serde_json::json!({"spec": {"replicas": i}}),
                ))
                .await
        }));
    }
    for r in racing {
        r.await.unwrap().unwrap();
    }

    // `?watch=true` on one object's scale is a read, as Go routes it.
    let watched: Scale = client
        .request(
            http::Request::get(
                "/apis/fleet.example.com/v1beta1/namespaces/default/fleets/web/scale?watch=true",
            )
            .body(Vec::new())
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(watched.metadata.name.as_deref(), Some("web"));

    // A stored selector with no text form (`In` with no values) is left out of the Scale; it
    // never turns a read, or the answer to a write made, into a 500.
    let mut odd = fleet("odd", 1);
    odd.spec.selector.match_expressions = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
            key: "a".into(),
            operator: "In".into(),
            values: Some(Vec::new()),
        },
    ]);
    fleets.create(&pp, &odd).await.unwrap();
    let got = fleets.get_scale("odd").await.unwrap();
    assert_eq!(got.status.as_ref().and_then(|s| s.selector.clone()), None);
    let mut more = got.clone();
    more.spec = Some(k8s_openapi::api::autoscaling::v1::ScaleSpec { replicas: Some(2) });
    let scaled = fleets.update_scale("odd", &more, &pp).await.unwrap();
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(2));
}

/// `kubectl scale` (which finds the subresource through discovery and patches the `Scale`)
/// against the fixture's fleets served over loopback by the API-server library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scales_a_fleet() {
    use kube_codegen_client::fake::Resource;
    let found = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is not installed; CI never skips a component"
        );
        return;
    }
    let router = apiserver::ApiServer::builder(apiserver_storage::AnyStore::Memory(
        apiserver_storage::MemoryStore::new(),
    ))
    .resource(Resource::<fleet::v1beta1::Fleet>::new(
        fleet::v1beta1::OPENAPI_SCHEMAS,
    ))
    .build()
    .unwrap()
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let client =
        kube::Client::try_from(kube::Config::new(format!("http://{addr}").parse().unwrap()))
            .unwrap();
    let fleets = Clientset::new(client).fleet_v1beta1().fleets("default");
    fleets
        .create(&PostParams::default(), &fleet("web", 3))
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    std::fs::write(
        &config,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://{addr}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u, namespace: default}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    let kubectl = |args: &[&str]| {
        let dir = dir.path().to_path_buf();
        let config = config.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&config)
                    .arg("--cache-dir")
                    .arg(dir.join("cache"))
                    .args(&args)
                    .env_remove("KUBECONFIG")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = kubectl(&["scale", "fleets.fleet.example.com/web", "--replicas=5"]).await;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("scaled"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(5));
    // `--current-replicas` is a precondition kubectl checks against the Scale it reads.
    let out = kubectl(&[
        "scale",
        "fleets.fleet.example.com/web",
        "--current-replicas=3",
        "--replicas=7",
    ])
    .await;
    assert!(
        !out.status.success(),
        "a stale --current-replicas must fail"
    );
    assert_eq!(fleets.get("web").await.unwrap().spec.replicas, Some(5));
    let out = kubectl(&[
        "get",
        "--raw",
        "/apis/fleet.example.com/v1beta1/namespaces/default/fleets/web/scale",
    ])
    .await;
    let scale: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(scale["status"]["selector"], "app=web,tier in (back,front)");
}

/// Server-side apply keeps the `null`s inside a field holding arbitrary JSON, which are its
/// data, and drops those its schema does not allow (a label emptied, an enum field unset), as
/// kube-apiserver does.
#[tokio::test]
async fn an_apply_keeps_the_nulls_inside_arbitrary_json() {
    use kube::api::{Patch, PatchParams};
    let fake = fake::builder().build().await.unwrap();
    let api: kube::Api<fleet::v1beta1::Fleet> = kube::Api::namespaced(fake.client(), "default");
    let config = serde_json::json!({"a": null, "b": [null, 1], "c": {"d": null, "e": "f"}});
    let apply = |labels: serde_json::Value| {
        Patch::Apply(serde_json::json!({
            "apiVersion": "fleet.example.com/v1beta1",
            "kind": "Fleet",
            "metadata": {"name": "web", "labels": labels},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {},
                "priorityClass": null,
                "config": config,
            },
        }))
    };
    let pp = PatchParams::apply("me");
    // Created by the apply, then applied again over the stored object.
    for labels in [
        serde_json::json!({"kept": "yes", "gone": null}),
        serde_json::json!({"kept": "yes", "gone": null, "again": null}),
    ] {
        let applied = api.patch("web", &pp, &apply(labels)).await.unwrap();
        assert_eq!(applied.spec.config.as_ref(), Some(&config));
        assert_eq!(
            applied.metadata.labels,
            Some(std::collections::BTreeMap::from([(
                "kept".to_string(),
                "yes".to_string()
            )]))
        );
        let read = api.get("web").await.unwrap();
        assert_eq!(read.spec.config.as_ref(), Some(&config));
        assert_eq!(read.spec.priority_class, applied.spec.priority_class);
    }
}

/// A server-side apply that creates an object starts from Kubernetes' empty object — every
/// top-level struct present and empty — except a struct `{}` is no value of: the Reservation's
/// status requires `granted`, so an apply without a status creates the object without one, as a
/// create does (a 422 `status.granted: Required value` before).
#[tokio::test]
async fn an_apply_creates_an_object_whose_status_requires_fields() {
    use kube::api::{Patch, PatchParams};
    let fake = fake::builder().build().await.unwrap();
    let api: kube::Api<fleet::v1beta1::Reservation> =
        kube::Api::namespaced(fake.client(), "default");
    let applied = api
        .patch(
            "capacity",
            &PatchParams::apply("me"),
            &Patch::Apply(serde_json::json!({
                "apiVersion": "fleet.example.com/v1beta1",
                "kind": "Reservation",
                "metadata": {"name": "capacity"},
                "spec": {"fleetName": "web"},
            })),
        )
        .await
        .unwrap();
    assert_eq!(applied.spec.fleet_name, "web");
    assert_eq!(applied.status, None);
}
