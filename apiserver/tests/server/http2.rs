//! HTTP/2 as Go clients speak it: many watches multiplexed on one connection (kube-aggregator's
//! proxy and client-go's shared transport do this), each receiving every event.

use std::time::Duration;

use apiserver::{ApiServer, Resource};
use apiserver_storage::{AnyStore, MemoryStore};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use pager::v1alpha1::Alert;

const BASE: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";

async fn serve() -> std::net::SocketAddr {
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        .build()
        .unwrap()
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(apiserver::serve::serve(
        listener,
        app,
        None,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_watches_share_one_http2_connection() {
    let addr = serve().await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // HTTP/2 with prior knowledge (h2c): what ALPN negotiates over TLS.
    let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, Empty<Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let watches = apiserver::serve::HTTP2_MAX_STREAMS_PER_CONNECTION as usize;
    let mut bodies = Vec::new();
    for _ in 0..watches {
        let mut sender = sender.clone();
        bodies.push(tokio::spawn(async move {
            let req = Request::get(format!("http://{addr}{BASE}?watch=1&resourceVersion=0"))
                .body(Empty::new())
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body()
        }));
    }
    let mut opened = Vec::new();
    for b in bodies {
        // Every stream is answered: none waits for another to end.
        opened.push(
            tokio::time::timeout(Duration::from_secs(30), b)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // One create, over HTTP/1.1 on another connection, reaches every stream.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut writer, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let body = r#"{"metadata":{"name":"shared"},"spec":{"message":"one for all"}}"#;
    let resp = writer
        .send_request(
            Request::post(BASE)
                .header("host", addr.to_string())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let mut readers = Vec::new();
    for mut body in opened {
        readers.push(tokio::spawn(async move {
            let mut buf = Vec::new();
            while !buf.contains(&b'\n') {
                let frame = body.frame().await.expect("stream open").unwrap();
                if let Some(data) = frame.data_ref() {
                    buf.extend_from_slice(data);
                }
            }
            let line = &buf[..buf.iter().position(|b| *b == b'\n').unwrap()];
            let event: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert_eq!(event["type"], "ADDED");
            assert_eq!(event["object"]["metadata"]["name"], "shared");
        }));
    }
    for r in readers {
        tokio::time::timeout(Duration::from_secs(30), r)
            .await
            .unwrap()
            .unwrap();
    }
}
