//! `admission-bench`: what admission costs creates. The pager's Alert resource served
//! in-process (no sockets for the API server itself, so the chain's cost is not lost in HTTP)
//! over a memory store, three ways in the same run, interleaved over rounds: no admission; the
//! pager's two example plugins (default title, a per-namespace rate limit set too high to
//! refuse); and one validating webhook on a local HTTPS server that allows everything. Creates
//! at a given concurrency; prints creates/s per configuration and the overhead ratios.
//!
//!   cargo run --release -p apiserver-bench --bin admission-bench -- [CREATES] [CONCURRENCY] [ROUNDS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use apiserver::{ApiServer, Webhooks};
use apiserver_storage::{AnyStore, MemoryStore};
use axum::body::Body;
use base64::Engine;
use serde_json::{Value, json};
use tower::ServiceExt;

fn resource(plugins: bool) -> apiserver::Resource<pager::Alert, pager_apiserver::AlertStrategy> {
    let base = apiserver::Resource::<pager::Alert>::hub()
        .version::<pager::v1alpha1::Alert>(pager::v1alpha1::OPENAPI_SCHEMAS)
        .version::<pager::v1beta1::Alert>(pager::v1beta1::OPENAPI_SCHEMAS)
        .strategy(pager_apiserver::AlertStrategy);
    if plugins {
        base.mutating(pager_apiserver::DefaultTitle)
            .validating(pager_apiserver::RateLimit::new(
                u32::MAX,
                Duration::from_secs(60),
            ))
    } else {
        base
    }
}

async fn webhook(dir: &std::path::Path) -> String {
    let files = apiserver::serve::certs::self_signed(dir, &["127.0.0.1".into()]).unwrap();
    let ca = std::fs::read_to_string(dir.join(apiserver::serve::certs::GENERATED_CA)).unwrap();
    let tls = apiserver::serve::Tls::new(files, &[]).unwrap();
    let app = axum::Router::new().route(
        "/allow",
        axum::routing::post(|axum::Json(review): axum::Json<Value>| async move {
            axum::Json(
                json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {"uid": review["request"]["uid"], "allowed": true}}),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(apiserver::serve::serve(
        listener,
        app,
        Some(tls),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    serde_json::to_string(&json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "allow"},
        "webhooks": [{"name": "allow.example.com",
            "clientConfig": {"url": format!("https://{addr}/allow"),
                             "caBundle": base64::engine::general_purpose::STANDARD.encode(ca)},
            "rules": [{"operations": ["CREATE"], "apiGroups": ["pager.k8s.co"], "apiVersions": ["*"], "resources": ["alerts"]}],
            "sideEffects": "None", "admissionReviewVersions": ["v1"]}]
    }))
    .unwrap()
}

async fn creates(app: &axum::Router, n: usize, concurrency: usize, round: usize) -> f64 {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (app, next) = (app.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let body = json!({"metadata": {"name": format!("r{round}-{i:06}")},
                                      "spec": {"content": "Disk full\nsda1 at 99%"}});
                    let req = axum::http::Request::post(
                        "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts",
                    )
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                    let resp = app.clone().oneshot(req).await.unwrap();
                    assert_eq!(resp.status(), 201, "create {i}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(5_000);
    let concurrency = args.get(1).copied().unwrap_or(16);
    let rounds = args.get(2).copied().unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let hooks = webhook(dir.path()).await;
    let build = |plugins: bool, webhooks: Option<&str>| {
        let mut b =
            ApiServer::builder(AnyStore::Memory(MemoryStore::new())).resource(resource(plugins));
        if let Some(yaml) = webhooks {
            b = b.admission_webhooks(Webhooks::from_yaml(yaml).unwrap());
        }
        b.build().unwrap().into_router()
    };
    let configs = [
        ("none", build(false, None)),
        ("plugins", build(true, None)),
        ("webhook", build(false, Some(&hooks))),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    for round in 0..rounds {
        for (i, (_, app)) in configs.iter().enumerate() {
            rates[i].push(creates(app, n, concurrency, round).await);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let m: Vec<f64> = rates.iter().map(|r| median(r)).collect();
    for (i, (name, _)) in configs.iter().enumerate() {
        println!(
            "admission {name} creates={n} concurrency={concurrency} rounds={rounds} creates_per_s_median={:.0} runs=[{}]",
            m[i],
            rates[i]
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    println!(
        "admission summary none={:.0}/s plugins={:.0}/s ({:.0}%) webhook={:.0}/s ({:.0}%)",
        m[0],
        m[1],
        100.0 * m[1] / m[0],
        m[2],
        100.0 * m[2] / m[0]
    );
}
