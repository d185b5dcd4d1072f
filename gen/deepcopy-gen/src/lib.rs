//! deepcopy-gen: guarantees every type of an API package is a deep `Clone`.
//!
//! Go needs `DeepCopyInto`; Rust's `Clone` is already a deep copy for owned data, so this
//! generator (1) rejects any field that would share state between copies (`Rc`, `Arc`,
//! `RefCell`, `Cell`, `Mutex`, `RwLock`, `Weak`; references and raw pointers are rejected by the
//! model), (2) writes field-by-field `Clone` impls for types that neither derive nor implement
//! `Clone`, and (3) asserts at compile time that every kind is `Clone`.
//!
//! Output: `<package>/zz_generated.deepcopy.rs`, included by the package module.

use std::collections::BTreeSet;

use kube_codegen_model::output::{
    Content, GeneratedFile, Generator, Options, Placement, ident as keyword_safe, type_path,
};
use kube_codegen_model::{
    Diagnostic, FieldType, Model, Package, Span as SrcSpan, TypeBody, TypeDef, VariantShape,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

pub const NAME: &str = "deepcopy-gen";
pub const FILE: &str = "zz_generated.deepcopy.rs";

pub struct DeepcopyGen;

fn enabled(t: &TypeDef) -> bool {
    t.options.deepcopy
}

impl Generator for DeepcopyGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate_package(&self, _model: &Model, pkg: &Package) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let held = held_by_kinds(pkg);
        for t in pkg.types.iter().filter(|t| enabled(t)) {
            for (what, ty, span) in all_fields(t) {
                check_shared(
                    t,
                    &what,
                    ty,
                    span,
                    held.contains(t.name.as_str()),
                    &mut diags,
                );
            }
            if !t.implements("Clone") && t.has_generics {
                diags.push(
                    Diagnostic::error(
                        "E0402",
                        format!("cannot write `Clone` for generic type `{}`", t.name),
                    )
                    .at(t.span, "generic type without `Clone`")
                    .help(format!("add `#[derive(Clone)]` to `{}`", t.name)),
                );
            }
            if !t.implements("Clone") && (t.is_pub || t.module.is_empty()) {
                // The generated field-by-field clone names every field.
                diags.extend(t.unreachable_member_errors(NAME));
            }
            if !t.implements("Clone") && !t.nameable_in_package() {
                diags.push(
                    Diagnostic::error(
                        "E0403",
                        format!("`{}` has no `Clone` and is private to its module", t.name),
                    )
                    .at(t.span, "generated code cannot name this type")
                    .help(format!(
                        "add `#[derive(Clone)]` to `{}`, or make it `pub`; if no API type holds \
                         it, tag it `+k8s:deepcopy-gen=false`",
                        t.name
                    )),
                );
            }
        }
        diags
    }

    fn generate_package(
        &self,
        _model: &Model,
        pkg: &Package,
        opts: &Options,
    ) -> Vec<GeneratedFile> {
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Rust(package(pkg, opts)),
        }]
    }
}

/// How a message names a field (written only when there is a message to write).
#[derive(Clone, Copy)]
enum FieldName<'a> {
    Named(&'a str),
    Index(usize),
    VariantNamed(&'a str, &'a str),
    VariantIndex(usize, &'a str),
}

impl std::fmt::Display for FieldName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldName::Named(name) => write!(f, "field `{name}`"),
            FieldName::Index(i) => write!(f, "field `{i}`"),
            FieldName::VariantNamed(name, variant) => {
                write!(f, "field `{name}` of variant `{variant}`")
            }
            FieldName::VariantIndex(i, variant) => {
                write!(f, "field `{i}` of variant `{variant}`")
            }
        }
    }
}

/// Every field of every shape: (how to name it in a message, its type, where it is written).
fn all_fields(t: &TypeDef) -> Vec<(FieldName<'_>, &FieldType, SrcSpan)> {
    match &t.body {
        TypeBody::Struct(fs) => fs
            .iter()
            .map(|f| (FieldName::Named(&f.name), &f.ty, f.span))
            .collect(),
        TypeBody::Unit => Vec::new(),
        TypeBody::Tuple(ts) => ts
            .iter()
            .enumerate()
            .map(|(i, ty)| (FieldName::Index(i), ty, t.span))
            .collect(),
        TypeBody::Enum(vs) => vs
            .iter()
            .flat_map(|v| -> Vec<(FieldName<'_>, &FieldType, SrcSpan)> {
                match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Struct(fs) => fs
                        .iter()
                        .map(|f| (FieldName::VariantNamed(&f.name, &v.name), &f.ty, f.span))
                        .collect(),
                    VariantShape::Tuple(ts) => ts
                        .iter()
                        .enumerate()
                        .map(|(i, ty)| (FieldName::VariantIndex(i, &v.name), ty, v.span))
                        .collect(),
                }
            })
            .collect(),
    }
}

/// The names of the package's types its kinds hold, however deep: the others may be no API
/// types at all (controller state dropped into an API package).
fn held_by_kinds(pkg: &Package) -> BTreeSet<&str> {
    let mut held: BTreeSet<&str> = pkg.roots().map(|(t, _)| t.name.as_str()).collect();
    let mut todo: Vec<&str> = held.iter().copied().collect();
    while let Some(name) = todo.pop() {
        let Some(t) = pkg.type_named(name) else {
            continue;
        };
        for (_, ty, _) in all_fields(t) {
            ty.walk(&mut |ft| {
                if let FieldType::Local(n) = ft
                    && let Some(inner) = pkg.type_named(n)
                    && held.insert(inner.name.as_str())
                {
                    todo.push(inner.name.as_str());
                }
            });
        }
    }
    held
}

fn check_shared(
    t: &TypeDef,
    what: &FieldName<'_>,
    ty: &FieldType,
    span: SrcSpan,
    held_by_a_kind: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let mut found = None;
    ty.walk(&mut |ft| {
        if let FieldType::Shared { wrapper, .. } = ft
            && found.is_none()
        {
            found = Some(wrapper.name());
        }
    });
    if let Some(wrapper) = found {
        let mut d = Diagnostic::error(
            "E0401",
            format!(
                "{what} of `{}` uses `{wrapper}`, so copies would share state",
                t.name
            ),
        )
        .at(span, format!("`{wrapper}` is not deep-copied by `Clone`"))
        .note("objects from a cache are copied before they are changed; a shared value would change every copy");
        if !held_by_a_kind {
            // Controller state (a `Context` holding `Arc<RwLock<…>>`) is no API type at all.
            d = d.note(kube_codegen_model::output::NOT_AN_API_TYPE);
        }
        diags.push(
            d.help("own the value: use the inner type directly, or `Box<T>` for a recursive type"),
        );
    }
}

/// The deepcopy file of one package.
pub fn package(pkg: &Package, opts: &Options) -> TokenStream {
    let scheme = opts.crates.scheme.to_tokens();
    let impls = pkg
        .types
        .iter()
        .filter(|t| enabled(t) && !t.implements("Clone") && !t.has_generics)
        .map(|t| clone_impl(pkg, t, &scheme));
    let roots: Vec<TokenStream> = pkg
        .roots()
        .filter(|(t, _)| enabled(t))
        .map(|(t, _)| type_path(pkg, &t.name))
        .collect();
    let assertion = (!roots.is_empty()).then(|| {
        quote! {
            /// Every kind must be a deep `Clone`: caches hand out shared objects and callers copy
            /// them before changing anything.
            const _: fn() = || {
                fn assert_clone<T: ::core::clone::Clone>() {}
                #(assert_clone::<#roots>();)*
            };
        }
    });
    quote! {
        #(#impls)*
        #assertion
    }
}

fn ident(name: &str, raw: bool) -> Ident {
    if raw {
        Ident::new_raw(name, Span::call_site())
    } else {
        keyword_safe(name)
    }
}

/// One `deep_clone!` line per type: the runtime macro expands to the field-by-field `Clone`, so
/// the generated file lists types and fields and stays small.
fn clone_impl(pkg: &Package, t: &TypeDef, scheme: &TokenStream) -> TokenStream {
    let ty = type_path(pkg, &t.name);
    let args = match &t.body {
        TypeBody::Struct(fields) => {
            let ids = fields.iter().map(|f| ident(&f.name, f.raw));
            quote!(#ty { #(#ids),* })
        }
        TypeBody::Unit => quote!(#ty;),
        TypeBody::Tuple(ts) => {
            let idx = (0..ts.len()).map(syn_index);
            quote!(tuple #ty [#(#idx),*])
        }
        TypeBody::Enum(variants) => {
            let vs = variants.iter().map(|v| {
                let name = keyword_safe(&v.name);
                match &v.shape {
                    VariantShape::Unit => quote!(#name),
                    VariantShape::Tuple(ts) => {
                        let bind = (0..ts.len()).map(|i| format_ident!("f{i}"));
                        quote!(#name [#(#bind),*])
                    }
                    VariantShape::Struct(fields) => {
                        let ids = fields.iter().map(|f| ident(&f.name, f.raw));
                        quote!(#name { #(#ids),* })
                    }
                }
            });
            quote!(enum #ty { #(#vs),* })
        }
    };
    quote! { #scheme::deep_clone!(#args); }
}

fn syn_index(i: usize) -> TokenStream {
    let lit = proc_macro2::Literal::usize_unsuffixed(i);
    quote!(#lit)
}
