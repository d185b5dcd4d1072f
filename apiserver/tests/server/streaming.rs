//! Streaming lists (`sendInitialEvents`) and `resourceVersionMatch`, the Kubernetes way: initial
//! ADDEDs, a BOOKMARK annotated `k8s.io/initial-events-end`, then changes; every misuse of the
//! options refused (422 `ListOptions.meta.k8s.io`), never silently ignored.

use apiserver::{ApiServer, Resource};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use futures::StreamExt;
use http::{Request, StatusCode};
use pager::v1alpha1::Alert;
use serde_json::{Value, json};
use tower::ServiceExt;

const BASE: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

fn app() -> axum::Router {
    ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .freshness_wait(std::time::Duration::from_millis(100))
        .build()
        .unwrap()
        .into_router()
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
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

async fn create(app: &axum::Router, name: &str) -> String {
    let body = json!({"metadata": {"name": name}, "spec": {"message": name}});
    let req = Request::post(BASE)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (code, obj) = send(app, req).await;
    assert_eq!(code, StatusCode::CREATED, "{obj}");
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn get(app: &axum::Router, query: &str) -> (StatusCode, Value) {
    send(
        app,
        Request::get(format!("{BASE}?{query}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Reads watch events (JSON lines) from `stream` into `events` until it holds `n`.
async fn read_events(
    stream: &mut axum::body::BodyDataStream,
    buf: &mut Vec<u8>,
    events: &mut Vec<Value>,
    n: usize,
) {
    while events.len() < n {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("an event")
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            events.push(serde_json::from_slice(&line).unwrap());
        }
    }
}

/// The list blueprint an object's `kubernetes.io/initial-events-list-blueprint` annotation
/// carries (base64 of JSON).
fn blueprint(object: &Value) -> Value {
    use base64::Engine as _;
    let encoded = object["metadata"]["annotations"]["kubernetes.io/initial-events-list-blueprint"]
        .as_str()
        .expect("a blueprint");
    let json = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn a_streaming_list_ends_its_initial_events_with_an_annotated_bookmark() {
    let app = app();
    create(&app, "a").await;
    let rv = create(&app, "b").await;
    let resp = app
        .clone()
        .oneshot(
            Request::get(format!(
                "{BASE}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={rv}"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    let mut buf = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    read_events(&mut stream, &mut buf, &mut events, 3).await;
    create(&app, "c").await;
    read_events(&mut stream, &mut buf, &mut events, 4).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "BOOKMARK", "ADDED"]);
    let bookmark = &events[2]["object"];
    assert_eq!(
        bookmark["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(bookmark["metadata"]["resourceVersion"], rv.as_str());
    // Kubernetes 1.33's blueprint of the list, which client-go's watch-list builds its list
    // from (and refuses a stream without): an empty list of the kind, in the watch's format.
    let blueprint = blueprint(bookmark);
    assert_eq!(blueprint["kind"], "AlertList");
    assert_eq!(blueprint["apiVersion"], "pager.k8s.co/v1alpha1");
    assert_eq!(blueprint["items"], json!([]));
    assert_eq!(events[3]["object"]["metadata"]["name"], "c");
}

/// Kubernetes 1.32+ (its WatchList feature on by default) reads a watch from no resourceVersion
/// (or "0") without `sendInitialEvents` as a streaming list: the same initial ADDEDs, ended by
/// the annotated BOOKMARK when BOOKMARKs are allowed — what client-go's watch-list waits for
/// when a wrapper dropped the parameter. A streaming list without BOOKMARKs allowed is served
/// too (apimachinery asks only for `resourceVersionMatch=NotOlderThan`), without that BOOKMARK.
#[tokio::test]
async fn watches_from_now_are_streaming_lists_and_bookmarks_are_optional() {
    for (query, bookmark) in [
        ("watch=1&allowWatchBookmarks=true", true),
        ("watch=1&resourceVersion=0&allowWatchBookmarks=true", true),
        ("watch=1&resourceVersion=", false),
        (
            "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
            false,
        ),
    ] {
        let app = app();
        create(&app, "a").await;
        let rv = create(&app, "b").await;
        let resp = app
            .clone()
            .oneshot(
                Request::get(format!("{BASE}?{query}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        let mut stream = resp.into_body().into_data_stream();
        let mut buf = Vec::new();
        let mut events: Vec<Value> = Vec::new();
        read_events(&mut stream, &mut buf, &mut events, 2).await;
        create(&app, "c").await;
        read_events(&mut stream, &mut buf, &mut events, 3).await;
        if bookmark {
            read_events(&mut stream, &mut buf, &mut events, 4).await;
        }
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        if bookmark {
            assert_eq!(kinds, ["ADDED", "ADDED", "BOOKMARK", "ADDED"], "{query}");
            let end = &events[2]["object"]["metadata"];
            assert_eq!(end["annotations"]["k8s.io/initial-events-end"], "true");
            assert_eq!(end["resourceVersion"], rv.as_str(), "{query}");
        } else {
            assert_eq!(kinds, ["ADDED", "ADDED", "ADDED"], "{query}");
        }
    }
}

/// A streaming list asked for as a Table (`kubectl get -w` with a watch-list client): Tables
/// throughout, the ending BOOKMARK a Table whose row carries the annotations, and a Table as
/// its blueprint, as Go's watch encoder writes it.
#[tokio::test]
async fn a_streaming_list_in_table_form_is_tables_throughout() {
    let app = app();
    create(&app, "a").await;
    let rv = create(&app, "b").await;
    let resp = app
        .clone()
        .oneshot(
            Request::get(format!(
                "{BASE}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={rv}"
            ))
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    let mut buf = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    read_events(&mut stream, &mut buf, &mut events, 3).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "BOOKMARK"]);
    for e in &events {
        assert_eq!(e["object"]["kind"], "Table", "{e}");
    }
    let row = &events[2]["object"]["rows"][0]["object"];
    assert_eq!(
        row["metadata"]["annotations"]["k8s.io/initial-events-end"], "true",
        "{row}"
    );
    let blueprint = blueprint(row);
    assert_eq!(blueprint["kind"], "Table");
    assert_eq!(blueprint["apiVersion"], "meta.k8s.io/v1");
}

#[tokio::test]
async fn list_options_are_honoured_or_refused() {
    let app = app();
    let rv: u64 = create(&app, "a").await.parse().unwrap();
    // Honoured.
    let (code, list) = get(
        &app,
        &format!("resourceVersion={rv}&resourceVersionMatch=NotOlderThan"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let (code, list) = get(
        &app,
        &format!("resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["metadata"]["resourceVersion"], rv.to_string());
    // An older revision, exactly: the snapshot then (without the alert created since); one the
    // store has not reached: 504.
    create(&app, "b").await;
    let (code, list) = get(
        &app,
        &format!("resourceVersion={rv}&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["metadata"]["resourceVersion"], rv.to_string());
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (code, status) = get(
        &app,
        "resourceVersion=999&resourceVersionMatch=NotOlderThan",
    )
    .await;
    assert_eq!(code, StatusCode::GATEWAY_TIMEOUT, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("Too large resource version")
    );

    // Refused, as apimachinery's ValidateListOptions refuses them.
    for (query, field) in [
        ("resourceVersionMatch=NotOlderThan", "resourceVersionMatch"),
        (
            "resourceVersion=1&resourceVersionMatch=Newest",
            "resourceVersionMatch",
        ),
        (
            "resourceVersion=0&resourceVersionMatch=Exact",
            "resourceVersionMatch",
        ),
        (
            "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=1",
            "sendInitialEvents",
        ),
        (
            "watch=1&sendInitialEvents=true&allowWatchBookmarks=true",
            "resourceVersionMatch",
        ),
        (
            "watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan",
            "resourceVersionMatch",
        ),
    ] {
        let (code, status) = get(&app, query).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {status}");
        assert_eq!(status["details"]["kind"], "ListOptions", "{query}");
        assert_eq!(
            status["details"]["causes"][0]["field"], field,
            "{query}: {status}"
        );
    }
    // The parameter codec reads any value but `0`/`false` as true: this asks for initial
    // events, without what they require.
    let (code, status) = get(&app, "watch=1&sendInitialEvents=maybe").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "resourceVersionMatch"
    );
}

#[tokio::test]
async fn continue_tokens_pin_the_first_pages_revision() {
    let app = app();
    for n in ["a", "b", "c", "d", "e"] {
        create(&app, n).await;
    }
    let (code, first) = get(&app, "limit=2").await;
    assert_eq!(code, StatusCode::OK, "{first}");
    assert_eq!(first["metadata"]["remainingItemCount"], 3, "{first}");
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    // With a selector the count of keys left says nothing: left out.
    let (_, selected) = get(&app, "limit=2&labelSelector=app%21%3Dnone").await;
    assert!(
        selected["metadata"].get("remainingItemCount").is_none(),
        "{selected}"
    );
    // Between the pages: one alert ahead of the cursor deleted, one created.
    let del = Request::delete(format!("{BASE}/d"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, del).await.0, StatusCode::OK);
    create(&app, "c2").await;
    let mut names: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut token = Some(token);
    while let Some(t) = token {
        let (code, page) = get(&app, &format!("limit=2&continue={t}")).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        assert_eq!(
            page["metadata"]["resourceVersion"],
            first["metadata"]["resourceVersion"]
        );
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap().to_string()),
        );
        token = page["metadata"]["continue"].as_str().map(str::to_string);
    }
    // The snapshot of the first page: d still there, c2 not.
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
}
