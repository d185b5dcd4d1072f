//! informer-gen: a `SharedInformerFactory` over the generated clientset —
//! `factory.pager().v1alpha1().alerts()` gives the kind's shared informer and its lister — and
//! `for_resource(group, version, plural)` for any of them. Thin over
//! `kube_codegen_cache::SharedInformerFactory` (one watch per kind whoever asks).
//!
//! Output (in the separate output root): `informers/mod.rs` and `informers/<group>_<version>.rs`,
//! beside client-gen's `clientset/` and lister-gen's `listers/`, which it names as `super::…`.

use std::collections::BTreeMap;

use kube_codegen_model::clients::{ClientKind, group_names, group_version_files, upper_camel};
use kube_codegen_model::output::{
    GeneratedFile, Generator, Options, Placement, allow_unused, ident,
};
use kube_codegen_model::{Model, Package};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const NAME: &str = "informer-gen";
/// The informers' module directory, under the separate output root.
pub const DIR: &str = "informers";

pub struct InformerGen;

impl Generator for InformerGen {
    fn name(&self) -> &'static str {
        NAME
    }

    fn placement(&self) -> Placement {
        Placement::Separate
    }

    fn validate(&self, model: &Model) -> Vec<kube_codegen_model::Diagnostic> {
        kube_codegen_model::clients::unnameable_kinds(model)
    }

    fn generate_model(&self, model: &Model, opts: &Options) -> Vec<GeneratedFile> {
        group_version_files(
            model,
            DIR,
            |packages, names| factory(packages, names, opts),
            |pkg, kinds, name| group_version(pkg, kinds, name, opts),
        )
    }
}

fn factory(
    packages: &[(&Package, Vec<ClientKind<'_>>)],
    names: &[String],
    opts: &Options,
) -> TokenStream {
    let cache = opts.crates.cache.to_tokens();
    let kube = opts.crates.kube.to_tokens();
    // On every item, and on each group/version's module for its whole file.
    let allow = allow_unused();
    let mods = packages.iter().zip(names).map(|((pkg, _), n)| {
        let m = ident(n);
        let doc = format!(" Informers of `{}`.", pkg.display_name());
        quote! { #[doc = #doc] #allow pub mod #m; }
    });
    // Groups, each with its versions (in the packages' order).
    let group_of = group_names(packages);
    let mut groups: BTreeMap<&str, Vec<(&Package, &String)>> = BTreeMap::new();
    for ((pkg, _), n) in packages.iter().zip(names) {
        groups
            .entry(group_of[pkg.group.as_str()].as_str())
            .or_default()
            .push((pkg, n));
    }
    let group_accessors = groups.keys().map(|g| {
        let m = ident(g);
        let ty = format_ident!("{}Group", upper_camel(g));
        let doc = format!(" The informers of group `{g}` by version.");
        quote! {
            #[doc = #doc]
            pub fn #m(&self) -> #ty<'_> {
                #ty { factory: self }
            }
        }
    });
    let group_types = groups.iter().map(|(g, versions)| {
        let ty = format_ident!("{}Group", upper_camel(g));
        let doc = format!(" The versions of group `{}`.", versions[0].0.group);
        let accessors = versions.iter().map(|(pkg, n)| {
            let v = ident(pkg.version.as_deref().unwrap_or_default());
            let m = ident(n);
            let vty = format_ident!("{}", upper_camel(n));
            let vdoc = format!(" The informers of `{}`.", pkg.display_name());
            quote! {
                #[doc = #vdoc]
                pub fn #v(&self) -> #m::#vty<'a> {
                    #m::#vty::new(self.factory)
                }
            }
        });
        quote! {
            #[doc = #doc]
            #allow
            pub struct #ty<'a> {
                factory: &'a SharedInformerFactory,
            }
            #allow
            impl<'a> #ty<'a> {
                #(#accessors)*
            }
        }
    });
    quote! {
        #(#mods)*

        /// Shared informers for every kind of the clientset: one watch per kind however many
        /// consumers ask for it. Ask for informers, `start()`, `wait_for_cache_sync().await`,
        /// and `shutdown().await` at the end.
        #allow
        pub struct SharedInformerFactory {
            inner: #cache::SharedInformerFactory,
        }

        #allow
        impl SharedInformerFactory {
            /// A factory over the clientset's client, watching every namespace.
            pub fn new(clientset: &super::clientset::Clientset) -> Self {
                Self::from_builder(Self::builder(clientset))
            }

            /// Options first: a namespace, selector tweaks, resync periods, transforms.
            pub fn builder(clientset: &super::clientset::Clientset) -> #cache::FactoryBuilder {
                #cache::SharedInformerFactory::builder(::core::clone::Clone::clone(clientset.client()))
            }

            pub fn from_builder(builder: #cache::FactoryBuilder) -> Self {
                SharedInformerFactory { inner: builder.build() }
            }

            #(#group_accessors)*

            /// Starts every informer asked for and not started yet.
            pub fn start(&self) {
                self.inner.start()
            }

            /// Waits until every started informer has synced (false if shut down first).
            pub async fn wait_for_cache_sync(&self) -> bool {
                self.inner.wait_for_cache_sync().await
            }

            /// Stops every informer and waits for them.
            pub async fn shutdown(&self) {
                self.inner.shutdown().await
            }

            /// An informer asked for before, by group, version and plural.
            pub fn for_resource(&self, group: &str, version: &str, plural: &str) -> ::core::option::Option<::std::sync::Arc<dyn #cache::AnyInformer>> {
                self.inner.for_resource(group, version, plural)
            }

            /// The generic factory underneath.
            pub fn inner(&self) -> &#cache::SharedInformerFactory {
                &self.inner
            }

            /// The client the informers watch through.
            pub fn client(&self) -> &#kube::Client {
                self.inner.client()
            }
        }

        #(#group_types)*
    }
}

fn group_version(
    pkg: &Package,
    kinds: &[ClientKind<'_>],
    name: &str,
    opts: &Options,
) -> TokenStream {
    let cache = opts.crates.cache.to_tokens();
    let vty = format_ident!("{}", upper_camel(name));
    let gv = ident(name);
    let doc = format!(" The informers of `{}`.", pkg.display_name());
    let accessors = kinds.iter().map(|k| {
        let kind = k.path();
        let m = ident(&k.accessor());
        let informer = format_ident!("{}Informer", k.ty.name);
        let constructor = if k.resource.namespaced {
            quote!(namespaced)
        } else {
            quote!(cluster)
        };
        let adoc = format!(
            " The shared informer of `{}` and its lister.",
            k.resource.plural
        );
        quote! {
            #[doc = #adoc]
            pub fn #m(&self) -> #informer {
                #informer(self.factory.inner().#constructor::<#kind>())
            }
        }
    });
    let types = kinds.iter().map(|k| {
        let kind = k.path();
        let name = &k.ty.name;
        let informer = format_ident!("{name}Informer");
        let lister = format_ident!("{name}Lister");
        let doc = format!(" The shared informer of `{name}`: its cache, handlers and lister.");
        quote! {
            #[doc = #doc]
            #[derive(Clone)]
            pub struct #informer(::std::sync::Arc<#cache::SharedInformer<#kind>>);

            impl #informer {
                /// The informer (handlers, `has_synced`, the store).
                pub fn informer(&self) -> &::std::sync::Arc<#cache::SharedInformer<#kind>> {
                    &self.0
                }

                pub fn lister(&self) -> super::super::listers::#gv::#lister {
                    super::super::listers::#gv::#lister::new(self.0.lister())
                }
            }
        }
    });
    quote! {
        #[doc = #doc]
        pub struct #vty<'a> {
            factory: &'a super::SharedInformerFactory,
        }

        impl<'a> #vty<'a> {
            pub fn new(factory: &'a super::SharedInformerFactory) -> Self {
                #vty { factory }
            }

            #(#accessors)*
        }

        #(#types)*
    }
}
