//! client-gen: a typed clientset over every group/version with `+genclient` kinds.
//!
//! Output (in the separate output root, `--client-out` / `Config::client_out`):
//!
//! - `clientset/mod.rs`: `Clientset` (`new(kube::Client)`, `try_default()`, one accessor per
//!   group/version) and, behind the user crate's `fake` feature, `fake::builder()` — a fake
//!   API server with every kind registered (versions of one kind through their hub).
//! - `clientset/<group>_<version>.rs`: the group/version's client with one accessor per kind
//!   (`alerts(namespace)`, `alerts_all_namespaces()`, or `policies()` for a cluster-scoped kind);
//!   per kind a verb set — an uninhabited type implementing the `kube_codegen_client::verbs` its
//!   tags allow, so a verb it lacks does not compile — a `<Kind>Client` alias of the generic
//!   `kube_codegen_client::Client`, and a `<Kind>Methods` trait for `+genclient:method=` verbs.
//!
//! Generated code names the types by their absolute Rust path, so the clientset can live in a
//! crate of its own.

use std::collections::BTreeMap;

use kube_codegen_model::clients::{
    ClientKind, client_packages, group_version_files, upper_camel, version_priority,
};
use kube_codegen_model::output::{
    GeneratedFile, Generator, Options, Placement, absolute_type_path, allow_unused,
    field_type_tokens_with, ident, unnameable_from_outside,
};
use kube_codegen_model::{
    ConversionTag, CustomMethod, Diagnostic, FieldType, Model, Package, Verb, naming,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The typed client's own methods (`kube_codegen_client::Client`): a `+genclient:method=`
/// named like one is shadowed by it.
const CLIENT_METHODS: &[&str] = &[
    "api",
    "apply",
    "apply_status",
    "cluster",
    "content_type",
    "create",
    "create_subresource",
    "delete",
    "delete_collection",
    "get",
    "get_subresource",
    "list",
    "namespace",
    "namespaced",
    "new",
    "patch",
    "patch_status",
    "patch_subresource",
    "update",
    "update_status",
    "update_subresource",
    "watch",
];

pub const NAME: &str = "client-gen";
/// The clientset's module directory, under the separate output root.
pub const DIR: &str = "clientset";

pub struct ClientGen;

/// Custom verbs client-gen writes methods for.
const METHOD_VERBS: [Verb; 4] = [Verb::Get, Verb::Create, Verb::Update, Verb::Patch];

impl Generator for ClientGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::Separate
    }

    fn validate(&self, model: &Model) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (pkg, kinds) in client_packages(model) {
            // A directory whose name is no Rust identifier (`example.com/v1/`): the path the
            // layout gives is no Rust path.
            if let Some(path) = pkg.rust_path.as_deref()
                && let Some(bad) = path
                    .split("::")
                    .find(|s| !kube_codegen_model::naming::is_rust_ident(s))
            {
                diags.push(
                    Diagnostic::error(
                        "E0701",
                        format!(
                            "client-gen cannot name the types of {}: its directory `{bad}` is not a Rust identifier, so `{path}` is no module path",
                            pkg.display_name()
                        ),
                    )
                    .at(kinds[0].ty.span, "a `+genclient` kind")
                    .help(format!(
                        "rename the directory `{bad}` to a Rust identifier (`{}`); the API group is `+groupName=`'s, not the directory's",
                        kube_codegen_model::clients::snake_identifier(bad)
                    )),
                );
                continue;
            }
            if pkg
                .rust_path
                .as_deref()
                .is_none_or(|p| kube_codegen_model::path::RustPath::parse(p).is_err())
            {
                diags.push(
                    Diagnostic::error(
                        "E0701",
                        format!(
                            "client-gen cannot name the types of {}: its Rust module path is unknown",
                            pkg.display_name()
                        ),
                    )
                    .at(kinds[0].ty.span, "a `+genclient` kind")
                    .help("give the input's module path (`--module-path pager` for a crate named `pager` whose root is the input, or `Config::input_at(dir, \"crate::apis\")`)"),
                );
            }
            fn local(t: &Option<FieldType>) -> Option<&str> {
                match t {
                    Some(FieldType::Local(n)) => Some(n.as_str()),
                    _ => None,
                }
            }
            let named =
                kinds.iter().flat_map(|k| {
                    std::iter::once(k.ty.name.as_str()).chain(k.spec.methods.iter().flat_map(
                        move |m| [local(&m.input), local(&m.result)].into_iter().flatten(),
                    ))
                });
            diags.extend(unnameable_from_outside(pkg, named));
            // A typed client's object is `Debug` (`ApiObject`): say so here, not in rustc's
            // words about a trait bound in generated code.
            for k in kinds.iter().filter(|k| !k.ty.implements("Debug")) {
                diags.push(
                    Diagnostic::error(
                        "E0704",
                        format!(
                            "`+genclient` kind `{}` does not implement `Debug`",
                            k.ty.name
                        ),
                    )
                    .at(
                        k.ty.span,
                        "typed clients, listers and informers print their objects",
                    )
                    .help("add `Debug` to its `#[derive(...)]` (or implement it)"),
                );
            }
            // The fake serves a kind that converts through its hub as the hub type.
            for k in &kinds {
                if let Some(hub) = hub_package(model, k) {
                    diags.extend(unnameable_from_outside(hub, [k.ty.name.as_str()]));
                }
            }
            for k in &kinds {
                for m in &k.spec.methods {
                    let fname = naming::snake_case(&m.name);
                    if CLIENT_METHODS.contains(&fname.as_str()) {
                        diags.push(
                            Diagnostic::error(
                                "E0710",
                                format!(
                                    "`+genclient:method={}` of {} would be `{fname}`, a method every typed client has",
                                    m.name, k.ty.name
                                ),
                            )
                            .at(m.span, "this method")
                            .note(format!("the client's own `{fname}` would be called instead: the method could only be reached as `{}Methods::{fname}(&client, …)`", k.ty.name))
                            .help(format!(
                                "name it after what it does, as client-go's do (`{}{}`)",
                                m.name,
                                m.subresource.as_deref().map_or("Subresource".to_string(), |s| {
                                    let camel = naming::camel_case(&s.replace('-', "_"));
                                    let mut chars = camel.chars();
                                    chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
                                })
                            )),
                        );
                    }
                    if !METHOD_VERBS.contains(&m.verb) {
                        diags.push(
                            Diagnostic::error(
                                "E0702",
                                format!(
                                    "client-gen writes no `verb={}` methods (`{}` of {})",
                                    m.verb.as_str(),
                                    m.name,
                                    k.ty.name
                                ),
                            )
                            .at(m.span, "this method")
                            .help("methods can extend get, create, update and patch; use the client's `api()` (a `kube::Api`) for anything else"),
                        );
                    }
                }
            }
        }
        diags.extend(versions_without_a_hub(model));
        diags
    }

    fn generate_model(&self, model: &Model, opts: &Options) -> Vec<GeneratedFile> {
        group_version_files(
            model,
            DIR,
            |packages, names| clientset(model, packages, names, opts),
            |pkg, kinds, name| group_version(pkg, kinds, name, opts),
        )
    }
}

fn clientset(
    model: &Model,
    packages: &[(&Package, Vec<ClientKind<'_>>)],
    names: &[String],
    opts: &Options,
) -> TokenStream {
    let kube = opts.crates.kube.to_tokens();
    let client = opts.crates.client.to_tokens();
    // On every item, and on each group/version's module for its whole file.
    let allow = allow_unused();
    let mods = names.iter().map(|n| {
        let m = ident(n);
        let doc = format!(" Clients of `{}`.", group_version_of(packages, names, n));
        quote! { #[doc = #doc] #allow pub mod #m; }
    });
    let accessors = packages.iter().zip(names).map(|((pkg, _), n)| {
        let m = ident(n);
        let ty = format_ident!("{}", upper_camel(n));
        let doc = format!(" The `{}` clients.", pkg.display_name());
        quote! {
            #[doc = #doc]
            pub fn #m(&self) -> #m::#ty {
                #m::#ty::new(self.client.clone()).with_content_type(self.content_type)
            }
        }
    });
    let resources = fake_resources(model, packages, opts);
    let example = packages
        .first()
        .zip(names.first())
        .map(|((_, kinds), gv)| {
            let k = &kinds[0];
            let accessor = k.accessor();
            let args = if k.resource.namespaced {
                "\"default\""
            } else {
                ""
            };
            format!(" (`Clientset::new(client).{gv}().{accessor}({args})`).")
        })
        .unwrap_or_default();
    // No inner attributes: the file may be `include!`d (a build script's `OUT_DIR`).
    quote! {
        #(#mods)*

        /// The typed clientset: one accessor per group/version, one typed client per kind
        #[doc = #example]
        #[derive(Clone)]
        #allow
        pub struct Clientset {
            client: #kube::Client,
            content_type: #client::ContentType,
        }

        #allow
        impl Clientset {
            pub fn new(client: #kube::Client) -> Self {
                Clientset { client, content_type: #client::ContentType::Json }
            }

            /// Speaks `content_type`: `ContentType::Protobuf` sends and reads kinds that have a
            /// protobuf message (protobuf-gen) in `application/vnd.kubernetes.protobuf`, as Go
            /// clientsets do with a protobuf `ContentType`; the others stay JSON.
            pub fn with_content_type(mut self, content_type: #client::ContentType) -> Self {
                self.content_type = content_type;
                self
            }

            /// From the usual configuration: `$KUBECONFIG` or `~/.kube/config`, else in-cluster
            /// (`kube::Client::try_default`).
            pub async fn try_default() -> ::core::result::Result<Self, #kube::Error> {
                ::core::result::Result::Ok(Self::new(#kube::Client::try_default().await?))
            }

            /// The `kube::Client` underneath.
            pub fn client(&self) -> &#kube::Client {
                &self.client
            }

            #(#accessors)*
        }

        /// A fake clientset: the real API server in-process over an in-memory store (the user
        /// crate's `fake` feature enables `kube-codegen-client/fake`).
        #[cfg(feature = "fake")]
        #allow
        pub mod fake {
            // For the crate's tests, which may name none of them.
            #[allow(unused_imports)]
            pub use #client::fake::{Fake, FakeBuilder, RequestInfo};

            /// A fake API server serving every kind of this clientset; preload objects with
            /// `.object(..)`, `.build().await`, then `Clientset::new(fake.client())`.
            pub fn builder() -> FakeBuilder {
                FakeBuilder::new()
                    #(#resources)*
            }
        }
    }
}

fn group_version_of(
    packages: &[(&Package, Vec<ClientKind<'_>>)],
    names: &[String],
    name: &str,
) -> String {
    packages
        .iter()
        .zip(names)
        .find(|(_, n)| *n == name)
        .map(|((p, _), _)| p.display_name())
        .unwrap_or_default()
}

/// `.resource(..)` per kind: the versions of a kind that convert through its hub as one resource
/// kept as the hub; a kind without a hub in its preferred version only.
fn fake_resources(
    model: &Model,
    packages: &[(&Package, Vec<ClientKind<'_>>)],
    opts: &Options,
) -> Vec<TokenStream> {
    let client = opts.crates.client.to_tokens();
    // (input, group, kind) → the versions that serve it.
    let mut by_kind: BTreeMap<(usize, &str, &str), Vec<&ClientKind<'_>>> = BTreeMap::new();
    for (_, kinds) in packages {
        for k in kinds {
            by_kind
                .entry((k.pkg.input, k.pkg.group.as_str(), k.resource.kind.as_str()))
                .or_default()
                .push(k);
        }
    }
    let schemas = |k: &ClientKind<'_>| -> TokenStream {
        match (
            k.pkg.options.openapi,
            absolute_type_path(k.pkg, "OPENAPI_SCHEMAS"),
        ) {
            (true, Some(p)) => p,
            _ => quote!("{}"),
        }
    };
    by_kind
        .values()
        .map(|versions| {
            let hub = versions.iter().find_map(|k| hub_kind(model, k));
            let through_hub: Vec<&&ClientKind<'_>> = match hub {
                Some(_) => versions
                    .iter()
                    .filter(|k| hub_kind(model, k).is_some())
                    .collect(),
                None => Vec::new(),
            };
            match hub {
                Some(hub) if !through_hub.is_empty() => {
                    let adds = through_hub.iter().map(|k| {
                        let ty = k.path();
                        let s = schemas(k);
                        quote!(.version::<#ty>(#s))
                    });
                    quote!(.resource(#client::fake::Resource::<#hub>::hub() #(#adds)*))
                }
                _ => {
                    let preferred = versions
                        .iter()
                        .max_by_key(|k| version_priority(k.pkg.version.as_deref().unwrap_or("")))
                        .expect("a kind has a version");
                    let ty = preferred.path();
                    let s = schemas(preferred);
                    quote!(.resource(#client::fake::Resource::<#ty>::new(#s)))
                }
            }
        })
        .collect()
}

/// W0712 for a kind served in several versions of its group without an internal hub to convert
/// through: the API server (and so the fake) serves one resource per kind, in one version; the
/// other versions' clients get 404s from the fake.
fn versions_without_a_hub(model: &Model) -> Vec<Diagnostic> {
    let packages = client_packages(model);
    let mut by_kind: BTreeMap<(usize, &str, &str), Vec<&ClientKind<'_>>> = BTreeMap::new();
    for (_, kinds) in &packages {
        for k in kinds {
            by_kind
                .entry((k.pkg.input, k.pkg.group.as_str(), k.resource.kind.as_str()))
                .or_default()
                .push(k);
        }
    }
    let mut diags = Vec::new();
    for ((_, group, kind), versions) in by_kind {
        if versions.len() < 2 || versions.iter().any(|k| hub_kind(model, k).is_some()) {
            continue;
        }
        let version = |k: &ClientKind<'_>| k.pkg.version.clone().unwrap_or_default();
        let preferred = versions
            .iter()
            .max_by_key(|k| version_priority(k.pkg.version.as_deref().unwrap_or("")))
            .expect("two versions");
        let others: Vec<String> = versions
            .iter()
            .filter(|k| k.pkg.version != preferred.pkg.version)
            .map(|k| format!("`{}`", version(k)))
            .collect();
        let mut d = Diagnostic::warning(
            "W0712",
            format!(
                "`{kind}` is in {} versions of `{group}` without an internal hub: the fake serves `{}` only",
                versions.len(),
                version(preferred)
            ),
        )
        .at(preferred.ty.span, "served by the fake (the preferred version)")
        .note(format!(
            "the API server serves several versions of a resource only through a hub they convert to; the fake's clients of {} get 404s",
            others.join(", ")
        ))
        .help(format!(
            "add an internal hub package `{group}` with `{kind}` and `+k8s:conversion-gen=<hub module>` to each version, as the README's versions section shows"
        ));
        for k in versions
            .iter()
            .filter(|k| k.pkg.version != preferred.pkg.version)
        {
            d = d.also(
                k.ty.span,
                format!("not served by the fake ({})", version(k)),
            );
        }
        diags.push(d);
    }
    diags
}

/// The hub package a version's kind converts through, if it does and the hub has that kind.
fn hub_package<'a>(model: &'a Model, k: &ClientKind<'_>) -> Option<&'a Package> {
    let through = matches!(
        k.pkg.options.conversion.as_ref().map(|c| &c.value),
        Some(ConversionTag::Through(_))
    );
    if !through {
        return None;
    }
    let group_dir = k.pkg.dir.parent()?;
    model
        .packages
        .iter()
        .find(|p| p.input == k.pkg.input && p.is_internal() && p.dir == group_dir)
        .filter(|hub| hub.roots().any(|(t, _)| t.name == k.ty.name))
}

/// The hub type a version's kind converts through, if it does.
fn hub_kind(model: &Model, k: &ClientKind<'_>) -> Option<TokenStream> {
    let hub = hub_package(model, k)?;
    hub.roots()
        .find(|(t, _)| t.name == k.ty.name)
        .and_then(|_| absolute_type_path(hub, &k.ty.name))
}

fn group_version(
    pkg: &Package,
    kinds: &[ClientKind<'_>],
    name: &str,
    opts: &Options,
) -> TokenStream {
    let kube = opts.crates.kube.to_tokens();
    let client = opts.crates.client.to_tokens();
    let gv = format_ident!("{}", upper_camel(name));
    let gv_doc = format!(" The clients of `{}`.", pkg.display_name());
    let accessors = kinds.iter().map(|k| {
        let kind = k.path();
        let verbs = format_ident!("{}Verbs", k.ty.name);
        let alias = format_ident!("{}Client", k.ty.name);
        let plural = k.accessor();
        let method = ident(&plural);
        // The kind's `Kind` impl (register-gen) says whether it has a protobuf message.
        let content_type = if pkg.options.register {
            quote!(.content_type(self.content_type))
        } else {
            TokenStream::new()
        };
        if k.resource.namespaced {
            let all = format_ident!("{}_all_namespaces", plural);
            let doc = format!(" `{}` in `namespace`.", k.resource.plural);
            let all_doc = format!(
                " `{}` in every namespace (list and watch).",
                k.resource.plural
            );
            quote! {
                #[doc = #doc]
                pub fn #method(&self, namespace: &str) -> #alias {
                    #client::Client::namespaced(self.client.clone(), namespace)#content_type
                }
                #[doc = #all_doc]
                pub fn #all(&self) -> #client::AllNamespaces<#kind, #verbs> {
                    #client::AllNamespaces::new(self.client.clone())#content_type
                }
            }
        } else {
            let doc = format!(" `{}` (cluster-scoped).", k.resource.plural);
            quote! {
                #[doc = #doc]
                pub fn #method(&self) -> #alias {
                    #client::Client::cluster(self.client.clone())#content_type
                }
            }
        }
    });
    let per_kind = kinds.iter().map(|k| kind_items(k, opts));
    quote! {
        #[doc = #gv_doc]
        #[derive(Clone)]
        pub struct #gv {
            client: #kube::Client,
            content_type: #client::ContentType,
        }

        impl #gv {
            pub fn new(client: #kube::Client) -> Self {
                #gv { client, content_type: #client::ContentType::Json }
            }

            /// Speaks `content_type` (see `Clientset::with_content_type`).
            pub fn with_content_type(mut self, content_type: #client::ContentType) -> Self {
                self.content_type = content_type;
                self
            }

            #(#accessors)*
        }

        #(#per_kind)*
    }
}

/// The verb marker each allowed verb implements.
fn verb_trait(v: Verb) -> &'static str {
    match v {
        Verb::Create => "Create",
        Verb::Update => "Update",
        Verb::UpdateStatus => "UpdateStatus",
        Verb::Delete => "Delete",
        Verb::DeleteCollection => "DeleteCollection",
        Verb::Get => "Get",
        Verb::List => "List",
        Verb::Watch => "Watch",
        Verb::Patch => "Patch",
        Verb::Apply => "Apply",
        Verb::ApplyStatus => "ApplyStatus",
    }
}

fn kind_items(k: &ClientKind<'_>, opts: &Options) -> TokenStream {
    let client = opts.crates.client.to_tokens();
    let kind = k.path();
    let name = &k.ty.name;
    let verbs = format_ident!("{}Verbs", name);
    let alias = format_ident!("{}Client", name);
    let allowed: Vec<Verb> = k
        .spec
        .verbs
        .iter()
        .copied()
        .filter(|v| !matches!(v, Verb::UpdateStatus | Verb::ApplyStatus) || k.resource.has_status)
        .collect();
    let listed = allowed
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let verbs_doc = format!(
        " The verbs of `{name}`'s client: {}.",
        if listed.is_empty() { "none" } else { &listed }
    );
    let impls = allowed.iter().map(|v| verb_trait(*v)).map(|t| {
        let t = format_ident!("{t}");
        quote!(impl #client::verbs::#t for #verbs {})
    });
    let alias_doc = format!(" The client of `{name}`.");
    let methods = methods(k, opts);
    quote! {
        #[doc = #verbs_doc]
        pub enum #verbs {}
        #(#impls)*
        #[doc = #alias_doc]
        pub type #alias = #client::Client<#kind, #verbs>;
        #methods
    }
}

/// `+genclient:method=` methods, as a `<Kind>Methods` trait on the kind's client.
fn methods(k: &ClientKind<'_>, opts: &Options) -> TokenStream {
    let methods: Vec<&CustomMethod> = k
        .spec
        .methods
        .iter()
        .filter(|m| METHOD_VERBS.contains(&m.verb))
        .collect();
    if methods.is_empty() {
        return TokenStream::new();
    }
    let client = opts.crates.client.to_tokens();
    let kind = k.path();
    let name = &k.ty.name;
    let tr = format_ident!("{}Methods", name);
    let alias = format_ident!("{}Client", name);
    let ty_of = |t: Option<&kube_codegen_model::FieldType>| -> TokenStream {
        match t {
            Some(t) => field_type_tokens_with(t, opts, &|n| {
                absolute_type_path(k.pkg, n).unwrap_or_else(|| {
                    let id = ident(n);
                    quote!(#id)
                })
            }),
            None => kind.clone(),
        }
    };
    let (mut decls, mut bodies) = (Vec::new(), Vec::new());
    for m in methods {
        let fname = ident(&naming::snake_case(&m.name));
        let result = ty_of(m.result.as_ref());
        let input = ty_of(m.input.as_ref());
        let sub = match &m.subresource {
            Some(s) => quote!(::core::option::Option::Some(#s)),
            None => quote!(::core::option::Option::None),
        };
        let path = match &m.subresource {
            Some(s) => format!("{}/{s}", k.resource.plural),
            None => k.resource.plural.clone(),
        };
        let doc = format!(
            " `{}` on `{path}` (`+genclient:method={}`).",
            m.verb.as_str(),
            m.name
        );
        let (params, call) = match m.verb {
            Verb::Get => (quote!(name: &str), quote!(self.get_subresource(#sub, name))),
            Verb::Create => (
                quote!(name: &str, input: &#input, pp: &#client::PostParams),
                quote!(self.create_subresource(#sub, name, pp, input)),
            ),
            Verb::Update => (
                quote!(name: &str, input: &#input, pp: &#client::PostParams),
                quote!(self.update_subresource(#sub, name, pp, input)),
            ),
            _ => (
                quote!(name: &str, pp: &#client::PatchParams, patch: &#client::Patch<#client::__private::serde_json::Value>),
                quote!(self.patch_subresource(#sub, name, pp, patch)),
            ),
        };
        decls.push(quote! {
            #[doc = #doc]
            fn #fname(&self, #params) -> impl ::core::future::Future<Output = #client::Result<#result>> + Send;
        });
        bodies.push(quote! {
            async fn #fname(&self, #params) -> #client::Result<#result> {
                #call.await
            }
        });
    }
    let doc = format!(" The `+genclient:method=` methods of `{name}`'s client.");
    quote! {
        #[doc = #doc]
        pub trait #tr {
            #(#decls)*
        }
        impl #tr for #alias {
            #(#bodies)*
        }
    }
}
