//! `pager-controller` against a running `pager-apiserver` (embedded store) and a local recording
//! notifier: a hundred alerts pushed once each and marked sent, and the server killed (SIGKILL)
//! and restarted on the same port and data mid-way — no alert lost, none pushed twice.

use crate::common;
#[path = "../../../controller/tests/common/mod.rs"]
mod notifier;

use std::time::Duration;

use kube_codegen_cache::RateLimits;
use kube_codegen_client::{ListParams, PostParams};
use notifier::{alert, eventually};
use pager_client::Clientset;
use pager_controller::{Config, Metrics, Notifier, Token};

fn clientset(addr: &str) -> Clientset {
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    Clientset::new(kube::Client::try_from(config).unwrap())
}

async fn sent(cs: &Clientset) -> Option<usize> {
    cs.pager_v1beta1()
        .alerts("default")
        .list(&ListParams::default().fields("status.sent=true"))
        .await
        .ok()
        .map(|l| l.items.len())
}

#[tokio::test]
async fn no_alert_lost_or_duplicated_across_a_server_restart() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("pager.db");
    let db = db.to_str().unwrap();
    let mut server = common::Server::start(&["--storage", "embedded", "--data", db]);
    let addr = server.addr.clone();
    let cs = clientset(&addr);
    let (notifier_addr, rec) = notifier::notifier().await;
    // A slow notifier, so the restart lands mid-way.
    *rec.delay.lock() = Duration::from_millis(10);
    let notifier = Notifier::new(
        &format!("http://{notifier_addr}"),
        Token::new("t"),
        Duration::from_secs(5),
    )
    .unwrap();
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..100 {
        alerts
            .create(&PostParams::default(), &alert(&format!("a{i:03}")))
            .await
            .unwrap();
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let config = Config {
        id: "restart".into(),
        workers: 2,
        retry: RateLimits {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(500),
            per_second: 0,
            burst: 0,
        },
        ..Config::default()
    };
    let task = tokio::spawn(pager_controller::run(
        cs.clone(),
        notifier,
        config,
        Metrics::default(),
        stopped,
    ));
    // Kill the server once some, not all, alerts are out.
    eventually(30, "some pushes", async || rec.pushes.lock().len() >= 20).await;
    server.kill9();
    let pushed_before = rec.accepted_by_guid().len();
    assert!(pushed_before < 100, "the restart must land mid-way");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _server = common::Server::start_at(&addr, &["--storage", "embedded", "--data", db]);
    eventually(60, "100 sent after the restart", async || {
        sent(&cs).await == Some(100)
    })
    .await;
    let by_guid = rec.accepted_by_guid();
    assert_eq!(by_guid.len(), 100, "no alert lost");
    assert!(
        by_guid.values().all(|n| *n == 1),
        "an alert pushed twice: {by_guid:?}"
    );
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn racing_controllers_a_flaky_notifier_and_a_deleted_alert_on_the_real_server() {
    let server = common::Server::start(&["--storage", "memory"]);
    let cs = clientset(&server.addr);
    let (notifier_addr, rec) = notifier::notifier().await;
    rec.fail.lock().insert("a007".into(), 3);
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("gone"))
        .await
        .unwrap();
    alerts.delete("gone", &Default::default()).await.unwrap();
    for i in 0..40 {
        alerts
            .create(&PostParams::default(), &alert(&format!("a{i:03}")))
            .await
            .unwrap();
    }
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for id in ["left", "right"] {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let notifier = Notifier::new(
            &format!("http://{notifier_addr}"),
            Token::new("t"),
            Duration::from_secs(5),
        )
        .unwrap();
        let config = Config {
            id: id.into(),
            retry: RateLimits {
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(200),
                per_second: 0,
                burst: 0,
            },
            ..Config::default()
        };
        tasks.push(tokio::spawn(pager_controller::run(
            cs.clone(),
            notifier,
            config,
            Metrics::default(),
            stopped,
        )));
        stops.push(stop);
    }
    eventually(60, "40 sent", async || sent(&cs).await == Some(40)).await;
    let by_guid = rec.accepted_by_guid();
    assert_eq!(by_guid.len(), 40);
    assert!(by_guid.values().all(|n| *n == 1), "{by_guid:?}");
    assert_eq!(rec.calls_for("a007"), 4, "3 refused, then accepted once");
    assert_eq!(rec.calls_for("gone"), 0);
    for s in stops {
        s.send_replace(true);
    }
    for t in tasks {
        t.await.unwrap();
    }
}
