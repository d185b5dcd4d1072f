//! The generated clientset over the fake: the real API server in-process. Selectors (label and
//! field, on list and watch), conflicts, every patch type, the status subresource, finalizers,
//! `generateName`, both versions through the hub, error injection and the request recorder.

use futures::StreamExt;
use kube_codegen_client::{
    DeleteParams, Error, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use pager::v1beta1::{Alert, AlertSpec, AlertStatus};
use pager_client::Clientset;
use pager_client::clientset::fake;
use serde_json::json;

fn alert(name: &str, title: &str) -> Alert {
    let mut a = Alert {
        spec: AlertSpec {
            title: title.into(),
            content: format!("{title}: details"),
            priority: None,
        },
        ..Default::default()
    };
    a.metadata.name = Some(name.into());
    a
}

async fn clientset() -> (Clientset, fake::Fake) {
    let mut seeded = alert("seeded", "Seeded");
    seeded.metadata.labels = Some([("team".to_string(), "ops".to_string())].into());
    // The server's own Alert registration (its strategy: validation, `status.sent` selectable).
    let fake = fake::builder()
        .resource(pager_apiserver::alerts())
        .object(seeded)
        .build()
        .await
        .unwrap();
    (Clientset::new(fake.client()), fake)
}

#[tokio::test]
async fn crud_selectors_and_versions_behave_like_the_server() {
    let (cs, _fake) = clientset().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    let pp = PostParams::default();

    // Preloaded, defaulted by the server (priority: normal).
    let seeded = alerts.get("seeded").await.unwrap();
    assert!(seeded.metadata.uid.is_some());
    assert_eq!(
        seeded.spec.priority.map(|p| format!("{p:?}")),
        Some("Normal".into())
    );

    let created = alerts
        .create(&pp, &alert("disk", "Disk full"))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));

    // generateName.
    let mut generated = alert("", "Generated");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let generated = alerts.create(&pp, &generated).await.unwrap();
    assert!(generated.metadata.name.unwrap().starts_with("gen-"));

    // Label and field selectors, evaluated by the server.
    let ops = alerts
        .list(&ListParams::default().labels("team=ops"))
        .await
        .unwrap();
    assert_eq!(ops.items.len(), 1);
    let unsent = alerts
        .list(&ListParams::default().fields("status.sent=false"))
        .await
        .unwrap();
    assert_eq!(unsent.items.len(), 3);
    let by_name = alerts
        .list(&ListParams::default().fields("metadata.name=disk"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    // The other version sees the same object, converted through the hub.
    let alpha = cs
        .pager_v1alpha1()
        .alerts("default")
        .get("disk")
        .await
        .unwrap();
    assert_eq!(alpha.spec.message, "Disk full: details");

    // A stale resourceVersion is a conflict.
    let mut stale = created.clone();
    stale.spec.content = "first".into();
    alerts.update(&pp, &stale).await.unwrap();
    stale.spec.content = "second".into();
    let err = alerts.update(&pp, &stale).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(!err.is_already_exists(), "{err}");
    // A taken name is a 409 too, but AlreadyExists, not a conflict a retry fixes.
    let mut again = stale.clone();
    again.metadata.resource_version = None;
    again.metadata.uid = None;
    let err = alerts.create(&pp, &again).await.unwrap_err();
    assert_eq!(err.code(), Some(409), "{err}");
    assert!(err.is_already_exists(), "{err}");
    assert!(!err.is_conflict(), "{err}");

    // Status through its subresource only.
    let mut current = alerts.get("disk").await.unwrap();
    current.status = Some(AlertStatus { sent: true });
    let updated = alerts.update_status(&pp, &current).await.unwrap();
    assert_eq!(updated.status.as_ref().map(|s| s.sent), Some(true));
    let sent = alerts
        .list(&ListParams::default().fields("status.sent=true"))
        .await
        .unwrap();
    assert_eq!(sent.items.len(), 1);

    // Every patch type.
    let patched = alerts
        .patch(
            "disk",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "storage"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap()["team"], "storage");
    let patched = alerts
        .patch(
            "disk",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"title": "Disk nearly full"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.title, "Disk nearly full");
    let json_patch: kube_codegen_client::json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/content", "value": "80%"}]))
            .unwrap();
    let patched = alerts
        .patch(
            "disk",
            &PatchParams::default(),
            &Patch::Json::<()>(json_patch),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.content, "80%");
    let patched = alerts
        .patch_status(
            "disk",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"sent": false}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.map(|s| s.sent), Some(false));

    // Finalizers keep a deleted object until they are removed.
    alerts
        .patch(
            "disk",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["pager.k8s.co/sent"]}})),
        )
        .await
        .unwrap();
    let pending = alerts
        .delete("disk", &DeleteParams::default())
        .await
        .unwrap();
    let marked = pending.left().expect("kept by its finalizer");
    assert!(marked.metadata.deletion_timestamp.is_some());
    alerts
        .patch(
            "disk",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    assert!(alerts.get("disk").await.unwrap_err().is_not_found());

    // All namespaces.
    cs.pager_v1beta1()
        .alerts("other")
        .create(&pp, &alert("elsewhere", "Elsewhere"))
        .await
        .unwrap();
    let all = cs
        .pager_v1beta1()
        .alerts_all_namespaces()
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
}

#[tokio::test]
async fn watch_filters_by_label_as_the_server_does() {
    let (cs, _fake) = clientset().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    let list = alerts.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut events = alerts
        .watch(&WatchParams::default().labels("team=ops"), &rv)
        .await
        .unwrap()
        .boxed();
    let pp = PostParams::default();
    alerts
        .create(&pp, &alert("quiet", "Not ops"))
        .await
        .unwrap();
    let mut ops = alert("loud", "Ops");
    ops.metadata.labels = Some([("team".to_string(), "ops".to_string())].into());
    alerts.create(&pp, &ops).await.unwrap();
    // Only the labelled alert arrives (Go's fake sends both: kubernetes#106754).
    match tokio::time::timeout(std::time::Duration::from_secs(5), events.next()).await {
        Ok(Some(Ok(WatchEvent::Added(a)))) => assert_eq!(a.metadata.name.as_deref(), Some("loud")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reactors_inject_errors_and_delays_and_the_recorder_sees_every_request() {
    let (cs, fake) = clientset().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    fake.recorder().clear();
    fake.reactors()
        .fail("get", "alerts", 2, 503, "ServiceUnavailable", "injected");
    // Retried as a real client retries a 503 (kube's server retry policy): the third attempt,
    // which the reactor lets through, answers. The recorder sees all three.
    assert!(alerts.get("seeded").await.is_ok(), "only two were failed");
    assert_eq!(fake.recorder().requests().len(), 3);
    fake.reactors()
        .fail("get", "alerts", 1, 500, "InternalError", "not retried");
    let err = alerts.get("seeded").await.unwrap_err();
    assert_eq!(err.code(), Some(500), "{err}");
    assert_eq!(err.status().unwrap().message, "not retried");
    fake.reactors().fail(
        "update",
        "alerts/status",
        1,
        409,
        "Conflict",
        "injected conflict",
    );
    let mut seeded = alerts.get("seeded").await.unwrap();
    seeded.status = Some(AlertStatus { sent: true });
    assert!(
        alerts.update(&PostParams::default(), &seeded).await.is_ok(),
        "not /status"
    );
    let seeded = alerts.get("seeded").await.unwrap();
    let err = alerts
        .update_status(&PostParams::default(), &seeded)
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    // A write that takes effect while its client sees it fail.
    fake.reactors()
        .lose_answer("patch", "alerts", 1, 500, "InternalError", "answer lost");
    let err = alerts
        .patch(
            "seeded",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"lost": "answer"}}})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(500), "{err}");
    let seeded = alerts.get("seeded").await.unwrap();
    assert_eq!(
        seeded.metadata.labels.unwrap_or_default().get("lost"),
        Some(&"answer".to_string()),
        "the patch was served"
    );
    fake.reactors()
        .delay("list", "*", 1, std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    alerts.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));

    let verbs: Vec<(String, Option<String>)> = fake
        .recorder()
        .requests()
        .into_iter()
        .map(|r| (r.verb, r.subresource))
        .collect();
    assert_eq!(
        verbs,
        [
            // Two 503s and the retry that answered; the 500; the read before the update.
            ("get".into(), None),
            ("get".into(), None),
            ("get".into(), None),
            ("get".into(), None),
            ("get".into(), None),
            ("update".into(), None),
            ("get".into(), None),
            ("update".into(), Some("status".into())),
            // The patch served with its answer lost, and the read that saw it.
            ("patch".into(), None),
            ("get".into(), None),
            ("list".into(), None),
        ]
    );
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let (cs, fake) = clientset().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    fake.recorder().clear();
    let pp = PostParams::default();

    let mut elsewhere = alert("a", "A");
    elsewhere.metadata.namespace = Some("other".into());
    let err = alerts.create(&pp, &elsewhere).await.unwrap_err();
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

    let mut nameless = alert("", "A");
    nameless.metadata.name = None;
    let err = alerts.create(&pp, &nameless).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidObject {
                field: "metadata.name",
                ..
            }
        ),
        "{err}"
    );
    let err = alerts.update(&pp, &nameless).await.unwrap_err();
    assert!(err.is_local(), "{err}");

    let err = alerts
        .create(&pp, &alert("Not_A_Name", "A"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RFC 1123"), "{err}");
    assert!(alerts.get("").await.unwrap_err().is_local());
    assert!(alerts.get("a/b").await.unwrap_err().is_local());

    let err = alerts
        .list(&ListParams::default().labels("team in (ops"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidSelector {
                parameter: "labelSelector",
                ..
            }
        ),
        "{err}"
    );
    let err = alerts
        .watch(&WatchParams::default().fields("status.sent"), "0")
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidSelector {
                parameter: "fieldSelector",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        fake.recorder().requests().is_empty(),
        "{:?}",
        fake.recorder().requests()
    );
}

/// A name given to a get or delete is refused here only when it cannot be one segment of a URL
/// path (client-go's `Request.Name`); whether it is a valid object name is the server's to
/// judge: no object is named "UPPER", so a get is its 404, which `is_not_found()` tells.
#[tokio::test]
async fn a_name_no_object_can_have_is_not_found() {
    let (cs, _fake) = clientset().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    let err = alerts.get("UPPER").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = alerts
        .delete("Not_A_Name", &Default::default())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// The clientset switched to protobuf: bodies go as the kind's protobuf message and answers
/// come back in protobuf, from the same server code the fake runs; errors keep their `Status`.
#[tokio::test]
async fn protobuf_clientset() {
    use kube_codegen_client::ContentType;
    let (json_cs, fake) = clientset().await;
    let cs = json_cs.clone().with_content_type(ContentType::Protobuf);
    let alerts = cs.pager_v1beta1().alerts("default");
    let created = alerts
        .create(&PostParams::default(), &alert("pb", "Protobuf"))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    let got = alerts.get("pb").await.unwrap();
    assert_eq!(got, created);
    // What the JSON clientset reads is the same object.
    assert_eq!(
        json_cs
            .pager_v1beta1()
            .alerts("default")
            .get("pb")
            .await
            .unwrap(),
        got
    );
    let mut changed = got.clone();
    changed.spec.content = "changed over protobuf".into();
    let updated = alerts
        .update(&PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(updated.spec.content, "changed over protobuf");
    changed = updated;
    changed.status = Some(AlertStatus { sent: true });
    let sent = alerts
        .update_status(&PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(sent.status, Some(AlertStatus { sent: true }));
    let list = alerts.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 2);
    assert_eq!(list.types.kind, "AlertList");
    assert!(list.metadata.resource_version.is_some());
    let unsent = alerts
        .list(&ListParams::default().fields("status.sent=false"))
        .await
        .unwrap();
    assert_eq!(unsent.items.len(), 1);
    // A watch in protobuf frames: a create through the JSON clientset arrives typed.
    let mut events = alerts
        .watch(
            &WatchParams::default(),
            list.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap();
    json_cs
        .pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("watched", "Watched"))
        .await
        .unwrap();
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    match event {
        WatchEvent::Added(a) => assert_eq!(a.metadata.name.as_deref(), Some("watched")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    // Errors keep their reason and code.
    let err = alerts.get("missing").await.unwrap_err();
    assert_eq!(err.code(), Some(404), "{err}");
    let mut invalid = alert("invalid", "x");
    invalid.spec.content = String::new();
    let err = alerts
        .create(&PostParams::default(), &invalid)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(422), "{err}");
    // The requests were protobuf.
    let requests = fake.recorder().requests();
    let create = requests
        .iter()
        .find(|r| r.verb == "create" && r.name.is_none())
        .unwrap();
    assert_eq!(
        create.content_type.as_deref(),
        Some("application/vnd.kubernetes.protobuf")
    );
    assert!(requests.iter().filter(|r| r.verb == "get").any(|r| {
        r.accept
            .as_deref()
            .is_some_and(|a| a.starts_with("application/vnd.kubernetes.protobuf"))
    }));
    // Across all namespaces too: a list and a watch in protobuf.
    let everywhere = cs.pager_v1beta1().alerts_all_namespaces();
    let all = everywhere.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 3);
    let mut events = everywhere
        .watch(
            &WatchParams::default(),
            all.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap();
    json_cs
        .pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("everywhere", "E"))
        .await
        .unwrap();
    match tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap()
    {
        WatchEvent::Added(a) => assert_eq!(a.metadata.name.as_deref(), Some("everywhere")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    let requests = fake.recorder().requests();
    let across: Vec<_> = requests
        .iter()
        .filter(|r| matches!(r.verb.as_str(), "list" | "watch") && r.namespace.is_none())
        .collect();
    assert_eq!(across.len(), 2, "{requests:?}");
    for r in across {
        assert!(
            r.accept
                .as_deref()
                .is_some_and(|a| a.starts_with("application/vnd.kubernetes.protobuf")),
            "{r:?}"
        );
    }
}

/// A preloaded object keeps the status it was given (a create ignores `status`; the fake writes
/// it through the status subresource), so a test of "already sent alerts are skipped" tests
/// that.
#[tokio::test]
async fn preloaded_objects_keep_their_status() {
    let mut sent = alert("sent", "Sent");
    sent.status = Some(AlertStatus { sent: true });
    let fake = fake::builder()
        .resource(pager_apiserver::alerts())
        .object(sent)
        .object(alert("unsent", "Unsent"))
        .build()
        .await
        .unwrap();
    let alerts = Clientset::new(fake.client())
        .pager_v1beta1()
        .alerts("default");
    let got = alerts.get("sent").await.unwrap();
    assert_eq!(got.status, Some(AlertStatus { sent: true }));
    let listed = alerts
        .list(&ListParams::default().fields("status.sent=true"))
        .await
        .unwrap();
    let names: Vec<_> = listed
        .items
        .iter()
        .map(|a| a.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["sent"]);
}

#[tokio::test]
async fn without_retry_the_client_hands_every_injected_answer_back() {
    let fake = fake::builder()
        .resource(pager_apiserver::alerts())
        .object(alert("seeded", "Seeded"))
        .retry(false)
        .build()
        .await
        .unwrap();
    let alerts = Clientset::new(fake.client())
        .pager_v1beta1()
        .alerts("default");
    fake.reactors()
        .fail("get", "alerts", 2, 503, "ServiceUnavailable", "injected");
    for _ in 0..2 {
        let err = alerts.get("seeded").await.unwrap_err();
        assert_eq!(err.code(), Some(503), "{err}");
        assert_eq!(err.status().unwrap().message, "injected");
    }
    assert!(alerts.get("seeded").await.is_ok());
}
