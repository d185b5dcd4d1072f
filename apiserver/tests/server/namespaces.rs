//! Namespace lifecycle, server-wide: from a fixed list, and from a main cluster's namespaces —
//! a local stand-in serving `/api/v1/namespaces` (list, watch, get) that kube's informer reads,
//! with a live lookup for a namespace created after the informer listed.

use std::sync::Arc;

use apiserver::{ApiServer, ClusterNamespaces, Resource, StaticNamespaces};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

fn app(source: Arc<dyn apiserver::NamespaceSource>) -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS),
        )
        .namespaces(source)
        .build()
        .unwrap()
        .into_router()
}

async fn create(app: &axum::Router, ns: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/apis/pager.k8s.co/v1beta1/namespaces/{ns}/alerts"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"metadata": {"name": "a"}, "spec": {"content": "c"}}).to_string(),
        ))
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

fn namespace(name: &str, phase: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name, "resourceVersion": "10", "uid": format!("uid-{name}")},
           "status": {"phase": phase}})
}

/// A stand-in for the main cluster: lists `default` and `leaving` (terminating), serves a watch
/// that never sends anything, and answers gets — `fresh` exists only there (created after the
/// list).
async fn cluster() -> String {
    let list = json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": "10"},
                      "items": [namespace("default", "Active"), namespace("leaving", "Terminating")]});
    let app = axum::Router::new()
        .route(
            "/api/v1/namespaces",
            axum::routing::get(
                move |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| {
                    let list = list.clone();
                    async move {
                        if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
                            axum::response::Response::builder()
                                .header("content-type", "application/json")
                                .body(Body::from_stream(futures::stream::pending::<
                                    Result<bytes::Bytes, std::io::Error>,
                                >()))
                                .unwrap()
                        } else {
                            axum::response::Response::builder()
                                .header("content-type", "application/json")
                                .body(Body::from(list.to_string()))
                                .unwrap()
                        }
                    }
                },
            ),
        )
        .route(
            "/api/v1/namespaces/{name}",
            axum::routing::get(
                |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    let (code, body) = match name.as_str() {
                        "default" => (200, namespace("default", "Active")),
                        "leaving" => (200, namespace("leaving", "Terminating")),
                        "fresh" => (200, namespace("fresh", "Active")),
                        _ => (
                            404,
                            json!({"apiVersion": "v1", "kind": "Status", "status": "Failure",
                                       "reason": "NotFound", "code": 404,
                                       "message": format!("namespaces \"{name}\" not found")}),
                        ),
                    };
                    axum::response::Response::builder()
                        .status(code)
                        .header("content-type", "application/json")
                        .body(Body::from(body.to_string()))
                        .unwrap()
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_fixed_list() {
    let app = app(Arc::new(StaticNamespaces(
        ["default".to_string()].into_iter().collect(),
    )));
    assert_eq!(create(&app, "default").await.0, StatusCode::CREATED);
    let (code, status) = create(&app, "gone").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(status["message"], "namespaces \"gone\" not found");
}

#[tokio::test]
async fn the_main_clusters_namespaces() {
    let url = cluster().await;
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let app = app(ClusterNamespaces::start(client));
    assert_eq!(create(&app, "default").await.0, StatusCode::CREATED);
    let (code, status) = create(&app, "leaving").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{status}");
    assert_eq!(
        status["message"],
        "alerts.pager.k8s.co \"a\" is forbidden: unable to create new content in namespace leaving because it is being terminated"
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );
    let (code, status) = create(&app, "gone").await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{status}");
    // Not in the informer's list: looked up live.
    assert_eq!(create(&app, "fresh").await.0, StatusCode::CREATED);
}
