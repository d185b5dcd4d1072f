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
    Field, FieldType, FloatType, KnownType, Model, Package, PatchStrategy, Presence, RustPath,
    TypeBody, TypeDef, VariantShape,
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
        model: &Model,
        pkg: &Package,
        _opts: &Options,
    ) -> Vec<GeneratedFile> {
        if pkg.is_internal() || !pkg.options.openapi {
            return Vec::new();
        }
        let schemas = schemas(model, pkg);
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
/// follow their kinds), then the definitions of other versions' types they use
/// (`super::v1::Status` in `v2`), so that the package's document is whole on its own.
pub fn schemas(model: &Model, pkg: &Package) -> Map<String, Value> {
    let refers_to_siblings = std::cell::Cell::new(false);
    let cx = Cx {
        model,
        pkg,
        refers_to_siblings: &refers_to_siblings,
    };
    let mut out = Map::new();
    for t in &pkg.types {
        if !has_definition(t) {
            continue;
        }
        out.insert(definition_name(pkg, &t.name), type_schema(cx, t));
        if let Some(r) = &t.resource {
            let list = format!("{}List", t.name);
            out.insert(definition_name(pkg, &list), list_schema(pkg, t, &r.kind));
        }
    }
    if refers_to_siblings.get() {
        add_sibling_definitions(model, pkg, &mut out);
    }
    out
}

/// Whether [`schemas`] writes a definition for `t` (and a `$ref` may point at it).
fn has_definition(t: &TypeDef) -> bool {
    t.options.openapi && !t.has_generics
}

/// What a schema is built in: the package whose types it describes, in the whole model (a type
/// may name another version's type).
#[derive(Clone, Copy)]
struct Cx<'a> {
    model: &'a Model,
    pkg: &'a Package,
    /// Set when a schema `$ref`s another version's definition (most packages never do: they
    /// are not searched for references then).
    refers_to_siblings: &'a std::cell::Cell<bool>,
}

impl<'a> Cx<'a> {
    /// The type of another package of the same input that `path` names — another version's,
    /// or one the hub shares between versions —, when it has a definition
    /// ([`Model::package_type`]).
    fn sibling(&self, path: &RustPath) -> Option<(&'a Package, &'a TypeDef)> {
        self.model
            .package_type(self.pkg, path)
            .filter(|(_, t)| has_definition(t))
    }
}

/// The definitions the package's schemas reference in other versions, and theirs in turn.
fn add_sibling_definitions(model: &Model, pkg: &Package, out: &mut Map<String, Value>) {
    let mut wanted: Vec<String> = missing_references(out);
    if wanted.is_empty() {
        return;
    }
    // Definition name → (package, type), over the packages of this input.
    let by_name: std::collections::HashMap<String, (&Package, &TypeDef)> = model
        .packages
        .iter()
        .filter(|p| p.input == pkg.input)
        .flat_map(|p| {
            p.types
                .iter()
                .filter(|t| has_definition(t))
                .map(move |t| (definition_name(p, &t.name), (p, t)))
        })
        .collect();
    while let Some(name) = wanted.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Some((p, t)) = by_name.get(&name) else {
            continue;
        };
        let unused = std::cell::Cell::new(false);
        let cx = Cx {
            model,
            pkg: p,
            refers_to_siblings: &unused,
        };
        let schema = type_schema(cx, t);
        let mut one = Map::new();
        one.insert(name.clone(), schema.clone());
        wanted.extend(missing_references(&one));
        out.insert(name, schema);
    }
}

/// `$ref` targets in `schemas` that `schemas` does not define (Kubernetes' own definitions among
/// them, which the server supplies: the caller looks up only the package's siblings' — a group
/// like `gateway.networking.k8s.io` has definitions named `io.k8s.…` too).
fn missing_references(schemas: &Map<String, Value>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_string());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    schemas.values().for_each(|v| walk(v, &mut out));
    out.retain(|name| !schemas.contains_key(name));
    out
}

/// The generated module: one constant holding the JSON. Written as text, already formatted —
/// it is data, so there is nothing for the Rust formatter to do (and a multi-megabyte literal
/// need not be re-parsed).
pub fn module_text(schemas: &Map<String, Value>) -> String {
    // One definition per line: a change to a type is a one-line diff, and the file is a third of
    // the size of pretty-printed JSON (output size is the pipeline's time budget). Written into
    // one buffer: the JSON is most of the bytes the pipeline writes.
    let mut json = Vec::with_capacity(4096 * (schemas.len() + 1));
    json.extend_from_slice(b"{\n");
    for (i, (name, schema)) in schemas.iter().enumerate() {
        if i > 0 {
            json.extend_from_slice(b",\n");
        }
        json.extend_from_slice(b"  ");
        serde_json::to_writer(&mut json, name).expect("JSON strings always serialise");
        json.extend_from_slice(b": ");
        serde_json::to_writer(&mut json, schema).expect("JSON values always serialise");
    }
    json.extend_from_slice(b"\n}");
    let json = String::from_utf8(json).expect("serde_json writes UTF-8");
    let json = escape_bidi_controls(json);
    // A raw string literal whose delimiter cannot occur in the JSON.
    let mut hashes = 1;
    while json.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    let head = "/// OpenAPI v3 schemas of this package's types, by definition name; `$ref`s point at\n\
         /// `#/components/schemas/<name>`.\n\
         #[allow(dead_code)]\n\
         pub const OPENAPI_SCHEMAS: &str = r";
    let mut out = String::with_capacity(head.len() + json.len() + 2 * h.len() + 4);
    out.push_str(head);
    out.push_str(&h);
    out.push('"');
    out.push_str(&json);
    out.push('"');
    out.push_str(&h);
    out.push_str(";\n");
    out
}

/// Bidi controls (U+202A–U+202E, U+2066–U+2069) as JSON `\uXXXX` escapes: written raw in the
/// literal they trip rustc's deny-by-default `text_direction_codepoint_in_literal`. They only
/// occur inside JSON strings, where the escape reads back as the same character.
fn escape_bidi_controls(json: String) -> String {
    let is_bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !json.contains(is_bidi) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_bidi(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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

/// `schema`, or `null` (a `$ref` cannot carry `nullable` beside it: wrapped in `allOf`).
fn nullable(schema: Value) -> Value {
    let mut s = if schema.get("$ref").is_some() {
        json!({ "allOf": [schema] })
    } else {
        schema
    };
    s["nullable"] = Value::Bool(true);
    s
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn type_schema(cx: Cx, t: &TypeDef) -> Value {
    let pkg = cx.pkg;
    let transparent = t
        .fields()
        .iter()
        .filter(|f| !f.serde.skip)
        .collect::<Vec<_>>();
    let mut schema = match &t.body {
        // `#[serde(into = "String")]`: written as that scalar, whatever the Rust shape.
        _ if t.serde.into_scalar.is_some() => {
            field_type_schema(cx, t.serde.into_scalar.as_ref().expect("checked"))
        }
        // `#[serde(transparent)]` is its one field on the wire.
        TypeBody::Struct(_) if t.serde.transparent && transparent.len() == 1 => {
            field_type_schema(cx, &transparent[0].ty)
        }
        TypeBody::Struct(fields) => struct_schema(cx, t, fields),
        TypeBody::Tuple(types) if types.len() == 1 => field_type_schema(cx, &types[0]),
        // serde writes a tuple struct as a fixed-length array; OpenAPI 3.0 has no per-position
        // items, so the items share one schema when the fields share a type.
        TypeBody::Tuple(types) => {
            let items: Vec<Value> = types.iter().map(|t| field_type_schema(cx, t)).collect();
            let item = if items.windows(2).all(|w| w[0] == w[1]) {
                items[0].clone()
            } else {
                json!({"x-kubernetes-preserve-unknown-fields": true})
            };
            json!({"type": "array", "items": item, "minItems": types.len(), "maxItems": types.len()})
        }
        // serde writes a unit struct as `null`.
        TypeBody::Unit => json!({"type": "object", "nullable": true}),
        TypeBody::Enum(variants) => {
            if let Some(mut s) = string_enum(t) {
                if let Some(d) = with_enum_values(&t.docs, t) {
                    s["description"] = d;
                }
                s
            } else {
                // Data-carrying enums have no structural schema Kubernetes tooling understands.
                // Tagged ones are always objects; an externally tagged enum writes its unit
                // variants as strings and an untagged one may be anything, so those get no type.
                let tagged = t.serde.tag.is_some();
                let has_unit = variants
                    .iter()
                    .any(|v| !v.serde.skip && matches!(v.shape, VariantShape::Unit));
                if tagged || (!t.serde.untagged && !has_unit) {
                    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
                } else {
                    json!({"x-kubernetes-preserve-unknown-fields": true})
                }
            }
        }
    };
    if schema.get("description").is_none()
        && let Some(d) = description(&t.docs)
    {
        schema["description"] = d;
    }
    if let Some(v) = t.options.struct_type {
        schema["x-kubernetes-map-type"] = Value::String(v.as_str().into());
    }
    if let Some(r) = &t.resource {
        schema["x-kubernetes-group-version-kind"] = gvk(pkg, &r.kind);
    }
    schema
}

fn struct_schema(cx: Cx, t: &TypeDef, fields: &[Field]) -> Value {
    let pkg = cx.pkg;
    let is_root = t.resource.is_some();
    let mut props = Map::new();
    let mut required = Vec::new();
    if is_root {
        type_meta_properties(&mut props);
    }
    let mut all_of = Vec::new();
    // What `#[serde(flatten)]` fields put beside the others, written as Kubernetes' structural
    // schemas want it (no `allOf` next to `properties`): a struct's fields inline, a map's
    // values as `additionalProperties`, anything else as unknown fields kept.
    let mut additional: Option<Value> = None;
    let mut any_fields = false;
    for f in fields.iter().filter(|f| !f.serde.skip && f.options.openapi) {
        if f.serde.flatten {
            let optional = matches!(f.ty, FieldType::Option(_));
            match f.ty.unwrapped() {
                FieldType::Local(name)
                    if pkg.type_named(name).is_some_and(|l| {
                        matches!(l.body, TypeBody::Struct(_)) && has_definition(l)
                    }) =>
                {
                    let inner = pkg.type_named(name).expect("checked");
                    let inlined = struct_schema(cx, inner, inner.fields());
                    if let Some(Value::Object(p)) = inlined.get("properties") {
                        for (k, v) in p {
                            props.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    if !optional && let Some(Value::Array(r)) = inlined.get("required") {
                        required.extend(r.iter().cloned());
                    }
                    if let Some(a) = inlined.get("additionalProperties") {
                        additional = Some(a.clone());
                    }
                    // What the inlined struct flattens by reference comes along (as fields
                    // kept, when the struct may be absent: an `allOf` would require them).
                    if let Some(Value::Array(refs)) = inlined.get("allOf") {
                        if optional {
                            any_fields = true;
                        } else {
                            all_of.extend(refs.iter().cloned());
                        }
                    }
                    any_fields |= inlined
                        .get("x-kubernetes-preserve-unknown-fields")
                        .is_some();
                }
                FieldType::Map { value, .. } => {
                    additional = Some(field_type_schema(cx, value));
                }
                _ => {
                    // A type by reference: `allOf` makes its required fields the struct's, which
                    // an `Option` (serde reads `None` when they are absent) must not.
                    let s = field_type_schema(cx, &f.ty);
                    if s.get("$ref").is_some() && !optional {
                        all_of.push(s);
                    } else {
                        any_fields = true;
                    }
                }
            }
            continue;
        }
        let mut s = field_type_schema(cx, &f.ty);
        // A `$ref` cannot carry siblings in OpenAPI 3.0: wrap it, as Kubernetes does.
        if s.get("$ref").is_some() {
            s = json!({ "allOf": [s] });
        }
        let enum_docs = held_string_enum(&cx, &f.ty).and_then(|t| with_enum_values(&f.docs, t));
        if let Some(d) = enum_docs.or_else(|| description(&f.docs)) {
            s["description"] = d;
        } else if is_root && f.name == "metadata" {
            s["description"] = json!(
                "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
            );
        }
        let o = &f.options;
        if let Some(d) = &o.default {
            s["default"] = d.value.clone();
        }
        if let Some(v) = o.list_type {
            s["x-kubernetes-list-type"] = v.as_str().into();
        }
        if let Some(v) = o.map_type.or(o.struct_type) {
            s["x-kubernetes-map-type"] = v.as_str().into();
        }
        if !o.patch_strategy.is_empty() {
            s["x-kubernetes-patch-strategy"] = PatchStrategy::join(&o.patch_strategy).into();
        }
        if let Some(k) = &o.patch_merge_key {
            s["x-kubernetes-patch-merge-key"] = k.as_str().into();
        }
        if !o.list_map_keys.is_empty() {
            s["x-kubernetes-list-map-keys"] = o.list_map_keys.clone().into();
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
    if let Some(a) = additional {
        schema["additionalProperties"] = a;
    }
    if any_fields {
        schema["x-kubernetes-preserve-unknown-fields"] = Value::Bool(true);
    }
    if !all_of.is_empty() {
        schema["allOf"] = Value::Array(all_of);
    }
    schema
}

/// Required unless optional in Rust (`Option` read by serde's own deserializer, a serde
/// default, an omitted-when-empty or defaulted field of a kind) or tagged `+optional`;
/// `+required` always wins.
fn is_required(pkg: &Package, t: &TypeDef, f: &Field) -> bool {
    match f.options.presence {
        Some(Presence::Required) => return true,
        Some(Presence::Optional) => return false,
        None if f.options.default.is_some() => return false,
        None => {}
    }
    if f.may_be_absent(t.serde.default) {
        return false;
    }
    if t.resource.is_some() {
        // The generated codec reads absent defaultable fields as their default.
        return !pkg.has_default(&f.ty);
    }
    !transparent_option(pkg, &f.ty)
}

/// A struct of the package that is `#[serde(transparent)]` over an `Option` read by serde's own
/// deserializer: serde reads an absent field of it as `None`, as it would the `Option`.
fn transparent_option(pkg: &Package, ty: &FieldType) -> bool {
    let FieldType::Local(name) = ty else {
        return false;
    };
    let Some(t) = pkg.type_named(name).filter(|t| t.serde.transparent) else {
        return false;
    };
    match &t.body {
        TypeBody::Tuple(types) => matches!(types[..], [FieldType::Option(_)]),
        _ => {
            let read: Vec<&Field> = t.fields().iter().filter(|f| !f.serde.skip).collect();
            matches!(read[..], [only] if only.may_be_absent(false))
        }
    }
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

fn field_type_schema(cx: Cx, ty: &FieldType) -> Value {
    let pkg = cx.pkg;
    match ty {
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Int(n) => {
            let format = if n.is_wide() { "int64" } else { "int32" };
            let mut schema = json!({"type": "integer", "format": format});
            // What the format does not say (a `u16` is no `int32`): clients and `kubectl
            // explain` see the range the server's decoding enforces.
            let (minimum, maximum) = n.schema_bounds();
            if let Some(min) = minimum {
                schema["minimum"] = json!(min);
            }
            if let Some(max) = maximum {
                schema["maximum"] = json!(max);
            }
            schema
        }
        FieldType::Float(n) => {
            json!({"type": "number", "format": if *n == FloatType::F32 { "float" } else { "double" }})
        }
        FieldType::String => json!({"type": "string"}),
        // `Option<Option<T>>`: absent, or `null` written and read as a value.
        FieldType::Option(t) if matches!(**t, FieldType::Option(_)) => {
            nullable(field_type_schema(cx, t))
        }
        FieldType::Option(t) | FieldType::Box(t) | FieldType::Shared { inner: t, .. } => {
            field_type_schema(cx, t)
        }
        // Items and values that are `Option`s are written as `null` when `None`.
        FieldType::Vec(t) if matches!(**t, FieldType::Option(_)) => {
            json!({"type": "array", "items": nullable(field_type_schema(cx, t))})
        }
        FieldType::Map { value, .. } if matches!(**value, FieldType::Option(_)) => {
            json!({"type": "object", "additionalProperties": nullable(field_type_schema(cx, value))})
        }
        FieldType::Vec(t) => json!({"type": "array", "items": field_type_schema(cx, t)}),
        // A set of scalars is a `set` list; server-side apply keeps no set of anything else
        // (structured-merge-diff refuses one, as kube-apiserver refuses such a CRD), so a set
        // of objects or lists is an atomic list: replaced whole.
        FieldType::Set { elem, .. } => {
            let items = field_type_schema(cx, elem);
            let list_type = if is_scalar_schema(&items) {
                "set"
            } else {
                "atomic"
            };
            json!({"type": "array", "items": items, "x-kubernetes-list-type": list_type})
        }
        FieldType::Map { value, .. } => {
            json!({"type": "object", "additionalProperties": field_type_schema(cx, value)})
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
        // Only types with a definition of their own are referenced: one left out of OpenAPI
        // (`+k8s:openapi-gen=false`) or generic has none, so its value may be anything.
        // A string enum inline (as Go writes one), anything else with a definition by `$ref`.
        FieldType::Local(name) => match pkg.type_named(name) {
            Some(t) if has_definition(t) => {
                string_enum(t).unwrap_or_else(|| reference(&definition_name(pkg, name)))
            }
            _ => json!({"x-kubernetes-preserve-unknown-fields": true}),
        },
        FieldType::Foreign { path, args } => match k8s_openapi_definition(path) {
            Some(name) if args.is_empty() => reference(&name),
            _ => match cx.sibling(path).filter(|_| args.is_empty()) {
                Some((_, t)) if string_enum(t).is_some() => string_enum(t).unwrap_or_default(),
                Some((sibling, t)) => {
                    cx.refers_to_siblings.set(true);
                    reference(&definition_name(sibling, &t.name))
                }
                None => foreign_schema(path),
            },
        },
    }
}

/// Whether a schema's values are strings, numbers or booleans (never `null`, an object or an
/// array): what a `set` list may hold.
fn is_scalar_schema(s: &Value) -> bool {
    if s.get("nullable") == Some(&Value::Bool(true)) {
        return false;
    }
    s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        || matches!(
            s.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "number" | "boolean")
        )
}

/// The schema of an enum serde writes as a string (unit variants, neither tagged nor untagged):
/// `type: string` with its values (none listed when a `#[serde(other)]` variant takes any
/// other string). Fields of such a type get it inline, as Go's openapi-gen writes an enum.
fn string_enum(t: &TypeDef) -> Option<Value> {
    let TypeBody::Enum(variants) = &t.body else {
        return None;
    };
    let all_unit = variants
        .iter()
        .all(|v| matches!(v.shape, VariantShape::Unit));
    if !all_unit || t.serde.tag.is_some() || t.serde.untagged {
        return None;
    }
    if variants.iter().any(|v| v.serde.other) {
        return Some(json!({"type": "string"}));
    }
    // serde reads a variant by its aliases too: a value it accepts is one the schema allows.
    let values: Vec<Value> = variants
        .iter()
        .filter(|v| !v.serde.skip)
        .flat_map(|v| std::iter::once(&v.wire).chain(&v.serde.aliases))
        .map(|wire| Value::String(wire.clone()))
        .collect();
    Some(json!({"type": "string", "enum": values}))
}

/// `docs` followed by the enum's values and their docs (Go's "Possible enum values"), when its
/// variants have docs; else `docs` alone.
fn with_enum_values(docs: &[String], t: &TypeDef) -> Option<Value> {
    let TypeBody::Enum(variants) = &t.body else {
        return description(docs);
    };
    let lines: Vec<String> = variants
        .iter()
        .filter(|v| !v.docs.is_empty() && !v.serde.skip)
        .map(|v| format!(" - `\"{}\"` {}", v.wire, v.docs.join(" ")))
        .collect();
    if lines.is_empty() {
        return description(docs);
    }
    let mut d = docs.to_vec();
    if !d.is_empty() {
        d.push(String::new());
    }
    d.push("Possible enum values:".into());
    d.extend(lines);
    description(&d)
}

/// The string enum a field holds (through `Option`), when it is one: its values go inline.
fn held_string_enum<'t>(cx: &Cx<'t>, ty: &FieldType) -> Option<&'t TypeDef> {
    let ty = match ty {
        FieldType::Option(inner) => inner,
        other => other,
    };
    let t = match ty {
        FieldType::Local(name) => cx.pkg.type_named(name)?,
        FieldType::Foreign { path, args } if args.is_empty() => cx.sibling(path)?.1,
        _ => return None,
    };
    (has_definition(t) && string_enum(t).is_some()).then_some(t)
}

/// A type from another crate: the standard library's and a few well-known crates' types that
/// serialise as scalars get their scalar schema; anything else may be any JSON value (an object,
/// or a scalar a `Serialize` impl writes), so it gets no `type` — a wrong one would make clients
/// refuse valid objects.
fn foreign_schema(path: &RustPath) -> Value {
    let last = path.last();
    let first = path.first();
    let std = matches!(first, "std" | "core" | "alloc") || path.is_single();
    match last {
        "NonZeroU8" | "NonZeroU16" | "NonZeroI8" | "NonZeroI16" | "NonZeroI32" if std => {
            json!({"type": "integer", "format": "int32"})
        }
        "NonZeroU32" | "NonZeroU64" | "NonZeroUsize" | "NonZeroI64" | "NonZeroIsize" if std => {
            json!({"type": "integer", "format": "int64"})
        }
        "IpAddr" | "Ipv4Addr" | "Ipv6Addr" | "SocketAddr" | "SocketAddrV4" | "SocketAddrV6"
        | "PathBuf"
            if std =>
        {
            json!({"type": "string"})
        }
        "Url" if first == "url" || path.is_single() => json!({"type": "string"}),
        "Uuid" if first == "uuid" || path.is_single() => {
            json!({"type": "string", "format": "uuid"})
        }
        "DateTime" if first == "chrono" || path.is_single() => {
            json!({"type": "string", "format": "date-time"})
        }
        // `serde_json::Map<String, Value>`: always an object, of anything.
        "Map" if first == "serde_json" => {
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
        }
        _ => json!({"x-kubernetes-preserve-unknown-fields": true}),
    }
}

/// `k8s_openapi::api::core::v1::PodSpec` (or a re-export of it) → `io.k8s.api.core.v1.PodSpec`.
/// k8s-openapi's `apiextensions_apiserver` and `kube_aggregator` modules are Kubernetes'
/// `apiextensions-apiserver` and `kube-aggregator`.
fn k8s_openapi_definition(path: &RustPath) -> Option<String> {
    path.k8s_openapi_tail().map(|tail| {
        let mut segments = tail.iter();
        let first = segments.next().map(|s| s.replace('_', "-"));
        let rest: Vec<&str> = segments.map(|s| s.as_str()).collect();
        match first {
            Some(first) if rest.is_empty() => format!("io.k8s.{first}"),
            Some(first) => format!("io.k8s.{first}.{}", rest.join(".")),
            None => "io.k8s".to_string(),
        }
    })
}
