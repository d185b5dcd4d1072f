//! Several versions of one resource in-process: a strategy written once against the hub
//! (`OnHub`), the build refusing versions without conversions or an unserved storage version,
//! and field selectors evaluated through the hub for every version.

use apiserver::{ApiServer, BuildError, Cause, OnHub, Resource, Strategy};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use kube_codegen_scheme::Scheme;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Written once, on the hub's field names.
struct HubRules;

impl Strategy<pager::Alert> for HubRules {
    fn validate(&self, a: &pager::Alert) -> Vec<Cause> {
        if a.spec.content.is_empty() {
            vec![Cause::new(
                "FieldValueRequired",
                "spec.content",
                "Required value",
            )]
        } else {
            Vec::new()
        }
    }
    fn selectable_fields(&self) -> &'static [&'static str] {
        &["spec.title"]
    }
    fn field_value(&self, a: &pager::Alert, f: &str) -> Option<String> {
        (f == "spec.title").then(|| a.spec.title.clone())
    }
}

fn scheme() -> Scheme {
    let mut s = Scheme::new();
    pager::v1alpha1::register_conversions(&mut s);
    pager::v1beta1::register_conversions(&mut s);
    s
}

fn app() -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::v1alpha1::Alert, _>::new(pager::v1alpha1::OPENAPI_SCHEMAS)
                .strategy(OnHub(HubRules)),
        )
        .resource(
            Resource::<pager::v1beta1::Alert, _>::new(pager::v1beta1::OPENAPI_SCHEMAS)
                .strategy(OnHub(HubRules)),
        )
        .conversions(scheme())
        .build()
        .unwrap()
        .into_router()
}

async fn call(app: &axum::Router, method: Method, uri: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const ALPHA: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";
const BETA: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";

#[tokio::test]
async fn one_hub_strategy_for_every_version() {
    let app = app();
    // Invalid in either version, judged on the hub.
    let (code, status) = call(
        &app,
        Method::POST,
        ALPHA,
        json!({"metadata": {"name": "e"}, "spec": {"message": ""}}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.content");
    let (code, _) = call(
        &app,
        Method::POST,
        BETA,
        json!({"metadata": {"name": "e"}, "spec": {"content": ""}}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);

    // A hub field selector works in the version that has no such field.
    let (code, _) = call(
        &app,
        Method::POST,
        BETA,
        json!({"metadata": {"name": "t"}, "spec": {"title": "Disk", "content": "full"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, _) = call(
        &app,
        Method::POST,
        ALPHA,
        json!({"metadata": {"name": "u"}, "spec": {"message": "untitled"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, list) = call(
        &app,
        Method::GET,
        &format!("{ALPHA}?fieldSelector=spec.title%3DDisk"),
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["t"]);
    assert_eq!(
        list["items"][0]["metadata"]["annotations"]["pager.k8s.co/title"],
        "Disk"
    );
}

#[test]
fn several_versions_need_their_conversions() {
    let build = |scheme: Scheme, storage: Option<&str>| {
        let mut b = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
            .resource(Resource::<pager::v1alpha1::Alert, _>::new(
                pager::v1alpha1::OPENAPI_SCHEMAS,
            ))
            .resource(Resource::<pager::v1beta1::Alert, _>::new(
                pager::v1beta1::OPENAPI_SCHEMAS,
            ))
            .conversions(scheme);
        if let Some(v) = storage {
            b = b.storage_version("pager.k8s.co", v);
        }
        b.build().map(|_| ())
    };
    let mut only_beta = Scheme::new();
    pager::v1beta1::register_conversions(&mut only_beta);
    match build(only_beta, None) {
        Err(BuildError::VersionsWithoutConversion(r)) => {
            assert!(r.contains("no conversion for v1alpha1"), "{r}")
        }
        other => panic!("{:?}", other.err()),
    }
    match build(scheme(), Some("v2")) {
        Err(BuildError::StorageVersion(e)) => assert!(e.contains("v2 is not served"), "{e}"),
        other => panic!("{:?}", other.err()),
    }
    assert!(build(scheme(), Some("v1alpha1")).is_ok());
}

/// Reads newline-separated watch events until `n` have arrived.
async fn events(body: Body, n: usize) -> Vec<Value> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            out.push(serde_json::from_slice(&line).unwrap());
        }
    }
    out
}

#[tokio::test]
async fn watchers_of_each_version_see_one_write_in_their_own() {
    let app = app();
    let watch = |base: &str| {
        let app = app.clone();
        let req = Request::get(format!("{base}?watch=1&resourceVersion=0"))
            .body(Body::empty())
            .unwrap();
        async move { app.oneshot(req).await.unwrap().into_body() }
    };
    // Two watchers per version: the converted event is shared, never mixed up.
    let bodies = [
        watch(ALPHA).await,
        watch(ALPHA).await,
        watch(BETA).await,
        watch(BETA).await,
    ];
    let (code, _) = call(
        &app,
        Method::POST,
        BETA,
        json!({"metadata": {"name": "w"}, "spec": {"title": "T", "content": "c"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    for (i, body) in bodies.into_iter().enumerate() {
        let ev = events(body, 1).await.remove(0);
        assert_eq!(ev["type"], "ADDED");
        let o = &ev["object"];
        if i < 2 {
            assert_eq!(o["apiVersion"], "pager.k8s.co/v1alpha1");
            assert_eq!(o["spec"]["message"], "c");
            assert_eq!(o["metadata"]["annotations"]["pager.k8s.co/title"], "T");
        } else {
            assert_eq!(o["apiVersion"], "pager.k8s.co/v1beta1");
            assert_eq!(o["spec"]["title"], "T");
        }
        assert!(o["metadata"]["resourceVersion"].is_string());
    }
}
