//! pager-apiserver in Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`),
//! over HTTP: create and update with protobuf bodies, get, list, watch and errors in protobuf;
//! every protobuf answer read back to the object the JSON endpoint returns — by this project's
//! runtime and by protoc against the generated `generated.proto`.

use crate::common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube_codegen_protobuf::{envelope, from_slice, to_vec};
use pager::v1beta1;
use serde_json::Value;

const PB: &str = "application/vnd.kubernetes.protobuf";

/// `GET url` with `Accept: accept`, the answer's headers in.
async fn get_as(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    accept: impl AsRef<str>,
) -> reqwest::Response {
    client
        .get(url)
        .header("Accept", accept.as_ref())
        .send()
        .await
        .unwrap()
}

fn base(server: &common::Server) -> String {
    format!(
        "http://{}/apis/pager.k8s.co/v1beta1/namespaces/default/alerts",
        server.addr
    )
}

fn alert(name: &str) -> v1beta1::Alert {
    let mut a = v1beta1::Alert::default();
    a.metadata.name = Some(name.into());
    a.metadata.labels = Some([("team".to_string(), "sre".to_string())].into());
    a.spec.title = "Disk full".into();
    a.spec.content = "node-3: /var at 99%".into();
    a.spec.priority = Some(v1beta1::Priority::High);
    a
}

fn enveloped(a: &v1beta1::Alert) -> Vec<u8> {
    envelope::encode_object("pager.k8s.co/v1beta1", "Alert", a)
}

/// The object a protobuf answer holds, checked to be an enveloped `kind`.
fn read_object(bytes: &[u8], kind: &str) -> v1beta1::Alert {
    let (unknown, alert) = envelope::decode_object::<v1beta1::Alert>(bytes).unwrap();
    assert_eq!(
        (unknown.api_version.as_str(), unknown.kind.as_str()),
        ("pager.k8s.co/v1beta1", kind)
    );
    alert
}

async fn json_get(client: &reqwest::Client, url: &str) -> v1beta1::Alert {
    let v: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn objects_lists_and_errors_in_protobuf_read_as_the_json_endpoint_says() {
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let url = base(&server);

    // Create with a protobuf body, answered in protobuf.
    let resp = client
        .post(&url)
        .header("Content-Type", PB)
        .header("Accept", format!("{PB}, application/json"))
        .body(enveloped(&alert("a1")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["content-type"], PB);
    let created = read_object(&resp.bytes().await.unwrap(), "Alert");
    assert_eq!(created.spec.content, "node-3: /var at 99%");
    assert!(created.metadata.uid.is_some());

    // Get: the protobuf object is the JSON endpoint's object.
    let resp = get_as(&client, format!("{url}/a1"), PB).await;
    assert_eq!(resp.headers()["content-type"], PB);
    let pb_bytes = resp.bytes().await.unwrap().to_vec();
    let from_pb = read_object(&pb_bytes, "Alert");
    let from_json = json_get(&client, &format!("{url}/a1")).await;
    assert_eq!(from_pb, from_json);
    protoc_agrees(&pb_bytes, &client, &format!("{url}/a1")).await;

    // Update with a protobuf body.
    let mut changed = from_pb.clone();
    changed.spec.content = "node-3: cleaned".into();
    let resp = client
        .put(format!("{url}/a1"))
        .header("Content-Type", PB)
        .header("Accept", PB)
        .body(enveloped(&changed))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let updated = read_object(&resp.bytes().await.unwrap(), "Alert");
    assert_eq!(updated.spec.content, "node-3: cleaned");
    assert_ne!(
        updated.metadata.resource_version,
        from_pb.metadata.resource_version
    );

    // List: an `AlertList` of the same objects as the JSON list.
    for i in 2..5 {
        let resp = client
            .post(&url)
            .header("Content-Type", PB)
            .body(enveloped(&alert(&format!("a{i}"))))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let resp = get_as(&client, &url, PB).await;
    let bytes = resp.bytes().await.unwrap();
    let unknown = envelope::unwrap(&bytes).unwrap();
    assert_eq!(unknown.kind, "AlertList");
    let (meta, items) = envelope::decode_list(&unknown.raw).unwrap();
    let json: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        meta.resource_version.as_deref(),
        json["metadata"]["resourceVersion"].as_str()
    );
    let items: Vec<v1beta1::Alert> = items.iter().map(|i| from_slice(i).unwrap()).collect();
    let json_items: Vec<v1beta1::Alert> = serde_json::from_value(json["items"].clone()).unwrap();
    assert_eq!(items, json_items);
    assert_eq!(items.len(), 4);

    // Errors in protobuf for a client that asks for protobuf first.
    let resp = get_as(
        &client,
        format!("{url}/missing"),
        format!("{PB}, application/json"),
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], PB);
    let (unknown, status) =
        envelope::decode_object::<Status>(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (unknown.api_version.as_str(), unknown.kind.as_str()),
        ("v1", "Status")
    );
    assert_eq!(status.reason.as_deref(), Some("NotFound"));
    assert_eq!(status.code, Some(404));

    // The OpenAPI document advertises protobuf for the versions that have it.
    let v2: Value = client
        .get(format!("http://{}/openapi/v2", server.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let get =
        &v2["paths"]["/apis/pager.k8s.co/v1beta1/namespaces/{namespace}/alerts/{name}"]["get"];
    assert!(
        get["produces"].as_array().unwrap().contains(&PB.into()),
        "{get}"
    );
    let v3: Value = client
        .get(format!(
            "http://{}/openapi/v3/apis/pager.k8s.co/v1beta1",
            server.addr
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post = &v3["paths"]["/apis/pager.k8s.co/v1beta1/namespaces/{namespace}/alerts"]["post"];
    assert!(post["requestBody"]["content"][PB].is_object(), "{post}");

    // Delete answers a protobuf `Status`.
    let resp = client
        .delete(format!("{url}/a4"))
        .header("Accept", PB)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, status) = envelope::decode_object::<Status>(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
}

#[tokio::test]
async fn bad_protobuf_bodies_are_refused_and_nothing_is_stored() {
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let url = base(&server);
    let send = |body: Vec<u8>| {
        client
            .post(&url)
            .header("Content-Type", PB)
            .body(body)
            .send()
    };
    // JSON sent as protobuf: no magic.
    let resp = send(br#"{"kind":"Alert"}"#.to_vec()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(text.contains("k8s"), "{text}");
    // Another kind in the envelope.
    let wrong = envelope::encode_object("pager.k8s.co/v1beta1", "Pager", &alert("w"));
    assert_eq!(send(wrong).await.unwrap().status(), 400);
    // Truncated message bytes.
    let mut cut = enveloped(&alert("c"));
    cut.truncate(cut.len() - 3);
    let resp = send(cut).await.unwrap();
    assert_eq!(resp.status(), 400);
    // An enum value the version does not know, named with its field.
    let mut spec = Vec::new();
    kube_codegen_protobuf::encode_str(3, "urgent", &mut spec);
    let mut message = Vec::new();
    kube_codegen_protobuf::encode_bytes(2, &spec, &mut message);
    let mut body = Vec::new();
    envelope::wrap("pager.k8s.co/v1beta1", "Alert", &message, &mut body);
    let resp = send(body).await.unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("urgent") && text.contains("priority"),
        "{text}"
    );
    // Nothing was stored.
    let list: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn watches_stream_protobuf_frames() {
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let url = base(&server);
    let resp = get_as(
        &client,
        format!("{url}?watch=true&allowWatchBookmarks=true"),
        PB,
    )
    .await;
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.kubernetes.protobuf;stream=watch"
    );
    let mut resp = resp;
    // Written in the other version: seen in this one.
    let alpha = serde_json::json!({
        "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
        "metadata": {"name": "w1"}, "spec": {"message": "from alpha"}
    });
    let created = client
        .post(format!(
            "http://{}/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts",
            server.addr
        ))
        .json(&alpha)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut buf = Vec::new();
    // The watch from now is a streaming list (Kubernetes 1.32+): the BOOKMARK ending its
    // (no) initial events comes first.
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (frames, _) = envelope::split_frames(&buf);
            if let Some(event) = frames
                .iter()
                .map(|frame| envelope::decode_watch_event(frame).unwrap())
                .find(|event| event.0 != "BOOKMARK")
            {
                return event;
            }
            buf.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
        }
    })
    .await
    .expect("a watch event within 10 s");
    assert_eq!(event.0, "ADDED");
    let seen = read_object(&event.1, "Alert");
    assert_eq!(seen.metadata.name.as_deref(), Some("w1"));
    assert_eq!(seen.spec.content, "from alpha");
}

/// protoc reads the server's bytes (the envelope as `runtime.Unknown`, then its `raw` as the
/// version's `Alert`) to the values the JSON endpoint returns.
async fn protoc_agrees(pb_bytes: &[u8], client: &reqwest::Client, url: &str) {
    if Command::new("protoc").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "protoc is not installed");
        return;
    }
    let unknown = protoc(
        "k8s.io.apimachinery.pkg.runtime.Unknown",
        "k8s.io/apimachinery/pkg/runtime/generated.proto",
        &pb_bytes[4..],
    );
    assert!(
        unknown.contains("apiVersion: \"pager.k8s.co/v1beta1\""),
        "{unknown}"
    );
    assert!(unknown.contains("kind: \"Alert\""), "{unknown}");
    let raw = envelope::unwrap(pb_bytes).unwrap().raw;
    let text = protoc(
        "pager.k8s.co.v1beta1.Alert",
        "pager/v1beta1/generated.proto",
        &raw,
    );
    let json: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    let quoted = |v: &Value| format!("{:?}", v.as_str().unwrap());
    for (field, value) in [
        ("name", &json["metadata"]["name"]),
        ("namespace", &json["metadata"]["namespace"]),
        ("uid", &json["metadata"]["uid"]),
        ("resourceVersion", &json["metadata"]["resourceVersion"]),
        ("title", &json["spec"]["title"]),
        ("content", &json["spec"]["content"]),
        ("priority", &json["spec"]["priority"]),
    ] {
        let line = format!("{field}: {}", quoted(value));
        assert!(
            text.contains(&line),
            "protoc's reading lacks {line}:\n{text}"
        );
    }
    let created: k8s_openapi::jiff::Timestamp = json["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        text.contains(&format!("seconds: {}", created.as_second())),
        "{text}"
    );
    assert!(
        text.contains("key: \"team\"") && text.contains("value: \"sre\""),
        "{text}"
    );
    // And protoc's bytes for what it read are the same object again.
    let again = to_vec(&from_slice::<v1beta1::Alert>(&raw).unwrap());
    assert_eq!(
        from_slice::<v1beta1::Alert>(&again).unwrap(),
        from_slice(&raw).unwrap()
    );
}

fn protoc(message: &str, file: &str, input: &[u8]) -> String {
    let apis = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../apis");
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../runtime/protobuf/proto");
    let mut child = Command::new("protoc")
        .current_dir(&apis)
        .arg("-I.")
        .arg(format!("-I{}", include.display()))
        .arg(format!("--decode={message}"))
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start protoc");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A list larger than one chunk of the response (the items are sent from their messages, after
/// a head that needs their total length) reads as one `AlertList`, the same as the JSON list,
/// on a store read whole (memory) and on one read page by page (embedded).
#[tokio::test]
async fn long_protobuf_lists_arrive_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pager.db");
    for args in [
        vec!["--storage", "memory"],
        vec!["--storage", "embedded", "--data", db.to_str().unwrap()],
    ] {
        let server = common::Server::start(&args);
        let client = reqwest::Client::new();
        let url = base(&server);
        // ~600 Alerts of ~600 bytes: several 64 KiB chunks, and more than one store page.
        let creates = (0..600).map(|i| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let mut a = alert(&format!("long-{i:04}"));
                a.spec.content = format!("{i}: {}", "x".repeat(400));
                let resp = client
                    .post(&url)
                    .header("Content-Type", PB)
                    .body(enveloped(&a))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
            }
        });
        // Within the server's in-flight limit.
        futures::StreamExt::collect::<Vec<()>>(futures::StreamExt::buffer_unordered(
            futures::stream::iter(creates),
            16,
        ))
        .await;
        let bytes = get_as(&client, &url, PB).await.bytes().await.unwrap();
        assert!(bytes.len() > 4 * 64 * 1024, "{} bytes", bytes.len());
        let unknown = envelope::unwrap(&bytes).unwrap();
        assert_eq!(unknown.kind, "AlertList");
        assert_eq!(
            (
                unknown.content_type.as_str(),
                unknown.content_encoding.as_str()
            ),
            ("", "")
        );
        let (meta, items) = envelope::decode_list(&unknown.raw).unwrap();
        let items: Vec<v1beta1::Alert> = items.iter().map(|i| from_slice(i).unwrap()).collect();
        let json: Value = client
            .get(format!(
                "{url}?resourceVersion={}&resourceVersionMatch=Exact",
                meta.resource_version.clone().unwrap()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let json_items: Vec<v1beta1::Alert> =
            serde_json::from_value(json["items"].clone()).unwrap();
        assert_eq!(items.len(), 600);
        assert_eq!(items, json_items);
        // The same list as metadata, streamed page by page: every item's metadata, in order.
        let pinned = format!(
            "{url}?resourceVersion={}&resourceVersionMatch=Exact",
            meta.resource_version.clone().unwrap()
        );
        let partial: Value = get_as(
            &client,
            &pinned,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(partial["kind"], "PartialObjectMetadataList");
        let metas = partial["items"].as_array().unwrap();
        assert_eq!(metas.len(), 600);
        for (m, full) in metas.iter().zip(json["items"].as_array().unwrap()) {
            assert_eq!(m["kind"], "PartialObjectMetadata");
            assert_eq!(m["metadata"], full["metadata"]);
        }
        // And in protobuf, read page by page into wire blocks too.
        let bytes = get_as(
            &client,
            &pinned,
            "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .await
        .bytes()
        .await
        .unwrap();
        let unknown = envelope::unwrap(&bytes).unwrap();
        assert_eq!(unknown.kind, "PartialObjectMetadataList");
        let (_, pb_items) = envelope::decode_list(&unknown.raw).unwrap();
        assert_eq!(pb_items.len(), 600);
        for (raw, full) in pb_items.iter().zip(json["items"].as_array().unwrap()) {
            let expected: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta =
                serde_json::from_value(full["metadata"].clone()).unwrap();
            assert_eq!(partial_metadata(raw), expected);
        }
    }
}

/// Discovery documents come in protobuf to a client that lists protobuf first (client-go set up
/// for protobuf): the same documents as JSON, and protoc reads them with Kubernetes' messages.
#[tokio::test]
async fn discovery_documents_in_protobuf() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    let accept = format!("{PB}, application/json");
    async fn both<T: serde::de::DeserializeOwned + kube_codegen_protobuf::Message>(
        client: &reqwest::Client,
        url: &str,
        accept: &str,
        kind: &str,
    ) -> (T, T, Vec<u8>) {
        let resp = get_as(client, url, accept).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], PB);
        let bytes = resp.bytes().await.unwrap().to_vec();
        let (unknown, from_pb) = envelope::decode_object::<T>(&bytes).unwrap();
        assert_eq!(
            (unknown.api_version.as_str(), unknown.kind.as_str()),
            ("v1", kind)
        );
        let json: T = client.get(url).send().await.unwrap().json().await.unwrap();
        (from_pb, json, bytes)
    }
    let (pb, json, _) =
        both::<meta::APIVersions>(&client, &format!("{base}/api"), &accept, "APIVersions").await;
    assert_eq!(pb, json);
    let (pb, json, _) =
        both::<meta::APIGroupList>(&client, &format!("{base}/apis"), &accept, "APIGroupList").await;
    assert_eq!(pb, json);
    assert!(pb.groups.iter().any(|g| g.name == "pager.k8s.co"));
    let (pb, json, _) = both::<meta::APIGroup>(
        &client,
        &format!("{base}/apis/pager.k8s.co"),
        &accept,
        "APIGroup",
    )
    .await;
    assert_eq!(pb, json);
    let (pb, json, bytes) = both::<meta::APIResourceList>(
        &client,
        &format!("{base}/apis/pager.k8s.co/v1beta1"),
        &accept,
        "APIResourceList",
    )
    .await;
    assert_eq!(pb, json);
    let alerts = pb.resources.iter().find(|r| r.name == "alerts").unwrap();
    assert!(alerts.verbs.contains(&"watch".to_string()));
    // protoc: the verbs travel in their `Verbs` message, as Kubernetes writes them.
    if Command::new("protoc").arg("--version").output().is_ok() {
        let raw = envelope::unwrap(&bytes).unwrap().raw;
        let text = protoc(
            "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList",
            "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
            &raw,
        );
        assert!(
            text.contains("groupVersion: \"pager.k8s.co/v1beta1\""),
            "{text}"
        );
        assert!(text.contains("verbs {\n    items: \"create\""), "{text}");
        assert!(text.contains("storageVersionHash: "), "{text}");
    } else {
        assert!(std::env::var_os("CI").is_none(), "protoc is not installed");
    }
    // JSON stays the default, and is what a JSON-first client gets.
    let resp = get_as(
        &client,
        format!("{base}/apis"),
        format!("application/json, {PB}"),
    )
    .await;
    assert_eq!(resp.headers()["content-type"], "application/json");
}

/// DELETE with a protobuf `DeleteOptions` body, as client-go set up for protobuf sends it: its
/// preconditions, dry run and propagation policy are read; a body of another kind is refused.
#[tokio::test]
async fn delete_options_in_protobuf() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, Preconditions};
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let url = base(&server);
    let resp = client
        .post(&url)
        .header("Content-Type", PB)
        .body(enveloped(&alert("doomed")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created = json_get(&client, &format!("{url}/doomed")).await;
    let delete = |opts: DeleteOptions| {
        let (client, url) = (client.clone(), format!("{url}/doomed"));
        async move {
            let body = envelope::encode_object("pager.k8s.co/v1beta1", "DeleteOptions", &opts);
            let resp = client
                .delete(&url)
                .header("Content-Type", PB)
                .header("Accept", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (status, body)
        }
    };
    // A stale uid precondition: 409, nothing deleted.
    let (code, body) = delete(DeleteOptions {
        preconditions: Some(Preconditions {
            uid: Some("not-its-uid".into()),
            resource_version: None,
        }),
        ..Default::default()
    })
    .await;
    assert_eq!(code, 409, "{body}");
    // A dry run: answered, nothing deleted.
    let (code, body) = delete(DeleteOptions {
        dry_run: Some(vec!["All".into()]),
        ..Default::default()
    })
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        json_get(&client, &format!("{url}/doomed"))
            .await
            .metadata
            .uid,
        created.metadata.uid
    );
    // An unknown propagation policy is refused as in JSON (422 Invalid).
    let (code, _) = delete(DeleteOptions {
        propagation_policy: Some("Sideways".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(code, 422);
    // A body of another kind is refused.
    let resp = client
        .delete(format!("{url}/doomed"))
        .header("Content-Type", PB)
        .body(enveloped(&alert("doomed")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // The right uid: deleted.
    let (code, body) = delete(DeleteOptions {
        preconditions: Some(Preconditions {
            uid: created.metadata.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    })
    .await;
    assert_eq!(code, 200, "{body}");
    let resp = client.get(format!("{url}/doomed")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

/// The `ObjectMeta` inside a `PartialObjectMetadata` message (`metadata = 1`).
fn partial_metadata(raw: &[u8]) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    let mut buf = raw;
    let mut meta = None;
    while !buf.is_empty() {
        let (tag, wire) = kube_codegen_protobuf::decode_key(&mut buf).unwrap();
        let bytes = kube_codegen_protobuf::decode_bytes(wire, &mut buf).unwrap();
        if tag == 1 {
            meta = Some(from_slice(&bytes).unwrap());
        }
    }
    meta.expect("PartialObjectMetadata without metadata")
}

/// `as=PartialObjectMetadata[List]` (client-go's metadata client, which kube-controller-manager's
/// garbage collector and namespace controller use): get, list and watch answer each object's
/// metadata only, in JSON and in protobuf, the same metadata the full objects carry.
#[tokio::test]
async fn partial_object_metadata_in_json_and_protobuf() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let server = common::Server::start(&["--storage", "memory"]);
    let client = reqwest::Client::new();
    let url = base(&server);
    for i in 0..3 {
        let resp = client
            .post(&url)
            .header("Content-Type", PB)
            .body(enveloped(&alert(&format!("m{i}"))))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    const JSON_ONE: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
    const CLIENT_GO_LIST: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    let full: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    let full_meta: Vec<ObjectMeta> = full["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value(i["metadata"].clone()).unwrap())
        .collect();

    // Get, JSON.
    let one: Value = get_as(&client, format!("{url}/m0"), JSON_ONE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["kind"], "PartialObjectMetadata");
    assert_eq!(one["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(one["metadata"], full["items"][0]["metadata"]);
    assert!(one.get("spec").is_none(), "{one}");

    // List, JSON.
    let list: Value = get_as(
        &client,
        &url,
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(list["items"][2]["metadata"], full["items"][2]["metadata"]);
    assert!(list["metadata"]["resourceVersion"].is_string());

    // List, protobuf (client-go's exact Accept).
    let resp = get_as(&client, &url, CLIENT_GO_LIST).await;
    assert_eq!(resp.headers()["content-type"], PB);
    let bytes = resp.bytes().await.unwrap();
    let unknown = envelope::unwrap(&bytes).unwrap();
    assert_eq!(
        (unknown.api_version.as_str(), unknown.kind.as_str()),
        ("meta.k8s.io/v1", "PartialObjectMetadataList")
    );
    let (meta, items) = envelope::decode_list(&unknown.raw).unwrap();
    assert!(meta.resource_version.is_some());
    let metas: Vec<ObjectMeta> = items.iter().map(|i| partial_metadata(i)).collect();
    assert_eq!(metas, full_meta);

    // Watch, JSON then protobuf: the event's object is the new object's metadata.
    for (accept, frames) in [
        (JSON_ONE, false),
        (
            "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
            true,
        ),
    ] {
        // From the current revision: only what is created next.
        let now: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        let rv = now["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let mut resp = get_as(
            &client,
            format!("{url}?watch=true&resourceVersion={rv}"),
            accept,
        )
        .await;
        let name = format!("w{}", u8::from(frames));
        let created = client
            .post(&url)
            .header("Content-Type", PB)
            .body(enveloped(&alert(&name)))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let mut buf = Vec::new();
        let seen: ObjectMeta = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if frames {
                    let (found, _) = envelope::split_frames(&buf);
                    if let Some(frame) = found.first() {
                        let (event_type, object) = envelope::decode_watch_event(frame).unwrap();
                        assert_eq!(event_type, "ADDED");
                        let unknown = envelope::unwrap(&object).unwrap();
                        assert_eq!(unknown.kind, "PartialObjectMetadata");
                        return partial_metadata(&unknown.raw);
                    }
                } else if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                    let event: Value = serde_json::from_slice(&buf[..nl]).unwrap();
                    assert_eq!(event["type"], "ADDED");
                    assert_eq!(event["object"]["kind"], "PartialObjectMetadata");
                    assert!(event["object"].get("spec").is_none());
                    return serde_json::from_value(event["object"]["metadata"].clone()).unwrap();
                }
                buf.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
            }
        })
        .await
        .expect("a watch event within 10 s");
        assert_eq!(seen.name.as_deref(), Some(name.as_str()));
        let full: Value = client
            .get(format!("{url}/{name}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            seen,
            serde_json::from_value(full["metadata"].clone()).unwrap()
        );
    }
}
