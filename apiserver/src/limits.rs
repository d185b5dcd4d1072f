//! What clients may ask of the server at once: kube-apiserver's `--max-requests-inflight`,
//! `--max-mutating-requests-inflight` and `--request-timeout`, and a bound on open watches.
//!
//! [`LimitsLayer`] is a tower layer; [`crate::ApiServer::into_router`] applies it to every
//! request with the limits set on the [`crate::ApiServerBuilder`]:
//!
//! - **In flight**: at most `max_requests_inflight` (default 400) reads — `GET`, `HEAD`,
//!   `OPTIONS` that are not watches — and, separately, at most `max_mutating_requests_inflight`
//!   (default 200) writes — `POST`, `PUT`, `PATCH`, `DELETE` — are handled at once, as
//!   kube-apiserver's two pools. Beyond them a request is answered at once, never queued: `429
//!   TooManyRequests`, a `Status` with `details.retryAfterSeconds: 1` and a `Retry-After: 1`
//!   header (what client-go and kube-rs back off on).
//! - **Watches** are long-running and counted apart: at most `max_watches` (default 1000) open at
//!   once, beyond which a watch is a 429 the same way. A watch holds its slot until its stream
//!   ends: at its `timeoutSeconds`, when its client goes away, at shutdown, or when its client
//!   stops reading for `watch_send_timeout` (default 10 s; see `server/watch_body.rs`).
//! - **Timeout**: a request that is not a watch gets `request_timeout` (default 60 s) to be
//!   answered — less if it asks with `?timeout=` (Go duration syntax, as kubectl's
//!   `--request-timeout` sends it) — beyond which it is abandoned and answered `504 Timeout`.
//! - Health probes (`/healthz`, `/livez`, `/readyz`) are exempt from all of it, as
//!   kube-apiserver's `probes` flow schema exempts them.
//!
//! A limit of 0 (or a zero timeout) means no limit, as for kube-apiserver's flags.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Status, StatusDetails};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use kube_codegen_apimachinery::validation::go_quote;

use crate::status::ApiError;

/// kube-apiserver's `--max-requests-inflight` default.
pub const DEFAULT_MAX_REQUESTS_INFLIGHT: usize = 400;
/// kube-apiserver's `--max-mutating-requests-inflight` default.
pub const DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT: usize = 200;
/// Open watches at once: a `kubectl get -w` is one, an informer one per kind it follows.
pub const DEFAULT_MAX_WATCHES: usize = 1000;
/// kube-apiserver's `--request-timeout` default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an event of a watch waits for its connection to have room (its client took nothing
/// meanwhile) before the watch is ended.
pub const DEFAULT_WATCH_SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits a server is built with (see the module documentation; 0 = unlimited).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitsConfig {
    pub max_requests_inflight: usize,
    pub max_mutating_requests_inflight: usize,
    pub max_watches: usize,
    pub request_timeout: Duration,
    pub watch_send_timeout: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_requests_inflight: DEFAULT_MAX_REQUESTS_INFLIGHT,
            max_mutating_requests_inflight: DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
            max_watches: DEFAULT_MAX_WATCHES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            watch_send_timeout: DEFAULT_WATCH_SEND_TIMEOUT,
        }
    }
}

/// A pool of slots; 0 = unlimited.
struct Pool {
    slots: Arc<Semaphore>,
    size: usize,
}

impl Pool {
    fn new(limit: usize) -> Self {
        let size = if limit == 0 {
            Semaphore::MAX_PERMITS
        } else {
            limit.min(Semaphore::MAX_PERMITS)
        };
        Pool {
            slots: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    fn try_take(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    fn in_use(&self) -> usize {
        self.size - self.slots.available_permits()
    }
}

/// The server's limits and their slots, shared by the layer and [`Load`].
pub(crate) struct Limits {
    config: LimitsConfig,
    readonly: Pool,
    mutating: Pool,
    watches: Pool,
}

impl Limits {
    pub(crate) fn new(config: LimitsConfig) -> Arc<Self> {
        Arc::new(Limits {
            config,
            readonly: Pool::new(config.max_requests_inflight),
            mutating: Pool::new(config.max_mutating_requests_inflight),
            watches: Pool::new(config.max_watches),
        })
    }
}

/// What a server is busy with now (a cheap handle: see
/// [`ApiServer::load`](crate::ApiServer::load)).
#[derive(Clone)]
pub struct Load(pub(crate) Arc<Limits>);

impl Load {
    /// Watches open now (each until its stream ends; see the module documentation).
    pub fn watches(&self) -> usize {
        self.0.watches.in_use()
    }

    /// Reads being handled now (watches excluded).
    pub fn readonly_inflight(&self) -> usize {
        self.0.readonly.in_use()
    }

    /// Writes being handled now.
    pub fn mutating_inflight(&self) -> usize {
        self.0.mutating.in_use()
    }
}

/// The tower layer enforcing a server's limits (applied by
/// [`ApiServer::into_router`](crate::ApiServer::into_router)).
#[derive(Clone)]
pub struct LimitsLayer(Arc<Limits>);

impl LimitsLayer {
    pub(crate) fn new(limits: Arc<Limits>) -> Self {
        LimitsLayer(limits)
    }
}

impl<S> tower::Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LimitsService {
            inner,
            limits: self.0.clone(),
        }
    }
}

/// The service [`LimitsLayer`] wraps around the router.
#[derive(Clone)]
pub struct LimitsService<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> tower::Service<Request<Body>> for LimitsService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone that was made ready serves this call; the next call gets a fresh one.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let limits = self.limits.clone();
        Box::pin(async move { Ok(admit(&limits, req, move |req| inner.call(req)).await) })
    }
}

/// What a request is to the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Probe,
    Watch,
    Readonly,
    Mutating,
}

/// `query`: the request's parsed query (`None` when malformed: the handler refuses it).
fn classify(req: &Request<Body>, query: Option<&crate::server::Params>) -> Class {
    let path = req.uri().path().trim_end_matches('/');
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if matches!(first, "healthz" | "livez" | "readyz") {
        return Class::Probe;
    }
    let method = req.method();
    if *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS {
        // As the handlers read it.
        let watch = query.is_some_and(|q| crate::server::watches(req.uri().path(), q));
        if watch && *method == Method::GET {
            Class::Watch
        } else {
            Class::Readonly
        }
    } else {
        Class::Mutating
    }
}

async fn admit<F, Fut>(limits: &Limits, req: Request<Body>, call: F) -> Response<Body>
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Infallible>>,
{
    let served = |r: Result<Response<Body>, Infallible>| match r {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    let mut req = req;
    let query = crate::server::query_of(&mut req).ok();
    match classify(&req, query.as_deref()) {
        Class::Probe => served(call(req).await),
        Class::Watch => {
            let Some(permit) = limits.watches.try_take() else {
                return too_many_requests();
            };
            // The watch handler takes the slot into the task that streams the watch; a watch
            // refused before that frees it when this scope ends.
            let slot = WatchSlot {
                _permit: permit,
                send_timeout: limits.config.watch_send_timeout,
            };
            served(WATCH_SLOT.scope(Cell::new(Some(slot)), call(req)).await)
        }
        class => {
            // `?timeout=` is checked first, as kube-apiserver's request-deadline filter runs
            // before its in-flight limit.
            let asked = match query.as_ref().and_then(|q| q.get("timeout")) {
                None => None,
                Some(t) => match parse_go_duration(t) {
                    Ok(d) => d,
                    Err(e) => {
                        return status_response(
                            &ApiError::bad_request(format!(
                                "invalid timeout specified in the request URL - {e}"
                            ))
                            .typed_status(),
                            None,
                        );
                    }
                },
            };
            let pool = if class == Class::Mutating {
                &limits.mutating
            } else {
                &limits.readonly
            };
            let Some(_permit) = pool.try_take() else {
                return too_many_requests();
            };
            let configured = Some(limits.config.request_timeout).filter(|d| !d.is_zero());
            let timeout = match (configured, asked) {
                (Some(c), Some(a)) => Some(c.min(a)),
                (c, a) => c.or(a),
            };
            match timeout {
                None => served(call(req).await),
                Some(d) => match tokio::time::timeout(d, call(req)).await {
                    Ok(r) => served(r),
                    Err(_) => gateway_timeout(),
                },
            }
        }
    }
}

/// The open-watch slot of a watch request, handed to the watch handler through a task-local
/// (the handler runs inside the layer's future), with the server's watch settings.
pub(crate) struct WatchSlot {
    _permit: OwnedSemaphorePermit,
    pub(crate) send_timeout: Duration,
}

tokio::task_local! {
    static WATCH_SLOT: Cell<Option<WatchSlot>>;
}

/// The slot [`LimitsLayer`] reserved for the watch being handled (`None` outside the layer):
/// the watch keeps it until its stream ends.
pub(crate) fn take_watch_slot() -> Option<WatchSlot> {
    WATCH_SLOT.try_with(Cell::take).ok().flatten()
}

fn status_response(status: &Status, retry_after: Option<&'static str>) -> Response<Body> {
    let code = status
        .code
        .and_then(|c| u16::try_from(c).ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        // As every error answer: no browser reads it as anything but JSON.
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(after) = retry_after {
        resp = resp.header(header::RETRY_AFTER, HeaderValue::from_static(after));
    }
    resp.body(Body::from(serde_json::to_vec(status).unwrap_or_default()))
        .expect("response")
}

/// 429, as kube-apiserver answers beyond its in-flight limits (typed, with `retryAfterSeconds`).
fn too_many_requests() -> Response<Body> {
    status_response(
        &Status {
            status: Some("Failure".into()),
            message: Some("Too many requests, please try again later.".into()),
            reason: Some("TooManyRequests".into()),
            code: Some(429),
            details: Some(StatusDetails {
                retry_after_seconds: Some(1),
                ..StatusDetails::default()
            }),
            ..Status::default()
        },
        Some("1"),
    )
}

/// 504, Go's `NewTimeoutError` as the timeout filter writes it.
fn gateway_timeout() -> Response<Body> {
    status_response(
        &Status {
            status: Some("Failure".into()),
            message: Some(
                "Timeout: request did not complete within requested timeout - context deadline exceeded"
                    .into(),
            ),
            reason: Some("Timeout".into()),
            code: Some(504),
            details: Some(StatusDetails::default()),
            ..Status::default()
        },
        None,
    )
}

/// Go's `time.ParseDuration` (what `?timeout=` holds): `Ok(None)` for zero or negative (no
/// timeout of the caller's), an error worded as Go's.
fn parse_go_duration(text: &str) -> Result<Option<Duration>, String> {
    let quoted = go_quote(text);
    let invalid = || format!("time: invalid duration {quoted}");
    let (negative, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Ok(None);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut nanos = 0f64;
    let not_digit = |c: char| !c.is_ascii_digit();
    while !s.is_empty() {
        let (int, rest) = s.split_at(s.find(not_digit).unwrap_or(s.len()));
        let (frac, rest) = match rest.strip_prefix('.') {
            Some(r) => r.split_at(r.find(not_digit).unwrap_or(r.len())),
            None => ("", rest),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, rest) = rest.split_at(unit_end);
        let scale = match unit {
            "" => return Err(format!("time: missing unit in duration {quoted}")),
            "ns" => 1e0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {quoted}",
                    go_quote(other)
                ));
            }
        };
        let value: f64 = format!("0{int}.{frac}0").parse().map_err(|_| invalid())?;
        nanos += value * scale;
        s = rest;
    }
    if nanos > i64::MAX as f64 {
        return Err(invalid());
    }
    if negative || nanos < 1.0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_nanos(nanos as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, uri: &str) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn classes() {
        let base = "/apis/pager.k8s.co/v1alpha1/namespaces/default/alerts";
        for (method, uri, class) in [
            (Method::GET, "/healthz", Class::Probe),
            (Method::GET, "/readyz/", Class::Probe),
            (Method::GET, "/livez?verbose", Class::Probe),
            (Method::GET, "/healthzz", Class::Readonly),
            (Method::GET, base, Class::Readonly),
            (Method::GET, &format!("{base}?watch=true"), Class::Watch),
            (
                Method::GET,
                &format!("{base}?watch=1&limit=2"),
                Class::Watch,
            ),
            // The first value counts, as in Go.
            (
                Method::GET,
                &format!("{base}?watch=true&watch=false"),
                Class::Watch,
            ),
            // The deprecated `/watch/` path is a watch too.
            (
                Method::GET,
                "/apis/pager.k8s.co/v1alpha1/watch/namespaces/default/alerts",
                Class::Watch,
            ),
            (Method::GET, &format!("{base}?watch=false"), Class::Readonly),
            (Method::HEAD, &format!("{base}?watch=true"), Class::Readonly),
            (Method::POST, base, Class::Mutating),
            (Method::PUT, &format!("{base}/a"), Class::Mutating),
            (Method::PATCH, &format!("{base}/a"), Class::Mutating),
            (
                Method::DELETE,
                &format!("{base}?watch=true"),
                Class::Mutating,
            ),
        ] {
            let mut r = req(method.clone(), uri);
            let query = crate::server::query_of(&mut r).ok();
            assert_eq!(classify(&r, query.as_deref()), class, "{method} {uri}");
        }
    }

    #[test]
    fn go_durations() {
        let ok = |s: &str| parse_go_duration(s).unwrap();
        assert_eq!(ok("30s"), Some(Duration::from_secs(30)));
        assert_eq!(ok("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(ok("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(ok("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(ok(".5s"), Some(Duration::from_millis(500)));
        assert_eq!(ok("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(ok("10us"), Some(Duration::from_micros(10)));
        assert_eq!(ok("10µs"), Some(Duration::from_micros(10)));
        assert_eq!(ok("+2s"), Some(Duration::from_secs(2)));
        assert_eq!(ok("0"), None);
        assert_eq!(ok("0s"), None);
        assert_eq!(ok("-5s"), None);
        assert_eq!(
            parse_go_duration("abc").unwrap_err(),
            "time: invalid duration \"abc\""
        );
        assert_eq!(
            parse_go_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse_go_duration("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("-").is_err());
        assert!(parse_go_duration(".s").is_err());
        assert!(parse_go_duration("9999999999h").is_err());
        // Arbitrary input never panics.
        for s in [
            "é", "1é", "1.é", "\u{0}", "1.2.3s", "--1s", "1s2", "µs", "1µ",
        ] {
            let _ = parse_go_duration(s);
        }
    }
}
