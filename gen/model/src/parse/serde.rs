//! Reading `#[serde(...)]` on types, fields and variants: wire names, tagging, skips, and what
//! kube-codegen cannot follow.

use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;

use crate::diag::Diagnostic;
use crate::model::{
    FieldType, FloatType, IntType, SerdeContainer, SerdeField, TypeBody, VariantShape,
};

use super::lower::Ctx;
use super::spans::attr_span;

/// A string value of a serde attribute: `rename = "x"` or `rename(serialize = "x", ...)`.
fn serde_string(m: &syn::meta::ParseNestedMeta) -> syn::Result<Option<String>> {
    Ok(serde_names(m)?.0)
}

/// The serialize name of `rename`/`rename_all`, and whether the deserialize name differs
/// (`rename(serialize = "a", deserialize = "b")`, or only one of them given).
fn serde_names(m: &syn::meta::ParseNestedMeta) -> syn::Result<(Option<String>, bool)> {
    if m.input.peek(syn::Token![=]) {
        let lit: syn::LitStr = m.value()?.parse()?;
        return Ok((Some(lit.value()), false));
    }
    let (mut ser, mut de) = (None, None);
    m.parse_nested_meta(|inner| {
        let lit: syn::LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("serialize") {
            ser = Some(lit.value());
        } else if inner.path.is_ident("deserialize") {
            de = Some(lit.value());
        }
        Ok(())
    })?;
    let split = ser != de;
    Ok((ser, split))
}

/// W0205: the schema and the generated code use serde's serialize name; a server reading the
/// other name on input would refuse what its own schema publishes.
fn serde_split_names(ctx: &mut Ctx, key: &str, span: PmSpan) {
    let span = ctx.span(span);
    ctx.diags.push(
        Diagnostic::warning(
            "W0205",
            format!("`#[serde({key}(…))]` names the value differently when serialised and deserialised"),
        )
        .at(span, "two wire names")
        .note("OpenAPI schemas, apply configurations and clients use the serialize name; clients send it back, and serde reads only the deserialize name")
        .help(format!("give one name to both (`{key} = \"…\"`): a Kubernetes API reads what it writes")),
    );
}

/// A `#[serde(...)]` we cannot read may change wire names: say so rather than guess silently.
fn serde_unreadable(ctx: &mut Ctx, attr: &syn::Attribute, e: &syn::Error) {
    let span = ctx.span(attr_span(attr));
    ctx.diags.push(
        Diagnostic::warning("W0202", format!("cannot read this `#[serde]` attribute: {e}"))
            .at(span, "not understood")
            .note("kube-codegen reads serde attributes for wire names (rename, rename_all, skip, flatten, default, tagging)")
            .help("check the attribute against serde's documentation; rustc reports the same problem when the crate builds"),
    );
}

/// Skips the rest of a nested meta item we do not interpret (`= value` or `(...)`).
fn skip_meta(m: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if m.input.peek(syn::Token![=]) {
        let _: syn::Expr = m.value()?.parse()?;
    } else if m.input.peek(syn::token::Paren) {
        m.parse_nested_meta(|inner| skip_meta(&inner))?;
    }
    Ok(())
}

pub(super) fn serde_container(ctx: &mut Ctx, attrs: &[syn::Attribute]) -> SerdeContainer {
    let mut out = SerdeContainer::default();
    let mut custom = Vec::new();
    let mut splits = Vec::new();
    let mut conversions: Vec<(String, String, PmSpan)> = Vec::new();
    let attrs = super::attrs::expand_cfg_attr(attrs);
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let read = attr.parse_nested_meta(|m| {
            let name = m
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            out.keys.push(name.clone());
            match name.as_str() {
                "rename_all" => {
                    let (name, split) = serde_names(&m)?;
                    out.rename_all = name;
                    if split {
                        splits.push(("rename_all", m.path.span()));
                    }
                }
                "rename_all_fields" => {
                    let (name, split) = serde_names(&m)?;
                    out.rename_all_fields = name;
                    if split {
                        splits.push(("rename_all_fields", m.path.span()));
                    }
                }
                "tag" => out.tag = serde_string(&m)?,
                "content" => out.content = serde_string(&m)?,
                "untagged" => out.untagged = true,
                "transparent" => out.transparent = true,
                "from" | "try_from" | "into" => {
                    let lit: syn::LitStr = m.value()?.parse()?;
                    conversions.push((name.clone(), lit.value(), m.path.span()));
                }
                "remote" => {
                    custom.push((name.clone(), m.path.span()));
                    skip_meta(&m)?;
                }
                "deny_unknown_fields" => out.deny_unknown_fields = true,
                "default" => {
                    out.default = true;
                    skip_meta(&m)?;
                }
                _ => skip_meta(&m)?,
            }
            Ok(())
        });
        if let Err(e) = read {
            serde_unreadable(ctx, attr, &e);
        }
    }
    // `into = "String"` with `from`/`try_from` of the same scalar (or none): the value is that
    // scalar on the wire, which the schema can say; anything else is code we cannot read.
    let into = conversions.iter().find(|(k, ..)| k == "into");
    let scalar = into.and_then(|(_, ty, _)| scalar_named(ty));
    let agreed = scalar.is_some()
        && conversions
            .iter()
            .all(|(_, ty, _)| scalar_named(ty) == scalar);
    if agreed {
        out.into_scalar = scalar;
    } else {
        custom.extend(conversions.into_iter().map(|(k, _, span)| (k, span)));
    }
    for (key, span) in custom {
        serde_custom_shape(ctx, &key, span, "this type");
    }
    for (key, span) in splits {
        serde_split_names(ctx, key, span);
    }
    out
}

/// The scalar a type name written in a `#[serde(into = "…")]` stands for.
fn scalar_named(text: &str) -> Option<FieldType> {
    let name = text.trim();
    let name = name
        .strip_prefix("std::string::")
        .or_else(|| name.strip_prefix("::std::string::"))
        .unwrap_or(name);
    match name {
        "String" => Some(FieldType::String),
        "bool" => Some(FieldType::Bool),
        "f32" => Some(FieldType::Float(FloatType::F32)),
        "f64" => Some(FieldType::Float(FloatType::F64)),
        _ => IntType::ALL
            .into_iter()
            .find(|i| i.name() == name)
            .map(FieldType::Int),
    }
}

/// `required_by_serde`: a field that is not an `Option` (serde requires it unless defaulted);
/// `false` for a variant.
pub(super) fn serde_field(
    ctx: &mut Ctx,
    attrs: &[syn::Attribute],
    required_by_serde: bool,
) -> SerdeField {
    let mut out = SerdeField::default();
    let (mut skip_ser, mut skip_de) = (false, false);
    let mut custom = Vec::new();
    let mut splits = Vec::new();
    let attrs = super::attrs::expand_cfg_attr(attrs);
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let read = attr.parse_nested_meta(|m| {
            let name = m
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            out.keys.push(name.clone());
            match name.as_str() {
                "with" | "serialize_with" | "deserialize_with" => {
                    custom.push((name.clone(), m.path.span()));
                    skip_meta(&m)?;
                }
                "rename" => {
                    let (name, split) = serde_names(&m)?;
                    out.rename = name;
                    if split {
                        splits.push(("rename", m.path.span()));
                    }
                }
                // On a variant: its fields' renaming.
                "rename_all" => {
                    let (name, split) = serde_names(&m)?;
                    out.rename_all = name;
                    if split {
                        splits.push(("rename_all", m.path.span()));
                    }
                }
                "skip" => out.skip = true,
                "skip_serializing" => skip_ser = true,
                "skip_deserializing" => skip_de = true,
                "flatten" => out.flatten = true,
                "other" => out.other = true,
                "alias" => out.aliases.extend(serde_string(&m)?),
                "skip_serializing_if" => out.skip_serializing_if = serde_string(&m)?,
                "default" => {
                    out.default = true;
                    skip_meta(&m)?;
                }
                _ => skip_meta(&m)?,
            }
            Ok(())
        });
        if let Err(e) = read {
            serde_unreadable(ctx, attr, &e);
        }
    }
    out.skip |= skip_ser && skip_de;
    // Never read: absent on input is its default.
    out.default |= skip_de;
    for (key, span) in custom {
        serde_custom_shape(ctx, &key, span, "this field");
    }
    // An `Option`, or a field serde defaults, may be left out whatever its schema says.
    unread_schema_attributes(ctx, &attrs, required_by_serde && !out.default);
    for (key, span) in splits {
        serde_split_names(ctx, key, span);
    }
    out
}

/// Keys of schemars', validator's and garde's attributes that schemars publishes as schema
/// constraints (`minLength`, `maxLength`, `minimum`, `pattern`, `format`, …).
const SCHEMA_CONSTRAINTS: &[&str] = &[
    "length", "range", "regex", "pattern", "email", "url", "contains",
];

/// W0207 for what kube-rs's schema (schemars, with kube-rs's `#[x_kube]`) would publish from a
/// field's, variant's or type's attributes and kube-codegen's OpenAPI does not: schemas here
/// are read from the Rust type and tags, never from another derive's attributes.
/// `required_by_serde`: serde refuses an object without this field (not an `Option`, no
/// `#[serde(default)]`).
pub(super) fn unread_schema_attributes(
    ctx: &mut Ctx,
    attrs: &[syn::Attribute],
    required_by_serde: bool,
) {
    let attrs = super::attrs::expand_cfg_attr(attrs);
    // kube-rs's `#[x_kube(validation = Rule::new(…))]`: a CEL rule its derive publishes as
    // `x-kubernetes-validations`; no schema kube-codegen writes carries it.
    for attr in attrs.iter().filter(|a| a.path().is_ident("x_kube")) {
        let span = ctx.span(super::spans::attr_span(attr));
        ctx.diags.push(
            Diagnostic::warning(
                "W0207",
                "`#[x_kube(…)]` is not read: its CEL rules are not published",
            )
            .at(span, "a rule the published schema does not carry")
            .note("kube-rs's derive publishes the rule as the field's `x-kubernetes-validations`, which a CRD's API server enforces; an API server of this crate validates in its strategy (`Strategy::validate`) instead")
            .help("check the rule in the resource's strategy (`validate`, `validate_update` for `self == oldSelf`)"),
        );
    }
    // validator's and garde's rules, which schemars publishes as the schema's constraints.
    for attr in attrs
        .iter()
        .filter(|a| a.path().is_ident("validate") || a.path().is_ident("garde"))
    {
        let (attr_name, tool) = if attr.path().is_ident("garde") {
            ("garde", "garde")
        } else {
            ("validate", "validator")
        };
        let mut unread = Vec::new();
        // What cannot be read is left alone: the attribute is not kube-codegen's input.
        let _ = attr.parse_nested_meta(|m| {
            if let Some(key) = m.path.get_ident().map(|i| i.to_string())
                && (SCHEMA_CONSTRAINTS.contains(&key.as_str()) || key == "rule")
            {
                unread.push((key, m.path.span()));
            }
            skip_meta(&m)
        });
        for (key, span) in unread {
            let span = ctx.span(span);
            if key == "rule" {
                // kube-rs's CEL rule (`#[validate(rule = "self.x > 0", message = …)]` beside
                // its `KubeSchema` derive), published as `x-kubernetes-validations`.
                ctx.diags.push(
                    Diagnostic::warning(
                        "W0207",
                        format!("`#[{attr_name}(rule …)]` is not read: its CEL rule is not published"),
                    )
                    .at(span, "a rule the published schema does not carry")
                    .note("kube-rs's derive publishes the rule as the field's `x-kubernetes-validations`, which a CRD's API server enforces; an API server of this crate validates in its strategy (`Strategy::validate`) instead")
                    .help("check the rule in the resource's strategy (`validate`, `validate_update` for `self == oldSelf`)"),
                );
                continue;
            }
            ctx.diags.push(
                Diagnostic::warning(
                    "W0207",
                    format!("`#[{attr_name}({key} …)]` is not published: the OpenAPI schema carries no such constraint"),
                )
                .at(span, "a constraint the published schema does not carry")
                .note(format!("schemars publishes `{key}` in the schema kube-rs's CRD holds (`minLength`, `maxLength`, `minimum`, `pattern`, …), which the CRD's API server enforces; kube-codegen has no tags for such constraints, and an API server of this crate validates in its strategy (`Strategy::validate`) instead"))
                .help(format!("check it in the resource's strategy (`validate`): {tool}'s `#[derive(Validate)]` gives the type a `validate()` to call there")),
            );
        }
    }
    for attr in attrs.iter().filter(|a| a.path().is_ident("schemars")) {
        let mut unread = Vec::new();
        // What cannot be read is left alone: schemars is not kube-codegen's input.
        let _ = attr.parse_nested_meta(|m| {
            if let Some(key) = m.path.get_ident().map(|i| i.to_string())
                && (matches!(
                    key.as_str(),
                    "schema_with" | "with" | "skip" | "default" | "extend" | "transform"
                ) || SCHEMA_CONSTRAINTS.contains(&key.as_str()))
                // A bare `default` on a field serde does not require only makes it optional,
                // which it is here too: nothing is lost.
                && !(key == "default" && !required_by_serde && !m.input.peek(syn::Token![=]))
            {
                unread.push((key, m.path.span()));
            }
            skip_meta(&m)
        });
        for (key, span) in unread {
            let span = ctx.span(span);
            let d = match key.as_str() {
                "default" => {
                    // An `Option` or a serde-defaulted field is optional anyway.
                    let required = if required_by_serde {
                        ", and a field that is neither an `Option` nor `#[serde(default)]` stays required (an object without it is refused)"
                    } else {
                        ""
                    };
                    Diagnostic::warning(
                        "W0207",
                        "`#[schemars(default …)]` is not read: its value is Rust code kube-codegen does not run",
                    )
                    .at(span, "a default the published schema does not carry")
                    .note(format!("kube-rs publishes the value as the field's schema default and leaves the field optional; here no default is published{required}"))
                    .help("write the value as a tag on the field, `/// +default=<JSON value>` (e.g. `+default=20`): it is published in the schema and applied on every write")
                }
                "extend" | "transform" => Diagnostic::warning(
                    "W0207",
                    format!("`#[schemars({key} …)]` is not read: what it adds to the schema is not published"),
                )
                .at(span, "schema keys the published schema does not carry")
                .note("kube-rs publishes them in its CRD's schema: CEL rules (`x-kubernetes-validations`), which the CRD's API server enforces, or constraints; an API server of this crate validates in its strategy (`Strategy::validate`) instead")
                .help("check the rules in the resource's strategy (`validate`, `validate_update` for transition rules); list and map semantics have tags (`+listType`, `+listMapKey`, `+mapType`)"),
                constraint if SCHEMA_CONSTRAINTS.contains(&constraint) => Diagnostic::warning(
                    "W0207",
                    format!("`#[schemars({key} …)]` is not published: the OpenAPI schema carries no such constraint"),
                )
                .at(span, "a constraint the published schema does not carry")
                .note("kube-rs publishes it in its CRD's schema, which the CRD's API server enforces; kube-codegen has no tags for such constraints, and an API server of this crate validates in its strategy (`Strategy::validate`) instead")
                .help("check it in the resource's strategy (`validate`)"),
                _ => Diagnostic::warning(
                    "W0207",
                    format!("`#[schemars({key} …)]` is not read: the OpenAPI schema is the Rust type's"),
                )
                .at(span, "a schema kube-codegen does not see")
                .note("what such a schema changes is published as the Rust type says: fields it makes optional (wasmcloud's `PodSpec` without its required `containers`) are required again, and the list and map semantics it sets (`x-kubernetes-list-type`, list-map keys) are what server-side apply merges by")
                .help("say them with tags the schema is built from: `+listType=map` with `+listMapKey=<field>`, `+listType=set`, `+mapType`; `+k8s:openapi-gen=false` leaves a field's type out"),
            };
            ctx.diags.push(d);
        }
    }
}

/// `#[serde(with/try_from/...)]` gives the value a wire shape of its own, which the schemas
/// read from the Rust type may not describe: say so where it is written.
fn serde_custom_shape(ctx: &mut Ctx, key: &str, span: PmSpan, what: &str) {
    let span = ctx.span(span);
    ctx.diags.push(
        Diagnostic::warning(
            "W0204",
            format!("`#[serde({key} = …)]` gives {what} a wire shape of its own"),
        )
        .at(span, "read or written by other code")
        .note("OpenAPI schemas describe the Rust type; kube-codegen cannot see what this code writes")
        .help("check the published schema; if it differs, give the value a type that names its wire type to serde (`#[serde(into = \"String\", try_from = \"String\")]` publishes a string), or leave it out of OpenAPI with `+k8s:openapi-gen=false`"),
    );
}

/// Wire names of fields and variants under the container's `rename_all` (an explicit `rename`
/// wins).
pub(super) fn apply_serde_names(body: &mut TypeBody, serde: &SerdeContainer) {
    let rule = serde.rename_all.as_deref();
    match body {
        TypeBody::Struct(fields) => {
            for f in fields {
                if f.serde.rename.is_none() {
                    f.wire = crate::naming::rename_field(&f.name, rule);
                }
            }
        }
        TypeBody::Enum(variants) => {
            for v in variants {
                v.wire = match &v.serde.rename {
                    Some(r) => r.clone(),
                    None => crate::naming::rename_variant(&v.name, rule),
                };
                // A struct-like variant's fields: its own `rename_all`, else the enum's
                // `rename_all_fields`.
                let fields_rule = v
                    .serde
                    .rename_all
                    .as_deref()
                    .or(serde.rename_all_fields.as_deref());
                if let (VariantShape::Struct(fields), Some(_)) = (&mut v.shape, fields_rule) {
                    for f in fields.iter_mut().filter(|f| f.serde.rename.is_none()) {
                        f.wire = crate::naming::rename_field(&f.name, fields_rule);
                    }
                }
            }
        }
        TypeBody::Tuple(_) | TypeBody::Unit => {}
    }
}
