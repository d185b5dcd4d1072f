//! Lowering type declarations: a struct's or enum's name, docs, tags, derives and serde, and
//! its fields and variants.

use syn::ext::IdentExt;

use crate::diag::Diagnostic;
use crate::model::{Field, Sparse, TypeBody, VariantShape};
use crate::tags::{self, Place};

use super::LoweredType;
use super::attrs::{doc_lines, reject_cfg};
use super::field_types::lower_ty;
use super::lower::Ctx;
use super::serde::{apply_serde_names, serde_container, serde_field};
use super::spans::{attr_span, field_span};

/// The fields of a struct declared without `pub`.
pub(super) fn private_members(ctx: &Ctx, fields: &syn::Fields) -> Vec<crate::model::PrivateMember> {
    fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.vis, syn::Visibility::Inherited))
        .map(|(i, f)| crate::model::PrivateMember {
            name: f
                .ident
                .as_ref()
                .map_or_else(|| i.to_string(), |id| id.unraw().to_string()),
            span: field_span(ctx, f),
        })
        .collect()
}

/// `pub`, `pub(crate)`, `pub(super)`, `pub(in path)`, or none.
fn type_visibility(vis: &syn::Visibility) -> crate::model::TypeVisibility {
    use crate::model::TypeVisibility;
    match vis {
        syn::Visibility::Public(_) => TypeVisibility::Public,
        syn::Visibility::Inherited => TypeVisibility::Private,
        syn::Visibility::Restricted(r) => {
            if r.path.is_ident("self") {
                TypeVisibility::Private
            } else if r.path.is_ident("super") {
                TypeVisibility::Super
            } else {
                // `crate`, or a path this far up (or further) that names an ancestor: seen
                // from the package's module as from the crate.
                TypeVisibility::Crate
            }
        }
    }
}

pub(super) fn lower_type(
    ctx: &mut Ctx,
    attrs: &[syn::Attribute],
    vis: &syn::Visibility,
    ident: &syn::Ident,
    generics: &syn::Generics,
    body: TypeBody,
) -> LoweredType {
    let docs = doc_lines(ctx, attrs, false);
    let (docs, raw) = tags::split_docs(&docs);
    let tags = tags::check(raw, Place::Type, &mut ctx.diags);
    let mut derives = Vec::new();
    for (attr, traits) in super::attrs::conditional_derives(attrs) {
        let span = ctx.span(attr_span(attr));
        let quoted = traits
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        let plain = traits.join(", ");
        ctx.diags.push(
            Diagnostic::warning("W0206", format!("{quoted} derived under `cfg_attr`"))
                .at(span, "derived in some builds only")
                .note(format!("kube-codegen reads it as always derived: generated code relies on {quoted} and does not write it, so a build where the predicate is off fails to compile"))
                .help(format!("derive it unconditionally (`#[derive({plain})]`), or not at all (deepcopy-gen then writes `Clone`)")),
        );
    }
    for attr in super::attrs::expand_cfg_attr(attrs).iter() {
        if attr.path().is_ident("derive") {
            let read = attr.parse_nested_meta(|m| {
                if let Some(last) = m.path.segments.last() {
                    derives.push(last.ident.to_string());
                }
                Ok(())
            });
            if let Err(e) = read {
                let span = ctx.span(attr_span(attr));
                ctx.diags.push(
                    Diagnostic::warning("W0203", format!("cannot read this `#[derive]`: {e}"))
                        .at(span, "not understood")
                        .note("kube-codegen reads derives to know which traits a type has (`Clone`, `Default`, serde)")
                        .help("write `#[derive(Trait, ...)]` with trait paths; rustc reports the same problem when the crate builds"),
                );
            }
        }
    }
    derives.extend(super::attrs::derived_by_helper_macros(
        &super::attrs::expand_cfg_attr(attrs),
    ));
    // W0118 goes first among the type's diagnostics; it reads the spec's wire names.
    let w0118_at = ctx.diags.len();
    let serde = serde_container(ctx, attrs);
    super::serde::unread_schema_attributes(ctx, attrs, false);
    let mut body = body;
    apply_serde_names(&mut body, &serde);
    if derives.iter().any(|d| d == "CustomResource") {
        let span = ctx.span(ident.span());
        let spec = ident.unraw().to_string();
        // The spec's fields on the wire; unknown when one is flattened.
        let wire_fields: Option<Vec<&str>> = match &body {
            TypeBody::Struct(fields) if !fields.iter().any(|f| f.serde.flatten) => Some(
                fields
                    .iter()
                    .filter(|f| !f.serde.skip)
                    .map(|f| f.wire.as_str())
                    .collect(),
            ),
            _ => None,
        };
        let (warning, kind, group) =
            super::kube_derive::custom_resource_warning(attrs, &spec, wire_fields.as_deref(), span);
        ctx.diags.insert(w0118_at, warning);
        if let Some(scope) = ctx.scopes.get_mut(ctx.scope) {
            scope.derived_kinds.insert(kind, spec);
            scope.derive_groups.extend(group.map(|g| (g, span)));
        }
    }
    LoweredType {
        private_members: Vec::new(),
        scope: ctx.scope,
        serde,
        name: ident.unraw().to_string(),
        is_pub: matches!(vis, syn::Visibility::Public(_)),
        visibility: type_visibility(vis),
        has_generics: !generics.params.is_empty(),
        docs,
        tags,
        span: ctx.span(ident.span()),
        body,
        derives,
    }
}

pub(super) fn lower_field(ctx: &mut Ctx, f: &syn::Field) -> Field {
    reject_cfg(ctx, &f.attrs, "a field of an API type");
    let docs = doc_lines(ctx, &f.attrs, false);
    let (docs, raw) = tags::split_docs(&docs);
    let tags = tags::check(raw, Place::Field, &mut ctx.diags);
    let ident = f.ident.as_ref().expect("named field");
    let written = ident.to_string();
    let (name, raw_ident) = match written.strip_prefix("r#") {
        Some(n) => (n.to_string(), true),
        None => (written, false),
    };
    let first = ctx.diags.len();
    let is_option = matches!(&f.ty, syn::Type::Path(p)
        if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"));
    let serde = serde_field(ctx, &f.attrs, !is_option);
    // A field left out of OpenAPI: what its schema could not describe does not matter.
    if tags.iter().any(|t| {
        t.key == crate::tags::TagKey::OpenapiGen && t.value == crate::tags::TagValue::Word("false")
    }) {
        let mut i = 0;
        ctx.diags.retain(|d| {
            i += 1;
            i <= first || !super::items::OPENAPI_ONLY_WARNINGS.contains(&d.code)
        });
    }
    Field {
        wire: serde.rename.clone().unwrap_or_else(|| name.clone()),
        serde: serde.into(),
        name,
        raw: raw_ident,
        docs,
        ty: lower_ty(ctx, &f.ty),
        span: field_span(ctx, f),
        is_pub: !matches!(f.vis, syn::Visibility::Inherited),
        options: Sparse::default(),
        tags,
    }
}

pub(super) fn lower_shape(ctx: &mut Ctx, fields: &syn::Fields) -> VariantShape {
    match fields {
        syn::Fields::Unit => VariantShape::Unit,
        syn::Fields::Unnamed(u) => {
            VariantShape::Tuple(u.unnamed.iter().map(|f| lower_ty(ctx, &f.ty)).collect())
        }
        syn::Fields::Named(n) => {
            VariantShape::Struct(n.named.iter().map(|f| lower_field(ctx, f)).collect())
        }
    }
}
