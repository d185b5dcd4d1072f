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

use std::collections::HashSet;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verb: String,
    dry_run: String,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: String,
    component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnsweredLabels {
    #[prometheus(flatten)]
    request: RequestLabels,
    code: String,
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
    served: HashSet<(String, String, String)>,
    load: Load,
    requests: Family<AnsweredLabels, Counter>,
    durations: Family<RequestLabels, Histogram>,
    inflight: Family<KindLabels, Gauge>,
    longrunning: Family<VerbLabels, Gauge>,
    registry: Registry,
}

impl Metrics {
    pub(crate) fn new(served: HashSet<(String, String, String)>, load: Load) -> Self {
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
            served,
            load,
            requests,
            durations,
            inflight,
            longrunning,
            registry,
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

    /// The labels of a request, bounded to what the server serves.
    fn labels(&self, req: &mut Request<Body>) -> (RequestLabels, bool) {
        // Parsed once for every layer (a malformed query is the handler's 400).
        let query = crate::server::query_of(req).unwrap_or_default();
        let path = crate::server::request_path(req.uri())
            .map(|p| p.into_owned())
            .unwrap_or_default();
        let watch = crate::server::watches(&path, &query);
        let info = RequestInfo::new(req.method(), &path, watch);
        let served = info.is_resource_request
            && self.served.contains(&(
                info.api_group.clone(),
                info.api_version.clone(),
                info.resource.clone(),
            ));
        let apply = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/apply-patch"));
        // Go's `CleanVerb`: the HTTP method for what is not a resource request.
        let verb = match info.verb.as_str() {
            _ if !info.is_resource_request => req.method().as_str().to_string(),
            "list" => "LIST".into(),
            "watch" => "WATCH".into(),
            "get" => "GET".into(),
            "create" => "POST".into(),
            "update" => "PUT".into(),
            "patch" if apply => "APPLY".into(),
            "patch" => "PATCH".into(),
            "delete" => "DELETE".into(),
            "deletecollection" => "DELETECOLLECTION".into(),
            _ => req.method().as_str().to_string(),
        };
        let scope = match () {
            _ if !served => "",
            _ if !info.name.is_empty() => "resource",
            _ if !info.namespace.is_empty() => "namespace",
            _ => "cluster",
        };
        let (group, version, resource, subresource) = if served {
            let sub = if info.subresource == "status" {
                "status"
            } else {
                ""
            };
            (
                info.api_group,
                info.api_version,
                info.resource,
                sub.to_string(),
            )
        } else {
            Default::default()
        };
        let dry_run = if query.all("dryRun").is_empty() {
            ""
        } else {
            "All"
        };
        let labels = RequestLabels {
            verb,
            dry_run: dry_run.into(),
            group,
            version,
            resource,
            subresource,
            scope: scope.into(),
            component: "apiserver".into(),
        };
        (labels, watch)
    }
}

/// Counts and times every request (outermost, so that refusals count too).
pub(crate) async fn instrument(
    metrics: Arc<Metrics>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (labels, watch) = metrics.labels(&mut req);
    let started = Instant::now();
    let resp = next.run(req).await;
    if !watch {
        metrics
            .durations
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    metrics
        .requests
        .get_or_create(&AnsweredLabels {
            request: labels,
            code: resp.status().as_u16().to_string(),
        })
        .inc();
    resp
}
