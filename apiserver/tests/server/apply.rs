//! Server-side apply and managedFields over HTTP: apply creates and updates, Apply and Update
//! entries, conflicts with Kubernetes' message and causes, force, pruning of fields a manager
//! stops applying, the status subresource, ownership across versions, forged managed fields,
//! and the request checks.

use apiserver::{ApiServer, Resource};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

fn app() -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS),
        )
        .storage_version("pager.k8s.co", "v1beta1")
        .build()
        .unwrap()
        .into_router()
}

const BETA: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";
const ALPHA: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

async fn send(
    app: &axum::Router,
    method: Method,
    uri: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .header("user-agent", "apply-test/1.0 (linux)")
        .body(Body::from(body))
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

async fn apply(
    app: &axum::Router,
    uri: &str,
    manager: &str,
    force: bool,
    config: Value,
) -> (StatusCode, Value) {
    let query = if force { "&force=true" } else { "" };
    send(
        app,
        Method::PATCH,
        &format!("{uri}?fieldManager={manager}{query}"),
        "application/apply-patch+yaml",
        config.to_string(),
    )
    .await
}

fn beta(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": name}, "spec": spec})
}

/// `manager` → (operation, apiVersion, fieldsV1, subresource) of an object's managedFields.
fn owners(obj: &Value) -> Vec<(String, String, String, Value, Option<String>)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    assert_eq!(e["fieldsType"], "FieldsV1");
                    // Set when the write changed the object (an apply that changes nothing
                    // records its ownership without a time, as in Kubernetes).
                    assert!(e["time"].is_string() || e.get("time").is_none(), "{e}");
                    (
                        e["manager"].as_str().unwrap().to_string(),
                        e["operation"].as_str().unwrap().to_string(),
                        e["apiVersion"].as_str().unwrap().to_string(),
                        e["fieldsV1"].clone(),
                        e["subresource"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn apply_creates_then_conflicts_then_forces() {
    let app = app();
    let (code, created) = apply(
        &app,
        &format!("{BETA}/a1"),
        "alice",
        false,
        beta("a1", json!({"title": "Disk", "content": "full"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["spec"]["title"], "Disk");
    assert_eq!(
        owners(&created),
        [(
            "alice".into(),
            "Apply".into(),
            "pager.k8s.co/v1beta1".into(),
            json!({"f:spec": {"f:content": {}, "f:title": {}}}),
            None
        )]
    );

    // The same configuration again: nothing changes.
    let (code, again) = apply(
        &app,
        &format!("{BETA}/a1"),
        "alice",
        false,
        beta("a1", json!({"title": "Disk", "content": "full"})),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );

    // Another manager changing alice's field: 409, Kubernetes' message and causes.
    let (code, status) = apply(
        &app,
        &format!("{BETA}/a1"),
        "bob",
        false,
        beta("a1", json!({"title": "CPU"})),
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.title"
    );
    assert_eq!(
        status["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".spec.title"}])
    );
    // The same value is no conflict: shared ownership.
    let (code, shared) = apply(
        &app,
        &format!("{BETA}/a1"),
        "carol",
        false,
        beta("a1", json!({"title": "Disk"})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{shared}");
    assert_eq!(owners(&shared).len(), 2);

    // Forced: bob takes the field from alice and carol.
    let (code, forced) = apply(
        &app,
        &format!("{BETA}/a1"),
        "bob",
        true,
        beta("a1", json!({"title": "CPU"})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{forced}");
    assert_eq!(forced["spec"]["title"], "CPU");
    let o = owners(&forced);
    let alice = o.iter().find(|e| e.0 == "alice").unwrap();
    assert_eq!(alice.3, json!({"f:spec": {"f:content": {}}}));
    assert!(
        o.iter().all(|e| e.0 != "carol"),
        "carol owned nothing left: {o:?}"
    );
    let bob = o.iter().find(|e| e.0 == "bob").unwrap();
    assert_eq!(bob.3, json!({"f:spec": {"f:title": {}}}));
}

#[tokio::test]
async fn fields_no_longer_applied_are_removed_unless_someone_else_owns_them() {
    let app = app();
    let one = format!("{BETA}/p1");
    let config = |labels: Value| {
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
               "metadata": {"name": "p1", "labels": labels}, "spec": {"content": "c"}})
    };
    let (code, _) = apply(
        &app,
        &one,
        "alice",
        false,
        config(json!({"a": "1", "b": "2", "c": "3"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    // bob applies label c too: shared.
    let (code, _) = apply(
        &app,
        &one,
        "bob",
        false,
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
               "metadata": {"name": "p1", "labels": {"c": "3"}}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    // alice drops b and c: b goes, c stays (bob owns it).
    let (code, obj) = apply(&app, &one, "alice", false, config(json!({"a": "1"}))).await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["metadata"]["labels"], json!({"a": "1", "c": "3"}));
    // An update (merge patch) takes ownership without conflicts.
    let (code, obj) = send(
        &app,
        Method::PATCH,
        &format!("{one}?fieldManager=editor"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "9"}}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let o = owners(&obj);
    let editor = o.iter().find(|e| e.0 == "editor").unwrap();
    assert_eq!(editor.1, "Update");
    assert_eq!(editor.3, json!({"f:metadata": {"f:labels": {"f:a": {}}}}));
    let alice = o.iter().find(|e| e.0 == "alice").unwrap();
    assert_eq!(alice.3, json!({"f:spec": {"f:content": {}}}));
    // Appliers come first in managedFields.
    assert_eq!(o.last().unwrap().1, "Update");
}

#[tokio::test]
async fn creates_and_updates_record_update_entries_and_managed_fields_cannot_be_forged() {
    let app = app();
    let forged = json!([{"manager": "mallory", "operation": "Apply", "apiVersion": "pager.k8s.co/v1beta1",
                          "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:title": {}}}}]);
    let (code, created) = send(
        &app,
        Method::POST,
        BETA,
        "application/json",
        json!({"metadata": {"name": "c1", "managedFields": forged}, "spec": {"title": "t", "content": "c"}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let o = owners(&created);
    // No fieldManager: the User-Agent's first part.
    assert_eq!(o.len(), 1, "{o:?}");
    assert_eq!(o[0].0, "apply-test");
    assert_eq!(o[0].1, "Update");
    assert_eq!(
        o[0].3,
        // The defaulted priority too, as Kubernetes defaults before recording.
        json!({"f:spec": {"f:content": {}, "f:priority": {}, "f:title": {}}})
    );
    // A status update through the subresource is recorded with it.
    let (code, obj) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/c1/status?fieldManager=sender"),
        "application/merge-patch+json",
        json!({"status": {"sent": true}, "spec": {"title": "ignored"}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["spec"]["title"], "t");
    let sender = owners(&obj).into_iter().find(|e| e.0 == "sender").unwrap();
    assert_eq!(sender.4.as_deref(), Some("status"));
    assert_eq!(sender.3, json!({"f:status": {".": {}, "f:sent": {}}}));
}

#[tokio::test]
async fn applying_status_owns_only_status() {
    let app = app();
    let (code, _) = apply(
        &app,
        &format!("{BETA}/s1"),
        "alice",
        false,
        beta("s1", json!({"content": "c"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, obj) = apply(
        &app,
        &format!("{BETA}/s1/status"),
        "controller",
        false,
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": "s1"},
               "spec": {"content": "not mine"}, "status": {"sent": true}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["status"]["sent"], true);
    assert_eq!(obj["spec"]["content"], "c");
    let controller = owners(&obj)
        .into_iter()
        .find(|e| e.0 == "controller")
        .unwrap();
    assert_eq!(controller.1, "Apply");
    assert_eq!(controller.4.as_deref(), Some("status"));
    assert_eq!(controller.3, json!({"f:status": {"f:sent": {}}}));
    // Applying the status of something that does not exist is 404.
    let (code, _) = apply(
        &app,
        &format!("{BETA}/nothing/status"),
        "controller",
        false,
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": "nothing"},
               "status": {"sent": true}}),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ownership_survives_version_conversion() {
    let app = app();
    // alice applies through v1alpha1: `message` is the hub's `content`.
    let (code, obj) = apply(
        &app,
        &format!("{ALPHA}/v1"),
        "alice",
        false,
        json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert", "metadata": {"name": "v1"},
               "spec": {"message": "from alpha"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{obj}");
    assert_eq!(owners(&obj)[0].2, "pager.k8s.co/v1alpha1");
    // bob changes `content` through v1beta1: the conflict is found in alice's version.
    let (code, status) = apply(
        &app,
        &format!("{BETA}/v1"),
        "bob",
        false,
        beta("v1", json!({"content": "from beta"})),
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.message"
    );
    // Read through v1beta1, the entries keep the version they were written in.
    let (_, read) = send(
        &app,
        Method::GET,
        &format!("{BETA}/v1"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(owners(&read)[0].3, json!({"f:spec": {"f:message": {}}}));
}

#[tokio::test]
async fn apply_requests_are_checked() {
    let app = app();
    let config = beta("r1", json!({"content": "c"}));
    // No field manager.
    let (code, status) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/r1"),
        "application/apply-patch+yaml",
        config.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    // force belongs to apply.
    let (code, status) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/r1?force=true&fieldManager=x"),
        "application/merge-patch+json",
        "{}".into(),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("force: Forbidden"),
        "{status}"
    );
    // YAML bodies work; wrong kinds, managed fields and mismatched names do not.
    let yaml = "apiVersion: pager.k8s.co/v1beta1\nkind: Alert\nmetadata:\n  name: r1\nspec:\n  content: from yaml\n";
    let (code, obj) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/r1?fieldManager=y"),
        "application/apply-patch+yaml",
        yaml.into(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{obj}");
    assert_eq!(obj["spec"]["content"], "from yaml");
    for (body, want) in [
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "r1"}}),
            "Specified patch version: v1, expected: pager.k8s.co/v1beta1",
        ),
        (
            json!({"metadata": {"name": "r1"}}),
            "must set apiVersion and kind",
        ),
        (
            json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                   "metadata": {"name": "r1", "managedFields": [{"manager": "m"}]}}),
            "managedFields must be nil",
        ),
        (
            beta("other", json!({})),
            "does not match the name on the URL",
        ),
    ] {
        let (code, status) = apply(&app, &format!("{BETA}/r1"), "y", false, body).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
        assert!(
            status["message"].as_str().unwrap().contains(want),
            "{status}"
        );
    }
    let (code, status) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/r1?fieldManager=y"),
        "application/apply-patch+yaml",
        "spec: [unclosed".into(),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
    // A field manager with a control character.
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/r1?fieldManager=a%07b"),
        "application/apply-patch+yaml",
        config.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn update_entries_are_capped_at_ten_with_ancient_changes() {
    let app = app();
    let (code, _) = send(
        &app,
        Method::POST,
        &format!("{BETA}?fieldManager=creator"),
        "application/json",
        json!({"metadata": {"name": "many"}, "spec": {"content": "c"}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let mut last = Value::Null;
    for i in 0..12 {
        let (code, obj) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/many?fieldManager=editor-{i:02}"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {format!("l{i}"): "v"}}}).to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        last = obj;
    }
    let o = owners(&last);
    assert_eq!(o.iter().filter(|e| e.1 == "Update").count(), 10, "{o:?}");
    let ancient = o.iter().find(|e| e.0 == "ancient-changes").unwrap();
    assert_eq!(ancient.2, "pager.k8s.co/v1beta1");
    // Nobody's fields are lost: every label is still owned by someone.
    for i in 0..12 {
        let label = format!("f:l{i}");
        assert!(
            o.iter()
                .any(|e| e.3["f:metadata"]["f:labels"].get(&label).is_some()),
            "{label}: {o:?}"
        );
    }
}

#[tokio::test]
async fn deeply_nested_apply_configurations_are_refused_not_crashed() {
    let app = app();
    for depth in [200usize, 5_000, 100_000] {
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let body = format!(
            r#"{{"apiVersion":"pager.k8s.co/v1beta1","kind":"Alert","metadata":{{"name":"deep"}},"spec":{{"content":"c","extra":{nested}}}}}"#
        );
        let (code, status) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/deep?fieldManager=m"),
            "application/apply-patch+yaml",
            body,
        )
        .await;
        // The YAML reader's nesting limit answers 400; never a crashed server.
        assert_eq!(code, StatusCode::BAD_REQUEST, "depth {depth}: {status}");
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The object a manifest describes, with kubectl's client-side apply annotation for it (what
/// `kubectl apply` sends and stores).
fn with_last_applied(manifest: &Value) -> Value {
    let mut obj = manifest.clone();
    obj["metadata"]["annotations"] = json!({LAST_APPLIED: format!("{manifest}\n")});
    obj
}

/// A manifest as kubectl reads it from a file (it fills in the namespace).
fn manifest(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
           "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

/// `kubectl apply` (client-side) of `manifest`: a create the first time, then a merge patch
/// of the changes and the new annotation, both as `kubectl-client-side-apply`.
async fn client_side_apply(app: &axum::Router, manifest: &Value, first: bool) {
    let name = manifest["metadata"]["name"].as_str().unwrap();
    let (code, obj) = if first {
        send(
            app,
            Method::POST,
            &format!("{BETA}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
            "application/json",
            with_last_applied(manifest).to_string(),
        )
        .await
    } else {
        let patch = json!({
            "metadata": {"annotations": {LAST_APPLIED: format!("{manifest}\n")}},
            "spec": manifest["spec"],
        });
        send(
            app,
            Method::PATCH,
            &format!("{BETA}/{name}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
            "application/merge-patch+json",
            patch.to_string(),
        )
        .await
    };
    assert!(code.is_success(), "{code}: {obj}");
}

/// `kubectl apply --server-side` of `manifest` (manager `kubectl` unless told otherwise).
async fn server_side_apply(
    app: &axum::Router,
    manifest: &Value,
    manager: &str,
) -> (StatusCode, Value) {
    let name = manifest["metadata"]["name"].as_str().unwrap();
    send(
        app,
        Method::PATCH,
        &format!("{BETA}/{name}?fieldManager={manager}&fieldValidation=Strict&force=false"),
        "application/apply-patch+yaml",
        manifest.to_string(),
    )
    .await
}

/// A 409's conflicts from its causes: (manager, field), in order.
fn conflicts(status: &Value) -> Vec<(String, String)> {
    assert_eq!(status["reason"], "Conflict", "{status}");
    status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["reason"], "FieldManagerConflict");
            let message = c["message"].as_str().unwrap();
            let manager = message.split('"').nth(1).unwrap().to_string();
            (manager, c["field"].as_str().unwrap().to_string())
        })
        .collect()
}

/// kube-apiserver's `lastAppliedManager`: an apply by `kubectl` takes over the fields of
/// kubectl's client-side apply whose live value is still what the last-applied annotation
/// says, even when the value changed over several client-side applies; a field someone else
/// changed since, or one the annotation does not name, still conflicts, and only for `kubectl`.
#[tokio::test]
async fn kubectl_server_side_apply_takes_over_what_client_side_apply_last_applied() {
    let app = app();
    // apply (title A), apply (title B), then apply --server-side (title C).
    client_side_apply(
        &app,
        &manifest("u1", json!({"title": "A", "content": "c"})),
        true,
    )
    .await;
    client_side_apply(
        &app,
        &manifest("u1", json!({"title": "B", "content": "c"})),
        false,
    )
    .await;
    let (code, obj) = server_side_apply(
        &app,
        &manifest("u1", json!({"title": "C", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["spec"]["title"], "C");
    // Go's lastAppliedUpdater: the client-side annotation now says what was applied (keys
    // sorted, as Go marshals a map), so a later client-side apply diffs against it.
    assert_eq!(
        obj["metadata"]["annotations"][LAST_APPLIED],
        r#"{"apiVersion":"pager.k8s.co/v1beta1","kind":"Alert","metadata":{"name":"u1","namespace":"default"},"spec":{"content":"c","title":"C"}}"#,
        "{obj}"
    );
    let o = owners(&obj);
    let kubectl = o.iter().find(|e| e.0 == "kubectl").unwrap();
    assert_eq!(kubectl.1, "Apply");
    assert_eq!(
        kubectl.3,
        json!({"f:spec": {"f:content": {}, "f:title": {}}}),
        "{o:?}"
    );
    let csa = o
        .iter()
        .find(|e| e.0 == "kubectl-client-side-apply")
        .unwrap();
    assert!(csa.3["f:spec"].get("f:title").is_none(), "{o:?}");
    assert_eq!(csa.3["f:spec"]["f:content"], json!({}), "{o:?}");

    // Another manager applying the same is not kubectl: the conflict stands.
    client_side_apply(
        &app,
        &manifest("u2", json!({"title": "A", "content": "c"})),
        true,
    )
    .await;
    client_side_apply(
        &app,
        &manifest("u2", json!({"title": "B", "content": "c"})),
        false,
    )
    .await;
    let (code, status) = server_side_apply(
        &app,
        &manifest("u2", json!({"title": "C", "content": "c"})),
        "my-tool",
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(
        conflicts(&status),
        [("kubectl-client-side-apply".into(), ".spec.title".into())]
    );

    // The live value is no longer what kubectl applied last (another manager changed it).
    client_side_apply(
        &app,
        &manifest("u3", json!({"title": "A", "content": "c"})),
        true,
    )
    .await;
    client_side_apply(
        &app,
        &manifest("u3", json!({"title": "B", "content": "c"})),
        false,
    )
    .await;
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/u3?fieldManager=editor"),
        "application/merge-patch+json",
        json!({"spec": {"title": "X", "content": "d"}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, status) = server_side_apply(
        &app,
        &manifest("u3", json!({"title": "C", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(
        conflicts(&status),
        [
            ("editor".into(), ".spec.content".into()),
            ("editor".into(), ".spec.title".into())
        ]
    );

    // A field the annotation does not name (a label another manager set) still conflicts;
    // the field it names and that still holds its value does not.
    client_side_apply(
        &app,
        &manifest("u4", json!({"title": "A", "content": "c"})),
        true,
    )
    .await;
    client_side_apply(
        &app,
        &manifest("u4", json!({"title": "B", "content": "c"})),
        false,
    )
    .await;
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/u4?fieldManager=labeler"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"team": "a"}}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let mut labelled = manifest("u4", json!({"title": "C", "content": "c"}));
    labelled["metadata"]["labels"] = json!({"team": "b"});
    let (code, status) = server_side_apply(&app, &labelled, "kubectl").await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(
        conflicts(&status),
        [("labeler".into(), ".metadata.labels.team".into())]
    );
    // An updater is named with its version, never with its time (Go names managers by their
    // identifiers, which leave the time out).
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"labeler\" using pager.k8s.co/v1beta1: .metadata.labels.team",
        "{status}"
    );
    // Without the label, it goes through.
    let (code, obj) = server_side_apply(
        &app,
        &manifest("u4", json!({"title": "C", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(obj["spec"]["title"], "C");
    assert_eq!(obj["metadata"]["labels"]["team"], "a");

    // An annotation of another version (or that does not parse) allows nothing.
    client_side_apply(
        &app,
        &manifest("u5", json!({"title": "A", "content": "c"})),
        true,
    )
    .await;
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/u5?fieldManager=kubectl-client-side-apply"),
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {LAST_APPLIED: "{not json"}}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, status) = server_side_apply(
        &app,
        &manifest("u5", json!({"title": "C", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert_eq!(
        conflicts(&status),
        [("kubectl-client-side-apply".into(), ".spec.title".into())]
    );
    let alpha = json!({"apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
                       "metadata": {"name": "u5", "namespace": "default"},
                       "spec": {"message": "c"}});
    let (code, _) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/u5?fieldManager=kubectl-client-side-apply"),
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {LAST_APPLIED: alpha.to_string()}}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, status) = server_side_apply(
        &app,
        &manifest("u5", json!({"title": "C", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
}

/// An apply setting a field the schema does not declare is refused whatever `fieldValidation`
/// says (Kubernetes cannot type it), at any depth, creating or updating, through `/status`
/// too; nothing is written and nobody comes to own a field that does not exist.
#[tokio::test]
async fn applies_setting_undeclared_fields_are_refused() {
    let app = app();
    let bogus = json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                       "metadata": {"name": "b1"}, "spec": {"content": "c", "bogus": {"deep": 1}}});
    for validation in ["", "&fieldValidation=Ignore", "&fieldValidation=Warn"] {
        let (code, status) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/b1?fieldManager=py{validation}"),
            "application/apply-patch+yaml",
            bogus.to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{validation}: {status}");
        assert_eq!(status["reason"], "BadRequest");
        assert_eq!(
            status["message"],
            "failed to create typed patch object (default/b1; pager.k8s.co/v1beta1, Kind=Alert): .spec.bogus: field not declared in schema"
        );
    }
    let (code, _) = send(
        &app,
        Method::GET,
        &format!("{BETA}/b1"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // Update by apply: nothing changes, for fields at any depth (a list-map item's too).
    let (code, created) = apply(
        &app,
        &format!("{BETA}/b1"),
        "py",
        false,
        beta("b1", json!({"content": "c"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    for (config, want) in [
        (
            json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                   "metadata": {"name": "b1", "bogus": "x"}, "spec": {"content": "changed"}}),
            ".metadata.bogus: field not declared in schema",
        ),
        (
            json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                   "metadata": {"name": "b1", "ownerReferences": [
                       {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u-1", "extra": true}]}}),
            ".metadata.ownerReferences[uid=\"u-1\"].extra: field not declared in schema",
        ),
        (
            json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
                   "metadata": {"name": "b1", "nope": 1}, "spec": {"content": "c", "x": null}}),
            "errors:\n  .metadata.nope: field not declared in schema\n  .spec.x: field not declared in schema",
        ),
    ] {
        let (code, status) = apply(&app, &format!("{BETA}/b1"), "py", false, config).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
        assert_eq!(
            status["message"],
            format!(
                "failed to create typed patch object (default/b1; pager.k8s.co/v1beta1, Kind=Alert): {want}"
            )
        );
    }
    // The status subresource types the whole configuration too.
    let (code, status) = apply(
        &app,
        &format!("{BETA}/b1/status"),
        "controller",
        false,
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert", "metadata": {"name": "b1"},
               "status": {"sent": true, "bogus": 1}}),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .ends_with("): .status.bogus: field not declared in schema"),
        "{status}"
    );
    let (_, read) = send(
        &app,
        Method::GET,
        &format!("{BETA}/b1"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(
        read["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(
        owners(&read)
            .into_iter()
            .map(|e| (e.0, e.3))
            .collect::<Vec<_>>(),
        [("py".to_string(), json!({"f:spec": {"f:content": {}}}))]
    );
}

/// `metadata.managedFields: []` in a write is "not set" (the stored entries are kept, then
/// updated for the write as usual: a custom resource's metadata is decoded into `ObjectMeta` and
/// back, which drops it); `[{}]` resets them, and the object's updates are not tracked until an
/// apply — for PUT and every patch type.
#[tokio::test]
async fn an_empty_managed_fields_list_keeps_them_and_one_empty_entry_resets_them() {
    let app = app();
    let setup = |name: &'static str| {
        let app = app.clone();
        async move {
            let (code, _) = apply(
                &app,
                &format!("{BETA}/{name}"),
                "alice",
                false,
                beta(name, json!({"title": "t", "content": "c"})),
            )
            .await;
            assert_eq!(code, StatusCode::CREATED);
            let (code, obj) = send(
                &app,
                Method::PATCH,
                &format!("{BETA}/{name}?fieldManager=editor"),
                "application/merge-patch+json",
                json!({"metadata": {"labels": {"a": "1"}}}).to_string(),
            )
            .await;
            assert_eq!(code, StatusCode::OK);
            obj
        }
    };
    let managers = |obj: &Value| owners(obj).into_iter().map(|e| e.0).collect::<Vec<_>>();
    // Each write: (method, content type, body for `managedFields` = the value).
    type Write = fn(&Value, Value) -> (Method, &'static str, String);
    let writes: [(&str, Write); 4] = [
        ("put", |live, managed| {
            let mut obj = live.clone();
            obj["metadata"]["managedFields"] = managed;
            obj["metadata"]["labels"]["b"] = json!("2");
            (Method::PUT, "application/json", obj.to_string())
        }),
        ("merge", |_, managed| {
            let body = json!({"metadata": {"managedFields": managed, "labels": {"b": "2"}}});
            (
                Method::PATCH,
                "application/merge-patch+json",
                body.to_string(),
            )
        }),
        ("json", |_, managed| {
            let body = json!([
                {"op": "replace", "path": "/metadata/managedFields", "value": managed},
                {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            ]);
            (
                Method::PATCH,
                "application/json-patch+json",
                body.to_string(),
            )
        }),
        ("strategic", |_, managed| {
            let body = json!({"metadata": {"managedFields": managed, "labels": {"b": "2"}}});
            (
                Method::PATCH,
                "application/strategic-merge-patch+json",
                body.to_string(),
            )
        }),
    ];
    let names = ["m-put", "m-merge", "m-json", "m-strategic"];
    for ((kind, write), name) in writes.iter().zip(names) {
        // `[]`: kept, and the writer's entry added.
        let live = setup(name).await;
        assert_eq!(managers(&live), ["alice", "editor"], "{kind}");
        let (method, content_type, body) = write(&live, json!([]));
        let (code, obj) = send(
            &app,
            method,
            &format!("{BETA}/{name}?fieldManager=writer"),
            content_type,
            body,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{kind}: {obj}");
        assert_eq!(obj["metadata"]["labels"]["b"], "2", "{kind}");
        assert_eq!(
            owners(&obj)
                .into_iter()
                .map(|e| (e.0, e.3))
                .collect::<Vec<_>>(),
            [
                (
                    "alice".to_string(),
                    json!({"f:spec": {"f:content": {}, "f:title": {}}})
                ),
                (
                    "editor".to_string(),
                    json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
                ),
                (
                    "writer".to_string(),
                    json!({"f:metadata": {"f:labels": {"f:b": {}}}})
                ),
            ],
            "{kind}"
        );
        // `[{}]`: reset; and an update of an object that has no managed fields is not tracked
        // (Go's skipNonAppliedManager), so none are left, nor added by later updates.
        let (method, content_type, mut body) = write(&obj, json!([{}]));
        if *kind == "put" {
            let mut o: Value = serde_json::from_str(&body).unwrap();
            o["metadata"]["labels"]["b"] = json!("3");
            body = o.to_string();
        } else {
            body = body.replace("\"2\"", "\"3\"");
        }
        let (code, obj) = send(
            &app,
            method,
            &format!("{BETA}/{name}?fieldManager=resetter"),
            content_type,
            body,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{kind}: {obj}");
        assert!(
            obj["metadata"].get("managedFields").is_none(),
            "{kind}: {obj}"
        );
        let (code, obj) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/{name}?fieldManager=later"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"c": "4"}}}).to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{kind}: {obj}");
        assert!(
            obj["metadata"].get("managedFields").is_none(),
            "{kind}: {obj}"
        );
        // Until an apply, which is tracked.
        let (code, obj) = apply(
            &app,
            &format!("{BETA}/{name}"),
            "alice",
            false,
            beta(name, json!({"title": "t2", "content": "c"})),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{kind}: {obj}");
        assert_eq!(managers(&obj), ["alice"], "{kind}");
    }
    // `[{}]` alone: no managed fields left at all.
    setup("m-clear").await;
    let (code, obj) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/m-clear?fieldManager=resetter"),
        "application/merge-patch+json",
        json!({"metadata": {"managedFields": [{}]}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert!(obj["metadata"].get("managedFields").is_none(), "{obj}");
    // `[]` alone: nothing changes.
    let live = setup("m-keep").await;
    let (code, obj) = send(
        &app,
        Method::PATCH,
        &format!("{BETA}/m-keep?fieldManager=resetter"),
        "application/merge-patch+json",
        json!({"metadata": {"managedFields": []}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(
        obj["metadata"]["managedFields"],
        live["metadata"]["managedFields"]
    );
}

/// Only `kubectl`'s applies rewrite client-side apply's annotation (Go's lastAppliedUpdater);
/// an object without the annotation does not get one.
#[tokio::test]
async fn only_kubectl_applies_rewrite_the_last_applied_annotation() {
    let app = app();
    let first = manifest("w1", json!({"title": "A", "content": "c"}));
    client_side_apply(&app, &first, true).await;
    let mut labelled = manifest("w1", json!({}));
    labelled["metadata"]["labels"] = json!({"team": "ops"});
    let (code, obj) = server_side_apply(&app, &labelled, "my-tool").await;
    assert_eq!(code, StatusCode::OK, "{obj}");
    assert_eq!(
        obj["metadata"]["annotations"][LAST_APPLIED],
        format!("{first}\n"),
        "{obj}"
    );

    let (code, obj) = server_side_apply(
        &app,
        &manifest("w2", json!({"title": "A", "content": "c"})),
        "kubectl",
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{obj}");
    assert!(obj["metadata"].get("annotations").is_none(), "{obj}");
}

/// A create starts from the managed fields its request brings (a copy of an object keeps its
/// owners, as Go's create runs the field manager over them): the creator then takes what it
/// sets, and an owner of anything else keeps it.
#[tokio::test]
async fn a_create_keeps_the_managed_fields_it_brings() {
    let app = app();
    let mut obj = beta("copied", json!({"title": "t", "content": "c"}));
    obj["metadata"]["managedFields"] = json!([{
        "manager": "original",
        "operation": "Apply",
        "apiVersion": "pager.k8s.co/v1beta1",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:annotations": {"f:note": {}}}, "f:spec": {"f:title": {}}},
    }]);
    let (code, created) = send(
        &app,
        Method::POST,
        &format!("{BETA}?fieldManager=copier"),
        "application/json",
        obj.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let owned: Vec<(String, String, Value)> = owners(&created)
        .into_iter()
        .map(|e| (e.0, e.1, e.3))
        .collect();
    assert_eq!(
        owned,
        [
            (
                "original".to_string(),
                "Apply".to_string(),
                json!({"f:metadata": {"f:annotations": {"f:note": {}}}})
            ),
            (
                "copier".to_string(),
                "Update".to_string(),
                json!({"f:spec": {"f:content": {}, "f:priority": {}, "f:title": {}}})
            ),
        ],
        "{created}"
    );
}

/// A required field its only owner stops applying is pruned (to its zero value, as Go decodes
/// a required string it lacks; the pager's strategy then refuses the empty message with a 422),
/// whatever versions the managers applied in: another manager's entry in the same version or
/// in the other, or the applier itself moving versions.
#[tokio::test]
async fn a_required_field_no_longer_applied_is_pruned_across_versions() {
    let manifest = |version: &str, name: &str, labels: Option<Value>, spec: Option<Value>| {
        let mut o = json!({"apiVersion": format!("pager.k8s.co/{version}"), "kind": "Alert",
                           "metadata": {"name": name}});
        if let Some(labels) = labels {
            o["metadata"]["labels"] = labels;
        }
        if let Some(spec) = spec {
            o["spec"] = spec;
        }
        o
    };
    let apply_as = |app: axum::Router, manager: &'static str, config: Value| async move {
        let version = config["apiVersion"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        let uri = format!(
            "/apis/pager.k8s.co/{version}/namespaces/default/alerts/{}",
            config["metadata"]["name"].as_str().unwrap()
        );
        apply(&app, &uri, manager, false, config).await
    };
    for other in ["v1alpha1", "v1beta1"] {
        let app = app();
        let name = format!("prune-{other}");
        let first = manifest("v1alpha1", &name, None, Some(json!({"message": "M"})));
        assert_eq!(
            apply_as(app.clone(), "B", first).await.0,
            StatusCode::CREATED
        );
        let labels = manifest(other, &name, Some(json!({"a": "1"})), None);
        let (code, body) = apply_as(app.clone(), "A", labels).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let again = manifest("v1alpha1", &name, Some(json!({"b": "1"})), None);
        let (code, body) = apply_as(app.clone(), "B", again).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert_eq!(
            body["spec"]["message"], "",
            "the other manager in {other}: {body}"
        );
    }
    let app = app();
    let first = manifest("v1alpha1", "mover", None, Some(json!({"message": "M"})));
    assert_eq!(
        apply_as(app.clone(), "B", first).await.0,
        StatusCode::CREATED
    );
    let moved = manifest(
        "v1beta1",
        "mover",
        None,
        Some(json!({"title": "OnlyTitle"})),
    );
    let (code, body) = apply_as(app.clone(), "B", moved).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["spec"]["content"], "", "{body}");
    assert_eq!(body["spec"]["title"], "OnlyTitle", "{body}");
}

/// Empty `labels`, `finalizers` and `ownerReferences` in a write are owned by nobody, as Go's
/// `omitempty` drops them before its fields are counted: removing the last label leaves its
/// writer owning nothing, a controller clearing its finalizer with `[]` does not block another
/// manager's apply of one, and replacing an unchanged object with `labels: {}` writes nothing
/// (before, each such update made a new resourceVersion and a watch event: a controller's loop).
#[tokio::test]
async fn empty_labels_and_finalizers_are_owned_by_nobody() {
    let app = app();
    let (code, created) = send(
        &app,
        Method::POST,
        &format!("{BETA}?fieldManager=creator"),
        "application/json",
        json!({"metadata": {"name": "e1", "labels": {}, "finalizers": [], "ownerReferences": []},
               "spec": {"title": "t", "content": "c"}})
        .to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert!(created["metadata"].get("labels").is_none(), "{created}");
    let creator = owners(&created);
    assert_eq!(
        creator[0].3,
        json!({"f:spec": {"f:content": {}, "f:priority": {}, "f:title": {}}})
    );

    // kubectl label e1 tmp=1, then kubectl label e1 tmp-.
    for labels in [json!({"tmp": "1"}), json!({"tmp": null})] {
        let (code, obj) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/e1?fieldManager=kubectl-label"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": labels}}).to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{obj}");
    }
    // A controller adds its finalizer, then removes it by sending the list left: [].
    for finalizers in [json!(["example.com/ctrl"]), json!([])] {
        let (code, obj) = send(
            &app,
            Method::PATCH,
            &format!("{BETA}/e1?fieldManager=ctrl"),
            "application/merge-patch+json",
            json!({"metadata": {"finalizers": finalizers}}).to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{obj}");
    }
    let (code, obj) = send(
        &app,
        Method::GET,
        &format!("{BETA}/e1"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let owned: Vec<String> = owners(&obj).into_iter().map(|o| o.0).collect();
    assert_eq!(owned, ["creator"], "{obj}");

    // Another manager's apply of labels and a finalizer conflicts with no one.
    let (code, applied) = apply(
        &app,
        &format!("{BETA}/e1"),
        "deployer",
        false,
        json!({"apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
               "metadata": {"name": "e1", "labels": {"team": "a"}, "finalizers": ["example.com/deployer"]}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{applied}");

    // Replacing the object unchanged, with an empty list or map added, writes nothing.
    let mut same = applied.clone();
    same["metadata"]["ownerReferences"] = json!([]);
    let rv = applied["metadata"]["resourceVersion"].clone();
    for _ in 0..2 {
        let (code, put) = send(
            &app,
            Method::PUT,
            &format!("{BETA}/e1?fieldManager=deployer-put"),
            "application/json",
            same.to_string(),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{put}");
        assert_eq!(put["metadata"]["resourceVersion"], rv, "{put}");
    }
    let (code, unlabeled) = send(
        &app,
        Method::POST,
        &format!("{BETA}?fieldManager=creator"),
        "application/json",
        beta("e2", json!({"title": "t", "content": "c"})).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{unlabeled}");
    let mut with_empty_labels = unlabeled.clone();
    with_empty_labels["metadata"]["labels"] = json!({});
    let rv = unlabeled["metadata"]["resourceVersion"].clone();
    let (code, put) = send(
        &app,
        Method::PUT,
        &format!("{BETA}/e2?fieldManager=controller"),
        "application/json",
        with_empty_labels.to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{put}");
    assert_eq!(put["metadata"]["resourceVersion"], rv, "{put}");
}
