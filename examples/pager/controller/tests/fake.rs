//! The controller against the fake clientset (the real API server in-process) and a local
//! recording notifier: every alert pushed exactly once and marked sent; failures retried;
//! deleted alerts not sent; two controllers racing never both send one alert.

mod common;

use std::time::Duration;

use common::{alert, eventually, notifier};
use kube_codegen_cache::RateLimits;
use kube_codegen_client::{DeleteParams, ListParams, PostParams};
use pager_client::Clientset;
use pager_controller::{Config, Metrics, Notifier, Token};

async fn fake() -> Clientset {
    fake_with_reactors().await.1
}

/// The fake (for its reactors) and a clientset over it.
async fn fake_with_reactors() -> (kube_codegen_client::fake::Fake, Clientset) {
    let fake = pager_client::clientset::fake::builder()
        .resource(pager_apiserver::alerts())
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    (fake, cs)
}

fn config(id: &str) -> Config {
    Config {
        id: id.into(),
        workers: 4,
        retry: RateLimits {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            per_second: 0,
            burst: 0,
        },
        ..Config::default()
    }
}

fn start(
    cs: &Clientset,
    addr: std::net::SocketAddr,
    config: Config,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
    Metrics,
) {
    let notifier = Notifier::new(
        &format!("http://{addr}"),
        Token::new("s3cret"),
        Duration::from_secs(5),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics = Metrics::default();
    let task = tokio::spawn(pager_controller::run(
        cs.clone(),
        notifier,
        config,
        metrics.clone(),
        stopped,
    ));
    (stop, task, metrics)
}

async fn sent(cs: &Clientset) -> usize {
    cs.pager_v1beta1()
        .alerts("default")
        .list(&ListParams::default().fields("status.sent=true"))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_hundred_alerts_are_pushed_once_each_and_marked_sent() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    let (stop, task, metrics) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..100 {
        alerts
            .create(&PostParams::default(), &alert(&format!("a{i:03}")))
            .await
            .unwrap();
    }
    eventually(30, "100 sent", async || sent(&cs).await == 100).await;
    let by_guid = rec.accepted_by_guid();
    assert_eq!(by_guid.len(), 100);
    assert!(by_guid.values().all(|n| *n == 1), "{by_guid:?}");
    assert_eq!(rec.pushes.lock().len(), 100);
    let first = rec.pushes.lock()[0].clone();
    assert_eq!(first.token.as_deref(), Some("s3cret"));
    assert_eq!(first.body["type"], "note");
    assert!(
        metrics
            .encode()
            .contains("pager_controller_alerts_sent_total 100"),
        "{}",
        metrics.encode()
    );
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_failing_notifier_is_retried_and_the_alert_pushed_once() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("flaky".into(), 3);
    let (stop, task, metrics) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("flaky"))
        .await
        .unwrap();
    alerts
        .create(&PostParams::default(), &alert("steady"))
        .await
        .unwrap();
    eventually(30, "both sent", async || sent(&cs).await == 2).await;
    assert_eq!(rec.calls_for("flaky"), 4, "3 refused, then 1 accepted");
    // Each retry waits its exponential backoff (10, 20, 40 ms): the claim the controller
    // writes before each push is no reason to push again at once.
    let at: Vec<_> = rec
        .pushes
        .lock()
        .iter()
        .filter(|p| p.body["title"] == "flaky")
        .map(|p| p.at)
        .collect();
    for (i, pair) in at.windows(2).enumerate() {
        let backoff = Duration::from_millis(10 << i);
        assert!(
            pair[1] - pair[0] >= backoff,
            "retry {} came after {:?}, before its backoff of {backoff:?}",
            i + 1,
            pair[1] - pair[0]
        );
    }
    assert!(rec.accepted_by_guid().values().all(|n| *n == 1));
    assert!(
        metrics
            .encode()
            .contains("pager_controller_push_failures_total 3")
    );
    assert!(metrics.encode().contains("pager_controller_ready 1"));
    stop.send_replace(true);
    task.await.unwrap();
    assert!(metrics.encode().contains("pager_controller_ready 0"));
}

#[tokio::test]
async fn a_notifier_asking_to_retry_later_is_asked_again_then() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("throttled".into(), 1);
    *rec.retry_after.lock() = Some("2".into());
    // The usual backoff would retry after 50 ms.
    let (stop, task, _metrics) = start(&cs, addr, config("one"));
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("throttled"))
        .await
        .unwrap();
    eventually(30, "sent", async || sent(&cs).await == 1).await;
    let pushes = rec.pushes.lock().clone();
    assert_eq!(pushes.len(), 2, "one refused with 429, then one accepted");
    let waited = pushes[1].at - pushes[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "asked again after {waited:?}, before the 2 s the notifier asked for"
    );
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn an_alert_deleted_before_it_was_sent_is_not_sent() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("gone"))
        .await
        .unwrap();
    alerts
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap();
    alerts
        .create(&PostParams::default(), &alert("kept"))
        .await
        .unwrap();
    let (stop, task, _) = start(&cs, addr, config("one"));
    eventually(30, "kept sent", async || sent(&cs).await == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rec.calls_for("gone"), 0);
    assert_eq!(rec.calls_for("kept"), 1);
    stop.send_replace(true);
    task.await.unwrap();
}

/// Two controllers under `ids` started on the same `n` unsent alerts, the notifier answering
/// each push after `delay`: every alert pushed exactly once.
async fn race(ids: [&str; 2], n: usize, delay: Duration) {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    *rec.delay.lock() = delay;
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..n {
        alerts
            .create(&PostParams::default(), &alert(&format!("r{i:02}")))
            .await
            .unwrap();
    }
    let (stop_a, task_a, _) = start(&cs, addr, config(ids[0]));
    let (stop_b, task_b, _) = start(&cs, addr, config(ids[1]));
    eventually(30, "all sent", async || sent(&cs).await == n).await;
    let by_guid = rec.accepted_by_guid();
    assert_eq!(by_guid.len(), n);
    assert!(
        by_guid.values().all(|n| *n == 1),
        "an alert pushed twice: {by_guid:?}"
    );
    stop_a.send_replace(true);
    stop_b.send_replace(true);
    task_a.await.unwrap();
    task_b.await.unwrap();
}

#[tokio::test]
async fn two_controllers_racing_never_both_send_an_alert() {
    race(["controller-a", "controller-b"], 50, Duration::ZERO).await;
}

/// Two controllers given the same id (none given, on one host: both default to the host name)
/// are still two claimants: each run's claims carry a nonce of their own. Slow pushes: each
/// sees the other's claims while their pushes run.
#[tokio::test]
async fn two_controllers_with_the_same_id_never_both_send_an_alert() {
    race(["same-host", "same-host"], 20, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn the_controller_owns_status_sent_and_other_writers_do_not_disturb_it() {
    use kube_codegen_client::{Patch, PatchParams};
    use pager_client::applyconfigurations::pager_v1beta1::AlertApplyConfiguration;

    let cs = fake().await;
    let (addr, rec) = notifier().await;
    let (stop, task, _) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("owned"))
        .await
        .unwrap();
    eventually(30, "sent", async || sent(&cs).await == 1).await;
    let owner = |a: &pager::v1beta1::Alert, manager: &str| {
        a.metadata
            .managed_fields
            .iter()
            .flatten()
            .find(|e| {
                e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some("Apply")
            })
            .map(|e| {
                (
                    e.subresource.clone(),
                    e.fields_v1.as_ref().unwrap().0.clone(),
                )
            })
    };
    let marked = alerts.get("owned").await.unwrap();
    assert_eq!(
        owner(&marked, pager_controller::FIELD_MANAGER),
        Some((
            Some("status".into()),
            serde_json::json!({"f:status": {"f:sent": {}}})
        ))
    );
    // A second manager's label writes: an apply and a merge patch.
    alerts
        .apply(
            &AlertApplyConfiguration::new("owned", "default").labels([("team", "ops")]),
            &PatchParams::apply("labeler"),
        )
        .await
        .unwrap();
    alerts
        .patch(
            "owned",
            &PatchParams {
                field_manager: Some("editor".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"tier": "1"}}})),
        )
        .await
        .unwrap();
    let after = alerts.get("owned").await.unwrap();
    assert!(after.status.as_ref().unwrap().sent);
    assert_eq!(
        owner(&after, pager_controller::FIELD_MANAGER),
        owner(&marked, pager_controller::FIELD_MANAGER)
    );
    assert_eq!(after.metadata.labels.as_ref().unwrap().len(), 2);
    // And the alert was pushed once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rec.pushes.lock().len(), 1);
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_retry_after_of_zero_still_backs_off() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("eager".into(), 4);
    // A notifier saying "come back now" on every refusal: the backoff still applies.
    *rec.retry_after.lock() = Some("0".into());
    let (stop, task, _) = start(&cs, addr, config("one"));
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("eager"))
        .await
        .unwrap();
    eventually(30, "sent", async || sent(&cs).await == 1).await;
    assert_eq!(rec.calls_for("eager"), 5, "4 refused, then 1 accepted");
    let at: Vec<_> = rec.pushes.lock().iter().map(|p| p.at).collect();
    for (i, pair) in at.windows(2).enumerate() {
        let backoff = Duration::from_millis(10 << i);
        assert!(
            pair[1] - pair[0] >= backoff,
            "retry {} came after {:?}, before its backoff of {backoff:?}",
            i + 1,
            pair[1] - pair[0]
        );
    }
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn an_update_of_the_alert_does_not_cut_a_retry_after_short() {
    use kube_codegen_client::{Patch, PatchParams};
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("throttled".into(), 1);
    *rec.retry_after.lock() = Some("2".into());
    let (stop, task, _) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("throttled"))
        .await
        .unwrap();
    eventually(30, "the first push", async || {
        rec.calls_for("throttled") == 1
    })
    .await;
    // Someone labels the alert while the controller waits for the notifier.
    tokio::time::sleep(Duration::from_millis(200)).await;
    alerts
        .patch(
            "throttled",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    eventually(30, "sent", async || sent(&cs).await == 1).await;
    let pushes = rec.pushes.lock().clone();
    assert_eq!(pushes.len(), 2);
    let waited = pushes[1].at - pushes[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "asked again after {waited:?}, before the 2 s the notifier asked for"
    );
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn an_alert_recreated_while_its_push_is_in_flight_is_pushed_too() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    *rec.delay.lock() = Duration::from_millis(1500);
    let (stop, task, _) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("x"))
        .await
        .unwrap();
    // Claimed: the push is on its way (the notifier answers after 1.5 s).
    eventually(30, "the claim", async || {
        alerts
            .get("x")
            .await
            .unwrap()
            .metadata
            .annotations
            .is_some_and(|a| a.contains_key("pager.k8s.co/sending"))
    })
    .await;
    alerts.delete("x", &DeleteParams::default()).await.unwrap();
    let mut again = alert("x");
    again.spec.content = "a new alert of the same name".into();
    let again = alerts.create(&PostParams::default(), &again).await.unwrap();
    let new_uid = again.metadata.uid.clone().unwrap();
    eventually(30, "the new alert sent", async || sent(&cs).await == 1).await;
    // Marked sent only once pushed itself.
    let by_guid = rec.accepted_by_guid();
    assert_eq!(by_guid.get(&new_uid), Some(&1), "{by_guid:?}");
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn a_claim_from_a_clock_running_ahead_expires_after_its_ttl_here() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    let mut claimed = alert("skewed");
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    claimed.metadata.annotations = Some(
        [(
            "pager.k8s.co/sending".to_string(),
            format!("other {in_an_hour}"),
        )]
        .into(),
    );
    alerts
        .create(&PostParams::default(), &claimed)
        .await
        .unwrap();
    let config = Config {
        claim_ttl: Duration::from_secs(1),
        ..config("one")
    };
    let (stop, task, _) = start(&cs, addr, config);
    // Held for the claim's ttl as this controller counts it, not for an hour more.
    eventually(15, "sent", async || sent(&cs).await == 1).await;
    assert_eq!(rec.calls_for("skewed"), 1);
    stop.send_replace(true);
    task.await.unwrap();
}

#[tokio::test]
async fn an_update_during_a_failing_push_does_not_cut_its_retry_after_short() {
    use kube_codegen_client::{Patch, PatchParams};
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("slow".into(), 1);
    *rec.retry_after.lock() = Some("2".into());
    *rec.delay.lock() = Duration::from_millis(800);
    let (stop, task, _) = start(&cs, addr, config("one"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("slow"))
        .await
        .unwrap();
    // Claimed: the push is in flight; someone labels the alert meanwhile.
    eventually(30, "the claim", async || {
        alerts
            .get("slow")
            .await
            .unwrap()
            .metadata
            .annotations
            .is_some_and(|a| a.contains_key("pager.k8s.co/sending"))
    })
    .await;
    alerts
        .patch(
            "slow",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    eventually(30, "sent", async || sent(&cs).await == 1).await;
    let pushes = rec.pushes.lock().clone();
    assert_eq!(pushes.len(), 2);
    let waited = pushes[1].at - pushes[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "asked again after {waited:?}, before the 2 s the notifier asked for"
    );
    stop.send_replace(true);
    task.await.unwrap();
}

/// A status write that takes effect while the controller sees it fail (its answer lost): the
/// alert was pushed once and is sent, and it is counted once — the retry finds it marked sent
/// (it was not counted at all).
#[tokio::test]
async fn a_status_write_whose_answer_is_lost_is_counted_once() {
    let (fake, cs) = fake_with_reactors().await;
    fake.reactors().lose_answer(
        "patch",
        "alerts/status",
        1,
        500,
        "InternalError",
        "answer lost",
    );
    let (addr, rec) = notifier().await;
    // A retry slower than the watch: the alert is seen marked sent before it is tried again.
    let mut config = config("one");
    config.retry.base_delay = Duration::from_millis(500);
    let (stop, task, metrics) = start(&cs, addr, config);
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("lost"))
        .await
        .unwrap();
    eventually(30, "counted", async || {
        metrics
            .encode()
            .contains("pager_controller_status_write_failures_total 1")
            && sent(&cs).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rec.calls_for("lost"), 1);
    let encoded = metrics.encode();
    assert!(
        encoded.contains("pager_controller_alerts_sent_total 1"),
        "{encoded}"
    );
    stop.send_replace(true);
    task.await.unwrap();
}

/// A graceful shutdown releases this controller's claims of alerts it could not send yet, so a
/// replacement under another id (a rollout's new pod) takes them at once, not after the TTL.
#[tokio::test]
async fn a_graceful_shutdown_releases_its_claims() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("pending".into(), u32::MAX);
    let (stop, task, _metrics) = start(&cs, addr, config("leaving"));
    let alerts = cs.pager_v1beta1().alerts("default");
    alerts
        .create(&PostParams::default(), &alert("pending"))
        .await
        .unwrap();
    let claimed = async || {
        alerts
            .get("pending")
            .await
            .ok()
            .and_then(|a| a.metadata.annotations)
            .and_then(|a| a.get(pager_controller::CLAIM).cloned())
    };
    eventually(30, "claimed", async || {
        claimed().await.is_some_and(|c| c.starts_with("leaving#"))
    })
    .await;
    stop.send_replace(true);
    task.await.unwrap();
    assert_eq!(claimed().await, None, "released at shutdown");
    // Another controller sends it at once.
    rec.fail.lock().clear();
    let (stop, task, _metrics) = start(&cs, addr, config("arriving"));
    eventually(10, "sent by the next controller", async || {
        sent(&cs).await == 1
    })
    .await;
    stop.send_replace(true);
    task.await.unwrap();
}

/// A status write refused as invalid for another reason than a replaced alert (a validation
/// rule, an admission webhook) is retried, and the alert is not pushed again: only a server
/// holding another uid under the name (or none) means the alert was replaced.
#[tokio::test]
async fn a_status_write_refused_as_invalid_is_retried_without_a_second_push() {
    let (fake, cs) = fake_with_reactors().await;
    fake.reactors().fail(
        "patch",
        "alerts/status",
        2,
        422,
        "Invalid",
        "Alert.pager.k8s.co \"refused\" is invalid: status.sent: Forbidden: by a webhook",
    );
    let (addr, rec) = notifier().await;
    let (stop, task, metrics) = start(&cs, addr, config("one"));
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("refused"))
        .await
        .unwrap();
    eventually(30, "marked sent", async || sent(&cs).await == 1).await;
    assert_eq!(rec.calls_for("refused"), 1);
    assert!(
        metrics
            .encode()
            .contains("pager_controller_status_write_failures_total 2")
    );
    stop.send_replace(true);
    task.await.unwrap();
}

/// An alert being deleted (a finalizer holds it) is as good as gone: not pushed.
#[tokio::test]
async fn an_alert_being_deleted_is_not_sent() {
    let cs = fake().await;
    let (addr, rec) = notifier().await;
    let alerts = cs.pager_v1beta1().alerts("default");
    let mut held = alert("held");
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    alerts.create(&PostParams::default(), &held).await.unwrap();
    alerts
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();
    let deleting = alerts.get("held").await.unwrap();
    assert!(deleting.metadata.deletion_timestamp.is_some());
    alerts
        .create(&PostParams::default(), &alert("kept"))
        .await
        .unwrap();
    let (stop, task, _) = start(&cs, addr, config("one"));
    eventually(30, "kept sent", async || rec.calls_for("kept") == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rec.calls_for("held"), 0);
    stop.send_replace(true);
    task.await.unwrap();
}

/// A status write failing after a push that failed many times first backs off from the start,
/// and within a quarter of the claim's TTL at most: each retry renews the claim, so no other
/// controller takes the pushed alert over and pushes it again. (Before, it inherited the
/// push's backoff: 2.56 s here, past the 1 s TTL.)
#[tokio::test]
async fn a_failing_status_write_after_a_push_is_retried_within_the_claim_ttl() {
    let (fake, cs) = fake_with_reactors().await;
    fake.reactors().fail(
        "patch",
        "alerts/status",
        1,
        500,
        "InternalError",
        "try again",
    );
    let (addr, rec) = notifier().await;
    rec.fail.lock().insert("late".into(), 8);
    let mut config = config("one");
    config.claim_ttl = Duration::from_secs(1);
    config.retry.max_delay = Duration::from_secs(10);
    let (stop, task, _) = start(&cs, addr, config);
    cs.pager_v1beta1()
        .alerts("default")
        .create(&PostParams::default(), &alert("late"))
        .await
        .unwrap();
    eventually(30, "pushed", async || rec.calls_for("late") == 9).await;
    let pushed_at = rec.pushes.lock().last().unwrap().at;
    eventually(30, "marked sent", async || sent(&cs).await == 1).await;
    let took = pushed_at.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "marked sent {took:?} after the push"
    );
    assert_eq!(rec.calls_for("late"), 9);
    stop.send_replace(true);
    task.await.unwrap();
}
