//! register-gen: per group/version constants, a list type and `add_to_scheme`; per kind the
//! `k8s_openapi` `Resource`/`Metadata`/`ListableResource` impls (so `kube::Api<Alert>` works
//! unchanged), `kube_codegen_scheme::Kind`, and the wire codec: serde that writes `apiVersion` and
//! `kind` and checks them when reading.
//!
//! Output: `<package>/zz_generated.register.rs`, included by the package module. An internal hub
//! is never on the wire: its file holds only each kind's `kube_codegen_scheme::Object` impl (what
//! the API server's registry keeps hub objects through).

use kube_codegen_model::output::{
    Content, GeneratedFile, Generator, Options, Placement, allow_unused, field_type_tokens,
    ident as keyword_safe, type_path,
};
use kube_codegen_model::{
    Diagnostic, Field, FieldType, Model, Package, Presence, Resource, TypeBody, TypeDef,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

pub const NAME: &str = "register-gen";
pub const FILE: &str = "zz_generated.register.rs";

pub struct RegisterGen;

impl Generator for RegisterGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::InCrate
    }

    fn validate_package(&self, _model: &Model, pkg: &Package) -> Vec<Diagnostic> {
        if !pkg.options.register {
            return Vec::new();
        }
        // A kind's codec and object access read and write its fields themselves, and name
        // their types.
        let mut diags: Vec<Diagnostic> = pkg
            .roots()
            .flat_map(|(t, _)| t.unreachable_member_errors(NAME))
            .collect();
        diags.extend(kube_codegen_model::output::unnameable_in_package(
            pkg,
            [],
            pkg.roots()
                .flat_map(|(t, _)| t.fields().iter().map(|f| &f.ty)),
        ));
        diags.extend(hand_written_kind_impls(pkg));
        diags
    }

    fn generate_package(&self, model: &Model, pkg: &Package, opts: &Options) -> Vec<GeneratedFile> {
        let _ = model;
        if !pkg.options.register {
            return Vec::new();
        }
        let content = if pkg.is_internal() {
            if pkg.roots().next().is_none() {
                return Vec::new();
            }
            hub_package(pkg, opts)
        } else {
            package(pkg, opts)
        };
        vec![GeneratedFile {
            path: pkg.dir.join(FILE),
            content: Content::Rust(content),
        }]
    }
}

/// The traits register-gen implements for every kind of an external version (a hub's kinds get
/// `Object` alone), by the paths a hand-written impl may name them: one written by hand too is
/// rustc's E0119 in the generated file. kube's `Resource` is implemented for every type with
/// k8s-openapi's `Resource` and `Metadata`.
const KIND_TRAITS: &[&[&str]] = &[
    &["serde", "Serialize"],
    &["serde", "ser", "Serialize"],
    &["serde", "Deserialize"],
    &["serde", "de", "Deserialize"],
    &["k8s_openapi", "Resource"],
    &["k8s_openapi", "ListableResource"],
    &["k8s_openapi", "Metadata"],
    &["kube_codegen_scheme", "Kind"],
    &["kube_codegen_scheme", "Object"],
    &["kube", "Resource"],
    &["kube", "core", "Resource"],
    &["kube_core", "Resource"],
];

/// E0302: a kind implementing by hand a trait register-gen implements for it.
fn hand_written_kind_impls(pkg: &Package) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (t, _) in pkg.roots() {
        for expected in KIND_TRAITS {
            let hub_implements = expected.last() == Some(&"Object");
            if pkg.is_internal() && !hub_implements {
                continue;
            }
            let Some(found) = kube_codegen_model::hand_written_impl(t, expected) else {
                continue;
            };
            let written = found.path.segments.join("::");
            let what = if expected.last() == Some(&"Resource") && expected[0] != "k8s_openapi" {
                format!(
                    "kube implements `{written}` for every type with k8s-openapi's `Resource` and `Metadata`, which register-gen writes for each kind"
                )
            } else {
                format!(
                    "register-gen writes `{}` for each kind ({})",
                    expected.join("::"),
                    if expected[0] == "serde" {
                        "its codec writes `apiVersion` and `kind` and checks them when reading"
                    } else {
                        "so that kube's `Api`, the scheme and the API server can use it"
                    }
                )
            };
            diags.push(
                Diagnostic::error(
                    "E0302",
                    format!("kind `{}` implements `{written}` by hand", t.name),
                )
                .at(found.span, "implemented again by generated code")
                .note(what)
                .help(format!(
                    "remove this impl: two impls of one trait for `{}` do not compile (rustc's E0119); there is no opt-out for a kind",
                    t.name
                )),
            );
        }
    }
    diags
}

/// The register file of one external package.
pub fn package(pkg: &Package, opts: &Options) -> TokenStream {
    let version = pkg.version.as_deref().unwrap_or_default();
    let group = &pkg.group;
    let group_version = format!("{group}/{version}");
    let scheme = opts.crates.scheme.to_tokens();
    let k8s = opts.crates.k8s_openapi.to_tokens();

    let allow = allow_unused();
    let mut lists = Vec::new();
    let mut adds = Vec::new();
    let mut impls = Vec::new();
    for (t, r) in pkg.roots() {
        let ty = type_path(pkg, &t.name);
        let list = format_ident!("{}List", t.name);
        let list_doc = format!(
            " A list of [`{}`]; its JSON kind is `{}List`.",
            t.name, t.name
        );
        lists.push(quote! {
            #[doc = #list_doc]
            #allow
            pub type #list = #k8s::List<#ty>;
        });
        adds.push(quote! { scheme.add::<#ty>(); });
        impls.push(kind_impls(pkg, t, r, opts));
    }
    let add_doc = format!(" Registers the kinds of `{group_version}` in a scheme.");
    // A package without kinds registers nothing: its parameter is unused.
    let param = if adds.is_empty() {
        quote::format_ident!("_scheme")
    } else {
        quote::format_ident!("scheme")
    };
    quote! {
        /// The API group of this package.
        #allow
        pub const GROUP_NAME: &str = #group;
        /// The version of this package.
        #allow
        pub const VERSION: &str = #version;
        /// `group/version`, the `apiVersion` of every kind in this package.
        #allow
        pub const GROUP_VERSION: &str = #group_version;
        #(#lists)*
        #[doc = #add_doc]
        #allow
        pub fn add_to_scheme(#param: &mut #scheme::Scheme) {
            #(#adds)*
        }
        #(#impls)*
    }
}

/// The register file of an internal hub: each kind's `Object` impl.
pub fn hub_package(pkg: &Package, opts: &Options) -> TokenStream {
    let scheme = opts.crates.scheme.to_tokens();
    let impls = pkg.roots().map(|(t, r)| {
        let ty = type_path(pkg, &t.name);
        let status = status_mode(pkg, t, r);
        quote! { #scheme::impl_object!(#ty #status); }
    });
    quote! { #(#impls)* }
}

/// How `impl_object!` handles a kind's status: `, status` when it can be reset to its default,
/// `, status no_default` when its type has none, nothing without a status.
fn status_mode(pkg: &Package, t: &TypeDef, r: &Resource) -> TokenStream {
    let status = t.fields().iter().find(|f| f.name == "status");
    match status {
        Some(f) if r.has_status && pkg.has_default(&f.ty) => quote!(, status),
        Some(_) if r.has_status => quote!(, status no_default),
        _ => TokenStream::new(),
    }
}

fn kind_impls(pkg: &Package, t: &TypeDef, r: &Resource, opts: &Options) -> TokenStream {
    // Three item macros, no `impl` blocks: the formatter builds an item macro without parsing
    // its body (the output's size and shape are the pipeline's time budget).
    let scheme = opts.crates.scheme.to_tokens();
    let ty = type_path(pkg, &t.name);
    let group = &pkg.group;
    let version = pkg.version.as_deref().unwrap_or_default();
    let api_version = format!("{group}/{version}");
    let kind = &r.kind;
    let list_kind = format!("{kind}List");
    let plural = &r.plural;
    let singular = &r.singular;
    let namespaced = r.namespaced;
    let has_status = r.has_status;
    let scope = if r.namespaced {
        quote!(NamespaceResourceScope)
    } else {
        quote!(ClusterResourceScope)
    };
    // Only what a kind has: the macro leaves the rest empty.
    let mut extra = Vec::new();
    if !r.short_names.is_empty() {
        let names = &r.short_names;
        extra.push(quote!(short_names: &[#(#names),*],));
    }
    if !r.categories.is_empty() {
        let categories = &r.categories;
        extra.push(quote!(categories: &[#(#categories),*],));
    }
    let mut sections = Vec::new();
    if !r.printer_columns.is_empty() {
        let columns = r.printer_columns.iter().map(|c| {
            let (name, type_, path) = (&c.name, c.type_.as_str(), &c.json_path);
            let description = c.description.as_ref().map(|d| quote!(, description: #d));
            let format = c.format.as_ref().map(|f| quote!(, format: #f));
            let priority = (c.priority != 0).then(|| {
                let p = proc_macro2::Literal::i32_unsuffixed(c.priority);
                quote!(, priority: #p)
            });
            quote!({ name: #name, type_: #type_, json_path: #path #description #format #priority })
        });
        sections.push(quote!(printer_columns [#(#columns),*]));
    }
    if let Some(s) = &r.scale {
        let (spec, status) = (&s.spec_replicas_path, &s.status_replicas_path);
        let selector = s
            .label_selector_path
            .as_ref()
            .map(|p| quote!(, label_selector_path: ::core::option::Option::Some(&[#(#p),*])));
        sections.push(quote! {
            scale {
                spec_replicas_path: &[#(#spec),*],
                status_replicas_path: &[#(#status),*]
                #selector
            }
        });
    }
    // protobuf-gen gave the kind a message: say so where servers and clients look.
    if pkg.options.protobuf && !pkg.is_internal() && t.options.protobuf {
        let pb = opts.crates.protobuf.to_tokens();
        sections.push(quote!(protobuf(#pb)));
    }
    let codec = codec_fields(pkg, t.fields(), opts);
    let name = &t.name;
    let status = status_mode(pkg, t, r);
    quote! {
        #scheme::impl_resource!(#ty, #api_version, #scope #status);
        #scheme::impl_kind!(#ty {
            group: #group,
            version: #version,
            kind: #kind,
            list_kind: #list_kind,
            plural: #plural,
            singular: #singular,
            namespaced: #namespaced,
            has_status: #has_status,
            #(#extra)*
        } #(#sections)*);
        #scheme::kind_codec!(#ty, #name { #(#codec)* });
    }
}

fn field_ident(f: &Field) -> Ident {
    if f.raw {
        Ident::new_raw(&f.name, Span::call_site())
    } else {
        keyword_safe(&f.name)
    }
}

/// The fields of a kind for the runtime's `kind_codec!`: `name: Type = "wire", omit, [serde
/// attributes for reading];` — a rename when the wire name differs, `default` when a missing
/// field reads as its default; `None` options and empty collections are left out when written,
/// and so are an `+optional` string when empty and an `+optional` bool or number when false or
/// 0 (Go's `omitempty`: written anyway, server-side apply would make every writer their owner).
fn codec_fields(pkg: &Package, fields: &[Field], opts: &Options) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|f| {
            let id = field_ident(f);
            let ty = field_type_tokens(pkg, &f.ty, opts);
            let wire = f.wire_name();
            let optional = f.options.presence == Some(Presence::Optional);
            let omit = match &f.ty {
                FieldType::Option(_) => quote!(none),
                FieldType::Vec(_) | FieldType::Map { .. } | FieldType::Set { .. } => quote!(empty),
                FieldType::String if optional => quote!(empty),
                FieldType::Bool | FieldType::Int(_) | FieldType::Float(_) if optional => {
                    quote!(zero)
                }
                _ => quote!(always),
            };
            let rename = (wire != f.name).then(|| quote!(rename = #wire));
            // A serde-derived struct left out reads as `{}` does (its fields' serde defaults),
            // not as its `Default` alone.
            let from_empty = matches!(&f.ty, FieldType::Local(name)
            if pkg.type_named(name).is_some_and(|t| {
                matches!(t.body, TypeBody::Struct(_)) && t.derives.contains("Deserialize")
            }));
            let default = pkg.has_default(&f.ty).then(|| {
                if from_empty {
                    quote!(default = "::kube_codegen_scheme::default_from_empty")
                } else {
                    quote!(default)
                }
            });
            let attrs = rename.into_iter().chain(default);
            quote!(#id: #ty = #wire, #omit, [#(#attrs),*];)
        })
        .collect()
}
