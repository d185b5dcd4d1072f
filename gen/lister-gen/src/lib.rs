//! lister-gen: per `+genclient` kind a lister over the informer cache, returning `Arc<Kind>`:
//! `AlertLister::list(&selector)`, `alerts(namespace)` → `.get(name)` / `.list(&selector)` for
//! namespaced kinds, `get(name)` for cluster-scoped ones. Thin over `kube_codegen_cache::Lister`.
//!
//! Output (in the separate output root): `listers/mod.rs` and `listers/<group>_<version>.rs`,
//! beside client-gen's `clientset/`.

use kube_codegen_model::clients::{ClientKind, group_version_files, module_declarations};
use kube_codegen_model::output::{GeneratedFile, Generator, Options, Placement, ident};
use kube_codegen_model::{Model, Package};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const NAME: &str = "lister-gen";
/// The listers' module directory, under the separate output root.
pub const DIR: &str = "listers";

pub struct ListerGen;

impl Generator for ListerGen {
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
            |packages, names| module_declarations(packages, names, "Listers"),
            |pkg, kinds, _| group_version(pkg, kinds, opts),
        )
    }
}

fn group_version(_pkg: &Package, kinds: &[ClientKind<'_>], opts: &Options) -> TokenStream {
    let cache = opts.crates.cache.to_tokens();
    let items = kinds.iter().map(|k| {
        let kind = k.path();
        let name = &k.ty.name;
        let lister = format_ident!("{name}Lister");
        let doc = format!(
            " Cached `{name}`s (`{}`), shared and immutable (`Arc<{name}>`).",
            k.resource.plural
        );
        let scoped = if k.resource.namespaced {
            let accessor = ident(&k.accessor());
            let ns_doc = format!(" The cached `{}` of one namespace: `.get(name)`, `.list(&selector)`.", k.resource.plural);
            quote! {
                #[doc = #ns_doc]
                pub fn #accessor(&self, namespace: &str) -> #cache::NamespaceLister<#kind> {
                    self.0.namespace(namespace)
                }
            }
        } else {
            quote! {
                /// A cached object by name.
                pub fn get(&self, name: &str) -> ::core::option::Option<::std::sync::Arc<#kind>> {
                    self.0.get(name)
                }
            }
        };
        quote! {
            #[doc = #doc]
            #[derive(Clone)]
            pub struct #lister(#cache::Lister<#kind>);

            impl #lister {
                pub fn new(lister: #cache::Lister<#kind>) -> Self {
                    #lister(lister)
                }

                /// Every cached object the selector selects (`LabelSelector::everything()`: all).
                pub fn list(&self, selector: &#cache::LabelSelector) -> ::std::vec::Vec<::std::sync::Arc<#kind>> {
                    self.0.list(selector)
                }

                #scoped

                /// The cache underneath (`by_index`, your own indexes).
                pub fn store(&self) -> &#cache::Store<#kind> {
                    self.0.store()
                }
            }
        }
    });
    quote! { #(#items)* }
}
