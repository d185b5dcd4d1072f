//! What the client-side generators (client-gen, lister-gen, informer-gen) share: which kinds get
//! clients, and the names of their group/version modules and per-kind accessors, so the three
//! outputs agree.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{ClientSpec, Model, Package, Resource, TypeDef};
use crate::output::{Content, GeneratedFile, absolute_type_path, ident};

/// A `+genclient` kind of an external package.
pub struct ClientKind<'a> {
    pub pkg: &'a Package,
    pub ty: &'a TypeDef,
    pub resource: &'a Resource,
    pub spec: &'a ClientSpec,
}

impl ClientKind<'_> {
    /// The kind's type from another crate (`::pager::v1alpha1::Alert`).
    pub fn path(&self) -> TokenStream {
        absolute_type_path(self.pkg, &self.ty.name).unwrap_or_else(|| {
            let id = ident(&self.ty.name);
            quote!(#id)
        })
    }

    /// The accessor of the kind in its group/version (`alerts`, `fleet_snapshots`).
    pub fn accessor(&self) -> String {
        accessor(&self.ty.name, &self.resource.plural)
    }
}

/// The external packages with `+genclient` kinds (and register-gen's impls), each with them.
/// E0703 for every client kind other crates cannot name (see
/// [`crate::output::unnameable_from_outside`]).
pub fn unnameable_kinds(model: &Model) -> Vec<crate::diag::Diagnostic> {
    let packages = client_packages(model);
    let mut diags: Vec<crate::diag::Diagnostic> = packages
        .iter()
        .flat_map(|(pkg, kinds)| {
            crate::output::unnameable_from_outside(pkg, kinds.iter().map(|k| k.ty.name.as_str()))
        })
        .collect();
    diags.extend(
        packages
            .iter()
            .flat_map(|(_, kinds)| accessor_collisions(kinds)),
    );
    diags
}

/// E0711 when two kinds of a group/version would get one accessor: a kind's own
/// (`widgets_all_namespaces` from `+resourceName=widgets-all-namespaces`) and another's
/// all-namespaces one, or two plurals that read alike once snake-cased.
fn accessor_collisions(kinds: &[ClientKind<'_>]) -> Vec<crate::diag::Diagnostic> {
    let mut seen: BTreeMap<String, &ClientKind<'_>> = BTreeMap::new();
    let mut diags = Vec::new();
    for k in kinds {
        let own = k.accessor();
        let mut names = vec![own.clone()];
        if k.resource.namespaced {
            names.push(format!("{own}_all_namespaces"));
        }
        for name in names {
            match seen.get(&name) {
                Some(first) => diags.push(
                    crate::diag::Diagnostic::error(
                        "E0711",
                        format!(
                            "`{}` and `{}` would both have the client accessor `{name}`",
                            first.ty.name, k.ty.name
                        ),
                    )
                    .at(k.ty.span, format!("`{}`'s accessor is `{name}`", k.ty.name))
                    .also(first.ty.span, format!("`{}` has it already", first.ty.name))
                    .help("give one of them another plural with `+resourceName=<plural>`"),
                ),
                None => {
                    seen.insert(name, k);
                }
            }
        }
    }
    diags
}

/// Methods of the generated clientset, listers and informer factory that accessors (a kind's,
/// a group's) must not shadow: such an accessor gets a trailing `_` (`list_`), in every
/// generator alike.
const RESERVED_ACCESSORS: &[&str] = &[
    "builder",
    "client",
    "for_resource",
    "from_builder",
    "get",
    "informer",
    "inner",
    "list",
    "lister",
    "new",
    "start",
    "store",
    "with_content_type",
];

fn unreserved(mut name: String) -> String {
    if RESERVED_ACCESSORS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

pub fn client_packages(model: &Model) -> Vec<(&Package, Vec<ClientKind<'_>>)> {
    model
        .packages
        .iter()
        .filter(|p| !p.is_internal() && p.options.client && p.options.register)
        .map(|pkg| {
            let kinds = pkg
                .roots()
                .filter_map(|(ty, resource)| {
                    let spec = resource.client.as_ref()?;
                    Some(ClientKind {
                        pkg,
                        ty,
                        resource,
                        spec,
                    })
                })
                .collect::<Vec<_>>();
            (pkg, kinds)
        })
        .filter(|(_, kinds)| !kinds.is_empty())
        .collect()
}

/// A group's module name: its first DNS label (`pager`), or the whole group in snake case when
/// two groups share a first label (`apps_example_com`).
pub fn group_names<'a>(
    packages: &[(&'a Package, Vec<ClientKind<'_>>)],
) -> BTreeMap<&'a str, String> {
    let first_label = |g: &str| -> String {
        match g.split('.').next().unwrap_or_default() {
            "" => "core".into(),
            l => l.to_string(),
        }
    };
    let mut groups_by_label: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (pkg, _) in packages {
        groups_by_label
            .entry(first_label(&pkg.group))
            .or_default()
            .insert(&pkg.group);
    }
    packages
        .iter()
        .map(|(pkg, _)| {
            let label = first_label(&pkg.group);
            let name = if groups_by_label[&label].len() > 1 {
                pkg.group.clone()
            } else {
                label
            };
            (pkg.group.as_str(), unreserved(snake_identifier(&name)))
        })
        .collect()
}

/// `pager_v1alpha1` per package (in `packages`' order).
pub fn group_version_names(packages: &[(&Package, Vec<ClientKind<'_>>)]) -> Vec<String> {
    let groups = group_names(packages);
    packages
        .iter()
        .map(|(pkg, _)| {
            let version = pkg.version.as_deref().unwrap_or_default();
            // The group's own name, not the accessor escaped from a reserved word.
            let group = groups[pkg.group.as_str()].trim_end_matches('_');
            snake_identifier(&format!("{group}_{version}"))
        })
        .collect()
}

/// `s` as a snake-case Rust identifier: lower case, `_` for each character other than a letter
/// or digit, never a leading digit (`example.com` → `example_com`).
pub fn snake_identifier(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // A group may start with a digit (`1password.com`): names made from it must not.
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "g_");
    }
    out
}

/// `alerts`, `fleet_snapshots`, `policies`: the plural in snake case, with word breaks where the
/// kind has them.
pub fn accessor(kind: &str, plural: &str) -> String {
    let snake = crate::naming::snake_case(kind);
    let mut out = String::new();
    let mut words = snake.split('_').peekable();
    let mut rest = plural;
    while let Some(word) = words.next() {
        if words.peek().is_some() && rest.len() > word.len() && rest.starts_with(word) {
            out.push_str(word);
            out.push('_');
            // (`widget-things`: the plural's own separator is the one just written.)
            rest = rest[word.len()..].trim_start_matches('-');
        } else {
            break;
        }
    }
    out.push_str(rest);
    // A plural is a DNS label (`widget-things`, `3dprinters`); the accessor is a method next to
    // the generated structs' own (`new`, `list`, `with_content_type`).
    unreserved(crate::output::identifier(&out).into_owned())
}

/// `pager_v1alpha1` → `PagerV1alpha1`.
pub fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub use kube_codegen_apimachinery::version_priority;

/// The files of a client-side generator (client-gen, lister-gen, informer-gen,
/// applyconfiguration-gen): `<dir>/mod.rs` from `root` (given the packages and their module
/// names), and `<dir>/<group>_<version>.rs` from `per_package` (given a package, its kinds and its
/// module name). Nothing when no package has a `+genclient` kind.
pub fn group_version_files(
    model: &Model,
    dir: &str,
    root: impl FnOnce(&[(&Package, Vec<ClientKind<'_>>)], &[String]) -> TokenStream,
    per_package: impl Fn(&Package, &[ClientKind<'_>], &str) -> TokenStream,
) -> Vec<GeneratedFile> {
    let packages = client_packages(model);
    if packages.is_empty() {
        return Vec::new();
    }
    let names = group_version_names(&packages);
    let mut files = vec![GeneratedFile {
        path: format!("{dir}/mod.rs").into(),
        content: Content::Rust(root(&packages, &names)),
    }];
    for ((pkg, kinds), name) in packages.iter().zip(&names) {
        files.push(GeneratedFile {
            path: format!("{dir}/{name}.rs").into(),
            content: Content::Rust(per_package(pkg, kinds, name)),
        });
    }
    files
}

/// A `mod.rs` declaring one documented module per group/version: `#[doc = " <what> of `<pkg>`."]
/// #[allow(dead_code)] pub mod <name>;` (the allow covers the module's file).
pub fn module_declarations(
    packages: &[(&Package, Vec<ClientKind<'_>>)],
    names: &[String],
    what: &str,
) -> TokenStream {
    let mods = packages.iter().zip(names).map(|((pkg, _), n)| {
        let m = ident(n);
        let doc = format!(" {what} of `{}`.", pkg.display_name());
        let allow = crate::output::allow_unused();
        quote! { #[doc = #doc] #allow pub mod #m; }
    });
    quote! { #(#mods)* }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_made_from_values_are_identifiers() {
        use crate::output::identifier;
        for (value, expected) in [
            ("widgets", "widgets"),
            ("widget-things", "widget_things"),
            ("3dwidgets", "_3dwidgets"),
            ("self", "self_"),
            ("Self", "Self_"),
            ("crate", "crate_"),
            ("_", "__"),
            ("", "_"),
            ("é", "é"),
            ("größe-x", "größe_x"),
            ("1é", "_1é"),
            ("a b", "a_b"),
        ] {
            assert_eq!(identifier(value), expected);
            let _ = crate::output::ident(value);
        }
        assert_eq!(
            accessor("Widget", "new"),
            "new_",
            "next to the clientset's `new`"
        );
        assert_eq!(accessor("WidgetThing", "widget-things"), "widget_things");
        assert_eq!(snake_identifier("1password.com_v1"), "g_1password_com_v1");
    }

    use super::*;

    #[test]
    fn accessors_break_words_like_the_kind() {
        assert_eq!(accessor("Alert", "alerts"), "alerts");
        assert_eq!(
            accessor("FleetSnapshot", "fleetsnapshots"),
            "fleet_snapshots"
        );
        assert_eq!(accessor("Policy", "policies"), "policies");
        assert_eq!(accessor("Chassis", "chassis"), "chassis");
        assert_eq!(accessor("HTTPRoute", "httproutes"), "http_routes");
        assert_eq!(accessor("Widget", "gizmos"), "gizmos");
    }

    #[test]
    fn versions_order_like_kubernetes() {
        assert!(version_priority("v1") > version_priority("v1beta1"));
        assert!(version_priority("v1beta2") > version_priority("v1beta1"));
        assert!(version_priority("v1beta1") > version_priority("v1alpha1"));
        assert!(version_priority("v2") > version_priority("v1"));
    }
}

#[cfg(test)]
mod reserved_tests {
    #[test]
    fn accessors_keep_clear_of_generated_methods() {
        assert_eq!(super::accessor("Item", "list"), "list_");
        assert_eq!(
            super::accessor("Thing", "with-content-type"),
            "with_content_type_"
        );
        assert_eq!(super::accessor("Alert", "alerts"), "alerts");
    }
}
