//! Lists served from stored bytes are byte for byte what decoding and encoding every object
//! gives: two servers over one store, one with the shortcut and one without, answer every list
//! — each version, selectors, pages, old revisions, objects written before stored values had a
//! header — with the same bytes; and the shortcut is really taken (bytes that do not re-encode
//! to themselves are served as stored).

use apiserver::{ApiServer, Context, Resource, Strategy};
use apiserver_storage::{AnyStore, MemoryStore, Storage};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Titles;

impl Strategy<pager::Alert> for Titles {
    fn validate(&self, _: &Context<'_>, _: &pager::Alert) -> Vec<apiserver::Cause> {
        Vec::new()
    }
    fn selectable_fields(&self) -> &'static [&'static str] {
        &["spec.title"]
    }
    fn field_value(&self, a: &pager::Alert, f: &str) -> Option<String> {
        (f == "spec.title").then(|| a.spec.title.clone())
    }
}

fn server(store: &AnyStore, serve_stored: bool) -> axum::Router {
    ApiServer::builder(store.clone())
        .resource(
            Resource::<pager::Alert>::hub()
                .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
                .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
                .strategy(Titles),
        )
        .storage_version("pager.k8s.co", "v1beta1")
        .serve_stored_bytes(serve_stored)
        .build()
        .unwrap()
        .into_router()
}

async fn send(app: &axum::Router, method: Method, uri: &str, body: Value) -> (StatusCode, Vec<u8>) {
    let content_type = if method == Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(if body.is_null() {
            Body::empty()
        } else {
            Body::from(body.to_string())
        })
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

const ALPHA: &str = "/apis/pager.k8s.co/v1alpha1";
const BETA: &str = "/apis/pager.k8s.co/v1beta1";

/// Alerts of every shape: both versions, labels, annotations, status, escapes and Unicode,
/// updates and deletes, several namespaces.
async fn fill(app: &axum::Router) {
    for i in 0..60u32 {
        let ns = ["default", "ops", "kube-system"][i as usize % 3];
        let mut labels = serde_json::Map::new();
        if i % 2 == 0 {
            labels.insert("team".into(), json!(if i % 4 == 0 { "ops" } else { "dev" }));
        }
        if i % 5 == 0 {
            labels.insert("tier".into(), json!(format!("t{}", i % 3)));
        }
        let (base, body) = if i % 3 == 1 {
            (
                ALPHA,
                json!({
                    "metadata": {"name": format!("a{i}"), "labels": labels},
                    "spec": {"message": format!("line \"{i}\"\nnext \u{1F4DF} \\ </tag>")},
                }),
            )
        } else {
            (
                BETA,
                json!({
                    "metadata": {
                        "name": format!("b{i}"),
                        "labels": labels,
                        "annotations": {"resourceVersion": "", "note": "a,b=c"},
                    },
                    "spec": {
                        "title": format!("T{}", i % 4),
                        "content": format!("c{i} ünïcödé"),
                        "priority": if i % 2 == 0 { "high" } else { "normal" },
                    },
                }),
            )
        };
        let (code, out) = send(
            app,
            Method::POST,
            &format!("{base}/namespaces/{ns}/alerts"),
            body,
        )
        .await;
        assert_eq!(
            code,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&out)
        );
        let created: Value = serde_json::from_slice(&out).unwrap();
        let name = created["metadata"]["name"].as_str().unwrap().to_string();
        let one = format!("{base}/namespaces/{ns}/alerts/{name}");
        if i % 4 == 3 {
            let (code, out) = send(
                app,
                Method::PATCH,
                &format!("{one}/status"),
                json!({"status": {"sent": true}}),
            )
            .await;
            assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
        }
        if i % 7 == 6 {
            let (code, _) = send(app, Method::DELETE, &one, Value::Null).await;
            assert_eq!(code, StatusCode::OK);
        }
    }
}

/// Every list both servers are asked.
fn queries(old_rv: u64) -> Vec<String> {
    let mut out = Vec::new();
    for base in [ALPHA, BETA] {
        for collection in [
            format!("{base}/alerts"),
            format!("{base}/namespaces/ops/alerts"),
        ] {
            for query in [
                String::new(),
                "?labelSelector=team%3Dops".into(),
                "?labelSelector=team%2Ctier%21%3Dt1".into(),
                "?labelSelector=!team".into(),
                "?fieldSelector=metadata.name%3Db0".into(),
                "?fieldSelector=metadata.namespace%21%3Dops".into(),
                "?fieldSelector=spec.title%3DT2".into(),
                "?fieldSelector=spec.title%3DT0&labelSelector=team".into(),
                "?limit=7".into(),
                "?limit=5&labelSelector=team".into(),
                format!("?resourceVersion={old_rv}&resourceVersionMatch=Exact"),
            ] {
                out.push(format!("{collection}{query}"));
            }
        }
    }
    out
}

/// Both servers' answers to `uri`, following `continue` tokens: they must be the same bytes.
async fn same_answers(fast: &axum::Router, slow: &axum::Router, uri: &str) -> usize {
    let mut next = uri.to_string();
    let mut items = 0;
    loop {
        let (code_fast, body_fast) = send(fast, Method::GET, &next, Value::Null).await;
        let (code_slow, body_slow) = send(slow, Method::GET, &next, Value::Null).await;
        assert_eq!(code_fast, StatusCode::OK, "{next}");
        assert_eq!(code_slow, StatusCode::OK, "{next}");
        assert!(
            body_fast == body_slow,
            "{next}:\nstored bytes: {}\ndecoded:      {}",
            String::from_utf8_lossy(&body_fast),
            String::from_utf8_lossy(&body_slow)
        );
        let list: Value = serde_json::from_slice(&body_fast).unwrap();
        items += list["items"].as_array().unwrap().len();
        match list["metadata"]["continue"].as_str() {
            Some(token) => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                let base = uri.split("&continue=").next().unwrap();
                next = format!("{base}{sep}continue={token}");
            }
            None => return items,
        }
    }
}

#[tokio::test]
async fn lists_from_stored_bytes_equal_decoded_lists() {
    let store = AnyStore::Memory(MemoryStore::new());
    let fast = server(&store, true);
    let slow = server(&store, false);
    fill(&fast).await;
    let (_, body) = send(&fast, Method::GET, &format!("{BETA}/alerts"), Value::Null).await;
    let old_rv: u64 =
        serde_json::from_slice::<Value>(&body).unwrap()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    // Changes after `old_rv`: the exact-revision lists read the past.
    fill_more(&fast).await;
    let mut total = 0;
    for uri in queries(old_rv) {
        total += same_answers(&fast, &slow, &uri).await;
    }
    assert!(total > 500, "the queries listed only {total} items");
}

async fn fill_more(app: &axum::Router) {
    for i in 0..10 {
        let (code, _) = send(
            app,
            Method::POST,
            &format!("{BETA}/namespaces/ops/alerts"),
            json!({"metadata": {"name": format!("late{i}"), "labels": {"team": "ops"}}, "spec": {"content": "x"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let (code, _) = send(
        app,
        Method::DELETE,
        &format!("{BETA}/namespaces/default/alerts/b0"),
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
}

#[tokio::test]
async fn values_without_a_header_are_decoded_and_gain_one_when_written() {
    let store = AnyStore::Memory(MemoryStore::new());
    let fast = server(&store, true);
    let slow = server(&store, false);
    // As a server before stored values had a header wrote them: bare JSON.
    let AnyStore::Memory(memory) = &store else {
        unreachable!()
    };
    let key = "/registry/pager.k8s.co/alerts/default/old";
    let bare = json!({
        "apiVersion": "pager.k8s.co/v1beta1",
        "kind": "Alert",
        "metadata": {"name": "old", "namespace": "default", "uid": "u-1",
                     "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 1},
        "spec": {"title": "t", "content": "c"},
    });
    memory
        .create(key, bare.to_string().into_bytes().into())
        .await
        .unwrap();
    same_answers(&fast, &slow, &format!("{BETA}/alerts")).await;
    same_answers(&fast, &slow, &format!("{ALPHA}/alerts")).await;
    // The default the version has now is applied on the way out, as by the decoding path.
    let (_, body) = send(&fast, Method::GET, &format!("{BETA}/alerts"), Value::Null).await;
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["items"][0]["spec"]["priority"], "normal");
    // Written again: stored with the header, still served the same.
    let (code, _) = send(
        &fast,
        Method::PATCH,
        &format!("{BETA}/namespaces/default/alerts/old"),
        json!({"metadata": {"labels": {"a": "b"}}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let stored = memory.get(key).await.unwrap().unwrap().value;
    assert!(
        stored.starts_with(b"kcg1"),
        "{}",
        String::from_utf8_lossy(&stored)
    );
    same_answers(&fast, &slow, &format!("{BETA}/alerts")).await;
}

#[tokio::test]
async fn the_shortcut_serves_the_stored_bytes() {
    let store = AnyStore::Memory(MemoryStore::new());
    let fast = server(&store, true);
    let slow = server(&store, false);
    let (code, _) = send(
        &fast,
        Method::POST,
        &format!("{BETA}/namespaces/default/alerts"),
        json!({"metadata": {"name": "x"}, "spec": {"content": "c"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let AnyStore::Memory(memory) = &store else {
        unreachable!()
    };
    let key = "/registry/pager.k8s.co/alerts/default/x";
    let kv = memory.get(key).await.unwrap().unwrap();
    // The same header (same codec), JSON with a field the type does not have: decoding drops
    // it, the shortcut serves it — proof that the shortcut is taken, and why values are only
    // ever written by the codec their header names.
    let json = apiserver::stored_object_json(&kv.value).unwrap();
    let mut doctored: Value = serde_json::from_slice(json).unwrap();
    doctored["extra"] = json!(1);
    let doctored = serde_json::to_vec(&doctored).unwrap();
    // The header's offset points into `metadata`, before `"extra"` (appended at the end); its
    // checksum is the doctored JSON's with that place (as the codec would have written it).
    // (The header: `kcg1`, the fingerprint's 8 hex, the checksum's 8, the offset, the comma.)
    let mut value = kv.value[..12].to_vec();
    let mut sum = crc32fast::Hasher::new();
    sum.update(&kv.value[20..29]);
    sum.update(&doctored);
    value.extend_from_slice(format!("{:08x}", sum.finalize()).as_bytes());
    value.extend_from_slice(&kv.value[20..30]);
    value.extend_from_slice(&doctored);
    memory
        .update(key, value.into(), Some(kv.mod_revision))
        .await
        .unwrap();
    let (_, fast_body) = send(&fast, Method::GET, &format!("{BETA}/alerts"), Value::Null).await;
    let (_, slow_body) = send(&slow, Method::GET, &format!("{BETA}/alerts"), Value::Null).await;
    let fast_list: Value = serde_json::from_slice(&fast_body).unwrap();
    let slow_list: Value = serde_json::from_slice(&slow_body).unwrap();
    assert_eq!(fast_list["items"][0]["extra"], 1);
    assert_eq!(slow_list["items"][0].get("extra"), None);
    // Both carry the store's revision as resourceVersion.
    let rv = memory
        .get(key)
        .await
        .unwrap()
        .unwrap()
        .mod_revision
        .to_string();
    assert_eq!(
        fast_list["items"][0]["metadata"]["resourceVersion"],
        rv.as_str()
    );
    assert_eq!(
        slow_list["items"][0]["metadata"]["resourceVersion"],
        rv.as_str()
    );
    // Another version is never served from the bytes.
    let (_, alpha) = send(&fast, Method::GET, &format!("{ALPHA}/alerts"), Value::Null).await;
    let alpha: Value = serde_json::from_slice(&alpha).unwrap();
    assert_eq!(alpha["items"][0].get("extra"), None);
}

#[tokio::test]
async fn a_large_list_streams_in_chunks_with_the_same_bytes() {
    let store = AnyStore::Memory(MemoryStore::new());
    let fast = server(&store, true);
    let slow = server(&store, false);
    let content = "x".repeat(2000);
    for i in 0..200 {
        let (code, _) = send(
            &fast,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": format!("n{i:03}")}, "spec": {"content": content}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    // 200 × ~2.3 kB: several 64 KiB chunks.
    let req = Request::builder()
        .uri(format!("{ALPHA}/alerts"))
        .body(Body::empty())
        .unwrap();
    let resp = fast.clone().oneshot(req).await.unwrap();
    assert_eq!(
        resp.headers().get("content-length"),
        None,
        "streamed, not buffered"
    );
    let mut body = resp.into_body().into_data_stream();
    let mut chunks = 0;
    let mut streamed = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut body).await {
        streamed.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    assert!(chunks >= 4, "{chunks} chunks");
    let list: Value = serde_json::from_slice(&streamed).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 200);
    same_answers(&fast, &slow, &format!("{ALPHA}/alerts")).await;
    same_answers(&fast, &slow, &format!("{BETA}/alerts")).await;
}

/// Reads `n` newline-terminated lines of a streaming body.
async fn lines(body: Body, n: usize) -> Vec<String> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            futures::StreamExt::next(&mut stream),
        )
        .await
        .expect("a watch event in time")
        .expect("the watch goes on")
        .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.iter().position(|&b| b == b'\n') {
            out.push(String::from_utf8(buf.drain(..=end).collect()).unwrap());
        }
    }
    out
}

#[tokio::test]
async fn watch_events_from_stored_bytes_equal_decoded_events() {
    let store = AnyStore::Memory(MemoryStore::new());
    let fast = server(&store, true);
    let slow = server(&store, false);
    fill(&fast).await;
    let mut bodies = Vec::new();
    for base in [ALPHA, BETA] {
        for app in [&fast, &slow] {
            // From now on (initial ADDEDs of what exists) and a label-selected one.
            for query in ["?watch=1", "?watch=1&labelSelector=team%3Dops"] {
                let req = Request::builder()
                    .uri(format!("{base}/alerts{query}"))
                    .body(Body::empty())
                    .unwrap();
                let resp = app.clone().oneshot(req).await.unwrap();
                assert_eq!(resp.status(), StatusCode::OK);
                bodies.push(resp.into_body());
            }
        }
    }
    let (_, all) = send(&fast, Method::GET, &format!("{BETA}/alerts"), Value::Null).await;
    let existing = serde_json::from_slice::<Value>(&all).unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    let (_, ops) = send(
        &fast,
        Method::GET,
        &format!("{BETA}/alerts?labelSelector=team%3Dops"),
        Value::Null,
    )
    .await;
    let existing_ops = serde_json::from_slice::<Value>(&ops).unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    // Changes: creates, a label change moving an object out of the selection, a status
    // update, deletes (12 in all, each concerning `team=ops` too).
    fill_more(&fast).await;
    let (code, _) = send(
        &fast,
        Method::PATCH,
        &format!("{BETA}/namespaces/ops/alerts/late0"),
        json!({"metadata": {"labels": {"team": "dev"}}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let mut got = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let n = if i % 2 == 0 {
            existing + 12
        } else {
            existing_ops + 12
        };
        got.push(lines(body, n).await);
    }
    // fast/slow pairs: [alpha all, alpha ops] fast, then slow; then beta.
    for (fast_lines, slow_lines) in [(0, 2), (1, 3), (4, 6), (5, 7)] {
        assert_eq!(got[fast_lines], got[slow_lines]);
    }
    assert!(
        got[4]
            .iter()
            .any(|l| l.starts_with(r#"{"type":"MODIFIED""#))
    );
    assert!(got[5].last().unwrap().starts_with(r#"{"type":"DELETED""#));
}

/// Each backend once: the memory store (its recent revisions from its event window) and the
/// embedded store (from its log); the directory lives as long as the store is used.
fn backends() -> Vec<(AnyStore, tempfile::TempDir)> {
    let memory = (
        AnyStore::Memory(MemoryStore::new()),
        tempfile::tempdir().unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let embedded =
        AnyStore::Embedded(apiserver_storage::EmbeddedStore::open(dir.path().join("db")).unwrap());
    vec![memory, (embedded, dir)]
}

#[tokio::test]
async fn long_lists_are_read_page_by_page_at_one_revision() {
    for (store, _dir) in backends() {
        long_list_read_page_by_page(&store).await;
    }
}

async fn long_list_read_page_by_page(store: &AnyStore) {
    let fast = server(store, true);
    let slow = server(store, false);
    for i in 0..1_300 {
        let labels = if i % 3 == 0 {
            json!({"team": "ops"})
        } else {
            json!({})
        };
        let (code, _) = send(
            &fast,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": format!("n{i:04}"), "labels": labels}, "spec": {"content": "c"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    // Read in pages of the storage while written: the same bytes as a list read in one go
    // (`limit` above the count: one storage read, no continue), with or without the shortcut,
    // selected or not, in both versions.
    for base in [ALPHA, BETA] {
        for query in ["", "?labelSelector=team%3Dops"] {
            let sep = if query.is_empty() { '?' } else { '&' };
            let whole = format!("{base}/alerts{query}{sep}limit=100000");
            let (_, one_read) = send(&slow, Method::GET, &whole, Value::Null).await;
            for app in [&fast, &slow] {
                let (code, paged) = send(
                    app,
                    Method::GET,
                    &format!("{base}/alerts{query}"),
                    Value::Null,
                )
                .await;
                assert_eq!(code, StatusCode::OK);
                assert!(paged == one_read, "{base}/alerts{query}");
            }
        }
    }
    // Writes after the list began are not in it: its pages are read at its revision.
    let req = Request::builder()
        .uri(format!("{BETA}/alerts"))
        .body(Body::empty())
        .unwrap();
    let resp = fast.clone().oneshot(req).await.unwrap();
    for i in 0..20 {
        let (code, _) = send(
            &fast,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": format!("z{i:02}")}, "spec": {"content": "late"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let (code, _) = send(
        &fast,
        Method::DELETE,
        &format!("{BETA}/namespaces/default/alerts/n1299"),
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let list: Value = serde_json::from_slice(&body).unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 1_300);
    assert_eq!(names.last(), Some(&"n1299"));
    assert!(names.iter().all(|n| n.starts_with('n')));
}

#[tokio::test]
async fn a_list_outlived_by_compaction_is_cut_short_not_completed_wrongly() {
    for (store, _dir) in backends() {
        list_outlived_by_compaction(&store).await;
    }
}

async fn list_outlived_by_compaction(store: &AnyStore) {
    let app = server(store, true);
    for i in 0..1_200 {
        let (code, _) = send(
            &app,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": format!("n{i:04}")}, "spec": {"content": "c"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let req = Request::builder()
        .uri(format!("{BETA}/alerts"))
        .body(Body::empty())
        .unwrap();
    // The first page is read and the status sent...
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // ...then the store moves on and forgets the list's revision before the rest is read.
    let (code, _) = send(
        &app,
        Method::DELETE,
        &format!("{BETA}/namespaces/default/alerts/n1100"),
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (_, now) = send(
        &app,
        Method::GET,
        &format!("{BETA}/alerts?limit=1"),
        Value::Null,
    )
    .await;
    let now: Value = serde_json::from_slice(&now).unwrap();
    let latest: u64 = now["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    store.compact(latest).await.unwrap();
    // The response ends in an error: never a list missing n1100 presented as complete.
    assert!(
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_value_damaged_at_rest_fails_a_list_as_it_fails_a_get() {
    let store = AnyStore::Memory(MemoryStore::new());
    let app = server(&store, true);
    for name in ["a1", "a2"] {
        let (code, _) = send(
            &app,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": name, "annotations": {"note": "xxxx"}}, "spec": {"content": "c"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let AnyStore::Memory(memory) = &store else {
        unreachable!()
    };
    let key = "/registry/pager.k8s.co/alerts/default/a2";
    let kv = memory.get(key).await.unwrap().unwrap();
    // Damaged as a disk or a hand in etcd damages it, the header left as it was: one byte no
    // longer UTF-8, then one quote gone.
    for (from, to) in [
        (&b"xxxx"[..], &b"x\x87xx"[..]),
        (&b"\"xxxx\""[..], &b"\"xxxx"[..]),
    ] {
        let at = kv
            .value
            .windows(from.len())
            .position(|w| w == from)
            .unwrap();
        let mut damaged = kv.value[..at].to_vec();
        damaged.extend_from_slice(to);
        damaged.extend_from_slice(&kv.value[at + from.len()..]);
        let current = memory.get(key).await.unwrap().unwrap().mod_revision;
        memory
            .update(key, damaged.into(), Some(current))
            .await
            .unwrap();
        let (get, body) = send(
            &app,
            Method::GET,
            &format!("{BETA}/namespaces/default/alerts/a2"),
            Value::Null,
        )
        .await;
        assert_eq!(
            get,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            String::from_utf8_lossy(&body)
        );
        for list in [
            format!("{BETA}/alerts"),
            format!("{BETA}/namespaces/default/alerts?limit=5"),
        ] {
            let (code, body) = send(&app, Method::GET, &list, Value::Null).await;
            assert_eq!(
                code,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{list}: {}",
                String::from_utf8_lossy(&body)
            );
            let status: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(status["reason"], "InternalError", "{status}");
        }
    }
}

/// A list in another version than the storage's converts each object as it is read, moving it
/// through the hub; a GET converts a copy of the object. Both give the same bytes, for objects
/// of every shape (a title carried in v1alpha1's annotation, status, labels, escapes).
#[tokio::test]
async fn items_converted_for_a_list_equal_the_objects_read_one_by_one() {
    let store = AnyStore::Memory(MemoryStore::new());
    let app = server(&store, true);
    fill(&app).await;
    for base in [ALPHA, BETA] {
        let (code, body) = send(&app, Method::GET, &format!("{base}/alerts"), Value::Null).await;
        assert_eq!(code, StatusCode::OK);
        let list: Value = serde_json::from_slice(&body).unwrap();
        let items = list["items"].as_array().unwrap();
        assert!(items.len() > 40, "{} items", items.len());
        let titled = items
            .iter()
            .filter(|i| i["metadata"]["annotations"]["pager.k8s.co/title"].is_string())
            .count();
        if base == ALPHA {
            assert!(titled > 20, "{titled} titles carried in annotations");
        }
        // The items' bytes as the list wrote them, in order.
        let text = std::str::from_utf8(&body).unwrap();
        let mut rest = &text[text.find("\"items\":[").unwrap() + "\"items\":[".len()..];
        for item in items {
            let (ns, name) = (
                item["metadata"]["namespace"].as_str().unwrap(),
                item["metadata"]["name"].as_str().unwrap(),
            );
            let (code, one) = send(
                &app,
                Method::GET,
                &format!("{base}/namespaces/{ns}/alerts/{name}"),
                Value::Null,
            )
            .await;
            assert_eq!(code, StatusCode::OK);
            let one = std::str::from_utf8(&one).unwrap().trim_end();
            assert!(
                rest.starts_with(one),
                "{base} {ns}/{name}: the list holds\n{}\nwhere a GET gives\n{one}",
                &rest[..one.len().min(rest.len())]
            );
            rest = rest[one.len()..].trim_start_matches(',');
        }
    }
}

/// A stored value that does not decode (written past the server, damaged at rest) fails the
/// requests that read it with a 500 naming its key, so that an operator can find it, on both
/// paths; the other objects are served as before.
#[tokio::test]
async fn a_value_that_does_not_decode_is_named_by_its_key() {
    let store = AnyStore::Memory(MemoryStore::new());
    let AnyStore::Memory(memory) = &store else {
        unreachable!()
    };
    for serve_stored in [true, false] {
        let app = server(&store, serve_stored);
        let (code, _) = send(
            &app,
            Method::POST,
            &format!("{BETA}/namespaces/default/alerts"),
            json!({"metadata": {"name": format!("fine-{serve_stored}")}, "spec": {"content": "c"}}),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
        let key = format!("/registry/pager.k8s.co/alerts/default/bad-{serve_stored}");
        memory
            .create(&key, bytes::Bytes::from_static(b"not json at all"))
            .await
            .unwrap();
        for uri in [
            format!("{BETA}/namespaces/default/alerts/bad-{serve_stored}"),
            format!("{ALPHA}/namespaces/default/alerts"),
            format!("{BETA}/alerts"),
        ] {
            let (code, body) = send(&app, Method::GET, &uri, Value::Null).await;
            assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
            let status: Value = serde_json::from_slice(&body).unwrap();
            let message = status["message"].as_str().unwrap();
            assert!(message.contains(&key), "{uri}: {message}");
        }
        let (code, _) = send(
            &app,
            Method::GET,
            &format!("{BETA}/namespaces/default/alerts/fine-{serve_stored}"),
            Value::Null,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        memory.delete(&key, None).await.unwrap();
    }
}

/// Allows everything but the unsafe delete's own verb, until told to.
#[derive(Clone, Default)]
struct UnsafeDeleteAllowed(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl apiserver::auth::Authorizer for UnsafeDeleteAllowed {
    fn authorize<'a>(
        &'a self,
        a: apiserver::auth::Attributes<'a>,
    ) -> apiserver::auth::DecisionFuture<'a> {
        let allowed = a.request.verb != "unsafe-delete-ignore-read-errors"
            || self.0.load(std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            if allowed {
                apiserver::auth::Decision::Allow
            } else {
                apiserver::auth::Decision::Deny(String::new())
            }
        })
    }
}

/// A DELETE with `ignoreStoreReadErrorWithClusterBreakingPotential`.
async fn unsafe_delete(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let options = json!({"ignoreStoreReadErrorWithClusterBreakingPotential": true});
    send(app, Method::DELETE, uri, options).await
}

/// kube-apiserver's unsafe delete (KEP-3926): with the gate on, a DELETE with
/// `ignoreStoreReadErrorWithClusterBreakingPotential` removes an object that does not decode —
/// once its own verb is allowed, only such an object, never by deletecollection, not on a dry
/// run — and the resource lists again; with the gate off the option is ignored.
#[tokio::test]
async fn an_object_that_does_not_decode_can_be_deleted_when_allowed() {
    let store = AnyStore::Memory(MemoryStore::new());
    let AnyStore::Memory(memory) = &store else {
        unreachable!()
    };
    let allowed = UnsafeDeleteAllowed::default();
    let build = |gate: bool| {
        let anonymous = apiserver::auth::Authentication {
            anonymous: true,
            ..Default::default()
        };
        ApiServer::builder(store.clone())
            .resource(
                Resource::<pager::Alert>::hub()
                    .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
                    .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
                    .strategy(Titles),
            )
            .storage_version("pager.k8s.co", "v1beta1")
            .guard(apiserver::auth::Guard::new(anonymous, allowed.clone()))
            .unsafe_malformed_object_deletion(gate)
            .build()
            .unwrap()
            .into_router()
    };
    let (on, off) = (build(true), build(false));
    let alerts = format!("{BETA}/namespaces/default/alerts");
    let (code, _) = send(
        &on,
        Method::POST,
        &alerts,
        json!({"metadata": {"name": "fine"}, "spec": {"content": "c"}}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    memory
        .create(
            "/registry/pager.k8s.co/alerts/default/bad",
            bytes::Bytes::from_static(b"\x00\x01 not an object"),
        )
        .await
        .unwrap();
    let status = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap();
    // Gate off: the option is ignored, and the ordinary delete cannot read the object.
    let (code, _) = unsafe_delete(&off, &format!("{alerts}/bad")).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    // Gate on, the verb not allowed: 403.
    let (code, body) = unsafe_delete(&on, &format!("{alerts}/bad")).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{}", status(&body));
    assert!(
        status(&body)["message"]
            .as_str()
            .unwrap()
            .contains("cannot unsafe-delete-ignore-read-errors"),
        "{}",
        status(&body)
    );
    allowed.0.store(true, std::sync::atomic::Ordering::SeqCst);
    // Not for an object that decodes, nor a missing one, nor a collection.
    let (code, _) = unsafe_delete(&on, &format!("{alerts}/fine")).await;
    assert_eq!(code, StatusCode::CONFLICT);
    let (code, _) = unsafe_delete(&on, &format!("{alerts}/none")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = unsafe_delete(&on, &alerts).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    // Options it cannot honour are refused, as Go's `ValidateIgnoreStoreReadError` refuses them.
    let (code, body) = send(
        &on,
        Method::DELETE,
        &format!("{alerts}/bad"),
        json!({"ignoreStoreReadErrorWithClusterBreakingPotential": true,
               "preconditions": {"uid": "u"}, "gracePeriodSeconds": 0}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{}", status(&body));
    let causes = status(&body)["details"]["causes"].to_string();
    assert!(
        causes.contains("cannot be set together with .preconditions"),
        "{causes}"
    );
    assert!(
        causes.contains("cannot be set together with .gracePeriodSeconds"),
        "{causes}"
    );
    // A dry run deletes nothing.
    let (code, _) = send(
        &on,
        Method::DELETE,
        &format!("{alerts}/bad"),
        json!({"ignoreStoreReadErrorWithClusterBreakingPotential": true, "dryRun": ["All"]}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = send(&on, Method::GET, &alerts, Value::Null).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    // A watch open across the delete gets kube-apiserver's ERROR for it.
    let rv = memory.revision().await.unwrap();
    let watch = on
        .clone()
        .oneshot(
            Request::get(format!("{alerts}?watch=1&resourceVersion={rv}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(watch.status(), StatusCode::OK);
    let mut events = watch.into_body().into_data_stream();
    // Asked in the query, as a client without a body asks it.
    let (code, body) = send(
        &on,
        Method::DELETE,
        &format!("{alerts}/bad?ignoreStoreReadErrorWithClusterBreakingPotential=true"),
        Value::Null,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{}", status(&body));
    assert_eq!(status(&body)["status"], "Success");
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        use futures::StreamExt;
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .expect("the watch sends the delete")
            .expect("the watch has not ended")
            .unwrap();
        line.extend_from_slice(&chunk);
    }
    let event = status(&line);
    assert_eq!(event["type"], "ERROR", "{event}");
    assert_eq!(event["object"]["reason"], "StoreReadError", "{event}");
    assert!(
        event["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("saw a DELETED event, but object data is corrupt"),
        "{event}"
    );
    let (code, body) = send(&on, Method::GET, &alerts, Value::Null).await;
    assert_eq!(code, StatusCode::OK);
    let names: Vec<Value> = status(&body)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("fine")]);
}
