//! deepcopy-gen: guarantees every type of an API package is a deep `Clone`.
//!
//! Go needs `DeepCopyInto`; Rust's `Clone` is already a deep copy for owned data, so this
//! generator (1) rejects any field that would share state between copies (`Rc`, `Arc`,
//! `RefCell`, `Cell`, `Mutex`, `RwLock`, `Weak`; references and raw pointers are rejected by the
//! model), (2) writes field-by-field `Clone` impls for types that neither derive nor implement
//! `Clone`, and (3) asserts at compile time that every kind is `Clone`.
//!
//! Output: `<package>/zz_generated.deepcopy.rs`, included by the package module.

use kube_codegen_model::output::{Content, GeneratedFile, Generator, Options, Placement, type_path};
use kube_codegen_model::{
    Diagnostic, Field, FieldType, Model, Package, TypeBody, TypeDef, VariantShape,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

pub const NAME: &str = "deepcopy-gen";
pub const FILE: &str = "zz_generated.deepcopy.rs";

pub struct DeepcopyGen;

fn enabled(pkg: &Package, t: &TypeDef) -> bool {
    match t.tags.value("k8s:deepcopy-gen") {
        Some(v) => v != "false",
        None => pkg.tags.value("k8s:deepcopy-gen") != Some("false"),
    }
}

impl Generator for DeepcopyGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate(&self, model: &Model) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for pkg in &model.packages {
            for t in pkg.types.iter().filter(|t| enabled(pkg, t)) {
                for f in all_fields(t) {
                    check_shared(t, f, &mut diags);
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
                if !t.implements("Clone") && !t.is_pub && !t.module.is_empty() {
                    diags.push(
                        Diagnostic::error(
                            "E0403",
                            format!("`{}` has no `Clone` and is private to its module", t.name),
                        )
                        .at(t.span, "generated code cannot name this type")
                        .help(format!("add `#[derive(Clone)]` to `{}`, or make it `pub`", t.name)),
                    );
                }
            }
        }
        diags
    }

    fn generate_package(&self, _model: &Model, pkg: &Package, _opts: &Options) -> Vec<GeneratedFile> {
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Rust(package(pkg)),
        }]
    }
}

fn all_fields(t: &TypeDef) -> Vec<&Field> {
    match &t.body {
        TypeBody::Struct(f) => f.iter().collect(),
        TypeBody::Enum(vs) => vs
            .iter()
            .flat_map(|v| match &v.shape {
                VariantShape::Struct(f) => f.iter().collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect(),
    }
}

fn check_shared(t: &TypeDef, f: &Field, diags: &mut Vec<Diagnostic>) {
    let mut found = None;
    f.ty.walk(&mut |ft| {
        if let FieldType::Shared { wrapper, .. } = ft
            && found.is_none()
        {
            found = Some(wrapper.clone());
        }
    });
    if let Some(wrapper) = found {
        diags.push(
            Diagnostic::error(
                "E0401",
                format!(
                    "field `{}` of `{}` uses `{wrapper}`, so copies would share state",
                    f.name, t.name
                ),
            )
            .at(f.span, format!("`{wrapper}` is not deep-copied by `Clone`"))
            .note("objects from a cache are copied before they are changed; a shared value would change every copy")
            .help("own the value: use the inner type directly, or `Box<T>` for a recursive type"),
        );
    }
}

/// The deepcopy file of one package.
pub fn package(pkg: &Package) -> TokenStream {
    let impls = pkg
        .types
        .iter()
        .filter(|t| enabled(pkg, t) && !t.implements("Clone") && !t.has_generics)
        .map(|t| clone_impl(pkg, t));
    let roots: Vec<TokenStream> = pkg
        .roots()
        .filter(|(t, _)| enabled(pkg, t))
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
        Ident::new(name, Span::call_site())
    }
}

fn clone_impl(pkg: &Package, t: &TypeDef) -> TokenStream {
    let ty = type_path(pkg, &t.name);
    let body = match &t.body {
        TypeBody::Struct(fields) => {
            let inits = fields.iter().map(|f| {
                let id = ident(&f.name, f.raw);
                quote!(#id: ::core::clone::Clone::clone(&self.#id),)
            });
            quote!(Self { #(#inits)* })
        }
        TypeBody::Enum(variants) if variants.len() == 1 && variants[0].name == t.name => {
            // A tuple or unit struct, modelled as its single variant.
            match &variants[0].shape {
                VariantShape::Unit => quote!(Self),
                VariantShape::Tuple(ts) => {
                    let idx = (0..ts.len()).map(syn_index);
                    quote!(Self(#(::core::clone::Clone::clone(&self.#idx)),*))
                }
                VariantShape::Struct(_) => quote!(Self),
            }
        }
        TypeBody::Enum(variants) => {
            let arms = variants.iter().map(|v| {
                let name = ident(&v.name, false);
                match &v.shape {
                    VariantShape::Unit => quote!(Self::#name => Self::#name,),
                    VariantShape::Tuple(ts) => {
                        let bind: Vec<Ident> = (0..ts.len()).map(|i| format_ident!("f{i}")).collect();
                        quote!(Self::#name(#(#bind),*) => Self::#name(#(::core::clone::Clone::clone(#bind)),*),)
                    }
                    VariantShape::Struct(fields) => {
                        let ids: Vec<Ident> = fields.iter().map(|f| ident(&f.name, f.raw)).collect();
                        quote!(Self::#name { #(#ids),* } => Self::#name { #(#ids: ::core::clone::Clone::clone(#ids)),* },)
                    }
                }
            });
            if variants.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
    };
    quote! {
        impl ::core::clone::Clone for #ty {
            fn clone(&self) -> Self {
                #body
            }
        }
    }
}

fn syn_index(i: usize) -> TokenStream {
    let lit = proc_macro2::Literal::usize_unsuffixed(i);
    quote!(#lit)
}
