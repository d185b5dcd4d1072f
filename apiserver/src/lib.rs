//! A generic Kubernetes API-server library: register generated kinds, get a tower/axum service
//! that speaks Kubernetes REST conventions to unmodified `kubectl`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use apiserver::{ApiServer, Resource};
//! let store = apiserver_storage::AnyStore::Memory(apiserver_storage::MemoryStore::new());
//! let app = ApiServer::builder(store)
//!     .resource(Resource::<pager::v1alpha1::Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_router()).await?;
//! # Ok(()) }
//! ```
//!
//! Modules: [`status`] (errors as Kubernetes `Status`), [`selector`] (label and field
//! selectors), [`patch`] (JSON, merge and strategic-merge patches), [`openapi`] (OpenAPI v3/v2
//! documents), [`table`] (server-side printing), [`discovery`], [`registry`] (resources over
//! typed hub objects, their versions and strategies: Go's `genericregistry.Store`), [`object`]
//! (metadata conventions on JSON), [`limits`] (requests in flight, open watches, timeouts).

pub mod auth;
mod compression;
pub mod discovery;
pub mod limits;
mod metrics;
pub mod object;
pub mod openapi;
mod openapi_check;
pub mod openapi_v2_protobuf;
mod panics;
pub mod patch;
pub mod registry;
pub mod serve;
/// Label and field selectors (shared with the clients: `kube-codegen-apimachinery`).
pub use kube_codegen_apimachinery::selector;
mod server;
pub mod status;
pub mod table;
mod yaml;

use std::collections::HashMap;
use std::sync::Arc;

use apiserver_storage::AnyStore;
use http::{Response, StatusCode, header};
use serde_json::Value;

pub use registry::admission::{
    Attributes, MutatingAdmission, Operation, RequestOptions, ValidatingAdmission,
};
pub use registry::namespaces::{ClusterNamespaces, Namespace, NamespaceSource, StaticNamespaces};
pub use registry::webhooks::Webhooks;
pub use registry::{
    Context, DefaultStrategy, Registration, Resource, RestConfig, RestStorage, Strategy,
};
pub use server::{MAX_BODY_BYTES, VersionInfo};
pub use status::{ApiError, Cause};

/// The object JSON inside a value the server stored (which starts with a short `kcg1…` header
/// saying which codec wrote it and where `resourceVersion` goes; values written before the
/// header existed are bare JSON): for tools that read the storage directly.
pub fn stored_object_json(value: &[u8]) -> Result<&[u8], String> {
    registry::open_stored(value)
}

/// Builds an [`ApiServer`] from registered kinds.
pub struct ApiServerBuilder {
    store: AnyStore,
    version: VersionInfo,
    bookmark_interval: std::time::Duration,
    resources: Vec<Box<dyn Registration>>,
    /// Explicit storage versions by group.
    storage_versions: HashMap<String, String>,
    guard: Option<Arc<auth::Guard>>,
    /// In-flight, watch and timeout limits ([`limits`]).
    limits: limits::LimitsConfig,
    serve_stored_bytes: bool,
    garbage_collection: bool,
    unsafe_malformed_object_deletion: bool,
    freshness_wait: std::time::Duration,
    webhooks: Option<Arc<registry::webhooks::Webhooks>>,
    namespaces: Option<Arc<dyn registry::namespaces::NamespaceSource>>,
}

/// Why a server could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// The same group/version/resource was registered twice.
    Duplicate(String),
    /// One resource registered as several resources, one per version, rather than as one
    /// resource with several versions converting through its hub.
    VersionsWithoutHub(String),
    /// A resource registered without any version.
    NoVersions,
    /// A storage version that is not served.
    StorageVersion(String),
    /// A kind's generated OpenAPI schemas are not valid JSON.
    Schemas(String),
    /// One resource namespaced in some of its versions and cluster-scoped in others.
    Scope(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Duplicate(r) => write!(f, "resource {r} is registered twice"),
            BuildError::VersionsWithoutHub(r) => write!(
                f,
                "resource {r} is registered once per version: register it once, with every version converting through its hub (`Resource::<Hub>::hub().version::<V1>(..).version::<V2>(..)`)"
            ),
            BuildError::NoVersions => write!(
                f,
                "a resource was registered without any version: add them with `Resource::version`"
            ),
            BuildError::StorageVersion(e) => write!(f, "{e}"),
            BuildError::Schemas(e) => write!(f, "invalid generated OpenAPI schemas: {e}"),
            BuildError::Scope(r) => write!(
                f,
                "resource {r} is namespaced in some versions and cluster-scoped in others: a resource has one scope (tag the kind `+genclient:nonNamespaced` in every version, or in none)"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// Ends the open watch streams of an [`ApiServer`].
#[derive(Clone)]
pub struct Shutdown(tokio::sync::watch::Sender<bool>);

impl Shutdown {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

/// The server: a tower service (an axum `Router`) over a store.
pub struct ApiServer {
    state: Arc<server::State>,
    limits: Arc<limits::Limits>,
}

impl ApiServer {
    pub fn builder(store: AnyStore) -> ApiServerBuilder {
        ApiServerBuilder {
            store,
            version: VersionInfo::default(),
            bookmark_interval: std::time::Duration::from_secs(30),
            resources: Vec::new(),
            storage_versions: HashMap::new(),
            guard: None,
            limits: limits::LimitsConfig::default(),
            serve_stored_bytes: true,
            garbage_collection: true,
            unsafe_malformed_object_deletion: false,
            freshness_wait: registry::FRESHNESS_WAIT,
            webhooks: None,
            namespaces: None,
        }
    }

    /// What ends every open watch stream when the server shuts down (for a graceful shutdown:
    /// stop accepting, let requests finish, [`Shutdown::trigger`] so watches end too).
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown(self.state.shutdown.clone())
    }

    /// What the server is busy with: open watches, requests in flight (a cheap handle that
    /// outlives [`into_router`](Self::into_router)).
    pub fn load(&self) -> limits::Load {
        limits::Load(self.limits.clone())
    }

    /// The axum router serving every endpoint, within the server's [`limits`]; use it as a
    /// tower `Service`.
    pub fn into_router(self) -> axum::Router {
        let state = self.state;
        let guard = state.guard.clone();
        let metrics = state.metrics.clone();
        let router = axum::Router::new()
            .fallback(move |req: http::Request<axum::body::Body>| {
                let state = state.clone();
                async move { server::handle(state, req).await }
            })
            .layer(axum::middleware::from_fn(server::not_modified))
            .layer(compression::layer())
            .layer(limits::LimitsLayer::new(self.limits));
        // Who is asking comes before the limits (unauthenticated requests take no in-flight
        // slot).
        let router = match guard {
            Some(guard) => router.layer(axum::middleware::from_fn(move |req, next| {
                server::guarded(guard.clone(), req, next)
            })),
            None => router,
        };
        // Outermost, so that every answer has them and is counted (a 401, a 429, a request
        // that panicked too).
        router
            .layer(axum::middleware::map_response(panics::guard_body))
            .layer(panics::layer())
            .layer(axum::middleware::from_fn(server::standard_headers))
            .layer(axum::middleware::from_fn(move |req, next| {
                metrics::instrument(metrics.clone(), req, next)
            }))
    }
}

impl ApiServerBuilder {
    /// Registers a resource with the versions it is served in (see [`Resource`]).
    pub fn resource<R: Registration>(mut self, resource: R) -> Self {
        self.resources.push(Box::new(resource));
        self
    }

    /// [`resource`](Self::resource) for a registration already boxed.
    pub fn resource_boxed(mut self, resource: Box<dyn Registration>) -> Self {
        self.resources.push(resource);
        self
    }

    /// The version a group's resources are stored in (default: each resource's preferred
    /// version). Objects stored under an earlier choice are still read, converted from the
    /// version they were written in.
    pub fn storage_version(mut self, group: &str, version: &str) -> Self {
        self.storage_versions
            .insert(group.to_string(), version.to_string());
        self
    }

    /// What `/version` answers (its minor version picks kubectl's client version through the
    /// dispatcher on some machines).
    pub fn version(mut self, version: VersionInfo) -> Self {
        self.version = version;
        self
    }

    /// Authenticates and authorizes every request (see [`auth`]); without a guard every request
    /// is served, which is only for development and tests.
    pub fn guard(mut self, guard: auth::Guard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// How often watches that allow bookmarks get a BOOKMARK with the current resourceVersion
    /// (default 30 s; kube-apiserver sends about one a minute).
    pub fn bookmark_interval(mut self, every: std::time::Duration) -> Self {
        self.bookmark_interval = every.max(std::time::Duration::from_millis(10));
        self
    }

    /// At most `n` reads (GET/HEAD/OPTIONS, watches excluded) handled at once, beyond which a
    /// request is a 429 at once (kube-apiserver's `--max-requests-inflight`; default 400; 0 = no
    /// limit). See [`limits`].
    pub fn max_requests_inflight(mut self, n: usize) -> Self {
        self.limits.max_requests_inflight = n;
        self
    }

    /// At most `n` writes (POST/PUT/PATCH/DELETE) handled at once, beyond which a request is a
    /// 429 at once (kube-apiserver's `--max-mutating-requests-inflight`; default 200; 0 = no
    /// limit).
    pub fn max_mutating_requests_inflight(mut self, n: usize) -> Self {
        self.limits.max_mutating_requests_inflight = n;
        self
    }

    /// At most `n` watches open at once, beyond which a watch is a 429 (default 1000; 0 = no
    /// limit).
    pub fn max_watches(mut self, n: usize) -> Self {
        self.limits.max_watches = n;
        self
    }

    /// How long a request that is not a watch may take before it is abandoned and answered 504
    /// (kube-apiserver's `--request-timeout`; default 60 s; zero = none). A client's
    /// `?timeout=` shortens it.
    pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// How long an event of a watch waits for its connection to have room, its client taking
    /// nothing meanwhile, before the watch ends (default 10 s): a client that stops reading
    /// holds nothing for longer; one slowly reading a large event is not stopped.
    pub fn watch_send_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.watch_send_timeout = timeout.max(std::time::Duration::from_millis(1));
        self
    }

    /// Namespace lifecycle: creates of namespaced objects only in namespaces `source` knows and
    /// that are not being deleted (checked first, as Kubernetes' `NamespaceLifecycle` plugin).
    /// Their labels serve webhooks' `namespaceSelector`s.
    pub fn namespaces(mut self, source: Arc<dyn registry::namespaces::NamespaceSource>) -> Self {
        self.namespaces = Some(source);
        self
    }

    /// Admission webhooks every resource's writes go through (after its admission plugins).
    pub fn admission_webhooks(mut self, webhooks: registry::webhooks::Webhooks) -> Self {
        self.webhooks = Some(Arc::new(webhooks));
        self
    }

    /// Whether a list in the version an object is stored in is written from the stored bytes
    /// as they are (default: yes). Off, every object is decoded and encoded again — the same
    /// bytes, slower; a way to rule the shortcut out.
    pub fn serve_stored_bytes(mut self, on: bool) -> Self {
        self.serve_stored_bytes = on;
        self
    }

    /// Whether a garbage collector acts on this server's objects (default: yes, as
    /// kube-apiserver's `--enable-garbage-collector`; kube-controller-manager's collector
    /// watches aggregated APIs too). On, a delete with `propagationPolicy=Orphan` or
    /// `Foreground` (or the deprecated `orphanDependents`) leaves the object with the `orphan` or
    /// `foregroundDeletion` finalizer and a `deletionTimestamp`, and the collector deletes it
    /// once it has orphaned or deleted the object's dependents. Off — a server no collector
    /// watches, where such objects would wait forever — every delete is a background one.
    pub fn garbage_collection(mut self, on: bool) -> Self {
        self.garbage_collection = on;
        self
    }

    /// Whether a DELETE with `ignoreStoreReadErrorWithClusterBreakingPotential: true` removes an
    /// object whose stored value does not decode (default: no; kube-apiserver's
    /// `AllowUnsafeMalformedObjectDeletion` feature gate). Such an object fails every list of
    /// its resource, and so every informer, and cannot be deleted otherwise. On, the delete
    /// needs the `unsafe-delete-ignore-read-errors` verb on the resource besides `delete` (from
    /// the guard: a server without one allows every request), runs no admission, ignores
    /// finalizers, refuses (422) preconditions and the other options it cannot honour, and is
    /// refused (409) for an object that decodes; off, the option is ignored, as kube-apiserver
    /// ignores it.
    pub fn unsafe_malformed_object_deletion(mut self, on: bool) -> Self {
        self.unsafe_malformed_object_deletion = on;
        self
    }

    /// How long a get, list or watch from a `resourceVersion` the store has not reached waits
    /// for it — the client read that revision from a replica a little ahead of this one —
    /// before the 504 "Too large resource version" (default 3 s, kube-apiserver's watch cache's
    /// `blockTimeout`). A watch is a 200 stream that ends with the Status as an ERROR event.
    pub fn freshness_wait(mut self, wait: std::time::Duration) -> Self {
        self.freshness_wait = wait;
        self
    }

    pub fn build(self) -> Result<ApiServer, BuildError> {
        let mut resources = HashMap::new();
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut served_all = Vec::new();
        // (group, plural) of each registered resource: one registration each.
        let mut seen = HashMap::new();
        for registration in self.resources {
            let served = registration.served();
            let Some((first, _)) = served.first() else {
                return Err(BuildError::NoVersions);
            };
            let (group, plural) = (first.group, first.plural);
            if served.iter().any(|(i, _)| i.namespaced != first.namespaced) {
                return Err(BuildError::Scope(format!("{plural}.{group}")));
            }
            let versions_here: Vec<&str> = served.iter().map(|(i, _)| i.version).collect();
            if let Some(earlier) = seen.insert((group, plural), versions_here.clone()) {
                return Err(match versions_here.iter().find(|v| earlier.contains(*v)) {
                    Some(v) => BuildError::Duplicate(format!("{plural}.{group}/{v}")),
                    None => BuildError::VersionsWithoutHub(format!("{plural}.{group}")),
                });
            }
            let mut versions: Vec<&str> = served.iter().map(|(i, _)| i.version).collect();
            versions.sort_by_key(|v| std::cmp::Reverse(discovery::version_priority(v)));
            if let Some(dup) = versions.windows(2).find(|w| w[0] == w[1]) {
                return Err(BuildError::Duplicate(format!(
                    "{plural}.{group}/{}",
                    dup[0]
                )));
            }
            let storage = match self.storage_versions.get(group) {
                Some(v) if versions.contains(&v.as_str()) => v.clone(),
                Some(v) => {
                    return Err(BuildError::StorageVersion(format!(
                        "storage version {group}/{v} is not served for {plural}.{group} (served: {})",
                        versions.join(", ")
                    )));
                }
                None => versions[0].to_string(),
            };
            for (i, _) in &served {
                match groups.iter_mut().find(|(g, _)| g == i.group) {
                    Some((_, vs)) if !vs.iter().any(|v| v == i.version) => {
                        vs.push(i.version.into())
                    }
                    Some(_) => {}
                    None => groups.push((i.group.into(), vec![i.version.into()])),
                }
            }
            served_all.extend(served.iter().copied());
            let config = RestConfig {
                storage_version: storage,
                serve_stored_bytes: self.serve_stored_bytes,
                garbage_collection: self.garbage_collection,
                unsafe_malformed_object_deletion: self.unsafe_malformed_object_deletion,
                freshness_wait: self.freshness_wait,
                webhooks: self.webhooks.clone(),
                namespaces: self.namespaces.clone(),
            };
            let rest = registration.into_rest(self.store.clone(), &config);
            for (i, _) in &served {
                resources.insert(
                    (
                        i.group.to_string(),
                        i.version.to_string(),
                        i.plural.to_string(),
                    ),
                    rest.clone(),
                );
            }
        }
        for (_, vs) in &mut groups {
            vs.sort_by_key(|v| std::cmp::Reverse(discovery::version_priority(v)));
        }
        // Versions with a protobuf message say so in their operations' content types.
        let protobuf: std::collections::HashSet<(String, String, String)> = resources
            .iter()
            .filter(|((_, v, _), rest)| rest.protobuf(v).is_some())
            .map(|((g, v, p), _)| (g.clone(), v.clone(), p.clone()))
            .collect();
        let openapi = OpenApiDocs::build(&groups, &served_all, &protobuf)?;
        let limits = limits::Limits::new(self.limits);
        let served = resources.keys().cloned().collect();
        Ok(ApiServer {
            state: Arc::new(server::State {
                version: self.version,
                bookmark_interval: self.bookmark_interval,
                resources,
                groups,
                openapi,
                shutdown: tokio::sync::watch::channel(false).0,
                guard: self.guard,
                metrics: Arc::new(metrics::Metrics::new(served, limits::Load(limits.clone()))),
                store: self.store,
                namespaces: self.namespaces,
            }),
            limits,
        })
    }
}

/// The OpenAPI documents, computed once when the server is built.
pub(crate) struct OpenApiDocs {
    pub v3_root: Value,
    /// "apis/<g>/<v>" → (document bytes, hash).
    pub v3: HashMap<String, (Vec<u8>, String)>,
    pub v2: bytes::Bytes,
    /// `v2` as gnostic's protobuf `Document`.
    pub v2_protobuf: bytes::Bytes,
    /// The `ETag`s of `v2` and `v2_protobuf` (kube-openapi's hash of the served bytes).
    pub v2_etags: [String; 2],
}

impl OpenApiDocs {
    fn build(
        groups: &[(String, Vec<String>)],
        served: &[(kube_codegen_scheme::ResourceInfo, &'static str)],
        protobuf: &std::collections::HashSet<(String, String, String)>,
    ) -> Result<Self, BuildError> {
        let mut docs = Vec::new();
        for (g, versions) in groups {
            for v in versions {
                let rs: Vec<&(kube_codegen_scheme::ResourceInfo, &'static str)> = served
                    .iter()
                    .filter(|(i, _)| i.group == g && i.version == v)
                    .collect();
                let mut schemas = serde_json::Map::new();
                for (info, text) in &rs {
                    let parsed: serde_json::Map<String, Value> = serde_json::from_str(text)
                        .map_err(|e| BuildError::Schemas(format!("{}: {e}", info.kind)))?;
                    // Kubernetes' checks of a CRD's schema, for what kube-codegen could not
                    // check (the types of other crates a schema references).
                    let problems =
                        openapi_check::problems(&parsed, &openapi::resolved_schemas(&parsed));
                    if !problems.is_empty() {
                        return Err(BuildError::Schemas(format!(
                            "{} ({}): {}",
                            info.kind,
                            info.api_version(),
                            problems.join("; ")
                        )));
                    }
                    schemas.extend(parsed);
                }
                docs.push(openapi::GroupVersionDoc {
                    group: g,
                    version: v,
                    resources: rs.iter().map(|(i, _)| i).collect(),
                    schemas,
                    protobuf: rs
                        .iter()
                        .filter(|(i, _)| {
                            protobuf.contains(&(g.clone(), v.clone(), i.plural.to_string()))
                        })
                        .map(|(i, _)| i.plural)
                        .collect(),
                });
            }
        }
        let mut v3 = HashMap::new();
        let mut discovery = Vec::new();
        for d in &docs {
            let bytes = serde_json::to_vec(&openapi::v3_document(d)).unwrap_or_default();
            let hash = openapi::document_hash(&bytes);
            let path = format!("apis/{}/{}", d.group, d.version);
            discovery.push((path.clone(), hash.clone()));
            v3.insert(path, (bytes, hash));
        }
        let v2 = openapi::v2_document(&docs);
        let v2_json: bytes::Bytes = serde_json::to_vec(&v2).unwrap_or_default().into();
        let v2_protobuf: bytes::Bytes = openapi_v2_protobuf::document(&v2).into();
        let etag = |bytes: &[u8]| format!("\"{}\"", openapi::document_hash(bytes));
        Ok(OpenApiDocs {
            v3_root: openapi::v3_discovery(&discovery),
            v3,
            v2_etags: [etag(&v2_json), etag(&v2_protobuf)],
            v2: v2_json,
            v2_protobuf,
        })
    }
}

fn openapi_v3(
    state: &server::State,
    group: &str,
    version: &str,
    hash: Option<&str>,
) -> Result<Response<axum::body::Body>, ApiError> {
    let path = format!("apis/{group}/{version}");
    let (bytes, current) = state.openapi.v3.get(&path).ok_or_else(|| {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    })?;
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ETAG, format!("\"{current}\""));
    match hash {
        Some(h) if h == current => {
            resp = resp
                .status(StatusCode::OK)
                .header(header::CACHE_CONTROL, "public, immutable");
        }
        Some(_) => {
            return Ok(Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(
                    header::LOCATION,
                    format!("/openapi/v3/{path}?hash={current}"),
                )
                .body(axum::body::Body::empty())
                .expect("response"));
        }
        None => {
            resp = resp
                .status(StatusCode::OK)
                .header(header::CACHE_CONTROL, "no-cache, private");
        }
    }
    Ok(resp
        .body(axum::body::Body::from(bytes.clone()))
        .expect("response"))
}

fn openapi_v2(
    state: &server::State,
    accept: Option<&str>,
) -> Result<Response<axum::body::Body>, ApiError> {
    // JSON, or gnostic's protobuf (what client-go asks for); the first the client lists.
    let mut answer = None;
    for m in accept.unwrap_or("application/json").split(',') {
        let m = m.split(';').next().unwrap_or("").trim();
        if m == "application/json" || m == "*/*" || m.is_empty() {
            answer = Some((
                "application/json",
                state.openapi.v2.clone(),
                &state.openapi.v2_etags[0],
            ));
        } else if openapi_v2_protobuf::MEDIA_TYPES.contains(&m) {
            // Answered with the spelling Go's `mime` parses (no `@`), as kube-openapi does.
            answer = Some((
                openapi_v2_protobuf::MEDIA_TYPES[1],
                state.openapi.v2_protobuf.clone(),
                &state.openapi.v2_etags[1],
            ));
        }
        if answer.is_some() {
            break;
        }
    }
    let Some((content_type, body, etag)) = answer else {
        return Err(ApiError::new(
            406,
            "NotAcceptable",
            format!(
                "only application/json and {} are served at /openapi/v2",
                openapi_v2_protobuf::MEDIA_TYPES[0]
            ),
        ));
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ETAG, etag)
        .header(header::VARY, "Accept")
        .body(axum::body::Body::from(body))
        .expect("response"))
}
