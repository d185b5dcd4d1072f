//! `pager-apiserver` on real etcd: two replicas over one etcd, etcd killed and restarted under
//! open watches, and the leader of a 3-member cluster killed during a stream of writes.

use crate::common;
use crate::etcd_process as etcd;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Server;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams, PostParams, WatchEvent};
use pager::v1alpha1::{Alert, AlertSpec};

fn api(server: &Server) -> Api<Alert> {
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    Api::namespaced(kube::Client::try_from(config).unwrap(), "default")
}

fn alert(name: &str) -> Alert {
    let mut a = Alert {
        spec: AlertSpec {
            message: format!("{name}!"),
            ..Default::default()
        },
        ..Default::default()
    };
    a.metadata.name = Some(name.into());
    a
}

/// One HTTP/1.1 GET, the whole answer as text.
async fn raw_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).await.unwrap();
    out
}

/// The status line and headers of a GET (a watch: its body never ends).
async fn raw_head(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while !out.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How many Alerts the first list that succeeds within 10 s returns; `None` if none does.
async fn serves_again(alerts: &Api<Alert>) -> Option<usize> {
    for _ in 0..100 {
        if let Ok(list) = alerts.list(&ListParams::default()).await {
            return Some(list.items.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn on(endpoints: &str) -> Server {
    Server::start(&[
        "--storage",
        "etcd",
        "--etcd-servers",
        endpoints,
        "--etcd-request-timeout",
        "3",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_over_one_etcd() {
    let etcd = etcd::Etcd::start();
    let a = on(&etcd.client_url());
    let mut b = on(&etcd.client_url());
    let (via_a, via_b) = (api(&a), api(&b));

    // A write through one replica reaches a watch on the other.
    let mut watch = common::watch_from_now(&via_b).await;
    via_a
        .create(&PostParams::default(), &alert("shared"))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), watch.try_next()).await {
        Ok(Ok(Some(WatchEvent::Added(x)))) => {
            assert_eq!(x.metadata.name.as_deref(), Some("shared"))
        }
        other => panic!("{other:?}"),
    }

    // Conflicting writes through both end at the exact count.
    via_a
        .create(&PostParams::default(), &alert("counter"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let api = if i % 2 == 0 {
            via_a.clone()
        } else {
            via_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                loop {
                    let mut c = api.get("counter").await.unwrap();
                    let n: u64 = c
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|m| m.get("n"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    c.metadata
                        .annotations
                        .get_or_insert_with(Default::default)
                        .insert("n".into(), (n + 1).to_string());
                    match api.replace("counter", &PostParams::default(), &c).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(e)) if e.code == 409 => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let c = via_b.get("counter").await.unwrap();
    assert_eq!(c.metadata.annotations.unwrap()["n"], "200");

    // One replica down: the other serves.
    b.kill9();
    via_a
        .create(&PostParams::default(), &alert("after"))
        .await
        .unwrap();
    assert_eq!(
        via_a
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_killed_and_restarted_under_open_watches() {
    let mut etcd = etcd::Etcd::start();
    let server = on(&etcd.client_url());
    let alerts = api(&server);
    alerts
        .create(&PostParams::default(), &alert("before"))
        .await
        .unwrap();
    let mut watch = common::watch_from_now(&alerts).await;

    etcd.kill();
    // Requests fail fast with a reason (503/504), never hang and never a bare 500. (Raw HTTP:
    // kube's client would retry a 503 with backoff.)
    let started = std::time::Instant::now();
    let status = raw_get(
        &server.addr,
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts/before",
    )
    .await;
    assert!(
        status.starts_with("HTTP/1.1 503") || status.starts_with("HTTP/1.1 504"),
        "{status}"
    );
    assert!(
        status.contains("\"reason\":\"ServiceUnavailable\"")
            || status.contains("\"reason\":\"Timeout\""),
        "{status}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The open watch ends with an error event (clients relist): it does not go on silently.
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match watch.next().await {
                None | Some(Err(_)) | Some(Ok(WatchEvent::Error(_))) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(ended, "the watch must end when etcd goes away");
    // The probes say so (Go's `etcd` check), so the replica leaves its Service.
    for probe in ["/readyz", "/livez", "/healthz"] {
        let answer = raw_get(&server.addr, probe).await;
        assert!(answer.starts_with("HTTP/1.1 500"), "{probe}: {answer}");
        assert!(
            answer.contains("[+]ping ok") && answer.contains("[-]etcd failed: reason withheld"),
            "{probe}: {answer}"
        );
    }
    let answer = raw_get(&server.addr, "/readyz/etcd").await;
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");

    etcd.restart();
    // Serving again once etcd is back, with nothing lost.
    assert_eq!(
        serves_again(&alerts).await,
        Some(1),
        "the server did not serve again after etcd came back"
    );
    for probe in ["/readyz", "/readyz/etcd", "/livez?verbose"] {
        let answer = raw_get(&server.addr, probe).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{probe}: {answer}");
    }
    // A new watch from the list sees new writes.
    let mut watch = common::watch_from_now(&alerts).await;
    alerts
        .create(&PostParams::default(), &alert("after"))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), watch.try_next()).await {
        Ok(Ok(Some(WatchEvent::Added(x)))) => assert_eq!(x.metadata.name.as_deref(), Some("after")),
        other => panic!("{other:?}"),
    }
}

/// A stalled etcd (SIGSTOP: connections open, nothing answered): each request is a 504 once
/// the etcd request timeout (3 s here) passes — once, not a consistent list's two etcd calls
/// each waiting it out — and the server serves again when etcd resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_etcd_is_a_timeout_once() {
    let etcd = etcd::Etcd::start();
    let server = on(&etcd.client_url());
    let alerts = api(&server);
    alerts
        .create(&PostParams::default(), &alert("before"))
        .await
        .unwrap();
    let listed = alerts.list(&ListParams::default()).await.unwrap();
    let rv = listed.metadata.resource_version.unwrap();
    // The watch cache has applied the create (a `resourceVersion=0` list is its answer): only
    // then is the revision one it holds.
    for _ in 0..100 {
        let cached = alerts
            .list(&ListParams::default().match_any())
            .await
            .unwrap();
        if cached.metadata.resource_version.as_deref() == Some(rv.as_str()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    etcd.freeze();
    // A re-watch from a revision the watch cache holds is served from it, as kube-apiserver's
    // cacher serves it: informers keep watching while etcd stalls.
    let watch = format!(
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts?watch=true&resourceVersion={rv}"
    );
    let head = tokio::time::timeout(Duration::from_secs(2), raw_head(&server.addr, &watch)).await;
    assert!(
        matches!(&head, Ok(h) if h.starts_with("HTTP/1.1 200")),
        "{head:?}"
    );
    for path in [
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts",
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts?limit=5",
        "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts/before",
    ] {
        let started = std::time::Instant::now();
        let answer = raw_get(&server.addr, path).await;
        let took = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 504"), "{path}: {answer}");
        assert!(
            answer.contains("\"reason\":\"Timeout\""),
            "{path}: {answer}"
        );
        // One timeout (3 s), not two: a bound with room for a loaded machine.
        assert!(took < Duration::from_millis(5500), "{path}: {took:?}");
    }
    // A stalled etcd fails the probe within its own 2 s timeout.
    let started = std::time::Instant::now();
    let answer = raw_get(&server.addr, "/readyz").await;
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(4500),
        "{:?}",
        started.elapsed()
    );
    etcd.thaw();
    assert_eq!(
        serves_again(&alerts).await,
        Some(1),
        "the server did not serve again after etcd resumed"
    );
    assert!(
        raw_get(&server.addr, "/readyz")
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_of_three_killed_during_writes_loses_no_acknowledged_write() {
    let mut members = etcd::Etcd::cluster(3);
    let endpoints: Vec<String> = members.iter().map(|m| m.client_url()).collect();
    let server = on(&endpoints.join(","));
    let alerts = api(&server);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (alerts, acked, stop) = (alerts.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut failures = 0;
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return failures;
                }
                let name = format!("w{w}-{i}");
                match alerts.create(&PostParams::default(), &alert(&name)).await {
                    Ok(_) => acked.lock().unwrap().push(name),
                    Err(_) => failures += 1,
                }
            }
            failures
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than 50 creates answered in 60 s before any fault{}",
            members[0].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Find the leader and kill it.
    let mut leader = None;
    for (i, url) in endpoints.iter().enumerate() {
        let mut c = etcd_client::Client::connect([url.as_str()], None)
            .await
            .unwrap();
        let status = c.status().await.unwrap();
        if status.header().map(|h| h.member_id()) == Some(status.leader()) {
            leader = Some(i);
        }
    }
    let leader = leader.expect("a leader");
    members[leader].kill();
    let at_kill = acked.lock().unwrap().len();
    // Writes go on after the election.
    let mut resumed = false;
    for _ in 0..200 {
        if acked.lock().unwrap().len() > at_kill + 50 {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(resumed, "the server did not serve through the election");
    let stored: BTreeSet<String> = alerts
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|a| a.metadata.name)
        .collect();
    let acked = acked.lock().unwrap().clone();
    let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(lost.is_empty(), "lost acknowledged writes: {lost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reaches_etcd_over_tls_with_a_client_certificate() {
    let pki = etcd::Pki::new();
    let etcd = etcd::Etcd::start_tls(&pki);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (ca, cert, key) = (
        write("ca.pem", &pki.ca),
        write("client.pem", &pki.client_cert),
        write("client-key.pem", &pki.client_key),
    );
    let server = Server::start(&[
        "--storage",
        "etcd",
        "--etcd-servers",
        &etcd.client_url(),
        "--etcd-cafile",
        &ca,
        "--etcd-certfile",
        &cert,
        "--etcd-keyfile",
        &key,
    ]);
    let alerts = api(&server);
    alerts
        .create(&PostParams::default(), &alert("secure"))
        .await
        .unwrap();
    assert_eq!(
        alerts
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// A number from etcd's own `/metrics` (the sum over a metric's lines matching `filter`).
async fn etcd_metric(etcd: &etcd::Etcd, name: &str, filter: &str) -> u64 {
    let url = etcd.client_url();
    let addr = url.trim_start_matches("http://");
    let text = raw_get(addr, "/metrics").await;
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn etcd_watchers(etcd: &etcd::Etcd) -> u64 {
    etcd_metric(etcd, "etcd_debugging_mvcc_watcher_total", "").await
}

async fn etcd_ranges(etcd: &etcd::Etcd) -> u64 {
    etcd_metric(etcd, "grpc_server_handled_total", "grpc_method=\"Range\"").await
}

/// Opens `n` watches from the list's resourceVersion, writes once, and checks each saw it.
async fn many_watchers_see_a_write(
    alerts: &Api<Alert>,
    n: usize,
    name: &str,
) -> Vec<futures::stream::BoxStream<'static, kube::Result<WatchEvent<Alert>>>> {
    let mut watches = Vec::new();
    for _ in 0..n {
        watches.push(common::watch_from_now(alerts).await);
    }
    alerts
        .create(&PostParams::default(), &alert(name))
        .await
        .unwrap();
    for w in &mut watches {
        match tokio::time::timeout(Duration::from_secs(10), w.try_next()).await {
            Ok(Ok(Some(WatchEvent::Added(x)))) => {
                assert_eq!(x.metadata.name.as_deref(), Some(name))
            }
            other => panic!("{other:?}"),
        }
    }
    watches
}

/// The watch cache (on by default on etcd): any number of watches is one etcd watch per
/// resource, and `resourceVersion="0"` lists do not read etcd; `--watch-cache=false` is one etcd
/// watch per client watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_cache_serves_watches_and_recent_lists_without_etcd() {
    let etcd = etcd::Etcd::start();
    let server = on(&etcd.client_url());
    let alerts = api(&server);
    alerts
        .create(&PostParams::default(), &alert("first"))
        .await
        .unwrap();
    // The cache follows etcd from start-up: one watch per resource.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while etcd_watchers(&etcd).await == 0 {
        assert!(std::time::Instant::now() < deadline, "no cache watch");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cached = etcd_watchers(&etcd).await;
    let watches = many_watchers_see_a_write(&alerts, 20, "cached").await;
    assert_eq!(
        etcd_watchers(&etcd).await,
        cached,
        "client watches reached etcd"
    );

    // resourceVersion="0" lists come from the cache (once it has the write: at most a moment).
    let any = ListParams::default().match_any();
    let mut listed = 0;
    for _ in 0..50 {
        listed = alerts.list(&any).await.unwrap().items.len();
        if listed == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listed, 2);
    let ranges = etcd_ranges(&etcd).await;
    for _ in 0..5 {
        assert_eq!(alerts.list(&any).await.unwrap().items.len(), 2);
    }
    assert_eq!(
        etcd_ranges(&etcd).await,
        ranges,
        "resourceVersion=0 lists read etcd"
    );
    // A consistent list (no resourceVersion) asks etcd (for its current revision at least:
    // the cache answers when it has applied that revision), and sees the latest write at once.
    alerts
        .create(&PostParams::default(), &alert("latest"))
        .await
        .unwrap();
    assert_eq!(
        alerts
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    assert!(etcd_ranges(&etcd).await > ranges);
    drop(watches);

    // Without the cache, each client watch is an etcd watch.
    let uncached = Server::start(&[
        "--storage",
        "etcd",
        "--etcd-servers",
        &etcd.client_url(),
        "--watch-cache=false",
    ]);
    let before = etcd_watchers(&etcd).await;
    let _watches = many_watchers_see_a_write(&api(&uncached), 5, "uncached").await;
    assert!(etcd_watchers(&etcd).await >= before + 5);
}
