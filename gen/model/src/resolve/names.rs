//! What names mean in one package: its aliases and re-exports, the single names glob imports
//! bring, and a type as written in a scope of a file resolved through them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::diag::{Diagnostic, FileId};
use crate::model::*;
use crate::parse::{BareName, LoweredFile, Scope};
use crate::path::RustPath;

use super::paths::{
    Aliases, HELD, rebase, resolve_ty, resolve_with_aliases, through_sibling_globs,
};

/// What names mean in one package: the scopes of its files, the hub's types, the root's imports.
pub(super) struct Names<'a> {
    pub(super) files: BTreeMap<FileId, &'a LoweredFile>,
    /// Module path of each file relative to the package.
    pub(super) module_of: BTreeMap<FileId, Vec<String>>,
    /// Types of the group's hub (empty for the hub itself).
    pub(super) hub_types: BTreeSet<String>,
    /// `use`s of the package's root module (seen by `use super::*` in its files).
    pub(super) root_uses: BTreeMap<String, RustPath>,
    /// `use`s of the module above a version package (its group's module), as paths from the
    /// package's root: a glob of that module (`use super::*` in `v1/mod.rs`,
    /// `use super::super::*` in `v1/types.rs`) brings its imports too.
    pub(super) parent_uses: BTreeMap<String, RustPath>,
    /// The modules the package's root module glob-imports (`pub use names::*` → `["names"]`):
    /// what they declare is seen by `use super::*` in its files too.
    pub(super) root_globs: Vec<Vec<String>>,
    /// The package's directory and every package directory of its input, relative to the
    /// input: a path through a glob import may name a sibling package (`v1::Status`).
    pub(super) dir: PathBuf,
    pub(super) package_dirs: &'a BTreeSet<PathBuf>,
}

impl Names<'_> {
    /// Whether the package has a module `child` inside `module` (a file module or an inline
    /// one).
    fn has_module(&self, module: &[String], child: &str) -> bool {
        let is_it = |m: &[String]| {
            m.len() == module.len() + 1 && m.starts_with(module) && m[module.len()] == child
        };
        self.files.iter().any(|(file, lf)| {
            let file_module = &self.module_of[file];
            is_it(file_module)
                || lf.scopes.iter().any(|scope| {
                    let mut m = file_module.clone();
                    m.extend(scope.inline.iter().cloned());
                    is_it(&m)
                })
        })
    }

    /// The `use`s of a type's scope, for resolving type names written in its tags.
    pub(super) fn scope_lookup(&self) -> crate::interpret::ScopeUses {
        self.files
            .iter()
            .flat_map(|(file, lf)| {
                lf.scopes
                    .iter()
                    .enumerate()
                    .map(move |(i, s)| ((*file, i), s.uses.clone()))
            })
            .collect()
    }
}

/// Single names a glob import brings, by (file, scope, name): what each stands for, already
/// package-relative.
pub(super) type Replacements = BTreeMap<(FileId, usize, String), FieldType>;

/// Type aliases of the package by module, for paths naming them (`inner::Labels`,
/// `self::Name`; bare names were substituted where they were written), and what a module
/// re-exports (`mod prelude { pub use k8s_openapi::…::Condition; }`, kopium's layout): the
/// same, a name standing for a path written in that module.
pub(super) fn package_aliases(names: &Names) -> Aliases {
    let mut aliases: Aliases = BTreeMap::new();
    for (file, lf) in &names.files {
        for scope in &lf.scopes {
            let mut module = names.module_of[file].clone();
            module.extend(scope.inline.iter().cloned());
            for name in &scope.exported {
                if let Some(path) = scope.uses.get(name) {
                    let ty = if path.is_std_string() {
                        FieldType::String
                    } else {
                        FieldType::Foreign {
                            path: path.clone(),
                            args: Vec::new(),
                        }
                    };
                    aliases.insert((module.clone(), name.clone()), (ty, module.clone()));
                }
            }
            for (name, ty) in &scope.aliases {
                aliases.insert((module.clone(), name.clone()), (ty.clone(), module.clone()));
            }
        }
    }
    // What the package module's globs bring (`pub use params::*`): named from its files by
    // path too (`use super::{Duration, Params}`), unless the module declares the name itself.
    let brought: Aliases = names
        .root_globs
        .iter()
        .flat_map(|glob| {
            aliases
                .iter()
                .filter(move |((module, _), _)| module == glob)
                .map(|((_, name), alias)| ((Vec::new(), name.clone()), alias.clone()))
        })
        .collect();
    for (key, alias) in brought {
        aliases.entry(key).or_insert(alias);
    }
    aliases
}

/// Single names nothing in their own scope declares or imports: the package, the hub through
/// a glob import, or an error.
pub(super) fn glob_imported_names(
    names: &Names,
    local: &BTreeMap<String, Vec<String>>,
    aliases: &Aliases,
    diags: &mut Vec<Diagnostic>,
) -> Replacements {
    let mut replacements: Replacements = BTreeMap::new();
    let mut behind_macro = std::collections::BTreeSet::new();
    for (file, lf) in &names.files {
        let file_module = &names.module_of[file];
        for bare in &lf.bare_names {
            if local.contains_key(&bare.name) {
                continue;
            }
            // A well-known name (`Time`, `Duration`) is the well-known type unless a glob import
            // brings one of the package's own (an alias declared in a sibling file).
            let known = KnownType::ALL.iter().any(|(n, _)| *n == bare.name);
            let key = (*file, bare.scope, bare.name.clone());
            if replacements.contains_key(&key) {
                continue;
            }
            let scope = &lf.scopes[bare.scope];
            let mut module = file_module.clone();
            module.extend(scope.inline.iter().cloned());
            let mut candidates =
                glob_candidates(bare, scope, &module, known, names, local, aliases);
            match candidates.len() {
                1 => {
                    replacements.insert(key, candidates.remove(0).1);
                }
                0 if known => {}
                // An item macro kube-codegen cannot expand may declare the name (or one that
                // shadows the globs'): not an error it can be sure of, but never silent.
                _ => match scope.item_macro {
                    Some(mac) => {
                        if behind_macro.insert(key) {
                            diags.push(maybe_from_macro(bare, mac));
                        }
                    }
                    None if candidates.is_empty() => {
                        diags.push(unresolved(bare, scope, local, names))
                    }
                    None => diags.push(ambiguous(bare, &candidates)),
                },
            }
        }
    }
    replacements
}

/// The glob imports of `scope` (in `module`) that may bring `bare`, with what it would be
/// through each; one item reached through two globs (`use super::*` and
/// `use super::names::*`) is one candidate, as rustc sees it.
fn glob_candidates(
    bare: &BareName,
    scope: &Scope,
    module: &[String],
    known: bool,
    names: &Names,
    local: &BTreeMap<String, Vec<String>>,
    aliases: &Aliases,
) -> Vec<(RustPath, FieldType)> {
    let mut candidates: Vec<(RustPath, FieldType)> = Vec::new();
    for glob in &scope.globs {
        if let Some(found) = through_glob(bare, glob, module, known, names, local, aliases) {
            candidates.push((glob.clone(), found));
        }
    }
    let mut unique: Vec<(RustPath, FieldType)> = Vec::new();
    for c in candidates {
        if !unique.iter().any(|u| u.1 == c.1) {
            unique.push(c);
        }
    }
    unique
}

/// What `bare` is if `glob` (written in `module`) brings it; `None` when it cannot.
fn through_glob(
    bare: &BareName,
    glob: &RustPath,
    module: &[String],
    known: bool,
    names: &Names,
    local: &BTreeMap<String, Vec<String>>,
    aliases: &Aliases,
) -> Option<FieldType> {
    // `use types::*` in a module declaring `mod types;` (a 2018 path) names the child module,
    // as `self::types::*` does; not another crate.
    let glob = match glob.segments.first() {
        Some(first) if !glob.global && !glob.is_relative() && names.has_module(module, first) => {
            RustPath::from_segments(
                false,
                std::iter::once("self").chain(glob.segments.iter().map(String::as_str)),
            )
        }
        _ => glob.clone(),
    };
    let mut g = FieldType::Foreign {
        path: glob.join(&bare.name),
        args: Vec::new(),
    };
    rebase(&mut g, module);
    let FieldType::Foreign { path, .. } = &g else {
        return None;
    };
    let prefix = &path.segments[..path.segments.len() - 1];
    // An alias (or re-export) a module of the package declares.
    let alias_in = |module: &[String]| {
        let key = (module.to_vec(), bare.name.clone());
        aliases.get(&key).map(|(aliased, declared_in)| {
            let mut t = aliased.clone();
            resolve_with_aliases(&mut t, local, aliases, declared_in, 0);
            t
        })
    };
    match prefix.first().map(String::as_str) {
        // The package module: its imports (its types were looked up above), its
        // aliases, and what its globs of the package's modules bring.
        Some("self") if prefix.len() == 1 => names
            .root_uses
            .get(&bare.name)
            .map(|p| FieldType::Foreign {
                path: p.clone(),
                args: Vec::new(),
            })
            .or_else(|| alias_in(&[]))
            .or_else(|| names.root_globs.iter().find_map(|g| alias_in(g))),
        // A module of the package: what it declares or re-exports.
        Some("self") => alias_in(&prefix[1..]),
        // The hub, from a version package: its types, and its module's imports.
        Some("super") if prefix.len() == 1 => names
            .hub_types
            .contains(&bare.name)
            .then(|| g.clone())
            .or_else(|| {
                names
                    .parent_uses
                    .get(&bare.name)
                    .map(|p| FieldType::Foreign {
                        path: p.clone(),
                        args: Vec::new(),
                    })
            }),
        // A well-known name is not looked for where we cannot see.
        _ if known => None,
        // Somewhere we cannot see: the glob may provide it.
        _ => Some(g.clone()),
    }
}

/// E0111: a single type name more than one glob import may bring.
fn ambiguous(bare: &BareName, candidates: &[(RustPath, FieldType)]) -> Diagnostic {
    let globs: Vec<String> = candidates
        .iter()
        .map(|(g, _)| format!("`use {g}::*`"))
        .collect();
    Diagnostic::error(
        "E0111",
        format!("cannot tell which glob import brings `{}`", bare.name),
    )
    .at(bare.span, "may come from more than one glob import")
    .note(format!("candidates: {}", globs.join(", ")))
    .help(format!(
        "import it by name (`use <path>::{};`) or write its full path",
        bare.name
    ))
}

/// E0110: a single type name that nothing declares or imports.
/// W0121: `bare` is declared nowhere kube-codegen can see, but the item macro at `mac` may
/// declare it; the generators read it as a type of their own they know nothing of.
fn maybe_from_macro(bare: &crate::parse::BareName, mac: crate::diag::Span) -> Diagnostic {
    Diagnostic::warning(
        "W0121",
        format!(
            "type `{}` is declared nowhere kube-codegen can read",
            bare.name
        ),
    )
    .at(bare.span, "read as an opaque type")
    .also(
        mac,
        "an item macro kube-codegen does not expand; it may declare it",
    )
    .note(format!(
        "generated code names `{}` as written, and its OpenAPI schema accepts any value",
        bare.name
    ))
    .help(format!(
        "declare `{}` outside the macro (or import it) so that it is read",
        bare.name
    ))
}

fn unresolved(
    bare: &crate::parse::BareName,
    scope: &crate::parse::Scope,
    local: &BTreeMap<String, Vec<String>>,
    names: &Names,
) -> Diagnostic {
    // A kind kube-rs's derive declares (`type ConfigurationList = ObjectList<Configuration>`):
    // W0118 shows it; a look-alike name would mislead.
    let derived = names
        .files
        .values()
        .flat_map(|lf| &lf.scopes)
        .find_map(|s| s.derived_kinds.get(&bare.name));
    if let Some(spec) = derived {
        return Diagnostic::error(
            "E0110",
            format!("cannot find type `{}` in this package", bare.name),
        )
        .at(bare.span, "declared by a derive kube-codegen cannot read")
        .note(format!(
            "`#[derive(CustomResource)]` on `{spec}` declares `{}` (warning W0118)",
            bare.name
        ))
        .help(format!(
            "declare `{}` as W0118 shows, in place of the derive",
            bare.name
        ));
    }
    let candidates = local
        .keys()
        .map(String::as_str)
        .chain(scope.uses.keys().map(String::as_str))
        .chain(KnownType::ALL.iter().map(|(n, _)| *n));
    let best = candidates
        .map(|c| (strsim::jaro_winkler(&bare.name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let d = Diagnostic::error(
        "E0110",
        format!("cannot find type `{}` in this package", bare.name),
    )
    .at(bare.span, "not declared in the package and not imported");
    match best {
        Some((_, name)) => d.help(format!("did you mean `{name}`?")),
        None => d.help(format!(
            "declare `{}` in the package, import it (`use path::to::{};`), or write its full path",
            bare.name, bare.name
        )),
    }
}

/// Resolves a type as written in a scope of a file through the package's names.
pub(super) struct WrittenTypes<'a> {
    names: &'a Names<'a>,
    local: &'a BTreeMap<String, Vec<String>>,
    aliases: &'a Aliases,
    replacements: &'a Replacements,
    /// The package's own module path from the crate root (`apis::pager::v1`), when known: a
    /// `crate::apis::pager::v1::Alert` written in the package names its own `Alert`.
    crate_relative: Option<Vec<String>>,
}

impl<'a> WrittenTypes<'a> {
    pub(super) fn new(
        pkg: &Package,
        names: &'a Names<'a>,
        local: &'a BTreeMap<String, Vec<String>>,
        aliases: &'a Aliases,
        replacements: &'a Replacements,
    ) -> Self {
        let crate_relative: Option<Vec<String>> = pkg
            .rust_path
            .as_deref()
            .map(|p| p.split("::").skip(1).map(str::to_string).collect());
        WrittenTypes {
            names,
            local,
            aliases,
            replacements,
            crate_relative,
        }
    }

    /// `ty`, written in scope `scope` of `file` at `module`, resolved through the package's
    /// names.
    pub(super) fn resolve(
        &self,
        ty: &mut FieldType,
        file: FileId,
        scope: usize,
        module: &[String],
    ) {
        self.own_module_paths(ty);
        through_sibling_globs(
            ty,
            self.names,
            &self.names.files[&file].scopes[scope],
            module,
        );
        self.resolve_with_glob_aliases(ty, file, scope, module);
        self.glob_imported(ty, file, scope);
    }

    /// `crate::<the package's own module>::X`, or `crate::<own>::<module>::X` naming `X` in the
    /// package's module where it is declared (`crate::apis::shop::v1::params::Param`).
    fn own_module_paths(&self, ty: &mut FieldType) {
        let Some(own) = &self.crate_relative else {
            return;
        };
        ty.walk_mut(&mut |ft| {
            if let FieldType::Foreign { path, args } = ft
                && args.is_empty()
                && !path.global
                && path.first() == "crate"
                && let Some(declared_in) = self.local.get(path.last())
                && let Some(inside) =
                    path.segments[1..path.segments.len() - 1].strip_prefix(&own[..])
                && (inside.is_empty() || inside == &declared_in[..])
            {
                *ft = FieldType::Local(path.last().to_string());
            }
        });
    }

    /// [`resolve_with_aliases`], with well-known names a glob brings from the package's own
    /// aliases kept as the glob brings them.
    fn resolve_with_glob_aliases(
        &self,
        ty: &mut FieldType,
        file: FileId,
        scope: usize,
        module: &[String],
    ) {
        // A well-known name (`Duration`) a glob brings from the package's own aliases: taken
        // before the well-known type could claim it. The alias is resolved where it is declared
        // already, so it is held aside (a placeholder) while the rest of the type resolves.
        let mut held: Vec<FieldType> = Vec::new();
        ty.walk_mut(&mut |ft| {
            if let FieldType::Foreign { path, args } = ft
                && path.is_single()
                && args.is_empty()
                && KnownType::ALL.iter().any(|(n, _)| *n == path.last())
                && let Some(rep) = self
                    .replacements
                    .get(&(file, scope, path.last().to_string()))
            {
                *ft = FieldType::Local(format!("{HELD}{}", held.len()));
                held.push(rep.clone());
            }
        });
        resolve_with_aliases(ty, self.local, self.aliases, module, 0);
        if !held.is_empty() {
            ty.walk_mut(&mut |ft| {
                if let FieldType::Local(name) = ft
                    && let Some(i) = name
                        .strip_prefix(HELD)
                        .and_then(|i| i.parse::<usize>().ok())
                    && let Some(rep) = held.get(i)
                {
                    *ft = rep.clone();
                    resolve_ty(ft, self.local, &[]);
                }
            });
        }
    }

    /// Bare names a glob import brings: already package-relative.
    fn glob_imported(&self, ty: &mut FieldType, file: FileId, scope: usize) {
        ty.walk_mut(&mut |ft| {
            if let FieldType::Foreign { path, args } = ft
                && path.is_single()
                && args.is_empty()
                && let Some(rep) = self
                    .replacements
                    .get(&(file, scope, path.last().to_string()))
            {
                *ft = rep.clone();
                resolve_ty(ft, self.local, &[]);
            }
        });
    }
}
