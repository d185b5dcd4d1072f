//! `pager-apiserver` serving `v1alpha1` and `v1beta1` of one resource over one storage version,
//! through `kube::Api` with both versions' generated types: writes in one version read in the
//! other, watches in their own version, defaults on every write in every version, data written
//! under one storage version read after the flag changes, and discovery.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use pager::{v1alpha1, v1beta1};

use crate::common;
use common::Server;

fn client(server: &Server) -> kube::Client {
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

fn apis(server: &Server) -> (Api<v1alpha1::Alert>, Api<v1beta1::Alert>) {
    let c = client(server);
    (
        Api::namespaced(c.clone(), "default"),
        Api::namespaced(c, "default"),
    )
}

fn alpha(name: &str, message: &str) -> v1alpha1::Alert {
    let mut a = v1alpha1::Alert {
        spec: v1alpha1::AlertSpec {
            message: message.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    a.metadata.name = Some(name.into());
    a
}

fn beta(name: &str, title: &str, content: &str) -> v1beta1::Alert {
    let mut a = v1beta1::Alert {
        spec: v1beta1::AlertSpec {
            title: title.into(),
            content: content.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    a.metadata.name = Some(name.into());
    a
}

#[tokio::test]
async fn one_object_in_both_versions() {
    let server = Server::start(&["--storage", "memory"]);
    let (a1, b1) = apis(&server);
    let pp = PostParams::default();

    // Created as v1alpha1, read as v1beta1.
    let created = a1
        .create(&pp, &alpha("disk", "/var is full"))
        .await
        .unwrap();
    let read = b1.get("disk").await.unwrap();
    assert_eq!(read.spec.content, "/var is full");
    // No title in v1alpha1: the default-title admission plugin took the message's first line.
    assert_eq!(read.spec.title, "/var is full");
    assert_eq!(
        read.metadata.resource_version,
        created.metadata.resource_version
    );
    assert_eq!(read.metadata.uid, created.metadata.uid);

    // Created as v1beta1 with a title, read as v1alpha1: the title rides in an annotation...
    b1.create(&pp, &beta("cpu", "CPU hot", "95% for 10m"))
        .await
        .unwrap();
    let old = a1.get("cpu").await.unwrap();
    assert_eq!(old.spec.message, "95% for 10m");
    assert_eq!(
        old.metadata.annotations.as_ref().unwrap()[v1alpha1::TITLE_ANNOTATION],
        "CPU hot"
    );
    // ...and an update through v1alpha1 keeps it.
    let mut changed = old.clone();
    changed.spec.message = "97% for 15m".into();
    a1.replace("cpu", &pp, &changed).await.unwrap();
    let now = b1.get("cpu").await.unwrap();
    assert_eq!(
        (now.spec.title.as_str(), now.spec.content.as_str()),
        ("CPU hot", "97% for 15m")
    );
    assert_eq!(
        now.metadata.annotations, None,
        "the carrier annotation is not stored"
    );
    assert_eq!(now.metadata.generation, Some(2));

    // Lists in either version hold every object.
    let names = |l: Vec<String>| {
        let mut l = l;
        l.sort();
        l
    };
    let alpha_names = names(
        a1.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|a| a.metadata.name)
            .collect(),
    );
    let beta_names = names(
        b1.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|a| a.metadata.name)
            .collect(),
    );
    assert_eq!(alpha_names, ["cpu", "disk"]);
    assert_eq!(beta_names, alpha_names);

    // A merge patch in v1beta1, read in v1alpha1.
    b1.patch(
        "disk",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"title": "Disk", "content": "/var at 99%"}})),
    )
    .await
    .unwrap();
    let d = a1.get("disk").await.unwrap();
    assert_eq!(d.spec.message, "/var at 99%");
    assert_eq!(
        d.metadata.annotations.unwrap()[v1alpha1::TITLE_ANNOTATION],
        "Disk"
    );
}

#[tokio::test]
async fn defaults_on_every_write_in_every_version() {
    let server = Server::start(&["--storage", "memory"]);
    let (a1, b1) = apis(&server);
    let pp = PostParams::default();
    let normal = Some(v1beta1::Priority::Normal);

    let created = a1.create(&pp, &alpha("a", "m")).await.unwrap();
    assert_eq!(
        created.spec.priority,
        Some(v1alpha1::Priority::Normal),
        "create, v1alpha1"
    );
    let created = b1.create(&pp, &beta("b", "t", "c")).await.unwrap();
    assert_eq!(created.spec.priority, normal, "create, v1beta1");

    // Update without the field: defaulted again. With it: kept.
    let mut b = b1.get("b").await.unwrap();
    b.spec.priority = None;
    let replaced = b1.replace("b", &pp, &b).await.unwrap();
    assert_eq!(replaced.spec.priority, normal, "update");
    b.spec.priority = Some(v1beta1::Priority::High);
    b.metadata.resource_version = replaced.metadata.resource_version;
    assert_eq!(
        b1.replace("b", &pp, &b).await.unwrap().spec.priority,
        Some(v1beta1::Priority::High)
    );
    // Without a resourceVersion: refused, as a CRD refuses it (it would overwrite unseen changes).
    b.metadata.resource_version = None;
    let kube::Error::Api(status) = b1.replace("b", &pp, &b).await.unwrap_err() else {
        panic!("an API error")
    };
    assert_eq!(status.code, 422, "{}", status.message);
    assert!(
        status.message.contains("must be specified for an update"),
        "{}",
        status.message
    );

    // A merge patch that removes it: the patched object is defaulted.
    let patched = a1
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"priority": null}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.spec.priority,
        Some(v1alpha1::Priority::Normal),
        "patch"
    );

    // Invalid in the version it was sent in: the field path is that version's.
    let err = b1.create(&pp, &beta("e", "t", "")).await.unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec.content"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_watch_sees_writes_of_the_other_version_in_its_own() {
    let server = Server::start(&["--storage", "memory"]);
    let (a1, b1) = apis(&server);
    let list = a1.list(&Default::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut watch = a1
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .unwrap()
        .boxed();
    b1.create(&PostParams::default(), &beta("w", "Title", "content"))
        .await
        .unwrap();
    // A watch from "0" (the empty store's list) is a streaming list, as in Kubernetes 1.32+:
    // its initial events end with a BOOKMARK first.
    let ev = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match watch.next().await.expect("an event").unwrap() {
                WatchEvent::Bookmark(_) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("an event");
    match ev {
        WatchEvent::Added(a) => {
            assert_eq!(a.spec.message, "content", "the v1alpha1 shape");
            assert_eq!(
                a.metadata.annotations.unwrap()[v1alpha1::TITLE_ANNOTATION],
                "Title"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn data_outlives_a_change_of_storage_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pager.db");
    {
        let server = Server::embedded(&db, &["--storage-version", "v1alpha1"]);
        let (_, b1) = apis(&server);
        b1.create(&PostParams::default(), &beta("kept", "Title", "body"))
            .await
            .unwrap();
    }
    // Stored as v1alpha1, the title in the annotation.
    let stored = |db: &std::path::Path| -> serde_json::Value {
        use apiserver_storage::Storage;
        let store = apiserver_storage::EmbeddedStore::open(db).unwrap();
        let rt = tokio::runtime::Handle::current();
        let kv = tokio::task::block_in_place(|| {
            rt.block_on(store.get("/registry/pager.k8s.co/alerts/default/kept"))
        })
        .unwrap()
        .unwrap();
        serde_json::from_slice(apiserver::stored_object_json(&kv.value).unwrap()).unwrap()
    };
    let raw = stored(&db);
    assert_eq!(raw["apiVersion"], "pager.k8s.co/v1alpha1");
    assert_eq!(
        raw["metadata"]["annotations"]["pager.k8s.co/title"],
        "Title"
    );
    // Now served with v1beta1 storage: still read, in both versions.
    let server = Server::embedded(&db, &["--storage-version", "v1beta1"]);
    let (a1, b1) = apis(&server);
    let b = b1.get("kept").await.unwrap();
    assert_eq!(
        (b.spec.title.as_str(), b.spec.content.as_str()),
        ("Title", "body")
    );
    assert_eq!(a1.get("kept").await.unwrap().spec.message, "body");
    // A write under the new storage version, read back in both.
    let mut b = b;
    b.spec.content = "rewritten".into();
    b1.replace("kept", &PostParams::default(), &b)
        .await
        .unwrap();
    assert_eq!(a1.get("kept").await.unwrap().spec.message, "rewritten");
    drop(server);
    let raw = stored(&db);
    assert_eq!(
        raw["apiVersion"], "pager.k8s.co/v1beta1",
        "rewritten in the new storage version"
    );
    assert_eq!(raw["spec"]["title"], "Title");
}

#[tokio::test]
async fn discovery_names_the_preferred_and_storage_versions() {
    let server = Server::start(&["--storage", "memory", "--storage-version", "v1alpha1"]);
    let c = client(&server);
    let group: serde_json::Value = c
        .request(
            http::Request::get("/apis/pager.k8s.co")
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(group["preferredVersion"]["version"], "v1beta1");
    let versions: Vec<&str> = group["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1beta1", "v1alpha1"]);
    let mut hashes = Vec::new();
    for v in ["v1alpha1", "v1beta1"] {
        let list: serde_json::Value = c
            .request(
                http::Request::get(format!("/apis/pager.k8s.co/{v}"))
                    .body(vec![])
                    .unwrap(),
            )
            .await
            .unwrap();
        let alerts = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "alerts")
            .unwrap()
            .clone();
        hashes.push(alerts["storageVersionHash"].as_str().unwrap().to_string());
    }
    assert_eq!(hashes[0], hashes[1], "one storage version, one hash");
    // The hash of the storage version (v1alpha1 here), not of the version served.
    let other = Server::start(&["--storage", "memory", "--storage-version", "v1beta1"]);
    let list: serde_json::Value = client(&other)
        .request(
            http::Request::get("/apis/pager.k8s.co/v1alpha1")
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    let h = list["resources"][0]["storageVersionHash"].as_str().unwrap();
    assert_ne!(h, hashes[0]);
}
