//! HTTP/2 as Go clients speak it: many watches multiplexed on one connection (kube-aggregator's
//! proxy and client-go's shared transport do this), each receiving every event; and how long
//! connections, HTTP/1.1 ones too, are kept.

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
    serve_with(apiserver::serve::ServeOptions::default()).await
}

async fn serve_with(options: apiserver::serve::ServeOptions) -> std::net::SocketAddr {
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
        // A connection's thousand streams, and a watch over HTTP/1.1 beside them.
        .max_watches(2_000)
        .build()
        .unwrap()
        .into_router();
    serve_app(app, options).await
}

/// `app` served on a loopback port as `pager-apiserver` serves it.
async fn serve_app(
    app: axum::Router,
    options: apiserver::serve::ServeOptions,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(apiserver::serve::serve_with(
        listener,
        app,
        None,
        std::future::pending(),
        options,
    ));
    addr
}

/// An HTTP/2 connection to `addr` (prior knowledge): its request sender and the task driving
/// it, which ends when the connection closes.
async fn h2_connect(
    addr: std::net::SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    tokio::task::JoinHandle<hyper::Result<()>>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    (sender, tokio::spawn(conn))
}

/// What a watch's body has sent until its first newline (within 30 s).
async fn first_line(watch: &mut hyper::body::Incoming) -> Vec<u8> {
    lines(watch, 1).await
}

/// What a watch's body has sent until its `n`th newline (each frame within 30 s).
async fn lines(watch: &mut hyper::body::Incoming, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    while buf.iter().filter(|b| **b == b'\n').count() < n {
        let frame = tokio::time::timeout(Duration::from_secs(30), watch.frame())
            .await
            .unwrap()
            .expect("watch open")
            .unwrap();
        if let Some(data) = frame.data_ref() {
            buf.extend_from_slice(data);
        }
    }
    buf
}

/// HTTP/2 connections with no request in progress are closed after the idle timeout (with a
/// GOAWAY: their client ends them cleanly), as kube-apiserver's `IdleTimeout` closes them; one
/// holding a watch stays open and keeps taking new streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_are_closed_and_busy_ones_kept() {
    let addr = serve_with(apiserver::serve::ServeOptions {
        idle_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let get = |path: &str| {
        Request::get(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    // One request, then nothing; and one connection that never sends a request.
    let (mut used, used_conn) = h2_connect(addr).await;
    let resp = used.send_request(get(BASE)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.into_body().collect().await.unwrap();
    let (_unused, unused_conn) = h2_connect(addr).await;
    // A watch, open throughout.
    let (mut busy, busy_conn) = h2_connect(addr).await;
    let resp = busy
        .send_request(get(&format!("{BASE}?watch=1&resourceVersion=0")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut watch = resp.into_body();
    for (what, conn) in [("used", used_conn), ("unused", unused_conn)] {
        let ended = tokio::time::timeout(Duration::from_secs(20), conn).await;
        let ended = ended.unwrap_or_else(|_| panic!("the {what} idle connection is still open"));
        ended.unwrap().unwrap();
    }
    assert!(
        !busy_conn.is_finished(),
        "the connection holding a watch was closed"
    );
    // It still takes new streams, and its watch sees what they write.
    let create = Request::post(format!("http://{addr}{BASE}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(
            br#"{"metadata":{"name":"late"},"spec":{"message":"still here"}}"#,
        )))
        .unwrap();
    let resp = busy.send_request(create).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let buf = first_line(&mut watch).await;
    let event: serde_json::Value =
        serde_json::from_slice(&buf[..buf.iter().position(|b| *b == b'\n').unwrap()]).unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "late");
}

/// An idle HTTP/2 connection whose client ignores the GOAWAY (and the PING after it) is dropped
/// once it has stayed idle as long again: idle sockets cannot hold descriptors forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_ignoring_goaway_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = serve_with(apiserver::serve::ServeOptions {
        idle_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The preface and an empty SETTINGS frame; then nothing, not even the acknowledgements.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection is still open after 8 s");
}

/// Every stream of a connection carrying a thousand watches gets each event, byte for byte what
/// a watch over HTTP/1.1 gets: the server gathers the streams' DATA frames into large writes
/// (`serve::coalesce`), and this checks the gathering against the plain path.
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
    let watch = format!("{BASE}?watch=1&resourceVersion=0");
    let watches = apiserver::serve::HTTP2_MAX_STREAMS_PER_CONNECTION as usize;
    let mut bodies = Vec::new();
    for _ in 0..watches {
        let mut sender = sender.clone();
        let uri = format!("http://{addr}{watch}");
        bodies.push(tokio::spawn(async move {
            let req = Request::get(uri).body(Empty::new()).unwrap();
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
    // The same watch over HTTP/1.1, and writes over HTTP/1.1 on a third connection.
    let http1 = |addr| async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        sender
    };
    let mut plain = http1(addr).await;
    plain.ready().await.unwrap();
    let resp = plain
        .send_request(
            Request::get(&watch)
                .header("host", addr.to_string())
                .body(Full::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    opened.push(resp.into_body());
    let mut writer = http1(addr).await;
    // Events of several sizes: the larger ones are sent in DATA frames of their own by h2.
    let writes = [
        ("shared", 40),
        ("large", 3_000),
        ("shared", 9_000),
        ("last", 10),
    ];
    for (i, (name, len)) in writes.iter().enumerate() {
        let message = "m".repeat(*len);
        let (method, uri, content_type) = match i {
            0 | 1 | 3 => (http::Method::POST, BASE.to_owned(), "application/json"),
            _ => (
                http::Method::PATCH,
                format!("{BASE}/{name}"),
                "application/merge-patch+json",
            ),
        };
        let body = serde_json::json!({
            "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
            "metadata": {"name": name}, "spec": {"message": message},
        });
        writer.ready().await.unwrap();
        let resp = writer
            .send_request(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("host", addr.to_string())
                    .header("content-type", content_type)
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.into_body().collect().await.unwrap();
    }
    let mut readers = Vec::new();
    for mut body in opened {
        let events = writes.len();
        readers.push(tokio::spawn(async move { lines(&mut body, events).await }));
    }
    let mut seen = Vec::new();
    for r in readers {
        seen.push(
            tokio::time::timeout(Duration::from_secs(30), r)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let over_http1 = seen.pop().unwrap();
    let lines: Vec<serde_json::Value> = over_http1
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let kinds: Vec<_> = lines.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "MODIFIED", "ADDED"]);
    assert_eq!(
        lines[2]["object"]["spec"]["message"]
            .as_str()
            .unwrap()
            .len(),
        9_000
    );
    for (i, over_http2) in seen.iter().enumerate() {
        assert!(
            *over_http2 == over_http1,
            "stream {i} got other bytes than the HTTP/1.1 watch"
        );
    }
    // A LIST larger than a gathered write, over HTTP/2 and HTTP/1.1: the same bytes.
    for i in 0..60 {
        let body = serde_json::json!({
            "metadata": {"name": format!("bulk-{i:02}")}, "spec": {"message": "b".repeat(2_000)},
        });
        writer.ready().await.unwrap();
        let resp = writer
            .send_request(
                Request::post(BASE)
                    .header("host", addr.to_string())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.into_body().collect().await.unwrap();
    }
    let mut sender = sender.clone();
    let resp = sender
        .send_request(
            Request::get(format!("http://{addr}{BASE}"))
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let over_http2 = resp.into_body().collect().await.unwrap().to_bytes();
    writer.ready().await.unwrap();
    let resp = writer
        .send_request(
            Request::get(BASE)
                .header("host", addr.to_string())
                .body(Full::default())
                .unwrap(),
        )
        .await
        .unwrap();
    let over_http1 = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(over_http1.len() > 2 * 64 * 1024, "{}", over_http1.len());
    assert!(over_http2 == over_http1, "the LIST over HTTP/2 differs");
}

/// Request headers up to Go's 1 MiB are read, as kube-apiserver reads them: a long
/// `labelSelector` with large headers on one stream of a shared HTTP/2 connection is answered on that stream, and
/// the connection's watch goes on (hyper's defaults answered 431, and past 64 KiB ended the
/// whole connection with a GOAWAY); over HTTP/1.1, a large header is read too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_headers_are_read_and_never_end_the_connection() {
    let addr = serve().await;
    let (mut sender, conn) = h2_connect(addr).await;
    // A request with 300 KiB of headers besides its path.
    let get = |path: String| {
        Request::get(format!("http://{addr}{path}"))
            .header("x-padding", "p".repeat(300 << 10))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let watch = sender
        .send_request(get(format!("{BASE}?watch=1&resourceVersion=0")))
        .await
        .unwrap();
    assert_eq!(watch.status(), StatusCode::OK);
    let mut watch = watch.into_body();
    // `team in (v0,v1,…)`: a 58 KiB path (the `http` crate's URIs end at 64 KiB).
    let values: Vec<String> = (0..10_000).map(|i| format!("v{i}")).collect();
    let selector = format!("team+in+({})", values.join(","));
    assert!(selector.len() > 55_000, "{}", selector.len());
    for path in [
        format!("{BASE}?labelSelector={selector}"),
        format!("{BASE}?labelSelector=team+in+(v0,v1)"),
    ] {
        let resp = sender.send_request(get(path)).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{status}: {}",
            String::from_utf8_lossy(&body)
        );
        let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            matches!(status["kind"].as_str(), Some("AlertList" | "Status")),
            "{status}"
        );
    }
    assert!(!conn.is_finished(), "the connection was closed");
    // The watch on the same connection still gets events.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut writer, h1) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(h1);
    let resp = writer
        .send_request(
            Request::post(BASE)
                .header("host", addr.to_string())
                .header("content-type", "application/json")
                // Over HTTP/1.1 a header of 512 KiB (hyper's default buffer held ~400 KiB).
                .header("x-padding", "p".repeat(512 << 10))
                .body(Full::new(Bytes::from(
                    r#"{"metadata":{"name":"after"},"spec":{"message":"m"}}"#,
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let buf = first_line(&mut watch).await;
    assert!(String::from_utf8_lossy(&buf).contains("\"after\""));
}

/// A request with hundreds of header fields is read over either protocol: kube-aggregator
/// sends one `X-Remote-Group` header for each of the user's groups (hyper's default of 100
/// header fields answered 431 over HTTP/1.1); past the limit, 431.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_many_header_fields_are_read() {
    let addr = serve().await;
    let get = |groups: usize| {
        let mut req = Request::get(format!("http://{addr}{BASE}")).header("host", addr.to_string());
        for i in 0..groups {
            req = req.header("x-remote-group", format!("team-{i}"));
        }
        req.body(Full::new(Bytes::new())).unwrap()
    };
    let (mut h2, _conn) = h2_connect(addr).await;
    let resp = h2.send_request(get(900)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for (groups, status) in [
        (900, StatusCode::OK),
        (
            apiserver::serve::MAX_HEADER_FIELDS + 1,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
    ] {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        let resp = h1.send_request(get(groups)).await.unwrap();
        assert_eq!(resp.status(), status, "{groups} header fields");
    }
}

/// The header timeout counts as Go's net/http counts `ReadHeaderTimeout`: from a connection's
/// start for its first request, from the first byte of each later one; a keep-alive connection
/// idle between requests is kept for the idle timeout. (It was hyper's timer, which also ran
/// between requests: a pooled connection reused after 30 s failed its request with the
/// connection closing under it, where clients keep pooled connections for 90 s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_headers_are_timed_from_their_first_byte_and_keep_alive_from_the_last_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const HEADERS: Duration = Duration::from_secs(1);
    const IDLE: Duration = Duration::from_secs(6);
    let addr = serve_with(apiserver::serve::ServeOptions {
        idle_timeout: IDLE,
        header_read_timeout: HEADERS,
        ..Default::default()
    })
    .await;
    const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    async fn respond(conn: &mut tokio::net::TcpStream) {
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("a response")
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    }
    /// How long until the server closes `conn` (at most 20 s).
    async fn closed_after(conn: &mut tokio::net::TcpStream) -> Duration {
        let start = tokio::time::Instant::now();
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_secs(20), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => start.elapsed(),
            Ok(Ok(n)) => panic!("unexpected bytes {:?}", &buf[..n]),
            Err(_) => panic!("still open after 20 s"),
        }
    }
    let connect = || async { tokio::net::TcpStream::connect(addr).await.unwrap() };
    let kept = async {
        // Idle for longer than the header timeout between two requests: still served.
        let mut conn = connect().await;
        conn.write_all(GET).await.unwrap();
        respond(&mut conn).await;
        tokio::time::sleep(HEADERS * 3).await;
        conn.write_all(GET).await.unwrap();
        respond(&mut conn).await;
        // Then closed once idle for the idle timeout.
        let closed = closed_after(&mut conn).await;
        assert!(
            closed > IDLE / 2,
            "closed {closed:?} after its last response"
        );
    };
    let dripping = async {
        // A later request's headers started and never finished: closed after the header
        // timeout from its first byte, long before the idle timeout.
        let mut conn = connect().await;
        conn.write_all(GET).await.unwrap();
        respond(&mut conn).await;
        tokio::time::sleep(HEADERS * 2).await;
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let closed = closed_after(&mut conn).await;
        assert!(
            closed >= HEADERS * 3 / 4 && closed < IDLE / 2,
            "closed {closed:?} after the headers began"
        );
    };
    let first = |bytes: &'static [u8]| async move {
        // A new connection that sends nothing, or part of its first request's headers: closed
        // after the header timeout from its start.
        let mut conn = connect().await;
        conn.write_all(bytes).await.unwrap();
        let closed = closed_after(&mut conn).await;
        assert!(
            closed >= HEADERS * 3 / 4 && closed < IDLE / 2,
            "closed {closed:?} after it opened"
        );
    };
    let h2 = async {
        // HTTP/2: the preface is timed like headers; then idleness between streams is the idle
        // timeout's alone.
        let (mut sender, _conn) = h2_connect(addr).await;
        for _ in 0..2 {
            let resp = sender
                .send_request(
                    Request::get(format!("http://{addr}/healthz"))
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body().collect().await.unwrap();
            tokio::time::sleep(HEADERS * 3).await;
        }
    };
    tokio::join!(
        kept,
        dripping,
        h2,
        first(b""),
        first(b"GET /healthz HTTP/1.1\r\n"),
        first(b"PRI * HTTP/2.0\r\n"),
    );
}

/// Headers that begin shortly before a keep-alive connection's idle timeout get the header
/// timeout, as in Go (whose idle deadline ends once the next request's first bytes are in): the
/// idle timer closed the connection under them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_headers_arriving_are_not_cut_by_the_idle_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const IDLE: Duration = Duration::from_secs(3);
    let addr = serve_with(apiserver::serve::ServeOptions {
        idle_timeout: IDLE,
        header_read_timeout: IDLE * 2,
        ..Default::default()
    })
    .await;
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 1024];
    for request in 0..2 {
        // Idle for most of the idle timeout, then headers dripping past it.
        conn.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        tokio::time::sleep(IDLE).await;
        conn.write_all(b"Host: x\r\n\r\n").await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("a response")
            .unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "request {request}: {:?}",
            &buf[..n]
        );
        tokio::time::sleep(IDLE * 2 / 3).await;
    }
}

/// A client with 1 KiB HTTP/2 stream windows: the server writes a large LIST a kilobyte at a time
/// as the client opens the window, each flush through the gathered writer, while the same
/// connection's watch gets an event; both arrive whole and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_http2_windows_get_whole_lists_and_events() {
    let addr = serve().await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // As Go's and hyper's clients set it: small frames are not held back for an ACK.
    tcp.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(1024)
        .initial_connection_window_size(4096)
        .max_frame_size(16_384)
        .handshake::<_, Full<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let post = |name: String, len: usize| {
        let body = serde_json::json!({
            "metadata": {"name": name}, "spec": {"message": "s".repeat(len)},
        });
        Request::post(format!("http://{addr}{BASE}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    for i in 0..40 {
        let resp = sender
            .clone()
            .send_request(post(format!("small-{i:02}"), 3_000))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.into_body().collect().await.unwrap();
    }
    let get = |path: String| {
        Request::get(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let resp = sender
        .clone()
        .send_request(get(format!("{BASE}?watch=1&resourceVersion=0")))
        .await
        .unwrap();
    let mut watch = resp.into_body();
    let list = sender.clone().send_request(get(BASE.to_owned()));
    let write = sender.clone().send_request(post("during".into(), 5_000));
    let (list, write) = tokio::time::timeout(Duration::from_secs(30), async {
        let list = list.await.unwrap().into_body().collect().await.unwrap();
        (list.to_bytes(), write.await.unwrap())
    })
    .await
    .unwrap();
    assert_eq!(write.status(), StatusCode::CREATED);
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(items.len() >= 40, "{}", items.len());
    assert!(
        items
            .iter()
            .all(|i| i["spec"]["message"].as_str().unwrap().len() >= 3_000)
    );
    // The watch's replay of 40 objects, then the one written during the LIST.
    let buf = lines(&mut watch, 41).await;
    let names: Vec<String> = buf
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let e: serde_json::Value = serde_json::from_slice(l).unwrap();
            e["object"]["metadata"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut expected: Vec<String> = (0..40).map(|i| format!("small-{i:02}")).collect();
    expected.push("during".into());
    assert_eq!(names, expected);
}

/// A request that panics (a bug in a resource's strategy) on a connection that also holds a
/// watch: that stream is answered with a 500 `Status`; the watch and the connection go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_request_ends_only_its_own_stream() {
    let app = ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
        .resource(
            Resource::<Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS)
                .strategy(crate::hardening::PanicsOnBoom),
        )
        .build()
        .unwrap()
        .into_router();
    let addr = serve_app(app, apiserver::serve::ServeOptions::default()).await;
    let (mut sender, conn) = h2_connect(addr).await;
    let watch = sender
        .send_request(
            Request::get(format!("http://{addr}{BASE}?watch=1"))
                .body(Full::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(watch.status(), StatusCode::OK);
    let mut watch = watch.into_body();
    let create = |name: &str| {
        let body = serde_json::json!({
            "apiVersion": "pager.k8s.co/v1alpha1", "kind": "Alert",
            "metadata": {"name": name}, "spec": {"message": "m"},
        });
        Request::post(format!("http://{addr}{BASE}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let resp = sender.send_request(create("boom")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let status: serde_json::Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["reason"], "InternalError", "{status}");
    // The same connection takes the next request, and its watch sees it.
    let resp = sender.send_request(create("after")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let line = first_line(&mut watch).await;
    let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(event["type"], "ADDED", "{event}");
    assert_eq!(event["object"]["metadata"]["name"], "after", "{event}");
    assert!(!conn.is_finished(), "the connection is still open");
}
