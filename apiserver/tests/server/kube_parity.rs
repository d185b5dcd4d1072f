//! Behaviours kube-apiserver (1.29–1.33) has that a black-box comparison found missing: a create
//! carrying a `resourceVersion` refused, the deletion fields immutable on updates, a GET at a
//! `resourceVersion` the store has not reached a 504, and emptied metadata maps and lists stored
//! and served absent (Go's `omitempty`) — through the router, on every backend.

#[path = "../../storage/tests/common/etcd.rs"]
mod etcd;

use apiserver::{ApiServer, Cause, Context, Resource, Strategy};
use apiserver_storage::{AnyStore, EtcdOptions, EtcdStore, MemoryStore, StoreOptions};
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
}

/// A revision the store has not reached is waited for this long here (3 s by default).
const FRESHNESS_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

fn app_on(store: AnyStore) -> axum::Router {
    ApiServer::builder(store)
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS).strategy(AlertStrategy))
        .freshness_wait(FRESHNESS_WAIT)
        .build()
        .unwrap()
        .into_router()
}

fn app() -> axum::Router {
    app_on(AnyStore::Memory(MemoryStore::new()))
}

const BASE: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";
const JSON: Option<&str> = Some("application/json");
const MERGE: Option<&str> = Some("application/merge-patch+json");
const STRATEGIC: Option<&str> = Some("application/strategic-merge-patch+json");
const JSON_PATCH: Option<&str> = Some("application/json-patch+json");
const APPLY: Option<&str> = Some("application/apply-patch+yaml");

fn url(name: &str) -> String {
    format!("{BASE}/{name}")
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    ct: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

fn alert(name: &str) -> Value {
    json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": name}, "spec": {"message": "hello"}})
}

async fn create(app: &axum::Router, body: &Value) -> Value {
    let (code, out) = call(app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    out
}

fn assert_status(code: StatusCode, body: &Value, want: u16, reason: &str) {
    assert_eq!(code.as_u16(), want, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["code"], want, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
}

// ---- 1. A create carrying a resourceVersion ----

const RV_ON_CREATE: &str = "resourceVersion should not be set on objects to be created";

async fn create_with_resource_version_is_refused(app: &axum::Router) {
    let mut body = alert("r1");
    body["metadata"]["resourceVersion"] = json!("5");
    for query in ["", "?dryRun=All"] {
        let (code, out) = call(
            app,
            Method::POST,
            &format!("{BASE}{query}"),
            JSON,
            &body.to_string(),
        )
        .await;
        assert_status(code, &out, 400, "BadRequest");
        assert_eq!(out["message"], RV_ON_CREATE, "{query}: {out}");
    }
    let (code, _) = call(app, Method::GET, &url("r1"), None, "").await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was stored");

    // An object read back, deleted and POSTed again as it was read (what curl or a client
    // library sends; `kubectl create -f` clears resourceVersion before sending).
    let created = create(app, &alert("r2")).await;
    let (code, out) = call(app, Method::GET, &url("r2"), None, "").await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let (code, _) = call(app, Method::DELETE, &url("r2"), None, "").await;
    assert_eq!(code, StatusCode::OK);
    let (code, refused) = call(app, Method::POST, BASE, JSON, &out.to_string()).await;
    assert_status(code, &refused, 400, "BadRequest");
    assert_eq!(refused["message"], RV_ON_CREATE);
    // Without it (or with Go's "no version": empty or "0") the same object is created again.
    for rv in [json!(""), json!("0")] {
        let mut again = out.clone();
        again["metadata"]["resourceVersion"] = rv;
        again["metadata"]["uid"] = Value::Null;
        let recreated = create(app, &again).await;
        assert_ne!(recreated["metadata"]["uid"], created["metadata"]["uid"]);
        assert_ne!(recreated["metadata"]["resourceVersion"], "0");
        let (code, _) = call(app, Method::DELETE, &url("r2"), None, "").await;
        assert_eq!(code, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_create_with_a_resource_version_is_a_400_on_memory() {
    create_with_resource_version_is_refused(&app()).await;
}

#[tokio::test]
async fn a_create_with_a_resource_version_is_a_400_on_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let store = apiserver_storage::EmbeddedStore::open(dir.path().join("db")).unwrap();
    create_with_resource_version_is_refused(&app_on(AnyStore::Embedded(store))).await;
}

/// A server-side apply to a name that does not exist creates the object whatever
/// `resourceVersion` its configuration carries, as kube-apiserver's generic registry does: the
/// create-on-update of `Store.Update` has no resourceVersion check, and etcd3's
/// `GuaranteedUpdate` clears it before storing (kubernetes/kubernetes#106745: ConfigMaps, like
/// custom resources, are created).
#[tokio::test]
async fn an_apply_with_a_resource_version_creates_as_kube_does() {
    let app = app();
    let mut config = alert("s1");
    config["metadata"]["resourceVersion"] = json!("99999");
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=test", url("s1")),
        APPLY,
        &config.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_ne!(out["metadata"]["resourceVersion"], "99999", "{out}");
    // On the object it created, the same resourceVersion is a stale precondition: 409.
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=test", url("s1")),
        APPLY,
        &config.to_string(),
    )
    .await;
    assert_status(code, &out, 409, "Conflict");
}

// ---- 2. deletionTimestamp and deletionGracePeriodSeconds ----

const IMMUTABLE_TS: &str = "Invalid value: 2030-01-02 03:04:05 +0000 UTC: field is immutable";

#[tokio::test]
async fn deletion_fields_of_a_live_object_are_immutable() {
    let app = app();
    let created = create(&app, &alert("d1")).await;
    let rv = created["metadata"]["resourceVersion"].clone();
    let ts = json!({"metadata": {"deletionTimestamp": "2030-01-02T03:04:05Z"}});
    let grace = json!({"metadata": {"deletionGracePeriodSeconds": 30}});
    let mut put_ts = created.clone();
    put_ts["metadata"]["deletionTimestamp"] = json!("2030-01-02T03:04:05Z");
    let mut put_grace = created.clone();
    put_grace["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    let mut apply_ts = alert("d1");
    apply_ts["metadata"]["deletionTimestamp"] = json!("2030-01-02T03:04:05Z");
    let ts_cause = ("metadata.deletionTimestamp", IMMUTABLE_TS);
    let grace_cause = (
        "metadata.deletionGracePeriodSeconds",
        "Invalid value: 30: field is immutable",
    );
    let json_patch = json!([{"op": "add", "path": "/metadata/deletionTimestamp", "value": "2030-01-02T03:04:05Z"}]);
    for (method, ct, body, (field, message)) in [
        (Method::PATCH, MERGE, &ts, ts_cause),
        (Method::PATCH, STRATEGIC, &ts, ts_cause),
        (Method::PATCH, JSON_PATCH, &json_patch, ts_cause),
        (Method::PATCH, MERGE, &grace, grace_cause),
        (Method::PATCH, STRATEGIC, &grace, grace_cause),
        (Method::PUT, JSON, &put_ts, ts_cause),
        (Method::PUT, JSON, &put_grace, grace_cause),
        (Method::PATCH, APPLY, &apply_ts, ts_cause),
    ] {
        let uri = format!("{}?fieldManager=test", url("d1"));
        let (code, out) = call(&app, method.clone(), &uri, ct, &body.to_string()).await;
        let what = format!("{method} {ct:?} {body}");
        assert_status(code, &out, 422, "Invalid");
        assert_eq!(
            out["message"],
            format!("Alert.pager.k8s.co \"d1\" is invalid: {field}: {message}"),
            "{what}"
        );
        let cause = &out["details"]["causes"][0];
        assert_eq!(cause["reason"], "FieldValueInvalid", "{what}: {out}");
        assert_eq!(cause["field"], field, "{what}: {out}");
        assert_eq!(cause["message"], message, "{what}: {out}");
    }
    // Nothing was written.
    let (_, got) = call(&app, Method::GET, &url("d1"), None, "").await;
    assert_eq!(got["metadata"]["resourceVersion"], rv, "{got}");
    assert!(got["metadata"].get("deletionTimestamp").is_none(), "{got}");
    assert!(
        got["metadata"].get("deletionGracePeriodSeconds").is_none(),
        "{got}"
    );
    // Both at once: both causes, in Go's order.
    let both = json!({"metadata": {"deletionTimestamp": "2030-01-02T03:04:05.250Z", "deletionGracePeriodSeconds": 30}});
    let (code, out) = call(&app, Method::PATCH, &url("d1"), MERGE, &both.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["details"]["causes"],
        json!([
            {"reason": "FieldValueInvalid", "field": "metadata.deletionTimestamp",
             "message": "Invalid value: 2030-01-02 03:04:05.25 +0000 UTC: field is immutable"},
            {"reason": "FieldValueInvalid", "field": "metadata.deletionGracePeriodSeconds",
             "message": "Invalid value: 30: field is immutable"},
        ]),
        "{out}"
    );
}

/// Go's `rest.BeforeUpdate` on an object being deleted: a `deletionTimestamp` removed or changed
/// by an update is put back, a `deletionGracePeriodSeconds` removed is put back, a changed one
/// is a 422.
#[tokio::test]
async fn an_update_keeps_the_deletion_fields_of_a_deleting_object() {
    let app = app();
    let mut held = alert("d2");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    create(&app, &held).await;
    let (code, marked) = call(&app, Method::DELETE, &url("d2"), None, "").await;
    assert!(code.is_success(), "{marked}");
    let ts = marked["metadata"]["deletionTimestamp"].clone();
    assert!(ts.is_string(), "{marked}");
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 0);

    for patch in [
        json!({"metadata": {"deletionTimestamp": null, "deletionGracePeriodSeconds": null, "labels": {"a": "1"}}}),
        json!({"metadata": {"deletionTimestamp": "2030-01-02T03:04:05Z", "labels": {"a": "2"}}}),
    ] {
        let (code, out) = call(&app, Method::PATCH, &url("d2"), MERGE, &patch.to_string()).await;
        assert_eq!(code, StatusCode::OK, "{patch}: {out}");
        assert_eq!(out["metadata"]["deletionTimestamp"], ts, "{out}");
        assert_eq!(out["metadata"]["deletionGracePeriodSeconds"], 0, "{out}");
    }
    let (_, mut got) = call(&app, Method::GET, &url("d2"), None, "").await;
    assert_eq!(got["metadata"]["labels"], json!({"a": "2"}));
    got["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("deletionTimestamp");
    let (code, out) = call(&app, Method::PUT, &url("d2"), JSON, &got.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["metadata"]["deletionTimestamp"], ts, "{out}");

    let grace = json!({"metadata": {"deletionGracePeriodSeconds": 30}});
    let (code, out) = call(&app, Method::PATCH, &url("d2"), MERGE, &grace.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["message"],
        "Alert.pager.k8s.co \"d2\" is invalid: metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"
    );

    // Removing the finalizer still finishes the deletion.
    let done = json!({"metadata": {"finalizers": null}});
    let (code, out) = call(&app, Method::PATCH, &url("d2"), MERGE, &done.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let (code, _) = call(&app, Method::GET, &url("d2"), None, "").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

// ---- 3. A GET at a resourceVersion the store has not reached ----

fn assert_too_large(code: StatusCode, out: &Value, asked: u64, current: u64, what: &str) {
    assert_status(code, out, 504, "Timeout");
    assert_eq!(
        out["message"],
        format!("Timeout: Too large resource version: {asked}, current: {current}"),
        "{what}"
    );
    assert_eq!(out["details"]["retryAfterSeconds"], 1, "{what}: {out}");
    assert_eq!(
        out["details"]["causes"][0]["reason"], "ResourceVersionTooLarge",
        "{what}: {out}"
    );
    assert_eq!(
        out["details"]["causes"][0]["message"], "Too large resource version",
        "{what}: {out}"
    );
}

async fn get_at_a_future_resource_version(app: &axum::Router) {
    let created = create(app, &alert("g1")).await;
    let rv: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The store's revision is at least the object's; a write elsewhere may have moved it on
    // (etcd is shared): `current` is read back from the answer's list.
    let (_, list) = call(app, Method::GET, BASE, None, "").await;
    let current: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(current >= rv);
    let asked = current + 1_000_000;

    // The Status's retryAfterSeconds is a `Retry-After` header too (Go's ErrorNegotiated).
    let resp = app
        .clone()
        .oneshot(
            Request::get(format!("{}?resourceVersion={asked}", url("g1")))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );

    let (code, out) = call(
        app,
        Method::GET,
        &format!("{}?resourceVersion={asked}", url("g1")),
        None,
        "",
    )
    .await;
    assert_too_large(code, &out, asked, current, "get");
    // Before whether the object exists, as Go's etcd3 Get checks.
    let (code, out) = call(
        app,
        Method::GET,
        &format!("{}?resourceVersion={asked}", url("none")),
        None,
        "",
    )
    .await;
    assert_too_large(code, &out, asked, current, "get of a missing object");
    // A watch from that revision: the same Status as an ERROR event of a 200 stream (as
    // kube-apiserver's watch cache fails a started watch), not a stream that stays silent —
    // and not an HTTP 504, which clients retry for minutes instead of relisting.
    // A streaming list too: kube-apiserver's watch cache waits to be fresh, then fails the
    // started watch (`newErrWatcher`).
    for query in [
        format!("watch=1&resourceVersion={asked}"),
        format!("watch=1&resourceVersion={asked}&allowWatchBookmarks=true"),
        format!(
            "watch=1&resourceVersion={asked}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        ),
    ] {
        let (code, out) = call(app, Method::GET, &format!("{BASE}?{query}"), None, "").await;
        assert_eq!(code, StatusCode::OK, "{query}: {out}");
        assert_eq!(out["type"], "ERROR", "{query}: {out}");
        assert_too_large(
            StatusCode::GATEWAY_TIMEOUT,
            &out["object"],
            asked,
            current,
            &query,
        );
    }
    // The same Status from a list (NotOlderThan and Exact).
    for query in [
        format!("resourceVersion={asked}"),
        format!("resourceVersion={asked}&resourceVersionMatch=NotOlderThan"),
        format!("resourceVersion={asked}&resourceVersionMatch=Exact"),
    ] {
        let (code, out) = call(app, Method::GET, &format!("{BASE}?{query}"), None, "").await;
        assert_too_large(code, &out, asked, current, &query);
    }

    // Reached revisions, "0" (any) and none: the object.
    for query in [
        String::new(),
        "?resourceVersion=".into(),
        "?resourceVersion=0".into(),
        format!("?resourceVersion={rv}"),
        format!("?resourceVersion={}", rv - 1),
        format!("?resourceVersion={current}"),
    ] {
        let (code, out) = call(app, Method::GET, &format!("{}{query}", url("g1")), None, "").await;
        assert_eq!(code, StatusCode::OK, "{query}: {out}");
        assert_eq!(
            out["metadata"]["resourceVersion"],
            rv.to_string(),
            "{query}"
        );
    }
    // Digits only, as Go's `ParseUint` reads them (no sign either), and within 64 bits: on a
    // get and on a list alike.
    let too_large = "99999999999999999999";
    for (path, sent, read, why) in [
        (
            url("g1"),
            "abc".to_string(),
            "abc".to_string(),
            "invalid syntax",
        ),
        (
            url("g1"),
            format!("%2B{rv}"),
            format!("+{rv}"),
            "invalid syntax",
        ),
        (
            BASE.to_string(),
            too_large.to_string(),
            too_large.to_string(),
            "value out of range",
        ),
    ] {
        let (code, out) = call(
            app,
            Method::GET,
            &format!("{path}?resourceVersion={sent}"),
            None,
            "",
        )
        .await;
        assert_status(code, &out, 400, "BadRequest");
        assert_eq!(
            out["message"],
            format!(
                r#"invalid resource version: resourceVersion: Invalid value: "{read}": strconv.ParseUint: parsing "{read}": {why}"#
            )
        );
    }
    let (code, out) = call(
        app,
        Method::GET,
        &format!("{}?resourceVersion=0", url("none")),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 404, "NotFound");
}

#[tokio::test]
async fn a_get_at_a_future_resource_version_is_a_504_on_memory() {
    get_at_a_future_resource_version(&app()).await;
}

#[tokio::test]
async fn a_get_at_a_future_resource_version_is_a_504_on_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let store = apiserver_storage::EmbeddedStore::open(dir.path().join("db")).unwrap();
    get_at_a_future_resource_version(&app_on(AnyStore::Embedded(store))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_at_a_future_resource_version_is_a_504_on_etcd_with_and_without_the_watch_cache() {
    async fn connect(url: String, prefix: &str) -> EtcdStore {
        let options = EtcdOptions {
            prefix: prefix.into(),
            ..EtcdOptions::default()
        };
        EtcdStore::connect(&[url], options).await.unwrap()
    }
    let etcd = etcd::Etcd::start();
    let plain = AnyStore::from(connect(etcd.client_url(), "/plain").await);
    get_at_a_future_resource_version(&app_on(plain)).await;
    let cached = AnyStore::from(connect(etcd.client_url(), "/cached").await)
        .with_watch_cache(StoreOptions::default());
    assert!(matches!(cached, AnyStore::Cached(_)));
    get_at_a_future_resource_version(&app_on(cached)).await;
}

/// A get, list or watch from a revision the store reaches within the freshness wait (the
/// client read it from a replica a little ahead) is served once it has, as kube-apiserver's
/// watch cache waits to be fresh: a watch sees the writes after that revision.
#[tokio::test]
async fn a_revision_the_store_reaches_soon_is_waited_for() {
    let app = app_on(AnyStore::Memory(MemoryStore::new()));
    let created = create(&app, &alert("first")).await;
    let current: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let next = current + 1;
    // Revision `next` comes with "second", a little after the requests below.
    let later = {
        let app = app.clone();
        async move {
            tokio::time::sleep(FRESHNESS_WAIT / 4).await;
            create(&app, &alert("second")).await;
            create(&app, &alert("third")).await;
        }
    };
    let watch_url = format!("{BASE}?watch=1&resourceVersion={next}&timeoutSeconds=1");
    let get_url = format!("{}?resourceVersion={next}", url("first"));
    let list_url = format!("{BASE}?resourceVersion={next}");
    let streaming_url = format!(
        "{BASE}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={next}&timeoutSeconds=1"
    );
    let ((code, event), (get_code, got), (list_code, listed), (streaming_code, initial), ()) = tokio::join!(
        call(&app, Method::GET, &watch_url, None, ""),
        call(&app, Method::GET, &get_url, None, ""),
        call(&app, Method::GET, &list_url, None, ""),
        call(&app, Method::GET, &streaming_url, None, ""),
        later
    );
    // A streaming list starts with what exists at that revision or later, then its end.
    assert_eq!(streaming_code, StatusCode::OK, "{initial}");
    let initial = initial.as_str().unwrap_or_default();
    for part in [r#""name":"second""#, "k8s.io/initial-events-end"] {
        assert!(initial.contains(part), "{part} in {initial}");
    }
    // The events after the revision asked for: "third" only.
    assert_eq!(code, StatusCode::OK, "{event}");
    assert_eq!(event["type"], "ADDED", "{event}");
    assert_eq!(event["object"]["metadata"]["name"], "third", "{event}");
    assert_eq!(get_code, StatusCode::OK, "{got}");
    assert_eq!(list_code, StatusCode::OK, "{listed}");
    assert!(listed["items"].as_array().unwrap().len() >= 2, "{listed}");
}

// ---- 4. Emptied labels, annotations, finalizers, owner references ----

fn assert_absent(meta: &Value, keys: &[&str], what: &str) {
    for key in keys {
        assert!(meta.get(*key).is_none(), "{what}: {key} in {meta}");
    }
}

#[tokio::test]
async fn emptied_metadata_maps_and_lists_are_absent() {
    let app = app();
    // A watch from now sees the writes below.
    let watch = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("{BASE}?watch=1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut events = watch.into_body().into_data_stream();

    let mut full = alert("e1");
    full["metadata"]["labels"] = json!({"a": "1"});
    full["metadata"]["annotations"] = json!({"x": "y"});
    full["metadata"]["finalizers"] = json!(["example.com/f"]);
    full["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u1"}]);
    create(&app, &full).await;

    let patches = [
        (
            STRATEGIC,
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            "labels",
        ),
        (
            MERGE,
            json!({"metadata": {"annotations": {"x": null}}}),
            "annotations",
        ),
        (
            STRATEGIC,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/f"]}}),
            "finalizers",
        ),
        (
            STRATEGIC,
            json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "u1"}]}}),
            "ownerReferences",
        ),
    ];
    for (ct, patch, key) in &patches {
        let (code, out) = call(&app, Method::PATCH, &url("e1"), *ct, &patch.to_string()).await;
        assert_eq!(code, StatusCode::OK, "{patch}: {out}");
        assert_absent(&out["metadata"], &[key], "patch answer");
        let (_, got) = call(&app, Method::GET, &url("e1"), None, "").await;
        assert_absent(&got["metadata"], &[key], "get");
    }
    // Merge patches setting them empty, and a PUT with them empty.
    let mut full2 = alert("e2");
    full2["metadata"]["labels"] = json!({"a": "1"});
    full2["metadata"]["finalizers"] = json!(["example.com/f"]);
    create(&app, &full2).await;
    let empty = json!({"metadata": {"labels": {"a": null}, "finalizers": []}});
    let (code, out) = call(&app, Method::PATCH, &url("e2"), MERGE, &empty.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_absent(&out["metadata"], &["labels", "finalizers"], "merge patch");
    let mut put = out.clone();
    for (key, value) in [
        ("labels", json!({})),
        ("annotations", json!({})),
        ("finalizers", json!([])),
        ("ownerReferences", json!([])),
    ] {
        put["metadata"][key] = value;
    }
    let (code, out) = call(&app, Method::PUT, &url("e2"), JSON, &put.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let all = ["labels", "annotations", "finalizers", "ownerReferences"];
    assert_absent(&out["metadata"], &all, "put");

    // Created empty, dry run or not.
    let mut bare = alert("e3");
    for key in ["labels", "annotations"] {
        bare["metadata"][key] = json!({});
    }
    for key in ["finalizers", "ownerReferences"] {
        bare["metadata"][key] = json!([]);
    }
    let (code, out) = call(
        &app,
        Method::POST,
        &format!("{BASE}?dryRun=All"),
        JSON,
        &bare.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_absent(&out["metadata"], &all, "dry-run create");
    let out = create(&app, &bare).await;
    assert_absent(&out["metadata"], &all, "create");

    // Stored so: gets, lists and watch events have none of them.
    for name in ["e1", "e2", "e3"] {
        let (_, got) = call(&app, Method::GET, &url(name), None, "").await;
        assert_absent(&got["metadata"], &all, name);
        assert!(got["metadata"]["managedFields"].is_array(), "{got}");
    }
    let (_, list) = call(&app, Method::GET, BASE, None, "").await;
    for item in list["items"].as_array().unwrap() {
        assert_absent(&item["metadata"], &all, "list");
    }
    // Every event up to e3's creation (the last write) has none of them empty.
    let mut seen = Vec::new();
    let mut buf = Vec::new();
    while !seen
        .last()
        .is_some_and(|e: &Value| e["object"]["metadata"]["name"] == "e3")
    {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .expect("watch events")
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            seen.push(serde_json::from_slice::<Value>(&line).unwrap());
        }
    }
    assert!(seen.len() >= 8, "{seen:?}");
    for event in &seen {
        let meta = &event["object"]["metadata"];
        for key in all {
            assert!(
                meta.get(key)
                    .is_none_or(|v| v != &json!({}) && v != &json!([])),
                "{event}"
            );
        }
    }
    // e1's last event has none of what its patches emptied.
    let e1 = seen
        .iter()
        .rfind(|e| e["object"]["metadata"]["name"] == "e1")
        .unwrap();
    assert_absent(&e1["object"]["metadata"], &all, "watch");
}

/// Compacts `store` up to its latest revision (read through a list, as a client sees it);
/// returns that revision.
async fn compact_to_now(app: &axum::Router, store: &AnyStore) -> u64 {
    let (_, now) = call(app, Method::GET, &format!("{BASE}?limit=1"), None, "").await;
    let latest: u64 = now["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    use apiserver_storage::Storage;
    store.compact(latest).await.unwrap();
    latest
}

// ---- A continue token whose revision was compacted ----

/// 410 with Go's message and a token for the rest of the list at the latest revision
/// (`handleCompactedErrorForPaging`); that token then lists the rest, with what changed since.
#[tokio::test]
async fn a_compacted_continue_token_offers_an_inconsistent_continuation() {
    let store = AnyStore::Memory(MemoryStore::new());
    let app = app_on(store.clone());
    for name in ["a", "b", "c", "d"] {
        create(&app, &alert(name)).await;
    }
    let (code, page) = call(&app, Method::GET, &format!("{BASE}?limit=2"), None, "").await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    // Changes after the first page, then the page's revision compacted away.
    create(&app, &alert("e")).await;
    let (code, _) = call(&app, Method::DELETE, &format!("{BASE}/c"), None, "").await;
    assert_eq!(code, StatusCode::OK);
    let latest = compact_to_now(&app, &store).await;

    let (code, out) = call(
        &app,
        Method::GET,
        &format!("{BASE}?limit=2&continue={token}"),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 410, "Expired");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .starts_with("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token"),
        "{out}"
    );
    let inconsistent = out["metadata"]["continue"]
        .as_str()
        .expect("a token")
        .to_string();
    assert_ne!(inconsistent, token);

    let (code, rest) = call(
        &app,
        Method::GET,
        &format!("{BASE}?limit=10&continue={inconsistent}"),
        None,
        "",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{rest}");
    let names: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["d", "e"], "after `b`, at the latest revision");
    assert_eq!(rest["metadata"]["resourceVersion"], latest.to_string());
}

// ---- a paged list at a resourceVersion: Go's legacy exact match ----

/// `resourceVersion=N&limit=…` without `resourceVersionMatch` reads revision N exactly (what a
/// reflector's relist from its last revision asks), and is 410 with etcd3's wording once N is
/// compacted; without a limit it stays "not older than".
#[tokio::test]
async fn a_paged_list_at_a_resource_version_reads_that_revision() {
    let store = AnyStore::Memory(MemoryStore::new());
    let app = app_on(store.clone());
    create(&app, &alert("a")).await;
    let (_, first) = call(&app, Method::GET, &format!("{BASE}?limit=10"), None, "").await;
    let at = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    create(&app, &alert("b")).await;
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (code, exact) = call(
        &app,
        Method::GET,
        &format!("{BASE}?resourceVersion={at}&limit=10"),
        None,
        "",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{exact}");
    assert_eq!(names(&exact), ["a"], "the list as it was at {at}");
    assert_eq!(exact["metadata"]["resourceVersion"], at.as_str());
    let (_, any) = call(
        &app,
        Method::GET,
        &format!("{BASE}?resourceVersion={at}"),
        None,
        "",
    )
    .await;
    assert_eq!(names(&any), ["a", "b"], "not older than {at}");

    compact_to_now(&app, &store).await;
    let (code, out) = call(
        &app,
        Method::GET,
        &format!("{BASE}?resourceVersion={at}&limit=10"),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 410, "Expired");
    assert_eq!(
        out["message"],
        "The resourceVersion for the provided list is too old."
    );
}

// ---- sendInitialEvents=false ----

/// A watch with `sendInitialEvents=false` (and no resourceVersion, or "0") starts from now:
/// no ADDED for what exists, then the changes.
#[tokio::test]
async fn a_watch_without_initial_events_starts_from_now() {
    let app = app();
    create(&app, &alert("old")).await;
    for rv in ["", "&resourceVersion=0"] {
        let uri = format!(
            "{BASE}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true{rv}"
        );
        let resp = app
            .clone()
            .oneshot(Request::builder().uri(&uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        let mut stream = resp.into_body().into_data_stream();
        let name = format!("new{}", rv.len());
        create(&app, &alert(&name)).await;
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("an event")
            .unwrap()
            .unwrap();
        let first: Value =
            serde_json::from_slice(chunk.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(first["type"], "ADDED", "{uri}: {first}");
        assert_eq!(
            first["object"]["metadata"]["name"],
            name.as_str(),
            "{uri}: not `old`"
        );
    }
}

// ---- malformed integers in the query ----

/// The parameter codec refuses an integer it cannot parse, with `strconv.ParseInt`'s message:
/// a DELETE with `gracePeriodSeconds=abc` is a 400 and deletes nothing.
#[tokio::test]
async fn a_malformed_integer_parameter_is_a_400_and_nothing_happens() {
    let app = app();
    create(&app, &alert("keep")).await;
    for (query, value, why) in [
        ("gracePeriodSeconds=abc", "abc", "invalid syntax"),
        ("gracePeriodSeconds=1.5", "1.5", "invalid syntax"),
        (
            "gracePeriodSeconds=99999999999999999999",
            "99999999999999999999",
            "value out of range",
        ),
    ] {
        let (code, out) = call(
            &app,
            Method::DELETE,
            &format!("{}?{query}", url("keep")),
            None,
            "",
        )
        .await;
        assert_status(code, &out, 400, "BadRequest");
        assert_eq!(
            out["message"],
            format!("strconv.ParseInt: parsing \"{value}\": {why}"),
            "{query}"
        );
    }
    let (code, _) = call(&app, Method::GET, &url("keep"), None, "").await;
    assert_eq!(code, StatusCode::OK, "still there");
    let (code, out) = call(&app, Method::GET, &format!("{BASE}?limit=x"), None, "").await;
    assert_status(code, &out, 400, "BadRequest");
    assert_eq!(
        out["message"],
        "strconv.ParseInt: parsing \"x\": invalid syntax"
    );
    // A list's resourceVersionMatch may also be empty; a watch's only NotOlderThan.
    let (code, out) = call(
        &app,
        Method::GET,
        &format!("{BASE}?resourceVersion=1&resourceVersionMatch=Bogus"),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .ends_with("supported values: \"Exact\", \"NotOlderThan\", \"\""),
        "{out}"
    );
}

// ---- a key repeated in an apply configuration ----

/// Go's applyPatcher decodes the configuration again with strict YAML once the apply is made: a
/// repeated key is a 400 under Strict (nothing written), a warning under Warn, nothing under
/// Ignore; the last value wins.
#[tokio::test]
async fn a_key_repeated_in_an_apply_configuration_is_reported() {
    let app = app();
    let config = "apiVersion: pager.k8s.co/v1alpha1\nkind: Alert\nmetadata:\n  name: r\nspec:\n  message: a\n  message: b\n";
    let repeated = "error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key \"message\" already set in map";
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m&fieldValidation=Strict", url("r")),
        APPLY,
        config,
    )
    .await;
    assert_status(code, &out, 400, "BadRequest");
    assert_eq!(
        out["message"],
        format!("error strict decoding YAML: {repeated}")
    );
    let (code, _) = call(&app, Method::GET, &url("r"), None, "").await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was written");
    for (validation, warned) in [("Warn", true), ("Ignore", false)] {
        let resp = app
            .clone()
            .oneshot(
                Request::patch(format!(
                    "{}?fieldManager=m&fieldValidation={validation}",
                    url("r")
                ))
                .header("content-type", "application/apply-patch+yaml")
                .body(Body::from(config))
                .unwrap(),
            )
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{validation}: {}",
            resp.status()
        );
        let warning = resp
            .headers()
            .get("warning")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            warning,
            warned.then(|| format!(
                "299 - \"{}\"",
                repeated.replace('\n', " ").replace('"', "\\\"")
            )),
            "{validation}"
        );
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let out: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(out["spec"]["message"], "b", "the last value wins");
    }
}

// ---- conditional GETs of the discovery and OpenAPI documents ----

/// The documents clients and kube-aggregator poll carry an `ETag`; asked again with it in
/// `If-None-Match`, they are a 304 without a body, and a 200 for any other tag.
#[tokio::test]
async fn documents_polled_with_their_etag_are_not_modified() {
    let app = app();
    for (path, accept) in [
        (
            "/apis",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        ),
        ("/openapi/v2", "application/json"),
        (
            "/openapi/v2",
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
        ),
        ("/openapi/v3/apis/pager.k8s.co/v1alpha1", "application/json"),
    ] {
        let get = |tag: Option<String>| {
            let mut req = Request::get(path).header("accept", accept);
            if let Some(tag) = tag {
                req = req.header("if-none-match", tag);
            }
            app.clone().oneshot(req.body(Body::empty()).unwrap())
        };
        let first = get(None).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK, "{path} {accept}");
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = get(Some(etag.clone())).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path} {accept}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        let body = axum::body::to_bytes(again.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(body.is_empty(), "{path}: a 304 has no body");
        let listed = get(Some(format!("\"other\", W/{etag}"))).await.unwrap();
        assert_eq!(
            listed.status(),
            StatusCode::NOT_MODIFIED,
            "{path}: one of a list"
        );
        let other = get(Some("\"other\"".into())).await.unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}: another tag");
    }
}

// ---- smaller wordings ----

/// An apply configuration of another version gets the field manager's words; a watch from a
/// revision ignores a `continue` token (even a garbage one), as Go's watch path never reads it,
/// while a streaming list (a watch from now, made one by default since 1.32's WatchList) refuses
/// it, as `validateWatchOptions` does: with every cause broken.
#[tokio::test]
async fn an_apply_of_another_version_and_a_watch_with_a_token() {
    let app = app();
    let config = r#"{"apiVersion":"pager.k8s.co/v1beta1","kind":"Alert","metadata":{"name":"v"}}"#;
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m", url("v")),
        APPLY,
        config,
    )
    .await;
    assert_status(code, &out, 400, "BadRequest");
    assert_eq!(
        out["message"],
        "Incorrect version specified in apply patch. Specified patch version: pager.k8s.co/v1beta1, expected: pager.k8s.co/v1alpha1"
    );
    let resp = app
        .clone()
        .oneshot(
            Request::get(format!(
                "{BASE}?watch=true&resourceVersion=1&continue=garbage&timeoutSeconds=1"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let forbidden_continue = "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided";
    for query in [
        "watch=true&continue=garbage",
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&continue=garbage",
    ] {
        let (code, out) = call(&app, Method::GET, &format!("{BASE}?{query}"), None, "").await;
        assert_status(code, &out, 422, "Invalid");
        assert!(
            out["message"]
                .as_str()
                .unwrap()
                .contains(forbidden_continue),
            "{query}: {out}"
        );
    }
    // Every cause, in Go's order.
    for (query, causes) in [
        (
            "resourceVersionMatch=Exact&continue=abc",
            vec![
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided",
            ],
        ),
        (
            "resourceVersionMatch=Bogus",
            vec![
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                r#"Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", """#,
            ],
        ),
        (
            "watch=true&resourceVersion=5&resourceVersionMatch=Exact",
            vec![
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                r#"Unsupported value: "Exact": supported values: "NotOlderThan""#,
            ],
        ),
    ] {
        let (code, out) = call(&app, Method::GET, &format!("{BASE}?{query}"), None, "").await;
        assert_status(code, &out, 422, "Invalid");
        let got: Vec<&str> = out["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["message"].as_str().unwrap())
            .collect();
        assert_eq!(got, causes, "{query}");
    }
}

// ---- null for a field that cannot hold one ----

/// As a CRD's structural schema prunes them, a `null` for a field that is not nullable is
/// dropped (the official Python client sends a dict's `None`s as `null`); a required field left
/// without a value is still refused.
#[tokio::test]
async fn nulls_for_fields_that_cannot_hold_them_are_dropped() {
    let app = app();
    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "n1", "labels": null},
        "spec": {"message": "hello", "priority": null},
        "status": {"sent": null}});
    let (code, out) = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_eq!(out["spec"]["message"], "hello");
    // An update too.
    let mut update = out.clone();
    update["status"] = json!({"sent": null});
    update["spec"]["priority"] = Value::Null;
    let (code, out) = call(&app, Method::PUT, &url("n1"), JSON, &update.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");

    let missing = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "n2"}, "spec": {"message": null}});
    let (code, out) = call(&app, Method::POST, BASE, JSON, &missing.to_string()).await;
    // Pruned, then missing: the CRD's 422 `Required value`.
    assert_status(code, &out, 422, "Invalid");
    assert!(
        out["message"].as_str().unwrap().contains("spec.message"),
        "{out}"
    );
}

/// Go's `checkName` runs before storage sees the object: a body naming another object is a 400
/// even with a stale resourceVersion (not the precondition's 409) and on `/status` (whose merge
/// would otherwise take the stored name); an apply that would create a nameless object is the
/// same 400, while one applied to an existing object keeps its name.
#[tokio::test]
async fn the_name_is_checked_before_preconditions_and_merges() {
    let app = app();
    create(&app, &alert("c1")).await;
    let mut other = alert("zz");
    other["metadata"]["resourceVersion"] = json!("1");
    for path in [url("c1"), format!("{}/status", url("c1"))] {
        let (code, out) = call(&app, Method::PUT, &path, JSON, &other.to_string()).await;
        assert_status(code, &out, 400, "BadRequest");
        assert_eq!(
            out["message"],
            "the name of the object (zz) does not match the name on the URL (c1)"
        );
    }
    // Before the lookup too: a missing object named otherwise is the 400, not a 404.
    let (code, out) = call(&app, Method::PUT, &url("nobody"), JSON, &other.to_string()).await;
    assert_status(code, &out, 400, "BadRequest");
    let apply = Some("application/apply-patch+yaml");
    // A null name (with a generateName) does not create another object.
    let generated = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": null, "generateName": "other-"}, "spec": {"message": "x"}})
    .to_string();
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m", url("c3")),
        apply,
        &generated,
    )
    .await;
    assert_status(code, &out, 400, "BadRequest");
    let nameless = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "spec": {"message": "applied"}})
    .to_string();
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m", url("c2")),
        apply,
        &nameless,
    )
    .await;
    assert_status(code, &out, 400, "BadRequest");
    assert_eq!(
        out["message"],
        "the name of the object () does not match the name on the URL (c2)"
    );
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m&force=true", url("c1")),
        apply,
        &nameless,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["metadata"]["name"], "c1");
    assert_eq!(out["spec"]["message"], "applied");
}

/// Bad write options are one 422 of the options' kind (`CreateOptions`, `UpdateOptions`,
/// `PatchOptions`, `DeleteOptions`), with Go's causes in Go's order.
#[tokio::test]
async fn bad_write_options_are_invalid_options() {
    let app = app();
    let created = create(&app, &alert("o1")).await;
    let (code, out) = call(
        &app,
        Method::POST,
        &format!("{BASE}?dryRun=Bogus&fieldValidation=Maybe"),
        JSON,
        &alert("o2").to_string(),
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: [dryRun: Unsupported value: []string{\"Bogus\"}: supported values: \"All\", fieldValidation: Unsupported value: \"Maybe\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"]"
    );
    assert_eq!(out["details"]["kind"], "CreateOptions");
    assert_eq!(out["details"]["group"], "meta.k8s.io");
    let fields: Vec<&str> = out["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["dryRun", "fieldValidation"]);
    for (method, ct, body, kind) in [
        (Method::PUT, JSON, created.to_string(), "UpdateOptions"),
        (
            Method::PATCH,
            Some("application/merge-patch+json"),
            "{}".to_string(),
            "PatchOptions",
        ),
        (Method::DELETE, None, String::new(), "DeleteOptions"),
    ] {
        let (code, out) = call(
            &app,
            method.clone(),
            &format!("{}?dryRun=x", url("o1")),
            ct,
            &body,
        )
        .await;
        assert_status(code, &out, 422, "Invalid");
        assert_eq!(out["details"]["kind"], kind, "{method}: {out}");
        assert_eq!(
            out["details"]["causes"][0]["field"], "dryRun",
            "{method}: {out}"
        );
    }
    // `dryRun` is a list: an empty value, or one beside `All`, is refused too — never read as
    // "no dry run", which would write what the client asked to try.
    for query in ["dryRun=", "dryRun=&dryRun=All", "dryRun=All&dryRun=bogus"] {
        for (method, ct, body) in [
            (Method::PUT, JSON, created.to_string()),
            (
                Method::PATCH,
                Some("application/merge-patch+json"),
                r#"{"spec":{"content":"changed"}}"#.to_string(),
            ),
            (Method::DELETE, None, String::new()),
        ] {
            let (code, out) = call(
                &app,
                method.clone(),
                &format!("{}?{query}", url("o1")),
                ct,
                &body,
            )
            .await;
            assert_status(code, &out, 422, "Invalid");
            assert_eq!(out["details"]["causes"][0]["field"], "dryRun", "{query}");
        }
        let (code, out) = call(
            &app,
            Method::POST,
            &format!("{BASE}?{query}"),
            JSON,
            &alert("o3").to_string(),
        )
        .await;
        assert_status(code, &out, 422, "Invalid");
        let (code, out) = call(&app, Method::DELETE, &format!("{BASE}?{query}"), None, "").await;
        assert_status(code, &out, 422, "Invalid");
    }
    let (code, out) = call(
        &app,
        Method::DELETE,
        &format!("{}?dryRun=&dryRun=All", url("o1")),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["message"],
        "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"\", \"All\"}: supported values: \"All\""
    );
    // Nothing was written.
    let (_, got) = call(&app, Method::GET, &url("o1"), None, "").await;
    assert_eq!(
        got["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    let (code, _) = call(&app, Method::GET, &url("o3"), None, "").await;
    assert_eq!(code, 404);
}

/// A value an enum does not have is a 422 `FieldValueNotSupported` listing the values it has,
/// as a CRD's schema validation reports a value outside its `enum`.
#[tokio::test]
async fn an_unknown_enum_value_is_not_supported() {
    let app = app();
    let mut body = alert("e1");
    body["spec"]["priority"] = json!("urgent");
    let (code, out) = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    let cause = &out["details"]["causes"][0];
    assert_eq!(cause["reason"], "FieldValueNotSupported", "{out}");
    assert_eq!(cause["field"], "spec.priority", "{out}");
    assert!(
        cause["message"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported value: \"urgent\": supported values: \""),
        "{out}"
    );
}

/// Under `fieldValidation=Strict`, unknown fields fail decoding (400) before any schema
/// validation; and a CRD's schema validation reports every missing required field and
/// unsupported enum value of a body in one 422 — an object's properties first, then its missing
/// required fields, as kube-openapi's object validator lists them.
#[tokio::test]
async fn strict_decoding_comes_first_and_schema_errors_are_reported_together() {
    let app = app();
    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "x"}, "spec": {"message": "m", "content": "c", "priority": "urgent", "zz": 1}});
    let strict = format!("{BASE}?fieldValidation=Strict");
    let (code, out) = call(&app, Method::POST, &strict, JSON, &body.to_string()).await;
    assert_status(code, &out, 400, "BadRequest");
    assert_eq!(
        out["message"],
        "Alert in version \"v1alpha1\" cannot be handled as a Alert: strict decoding error: unknown field \"spec.content\", unknown field \"spec.zz\"",
        "{out}"
    );
    // Not strict: the enum is the error.
    let (code, out) = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["details"]["causes"].as_array().unwrap().len(),
        1,
        "{out}"
    );

    let body = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "x"}, "spec": {"priority": "urgent"}});
    for uri in [BASE, &strict] {
        let (code, out) = call(&app, Method::POST, uri, JSON, &body.to_string()).await;
        assert_status(code, &out, 422, "Invalid");
        let causes: Vec<(&str, &str)> = out["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["reason"].as_str().unwrap(), c["field"].as_str().unwrap()))
            .collect();
        assert_eq!(
            causes,
            [
                ("FieldValueNotSupported", "spec.priority"),
                ("FieldValueRequired", "spec.message")
            ],
            "{out}"
        );
        assert_eq!(
            out["message"],
            "Alert.pager.k8s.co \"x\" is invalid: [spec.priority: Unsupported value: \"urgent\": supported values: \"low\", \"normal\", \"high\", spec.message: Required value]",
            "{out}"
        );
    }

    // The same through a patch: strict first — as Go's patchers answer a patched object that
    // does not decode, a 422 naming `patch` with the patched object — then every problem at
    // once.
    create(&app, &alert("p1")).await;
    let patch = json!({"spec": {"message": null, "priority": "urgent", "content": "c"}});
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldValidation=Strict", url("p1")),
        MERGE,
        &patch.to_string(),
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    let message = out["message"].as_str().unwrap();
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":")
            && message.ends_with("\": strict decoding error: unknown field \"spec.content\""),
        "{out}"
    );
    assert_eq!(out["details"]["causes"][0]["field"], "patch", "{out}");
    assert_eq!(
        out["details"]["causes"][0]["reason"], "FieldValueInvalid",
        "{out}"
    );
    assert!(
        out["details"].get("name").is_none(),
        "Go omits an empty name: {out}"
    );
    // A strategic merge patch is named as Go prints its map.
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldValidation=Strict", url("p1")),
        STRATEGIC,
        r#"{"spec":{"zz":[1,"a"]}}"#,
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["message"],
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[zz:[1 a]]]\": strict decoding error: unknown field \"spec.zz\"",
        "{out}"
    );
    let (code, out) = call(&app, Method::PATCH, &url("p1"), MERGE, &patch.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["details"]["causes"].as_array().unwrap().len(),
        2,
        "{out}"
    );
    // A type error is the same 422 (a create's is a 400), and nothing was written.
    let bad = json!({"spec": {"message": 5}});
    let (code, out) = call(&app, Method::PATCH, &url("p1"), MERGE, &bad.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(out["details"]["causes"][0]["field"], "patch", "{out}");
    let (_, got) = call(&app, Method::GET, &url("p1"), None, "").await;
    assert_eq!(got["spec"]["message"], "hello");
}

/// etcd gone under open watches: each ends without an ERROR event, as kube-apiserver's watch
/// cache closes its watchers when its etcd watch fails (clients watch again from where they
/// were), with the watch cache and without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_end_without_an_error_event_when_etcd_goes_away() {
    let mut etcd = etcd::Etcd::start();
    let options = |prefix: &str| EtcdOptions {
        prefix: prefix.into(),
        ..EtcdOptions::default()
    };
    let plain = EtcdStore::connect(&[etcd.client_url()], options("/plain"))
        .await
        .unwrap();
    let cached = EtcdStore::connect(&[etcd.client_url()], options("/cached"))
        .await
        .unwrap();
    let mut watches = Vec::new();
    for store in [
        AnyStore::from(plain),
        AnyStore::from(cached).with_watch_cache(StoreOptions::default()),
    ] {
        let app = app_on(store);
        create(&app, &alert("w1")).await;
        let (_, list) = call(&app, Method::GET, BASE, None, "").await;
        let rv = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let resp = app
            .clone()
            .oneshot(
                Request::builder()
                    .uri(format!("{BASE}?watch=1&resourceVersion={rv}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let mut events = resp.into_body().into_data_stream();
        create(&app, &alert("w2")).await;
        let first = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("an event")
            .unwrap()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&first).contains("\"type\":\"ADDED\""),
            "{first:?}"
        );
        // (The server must outlive its watches: dropped, it ends them as a shutdown does.)
        watches.push((app, events));
    }
    etcd.stop();
    for (_app, mut events) in watches {
        let mut rest = Vec::new();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while let Some(chunk) = events.next().await {
                match chunk {
                    Ok(bytes) => rest.extend_from_slice(&bytes),
                    Err(_) => break,
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the watch did not end when etcd went away");
        let rest = String::from_utf8_lossy(&rest);
        assert!(!rest.contains("\"type\":\"ERROR\""), "{rest}");
    }
}

// ---- DeleteOptions: from the body when there is one, else from the query ----

/// kube-apiserver reads a DELETE's options from its body when it has one and from the query
/// only when it has none (handlers/delete.go): a query parameter beside a body is ignored.
#[tokio::test]
async fn delete_options_come_from_the_body_or_else_the_query() {
    let app = app();
    for name in ["q1", "q2", "q3", "q4"] {
        create(&app, &alert(name)).await;
    }
    let body = json!({"kind": "DeleteOptions", "apiVersion": "v1"}).to_string();

    // Without a body, the query is read and validated.
    let (code, out) = call(
        &app,
        Method::DELETE,
        &format!("{}?propagationPolicy=Sideways", url("q1")),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(out["details"]["causes"][0]["field"], "propagationPolicy");
    let (code, out) = call(
        &app,
        Method::DELETE,
        &format!("{}?gracePeriodSeconds=soon", url("q1")),
        None,
        "",
    )
    .await;
    assert_status(code, &out, 400, "BadRequest");
    let (code, out) = call(
        &app,
        Method::DELETE,
        &format!("{}?dryRun=All", url("q1")),
        None,
        "",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let (code, _) = call(&app, Method::GET, &url("q1"), None, "").await;
    assert_eq!(
        code,
        StatusCode::OK,
        "a dry run from the query deletes nothing"
    );

    // With a body, the same query parameters are not read.
    for (name, query) in [
        ("q2", "propagationPolicy=Sideways"),
        ("q3", "gracePeriodSeconds=soon"),
        ("q4", "dryRun=All"),
    ] {
        let (code, out) = call(
            &app,
            Method::DELETE,
            &format!("{}?{query}", url(name)),
            JSON,
            &body,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{query}: {out}");
        let (code, _) = call(&app, Method::GET, &url(name), None, "").await;
        assert_eq!(
            code,
            StatusCode::NOT_FOUND,
            "{query}: deleted as the body says"
        );
    }

    // The body's own options are validated and applied.
    let (code, out) = call(
        &app,
        Method::DELETE,
        &url("q1"),
        JSON,
        &json!({"propagationPolicy": "Sideways"}).to_string(),
    )
    .await;
    assert_status(code, &out, 422, "Invalid");
    let (code, out) = call(
        &app,
        Method::DELETE,
        &url("q1"),
        JSON,
        &json!({"dryRun": ["All"]}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let (code, _) = call(&app, Method::GET, &url("q1"), None, "").await;
    assert_eq!(
        code,
        StatusCode::OK,
        "a dry run from the body deletes nothing"
    );
}

// ---- Duplicates in lists of an update ----

/// Kubernetes 1.29+ tracks the fields of a create, update or patch with structured-merge-diff's
/// `AllowDuplicates`: a finalizer given twice, or two owner references of one uid, are stored as
/// sent (no validation refuses them) — a controller that appends its finalizer twice works. An
/// apply naming an item twice is still refused.
#[tokio::test]
async fn duplicate_list_items_of_an_update_are_kept() {
    let app = app();
    let mut body = alert("dup");
    body["metadata"]["finalizers"] = json!(["a.com/x", "a.com/x"]);
    body["metadata"]["ownerReferences"] = json!([
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "one", "uid": "u1"},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "two", "uid": "u1"}
    ]);
    let created = create(&app, &body).await;
    assert_eq!(
        created["metadata"]["finalizers"],
        json!(["a.com/x", "a.com/x"])
    );
    assert_eq!(created["metadata"]["ownerReferences"][1]["name"], "two");
    assert!(created["metadata"]["managedFields"].is_array(), "{created}");

    let add = json!([{"op": "add", "path": "/metadata/finalizers/-", "value": "a.com/x"}]);
    let (code, out) = call(
        &app,
        Method::PATCH,
        &url("dup"),
        JSON_PATCH,
        &add.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["a.com/x", "a.com/x", "a.com/x"])
    );
    let one = json!({"metadata": {"finalizers": ["a.com/x"]}});
    let (code, out) = call(&app, Method::PATCH, &url("dup"), MERGE, &one.to_string()).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["metadata"]["finalizers"], json!(["a.com/x"]));

    // An apply lands on an object holding duplicates: those it does not name stay.
    let (code, out) = call(
        &app,
        Method::PATCH,
        &url("dup"),
        JSON_PATCH,
        &add.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    let label = json!({
        "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "dup", "labels": {"team": "a"}}
    });
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=tool", url("dup")),
        APPLY,
        &label.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["metadata"]["finalizers"], json!(["a.com/x", "a.com/x"]));
    assert_eq!(out["metadata"]["labels"]["team"], "a");

    let apply = json!({
        "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "dup", "finalizers": ["b.com/y", "b.com/y"]}
    });
    let (code, out) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=tool", url("dup")),
        APPLY,
        &apply.to_string(),
    )
    .await;
    assert_eq!(code.as_u16(), 422, "{out}");
    assert!(
        out["message"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate entries")),
        "{out}"
    );
}

/// Values in messages are quoted as Go's `%q` quotes them (`"a\x01b"`, `"a\u200bb"`), whatever
/// code path reports them.
#[tokio::test]
async fn invalid_values_are_quoted_as_go_quotes_them() {
    let app = app();
    for (query, body, quoted) in [
        (
            "?fieldManager=a%01b",
            alert("q"),
            r#"Invalid value: "a\x01b""#,
        ),
        (
            "?fieldValidation=Str%E2%80%8Bict",
            alert("q"),
            r#"Unsupported value: "Str\u200bict""#,
        ),
        (
            "",
            alert("v\u{1}"),
            r#"Alert.pager.k8s.co "v\x01" is invalid"#,
        ),
    ] {
        let uri = format!("{BASE}{query}");
        let (code, out) = call(&app, Method::POST, &uri, JSON, &body.to_string()).await;
        assert_status(code, &out, 422, "Invalid");
        let message = out["message"].as_str().unwrap_or_default();
        assert!(message.contains(quoted), "{query}: {message}");
    }
}

/// A body whose spec does not decode still has its metadata checked: one 422 names the
/// metadata's problems and the schema's, as a CRD's validation reports them together.
#[tokio::test]
async fn metadata_and_schema_problems_come_in_one_answer() {
    let app = app();
    let body = json!({
        "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "Bad_Name", "labels": {"team": "-bad-"}},
        "spec": {}
    });
    let (code, out) = call(&app, Method::POST, BASE, JSON, &body.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    let fields: Vec<&str> = out["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["metadata.name", "metadata.labels", "spec.message"],
        "{out}"
    );
    assert!(
        out["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(r#"Alert.pager.k8s.co "Bad_Name" is invalid: ["#)),
        "{out}"
    );
    // Metadata alone wrong, or the spec alone: each still reported as before.
    let mut good_meta = body.clone();
    good_meta["metadata"] = json!({"name": "ok"});
    let (code, out) = call(&app, Method::POST, BASE, JSON, &good_meta.to_string()).await;
    assert_status(code, &out, 422, "Invalid");
    assert_eq!(
        out["details"]["causes"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
}

/// Finalizers are validated on every update, not only on create (Go's `rest.BeforeUpdate` runs
/// `ValidateObjectMetaAccessor` again): an invalid name, or `orphan` beside
/// `foregroundDeletion`, is a 422 through a patch, a replace and an apply, and nothing is written.
#[tokio::test]
async fn finalizers_are_validated_on_updates_too() {
    let app = app();
    let created = create(&app, &alert("f1")).await;
    let rv = created["metadata"]["resourceVersion"].clone();
    let bad_name = "Invalid value: \"Bad Name!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    let both = "Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set";
    for (finalizers, message) in [
        (json!(["Bad Name!"]), bad_name),
        (json!(["orphan", "foregroundDeletion"]), both),
    ] {
        let patch = json!({"metadata": {"finalizers": finalizers}});
        let mut put = created.clone();
        put["metadata"]["finalizers"] = finalizers.clone();
        let mut apply = alert("f1");
        apply["metadata"]["finalizers"] = finalizers.clone();
        for (method, ct, body) in [
            (Method::PATCH, MERGE, &patch),
            (Method::PATCH, STRATEGIC, &patch),
            (Method::PUT, JSON, &put),
            (Method::PATCH, APPLY, &apply),
        ] {
            let uri = format!("{}?fieldManager=test", url("f1"));
            let (code, out) = call(&app, method.clone(), &uri, ct, &body.to_string()).await;
            let what = format!("{method} {ct:?} {body}");
            assert_status(code, &out, 422, "Invalid");
            assert_eq!(
                out["message"],
                format!("Alert.pager.k8s.co \"f1\" is invalid: metadata.finalizers: {message}"),
                "{what}"
            );
        }
    }
    let (_, got) = call(&app, Method::GET, &url("f1"), None, "").await;
    assert_eq!(
        got["metadata"]["resourceVersion"], rv,
        "nothing was written"
    );
}

/// Owner references repeated with the same uid are stored once, with Go's warning: the one of
/// creates and updates, and the one "after mutating admission" for patches (which Go dedups only
/// then). Two references of one uid that differ are both kept.
#[tokio::test]
async fn repeated_owner_references_are_stored_once_with_a_warning() {
    let app = app();
    let owner = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u1"});
    let other = json!({"apiVersion": "v1", "kind": "Secret", "name": "c", "uid": "u1"});
    let warning = |after: bool| {
        format!(
            "299 - \".metadata.ownerReferences contains duplicate entries{}; API server dedups owner references in 1.20+, and may reject such requests as early as 1.24; please fix your requests; duplicate UID(s) observed: u1\"",
            if after {
                " after mutating admission happens"
            } else {
                ""
            }
        )
    };
    let send = |method: Method, uri: String, ct: &'static str, body: Value| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(
                    Request::builder()
                        .method(method)
                        .uri(uri)
                        .header("content-type", ct)
                        .body(Body::from(body.to_string()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let code = resp.status();
            let warning = resp
                .headers()
                .get("warning")
                .map(|v| v.to_str().unwrap().to_string());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let out: Value = serde_json::from_slice(&bytes).unwrap();
            (code, warning, out)
        }
    };
    let mut body = alert("o1");
    body["metadata"]["ownerReferences"] = json!([owner, owner, other]);
    let (code, warned, out) = send(Method::POST, BASE.to_string(), "application/json", body).await;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    assert_eq!(warned, Some(warning(false)));
    assert_eq!(out["metadata"]["ownerReferences"], json!([owner, other]));

    let mut put = out.clone();
    put["metadata"]["ownerReferences"] = json!([other, owner, owner]);
    let (code, warned, out) = send(Method::PUT, url("o1"), "application/json", put).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(warned, Some(warning(false)));
    assert_eq!(out["metadata"]["ownerReferences"], json!([other, owner]));

    let patch = json!({"metadata": {"ownerReferences": [owner, owner]}});
    let (code, warned, out) = send(
        Method::PATCH,
        url("o1"),
        "application/merge-patch+json",
        patch,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(warned, Some(warning(true)));
    assert_eq!(out["metadata"]["ownerReferences"], json!([owner]));

    // Without repeats, no warning.
    let patch = json!({"metadata": {"labels": {"a": "b"}}});
    let (_, warned, _) = send(
        Method::PATCH,
        url("o1"),
        "application/merge-patch+json",
        patch,
    )
    .await;
    assert_eq!(warned, None);
}

/// Every answer carries kube-apiserver's standard headers: `Audit-Id` (the request's own
/// `Audit-ID` echoed, else a new one per request) and `Cache-Control: no-cache, private`
/// (unless the answer says otherwise); and a write that fails keeps the warnings it earned
/// before failing (`kubectl create --validate=warn` shows them beside the error).
#[tokio::test]
async fn standard_headers_and_warnings_on_errors() {
    let app = app();
    let send = |req: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap() }
    };
    let mut ids = std::collections::BTreeSet::new();
    for uri in [
        BASE,
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts/missing",
        "/healthz",
        "/nope",
    ] {
        let resp = send(Request::get(uri).body(Body::empty()).unwrap()).await;
        let id = resp.headers()["audit-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "{uri}: a UUID, got {id}");
        assert!(ids.insert(id), "{uri}: one Audit-Id per request");
        assert_eq!(
            resp.headers()["cache-control"],
            "no-cache, private",
            "{uri}"
        );
    }
    let resp = send(
        Request::get(BASE)
            .header("Audit-ID", "from-the-aggregator")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.headers()["audit-id"], "from-the-aggregator");

    let mut invalid = alert("w1");
    invalid["spec"]["message"] = json!("");
    invalid["spec"]["bogus"] = json!(1);
    let warnings = |resp: &http::Response<Body>| -> Vec<String> {
        resp.headers()
            .get_all("warning")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    let resp = send(
        Request::post(format!("{BASE}?fieldValidation=Warn"))
            .header("content-type", "application/json")
            .body(Body::from(invalid.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(warnings(&resp), [r#"299 - "unknown field \"spec.bogus\"""#]);
    create(&app, &alert("w2")).await;
    let resp = send(
        Request::patch(format!("{}?fieldValidation=Warn", url("w2")))
            .header("content-type", "application/merge-patch+json")
            .body(Body::from(r#"{"spec":{"message":"","bogus":1}}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(warnings(&resp), [r#"299 - "unknown field \"spec.bogus\"""#]);
}

/// `/metrics` reports kube-apiserver's request metrics in the Prometheus text format: each
/// request counted by verb, resource, scope and code (a path the server does not serve counted
/// without a resource, so clients cannot grow the label sets), latencies, and what is in flight.
#[tokio::test]
async fn metrics_count_requests_as_kube_apiserver_does() {
    let app = app();
    create(&app, &alert("m1")).await;
    let (code, _) = call(&app, Method::GET, &url("m1"), None, "").await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = call(&app, Method::GET, &url("missing"), None, "").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = call(&app, Method::GET, "/apis/made/up/things", None, "").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = call(
        &app,
        Method::PATCH,
        &format!("{}?fieldManager=m&dryRun=All", url("m1")),
        APPLY,
        r#"{"apiVersion":"pager.k8s.co/v1alpha1","kind":"Alert","metadata":{"name":"m1"}}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let resp = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let alerts = r#"group="pager.k8s.co",version="v1alpha1",resource="alerts",subresource="""#;
    for line in [
        format!(
            r#"apiserver_request_total{{verb="POST",dry_run="",{alerts},scope="namespace",component="apiserver",code="201"}} 1"#
        ),
        format!(
            r#"apiserver_request_total{{verb="GET",dry_run="",{alerts},scope="resource",component="apiserver",code="200"}} 1"#
        ),
        format!(
            r#"apiserver_request_total{{verb="GET",dry_run="",{alerts},scope="resource",component="apiserver",code="404"}} 1"#
        ),
        format!(
            r#"apiserver_request_total{{verb="APPLY",dry_run="All",{alerts},scope="resource",component="apiserver",code="200"}} 1"#
        ),
        r#"apiserver_request_total{verb="LIST",dry_run="",group="",version="",resource="",subresource="",scope="",component="apiserver",code="404"} 1"#.to_string(),
        format!(
            r#"apiserver_request_duration_seconds_count{{verb="POST",dry_run="",{alerts},scope="namespace",component="apiserver"}} 1"#
        ),
        r#"apiserver_current_inflight_requests{request_kind="readOnly"} 1"#.to_string(),
        r#"apiserver_current_inflight_requests{request_kind="mutating"} 0"#.to_string(),
        r#"apiserver_longrunning_requests{verb="WATCH"} 0"#.to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    assert!(!text.contains("made"), "{text}");
}
