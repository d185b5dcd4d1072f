//! Lowering the items of a module: its imports, aliases, types, impls, functions and `mod`
//! declarations, and its inline modules as scopes of their own.

use std::collections::BTreeMap;

use syn::ext::IdentExt;

use crate::diag::{Diagnostic, Span};
use crate::model::{TraitImpl, TypeBody, Variant};
use crate::path::RustPath;
use crate::tags::{self, Place};

use super::attrs::{doc_lines, is_test_only, reject_cfg};
use super::field_types::lower_ty;
use super::lower::Ctx;
use super::serde::serde_field;
use super::types::{lower_field, lower_shape, lower_type, private_members};
use super::{LoweredFile, LoweredFn, LoweredType, Scope};

/// Plain `pub`: visible to other crates (`pub(crate)`, `pub(super)` are not).
fn is_public(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// Lowers the items of one module (the file, or an inline `mod`) into `scope`, then its inline
/// modules into scopes of their own.
pub(super) fn lower_items(
    ctx: &mut Ctx,
    items: &[syn::Item],
    mut scope: Scope,
    parent: Option<usize>,
    out: &mut LoweredFile,
) {
    collect_imports(ctx, items, &mut scope);
    let me = push_scope(ctx, scope, parent);
    let saved = ctx.scope;
    ctx.scope = me;
    declare_names(ctx, items, me);
    // Aliases first, so uses of them anywhere in the module see their target.
    lower_aliases(ctx, items, me);
    let mut inline_mods = Vec::new();
    for item in items {
        if let Some((module, cfg)) = cfg_gated_module(item) {
            let mut path = ctx.scopes[me].inline.clone();
            path.push(module);
            let reexport = matches!(item, syn::Item::Use(_));
            out.cfg_gated_modules
                .push((path, ctx.span(super::spans::attr_span(cfg)), reexport));
        }
        if parent.is_none()
            && let Some(ident) = value_item_name(item)
        {
            out.module_items
                .push((ident.unraw().to_string(), ctx.span(ident.span())));
        }
        match item {
            syn::Item::Struct(s) if is_test_only(&s.attrs) => {}
            syn::Item::Enum(e) if is_test_only(&e.attrs) => {}
            syn::Item::Struct(s) => out.types.push(lower_struct(ctx, s)),
            syn::Item::Enum(e) => out.types.push(lower_enum(ctx, e)),
            syn::Item::Impl(i) => {
                if let Some(implemented) = trait_impl(i) {
                    out.impls.push(implemented);
                }
                if let Some(implemented) = trait_impl_path(ctx, i, me) {
                    out.trait_impls.push(implemented);
                }
            }
            syn::Item::Fn(f) if !is_test_only(&f.attrs) => out.functions.push(lower_fn(ctx, f, me)),
            syn::Item::Mod(m) if m.content.is_some() && !is_test_only(&m.attrs) => {
                inline_mods.push(m);
            }
            syn::Item::Mod(m) if parent.is_none() && m.content.is_none() => file_mod(ctx, m, out),
            _ => {}
        }
    }
    ctx.generic_params.clear();
    ctx.self_type = None;
    for m in inline_mods {
        lower_inline_mod(ctx, m, me, out);
    }
    ctx.scope = saved;
}

/// The module's `use`s (a `pub use` also exported, a plain `pub use` also to other crates) and
/// whether it has item macros.
fn collect_imports(ctx: &Ctx, items: &[syn::Item], scope: &mut Scope) {
    for item in items {
        match item {
            syn::Item::Use(u) if matches!(u.vis, syn::Visibility::Inherited) => {
                collect_uses(&u.tree, Vec::new(), scope)
            }
            syn::Item::Use(u) => {
                let mut reexported = Scope::default();
                collect_uses(&u.tree, Vec::new(), &mut reexported);
                scope.exported.extend(reexported.uses.keys().cloned());
                if is_public(&u.vis) {
                    scope.public_exports.extend(reexported.uses.keys().cloned());
                    scope.public_globs.extend(reexported.globs.iter().cloned());
                }
                scope.uses.extend(reexported.uses);
                scope.globs.extend(reexported.globs);
            }
            syn::Item::Macro(m) if m.ident.is_some() || m.mac.path.is_ident("macro_rules") => {}
            syn::Item::Macro(m) if declares_no_types(m) => {}
            syn::Item::Macro(m) => {
                let name = m.mac.path.segments.last().map(|s| s.ident.span());
                if let (None, Some(name)) = (scope.item_macro, name) {
                    scope.item_macro = Some(ctx.span(name));
                }
            }
            syn::Item::Mod(m) => {
                scope.modules.insert(m.ident.unraw().to_string());
            }
            _ => {}
        }
    }
}

/// Adds `scope` (an inline module's when it has a `parent`) to the file's scopes; returns its
/// index.
fn push_scope(ctx: &mut Ctx, mut scope: Scope, parent: Option<usize>) -> usize {
    // `use super::*` in an inline module sees what its parent declares and imports.
    if let Some(p) = parent
        && let Some(i) = scope
            .globs
            .iter()
            .position(|g| g.segments == ["super"] && !g.global)
    {
        scope.globs.remove(i);
        let parent_scope = ctx.scopes[p].clone();
        for (name, path) in parent_scope.uses {
            let path = if path.is_relative() && path.first() != "crate" {
                // The parent's relative imports mean one `super` more from here.
                let mut segs = vec!["super".to_string()];
                segs.extend(path.segments.iter().cloned());
                RustPath::from_segments(false, segs)
            } else {
                path
            };
            scope.uses.entry(name).or_insert(path);
        }
        scope.globs.extend(parent_scope.globs);
        scope.item_macro = scope.item_macro.or(parent_scope.item_macro);
        let parent_aliases = ctx.aliases[p].clone();
        let parent_generic_aliases = ctx.generic_aliases[p].clone();
        let parent_declared = ctx.declared[p].clone();
        ctx.scopes.push(scope);
        ctx.aliases.push(parent_aliases);
        ctx.generic_aliases.push(parent_generic_aliases);
        ctx.declared.push(parent_declared);
    } else {
        ctx.scopes.push(scope);
        ctx.aliases.push(BTreeMap::new());
        ctx.generic_aliases.push(BTreeMap::new());
        ctx.declared.push(Default::default());
    }
    ctx.scopes.len() - 1
}

/// Item macros known to declare no type a field could name: kube-codegen's own generated files
/// (`include!("zz_generated.deepcopy.rs")`, or through `concat!(env!("OUT_DIR"), …)`), and
/// the statics and compile-time assertions of `lazy_static`, `thread_local` and
/// `static_assertions`. Any other item macro may declare names kube-codegen cannot see.
fn declares_no_types(m: &syn::ItemMacro) -> bool {
    const INERT: &[&str] = &[
        "lazy_static",
        "thread_local",
        "assert_impl_all",
        "assert_impl_any",
        "assert_impl_one",
        "assert_not_impl_all",
        "assert_not_impl_any",
        "assert_obj_safe",
        "assert_trait_sub_all",
        "assert_trait_super_all",
        "assert_type_eq_all",
        "assert_type_ne_all",
        "assert_eq_size",
        "assert_eq_align",
        "assert_fields",
        "const_assert",
        "const_assert_eq",
        "const_assert_ne",
        "compile_error",
    ];
    let Some(last) = m.mac.path.segments.last() else {
        return false;
    };
    let name = last.ident.to_string();
    if INERT.contains(&name.as_str()) {
        return true;
    }
    // `include!` of a generated file: its literal (or `concat!`'s) names `zz_generated.*.rs`.
    name == "include" && generated_include(m.mac.tokens.clone())
}

/// Whether the tokens of an `include!` hold a string literal naming a generated file.
fn generated_include(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Literal(l) => syn::parse_str::<syn::LitStr>(&l.to_string())
            .is_ok_and(|s| {
                let path = s.value();
                let file = path.rsplit('/').next().unwrap_or(&path);
                file.starts_with("zz_generated.") && file.ends_with(".rs")
            }),
        proc_macro2::TokenTree::Group(g) => generated_include(g.stream()),
        _ => false,
    })
}

/// The type names the module declares (structs, enums, unions, aliases, traits).
fn declare_names(ctx: &mut Ctx, items: &[syn::Item], me: usize) {
    for item in items {
        let name = match item {
            syn::Item::Struct(s) => Some(&s.ident),
            syn::Item::Enum(e) => Some(&e.ident),
            syn::Item::Union(u) => Some(&u.ident),
            syn::Item::Type(t) => Some(&t.ident),
            syn::Item::Trait(t) => Some(&t.ident),
            _ => None,
        };
        if let Some(n) = name {
            ctx.declared[me].insert(n.unraw().to_string());
        }
    }
}

/// The module's non-generic type aliases, lowered; tags on any alias are reported (none
/// belongs there). Rust lets an alias name another declared after it (`type A = B; type B =
/// String;`): each is lowered after the aliases of this module it names, so that `A` is
/// `String` too. An alias that reaches itself is rustc's E0391 and ours E0123.
fn lower_aliases(ctx: &mut Ctx, items: &[syn::Item], me: usize) {
    let mut aliases: Vec<&syn::ItemType> = Vec::new();
    for item in items {
        if let syn::Item::Type(t) = item {
            let docs = doc_lines(ctx, &t.attrs, false);
            let (_, raw) = tags::split_docs(&docs);
            let _ = tags::check(raw, Place::Alias, &mut ctx.diags);
            // Generic over types only (`type Maybe<T> = Option<T>;`): substituted where used.
            if t.generics
                .params
                .iter()
                .all(|p| matches!(p, syn::GenericParam::Type(_)))
            {
                aliases.push(t);
            }
        }
    }
    let mut index = BTreeMap::new();
    for (i, t) in aliases.iter().enumerate() {
        index.entry(t.ident.unraw().to_string()).or_insert(i);
    }
    let mut state = vec![AliasState::Pending; aliases.len()];
    for i in 0..aliases.len() {
        lower_alias(ctx, &aliases, &index, &mut state, i, me);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum AliasState {
    Pending,
    /// Being lowered: met again, it is part of a cycle.
    Open,
    Done,
}

/// Lowers alias `i` after the aliases of its module it names (depth-first).
fn lower_alias(
    ctx: &mut Ctx,
    aliases: &[&syn::ItemType],
    index: &BTreeMap<String, usize>,
    state: &mut [AliasState],
    i: usize,
    me: usize,
) {
    if state[i] != AliasState::Pending {
        return;
    }
    state[i] = AliasState::Open;
    let t = aliases[i];
    let mut named = Vec::new();
    bare_type_names(&t.ty, &mut named);
    for name in named {
        let Some(&j) = index.get(&name) else { continue };
        match state[j] {
            AliasState::Pending => lower_alias(ctx, aliases, index, state, j, me),
            AliasState::Open => {
                let this = t.ident.unraw().to_string();
                let through = if j == i {
                    format!("`{this}` names itself")
                } else {
                    format!("`{this}` names `{name}`, which leads back to `{this}`")
                };
                ctx.diags.push(
                    Diagnostic::error(
                        "E0123",
                        format!("type alias `{this}` is defined in terms of itself"),
                    )
                    .at(ctx.span(t.ident.span()), through)
                    .note("rustc refuses it too (E0391): an alias is replaced by what it names, which would never end")
                    .help("make one of the types a struct (a `Box` or `Vec` of it may then name it)"),
                );
                // Not an alias then: the cycle ends here, and the error stops the run.
                state[i] = AliasState::Done;
                return;
            }
            AliasState::Done => {}
        }
    }
    if state[i] == AliasState::Done {
        return;
    }
    let name = t.ident.unraw().to_string();
    if t.generics.params.is_empty() {
        let ty = lower_ty(ctx, &t.ty);
        ctx.scopes[me].aliases.insert(name.clone(), ty.clone());
        ctx.aliases[me].insert(name, ty);
    } else {
        let params = generic_names(&t.generics);
        let outer = std::mem::replace(&mut ctx.generic_params, params.clone());
        let outer_keys = ctx.alias_map_key_params.replace(Default::default());
        let ty = lower_ty(ctx, &t.ty);
        ctx.generic_params = outer;
        let map_key_params =
            std::mem::replace(&mut ctx.alias_map_key_params, outer_keys).unwrap_or_default();
        ctx.generic_aliases[me].insert(
            name,
            super::lower::GenericAlias {
                params,
                ty,
                map_key_params,
            },
        );
    }
    state[i] = AliasState::Done;
}

/// The single-segment type names written in `ty` (`B` in `Vec<B>`, `Option<Box<B>>`): what
/// may be another alias of the same module.
fn bare_type_names(ty: &syn::Type, out: &mut Vec<String>) {
    match ty {
        syn::Type::Path(p) => {
            if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 {
                out.push(p.path.segments[0].ident.unraw().to_string());
            }
            for seg in &p.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            bare_type_names(t, out);
                        }
                    }
                }
            }
        }
        syn::Type::Array(a) => bare_type_names(&a.elem, out),
        syn::Type::Slice(s) => bare_type_names(&s.elem, out),
        syn::Type::Reference(r) => bare_type_names(&r.elem, out),
        syn::Type::Ptr(p) => bare_type_names(&p.elem, out),
        syn::Type::Paren(p) => bare_type_names(&p.elem, out),
        syn::Type::Group(g) => bare_type_names(&g.elem, out),
        syn::Type::Tuple(t) => t.elems.iter().for_each(|e| bare_type_names(e, out)),
        _ => {}
    }
}

/// Warnings about what a type's OpenAPI schema cannot describe (W0204: a wire shape of its own
/// code; W0207: a `schemars` attribute): moot for a type or field left out of OpenAPI.
pub(super) const OPENAPI_ONLY_WARNINGS: &[&str] = &["W0204", "W0207"];

/// A type tagged `+k8s:deepcopy-gen=false` and `+k8s:openapi-gen=false` (an error type or a
/// helper kept beside the API types): no generator reads its fields, so a field type no API
/// can hold (a reference, a tuple, a map with other keys) is no error there. Drops the E0201s
/// its lowering reported (from `first`: the diagnostics and map keys before it).
fn forgive_unsupported_fields(ctx: &mut Ctx, t: &LoweredType, first: (usize, usize)) {
    let off = |key: tags::TagKey| {
        t.tags
            .iter()
            .any(|tag| tag.key == key && tag.value == tags::TagValue::Word("false"))
    };
    // Out of OpenAPI: warnings that its schema may not describe the wire do not apply.
    if off(tags::TagKey::OpenapiGen) {
        let mut i = 0;
        ctx.diags.retain(|d| {
            i += 1;
            i <= first.0 || !OPENAPI_ONLY_WARNINGS.contains(&d.code)
        });
    }
    if off(tags::TagKey::DeepcopyGen) && off(tags::TagKey::OpenapiGen) {
        let mut i = 0;
        ctx.diags.retain(|d| {
            i += 1;
            i <= first.0 || d.code != "E0201"
        });
        ctx.map_keys.truncate(first.1);
    }
}

fn lower_struct(ctx: &mut Ctx, s: &syn::ItemStruct) -> LoweredType {
    let first = (ctx.diags.len(), ctx.map_keys.len());
    reject_cfg(ctx, &s.attrs, "an API type");
    ctx.generic_params = generic_names(&s.generics);
    ctx.self_type = Some(s.ident.unraw().to_string());
    let body = match &s.fields {
        syn::Fields::Named(named) => {
            TypeBody::Struct(named.named.iter().map(|f| lower_field(ctx, f)).collect())
        }
        syn::Fields::Unnamed(u) => TypeBody::Tuple(
            u.unnamed
                .iter()
                .map(|f| {
                    reject_cfg(ctx, &f.attrs, "a field of an API type");
                    lower_ty(ctx, &f.ty)
                })
                .collect(),
        ),
        syn::Fields::Unit => TypeBody::Unit,
    };
    let mut t = lower_type(ctx, &s.attrs, &s.vis, &s.ident, &s.generics, body);
    t.private_members = private_members(ctx, &s.fields);
    forgive_unsupported_fields(ctx, &t, first);
    t
}

fn lower_enum(ctx: &mut Ctx, e: &syn::ItemEnum) -> LoweredType {
    let first = (ctx.diags.len(), ctx.map_keys.len());
    reject_cfg(ctx, &e.attrs, "an API type");
    ctx.generic_params = generic_names(&e.generics);
    ctx.self_type = Some(e.ident.unraw().to_string());
    let variants = e
        .variants
        .iter()
        .map(|v| {
            reject_cfg(ctx, &v.attrs, "a variant of an API type");
            let docs = doc_lines(ctx, &v.attrs, false);
            let (docs, raw) = tags::split_docs(&docs);
            // No tag belongs on a variant: every one is reported as misplaced.
            let _ = tags::check(raw, Place::Variant, &mut ctx.diags);
            let name = v.ident.unraw().to_string();
            Variant {
                wire: name.clone(),
                serde: serde_field(ctx, &v.attrs, false),
                name,
                docs,
                span: ctx.span(v.ident.span()),
                shape: lower_shape(ctx, &v.fields),
            }
        })
        .collect();
    let t = lower_type(
        ctx,
        &e.attrs,
        &e.vis,
        &e.ident,
        &e.generics,
        TypeBody::Enum(variants),
    );
    forgive_unsupported_fields(ctx, &t, first);
    t
}

/// `impl Trait for Type`: (type name, trait last segment).
fn trait_impl(i: &syn::ItemImpl) -> Option<(String, String)> {
    if let (Some((path, _)), syn::Type::Path(self_ty)) = (&i.trait_, &*i.self_ty)
        && let (Some(tr), Some(ty)) = (path.segments.last(), self_ty.path.segments.last())
    {
        return Some((ty.ident.unraw().to_string(), tr.ident.to_string()));
    }
    None
}

/// A `mod m` or `pub use m::…::*` under a `#[cfg]` other than `cfg(test)`: `m`, and the `cfg`.
fn cfg_gated_module(item: &syn::Item) -> Option<(String, &syn::Attribute)> {
    let (attrs, module) = match item {
        syn::Item::Mod(m) => (&m.attrs, m.ident.unraw().to_string()),
        syn::Item::Use(u) if !matches!(u.vis, syn::Visibility::Inherited) => {
            let mut tree = &u.tree;
            // `pub use self::types::*`: the module is the segment after `self`.
            while let syn::UseTree::Path(p) = tree
                && p.ident == "self"
            {
                tree = &p.tree;
            }
            // A glob re-export, as the package module's `pub use types::*` (one item
            // re-exported under a `cfg` may well be no API type).
            let syn::UseTree::Path(p) = tree else {
                return None;
            };
            let mut leaf = &*p.tree;
            while let syn::UseTree::Path(inner) = leaf {
                leaf = &inner.tree;
            }
            if !matches!(leaf, syn::UseTree::Glob(_)) {
                return None;
            }
            (&u.attrs, p.ident.unraw().to_string())
        }
        _ => return None,
    };
    if is_test_only(attrs) {
        return None;
    }
    attrs
        .iter()
        .find(|a| a.path().is_ident("cfg"))
        .map(|cfg| (module, cfg))
}

/// The name a `const`, `static`, `fn` or `type` item declares (not one only tests compile).
fn value_item_name(item: &syn::Item) -> Option<&syn::Ident> {
    match item {
        syn::Item::Const(c) if !is_test_only(&c.attrs) => Some(&c.ident),
        syn::Item::Static(s) if !is_test_only(&s.attrs) => Some(&s.ident),
        syn::Item::Fn(f) if !is_test_only(&f.attrs) => Some(&f.sig.ident),
        syn::Item::Type(t) if !is_test_only(&t.attrs) => Some(&t.ident),
        _ => None,
    }
}

/// `impl Trait for Type`: the type's name and the trait's path, its first segment expanded
/// through the module's imports (`Serialize` under `use serde::Serialize;` is
/// `serde::Serialize`), with the span from `impl` to the type's name.
fn trait_impl_path(ctx: &Ctx, i: &syn::ItemImpl, me: usize) -> Option<(String, TraitImpl)> {
    let (Some((path, _)), syn::Type::Path(self_ty)) = (&i.trait_, &*i.self_ty) else {
        return None;
    };
    let ty = self_ty.path.segments.last()?;
    let mut segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if path.leading_colon.is_none() {
        if let Some(imported) = ctx.scopes[me].uses.get(&segments[0]) {
            segments.splice(0..1, imported.segments.iter().cloned());
        } else if segments.len() == 1 && ctx.declared[me].contains(&segments[0]) {
            // A trait of the module itself, not one generated code implements.
            segments.insert(0, "self".into());
        }
    }
    let span = Span::new(
        ctx.file,
        ctx.start(i.impl_token.span),
        ctx.end(ty.ident.span()),
    );
    Some((
        ty.ident.unraw().to_string(),
        TraitImpl {
            path: RustPath::from_segments(false, segments),
            span,
        },
    ))
}

fn lower_fn(ctx: &Ctx, f: &syn::ItemFn, me: usize) -> LoweredFn {
    LoweredFn {
        name: f.sig.ident.unraw().to_string(),
        is_pub: visible_outside(ctx, &f.vis, me),
        span: ctx.span(f.sig.ident.span()),
        scope: me,
        params: f.sig.inputs.len(),
        borrows_input: matches!(
            f.sig.inputs.first(),
            Some(syn::FnArg::Typed(t)) if matches!(*t.ty, syn::Type::Reference(_))
        ),
        returns: match &f.sig.output {
            syn::ReturnType::Type(_, ty) => match &**ty {
                syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            },
            syn::ReturnType::Default => None,
        },
        input: match f.sig.inputs.first() {
            Some(syn::FnArg::Typed(t)) => type_path(&t.ty),
            _ => None,
        },
        output: match &f.sig.output {
            syn::ReturnType::Type(_, ty) => match &**ty {
                syn::Type::Path(p) if p.qself.is_none() => {
                    match p.path.segments.last().map(|s| &s.arguments) {
                        Some(syn::PathArguments::AngleBracketed(a)) => {
                            a.args.iter().find_map(|arg| match arg {
                                syn::GenericArgument::Type(t) => type_path(t),
                                _ => None,
                            })
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            syn::ReturnType::Default => None,
        },
        body_idents: {
            let mut idents = std::collections::BTreeSet::new();
            collect_idents(quote::ToTokens::to_token_stream(&f.block), &mut idents);
            idents
        },
    }
}

/// Whether an item of visibility `vis` in scope `me` can be named from outside its own module:
/// `pub`, `pub(crate)`, `pub(super)`, `pub(in <an ancestor>)`; not `pub(self)` nor
/// `pub(in <its own module>)`, which rustc makes private (E0603 where generated code calls it).
fn visible_outside(ctx: &Ctx, vis: &syn::Visibility, me: usize) -> bool {
    let syn::Visibility::Restricted(r) = vis else {
        return matches!(vis, syn::Visibility::Public(_));
    };
    if r.path.is_ident("self") {
        return false;
    }
    if r.in_token.is_none() || r.path.segments.len() < 2 {
        return true;
    }
    // `pub(in crate::a::b::m)` in module `m`: its own module, as far as the path's last
    // segment tells (the innermost inline module, else the file's).
    let own = ctx.scopes[me].inline.last().cloned().or_else(|| {
        let path = ctx.sources.path(ctx.file);
        match path.file_stem().and_then(|s| s.to_str()) {
            Some("mod" | "lib" | "main") => path
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|n| n.to_str())
                .map(str::to_string),
            stem => stem.map(str::to_string),
        }
    });
    let last = r.path.segments.last().map(|s| s.ident.unraw().to_string());
    !(last.is_some() && last == own)
}

/// The path of a type written as one (`a::B<T>` gives `a::B`), references taken off.
fn type_path(ty: &syn::Type) -> Option<RustPath> {
    match ty {
        syn::Type::Reference(r) => type_path(&r.elem),
        syn::Type::Paren(p) => type_path(&p.elem),
        syn::Type::Path(p) if p.qself.is_none() => Some(RustPath::from_segments(
            p.path.leading_colon.is_some(),
            p.path.segments.iter().map(|s| s.ident.unraw().to_string()),
        )),
        _ => None,
    }
}

/// Every identifier in `tokens`, groups included.
fn collect_idents(tokens: proc_macro2::TokenStream, out: &mut std::collections::BTreeSet<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.unraw().to_string());
            }
            proc_macro2::TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}

/// A `mod name;` of the file's own module: a file module, a test-only one, and what a
/// `#[path]` on it names.
fn file_mod(ctx: &Ctx, m: &syn::ItemMod, out: &mut LoweredFile) {
    let name = m.ident.unraw().to_string();
    if let Some(attr) = m.attrs.iter().find(|a| a.path().is_ident("path")) {
        let span = ctx.span(super::spans::attr_span(attr));
        let file = match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }),
                ..
            }) => Some(s.value()),
            _ => None,
        };
        out.path_mods.push(super::PathMod {
            name: name.clone(),
            file,
            span,
            test_only: is_test_only(&m.attrs),
        });
    }
    if is_test_only(&m.attrs) {
        out.test_file_mods.push(name);
    } else {
        out.file_mods.push((name, is_public(&m.vis)));
    }
}

/// An inline `mod name { ... }` of scope `me`, lowered into a scope of its own.
fn lower_inline_mod(ctx: &mut Ctx, m: &syn::ItemMod, me: usize, out: &mut LoweredFile) {
    let Some((_, items)) = &m.content else {
        return;
    };
    let parent_scope = &ctx.scopes[me];
    let mut inline = parent_scope.inline.clone();
    inline.push(m.ident.unraw().to_string());
    let scope = Scope {
        inline,
        reachable: parent_scope.reachable && !matches!(m.vis, syn::Visibility::Inherited),
        reachable_from_file: parent_scope.reachable_from_file
            && (parent_scope.inline.is_empty() || !matches!(m.vis, syn::Visibility::Inherited)),
        public: parent_scope.public && is_public(&m.vis),
        span: Some(ctx.span(m.ident.span())),
        ..Scope::default()
    };
    lower_items(ctx, items, scope, Some(me), out);
}

fn generic_names(g: &syn::Generics) -> Vec<String> {
    g.type_params().map(|p| p.ident.to_string()).collect()
}

fn collect_uses(tree: &syn::UseTree, prefix: Vec<String>, scope: &mut Scope) {
    let with = |name: &syn::Ident| {
        let mut p = prefix.clone();
        p.push(name.unraw().to_string());
        p
    };
    match tree {
        syn::UseTree::Path(p) => collect_uses(&p.tree, with(&p.ident), scope),
        syn::UseTree::Name(n) => {
            // `use a::b::{self}` imports `b`.
            let segments = if n.ident == "self" {
                prefix.clone()
            } else {
                with(&n.ident)
            };
            if let Some(last) = segments.last().cloned() {
                scope
                    .uses
                    .insert(last, RustPath::from_segments(false, segments));
            }
        }
        syn::UseTree::Rename(r) => {
            if r.rename != "_" {
                let segments = if r.ident == "self" {
                    prefix.clone()
                } else {
                    with(&r.ident)
                };
                scope.uses.insert(
                    r.rename.unraw().to_string(),
                    RustPath::from_segments(false, segments),
                );
            }
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                collect_uses(t, prefix.clone(), scope);
            }
        }
        syn::UseTree::Glob(_) => scope.globs.push(RustPath::from_segments(false, prefix)),
    }
}
