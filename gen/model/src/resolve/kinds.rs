//! Finding a package's kinds (root types): the checks a kind must pass, the wire names its
//! generated codec writes, and its `Resource`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Span};
use crate::model::*;
use crate::naming;
use crate::tags::{Tag, TagKey, TagValue};

use super::types::RawType;

/// The package's types another type of it embeds: a type with `metadata: ObjectMeta` is a root
/// unless another type embeds it (a template).
pub(super) fn embedded_types(pkg: &Package) -> BTreeSet<String> {
    let mut embedded: BTreeSet<String> = BTreeSet::new();
    for t in &pkg.types {
        for ty in t.field_types() {
            ty.walk(&mut |ft| {
                if let FieldType::Local(n) = ft {
                    embedded.insert(n.clone());
                }
            });
        }
    }
    embedded
}

/// Finds the package's kinds, checks them and fills their `Resource`.
pub(super) fn find_kinds(
    pkg: &mut Package,
    raw: &[RawType],
    embedded: &BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut roots_seen: BTreeMap<String, (String, Span)> = BTreeMap::new();
    let mut kinds_seen: BTreeSet<String> = BTreeSet::new();
    for (t, r) in pkg.types.iter_mut().zip(raw) {
        let is_root = is_root(t, &r.tags, embedded, diags);
        // A second declaration of a kind is reported as E0305 already; don't model it twice.
        if !is_root || !kinds_seen.insert(t.name.clone()) {
            continue;
        }
        root_type_checks(t, diags);
        // A kind's own fields go on the wire in camelCase: its serde is generated.
        if let TypeBody::Struct(fields) = &mut t.body {
            for f in fields {
                f.wire = naming::camel_case(&f.name);
            }
        }
        kind_wire_names(t, diags);
        t.resource = Some(resource(t, &r.tags, &mut roots_seen, diags));
    }
}

/// Whether `t` is a root type: it has `metadata: ObjectMeta`, and `+genclient` or no other type
/// embeds it. E0301 for a `+genclient` type without metadata.
fn is_root(
    t: &TypeDef,
    tags: &[Tag],
    embedded: &BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let metadata = t.fields().iter().find(|f| f.name == "metadata");
    let has_meta = metadata.is_some_and(|f| f.ty == FieldType::Known(KnownType::ObjectMeta));
    let genclient = tags.iter().find(|t| t.key == TagKey::Genclient).cloned();
    if let Some(tag) = &genclient
        && !has_meta
    {
        let why = match metadata {
            Some(_) => "its `metadata` field is not an `ObjectMeta`",
            None => "it has no `metadata` field",
        };
        diags.push(
            Diagnostic::error(
                "E0301",
                format!("`+genclient` on `{}`, which is not a Kubernetes kind", t.name),
            )
            .at(tag.span, "a client needs an object with metadata")
            .note(format!("`{}` is not a root type: {why}", t.name))
            .help(format!(
                "add `pub metadata: ObjectMeta` to `{}`, or move `+genclient` to the kind that contains it",
                t.name
            )),
        );
        return false;
    }
    has_meta && (genclient.is_some() || !embedded.contains(&t.name))
}

/// What a root type must be: without derived serde (E0302), serde attributes (E0315, W0317) or
/// generics (E0304), and `pub` (E0303).
fn root_type_checks(t: &TypeDef, diags: &mut Vec<Diagnostic>) {
    let serde: Vec<&str> = ["Serialize", "Deserialize"]
        .into_iter()
        .filter(|s| t.derives.contains(*s))
        .collect();
    if !serde.is_empty() {
        let list = serde
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        diags.push(
            Diagnostic::error("E0302", format!("root type `{}` derives {list}", t.name))
                .at(t.span, "a root's serde is generated")
                .note(
                    "kube-codegen generates the serde of a kind: it writes `apiVersion` and \
                     `kind` and checks them when reading, like k8s-openapi's types",
                )
                .help(format!(
                    "remove {list} from the `#[derive]` of `{}`",
                    t.name
                )),
        );
    }
    kind_serde_attributes(t, diags);
    if !t.is_pub {
        diags.push(
            Diagnostic::error("E0303", format!("root type `{}` is not `pub`", t.name))
                .at(t.span, "private kind")
                .help("make the kind `pub` so generated code and clients can name it"),
        );
    }
    if t.has_generics {
        diags.push(
            Diagnostic::error("E0304", format!("root type `{}` is generic", t.name))
                .at(t.span, "kinds cannot have type parameters")
                .help("a kind is one concrete type per group/version"),
        );
    }
}

/// E0308: the generated codec writes `apiVersion`/`kind` and each field under its camelCase
/// name: a field may not take one of those names twice.
fn kind_wire_names(t: &TypeDef, diags: &mut Vec<Diagnostic>) {
    let mut wire_names: BTreeMap<String, &Field> = BTreeMap::new();
    for f in t.fields() {
        let wire = f.wire_name();
        let type_meta = match &f.ty {
            FieldType::Foreign { path, .. } => path.last() == "TypeMeta",
            FieldType::Local(name) => name == "TypeMeta",
            _ => false,
        };
        if type_meta {
            diags.push(
                Diagnostic::error(
                    "E0308",
                    format!("root type `{}` has a `TypeMeta` field `{}`", t.name, f.name),
                )
                .at(f.span, format!("would be a field `{wire}` on the wire"))
                .note("Go kinds embed `metav1.TypeMeta`; here the generated serde of a kind writes `apiVersion` and `kind` itself, from its group, version and name, and checks them on read")
                .help("remove the field; `<Kind as k8s_openapi::Resource>::API_VERSION`/`KIND` give the values"),
            );
        } else if wire == "apiVersion" || wire == "kind" {
            diags.push(
                Diagnostic::error(
                    "E0308",
                    format!("root type `{}` has a field `{}`", t.name, f.name),
                )
                .at(f.span, format!("`{wire}` is written by the generated codec"))
                .note("the generated serde of a kind writes `apiVersion` and `kind` from its group, version and name")
                .help("remove the field; `<Kind as k8s_openapi::Resource>::API_VERSION`/`KIND` give the values"),
            );
        } else if let Some(other) = wire_names.get(&wire) {
            diags.push(
                Diagnostic::error(
                    "E0308",
                    format!(
                        "fields `{}` and `{}` of `{}` are both `{wire}` on the wire",
                        other.name, f.name, t.name
                    ),
                )
                .at(f.span, "same JSON name as another field")
                .also(other.span, format!("also `{wire}`"))
                .help("rename one of the fields"),
            );
        } else {
            wire_names.insert(wire, f);
        }
    }
}

/// The `Resource` of kind `t`: its plural (`+resourceName` or inferred; E0306 when another kind
/// of the package has it) and scope (`+nonNamespaced`).
fn resource(
    t: &TypeDef,
    tags: &[Tag],
    roots_seen: &mut BTreeMap<String, (String, Span)>,
    diags: &mut Vec<Diagnostic>,
) -> Resource {
    let kind = t.name.clone();
    let resource_name = tags.iter().find_map(|tag| match (&tag.key, &tag.value) {
        (TagKey::ResourceName, TagValue::Text(v)) => Some((v.clone(), tag.span)),
        _ => None,
    });
    let (plural, plural_origin) = match resource_name {
        Some((v, span)) => (v, Origin::Tag(span)),
        None => (
            naming::plural(&kind),
            Origin::Inferred(format!("kind `{kind}`")),
        ),
    };
    // A resource name is a lower-case DNS label (a URL path segment, and the name of clients'
    // methods): `+resourceName` is checked as one, and so is the name inferred from the kind.
    if matches!(plural_origin, Origin::Inferred(_)) && !naming::is_dns_label(&plural) {
        diags.push(
            Diagnostic::error(
                "E0317",
                format!("the resource name inferred from kind `{kind}`, `{plural}`, is not a lower-case DNS label"),
            )
            .at(t.span, "a kind named with letters other than ASCII ones, or with `_`")
            .help("name its resource: `/// +resourceName=<plural>` (lower-case ASCII letters, digits and `-`)"),
        );
    }
    if let Some((other, other_span)) = roots_seen.get(&plural) {
        diags.push(
            Diagnostic::error(
                "E0306",
                format!("kinds `{other}` and `{kind}` share the resource name `{plural}`"),
            )
            .at(t.span, "same plural as another kind")
            .also(*other_span, format!("`{other}` is served as `{plural}`"))
            .help("give one of them `/// +resourceName=<plural>`"),
        );
    } else {
        roots_seen.insert(plural.clone(), (kind.clone(), t.span));
    }
    let (namespaced, scope_origin) = match tags.iter().find(|t| t.key == TagKey::NonNamespaced) {
        Some(tag) => (false, Origin::Tag(tag.span)),
        None => (true, Origin::Inferred("default".into())),
    };
    let has_status = t.fields().iter().any(|f| f.name == "status");
    Resource {
        singular: kind.to_ascii_lowercase(),
        kind,
        plural,
        plural_origin,
        namespaced,
        scope_origin,
        short_names: Vec::new(),
        categories: Vec::new(),
        printer_columns: Vec::new(),
        client: None,
        has_status,
        scale: None,
    }
}

/// A type that may become a kind (it has `metadata: ObjectMeta`): its wire names are checked
/// with the names its generated codec writes.
pub(super) fn embedded_root_candidate(t: &TypeDef) -> bool {
    t.fields()
        .iter()
        .any(|f| f.name == "metadata" && f.ty == FieldType::Known(KnownType::ObjectMeta))
}

/// E0315: `#[serde(...)]` on a kind or its fields that would change its wire form. A kind's serde
/// is generated (E0302), and the generated codec writes `metadata`, `spec`, ... by their
/// camelCase names; it would silently not do what the attribute says (`skip` a field it then
/// sends, say). Attributes that change nothing the codec does are fine.
fn kind_serde_attributes(t: &TypeDef, diags: &mut Vec<Diagnostic>) {
    // rustc knows `#[serde]` only where a derive declares it: a kind derives no serde (E0302),
    // so without another derive that declares it (schemars' `JsonSchema` does) even a harmless
    // attribute is rustc's `cannot find attribute serde`. Said here, with what to do.
    let declares_serde = t
        .derives
        .iter()
        .any(|d| matches!(d.as_str(), "JsonSchema" | "Serialize" | "Deserialize"));
    let with_serde: Vec<Span> = std::iter::once((&t.serde.keys, t.span))
        .chain(t.fields().iter().map(|f| (&f.serde.keys, f.span)))
        .filter(|(keys, _)| !keys.is_empty())
        .map(|(_, span)| span)
        .collect();
    if !declares_serde && let Some(first) = with_serde.first() {
        let mut d = Diagnostic::warning(
            "W0317",
            format!(
                "`#[serde]` on kind `{}` is an unknown attribute to rustc",
                t.name
            ),
        )
        .at(*first, "no derive of this kind declares `serde`")
        .note("a kind derives no `Serialize`/`Deserialize` (its codec is generated), so rustc reports `cannot find attribute serde`");
        for span in &with_serde[1..] {
            d = d.also(*span, "here too");
        }
        diags.push(d.help(
            "remove the `#[serde]` attributes from the kind and its fields: the generated codec omits `None` and defaults absent fields already",
        ));
    }
    // What the codec already does (defaults for absent fields, omitting `None`), or what only
    // shapes serde's own impl (bounds, the crate path, error messages).
    const HARMLESS: &[&str] = &[
        "default",
        "skip_serializing_if",
        "bound",
        "crate",
        "expecting",
        "deny_unknown_fields",
    ];
    // `same_name(key)`: the attribute names what the codec writes anyway (`rename_all =
    // "camelCase"`, which kube-rs code puts on every type; a `rename` to the camelCase name).
    let wire_changing = |keys: &[String], same_name: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut found: Vec<String> = keys
            .iter()
            .filter(|k| !HARMLESS.contains(&k.as_str()) && !same_name(k))
            .map(|k| format!("`{k}`"))
            .collect();
        // Each once, in the order written (a key may recur across attributes).
        let mut seen = BTreeSet::new();
        found.retain(|k| seen.insert(k.clone()));
        found
    };
    let note = "a kind's serde is generated: its codec writes `apiVersion`, `kind` and each field by \
                its camelCase name, and does not read `#[serde]` attributes";
    let container = wire_changing(&t.serde.keys, &|k| {
        k == "rename_all" && t.serde.rename_all.as_deref() == Some("camelCase")
    });
    if !container.is_empty() {
        diags.push(
            Diagnostic::error(
                "E0315",
                format!(
                    "{} in `#[serde]` on kind `{}` would be ignored",
                    container.join(", "),
                    t.name
                ),
            )
            .at(t.span, "the generated codec does not apply it")
            .note(note)
            .help("remove the attribute: a kind's fields are named as Kubernetes names them (`metadata`, `spec`, `status`); put wire customisation on the spec and status types, whose serde is yours"),
        );
    }
    for f in t.fields() {
        let keys = wire_changing(&f.serde.keys, &|k| {
            k == "rename" && f.serde.rename.as_deref() == Some(naming::camel_case(&f.name).as_str())
        });
        if keys.is_empty() {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "E0315",
                format!(
                    "{} in `#[serde]` on field `{}` of kind `{}` would be ignored",
                    keys.join(", "),
                    f.name,
                    t.name
                ),
            )
            .at(f.span, "the generated codec does not apply it")
            .note(note)
            .help("remove the attribute, or move the field into the spec or status type, whose serde is yours"),
        );
    }
}
