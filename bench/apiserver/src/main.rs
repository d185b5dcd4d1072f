//! `apiserver-bench`: a load generator for a running `pager-apiserver` over loopback.
//!
//! Measures, in this order (each step reuses what the previous one left in the store):
//!
//! 1. **creates/s** — `--creates` POSTs of distinct Alerts from `--concurrency` tasks sharing a
//!    keep-alive connection pool (hyper-util's legacy client, HTTP/1), wall time.
//! 2. **gets/s** — `--gets` GETs of random existing names, same pool and concurrency; repeated
//!    `--get-rounds` times.
//! 3. **LIST** — `--list-runs` full `GET .../alerts` (whole body read), after one warm-up; and the
//!    physical reference: the fetched body parsed once into a `serde_json::Value`, then
//!    `serde_json::to_vec` of it timed `--serde-runs` times in this process. The LIST is of
//!    `v1alpha1`, which pager-apiserver converts item by item from its storage version
//!    (`v1beta1`); the same LIST in `v1beta1` is timed beside it (`conversion_ratio`).
//!    Then the same LIST paged (`--page-limit` items a page, following `continue`), twice: with
//!    the store unchanged (each page reads the current revision) and with one create in another
//!    namespace between pages (every page after the first is read at the first page's pinned,
//!    now older, revision), each beside the unpaged LIST fetched and scanned the same way. And
//!    both LISTs with `resourceVersion=0` (an informer's first list; a watch cache serves it).
//! 4. **fan-out** — `--watchers` watches (`?watch=1&resourceVersion=<list RV>`, one TCP connection
//!    each), all established (200 headers received); then one create, and the time from just
//!    before sending it until each watcher has read and parsed its ADDED event. Repeated
//!    `--fanout-runs` times on the same watches. Then the same over HTTP/2: the watches as streams
//!    of shared connections, 1,000 to a connection (the server's limit), as Go clients hold them.
//!
//! Then protobuf against JSON, server-side apply against merge patch, and last (`--raw-etcd`)
//! the creates' writes as raw etcd puts and create transactions of the same bytes: last, so that
//! their 20,000 keys beside the server's do not change what the steps before measure.
//!
//! Prints one `key=value` line per measurement and a final summary line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

const COLLECTION: &str = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";
/// The same Alerts in the storage version (pager-apiserver's default, v1beta1): a LIST that
/// converts nothing, beside the v1alpha1 LIST that converts every item through the hub.
const STORAGE_COLLECTION: &str = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";

type Error = Box<dyn std::error::Error + Send + Sync>;
type Pool = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Load generator for pager-apiserver (plain HTTP on loopback).
#[derive(Parser, Debug, Clone)]
#[command(name = "apiserver-bench")]
struct Cli {
    /// The server's address (as printed by `pager-apiserver --listen 127.0.0.1:0`).
    #[arg(long, required_unless_present = "serve_sar")]
    addr: Option<SocketAddr>,
    /// Label for the output lines (e.g. the storage backend).
    #[arg(long, default_value = "server")]
    label: String,
    /// Number of Alerts to create (also the size of the LIST).
    #[arg(long, default_value_t = 10_000)]
    creates: usize,
    /// GETs per round.
    #[arg(long, default_value_t = 20_000)]
    gets: usize,
    /// Rounds of GETs (min/median reported).
    #[arg(long, default_value_t = 3)]
    get_rounds: usize,
    /// Concurrent requests (and pooled connections) for creates and gets.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Timed full LISTs (after one warm-up).
    #[arg(long, default_value_t = 7)]
    list_runs: usize,
    /// Timed `serde_json::to_vec` runs of the fetched list.
    #[arg(long, default_value_t = 15)]
    serde_runs: usize,
    /// Items per page of the paged LISTs.
    #[arg(long, default_value_t = 500)]
    page_limit: usize,
    /// Open watches for the fan-out.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Fan-out repetitions (one create each).
    #[arg(long, default_value_t = 5)]
    fanout_runs: usize,
    /// Timed server-side applies and merge patches (each) of the same change to a 50-field
    /// object with 5 managers.
    #[arg(long, default_value_t = 300)]
    apply_runs: usize,
    /// Seconds to wait for every watcher to see one event before giving up.
    #[arg(long, default_value_t = 60)]
    fanout_timeout: u64,
    /// Over HTTP/2, read each watch in a task of its own (the load generator before the
    /// twenty-seventh session) instead of one task reading every stream of a connection.
    #[arg(long)]
    reader_per_watch: bool,
    /// Name prefix of the created Alerts (must not exist yet).
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// HTTPS: the CA (PEM) that signed the server's certificate (`--cert-dir`'s `ca.crt`).
    #[arg(long)]
    ca_file: Option<std::path::PathBuf>,
    /// A client certificate and its key (one PEM file) to authenticate with.
    #[arg(long, requires = "ca_file")]
    client_cert: Option<std::path::PathBuf>,
    /// Only creates/s and gets/s (the security-overhead runs).
    #[arg(long)]
    requests_only: bool,
    /// Not a load run: serve a SubjectAccessReview stand-in on this address (allows every
    /// request; prints `listening on <addr>`), for delegated-authorization runs.
    #[arg(long, conflicts_with = "addr")]
    serve_sar: Option<SocketAddr>,
    /// The etcd the server stores in: after the creates, the same number of raw etcd puts of
    /// the same bytes at the same concurrency (`etcd-client`), side by side.
    #[arg(long)]
    raw_etcd: Option<String>,
    /// The server's process id (same machine): its resident memory is read after the creates
    /// and with the fan-out's watches open, and reported against the stored bytes.
    #[arg(long)]
    server_pid: Option<u32>,
    /// etcd's process id (same machine, with `--raw-etcd`): the CPU etcd, the server and the
    /// load generator spend per create and per raw write is reported beside the rates.
    #[arg(long)]
    etcd_pid: Option<u32>,
}

/// CPU time used so far by etcd, the server and this process (each when it can be read).
#[derive(Clone, Copy)]
struct CpuUse {
    at: Instant,
    etcd: Option<Duration>,
    server: Option<Duration>,
    load: Option<Duration>,
}

impl CpuUse {
    fn now(cli: &Cli) -> Self {
        CpuUse {
            at: Instant::now(),
            etcd: cli.etcd_pid.and_then(|pid| cpu_time(Some(pid))),
            server: server_cpu_time(cli),
            load: cpu_time(None),
        }
    }

    /// What each process spent per operation since `self`, and the cores all three kept busy:
    /// `etcd_us=… server_us=… load_us=… cores=…` (`?` where a process could not be read).
    fn per_op_since(&self, cli: &Cli, ops: usize) -> String {
        let end = CpuUse::now(cli);
        let per = |a: Option<Duration>, b: Option<Duration>| {
            b.zip(a)
                .map(|(b, a)| b.saturating_sub(a).as_secs_f64() * 1e6 / ops.max(1) as f64)
        };
        let show = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.0}"));
        let spent = [
            per(self.etcd, end.etcd),
            per(self.server, end.server),
            per(self.load, end.load),
        ];
        let total_us: f64 = spent.iter().flatten().sum();
        let cores = total_us * ops as f64 / 1e6 / end.at.duration_since(self.at).as_secs_f64();
        format!(
            "etcd_us={} server_us={} load_us={} cores={cores:.2}",
            show(spent[0]),
            show(spent[1]),
            show(spent[2])
        )
    }
}

/// CPU time (user + system) process `pid` (this process for `None`) has used, from
/// `/proc/<pid>/stat` (in clock ticks of 10 ms).
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces), from field 3 (`state`) on.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The server's CPU time, when `--server-pid` names it (never this process's).
fn server_cpu_time(cli: &Cli) -> Option<Duration> {
    cli.server_pid.and_then(|pid| cpu_time(Some(pid)))
}

/// Resident memory of process `pid` in bytes (`VmRSS`), when it can be read.
fn rss_bytes(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("apiserver-bench: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    if let Some(addr) = cli.serve_sar {
        return serve_sar(addr).await;
    }
    let addr = cli.addr.ok_or("--addr is required")?;
    if cli.watchers == 0 && !cli.requests_only {
        return Err("--watchers must be at least 1 (use --requests-only for no fan-out)".into());
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(&cli)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    let pool: Pool = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(cli.concurrency.max(1) * 2)
        .pool_idle_timeout(Duration::from_secs(300))
        .build(https);
    let scheme = if cli.ca_file.is_some() {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://{addr}");
    let label = cli.label.as_str();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "apiserver {label} setup nproc={nproc} concurrency={} (client and server share the cores)",
        cli.concurrency
    );

    // 1. creates/s
    let cpu_before_creates = CpuUse::now(&cli);
    let created = creates(&pool, &base, &cli).await?;
    let creates_cpu = cpu_before_creates.per_op_since(&cli, cli.creates);
    println!(
        "apiserver {label} creates n={} c={} wall_s={:.3} creates_per_s={:.0} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        cli.creates,
        cli.concurrency,
        created.wall.as_secs_f64(),
        cli.creates as f64 / created.wall.as_secs_f64(),
        ms(pct(&created.lat, 0.50)),
        ms(pct(&created.lat, 0.99)),
        ms(pct(&created.lat, 1.0)),
    );

    // Settled: what the server holds once the objects are in (before any list).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after_creates = rss_bytes(cli.server_pid);

    // 1b. (at the end of a full run) the same writes as raw etcd puts.
    if cli.requests_only {
        raw_etcd_comparison(&pool, &base, &cli, &created, &creates_cpu, label).await?;
        // Two rounds over the same names: the second meets warm caches (delegated authorization
        // caches each (user, verb, name) answer).
        gets(&pool, &base, &cli, 1).await?;
        let gets = gets(&pool, &base, &cli, 1).await?;
        println!(
            "apiserver {label} requests creates_per_s={:.0} gets_per_s={:.0} create_p50_ms={:.3} get_p50_ms={:.3}",
            cli.creates as f64 / created.wall.as_secs_f64(),
            cli.gets as f64 / gets.wall.as_secs_f64(),
            ms(pct(&created.lat, 0.50)),
            ms(pct(&gets.lat, 0.50)),
        );
        return Ok(());
    }

    // 2. gets/s
    let mut get_rates = Vec::new();
    let mut get_p50 = Vec::new();
    let mut get_p99 = Vec::new();
    for round in 0..cli.get_rounds.max(1) {
        let r = gets(&pool, &base, &cli, round as u64).await?;
        get_rates.push(cli.gets as f64 / r.wall.as_secs_f64());
        get_p50.push(ms(pct(&r.lat, 0.50)));
        get_p99.push(ms(pct(&r.lat, 0.99)));
    }
    println!(
        "apiserver {label} gets n={}x{} c={} gets_per_s_median={:.0} gets_per_s_max={:.0} p50_ms={:.3} p99_ms={:.3} rounds=[{}]",
        cli.get_rounds.max(1),
        cli.gets,
        cli.concurrency,
        median_f(&get_rates),
        get_rates.iter().cloned().fold(0.0, f64::max),
        median_f(&get_p50),
        median_f(&get_p99),
        get_rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(","),
    );

    // 3. LIST vs serde_json
    let (body, _) = fetch(&pool, &format!("{base}{COLLECTION}")).await?; // warm-up
    let mut list_times = Vec::new();
    for _ in 0..cli.list_runs.max(1) {
        let t = Instant::now();
        let (b, status) = fetch(&pool, &format!("{base}{COLLECTION}")).await?;
        list_times.push(t.elapsed());
        if status != StatusCode::OK || b.len() != body.len() {
            return Err(format!("LIST: {status}, {} bytes (first {})", b.len(), body.len()).into());
        }
    }
    let list: Value = serde_json::from_slice(&body)?;
    let items = list["items"].as_array().map_or(0, Vec::len);
    // The same lists with `resourceVersion=0` ("any": an informer's first list), which a watch
    // cache may answer from memory: in this version and in the storage version.
    let mut any_times = [Vec::new(), Vec::new()];
    for (collection, times) in [COLLECTION, STORAGE_COLLECTION].iter().zip(&mut any_times) {
        let url = format!("{base}{collection}?resourceVersion=0");
        // Warm-up, and "any" may be a moment behind the last create: until every item is there.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (b, _) = fetch(&pool, &url).await?;
            let any: Value = serde_json::from_slice(&b)?;
            if any["items"].as_array().map_or(0, Vec::len) == items || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for _ in 0..cli.list_runs.max(1) {
            let t = Instant::now();
            let (b, status) = fetch(&pool, &url).await?;
            times.push(t.elapsed());
            let any: Value = serde_json::from_slice(&b)?;
            let got = any["items"].as_array().map_or(0, Vec::len);
            if status != StatusCode::OK || got != items {
                return Err(format!("LIST {url}: {status}, {got} items of {items}").into());
            }
        }
    }
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .ok_or("list without metadata.resourceVersion")?
        .to_string();
    let mut serde_times = Vec::new();
    let mut out_len = 0;
    for _ in 0..cli.serde_runs.max(1) {
        let t = Instant::now();
        let out = serde_json::to_vec(std::hint::black_box(&list))?;
        serde_times.push(t.elapsed());
        out_len = std::hint::black_box(out).len();
    }
    // A second, wider reference: what the server must do at least (parse stored JSON, write JSON).
    let mut roundtrip_times = Vec::new();
    for _ in 0..cli.serde_runs.max(1) {
        let t = Instant::now();
        let v: Value = serde_json::from_slice(std::hint::black_box(&body))?;
        let out = serde_json::to_vec(&v)?;
        roundtrip_times.push(t.elapsed());
        std::hint::black_box(out);
    }
    // The serialiser alone, into a reused (already faulted-in) buffer: no allocator or page
    // faults in the timing.
    let mut buf = Vec::with_capacity(body.len() * 2);
    let reuse_times = serialize_into(&mut buf, &list, cli.serde_runs)?;
    // The same from a copy of the list made in one go: its nodes laid out one after another.
    // The parsed list's nodes lie wherever the load generator's heap put them, which between
    // runs made the same serialisation take from 6 to 19 ms.
    let compact_times = serialize_into(&mut buf, &list.clone(), cli.serde_runs)?;
    // The JSON work of the server's list handler, in process: parse every stored item, wrap the
    // items with `json!` (which deep-copies them through `to_value`), serialise.
    let stored: Vec<Vec<u8>> = list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| serde_json::to_vec(v).expect("json"))
                .collect()
        })
        .unwrap_or_default();
    let mut handler_times = Vec::new();
    for _ in 0..cli.serde_runs.max(1) {
        let t = Instant::now();
        let objs = stored
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b))
            .collect::<Result<Vec<_>, _>>()?;
        let wrapped = serde_json::json!({
            "apiVersion": "pager.k8s.co/v1alpha1",
            "kind": "AlertList",
            "metadata": {"resourceVersion": list_rv},
            "items": objs,
        });
        let out = serde_json::to_vec(&wrapped)?;
        handler_times.push(t.elapsed());
        std::hint::black_box(out);
    }
    // The same LIST in the storage version: what converting every item through the hub costs.
    let (storage_body, _) = fetch(&pool, &format!("{base}{STORAGE_COLLECTION}")).await?;
    let mut storage_times = Vec::new();
    for _ in 0..cli.list_runs.max(1) {
        let t = Instant::now();
        let (b, status) = fetch(&pool, &format!("{base}{STORAGE_COLLECTION}")).await?;
        storage_times.push(t.elapsed());
        if status != StatusCode::OK || b.len() != storage_body.len() {
            return Err(format!("LIST v1beta1: {status}, {} bytes", b.len()).into());
        }
    }
    let list_med = median(&list_times);
    let storage_med = median(&storage_times);
    // The physical reference for the storage version's list: serde_json writing its body.
    let storage_list: Value = serde_json::from_slice(&storage_body)?;
    let mut storage_serde_times = Vec::new();
    for _ in 0..cli.serde_runs.max(1) {
        let t = Instant::now();
        let out = serde_json::to_vec(std::hint::black_box(&storage_list))?;
        storage_serde_times.push(t.elapsed());
        std::hint::black_box(out);
    }
    let storage_serde_med = median(&storage_serde_times);
    // Paged at a pinned revision vs unpaged: every response is scanned for its `continue` and
    // item count (serde `IgnoredAny`), the unpaged one too.
    let mut unpaged_times = Vec::new();
    let mut current_times = Vec::new();
    let mut pinned_times = Vec::new();
    for run in 0..cli.list_runs.max(1) {
        let (t, n, _) = paged_list(&pool, &base, None, None).await?;
        check_count(n, items, "unpaged")?;
        unpaged_times.push(t);
        let (t, n, _) = paged_list(&pool, &base, Some(cli.page_limit), None).await?;
        check_count(n, items, "paged")?;
        current_times.push(t);
        let writer = format!("{}-{run}", cli.prefix);
        let (t, n, pages) = paged_list(&pool, &base, Some(cli.page_limit), Some(&writer)).await?;
        check_count(n, items, "paged at a pinned revision")?;
        pinned_times.push(t);
        if run == 0 {
            println!(
                "apiserver {label} paged_list pages={pages} limit={} (a create between pages)",
                cli.page_limit
            );
        }
    }
    let unpaged_med = median(&unpaged_times);
    let pinned_med = median(&pinned_times);
    println!(
        "apiserver {label} paged_list items={items} limit={} unpaged_ms_median={:.2} paged_current_ms_median={:.2} paged_pinned_ms_median={:.2} pinned_vs_unpaged={:.2}x",
        cli.page_limit,
        ms(unpaged_med),
        ms(median(&current_times)),
        ms(pinned_med),
        pinned_med.as_secs_f64() / unpaged_med.as_secs_f64(),
    );
    println!(
        "apiserver {label} list_versions items={items} storage_version_ms_median={:.2} storage_version_serde_ms_median={:.2} same_version_ratio={:.2}x other_version_ms_median={:.2} conversion_ratio={:.2}x",
        ms(storage_med),
        ms(storage_serde_med),
        storage_med.as_secs_f64() / storage_serde_med.as_secs_f64(),
        ms(list_med),
        list_med.as_secs_f64() / storage_med.as_secs_f64(),
    );
    let serde_med = median(&serde_times);
    println!(
        "apiserver {label} list items={items} bytes={} serde_bytes={out_len} list_ms_median={:.2} list_ms_min={:.2} serde_ms_median={:.2} serde_ms_min={:.2} serde_reused_buf_ms_min={:.2} serde_compact_ms_min={:.2} parse_and_serde_ms_median={:.2} handler_json_ms_median={:.2} list_ratio={:.1}x list_ratio_vs_serde_min={:.1}x list_ratio_vs_serde_compact={:.1}x list_ratio_vs_handler_json={:.1}x",
        body.len(),
        ms(list_med),
        ms(min(&list_times)),
        ms(serde_med),
        ms(min(&serde_times)),
        ms(min(&reuse_times)),
        ms(min(&compact_times)),
        ms(median(&roundtrip_times)),
        ms(median(&handler_times)),
        list_med.as_secs_f64() / serde_med.as_secs_f64(),
        list_med.as_secs_f64() / min(&serde_times).as_secs_f64(),
        list_med.as_secs_f64() / min(&compact_times).as_secs_f64(),
        list_med.as_secs_f64() / median(&handler_times).as_secs_f64(),
    );

    let (any_med, any_storage_med) = (median(&any_times[0]), median(&any_times[1]));
    println!(
        "apiserver {label} list_rv0 items={items} ms_median={:.2} storage_version_ms_median={:.2} same_version_ratio={:.2}x cross_version_ratio={:.2}x",
        ms(any_med),
        ms(any_storage_med),
        any_storage_med.as_secs_f64() / storage_serde_med.as_secs_f64(),
        any_med.as_secs_f64() / storage_serde_med.as_secs_f64(),
    );

    if let Some(rss) = rss_after_creates {
        // The list body is the stored JSON of every object with its `resourceVersion` (what a
        // store holds, give or take a few bytes of header an object).
        println!(
            "apiserver {label} memory objects={items} stored_bytes~{} rss_after_creates_mb={:.1} rss_vs_stored={:.2}x",
            body.len(),
            rss as f64 / 1048576.0,
            rss as f64 / body.len() as f64,
        );
    }

    // 4. watch fan-out, with the latency of one create and no watchers as its baseline.
    let mut idle_create = Vec::new();
    for i in 0..cli.fanout_runs.max(1) * 4 {
        let t = Instant::now();
        create(
            &pool,
            &format!("{base}{COLLECTION}"),
            &format!("{}-idle-{i}", cli.prefix),
        )
        .await?;
        idle_create.push(t.elapsed());
    }
    println!(
        "apiserver {label} create_c1 runs={} ms_median={:.2} ms_min={:.2}",
        idle_create.len(),
        ms(median(&idle_create)),
        ms(min(&idle_create)),
    );
    let fan = fanout(&pool, &base, &cli, &list_rv, false, Transport::Http1).await?;
    print_fanout(label, "fanout", &cli, &fan);
    if let Some(rss) = fan.rss {
        println!(
            "apiserver {label} memory objects={items} watches={} stored_bytes~{} rss_with_watches_mb={:.1} rss_vs_stored={:.2}x",
            cli.watchers,
            body.len(),
            rss as f64 / 1048576.0,
            rss as f64 / body.len() as f64,
        );
    }
    // The same watches multiplexed on HTTP/2 connections, as Go clients hold them.
    let fan_h2 = fanout(&pool, &base, &cli, &list_rv, false, Transport::Http2).await?;
    print_fanout(label, "fanout_http2", &cli, &fan_h2);

    // 6 (here, before more objects are written). Protobuf vs JSON.
    let pvj = protobuf_vs_json(&pool, &base, &cli).await?;
    let fan_pb = fanout(&pool, &base, &cli, &list_rv, true, Transport::Http1).await?;
    println!(
        "apiserver {label} protobuf items={items} list_json_ms_median={:.2} list_protobuf_ms_median={:.2} list_time_ratio={:.2}x list_json_bytes={} list_protobuf_bytes={} list_bytes_ratio={:.2}x fanout_json_ms_median={:.2} fanout_protobuf_ms_median={:.2} fanout_ratio={:.2}x object_json_bytes={:.0} object_protobuf_bytes={:.0} encode_json_ns={:.0} encode_protobuf_ns={:.0} encode_ratio={:.2}x decode_json_ns={:.0} decode_protobuf_ns={:.0} decode_ratio={:.2}x",
        ms(pvj.list_json),
        ms(pvj.list_pb),
        pvj.list_pb.as_secs_f64() / pvj.list_json.as_secs_f64(),
        pvj.list_json_bytes,
        pvj.list_pb_bytes,
        pvj.list_pb_bytes as f64 / pvj.list_json_bytes as f64,
        ms(median(&fan.all)),
        ms(median(&fan_pb.all)),
        median(&fan_pb.all).as_secs_f64() / median(&fan.all).as_secs_f64(),
        pvj.object_json_bytes,
        pvj.object_pb_bytes,
        pvj.encode_json_ns,
        pvj.encode_pb_ns,
        pvj.encode_pb_ns / pvj.encode_json_ns,
        pvj.decode_json_ns,
        pvj.decode_pb_ns,
        pvj.decode_pb_ns / pvj.decode_json_ns,
    );

    // 5. server-side apply vs merge patch, and what managedFields cost in stored bytes.
    let applied = apply_vs_merge(&pool, &base, cli.apply_runs).await?;
    println!(
        "apiserver {label} apply fields=50 managers=5 runs={} apply_ms_median={:.3} merge_ms_median={:.3} apply_vs_merge={:.2}x object_bytes={} managed_fields_bytes={} managed_fields_overhead={:.0}%",
        cli.apply_runs,
        ms(applied.apply),
        ms(applied.merge),
        applied.apply.as_secs_f64() / applied.merge.as_secs_f64(),
        applied.object_bytes,
        applied.managed_fields_bytes,
        100.0 * applied.managed_fields_bytes as f64
            / (applied.object_bytes - applied.managed_fields_bytes) as f64,
    );

    // 1b, last: the creates' writes again as raw etcd puts of the same bytes, then as raw create
    // transactions — the physical limit of an etcd-backed server. Last, because they write
    // 20,000 keys beside the server's: before the LISTs they would make the latest etcd revision
    // a change of other keys, which the watch cache cannot tell it holds (a consistent LIST then
    // reads etcd; docs/0024).
    let raw_ratio = raw_etcd_comparison(&pool, &base, &cli, &created, &creates_cpu, label).await?;

    let n = if items.is_multiple_of(1000) && items > 0 {
        format!("{}k", items / 1000)
    } else {
        items.to_string()
    };
    println!(
        "apiserver {label} creates_per_s={:.0} gets_per_s={:.0} list{n}_ms={:.1} list{n}_storage_version_ms={:.1} same_version_ratio={:.2}x conversion_ratio={:.2}x serde_list{n}_ms={:.1} list_ratio={:.1}x list_ratio_vs_serde_compact={:.1}x paged_pinned_vs_unpaged={:.2}x fanout{}_ms={:.1} fanout{}_p50_ms={:.1} fanout{}_http2_ms={:.1} apply_vs_merge={:.2}x nproc={nproc}{}",
        cli.creates as f64 / created.wall.as_secs_f64(),
        median_f(&get_rates),
        ms(list_med),
        ms(storage_med),
        storage_med.as_secs_f64() / storage_serde_med.as_secs_f64(),
        list_med.as_secs_f64() / storage_med.as_secs_f64(),
        ms(serde_med),
        list_med.as_secs_f64() / serde_med.as_secs_f64(),
        list_med.as_secs_f64() / min(&compact_times).as_secs_f64(),
        pinned_med.as_secs_f64() / unpaged_med.as_secs_f64(),
        cli.watchers,
        ms(median(&fan.all)),
        cli.watchers,
        ms(median(&fan.p50)),
        cli.watchers,
        ms(median(&fan_h2.all)),
        applied.apply.as_secs_f64() / applied.merge.as_secs_f64(),
        raw_ratio.map_or(String::new(), |r| format!(" creates_vs_raw_etcd={r:.0}%")),
    );
    Ok(())
}

/// The creates' writes as raw etcd puts of the same bytes and as raw create transactions, at the
/// same concurrency (`--raw-etcd`): prints the comparison, returns creates ÷ raw puts in %.
async fn raw_etcd_comparison(
    pool: &Pool,
    base: &str,
    cli: &Cli,
    created: &Timed,
    creates_cpu: &str,
    label: &str,
) -> Result<Option<f64>, Error> {
    Ok(match &cli.raw_etcd {
        Some(endpoint) => {
            let (body, _) =
                fetch(pool, &format!("{base}{COLLECTION}/{}-000000", cli.prefix)).await?;
            let cpu = CpuUse::now(cli);
            let raw =
                raw_etcd_puts(endpoint, cli.creates, cli.concurrency, body.len(), false).await?;
            let raw_cpu = cpu.per_op_since(cli, cli.creates);
            let server_rate = cli.creates as f64 / created.wall.as_secs_f64();
            let raw_rate = cli.creates as f64 / raw.as_secs_f64();
            // The transaction a create is (put only if the key does not exist), raw.
            let cpu = CpuUse::now(cli);
            let raw_txn =
                raw_etcd_puts(endpoint, cli.creates, cli.concurrency, body.len(), true).await?;
            let raw_txn_cpu = cpu.per_op_since(cli, cli.creates);
            let txn_rate = cli.creates as f64 / raw_txn.as_secs_f64();
            println!(
                "apiserver {label} raw_etcd puts n={} c={} value_bytes={} puts_per_s={raw_rate:.0} creates_vs_raw_etcd={:.0}% create_txns_per_s={txn_rate:.0} creates_vs_raw_create_txns={:.0}% create_txns_vs_puts={:.0}%",
                cli.creates,
                cli.concurrency,
                body.len(),
                100.0 * server_rate / raw_rate,
                100.0 * server_rate / txn_rate,
                // What no server can exceed: a create is such a transaction, made by etcd.
                100.0 * txn_rate / raw_rate,
            );
            // Where the CPU of two shared cores goes, per write: what bounds each rate.
            println!("apiserver {label} cpu_per_write creates {creates_cpu}");
            println!("apiserver {label} cpu_per_write raw_puts {raw_cpu}");
            println!("apiserver {label} cpu_per_write raw_create_txns {raw_txn_cpu}");
            Some(100.0 * server_rate / raw_rate)
        }
        None => None,
    })
}

struct Applied {
    apply: Duration,
    merge: Duration,
    object_bytes: usize,
    managed_fields_bytes: usize,
}

/// One Alert with 50 labels, 10 applied by each of 5 managers; then, alternately, manager 0
/// applies its configuration with one label changed (forced: the merge patch took it) and a
/// merge patch changes that label back, `runs` times each. Medians of each, and the size of the
/// object's JSON with and without its managedFields.
async fn apply_vs_merge(pool: &Pool, base: &str, runs: usize) -> Result<Applied, Error> {
    let url = format!("{base}{STORAGE_COLLECTION}/apply-bench");
    let config = |m: usize, first: &str| {
        let labels: serde_json::Map<String, Value> = (0..10)
            .map(|i| {
                let v = if i == 0 {
                    first.to_string()
                } else {
                    format!("v{i}")
                };
                (format!("m{m}-l{i}"), Value::String(v))
            })
            .collect();
        serde_json::json!({
            "apiVersion": "pager.k8s.co/v1beta1", "kind": "Alert",
            "metadata": {"name": "apply-bench", "labels": labels},
            "spec": {"title": "apply", "content": "bench"}
        })
    };
    for m in 0..5 {
        send_patch(
            pool,
            &format!("{url}?fieldManager=manager-{m}&force=true"),
            "application/apply-patch+yaml",
            config(m, "v0").to_string(),
        )
        .await?;
    }
    let (mut apply, mut merge) = (Vec::new(), Vec::new());
    for i in 0..runs.max(1) {
        let t = Instant::now();
        send_patch(
            pool,
            &format!("{url}?fieldManager=manager-0&force=true"),
            "application/apply-patch+yaml",
            config(0, &format!("a{i}")).to_string(),
        )
        .await?;
        apply.push(t.elapsed());
        let t = Instant::now();
        send_patch(
            pool,
            &format!("{url}?fieldManager=editor"),
            "application/merge-patch+json",
            serde_json::json!({"metadata": {"labels": {"m0-l0": format!("b{i}")}}}).to_string(),
        )
        .await?;
        merge.push(t.elapsed());
    }
    let (body, _) = fetch(pool, &url).await?;
    let mut obj: Value = serde_json::from_slice(&body)?;
    let with = serde_json::to_vec(&obj)?.len();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let without = serde_json::to_vec(&obj)?.len();
    Ok(Applied {
        apply: median(&apply),
        merge: median(&merge),
        object_bytes: with,
        managed_fields_bytes: with - without,
    })
}

async fn send_patch(pool: &Pool, url: &str, content_type: &str, body: String) -> Result<(), Error> {
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(url)
        .header(CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))?;
    let resp = pool.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!(
            "PATCH {url}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
        .into());
    }
    Ok(())
}

struct Timed {
    wall: Duration,
    lat: Vec<Duration>,
}

/// Trusts `--ca-file` (or nothing: plain HTTP only) and presents `--client-cert`.
fn tls_config(cli: &Cli) -> Result<rustls::ClientConfig, Error> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &cli.ca_file {
        for cert in CertificateDer::pem_file_iter(ca)? {
            roots.add(cert?)?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    Ok(match &cli.client_cert {
        Some(path) => {
            let chain = CertificateDer::pem_file_iter(path)?.collect::<Result<Vec<_>, _>>()?;
            let key = PrivateKeyDer::from_pem_file(path)?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    })
}

/// A SubjectAccessReview stand-in that allows everything (the delegated-authorization runs
/// measure the server's cache, not a reviewer).
async fn serve_sar(addr: SocketAddr) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let reviews = Arc::new(AtomicU64::new(0));
    loop {
        let (tcp, _) = listener.accept().await?;
        let reviews = reviews.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let reviews = reviews.clone();
                async move {
                    let body = req.into_body().collect().await?.to_bytes();
                    let review: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let n = reviews.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_power_of_two() {
                        eprintln!("stand-in: {n} SubjectAccessReviews");
                    }
                    let answer = serde_json::json!({
                        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                        "spec": review["spec"], "status": {"allowed": true}
                    });
                    Ok::<_, hyper::Error>(
                        hyper::Response::builder()
                            .header(CONTENT_TYPE, "application/json")
                            .body(Full::new(Bytes::from(
                                serde_json::to_vec(&answer).unwrap_or_default(),
                            )))
                            .expect("response"),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn alert_body(name: &str) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "pager.k8s.co/v1alpha1",
            "kind": "Alert",
            "metadata": {"name": name},
            "spec": {"message": format!("benchmark alert {name}")},
        }))
        .expect("json"),
    )
}

async fn create(pool: &Pool, url: &str, name: &str) -> Result<(), Error> {
    let req = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(alert_body(name)))?;
    let resp = pool.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if status != StatusCode::CREATED {
        return Err(format!(
            "create {name}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
        .into());
    }
    Ok(())
}

/// One LIST of the collection, unpaged (`limit` `None`) or page by page; with `writer`, one
/// Alert is created in namespace `bench-paged` after each page (not timed), so later pages are
/// read at the first page's revision while the store has moved on. Returns the time, the items
/// and the pages.
async fn paged_list(
    pool: &Pool,
    base: &str,
    limit: Option<usize>,
    writer: Option<&str>,
) -> Result<(Duration, usize, usize), Error> {
    #[derive(serde::Deserialize)]
    struct Page {
        metadata: PageMeta,
        items: Vec<serde::de::IgnoredAny>,
    }
    #[derive(serde::Deserialize)]
    struct PageMeta {
        #[serde(default, rename = "continue")]
        continue_token: Option<String>,
    }
    let mut token: Option<String> = None;
    let (mut elapsed, mut items, mut pages) = (Duration::ZERO, 0, 0);
    loop {
        let mut url = format!("{base}{COLLECTION}");
        if let Some(limit) = limit {
            url.push_str(&format!("?limit={limit}"));
            if let Some(t) = &token {
                let t = t
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D");
                url.push_str(&format!("&continue={t}"));
            }
        }
        let t = Instant::now();
        let (body, status) = fetch(pool, &url).await?;
        if status != StatusCode::OK {
            return Err(format!("paged LIST: {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        let page: Page = serde_json::from_slice(&body)?;
        elapsed += t.elapsed();
        items += page.items.len();
        pages += 1;
        token = page.metadata.continue_token.filter(|t| !t.is_empty());
        let Some(_) = &token else { break };
        if let Some(writer) = writer {
            let ns_url = format!("{base}/apis/pager.k8s.co/v1alpha1/namespaces/bench-paged/alerts");
            create(pool, &ns_url, &format!("{writer}-{pages}")).await?;
        }
    }
    Ok((elapsed, items, pages))
}

fn check_count(got: usize, want: usize, what: &str) -> Result<(), Error> {
    if got != want {
        return Err(format!("{what} LIST returned {got} items, expected {want}").into());
    }
    Ok(())
}

async fn fetch(pool: &Pool, url: &str) -> Result<(Bytes, StatusCode), Error> {
    fetch_as(pool, url, "application/json").await
}

async fn fetch_as(pool: &Pool, url: &str, accept: &str) -> Result<(Bytes, StatusCode), Error> {
    let req = Request::builder()
        .uri(url)
        .header(hyper::header::ACCEPT, accept)
        .body(Full::new(Bytes::new()))?;
    let resp = pool.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((body, status))
}

/// Runs `n` jobs `0..n` on `c` tasks that take indexes from a shared counter.
async fn drive<F, Fut>(n: usize, c: usize, job: F) -> Result<Timed, Error>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), Error>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let job = Arc::new(job);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c.max(1) {
        let next = next.clone();
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return Ok::<_, Error>(lat);
                }
                let t = Instant::now();
                job(i).await?;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        lat.extend(t.await??);
    }
    let wall = start.elapsed();
    lat.sort();
    Ok(Timed { wall, lat })
}

async fn creates(pool: &Pool, base: &str, cli: &Cli) -> Result<Timed, Error> {
    let pool = pool.clone();
    let url = format!("{base}{COLLECTION}");
    let prefix = cli.prefix.clone();
    drive(cli.creates, cli.concurrency, move |i| {
        let pool = pool.clone();
        let url = url.clone();
        let name = format!("{prefix}-{i:06}");
        async move { create(&pool, &url, &name).await }
    })
    .await
}

async fn gets(pool: &Pool, base: &str, cli: &Cli, seed: u64) -> Result<Timed, Error> {
    let pool = pool.clone();
    let base = format!("{base}{COLLECTION}");
    let prefix = cli.prefix.clone();
    let n = cli.creates as u64;
    drive(cli.gets, cli.concurrency, move |i| {
        let pool = pool.clone();
        let k = splitmix64(seed.wrapping_mul(0x1_0000_0000) ^ i as u64) % n.max(1);
        let url = format!("{base}/{prefix}-{k:06}");
        async move {
            let (body, status) = fetch(&pool, &url).await?;
            if status != StatusCode::OK {
                return Err(format!(
                    "get {url}: {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )
                .into());
            }
            Ok(())
        }
    })
    .await
}

/// One fan-out's line: `apiserver <label> <name> watchers=… all_ms_median=… …`.
fn print_fanout(label: &str, name: &str, cli: &Cli, fan: &Fanout) {
    println!(
        "apiserver {label} {name} watchers={} connections={} runs={} open_s={:.3} all_ms_median={:.2} all_ms_min={:.2} p50_ms_median={:.2} first_ms_median={:.2} create_ms_median={:.2} server_cpu_us_per_delivery={} client_cpu_us_per_delivery={} runs_all_ms=[{}]",
        cli.watchers,
        fan.connections,
        fan.all.len(),
        fan.open.as_secs_f64(),
        ms(median(&fan.all)),
        ms(min(&fan.all)),
        ms(median(&fan.p50)),
        ms(median(&fan.first)),
        ms(median(&fan.create)),
        fan.server_cpu_us.map_or("?".into(), |c| format!("{c:.2}")),
        fan.client_cpu_us.map_or("?".into(), |c| format!("{c:.2}")),
        fan.all
            .iter()
            .map(|d| format!("{:.1}", ms(*d)))
            .collect::<Vec<_>>()
            .join(","),
    );
}

struct Fanout {
    /// TCP connections the watches used.
    connections: usize,
    open: Duration,
    all: Vec<Duration>,
    p50: Vec<Duration>,
    /// When the first watcher saw the event: the store's commit and the way to the watchers.
    first: Vec<Duration>,
    create: Vec<Duration>,
    /// The server's resident memory with every watch open, after the runs.
    rss: Option<u64>,
    /// CPU microseconds per delivered event (one event to one watcher), server and load
    /// generator (which share the cores).
    server_cpu_us: Option<f64>,
    client_cpu_us: Option<f64>,
}

/// What a watcher reports: one event as it came (a JSON line or a protobuf frame) and when its
/// last byte arrived, or an error. Events are decoded and checked after the run's last one
/// arrived: decoding on arrival would put the load generator's own decoding of 1,000 events on
/// the cores the server delivers with, and make the last watcher wait for the others'.
type Seen = Result<(Delivered, Instant), String>;

/// What the readers report to the fan-out's timing loop: every line a read brought, at once, so
/// that a thousand deliveries wake that loop a few times, not a thousand (the load generator
/// shares the server's two cores).
type SeenTx = mpsc::UnboundedSender<Vec<Seen>>;

/// A watch event's bytes, undecoded.
enum Delivered {
    Json(Vec<u8>),
    Protobuf(Vec<u8>),
}

impl Delivered {
    /// The run of the `<fan_prefix><run>` Alert this event adds, decoded as a client would (the
    /// typed Alert, from JSON or protobuf); an error for anything else.
    fn added_run(&self, fan_prefix: &str) -> Result<usize, Error> {
        let alert = match self {
            Delivered::Json(line) => {
                match serde_json::from_slice::<WatchLine<pager::v1alpha1::Alert>>(line) {
                    Ok(ev) if ev.kind == "ADDED" => ev.object,
                    Ok(ev) => return Err(format!("a {} event", ev.kind).into()),
                    Err(_) => {
                        let ev: WatchLine<Value> = serde_json::from_slice(line)?;
                        return Err(format!("{} event: {}", ev.kind, ev.object).into());
                    }
                }
            }
            Delivered::Protobuf(frame) => {
                use kube_codegen_protobuf::envelope;
                let (event_type, object) = envelope::decode_watch_event(frame)?;
                if event_type != "ADDED" {
                    return Err(format!("a protobuf {event_type} event").into());
                }
                envelope::decode_object::<pager::v1alpha1::Alert>(&object)?.1
            }
        };
        let name = alert.metadata.name.as_deref().unwrap_or("");
        name.strip_prefix(fan_prefix)
            .and_then(|r| r.parse::<usize>().ok())
            .ok_or_else(|| format!("an ADDED event of {name}").into())
    }
}

/// How the fan-out's watches reach the server.
#[derive(Clone, Copy, PartialEq)]
enum Transport {
    /// One HTTP/1.1 connection per watch.
    Http1,
    /// HTTP/2, the watches multiplexed `HTTP2_STREAMS` to a connection: what client-go's shared
    /// transport and kube-aggregator's proxy do (over TLS, where ALPN picks HTTP/2).
    Http2,
}

/// Watches per HTTP/2 connection: the server's limit (`HTTP2_MAX_STREAMS_PER_CONNECTION`).
const HTTP2_STREAMS: usize = 1000;

/// A connection a watch is opened on; held (never read) for as long as the watch is read:
/// dropping an HTTP/1.1 sender closes its connection.
#[allow(dead_code)]
enum WatchConn {
    Http1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

async fn fanout(
    pool: &Pool,
    base: &str,
    cli: &Cli,
    rv: &str,
    protobuf: bool,
    transport: Transport,
) -> Result<Fanout, Error> {
    let addr = cli.addr.ok_or("--addr is required")?;
    // HTTP/2: the shared connections first (h2c, prior knowledge).
    let mut shared = Vec::new();
    if transport == Transport::Http2 {
        for _ in 0..cli.watchers.div_ceil(HTTP2_STREAMS) {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                TokioIo::new(tcp),
            )
            .await?;
            tokio::spawn(conn);
            shared.push(sender);
        }
    }
    let path = format!("{COLLECTION}?watch=1&resourceVersion={rv}");
    let fan_prefix = format!(
        "{}-fan{}{}-",
        cli.prefix,
        if protobuf { "pb" } else { "" },
        if transport == Transport::Http2 {
            "h2"
        } else {
            ""
        }
    );
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    // HTTP/2 JSON watches: opened by their tasks, read by one task per connection, which costs
    // the load generator (sharing the server's two cores) far less than a task per watch.
    let read_together = transport == Transport::Http2 && !protobuf && !cli.reader_per_watch;
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<(usize, WatchConn, Incoming)>();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<Vec<Seen>>();
    // Bound concurrent connects so that the listen backlog never overflows.
    let connects = Arc::new(Semaphore::new(64));
    let open_start = Instant::now();
    let mut handles = Vec::new();
    for i in 0..cli.watchers {
        let path = path.clone();
        let ready_tx = ready_tx.clone();
        let seen_tx = seen_tx.clone();
        let connects = connects.clone();
        let opened_tx = opened_tx.clone();
        let via = shared.get(i / HTTP2_STREAMS).cloned();
        let fan_prefix = fan_prefix.clone();
        handles.push(tokio::spawn(async move {
            let opened = {
                let _permit = connects.acquire().await;
                open_watch(addr, via, &path, protobuf).await
            };
            let (sender, body) = match opened {
                Ok(x) => x,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            if read_together {
                let _ = opened_tx.send((i, sender, body));
                let _ = ready_tx.send(Ok(()));
                return;
            }
            let _sender = sender;
            let _ = ready_tx.send(Ok(()));
            let read = if protobuf {
                read_protobuf_watch(body, &fan_prefix, &seen_tx).await
            } else {
                read_watch(body, &fan_prefix, &seen_tx).await
            };
            if let Err(e) = read {
                let _ = seen_tx.send(vec![Err(e.to_string())]);
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..cli.watchers {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(format!("opening a watch: {e}").into()),
            None => return Err("watch tasks ended early".into()),
        }
    }
    drop(opened_tx);
    // The streams' senders are kept until the fan-out ends (dropping one would not close its
    // stream, but the connection must outlive the reads).
    let mut senders = Vec::new();
    if read_together {
        let mut by_connection: Vec<Vec<Incoming>> = Vec::new();
        let mut opened = Vec::with_capacity(cli.watchers);
        while let Some(o) = opened_rx.recv().await {
            opened.push(o);
        }
        opened.sort_by_key(|(i, _, _)| *i);
        for (i, sender, body) in opened {
            if by_connection.len() <= i / HTTP2_STREAMS {
                by_connection.push(Vec::new());
            }
            by_connection[i / HTTP2_STREAMS].push(body);
            senders.push(sender);
        }
        for bodies in by_connection {
            let (fan_prefix, seen_tx) = (fan_prefix.clone(), seen_tx.clone());
            handles.push(tokio::spawn(async move {
                read_watches(bodies, &fan_prefix, &seen_tx).await
            }));
        }
    }
    let open = open_start.elapsed();
    // The server subscribes before it returns the 200 headers, so every watch is registered
    // now; a short pause lets both sides go idle before the first timed create.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let url = format!("{base}{COLLECTION}");
    let mut result = Fanout {
        connections: if shared.is_empty() {
            cli.watchers
        } else {
            shared.len()
        },
        open,
        all: Vec::new(),
        p50: Vec::new(),
        first: Vec::new(),
        create: Vec::new(),
        rss: None,
        server_cpu_us: None,
        client_cpu_us: None,
    };
    let cpu_start = (server_cpu_time(cli), cpu_time(None));
    // Reported lines not taken yet (a batch may hold the next run's too).
    let mut pending = std::collections::VecDeque::new();
    for run in 0..cli.fanout_runs.max(1) {
        let name = format!("{fan_prefix}{run}");
        let t0 = Instant::now();
        create(pool, &url, &name).await?;
        result.create.push(t0.elapsed());
        let mut lat = Vec::with_capacity(cli.watchers);
        let mut events = Vec::with_capacity(cli.watchers);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(cli.fanout_timeout);
        while lat.len() < cli.watchers {
            let item = match pending.pop_front() {
                Some(item) => Ok(Some(item)),
                None => match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
                    Ok(Some(batch)) => {
                        pending.extend(batch);
                        continue;
                    }
                    Ok(None) => Ok(None),
                    Err(elapsed) => Err(elapsed),
                },
            };
            match item {
                Ok(Some(Ok((event, at)))) => {
                    lat.push(at.saturating_duration_since(t0));
                    events.push(event);
                }
                Ok(Some(Err(e))) => return Err(format!("run {run}: a watch failed: {e}").into()),
                Ok(None) => return Err("every watcher ended".into()),
                Err(_) => {
                    return Err(format!(
                        "run {run}: only {} of {} watchers saw the event within {}s",
                        lat.len(),
                        cli.watchers,
                        cli.fanout_timeout
                    )
                    .into());
                }
            }
        }
        // Every watcher saw exactly this run's Alert added.
        for event in &events {
            match event.added_run(&fan_prefix) {
                Ok(r) if r == run => {}
                Ok(r) => return Err(format!("run {run}: a watcher saw run {r}'s event").into()),
                Err(e) => return Err(format!("run {run}: a watcher saw {e}").into()),
            }
        }
        lat.sort();
        result.all.push(*lat.last().expect("watchers"));
        result.p50.push(pct(&lat, 0.5));
        result.first.push(lat[0]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // CPU per event and watcher: the runs' events, less the pauses between them (idle).
    let deliveries = (cli.fanout_runs.max(1) * cli.watchers.max(1)) as f64;
    let per = |start: Option<Duration>, end: Option<Duration>| {
        Some((end?.saturating_sub(start?)).as_secs_f64() * 1e6 / deliveries)
    };
    result.server_cpu_us = per(cpu_start.0, server_cpu_time(cli));
    result.client_cpu_us = per(cpu_start.1, cpu_time(None));
    result.rss = rss_bytes(cli.server_pid);
    drop(senders);
    for h in handles {
        h.abort();
    }
    Ok(result)
}

/// One watch, on its own HTTP/1.1 connection or as a stream of the HTTP/2 connection `via`;
/// returns once the 200 headers are in, with the connection to keep while the body is read.
async fn open_watch(
    addr: SocketAddr,
    via: Option<hyper::client::conn::http2::SendRequest<Empty<Bytes>>>,
    path: &str,
    protobuf: bool,
) -> Result<(WatchConn, Incoming), Error> {
    let accept = if protobuf {
        "application/vnd.kubernetes.protobuf"
    } else {
        "application/json"
    };
    let (conn, resp) = match via {
        Some(mut sender) => {
            let req = Request::builder()
                .uri(format!("http://{addr}{path}"))
                .header(hyper::header::ACCEPT, accept)
                .body(Empty::<Bytes>::new())?;
            let resp = sender.send_request(req).await?;
            (WatchConn::Http2(sender), resp)
        }
        None => {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let req = Request::builder()
                .uri(path)
                .header(HOST, addr.to_string())
                .header(hyper::header::ACCEPT, accept)
                .body(Empty::<Bytes>::new())?;
            let resp = sender.send_request(req).await?;
            (WatchConn::Http1(sender), resp)
        }
    };
    if resp.status() != StatusCode::OK {
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        return Err(format!(
            "watch: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
        .into());
    }
    Ok((conn, resp.into_body()))
}

/// Reads newline-delimited watch events; reports each ADDED of a `<fan_prefix><run>` Alert.
/// A JSON watch event decoded as a typed client does (the protobuf reader decodes the same
/// `Alert`).
#[derive(serde::Deserialize)]
struct WatchLine<T> {
    #[serde(rename = "type")]
    kind: String,
    object: T,
}

/// Whether an event's bytes name a fan-out Alert (`<fan_prefix>…`): the others (Alerts the
/// rest of the bench creates) are not the fan-out's, and are passed over undecoded.
fn names_fan_alert(event: &[u8], fan_prefix: &memchr::memmem::Finder<'_>) -> bool {
    // A substring search, not a comparison at every offset: the load generator shares the
    // server's two cores, and its per-event cost is added to every fan-out it times.
    fan_prefix.find(event).is_some()
}

/// Reads a JSON watch: sends each fan-out event line, with when it was complete, undecoded
/// (an ERROR event too, to fail the run).
async fn read_watch(mut body: Incoming, fan_prefix: &str, seen: &SeenTx) -> Result<(), Error> {
    let fan = memchr::memmem::Finder::new(fan_prefix);
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let mut batch = Vec::new();
        fan_lines(&mut buf, data, &fan, &mut batch);
        if !batch.is_empty() {
            let _ = seen.send(batch);
        }
    }
    Err("watch ended".into())
}

/// [`read_watch`] for many watches at once (the streams of one HTTP/2 connection), in one task.
async fn read_watches(bodies: Vec<Incoming>, fan_prefix: &str, seen: &SeenTx) {
    use futures_util::{FutureExt, StreamExt};
    let fan = memchr::memmem::Finder::new(fan_prefix);
    let mut bufs = vec![Vec::new(); bodies.len()];
    // Each stream's frames, then `None` when it ends.
    let mut frames =
        futures_util::stream::select_all(bodies.into_iter().enumerate().map(|(i, body)| {
            http_body_util::BodyStream::new(body)
                .map(move |frame| (i, Some(frame)))
                .chain(futures_util::stream::once(futures_util::future::ready((
                    i, None,
                ))))
        }));
    // Each frame is taken (and timed) as soon as it is read; what the frames ready together
    // brought is reported at once.
    let mut next = frames.next().await;
    while let Some((i, frame)) = next {
        let mut batch = Vec::new();
        let mut item = Some((i, frame));
        while let Some((i, frame)) = item {
            match frame {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        fan_lines(&mut bufs[i], data, &fan, &mut batch);
                    }
                }
                Some(Err(e)) => batch.push(Err(e.to_string())),
                None => batch.push(Err("watch ended".into())),
            }
            item = frames.next().now_or_never().flatten();
        }
        if !batch.is_empty() {
            let _ = seen.send(batch);
        }
        next = frames.next().await;
    }
}

/// Takes a watch's `data` just arrived after what `buf` holds: adds each complete line of the
/// fan-out's (and any ERROR event) to `batch`, undecoded, with when it arrived.
fn fan_lines(
    buf: &mut Vec<u8>,
    data: &[u8],
    fan: &memchr::memmem::Finder<'_>,
    batch: &mut Vec<Seen>,
) {
    let arrived = Instant::now();
    buf.extend_from_slice(data);
    // Every complete line; only the fan-out's (and errors) are copied out.
    let mut start = 0;
    while let Some(nl) = memchr::memchr(b'\n', &buf[start..]) {
        let line = &buf[start..=start + nl];
        if names_fan_alert(line, fan) || line.starts_with(b"{\"type\":\"ERROR\"") {
            batch.push(Ok((Delivered::Json(line.to_vec()), arrived)));
        }
        start += nl + 1;
    }
    buf.drain(..start);
}

/// Reads length-prefixed protobuf watch frames: sends each fan-out one, with when it was
/// complete (an ERROR frame too).
async fn read_protobuf_watch(
    mut body: Incoming,
    fan_prefix: &str,
    seen: &SeenTx,
) -> Result<(), Error> {
    use kube_codegen_protobuf::envelope;
    let (fan, error) = (
        memchr::memmem::Finder::new(fan_prefix),
        memchr::memmem::Finder::new("ERROR"),
    );
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let arrived = Instant::now();
        buf.extend_from_slice(data);
        let (frames, used) = envelope::split_frames(&buf);
        let batch: Vec<Seen> = frames
            .into_iter()
            .filter(|f| names_fan_alert(f, &fan) || names_fan_alert(f, &error))
            .map(|f| Ok((Delivered::Protobuf(f.to_vec()), arrived)))
            .collect();
        if !batch.is_empty() {
            let _ = seen.send(batch);
        }
        buf.drain(..used);
    }
    Err("watch ended".into())
}

/// Protobuf vs JSON: the storage version's LIST in each (time and bytes), and one object's
/// encode and decode through the generated protobuf code vs serde_json, in process.
async fn protobuf_vs_json(pool: &Pool, base: &str, cli: &Cli) -> Result<ProtobufVsJson, Error> {
    use kube_codegen_protobuf::{envelope, from_slice, to_vec};
    let url = format!("{base}{STORAGE_COLLECTION}");
    let pb = "application/vnd.kubernetes.protobuf";
    let (json_body, _) = fetch_as(pool, &url, "application/json").await?;
    let (pb_body, status) = fetch_as(pool, &url, pb).await?;
    if status != StatusCode::OK || !pb_body.starts_with(envelope::MAGIC) {
        return Err(format!("protobuf LIST: {status}").into());
    }
    let (mut json_times, mut pb_times) = (Vec::new(), Vec::new());
    for _ in 0..cli.list_runs.max(1) {
        let t = Instant::now();
        let (b, _) = fetch_as(pool, &url, "application/json").await?;
        json_times.push(t.elapsed());
        std::hint::black_box(b);
        let t = Instant::now();
        let (b, _) = fetch_as(pool, &url, pb).await?;
        pb_times.push(t.elapsed());
        std::hint::black_box(b);
    }
    // Per object, in process: the list's items as typed v1beta1 Alerts.
    let list: Value = serde_json::from_slice(&json_body)?;
    let items: Vec<pager::v1beta1::Alert> = serde_json::from_value(list["items"].clone())?;
    let n = items.len().max(1) as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e9 / n;
    let (mut je, mut pe, mut jd, mut pd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut json_bytes, mut pb_bytes) = (0, 0);
    for _ in 0..cli.serde_runs.max(1) {
        let t = Instant::now();
        let json: Vec<Vec<u8>> = items
            .iter()
            .map(|a| serde_json::to_vec(std::hint::black_box(a)))
            .collect::<Result<_, _>>()?;
        je.push(t.elapsed());
        let t = Instant::now();
        let pbs: Vec<Vec<u8>> = items
            .iter()
            .map(|a| to_vec(std::hint::black_box(a)))
            .collect();
        pe.push(t.elapsed());
        let t = Instant::now();
        for j in &json {
            std::hint::black_box(serde_json::from_slice::<pager::v1beta1::Alert>(j)?);
        }
        jd.push(t.elapsed());
        let t = Instant::now();
        for b in &pbs {
            std::hint::black_box(from_slice::<pager::v1beta1::Alert>(b)?);
        }
        pd.push(t.elapsed());
        json_bytes = json.iter().map(Vec::len).sum();
        pb_bytes = pbs.iter().map(Vec::len).sum();
    }
    Ok(ProtobufVsJson {
        list_json: median(&json_times),
        list_pb: median(&pb_times),
        list_json_bytes: json_body.len(),
        list_pb_bytes: pb_body.len(),
        encode_json_ns: per(median(&je)),
        encode_pb_ns: per(median(&pe)),
        decode_json_ns: per(median(&jd)),
        decode_pb_ns: per(median(&pd)),
        object_json_bytes: json_bytes as f64 / n,
        object_pb_bytes: pb_bytes as f64 / n,
    })
}

struct ProtobufVsJson {
    list_json: Duration,
    list_pb: Duration,
    list_json_bytes: usize,
    list_pb_bytes: usize,
    encode_json_ns: f64,
    encode_pb_ns: f64,
    decode_json_ns: f64,
    decode_pb_ns: f64,
    object_json_bytes: f64,
    object_pb_bytes: f64,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Percentile of sorted durations (`q` in 0..=1).
fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(ds: &[Duration]) -> Duration {
    let mut v = ds.to_vec();
    v.sort();
    pct(&v, 0.5)
}

fn min(ds: &[Duration]) -> Duration {
    ds.iter().copied().min().unwrap_or_default()
}

/// `runs` (at least one) timings of `serde_json` writing `value` into `buf`, emptied before each.
fn serialize_into(buf: &mut Vec<u8>, value: &Value, runs: usize) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        buf.clear();
        let t = Instant::now();
        serde_json::to_writer(&mut *buf, std::hint::black_box(value))?;
        times.push(t.elapsed());
        std::hint::black_box(&buf);
    }
    Ok(times)
}

fn median_f(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// `n` puts of `size` bytes to `endpoint` under `/bench-raw/` from `c` tasks: the wall time.
/// `n` raw writes of `size` bytes from `c` tasks: plain puts, or (`txn`) the transaction a
/// create is, `If CreateRevision(key) == 0 Then Put` (under another key prefix).
async fn raw_etcd_puts(
    endpoint: &str,
    n: usize,
    c: usize,
    size: usize,
    txn: bool,
) -> Result<Duration, Error> {
    let client = etcd_client::Client::connect([endpoint], None).await?;
    let value = vec![b'x'; size];
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c.max(1) {
        let (mut kv, next, value) = (client.kv_client(), next.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return Ok::<_, etcd_client::Error>(());
                }
                if txn {
                    use etcd_client::{Compare, CompareOp, Txn, TxnOp};
                    let key = format!("/bench-raw-txn/{i:06}");
                    let txn = Txn::new()
                        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(key, value.clone(), None)]);
                    kv.txn(txn).await?;
                } else {
                    kv.put(format!("/bench-raw/{i:06}"), value.clone(), None)
                        .await?;
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(start.elapsed())
}
