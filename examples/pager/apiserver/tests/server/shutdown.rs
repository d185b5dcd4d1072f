//! Graceful shutdown: on SIGTERM `pager-apiserver` stops accepting, ends open watch streams
//! cleanly (the client sees the stream end, not a reset), exits 0 within its grace period, and
//! leaves the embedded store ready for the next start.

use crate::common;

use std::time::Duration;

use common::Server;
use futures::StreamExt;
use kube::api::{Api, PostParams};
use pager::v1alpha1::Alert;

fn api(server: &Server) -> Api<Alert> {
    let config = kube::Config::new(format!("http://{}", server.addr).parse().unwrap());
    Api::namespaced(kube::Client::try_from(config).unwrap(), "default")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_watches_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pager.db");
    let mut server = Server::embedded(&data, &["--shutdown-grace", "5"]);
    let alerts = api(&server);
    let mut a = Alert::default();
    a.metadata.name = Some("kept".into());
    a.spec.message = "still here after the restart".into();
    alerts.create(&PostParams::default(), &a).await.unwrap();
    let mut watch = common::watch_from_now(&alerts).await;

    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate(Duration::from_secs(10));
        (server, status)
    });
    // The open watch ends: the stream finishes instead of hanging until a timeout.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(item) = watch.next().await {
            if item.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the watch did not end on shutdown");
    let (_server, status) = status.await.unwrap();
    let status = status.expect("exited within the grace period");
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The next start opens the store as it was.
    let server = Server::embedded(&data, &[]);
    let got = api(&server).get("kept").await.unwrap();
    assert_eq!(got.spec.message, "still here after the restart");
}
