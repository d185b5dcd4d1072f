//! Admission webhooks (Go's `MutatingAdmissionWebhook` and `ValidatingAdmissionWebhook`):
//! `MutatingWebhookConfiguration`/`ValidatingWebhookConfiguration` objects (read from a file: an
//! aggregated server cannot assume it may read the main cluster's), each webhook called over
//! HTTPS with an `admission.k8s.io/v1` `AdmissionReview` when its rules and selectors match a
//! write. Mutating webhooks run after the mutating plugins, validating webhooks after the
//! validating plugins.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
    WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use kube::core::admission::{AdmissionRequest, AdmissionReview, Operation as ReviewOperation};
use kube::core::{DynamicObject, GroupVersionKind, GroupVersionResource, TypeMeta};
use serde_json::Value;

use kube_codegen_scheme::{ResourceInfo, ScaleInfo};

use super::admission::{Attributes, Operation, RequestOptions};
use crate::selector::LabelSelector;
use crate::status::ApiError;

/// A namespace's labels.
pub(crate) type Labels = std::collections::BTreeMap<String, String>;

/// The configured webhooks, in configuration order.
#[derive(Default)]
pub struct Webhooks {
    mutating: Vec<Hook>,
    validating: Vec<Hook>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |hooks: &[Hook]| hooks.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        f.debug_struct("Webhooks")
            .field("mutating", &names(&self.mutating))
            .field("validating", &names(&self.validating))
            .finish()
    }
}

struct Hook {
    name: String,
    url: http::Uri,
    tls: Option<Arc<rustls::ClientConfig>>,
    rules: Vec<RuleWithOperations>,
    /// `failurePolicy: Fail` (the default): a webhook that cannot answer refuses the write.
    fail_closed: bool,
    /// `sideEffects: None` or `NoneOnDryRun`: may be called for dry runs.
    dry_run_safe: bool,
    timeout: Duration,
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
    /// `matchPolicy: Equivalent` (the default): a write through another version of the resource
    /// than the rules name is sent, converted, in a version they do name.
    equivalent: bool,
    /// Connections kept alive between calls.
    idle: std::sync::Mutex<Vec<Sender>>,
}

impl Webhooks {
    /// Webhooks from configuration objects; an unusable one (no URL, a CA bundle that does not
    /// parse, a selector that does not) is an error naming it.
    pub fn new(
        mutating: Vec<MutatingWebhookConfiguration>,
        validating: Vec<ValidatingWebhookConfiguration>,
    ) -> Result<Self, String> {
        let mut out = Webhooks::default();
        for w in mutating
            .into_iter()
            .flat_map(|c| c.webhooks.unwrap_or_default())
        {
            out.mutating.push(Hook::new(Spec {
                name: w.name,
                client: w.client_config,
                rules: w.rules,
                failure_policy: w.failure_policy,
                match_policy: w.match_policy,
                side_effects: w.side_effects,
                timeout_seconds: w.timeout_seconds,
                namespace_selector: w.namespace_selector,
                object_selector: w.object_selector,
                review_versions: w.admission_review_versions,
            })?);
        }
        for w in validating
            .into_iter()
            .flat_map(|c| c.webhooks.unwrap_or_default())
        {
            out.validating.push(Hook::new(Spec {
                name: w.name,
                client: w.client_config,
                rules: w.rules,
                failure_policy: w.failure_policy,
                match_policy: w.match_policy,
                side_effects: w.side_effects,
                timeout_seconds: w.timeout_seconds,
                namespace_selector: w.namespace_selector,
                object_selector: w.object_selector,
                review_versions: w.admission_review_versions,
            })?);
        }
        Ok(out)
    }

    /// Webhooks from a YAML file of `MutatingWebhookConfiguration` and
    /// `ValidatingWebhookConfiguration` documents (`---`-separated).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let (mut mutating, mut validating) = (Vec::new(), Vec::new());
        for (i, doc) in serde_saphyr::from_multiple::<Value>(text)
            .map_err(|e| format!("webhook configuration: {e}"))?
            .into_iter()
            .enumerate()
        {
            if doc.is_null() {
                continue;
            }
            match doc.get("kind").and_then(Value::as_str) {
                Some("MutatingWebhookConfiguration") => mutating.push(
                    serde_json::from_value(doc)
                        .map_err(|e| format!("webhook configuration document {i}: {e}"))?,
                ),
                Some("ValidatingWebhookConfiguration") => validating.push(
                    serde_json::from_value(doc)
                        .map_err(|e| format!("webhook configuration document {i}: {e}"))?,
                ),
                other => {
                    return Err(format!(
                        "webhook configuration document {i}: kind {other:?} is neither MutatingWebhookConfiguration nor ValidatingWebhookConfiguration"
                    ));
                }
            }
        }
        Webhooks::new(mutating, validating)
    }

    pub fn is_empty(&self) -> bool {
        self.mutating.is_empty() && self.validating.is_empty()
    }

    /// Calls the matching mutating webhooks in order, each seeing the object in its version;
    /// each patch is applied before the next is called. `object` starts in the request's
    /// version and ends in the version of the last webhook that patched it. Returns the
    /// webhooks' warnings.
    pub(crate) async fn mutate(
        &self,
        attrs: &Attributes<'_>,
        namespace_labels: &Labels,
        versions: &dyn VersionedView,
        object: &mut (String, Value),
    ) -> Result<Vec<String>, ApiError> {
        let served = versions.served();
        let mut warnings = Vec::new();
        for hook in &self.mutating {
            let Some(seen_as) = hook.version_for(attrs, &served) else {
                continue;
            };
            if object.0 != seen_as.version {
                object.1 = versions.convert(&object.1, &object.0, seen_as.version)?;
                object.0 = seen_as.version.to_string();
            }
            let scale = scale_seen(attrs, seen_as);
            let old = scale_view(scale, versions.old(seen_as.version)?)?;
            let scale_of_object = scale_view(scale, scale.map(|_| object.1.clone()))?;
            let sent = scale_of_object.as_ref().unwrap_or(&object.1);
            if !hook.selects(attrs, namespace_labels, Some(sent), old.as_ref())? {
                continue;
            }
            if let Some(answer) = hook.call(attrs, seen_as, Some(sent), old.as_ref()).await? {
                warnings.extend(answer.warnings.iter().cloned());
                if let Some(patch) = answer.patch {
                    let patch: json_patch::Patch = serde_json::from_slice(&patch).map_err(|e| {
                        ApiError::internal(format!(
                            "admission webhook {:?} returned an invalid JSON patch: {e}",
                            hook.name
                        ))
                    })?;
                    let does_not_apply = |e: json_patch::PatchError| {
                        ApiError::internal(format!(
                            "admission webhook {:?} returned a patch that does not apply: {e}",
                            hook.name
                        ))
                    };
                    match (scale, scale_of_object) {
                        // The patched `Scale`'s replicas go to the object, as Go's scale
                        // handler writes them back; the rest of a `Scale` is read-only.
                        (Some(info), Some(mut patched)) => {
                            json_patch::patch(&mut patched, &patch).map_err(does_not_apply)?;
                            // Validated as the `Scale` a client sends (Go validates the
                            // mutated `Scale` too).
                            let replicas = super::scale::replicas(&patched, &["spec", "replicas"])
                                .map_err(|e| {
                                    ApiError::internal(format!(
                                        "admission webhook {:?} patched the Scale: {}",
                                        hook.name, e.message
                                    ))
                                })?;
                            super::scale::check_replicas(
                                attrs.resource,
                                attrs.name,
                                info.spec_replicas_path,
                                replicas,
                            )?;
                            super::scale::set_replicas(
                                &mut object.1,
                                info.spec_replicas_path,
                                replicas,
                            )?;
                        }
                        _ => json_patch::patch(&mut object.1, &patch).map_err(does_not_apply)?,
                    }
                }
            }
        }
        Ok(warnings)
    }

    /// Calls the matching validating webhooks, each seeing the objects in its version (in
    /// order; Kubernetes calls them in parallel, with the same outcome). Returns their
    /// warnings.
    pub(crate) async fn validate(
        &self,
        attrs: &Attributes<'_>,
        namespace_labels: &Labels,
        versions: &dyn VersionedView,
    ) -> Result<Vec<String>, ApiError> {
        let served = versions.served();
        let mut warnings = Vec::new();
        for hook in &self.validating {
            let Some(seen_as) = hook.version_for(attrs, &served) else {
                continue;
            };
            let scale = scale_seen(attrs, seen_as);
            let object = scale_view(scale, versions.object(seen_as.version)?)?;
            let old = scale_view(scale, versions.old(seen_as.version)?)?;
            if hook.selects(attrs, namespace_labels, object.as_ref(), old.as_ref())?
                && let Some(answer) = hook
                    .call(attrs, seen_as, object.as_ref(), old.as_ref())
                    .await?
            {
                warnings.extend(answer.warnings.iter().cloned());
            }
        }
        Ok(warnings)
    }
}

/// How a webhook sees a write through `<plural>/scale`: as the objects' `autoscaling/v1`
/// `Scale`, which Go's admission attributes hold there (`None`: as the objects themselves).
fn scale_seen<'i>(attrs: &Attributes<'_>, seen_as: &'i ResourceInfo) -> Option<&'i ScaleInfo> {
    seen_as
        .scale
        .as_ref()
        .filter(|_| attrs.subresource == Some("scale"))
}

/// `object` as a webhook sees it: its `Scale` (with `apiVersion` and `kind`) when `scale`.
fn scale_view(scale: Option<&ScaleInfo>, object: Option<Value>) -> Result<Option<Value>, ApiError> {
    match (scale, object) {
        (Some(info), Some(object)) => {
            let scale = super::scale::scale_of(&object, info)?;
            serde_json::to_value(&scale)
                .map(Some)
                .map_err(|e| ApiError::internal(e.to_string()))
        }
        (_, object) => Ok(object),
    }
}

/// A write's objects in each served version of the resource (what the registry's codecs give).
pub(crate) trait VersionedView: Sync {
    /// The resource in every served version.
    fn served(&self) -> Vec<&ResourceInfo>;
    /// The new object in `version` (`None` for a delete).
    fn object(&self, version: &str) -> Result<Option<Value>, ApiError>;
    /// The stored object in `version` (`None` for a create).
    fn old(&self, version: &str) -> Result<Option<Value>, ApiError>;
    /// `object`, in version `from`, converted to version `to`.
    fn convert(&self, object: &Value, from: &str, to: &str) -> Result<Value, ApiError>;
}

/// What mutating and validating webhooks share in their configuration.
struct Spec {
    name: String,
    client: WebhookClientConfig,
    rules: Option<Vec<RuleWithOperations>>,
    failure_policy: Option<String>,
    match_policy: Option<String>,
    side_effects: String,
    timeout_seconds: Option<i32>,
    namespace_selector: Option<meta::LabelSelector>,
    object_selector: Option<meta::LabelSelector>,
    review_versions: Vec<String>,
}

/// What a webhook answered and allowed.
struct Answer {
    patch: Option<Vec<u8>>,
    warnings: Vec<String>,
}

impl Hook {
    /// A webhook from its configuration, checked as Kubernetes validates one (every value named,
    /// none guessed or clamped).
    fn new(spec: Spec) -> Result<Self, String> {
        let what = format!("webhook {:?}", spec.name);
        let client = &spec.client;
        let url: http::Uri = client
            .url
            .as_deref()
            .ok_or_else(|| {
                format!("{what}: clientConfig.url is required (a service reference needs the cluster's network)")
            })?
            .parse()
            .map_err(|e| format!("{what}: clientConfig.url: {e}"))?;
        let tls = match url.scheme_str() {
            Some("https") => Some(Arc::new(tls_config(client, &what)?)),
            // Plain HTTP only to loopback (tests, sidecars), as for the server itself.
            Some("http") if is_loopback(&url) => None,
            _ => return Err(format!("{what}: clientConfig.url must be https")),
        };
        let one_of = |field: &str, value: Option<&str>, allowed: &[&str]| match value {
            Some(v) if !allowed.contains(&v) => Err(format!(
                "{what}: {field}: Unsupported value: {v:?}: supported values: {}",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => Ok(()),
        };
        one_of(
            "failurePolicy",
            spec.failure_policy.as_deref(),
            &["Ignore", "Fail"],
        )?;
        one_of(
            "matchPolicy",
            spec.match_policy.as_deref(),
            &["Exact", "Equivalent"],
        )?;
        one_of(
            "sideEffects",
            Some(&spec.side_effects),
            &["None", "NoneOnDryRun", "Some", "Unknown"],
        )?;
        let rules = spec.rules.unwrap_or_default();
        for (i, r) in rules.iter().enumerate() {
            for op in r.operations.iter().flatten() {
                one_of(
                    &format!("rules[{i}].operations"),
                    Some(op),
                    &["*", "CREATE", "UPDATE", "DELETE", "CONNECT"],
                )?;
            }
            one_of(
                &format!("rules[{i}].scope"),
                r.scope.as_deref(),
                &["*", "Cluster", "Namespaced"],
            )?;
        }
        let timeout = match spec.timeout_seconds {
            None => 10,
            Some(t @ 1..=30) => t as u64,
            Some(t) => {
                return Err(format!(
                    "{what}: timeoutSeconds: Invalid value: {t}: the timeout value must be between 1 and 30 seconds"
                ));
            }
        };
        if !spec.review_versions.iter().any(|v| v == "v1") {
            return Err(format!(
                "{what}: admissionReviewVersions: this server speaks admission.k8s.io/v1; {:?} does not list v1",
                spec.review_versions
            ));
        }
        Ok(Hook {
            fail_closed: spec.failure_policy.as_deref() != Some("Ignore"),
            dry_run_safe: matches!(spec.side_effects.as_str(), "None" | "NoneOnDryRun"),
            timeout: Duration::from_secs(timeout),
            namespace_selector: selector(spec.namespace_selector.as_ref())
                .map_err(|e| format!("{what}: namespaceSelector: {e}"))?,
            object_selector: selector(spec.object_selector.as_ref())
                .map_err(|e| format!("{what}: objectSelector: {e}"))?,
            equivalent: spec.match_policy.as_deref() != Some("Exact"),
            name: spec.name,
            url,
            tls,
            rules,
            idle: Default::default(),
        })
    }

    /// The version through which this webhook sees the write: the request's when the rules
    /// name it, else (`matchPolicy: Equivalent`) another served version of the resource they
    /// name; `None` when the rules do not select the write.
    fn version_for<'v>(
        &self,
        attrs: &Attributes<'v>,
        served: &[&'v ResourceInfo],
    ) -> Option<&'v ResourceInfo> {
        let scope = if attrs.resource.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        };
        let any = |list: &Option<Vec<String>>, value: &str| {
            list.iter().flatten().any(|v| v == "*" || v == value)
        };
        let rules_name = |info: &ResourceInfo| {
            self.rules.iter().any(|r| {
                any(&r.operations, attrs.operation.as_str())
                    && any(&r.api_groups, info.group)
                    && any(&r.api_versions, info.version)
                    && r.resources
                        .iter()
                        .flatten()
                        .any(|pattern| resource_matches(pattern, info.plural, attrs.subresource))
                    && r.scope.as_deref().is_none_or(|s| s == "*" || s == scope)
            })
        };
        if rules_name(attrs.resource) {
            return Some(attrs.resource);
        }
        if !self.equivalent {
            return None;
        }
        served.iter().copied().find(|info| rules_name(info))
    }

    /// Whether the selectors select the write (objects in the webhook's version); a dry run
    /// meeting a webhook with side effects is refused (Kubernetes' answer).
    fn selects(
        &self,
        attrs: &Attributes<'_>,
        namespace_labels: &Labels,
        object: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<bool, ApiError> {
        // The namespace's labels (from the server's namespace source; none without one).
        if attrs.namespace.is_some() && !self.namespace_selector.matches(namespace_labels) {
            return Ok(false);
        }
        // The objects are the server's own encoding: labels, when present, map strings to
        // strings.
        let labels = |v: Option<&Value>| -> std::collections::BTreeMap<String, String> {
            v.and_then(|v| v.pointer("/metadata/labels"))
                .and_then(Value::as_object)
                .map(|l| {
                    l.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        if !self.object_selector.matches(&labels(object))
            && !self.object_selector.matches(&labels(old))
        {
            return Ok(false);
        }
        if attrs.dry_run && !self.dry_run_safe {
            return Err(ApiError::bad_request(format!(
                "admission webhook {:?} does not support dry run",
                self.name
            )));
        }
        Ok(true)
    }

    /// Sends the review; `Ok(None)` when the webhook could not answer and fails open.
    async fn call(
        &self,
        attrs: &Attributes<'_>,
        seen_as: &ResourceInfo,
        object: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<Option<Answer>, ApiError> {
        let uid = uuid::Uuid::new_v4().to_string();
        let body = review(attrs, seen_as, &uid, object, old)?;
        match tokio::time::timeout(self.timeout, self.post(body)).await {
            Ok(Ok(bytes)) => self.read(&uid, &bytes).map(Some),
            Ok(Err(e)) => self.unavailable(e),
            Err(_) => self.unavailable(format!("timed out after {:?}", self.timeout)),
        }
    }

    fn unavailable(&self, why: String) -> Result<Option<Answer>, ApiError> {
        if self.fail_closed {
            Err(ApiError::internal(format!(
                "Internal error occurred: failed calling webhook {:?}: {why}",
                self.name
            )))
        } else {
            tracing::warn!(webhook = %self.name, error = %why, "webhook failed; ignored (failurePolicy: Ignore)");
            Ok(None)
        }
    }

    /// Posts `body` on a kept-alive connection of the webhook's pool, or a new one.
    async fn post(&self, body: Vec<u8>) -> Result<bytes::Bytes, String> {
        let host = self.url.host().ok_or("the URL has no host")?.to_string();
        let request = http::Request::post(self.url.clone())
            .header(http::header::HOST, host.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(bytes::Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut sender = match idle {
            Some(sender) if sender.is_ready() => sender,
            _ => self.connect(&host).await?,
        };
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the webhook answered {}", response.status()));
        }
        // A review answer is small; a webhook sending megabytes is broken.
        let body = http_body_util::Limited::new(response.into_body(), 3 << 20)
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
        Ok(body.to_bytes())
    }

    /// A new HTTP/1 connection to the webhook (TLS when its URL is https).
    async fn connect(&self, host: &str) -> Result<Sender, String> {
        let port = self
            .url
            .port_u16()
            .unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| e.to_string())?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                handshake(hyper_util::rt::TokioIo::new(stream)).await
            }
            None => handshake(hyper_util::rt::TokioIo::new(tcp)).await,
        }
    }

    fn read(&self, uid: &str, bytes: &[u8]) -> Result<Answer, ApiError> {
        let failed = |why: String| -> Result<Answer, ApiError> {
            match self.unavailable(why)? {
                Some(a) => Ok(a),
                None => Ok(Answer {
                    patch: None,
                    warnings: Vec::new(),
                }),
            }
        };
        let review: ReviewResponse = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => return failed(format!("the response is not an AdmissionReview: {e}")),
        };
        let Some(response) = review.response else {
            return failed("the AdmissionReview has no response".into());
        };
        if response.uid != uid {
            return failed(format!(
                "the response's uid {:?} is not the request's",
                response.uid
            ));
        }
        if !response.allowed {
            let status = response.status.unwrap_or_default();
            let code = status
                .code
                .filter(|c| (400..600).contains(c))
                .unwrap_or(403) as u16;
            let message = format!(
                "admission webhook {:?} denied the request{}",
                self.name,
                status
                    .message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            return Err(ApiError::new(code, reason(code), message));
        }
        if response.patch.is_some() && response.patch_type.as_deref() != Some("JSONPatch") {
            return failed(format!(
                "patchType {:?} is not JSONPatch",
                response.patch_type
            ));
        }
        Ok(Answer {
            patch: response.patch.map(|p| p.0),
            warnings: response.warnings.unwrap_or_default(),
        })
    }
}

/// `alerts`, `alerts/status`, `*`, `*/status`, `alerts/*`.
fn resource_matches(pattern: &str, plural: &str, subresource: Option<&str>) -> bool {
    let (res, sub) = match pattern.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (pattern, None),
    };
    (res == "*" || res == plural)
        && match (sub, subresource) {
            (None, None) => true,
            (Some("*"), Some(_)) => true,
            (Some(s), Some(asked)) => s == asked,
            _ => false,
        }
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

fn is_loopback(url: &http::Uri) -> bool {
    matches!(
        url.host(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    )
}

fn tls_config(client: &WebhookClientConfig, what: &str) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let bundle = client
        .ca_bundle
        .as_ref()
        .map(|b| b.0.clone())
        .unwrap_or_default();
    for cert in CertificateDer::pem_slice_iter(&bundle) {
        let cert = cert.map_err(|e| format!("{what}: caBundle: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{what}: caBundle: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{what}: clientConfig.caBundle is required (the CA that signed the webhook's certificate)"
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn selector(s: Option<&meta::LabelSelector>) -> Result<LabelSelector, String> {
    s.map_or(Ok(LabelSelector::everything()), super::meta::label_selector)
}

/// A connection's request half.
type Sender = hyper::client::conn::http1::SendRequest<Full<bytes::Bytes>>;

/// Kept-alive connections per webhook.
const MAX_IDLE: usize = 32;

async fn handshake<S>(io: S) -> Result<Sender, String>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The `AdmissionReview` request for a write (kube's typed review).
fn review(
    attrs: &Attributes<'_>,
    info: &ResourceInfo,
    uid: &str,
    object: Option<&Value>,
    old: Option<&Value>,
) -> Result<Vec<u8>, ApiError> {
    let asked = attrs.resource;
    let dynamic = |v: Option<&Value>| -> Result<Option<DynamicObject>, ApiError> {
        v.map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| {
                ApiError::internal(format!("an object does not encode for a webhook: {e}"))
            })
    };
    // Through `/scale` the objects are `Scale`s (the resource stays the object's).
    let scale = scale_seen(attrs, info).is_some();
    let kind = if scale {
        GroupVersionKind::gvk("autoscaling", "v1", "Scale")
    } else {
        GroupVersionKind::gvk(info.group, info.version, info.kind)
    };
    let resource = GroupVersionResource::gvr(info.group, info.version, info.plural);
    let (options_kind, options) = match attrs.options {
        RequestOptions::Create { field_manager } => (
            "CreateOptions",
            serde_json::json!({"fieldManager": field_manager}),
        ),
        RequestOptions::Update { field_manager } => (
            "UpdateOptions",
            serde_json::json!({"fieldManager": field_manager}),
        ),
        RequestOptions::Patch {
            field_manager,
            force,
        } => (
            "PatchOptions",
            serde_json::json!({"fieldManager": field_manager, "force": force}),
        ),
        RequestOptions::Delete(d) => (
            "DeleteOptions",
            serde_json::to_value(d).unwrap_or(Value::Null),
        ),
    };
    let mut options = options;
    if let Value::Object(o) = &mut options {
        o.insert("apiVersion".into(), "meta.k8s.io/v1".into());
        o.insert("kind".into(), options_kind.into());
        if attrs.dry_run {
            o.insert("dryRun".into(), serde_json::json!(["All"]));
        }
    }
    let user = attrs
        .user
        .map(|u| k8s_openapi::api::authentication::v1::UserInfo {
            username: Some(u.name.clone()),
            uid: Some(u.uid.clone()).filter(|s| !s.is_empty()),
            groups: Some(u.groups.clone()),
            extra: Some(u.extra.clone()).filter(|e| !e.is_empty()),
        });
    let request = AdmissionRequest::<DynamicObject> {
        types: TypeMeta {
            api_version: "admission.k8s.io/v1".into(),
            kind: "AdmissionReview".into(),
        },
        uid: uid.to_string(),
        kind,
        resource,
        sub_resource: attrs.subresource.map(str::to_string),
        request_kind: Some(if scale {
            GroupVersionKind::gvk("autoscaling", "v1", "Scale")
        } else {
            GroupVersionKind::gvk(asked.group, asked.version, asked.kind)
        }),
        request_resource: Some(GroupVersionResource::gvr(
            asked.group,
            asked.version,
            asked.plural,
        )),
        request_sub_resource: attrs.subresource.map(str::to_string),
        name: attrs.name.to_string(),
        namespace: attrs.namespace.map(str::to_string),
        operation: match attrs.operation {
            Operation::Create => ReviewOperation::Create,
            Operation::Update => ReviewOperation::Update,
            Operation::Delete => ReviewOperation::Delete,
        },
        user_info: user.unwrap_or_default(),
        object: dynamic(object)?,
        old_object: dynamic(old)?,
        dry_run: attrs.dry_run,
        options: Some(k8s_openapi::apimachinery::pkg::runtime::RawExtension(
            options,
        )),
    };
    let review = AdmissionReview::<DynamicObject> {
        types: TypeMeta {
            api_version: "admission.k8s.io/v1".into(),
            kind: "AdmissionReview".into(),
        },
        request: Some(request),
        response: None,
    };
    let mut review =
        serde_json::to_value(&review).map_err(|e| ApiError::internal(e.to_string()))?;
    // kube's GroupVersionResource carries an `api_version` of its own that the wire type has not.
    for field in ["resource", "requestResource"] {
        if let Some(Value::Object(r)) = review.pointer_mut(&format!("/request/{field}")) {
            r.remove("api_version");
        }
    }
    serde_json::to_vec(&review).map_err(|e| ApiError::internal(e.to_string()))
}

/// The response half of an `AdmissionReview`, as webhooks send it (`patch` as base64, the way
/// Go writes bytes, or as an array of numbers).
#[derive(serde::Deserialize)]
struct ReviewResponse {
    response: Option<ResponseBody>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseBody {
    #[serde(default)]
    uid: String,
    allowed: bool,
    #[serde(default)]
    status: Option<meta::Status>,
    #[serde(default)]
    patch: Option<PatchBytes>,
    #[serde(default)]
    patch_type: Option<String>,
    #[serde(default)]
    warnings: Option<Vec<String>>,
}

struct PatchBytes(Vec<u8>);

impl<'de> serde::Deserialize<'de> for PatchBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Base64(String),
            Bytes(Vec<u8>),
        }
        match Either::deserialize(d)? {
            Either::Base64(s) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(PatchBytes)
                .map_err(serde::de::Error::custom),
            Either::Bytes(b) => Ok(PatchBytes(b)),
        }
    }
}
