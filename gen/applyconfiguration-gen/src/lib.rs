//! applyconfiguration-gen: for server-side apply, per struct type of a `+genclient` package an
//! apply configuration — every field optional, chainable setters, only what was set serialised
//! (`AlertApplyConfiguration::new("a1", "default").spec(AlertSpecApplyConfiguration::new()
//! .content("…"))`) — and per kind `extract_<kind>(&object, field_manager)` (and
//! `extract_<kind>_status`), what a manager owns read back as a configuration (Go's
//! `ExtractAlert`). Thin over `kube_codegen_client::apply`.
//!
//! Output (in the separate output root): `applyconfigurations/mod.rs` and
//! `applyconfigurations/<group>_<version>.rs`, beside client-gen's `clientset/`.

use std::collections::BTreeSet;

use kube_codegen_model::clients::{ClientKind, group_version_files, module_declarations};
use kube_codegen_model::naming::snake_case;
use kube_codegen_model::output::{
    GeneratedFile, Generator, Options, Placement, absolute_type_path, field_type_tokens_with,
    ident, unnameable_from_outside,
};
use kube_codegen_model::{FieldType, KnownType, TypeBody, TypeDef};
use kube_codegen_model::{Model, Package};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Methods of standard traits clippy's `should_implement_trait` knows: a setter of a field of
/// that name gets the lint allowed.
const STD_TRAIT_METHODS: &[&str] = &[
    "add",
    "as_mut",
    "as_ref",
    "bitand",
    "bitor",
    "bitxor",
    "borrow",
    "borrow_mut",
    "clone",
    "cmp",
    "default",
    "deref",
    "deref_mut",
    "div",
    "drop",
    "eq",
    "from_iter",
    "from_str",
    "hash",
    "index",
    "index_mut",
    "into_iter",
    "mul",
    "neg",
    "next",
    "not",
    "rem",
    "shl",
    "shr",
    "sub",
];

pub const NAME: &str = "applyconfiguration-gen";
/// The apply configurations' module directory, under the separate output root.
pub const DIR: &str = "applyconfigurations";

pub struct ApplyConfigurationGen;

impl Generator for ApplyConfigurationGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::Separate
    }

    /// The kinds, and the package's types a configuration holds as they are (enums, generic
    /// types): named from another crate.
    fn validate(&self, model: &Model) -> Vec<kube_codegen_model::Diagnostic> {
        let mut diags = Vec::new();
        for (pkg, kinds) in kube_codegen_model::clients::client_packages(model) {
            let configured = configured_types(pkg, &kinds);
            let held = held_as_is(pkg, &configured);
            let named = kinds
                .iter()
                .map(|k| k.ty.name.as_str())
                .chain(held.iter().map(|t| t.name.as_str()));
            diags.extend(unnameable_from_outside(pkg, named));
            // Configurations are serde types holding these as they are: each must be one.
            for t in held.iter().chain(&siblings_held(model, pkg, &configured)) {
                let missing: Vec<&str> = ["Serialize", "Deserialize"]
                    .into_iter()
                    // A kind's serde is register-gen's.
                    .filter(|d| t.resource.is_none() && !t.implements(d))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let holder = configured
                    .iter()
                    .find(|c| {
                        c.fields().iter().any(|f| {
                            let mut holds = false;
                            f.ty.walk(&mut |ft| {
                                holds |= matches!(ft, FieldType::Local(n) if *n == t.name)
                                    || matches!(ft, FieldType::Foreign { path, .. } if path.last() == t.name);
                            });
                            holds
                        })
                    })
                    .map_or(String::new(), |c| format!(" `{}ApplyConfiguration`", c.name));
                diags.push(
                    kube_codegen_model::Diagnostic::error(
                        "E0801",
                        format!(
                            "`{}` does not implement `{}`, which the apply configuration{holder} holding it needs",
                            t.name,
                            missing.join("` or `")
                        ),
                    )
                    .at(t.span, format!("held as it is by the apply configurations of {}", pkg.display_name()))
                    .note("an apply configuration is sent as JSON and read back from managed fields (`extract_<kind>`): the types it holds as they are (enums, tuple and generic types, other packages' types) must serialize and deserialize")
                    .help(format!(
                        "derive (or implement) `{}` for `{}`",
                        missing.join("` and `"),
                        t.name
                    )),
                );
            }
            // `extract_<kind>` and `extract_<kind>_status` of every kind are one namespace:
            // kinds `Widget` (with a status) and `WidgetStatus` would both write
            // `extract_widget_status`.
            let mut seen: std::collections::BTreeMap<String, &str> = Default::default();
            for k in &kinds {
                let snake = snake_case(&k.ty.name);
                let mut names = vec![format!("extract_{snake}")];
                if k.resource.has_status {
                    names.push(format!("extract_{snake}_status"));
                }
                for name in names {
                    if let Some(first) = seen.insert(name.clone(), &k.ty.name) {
                        diags.push(
                            kube_codegen_model::Diagnostic::error(
                                "E0309",
                                format!(
                                    "`{first}` and `{}` would both have the apply-configuration function `{name}`",
                                    k.ty.name
                                ),
                            )
                            .at(k.ty.span, "applyconfiguration-gen writes it for this kind")
                            .help("rename one of the kinds (a kind `<Kind>Status` beside a kind `<Kind>` with a status clashes)"),
                        );
                    }
                }
            }
        }
        diags
    }

    fn generate_model(&self, model: &Model, opts: &Options) -> Vec<GeneratedFile> {
        group_version_files(
            model,
            DIR,
            |packages, names| module_declarations(packages, names, "Apply configurations"),
            |pkg, kinds, _| group_version(model, pkg, kinds, opts),
        )
    }
}

/// The struct types reachable from the package's client kinds through its own types.
fn configured_types<'a>(pkg: &'a Package, kinds: &[ClientKind<'a>]) -> Vec<&'a TypeDef> {
    fn visit(ty: &FieldType, pkg: &Package, seen: &mut BTreeSet<String>) {
        match ty {
            FieldType::Local(name) => {
                if let Some(t) = pkg.type_named(name)
                    && !t.has_generics
                    && matches!(t.body, TypeBody::Struct(_))
                    && seen.insert(name.clone())
                    && let TypeBody::Struct(fields) = &t.body
                {
                    for f in fields {
                        visit(&f.ty, pkg, seen);
                    }
                }
            }
            FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => visit(t, pkg, seen),
            FieldType::Map { value, .. } => visit(value, pkg, seen),
            FieldType::Set { elem, .. } => visit(elem, pkg, seen),
            FieldType::Shared { inner, .. } => visit(inner, pkg, seen),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    for k in kinds {
        visit(&FieldType::Local(k.ty.name.clone()), pkg, &mut seen);
    }
    // In declaration order.
    pkg.types
        .iter()
        .filter(|t| seen.contains(&t.name))
        .collect()
}

/// The package's types configurations hold as they are (enums, tuple and generic types): not
/// configured themselves.
fn held_as_is<'a>(pkg: &'a Package, configured: &[&TypeDef]) -> Vec<&'a TypeDef> {
    let names: BTreeSet<&str> = configured.iter().map(|t| t.name.as_str()).collect();
    let mut held = BTreeSet::new();
    for t in configured {
        for f in t.fields() {
            f.ty.walk(&mut |ft| {
                if let FieldType::Local(n) = ft
                    && !names.contains(n.as_str())
                {
                    held.insert(n.clone());
                }
            });
        }
    }
    pkg.types
        .iter()
        .filter(|t| held.contains(&t.name))
        .collect()
}

/// The types of other packages of the model configurations hold as they are (a kind of one
/// group holding a reference type of another, a type the hub shares between versions): what
/// the configurations derive, they must have.
fn siblings_held<'a>(model: &'a Model, pkg: &Package, configured: &[&TypeDef]) -> Vec<&'a TypeDef> {
    let mut held: Vec<&TypeDef> = Vec::new();
    for t in configured {
        for f in t.fields() {
            f.ty.walk(&mut |ft| {
                if let FieldType::Foreign { path, args } = ft
                    && args.is_empty()
                    && let Some((_, sibling)) = model.package_type(pkg, path)
                    && !held.iter().any(|h| std::ptr::eq(*h, sibling))
                {
                    held.push(sibling);
                }
            });
        }
    }
    held
}

fn group_version(
    model: &Model,
    pkg: &Package,
    kinds: &[ClientKind<'_>],
    opts: &Options,
) -> TokenStream {
    let configured = configured_types(pkg, kinds);
    let names: BTreeSet<&str> = configured.iter().map(|t| t.name.as_str()).collect();
    // `Debug` and `PartialEq` where every type held as is has them (a configuration holds the
    // package's enums verbatim, other packages' types too, and other configurations, which
    // derive alike).
    let mut held = held_as_is(pkg, &configured);
    held.extend(siblings_held(model, pkg, &configured));
    let client = opts.crates.client.to_tokens();
    let derives: Vec<TokenStream> = ["Clone", "Debug", "Default", "PartialEq"]
        .into_iter()
        .filter(|d| matches!(*d, "Clone" | "Default") || held.iter().all(|t| t.implements(d)))
        .map(|d| {
            let d = format_ident!("{d}");
            quote!(#d)
        })
        .chain([
            quote!(#client::__private::serde::Serialize),
            quote!(#client::__private::serde::Deserialize),
        ])
        .collect();
    let items = configured.iter().map(|ty| {
        let kind = kinds.iter().find(|k| k.ty.name == ty.name);
        configuration(pkg, ty, kind, &names, &derives, opts)
    });
    quote! { #(#items)* }
}

/// `Name` + `ApplyConfiguration`.
fn config_ident(name: &str) -> proc_macro2::Ident {
    format_ident!("{name}ApplyConfiguration")
}

/// The type a field holds in a configuration (without its `Option`).
fn configured_type(
    pkg: &Package,
    ty: &FieldType,
    names: &BTreeSet<&str>,
    opts: &Options,
) -> TokenStream {
    let client = opts.crates.client.to_tokens();
    let inner = |t: &FieldType| configured_type(pkg, t, names, opts);
    match ty {
        FieldType::Option(t) => inner(t),
        // Kept: a type that contains itself needs the indirection in its configuration too.
        FieldType::Box(t) => {
            let t = inner(t);
            quote!(::std::boxed::Box<#t>)
        }
        FieldType::Shared { inner: t, .. } => inner(t),
        FieldType::Local(name) if names.contains(name.as_str()) => {
            let id = config_ident(name);
            quote!(#id)
        }
        FieldType::Vec(t) => {
            let t = inner(t);
            quote!(::std::vec::Vec<#t>)
        }
        // A set of configurations would need them ordered or hashed: a list, as on the wire.
        FieldType::Set { elem, .. } if matches!(&**elem, FieldType::Local(n) if names.contains(n.as_str())) =>
        {
            let t = inner(elem);
            quote!(::std::vec::Vec<#t>)
        }
        FieldType::Set { ordered, elem } => {
            let e = inner(elem);
            if *ordered {
                quote!(::std::collections::BTreeSet<#e>)
            } else {
                quote!(::std::collections::HashSet<#e>)
            }
        }
        FieldType::Map { kind, value } => {
            let v = inner(value);
            if kind.ordered() {
                quote!(::std::collections::BTreeMap<::std::string::String, #v>)
            } else {
                quote!(::std::collections::HashMap<::std::string::String, #v>)
            }
        }
        FieldType::Known(KnownType::ObjectMeta) => {
            quote!(#client::apply::ObjectMetaApplyConfiguration)
        }
        // A path relative to the API crate, or a bare name the loader could not resolve (a type
        // an item macro declares), cannot be named from here: its JSON. Arbitrary JSON too goes
        // through the client crate, which a client crate of its own depends on (it may not
        // depend on serde_json).
        // `crate::…` of the API crate is `<its name>::…` from the client crate.
        FieldType::Foreign { path, args }
            if !path.global && path.first() == "crate" && api_crate(pkg).is_some() =>
        {
            let mut named = path.clone();
            named.segments[0] = api_crate(pkg).unwrap_or_default().to_string();
            named.global = true;
            inner(&FieldType::Foreign {
                path: named,
                args: args.clone(),
            })
        }
        FieldType::Foreign { .. } if !nameable_from_client(ty) => {
            quote!(#client::__private::serde_json::Value)
        }
        FieldType::Known(KnownType::Json) => quote!(#client::__private::serde_json::Value),
        other => field_type_tokens_with(other, opts, &|name| {
            absolute_type_path(pkg, name).unwrap_or_else(|| {
                let id = ident(name);
                quote!(#id)
            })
        }),
    }
}

/// The API crate's name, when the package's module path starts with it (not `crate::`).
fn api_crate(pkg: &Package) -> Option<&str> {
    pkg.rust_path
        .as_deref()
        .and_then(|p| p.split("::").next())
        .filter(|first| *first != "crate")
}

/// Whether the client crate can name a foreign type as the API crate wrote it: not through a
/// path relative to the API crate (`crate::`, `self::`, `super::`), nor by a bare name that only
/// the API crate's scope gives a meaning (`FromMacro`, declared by `make_struct!(FromMacro);`:
/// the loader keeps a name it cannot resolve where item macros may declare it) — in the path or
/// in any of its type arguments. Bare names of the prelude (`Result<T, E>`) are nameable
/// anywhere. (A bare generic parameter never gets here: configured types are not generic.)
fn nameable_from_client(ty: &FieldType) -> bool {
    /// Types every crate names without an import. The prelude's `Option`, `Vec`, `Box` and
    /// `String` and the primitives are lowered to their own variants; a name of them reaches here
    /// only with unusual type arguments.
    const PRELUDE: &[&str] = &[
        "Option", "Result", "Vec", "Box", "String", "bool", "char", "str", "i8", "i16", "i32",
        "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64",
    ];
    let mut nameable = true;
    ty.walk(&mut |ft| {
        if let FieldType::Foreign { path, .. } = ft
            && (path.is_relative() || (path.is_single() && !PRELUDE.contains(&path.last())))
        {
            nameable = false;
        }
    });
    nameable
}

fn configuration(
    pkg: &Package,
    ty: &TypeDef,
    kind: Option<&ClientKind<'_>>,
    names: &BTreeSet<&str>,
    derives: &[TokenStream],
    opts: &Options,
) -> TokenStream {
    let client = opts.crates.client.to_tokens();
    let serde_crate = format!("{}::__private::serde", opts.crates.client);
    let name = &ty.name;
    let config = config_ident(name);
    let TypeBody::Struct(fields) = &ty.body else {
        return TokenStream::new();
    };
    let mut members = Vec::new();
    let mut setters = Vec::new();
    if kind.is_some() {
        members.push(quote! {
            #[serde(rename = "apiVersion", default, skip_serializing_if = "::core::option::Option::is_none")]
            pub api_version: ::core::option::Option<::std::string::String>,
            #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
            pub kind: ::core::option::Option<::std::string::String>,
        });
    }
    // The configuration is written as the type is: skipped fields (`skip_serializing` too:
    // never written back, so never owned) are not on the wire, and flattened ones put their
    // fields (or entries) beside the type's own.
    let written = |f: &&kube_codegen_model::Field| {
        !f.serde.skip && !f.serde.keys.iter().any(|k| k == "skip_serializing")
    };
    for f in fields.iter().filter(written) {
        let field = ident(&f.name);
        let wire = &f.wire;
        let t = configured_type(pkg, &f.ty, names, opts);
        let docs = f.docs.iter().map(|d| quote!(#[doc = #d]));
        let serde_attr = if f.serde.flatten {
            quote!(#[serde(flatten)])
        } else {
            quote!(#[serde(rename = #wire, default, skip_serializing_if = "::core::option::Option::is_none")])
        };
        members.push(quote! {
            #(#docs)*
            #serde_attr
            pub #field: ::core::option::Option<#t>,
        });
        let doc = format!(" Sets `{wire}`.");
        // `new` is the constructor: its field's setter is `with_new` (Go's `WithNew`), or
        // `set_new` when a field `with_new` has that setter already.
        let setter = if f.name == "new" {
            if fields.iter().any(|g| g.name == "with_new") {
                format_ident!("set_new")
            } else {
                format_ident!("with_new")
            }
        } else {
            field.clone()
        };
        // A value of an enum without variants cannot be made: rustc knows the setter's body
        // after `value.into()` is never reached.
        let uninhabited =
            holds_no_value(pkg, &f.ty).then(|| quote!(#[allow(unreachable_code, unused_mut)]));
        if kind.is_some() && f.name == "metadata" {
            // Merged, not replaced: `new(name, namespace)` named the object, and a Rust builder's
            // later call adds to what earlier ones set — `.metadata(ObjectMetaApplyConfiguration
            // ::new().finalizers(…))` dropping the name would leave an apply with no object to
            // go to. A field the value sets still replaces the one set before (a map or list
            // whole); replacing `metadata` whole is assigning the field.
            setters.push(quote! {
                /// Merges `value` into `metadata`: each field it sets replaces the one set before
                /// (a map or list whole), each it leaves unset keeps its value — the name and
                /// namespace `new` set stay unless it names others. To replace `metadata` whole,
                /// assign the field.
                pub fn metadata(mut self, value: impl ::core::convert::Into<#t>) -> Self {
                    self.metadata = ::core::option::Option::Some(
                        self.metadata.take().unwrap_or_default().merge(value.into()),
                    );
                    self
                }
            });
            continue;
        }
        setters.push(quote! {
            #[doc = #doc]
            #uninhabited
            pub fn #setter(mut self, value: impl ::core::convert::Into<#t>) -> Self {
                self.#field = ::core::option::Option::Some(value.into());
                self
            }
        });
    }
    let doc = format!(
        " An apply configuration of `{name}`: every field optional; only the fields set are sent, and the applying manager owns exactly those."
    );
    let mut extra = TokenStream::new();
    let new = match kind {
        Some(k) => {
            let kind_path = k.path();
            let has_meta = fields.iter().any(|f| f.name == "metadata");
            let (params, meta) = if k.resource.namespaced {
                (
                    quote!(name: impl ::core::convert::Into<::std::string::String>, namespace: impl ::core::convert::Into<::std::string::String>),
                    quote!(#client::apply::ObjectMetaApplyConfiguration::new().name(name).namespace(namespace)),
                )
            } else {
                (
                    quote!(name: impl ::core::convert::Into<::std::string::String>),
                    quote!(#client::apply::ObjectMetaApplyConfiguration::new().name(name)),
                )
            };
            let set_meta = has_meta.then(|| quote!(metadata: ::core::option::Option::Some(#meta),));
            // The rest of the fields, when `new` leaves any (a kind of metadata alone has none:
            // clippy's needless_update).
            let rest = fields
                .iter()
                .filter(written)
                .any(|f| f.name != "metadata")
                .then(|| quote!(..::core::default::Default::default()));
            let new_doc = format!(
                " An apply configuration of the `{name}` named so{}: `apiVersion` and `kind` set.",
                if k.resource.namespaced {
                    ", in that namespace"
                } else {
                    ""
                }
            );
            // `metadata`'s setters on the kind itself (Go's `WithName`, `WithFinalizers`, …),
            // writing into `metadata` (made when unset, its other fields kept). A kind's own
            // field of the same name keeps its setter.
            let meta_helpers = if has_meta {
                let own: BTreeSet<&str> = fields
                    .iter()
                    .filter(written)
                    .map(|f| f.name.as_str())
                    .collect();
                meta_setters(opts, k.resource.namespaced)
                    .into_iter()
                    .filter(|(setter, _)| !own.contains(setter))
                    .map(|(_, tokens)| tokens)
                    .collect()
            } else {
                TokenStream::new()
            };
            let (name_expr, namespace_expr) = if has_meta {
                (
                    quote!(self.metadata.as_ref().and_then(|m| m.name.as_deref())),
                    quote!(self.metadata.as_ref().and_then(|m| m.namespace.as_deref())),
                )
            } else {
                (
                    quote!(::core::option::Option::None),
                    quote!(::core::option::Option::None),
                )
            };
            let snake = snake_case(name);
            let extract = format_ident!("extract_{snake}");
            let extract_doc = format!(
                " What `field_manager` applied to `{snake}` (its `Apply` entry in `metadata.managedFields`), as an apply configuration with the object's identity: change it and apply it again to update exactly those fields (Go's `Extract{name}`)."
            );
            let schemas = absolute_type_path(pkg, "OPENAPI_SCHEMAS");
            let definition = openapi_gen::definition_name(pkg, name);
            if let Some(schemas) = schemas.filter(|_| pkg.options.openapi && ty.options.openapi) {
                let status = k.resource.has_status.then(|| {
                    let extract_status = format_ident!("extract_{snake}_status");
                    let doc = format!(
                        " What `field_manager` applied to `{snake}`'s `status` subresource."
                    );
                    quote! {
                        #[doc = #doc]
                        pub fn #extract_status(
                            object: &#kind_path,
                            field_manager: &str,
                        ) -> ::core::result::Result<#config, #client::apply::ExtractError> {
                            #client::apply::extract(object, field_manager, ::core::option::Option::Some("status"), #schemas, #definition)
                        }
                    }
                });
                extra = quote! {
                    #[doc = #extract_doc]
                    pub fn #extract(
                        object: &#kind_path,
                        field_manager: &str,
                    ) -> ::core::result::Result<#config, #client::apply::ExtractError> {
                        #client::apply::extract(object, field_manager, ::core::option::Option::None, #schemas, #definition)
                    }

                    #status
                };
            }
            let trait_impl = quote! {
                impl #client::apply::ApplyConfiguration for #config {
                    type Object = #kind_path;
                    fn name(&self) -> ::core::option::Option<&str> {
                        #name_expr
                    }
                    fn namespace(&self) -> ::core::option::Option<&str> {
                        #namespace_expr
                    }
                }
            };
            extra = quote! { #trait_impl #extra };
            let api_version = match k.pkg.version.as_deref() {
                Some(v) if !k.pkg.group.is_empty() => format!("{}/{v}", k.pkg.group),
                Some(v) => v.to_string(),
                None => k.pkg.group.clone(),
            };
            quote! {
                #[doc = #new_doc]
                pub fn new(#params) -> Self {
                    #config {
                        api_version: ::core::option::Option::Some(#api_version.into()),
                        kind: ::core::option::Option::Some(#name.into()),
                        #set_meta
                        #rest
                    }
                }

                #meta_helpers
            }
        }
        None => quote! {
            /// An empty configuration.
            pub fn new() -> Self {
                ::core::default::Default::default()
            }
        },
    };
    // The fields carry the user's docs, copied: Markdown the user's own code may allow (a
    // lazily continued list item, a link to a type not in scope here) must not warn here.
    let doc_lints = fields
        .iter()
        .any(|f| !f.serde.skip && !f.docs.is_empty())
        .then(|| {
            quote! {
                #[allow(
                    unknown_lints,
                    clippy::doc_lazy_continuation,
                    clippy::doc_overindented_list_items,
                    clippy::doc_nested_refdefs,
                    clippy::tabs_in_doc_comments,
                    clippy::too_long_first_doc_paragraph,
                    rustdoc::broken_intra_doc_links,
                    rustdoc::private_intra_doc_links,
                    rustdoc::invalid_html_tags,
                    rustdoc::bare_urls
                )]
            }
        });
    // Setters are named after the fields (`add` in Gateway API's header filter): not the
    // operator traits clippy would have such a method implement.
    let trait_names = fields
        .iter()
        .any(|f| !f.serde.skip && STD_TRAIT_METHODS.contains(&f.name.as_str()))
        .then(|| quote!(#[allow(clippy::should_implement_trait)]));
    // Fields and setters are named as the type's fields are: a name the user's own code allows
    // (`ociDigest` beside `rename_all = "camelCase"`) must not warn here.
    let snake = fields
        .iter()
        .any(|f| !f.serde.skip && !is_snake_case(&f.name))
        .then(|| quote!(#[allow(non_snake_case)]));
    // The configuration of a type named in lower case (`r#match`) is `matchApplyConfiguration`,
    // as the type's own name warns only where the user wrote it.
    let camel = name
        .starts_with(|c: char| !c.is_ascii_uppercase())
        .then(|| quote!(#[allow(non_camel_case_types)]));
    quote! {
        #[doc = #doc]
        #doc_lints
        #snake
        #camel
        #[derive(#(#derives),*)]
        #[serde(crate = #serde_crate)]
        // Fields and setters hold the user's types wrapped once more (`Option<…>`): a type the
        // user's own code nests deeply is past clippy's `type_complexity` here.
        #[allow(clippy::type_complexity)]
        pub struct #config {
            #(#members)*
        }

        #trait_names
        #snake
        #[allow(clippy::type_complexity)]
        impl #config {
            #new

            #(#setters)*
        }

        #extra
    }
}

/// The kind-level setters of `metadata`'s fields, by name: each calls
/// `ObjectMetaApplyConfiguration`'s setter of the same name on `metadata` (made when unset).
/// `namespace` only for a namespaced kind: a cluster-scoped object has none.
fn meta_setters(opts: &Options, namespaced: bool) -> Vec<(&'static str, TokenStream)> {
    let k8s = opts.crates.k8s_openapi.to_tokens();
    let string = quote!(::core::convert::Into<::std::string::String>);
    let pairs = quote!(<K: #string, V: #string>);
    let pairs_arg = quote!(impl ::core::iter::IntoIterator<Item = (K, V)>);
    #[rustfmt::skip]
    let table: Vec<(&'static str, &str, TokenStream, TokenStream)> = vec![
        ("name", " Sets `metadata.name`: the object applied to.", quote!(), quote!(impl #string)),
        ("generate_name", " Sets `metadata.generateName`: asks the server to name the object, this prefix and a random suffix (an apply names its object, so this is only sent along).", quote!(), quote!(impl #string)),
        ("namespace", " Sets `metadata.namespace`: it must be the client's.", quote!(), quote!(impl #string)),
        ("uid", " Sets `metadata.uid`, a precondition: the apply is refused unless the object has this uid (it was not deleted and created again under its name since it was read).", quote!(), quote!(impl #string)),
        ("resource_version", " Sets `metadata.resourceVersion`, a precondition: the apply is refused (409) unless the object is at this version.", quote!(), quote!(impl #string)),
        ("labels", " Adds labels to `metadata` (the ones given; others already set are kept).", pairs.clone(), pairs_arg.clone()),
        ("annotations", " Adds annotations to `metadata` (the ones given; others already set are kept).", pairs, pairs_arg),
        ("finalizers", " Adds finalizers to `metadata` (after those already set).", quote!(<F: #string>), quote!(impl ::core::iter::IntoIterator<Item = F>)),
        ("owner_references", " Adds owner references to `metadata` (after those already set).", quote!(), quote!(impl ::core::iter::IntoIterator<Item = #k8s::apimachinery::pkg::apis::meta::v1::OwnerReference>)),
    ];
    table
        .into_iter()
        .filter(|(name, ..)| namespaced || *name != "namespace")
        .map(|(name, doc, generics, arg)| {
            let setter = format_ident!("{name}");
            let tokens = quote! {
                #[doc = #doc]
                pub fn #setter #generics(mut self, #setter: #arg) -> Self {
                    self.metadata = ::core::option::Option::Some(
                        self.metadata.take().unwrap_or_default().#setter(#setter),
                    );
                    self
                }
            };
            (name, tokens)
        })
        .collect()
}

/// Whether a field of this type holds a value of an enum without variants (`Option<Never>`):
/// its setter's argument can never exist.
fn holds_no_value(pkg: &Package, ty: &FieldType) -> bool {
    match ty {
        FieldType::Option(t) | FieldType::Box(t) => holds_no_value(pkg, t),
        FieldType::Local(n) => pkg
            .type_named(n)
            .is_some_and(|t| matches!(&t.body, TypeBody::Enum(v) if v.is_empty())),
        _ => false,
    }
}

/// Whether rustc's `non_snake_case` lint accepts `name` as a field or method name.
fn is_snake_case(name: &str) -> bool {
    !name.chars().any(|c| c.is_uppercase())
}
