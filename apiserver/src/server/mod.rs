//! The HTTP side (Go's `endpoints/handlers`): routing Kubernetes paths, typed request options
//! from the query, content negotiation, responses. Each verb lives in a module of its own
//! ([`read`], [`write`], [`watch`]) and calls the resource's registry
//! ([`crate::registry::RestStorage`]), which alone meets the storage.

mod go_json;
mod list_body;
mod metadata;
mod pretty;
mod protobuf;
mod read;
mod scale;
mod watch;
mod watch_body;
mod write;

use read::{get, list, list_options};
use watch::watch_collection;
use write::{create, delete, delete_collection, patch, update};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use kube_codegen_scheme::ResourceInfo;
use serde_json::{Value, json};

use crate::discovery::{self, GroupDoc};
use crate::object;
use crate::registry::{RestStorage, Scope};
use crate::status::ApiError;
use crate::table::{self, IncludeObject, Output};

/// Go's `MaxRequestBodyBytes`.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// `/version`.
#[derive(Clone, Debug)]
pub struct VersionInfo {
    pub major: String,
    pub minor: String,
    pub git_version: String,
}

impl Default for VersionInfo {
    fn default() -> Self {
        // kubectl picks its client version from this (see the README): 1.32 is what we test.
        VersionInfo {
            major: "1".into(),
            minor: "32".into(),
            git_version: format!("v1.32.0+kube-codegen-{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

pub(crate) struct State {
    pub version: VersionInfo,
    /// How often a watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// By (group, version, plural): the resource's registry (one per resource, shared by its
    /// versions).
    pub resources: HashMap<(String, String, String), Arc<dyn RestStorage>>,
    /// Groups in registration order, versions most preferred first.
    pub groups: Vec<(String, Vec<String>)>,
    pub openapi: crate::OpenApiDocs,
    /// Turns true when the server shuts down: open watch streams end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Authentication and authorization; `None` serves everyone (development only).
    pub guard: Option<Arc<crate::auth::Guard>>,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The store, for the health checks.
    pub store: apiserver_storage::AnyStore,
    /// Where namespaces are known from (`None`: every namespace exists).
    pub namespaces: Option<Arc<dyn crate::registry::namespaces::NamespaceSource>>,
}

impl State {
    fn group_docs(&self) -> Vec<GroupDoc<'_>> {
        self.groups
            .iter()
            .map(|(g, versions)| GroupDoc {
                name: g,
                versions: versions
                    .iter()
                    .map(|v| {
                        let mut rs: Vec<_> = self
                            .resources
                            .iter()
                            .filter(|((rg, rv, _), _)| rg == g && rv == v)
                            .filter_map(|(_, r)| r.info(v))
                            .collect();
                        rs.sort_by_key(|i| i.plural);
                        (v.as_str(), rs)
                    })
                    .collect(),
            })
            .collect()
    }

    /// The version `info`'s resource is stored in.
    fn storage_version(&self, info: &ResourceInfo) -> String {
        self.resources
            .get(&(
                info.group.to_string(),
                info.version.to_string(),
                info.plural.to_string(),
            ))
            .map_or(info.version, |r| r.storage_version())
            .to_string()
    }
}

type Resp = Response<Body>;

fn json_response(code: StatusCode, value: &impl serde::Serialize) -> Resp {
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        // Only a map with non-string keys fails to serialize: never answer it with an empty 200.
        Err(e) => {
            let status = ApiError::new(500, "InternalError", format!("encoding the answer: {e}"));
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &status.to_status());
        }
    };
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

/// An error answered in what the client reads: protobuf when it lists protobuf first.
fn error_for(headers: &HeaderMap, e: &ApiError) -> Resp {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if table::prefers_protobuf(accept) {
        with_error_headers(
            protobuf::status(
                StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &e.to_status(),
            ),
            e,
        )
    } else {
        error_response(e)
    }
}

fn error_response(e: &ApiError) -> Resp {
    with_error_headers(
        json_response(
            StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &e.to_status(),
        ),
        e,
    )
}

/// A server-side failure is logged (a client error is the client's to read): a 500 as an error
/// (a stored object that does not decode names its key); an unavailable or slow store (503,
/// 504) only at debug level, since during an outage every request meets it and the storage
/// layer says so once.
pub(crate) fn log_server_error(e: &ApiError, ending: &str) {
    match e.code {
        500 => {
            tracing::error!(code = e.code, reason = %e.reason, message = %e.message, "{ending} failed")
        }
        501.. => {
            tracing::debug!(code = e.code, reason = %e.reason, message = %e.message, "{ending} failed")
        }
        _ => {}
    }
}

/// A `Status` that says when to retry says it in a `Retry-After` header too, as Go's
/// `responsewriters.ErrorNegotiated` writes it (clients honour the header, not the body); the
/// warnings the request earned before it failed are `Warning` headers; and, as Go's
/// `RespondWithError`, `X-Content-Type-Options: nosniff`, so that no browser reads a message
/// holding what the client sent as anything but its content type.
fn with_error_headers(mut resp: Resp, e: &ApiError) -> Resp {
    log_server_error(e, "response");
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !e.warnings.is_empty() {
        resp = write::with_warnings(resp, &e.warnings);
    }
    if let Some(after) = e
        .details
        .as_ref()
        .and_then(|d| d.retry_after_seconds)
        .filter(|s| *s > 0)
        && let Ok(value) = HeaderValue::from_str(&after.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, value);
    }
    resp
}

fn text(code: StatusCode, body: &str) -> Resp {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body.to_string()))
        .expect("response")
}

/// A request's query parameters, percent-decoded: each name's values in the order given. A
/// scalar option is read by its first value, as Go's parameter codec reads a repeated one; a
/// list option (`dryRun`) by all of them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name).and_then(|v| v.first())
    }

    /// Every value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Sets `name` to the one value `value`.
    pub(crate) fn insert(&mut self, name: String, value: String) {
        self.0.insert(name, vec![value]);
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut params = BTreeMap::<String, Vec<String>>::new();
        for (k, v) in pairs {
            params.entry(k.into()).or_default().push(v.into());
        }
        Params(params)
    }
}

/// A request's query parameters, percent-decoded. The one reading of the query every layer
/// shares (the guard, the limits, the handlers), so they cannot disagree on what a request asks.
pub(crate) fn parse_query(query: Option<&str>) -> Result<Params, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
    Ok(pairs.into_iter().collect())
}

/// The parsed query as a request extension: whichever layer reads it first (the guard, the
/// limits or the handler) parses it, the others reuse it.
#[derive(Clone, Debug)]
pub(crate) struct Query(Arc<Params>);

/// The request's query, parsed once per request.
pub(crate) fn query_of<B>(req: &mut Request<B>) -> Result<Arc<Params>, ApiError> {
    if let Some(Query(q)) = req.extensions().get::<Query>() {
        return Ok(q.clone());
    }
    let q = Arc::new(parse_query(req.uri().query())?);
    req.extensions_mut().insert(Query(q.clone()));
    Ok(q)
}

/// The request's path, percent-decoded as Go's `URL.Path` is (routing, names and request info
/// read the decoded path: `/alerts/a%31` is `a1`).
pub(crate) fn request_path(uri: &http::Uri) -> Result<std::borrow::Cow<'_, str>, ApiError> {
    percent_encoding::percent_decode_str(uri.path())
        .decode_utf8()
        .map_err(|_| ApiError::bad_request("the request path is not UTF-8 once decoded"))
}

/// Whether a request is a watch (`watch=true`, `watch`, `watch=1`, …), as the handlers read it.
pub(crate) fn is_watch(query: &Params) -> bool {
    query.get("watch").is_some_and(|v| query_bool(v))
}

/// Whether a request to `path` is a watch: by its query, or by the deprecated
/// `/apis/<g>/<v>/watch/…` path.
pub(crate) fn watches(path: &str, query: &Params) -> bool {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let by_path = segments.next() == Some("apis")
        && segments.nth(2) == Some("watch")
        && segments.next().is_some();
    by_path || is_watch(query)
}

/// An integer query parameter as apimachinery's parameter codec reads it (`strconv.ParseInt`):
/// absent or empty is `None`; anything else must be a 64-bit integer, else a 400 with Go's
/// message (`strconv.ParseInt: parsing "abc": invalid syntax`) — never silently dropped.
fn query_int(ctx: &Ctx<'_>, name: &str) -> Result<Option<i64>, ApiError> {
    match ctx.param(name) {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|e| {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "value out of range"
                }
                _ => "invalid syntax",
            };
            ApiError::bad_request(format!("strconv.ParseInt: parsing {s:?}: {why}"))
        }),
    }
}

/// A boolean query parameter that is present, as apimachinery's parameter codec reads it
/// (`Convert_Slice_string_To_bool`): true unless it is `0` or `false` (in any case); an empty
/// value (`?watch`) is true.
pub(crate) fn query_bool(value: &str) -> bool {
    !(value == "0" || value.eq_ignore_ascii_case("false"))
}

/// A conditional GET (or HEAD) whose `If-None-Match` names the `ETag` of the answer — the
/// discovery and OpenAPI documents, which kube-aggregator and clients poll this way — is a 304
/// without the body, as Go's `ServeHTTPWithETag` and `http.ServeContent` answer it.
pub(crate) async fn not_modified(req: Request<Body>, next: axum::middleware::Next) -> Resp {
    let condition = match *req.method() {
        Method::GET | Method::HEAD => req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        _ => None,
    };
    let resp = next.run(req).await;
    let Some(condition) = condition else {
        return resp;
    };
    let etag = resp
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok());
    if resp.status() != StatusCode::OK || !etag.is_some_and(|e| etag_listed(&condition, e)) {
        return resp;
    }
    let mut not_modified = Response::builder().status(StatusCode::NOT_MODIFIED);
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::EXPIRES,
    ] {
        for value in resp.headers().get_all(&name) {
            not_modified = not_modified.header(&name, value);
        }
    }
    not_modified.body(Body::empty()).expect("response")
}

/// Whether an `If-None-Match` list (`"a", W/"b"`, or `*`) names `etag` (weak comparison, as
/// RFC 9110 has it for `If-None-Match`).
fn etag_listed(list: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.trim() == "*" || list.split(',').any(|t| opaque(t) == opaque(etag))
}

/// The headers kube-apiserver puts on every response: `Audit-Id` (the request's own `Audit-ID`,
/// as kube-aggregator forwards it, else a new UUID: what a client quotes to find the request in
/// logs) and `Cache-Control: no-cache, private` unless the answer says otherwise (Go's
/// `WithAuditInit` and `WithCacheControl`).
pub(crate) async fn standard_headers(req: Request<Body>, next: axum::middleware::Next) -> Resp {
    static AUDIT_ID: header::HeaderName = header::HeaderName::from_static("audit-id");
    let audit_id = req
        .headers()
        .get(&AUDIT_ID)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .cloned()
        .unwrap_or_else(|| {
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            http::HeaderValue::from_str(id).expect("a UUID is a header value")
        });
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    headers.insert(AUDIT_ID.clone(), audit_id);
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static("no-cache, private"));
    resp
}

/// Authentication, before anything else (the in-flight limits included) and before the body is
/// read, as kube-apiserver's filters do: an unauthenticated request is answered with its 401
/// here; an authenticated one goes on as [`Identified`], to be authorized within the limits
/// ([`authorize`]).
pub(crate) async fn guarded(
    guard: Arc<crate::auth::Guard>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Resp {
    let query = match query_of(&mut req) {
        Ok(query) => query,
        Err(e) => return error_response(&e),
    };
    let watch = watches(req.uri().path(), &query);
    let path = match request_path(req.uri()) {
        Ok(path) => path.into_owned(),
        Err(e) => return error_response(&e),
    };
    let peer = req.extensions().get::<crate::auth::PeerCertificates>();
    let field_selector = query.get("fieldSelector").map(String::as_str);
    let label_selector = query.get("labelSelector").map(String::as_str);
    match guard
        .identify(
            req.method(),
            &path,
            watch,
            label_selector,
            field_selector,
            req.headers(),
            peer,
        )
        .await
    {
        Ok((user, request)) => {
            req.extensions_mut().insert(Identified { user, request });
            next.run(req).await
        }
        Err(e) => error_for(req.headers(), &e),
    }
}

/// A request [`guarded`] authenticated and has yet to be authorized.
#[derive(Clone)]
struct Identified {
    user: crate::auth::User,
    request: crate::auth::RequestInfo,
}

/// Authorization (impersonation included) of a request [`guarded`] identified, before its body
/// is read. It runs here, inside the in-flight limits, as kube-apiserver's `WithAuthorization`
/// runs inside `WithMaxInFlightLimit`: the `SubjectAccessReview`s made at once are bounded by
/// the limits. An allowed request goes on with its [`crate::auth::User`] and
/// [`crate::auth::Authorized`] as extensions; a refused one is answered with its `Status`.
async fn authorize(state: &State, req: &mut Request<Body>) -> Result<(), Resp> {
    let Some(guard) = &state.guard else {
        return Ok(());
    };
    // Fail closed: a request the guard's layer did not identify is never served unauthorized.
    let Some(Identified { user, request }) = req.extensions_mut().remove::<Identified>() else {
        return Err(error_response(&ApiError::internal(
            "the request was not authenticated",
        )));
    };
    let user = guard
        .authorize_request(user, &request, req.headers())
        .await
        .map_err(|e| error_for(req.headers(), &e))?;
    let authorized = crate::auth::Authorized::new(guard.clone(), user.clone(), request);
    req.extensions_mut().insert(user);
    req.extensions_mut().insert(Arc::new(authorized));
    Ok(())
}

/// The tower service entry point: never panics into the client, always answers a `Status`.
pub(crate) async fn handle(state: Arc<State>, mut req: Request<Body>) -> Resp {
    if let Err(refused) = authorize(&state, &mut req).await {
        return refused;
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            let e = e.into_inner();
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return error_response(&ApiError::new(
                    413,
                    "RequestEntityTooLarge",
                    format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
                ));
            }
            // A body that broke off or was framed wrongly (a bad chunk size).
            return error_response(&ApiError::bad_request(format!(
                "the request body could not be read: {e}"
            )));
        }
    };
    let query = match parts.extensions.get::<Query>() {
        Some(Query(q)) => q.clone(),
        None => match parse_query(parts.uri.query()) {
            Ok(q) => Arc::new(q),
            Err(e) => return error_response(&e),
        },
    };
    let path = match request_path(&parts.uri) {
        Ok(path) => path.trim_end_matches('/').to_string(),
        Err(e) => return error_response(&e),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // A resource request that asks for YAML first is answered in JSON, then written as YAML
    // (Go's YAML serializer); a watch has no YAML framing (406, as in Go).
    let yaml_accept = matches!(segments[..], ["apis", _, _, _, ..])
        .then(|| {
            crate::table::yaml_answer(
                parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok()),
            )
        })
        .flatten();
    let yaml = yaml_accept.is_some();
    let watch = watches(&path, &query);
    let json_headers;
    let headers = if yaml {
        if watch {
            return error_response(&ApiError::new(
                406,
                "NotAcceptable",
                "only the following media types are accepted for watch: application/json, application/vnd.kubernetes.protobuf",
            ));
        }
        let mut h = parts.headers.clone();
        h.insert(
            header::ACCEPT,
            http::HeaderValue::from_str(yaml_accept.as_deref().unwrap_or("application/json"))
                .unwrap_or(http::HeaderValue::from_static("application/json")),
        );
        json_headers = h;
        &json_headers
    } else {
        &parts.headers
    };
    let ctx = Ctx {
        user: parts
            .extensions
            .get::<crate::auth::User>()
            .cloned()
            .map(Arc::new),
        authorized: parts
            .extensions
            .get::<Arc<crate::auth::Authorized>>()
            .cloned(),
        state: &state,
        method: parts.method.clone(),
        headers,
        query: &query,
        body,
    };
    let resp = match route(&ctx, &segments).await {
        Ok(resp) => resp,
        Err(e) => error_for(headers, &e),
    };
    if yaml {
        rewrite_json(resp, Rewrite::Yaml).await
    } else if segments.first() != Some(&"openapi") && !watch && pretty(&query, &parts.headers) {
        rewrite_json(resp, Rewrite::Pretty).await
    } else {
        resp
    }
}

/// Whether JSON is written indented, as Go's `isPrettyPrint` decides: `?pretty=true`, or (with
/// no `pretty`) a client that is a browser, curl or Wget.
fn pretty(query: &Params, headers: &HeaderMap) -> bool {
    if let Some(p) = query.get("pretty").filter(|p| !p.is_empty()) {
        return matches!(p.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True");
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    agent.starts_with("curl") || agent.starts_with("Wget") || agent.starts_with("Mozilla/5.0")
}

/// How [`rewrite_json`] writes a JSON response again.
enum Rewrite {
    Yaml,
    Pretty,
}

/// A JSON response written as YAML or indented (anything else as it is).
async fn rewrite_json(resp: Resp, how: Rewrite) -> Resp {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    if let Rewrite::Pretty = how {
        // Indented as it streams: a list is never held whole.
        use futures::StreamExt;
        parts.headers.remove(header::CONTENT_LENGTH);
        let indented = body
            .into_data_stream()
            .scan(pretty::Indenter::default(), |indenter, chunk| {
                let chunk = chunk.map(|bytes| {
                    let mut out = Vec::new();
                    indenter.feed(&bytes, &mut out);
                    Bytes::from(out)
                });
                std::future::ready(Some(chunk))
            })
            .chain(futures::stream::once(std::future::ready(Ok(
                Bytes::from_static(b"\n"),
            ))));
        return Response::from_parts(parts, Body::from_stream(indented));
    }
    let converted = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| serde_saphyr::to_string(&v).map_err(|e| e.to_string())),
        Err(e) => Err(e.to_string()),
    };
    match converted {
        Ok(text) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/yaml"),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
        Err(e) => error_response(&ApiError::internal(format!(
            "the response cannot be written again: {e}"
        ))),
    }
}

struct Ctx<'a> {
    /// The authenticated user (`None` without authentication).
    user: Option<Arc<crate::auth::User>>,
    /// What the guard allowed (`None` without one).
    authorized: Option<Arc<crate::auth::Authorized>>,
    state: &'a Arc<State>,
    method: Method,
    headers: &'a HeaderMap,
    query: &'a Params,
    body: Bytes,
}

impl Ctx<'_> {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// Parsed resource path.
struct Target {
    rest: Arc<dyn RestStorage>,
    /// The resource in the version the request names.
    info: ResourceInfo,
    scope: Scope,
    name: Option<String>,
    subresource: Option<String>,
}

impl Target {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
}

/// The architecture as Go names it (`GOARCH`), which `/version`'s `platform` reports.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// How long the storage check waits for the store (Go's `--etcd-healthcheck-timeout`).
const STORAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `/healthz`, `/livez`, `/readyz`: every check, or one by name (`/readyz/ping`); an unknown
/// one is 404, as in Go. `ping` always passes; the storage check (`etcd` on etcd, as Go names
/// it, else `storage`) asks the store for its revision within 2 s (the embedded store reads
/// its file), so a replica that lost etcd
/// is taken out of its Service and restarted; `/readyz` fails once the server shuts down
/// (Go's `shutdown` check), so load balancers stop sending it requests first.
async fn health(st: &State, probe: &str, rest: &[&str], ctx: &Ctx<'_>) -> Result<Resp, ApiError> {
    let storage_name = match st.store {
        apiserver_storage::AnyStore::Etcd(_) | apiserver_storage::AnyStore::Cached(_) => "etcd",
        _ => "storage",
    };
    let mut checks = vec!["ping", storage_name];
    if probe == "readyz" {
        checks.push("shutdown");
    }
    let run = |name: &'static str| async move {
        match name {
            "ping" => Ok(()),
            "shutdown" if *st.shutdown.borrow() => Err("the server is shutting down".to_string()),
            "shutdown" => Ok(()),
            _ => match tokio::time::timeout(
                STORAGE_CHECK_TIMEOUT,
                apiserver_storage::Storage::check(&st.store),
            )
            .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!(
                    "the store did not answer within {}s",
                    STORAGE_CHECK_TIMEOUT.as_secs()
                )),
            },
        }
    };
    match rest {
        [] => {
            let mut out = String::new();
            let mut failed = false;
            // `?exclude=<check>` (repeatable) skips a check, as Go's healthz does, and names
            // those it has no check of.
            let mut excluded: std::collections::BTreeSet<&str> = ctx
                .query
                .all("exclude")
                .iter()
                .map(String::as_str)
                .collect();
            for name in checks {
                if excluded.remove(name) {
                    out.push_str(&format!("[+]{name} excluded: ok\n"));
                    continue;
                }
                match run(name).await {
                    Ok(()) => out.push_str(&format!("[+]{name} ok\n")),
                    Err(why) => {
                        tracing::warn!(check = name, probe, reason = %why, "health check failed");
                        failed = true;
                        out.push_str(&format!("[-]{name} failed: reason withheld\n"));
                    }
                }
            }
            if !excluded.is_empty() {
                let names: Vec<String> = excluded.iter().map(|n| format!("{n:?}")).collect();
                out.push_str(&format!(
                    "warn: some health checks cannot be excluded: no matches for {}\n",
                    names.join(",")
                ));
            }
            if failed {
                out.push_str(&format!("{probe} check failed\n"));
                Ok(text(StatusCode::INTERNAL_SERVER_ERROR, &out))
            } else if ctx.query.contains_key("verbose") {
                out.push_str(&format!("{probe} check passed\n"));
                Ok(text(StatusCode::OK, &out))
            } else {
                Ok(text(StatusCode::OK, "ok"))
            }
        }
        [name] => {
            // `storage` names the storage check whatever the backend.
            let name = match checks.iter().find(|c| **c == *name) {
                Some(c) => *c,
                None if *name == "storage" => storage_name,
                None => return Err(not_found_path()),
            };
            match run(name).await {
                Ok(()) => Ok(text(StatusCode::OK, "ok")),
                Err(why) => Ok(text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("internal server error: {why}\n"),
                )),
            }
        }
        _ => Err(not_found_path()),
    }
}

/// `GET /api/v1/namespaces/<name>`: a namespace as the server knows it (from its namespace
/// source; without one, every namespace exists), so that clients asking whether a namespace
/// exists get an answer — kubectl asks after a `NotFound` in a namespace, to tell a missing
/// object (`alerts.pager.k8s.co "x" not found`) from a missing namespace
/// (`namespaces "team1" not found`); a bare 404 made it print neither. Behind kube-aggregator
/// the main cluster answers this path. Not in discovery: namespaces are not served here.
async fn namespace(ctx: &Ctx<'_>, name: &str) -> Result<Resp, ApiError> {
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(method_not_allowed());
    }
    let found = match &ctx.state.namespaces {
        Some(source) => source.lookup(name).await?,
        None => Some(crate::registry::namespaces::Namespace::default()),
    };
    let Some(found) = found else {
        return Err(ApiError::not_found("namespaces", "", name));
    };
    let object = k8s_openapi::api::core::v1::Namespace {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.to_string()),
            labels: (!found.labels.is_empty()).then(|| found.labels.clone()),
            ..Default::default()
        },
        spec: None,
        status: Some(k8s_openapi::api::core::v1::NamespaceStatus {
            phase: Some(
                if found.terminating {
                    "Terminating"
                } else {
                    "Active"
                }
                .to_string(),
            ),
            ..Default::default()
        }),
    };
    let value = serde_json::to_value(&object).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_response(StatusCode::OK, &value))
}

async fn route(ctx: &Ctx<'_>, seg: &[&str]) -> Result<Resp, ApiError> {
    let st = ctx.state;
    // Version, discovery and OpenAPI documents are read-only (go-restful routes them for GET
    // only): any other method is 405, never the document.
    let document = matches!(
        seg,
        ["version" | "openapi" | "metrics", ..]
            | ["api" | "apis"]
            | ["api" | "apis", _]
            | ["apis", _, _]
    );
    if document && ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(method_not_allowed());
    }
    match seg {
        ["version"] => Ok(json_response(
            StatusCode::OK,
            &json!({
                "major": st.version.major, "minor": st.version.minor,
                "gitVersion": st.version.git_version, "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "", "goVersion": "", "compiler": "rustc",
                "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
            }),
        )),
        ["metrics"] => Response::builder()
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .body(Body::from(st.metrics.encode()))
            .map_err(|e| ApiError::internal(e.to_string())),
        [probe @ ("healthz" | "livez" | "readyz"), rest @ ..] => health(st, probe, rest, ctx).await,
        ["api"] => {
            if let Some(v) = discovery::aggregated_version(ctx.header(header::ACCEPT)) {
                let core = [discovery::core_group()];
                return Ok(aggregated_response(&discovery::aggregated(&core, v), v));
            }
            discovery_response(ctx, &discovery::api_versions())
        }
        ["api", discovery::CORE_VERSION] => discovery_response(ctx, &discovery::core_v1()),
        ["api", discovery::CORE_VERSION, "namespaces", name] => namespace(ctx, name).await,
        ["apis"] => {
            let docs = st.group_docs();
            if let Some(v) = discovery::aggregated_version(ctx.header(header::ACCEPT)) {
                return Ok(aggregated_response(&discovery::aggregated(&docs, v), v));
            }
            discovery_response(ctx, &discovery::api_group_list(&docs))
        }
        ["apis", group] => {
            let docs = st.group_docs();
            match docs.iter().find(|d| d.name == *group) {
                Some(d) => discovery_response(ctx, &discovery::api_group(d)),
                None => Err(not_found_path()),
            }
        }
        ["apis", group, version] => {
            let docs = st.group_docs();
            let found = docs
                .iter()
                .find(|d| d.name == *group)
                .and_then(|d| d.versions.iter().find(|(v, _)| v == version));
            match found {
                Some((_, resources)) => discovery_response(
                    ctx,
                    &discovery::api_resource_list(group, version, resources, &|i| {
                        ctx.state.storage_version(i)
                    }),
                ),
                None => Err(not_found_path()),
            }
        }
        ["openapi", "v2"] => crate::openapi_v2(ctx.state, ctx.header(header::ACCEPT)),
        // OpenAPI v3 is served as JSON: a client that takes none is 406, as kube-openapi says.
        ["openapi", "v3", ..] if !crate::table::accepts_json(ctx.header(header::ACCEPT)) => {
            Err(ApiError::new(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json",
            ))
        }
        ["openapi", "v3"] => Ok(json_response(StatusCode::OK, &st.openapi.v3_root)),
        ["openapi", "v3", "apis", group, version] => {
            crate::openapi_v3(ctx.state, group, version, ctx.param("hash"))
        }
        // The deprecated `/watch/` prefix kube-apiserver still serves (WATCH and WATCHLIST in
        // its installer): a watch of the collection, or of one object by name.
        ["apis", group, version, "watch", rest @ ..] if !rest.is_empty() => {
            let mut target = resolve(st, group, version, rest)?;
            if ctx.method != Method::GET && ctx.method != Method::HEAD {
                return Err(method_not_allowed());
            }
            if target.subresource.is_some() {
                return Err(not_found_path());
            }
            target.scope.user = ctx.user.clone();
            target.scope.authorized = ctx.authorized.clone();
            let mut query = ctx.query.clone();
            query.insert("watch".into(), "true".into());
            if let Some(name) = target.name.take() {
                watch_by_name(&mut query, &name)?;
            }
            let ctx = Ctx {
                user: ctx.user.clone(),
                authorized: ctx.authorized.clone(),
                state: ctx.state,
                method: ctx.method.clone(),
                headers: ctx.headers,
                query: &query,
                body: ctx.body.clone(),
            };
            resource_request(&ctx, target).await
        }
        ["apis", group, version, rest @ ..] => {
            let mut target = resolve(st, group, version, rest)?;
            target.scope.user = ctx.user.clone();
            target.scope.authorized = ctx.authorized.clone();
            resource_request(ctx, target).await
        }
        _ => Err(not_found_path()),
    }
}

/// A watch of one object by the deprecated `/watch/…/<name>` path: the collection's watch
/// selecting that name, as Go's `ListResource` does for a named watch. A field selector given
/// too must select the same name.
fn watch_by_name(query: &mut Params, name: &str) -> Result<(), ApiError> {
    let given = query.get("fieldSelector").map(String::as_str).unwrap_or("");
    let selector = crate::selector::FieldSelector::parse(given).map_err(ApiError::bad_request)?;
    if selector.is_empty() {
        query.insert(
            "fieldSelector".into(),
            format!(
                "metadata.name={}",
                crate::selector::escape_field_value(name)
            ),
        );
        return Ok(());
    }
    if selector.exact_match("metadata.name") != Some(name) {
        return Err(ApiError::bad_request(
            "fieldSelector metadata.name doesn't match requested name",
        ));
    }
    Ok(())
}

/// A discovery document in JSON, or in protobuf for a client that lists protobuf first (as
/// kube-apiserver answers client-go configured for protobuf).
/// A plain discovery document in JSON or protobuf; 406 for a client that takes neither (one
/// that lists only `…;as=APIGroupDiscoveryList` in protobuf, which is written as JSON only).
fn discovery_response<T>(ctx: &Ctx<'_>, doc: &T) -> Result<Resp, ApiError>
where
    T: serde::Serialize + kube_codegen_protobuf::Message + k8s_openapi::Resource,
{
    let accept = ctx.header(header::ACCEPT);
    let json = table::accepts_json(accept);
    if table::prefers_protobuf(accept) || (!json && table::accepts_protobuf(accept)) {
        let body = kube_codegen_protobuf::envelope::encode_object(T::API_VERSION, T::KIND, doc);
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, protobuf::MEDIA_TYPE)
            .body(Body::from(body))
            .map_err(|e| ApiError::internal(e.to_string()));
    }
    if !json {
        return Err(ApiError::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ));
    }
    Ok(json_response(StatusCode::OK, doc))
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn aggregated_response(doc: &Value, version: &str) -> Resp {
    let body = serde_json::to_vec(doc).unwrap_or_default();
    let etag = {
        use sha2::Digest;
        let d = sha2::Sha512::digest(&body);
        format!(
            "\"{}\"",
            d.iter().map(|b| format!("{b:02X}")).collect::<String>()
        )
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            discovery::aggregated_content_type(version),
        )
        .header(header::ETAG, etag)
        .header(header::VARY, "Accept")
        .header(header::CACHE_CONTROL, "public")
        .body(Body::from(body))
        .expect("response")
}

fn resolve(st: &State, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Err(not_found_path()),
    };
    let storage = st
        .resources
        .get(&(group.to_string(), version.to_string(), plural.to_string()))
        .cloned()
        .ok_or_else(not_found_path)?;
    let info = *storage.info(version).ok_or_else(not_found_path)?;
    if namespace.is_some() && !info.namespaced {
        return Err(not_found_path());
    }
    // A namespaced item needs its namespace; the collection without one lists all namespaces.
    if info.namespaced && namespace.is_none() && name.is_some() {
        return Err(not_found_path());
    }
    if let Some(s) = &sub
        && !(s == "status" && info.has_status || s == "scale" && info.scale.is_some())
    {
        return Err(not_found_path());
    }
    Ok(Target {
        rest: storage,
        info,
        scope: Scope {
            version: version.to_string(),
            namespace,
            user: None,
            authorized: None,
        },
        name,
        subresource: sub,
    })
}

async fn resource_request(ctx: &Ctx<'_>, t: Target) -> Result<Resp, ApiError> {
    let protobuf = t.rest.protobuf(&t.scope.version).is_some();
    let output = table::negotiate(ctx.header(header::ACCEPT), protobuf)
        .map_err(|m| ApiError::new(406, "NotAcceptable", m))?;
    let watch = is_watch(ctx.query);
    // A namespaced resource across all namespaces is read-only: list and watch (a DELETE there
    // would have been a deletecollection in every namespace).
    if t.info.namespaced && t.scope.namespace.is_none() && ctx.method != Method::GET {
        return Err(method_not_allowed());
    }
    // Go's `asPartialObjectMetadata[List]`: the shape asked for must be the answer's (a watch's
    // events take either: client-go's metadata informer asks for the list's).
    if let Output::Metadata { list, .. } = output
        && !watch
    {
        let answer_is_list = t.name.is_none()
            && t.subresource.is_none()
            && (ctx.method == Method::GET || ctx.method == Method::DELETE);
        if list != answer_is_list {
            let kind = t.info.kind;
            return Err(ApiError::new(
                406,
                "NotAcceptable",
                if list {
                    format!(
                        "you requested PartialObjectMetadataList, but the requested object is not a list (*{kind})"
                    )
                } else {
                    format!(
                        "you requested PartialObjectMetadata, but the requested object is a list (*{kind}List)"
                    )
                },
            ));
        }
    }
    match (&ctx.method, &t.name, t.subresource.as_deref()) {
        // A watch of one object's scale is a read, as Go routes it.
        (&Method::GET | &Method::HEAD, Some(_), Some("scale")) => scale::get(ctx, &t, output).await,
        (&Method::PUT, Some(_), Some("scale")) => scale::update(ctx, &t, output).await,
        (&Method::PATCH, Some(_), Some("scale")) => scale::patch(ctx, &t, output).await,
        (_, _, Some("scale")) => Err(method_not_allowed()),
        (&Method::GET, None, None) if watch => watch_collection(ctx, &t, output).await,
        (&Method::GET, None, None) => list(ctx, &t, output).await,
        (&Method::POST, None, None) => create(ctx, &t, output).await,
        (&Method::DELETE, None, None) => delete_collection(ctx, &t, output).await,
        (&Method::GET, Some(_), _) => get(ctx, &t, output).await,
        (&Method::PUT, Some(_), _) => update(ctx, &t, output).await,
        (&Method::PATCH, Some(_), _) => patch(ctx, &t, output).await,
        (&Method::DELETE, Some(_), None) => delete(ctx, &t, output).await,
        _ => Err(method_not_allowed()),
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )
}

fn respond_object(
    code: StatusCode,
    obj: &Value,
    t: &Target,
    output: Output,
    include: IncludeObject,
) -> Result<Resp, ApiError> {
    let info = &t.info;
    Ok(match output {
        Output::Json => json_response(code, obj),
        Output::Protobuf => match t.rest.protobuf(&t.scope.version) {
            Some(edge) => protobuf::object(code, edge, info, obj)?,
            None => json_response(code, obj),
        },
        Output::Metadata { beta, protobuf, .. } => metadata::object(code, obj, beta, protobuf)?,
        Output::Table { beta } => json_response(
            code,
            &table::table(
                info,
                std::slice::from_ref(obj),
                include,
                beta,
                object::resource_version(obj).map(str::to_string),
                None,
                None,
                true,
            ),
        ),
    })
}
