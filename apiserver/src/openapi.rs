//! OpenAPI v3 and v2 documents, shaped like the ones the Go API server publishes.
//!
//! `kubectl` is the judge of these documents (reference `apiserver-conventions.md` §2.3):
//!
//! - `GET /openapi/v3` returns [`v3_discovery`]: one `serverRelativeURL` per group/version,
//!   carrying the [`document_hash`] of the group/version document as `?hash=`.
//! - `GET /openapi/v3/apis/<group>/<version>` returns [`v3_document`]. `kubectl explain` finds a
//!   kind through the `x-kubernetes-group-version-kind` of an operation on the resource's paths
//!   and then the schema in `components.schemas` whose `x-kubernetes-group-version-kind` lists it.
//!   `kubectl create/apply/edit` rely on server-side validation once the PATCH operation of the
//!   kind declares a `fieldValidation` query parameter, and client-side `kubectl apply` sends a
//!   strategic merge patch because that operation's `requestBody.content` lists
//!   `application/strategic-merge-patch+json`; server-side apply is advertised as
//!   `application/apply-patch+yaml`.
//! - `GET /openapi/v2` returns [`v2_document`] (Swagger 2.0, all group/versions).
//!
//! Kinds' schemas come from kube-codegen's openapi-gen (`OPENAPI_SCHEMAS`, one JSON object per
//! group/version). The apimachinery definitions they reference (`ObjectMeta`, `ListMeta`, …) and
//! the ones the operations reference (`Status`, `DeleteOptions`, `Patch`) are generated from
//! k8s-openapi's `schemars` implementations ([`apimachinery_schemas`]); the built-in kinds of
//! `core/v1`, `apps/v1` and `batch/v1` and everything they reference are generated the same way
//! ([`known_schemas`]) so that generated types may embed them (`io.k8s.api.core.v1.PodSpec`).
//! A document includes only the definitions it references, transitively.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::LazyLock;

use kube_codegen_scheme::ResourceInfo;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

/// The `$ref` prefix of OpenAPI v3 documents.
pub const V3_REF_PREFIX: &str = "#/components/schemas/";
/// The `$ref` prefix of Swagger 2.0 documents.
pub const V2_REF_PREFIX: &str = "#/definitions/";

/// Definition name of `ObjectMeta`.
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
/// Definition name of `ListMeta`.
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
/// Definition name of `Status`, the response of deletes and errors.
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
/// Definition name of `DeleteOptions`, the body of deletes.
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
/// Definition name of `Patch`, the body of patches.
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// `Content-Type`s a PATCH accepts, as the Go server lists them.
pub const PATCH_CONTENT_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
/// `Content-Type`s a PATCH of a `scale` subresource accepts (no server-side apply).
const SCALE_PATCH_CONTENT_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];
/// The `scale` subresource's kind.
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
/// What responses are encoded as.
const PRODUCES: &[&str] = &["application/json"];
/// What list responses (and `?watch=true` streams) are encoded as.
const LIST_PRODUCES: &[&str] = &["application/json", "application/json;stream=watch"];
/// What create, update and delete bodies are read as.
const CONSUMES: &[&str] = &["application/json"];
const PRODUCES_PB: &[&str] = &["application/json", "application/vnd.kubernetes.protobuf"];
const LIST_PRODUCES_PB: &[&str] = &[
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
const CONSUMES_PB: &[&str] = &["application/json", "application/vnd.kubernetes.protobuf"];

// ---------------------------------------------------------------------------------------------
// Definitions from k8s-openapi
// ---------------------------------------------------------------------------------------------

/// Everything generated from k8s-openapi, by Kubernetes definition name.
static KNOWN: LazyLock<Map<String, Value>> = LazyLock::new(generate_known);
/// Kubernetes types generated types embed less often: built only when a document references
/// one of them.
static MORE_KNOWN: LazyLock<Map<String, Value>> = LazyLock::new(generate_more_known);

/// The OpenAPI v3 definitions of the apimachinery types (`io.k8s.apimachinery.*`: `ObjectMeta`,
/// `ListMeta`, `ManagedFieldsEntry`, `OwnerReference`, `Time`, `MicroTime`, `FieldsV1`,
/// `Status`, `StatusDetails`, `StatusCause`, `DeleteOptions`, `Preconditions`, `WatchEvent`,
/// `Patch`, `LabelSelector`, `Condition`, `RawExtension`, `Quantity`, `IntOrString`, …), by
/// Kubernetes definition name, with `$ref`s to `#/components/schemas/<name>`.
///
/// Generated once from k8s-openapi's `schemars` implementations with OpenAPI 3.0 settings;
/// `Quantity` and `IntOrString` take the shape Kubernetes publishes.
pub fn apimachinery_schemas() -> Map<String, Value> {
    KNOWN
        .iter()
        .filter(|(name, _)| name.starts_with("io.k8s.apimachinery."))
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect()
}

/// Every definition generated from k8s-openapi: [`apimachinery_schemas`] plus the kinds of
/// `core/v1`, `apps/v1` and `batch/v1` and everything they reference. Documents draw the
/// definitions their group/version's schemas reference from here.
pub fn known_schemas() -> &'static Map<String, Value> {
    &KNOWN
}

fn generate_known() -> Map<String, Value> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    use k8s_openapi::apimachinery::pkg::{
        api::resource::Quantity, apis::meta::v1 as meta, runtime::RawExtension,
        util::intstr::IntOrString,
    };

    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    macro_rules! add {
        ($($t:ty),* $(,)?) => { $( let _ = generator.subschema_for::<$t>(); )* };
    }
    add!(
        meta::APIGroup,
        meta::APIGroupList,
        meta::APIResource,
        meta::APIResourceList,
        meta::APIVersions,
        meta::Condition,
        meta::DeleteOptions,
        meta::FieldSelectorRequirement,
        meta::FieldsV1,
        meta::GroupResource,
        meta::GroupVersionForDiscovery,
        meta::LabelSelector,
        meta::LabelSelectorRequirement,
        meta::ListMeta,
        meta::ManagedFieldsEntry,
        meta::MicroTime,
        meta::ObjectMeta,
        meta::OwnerReference,
        meta::Patch,
        meta::Preconditions,
        meta::ServerAddressByClientCIDR,
        meta::ShardInfo,
        meta::Status,
        meta::StatusCause,
        meta::StatusDetails,
        meta::Time,
        meta::WatchEvent<RawExtension>,
        RawExtension,
        Quantity,
        IntOrString,
    );
    add!(
        core::Binding,
        core::ComponentStatus,
        core::ConfigMap,
        core::Endpoints,
        core::Event,
        core::LimitRange,
        core::Namespace,
        core::Node,
        core::PersistentVolume,
        core::PersistentVolumeClaim,
        core::Pod,
        core::PodTemplate,
        core::ReplicationController,
        core::ResourceQuota,
        core::Secret,
        core::Service,
        core::ServiceAccount,
        apps::ControllerRevision,
        apps::DaemonSet,
        apps::Deployment,
        apps::ReplicaSet,
        apps::StatefulSet,
        batch::CronJob,
        batch::Job,
    );
    // k8s-openapi's `schema_name`s are Kubernetes' definition names already
    // (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`), and with `openapi3()` settings
    // schemars writes references as `#/components/schemas/<name>`, wrapping a reference that
    // has siblings (a field's description) in `allOf`, as Kubernetes does.
    let mut known = generator.take_definitions(true);
    debug_assert!(known.keys().all(|name| name.starts_with("io.k8s.")));
    for (name, schema) in known.iter_mut() {
        kubernetes_format(name, schema);
    }
    object_meta_patch_extensions(&mut known);
    known.sort_keys();
    known
}

/// Definitions of the Kubernetes types beyond [`known_schemas`] that API types commonly embed:
/// apiextensions' `JSON` (any value, as Helm values and Crossplane's inputs are) and
/// `JSONSchemaProps`, RBAC rules and subjects, and the kinds of networking, policy, autoscaling,
/// coordination, discovery and storage, with everything they reference.
fn generate_more_known() -> Map<String, Value> {
    use k8s_openapi::api::{
        autoscaling::v1 as autoscaling_v1, autoscaling::v2 as autoscaling_v2,
        coordination::v1 as coordination, discovery::v1 as discovery, networking::v1 as networking,
        policy::v1 as policy, rbac::v1 as rbac, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;

    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    macro_rules! add {
        ($($t:ty),* $(,)?) => { $( let _ = generator.subschema_for::<$t>(); )* };
    }
    add!(
        apiextensions::JSON,
        apiextensions::JSONSchemaProps,
        autoscaling_v1::Scale,
        autoscaling_v2::HorizontalPodAutoscaler,
        coordination::Lease,
        discovery::EndpointSlice,
        networking::Ingress,
        networking::IngressClass,
        networking::NetworkPolicy,
        policy::PodDisruptionBudget,
        rbac::ClusterRole,
        rbac::ClusterRoleBinding,
        rbac::Role,
        rbac::RoleBinding,
        storage::CSIDriver,
        storage::StorageClass,
        storage::VolumeAttachment,
    );
    let mut more = generator.take_definitions(true);
    for (name, schema) in more.iter_mut() {
        kubernetes_format(name, schema);
    }
    // JSON holds any value (Kubernetes publishes it without a type); k8s-openapi says object.
    if let Some(Value::Object(json)) = more.get_mut(APIEXTENSIONS_JSON) {
        json.remove("type");
        json.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    // What the first set defines stays its own.
    more.retain(|name, _| !KNOWN.contains_key(name));
    more.sort_keys();
    more
}

const APIEXTENSIONS_JSON: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";

/// The list extensions Kubernetes publishes on `ObjectMeta` and k8s-openapi's schemas leave
/// out: `kubectl apply` computes strategic merge patches of `metadata` from them.
fn object_meta_patch_extensions(known: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = known
        .get_mut(OBJECT_META)
        .and_then(|meta| meta.get_mut("properties"))
    else {
        return;
    };
    let extensions = [
        (
            "finalizers",
            json!({"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"}),
        ),
        (
            "ownerReferences",
            json!({
                "x-kubernetes-list-map-keys": ["uid"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            }),
        ),
    ];
    for (field, ext) in extensions {
        if let (Some(Value::Object(prop)), Value::Object(ext)) = (props.get_mut(field), ext) {
            for (k, v) in ext {
                prop.entry(k).or_insert(v);
            }
        }
    }
}

/// Gives the types with custom JSON forms the schema Kubernetes publishes for them.
fn kubernetes_format(name: &str, schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    match name {
        INT_OR_STRING => {
            obj.insert("format".into(), json!("int-or-string"));
            obj.insert("x-kubernetes-int-or-string".into(), json!(true));
            obj.insert(
                "anyOf".into(),
                json!([{"type": "integer"}, {"type": "string"}]),
            );
        }
        QUANTITY => {
            obj.remove("x-kubernetes-int-or-string");
            obj.insert(
                "oneOf".into(),
                json!([{"type": "string"}, {"type": "number"}]),
            );
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Group/version documents
// ---------------------------------------------------------------------------------------------

/// One group/version: its resources and its generated schemas.
#[derive(Clone, Debug)]
pub struct GroupVersionDoc<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resources: Vec<&'a ResourceInfo>,
    /// The group/version's `OPENAPI_SCHEMAS`, parsed: definition name → OpenAPI v3 schema.
    pub schemas: Map<String, Value>,
    /// Resources (plurals) also served in `application/vnd.kubernetes.protobuf`.
    pub protobuf: Vec<&'a str>,
}

impl<'a> GroupVersionDoc<'a> {
    /// A group/version document from generated `OPENAPI_SCHEMAS` JSON.
    pub fn new(
        group: &'a str,
        version: &'a str,
        resources: Vec<&'a ResourceInfo>,
        openapi_schemas: &str,
    ) -> Result<Self, serde_json::Error> {
        Ok(GroupVersionDoc {
            group,
            version,
            resources,
            schemas: serde_json::from_str(openapi_schemas)?,
            protobuf: Vec::new(),
        })
    }
}

/// `schemas` (generated `OPENAPI_SCHEMAS`, parsed) plus every definition they reference,
/// transitively, drawn from [`known_schemas`]: a self-contained set of OpenAPI v3 definitions
/// (what strategic merge patch needs to follow `metadata` into `ObjectMeta`, say).
pub fn resolved_schemas(schemas: &Map<String, Value>) -> Map<String, Value> {
    closure(&[schemas], &[]).into_iter().collect()
}

/// `apis/<group>/<version>`, or `api/<version>` for the core group: the group/version's key in
/// the `/openapi/v3` discovery document (its document is served at `/openapi/v3/<key>`).
pub fn gv_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The OpenAPI 3.0 document of one group/version, as served at
/// `/openapi/v3/apis/<group>/<version>`.
pub fn v3_document(gv: &GroupVersionDoc) -> Value {
    let mut paths = Map::new();
    for r in &gv.resources {
        for item in path_items(
            gv.group,
            gv.version,
            r,
            &gv.schemas,
            gv.protobuf.contains(&r.plural),
        ) {
            paths.insert(item.path.clone(), item.to_v3());
        }
    }
    let paths = Value::Object(paths);
    let schemas = closure(&[&gv.schemas], &path_refs(&paths, V3_REF_PREFIX));
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The Swagger 2.0 document of every group/version, as served at `/openapi/v2` (JSON).
pub fn v2_document(gvs: &[GroupVersionDoc]) -> Value {
    let mut paths = Map::new();
    for gv in gvs {
        for r in &gv.resources {
            for item in path_items(
                gv.group,
                gv.version,
                r,
                &gv.schemas,
                gv.protobuf.contains(&r.plural),
            ) {
                paths.insert(item.path.clone(), item.to_v2());
            }
        }
    }
    let paths = Value::Object(paths);
    let sources: Vec<&Map<String, Value>> = gvs.iter().map(|gv| &gv.schemas).collect();
    let definitions: Map<String, Value> = closure(&sources, &path_refs(&paths, V2_REF_PREFIX))
        .into_iter()
        .map(|(name, schema)| (name, schema_to_v2(schema)))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "definitions": definitions,
    })
}

/// The `/openapi/v3` discovery document: for each `(key, hash)` — key `apis/<group>/<version>`
/// (see [`gv_key`]), hash the [`document_hash`] of that group/version's served JSON —
/// `{"paths":{"<key>":{"serverRelativeURL":"/openapi/v3/<key>?hash=<hash>"}}}`.
pub fn v3_discovery(gvs: &[(String, String)]) -> Value {
    let paths: Map<String, Value> = gvs
        .iter()
        .map(|(key, hash)| {
            let key = key.trim_start_matches('/');
            (
                key.to_string(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
            )
        })
        .collect();
    json!({ "paths": paths })
}

/// What kube-openapi uses as a document's ETag and `?hash=`: the upper-case hex SHA-512 of the
/// served bytes (unquoted; quote it for the `ETag` header).
pub fn document_hash(doc_bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha512::digest(doc_bytes);
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(hex, "{b:02X}");
    }
    hex
}

/// `$ref` targets in `doc` that name no definition of the document (v3 or v2); empty for every
/// document this module builds. Useful to check documents assembled elsewhere.
pub fn unresolved_refs(doc: &Value) -> Vec<String> {
    let (defs, prefix) = match (doc.pointer("/components/schemas"), doc.get("definitions")) {
        (Some(d), _) => (d, V3_REF_PREFIX),
        (None, Some(d)) => (d, V2_REF_PREFIX),
        (None, None) => (&Value::Null, V3_REF_PREFIX),
    };
    let mut out = BTreeSet::new();
    each_ref(doc, &mut |r| {
        let ok = r
            .strip_prefix(prefix)
            .is_some_and(|name| defs.get(decode_pointer(name).as_str()).is_some());
        if !ok {
            out.insert(r.to_string());
        }
    });
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Schema walking
// ---------------------------------------------------------------------------------------------

/// The definition a v3 `$ref` names.
fn ref_target(r: &str) -> Option<String> {
    r.strip_prefix(V3_REF_PREFIX).map(decode_pointer)
}

fn decode_pointer(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// Every `$ref` string anywhere in `v` (operations and schemas alike).
fn each_ref(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => f(r),
                    _ => each_ref(x, f),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| each_ref(x, f)),
        _ => {}
    }
}

/// Calls `f` on every schema object in `schema`, children first. Only schema positions are
/// visited: property names, `default`s and `example`s are left alone.
fn visit_schema_mut(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(obj) = schema else {
        return;
    };
    for (key, child) in obj.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "definitions" | "$defs" => {
                if let Value::Object(children) = child {
                    for c in children.values_mut() {
                        visit_schema_mut(c, f);
                    }
                }
            }
            "items" | "additionalItems" => match child {
                Value::Array(children) => children.iter_mut().for_each(|c| visit_schema_mut(c, f)),
                c => visit_schema_mut(c, f),
            },
            "additionalProperties" | "not" => visit_schema_mut(child, f),
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(children) = child {
                    children.iter_mut().for_each(|c| visit_schema_mut(c, f));
                }
            }
            _ => {}
        }
    }
    f(obj);
}

/// Definitions the operations of `paths` reference.
fn path_refs(paths: &Value, prefix: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    each_ref(paths, &mut |r| {
        if let Some(name) = r.strip_prefix(prefix) {
            out.insert(decode_pointer(name));
        }
    });
    out.into_iter().collect()
}

/// Definitions named by `$ref`s in schema positions of `schema`.
fn schema_refs(schema: &Value) -> Vec<String> {
    // `visit_schema_mut` needs a mutable value; the clone is cheap next to document building.
    let mut copy = schema.clone();
    let mut out = Vec::new();
    visit_schema_mut(&mut copy, &mut |s| {
        if let Some(Value::String(r)) = s.get("$ref")
            && let Some(target) = ref_target(r)
        {
            out.push(target);
        }
    });
    out
}

/// All definitions of `sources` (first wins), plus `roots`, plus every definition they
/// reference transitively, drawn from `sources` first and [`known_schemas`] second. A reference
/// nothing defines gets a permissive placeholder so the document stays self-contained.
fn closure(sources: &[&Map<String, Value>], roots: &[String]) -> BTreeMap<String, Value> {
    let lookup = |name: &str| -> Option<&Value> {
        sources
            .iter()
            .find_map(|s| s.get(name))
            .or_else(|| KNOWN.get(name))
            .or_else(|| {
                name.starts_with("io.k8s.")
                    .then(|| MORE_KNOWN.get(name))
                    .flatten()
            })
    };
    let mut out = BTreeMap::new();
    let mut queue: VecDeque<String> = sources
        .iter()
        .flat_map(|s| s.keys().cloned())
        .chain(roots.iter().cloned())
        .collect();
    while let Some(name) = queue.pop_front() {
        if out.contains_key(&name) {
            continue;
        }
        let schema = match lookup(&name) {
            Some(s) => s.clone(),
            None => {
                tracing::warn!(definition = %name, "OpenAPI: no schema for a referenced definition");
                json!({
                    "description": format!("{name}: schema not available on this server."),
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                })
            }
        };
        queue.extend(schema_refs(&schema));
        out.insert(name, schema);
    }
    out
}

/// A v3 schema as Swagger 2.0 has it: `#/definitions/` references, int-or-string as
/// `{"type":"string","format":"int-or-string"}`, single-reference `allOf` wrappers collapsed,
/// and no `anyOf`/`oneOf`/`not`/`nullable`, which Swagger 2.0 lacks.
fn schema_to_v2(mut schema: Value) -> Value {
    visit_schema_mut(&mut schema, &mut |s| {
        if let Some(Value::String(r)) = s.get_mut("$ref")
            && let Some(target) = r.strip_prefix(V3_REF_PREFIX)
        {
            *r = format!("{V2_REF_PREFIX}{target}");
        }
        s.remove("nullable");
        let int_or_string = s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
        let alternatives = s.remove("anyOf").into_iter().chain(s.remove("oneOf"));
        let mut scalar_types = Vec::new();
        for alt in alternatives.filter_map(|a| match a {
            Value::Array(a) => Some(a),
            _ => None,
        }) {
            for a in alt {
                if let Some(t) = a.get("type").and_then(Value::as_str) {
                    scalar_types.push(t.to_string());
                }
            }
        }
        let is_int_or_string = int_or_string
            || (scalar_types.len() == 2
                && scalar_types.iter().any(|t| t == "integer")
                && scalar_types.iter().any(|t| t == "string"));
        if is_int_or_string {
            s.insert("type".into(), json!("string"));
            s.insert("format".into(), json!("int-or-string"));
        } else if !s.contains_key("type")
            && let Some(first) = scalar_types.first()
        {
            s.insert("type".into(), json!(first));
        }
        s.remove("not");
        let single_ref = match s.get("allOf") {
            Some(Value::Array(all)) if all.len() == 1 && !s.contains_key("$ref") => all[0]
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.get("$ref"))
                .cloned(),
            _ => None,
        };
        if let Some(r) = single_ref {
            s.remove("allOf");
            s.insert("$ref".into(), r);
        }
    });
    schema
}

// ---------------------------------------------------------------------------------------------
// Paths and operations
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum In {
    Path,
    Query,
}

struct Param {
    name: &'static str,
    location: In,
    ty: &'static str,
    description: String,
}

impl Param {
    fn to_v3(&self) -> Value {
        let mut m = Map::new();
        if !self.description.is_empty() {
            m.insert("description".into(), json!(self.description));
        }
        m.insert("in".into(), json!(self.location_str()));
        m.insert("name".into(), json!(self.name));
        if self.location == In::Path {
            m.insert("required".into(), json!(true));
        }
        m.insert(
            "schema".into(),
            json!({"type": self.ty, "uniqueItems": true}),
        );
        Value::Object(m)
    }

    fn to_v2(&self) -> Value {
        let mut m = Map::new();
        if !self.description.is_empty() {
            m.insert("description".into(), json!(self.description));
        }
        m.insert("in".into(), json!(self.location_str()));
        m.insert("name".into(), json!(self.name));
        if self.location == In::Path {
            m.insert("required".into(), json!(true));
        }
        m.insert("type".into(), json!(self.ty));
        m.insert("uniqueItems".into(), json!(true));
        Value::Object(m)
    }

    fn location_str(&self) -> &'static str {
        match self.location {
            In::Path => "path",
            In::Query => "query",
        }
    }
}

/// A query parameter as the Go server declares it.
fn query(name: &'static str) -> Param {
    let (ty, description) = match name {
        "pretty" => ("string", "If 'true', then the output is pretty printed."),
        "dryRun" => (
            "string",
            "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
        ),
        "fieldManager" => (
            "string",
            "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
        ),
        "fieldValidation" => (
            "string",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
        ),
        "force" => (
            "boolean",
            "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
        ),
        "labelSelector" => (
            "string",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        "fieldSelector" => (
            "string",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        "limit" => (
            "integer",
            "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.",
        ),
        "continue" => (
            "string",
            "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the \"next key\".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.",
        ),
        "resourceVersion" => (
            "string",
            "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        "resourceVersionMatch" => (
            "string",
            "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        "watch" => (
            "boolean",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
        ),
        "allowWatchBookmarks" => (
            "boolean",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
        ),
        "timeoutSeconds" => (
            "integer",
            "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
        ),
        "gracePeriodSeconds" => (
            "integer",
            "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
        ),
        "orphanDependents" => (
            "boolean",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
        ),
        "propagationPolicy" => (
            "string",
            "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
        ),
        other => unreachable!("undeclared query parameter {other}"),
    };
    Param {
        name,
        location: In::Query,
        ty,
        description: description.to_string(),
    }
}

fn queries(names: &[&'static str]) -> Vec<Param> {
    names.iter().map(|n| query(n)).collect()
}

const LIST_QUERY: &[&str] = &[
    "labelSelector",
    "fieldSelector",
    "watch",
    "allowWatchBookmarks",
    "resourceVersion",
    "resourceVersionMatch",
    "timeoutSeconds",
    "limit",
    "continue",
];
const WRITE_QUERY: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];
const DELETE_QUERY: &[&str] = &[
    "gracePeriodSeconds",
    "orphanDependents",
    "propagationPolicy",
    "dryRun",
];
const DELETE_COLLECTION_QUERY: &[&str] = &[
    "gracePeriodSeconds",
    "orphanDependents",
    "propagationPolicy",
    "dryRun",
    "labelSelector",
    "fieldSelector",
    "resourceVersion",
    "resourceVersionMatch",
    "timeoutSeconds",
    "limit",
    "continue",
];

fn patch_query() -> Vec<Param> {
    let mut params = queries(&["dryRun", "fieldManager", "fieldValidation", "force"]);
    params[1].description = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).".into();
    params
}

struct Body {
    /// A definition name.
    schema: String,
    content_types: &'static [&'static str],
    required: bool,
}

struct Response {
    code: &'static str,
    description: &'static str,
    /// A definition name; `None` for the schemaless `401`.
    schema: Option<String>,
    content_types: &'static [&'static str],
}

fn ok(code: &'static str, schema: &str, content_types: &'static [&'static str]) -> Response {
    let description = match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "",
    };
    Response {
        code,
        description,
        schema: Some(schema.to_string()),
        content_types,
    }
}

struct Operation {
    method: &'static str,
    description: String,
    operation_id: String,
    action: &'static str,
    params: Vec<Param>,
    body: Option<Body>,
    responses: Vec<Response>,
    tag: String,
    gvk: Value,
}

impl Operation {
    fn to_v3(&self) -> Value {
        let mut m = Map::new();
        m.insert("description".into(), json!(self.description));
        m.insert("operationId".into(), json!(self.operation_id));
        if !self.params.is_empty() {
            let params: Vec<Value> = self.params.iter().map(Param::to_v3).collect();
            m.insert("parameters".into(), Value::Array(params));
        }
        if let Some(body) = &self.body {
            let schema = &body.schema;
            let content: Map<String, Value> = body
                .content_types
                .iter()
                .map(|ct| (ct.to_string(), json!({"schema": v3_ref(schema)})))
                .collect();
            let mut request = Map::new();
            request.insert("content".into(), Value::Object(content));
            if body.required {
                request.insert("required".into(), json!(true));
            }
            m.insert("requestBody".into(), Value::Object(request));
        }
        let mut responses = Map::new();
        for r in self.all_responses() {
            let mut resp = Map::new();
            if let Some(schema) = &r.schema {
                let content: Map<String, Value> = r
                    .content_types
                    .iter()
                    .map(|ct| (ct.to_string(), json!({"schema": v3_ref(schema)})))
                    .collect();
                resp.insert("content".into(), Value::Object(content));
            }
            resp.insert("description".into(), json!(r.description));
            responses.insert(r.code.into(), Value::Object(resp));
        }
        m.insert("responses".into(), Value::Object(responses));
        m.insert("tags".into(), json!([self.tag]));
        m.insert("x-kubernetes-action".into(), json!(self.action));
        m.insert("x-kubernetes-group-version-kind".into(), self.gvk.clone());
        Value::Object(m)
    }

    fn to_v2(&self) -> Value {
        let mut m = Map::new();
        let consumes: Vec<&str> = match &self.body {
            Some(body) if body.content_types.iter().any(|c| c.ends_with("patch+json")) => {
                body.content_types.to_vec()
            }
            _ => vec!["*/*"],
        };
        m.insert("consumes".into(), json!(consumes));
        m.insert("description".into(), json!(self.description));
        m.insert("operationId".into(), json!(self.operation_id));
        let mut params: Vec<Value> = Vec::new();
        if let Some(body) = &self.body {
            let schema = &body.schema;
            let mut p = Map::new();
            p.insert("in".into(), json!("body"));
            p.insert("name".into(), json!("body"));
            if body.required {
                p.insert("required".into(), json!(true));
            }
            p.insert("schema".into(), v2_ref(schema));
            params.push(Value::Object(p));
        }
        params.extend(self.params.iter().map(Param::to_v2));
        if !params.is_empty() {
            m.insert("parameters".into(), Value::Array(params));
        }
        let produces = self
            .responses
            .first()
            .map(|r| r.content_types)
            .unwrap_or(PRODUCES);
        m.insert("produces".into(), json!(produces));
        let mut responses = Map::new();
        for r in self.all_responses() {
            let mut resp = Map::new();
            resp.insert("description".into(), json!(r.description));
            if let Some(schema) = &r.schema {
                resp.insert("schema".into(), v2_ref(schema));
            }
            responses.insert(r.code.into(), Value::Object(resp));
        }
        m.insert("responses".into(), Value::Object(responses));
        m.insert("schemes".into(), json!(["https"]));
        m.insert("tags".into(), json!([self.tag]));
        m.insert("x-kubernetes-action".into(), json!(self.action));
        m.insert("x-kubernetes-group-version-kind".into(), self.gvk.clone());
        Value::Object(m)
    }

    fn all_responses(&self) -> impl Iterator<Item = &Response> {
        static UNAUTHORIZED: Response = Response {
            code: "401",
            description: "Unauthorized",
            schema: None,
            content_types: &[],
        };
        self.responses.iter().chain(std::iter::once(&UNAUTHORIZED))
    }
}

fn v3_ref(name: &str) -> Value {
    json!({ "$ref": format!("{V3_REF_PREFIX}{name}") })
}

fn v2_ref(name: &str) -> Value {
    json!({ "$ref": format!("{V2_REF_PREFIX}{name}") })
}

struct PathItem {
    path: String,
    params: Vec<Param>,
    /// In the alphabetical order of their methods.
    operations: Vec<Operation>,
}

impl PathItem {
    fn to_v3(&self) -> Value {
        self.render(Operation::to_v3, Param::to_v3)
    }

    fn to_v2(&self) -> Value {
        self.render(Operation::to_v2, Param::to_v2)
    }

    fn render(&self, op: fn(&Operation) -> Value, param: fn(&Param) -> Value) -> Value {
        let mut m = Map::new();
        let mut params_done = false;
        for o in &self.operations {
            // Keys in alphabetical order, as the Go server's documents have them.
            if !params_done && o.method > "parameters" {
                m.insert(
                    "parameters".into(),
                    Value::Array(self.params.iter().map(param).collect()),
                );
                params_done = true;
            }
            m.insert(o.method.into(), op(o));
        }
        if !params_done {
            m.insert(
                "parameters".into(),
                Value::Array(self.params.iter().map(param).collect()),
            );
        }
        Value::Object(m)
    }
}

/// Kubernetes' `ToValidOperationID`: drops what is not a letter (or a non-leading digit) and
/// capitalizes the letter after it.
fn operation_id_part(s: &str, capitalize_first: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut capitalize = capitalize_first;
    for (i, c) in s.chars().enumerate() {
        if c.is_alphabetic() || c == '_' || (i != 0 && c.is_numeric()) {
            if capitalize {
                out.extend(c.to_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        } else {
            capitalize = true;
        }
    }
    out
}

/// `a`/`an` before a kind, as the Go server's operation descriptions have it.
fn article(noun: &str) -> &'static str {
    if !noun.ends_with("ss") && noun.ends_with('s') {
        return "";
    }
    match noun.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an ",
        _ => "a ",
    }
}

/// The paths and operations the Go server installs for one resource.
fn path_items(
    group: &str,
    version: &str,
    r: &ResourceInfo,
    schemas: &Map<String, Value>,
    protobuf: bool,
) -> Vec<PathItem> {
    // What the operations read and write: JSON, and protobuf when the version has a message.
    let (produces, list_produces, consumes) = if protobuf {
        (PRODUCES_PB, LIST_PRODUCES_PB, CONSUMES_PB)
    } else {
        (PRODUCES, LIST_PRODUCES, CONSUMES)
    };
    let base = format!("/{}", gv_key(group, version));
    let group_id = if group.is_empty() {
        "core"
    } else {
        group.strip_suffix(".k8s.io").unwrap_or(group)
    };
    let gv_id = format!(
        "{}{}",
        operation_id_part(group_id, true),
        operation_id_part(version, true)
    );
    let tag = format!(
        "{}_{}",
        operation_id_part(group_id, false),
        operation_id_part(version, false)
    );
    let kind = r.kind;
    let gvk = json!({"group": group, "kind": kind, "version": version});
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let object = format!("{collection}/{{name}}");
    let list_kind = if r.list_kind.is_empty() {
        format!("{kind}List")
    } else {
        r.list_kind.to_string()
    };
    let kind_def = find_kind(schemas, group, version, kind)
        .unwrap_or_else(|| definition_name(group, version, kind));
    let list_def = find_kind(schemas, group, version, &list_kind)
        .unwrap_or_else(|| definition_name(group, version, &list_kind));

    let op = |method: &'static str,
              verb: &str,
              action: &'static str,
              id_suffix: &str,
              description: String,
              params: Vec<Param>,
              body: Option<Body>,
              responses: Vec<Response>| {
        Operation {
            method,
            description,
            operation_id: format!("{verb}{gv_id}{id_suffix}"),
            action,
            params,
            body,
            responses,
            tag: tag.clone(),
            gvk: gvk.clone(),
        }
    };
    let kind_body = || Body {
        schema: kind_def.clone(),
        content_types: consumes,
        required: true,
    };
    let patch_body = || Body {
        schema: PATCH.to_string(),
        content_types: PATCH_CONTENT_TYPES,
        required: true,
    };
    let delete_body = || Body {
        schema: DELETE_OPTIONS.to_string(),
        content_types: consumes,
        required: false,
    };
    let namespace = || Param {
        name: "namespace",
        location: In::Path,
        ty: "string",
        description: "object name and auth scope, such as for teams and projects".into(),
    };
    let name = || Param {
        name: "name",
        location: In::Path,
        ty: "string",
        description: format!("name of the {kind}"),
    };
    let path_params = |with_name: bool| {
        let mut p = Vec::new();
        if with_name {
            p.push(name());
        }
        if r.namespaced {
            p.push(namespace());
        }
        p.push(query("pretty"));
        p
    };
    let a = article(kind);
    // Read, patch and replace of one object, or of its status subresource.
    let read_write = |id: &str, what: &str| {
        vec![
            op(
                "get",
                "read",
                "get",
                id,
                format!("read {what}"),
                Vec::new(),
                None,
                vec![ok("200", &kind_def, produces)],
            ),
            op(
                "patch",
                "patch",
                "patch",
                id,
                format!("partially update {what}"),
                patch_query(),
                Some(patch_body()),
                vec![
                    ok("200", &kind_def, produces),
                    ok("201", &kind_def, produces),
                ],
            ),
            op(
                "put",
                "replace",
                "put",
                id,
                format!("replace {what}"),
                queries(WRITE_QUERY),
                Some(kind_body()),
                vec![
                    ok("200", &kind_def, produces),
                    ok("201", &kind_def, produces),
                ],
            ),
        ]
    };

    let mut items = Vec::new();
    // The collection: deletecollection, list (and watch), create.
    items.push(PathItem {
        path: collection.clone(),
        params: path_params(false),
        operations: vec![
            op(
                "delete",
                "delete",
                "deletecollection",
                &format!("Collection{scope}{kind}"),
                format!("delete collection of {kind}"),
                queries(DELETE_COLLECTION_QUERY),
                Some(delete_body()),
                vec![ok("200", STATUS, produces)],
            ),
            op(
                "get",
                "list",
                "list",
                &format!("{scope}{kind}"),
                format!("list or watch objects of kind {kind}"),
                queries(LIST_QUERY),
                None,
                vec![ok("200", &list_def, list_produces)],
            ),
            op(
                "post",
                "create",
                "post",
                &format!("{scope}{kind}"),
                format!("create {a}{kind}"),
                queries(WRITE_QUERY),
                Some(kind_body()),
                vec![
                    ok("200", &kind_def, produces),
                    ok("201", &kind_def, produces),
                    ok("202", &kind_def, produces),
                ],
            ),
        ],
    });
    // One object: delete, read, patch, replace.
    items.push(PathItem {
        path: object.clone(),
        params: path_params(true),
        operations: vec![
            op(
                "delete",
                "delete",
                "delete",
                &format!("{scope}{kind}"),
                format!("delete {a}{kind}"),
                queries(DELETE_QUERY),
                Some(delete_body()),
                vec![ok("200", STATUS, produces), ok("202", STATUS, produces)],
            ),
            // get, patch and put follow.
        ]
        .into_iter()
        .chain(read_write(
            &format!("{scope}{kind}"),
            &format!("the specified {kind}"),
        ))
        .collect(),
    });
    // The status subresource: read, patch, replace.
    if r.has_status {
        items.push(PathItem {
            path: format!("{object}/status"),
            params: path_params(true),
            operations: read_write(
                &format!("{scope}{kind}Status"),
                &format!("status of the specified {kind}"),
            ),
        });
    }
    // The scale subresource: an `autoscaling/v1` `Scale` read, patched and replaced.
    if r.scale.is_some() {
        let scale_gvk = json!({"group": "autoscaling", "kind": "Scale", "version": "v1"});
        let what = format!("scale of the specified {kind}");
        let id = format!("{scope}{kind}Scale");
        let scale_op = |method, verb: &str, action, description: String, params, body| Operation {
            method,
            description,
            operation_id: format!("{verb}{gv_id}{id}"),
            action,
            params,
            body,
            responses: if method == "get" {
                vec![ok("200", SCALE, produces)]
            } else {
                vec![ok("200", SCALE, produces), ok("201", SCALE, produces)]
            },
            tag: tag.clone(),
            gvk: scale_gvk.clone(),
        };
        items.push(PathItem {
            path: format!("{object}/scale"),
            params: path_params(true),
            operations: vec![
                scale_op(
                    "get",
                    "read",
                    "get",
                    format!("read {what}"),
                    Vec::new(),
                    None,
                ),
                scale_op(
                    "patch",
                    "patch",
                    "patch",
                    format!("partially update {what}"),
                    patch_query(),
                    Some(Body {
                        schema: PATCH.to_string(),
                        content_types: SCALE_PATCH_CONTENT_TYPES,
                        required: true,
                    }),
                ),
                scale_op(
                    "put",
                    "replace",
                    "put",
                    format!("replace {what}"),
                    queries(WRITE_QUERY),
                    Some(Body {
                        schema: SCALE.to_string(),
                        content_types: consumes,
                        required: true,
                    }),
                ),
            ],
        });
    }
    // Namespaced kinds: list and watch across all namespaces.
    if r.namespaced {
        let mut params = queries(LIST_QUERY);
        params.push(query("pretty"));
        params.sort_by_key(|p| p.name);
        items.push(PathItem {
            path: format!("{base}/{}", r.plural),
            params,
            operations: vec![op(
                "get",
                "list",
                "list",
                &format!("{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                Vec::new(),
                None,
                vec![ok("200", &list_def, list_produces)],
            )],
        });
    }
    items
}

/// The definition name openapi-gen gives a kind: the group's labels reversed, then version and
/// kind (`pager.k8s.co`, `v1alpha1`, `Alert` → `co.k8s.pager.v1alpha1.Alert`).
///
/// Documents look a kind up in the group/version's schemas by `x-kubernetes-group-version-kind`
/// first; this is the fallback.
fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').filter(|p| !p.is_empty()).collect();
    parts.reverse();
    if parts.is_empty() {
        format!("io.k8s.api.core.{version}.{kind}")
    } else {
        format!("{}.{version}.{kind}", parts.join("."))
    }
}

/// The definition in `schemas` whose `x-kubernetes-group-version-kind` lists the kind.
fn find_kind(
    schemas: &Map<String, Value>,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    schemas.iter().find_map(|(name, schema)| {
        let gvks = schema.get("x-kubernetes-group-version-kind")?.as_array()?;
        gvks.iter()
            .any(|g| {
                g.get("group").and_then(Value::as_str) == Some(group)
                    && g.get("version").and_then(Value::as_str) == Some(version)
                    && g.get("kind").and_then(Value::as_str) == Some(kind)
            })
            .then(|| name.clone())
    })
}

/// The name of `info`'s kind among its group/version's generated `schemas` (what patches and
/// documents refer to it by).
pub(crate) fn kind_definition(
    schemas: &Map<String, Value>,
    info: &kube_codegen_scheme::ResourceInfo,
) -> String {
    find_kind(schemas, info.group, info.version, info.kind)
        .unwrap_or_else(|| definition_name(info.group, info.version, info.kind))
}
