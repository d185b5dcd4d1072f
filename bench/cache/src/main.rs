//! `cache-bench`: the informer cache's memory and speed, side by side with what it replaces.
//!
//! - **memory**: resident memory added by holding N Alerts (default 100,000) — in the informer
//!   cache (`kube-codegen-cache`), in a plain `Vec<Alert>` decoded from a list, and in
//!   `kube::runtime::reflector::Store` fed by the same watcher. Each in a process of its own
//!   (`--mode`), against one fake API server in that process: RSS after the server is seeded,
//!   then after the structure is filled; the difference is the structure's.
//! - **relist peak**: the informer relists (its watch is answered 410 once), and the peak RSS
//!   during the relist is compared with the steady cache.
//! - **index**: `by_index` of one label value among 100 vs a linear scan of the cache.
//! - **workqueue**: keys/s through 4 workers (200,000 distinct keys).
//! - **controller**: alerts pushed and marked sent per second against a local notifier.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::StreamExt;
use kube_codegen_cache::{LabelSelector, RateLimits, SharedInformerFactory, WorkQueue};
use kube_codegen_client::{ListParams, PostParams};
use pager::v1beta1::Alert;
use pager_client::Clientset;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Every measurement; memory ones in child processes.
    All,
    Cache,
    Vec,
    Reflector,
}

#[derive(Parser, Debug)]
struct Cli {
    #[arg(long, value_enum, default_value = "all")]
    mode: Mode,
    /// Alerts held for the memory measurements.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
    /// Alerts for the controller throughput.
    #[arg(long, default_value_t = 2_000)]
    controller_alerts: usize,
}

fn alert(i: usize) -> Alert {
    let mut a = Alert::default();
    a.metadata.name = Some(format!("alert-{i:06}"));
    a.metadata.labels = Some(
        [
            ("team".to_string(), format!("team-{}", i % 100)),
            ("app".to_string(), "pager".to_string()),
        ]
        .into(),
    );
    a.spec.title = format!("Alert {i}");
    a.spec.content =
        format!("Something needs attention on host-{i}: disk usage is above the threshold");
    a
}

/// (VmRSS, VmHWM) in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn seeded(n: usize) -> (Clientset, pager_client::clientset::fake::Fake) {
    let fake = pager_client::clientset::fake::builder()
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let alerts = cs.pager_v1beta1().alerts("default");
    let pp = PostParams::default();
    let mut pending = futures::stream::iter(0..n)
        .map(|i| {
            let (alerts, pp) = (alerts.clone(), pp.clone());
            async move { alerts.create(&pp, &alert(i)).await.unwrap() }
        })
        .buffer_unordered(16);
    while pending.next().await.is_some() {}
    (cs, fake)
}

async fn memory(mode: Mode, n: usize) {
    let (cs, fake) = seeded(n).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (before, _) = rss();
    reset_peak();
    let held: Box<dyn std::any::Any> = match mode {
        Mode::Cache => {
            // Short watches, so the 410 below is met within a second.
            let factory = SharedInformerFactory::builder(cs.client().clone())
                .tweak_list_options(|c| c.timeout = Some(1))
                .build();
            let informer = factory.namespaced::<Alert>();
            factory.start();
            factory.wait_for_cache_sync().await;
            assert_eq!(informer.store().len(), n);
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (steady, _) = rss();
            reset_peak();
            // The next watch is answered 410: kube's watcher relists everything.
            let lists = || {
                fake.recorder()
                    .requests()
                    .iter()
                    .filter(|r| r.verb == "list")
                    .count()
            };
            let lists_before = lists();
            fake.reactors().expire_watches("alerts", 1);
            let started = Instant::now();
            while lists() == lists_before && started.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Let the relist's pages arrive and replace the cache.
            let pages = n.div_ceil(500);
            while lists() < lists_before + pages && started.elapsed() < Duration::from_secs(60) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (_, relist_peak) = rss();
            assert_eq!(informer.store().len(), n);
            println!(
                "relist objects={n} pages={} steady_added_kib={} relist_peak_added_kib={}",
                lists() - lists_before,
                steady.saturating_sub(before),
                relist_peak.saturating_sub(before)
            );
            Box::new((factory, informer))
        }
        Mode::Vec => {
            let mut all: Vec<Alert> = Vec::with_capacity(n);
            let alerts = cs.pager_v1beta1().alerts("default");
            let mut lp = ListParams::default().limit(500);
            loop {
                let page = alerts.list(&lp).await.unwrap();
                let next = page.metadata.continue_.clone();
                all.extend(page.items);
                match next {
                    Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                    _ => break,
                }
            }
            assert_eq!(all.len(), n);
            Box::new(all)
        }
        Mode::Reflector => {
            let (reader, writer) = kube::runtime::reflector::store::<Alert>();
            let api: kube::Api<Alert> = kube::Api::namespaced(cs.client().clone(), "default");
            let stream = kube::runtime::reflector(
                writer,
                kube::runtime::watcher(api, kube::runtime::watcher::Config::default()),
            );
            let task = tokio::spawn(async move {
                let mut s = std::pin::pin!(stream);
                while s.next().await.is_some() {}
            });
            reader.wait_until_ready().await.unwrap();
            assert_eq!(reader.state().len(), n);
            Box::new((reader, task))
        }
        Mode::All => unreachable!("handled by main"),
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (after, peak) = rss();
    println!(
        "memory mode={mode:?} objects={n} added_kib={} peak_added_kib={} per_object_bytes={:.0}",
        after.saturating_sub(before),
        peak.saturating_sub(before),
        (after.saturating_sub(before) * 1024) as f64 / n as f64
    );
    drop(held);
}

fn child(mode: &str, n: usize) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--mode", mode, "--objects", &n.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    print!("{text}");
    text
}

fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn index_and_queue(n: usize) {
    // Index lookups: a store of n alerts indexed by team (100 values).
    let writer = kube_codegen_cache::StoreWriter::<Alert>::new();
    let store = writer.store();
    for i in 0..n {
        let mut a = alert(i);
        a.metadata.namespace = Some("default".into());
        writer.insert(Arc::new(a));
    }
    store
        .add_indexer("team", |a: &Alert| {
            a.metadata
                .labels
                .iter()
                .filter_map(|l| l.get("team").cloned())
                .collect()
        })
        .expect("a new index name");
    let selector = LabelSelector::parse("team=team-42").unwrap();
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        assert_eq!(store.by_index("team", "team-42").unwrap().len(), n / 100);
    }
    let indexed = started.elapsed() / runs;
    let scans = 10;
    let started = Instant::now();
    for _ in 0..scans {
        let empty = Default::default();
        let found =
            store.filter(|a| selector.matches(a.metadata.labels.as_ref().unwrap_or(&empty)));
        assert_eq!(found.len(), n / 100);
    }
    let scanned = started.elapsed() / scans;
    println!(
        "index objects={n} by_index_us={:.1} scan_us={:.1} speedup={:.0}x",
        indexed.as_secs_f64() * 1e6,
        scanned.as_secs_f64() * 1e6,
        scanned.as_secs_f64() / indexed.as_secs_f64()
    );

    // Workqueue: 4 workers, 200,000 distinct keys.
    let q: WorkQueue<u32> = WorkQueue::new(RateLimits::default());
    let done = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (q, done) = (q.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            while let Some(item) = q.get().await {
                std::hint::black_box(item.key());
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    let adds = 200_000u32;
    for i in 0..adds {
        q.add(i);
        if i % 1000 == 0 {
            tokio::task::yield_now().await;
        }
    }
    q.shutdown_with_drain().await;
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "workqueue adds={adds} processed={} adds_per_s={:.0} processed_per_s={:.0}",
        done.load(Ordering::Relaxed),
        adds as f64 / elapsed.as_secs_f64(),
        done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
    );
}

async fn controller(n: usize) -> f64 {
    let fake = pager_client::clientset::fake::builder()
        .build()
        .await
        .unwrap();
    let cs = Clientset::new(fake.client());
    let app = axum::Router::new().route("/v2/pushes", axum::routing::post(|| async { "{}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let alerts = cs.pager_v1beta1().alerts("default");
    for i in 0..n {
        alerts
            .create(&PostParams::default(), &alert(i))
            .await
            .unwrap();
    }
    let notifier = pager_controller::Notifier::new(
        &format!("http://{addr}"),
        pager_controller::Token::new("t"),
        Duration::from_secs(5),
    )
    .unwrap();
    let metrics = pager_controller::Metrics::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(pager_controller::run(
        cs.clone(),
        notifier,
        pager_controller::Config::default(),
        metrics.clone(),
        stopped,
    ));
    while metrics.sent.get() < n as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    stop.send_replace(true);
    task.await.unwrap();
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "controller alerts={n} seconds={:.2} alerts_per_s={rate:.0} workers=4",
        elapsed.as_secs_f64()
    );
    rate
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.mode {
        Mode::All => {
            let n = cli.objects;
            let cache = child("cache", n);
            let vec = child("vec", n);
            let reflector = child("reflector", n);
            index_and_queue(n).await;
            let rate = controller(cli.controller_alerts).await;
            // The cache's own size is the steady one, before the relist it then goes through.
            let c = field(&cache, "steady_added_kib");
            println!(
                "cache summary objects={n} cache_vs_vec={:.2}x cache_vs_reflector={:.2}x relist_peak_vs_steady={:.2}x controller_alerts_per_s={rate:.0}",
                c / field(&vec, "added_kib"),
                c / field(&reflector, "added_kib"),
                field(&cache, "relist_peak_added_kib") / c,
            );
        }
        mode => memory(mode, cli.objects).await,
    }
}
