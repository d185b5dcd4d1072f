//! Reliability of `pager-apiserver` as a process, through `kube::Api` with the generated types:
//! concurrent read-modify-write with retry on conflict, `kill -9` in the middle of a stream of
//! creates, and a watch that falls behind the history window.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use pager::v1alpha1::{Alert, AlertSpec};

use crate::common;
use crate::etcd_process as etcd;
use common::Server;

/// Where the server keeps its data: an embedded file, or a real etcd.
enum Backing {
    Embedded(tempfile::TempDir),
    Etcd(etcd::Etcd),
}

impl Backing {
    fn embedded() -> Backing {
        Backing::Embedded(tempfile::tempdir().unwrap())
    }

    fn etcd() -> Backing {
        Backing::Etcd(etcd::Etcd::start())
    }

    fn start(&self) -> Server {
        match self {
            Backing::Embedded(dir) => Server::embedded(&dir.path().join("pager.db"), &[]),
            Backing::Etcd(e) => {
                Server::start(&["--storage", "etcd", "--etcd-servers", &e.client_url()])
            }
        }
    }
}

/// A `kube::Api` over plain HTTP to the test server, with the generated kind.
fn alerts_api(server: &Server) -> Api<Alert> {
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    Api::namespaced(client, "default")
}

fn alert(name: &str, message: &str) -> Alert {
    let mut a = Alert {
        spec: AlertSpec {
            message: message.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    a.metadata.name = Some(name.into());
    a
}

fn count(a: &Alert) -> u64 {
    a.metadata
        .annotations
        .as_ref()
        .and_then(|m| m.get("count"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_increments_with_retry_on_conflict_end_at_320() {
    increments(Backing::embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_increments_on_etcd_end_at_320() {
    increments(Backing::etcd()).await;
}

/// 16 writers read-modify-write one object: 20 increments each are plenty for every writer to
/// lose many races (asserted below), and the count must still come out exact.
async fn increments(backing: Backing) {
    let server = backing.start();
    let api = alerts_api(&server);
    api.create(&PostParams::default(), &alert("counter", "count me"))
        .await
        .unwrap();
    let conflicts = Arc::new(Mutex::new(0u64));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let api = api.clone();
        let conflicts = conflicts.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                loop {
                    let mut a = api.get("counter").await.unwrap();
                    let next = count(&a) + 1;
                    a.metadata
                        .annotations
                        .get_or_insert_with(Default::default)
                        .insert("count".into(), next.to_string());
                    match api.replace("counter", &PostParams::default(), &a).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(e)) if e.code == 409 => {
                            *conflicts.lock().unwrap() += 1;
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let a = api.get("counter").await.unwrap();
    assert_eq!(count(&a), 320);
    // Annotations are metadata: the generation counts spec changes only.
    assert_eq!(a.metadata.generation, Some(1));
    assert!(
        *conflicts.lock().unwrap() > 0,
        "16 writers must have collided"
    );
}

/// Writes without a `resourceVersion` never fail because others wrote meanwhile: the server
/// retries its read-modify-write for as long as a request may take, as etcd3's
/// `GuaranteedUpdate` does (kubectl and the official clients do not retry such a 409).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unconditional_patches_on_etcd_all_succeed() {
    unconditional_patches(Backing::etcd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unconditional_patches_all_succeed() {
    unconditional_patches(Backing::embedded()).await;
}

async fn unconditional_patches(backing: Backing) {
    use kube::api::{Patch, PatchParams};
    let server = backing.start();
    let api = alerts_api(&server);
    api.create(&PostParams::default(), &alert("shared", "patch me"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..24 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let patch = serde_json::json!({"metadata": {"labels": {format!("w{writer}-{round}"): "x"}}});
                api.patch("shared", &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer}, round {round}: {e}"));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let a = api.get("shared").await.unwrap();
    assert_eq!(a.metadata.labels.unwrap_or_default().len(), 24 * 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_create() {
    kill_9(Backing::embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_on_etcd_loses_no_acknowledged_create() {
    kill_9(Backing::etcd()).await;
}

async fn kill_9(backing: Backing) {
    let mut server = backing.start();
    let api = alerts_api(&server);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let api = api.clone();
        let acked = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("w{w}-{i}");
                match api
                    .create(&PostParams::default(), &alert(&name, "durable"))
                    .await
                {
                    Ok(_) => acked.lock().unwrap().push(name),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let creates stream, then kill the process in the middle of them.
    // (Writers stop at their first error, so a server that fails early would leave this waiting.)
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than 200 creates answered in 60 s before the kill"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill9();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() >= 200);

    // The store opens cleanly and holds every create that was answered 201.
    let server = backing.start();
    let api = alerts_api(&server);
    let list = api.list(&ListParams::default()).await.unwrap();
    let stored: std::collections::BTreeSet<String> = list
        .items
        .iter()
        .filter_map(|a| a.metadata.name.clone())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(
        lost.is_empty(),
        "lost {} acknowledged creates: {lost:?}",
        lost.len()
    );
    // And it keeps working, with resourceVersions above the ones before the crash.
    let before: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    let created = api
        .create(&PostParams::default(), &alert("after-crash", "ok"))
        .await
        .unwrap();
    let after: u64 = created.metadata.resource_version.unwrap().parse().unwrap();
    assert!(after > before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_behind_the_history_gets_410_and_a_relist_recovers() {
    let server = Server::start(&["--storage", "memory", "--watch-history", "20"]);
    let api = alerts_api(&server);
    // (A resourceVersion of "0" means "any", so start from a real one.)
    let first = api
        .create(&PostParams::default(), &alert("h-first", "m"))
        .await
        .unwrap();
    let rv = first.metadata.resource_version.unwrap();
    for i in 0..49 {
        api.create(&PostParams::default(), &alert(&format!("h{i}"), "m"))
            .await
            .unwrap();
    }
    // Resuming from before the window: one ERROR event with a 410 Expired Status.
    let mut events = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .expect("an event")
        .unwrap()
        .expect("not the end of the stream");
    match first {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    // The relist has every object, and a watch from its resourceVersion sees new ones.
    let relist = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(relist.items.len(), 50);
    let rv = relist.metadata.resource_version.unwrap();
    let mut events = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &alert("late", "m"))
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), events.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev {
        WatchEvent::Added(a) => assert_eq!(a.metadata.name.as_deref(), Some("late")),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

/// Connections that send no complete request are closed after the header timeout (32 s,
/// kube-apiserver's `ReadHeaderTimeout`): one that sends nothing, one dripping a partial header
/// (slowloris); a keep-alive connection idle after a request is kept past it (for the idle
/// timeout, 90 s, as clients keep pooled connections) and serves its next request, and a watch,
/// which only receives, stays open. Without it, idle sockets could exhaust the server's file
/// descriptors.
#[test]
fn slow_connections_are_closed_after_the_header_timeout_and_idle_ones_kept() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let server = Server::start(&["--storage", "memory"]);
    let connect = || {
        let conn = TcpStream::connect(&server.addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        conn
    };
    // The same over HTTPS, timed alongside: a connection silent after its TLS handshake, and one
    // that never starts a handshake (the handshake timeout, 10 s, ends that one).
    let certs = tempfile::tempdir().unwrap();
    let tls_server = Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        certs.path().to_str().unwrap(),
    ]);
    let tls_silent = tls_handshaken(&tls_server.addr, &certs.path().join("ca.crt"));
    let no_handshake = TcpStream::connect(&tls_server.addr).unwrap();
    no_handshake
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let silent = connect();
    let mut partial = connect();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut idle = connect();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    let mut watch = connect();
    watch
        .write_all(b"GET /apis/pager.k8s.co/v1beta1/namespaces/default/alerts?watch=true&timeoutSeconds=120 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let n = watch.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    let started = std::time::Instant::now();
    let conns: [(&str, Box<dyn Read>); 4] = [
        ("silent", Box::new(silent)),
        ("partial", Box::new(partial)),
        ("silent after a TLS handshake", Box::new(tls_silent)),
        ("without a TLS handshake", Box::new(no_handshake)),
    ];
    for (what, mut conn) in conns {
        // The server closes it: end of stream (or a reset), not our read timeout (60 s, set
        // when connecting).
        match conn.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("{what}: unexpected bytes {:?}", &buf[..n]),
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{what}: still open after {:?} ({e})",
                started.elapsed()
            ),
        }
    }
    // The keep-alive connection, idle since its response for well past the header timeout,
    // still serves.
    std::thread::sleep(Duration::from_secs(4));
    assert!(started.elapsed() > Duration::from_secs(34));
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let n = idle.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    // The watch is still open: nothing to read, and no end of stream.
    watch
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    match watch.read(&mut buf) {
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
        Ok(n) => assert!(n > 0, "the watch was closed"),
    }
}

/// A TLS connection to `addr` (trusting the CA in `ca`) whose handshake is complete and which
/// has sent nothing else, read with a 60 s timeout.
fn tls_handshaken(
    addr: &str,
    ca: &std::path::Path,
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    tls_handshake(
        addr,
        ca,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        None,
    )
    .unwrap()
}

/// A TLS handshake with `addr` offering only `versions` and, when given, only the cipher suite
/// `suite` (a rustls name, `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`); the handshake's error
/// when the server refuses it.
fn tls_handshake(
    addr: &str,
    ca: &std::path::Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
    suite: Option<&str>,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>, std::io::Error> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(suite) = suite {
        provider
            .cipher_suites
            .retain(|s| format!("{:?}", s.suite()) == suite);
        assert_eq!(
            provider.cipher_suites.len(),
            1,
            "rustls has no suite {suite}"
        );
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// `--tls-min-version` and `--tls-cipher-suites` (Go's names, as a manifest written for
/// kube-apiserver gives them) limit what a handshake may agree on; bad values stop the server
/// before it serves.
#[test]
fn tls_min_version_and_cipher_suites_limit_the_handshake() {
    use rustls::version::{TLS12, TLS13};
    let certs = tempfile::tempdir().unwrap();
    let ca = certs.path().join("ca.crt");
    let cert_dir = certs.path().to_str().unwrap();
    // The generated certificate has an ECDSA key: of this list, only the ECDSA AES-256 suite
    // can serve TLS 1.2 (the RSA and CBC ones are Go names rustls leaves out).
    let server = Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        cert_dir,
        "--tls-cipher-suites",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA",
    ]);
    let ok = tls_handshake(
        &server.addr,
        &ca,
        &[&TLS12],
        Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    )
    .unwrap();
    assert_eq!(
        ok.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let refused = tls_handshake(
        &server.addr,
        &ca,
        &[&TLS12],
        Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    );
    assert!(
        refused.is_err(),
        "a TLS 1.2 suite left out of the list was agreed"
    );
    // TLS 1.3 is not restricted by the list, as in Go.
    let ok = tls_handshake(
        &server.addr,
        &ca,
        &[&TLS13],
        Some("TLS13_AES_128_GCM_SHA256"),
    )
    .unwrap();
    assert_eq!(
        ok.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    drop(server);

    let server = Server::start_https(&[
        "--storage",
        "memory",
        "--cert-dir",
        cert_dir,
        "--tls-min-version",
        "VersionTLS13",
    ]);
    assert!(tls_handshake(&server.addr, &ca, &[&TLS12], None).is_err());
    assert!(tls_handshake(&server.addr, &ca, &[&TLS13], None).is_ok());
    drop(server);

    for (flag, value, message) in [
        ("--tls-min-version", "TLS1.2", "unknown version \"TLS1.2\""),
        (
            "--tls-cipher-suites",
            "TLS_MADE_UP",
            "unknown cipher suite TLS_MADE_UP",
        ),
        (
            "--tls-cipher-suites",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "none of the TLS 1.2 suites listed can be offered",
        ),
    ] {
        let stderr = common::refused_start(&[
            "--storage",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--cert-dir",
            cert_dir,
            flag,
            value,
        ]);
        assert!(stderr.contains(message), "{flag}={value}: {stderr}");
    }
}

/// The server turns transparent huge pages off for itself: a heap of many small objects would
/// hold partly used 2 MiB pages (kube-codegen's CLI, a short run, keeps them on).
#[test]
fn the_server_runs_without_transparent_huge_pages() {
    let server = Server::start(&["--storage", "memory"]);
    assert_eq!(server.status_field("THP_enabled"), 0);
}

/// Watches from now that never read do not hold the store decoded and encoded for each of them:
/// the initial ADDEDs are made as the connection takes them (8 such watches of a 10 MB store
/// took some 80 MB each before). A bound on memory, not a timing: the watches' growth stays
/// under the stored bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_that_never_read_do_not_hold_the_store_each() {
    use std::io::Write;
    let server = Server::start(&["--storage", "memory", "--max-watches", "0"]);
    let api = alerts_api(&server);
    let big = "x".repeat(50_000);
    for i in 0..200 {
        let mut a = alert(&format!("big-{i}"), "hi");
        a.metadata.annotations = Some([("big".to_string(), big.clone())].into());
        api.create(&PostParams::default(), &a).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.rss_kb();
    let mut sockets = Vec::new();
    for _ in 0..8 {
        let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
        write!(
            s,
            "GET /apis/pager.k8s.co/v1alpha1/namespaces/default/alerts?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        sockets.push(s);
    }
    let mut peak = before;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(server.rss_kb());
    }
    let stored_kb = 200 * 50;
    assert!(
        peak - before < stored_kb,
        "8 non-reading watches grew the server from {before} to {peak} KiB (the store holds {stored_kb} KiB)"
    );
    drop(sockets);
}
