//! openapi-gen: OpenAPI v3 schemas for every type of an external API package, from the model —
//! descriptions from doc comments (tag lines removed), required vs optional, enums, defaults,
//! `x-kubernetes-group-version-kind` on kinds and their lists, list/map/patch extensions from
//! tags, and the Kubernetes formats of `Quantity`, `Time` and `IntOrString`.
//!
//! Schemas are emitted as data, not code (DESIGN §3): `zz_generated.openapi.rs` holds one
//! constant, `OPENAPI_SCHEMAS`, a JSON object mapping definition names
//! (`co.k8s.pager.v1alpha1.Alert`) to schemas whose `$ref`s point at `#/components/schemas/…`.
//! References to apimachinery types (`ObjectMeta`, `ListMeta`, ...) and to k8s-openapi types use
//! Kubernetes' own definition names (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); the
//! server that publishes the document supplies those definitions.

use kube_codegen_model::output::{Content, GeneratedFile, Generator, Options, Placement};
use kube_codegen_model::{
    Field, FieldType, KnownType, Model, Package, TypeBody, TypeDef, VariantShape,
};
use serde_json::{Map, Value, json};

pub const NAME: &str = "openapi-gen";
pub const FILE: &str = "zz_generated.openapi.rs";

pub struct OpenapiGen;

impl Generator for OpenapiGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn generate_package(
        &self,
        _model: &Model,
        pkg: &Package,
        _opts: &Options,
    ) -> Vec<GeneratedFile> {
        if pkg.is_internal() || pkg.tags.value("k8s:openapi-gen") == Some("false") {
            return Vec::new();
        }
        let schemas = schemas(pkg);
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Text(module_text(&schemas)),
        }]
    }
}

/// `pager.k8s.co` + `v1alpha1` + `Alert` → `co.k8s.pager.v1alpha1.Alert`.
pub fn definition_name(pkg: &Package, type_name: &str) -> String {
    let mut parts: Vec<&str> = pkg.group.split('.').collect();
    parts.reverse();
    let version = pkg.version.as_deref().unwrap_or("internal");
    format!("{}.{}.{}", parts.join("."), version, type_name)
}

/// Every schema of a package, keyed by definition name, in declaration order (kinds' lists
/// follow their kinds).
pub fn schemas(pkg: &Package) -> Map<String, Value> {
    let mut out = Map::new();
    for t in &pkg.types {
        if t.tags.value("k8s:openapi-gen") == Some("false") || t.has_generics {
            continue;
        }
        out.insert(definition_name(pkg, &t.name), type_schema(pkg, t));
        if let Some(r) = &t.resource {
            let list = format!("{}List", t.name);
            out.insert(definition_name(pkg, &list), list_schema(pkg, t, &r.kind));
        }
    }
    out
}

/// The generated module: one constant holding the JSON. Written as text, already formatted —
/// it is data, so there is nothing for the Rust formatter to do (and a multi-megabyte literal
/// need not be re-parsed).
pub fn module_text(schemas: &Map<String, Value>) -> String {
    let json = serde_json::to_string_pretty(schemas).expect("JSON values always serialise");
    // A raw string literal whose delimiter cannot occur in the JSON.
    let mut hashes = 1;
    while json.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!(
        "/// OpenAPI v3 schemas of this package's types, by definition name; `$ref`s point at\n\
         /// `#/components/schemas/<name>`.\n\
         pub const OPENAPI_SCHEMAS: &str = r{h}\"{json}\"{h};\n"
    )
}

fn description(docs: &[String]) -> Option<Value> {
    let text = docs.join("\n").trim().to_string();
    (!text.is_empty()).then_some(Value::String(text))
}

fn gvk(pkg: &Package, kind: &str) -> Value {
    json!([{ "group": pkg.group, "version": pkg.version, "kind": kind }])
}

fn type_meta_properties(props: &mut Map<String, Value>) {
    props.insert(
        "apiVersion".into(),
        json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}),
    );
    props.insert(
        "kind".into(),
        json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}),
    );
}

fn list_schema(pkg: &Package, t: &TypeDef, kind: &str) -> Value {
    let mut props = Map::new();
    type_meta_properties(&mut props);
    props.insert(
        "items".into(),
        json!({"type": "array", "description": format!("List of {}.", t.name), "items": reference(&definition_name(pkg, &t.name))}),
    );
    props.insert(
        "metadata".into(),
        json!({"description": "Standard list metadata.", "allOf": [reference(&known_name(KnownType::ListMeta))]}),
    );
    json!({
        "description": format!("{kind}List is a list of {kind}."),
        "type": "object",
        "required": ["items"],
        "properties": props,
        "x-kubernetes-group-version-kind": gvk(pkg, &format!("{kind}List")),
    })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn type_schema(pkg: &Package, t: &TypeDef) -> Value {
    let mut schema = match &t.body {
        TypeBody::Struct(fields) => struct_schema(pkg, t, fields),
        TypeBody::Tuple(types) if types.len() == 1 => field_type_schema(pkg, &types[0]),
        TypeBody::Tuple(_) => json!({"type": "array"}),
        TypeBody::Unit => json!({"type": "object"}),
        TypeBody::Enum(variants) => {
            let all_unit = variants
                .iter()
                .all(|v| matches!(v.shape, VariantShape::Unit));
            if all_unit && t.serde.tag.is_none() && !t.serde.untagged {
                let values: Vec<Value> = variants
                    .iter()
                    .filter(|v| !v.serde.skip)
                    .map(|v| Value::String(v.wire.clone()))
                    .collect();
                let mut s = json!({"type": "string", "enum": values});
                let lines: Vec<String> = variants
                    .iter()
                    .filter(|v| !v.docs.is_empty())
                    .map(|v| format!(" - `\"{}\"` {}", v.wire, v.docs.join(" ")))
                    .collect();
                if !lines.is_empty() {
                    let mut d = t.docs.clone();
                    d.push(String::new());
                    d.push("Possible enum values:".into());
                    d.extend(lines);
                    s["description"] = Value::String(d.join("\n"));
                }
                s
            } else {
                // Data-carrying enums have no structural schema Kubernetes tooling understands.
                json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
            }
        }
    };
    if schema.get("description").is_none()
        && let Some(d) = description(&t.docs)
    {
        schema["description"] = d;
    }
    if let Some(v) = t.tags.value("structType") {
        schema["x-kubernetes-map-type"] = Value::String(v.into());
    }
    if let Some(r) = &t.resource {
        schema["x-kubernetes-group-version-kind"] = gvk(pkg, &r.kind);
    }
    schema
}

fn struct_schema(pkg: &Package, t: &TypeDef, fields: &[Field]) -> Value {
    let is_root = t.resource.is_some();
    let mut props = Map::new();
    let mut required = Vec::new();
    if is_root {
        type_meta_properties(&mut props);
    }
    let mut all_of = Vec::new();
    for f in fields.iter().filter(|f| !f.serde.skip) {
        if f.serde.flatten {
            all_of.push(field_type_schema(pkg, &f.ty));
            continue;
        }
        let mut s = field_type_schema(pkg, &f.ty);
        // A `$ref` cannot carry siblings in OpenAPI 3.0: wrap it, as Kubernetes does.
        if s.get("$ref").is_some() {
            s = json!({ "allOf": [s] });
        }
        if let Some(d) = description(&f.docs) {
            s["description"] = d;
        } else if is_root && f.name == "metadata" {
            s["description"] = json!(
                "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
            );
        }
        if let Some(v) = f.tags.value("default")
            && let Ok(v) = serde_json::from_str::<Value>(v)
        {
            s["default"] = v;
        }
        for (tag, ext) in [
            ("listType", "x-kubernetes-list-type"),
            ("mapType", "x-kubernetes-map-type"),
            ("structType", "x-kubernetes-map-type"),
            ("patchStrategy", "x-kubernetes-patch-strategy"),
            ("patchMergeKey", "x-kubernetes-patch-merge-key"),
        ] {
            if let Some(v) = f.tags.value(tag) {
                s[ext] = Value::String(v.into());
            }
        }
        let keys: Vec<Value> = f
            .tags
            .all("listMapKey")
            .filter_map(|t| t.value.clone().map(Value::String))
            .collect();
        if !keys.is_empty() {
            s["x-kubernetes-list-map-keys"] = Value::Array(keys);
        }
        if is_required(pkg, t, f) {
            required.push(Value::String(f.wire.clone()));
        }
        props.insert(f.wire.clone(), s);
    }
    let mut schema = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    if !all_of.is_empty() {
        schema["allOf"] = Value::Array(all_of);
    }
    schema
}

/// Required unless optional in Rust (`Option`, a serde default, an omitted-when-empty or
/// defaulted field of a kind) or tagged `+optional`; `+required` always wins.
fn is_required(pkg: &Package, t: &TypeDef, f: &Field) -> bool {
    if f.tags.has("required") {
        return true;
    }
    if f.tags.has("optional") || f.tags.has("default") {
        return false;
    }
    if matches!(f.ty, FieldType::Option(_)) || f.serde.default || t.serde.default {
        return false;
    }
    if t.resource.is_some() {
        // The generated codec reads absent defaultable fields as their default.
        return !pkg.has_default(&f.ty);
    }
    true
}

/// Kubernetes' definition name of a well-known type.
pub fn known_name(k: KnownType) -> String {
    let path = match k {
        KnownType::ObjectMeta => "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        KnownType::ListMeta => "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        KnownType::Time => "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        KnownType::MicroTime => "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        KnownType::Duration => "io.k8s.apimachinery.pkg.apis.meta.v1.Duration",
        KnownType::Quantity => "io.k8s.apimachinery.pkg.api.resource.Quantity",
        KnownType::IntOrString => "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        KnownType::Json => "io.k8s.apimachinery.pkg.runtime.RawExtension",
        KnownType::Bytes => "byte",
    };
    path.to_string()
}

fn field_type_schema(pkg: &Package, ty: &FieldType) -> Value {
    match ty {
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Int(n) => {
            let format = if matches!(n.as_str(), "i64" | "u64" | "isize" | "usize" | "u32") {
                "int64"
            } else {
                "int32"
            };
            json!({"type": "integer", "format": format})
        }
        FieldType::Float(n) => {
            json!({"type": "number", "format": if n == "f32" { "float" } else { "double" }})
        }
        FieldType::String => json!({"type": "string"}),
        FieldType::Option(t) | FieldType::Box(t) | FieldType::Shared { inner: t, .. } => {
            field_type_schema(pkg, t)
        }
        FieldType::Vec(t) => json!({"type": "array", "items": field_type_schema(pkg, t)}),
        FieldType::Set { elem, .. } => json!({
            "type": "array",
            "items": field_type_schema(pkg, elem),
            "x-kubernetes-list-type": "set",
        }),
        FieldType::Map { value, .. } => {
            json!({"type": "object", "additionalProperties": field_type_schema(pkg, value)})
        }
        FieldType::Known(k) => match k {
            KnownType::ObjectMeta | KnownType::ListMeta => reference(&known_name(*k)),
            KnownType::Time => json!({"type": "string", "format": "date-time"}),
            KnownType::MicroTime => json!({"type": "string", "format": "date-time"}),
            KnownType::Duration => json!({"type": "string"}),
            KnownType::Quantity => json!({
                "x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "pattern": "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
            }),
            KnownType::IntOrString => json!({
                "x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "string"}],
            }),
            KnownType::Json => json!({"x-kubernetes-preserve-unknown-fields": true}),
            KnownType::Bytes => json!({"type": "string", "format": "byte"}),
        },
        FieldType::Local(name) => reference(&definition_name(pkg, name)),
        FieldType::Foreign(path) => match k8s_openapi_definition(path) {
            Some(name) => reference(&name),
            None => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        },
    }
}

/// `k8s_openapi::api::core::v1::PodSpec` → `io.k8s.api.core.v1.PodSpec`.
fn k8s_openapi_definition(path: &str) -> Option<String> {
    let rest = path
        .trim_start_matches("::")
        .strip_prefix("k8s_openapi::")?;
    Some(format!("io.k8s.{}", rest.replace("::", ".")))
}
