//! `cargo bench -p pager-client`: the generated typed client against plain `kube::Api<Alert>`
//! for the same get, list and create through the fake (the overhead ratio), and the fake's
//! operations per second (get, create, list of 1,000).
//!
//! Each measurement alternates the two clients in rounds on one fake and reports the median of
//! the rounds, so both see the same store, the same allocator state and the same machine load
//! (`BENCH_DEBUG=1` prints every round).

use std::time::{Duration, Instant};

use kube::Api;
use kube_codegen_client::{ListParams, PostParams};
use pager::v1beta1::Alert;
use pager_client::Clientset;
use pager_client::clientset::fake;

const ROUNDS: usize = 7;

fn alert(name: String) -> Alert {
    let mut a = Alert::default();
    a.metadata.name = Some(name);
    a.spec.title = "Disk".into();
    a.spec.content = "The disk is 90% full".into();
    a
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `n` calls of `typed` and of `raw`, alternating per round; returns the per-call medians.
async fn versus<F1, F2, Fut1, Fut2>(n: usize, mut typed: F1, mut raw: F2) -> (Duration, Duration)
where
    F1: FnMut(usize) -> Fut1,
    F2: FnMut(usize) -> Fut2,
    Fut1: std::future::Future<Output = ()>,
    Fut2: std::future::Future<Output = ()>,
{
    let (mut t, mut r) = (Vec::new(), Vec::new());
    let mut seq = 0;
    for round in 0..ROUNDS {
        for which in [round % 2, 1 - round % 2] {
            let started = Instant::now();
            for _ in 0..n {
                seq += 1;
                if which == 0 {
                    typed(seq).await
                } else {
                    raw(seq).await
                }
            }
            let per_call = started.elapsed() / n as u32;
            if which == 0 {
                t.push(per_call)
            } else {
                r.push(per_call)
            }
        }
    }
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("typed {t:?}\nraw   {r:?}");
    }
    (median(t), median(r))
}

fn report(what: &str, (typed, raw): (Duration, Duration)) {
    println!(
        "client {what}: typed_us={:.1} kube_api_us={:.1} ratio={:.3}x typed_ops_per_s={:.0}",
        typed.as_secs_f64() * 1e6,
        raw.as_secs_f64() * 1e6,
        typed.as_secs_f64() / raw.as_secs_f64(),
        1.0 / typed.as_secs_f64()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let fake = fake::builder().build().await.unwrap();
    let cs = Clientset::new(fake.client());
    let typed = cs.pager_v1beta1().alerts("default");
    let raw: Api<Alert> = Api::namespaced(fake.client(), "default");
    let pp = PostParams::default();

    let creates = versus(
        300,
        |i| {
            let typed = typed.clone();
            let pp = pp.clone();
            async move {
                typed.create(&pp, &alert(format!("t-{i}"))).await.unwrap();
            }
        },
        |i| {
            let raw = raw.clone();
            let pp = pp.clone();
            async move {
                raw.create(&pp, &alert(format!("r-{i}"))).await.unwrap();
            }
        },
    )
    .await;
    report("create", creates);

    let gets = versus(
        1000,
        |_| {
            let typed = typed.clone();
            async move {
                typed.get("t-1").await.unwrap();
            }
        },
        |_| {
            let raw = raw.clone();
            async move {
                raw.get("t-1").await.unwrap();
            }
        },
    )
    .await;
    report("get", gets);

    // 1,000 alerts in a namespace of their own for the list.
    let listed = cs.pager_v1beta1().alerts("list");
    let listed_raw: Api<Alert> = Api::namespaced(fake.client(), "list");
    for i in 0..1000 {
        listed.create(&pp, &alert(format!("a-{i}"))).await.unwrap();
    }
    let lists = versus(
        5,
        |_| {
            let listed = listed.clone();
            async move {
                assert_eq!(
                    listed
                        .list(&ListParams::default())
                        .await
                        .unwrap()
                        .items
                        .len(),
                    1000
                );
            }
        },
        |_| {
            let raw = listed_raw.clone();
            async move {
                assert_eq!(
                    raw.list(&ListParams::default()).await.unwrap().items.len(),
                    1000
                );
            }
        },
    )
    .await;
    report("list1000", lists);
    println!(
        "client summary: ratio_get={:.3}x ratio_list1000={:.3}x ratio_create={:.3}x fake_gets_per_s={:.0} fake_creates_per_s={:.0} fake_list1000_ms={:.1}",
        gets.0.as_secs_f64() / gets.1.as_secs_f64(),
        lists.0.as_secs_f64() / lists.1.as_secs_f64(),
        creates.0.as_secs_f64() / creates.1.as_secs_f64(),
        1.0 / gets.0.as_secs_f64(),
        1.0 / creates.0.as_secs_f64(),
        lists.0.as_secs_f64() * 1e3,
    );
}
