//! `/metrics`: kube-apiserver's request metrics in the Prometheus text format
//! (`prometheus-client`), for the cluster's monitoring to scrape. Authorized as the non-resource
//! URL `/metrics` (verb `get`), as Go's servers authorize it.
//!
//! - `apiserver_request_total{verb, dry_run, group, version, resource, subresource, scope,
//!   component, code}`: every request answered, refusals (401, 403, 429) included;
//! - `apiserver_request_duration_seconds{verb, dry_run, group, version, resource, subresource,
//!   scope, component}`: until the response's headers, watches excluded (they last until the
//!   client leaves);
//! - `apiserver_current_inflight_requests{request_kind}` (`readOnly`, `mutating`) and
//!   `apiserver_longrunning_requests{verb="WATCH"}`: what the server is busy with now.
//!
//! Labels name only what the server serves: a request for a path it does not serve is counted
//! with empty group, version and resource, so that no client can grow the label sets.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use http::{Request, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::auth::RequestInfo;
use crate::limits::Load;

/// kube-apiserver's buckets for `apiserver_request_duration_seconds`.
const DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// A request's labels: static words and the served names, shared (no allocation per request).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verb: &'static str,
    dry_run: &'static str,
    group: Arc<str>,
    version: Arc<str>,
    resource: Arc<str>,
    subresource: &'static str,
    scope: &'static str,
    component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnsweredLabels {
    #[prometheus(flatten)]
    request: RequestLabels,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    request_kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerbLabels {
    verb: String,
}

/// The server's metrics.
pub(crate) struct Metrics {
    /// (group, version, resource) the server serves: the only values its labels take.
    served: Vec<[Arc<str>; 3]>,
    /// The empty name, for what the server does not serve.
    none: Arc<str>,
    load: Load,
    requests: Family<AnsweredLabels, Counter>,
    durations: Family<RequestLabels, Histogram>,
    inflight: Family<KindLabels, Gauge>,
    longrunning: Family<VerbLabels, Gauge>,
    registry: Registry,
    /// Handles of `requests` and `durations` by [`Key`] (metrics share their values with their
    /// family's: clones of one `Arc`).
    counters: std::sync::RwLock<std::collections::HashMap<(Key, u16), Counter>>,
    histograms: std::sync::RwLock<std::collections::HashMap<Key, Histogram>>,
}

impl Metrics {
    pub(crate) fn new(served: Vec<(String, String, String)>, load: Load) -> Self {
        let requests = Family::<AnsweredLabels, Counter>::default();
        let durations = Family::<RequestLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let inflight = Family::<KindLabels, Gauge>::default();
        let longrunning = Family::<VerbLabels, Gauge>::default();
        let mut registry = Registry::default();
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
            durations.clone(),
        );
        registry.register(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
            inflight.clone(),
        );
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests broken out by verb.",
            longrunning.clone(),
        );
        Metrics {
            served: served
                .into_iter()
                .map(|(g, v, r)| [g.into(), v.into(), r.into()])
                .collect(),
            none: Arc::from(""),
            load,
            requests,
            durations,
            inflight,
            longrunning,
            registry,
            counters: Default::default(),
            histograms: Default::default(),
        }
    }

    /// The Prometheus text exposition of every metric, the gauges read now.
    pub(crate) fn encode(&self) -> String {
        let kind = |k: &str| KindLabels {
            request_kind: k.to_string(),
        };
        self.inflight
            .get_or_create(&kind("readOnly"))
            .set(self.load.readonly_inflight() as i64);
        self.inflight
            .get_or_create(&kind("mutating"))
            .set(self.load.mutating_inflight() as i64);
        self.longrunning
            .get_or_create(&VerbLabels {
                verb: "WATCH".into(),
            })
            .set(self.load.watches() as i64);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// What a request is counted as (see [`Key`]), bounded to what the server serves, and
    /// whether it is a watch.
    fn key(&self, req: &mut Request<Body>) -> (Key, bool) {
        // Parsed once for every layer (a malformed query is the handler's 400).
        let query = crate::server::query_of(req).unwrap_or_default();
        let path = crate::server::request_path(req.uri()).unwrap_or_default();
        let watch = crate::server::watches(&path, &query);
        let info = RequestInfo::new(req.method(), &path, watch);
        let served = self.served.iter().position(|[g, v, r]| {
            info.is_resource_request
                && **g == *info.api_group
                && **v == *info.api_version
                && **r == *info.resource
        });
        let apply = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/apply-patch"));
        // Go's `CleanVerb`: the HTTP method for what is not a resource request.
        let method = || match *req.method() {
            http::Method::GET => "GET",
            http::Method::HEAD => "HEAD",
            http::Method::POST => "POST",
            http::Method::PUT => "PUT",
            http::Method::PATCH => "PATCH",
            http::Method::DELETE => "DELETE",
            http::Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let verb = match info.verb.as_str() {
            _ if !info.is_resource_request => method(),
            "list" => "LIST",
            "watch" => "WATCH",
            "get" => "GET",
            "create" => "POST",
            "update" => "PUT",
            "patch" if apply => "APPLY",
            "patch" => "PATCH",
            "delete" => "DELETE",
            "deletecollection" => "DELETECOLLECTION",
            _ => method(),
        };
        let scope = match () {
            _ if served.is_none() => "",
            _ if !info.name.is_empty() => "resource",
            _ if !info.namespace.is_empty() => "namespace",
            _ => "cluster",
        };
        let key = Key {
            verb,
            dry_run: !query.all("dryRun").is_empty(),
            served,
            subresource: match info.subresource.as_str() {
                _ if served.is_none() => "",
                "status" => "status",
                "scale" => "scale",
                _ => "",
            },
            scope,
        };
        (key, watch)
    }

    /// The labels a key stands for (built on a handle's first use only).
    fn labels(&self, key: &Key) -> RequestLabels {
        let [group, version, resource] = match key.served {
            Some(i) => self.served[i].clone(),
            None => [self.none.clone(), self.none.clone(), self.none.clone()],
        };
        RequestLabels {
            verb: key.verb,
            dry_run: if key.dry_run { "All" } else { "" },
            group,
            version,
            resource,
            subresource: key.subresource,
            scope: key.scope,
            component: "apiserver",
        }
    }

    /// The counter of `key` answered with `code`: found by a small key, not by hashing and
    /// comparing the label strings on every request.
    fn counter(&self, key: Key, code: u16) -> Counter {
        if let Some(c) = self
            .counters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(key, code))
        {
            return c.clone();
        }
        let c = self
            .requests
            .get_or_create(&AnsweredLabels {
                request: self.labels(&key),
                code,
            })
            .clone();
        self.counters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((key, code), c.clone());
        c
    }

    /// The latency histogram of `key` (see [`Metrics::counter`]).
    fn histogram(&self, key: Key) -> Histogram {
        if let Some(h) = self
            .histograms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return h.clone();
        }
        let h = self.durations.get_or_create(&self.labels(&key)).clone();
        self.histograms
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, h.clone());
        h
    }
}

/// A request's labels as a few words and numbers: the static words, which served resource
/// (its index), the subresource.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Key {
    verb: &'static str,
    dry_run: bool,
    served: Option<usize>,
    /// `status`, `scale` or none: the subresources served.
    subresource: &'static str,
    scope: &'static str,
}

/// Counts and times every request (outermost, so that refusals count too).
pub(crate) async fn instrument(
    metrics: Arc<Metrics>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (key, watch) = metrics.key(&mut req);
    let started = Instant::now();
    let resp = next.run(req).await;
    if !watch {
        metrics
            .histogram(key)
            .observe(started.elapsed().as_secs_f64());
    }
    metrics.counter(key, resp.status().as_u16()).inc();
    resp
}
