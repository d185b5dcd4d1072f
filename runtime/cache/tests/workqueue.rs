//! The workqueue's promises: dedup, one worker per key, re-queue of a key changed in flight,
//! per-key backoff and forget, the overall rate, and shutdown draining work in flight.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube_codegen_cache::{RateLimits, WorkQueue};
use parking_lot::Mutex;

fn no_limits() -> RateLimits {
    RateLimits {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        per_second: 0,
        burst: 0,
    }
}

#[tokio::test]
async fn a_key_is_queued_once_and_requeued_when_added_in_flight() {
    let q: WorkQueue<String> = WorkQueue::new(no_limits());
    q.add("a".into());
    q.add("a".into());
    q.add("b".into());
    assert_eq!(q.len(), 2, "deduplicated");
    let a = q.get().await.unwrap();
    assert_eq!(a.key(), "a");
    // Added again while in flight: not handed out now (no two workers on one key)...
    q.add("a".into());
    let b = q.get().await.unwrap();
    assert_eq!(b.key(), "b");
    assert!(q.is_empty());
    // ...but queued again once the first worker is done.
    drop(a);
    assert_eq!(q.len(), 1);
    let again = q.get().await.unwrap();
    assert_eq!(again.key(), "a");
}

#[tokio::test]
async fn workers_never_share_a_key() {
    let q: WorkQueue<u32> = WorkQueue::new(no_limits());
    let busy: Arc<Mutex<HashSet<u32>>> = Arc::default();
    let processed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (q, busy, processed) = (q.clone(), busy.clone(), processed.clone());
        workers.push(tokio::spawn(async move {
            while let Some(item) = q.get().await {
                assert!(
                    busy.lock().insert(*item.key()),
                    "key {} on two workers",
                    item.key()
                );
                tokio::time::sleep(Duration::from_micros(200)).await;
                busy.lock().remove(item.key());
                processed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    for round in 0..50 {
        for key in 0..10 {
            q.add(key);
        }
        if round % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    q.shutdown_with_drain().await;
    for w in workers {
        w.await.unwrap();
    }
    let n = processed.load(std::sync::atomic::Ordering::SeqCst);
    assert!((10..=500).contains(&n), "{n}");
}

#[tokio::test]
async fn failures_back_off_exponentially_until_forgotten() {
    let limits = RateLimits {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(80),
        per_second: 0,
        burst: 0,
    };
    assert_eq!(limits.backoff(0), Duration::from_millis(20));
    assert_eq!(limits.backoff(1), Duration::from_millis(40));
    assert_eq!(limits.backoff(2), Duration::from_millis(80));
    assert_eq!(limits.backoff(10), Duration::from_millis(80), "capped");
    assert_eq!(
        limits.backoff(u32::MAX),
        Duration::from_millis(80),
        "no overflow"
    );
    let q: WorkQueue<&str> = WorkQueue::new(limits);
    let started = Instant::now();
    q.add_rate_limited("k");
    let first = q.get().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));
    drop(first);
    let again = Instant::now();
    q.add_rate_limited("k");
    let _second = q.get().await.unwrap();
    assert!(again.elapsed() >= Duration::from_millis(40), "doubled");
    assert_eq!(q.num_requeues(&"k"), 2);
    q.forget(&"k");
    assert_eq!(q.num_requeues(&"k"), 0);
}

#[tokio::test]
async fn the_overall_rate_is_a_token_bucket() {
    let q: WorkQueue<u32> = WorkQueue::new(RateLimits {
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        per_second: 50,
        burst: 5,
    });
    let started = Instant::now();
    for k in 0..15 {
        q.add_rate_limited(k);
    }
    for _ in 0..15 {
        drop(q.get().await.unwrap());
    }
    // 5 at once, then 10 more at 50/s: at least ~200 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn shutdown_drains_queued_work_and_waits_for_work_in_flight() {
    let q: WorkQueue<u32> = WorkQueue::new(no_limits());
    q.add(1);
    q.add(2);
    let one = q.get().await.unwrap();
    let drained = {
        let q = q.clone();
        tokio::spawn(async move { q.shutdown_with_drain().await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!drained.is_finished(), "waits for work in flight");
    q.add(3);
    // Queued before the shutdown: still handed out; added after: refused.
    let two = q.get().await.unwrap();
    assert_eq!(*two.key(), 2);
    assert!(q.get().await.is_none());
    drop(one);
    drop(two);
    tokio::time::timeout(Duration::from_secs(1), drained)
        .await
        .expect("drained once idle")
        .unwrap();
}

#[tokio::test]
async fn a_floor_on_the_backoff_is_a_floor_not_a_replacement() {
    let q: WorkQueue<&str> = WorkQueue::new(RateLimits {
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_secs(10),
        per_second: 0,
        burst: 0,
    });
    // No floor: the backoff.
    assert_eq!(
        q.add_rate_limited_at_least("k", Duration::ZERO),
        Duration::from_millis(40)
    );
    // A longer floor wins; a shorter one leaves the (doubled) backoff.
    assert_eq!(
        q.add_rate_limited_at_least("k", Duration::from_secs(1)),
        Duration::from_secs(1)
    );
    assert_eq!(
        q.add_rate_limited_at_least("k", Duration::from_millis(1)),
        Duration::from_millis(160)
    );
    assert_eq!(q.num_requeues(&"k"), 3);
}

/// A key added again while a worker had it goes back to the queue when the worker is done;
/// with no worker left to take it, `shutdown_with_drain` still returns: nothing is in flight
/// (it waited for ever before).
#[tokio::test]
async fn drain_returns_when_the_last_key_in_flight_was_queued_again() {
    let q: WorkQueue<&str> = WorkQueue::new(no_limits());
    q.add("a");
    let a = q.get().await.unwrap();
    q.add("a");
    let drained = {
        let q = q.clone();
        tokio::spawn(async move { q.shutdown_with_drain().await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!drained.is_finished(), "waits for the key in flight");
    drop(a);
    tokio::time::timeout(Duration::from_secs(2), drained)
        .await
        .expect("drained once nothing is in flight")
        .unwrap();
    assert_eq!(q.len(), 1, "the key added again is queued");
}

/// A key added after a delay while it already waits for one waits once, until the earlier
/// time (client-go's delaying queue keeps one entry per key): processed once, not once per
/// call; likewise repeated rate-limited adds.
#[tokio::test]
async fn delayed_adds_of_one_key_are_merged() {
    let q: WorkQueue<&str> = WorkQueue::new(no_limits());
    q.add_after("a", Duration::from_millis(300));
    q.add_after("a", Duration::from_millis(50));
    q.add_after("a", Duration::from_millis(200));
    let first = tokio::time::timeout(Duration::from_millis(150), q.get())
        .await
        .expect("at the earlier time")
        .unwrap();
    drop(first);
    let again = tokio::time::timeout(Duration::from_millis(500), q.get()).await;
    assert!(again.is_err(), "handed out once");
    for _ in 0..3 {
        q.add_rate_limited("b");
    }
    drop(q.get().await.unwrap());
    let again = tokio::time::timeout(Duration::from_millis(300), q.get()).await;
    assert!(again.is_err(), "handed out once");
}

/// The overall bucket and a key's backoff are not added up: a key waits for the larger
/// (client-go's `MaxOfRateLimiter`). And shutdown ends every waiting key's timer.
#[tokio::test]
async fn a_key_waits_for_the_larger_of_backoff_and_bucket() {
    let q: WorkQueue<&str> = WorkQueue::new(RateLimits {
        base_delay: Duration::from_millis(400),
        max_delay: Duration::from_secs(10),
        per_second: 2,
        burst: 1,
    });
    let a = q.add_rate_limited_at_least("a", Duration::ZERO);
    let b = q.add_rate_limited_at_least("b", Duration::ZERO);
    assert_eq!(a, Duration::from_millis(400));
    // The bucket's next token is 500 ms away, more than b's 400 ms backoff: 500, not 900.
    assert!(
        b > Duration::from_millis(400) && b <= Duration::from_millis(500),
        "{b:?}"
    );
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    q.add_after("later", Duration::from_secs(3600));
    assert_eq!(metrics.num_alive_tasks(), before + 1, "one timer");
    q.shutdown();
    assert!(
        q.get().await.is_none(),
        "waiting keys are dropped at shutdown"
    );
    for _ in 0..100 {
        if metrics.num_alive_tasks() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        0,
        "every waiting key's timer ended"
    );
}

/// `add_rate_limited_within` caps a key's backoff (work that must come back before a deadline,
/// a claim to renew), and still counts the failure; `add_rate_limited_at_least` floors it.
#[tokio::test]
async fn a_backoff_can_be_capped_or_floored() {
    let q: WorkQueue<String> = WorkQueue::new(RateLimits {
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(100),
        per_second: 0,
        burst: 0,
    });
    let key = || "k".to_string();
    for _ in 0..6 {
        q.add_rate_limited(key());
    }
    // The seventh failure's backoff would be 6.4 s.
    let wait = q.add_rate_limited_within(key(), Duration::from_millis(250));
    assert_eq!(wait, Duration::from_millis(250));
    assert_eq!(q.num_requeues(&key()), 7);
    q.forget(&key());
    assert_eq!(
        q.add_rate_limited_within(key(), Duration::from_secs(1)),
        Duration::from_millis(100)
    );
    assert_eq!(
        q.add_rate_limited_at_least(key(), Duration::from_secs(3)),
        Duration::from_secs(3)
    );
    q.shutdown();
}
