//! The HTTP side: routing Kubernetes paths, content negotiation, and every verb's conventions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use apiserver_storage::{AnyStore, ListOptions, Storage, StorageError};
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use kube_codegen_scheme::Gvk;
use serde_json::{Value, json};

use crate::discovery::{self, GroupDoc};
use crate::object;
use crate::registry::ResourceHandler;
use crate::status::{ApiError, Cause};
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
    pub store: AnyStore,
    pub version: VersionInfo,
    /// How often a watch with `allowWatchBookmarks` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// By (group, version, plural).
    pub resources: HashMap<(String, String, String), Arc<dyn ResourceHandler>>,
    /// Groups in registration order, versions most preferred first.
    pub groups: Vec<(String, Vec<String>)>,
    pub openapi: crate::OpenApiDocs,
    /// The versioned codec: every served version of a resource served in several converts
    /// through its hub (conversion-gen's `register_conversions`).
    pub conversions: kube_codegen_scheme::Scheme,
    /// The version each resource is stored in, by (group, plural).
    pub storage_versions: HashMap<(String, String), String>,
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
                            .map(|(_, h)| h.info())
                            .collect();
                        rs.sort_by_key(|i| i.plural);
                        (v.as_str(), rs)
                    })
                    .collect(),
            })
            .collect()
    }
}

type Resp = Response<Body>;

fn json_response(code: StatusCode, value: &Value) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

fn error_response(e: &ApiError) -> Resp {
    json_response(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.to_status(),
    )
}

fn text(code: StatusCode, body: &str) -> Resp {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body.to_string()))
        .expect("response")
}

/// The tower service entry point: never panics into the client, always answers a `Status`.
pub(crate) async fn handle(state: Arc<State>, req: Request<Body>) -> Resp {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
            ));
        }
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    let query: BTreeMap<String, String> = query.into_iter().collect();
    let ctx = Ctx {
        state: &state,
        method: parts.method.clone(),
        headers: &parts.headers,
        query: &query,
        body,
    };
    let path = parts.uri.path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match route(&ctx, &segments).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

struct Ctx<'a> {
    state: &'a Arc<State>,
    method: Method,
    headers: &'a HeaderMap,
    query: &'a BTreeMap<String, String>,
    body: Bytes,
}

impl Ctx<'_> {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.param("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::invalid_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            ))),
        }
    }
}

impl ApiError {
    /// 422 for invalid request options (CreateOptions, ListOptions, ...).
    fn invalid_request(message: String) -> Self {
        ApiError::new(422, "Invalid", message)
    }
}

/// Parsed resource path.
struct Target {
    handler: Arc<dyn ResourceHandler>,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

async fn route(ctx: &Ctx<'_>, seg: &[&str]) -> Result<Resp, ApiError> {
    let st = ctx.state;
    match seg {
        ["version"] => Ok(json_response(
            StatusCode::OK,
            &json!({
                "major": st.version.major, "minor": st.version.minor,
                "gitVersion": st.version.git_version, "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "", "goVersion": "", "compiler": "rustc",
                "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
            }),
        )),
        ["healthz" | "livez" | "readyz", ..] => {
            if ctx.query.contains_key("verbose") {
                Ok(text(
                    StatusCode::OK,
                    "[+]ping ok\n[+]storage ok\nhealthz check passed\n",
                ))
            } else {
                Ok(text(StatusCode::OK, "ok"))
            }
        }
        ["api"] => {
            if let Some(v) = discovery::aggregated_version(ctx.header(header::ACCEPT)) {
                return Ok(aggregated_response(&discovery::aggregated(&[], v), v));
            }
            Ok(json_response(StatusCode::OK, &discovery::api_versions()))
        }
        ["apis"] => {
            let docs = st.group_docs();
            if let Some(v) = discovery::aggregated_version(ctx.header(header::ACCEPT)) {
                return Ok(aggregated_response(&discovery::aggregated(&docs, v), v));
            }
            Ok(json_response(
                StatusCode::OK,
                &discovery::api_group_list(&docs),
            ))
        }
        ["apis", group] => {
            let docs = st.group_docs();
            match docs.iter().find(|d| d.name == *group) {
                Some(d) => Ok(json_response(StatusCode::OK, &discovery::api_group(d))),
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
                Some((_, resources)) => Ok(json_response(
                    StatusCode::OK,
                    &discovery::api_resource_list(group, version, resources, &|i| {
                        ctx.state.storage_version(i).to_string()
                    }),
                )),
                None => Err(not_found_path()),
            }
        }
        ["openapi", "v2"] => crate::openapi_v2(ctx.state, ctx.header(header::ACCEPT)),
        ["openapi", "v3"] => Ok(json_response(StatusCode::OK, &st.openapi.v3_root)),
        ["openapi", "v3", "apis", group, version] => {
            crate::openapi_v3(ctx.state, group, version, ctx.param("hash"))
        }
        ["apis", group, version, rest @ ..] => {
            let target = resolve(st, group, version, rest)?;
            resource_request(ctx, target).await
        }
        _ => Err(not_found_path()),
    }
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
    let find = |plural: &str| {
        st.resources
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    };
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
    let handler = find(plural).ok_or_else(not_found_path)?;
    let info = handler.info();
    if namespace.is_some() && !info.namespaced {
        return Err(not_found_path());
    }
    // A namespaced item needs its namespace; the collection without one lists all namespaces.
    if info.namespaced && namespace.is_none() && name.is_some() {
        return Err(not_found_path());
    }
    if let Some(s) = &sub
        && !(s == "status" && info.has_status)
    {
        return Err(not_found_path());
    }
    Ok(Target {
        handler,
        namespace,
        name,
        subresource: sub,
    })
}

/// `/registry/<group>/<plural>/[<namespace>/][<name>]`.
fn key(info: &kube_codegen_scheme::ResourceInfo, ns: Option<&str>, name: Option<&str>) -> String {
    let mut k = format!("/registry/{}/{}/", info.group, info.plural);
    if let Some(ns) = ns {
        k.push_str(ns);
        k.push('/');
    }
    if let Some(n) = name {
        k.push_str(n);
    }
    k
}

fn storage_error(
    e: StorageError,
    info: &kube_codegen_scheme::ResourceInfo,
    name: &str,
) -> ApiError {
    match e {
        StorageError::AlreadyExists { .. } => {
            ApiError::already_exists(info.plural, info.group, name)
        }
        StorageError::NotFound { .. } => ApiError::not_found(info.plural, info.group, name),
        StorageError::Conflict { .. } => ApiError::conflict(
            info.plural,
            info.group,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
        StorageError::Expired { requested, oldest } => {
            ApiError::expired(format!("too old resource version: {requested} ({oldest})"))
        }
        StorageError::TooLarge { size, limit, .. } => ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: {size} bytes, limit is {limit}"),
        ),
        other => ApiError::internal(other.to_string()),
    }
}

impl State {
    /// The version `info`'s resource is stored in.
    fn storage_version<'a>(&'a self, info: &'a kube_codegen_scheme::ResourceInfo) -> &'a str {
        self.storage_versions
            .get(&(info.group.to_string(), info.plural.to_string()))
            .map_or(info.version, String::as_str)
    }

    /// Converts an object's JSON from one version of `info`'s kind to another, through the hub.
    fn convert(
        &self,
        info: &kube_codegen_scheme::ResourceInfo,
        bytes: &[u8],
        from: &str,
        to: &str,
    ) -> Result<Vec<u8>, kube_codegen_scheme::CodecError> {
        let hub = self
            .conversions
            .decode(&Gvk::new(info.group, from, info.kind), bytes)?;
        self.conversions
            .encode(&Gvk::new(info.group, to, info.kind), &*hub)
    }
}

/// A stored value as the object clients see, in the version `info` names (converted through
/// the hub when it was stored in another version, whatever the storage version is now), with
/// `resourceVersion`.
fn from_storage(
    st: &State,
    info: &kube_codegen_scheme::ResourceInfo,
    kv: &apiserver_storage::KeyValue,
) -> Result<Value, ApiError> {
    // Which version the object was written in: a scan of its `apiVersion`, not a full parse.
    #[derive(serde::Deserialize)]
    struct TypeMeta<'a> {
        #[serde(rename = "apiVersion", borrow, default)]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }
    let stored_version = serde_json::from_slice::<TypeMeta>(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?
        .api_version
        .and_then(|av| av.rsplit_once('/').map(|(_, v)| v.to_string()));
    let mut obj: Value = match stored_version {
        Some(stored) if stored != info.version => {
            let hub = st
                .conversions
                .decode(&Gvk::new(info.group, &stored, info.kind), &kv.value)
                .and_then(|hub| {
                    st.conversions
                        .encode_value(&Gvk::new(info.group, info.version, info.kind), &*hub)
                });
            hub.map_err(|e| {
                ApiError::internal(format!(
                    "{} stored as {}/{stored} cannot be read as {}: {e}",
                    info.kind,
                    info.group,
                    info.api_version()
                ))
            })?
        }
        _ => serde_json::from_slice(&kv.value)
            .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?,
    };
    object::set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

/// The object as stored: in its resource's storage version, without `resourceVersion` (the
/// store's revision is the truth).
fn to_storage(
    st: &State,
    info: &kube_codegen_scheme::ResourceInfo,
    obj: &Value,
) -> Result<Bytes, ApiError> {
    let mut o = obj.clone();
    object::meta_mut(&mut o).remove("resourceVersion");
    let bytes = serde_json::to_vec(&o).map_err(|e| ApiError::internal(e.to_string()))?;
    let storage = st.storage_version(info);
    if storage == info.version {
        return Ok(Bytes::from(bytes));
    }
    st.convert(info, &bytes, info.version, storage)
        .map(Bytes::from)
        .map_err(|e| {
            ApiError::bad_request(format!(
                "{} cannot be stored as {}/{storage}: {e}",
                info.kind, info.group
            ))
        })
}

async fn resource_request(ctx: &Ctx<'_>, t: Target) -> Result<Resp, ApiError> {
    let output = table::negotiate(ctx.header(header::ACCEPT))
        .map_err(|m| ApiError::new(406, "NotAcceptable", m))?;
    let watch = matches!(ctx.param("watch"), Some("true" | "1"));
    match (&ctx.method, &t.name, t.subresource.as_deref()) {
        (&Method::GET, None, None) if watch => watch_collection(ctx, &t, output).await,
        (&Method::GET, None, None) => list(ctx, &t, output).await,
        (&Method::POST, None, None) => create(ctx, &t).await,
        (&Method::DELETE, None, None) => delete_collection(ctx, &t).await,
        (&Method::GET, Some(_), _) => get(ctx, &t, output).await,
        (&Method::PUT, Some(_), _) => update(ctx, &t).await,
        (&Method::PATCH, Some(_), _) => patch(ctx, &t).await,
        (&Method::DELETE, Some(_), None) => delete(ctx, &t).await,
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

fn respond_object(
    code: StatusCode,
    obj: &Value,
    info: &kube_codegen_scheme::ResourceInfo,
    output: Output,
    include: IncludeObject,
) -> Resp {
    match output {
        Output::Json => json_response(code, obj),
        Output::Table { beta } => json_response(
            code,
            &table::table(
                info,
                std::slice::from_ref(obj),
                include,
                beta,
                object::resource_version(obj).map(str::to_string),
                None,
                true,
            ),
        ),
    }
}

async fn get(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let name = t.name.as_deref().unwrap_or_default();
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let kv = ctx
        .state
        .store
        .get(&key(info, t.namespace.as_deref(), Some(name)))
        .await
        .map_err(|e| storage_error(e, info, name))?
        .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
    let obj = from_storage(ctx.state, info, &kv)?;
    Ok(respond_object(StatusCode::OK, &obj, info, output, include))
}

/// Parsed list options.
struct Listing {
    labels: crate::selector::LabelSelector,
    fields: crate::selector::FieldSelector,
    limit: Option<usize>,
    continue_from: Option<(u64, String)>,
}

fn list_options(ctx: &Ctx<'_>, t: &Target) -> Result<Listing, ApiError> {
    let info = t.handler.info();
    let labels = crate::selector::LabelSelector::parse(ctx.param("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = crate::selector::FieldSelector::parse(ctx.param("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let mut allowed: Vec<&str> = vec!["metadata.name"];
    if info.namespaced {
        allowed.push("metadata.namespace");
    }
    allowed.extend(t.handler.selectable_fields());
    fields
        .check_fields(&allowed)
        .map_err(ApiError::bad_request)?;
    let limit = match ctx.param("limit") {
        None | Some("") => None,
        Some(l) => Some(l.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("limit: Invalid value: \"{l}\": must be an integer"))
        })?),
    }
    .filter(|l| *l > 0)
    .map(|l| l as usize);
    if let Some(rv) = ctx.param("resourceVersion")
        && !rv.is_empty()
        && rv.parse::<u64>().is_err()
    {
        return Err(ApiError::invalid_request(format!(
            "resourceVersion: Invalid value: \"{rv}\": must be a non-negative integer"
        )));
    }
    let continue_from = match ctx.param("continue") {
        None | Some("") => None,
        Some(token) => {
            if ctx
                .param("resourceVersion")
                .is_some_and(|rv| !rv.is_empty() && rv != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            Some(decode_continue(token).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            })?)
        }
    };
    Ok(Listing {
        labels,
        fields,
        limit,
        continue_from,
    })
}

fn encode_continue(rv: u64, start: &str) -> String {
    use base64::Engine;
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Option<(u64, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    if v.get("v")?.as_str()? != "meta.k8s.io/v1" {
        return None;
    }
    Some((
        v.get("rv")?.as_u64()?,
        v.get("start")?.as_str()?.to_string(),
    ))
}

fn matches(t: &Target, l: &Listing, obj: &Value) -> bool {
    if !l.labels.matches(&object::labels(obj)) {
        return false;
    }
    l.fields.matches(|field| match field {
        "metadata.name" => object::name(obj).map(str::to_string),
        "metadata.namespace" => object::namespace(obj).map(str::to_string),
        other => t.handler.field_value(obj, other),
    })
}

async fn list(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let l = list_options(ctx, t)?;
    let prefix = key(info, t.namespace.as_deref(), None);
    let (mut start_after, mut list_rv) = match &l.continue_from {
        Some((rv, start)) => (Some(start.clone()), Some(*rv)),
        None => (None, None),
    };
    let mut items = Vec::new();
    let mut next = None;
    // Read pages until the selector-filtered page is full (or the keys run out).
    loop {
        let want = l.limit.map(|n| n - items.len());
        let page = ctx
            .state
            .store
            .list(
                &prefix,
                ListOptions {
                    start_after: start_after.clone(),
                    limit: want,
                },
            )
            .await
            .map_err(|e| storage_error(e, info, ""))?;
        list_rv.get_or_insert(page.revision);
        for kv in &page.items {
            let obj = from_storage(ctx.state, info, kv)?;
            if matches(t, &l, &obj) {
                items.push(obj);
            }
        }
        let last = page.items.last().map(|kv| kv.key.clone());
        if !page.remaining || last.is_none() {
            break;
        }
        start_after = last.clone();
        if l.limit.is_some_and(|n| items.len() >= n) {
            next = last;
            break;
        }
    }
    let rv = list_rv.unwrap_or(0);
    let continue_token = next.map(|start| encode_continue(rv, &start));
    match output {
        Output::Table { beta } => Ok(json_response(
            StatusCode::OK,
            &table::table(
                info,
                &items,
                include,
                beta,
                Some(rv.to_string()),
                continue_token,
                true,
            ),
        )),
        Output::Json => {
            let mut metadata = json!({"resourceVersion": rv.to_string()});
            if let Some(c) = continue_token {
                metadata["continue"] = json!(c);
            }
            // Serialised by reference: a 10,000-item list is not copied into a new `Value`.
            #[derive(serde::Serialize)]
            struct List<'a> {
                #[serde(rename = "apiVersion")]
                api_version: String,
                kind: &'a str,
                metadata: Value,
                items: &'a [Value],
            }
            let list = List {
                api_version: info.api_version(),
                kind: info.list_kind,
                metadata,
                items: &items,
            };
            let body = serde_json::to_vec(&list).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("response"))
        }
    }
}

/// Checks `fieldValidation` and unknown fields: Strict rejects, Warn answers with `Warning`
/// headers, Ignore drops them. Returns the warnings.
fn field_validation(
    ctx: &Ctx<'_>,
    info: &kube_codegen_scheme::ResourceInfo,
    unknown: &[String],
) -> Result<Vec<String>, ApiError> {
    let mode = ctx.param("fieldValidation").unwrap_or("Warn");
    let mode = match mode {
        "" | "Warn" => "Warn",
        "Strict" => "Strict",
        "Ignore" => "Ignore",
        other => {
            return Err(ApiError::invalid_request(format!(
                "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
            )));
        }
    };
    if unknown.is_empty() || mode == "Ignore" {
        return Ok(Vec::new());
    }
    let msgs: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if mode == "Strict" {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            msgs.join(", "),
            kind = info.kind,
            version = info.version
        )));
    }
    Ok(msgs)
}

fn with_warnings(mut resp: Resp, warnings: &[String]) -> Resp {
    for w in warnings {
        let v = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(h) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(header::WARNING, h);
        }
    }
    resp
}

/// The request body as JSON bytes: JSON as sent, YAML (`application/yaml`) converted; any other
/// media type is 415.
fn body_json(ctx: &Ctx<'_>) -> Result<Bytes, ApiError> {
    let ct = ctx
        .header(header::CONTENT_TYPE)
        .unwrap_or("application/json");
    let media = ct.split(';').next().unwrap_or("").trim();
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; expected an object",
        ));
    }
    match media {
        "" | "application/json" | "*/*" => Ok(ctx.body.clone()),
        "application/yaml" => {
            let text = std::str::from_utf8(&ctx.body)
                .map_err(|_| ApiError::bad_request("the YAML request body is not UTF-8"))?;
            let value: Value = serde_saphyr::from_str(text).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
            })?;
            Ok(Bytes::from(serde_json::to_vec(&value).unwrap_or_default()))
        }
        _ => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct})"
            ),
        )),
    }
}

/// Decodes a create/update body and checks type meta and namespace against the URL.
fn decode_body(ctx: &Ctx<'_>, t: &Target) -> Result<(Value, Vec<String>), ApiError> {
    let body = body_json(ctx)?;
    let info = t.handler.info();
    let raw: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !raw.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    if let Some(av) = raw.get("apiVersion").and_then(Value::as_str)
        && av != info.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    if let Some(kind) = raw.get("kind").and_then(Value::as_str)
        && kind != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            info.kind
        )));
    }
    let decoded = t.handler.decode(&body)?;
    let warnings = field_validation(ctx, info, &decoded.unknown_fields)?;
    let mut obj = decoded.object;
    check_namespace(t, &mut obj)?;
    Ok((obj, warnings))
}

fn check_namespace(t: &Target, obj: &mut Value) -> Result<(), ApiError> {
    let info = t.handler.info();
    match (&t.namespace, object::namespace(obj).map(str::to_string)) {
        (Some(url), Some(body)) if *url != body => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(url), None) => {
            object::meta_mut(obj).insert("namespace".into(), json!(url));
            Ok(())
        }
        (None, Some(_)) if !info.namespaced => {
            object::meta_mut(obj).remove("namespace");
            Ok(())
        }
        _ => Ok(()),
    }
}

fn invalid(t: &Target, name: &str, causes: Vec<Cause>) -> ApiError {
    let info = t.handler.info();
    ApiError::invalid(info.kind, info.group, name, causes)
}

/// ObjectMeta rules every kind shares.
fn validate_meta(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    match object::name(obj) {
        None => causes.push(Cause::new(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required",
        )),
        Some(n) if !object::is_dns_subdomain(n) => causes.push(Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{n}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        )),
        _ => {}
    }
    for (k, v) in object::labels(obj) {
        if crate::selector::LabelSelector::parse(&format!("{k}={v}")).is_err() {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "metadata.labels",
                format!("Invalid value: \"{k}={v}\": not a valid label"),
            ));
        }
    }
    causes
}

async fn create(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let dry_run = ctx.dry_run()?;
    let (mut obj, warnings) = decode_body(ctx, t)?;
    if t.namespace.is_none() && info.namespaced {
        return Err(not_found_path());
    }
    {
        let meta = object::meta_mut(&mut obj);
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && let Some(base) = meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        {
            let name = object::generate_name(base);
            meta.insert("name".into(), json!(name));
        }
        // System fields are the server's.
        for f in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            meta.remove(f);
        }
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(object::now()));
        meta.insert("generation".into(), json!(1));
    }
    if info.has_status
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    let name = object::name(&obj).unwrap_or_default().to_string();
    let mut causes = validate_meta(&obj);
    causes.extend(t.handler.validate(&obj));
    if !causes.is_empty() {
        return Err(invalid(t, &name, causes));
    }
    let k = key(info, t.namespace.as_deref(), Some(&name));
    if dry_run {
        if ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, &name))?
            .is_some()
        {
            return Err(ApiError::already_exists(info.plural, info.group, &name));
        }
        return Ok(with_warnings(
            json_response(StatusCode::CREATED, &obj),
            &warnings,
        ));
    }
    let kv = ctx
        .state
        .store
        .create(&k, to_storage(ctx.state, info, &obj)?)
        .await
        .map_err(|e| storage_error(e, info, &name))?;
    object::set_resource_version(&mut obj, kv.mod_revision);
    Ok(with_warnings(
        json_response(StatusCode::CREATED, &obj),
        &warnings,
    ))
}

/// Applies the update conventions to `new` given the stored `old`; returns whether the result
/// must be deleted instead (last finalizer removed from a deleting object).
fn prepare_update(t: &Target, new: &mut Value, old: &Value) -> Result<bool, ApiError> {
    let info = t.handler.info();
    let name = object::name(old).unwrap_or_default().to_string();
    let status_update = t.subresource.as_deref() == Some("status");
    if status_update {
        // `/status` changes status and nothing else.
        let status = new.get("status").cloned();
        let rv = object::resource_version(new).map(str::to_string);
        *new = old.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
        if let Some(rv) = rv {
            object::meta_mut(new).insert("resourceVersion".into(), json!(rv));
        }
    } else if info.has_status {
        // The main resource ignores status.
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    if object::name(new) != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object::name(new).unwrap_or_default()
        )));
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    {
        let meta = object::meta_mut(new);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
        ] {
            match old_meta.get(f) {
                Some(v) => meta.insert(f.into(), v.clone()),
                None => meta.remove(f),
            };
        }
    }
    if !object::spec_equal(new, old) {
        let g = object::generation(old) + 1;
        object::meta_mut(new).insert("generation".into(), json!(g));
    }
    let mut causes = validate_meta(new);
    causes.extend(t.handler.validate_update(new, old));
    if !causes.is_empty() {
        return Err(invalid(t, &name, causes));
    }
    Ok(object::is_deleting(new) && object::finalizers(new).is_empty())
}

/// The read-modify-write loop every update shares (PUT, PATCH, status, finalizer removal).
async fn guaranteed_update<F>(ctx: &Ctx<'_>, t: &Target, mut modify: F) -> Result<Resp, ApiError>
where
    F: FnMut(&Value) -> Result<(Value, Vec<String>), ApiError>,
{
    let info = t.handler.info();
    let name = t.name.clone().unwrap_or_default();
    let k = key(info, t.namespace.as_deref(), Some(&name));
    let dry_run = ctx.dry_run()?;
    for _ in 0..16 {
        let current = ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, &name))?
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, &name))?;
        let old = from_storage(ctx.state, info, &current)?;
        let (mut new, warnings) = modify(&old)?;
        // A resourceVersion in the request is a precondition.
        let precondition = match object::resource_version(&new) {
            Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                invalid(
                    t,
                    &name,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        format!("Invalid value: \"{rv}\": must be an integer"),
                    )],
                )
            })?),
            None => None,
        };
        if let Some(rv) = precondition
            && rv != current.mod_revision
        {
            return Err(storage_error(
                StorageError::Conflict {
                    key: k.clone(),
                    current: current.mod_revision,
                },
                info,
                &name,
            ));
        }
        let delete_now = prepare_update(t, &mut new, &old)?;
        if dry_run {
            return Ok(with_warnings(
                json_response(StatusCode::OK, &new),
                &warnings,
            ));
        }
        if delete_now {
            match ctx.state.store.delete(&k, Some(current.mod_revision)).await {
                Ok(kv) => {
                    object::set_resource_version(&mut new, kv.mod_revision);
                    return Ok(with_warnings(
                        json_response(StatusCode::OK, &new),
                        &warnings,
                    ));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(storage_error(e, info, &name)),
            }
        }
        match ctx
            .state
            .store
            .update(
                &k,
                to_storage(ctx.state, info, &new)?,
                Some(current.mod_revision),
            )
            .await
        {
            Ok(kv) => {
                object::set_resource_version(&mut new, kv.mod_revision);
                return Ok(with_warnings(
                    json_response(StatusCode::OK, &new),
                    &warnings,
                ));
            }
            // Someone wrote in between: without a precondition of the caller's, try again.
            Err(StorageError::Conflict { .. }) if precondition.is_none() => continue,
            Err(e) => return Err(storage_error(e, info, &name)),
        }
    }
    Err(ApiError::conflict(
        info.plural,
        info.group,
        &name,
        "too many concurrent writers; try again",
    ))
}

async fn update(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let (new, warnings) = decode_body(ctx, t)?;
    guaranteed_update(ctx, t, |_old| Ok((new.clone(), warnings.clone()))).await
}

async fn patch(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let ct = ctx.header(header::CONTENT_TYPE).unwrap_or("");
    let kind = crate::patch::PatchType::from_content_type(ct).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct})"),
        )
    })?;
    if ctx.param("force").is_some() {
        return Err(ApiError::invalid_request(
            "force: Forbidden: may not be specified for non-apply patch".into(),
        ));
    }
    let schemas: serde_json::Map<String, Value> =
        serde_json::from_str(t.handler.schemas()).unwrap_or_default();
    let root = ctx.state.openapi.definition_for(info);
    let patch_schema = crate::patch::OpenApiPatchSchema::new(&schemas, &root);
    let body = ctx.body.clone();
    guaranteed_update(ctx, t, move |old| {
        let patched = crate::patch::apply(kind, old, &body, &patch_schema).map_err(|e| {
            let err = ApiError::new(e.code(), e.reason(), e.message().to_string());
            match e.cause() {
                Some(c) => err.with_cause(Cause::new("UnexpectedServerResponse", "", c)),
                None => err,
            }
        })?;
        let decoded = t.handler.normalize(&patched)?;
        let warnings = field_validation(ctx, info, &decoded.unknown_fields)?;
        let mut obj = decoded.object;
        // A patch keeps the stored resourceVersion unless it sets one (a precondition).
        let patched_rv = object::resource_version(&patched).map(str::to_string);
        let old_rv = object::resource_version(old).map(str::to_string);
        match patched_rv.filter(|rv| Some(rv) != old_rv.as_ref()) {
            Some(rv) => {
                object::meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
            }
            None => {
                object::meta_mut(&mut obj).remove("resourceVersion");
            }
        }
        check_namespace(t, &mut obj)?;
        Ok((obj, warnings))
    })
    .await
}

/// `DeleteOptions` from the body and query.
struct DeleteOpts {
    uid: Option<String>,
    resource_version: Option<String>,
}

fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOpts, ApiError> {
    let mut opts = DeleteOpts {
        uid: None,
        resource_version: None,
    };
    if !ctx.body.is_empty() {
        let v: Value = serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("DeleteOptions is not valid JSON: {e}")))?;
        if let Some(p) = v.get("preconditions") {
            opts.uid = p.get("uid").and_then(Value::as_str).map(str::to_string);
            opts.resource_version = p
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(pp) = v.get("propagationPolicy").and_then(Value::as_str)
            && !matches!(pp, "Background" | "Foreground" | "Orphan")
        {
            return Err(ApiError::invalid_request(format!(
                "propagationPolicy: Unsupported value: \"{pp}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    }
    if let Some(pp) = ctx.param("propagationPolicy")
        && !matches!(pp, "Background" | "Foreground" | "Orphan")
    {
        return Err(ApiError::invalid_request(format!(
            "propagationPolicy: Unsupported value: \"{pp}\""
        )));
    }
    Ok(opts)
}

async fn delete_one(
    ctx: &Ctx<'_>,
    t: &Target,
    name: &str,
    opts: &DeleteOpts,
) -> Result<(Value, bool), ApiError> {
    let info = t.handler.info();
    let k = key(info, t.namespace.as_deref(), Some(name));
    let dry_run = ctx.dry_run()?;
    for _ in 0..16 {
        let current = ctx
            .state
            .store
            .get(&k)
            .await
            .map_err(|e| storage_error(e, info, name))?
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
        let mut obj = from_storage(ctx.state, info, &current)?;
        if let Some(uid) = &opts.uid
            && Some(uid.as_str()) != object::uid(&obj)
        {
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    object::uid(&obj).unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && rv.parse::<u64>().ok() != Some(current.mod_revision)
        {
            return Err(ApiError::conflict(
                info.plural,
                info.group,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    current.mod_revision
                ),
            ));
        }
        if !object::finalizers(&obj).is_empty() {
            // Finalizers pending: mark, answer with the object; deletion happens when they're gone.
            if !object::is_deleting(&obj) {
                let meta = object::meta_mut(&mut obj);
                meta.insert("deletionTimestamp".into(), json!(object::now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
                if dry_run {
                    return Ok((obj, false));
                }
                match ctx
                    .state
                    .store
                    .update(
                        &k,
                        to_storage(ctx.state, info, &obj)?,
                        Some(current.mod_revision),
                    )
                    .await
                {
                    Ok(kv) => object::set_resource_version(&mut obj, kv.mod_revision),
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(e) => return Err(storage_error(e, info, name)),
                }
            }
            return Ok((obj, false));
        }
        if dry_run {
            return Ok((obj, true));
        }
        match ctx.state.store.delete(&k, Some(current.mod_revision)).await {
            Ok(kv) => {
                object::set_resource_version(&mut obj, kv.mod_revision);
                return Ok((obj, true));
            }
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => return Err(storage_error(e, info, name)),
        }
    }
    Err(ApiError::conflict(
        info.plural,
        info.group,
        name,
        "too many concurrent writers; try again",
    ))
}

async fn delete(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let name = t.name.clone().unwrap_or_default();
    let opts = delete_options(ctx)?;
    let (obj, deleted) = delete_one(ctx, t, &name, &opts).await?;
    if !deleted {
        return Ok(json_response(StatusCode::OK, &obj));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": info.group, "kind": info.plural, "uid": object::uid(&obj)},
        }),
    ))
}

async fn delete_collection(ctx: &Ctx<'_>, t: &Target) -> Result<Resp, ApiError> {
    let info = t.handler.info();
    let opts = delete_options(ctx)?;
    let l = list_options(ctx, t)?;
    let prefix = key(info, t.namespace.as_deref(), None);
    let page = ctx
        .state
        .store
        .list(&prefix, ListOptions::default())
        .await
        .map_err(|e| storage_error(e, info, ""))?;
    let mut deleted = Vec::new();
    for kv in &page.items {
        let obj = from_storage(ctx.state, info, kv)?;
        if !matches(t, &l, &obj) {
            continue;
        }
        let name = object::name(&obj).unwrap_or_default().to_string();
        let target = Target {
            handler: t.handler.clone(),
            namespace: object::namespace(&obj).map(str::to_string),
            name: Some(name.clone()),
            subresource: None,
        };
        match delete_one(ctx, &target, &name, &opts).await {
            Ok((obj, _)) => deleted.push(obj),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "apiVersion": info.api_version(), "kind": info.list_kind,
            "metadata": {"resourceVersion": page.revision.to_string()}, "items": deleted,
        }),
    ))
}

/// Watch: initial ADDEDs (for RV unset or "0"), then events from the store, filtered by the
/// selectors (an object leaving the selection is DELETED, entering it ADDED), with bookmarks and
/// a 410 ERROR event for a resourceVersion older than the history.
async fn watch_collection(ctx: &Ctx<'_>, t: &Target, output: Output) -> Result<Resp, ApiError> {
    let info = *t.handler.info();
    let l = list_options(ctx, t)?;
    let include =
        IncludeObject::parse(ctx.param("includeObject")).map_err(ApiError::bad_request)?;
    let bookmarks = matches!(ctx.param("allowWatchBookmarks"), Some("true" | "1"));
    let timeout = ctx
        .param("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let prefix = key(&info, t.namespace.as_deref(), None);
    let rv = ctx.param("resourceVersion").unwrap_or("");
    let store = ctx.state.store.clone();
    let st = ctx.state.clone();
    let bookmark_interval = ctx.state.bookmark_interval;

    let mut initial = Vec::new();
    let from = if rv.is_empty() || rv == "0" {
        let page = store
            .list(&prefix, ListOptions::default())
            .await
            .map_err(|e| storage_error(e, &info, ""))?;
        for kv in &page.items {
            let obj = from_storage(ctx.state, &info, kv)?;
            if matches(t, &l, &obj) {
                initial.push(obj);
            }
        }
        page.revision
    } else {
        rv.parse::<u64>().map_err(|_| {
            ApiError::invalid_request(format!(
                "resourceVersion: Invalid value: \"{rv}\": must be a non-negative integer"
            ))
        })?
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let stream_result = store.watch(&prefix, from).await;
    let handler = t.handler.clone();
    let target = Target {
        handler: handler.clone(),
        namespace: t.namespace.clone(),
        name: None,
        subresource: None,
    };
    tokio::spawn(async move {
        let mut headers = true;
        let mut encode = |kind: &str, obj: &Value| -> Bytes {
            let object = match output {
                Output::Table { beta } if kind != "ERROR" && kind != "BOOKMARK" => {
                    let tbl = table::table(
                        &info,
                        std::slice::from_ref(obj),
                        include,
                        beta,
                        object::resource_version(obj).map(str::to_string),
                        None,
                        headers,
                    );
                    headers = false;
                    tbl
                }
                _ => obj.clone(),
            };
            let mut line =
                serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
            line.push(b'\n');
            Bytes::from(line)
        };
        for obj in &initial {
            if tx.send(encode("ADDED", obj)).await.is_err() {
                return;
            }
        }
        let mut stream = match stream_result {
            Ok(s) => s,
            Err(e) => {
                let err = storage_error(e, &info, "");
                let _ = tx.send(encode("ERROR", &err.to_status())).await;
                return;
            }
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmark = tokio::time::interval(bookmark_interval);
        bookmark.tick().await;
        let mut last_rv = from;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = bookmark.tick(), if bookmarks => {
                    let obj = json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(encode("BOOKMARK", &obj)).await.is_err() { return; }
                }
                _ = tx.closed() => return,
                item = stream.next() => {
                    let Some(item) = item else { return };
                    let ev = match item {
                        Ok(ev) => ev,
                        Err(e) => {
                            let err = storage_error(e, &info, "");
                            let _ = tx.send(encode("ERROR", &err.to_status())).await;
                            return;
                        }
                    };
                    last_rv = ev.revision;
                    let mut new = match from_storage(&st, &info, &ev.kv) {
                        Ok(new) => new,
                        Err(e) => {
                            let _ = tx.send(encode("ERROR", &e.to_status())).await;
                            return;
                        }
                    };
                    object::set_resource_version(&mut new, ev.revision);
                    let old = ev.prev.as_ref().and_then(|p| from_storage(&st, &info, p).ok());
                    let new_matches = matches(&target, &l, &new);
                    let old_matches = old.as_ref().is_some_and(|o| matches(&target, &l, o));
                    let kind = match ev.kind {
                        apiserver_storage::EventType::Deleted if old_matches || new_matches => "DELETED",
                        apiserver_storage::EventType::Deleted => continue,
                        _ if new_matches && old_matches => "MODIFIED",
                        _ if new_matches => "ADDED",
                        _ if old_matches => "DELETED",
                        _ => continue,
                    };
                    if tx.send(encode(kind, &new)).await.is_err() { return; }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream_from(rx));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(body)
        .expect("response"))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok)))
}
