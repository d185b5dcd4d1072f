//! The fake clientset is the real server: one scripted session — creates in both versions, a
//! conflicting update, label and field selectors, every patch type, the status subresource, a
//! label-filtered watch, finalizers, deletes and a refused object — run through the generated
//! `Clientset` against a running `pager-apiserver` and against the fake, answers compared
//! (modulo uids and timestamps).

use crate::common;

use std::time::Duration;

use futures::StreamExt;
use kube_codegen_client::{
    DeleteParams, Error, ListParams, Patch, PatchParams, PostParams, WatchParams,
};
use pager::{v1alpha1, v1beta1};
use pager_client::Clientset;
use serde_json::{Value, json};

/// An answer as compared: the object (system-assigned uid and times blanked) or the error's
/// code, reason and message.
fn answer<T: serde::Serialize>(r: Result<T, Error>) -> Value {
    match r {
        Ok(v) => normalize(serde_json::to_value(v).unwrap()),
        Err(e) => match e.status() {
            Some(s) => json!({"code": s.code, "reason": s.reason, "message": s.message}),
            None => json!({"local": e.to_string()}),
        },
    }
}

fn normalize(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for key in ["uid", "creationTimestamp", "deletionTimestamp", "time"] {
                if map.contains_key(key) {
                    map.insert(key.into(), json!("<set>"));
                }
            }
            for (_, child) in map.iter_mut() {
                *child = normalize(child.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = normalize(item.take());
            }
        }
        _ => {}
    }
    v
}

fn beta(name: &str, title: &str) -> v1beta1::Alert {
    let mut a = v1beta1::Alert::default();
    a.metadata.name = Some(name.into());
    a.spec.title = title.into();
    a.spec.content = format!("{title}!");
    a
}

async fn session(cs: Clientset) -> Vec<Value> {
    let mut t = Vec::new();
    let alerts = cs.pager_v1beta1().alerts("default");
    let alpha = cs.pager_v1alpha1().alerts("default");
    let pp = PostParams::default();
    let patch = PatchParams::default();

    let start = alerts.list(&ListParams::default()).await.unwrap();
    let rv = start.metadata.resource_version.clone().unwrap();
    t.push(answer(Ok(&start)));
    let mut watch = alerts
        .watch(&WatchParams::default().labels("team=ops"), &rv)
        .await
        .unwrap()
        .boxed();

    let mut ops = beta("disk", "Disk full");
    ops.metadata.labels = Some([("team".to_string(), "ops".to_string())].into());
    let created = alerts.create(&pp, &ops).await;
    t.push(answer(created.as_ref().map_err(clone_err)));
    let mut old = v1alpha1::Alert::default();
    old.metadata.name = Some("cpu".into());
    old.spec.message = "CPU hot".into();
    t.push(answer(alpha.create(&pp, &old).await));
    t.push(answer(alpha.get("disk").await));

    // A stale resourceVersion.
    let mut stale = created.unwrap();
    stale.spec.content = "first".into();
    t.push(answer(alerts.update(&pp, &stale).await));
    stale.spec.content = "second".into();
    t.push(answer(alerts.update(&pp, &stale).await));

    t.push(answer(
        alerts.list(&ListParams::default().labels("team=ops")).await,
    ));
    t.push(answer(
        alerts
            .list(&ListParams::default().fields("status.sent=false"))
            .await,
    ));
    t.push(answer(
        alpha
            .patch(
                "cpu",
                &patch,
                &Patch::Merge(json!({"metadata": {"labels": {"team": "ops"}}})),
            )
            .await,
    ));
    t.push(answer(
        alerts
            .patch(
                "disk",
                &patch,
                &Patch::Strategic(json!({"spec": {"title": "Disk 90%"}})),
            )
            .await,
    ));
    let json_patch: json_patch::Patch = serde_json::from_value(
        json!([{"op": "replace", "path": "/spec/content", "value": "90% used"}]),
    )
    .unwrap();
    t.push(answer(
        alerts
            .patch("disk", &patch, &Patch::Json::<()>(json_patch))
            .await,
    ));
    let mut sent = alerts.get("disk").await.unwrap();
    sent.status = Some(v1beta1::AlertStatus { sent: true });
    t.push(answer(alerts.update_status(&pp, &sent).await));
    t.push(answer(
        alerts
            .list(&ListParams::default().fields("status.sent=true"))
            .await,
    ));

    // Finalizers hold a delete.
    t.push(answer(
        alerts
            .patch(
                "disk",
                &patch,
                &Patch::Merge(json!({"metadata": {"finalizers": ["pager.k8s.co/notify"]}})),
            )
            .await,
    ));
    t.push(answer(
        alerts
            .delete("disk", &DeleteParams::default())
            .await
            .map(either),
    ));
    t.push(answer(
        alerts
            .patch(
                "disk",
                &patch,
                &Patch::Merge(json!({"metadata": {"finalizers": null}})),
            )
            .await,
    ));
    t.push(answer(alerts.get("disk").await));
    t.push(answer(
        alpha
            .delete("cpu", &DeleteParams::default())
            .await
            .map(either),
    ));

    // Refused by the server's strategy: no content.
    t.push(answer(
        alerts.create(&pp, &beta("empty", "")).await.map(|_| ()),
    ));
    let mut empty = beta("empty", "");
    empty.spec.content.clear();
    t.push(answer(alerts.create(&pp, &empty).await));

    // What the label-filtered watch saw.
    let mut events = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(2), watch.next()).await {
        events.push(answer(ev));
        if events.len() == 16 {
            break;
        }
    }
    t.push(Value::Array(events));
    t
}

/// A delete's answer: the object kept by finalizers, or the `Status`.
fn either<K: serde::Serialize>(
    e: kube_codegen_client::Either<K, kube_codegen_client::Status>,
) -> Value {
    match e {
        kube_codegen_client::Either::Left(obj) => json!({"kept": obj}),
        kube_codegen_client::Either::Right(status) => json!({"status": status}),
    }
}

fn clone_err(e: &Error) -> Error {
    match e.status() {
        Some(s) => Error::Kube(kube::Error::Api(Box::new(s.clone()))),
        None => Error::InvalidObject {
            kind: "Alert",
            field: "",
            message: e.to_string(),
        },
    }
}

#[tokio::test]
async fn the_fake_answers_a_session_as_pager_apiserver_does() {
    let server = common::Server::start(&["--storage", "memory"]);
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    let real = Clientset::new(kube::Client::try_from(config).unwrap());
    let fake = pager_client::clientset::fake::builder()
        .resource(pager_apiserver::alerts())
        .build()
        .await
        .unwrap();
    let from_server = session(real).await;
    let from_fake = session(Clientset::new(fake.client())).await;
    assert_eq!(from_server.len(), from_fake.len());
    for (i, (s, f)) in from_server.iter().zip(&from_fake).enumerate() {
        assert_eq!(s, f, "step {i}: server\n{s:#}\nfake\n{f:#}");
    }
    // The session exercised what it claims to.
    let watched = from_server.last().unwrap().as_array().unwrap();
    assert!(watched.len() >= 4, "{watched:?}");
    assert!(from_server.iter().any(|a| a["code"] == 409));
    assert!(from_server.iter().any(|a| a["code"] == 422));
}
