//! A fake clientset that is the real API server: the generated `Clientset` over a
//! `kube::Client` whose tower service is the apiserver library with an in-memory store,
//! in-process (no sockets). Selectors, watch, conflicts, patches, the status subresource,
//! finalizers and `generateName` behave as they do against `pager-apiserver`, because they are
//! the same code.
//!
//! ```no_run
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! use kube_codegen_client::fake::FakeBuilder;
//! use kube_codegen_client::{Client, PostParams};
//! # enum AlertVerbs {}
//! # impl kube_codegen_client::verbs::Get for AlertVerbs {}
//! let fake = FakeBuilder::new()
//!     .resource(apiserver::Resource::<pager::v1alpha1::Alert>::new(pager::v1alpha1::OPENAPI_SCHEMAS))
//!     .build()
//!     .await?;
//! // Fail the next get of an alert with 500, and see what was asked.
//! fake.reactors().fail("get", "alerts", 1, 500, "InternalError", "injected");
//! let alerts = Client::<pager::v1alpha1::Alert, AlertVerbs>::namespaced(fake.client(), "default");
//! assert!(alerts.get("a").await.is_err());
//! assert_eq!(fake.recorder().requests()[0].verb, "get");
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use apiserver::{ApiServer, ApiServerBuilder, Registration};
use apiserver_storage::{AnyStore, MemoryStore};
use http::{Request, Response};
use tower::{Layer, Service, ServiceExt};

use crate::ApiObject;

/// How generated `fake::builder()`s register resources (the API server's own).
pub use apiserver::Resource;

/// What a request asks for, as the API server reads its path (Go's `RequestInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; for
    /// non-resource paths the lower-case method.
    pub verb: String,
    pub group: String,
    pub version: String,
    /// The plural (`alerts`); empty for non-resource paths.
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The body's `Content-Type` (`application/vnd.kubernetes.protobuf` from a protobuf client).
    pub content_type: Option<String>,
    /// What the client accepts.
    pub accept: Option<String>,
}

fn header<B>(req: &Request<B>, name: http::header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl RequestInfo {
    /// Reads a request's method, path and query.
    pub fn of<B>(req: &Request<B>) -> RequestInfo {
        let path = req.uri().path();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, version, rest) = match segments.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => ("", "", &[][..]),
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
            _ => (None, rest),
        };
        let (resource, name, subresource) = match rest {
            [r] => (*r, None, None),
            [r, n] => (*r, Some(n.to_string()), None),
            [r, n, s, ..] => (*r, Some(n.to_string()), Some(s.to_string())),
            _ => ("", None, None),
        };
        let watch = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
        let method = req.method().as_str().to_ascii_lowercase();
        let verb = match (method.as_str(), name.is_some()) {
            _ if resource.is_empty() => method,
            ("get", false) if watch => "watch".into(),
            ("get", false) => "list".into(),
            ("get", true) => "get".into(),
            ("post", _) => "create".into(),
            ("put", _) => "update".into(),
            ("patch", _) => "patch".into(),
            ("delete", false) => "deletecollection".into(),
            ("delete", true) => "delete".into(),
            _ => method,
        };
        RequestInfo {
            verb,
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            subresource,
            namespace,
            name,
            content_type: header(req, http::header::CONTENT_TYPE),
            accept: header(req, http::header::ACCEPT),
        }
    }

    /// Whether a reaction for `verb` (`*`: any) and `resource` (`*`: any; `alerts/status` names
    /// a subresource) applies.
    fn matches(&self, verb: &str, resource: &str) -> bool {
        let (resource, sub) = match resource.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (resource, None),
        };
        (verb == "*" || verb == self.verb)
            && (resource == "*" || resource == self.resource)
            && (sub.is_none() || sub == self.subresource.as_deref())
    }
}

/// Requests the fake received, in order.
#[derive(Clone, Default)]
pub struct Recorder {
    requests: Arc<Mutex<Vec<RequestInfo>>>,
}

impl Recorder {
    pub fn requests(&self) -> Vec<RequestInfo> {
        lock(&self.requests).clone()
    }

    pub fn clear(&self) {
        lock(&self.requests).clear();
    }
}

/// A tower layer recording every request into a [`Recorder`].
#[derive(Clone)]
pub struct RecorderLayer(pub Recorder);

impl<S> Layer<S> for RecorderLayer {
    type Service = Recording<S>;
    fn layer(&self, inner: S) -> Recording<S> {
        Recording {
            inner,
            recorder: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Recording<S> {
    inner: S,
    recorder: Recorder,
}

impl<S, B> Service<Request<B>> for Recording<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> S::Future {
        lock(&self.recorder.requests).push(RequestInfo::of(&req));
        self.inner.call(req)
    }
}

enum Action {
    /// Answer with this body instead of the server — after the server served the request
    /// (its answer lost), or without serving it.
    Respond {
        code: u16,
        body: Vec<u8>,
        served: bool,
    },
    /// Answer after this long.
    Delay(Duration),
}

struct Reaction {
    verb: String,
    resource: String,
    remaining: usize,
    action: Action,
}

/// Error injection: reactions to the next requests matching a verb and a resource, tried in
/// the order they were added (Go's fake reactors, but in front of the real server).
#[derive(Clone, Default)]
pub struct Reactors {
    reactions: Arc<Mutex<VecDeque<Reaction>>>,
}

impl Reactors {
    /// The next `times` requests matching `verb` and `resource` (`"*"` matches any; `alerts/status`
    /// a subresource) are answered with a `Status` of `code` and `reason` and are not served.
    pub fn fail(
        &self,
        verb: &str,
        resource: &str,
        times: usize,
        code: u16,
        reason: &str,
        message: &str,
    ) {
        self.answer(
            verb,
            resource,
            times,
            code,
            status_body(code, reason, message),
            false,
        );
    }

    /// The next `times` matching requests are answered with `code` and `body` (JSON) instead of
    /// the server: what a subresource the server does not serve would answer, say.
    pub fn respond(
        &self,
        verb: &str,
        resource: &str,
        times: usize,
        code: u16,
        body: &serde_json::Value,
    ) {
        let body = serde_json::to_vec(body).expect("a JSON value serialises");
        self.answer(verb, resource, times, code, body, false);
    }

    /// The next `times` watches of `resource` are answered as a server answers a watch from a
    /// compacted `resourceVersion`: `200` and one `ERROR` event with a `410 Expired` status —
    /// what makes informers relist.
    pub fn expire_watches(&self, resource: &str, times: usize) {
        let status = k8s_openapi::apimachinery::pkg::apis::meta::v1::Status {
            status: Some("Failure".into()),
            code: Some(410),
            reason: Some("Expired".into()),
            message: Some("too old resource version".into()),
            ..Default::default()
        };
        let mut line = serde_json::to_vec(&serde_json::json!({"type": "ERROR", "object": status}))
            .expect("a Status serialises");
        line.push(b'\n');
        self.answer("watch", resource, times, 200, line, false);
    }

    /// The next `times` matching requests are served — a write takes effect — and then answered
    /// with a `Status` of `code` and `reason` in place of the server's answer: a client's
    /// timeout after the server committed, or a connection lost with the answer. What a
    /// controller must survive without doing its work twice.
    pub fn lose_answer(
        &self,
        verb: &str,
        resource: &str,
        times: usize,
        code: u16,
        reason: &str,
        message: &str,
    ) {
        self.answer(
            verb,
            resource,
            times,
            code,
            status_body(code, reason, message),
            true,
        );
    }

    fn answer(
        &self,
        verb: &str,
        resource: &str,
        times: usize,
        code: u16,
        body: Vec<u8>,
        served: bool,
    ) {
        self.push(
            verb,
            resource,
            times,
            Action::Respond { code, body, served },
        );
    }

    /// The next `times` matching requests are served after `delay`.
    pub fn delay(&self, verb: &str, resource: &str, times: usize, delay: Duration) {
        self.push(verb, resource, times, Action::Delay(delay));
    }

    /// Forgets every pending reaction.
    pub fn clear(&self) {
        lock(&self.reactions).clear();
    }

    fn push(&self, verb: &str, resource: &str, times: usize, action: Action) {
        if times > 0 {
            lock(&self.reactions).push_back(Reaction {
                verb: verb.into(),
                resource: resource.into(),
                remaining: times,
                action,
            });
        }
    }

    /// The reaction to `info`, if any (used up by one).
    fn react(&self, info: &RequestInfo) -> Option<Reacted> {
        let mut reactions = lock(&self.reactions);
        let i = reactions
            .iter()
            .position(|r| info.matches(&r.verb, &r.resource))?;
        let r = &mut reactions[i];
        r.remaining -= 1;
        let reacted = match &r.action {
            Action::Respond { code, body, served } => Reacted::Answer {
                body: body.clone(),
                code: *code,
                served: *served,
            },
            Action::Delay(d) => Reacted::Delay(*d),
        };
        if r.remaining == 0 {
            reactions.remove(i);
        }
        Some(reacted)
    }
}

enum Reacted {
    /// Answered here (after the server, when `served`): the body and its status code.
    Answer {
        body: Vec<u8>,
        code: u16,
        served: bool,
    },
    Delay(Duration),
}

fn status_body(code: u16, reason: &str, message: &str) -> Vec<u8> {
    let status = k8s_openapi::apimachinery::pkg::apis::meta::v1::Status {
        status: Some("Failure".into()),
        code: Some(i32::from(code)),
        reason: Some(reason.into()),
        message: Some(message.into()),
        ..Default::default()
    };
    serde_json::to_vec(&status).expect("a Status serialises")
}

/// A tower layer applying [`Reactors`] in front of a service.
#[derive(Clone)]
pub struct ReactorLayer(pub Reactors);

impl<S> Layer<S> for ReactorLayer {
    type Service = Reacting<S>;
    fn layer(&self, inner: S) -> Reacting<S> {
        Reacting {
            inner,
            reactors: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Reacting<S> {
    inner: S,
    reactors: Reactors,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for Reacting<S>
where
    S: Service<Request<B>, Response = Response<axum::body::Body>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<axum::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let reacted = self.reactors.react(&RequestInfo::of(&req));
        // The readied service serves this request; a clone waits for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            match reacted {
                Some(Reacted::Answer { body, code, served }) => {
                    if served {
                        // The server's answer, its body included, is dropped unread.
                        drop(inner.call(req).await?);
                    }
                    Ok(Response::builder()
                        .status(code)
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(axum::body::Body::from(body))
                        .expect("a status response"))
                }
                Some(Reacted::Delay(d)) => {
                    tokio::time::sleep(d).await;
                    inner.call(req).await
                }
                None => inner.call(req).await,
            }
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why a fake could not be built.
#[derive(Debug)]
pub enum FakeError {
    Build(apiserver::BuildError),
    /// A preloaded object was refused (its `Status` message).
    Object(String),
}

impl std::fmt::Display for FakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FakeError::Build(e) => write!(f, "fake API server: {e}"),
            FakeError::Object(e) => {
                write!(f, "fake API server: a preloaded object was refused: {e}")
            }
        }
    }
}

impl std::error::Error for FakeError {}

/// A resource's group and plural.
type ResourceKey = (&'static str, &'static str);

/// Builds a [`Fake`]: resources (generated `fake::builder()` registers every kind of a
/// clientset), objects to preload.
pub struct FakeBuilder {
    server: ApiServerBuilder,
    /// By (group, plural): a later registration of a resource replaces an earlier one.
    resources: Vec<(ResourceKey, Box<dyn Registration>)>,
    /// (collection path, JSON) of each object to preload.
    objects: Vec<(String, Result<Vec<u8>, String>)>,
    namespace: String,
    retry: bool,
}

impl Default for FakeBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeBuilder {
    /// An empty server over an in-memory store; the client's default namespace is `default`.
    /// No garbage collector runs beside a fake, so every delete is a background one (in a
    /// cluster the collector would soon delete an object without dependents anyway).
    pub fn new() -> Self {
        FakeBuilder {
            server: ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
                .garbage_collection(false),
            resources: Vec::new(),
            objects: Vec::new(),
            namespace: "default".into(),
            retry: true,
        }
    }

    /// Whether the client retries 429, 503 and 504 answers as a real one does (default: yes,
    /// kube's `RetryPolicy::server_retry`, which `Config::default_retry` puts in every client
    /// built from a kubeconfig): an injected 503 is then retried as it would be in production.
    /// `false` matches a client built with `default_retry = false`, and hands every injected
    /// answer to the code under test.
    pub fn retry(mut self, retry: bool) -> Self {
        self.retry = retry;
        self
    }

    /// Serves a resource (see `apiserver::Resource`), replacing an earlier registration of the
    /// same resource: register the server's own (with its strategy) over a generated
    /// `fake::builder()`'s default, and the fake enforces the server's rules.
    pub fn resource<R: Registration>(mut self, resource: R) -> Self {
        let key = resource
            .served()
            .first()
            .map(|(info, _)| (info.group, info.plural))
            .unwrap_or(("", ""));
        self.resources.retain(|(k, _)| *k != key);
        self.resources.push((key, Box::new(resource)));
        self
    }

    /// The version a group's resources are stored in (as `ApiServerBuilder::storage_version`).
    pub fn storage_version(mut self, group: &str, version: &str) -> Self {
        self.server = self.server.storage_version(group, version);
        self
    }

    /// Admission webhooks the fake calls on writes, as the real server does (see
    /// `apiserver::Webhooks`): a test of a webhook against the fake sees what the server sends.
    pub fn admission_webhooks(mut self, webhooks: apiserver::Webhooks) -> Self {
        self.server = self.server.admission_webhooks(webhooks);
        self
    }

    /// The client's default namespace (where preloaded namespaced objects without one go).
    pub fn default_namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// An object to create before the fake is handed out (in its namespace, else the default
    /// one): it gets a uid, a `resourceVersion` and defaults like any other, and keeps the
    /// `status` it was given (written through the status subresource, which a create ignores).
    pub fn object<K: ApiObject>(mut self, obj: K) -> Self {
        use kube::Resource;
        let namespaced = std::any::TypeId::of::<<K as k8s_openapi::Resource>::Scope>()
            == std::any::TypeId::of::<k8s_openapi::NamespaceResourceScope>();
        let ns = namespaced.then(|| {
            obj.metadata()
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| self.namespace.clone())
        });
        let path = K::url_path(&(), ns.as_deref());
        // An object that does not serialise is reported by `build`, not sent empty.
        self.objects
            .push((path, serde_json::to_vec(&obj).map_err(|e| e.to_string())));
        self
    }

    /// The server, with every object created.
    pub async fn build(self) -> Result<Fake, FakeError> {
        let mut server = self.server;
        for (_, r) in self.resources {
            server = server.resource_boxed(r);
        }
        let router = server.build().map_err(FakeError::Build)?.into_router();
        for (path, body) in self.objects {
            let body = body.map_err(|e| FakeError::Object(format!("{path}: {e}")))?;
            let json = |bytes: &[u8], what: &str| {
                serde_json::from_slice::<serde_json::Value>(bytes)
                    .map_err(|e| FakeError::Object(format!("{path}: {what} is not JSON: {e}")))
            };
            let given = json(&body, "the preloaded object")?;
            let req = Request::post(path.as_str())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body))
                .expect("a create request");
            let (code, bytes) = send(&router, req).await;
            if !code.is_success() {
                return Err(FakeError::Object(format!(
                    "{path}: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            // A create clears `status` (a kind with a status subresource): the preload's is
            // written through `/status` then, so the object is what the test gave.
            let Some(status) = given.get("status").filter(|s| !s.is_null()) else {
                continue;
            };
            let mut created = json(&bytes, "the created object")?;
            if created.get("status") == Some(status) {
                continue;
            }
            let name = created
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| {
                    FakeError::Object(format!("{path}: the created object has no name"))
                })?
                .to_string();
            created["status"] = status.clone();
            let req = Request::put(format!("{path}/{name}/status"))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(created.to_string()))
                .expect("a status update request");
            let (code, bytes) = send(&router, req).await;
            // 404: no status subresource, so the create kept the status as given.
            if !code.is_success() && code != http::StatusCode::NOT_FOUND {
                return Err(FakeError::Object(format!(
                    "{path}: the status of a preloaded object: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
        }
        let recorder = Recorder::default();
        let reactors = Reactors::default();
        // The real client's retry outside (each attempt recorded and reacted to, as a server
        // sees each one).
        let retry = self.retry.then(|| {
            tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry())
        });
        let service = tower::ServiceBuilder::new()
            .option_layer(retry)
            .map_err(tower::BoxError::from)
            .layer(RecorderLayer(recorder.clone()))
            .layer(ReactorLayer(reactors.clone()))
            .service(router);
        Ok(Fake {
            client: kube::Client::new(service, self.namespace),
            recorder,
            reactors,
        })
    }
}

/// One request to the in-process server: its status code and body (an in-process body that
/// cannot be read is empty, and the code says what happened).
async fn send(
    router: &axum::Router,
    req: Request<axum::body::Body>,
) -> (http::StatusCode, bytes::Bytes) {
    let resp = match router.clone().oneshot(req).await {
        Ok(resp) => resp,
        Err(e) => match e {},
    };
    let code = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    (code, bytes)
}

/// A running fake: a `kube::Client` served in-process by the real API server, with its
/// request [`Recorder`] and error-injecting [`Reactors`].
#[derive(Clone)]
pub struct Fake {
    client: kube::Client,
    recorder: Recorder,
    reactors: Reactors,
}

impl Fake {
    /// A `kube::Client` for the fake (give it to the generated `Clientset::new`).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    pub fn reactors(&self) -> &Reactors {
        &self.reactors
    }
}
