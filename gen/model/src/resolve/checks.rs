//! Checks of a package's types that are not about kinds: names declared twice, fields sharing a
//! JSON name, map keys that are not strings, optional fields serde writes when empty.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Span};
use crate::model::*;

use super::kinds::embedded_root_candidate;
use super::names::{Names, WrittenTypes};
use super::paths::resolve_ty;

/// E0305: duplicate type names (two files or modules of one package): their OpenAPI definitions
/// and generated names would collide. A type no generator reads (tagged
/// `+k8s:deepcopy-gen=false` and `+k8s:openapi-gen=false`: an `Error` enum per module, say) has
/// neither.
pub(super) fn duplicate_type_names(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, (Span, &[String])> = BTreeMap::new();
    for t in pkg
        .types
        .iter()
        .filter(|t| t.options.deepcopy || t.options.openapi)
    {
        if let Some((first, first_module)) = seen.get(&t.name) {
            let is_kind = t.fields().iter().any(|f| f.name == "metadata");
            let kind_note = if is_kind {
                "two root types with the same kind in one group/version"
            } else {
                "two types with the same name in one package"
            };
            let mut d = Diagnostic::error(
                "E0305",
                format!("`{}` is declared twice in {}", t.name, pkg.display_name()),
            )
            .at(t.span, "second declaration")
            .also(*first, "first declared here")
            .note(kind_note);
            if *first_module != t.module.as_slice() {
                d = d.note(
                    "modules of a package are one namespace, as a Go package is: a type's \
                     OpenAPI definition and generated names do not include its module",
                );
            }
            diags.push(d.help(if is_kind {
                "a kind must be unique within its group/version: rename or remove one"
            } else {
                "rename one; or, if no API type holds them (error types, helpers), tag both \
                 `+k8s:deepcopy-gen=false` and `+k8s:openapi-gen=false`: no generator reads them then"
            }));
        } else {
            seen.insert(t.name.clone(), (t.span, &t.module));
        }
    }
}

/// E0201: map keys written as paths: fine when they name a `String` alias.
pub(super) fn map_keys_not_strings(
    names: &Names,
    written: &WrittenTypes,
    local: &BTreeMap<String, Vec<String>>,
    diags: &mut Vec<Diagnostic>,
) {
    for (file, lf) in &names.files {
        for map_key in &lf.map_keys {
            let scope = &lf.scopes[map_key.scope];
            let mut module = names.module_of[file].clone();
            module.extend(scope.inline.iter().cloned());
            let mut key = map_key.key.clone();
            written.resolve(&mut key, *file, map_key.scope, &module);
            if key != FieldType::String {
                let named = match &map_key.key {
                    FieldType::Foreign { path, .. } => path.to_string(),
                    other => format!("{other:?}"),
                };
                resolve_ty(&mut key, local, &module);
                let note = match &key {
                    FieldType::Local(name) => format!(
                        "`{name}` is a type of this package, not `String`: Kubernetes map keys are strings in the schema and in every client"
                    ),
                    _ => format!(
                        "`{named}` is not an alias of `String` that kube-codegen can see in this package"
                    ),
                };
                diags.push(
                    Diagnostic::error(
                        "E0201",
                        format!("unsupported field type: {}", crate::parse::MAP_KEY_PROBLEM),
                    )
                    .at(map_key.span, "cannot be represented in a Kubernetes API")
                    .note(note)
                    .note(crate::parse::NOT_AN_API_TYPE)
                    .help(crate::parse::MAP_KEY_HELP),
                );
            }
        }
    }
}

/// E0308: two fields of a type under one JSON name (`rename`, `rename_all` or `r#type` next to
/// `type`): serde writes both and reads one, and schemas and protobuf numbers would be made
/// for a name twice. (A kind's fields are checked with the names its codec writes.)
pub(super) fn duplicate_wire_names(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    for t in pkg.types.iter().filter(|t| !embedded_root_candidate(t)) {
        let mut wire_names: BTreeMap<&str, &Field> = BTreeMap::new();
        for f in t
            .fields()
            .iter()
            .filter(|f| !f.serde.skip && !f.serde.flatten)
        {
            match wire_names.get(f.wire.as_str()) {
                Some(other) => diags.push(
                    Diagnostic::error(
                        "E0308",
                        format!(
                            "fields `{}` and `{}` of `{}` are both `{}` on the wire",
                            other.name, f.name, t.name, f.wire
                        ),
                    )
                    .at(f.span, "same JSON name as another field")
                    .also(other.span, format!("also `{}`", f.wire))
                    .help("rename one of the fields (`#[serde(rename = \"…\")]`)"),
                ),
                None => {
                    wire_names.insert(&f.wire, f);
                }
            }
        }
    }
}

/// W0318: an `+optional` field of a serde-derived type that serde writes even when it holds
/// its zero value (no `skip_serializing_if`: Go's `omitempty` missing) — a string, list, map or
/// set written empty, a `bool` written `false`, a number written `0`. The zero value then goes
/// on the wire (`"title": ""`, `"paused": false`), and server-side apply's field manager records
/// whoever writes the object (a `create`, an `update`) as owning the field, so a later apply of
/// it by another manager conflicts although nobody set it.
pub(super) fn optional_fields_written_when_empty(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    // A hub's types never go on the wire.
    if pkg.is_internal() {
        return;
    }
    for t in pkg.types.iter().filter(|t| t.derives.contains("Serialize")) {
        for f in t.fields() {
            let Some(zero) = ZeroValue::of(&f.ty) else {
                continue;
            };
            if f.options.presence != Some(Presence::Optional)
                || f.serde.skip
                || f.serde.flatten
                || f.serde.skip_serializing_if.is_some()
            {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "W0318",
                    format!(
                        "optional field `{}.{}` is written even when {}",
                        t.name,
                        f.name,
                        zero.unset()
                    ),
                )
                .at(f.span, format!("serialized as {} when unset", zero.value()))
                .note("server-side apply counts a field a write sends as set: whoever creates or updates the object owns it, and another manager's apply of it conflicts")
                .help(zero.help()),
            );
        }
    }
}

/// W0319: an `+optional` field of a serde-derived type that serde requires (not an `Option`, no
/// `#[serde(default)]` on it or its type). The schema publishes it as optional, so clients
/// leave it out — a typed client whose `skip_serializing_if` drops an empty value, an apply that
/// does not set it — and the server's decoding then refuses the object (`Required value`).
pub(super) fn optional_fields_serde_requires(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    for t in pkg
        .types
        .iter()
        .filter(|t| t.derives.contains("Deserialize") && !t.serde.default)
    {
        for f in t.fields() {
            // `+default` makes a field optional in the schema as `+optional` does.
            let defaulted = f.options.default.is_some()
                && f.options.presence != Some(Presence::Optional)
                && f.options.presence != Some(Presence::Required);
            if (f.options.presence != Some(Presence::Optional) && !defaulted)
                || f.may_be_absent(false)
                || f.serde.skip
                || f.serde.flatten
                || f.serde.keys.iter().any(|k| k == "skip_deserializing")
            {
                continue;
            }
            // W0318 says it already: its fix adds `default` beside `skip_serializing_if`.
            let written_when_empty = !pkg.is_internal()
                && t.derives.contains("Serialize")
                && f.serde.skip_serializing_if.is_none()
                && ZeroValue::of(&f.ty).is_some();
            if written_when_empty && !defaulted {
                continue;
            }
            if defaulted {
                diags.push(
                    Diagnostic::warning(
                        "W0319",
                        format!(
                            "field `{}.{}` has a `+default` but is required when serde reads it",
                            t.name, f.name
                        ),
                    )
                    .at(f.span, "`+default`, but serde fails when it is absent")
                    .note("the schema publishes the default and lets clients leave the field out, but an object without it is refused with `Required value` before any default applies")
                    .help("add `#[serde(default)]` to the field (its type needs `Default`), or make it an `Option`"),
                );
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "W0319",
                    format!(
                        "optional field `{}.{}` is required when serde reads it",
                        t.name, f.name
                    ),
                )
                .at(f.span, "`+optional`, but serde fails when it is absent")
                .note("the schema says clients may leave it out, and an object without it is then refused with `Required value`")
                .help(if matches!(f.ty, FieldType::Option(_)) {
                    "add `default` beside its `with`/`deserialize_with` (`#[serde(default, with = …)]`): with a deserializer of its own, serde fails on an absent key even for an `Option`; if clients must give it, write `+required`"
                } else {
                    "add `#[serde(default)]` to the field (its type needs `Default`), or make it an `Option`; if clients must give it, write `+required`"
                }),
            );
        }
    }
}

/// Derives of other crates that write a type's serde (`serde_repr`'s integers, `serde_with`'s
/// `Display`/`FromStr` strings).
const SERDE_DERIVES_ELSEWHERE: &[&str] = &[
    "Serialize_repr",
    "Deserialize_repr",
    "SerializeDisplay",
    "DeserializeFromStr",
];

/// W0208: a type of the OpenAPI schemas whose serde is not serde's derive (`impl Serialize for
/// T` by hand, `serde_repr`, `serde_with`'s string derives): the schema read from its Rust shape
/// may not be what it writes (a `u16` newtype written as a string, an enum written as numbers).
pub(super) fn hand_written_serde(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    if !pkg.options.openapi {
        return;
    }
    for t in pkg
        .types
        .iter()
        .filter(|t| t.options.openapi && !t.has_generics)
    {
        // A schema of its own for kube-rs's derive (schemars' trait by hand: a `oneOf`, say),
        // which the published schema, read from the Rust type, is not; a kind's too (kube-rs's
        // `crd_derive_custom_schema` writes a kind's whole schema by hand).
        if let Some(found) = t.trait_impls.iter().find(|i| i.path.last() == "JsonSchema") {
            diags.push(
                Diagnostic::warning(
                    "W0207",
                    format!("`impl JsonSchema for {}` is not read: the OpenAPI schema is the Rust type's", t.name),
                )
                .at(found.span, "a schema kube-codegen does not see")
                .note("kube-rs publishes the schema this impl writes in its CRD; here the schema is read from the type's Rust shape and serde attributes")
                .help(if t.resource.is_some() {
                    "give the kind's `spec` and `status` types the Rust shape of their wire form (an untagged enum for a `oneOf`): a kind's schema is made from them"
                } else {
                    "give the type the Rust shape of its wire form (an untagged enum for a `oneOf`), or leave it out of OpenAPI with `+k8s:openapi-gen=false` (any value)"
                }),
            );
        }
        // A kind's serde is generated (register-gen).
        if t.resource.is_some() {
            continue;
        }
        let mut how: Vec<String> = ["Serialize", "Deserialize"]
            .into_iter()
            .filter(|tr| t.impls.contains(*tr) && !t.derives.contains(*tr))
            .map(|tr| format!("`impl {tr}`"))
            .collect();
        how.extend(
            t.derives
                .iter()
                .filter(|d| SERDE_DERIVES_ELSEWHERE.contains(&d.as_str()))
                .map(|d| format!("`#[derive({d})]`")),
        );
        if how.is_empty() {
            continue;
        }
        diags.push(
            Diagnostic::warning(
                "W0208",
                format!("`{}` is not (de)serialised by serde's derive", t.name),
            )
            .at(t.span, format!("its wire form is written by {}", how.join(" and ")))
            .note("its OpenAPI schema is read from its Rust shape, which may not be what that code writes (a number newtype written as a string, an enum written as integers)")
            .help(match &t.body {
                // A struct with named fields written by hand usually writes an object: a wire
                // type of its shape says it.
                TypeBody::Struct(fields) if !fields.is_empty() => "derive serde on the struct, its fields named as the wire names them (`rename`, `rename_all`, `flatten`, `default`), so that its schema is what it writes — or leave it out of OpenAPI with `+k8s:openapi-gen=false` (any value)",
                _ => "derive serde and name its wire type — `#[serde(into = \"String\", try_from = \"String\")]` with `From<T> for String` and `TryFrom<String> for T` publishes a string — or leave it out of OpenAPI with `+k8s:openapi-gen=false` (any value)",
            }),
        );
    }
}

/// The zero value an optional field is written with when nothing skips it.
enum ZeroValue {
    /// A string, list, map or set: skipped by its type's `is_empty`.
    Empty(&'static str),
    /// `false`: skipped by `std::ops::Not::not`.
    False,
    /// `0` of this number type: no function of the standard library says so; an `Option` is
    /// Go's `*int32`.
    Zero(&'static str),
}

impl ZeroValue {
    fn of(ty: &FieldType) -> Option<ZeroValue> {
        Some(match ty {
            FieldType::String => ZeroValue::Empty("String::is_empty"),
            FieldType::Vec(_) => ZeroValue::Empty("Vec::is_empty"),
            FieldType::Map { kind, .. } => ZeroValue::Empty(match kind {
                MapKind::BTree => "std::collections::BTreeMap::is_empty",
                MapKind::Hash => "std::collections::HashMap::is_empty",
                MapKind::Index => "indexmap::IndexMap::is_empty",
            }),
            FieldType::Set { ordered: true, .. } => {
                ZeroValue::Empty("std::collections::BTreeSet::is_empty")
            }
            FieldType::Set { ordered: false, .. } => {
                ZeroValue::Empty("std::collections::HashSet::is_empty")
            }
            FieldType::Bool => ZeroValue::False,
            FieldType::Int(t) => ZeroValue::Zero(t.name()),
            FieldType::Float(t) => ZeroValue::Zero(t.name()),
            _ => return None,
        })
    }

    fn unset(&self) -> &'static str {
        match self {
            ZeroValue::Empty(_) => "empty",
            ZeroValue::False => "false",
            ZeroValue::Zero(_) => "zero",
        }
    }

    fn value(&self) -> &'static str {
        match self {
            ZeroValue::Empty(_) => "an empty value",
            ZeroValue::False => "`false`",
            ZeroValue::Zero(_) => "`0`",
        }
    }

    fn help(&self) -> String {
        match self {
            ZeroValue::Empty(predicate) => format!(
                "add `#[serde(default, skip_serializing_if = \"{predicate}\")]` (Go's `omitempty`), or make it an `Option`"
            ),
            ZeroValue::False => "add `#[serde(default, skip_serializing_if = \"std::ops::Not::not\")]` (Go's `omitempty`), or make it an `Option<bool>` (Go's `*bool`)".to_string(),
            ZeroValue::Zero(ty) => {
                format!(
                    "make it an `Option<{ty}>` (Go's pointer), or skip zero (Go's `omitempty`): `#[serde(default, skip_serializing_if = \"is_zero\")]` with `fn is_zero(v: &{ty}) -> bool {{ *v == 0{} }}`",
                    if matches!(*ty, "f32" | "f64") { ".0" } else { "" }
                )
            }
        }
    }
}

/// E0316: a kind namespaced in one version of its group and cluster-scoped in another. Versions
/// share one storage: a resource has exactly one scope in Kubernetes, and a server serving both
/// would store objects under namespaces one version cannot name.
pub(crate) fn kind_scopes_agree(packages: &[Package], diags: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<(&str, &str), (&Package, &TypeDef, &Resource)> = BTreeMap::new();
    for pkg in packages.iter().filter(|p| !p.is_internal()) {
        for (t, r) in pkg.roots() {
            let Some(&(first_pkg, first_t, first_r)) =
                first.get(&(pkg.group.as_str(), r.kind.as_str()))
            else {
                first.insert((pkg.group.as_str(), r.kind.as_str()), (pkg, t, r));
                continue;
            };
            if first_r.namespaced == r.namespaced {
                continue;
            }
            let scope = |r: &Resource| {
                if r.namespaced {
                    "namespaced"
                } else {
                    "cluster-scoped"
                }
            };
            let (cluster, namespaced) = if r.namespaced {
                ((first_pkg, first_t), (pkg, t))
            } else {
                ((pkg, t), (first_pkg, first_t))
            };
            diags.push(
                Diagnostic::error(
                    "E0316",
                    format!(
                        "kind `{}` is {} in {} but {} in {}",
                        r.kind,
                        scope(r),
                        pkg.display_name(),
                        scope(first_r),
                        first_pkg.display_name()
                    ),
                )
                .at(namespaced.1.span, "namespaced here (no `+genclient:nonNamespaced`)")
                .also(cluster.1.span, "cluster-scoped here")
                .note("the versions of a kind are one resource with one storage: Kubernetes gives it exactly one scope")
                .help(format!(
                    "tag `{}` in {} `+genclient:nonNamespaced` too, or untag it in {}",
                    namespaced.1.name,
                    namespaced.0.display_name(),
                    cluster.0.display_name()
                )),
            );
        }
    }
}

/// A hub kind without a scope tag of its own takes its versions' scope (they agree, or E0316
/// said so): the hub is the same resource, and `--explain` and the hub's registration say what
/// the served versions say.
pub(crate) fn hub_kinds_take_their_versions_scope(packages: &mut [Package]) {
    let mut scopes: BTreeMap<(String, String), bool> = BTreeMap::new();
    for pkg in packages.iter().filter(|p| !p.is_internal()) {
        for (_, r) in pkg.roots() {
            scopes
                .entry((pkg.group.clone(), r.kind.clone()))
                .or_insert(r.namespaced);
        }
    }
    for pkg in packages.iter_mut().filter(|p| p.is_internal()) {
        let group = pkg.group.clone();
        for t in pkg.types.iter_mut() {
            let Some(r) = t.resource.as_mut() else {
                continue;
            };
            if matches!(r.scope_origin, Origin::Tag(_)) {
                continue;
            }
            if let Some(&namespaced) = scopes.get(&(group.clone(), r.kind.clone())) {
                r.namespaced = namespaced;
                r.scope_origin = Origin::Inferred("its versions".into());
            }
        }
    }
}

/// E0201: a `#[serde(flatten)]` field whose type (through `Option`s and `Box`es) flattens, at
/// some depth, the struct holding it (`struct N { #[serde(flatten)] next: Option<Box<N>> }`):
/// its fields would sit beside themselves without end. serde cannot serialize it (rustc's
/// E0275), and every walk through flattened fields (OpenAPI's inlining among them) would never
/// end. Reported once per cycle, at the field of its first type that starts it.
pub(super) fn flatten_cycles(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    // The struct of the package a flattened field puts beside the others' fields.
    let flattened = |f: &Field| -> Option<usize> {
        let FieldType::Local(name) = f.ty.unwrapped() else {
            return None;
        };
        pkg.types
            .iter()
            .position(|t| &t.name == name && matches!(t.body, TypeBody::Struct(_)))
    };
    for (start, t) in pkg.types.iter().enumerate() {
        for f in t.fields().iter().filter(|f| f.serde.flatten) {
            let Some(next) = flattened(f) else { continue };
            let Some(cycle) = flatten_cycle_from(start, f, next, &flattened, pkg) else {
                continue;
            };
            let chain: Vec<String> = cycle
                .iter()
                .map(|(owner, g)| format!("`{}.{}`", pkg.types[*owner].name, g.name))
                .collect();
            let mut d = Diagnostic::error(
                "E0201",
                format!(
                    "unsupported field type: flattened field `{}.{}` leads back to its own type",
                    t.name, f.name
                ),
            )
            .at(f.span, format!("flattens `{}` into itself", t.name));
            for (owner, g) in cycle.iter().skip(1) {
                d = d.also(
                    g.span,
                    format!("flattened into `{}` here", pkg.types[*owner].name),
                );
            }
            diags.push(
                d.note(if chain.len() == 1 {
                    format!("`{}` flattens itself through {} without end", t.name, chain[0])
                } else {
                    format!("{} flatten into one another without end", chain.join(" → "))
                })
                .note("serde cannot serialize such a type (rustc's E0275), and it has no schema")
                .help("drop `#[serde(flatten)]` from one field of the cycle (a nested field may hold its own type: `next: Option<Box<Self>>`)"),
            );
        }
    }
}

/// The flattened fields (with the index of the type holding each) leading from `start`'s
/// field `first`, whose struct is `next`, back to `start`, through types after `start` only:
/// a cycle is found from its first type alone, so one through `FA` and `FB` is said once.
fn flatten_cycle_from<'p>(
    start: usize,
    first: &'p Field,
    next: usize,
    flattened: &dyn Fn(&Field) -> Option<usize>,
    pkg: &'p Package,
) -> Option<Vec<(usize, &'p Field)>> {
    if next == start {
        return Some(vec![(start, first)]);
    }
    if next < start {
        return None;
    }
    // Depth first; `path[k]` is the field that led to `stack[k]`, whose next flattened field
    // to follow is its second member.
    let mut path: Vec<(usize, &Field)> = vec![(start, first)];
    let mut stack = vec![(next, 0usize)];
    let mut visited = vec![next];
    while let Some((here, i)) = stack.pop() {
        path.truncate(stack.len() + 1);
        let Some(g) = pkg.types[here]
            .fields()
            .iter()
            .filter(|g| g.serde.flatten)
            .nth(i)
        else {
            continue;
        };
        stack.push((here, i + 1));
        let Some(to) = flattened(g) else { continue };
        if to == start {
            path.push((here, g));
            return Some(path);
        }
        if to > start && !visited.contains(&to) {
            visited.push(to);
            path.push((here, g));
            stack.push((to, 0));
        }
    }
    None
}

/// E0309: a constant, function or type alias of a version's package module named like an item
/// generated code declares there (`include!`d into that module: rustc's E0428).
pub(super) fn items_named_like_generated_ones(
    pkg: &Package,
    items: &[(String, Span)],
    diags: &mut Vec<Diagnostic>,
) {
    if pkg.is_internal() {
        return;
    }
    let mut generated: Vec<(String, &str)> = Vec::new();
    if pkg.options.register {
        for name in ["GROUP_NAME", "VERSION", "GROUP_VERSION", "add_to_scheme"] {
            generated.push((name.into(), "register-gen"));
        }
        for (t, _) in pkg.roots() {
            generated.push((format!("{}List", t.name), "register-gen"));
        }
    }
    if pkg.options.openapi {
        generated.push(("OPENAPI_SCHEMAS".into(), "openapi-gen"));
    }
    if pkg
        .options
        .defaulter
        .as_ref()
        .is_none_or(|d| d.value != DefaulterMode::Off)
    {
        generated.push(("register_defaults".into(), "defaulter-gen"));
    }
    if pkg
        .options
        .conversion
        .as_ref()
        .is_some_and(|c| c.value != ConversionTag::Off)
    {
        generated.push(("register_conversions".into(), "conversion-gen"));
    }
    for (name, span) in items {
        let Some((_, generator)) = generated.iter().find(|(g, _)| g == name) else {
            continue;
        };
        diags.push(
            Diagnostic::error(
                "E0309",
                format!(
                    "`{name}` collides with an item {generator} generates in this package's module"
                ),
            )
            .at(
                *span,
                format!("also declared by {generator}'s `include!`d file"),
            )
            .note("two items of one name in a module do not compile (rustc's E0428)")
            .help(format!(
                "rename `{name}`, or move it into a module of its own"
            )),
        );
    }
}
