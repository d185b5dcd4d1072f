//! Hardened input: metadata validated by the shared Kubernetes rules (labels, annotations,
//! names, generateName, namespaces — in bodies and in request paths), limits on requests in
//! flight and open watches (429), request timeouts (504), and watches whose clients stop reading
//! (ended, their memory freed, writers never blocked) — the last over real TCP connections.

use std::time::{Duration, Instant};

use apiserver::limits::Load;
use apiserver::{ApiServer, ApiServerBuilder, Resource};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, StatusCode};
use pager::v1alpha1::Alert;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const BASE: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn server(configure: impl FnOnce(ApiServerBuilder) -> ApiServerBuilder) -> (axum::Router, Load) {
    let builder =
        ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
            .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS));
    let server = configure(builder).build().unwrap();
    let load = server.load();
    (server.into_router(), load)
}

fn app() -> axum::Router {
    server(|b| b).0
}

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn send(app: &axum::Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply {
        status,
        headers,
        body,
    }
}

async fn call(app: &axum::Router, method: Method, uri: &str, ct: &str, body: &str) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if !ct.is_empty() {
        req = req.header("content-type", ct);
    }
    send(app, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn get(app: &axum::Router, uri: &str) -> Reply {
    call(app, Method::GET, uri, "", "").await
}

async fn post(app: &axum::Router, uri: &str, body: &Value) -> Reply {
    call(
        app,
        Method::POST,
        uri,
        "application/json",
        &body.to_string(),
    )
    .await
}

fn alert(metadata: Value) -> Value {
    json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": metadata, "spec": {"message": "m"}})
}

fn assert_status(r: &Reply, code: u16, reason: &str) {
    assert_eq!(r.status.as_u16(), code, "{}", r.body);
    assert_eq!(r.body["kind"], "Status", "{}", r.body);
    assert_eq!(r.body["apiVersion"], "v1", "{}", r.body);
    assert_eq!(r.body["status"], "Failure", "{}", r.body);
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert_eq!(r.body["reason"], reason, "{}", r.body);
}

/// The causes of a 422 as (field, reason, message).
fn causes(r: &Reply) -> Vec<(String, String, String)> {
    assert_status(r, 422, "Invalid");
    r.body["details"]["causes"]
        .as_array()
        .unwrap_or_else(|| panic!("no causes: {}", r.body))
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_label_value_with_a_comma_is_invalid() {
    let app = app();
    let r = post(
        &app,
        BASE,
        &alert(json!({"name": "a1", "labels": {"team": "a,b"}})),
    )
    .await;
    let expected = format!("Invalid value: \"a,b\": {LABEL_VALUE_MSG}");
    assert_eq!(
        causes(&r),
        [(
            "metadata.labels".to_string(),
            "FieldValueInvalid".to_string(),
            expected.clone()
        )]
    );
    assert_eq!(
        r.body["message"],
        format!("Alert.pager.k8s.co \"a1\" is invalid: metadata.labels: {expected}")
    );
    assert_eq!(r.body["details"]["name"], "a1");
    assert_eq!(r.body["details"]["kind"], "Alert");
    assert_status(&get(&app, &format!("{BASE}/a1")).await, 404, "NotFound");
}

#[tokio::test]
async fn invalid_metadata_on_create_names_the_field() {
    let app = app();
    let long_value = "v".repeat(64);
    let big = "x".repeat(300 * 1024);
    let name254 = "a".repeat(254);
    // metadata, field, reason, a piece of the message
    let cases: Vec<(Value, &str, &str, &str)> = vec![
        (
            json!({"name": "a", "labels": {"a b": "x"}}),
            "metadata.labels",
            "FieldValueInvalid",
            "Invalid value: \"a b\": name part must consist of alphanumeric characters",
        ),
        (
            json!({"name": "a", "labels": {"Example.com/x": "x"}}),
            "metadata.labels",
            "FieldValueInvalid",
            "prefix part a lowercase RFC 1123 subdomain",
        ),
        (
            json!({"name": "a", "labels": {"x": long_value}}),
            "metadata.labels",
            "FieldValueInvalid",
            "must be no more than 63 characters",
        ),
        (
            json!({"name": "a", "annotations": {"a,b": "x"}}),
            "metadata.annotations",
            "FieldValueInvalid",
            "Invalid value: \"a,b\": name part must consist",
        ),
        (
            json!({"name": "a", "annotations": {"big": big}}),
            "metadata.annotations",
            "FieldValueTooLong",
            "Too long: may not be more than 262144 bytes",
        ),
        (
            json!({"name": "Bad_Name"}),
            "metadata.name",
            "FieldValueInvalid",
            "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of",
        ),
        (
            json!({"name": name254}),
            "metadata.name",
            "FieldValueInvalid",
            "must be no more than 253 characters",
        ),
        (
            json!({"generateName": "Bad_"}),
            "metadata.generateName",
            "FieldValueInvalid",
            "Invalid value: \"Bad_\": a lowercase RFC 1123 subdomain",
        ),
        (
            json!({"name": "a", "finalizers": ["not a finalizer"]}),
            "metadata.finalizers",
            "FieldValueInvalid",
            "Invalid value: \"not a finalizer\"",
        ),
        (
            json!({"name": "a", "finalizers": ["orphan", "foregroundDeletion"]}),
            "metadata.finalizers",
            "FieldValueInvalid",
            "finalizer orphan and foregroundDeletion cannot be both set",
        ),
        (
            json!({"name": "a", "ownerReferences": [{}]}),
            "metadata.ownerReferences.uid",
            "FieldValueInvalid",
            "Invalid value: \"\": must not be empty",
        ),
        (
            json!({"name": "a", "ownerReferences": [{"apiVersion": "apps/", "kind": "D", "name": "d", "uid": "1"}]}),
            "metadata.ownerReferences.apiVersion",
            "FieldValueInvalid",
            "version must not be empty",
        ),
        (
            // Go's `ParseGroupVersion` refuses two `/`: no version at all.
            json!({"name": "a", "ownerReferences": [{"apiVersion": "a/b/c", "kind": "D", "name": "d", "uid": "1"}]}),
            "metadata.ownerReferences.apiVersion",
            "FieldValueInvalid",
            "Invalid value: \"a/b/c\": version must not be empty",
        ),
        (
            json!({"name": "a", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d1", "uid": "1", "controller": true},
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d2", "uid": "2", "controller": true},
            ]}),
            "metadata.ownerReferences",
            "FieldValueInvalid",
            "Only one reference can have Controller set to true. Found \"true\" in references for Deployment/d1 and Deployment/d2",
        ),
    ];
    for (metadata, field, reason, message) in cases {
        let r = post(&app, BASE, &alert(metadata.clone())).await;
        let found = causes(&r);
        assert!(
            found
                .iter()
                .any(|(f, re, m)| f == field && re == reason && m.contains(message)),
            "{metadata}: {found:?}"
        );
    }
    let list = get(&app, BASE).await;
    assert_eq!(list.body["items"], json!([]), "nothing was stored");

    // What the rules allow.
    let at_limit = "x".repeat(256 * 1024 - "big".len());
    let prefix253 = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    let name253 = prefix253.clone();
    for metadata in [
        json!({"name": "ok1", "annotations": {"big": at_limit}}),
        json!({"name": "ok2", "labels": {"empty": "", "x": "Y_1.z-2"}}),
        json!({"name": "ok3", "labels": {format!("{prefix253}/{}", "n".repeat(63)): "v"}}),
        json!({"name": name253}),
        json!({"name": "ok4", "annotations": {"Example.COM/Key": "any thing, at all: é"}}),
        json!({"generateName": "gen-"}),
        json!({"name": "ok5", "finalizers": ["example.com/hold"]}),
        json!({"name": "ok6", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u1", "controller": true},
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "u2"},
        ]}),
    ] {
        let r = post(&app, BASE, &alert(metadata.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{metadata}: {}", r.body);
    }
}

/// A JSON array where the kind has a struct is a 400 naming the field, as Go's decoder refuses
/// it — on create, on update, through every patch type and server-side apply — and nothing is
/// stored (serde's derived structs would otherwise take the values by position).
#[tokio::test]
async fn an_array_where_a_struct_belongs_is_refused() {
    let app = app();
    let with_spec = |name: &str, spec: Value| {
        json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
               "metadata": {"name": name}, "spec": spec})
    };
    let r = post(&app, BASE, &with_spec("arr", json!(["m", "high"]))).await;
    assert_status(&r, 400, "BadRequest");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains("spec") && message.contains("sequence"),
        "{message}"
    );
    assert_eq!(
        get(&app, &format!("{BASE}/arr")).await.status,
        StatusCode::NOT_FOUND
    );

    let created = post(&app, BASE, &with_spec("a2", json!({"message": "m"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uri = format!("{BASE}/a2");
    let mut replaced = with_spec("a2", json!(["x", "low"]));
    replaced["metadata"]["resourceVersion"] = created.body["metadata"]["resourceVersion"].clone();
    let attempts = [
        (Method::PUT, "application/json", replaced.to_string()),
        (
            Method::PATCH,
            "application/merge-patch+json",
            r#"{"spec": ["x", "low"]}"#.to_string(),
        ),
        (
            Method::PATCH,
            "application/json-patch+json",
            r#"[{"op": "replace", "path": "/spec", "value": ["x", "low"]}]"#.to_string(),
        ),
        (
            Method::PATCH,
            "application/strategic-merge-patch+json",
            r#"{"spec": ["x", "low"]}"#.to_string(),
        ),
    ];
    // A body that does not decode is a 400; a patch whose result does not is Go's 422 on the
    // field `patch`, with the patched object as the value.
    let refused = |r: &Reply, ct: &str| {
        let (code, reason) = if ct == "application/json" {
            (400, "BadRequest")
        } else {
            (422, "Invalid")
        };
        assert_status(r, code, reason);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains("spec: invalid type: sequence"),
            "{ct}: {message}"
        );
    };
    for (method, ct, body) in attempts {
        refused(&call(&app, method, &uri, ct, &body).await, ct);
    }
    // The status subresource, and server-side apply creating or changing an object.
    let r = call(
        &app,
        Method::PATCH,
        &format!("{uri}/status"),
        "application/merge-patch+json",
        r#"{"status": [true]}"#,
    )
    .await;
    assert_status(&r, 422, "Invalid");
    for name in ["a2", "a3"] {
        let r = call(
            &app,
            Method::PATCH,
            &format!("{BASE}/{name}?fieldManager=m"),
            "application/apply-patch+yaml",
            &format!(
                "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: {name}\nspec: [first, high]\n"
            ),
        )
        .await;
        // structured-merge-diff's words, a 400 (see `check_fits_schema`).
        assert_status(&r, 400, "BadRequest");
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains(".spec: expected map, got a list"),
            "{message}"
        );
    }
    assert_eq!(
        get(&app, &format!("{BASE}/a3")).await.status,
        StatusCode::NOT_FOUND
    );
    let stored = get(&app, &uri).await;
    assert_eq!(stored.body["spec"], created.body["spec"]);
    assert_eq!(
        stored.body["metadata"]["resourceVersion"],
        created.body["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn updates_and_patches_are_validated_too() {
    let app = app();
    let created = post(
        &app,
        BASE,
        &alert(json!({"name": "a1", "labels": {"team": "ops"}})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uri = format!("{BASE}/a1");

    let r = call(
        &app,
        Method::PATCH,
        &uri,
        "application/merge-patch+json",
        r#"{"metadata": {"labels": {"team": "a,b"}}}"#,
    )
    .await;
    assert_eq!(causes(&r)[0].0, "metadata.labels");
    let r = call(
        &app,
        Method::PATCH,
        &uri,
        "application/json-patch+json",
        r#"[{"op": "add", "path": "/metadata/labels/bad key", "value": "x"}]"#,
    )
    .await;
    assert_eq!(causes(&r)[0].0, "metadata.labels");
    let r = call(
        &app,
        Method::PATCH,
        &uri,
        "application/strategic-merge-patch+json",
        &json!({"metadata": {"annotations": {"k": "x".repeat(300 * 1024)}}}).to_string(),
    )
    .await;
    assert_eq!(causes(&r)[0].1, "FieldValueTooLong");

    let mut replaced = created.body.clone();
    replaced["metadata"]["annotations"] = json!({"a,b": "x"});
    let r = call(
        &app,
        Method::PUT,
        &uri,
        "application/json",
        &replaced.to_string(),
    )
    .await;
    assert_eq!(causes(&r)[0].0, "metadata.annotations");

    let now = get(&app, &uri).await;
    assert_eq!(now.body, created.body, "nothing changed");
}

/// Found by tests/fuzz.rs: a JSON patch copying a value into itself doubles it with every
/// `copy`; forty of them asked for terabytes. Copies add at most 3 MiB all together, as
/// kube-apiserver's `JSONPatchMaxCopyBytes` allows (evanphx/json-patch's error, a 422).
#[tokio::test]
async fn json_patch_copies_are_bounded() {
    let app = app();
    let created = post(&app, BASE, &alert(json!({"name": "a1"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uri = format!("{BASE}/a1");
    let ops: Vec<Value> = (0..40)
        .map(|i| json!({"op": "copy", "from": "/metadata", "path": format!("/metadata/x{i}")}))
        .collect();
    let r = call(
        &app,
        Method::PATCH,
        &uri,
        "application/json-patch+json",
        &Value::Array(ops).to_string(),
    )
    .await;
    assert_status(&r, 422, "Invalid");
    let cause = r.body["details"]["causes"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        cause.starts_with("Unable to complete the copy, the accumulated size increase of copy is ")
            && cause.ends_with(", exceeding the limit 3145728"),
        "{}",
        r.body
    );
    assert_eq!(get(&app, &uri).await.body, created.body, "nothing changed");

    // Copies within the bound are applied.
    let r = call(
        &app,
        Method::PATCH,
        &uri,
        "application/json-patch+json",
        r#"[{"op": "add", "path": "/metadata/labels", "value": {"a": "x"}},
            {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/b"}]"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["metadata"]["labels"], json!({"a": "x", "b": "x"}));
}

#[tokio::test]
async fn namespaces_and_names_in_paths() {
    let app = app();
    let bad_ns = "/apis/pager.k8s.co/v1alpha1/namespaces/Bad_NS/alerts";
    // Nothing can be created in a namespace that is not a DNS-1123 label (kube-apiserver's
    // metadata validation; the body's namespace is the URL's).
    let r = post(&app, bad_ns, &alert(json!({"name": "a1"}))).await;
    let found = causes(&r);
    assert_eq!(found[0].0, "metadata.namespace", "{found:?}");
    assert!(
        found[0]
            .2
            .starts_with("Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of")
    );
    let long_ns = format!(
        "/apis/pager.k8s.co/v1alpha1/namespaces/{}/alerts",
        "n".repeat(64)
    );
    assert_eq!(
        causes(&post(&app, &long_ns, &alert(json!({"name": "a1"}))).await)[0].0,
        "metadata.namespace"
    );
    let dotted = "/apis/pager.k8s.co/v1alpha1/namespaces/a.b/alerts";
    let r = post(&app, dotted, &alert(json!({"name": "a1"}))).await;
    assert!(
        causes(&r)[0].2.ends_with("must not contain dots"),
        "{}",
        r.body
    );
    // ... so reading there finds nothing, as in kube-apiserver.
    assert_status(&get(&app, &format!("{bad_ns}/a1")).await, 404, "NotFound");
    let list = get(&app, bad_ns).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"], json!([]));

    // A name in a path that cannot be one path segment: 400, as Go's storage key functions.
    // The path is read decoded (as Go's `URL.Path`): `%2E%2E` is `..`, and `a%2Fb` two segments.
    post(&app, BASE, &alert(json!({"name": "a1"}))).await;
    assert_status(&get(&app, &format!("{BASE}/a%2Fb")).await, 404, "NotFound");
    for (name, decoded, why) in [
        ("..", "..", "may not be '..'"),
        (".", ".", "may not be '.'"),
        ("%2E%2E", "..", "may not be '..'"),
        ("a%2525", "a%25", "may not contain '%'"),
    ] {
        let uri = format!("{BASE}/{name}");
        let expected = format!("Name parameter invalid: \"{decoded}\": {why}");
        for (method, ct, body) in [
            (Method::GET, "", String::new()),
            (Method::DELETE, "", String::new()),
            (
                Method::PUT,
                "application/json",
                alert(json!({"name": decoded})).to_string(),
            ),
            (
                Method::PATCH,
                "application/merge-patch+json",
                "{}".to_string(),
            ),
        ] {
            let r = call(&app, method.clone(), &uri, ct, &body).await;
            assert_status(&r, 400, "BadRequest");
            assert_eq!(r.body["message"], expected, "{method} {uri}");
        }
    }
    // A name that is a valid segment but not a valid name is simply not there.
    assert_status(
        &get(&app, &format!("{BASE}/Bad_Name")).await,
        404,
        "NotFound",
    );
    assert_eq!(
        get(&app, &format!("{BASE}/a1")).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/// A request whose body never ends until the returned sender is dropped: it stays in flight.
fn held(
    method: Method,
    uri: &str,
) -> (
    Request<Body>,
    futures::channel::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let (tx, rx) = futures::channel::mpsc::channel(1);
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from_stream(rx))
        .unwrap();
    (req, tx)
}

async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn assert_too_many(r: &Reply, started: Instant) {
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused at once, not queued"
    );
    assert_status(r, 429, "TooManyRequests");
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(
        r.body["message"],
        "Too many requests, please try again later."
    );
    assert_eq!(r.body["details"]["retryAfterSeconds"], 1);
}

#[tokio::test]
async fn requests_beyond_the_inflight_limits_are_429_at_once() {
    let (app, load) = server(|b| b.max_requests_inflight(2).max_mutating_requests_inflight(1));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (req, tx) = held(Method::GET, BASE);
        readers.push((tokio::spawn(app.clone().oneshot(req)), tx));
    }
    eventually("two reads in flight", Duration::from_secs(5), || {
        load.readonly_inflight() == 2
    })
    .await;

    let started = Instant::now();
    assert_too_many(&get(&app, BASE).await, started);
    // Writes have a pool of their own.
    let r = post(&app, BASE, &alert(json!({"name": "w1"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Health probes are exempt.
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/readyz").await.status, StatusCode::OK);

    let (req, writer) = held(Method::POST, BASE);
    let held_write = tokio::spawn(app.clone().oneshot(req));
    eventually("one write in flight", Duration::from_secs(5), || {
        load.mutating_inflight() == 1
    })
    .await;
    let started = Instant::now();
    assert_too_many(
        &post(&app, BASE, &alert(json!({"name": "w2"}))).await,
        started,
    );
    let started = Instant::now();
    assert_too_many(
        &call(&app, Method::DELETE, &format!("{BASE}/w1"), "", "").await,
        started,
    );

    // Released: the held requests finish, and the next ones are served.
    for (handle, tx) in readers {
        drop(tx);
        assert_eq!(handle.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    drop(writer);
    // An empty body: refused by the handler, not by the limit.
    assert_eq!(
        held_write.await.unwrap().unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!((load.readonly_inflight(), load.mutating_inflight()), (0, 0));
    assert_eq!(get(&app, BASE).await.status, StatusCode::OK);
    let r = post(&app, BASE, &alert(json!({"name": "w2"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn slow_requests_are_a_504_timeout() {
    let (app, load) = server(|b| b.request_timeout(Duration::from_millis(300)));
    let (req, _writer) = held(Method::POST, BASE);
    let started = Instant::now();
    let r = send(&app, req).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_status(&r, 504, "Timeout");
    assert_eq!(
        r.body["message"],
        "Timeout: request did not complete within requested timeout - context deadline exceeded"
    );
    assert_eq!(
        load.mutating_inflight(),
        0,
        "the abandoned request gave its slot back"
    );

    // A client's `?timeout=` shortens it (kubectl --request-timeout); a bad one is a 400.
    let (app, _) = server(|b| b.request_timeout(Duration::from_secs(30)));
    let (req, _reader) = held(Method::GET, &format!("{BASE}?timeout=200ms"));
    let started = Instant::now();
    assert_status(&send(&app, req).await, 504, "Timeout");
    assert!(started.elapsed() < Duration::from_secs(3));
    let r = get(&app, &format!("{BASE}?timeout=soon")).await;
    assert_status(&r, 400, "BadRequest");
    assert_eq!(
        r.body["message"],
        "invalid timeout specified in the request URL - time: invalid duration \"soon\""
    );
    assert_eq!(
        get(&app, &format!("{BASE}?timeout=10s")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, BASE, &alert(json!({"name": "a1"}))).await.status,
        StatusCode::CREATED
    );
}

/// The next watch event of a response body (JSON lines), within `within`.
async fn next_event(
    body: &mut (impl futures::Stream<Item = Result<Bytes, axum::Error>> + Unpin),
    buf: &mut Vec<u8>,
    within: Duration,
) -> Value {
    loop {
        if let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            return serde_json::from_slice(&line).unwrap();
        }
        let chunk = tokio::time::timeout(within, body.next())
            .await
            .expect("an event in time")
            .expect("the stream is open")
            .unwrap();
        buf.extend_from_slice(&chunk);
    }
}

#[tokio::test]
async fn watches_are_long_running_and_limited() {
    let (app, load) = server(|b| {
        b.request_timeout(Duration::from_millis(200))
            .max_watches(1)
            .max_requests_inflight(1)
    });
    let watch_uri = format!("{BASE}?watch=true&timeoutSeconds=30");
    let first = app
        .clone()
        .oneshot(Request::get(&watch_uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(load.watches(), 1);
    // A watch takes no read slot, and outlives the request timeout.
    assert_eq!(load.readonly_inflight(), 0);
    assert_eq!(get(&app, BASE).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = post(&app, BASE, &alert(json!({"name": "late"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut body = first.into_body().into_data_stream();
    let mut buf = Vec::new();
    let event = next_event(&mut body, &mut buf, Duration::from_secs(5)).await;
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "late");

    let started = Instant::now();
    let r = get(&app, &watch_uri).await;
    assert_too_many(&r, started);

    // The slot is the watch's until its stream ends: here its client goes away.
    drop(body);
    eventually("the watch ended", Duration::from_secs(5), || {
        load.watches() == 0
    })
    .await;
    let again = app
        .clone()
        .oneshot(Request::get(&watch_uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(load.watches(), 1);
    // A watch refused before it starts gives its slot back at once.
    drop(again);
    eventually("the watch ended", Duration::from_secs(5), || {
        load.watches() == 0
    })
    .await;
    let r = get(&app, &format!("{BASE}?watch=true&resourceVersion=abc")).await;
    assert_status(&r, 400, "BadRequest");
    assert_eq!(load.watches(), 0);
}

// ---------------------------------------------------------------------------------------------
// Watches whose clients stop reading, over TCP
// ---------------------------------------------------------------------------------------------

/// Serves `app` on a loopback port.
async fn listen(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Opens a watch over TCP with a small receive buffer, and never reads it.
async fn stalled_watch(addr: std::net::SocketAddr, timeout_seconds: u64) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!(
        "GET {BASE}?watch=true&timeoutSeconds={timeout_seconds} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Writes `n` large alerts; every write must be answered promptly.
async fn write_large_alerts(app: &axum::Router, n: usize) {
    let message = "m".repeat(100 * 1024);
    for i in 0..n {
        let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": format!("big-{i}")}, "spec": {"message": message}});
        let started = Instant::now();
        let r = post(app, BASE, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "write {i} took {:?}: a watcher blocked it",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_whose_client_stops_reading_ends_and_never_blocks_writers() {
    let (app, load) = server(|b| b.watch_send_timeout(Duration::from_millis(500)));
    let addr = listen(app.clone()).await;
    let mut stalled = stalled_watch(addr, 600).await;
    eventually("the watch is open", Duration::from_secs(5), || {
        load.watches() == 1
    })
    .await;
    // Quiet is not stalled: an idle watch outlives the send timeout.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(load.watches(), 1);

    // ~20 MiB of events: far more than the watch's queue, the connection's buffers and the
    // socket's; the client reads none of it.
    write_large_alerts(&app, 200).await;

    // The watch gave up on its client long before its 600 s: its subscription and its slot
    // are gone.
    eventually("the stalled watch ended", Duration::from_secs(10), || {
        load.watches() == 0
    })
    .await;

    // A client that finally reads gets what the connection had taken, then the end of the
    // response, as kube-apiserver ends a watch it dropped: it re-watches from its last event.
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut chunk = [0u8; 65536];
        while !received.ends_with(b"\r\n0\r\n\r\n") {
            let n = stalled.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection closed before the response ended");
            received.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the response ends");
    assert!(
        received.starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&received[..received.len().min(200)])
    );
    let events = received
        .windows(17)
        .filter(|w| w == b"{\"type\":\"ADDED\",")
        .count();
    assert!(
        events < 200,
        "events were dropped, not buffered without bound ({events})"
    );

    // The server is fine: a new watch sees everything, from the beginning.
    let first = app
        .clone()
        .oneshot(
            Request::get(format!("{BASE}?watch=true&timeoutSeconds=5"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = first.into_body().into_data_stream();
    let mut buf = Vec::new();
    for _ in 0..200 {
        let event = next_event(&mut body, &mut buf, Duration::from_secs(5)).await;
        assert_eq!(event["type"], "ADDED");
    }
}

/// Over HTTP/2 too, a watch given up on ends its stream cleanly (END_STREAM, as kube-apiserver's
/// handler returns): never a reset, which client-go reports as a decoding error and
/// kube-aggregator's proxy as an aborted response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_http2_watch_ends_its_stream_cleanly() {
    use http_body_util::{BodyExt, Empty};
    let (app, load) = server(|b| b.watch_send_timeout(Duration::from_millis(500)));
    let addr = listen(app.clone()).await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A small window the client never opens further: the server can send 16 KiB, then waits.
    let (mut sender, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(16 << 10)
            .handshake::<_, Empty<Bytes>>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = sender
        .send_request(
            Request::get(format!("http://{addr}{BASE}?watch=true&timeoutSeconds=600"))
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    eventually("the watch is open", Duration::from_secs(5), || {
        load.watches() == 1
    })
    .await;
    write_large_alerts(&app, 60).await;
    eventually("the stalled watch ended", Duration::from_secs(10), || {
        load.watches() == 0
    })
    .await;
    // Read now: what was sent, then the end of the stream — no error.
    let mut received = 0;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(20), body.frame())
        .await
        .expect("the stream ends")
    {
        let frame = frame.expect("ended cleanly, not reset");
        received += frame.data_ref().map_or(0, |d| d.len());
    }
    assert!(
        received < 60 * 100 * 1024,
        "events were dropped ({received} bytes)"
    );
}

/// A client reading slowly through one large event, with nothing behind it, is reading, not
/// stalled: its watch outlives the send timeout many times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_of_one_large_event_is_not_stalled() {
    let (app, load) = server(|b| b.watch_send_timeout(Duration::from_millis(200)));
    // Small socket buffers on the server's side too (accepted sockets inherit the listener's):
    // the connection, not the kernel, holds the event while the client reads it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(8192).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(64).unwrap();
    let addr = listener.local_addr().unwrap();
    let served = app.clone();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    let mut watch = stalled_watch(addr, 600).await;
    eventually("the watch is open", Duration::from_secs(5), || {
        load.watches() == 1
    })
    .await;
    // One event of about 1 MiB (the largest object a server takes, as etcd's request limit),
    // more than the socket's buffers hold.
    let message = "m".repeat((1 << 20) - 4096);
    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "large"}, "spec": {"message": message}});
    assert_eq!(post(&app, BASE, &body).await.status, StatusCode::CREATED);
    // Read it 16 KiB every 10 ms: over half a second, three send timeouts.
    let mut received = 0usize;
    let mut chunk = [0u8; 16 << 10];
    let started = Instant::now();
    while received < (1 << 20) - 4096 {
        let n = tokio::time::timeout(Duration::from_secs(10), watch.read(&mut chunk))
            .await
            .expect("the event keeps coming")
            .unwrap();
        assert!(n > 0, "the watch ended while its client read");
        received += n;
        assert_eq!(load.watches(), 1, "ended after {received} bytes");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        started.elapsed() > Duration::from_millis(600),
        "read too fast to tell"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        load.watches(),
        1,
        "a quiet watch after the event stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_watch_ends_at_its_deadline_at_the_latest() {
    // A long send timeout: only the watch's own timeoutSeconds can end it.
    let (app, load) = server(|b| b.watch_send_timeout(Duration::from_secs(600)));
    let addr = listen(app.clone()).await;
    let started = Instant::now();
    let _stalled = stalled_watch(addr, 2).await;
    eventually("the watch is open", Duration::from_secs(5), || {
        load.watches() == 1
    })
    .await;
    write_large_alerts(&app, 150).await;
    eventually("the stalled watch ended", Duration::from_secs(15), || {
        load.watches() == 0
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "not before its deadline"
    );
}

/// Panics validating an Alert named `boom`: a bug in code a server runs for its resources.
pub(crate) struct PanicsOnBoom;

impl apiserver::Strategy<Alert> for PanicsOnBoom {
    fn validate(&self, _: &apiserver::Context<'_>, alert: &Alert) -> Vec<apiserver::Cause> {
        if alert.metadata.name.as_deref() == Some("boom") {
            panic!("a strategy's bug");
        }
        Vec::new()
    }
}

#[tokio::test]
async fn a_request_that_panics_is_a_500_status_and_the_server_goes_on() {
    // One write at a time: the panicking request's slot must come back.
    let (app, load) = server(|_| {
        ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
            .resource(
                Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(PanicsOnBoom),
            )
            .max_mutating_requests_inflight(1)
    });
    let r = post(&app, BASE, &alert(json!({"name": "boom"}))).await;
    assert_status(&r, 500, "InternalError");
    assert_eq!(
        r.body["message"],
        "This request caused the server to panic. Look in the server's logs for details."
    );
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(load.mutating_inflight(), 0, "the slot was given back");
    // Nothing was stored, and the server serves on.
    assert_status(&get(&app, &format!("{BASE}/boom")).await, 404, "NotFound");
    let r = post(&app, BASE, &alert(json!({"name": "fine"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
