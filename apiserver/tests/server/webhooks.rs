//! Admission webhooks against local HTTPS servers that record the `AdmissionReview`s they get:
//! a mutating webhook's patch lands in the stored object and the response (its warnings as
//! `Warning` headers), a validating webhook's denial is the answer and nothing is stored, an
//! unreachable webhook refuses the write with `failurePolicy: Fail` and lets it through with
//! `Ignore`, dry runs only reach webhooks without side effects, and plugins run before
//! webhooks.

use std::sync::{Arc, Mutex};

use apiserver::{ApiError, ApiServer, Attributes, MutatingAdmission, Resource, Webhooks};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use base64::Engine;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

type Reviews = Arc<Mutex<Vec<Value>>>;

/// An HTTPS webhook server on a free loopback port: `/mutate` adds a label and a warning,
/// `/deny` refuses, `/allow` allows. Returns its address, its CA (PEM) and what it received.
async fn webhook_server(dir: &std::path::Path) -> (String, String, Reviews) {
    let files = apiserver::serve::certs::self_signed(dir, &["127.0.0.1".into()]).unwrap();
    let ca = std::fs::read_to_string(dir.join(apiserver::serve::certs::GENERATED_CA)).unwrap();
    let tls = apiserver::serve::Tls::new(files, &[]).unwrap();
    let reviews: Reviews = Default::default();
    let record = |reviews: Reviews, answer: fn(&Value) -> Value| {
        move |axum::Json(review): axum::Json<Value>| {
            let reviews = reviews.clone();
            async move {
                let response = answer(&review);
                reviews.lock().unwrap().push(review);
                axum::Json(response)
            }
        }
    };
    fn respond(review: &Value, body: Value) -> Value {
        let mut response = body;
        response["uid"] = review["request"]["uid"].clone();
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
    }
    let app = axum::Router::new()
        .route(
            "/mutate",
            axum::routing::post(record(reviews.clone(), |r| {
                let patch = json!([{"op": "add", "path": "/metadata/labels", "value": {"webhook": "yes"}}]);
                respond(r, json!({
                    "allowed": true,
                    "patchType": "JSONPatch",
                    "patch": base64::engine::general_purpose::STANDARD.encode(patch.to_string()),
                    "warnings": ["labelled by the webhook"],
                }))
            })),
        )
        .route(
            "/deny",
            axum::routing::post(record(reviews.clone(), |r| {
                respond(r, json!({"allowed": false, "status": {"code": 403, "message": "no thanks"}}))
            })),
        )
        .route(
            "/allow",
            axum::routing::post(record(reviews.clone(), |r| respond(r, json!({"allowed": true})))),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(apiserver::serve::serve(
        listener,
        app,
        Some(tls),
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    (format!("https://{addr}"), ca, reviews)
}

fn config(kind: &str, name: &str, url: &str, ca: &str, extra: Value) -> String {
    let mut hook = json!({
        "name": name,
        "clientConfig": {"url": url, "caBundle": base64::engine::general_purpose::STANDARD.encode(ca)},
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["pager.k8s.co"],
                   "apiVersions": ["*"], "resources": ["alerts"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    });
    if let (Value::Object(h), Value::Object(e)) = (&mut hook, extra) {
        h.extend(e);
    }
    serde_json::to_string(&json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
        "metadata": {"name": name}, "webhooks": [hook],
    }))
    .unwrap()
}

/// Marks what a mutating plugin saw first: webhooks run after plugins.
struct Stamp;

impl MutatingAdmission<pager::Alert> for Stamp {
    fn name(&self) -> &str {
        "stamp"
    }
    fn admit(
        &self,
        _: &Attributes<'_>,
        a: &mut pager::Alert,
        _: Option<&pager::Alert>,
    ) -> Result<(), ApiError> {
        a.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert("stamped".into(), "by-plugin".into());
        Ok(())
    }
}

fn app(webhooks: &str) -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
                .mutating(Stamp),
        )
        .admission_webhooks(Webhooks::from_yaml(webhooks).unwrap())
        .build()
        .unwrap()
        .into_router()
}

const BETA: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";

async fn create(app: &axum::Router, name: &str, query: &str) -> (StatusCode, Value, Vec<String>) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{BETA}{query}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"metadata": {"name": name}, "spec": {"content": "c"}}).to_string(),
        ))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        warnings,
    )
}

async fn get(app: &axum::Router, name: &str) -> StatusCode {
    let req = Request::builder()
        .uri(format!("{BETA}/{name}"))
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn mutating_and_validating_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let yaml = [
        config(
            "MutatingWebhookConfiguration",
            "label.example.com",
            &format!("{base}/mutate"),
            &ca,
            json!({}),
        ),
        config(
            "ValidatingWebhookConfiguration",
            "allow.example.com",
            &format!("{base}/allow"),
            &ca,
            json!({}),
        ),
    ]
    .join("\n---\n");
    let app = app(&yaml);
    let (code, created, warnings) = create(&app, "a1", "").await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["labels"]["webhook"], "yes");
    assert_eq!(warnings, ["299 - \"labelled by the webhook\""]);
    let reviews = reviews.lock().unwrap().clone();
    assert_eq!(reviews.len(), 2, "the mutating then the validating webhook");
    let req = &reviews[0]["request"];
    assert_eq!(reviews[0]["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(req["operation"], "CREATE");
    assert_eq!(
        req["kind"],
        json!({"group": "pager.k8s.co", "version": "v1beta1", "kind": "Alert"})
    );
    assert_eq!(
        req["resource"],
        json!({"group": "pager.k8s.co", "version": "v1beta1", "resource": "alerts"})
    );
    assert_eq!(req["namespace"], "default");
    assert_eq!(req["name"], "a1");
    assert_eq!(req["options"]["kind"], "CreateOptions");
    // The plugin ran before the webhook; the validating webhook saw the patched object.
    assert_eq!(
        req["object"]["metadata"]["annotations"]["stamped"],
        "by-plugin"
    );
    assert_eq!(
        reviews[1]["request"]["object"]["metadata"]["labels"]["webhook"],
        "yes"
    );
    assert!(req["uid"].as_str().is_some_and(|u| !u.is_empty()));
}

#[tokio::test]
async fn a_denial_is_the_answer_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let app = app(&config(
        "ValidatingWebhookConfiguration",
        "deny.example.com",
        &format!("{base}/deny"),
        &ca,
        json!({}),
    ));
    let (code, status, _) = create(&app, "a1", "").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"deny.example.com\" denied the request: no thanks"
    );
    assert_eq!(get(&app, "a1").await, StatusCode::NOT_FOUND);
    assert_eq!(reviews.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn failure_policy_decides_for_an_unreachable_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let (_, ca, _) = webhook_server(dir.path()).await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    drop(std::net::TcpListener::bind(closed));
    let url = format!("https://{closed}/allow");
    let fail = app(&config(
        "ValidatingWebhookConfiguration",
        "down.example.com",
        &url,
        &ca,
        json!({"failurePolicy": "Fail"}),
    ));
    let (code, status, _) = create(&fail, "a1", "").await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("failed calling webhook \"down.example.com\""),
        "{status}"
    );
    assert_eq!(get(&fail, "a1").await, StatusCode::NOT_FOUND);
    let ignore = app(&config(
        "ValidatingWebhookConfiguration",
        "down.example.com",
        &url,
        &ca,
        json!({"failurePolicy": "Ignore"}),
    ));
    let (code, _, _) = create(&ignore, "a1", "").await;
    assert_eq!(code, StatusCode::CREATED);
}

#[tokio::test]
async fn dry_runs_only_reach_webhooks_without_side_effects() {
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let safe = app(&config(
        "ValidatingWebhookConfiguration",
        "safe.example.com",
        &format!("{base}/allow"),
        &ca,
        json!({"sideEffects": "None"}),
    ));
    let (code, _, _) = create(&safe, "a1", "?dryRun=All").await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(reviews.lock().unwrap()[0]["request"]["dryRun"], true);
    let effects = app(&config(
        "ValidatingWebhookConfiguration",
        "effects.example.com",
        &format!("{base}/allow"),
        &ca,
        json!({"sideEffects": "Some"}),
    ));
    let (code, status, _) = create(&effects, "a1", "?dryRun=All").await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"effects.example.com\" does not support dry run"
    );
    assert_eq!(
        reviews.lock().unwrap().len(),
        1,
        "the webhook with side effects was not called"
    );
    // Without a dry run it is called.
    let (code, _, _) = create(&effects, "a2", "").await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(reviews.lock().unwrap().len(), 2);
}

#[test]
fn unusable_configurations_are_refused_when_read() {
    let no_url = r#"{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "x"}, "webhooks": [{"name": "x.example.com", "clientConfig": {},
        "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}"#;
    assert!(
        Webhooks::from_yaml(no_url)
            .unwrap_err()
            .contains("clientConfig.url is required")
    );
    let no_ca = r#"{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "x"}, "webhooks": [{"name": "x.example.com", "clientConfig": {"url": "https://h/"},
        "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}"#;
    assert!(
        Webhooks::from_yaml(no_ca)
            .unwrap_err()
            .contains("caBundle is required")
    );
    assert!(
        Webhooks::from_yaml("kind: Pod")
            .unwrap_err()
            .contains("neither")
    );
}

#[tokio::test]
async fn rules_and_object_selectors_choose_what_a_webhook_sees() {
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let yaml = [
        // Only deletes: a create never reaches it.
        config("ValidatingWebhookConfiguration", "deletes.example.com", &format!("{base}/deny"), &ca,
            json!({"rules": [{"operations": ["DELETE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}]})),
        // Only the status subresource.
        config("ValidatingWebhookConfiguration", "status.example.com", &format!("{base}/deny"), &ca,
            json!({"rules": [{"operations": ["*"], "apiGroups": ["pager.k8s.co"], "apiVersions": ["v1beta1"], "resources": ["alerts/status"]}]})),
        // Only objects labelled team=ops.
        config("ValidatingWebhookConfiguration", "ops.example.com", &format!("{base}/deny"), &ca,
            json!({"objectSelector": {"matchLabels": {"team": "ops"}}})),
    ]
    .join("\n---\n");
    let app = app(&yaml);
    let (code, created, _) = create(&app, "a1", "").await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(reviews.lock().unwrap().is_empty());
    // A labelled object meets the ops webhook.
    let req = Request::builder()
        .method(Method::POST)
        .uri(BETA)
        .header("content-type", "application/json")
        .body(Body::from(json!({"metadata": {"name": "o1", "labels": {"team": "ops"}}, "spec": {"content": "c"}}).to_string()))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A status write meets the status webhook; a delete the deletes one.
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(format!("{BETA}/a1/status"))
        .header("content-type", "application/merge-patch+json")
        .body(Body::from(json!({"status": {"sent": true}}).to_string()))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(format!("{BETA}/a1"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let seen: Vec<(String, Option<String>)> = reviews
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["request"]["operation"].as_str().unwrap().to_string(),
                r["request"]["subResource"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("CREATE".to_string(), None),
            ("UPDATE".to_string(), Some("status".to_string())),
            ("DELETE".to_string(), None)
        ]
    );
    assert_eq!(get(&app, "a1").await, StatusCode::OK);
}

/// Who asks reaches admission: an authenticated user is the review's `userInfo`.
#[tokio::test]
async fn the_authenticated_user_is_the_reviews_user_info() {
    use apiserver::auth::{
        AlwaysAllow, Authentication, Guard, TokenAuthenticator, TokenFuture, User,
    };
    struct Tokens;
    impl TokenAuthenticator for Tokens {
        fn authenticate<'a>(&'a self, token: &'a str) -> TokenFuture<'a> {
            Box::pin(async move {
                Ok((token == "alice-token").then(|| User {
                    name: "alice".into(),
                    uid: "u-1".into(),
                    groups: vec!["ops".into(), "system:authenticated".into()],
                    extra: Default::default(),
                }))
            })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let yaml = config(
        "ValidatingWebhookConfiguration",
        "allow.example.com",
        &format!("{base}/allow"),
        &ca,
        json!({}),
    );
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS),
        )
        .admission_webhooks(Webhooks::from_yaml(&yaml).unwrap())
        .guard(Guard::new(
            Authentication {
                tokens: Some(Arc::new(Tokens)),
                ..Default::default()
            },
            AlwaysAllow,
        ))
        .build()
        .unwrap()
        .into_router();
    let req = Request::builder()
        .method(Method::POST)
        .uri(BETA)
        .header("content-type", "application/json")
        .header("authorization", "Bearer alice-token")
        .body(Body::from(
            json!({"metadata": {"name": "u1"}, "spec": {"content": "c"}}).to_string(),
        ))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::CREATED
    );
    let user = reviews.lock().unwrap()[0]["request"]["userInfo"].clone();
    assert_eq!(user["username"], "alice");
    assert_eq!(user["uid"], "u-1");
    assert_eq!(user["groups"], json!(["ops", "system:authenticated"]));
}

/// A webhook's `namespaceSelector` sees the labels the namespace source knows.
#[tokio::test]
async fn namespace_selectors_see_the_namespaces_labels() {
    use apiserver::{Namespace, NamespaceSource};
    struct Labelled;
    impl NamespaceSource for Labelled {
        fn lookup<'a>(
            &'a self,
            name: &'a str,
        ) -> futures::future::BoxFuture<'a, Result<Option<Namespace>, ApiError>> {
            Box::pin(async move {
                Ok(Some(Namespace {
                    terminating: false,
                    labels: if name == "prod" {
                        [("env".to_string(), "prod".to_string())].into()
                    } else {
                        Default::default()
                    },
                }))
            })
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, _) = webhook_server(dir.path()).await;
    let yaml = config(
        "ValidatingWebhookConfiguration",
        "prod.example.com",
        &format!("{base}/deny"),
        &ca,
        json!({"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}}),
    );
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS),
        )
        .admission_webhooks(Webhooks::from_yaml(&yaml).unwrap())
        .namespaces(Arc::new(Labelled))
        .build()
        .unwrap()
        .into_router();
    let post = |ns: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/apis/pager.k8s.co/v1beta1/namespaces/{ns}/alerts"))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"metadata": {"name": "a"}, "spec": {"content": "c"}}).to_string(),
            ))
            .unwrap()
    };
    assert_eq!(
        app.clone().oneshot(post("dev")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.clone().oneshot(post("prod")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

/// `matchPolicy: Equivalent` (the default): a webhook whose rules name v1alpha1 sees a write
/// made through v1beta1, converted to v1alpha1, and its patch lands; `Exact` does not see it.
#[tokio::test]
async fn equivalent_match_policy_converts_for_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let (base, ca, reviews) = webhook_server(dir.path()).await;
    let alpha_only = |policy: &str| {
        config(
            "MutatingWebhookConfiguration",
            "label.example.com",
            &format!("{base}/mutate"),
            &ca,
            json!({"matchPolicy": policy,
                   "rules": [{"operations": ["CREATE"], "apiGroups": ["pager.k8s.co"],
                              "apiVersions": ["v1alpha1"], "resources": ["alerts"]}]}),
        )
    };
    let both = |yaml: &str| {
        ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
            .resource(
                Resource::<pager::Alert>::hub()
                    .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
                    .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS),
            )
            .admission_webhooks(Webhooks::from_yaml(yaml).unwrap())
            .build()
            .unwrap()
            .into_router()
    };
    let app = both(&alpha_only("Equivalent"));
    let (code, created, _) = create(&app, "e1", "").await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["labels"]["webhook"], "yes");
    let review = reviews.lock().unwrap()[0].clone();
    let req = &review["request"];
    assert_eq!(req["kind"]["version"], "v1alpha1");
    assert_eq!(req["requestKind"]["version"], "v1beta1");
    assert_eq!(req["object"]["apiVersion"], "pager.k8s.co/v1alpha1");
    assert_eq!(req["object"]["spec"]["message"], "c");
    let exact = both(&alpha_only("Exact"));
    let (code, created, _) = create(&exact, "e2", "").await;
    assert_eq!(code, StatusCode::CREATED);
    assert!(created["metadata"]["labels"].get("webhook").is_none());
    assert_eq!(reviews.lock().unwrap().len(), 1);
}
