//! The `pager-controller` binary: configured from flags, the environment and a token file (the
//! token never logged), serving `/healthz` and `/metrics`, sending alerts from an API server
//! given by `$KUBECONFIG`, and exiting 0 on SIGTERM after finishing its work.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{alert, eventually, notifier};
use kube_codegen_client::{ListParams, PostParams};
use pager_client::Clientset;

/// The pager API served by the apiserver library on a loopback port (the resource as
/// `pager-apiserver` registers it).
async fn api_server() -> std::net::SocketAddr {
    let app = apiserver::ApiServer::builder(apiserver_storage::AnyStore::Memory(
        apiserver_storage::MemoryStore::new(),
    ))
    .resource(pager_apiserver::alerts())
    .build()
    .unwrap()
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get(url: &str) -> Option<String> {
    reqwest::get(url).await.ok()?.text().await.ok()
}

/// A `pager-controller` process for the API server at `api` (`host:port`) and the notifier at
/// `notifier` (a URL), its kubeconfig and token file (`very-secret-token`) in `dir`, its
/// `/metrics` on a free port; logs at `rust_log` to a pipe. (Keep `dir` bound: dropped, it
/// takes the kubeconfig and the token with it.)
struct Launched {
    child: std::process::Child,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>` of `/healthz`, `/readyz`, `/metrics`.
    metrics: String,
}

fn launch(api: &str, notifier: &str, args: &[&str], rust_log: &str) -> Launched {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: pager\n  cluster:\n    server: http://{api}\ncontexts:\n- name: pager\n  context:\n    cluster: pager\n    user: me\nusers:\n- name: me\n  user: {{}}\ncurrent-context: pager\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("token"), "very-secret-token\n").unwrap();
    let metrics_port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pager-controller"))
        .args(args)
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .env("KUBECONFIG", &kubeconfig)
        .env("PAGER_NOTIFIER_URL", notifier)
        .env("PAGER_NOTIFIER_TOKEN_FILE", dir.path().join("token"))
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Launched {
        child,
        dir,
        metrics: format!("http://127.0.0.1:{metrics_port}"),
    }
}

/// Waits until `n` alerts are marked sent.
async fn all_sent(alerts: &pager_client::clientset::pager_v1beta1::AlertClient, n: usize) {
    eventually(60, &format!("{n} sent"), async || {
        alerts
            .list(&ListParams::default().fields("status.sent=true"))
            .await
            .map(|l| l.items.len() == n)
            .unwrap_or(false)
    })
    .await;
}

/// Everything `child` logged (once it exited).
fn logs(child: &mut std::process::Child) -> String {
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    logs
}

/// Sends SIGTERM to `child` and waits up to `within` for it to exit.
async fn sigterm(
    child: &mut std::process::Child,
    within: Duration,
) -> Option<std::process::ExitStatus> {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn the_binary_sends_serves_metrics_and_stops_on_sigterm() {
    let api = api_server().await;
    let (notifier_addr, rec) = notifier().await;
    let Launched {
        mut child,
        dir,
        metrics: base,
    } = launch(
        &api.to_string(),
        &format!("http://{notifier_addr}"),
        &["--workers", "2"],
        "debug",
    );
    let token_file = dir.path().join("token");

    let config = kube::Config::new(format!("http://{api}").parse().unwrap());
    let cs = Clientset::new(kube::Client::try_from(config).unwrap());
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..10 {
        alerts
            .create(&PostParams::default(), &alert(&format!("b{i}")))
            .await
            .unwrap();
    }
    all_sent(&alerts, 10).await;
    assert_eq!(rec.accepted_by_guid().len(), 10);
    assert!(
        rec.pushes
            .lock()
            .iter()
            .all(|p| p.token.as_deref() == Some("very-secret-token"))
    );
    // The secret rotated (replaced atomically, as the kubelet does): the next push carries the
    // new token, without a restart.
    let rotated = dir.path().join("token.new");
    std::fs::write(&rotated, "rotated-secret-token\n").unwrap();
    std::fs::rename(&rotated, &token_file).unwrap();
    alerts
        .create(&PostParams::default(), &alert("after-rotation"))
        .await
        .unwrap();
    eventually(30, "pushed after the rotation", async || {
        rec.pushes
            .lock()
            .iter()
            .any(|p| p.body["title"] == "after-rotation")
    })
    .await;
    assert!(
        rec.pushes
            .lock()
            .iter()
            .filter(|p| p.body["title"] == "after-rotation")
            .all(|p| p.token.as_deref() == Some("rotated-secret-token"))
    );
    all_sent(&alerts, 11).await;
    assert_eq!(get(&format!("{base}/healthz")).await.as_deref(), Some("ok"));
    assert_eq!(get(&format!("{base}/readyz")).await.as_deref(), Some("ok"));
    let metrics = get(&format!("{base}/metrics")).await.unwrap();
    assert!(
        metrics.contains("pager_controller_alerts_sent_total 11"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pager_controller_queue_depth"),
        "{metrics}"
    );
    assert!(metrics.contains("pager_controller_ready 1"), "{metrics}");
    assert!(
        metrics.contains("pager_controller_retry_waiting"),
        "{metrics}"
    );

    // SIGTERM: a clean exit.
    let status = sigterm(&mut child, Duration::from_secs(5))
        .await
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status}");
    let logs = logs(&mut child);
    assert!(logs.contains("sent"), "{logs}");
    assert!(
        !logs.contains("very-secret-token") && !logs.contains("rotated-secret-token"),
        "the token was logged:\n{logs}"
    );
}

/// SIGTERM while the caches have not synced yet (the API server unreachable): the controller
/// exits, cleanly and soon, instead of waiting for a sync that never comes.
#[tokio::test]
async fn sigterm_before_the_first_sync_exits() {
    // Nothing listens there.
    let api = format!("127.0.0.1:{}", free_port());
    let Launched {
        mut child,
        dir: _dir,
        ..
    } = launch(&api, "http://127.0.0.1:9", &[], "info");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = sigterm(&mut child, Duration::from_secs(10)).await;
    if status.is_none() {
        let _ = child.kill();
    }
    let status = status.expect("exited after SIGTERM while syncing");
    assert!(status.success(), "{status}");
}

#[test]
fn a_missing_token_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_pager-controller"))
        .env_remove("PAGER_NOTIFIER_TOKEN_FILE")
        .env("PAGER_NOTIFIER_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give the notifier token"), "{stderr}");
}

/// `/readyz` says whether the caches synced: with its API server unreachable the controller
/// serves `/healthz` but is not ready (a Deployment's readiness probe keeps it out).
#[tokio::test]
async fn not_ready_until_the_caches_sync() {
    let (notifier_addr, _rec) = notifier().await;
    let Launched {
        mut child,
        metrics: base,
        dir: _dir,
    } = launch(
        "127.0.0.1:1",
        &format!("http://{notifier_addr}"),
        &[],
        "info",
    );
    eventually(30, "serving", async || {
        get(&format!("{base}/healthz")).await.as_deref() == Some("ok")
    })
    .await;
    let readyz = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(readyz.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let status = sigterm(&mut child, Duration::from_secs(5))
        .await
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status}");
}

/// A notifier down for every alert is one warning per kind of failure and half-minute, with
/// how many alike were left out — not a line per alert and retry.
#[tokio::test]
async fn failed_pushes_are_logged_per_kind_of_failure_not_per_alert() {
    let api = api_server().await;
    let (notifier_addr, rec) = notifier().await;
    for i in 0..20 {
        rec.fail.lock().insert(format!("f{i}"), 3);
    }
    let Launched {
        mut child,
        dir: _dir,
        ..
    } = launch(
        &api.to_string(),
        &format!("http://{notifier_addr}"),
        &["--workers", "4"],
        "info",
    );
    let config = kube::Config::new(format!("http://{api}").parse().unwrap());
    let cs = Clientset::new(kube::Client::try_from(config).unwrap());
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..20 {
        alerts
            .create(&PostParams::default(), &alert(&format!("f{i}")))
            .await
            .unwrap();
    }
    all_sent(&alerts, 20).await;
    assert_eq!(rec.pushes.lock().iter().filter(|p| !p.accepted).count(), 60);
    let status = sigterm(&mut child, Duration::from_secs(5))
        .await
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status}");
    let logs = logs(&mut child);
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("push failed")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains("answered 503"), "{logs}");
}
