//! The guard in the server: authorization runs within the in-flight limits, always-allowed
//! paths never reach resources, and refusals carry kube-apiserver's headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apiserver::auth::{
    Attributes, AuthenticatedOnly, Authentication, Authorizer, Decision, DecisionFuture, Guard,
};
use apiserver::{ApiServer, Resource};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

const ALERTS: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

fn anonymous() -> Authentication {
    Authentication {
        anonymous: true,
        ..Authentication::default()
    }
}

fn server(guard: Guard, max_requests_inflight: usize) -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<pager::v1alpha1::Alert>::new(
            pager::v1alpha1::OPENAPI_SCHEMAS,
        ))
        .guard(guard)
        .max_requests_inflight(max_requests_inflight)
        .build()
        .unwrap()
        .into_router()
}

/// An authorizer as slow as a `SubjectAccessReview` to a busy cluster, counting the decisions it
/// is making at once.
#[derive(Clone, Default)]
struct Slow {
    deciding: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl Authorizer for Slow {
    fn authorize<'a>(&'a self, _: Attributes<'a>) -> DecisionFuture<'a> {
        Box::pin(async move {
            let now = self.deciding.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.deciding.fetch_sub(1, Ordering::SeqCst);
            Decision::Allow
        })
    }
}

/// As kube-apiserver's `WithAuthorization` runs inside `WithMaxInFlightLimit`, a request beyond
/// the limits is a 429 without being authorized: no more authorizations (reviews) run at once
/// than the limits let requests in.
#[tokio::test]
async fn authorization_runs_within_the_inflight_limits() {
    let slow = Slow::default();
    let app = server(Guard::new(anonymous(), slow.clone()), 2);
    let requests = (0..10).map(|_| {
        let req = Request::get(ALERTS).body(Body::empty()).unwrap();
        app.clone().oneshot(req)
    });
    let answers: Vec<_> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // Every error answer, the limits' 429s too, is `nosniff` (Go's `RespondWithError`).
    assert!(
        answers
            .iter()
            .filter(|r| !r.status().is_success())
            .all(|r| r.headers()["x-content-type-options"] == "nosniff")
    );
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    assert_eq!(
        (count(StatusCode::OK), count(StatusCode::TOO_MANY_REQUESTS)),
        (2, 8),
        "{statuses:?}"
    );
    assert_eq!(slow.most_at_once.load(Ordering::SeqCst), 2);
}

/// An always-allowed pattern covering resource paths allows the non-resource paths below it
/// (discovery), never the resources: anonymous requests to them are still authorized.
#[tokio::test]
async fn always_allowed_paths_do_not_bypass_authorization_of_resources() {
    for pattern in ["/apis/*", "/apis*", "*"] {
        let mut guard = Guard::new(anonymous(), AuthenticatedOnly);
        guard.always_allow_paths = vec![pattern.to_string()];
        let app = server(guard, 0);
        let create = Request::post(ALERTS)
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
                       "metadata": {"name": "a"}, "spec": {"content": "c"}})
                .to_string(),
            ))
            .unwrap();
        let resp = app.clone().oneshot(create).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{pattern}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        for method in [Method::GET, Method::DELETE] {
            let req = Request::builder()
                .method(method)
                .uri(ALERTS)
                .body(Body::empty())
                .unwrap();
            let status = app.clone().oneshot(req).await.unwrap().status();
            assert_eq!(status, StatusCode::FORBIDDEN, "{pattern}");
        }
        let discovery = Request::get("/apis/pager.k8s.co")
            .body(Body::empty())
            .unwrap();
        let status = app.clone().oneshot(discovery).await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "{pattern}");
    }
}
