//! REST conventions through the router (no network): object semantics, errors as `Status`,
//! bad input, selectors, paging, patches, status subresource, finalizers, tables and watches.

use apiserver::{ApiServer, Cause, Context, Resource, Strategy};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use futures::StreamExt;
use http::{Method, Request, StatusCode};
use pager::v1alpha1::Alert;
use serde_json::{Value, json};
use tower::ServiceExt;

struct AlertStrategy;

impl Strategy<Alert> for AlertStrategy {
    fn validate(&self, _ctx: &Context<'_>, a: &Alert) -> Vec<Cause> {
        if a.spec.message.is_empty() {
            vec![Cause::new(
                "FieldValueRequired",
                "spec.message",
                "Required value",
            )]
        } else {
            vec![]
        }
    }
    fn selectable_fields(&self) -> &'static [&'static str] {
        &["status.sent"]
    }
    fn field_value(&self, a: &Alert, f: &str) -> Option<String> {
        (f == "status.sent").then(|| a.status.as_ref().is_some_and(|s| s.sent).to_string())
    }
}

fn app() -> axum::Router {
    app_on(AnyStore::Memory(MemoryStore::new()), |b| b)
}

/// The Alert server on `store`, its builder changed by `with` first.
fn app_on(
    store: AnyStore,
    with: impl FnOnce(apiserver::ApiServerBuilder) -> apiserver::ApiServerBuilder,
) -> axum::Router {
    with(ApiServer::builder(store))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(AlertStrategy))
        .build()
        .unwrap()
        .into_router()
}

const BASE: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    ct: Option<&str>,
    body: &str,
) -> Reply {
    call_accept(app, method, uri, ct, body, None).await
}

async fn call_accept(
    app: &axum::Router,
    method: Method,
    uri: &str,
    ct: Option<&str>,
    body: &str,
    accept: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
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

fn alert(name: &str, message: &str) -> String {
    json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": name}, "spec": {"message": message}}).to_string()
}

const JSON: Option<&str> = Some("application/json");

async fn create(app: &axum::Router, name: &str) -> Value {
    let r = call(app, Method::POST, BASE, JSON, &alert(name, "hello")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn assert_status(r: &Reply, code: u16, reason: &str) {
    assert_eq!(r.status.as_u16(), code, "{}", r.body);
    assert_eq!(r.body["kind"], "Status", "{}", r.body);
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert_eq!(r.body["reason"], reason, "{}", r.body);
}

/// The events of a streaming watch body (one JSON object a line): `n` of them, or with `None`
/// every one until the stream ends. Fails when nothing comes for 5 s.
async fn watch_events(stream: &mut axum::body::BodyDataStream, n: Option<usize>) -> Vec<Value> {
    let mut events = Vec::new();
    let mut buf = Vec::new();
    while n.is_none_or(|n| events.len() < n) {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("the watch neither sent nor ended");
        let Some(chunk) = next else { break };
        buf.extend_from_slice(&chunk.unwrap());
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            events.push(serde_json::from_slice(&line).unwrap());
        }
    }
    events
}

#[tokio::test]
async fn create_sets_server_fields_and_get_returns_them() {
    let app = app();
    let created = create(&app, "a1").await;
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["generation"], 1);
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    let got = call(&app, Method::GET, &format!("{BASE}/a1"), None, "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created);
    assert_status(
        &call(&app, Method::POST, BASE, JSON, &alert("a1", "x")).await,
        409,
        "AlreadyExists",
    );
    let nf = call(&app, Method::GET, &format!("{BASE}/nope"), None, "").await;
    assert_status(&nf, 404, "NotFound");
    assert_eq!(nf.body["message"], "alerts.pager.k8s.co \"nope\" not found");
}

#[tokio::test]
async fn generate_name_and_status_dropped_on_create() {
    let app = app();
    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"generateName": "al-"}, "spec": {"message": "m"}, "status": {"sent": true}});
    let r = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let name = r.body["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("al-") && name.len() == 8, "{name}");
    assert!(
        r.body.get("status").is_none(),
        "status is set through /status only"
    );
}

#[tokio::test]
async fn invalid_objects_get_422_with_causes() {
    let app = app();
    let r = call(&app, Method::POST, BASE, JSON, &alert("a1", "")).await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.message");
    let r = call(&app, Method::POST, BASE, JSON, &alert("Bad_Name", "m")).await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "metadata.name");
}

#[tokio::test]
async fn bad_input_is_a_status_and_changes_nothing() {
    let app = app();
    create(&app, "keep").await;
    /// method, uri, content type, body, expected code, expected reason
    type Case<'a> = (Method, String, Option<&'a str>, String, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            BASE.into(),
            JSON,
            "{not json".into(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            JSON,
            "[1,2]".into(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            JSON,
            alert("x", "m").replace("v1alpha1", "v1beta1"),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            JSON,
            alert("x", "m").replace("\"Alert\"", "\"Pager\""),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            JSON,
            json!({"metadata": {"name": "x", "namespace": "other"}, "spec": {"message": "m"}})
                .to_string(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            format!("{BASE}?fieldValidation=Strict"),
            JSON,
            json!({"metadata": {"name": "x"}, "spec": {"message": "m", "bogus": 1}}).to_string(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            JSON,
            json!({"metadata": {"name": "x"}, "spec": {"message": 5}}).to_string(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            format!("{BASE}?fieldValidation=Strict"),
            JSON,
            r#"{"metadata":{"name":"x"},"spec":{"message":"a","message":"b"}}"#.into(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            BASE.into(),
            Some("application/xml"),
            alert("x", "m"),
            415,
            "UnsupportedMediaType",
        ),
        // A body's media type is named exactly, as Go's `NegotiateInputSerializer` wants it:
        // a wildcard is no type (without a Content-Type, JSON is assumed).
        (
            Method::POST,
            BASE.into(),
            Some("*/*"),
            alert("x", "m"),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::PUT,
            format!("{BASE}/keep"),
            Some("*/*"),
            alert("keep", "m"),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::DELETE,
            format!("{BASE}/keep"),
            Some("*/*"),
            "{}".into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::GET,
            format!("{BASE}?labelSelector=a%20in%20(b"),
            None,
            String::new(),
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{BASE}?fieldSelector=spec.message%3Dx"),
            None,
            String::new(),
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{BASE}?continue=garbage"),
            None,
            String::new(),
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{BASE}?resourceVersion=abc"),
            None,
            String::new(),
            400,
            "BadRequest",
        ),
        (
            Method::PATCH,
            format!("{BASE}/keep"),
            Some("application/json-patch+json"),
            "{\"op\":1}".into(),
            400,
            "BadRequest",
        ),
        (
            Method::PATCH,
            format!("{BASE}/keep"),
            Some("application/merge-patch+json"),
            "nope".into(),
            400,
            "BadRequest",
        ),
        (
            Method::PATCH,
            format!("{BASE}/keep"),
            Some("text/plain"),
            "{}".into(),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::POST,
            format!("{BASE}?dryRun=Some"),
            JSON,
            alert("x", "m"),
            422,
            "Invalid",
        ),
    ];
    for (method, uri, ct, body, code, reason) in cases {
        let r = call(&app, method.clone(), &uri, ct, &body).await;
        assert_eq!(r.status.as_u16(), code, "{method} {uri} {body}: {}", r.body);
        assert_eq!(r.body["reason"], reason, "{method} {uri}: {}", r.body);
    }
    let huge = alert("big", &"x".repeat(4 * 1024 * 1024));
    assert_status(
        &call(&app, Method::POST, BASE, JSON, &huge).await,
        413,
        "RequestEntityTooLarge",
    );
    let list = call(&app, Method::GET, BASE, None, "").await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["keep"], "nothing but the first object was stored");
}

#[tokio::test]
async fn yaml_bodies_are_accepted() {
    let app = app();
    let yaml = "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: y1\nspec:\n  message: from yaml\n";
    let r = call(&app, Method::POST, BASE, Some("application/yaml"), yaml).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["spec"]["message"], "from yaml");
    // A repeated key is what a JSON body's is to `fieldValidation`: the last value wins (with a
    // warning under the default `Warn`), a 400 under `Strict`; a second document is not read.
    let repeated = "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: NAME\nspec:\n  message: first\n  message: second\n---\nkind: Other\n";
    for (name, query, code) in [
        ("y2", "", 201),
        ("y3", "?fieldValidation=Ignore", 201),
        ("y4", "?fieldValidation=Strict", 400),
    ] {
        let body = repeated.replace("NAME", name);
        let r = call(
            &app,
            Method::POST,
            &format!("{BASE}{query}"),
            Some("application/yaml"),
            &body,
        )
        .await;
        assert_eq!(r.status.as_u16(), code, "{query}: {}", r.body);
        if code == 201 {
            assert_eq!(r.body["spec"]["message"], "second");
            assert_eq!(
                r.headers.contains_key("warning"),
                query.is_empty(),
                "{query}"
            );
        } else {
            assert!(
                r.body["message"]
                    .as_str()
                    .unwrap()
                    .contains("duplicate field"),
                "{}",
                r.body
            );
        }
    }
}

/// A missing required field is a 422 naming it, as a CRD's schema validation reports it; a
/// value of the wrong type is a 400 naming where it is.
#[tokio::test]
async fn missing_required_fields_are_invalid_and_type_errors_name_the_field() {
    let app = app();
    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"m"},"spec":{}}"#,
    )
    .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(
        r.body["message"],
        "Alert.pager.k8s.co \"m\" is invalid: spec.message: Required value"
    );
    assert_eq!(
        r.body["details"]["causes"],
        json!([{"reason": "FieldValueRequired", "field": "spec.message", "message": "Required value"}])
    );
    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"m"}}"#,
    )
    .await;
    // (`spec` itself may be left out: its fields are what is required.)
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.message");
    // A required field given `null` is pruned as a CRD's structural schema prunes it: missing.
    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"m"},"spec":{"message":null}}"#,
    )
    .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.message");

    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"m","labels":{"a":1}},"spec":{"message":"x"}}"#,
    )
    .await;
    assert_status(&r, 400, "BadRequest");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message
            == "Alert in version \"v1alpha1\" cannot be handled as a Alert: metadata.labels.a: invalid type: integer `1`, expected a string",
        "{message}"
    );

    // A patch that removes a required field: the same 422, and nothing stored changes.
    create(&app, "p").await;
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/p"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"message":null}}"#,
    )
    .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(
        r.body["message"],
        "Alert.pager.k8s.co \"p\" is invalid: spec.message: Required value"
    );
    let r = call(&app, Method::GET, &format!("{BASE}/p"), None, "").await;
    assert_eq!(r.body["spec"]["message"], "hello");
}

#[tokio::test]
async fn unknown_fields_warn_by_default_and_are_dropped() {
    let app = app();
    let body = json!({"metadata": {"name": "w"}, "spec": {"message": "m", "bogus": 1}}).to_string();
    let r = call(&app, Method::POST, BASE, JSON, &body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let warning = r.headers.get("warning").unwrap().to_str().unwrap();
    assert_eq!(warning, "299 - \"unknown field \\\"spec.bogus\\\"\"");
    assert!(r.body["spec"].get("bogus").is_none());
    // Named as Go names them: through an optional field without a marker for the `Option`.
    let body =
        json!({"metadata": {"name": "w2"}, "spec": {"message": "m"}, "status": {"bogus": 1}})
            .to_string();
    let r = call(&app, Method::POST, BASE, JSON, &body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let warning = r.headers.get("warning").unwrap().to_str().unwrap();
    assert_eq!(warning, "299 - \"unknown field \\\"status.bogus\\\"\"");
    let r = call(
        &app,
        Method::POST,
        &format!("{BASE}?fieldValidation=Ignore"),
        JSON,
        &body.replace("\"w\"", "\"w2\""),
    )
    .await;
    assert!(r.headers.get("warning").is_none());

    // A key given twice: its last value, with a warning (Strict refuses it: see bad input).
    let twice = r#"{"metadata":{"name":"d"},"spec":{"message":"a","message":"b"}}"#;
    let r = call(&app, Method::POST, BASE, JSON, twice).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["spec"]["message"], "b");
    let warning = r.headers.get("warning").unwrap().to_str().unwrap();
    assert_eq!(warning, "299 - \"duplicate field \\\"spec.message\\\"\"");
    let r = call(
        &app,
        Method::POST,
        &format!("{BASE}?fieldValidation=Strict"),
        JSON,
        &twice.replace("\"d\"", "\"d2\""),
    )
    .await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("strict decoding error: duplicate field \"spec.message\""),
        "{}",
        r.body
    );
    // `kind` or `apiVersion` given twice too: the last one is checked against the URL.
    let kinds = r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Pod","kind":"Alert","metadata":{"name":"k"},"spec":{"message":"m"}}"#;
    let r = call(&app, Method::POST, BASE, JSON, kinds).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let warning = r.headers.get("warning").unwrap().to_str().unwrap();
    assert_eq!(warning, "299 - \"duplicate field \\\"kind\\\"\"");
    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        &kinds
            .replace("\"Pod\",\"kind\":\"Alert\"", "\"Alert\",\"kind\":\"Pod\"")
            .replace("\"k\"", "\"k2\""),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("the kind in the data (Pod)"),
        "{}",
        r.body
    );
    let r = call(
        &app,
        Method::POST,
        BASE,
        JSON,
        &kinds.replace("\"kind\":\"Alert\"", "\"kind\":1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

/// Finalizer names without a domain and a path are warned about, as kube-apiserver's custom
/// resource strategy does: on a create, and for the finalizers an update adds.
#[tokio::test]
async fn finalizers_without_a_domain_and_path_are_warned_about() {
    let app = app();
    let warnings = |r: &Reply| -> Vec<String> {
        r.headers
            .get_all("warning")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    let body = json!({"metadata": {"name": "f", "finalizers": ["nodomain", "a.b", "pager.k8s.co/ok", "orphan"]}, "spec": {"message": "m"}});
    let r = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        warnings(&r),
        [
            r#"299 - "metadata.finalizers: \"nodomain\": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers""#,
            r#"299 - "metadata.finalizers: \"a.b\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers""#,
        ]
    );
    // An update: only the finalizer it adds.
    let patch = json!({"metadata": {"finalizers": ["nodomain", "a.b", "pager.k8s.co/ok", "orphan", "c.d"]}});
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/f"),
        Some("application/merge-patch+json"),
        &patch.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        warnings(&r),
        [
            r#"299 - "metadata.finalizers: \"c.d\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers""#
        ]
    );
}

/// What a patch itself repeats (or a JSON patch operation's unknown keys) is reported as a
/// body's fields are, as Go's patchers decode the patch strictly: a warning, or (Strict) a 422.
#[tokio::test]
async fn a_patch_repeating_keys_is_reported_as_a_body_is() {
    let app = app();
    let body = json!({"metadata": {"name": "p"}, "spec": {"message": "m"}}).to_string();
    assert_eq!(
        call(&app, Method::POST, BASE, JSON, &body).await.status,
        StatusCode::CREATED
    );
    let merge = r#"{"spec":{"message":"x","message":"y"}}"#;
    let ops = r#"[{"op":"replace","path":"/spec/message","value":"z","bogus":1}]"#;
    for (content_type, patch, issue) in [
        (
            Some("application/merge-patch+json"),
            merge,
            r#"duplicate field \"spec.message\""#,
        ),
        (
            Some("application/strategic-merge-patch+json"),
            merge,
            r#"duplicate field \"spec.message\""#,
        ),
        (
            Some("application/json-patch+json"),
            ops,
            r#"json patch unknown field \"bogus\""#,
        ),
    ] {
        let what = content_type.unwrap();
        let r = call(
            &app,
            Method::PATCH,
            &format!("{BASE}/p"),
            content_type,
            patch,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
        let warning = r.headers.get("warning").map(|w| w.to_str().unwrap());
        assert_eq!(
            warning,
            Some(format!("299 - \"{issue}\"").as_str()),
            "{what}"
        );
        let r = call(
            &app,
            Method::PATCH,
            &format!("{BASE}/p?fieldValidation=Strict"),
            content_type,
            patch,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.body
        );
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "strict decoding error: {}",
                issue.replace("\\\"", "\"")
            )),
            "{what}: {message}"
        );
        let r = call(
            &app,
            Method::PATCH,
            &format!("{BASE}/p?fieldValidation=Ignore"),
            content_type,
            patch,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
        assert!(r.headers.get("warning").is_none(), "{what}");
    }
}

#[tokio::test]
async fn update_conflicts_generation_and_status_subresource() {
    let app = app();
    let created = create(&app, "a1").await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Change spec: generation bumps; status in the body is ignored.
    let mut new = created.clone();
    new["spec"]["message"] = json!("changed");
    new["status"] = json!({"sent": true});
    let r = call(
        &app,
        Method::PUT,
        &format!("{BASE}/a1"),
        JSON,
        &new.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["metadata"]["generation"], 2);
    assert!(r.body.get("status").is_none());
    // A stale resourceVersion is a 409 Conflict.
    let r2 = call(
        &app,
        Method::PUT,
        &format!("{BASE}/a1"),
        JSON,
        &new.to_string(),
    )
    .await;
    assert_status(&r2, 409, "Conflict");
    assert!(
        r2.body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    assert_ne!(rv, r.body["metadata"]["resourceVersion"]);
    // /status changes only status, and not generation.
    let mut st = r.body.clone();
    st["status"] = json!({"sent": true});
    st["spec"]["message"] = json!("ignored");
    let r3 = call(
        &app,
        Method::PUT,
        &format!("{BASE}/a1/status"),
        JSON,
        &st.to_string(),
    )
    .await;
    assert_eq!(r3.status, StatusCode::OK, "{}", r3.body);
    assert_eq!(r3.body["status"]["sent"], true);
    assert_eq!(r3.body["spec"]["message"], "changed");
    assert_eq!(r3.body["metadata"]["generation"], 2);
    // Name mismatch is a 400.
    let mut other = r3.body.clone();
    other["metadata"]["name"] = json!("b");
    other["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    assert_status(
        &call(
            &app,
            Method::PUT,
            &format!("{BASE}/a1"),
            JSON,
            &other.to_string(),
        )
        .await,
        400,
        "BadRequest",
    );
}

#[tokio::test]
async fn patches_of_every_type() {
    let app = app();
    create(&app, "p").await;
    let url = format!("{BASE}/p");
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/merge-patch+json"),
        r#"{"metadata":{"labels":{"team":"sre"}},"spec":{"message":"merged"}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["spec"]["message"], "merged");
    assert_eq!(r.body["metadata"]["labels"]["team"], "sre");
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/json-patch+json"),
        r#"[{"op":"replace","path":"/spec/message","value":"json"}]"#,
    )
    .await;
    assert_eq!(r.body["spec"]["message"], "json", "{}", r.body);
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/strategic-merge-patch+json"),
        r#"{"spec":{"message":"smp"}}"#,
    )
    .await;
    assert_eq!(r.body["spec"]["message"], "smp", "{}", r.body);
    // A failed test op is 422; a stale resourceVersion in the patch is 409.
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/json-patch+json"),
        r#"[{"op":"test","path":"/spec/message","value":"nope"}]"#,
    )
    .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/merge-patch+json"),
        r#"{"metadata":{"resourceVersion":"1"},"spec":{"message":"x"}}"#,
    )
    .await;
    assert_status(&r, 409, "Conflict");
    // Patching status through the main resource is ignored; through /status it sticks.
    let r = call(
        &app,
        Method::PATCH,
        &url,
        Some("application/merge-patch+json"),
        r#"{"status":{"sent":true}}"#,
    )
    .await;
    assert!(r.body.get("status").is_none(), "{}", r.body);
    let r = call(
        &app,
        Method::PATCH,
        &format!("{url}/status"),
        Some("application/merge-patch+json"),
        r#"{"status":{"sent":true}}"#,
    )
    .await;
    assert_eq!(r.body["status"]["sent"], true, "{}", r.body);
}

#[tokio::test]
async fn selectors_and_paging() {
    let app = app();
    for i in 0..7 {
        let body = json!({"metadata": {"name": format!("a{i}"), "labels": {"parity": if i % 2 == 0 {"even"} else {"odd"}}}, "spec": {"message": "m"}});
        assert_eq!(
            call(&app, Method::POST, BASE, JSON, &body.to_string())
                .await
                .status,
            StatusCode::CREATED
        );
    }
    call(
        &app,
        Method::PATCH,
        &format!("{BASE}/a3/status"),
        Some("application/merge-patch+json"),
        r#"{"status":{"sent":true}}"#,
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = call(
        &app,
        Method::GET,
        &format!("{BASE}?labelSelector=parity%3Deven"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&r.body), ["a0", "a2", "a4", "a6"]);
    let r = call(
        &app,
        Method::GET,
        &format!("{BASE}?labelSelector=parity%20notin%20(even)"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&r.body), ["a1", "a3", "a5"]);
    let r = call(
        &app,
        Method::GET,
        &format!("{BASE}?fieldSelector=metadata.name%3Da5"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&r.body), ["a5"]);
    let r = call(
        &app,
        Method::GET,
        &format!("{BASE}?fieldSelector=status.sent%3Dtrue"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&r.body), ["a3"]);
    // Pages of 3 with a selector: every page full until the last, same resourceVersion.
    let mut all = Vec::new();
    let mut uri = format!("{BASE}?limit=2&labelSelector=parity");
    let mut rv = None;
    loop {
        let r = call(&app, Method::GET, &uri, None, "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        all.extend(names(&r.body));
        let page_rv = r.body["metadata"]["resourceVersion"].clone();
        assert_eq!(*rv.get_or_insert(page_rv.clone()), page_rv);
        match r.body["metadata"]["continue"].as_str() {
            Some(c) => uri = format!("{BASE}?limit=2&labelSelector=parity&continue={c}"),
            None => break,
        }
    }
    assert_eq!(all, ["a0", "a1", "a2", "a3", "a4", "a5", "a6"]);
    // All namespaces.
    let r = call(
        &app,
        Method::GET,
        "/apis/pager.k8s.co/v1alpha1/alerts",
        None,
        "",
    )
    .await;
    assert_eq!(names(&r.body).len(), 7);
}

/// A selective page may take many store reads (most keys filtered out); all of them read the
/// first one's revision, so objects created meanwhile never appear in a list that predates them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selective_page_is_one_snapshot_however_many_reads_it_takes() {
    let app = app();
    for i in 0..600 {
        let body = json!({"metadata": {"name": format!("a-{i:04}"), "labels": {"x": "no"}}, "spec": {"message": "m"}});
        let r = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = json!({"metadata": {"name": format!("z-{i:05}"), "labels": {"x": "yes"}}, "spec": {"message": "m"}});
                call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
                i += 1;
                tokio::task::yield_now().await;
            }
            i
        })
    };
    for _ in 0..10 {
        let r = call(
            &app,
            Method::GET,
            &format!("{BASE}?labelSelector=x%3Dyes&limit=1"),
            None,
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let list_rv: u64 = r.body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        for item in r.body["items"].as_array().unwrap() {
            let rv: u64 = item["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                rv <= list_rv,
                "{} (resourceVersion {rv}) is newer than its list ({list_rv})",
                item["metadata"]["name"]
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0);
}

/// Details Kubernetes clients rely on, found by fuzzing: no new finalizers on an object being
/// deleted (422); `resourceVersion: "0"` in an update is no precondition; `timeoutSeconds=0` is
/// the default timeout, not a watch that ends at once; `watch=True` is a watch (Go's
/// `ParseBool`); `Warning` headers are deduplicated and bounded.
#[tokio::test]
async fn go_compatible_details_found_by_fuzzing() {
    let app = app();
    let with_finalizer = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "f", "finalizers": ["x.io/a"]}, "spec": {"message": "m"}});
    let r = call(&app, Method::POST, BASE, JSON, &with_finalizer.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = call(&app, Method::DELETE, &format!("{BASE}/f"), None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/f"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":["x.io/a","x.io/new"]}}"#,
    )
    .await;
    assert_status(&r, 422, "Invalid");
    assert_eq!(
        r.body["details"]["causes"][0]["message"],
        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"x.io/new\"}"
    );
    // Removing one is fine (and deletes the object).
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/f"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // An update with resourceVersion "0" (or none) is unconditional, which the strategy refuses
    // by default as a CRD does: 422 naming the resource.
    let mut obj = create(&app, "rv0").await;
    obj["spec"]["message"] = json!("changed");
    for rv in [json!("0"), Value::Null] {
        obj["metadata"]["resourceVersion"] = rv;
        let r = call(
            &app,
            Method::PUT,
            &format!("{BASE}/rv0"),
            JSON,
            &obj.to_string(),
        )
        .await;
        assert_status(&r, 422, "Invalid");
        assert_eq!(
            r.body["message"],
            "alerts.pager.k8s.co \"rv0\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        );
    }
    // A strategy that allows it: the object is overwritten.
    struct Unconditional;
    impl Strategy<Alert> for Unconditional {
        fn allow_unconditional_update(&self) -> bool {
            true
        }
    }
    let lenient = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(Unconditional))
        .build()
        .unwrap()
        .into_router();
    let mut obj = create(&lenient, "rv0").await;
    obj["metadata"]["resourceVersion"] = json!("0");
    obj["spec"]["message"] = json!("changed");
    let r = call(
        &lenient,
        Method::PUT,
        &format!("{BASE}/rv0"),
        JSON,
        &obj.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["spec"]["message"], "changed");

    // A watch with timeoutSeconds=0 (and watch=True) stays open and delivers its events.
    let req = Request::get(format!("{BASE}?watch=True&timeoutSeconds=0"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    let first = watch_events(&mut stream, Some(1)).await.remove(0);
    assert_eq!(first["type"], "ADDED");
    create(&app, "during").await;
    let more = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .expect("the watch stays open past its first events");
    assert!(more.is_some());
    // A negative one has passed already: the watch ends at once, as Go's timer fires.
    let req = Request::get(format!(
        "{BASE}?watch=1&resourceVersion=1&timeoutSeconds=-5"
    ))
    .body(Body::empty())
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut events = resp.into_body().into_data_stream();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while events.next().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "a watch with a negative timeout stayed open");

    // Thousands of unknown fields: a bounded number of Warning headers, none twice.
    let mut body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "noisy"}, "spec": {"message": "m"}});
    for i in 0..2000 {
        body["spec"][format!("unknown{i}")] = json!(i);
    }
    let r = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let warnings: Vec<&str> = r
        .headers
        .get_all("warning")
        .iter()
        .map(|h| h.to_str().unwrap())
        .collect();
    assert!(!warnings.is_empty());
    let total: usize = warnings.iter().map(|w| w.len()).sum();
    assert!(total <= 4096, "{total} bytes of warnings");
}

#[tokio::test]
async fn finalizers_delay_deletion_and_delete_returns_status() {
    let app = app();
    let body = json!({"metadata": {"name": "f", "finalizers": ["example.com/hold"]}, "spec": {"message": "m"}});
    call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}/f"),
        JSON,
        r#"{"propagationPolicy":"Background"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["metadata"]["deletionTimestamp"].is_string(),
        "{}",
        r.body
    );
    // Still there until the finalizer is removed.
    assert_eq!(
        call(&app, Method::GET, &format!("{BASE}/f"), None, "")
            .await
            .status,
        StatusCode::OK
    );
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/f"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_status(
        &call(&app, Method::GET, &format!("{BASE}/f"), None, "").await,
        404,
        "NotFound",
    );
    // Plain delete: a Success Status with the uid; preconditions are checked.
    let created = create(&app, "d").await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}/d"),
        JSON,
        r#"{"preconditions":{"uid":"wrong"}}"#,
    )
    .await;
    assert_status(&r, 409, "Conflict");
    let r = call(&app, Method::DELETE, &format!("{BASE}/d"), None, "").await;
    assert_eq!(r.body["status"], "Success", "{}", r.body);
    assert_eq!(r.body["details"]["uid"], created["metadata"]["uid"]);
    // deletecollection with a selector.
    create(&app, "x1").await;
    create(&app, "x2").await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?fieldSelector=metadata.name%3Dx1"),
        None,
        "",
    )
    .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = call(&app, Method::GET, BASE, None, "").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}

/// deletecollection answers with the list as it was read, before the deletes, as Go's
/// `Store.DeleteCollection` returns its list: an object its finalizer keeps comes back without
/// the `deletionTimestamp` the delete gave it.
#[tokio::test]
async fn deletecollection_answers_with_the_objects_as_listed() {
    let app = app();
    let kept = json!({"metadata": {"name": "kept", "labels": {"g": "a"}, "finalizers": ["pager.k8s.co/hold"]}, "spec": {"message": "m"}});
    assert_eq!(
        call(&app, Method::POST, BASE, JSON, &kept.to_string())
            .await
            .status,
        StatusCode::CREATED
    );
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?labelSelector=g%3Da"),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.body);
    assert!(
        items[0]["metadata"].get("deletionTimestamp").is_none(),
        "{}",
        r.body
    );
    let stored = call(&app, Method::GET, &format!("{BASE}/kept"), None, "").await;
    assert!(
        stored.body["metadata"]["deletionTimestamp"].is_string(),
        "{}",
        stored.body
    );
}

/// deletecollection takes a list's options as Go's `Store.DeleteCollection` does: with `limit`,
/// one page is deleted and its `continue` token returned (the next call with it deletes the
/// next page); selectors count towards the page; without `limit`, everything selected goes.
#[tokio::test]
async fn deletecollection_deletes_a_page_at_a_time_with_limit() {
    let app = app();
    for i in 0..7 {
        create(&app, &format!("p{i}")).await;
    }
    let names = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Skip p0 by selector: the page is the first three that match.
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?limit=3&fieldSelector=metadata.name!%3Dp0"),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(names(&r), ["p1", "p2", "p3"]);
    let token = r.body["metadata"]["continue"].as_str().unwrap().to_string();
    let left = call(&app, Method::GET, BASE, None, "").await;
    assert_eq!(names(&left), ["p0", "p4", "p5", "p6"]);
    // The token continues after p3.
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?limit=2&fieldSelector=metadata.name!%3Dp0&continue={token}"),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(names(&r), ["p4", "p5"]);
    // The last page: no token.
    let token = r.body["metadata"]["continue"].as_str().unwrap().to_string();
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?limit=2&fieldSelector=metadata.name!%3Dp0&continue={token}"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&r), ["p6"]);
    assert!(r.body["metadata"].get("continue").is_none(), "{}", r.body);
    // Without limit: all that is left.
    let r = call(&app, Method::DELETE, BASE, None, "").await;
    assert_eq!(names(&r), ["p0"]);
    assert!(r.body["metadata"].get("continue").is_none(), "{}", r.body);
    let left = call(&app, Method::GET, BASE, None, "").await;
    assert!(names(&left).is_empty(), "{}", left.body);
    // A malformed token is the list's 400.
    let r = call(
        &app,
        Method::DELETE,
        &format!("{BASE}?continue=bogus"),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

#[tokio::test]
async fn deletes_leave_the_garbage_collectors_finalizer_the_policy_asks_for() {
    let app = app();
    let url = |name: &str| format!("{BASE}/{name}");
    let finalizers = |r: &Reply| r.body["metadata"]["finalizers"].clone();
    // Orphan: the object waits, marked, for the collector to orphan its dependents.
    create(&app, "o").await;
    let r = call(
        &app,
        Method::DELETE,
        &url("o"),
        JSON,
        r#"{"propagationPolicy":"Orphan"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(finalizers(&r), json!(["orphan"]));
    assert!(
        r.body["metadata"]["deletionTimestamp"].is_string(),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["metadata"]["generation"], 2,
        "marking counts as a change"
    );
    assert_eq!(
        call(&app, Method::GET, &url("o"), None, "").await.status,
        StatusCode::OK
    );
    // The collector's last step: it removes its finalizer, and the object goes.
    let r = call(
        &app,
        Method::PATCH,
        &url("o"),
        Some("application/merge-patch+json"),
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_status(
        &call(&app, Method::GET, &url("o"), None, "").await,
        404,
        "NotFound",
    );

    // Foreground, from the query; a later background delete takes the finalizer away again,
    // and with nothing left to wait for the object goes at once.
    create(&app, "f").await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("{}?propagationPolicy=Foreground", url("f")),
        None,
        "",
    )
    .await;
    assert_eq!(finalizers(&r), json!(["foregroundDeletion"]), "{}", r.body);
    let r = call(
        &app,
        Method::DELETE,
        &url("f"),
        JSON,
        r#"{"propagationPolicy":"Background"}"#,
    )
    .await;
    assert_eq!(r.body["status"], "Success", "{}", r.body);
    assert_status(
        &call(&app, Method::GET, &url("f"), None, "").await,
        404,
        "NotFound",
    );

    // The deprecated orphanDependents: false on an object held by a finalizer of its own is
    // Kubernetes' one 202; true adds `orphan` beside it without marking the object again.
    let held = json!({"metadata": {"name": "h", "finalizers": ["example.com/hold"]}, "spec": {"message": "m"}});
    call(&app, Method::POST, BASE, JSON, &held.to_string()).await;
    let r = call(
        &app,
        Method::DELETE,
        &format!("{}?orphanDependents=false", url("h")),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(finalizers(&r), json!(["example.com/hold"]));
    let marked = r.body["metadata"]["deletionTimestamp"].clone();
    let r = call(
        &app,
        Method::DELETE,
        &url("h"),
        JSON,
        r#"{"orphanDependents":true}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(finalizers(&r), json!(["example.com/hold", "orphan"]));
    assert_eq!(r.body["metadata"]["deletionTimestamp"], marked);
    assert_eq!(r.body["metadata"]["generation"], 2);

    // Go's ValidateDeleteOptions: one of the two, and a known policy.
    for (query, body, message) in [
        (
            "?orphanDependents=true&propagationPolicy=Orphan",
            "",
            "orphanDependents and deletionPropagation cannot be both set",
        ),
        (
            "",
            r#"{"propagationPolicy":"Sideways"}"#,
            "Unsupported value: \"Sideways\"",
        ),
    ] {
        let r = call(
            &app,
            Method::DELETE,
            &format!("{}{query}", url("h")),
            JSON,
            body,
        )
        .await;
        assert_status(&r, 422, "Invalid");
        assert_eq!(r.body["details"]["kind"], "DeleteOptions", "{}", r.body);
        assert!(
            r.body["message"].as_str().unwrap().contains(message),
            "{}",
            r.body
        );
    }

    // The body is a DeleteOptions, in JSON or YAML: another media type is 415, another kind 400,
    // and nothing is deleted.
    for (ct, body, code, reason) in [
        (
            Some("text/plain"),
            "propagationPolicy=Orphan",
            415,
            "UnsupportedMediaType",
        ),
        (
            JSON,
            r#"{"kind":"Pod","apiVersion":"v1"}"#,
            400,
            "BadRequest",
        ),
        (JSON, "[1]", 400, "BadRequest"),
    ] {
        let r = call(&app, Method::DELETE, &url("h"), ct, body).await;
        assert_status(&r, code, reason);
    }
    let r = call(
        &app,
        Method::DELETE,
        &url("h"),
        Some("application/yaml"),
        "kind: DeleteOptions\napiVersion: meta.k8s.io/v1\npropagationPolicy: Sideways\n",
    )
    .await;
    assert_status(&r, 422, "Invalid");

    // A server no collector watches: every delete is a background one.
    let no_gc = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(AlertStrategy))
        .garbage_collection(false)
        .build()
        .unwrap()
        .into_router();
    create(&no_gc, "o").await;
    let r = call(
        &no_gc,
        Method::DELETE,
        &url("o"),
        JSON,
        r#"{"propagationPolicy":"Orphan"}"#,
    )
    .await;
    assert_eq!(r.body["status"], "Success", "{}", r.body);
    assert_status(
        &call(&no_gc, Method::GET, &url("o"), None, "").await,
        404,
        "NotFound",
    );
}

/// Version, discovery and OpenAPI documents answer GET (and HEAD) only.
#[tokio::test]
async fn documents_are_read_only() {
    let app = app();
    for path in [
        "/version",
        "/api",
        "/api/v1",
        "/apis",
        "/apis/pager.k8s.co",
        "/apis/pager.k8s.co/v1alpha1",
        "/openapi/v2",
        "/openapi/v3",
    ] {
        for method in [Method::PUT, Method::POST, Method::DELETE, Method::PATCH] {
            let r = call(&app, method.clone(), path, JSON, "{}").await;
            assert_status(&r, 405, "MethodNotAllowed");
        }
        let r = call(&app, Method::GET, path, None, "").await;
        assert_eq!(r.status.as_u16(), 200, "GET {path}");
    }
    // Health checks take any method, as Go's healthz mux does.
    let r = call(&app, Method::POST, "/healthz", JSON, "").await;
    assert_eq!(r.status.as_u16(), 200);
    // Below the documents, resources the server does not have are 404 whatever the method
    // (a controller posting core Events here is told they are not served, not 405).
    for (method, path) in [
        (Method::POST, "/api/v1/namespaces/default/events"),
        (Method::GET, "/api/v1/namespaces/default/events"),
        (Method::PUT, "/api/v1/namespaces/default/events/e"),
        (
            Method::POST,
            "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        ),
    ] {
        let r = call(&app, method.clone(), path, JSON, "{}").await;
        assert_status(&r, 404, "NotFound");
    }
}

#[tokio::test]
async fn all_namespaces_is_read_only_and_a_uid_is_a_precondition() {
    let app = app();
    create(&app, "keep").await;
    // Across all namespaces a namespaced resource is listed and watched, nothing else: a DELETE
    // there would have been a deletecollection in every namespace.
    let all = "/apis/pager.k8s.co/v1alpha1/alerts";
    let body = json!({"metadata": {"name": "x", "namespace": "default"}, "spec": {"message": "m"}});
    for (method, body) in [
        (Method::DELETE, String::new()),
        (Method::POST, body.to_string()),
    ] {
        let r = call(&app, method, all, JSON, &body).await;
        assert_status(&r, 405, "MethodNotAllowed");
    }
    let r = call(&app, Method::GET, all, None, "").await;
    assert_eq!(r.body["items"][0]["metadata"]["name"], "keep", "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    // A PUT carrying another object's uid is refused (a precondition, 409), as a patch that
    // changes it (422).
    let mut stale = call(&app, Method::GET, &format!("{BASE}/keep"), None, "")
        .await
        .body;
    stale["metadata"]["uid"] = json!("someone-else");
    stale["spec"]["message"] = json!("changed");
    let r = call(
        &app,
        Method::PUT,
        &format!("{BASE}/keep"),
        JSON,
        &stale.to_string(),
    )
    .await;
    assert_status(&r, 409, "Conflict");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("Precondition failed: UID in precondition: someone-else"),
        "{}",
        r.body
    );
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/keep"),
        Some("application/json-patch+json"),
        r#"[{"op":"replace","path":"/metadata/uid","value":"other"}]"#,
    )
    .await;
    // A patch carries no precondition: Go's update validation finds the uid changed.
    assert_status(&r, 422, "Invalid");
    assert_eq!(
        r.body["details"]["causes"][0]["message"], "Invalid value: \"other\": field is immutable",
        "{}",
        r.body
    );
    assert_eq!(r.body["details"]["causes"][0]["field"], "metadata.uid");
    let applied = json!({
        "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "keep", "uid": "applied-elsewhere"},
        "spec": {"message": "applied"},
    });
    let r = call(
        &app,
        Method::PATCH,
        &format!("{BASE}/keep?fieldManager=tool&force=true"),
        Some("application/apply-patch+yaml"),
        &applied.to_string(),
    )
    .await;
    assert_status(&r, 422, "Invalid");
    let r = call(&app, Method::GET, &format!("{BASE}/keep"), None, "").await;
    assert_eq!(r.body["spec"]["message"], "hello", "{}", r.body);
}

#[tokio::test]
async fn strategic_merge_patches_merge_metadata_lists_by_their_strategies() {
    let app = app();
    let body = json!({"metadata": {"name": "s", "finalizers": ["a.io/x"], "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u1"}
    ]}, "spec": {"message": "m"}});
    call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    let smp = |patch: Value| {
        let app = app.clone();
        async move {
            let r = call(
                &app,
                Method::PATCH,
                &format!("{BASE}/s"),
                Some("application/strategic-merge-patch+json"),
                &patch.to_string(),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{patch}: {}", r.body);
            r.body["metadata"].clone()
        }
    };
    // kubectl patch -p '{"metadata":{"finalizers":["b.io/y"]}}': finalizers merge (new items
    // first, as Go's mergeSortedSlice places items the server's order does not know).
    let m = smp(json!({"metadata": {"finalizers": ["b.io/y"]}})).await;
    assert_eq!(m["finalizers"], json!(["b.io/y", "a.io/x"]));
    let m = smp(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}})).await;
    assert_eq!(m["finalizers"], json!(["b.io/y"]));
    // Owner references merge by uid.
    let m = smp(json!({"metadata": {"ownerReferences": [{"uid": "u1", "name": "renamed"}]}})).await;
    assert_eq!(
        m["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "renamed", "uid": "u1"}])
    );
    let m =
        smp(json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "u1"}]}})).await;
    assert!(
        m.get("ownerReferences").is_none_or(|r| r == &json!([])),
        "{m}"
    );
}

#[tokio::test]
async fn media_types_are_case_insensitive_and_a_broken_body_is_a_400() {
    let app = app();
    let r = call(
        &app,
        Method::POST,
        BASE,
        Some("APPLICATION/JSON"),
        &alert("upper", "m"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A body that breaks off (what hyper reports for a bad chunk size) is no "too large".
    let broken = futures::stream::iter([
        Ok(axum::body::Bytes::from_static(b"{\"metadata\":")),
        Err(std::io::Error::other("invalid chunk size")),
    ]);
    let req = Request::builder()
        .method(Method::POST)
        .uri(BASE)
        .header("content-type", "application/json")
        .body(Body::from_stream(broken))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forged_continue_tokens_are_refused_as_go_refuses_them() {
    use base64::Engine;
    let app = app();
    create(&app, "a").await;
    let token = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    for (forged, message) in [
        (
            token(json!({"v": "meta.k8s.io/v1", "rv": 0, "start": "/registry/x"})),
            "incorrect encoded start resourceVersion",
        ),
        (
            token(json!({"v": "meta.k8s.io/v1", "rv": 1, "start": ""})),
            "encoded start key empty",
        ),
        (
            token(
                json!({"v": "meta.k8s.io/v1", "rv": 1, "start": "/registry/pager.k8s.co/alerts/default/../other/"}),
            ),
            "continue key is not valid",
        ),
        (
            token(json!({"v": "v2", "rv": 1, "start": "/a"})),
            "server does not recognize this encoded version",
        ),
        ("not%20base64".to_string(), "continue key is not valid"),
    ] {
        let r = call(
            &app,
            Method::GET,
            &format!("{BASE}?limit=1&continue={forged}"),
            None,
            "",
        )
        .await;
        assert_status(&r, 400, "BadRequest");
        assert!(
            r.body["message"].as_str().unwrap().contains(message),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let app = app();
    let r = call(
        &app,
        Method::POST,
        &format!("{BASE}?dryRun=All"),
        JSON,
        &alert("dry", "m"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body["metadata"].get("resourceVersion").is_none());
    assert_status(
        &call(&app, Method::GET, &format!("{BASE}/dry"), None, "").await,
        404,
        "NotFound",
    );
}

#[tokio::test]
async fn tables_have_name_printer_columns_and_age() {
    let app = app();
    create(&app, "t1").await;
    let accept = Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
    let r = call_accept(&app, Method::GET, BASE, None, "", accept).await;
    assert_eq!(r.body["kind"], "Table", "{}", r.body);
    let cols: Vec<&str> = r.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Sent", "Age"]);
    assert_eq!(r.body["rows"][0]["cells"][0], "t1");
    assert_eq!(r.body["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let r = call_accept(&app, Method::GET, &format!("{BASE}/t1"), None, "", accept).await;
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 1);
    let r = call_accept(&app, Method::GET, BASE, None, "", Some("text/html")).await;
    assert_status(&r, 406, "NotAcceptable");
}

/// A Table page keeps the list's `continue` and `remainingItemCount`, as kube's table
/// convertors copy them (`kubectl get --chunk-size` reads them).
#[tokio::test]
async fn table_pages_carry_continue_and_remaining_item_count() {
    let app = app();
    for name in ["p1", "p2", "p3", "p4", "p5"] {
        create(&app, name).await;
    }
    let accept = Some("application/json;as=Table;v=v1;g=meta.k8s.io");
    let r = call_accept(
        &app,
        Method::GET,
        &format!("{BASE}?limit=2"),
        None,
        "",
        accept,
    )
    .await;
    assert_eq!(r.body["kind"], "Table", "{}", r.body);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["metadata"]["remainingItemCount"], 3, "{}", r.body);
    let token = r.body["metadata"]["continue"].as_str().unwrap().to_string();
    assert!(r.body["metadata"]["resourceVersion"].is_string());
    let plain = call(&app, Method::GET, &format!("{BASE}?limit=2"), None, "").await;
    assert_eq!(plain.body["metadata"]["remainingItemCount"], 3);
    // The last page has neither; a selector makes the count unknown, so it is left out.
    let r = call_accept(
        &app,
        Method::GET,
        &format!("{BASE}?limit=2&continue={token}"),
        None,
        "",
        accept,
    )
    .await;
    assert_eq!(r.body["metadata"]["remainingItemCount"], 1, "{}", r.body);
    let r = call_accept(
        &app,
        Method::GET,
        &format!("{BASE}?limit=5"),
        None,
        "",
        accept,
    )
    .await;
    assert!(
        r.body["metadata"].get("remainingItemCount").is_none(),
        "{}",
        r.body
    );
    assert!(r.body["metadata"].get("continue").is_none(), "{}", r.body);
    let r = call_accept(
        &app,
        Method::GET,
        &format!("{BASE}?limit=2&labelSelector=app%3Dx"),
        None,
        "",
        accept,
    )
    .await;
    assert!(
        r.body["metadata"].get("remainingItemCount").is_none(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn discovery_documents() {
    let app = app();
    let r = call(&app, Method::GET, "/apis", None, "").await;
    assert_eq!(r.body["groups"][0]["name"], "pager.k8s.co");
    assert_eq!(
        r.body["groups"][0]["preferredVersion"]["version"],
        "v1alpha1"
    );
    let r = call(&app, Method::GET, "/apis/pager.k8s.co/v1alpha1", None, "").await;
    assert_eq!(r.body["resources"][0]["name"], "alerts");
    assert_eq!(r.body["resources"][0]["shortNames"], json!(["al"]));
    assert_eq!(r.body["resources"][1]["name"], "alerts/status");
    let aggregated =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = call_accept(&app, Method::GET, "/apis", None, "", Some(aggregated)).await;
    assert_eq!(
        r.headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert_eq!(
        r.body["items"][0]["versions"][0]["resources"][0]["resource"],
        "alerts"
    );
    // The aggregated document is JSON: asked for in protobuf only, it is not written as JSON
    // under a type the client did not list; the plain documents are, in what the client takes.
    let protobuf_only =
        "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    for path in ["/apis", "/api", "/apis/pager.k8s.co/v1alpha1"] {
        let r = call_accept(&app, Method::GET, path, None, "", Some(protobuf_only)).await;
        assert_status(&r, 406, "NotAcceptable");
        let r = call_accept(
            &app,
            Method::GET,
            path,
            None,
            "",
            Some(&format!("{protobuf_only},application/json")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.headers["content-type"], "application/json", "{path}");
    }
    let r = call_accept(
        &app,
        Method::GET,
        "/apis",
        None,
        "",
        Some(&format!(
            "{protobuf_only},application/vnd.kubernetes.protobuf"
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-type"],
        "application/vnd.kubernetes.protobuf"
    );
    let r = call(&app, Method::GET, "/version", None, "").await;
    assert_eq!(r.body["major"], "1");
    assert_eq!(
        call(&app, Method::GET, "/healthz", None, "").await.body,
        "ok"
    );
    // One check by name; an unknown one is 404; the verbose list names its probe.
    assert_eq!(
        call(&app, Method::GET, "/readyz/ping", None, "").await.body,
        "ok"
    );
    let r = call(&app, Method::GET, "/livez/bogus", None, "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(&app, Method::GET, "/readyz?verbose", None, "").await;
    assert!(
        r.body.as_str().unwrap().ends_with("readyz check passed\n"),
        "{}",
        r.body
    );
    // Excluded checks are skipped and said so; a name without a check is warned of.
    let r = call(
        &app,
        Method::GET,
        "/livez?verbose&exclude=ping&exclude=nope",
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        "[+]ping excluded: ok\n[+]storage ok\nwarn: some health checks cannot be excluded: no matches for \"nope\"\nlivez check passed\n"
    );
    // JSON only: a client that takes none gets 406.
    let r = call_accept(
        &app,
        Method::GET,
        "/openapi/v3",
        None,
        "",
        Some("text/html"),
    )
    .await;
    assert_status(&r, 406, "NotAcceptable");
    let r = call(&app, Method::GET, "/openapi/v3", None, "").await;
    let url = r.body["paths"]["apis/pager.k8s.co/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(&app, Method::GET, &url, None, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["components"]["schemas"]["co.k8s.pager.v1alpha1.Alert"].is_object());
}

#[tokio::test]
async fn watch_streams_events_with_selectors_and_410() {
    let app = app();
    let created = create(&app, "w0").await;
    let rv: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let req = Request::get(format!(
        "{BASE}?watch=1&resourceVersion={rv}&labelSelector=watch%3Dme"
    ))
    .body(Body::empty())
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    // Enters the selector (ADDED), changes (MODIFIED), leaves it (DELETED).
    let url = format!("{BASE}/w0");
    let mut last = Value::Null;
    for body in [
        r#"{"metadata":{"labels":{"watch":"me"}}}"#,
        r#"{"spec":{"message":"again"}}"#,
        r#"{"metadata":{"labels":{"watch":"not"}}}"#,
    ] {
        last = call(
            &app,
            Method::PATCH,
            &url,
            Some("application/merge-patch+json"),
            body,
        )
        .await
        .body;
    }
    let events = watch_events(&mut stream, Some(3)).await;
    let kinds: Vec<Value> = events.iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
    // Leaving the selection: the object as it was while selected, at the change's revision (as
    // kube-apiserver's watch cache sends it).
    let left = &events[2]["object"];
    assert_eq!(left["metadata"]["labels"]["watch"], "me");
    assert_eq!(left["spec"]["message"], "again");
    assert_eq!(
        left["metadata"]["resourceVersion"],
        last["metadata"]["resourceVersion"]
    );
    // Watching from before the retained history: a 410 ERROR event.
    let store = MemoryStore::with_options(apiserver_storage::StoreOptions {
        history_capacity: 2,
        ..Default::default()
    });
    let small = ApiServer::builder(AnyStore::Memory(store))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .build()
        .unwrap()
        .into_router();
    for i in 0..5 {
        create(&small, &format!("h{i}")).await;
    }
    let resp = small
        .clone()
        .oneshot(
            Request::get(format!("{BASE}?watch=1&resourceVersion=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let ev: Value = serde_json::from_slice(bytes.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
}

/// Responses of 128 KiB and more are gzip-compressed for a client that accepts it (kubectl and
/// client-go do, unasked), at the same bytes once decompressed; smaller ones, clients that do
/// not ask, and watches (whose events must come as they are written) are not.
#[tokio::test]
async fn large_responses_are_gzip_compressed_for_clients_that_accept_it() {
    use std::io::Read;
    let app = app();
    // About 700 bytes an Alert: 300 make a list of over 128 KiB.
    let long = "x".repeat(400);
    for i in 0..300 {
        let r = call(
            &app,
            Method::POST,
            BASE,
            JSON,
            &alert(&format!("gz{i:03}"), &long),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let get = |uri: String, gzip: bool| {
        let app = app.clone();
        async move {
            let mut req = Request::get(uri);
            if gzip {
                req = req.header("accept-encoding", "gzip");
            }
            let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let encoding = resp
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            (encoding, resp.into_body())
        }
    };
    let bytes = |body: Body| async move { axum::body::to_bytes(body, usize::MAX).await.unwrap() };

    let (encoding, plain) = get(BASE.to_string(), false).await;
    assert_eq!(encoding, None);
    let plain = bytes(plain).await;
    assert!(plain.len() as u64 > 128 * 1024, "{}", plain.len());
    let (encoding, compressed) = get(BASE.to_string(), true).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let compressed = bytes(compressed).await;
    assert!(compressed.len() < plain.len() / 4, "{}", compressed.len());
    let mut decompressed = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut decompressed)
        .unwrap();
    assert_eq!(decompressed, plain);

    // One object is far below the threshold.
    let (encoding, _) = get(format!("{BASE}/gz000"), true).await;
    assert_eq!(encoding, None);

    // A watch from the start replays 300 events, over 128 KiB, as they come: uncompressed.
    let (encoding, body) = get(format!("{BASE}?watch=1&resourceVersion=0"), true).await;
    assert_eq!(encoding, None);
    let mut stream = body.into_data_stream();
    let events = watch_events(&mut stream, Some(300)).await;
    assert_eq!(events[299]["object"]["metadata"]["name"], "gz299");
}

/// An `Accept-Encoding` gzip does not satisfy (`identity;q=0`, `*;q=0`) is answered as
/// kube-apiserver answers it, uncompressed with the handler's own status: a create is a 201, a
/// missing object a 404 — never a 406 after the write was done.
#[tokio::test]
async fn an_accept_encoding_refusing_identity_gets_the_answer_uncompressed() {
    let app = app();
    for (i, encoding) in ["identity;q=0", "*;q=0", "br;q=1, identity;q=0"]
        .into_iter()
        .enumerate()
    {
        let name = format!("ae{i}");
        let send = |method: Method, uri: String, body: Option<String>| {
            let app = app.clone();
            async move {
                let req = Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("accept-encoding", encoding)
                    .header("content-type", "application/json");
                let resp = app
                    .oneshot(req.body(body.map_or(Body::empty(), Body::from)).unwrap())
                    .await
                    .unwrap();
                assert_eq!(resp.headers().get("content-encoding"), None, "{encoding}");
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, serde_json::from_slice::<Value>(&body).unwrap())
            }
        };
        let (status, created) = send(Method::POST, BASE.into(), Some(alert(&name, "m"))).await;
        assert_eq!(status, StatusCode::CREATED, "{encoding}: {created}");
        let (status, got) = send(Method::GET, format!("{BASE}/{name}"), None).await;
        assert_eq!(status, StatusCode::OK, "{encoding}");
        assert_eq!(got["metadata"]["name"], name);
        let (status, missing) = send(Method::GET, format!("{BASE}/none"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{encoding}");
        assert_eq!(missing["reason"], "NotFound");
    }
}

/// The deprecated `/watch/` paths kube-apiserver still serves: the collection's watch, and a
/// named object's (the collection's watch selecting the name; a field selector naming another
/// object is refused). Only GET.
#[tokio::test]
async fn deprecated_watch_paths_watch_the_collection_or_one_object() {
    let app = app();
    let created = create(&app, "d0").await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let watch_base = "/apis/pager.k8s.co/v1alpha1/watch/namespaces/default/alerts";
    let open = |uri: String| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body().into_data_stream()
        }
    };
    let mut all = open(format!("{watch_base}?resourceVersion={rv}")).await;
    let mut one = open(format!("{watch_base}/d1?resourceVersion={rv}")).await;
    let mut everywhere = open(format!(
        "/apis/pager.k8s.co/v1alpha1/watch/alerts?resourceVersion={rv}"
    ))
    .await;
    create(&app, "d2").await;
    create(&app, "d1").await;
    let names = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["type"].as_str().unwrap(),
                    e["object"]["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        names(watch_events(&mut all, Some(2)).await),
        ["ADDED d2", "ADDED d1"]
    );
    assert_eq!(
        names(watch_events(&mut everywhere, Some(2)).await),
        ["ADDED d2", "ADDED d1"]
    );
    assert_eq!(names(watch_events(&mut one, Some(1)).await), ["ADDED d1"]);
    // A field selector must name the same object.
    let r = call(
        &app,
        Method::GET,
        &format!("{watch_base}/d1?fieldSelector=metadata.name%3Dd2"),
        None,
        "",
    )
    .await;
    assert_status(&r, 400, "BadRequest");
    assert_eq!(
        r.body["message"],
        "fieldSelector metadata.name doesn't match requested name"
    );
    let r = call(&app, Method::DELETE, &format!("{watch_base}/d1"), None, "").await;
    assert_status(&r, 405, "MethodNotAllowed");
    let r = call(
        &app,
        Method::GET,
        &format!("{watch_base}/d1/status"),
        None,
        "",
    )
    .await;
    assert_status(&r, 404, "NotFound");
}

/// A watcher that falls behind (its client reads nothing while the server's queue, the
/// store's buffer and the part of its history it needs fill) ends without an ERROR event, as
/// kube-apiserver ends a slow watcher; a new watch from the last event it read goes on with no
/// gap and no relist.
#[tokio::test]
async fn a_watch_that_falls_behind_ends_cleanly_and_resumes() {
    let store = MemoryStore::with_options(apiserver_storage::StoreOptions {
        watch_buffer: 2,
        history_capacity: 1024,
        ..Default::default()
    });
    let app = ApiServer::builder(AnyStore::Memory(store))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .build()
        .unwrap()
        .into_router();
    let first = create(&app, "b-first").await;
    let start: u64 = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let watch = |rv: u64| {
        let app = app.clone();
        async move {
            let req = Request::get(format!("{BASE}?watch=1&resourceVersion={rv}"))
                .body(Body::empty())
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body().into_data_stream()
        }
    };
    let mut slow = watch(start).await;
    // More than the server's per-watch queue (256 events), the store's buffer (2) and half its
    // history (512 events: the most a watcher may lag behind) hold; less than the history, so
    // that the events after the last one read are still there.
    let total = 900;
    for i in 0..total {
        create(&app, &format!("b{i:04}")).await;
    }
    // Reads what was queued, then the end of the stream: no ERROR event.
    let got = watch_events(&mut slow, None).await;
    assert!(
        !got.is_empty() && got.len() < total,
        "{} events before the end",
        got.len()
    );
    assert!(
        got.iter().all(|e| e["type"] == "ADDED"),
        "no ERROR event: {:?}",
        got.last()
    );
    let rv_of = |e: &Value| -> u64 {
        e["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let last = rv_of(got.last().unwrap());
    // Resuming from the last event read: every later object, in order, once.
    slow = watch(last).await;
    let rest = watch_events(&mut slow, Some(total - got.len())).await;
    let all: Vec<u64> = got.iter().chain(&rest).map(rv_of).collect();
    assert_eq!(all, (start + 1..=start + total as u64).collect::<Vec<_>>());
}

/// A deletecollection of more objects than a watcher's buffer (128 events) on the memory
/// store, which deletes without awaiting: a watch whose client reads gets every DELETED event,
/// and stays open.
#[tokio::test]
async fn a_big_deletecollection_reaches_a_reading_watch_whole() {
    let app = app();
    let base = "/apis/pager.k8s.co/v1alpha1/namespaces/bulk/alerts";
    let total = 1100;
    for i in 0..total {
        let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": format!("a{i:04}")}, "spec": {"message": "m"}});
        let r = call(&app, Method::POST, base, JSON, &body.to_string()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let listed = call(&app, Method::GET, base, None, "").await;
    let rv = listed.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let req = Request::get(format!("{base}?watch=1&resourceVersion={rv}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut watch = resp.into_body().into_data_stream();
    let r = call(&app, Method::DELETE, base, None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), total);
    let events = watch_events(&mut watch, Some(total)).await;
    assert!(
        events.iter().all(|e| e["type"] == "DELETED"),
        "{:?}",
        events.iter().find(|e| e["type"] != "DELETED")
    );
    let mut names: Vec<&str> = events
        .iter()
        .map(|e| e["object"]["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), total);
    // Still open: the next change arrives.
    let r = call(&app, Method::POST, base, JSON, &alert("after", "m")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let next = watch_events(&mut watch, Some(1)).await;
    assert_eq!(next[0]["type"], "ADDED");
    assert_eq!(next[0]["object"]["metadata"]["name"], "after");
}

/// As kube-apiserver's watch cache: with bookmarks allowed, a quiet watch gets one BOOKMARK 2 s
/// before its `timeoutSeconds` end, then the stream ends; without them, nothing.
#[tokio::test]
async fn a_bookmark_comes_just_before_the_watch_times_out() {
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .build()
        .unwrap()
        .into_router();
    let created = create(&app, "quiet").await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    for (bookmarks, want) in [(true, 1), (false, 0)] {
        let req = Request::get(format!(
            "{BASE}?watch=1&allowWatchBookmarks={bookmarks}&timeoutSeconds=3&resourceVersion={rv}"
        ))
        .body(Body::empty())
        .unwrap();
        let started = std::time::Instant::now();
        let body = app.clone().oneshot(req).await.unwrap().into_body();
        let bytes = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            axum::body::to_bytes(body, usize::MAX),
        )
        .await
        .expect("the watch ends at its timeout")
        .unwrap();
        assert!(started.elapsed() >= std::time::Duration::from_secs(3));
        let events: Vec<Value> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(events.len(), want, "bookmarks={bookmarks}: {events:?}");
        for ev in &events {
            assert_eq!(ev["type"], "BOOKMARK");
            assert_eq!(ev["object"]["metadata"]["resourceVersion"], rv.as_str());
        }
    }
}

/// A server sending bookmarks every 50 ms, holding one alert `name`; its resourceVersion.
async fn bookmarking_app(name: &str) -> (axum::Router, String) {
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .bookmark_interval(std::time::Duration::from_millis(50))
        .build()
        .unwrap()
        .into_router();
    let created = create(&app, name).await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    (app, rv)
}

/// A Table watch (what `kubectl get -w` asks for) sends its BOOKMARKs as Tables too, as Go's
/// watch encoder does, and the column definitions with its first event whatever its type.
#[tokio::test]
async fn a_table_watch_sends_bookmarks_as_tables() {
    let (app, rv) = bookmarking_app("t").await;
    let req = Request::get(format!(
        "{BASE}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}"
    ))
    .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
    .body(Body::empty())
    .unwrap();
    let mut stream = app
        .clone()
        .oneshot(req)
        .await
        .unwrap()
        .into_body()
        .into_data_stream();
    let mut buf = Vec::new();
    let mut next = async || loop {
        if let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            return serde_json::from_slice::<Value>(&line).unwrap();
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk);
    };
    let bookmark = next().await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["kind"], "Table", "{bookmark}");
    assert_eq!(bookmark["object"]["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        bookmark["object"]["metadata"]["resourceVersion"],
        rv.as_str()
    );
    assert!(
        !bookmark["object"]["columnDefinitions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    create(&app, "u").await;
    let added = loop {
        let ev = next().await;
        if ev["type"] != "BOOKMARK" {
            break ev;
        }
        assert_eq!(ev["object"]["kind"], "Table", "{ev}");
    };
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["kind"], "Table");
    assert_eq!(
        added["object"]["rows"][0]["object"]["metadata"]["name"],
        "u"
    );
    assert!(
        added["object"]["columnDefinitions"]
            .as_array()
            .is_none_or(|c| c.is_empty()),
        "{added}"
    );
}

#[tokio::test]
async fn watch_bookmarks_carry_the_current_resource_version() {
    let (app, rv) = bookmarking_app("b").await;
    let req = Request::get(format!(
        "{BASE}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}"
    ))
    .body(Body::empty())
    .unwrap();
    let mut stream = app
        .clone()
        .oneshot(req)
        .await
        .unwrap()
        .into_body()
        .into_data_stream();
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let ev: Value = serde_json::from_slice(chunk.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(ev["type"], "BOOKMARK");
    assert_eq!(ev["object"]["kind"], "Alert");
    assert_eq!(ev["object"]["metadata"]["resourceVersion"], rv.as_str());
    // Writes elsewhere move the store on: a quiet watch's bookmarks follow the store's revision,
    // so it never falls behind the history window.
    let elsewhere = call(
        &app,
        Method::POST,
        "/apis/pager.k8s.co/v1alpha1/namespaces/other/alerts",
        JSON,
        &alert("c", "elsewhere"),
    )
    .await;
    let later = elsewhere.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(later, rv);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("no bookmark reached the store's revision")
            .unwrap()
            .unwrap();
        for line in chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let ev: Value = serde_json::from_slice(line).unwrap();
            assert_eq!(
                ev["type"], "BOOKMARK",
                "the watched namespace did not change"
            );
        }
        let last = chunk
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap();
        let ev: Value = serde_json::from_slice(last).unwrap();
        if ev["object"]["metadata"]["resourceVersion"] == later.as_str() {
            break;
        }
    }
    // Without allowWatchBookmarks there are none: the next event is the change itself.
    let req = Request::get(format!("{BASE}?watch=1&resourceVersion={rv}"))
        .body(Body::empty())
        .unwrap();
    let mut stream = app
        .clone()
        .oneshot(req)
        .await
        .unwrap()
        .into_body()
        .into_data_stream();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    call(
        &app,
        Method::PATCH,
        &format!("{BASE}/b"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"message":"x"}}"#,
    )
    .await;
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let ev: Value = serde_json::from_slice(chunk.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(ev["type"], "MODIFIED");
}

#[tokio::test]
async fn a_garbage_watch_timeout_is_refused() {
    let app = app();
    // The parameter codec refuses a non-integer: 400 for a watch and for a list alike.
    for query in ["watch=1&timeoutSeconds=soon", "timeoutSeconds=soon"] {
        let r = call(&app, Method::GET, &format!("{BASE}?{query}"), None, "").await;
        assert_status(&r, 400, "BadRequest");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("strconv.ParseInt: parsing \"soon\": invalid syntax"),
            "{}",
            r.body
        );
    }
}

/// Boolean query parameters read as apimachinery's parameter codec reads them: present is true
/// unless `0` or `false` (any case), the empty value included.
#[tokio::test]
async fn boolean_parameters_are_true_unless_false_or_zero() {
    let app = app();
    create(&app, "b0").await;
    for (query, watch) in [
        ("watch", true),
        ("watch=", true),
        ("watch=yes", true),
        ("watch=TRUE", true),
        ("watch=0", false),
        ("watch=False", false),
    ] {
        let uri = format!("{BASE}?{query}&timeoutSeconds=1");
        if !watch {
            let r = call(&app, Method::GET, &uri, None, "").await;
            assert_eq!(r.body["kind"], "AlertList", "{query}: {}", r.body);
            continue;
        }
        let resp = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        let mut stream = resp.into_body().into_data_stream();
        let first = watch_events(&mut stream, Some(1)).await.remove(0);
        assert_eq!(first["type"], "ADDED", "{query}: {first}");
    }
}

/// The path is read percent-decoded, as Go reads `URL.Path`: `a%31` names `a1`.
#[tokio::test]
async fn percent_encoded_paths_are_decoded() {
    let app = app();
    create(&app, "a1").await;
    let r = call(&app, Method::GET, &format!("{BASE}/a%31"), None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["metadata"]["name"], "a1");
    let r = call(
        &app,
        Method::GET,
        "/apis/pager.k8s.co/v1alpha1/namespaces/d%65fault/alerts",
        None,
        "",
    )
    .await;
    assert_eq!(r.body["items"][0]["metadata"]["name"], "a1", "{}", r.body);
    let r = call(&app, Method::GET, &format!("{BASE}/%ff"), None, "").await;
    assert_status(&r, 400, "BadRequest");
}

/// `PartialObjectMetadata` answers one object and `PartialObjectMetadataList` a list: the
/// other shape is a 406, as Go's `asPartialObjectMetadata[List]` refuses it; a watch takes either.
#[tokio::test]
async fn partial_object_metadata_must_fit_the_answer() {
    let app = app();
    create(&app, "m1").await;
    let single = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    let list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    let get = |uri: String, accept: &'static str| {
        let app = app.clone();
        async move { call_accept(&app, Method::GET, &uri, None, "", Some(accept)).await }
    };
    let r = get(format!("{BASE}/m1"), single).await;
    assert_eq!(r.body["kind"], "PartialObjectMetadata", "{}", r.body);
    let r = get(BASE.to_string(), list).await;
    assert_eq!(r.body["kind"], "PartialObjectMetadataList", "{}", r.body);
    let r = get(format!("{BASE}/m1"), list).await;
    assert_status(&r, 406, "NotAcceptable");
    assert_eq!(
        r.body["message"],
        "you requested PartialObjectMetadataList, but the requested object is not a list (*Alert)"
    );
    let r = get(BASE.to_string(), single).await;
    assert_status(&r, 406, "NotAcceptable");
    for accept in [single, list] {
        let resp = app
            .clone()
            .oneshot(
                Request::get(format!("{BASE}?watch=1"))
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let mut stream = resp.into_body().into_data_stream();
        let first = watch_events(&mut stream, Some(1)).await.remove(0);
        assert_eq!(first["object"]["kind"], "PartialObjectMetadata", "{first}");
    }
}

/// `Accept: application/yaml`: objects, lists and errors in YAML, as Go's YAML serializer writes
/// them; a watch has no YAML framing (406).
#[tokio::test]
async fn yaml_is_served_when_asked_for() {
    let app = app();
    create(&app, "y1").await;
    let yaml = Some("application/yaml");
    // Tables and metadata-only answers in YAML too (kube-apiserver's `AllowsMediaTypeTransform`).
    let table = "application/yaml;as=Table;v=v1;g=meta.k8s.io";
    let metadata = "application/yaml;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io";
    for (uri, accept, check) in [
        (format!("{BASE}/y1"), "application/yaml", "name: y1"),
        (BASE.to_string(), "application/yaml", "kind: AlertList"),
        (
            format!("{BASE}/missing"),
            "application/yaml",
            "reason: NotFound",
        ),
        (BASE.to_string(), table, "kind: Table"),
        (format!("{BASE}/y1"), table, "columnDefinitions:"),
        (
            BASE.to_string(),
            metadata,
            "kind: PartialObjectMetadataList",
        ),
    ] {
        let resp = app
            .clone()
            .oneshot(
                Request::get(&uri)
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "application/yaml", "{uri}");
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.contains(check), "{uri}: {text}");
    }
    let r = call_accept(
        &app,
        Method::GET,
        &format!("{BASE}?watch=1"),
        None,
        "",
        yaml,
    )
    .await;
    assert_status(&r, 406, "NotAcceptable");
}

/// JSON is indented for `?pretty=true`, and for curl, Wget and browsers unless `pretty` says
/// otherwise (Go's `isPrettyPrint`).
#[tokio::test]
async fn pretty_json_for_people() {
    let app = app();
    create(&app, "p1").await;
    let text = |query: &'static str, agent: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut req = Request::get(format!("{BASE}/p1{query}"));
            if let Some(a) = agent {
                req = req.header("user-agent", a);
            }
            let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    assert!(!text("", None).await.contains("\n  "));
    assert!(
        text("?pretty=true", None)
            .await
            .starts_with("{\n  \"apiVersion\"")
    );
    assert!(
        text("", Some("curl/8.5.0"))
            .await
            .contains("\n  \"kind\": \"Alert\"")
    );
    assert!(
        !text("?pretty=false", Some("curl/8.5.0"))
            .await
            .contains("\n  ")
    );
    assert!(
        !text("", Some("kubectl/v1.33.0 (linux/amd64)"))
            .await
            .contains("\n  ")
    );
}

/// As Go's encoding/json reads them: an invalid UTF-8 byte or an unpaired surrogate escape in a
/// string of a JSON body (create, update, merge and JSON patches) is U+FFFD, not a 400; an
/// escaped backslash before `ud800` is text.
#[tokio::test]
async fn invalid_utf8_and_lone_surrogates_read_as_go_reads_them() {
    let app = app();
    let send = |method: Method, uri: String, ct: &'static str, body: Vec<u8>| {
        let app = app.clone();
        async move {
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let body = br#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"u1"},"spec":{"message":"a \ud800"}}"#;
    let (code, out) = send(Method::POST, BASE.into(), "application/json", body.to_vec()).await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_eq!(out["spec"]["message"], "a \u{FFFD}");
    let mut body = br#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"u2"},"spec":{"message":"x"#.to_vec();
    body.extend_from_slice(b"\xff\xfe");
    body.extend_from_slice(br#" \\ud800"}}"#);
    let (code, out) = send(Method::POST, BASE.into(), "application/json", body).await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_eq!(out["spec"]["message"], "x\u{FFFD}\u{FFFD} \\ud800");
    // An update, a merge patch and a JSON patch.
    let mut update = out.clone();
    update["spec"]["message"] = json!("PLACEHOLDER");
    let update = update
        .to_string()
        .replace("PLACEHOLDER", r"\udc00 and \ud83d\ude00");
    let (code, out) = send(
        Method::PUT,
        format!("{BASE}/u2"),
        "application/json",
        update.into_bytes(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["spec"]["message"], "\u{FFFD} and 😀");
    let (code, out) = send(
        Method::PATCH,
        format!("{BASE}/u1"),
        "application/merge-patch+json",
        br#"{"spec":{"message":"m \ud800\ud800"}}"#.to_vec(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["spec"]["message"], "m \u{FFFD}\u{FFFD}");
    let mut patch = br#"[{"op":"replace","path":"/spec/message","value":""#.to_vec();
    patch.extend_from_slice(b"j\xc3\"}]");
    let (code, out) = send(
        Method::PATCH,
        format!("{BASE}/u1"),
        "application/json-patch+json",
        patch,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["spec"]["message"], "j\u{FFFD}");
    // Invalid outside a string is still a 400.
    let (code, out) = send(
        Method::POST,
        BASE.into(),
        "application/json",
        b"{\"apiVersion\":\"pager.k8s.co/v1alpha1\",\"kind\":\"Alert\"\xff}".to_vec(),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{out}");
}

/// The readiness probe reads the embedded store's file (its revision is told from memory): a
/// data file replaced under the running server fails `/readyz`, and writes are refused with a
/// 503 that says why, while reads go on from the open file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_when_the_embedded_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pager.db");
    let store = apiserver_storage::EmbeddedStore::open(&path).unwrap();
    let app = app_on(AnyStore::Embedded(store), |b| b);
    let alert = |name: &str| {
        json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
               "metadata": {"name": name}, "spec": {"message": "m"}})
        .to_string()
    };
    let r = call(
        &app,
        Method::POST,
        BASE,
        Some("application/json"),
        &alert("a"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        call(&app, Method::GET, "/readyz", None, "").await.status,
        StatusCode::OK
    );
    let other = dir.path().join("other.db");
    drop(apiserver_storage::EmbeddedStore::open(&other).unwrap());
    std::fs::rename(&other, &path).unwrap();
    let r = call(&app, Method::GET, "/readyz/storage", None, "").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.body.as_str().unwrap().contains("was replaced"),
        "{}",
        r.body
    );
    let r = call(
        &app,
        Method::POST,
        BASE,
        Some("application/json"),
        &alert("b"),
    )
    .await;
    assert_status(&r, 503, "ServiceUnavailable");
    let r = call(&app, Method::GET, &format!("{BASE}/a"), None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// `GET /api/v1/namespaces/<name>` answers whether a namespace exists, as the server knows
/// namespaces: without a namespace source every one does (Active); with one, what it knows, and
/// `namespaces "<name>" not found` otherwise. Only reads: namespaces are not served here.
#[tokio::test]
async fn namespaces_are_read_from_the_namespace_source() {
    let r = call(&app(), Method::GET, "/api/v1/namespaces/anything", None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["kind"], "Namespace");
    assert_eq!(r.body["apiVersion"], "v1");
    assert_eq!(r.body["metadata"]["name"], "anything");
    assert_eq!(r.body["status"]["phase"], "Active");
    let listed = app_on(AnyStore::Memory(MemoryStore::new()), |b| {
        b.namespaces(std::sync::Arc::new(apiserver::StaticNamespaces(
            ["default".to_string()].into(),
        )))
    });
    let r = call(&listed, Method::GET, "/api/v1/namespaces/default", None, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(&listed, Method::GET, "/api/v1/namespaces/gone", None, "").await;
    assert_status(&r, 404, "NotFound");
    assert_eq!(r.body["message"], "namespaces \"gone\" not found");
    assert_eq!(r.body["details"]["kind"], "namespaces");
    let r = call(
        &listed,
        Method::DELETE,
        "/api/v1/namespaces/default",
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A write asked for as a Table answers with one, as kube-apiserver's `transformResponseObject`
/// answers creates, updates and patches (`includeObject` read as for a get).
#[tokio::test]
async fn writes_answer_in_the_negotiated_table_form() {
    let app = app();
    let table = Some("application/json;as=Table;v=v1;g=meta.k8s.io");
    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "t1"}, "spec": {"message": "m"}})
    .to_string();
    let r = call_accept(&app, Method::POST, BASE, JSON, &body, table).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["kind"], "Table", "{}", r.body);
    assert_eq!(r.body["rows"][0]["cells"][0], "t1", "{}", r.body);
    assert_eq!(r.body["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let r = call_accept(
        &app,
        Method::PATCH,
        &format!("{BASE}/t1?includeObject=Object"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"message":"n"}}"#,
        table,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["kind"], "Table", "{}", r.body);
    assert_eq!(r.body["rows"][0]["object"]["spec"]["message"], "n");
    // A bad `includeObject` is refused before anything is written.
    let bad = body.replace("\"t1\"", "\"t2\"");
    let r = call_accept(
        &app,
        Method::POST,
        &format!("{BASE}?includeObject=Everything"),
        JSON,
        &bad,
        table,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = call(&app, Method::GET, &format!("{BASE}/t2"), None, "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // JSON listed first is JSON.
    let r = call_accept(
        &app,
        Method::PATCH,
        &format!("{BASE}/t1"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"message":"o"}}"#,
        Some("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"),
    )
    .await;
    assert_eq!(r.body["kind"], "Alert", "{}", r.body);
}
