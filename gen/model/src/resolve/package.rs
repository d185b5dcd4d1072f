//! Building one package from its files: its group, root file, tags, types and functions, and
//! what names mean in it; then its types are resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, Span};
use crate::model::*;
use crate::naming;
use crate::parse::{LoweredFile, LoweredType, Scope};
use crate::tags::{Tag, TagKey};

use super::crate_info::CrateInfo;
use super::names::Names;
use super::place::{PackageKey, Placed};
use super::types::{RawType, resolve_types};

/// What every package of one input directory is assembled with.
pub(super) struct PackageContext<'a> {
    pub(super) input: usize,
    pub(super) input_dir: &'a Path,
    pub(super) crate_info: Option<&'a CrateInfo>,
    pub(super) lowered: &'a BTreeMap<crate::diag::FileId, LoweredFile>,
    pub(super) group_tags: &'a BTreeMap<PathBuf, Vec<(String, Span)>>,
    pub(super) hubs: &'a BTreeMap<PathBuf, BTreeSet<String>>,
    /// The `use`s of each group directory's module (see `Names::parent_uses`).
    pub(super) group_uses: &'a BTreeMap<PathBuf, BTreeMap<String, crate::path::RustPath>>,
    /// The package of each group directory that reports a group it cannot tell (E0106).
    pub(super) group_reporters: &'a BTreeMap<PathBuf, PackageKey>,
    pub(super) package_dirs: &'a BTreeSet<PathBuf>,
}

/// One package: its group, root file, tags and types, resolved and interpreted.
pub(super) fn assemble_one(
    cx: &PackageContext,
    key: &PackageKey,
    files: &[&Placed],
    file_types: Vec<Vec<LoweredType>>,
    diags: &mut Vec<Diagnostic>,
) -> Package {
    let lowered = cx.lowered;
    let group_dir_name = group_dir_name(cx.input_dir, key);
    let dir = files[0].package_dir();
    let (root_file, root_file_id) = root_file(files, &dir);
    let reports = cx.group_reporters.get(&key.group_dir) == Some(key);
    let (group, group_origin) = package_group(
        key,
        reports,
        cx.group_tags,
        &group_dir_name,
        &dir,
        root_file_id,
        diags,
    );
    derive_groups_differ(files, lowered, &group, &group_origin, &root_file, diags);
    let pkg_tags = package_tags(files, lowered, diags);
    let module: Vec<String> = dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let rust_path = cx.crate_info.and_then(|c| c.rust_path(cx.input_dir, &dir));
    let exports = Exports::of(files, lowered, own_paths(&module, rust_path.as_deref()));
    let (types, raw) = package_types(files, file_types, lowered, &exports, diags);
    let functions = package_functions(files, lowered);
    let options = crate::interpret::package_options(&pkg_tags);
    let mut pkg = Package {
        input: cx.input,
        dir: dir.clone(),
        root_file,
        group,
        group_origin,
        version: key.version.clone(),
        module,
        rust_path,
        options,
        types,
        functions,
        unread_functions: Vec::new(),
        protobuf_record: None,
    };
    let names = package_names(cx, key, files, root_file_id, &pkg.dir);
    resolve_types(&mut pkg, &names, raw, diags);
    if let Some(root) = lowered.get(&root_file_id) {
        super::checks::items_named_like_generated_ones(&pkg, &root.module_items, diags);
    }
    pkg
}

/// The name of the directory that holds the package's group (the input's parent for an input
/// that is a version directory, the input itself for an empty group directory).
fn group_dir_name(input_dir: &Path, key: &PackageKey) -> String {
    if key.group_dir.as_os_str() == ".." {
        input_dir
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else if key.group_dir.as_os_str().is_empty() {
        input_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        key.group_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The package's root module file and its id.
fn root_file(files: &[&Placed], dir: &Path) -> (PathBuf, FileId) {
    // The package's root module file: mod.rs/lib.rs inside, or `<dir>.rs` beside.
    let root_file = files
        .iter()
        .map(|p| p.file.rel.clone())
        .find(|rel| {
            rel.parent() == Some(dir)
                && matches!(
                    rel.file_stem().and_then(|s| s.to_str()),
                    Some("mod" | "lib" | "main")
                )
        })
        .or_else(|| {
            files
                .iter()
                .map(|p| p.file.rel.clone())
                .find(|rel| rel.with_extension("") == dir)
        })
        .unwrap_or_else(|| files[0].file.rel.clone());
    let root_file_id = files
        .iter()
        .find(|p| p.file.rel == root_file)
        .map(|p| p.file.id)
        .unwrap_or(files[0].file.id);
    (root_file, root_file_id)
}

/// The package's API group: its group directory's `+groupName`, else the directory's name when
/// it is one; E0106 when neither tells.
fn package_group(
    key: &PackageKey,
    reports: bool,
    group_tags: &BTreeMap<PathBuf, Vec<(String, Span)>>,
    group_dir_name: &str,
    dir: &Path,
    root_file_id: FileId,
    diags: &mut Vec<Diagnostic>,
) -> (String, Origin) {
    match group_tags.get(&key.group_dir) {
        Some(tags) => (tags[0].0.clone(), Origin::Tag(tags[0].1)),
        None if naming::is_dns_subdomain(group_dir_name)
            && !naming::is_container_dir(group_dir_name) =>
        {
            (
                group_dir_name.to_string(),
                Origin::Inferred(format!("directory `{group_dir_name}`")),
            )
        }
        // Another package of the group says it.
        None if !reports => (String::new(), Origin::Inferred("nothing".into())),
        None => {
            let why = if group_dir_name.is_empty() {
                "the package has no group directory".to_string()
            } else if naming::is_container_dir(group_dir_name) {
                format!("`{group_dir_name}/` holds API packages; it is not a group name")
            } else {
                format!("directory `{group_dir_name}` is not a lower-case DNS name")
            };
            diags.push(
                Diagnostic::error(
                    "E0106",
                    format!(
                        "cannot tell the API group of package `{}`",
                        display_dir(dir, key.version.as_deref())
                    ),
                )
                .at(
                    Span::new(root_file_id, 0, 0),
                    "no `//! +groupName=` at the top of this file",
                )
                .note(why)
                .help(
                    "add `//! +groupName=<group>` (e.g. `//! +groupName=example.com`) at the \
                     top of this file, or put the version directory in a directory named \
                     after the group",
                ),
            );
            (String::new(), Origin::Inferred("nothing".into()))
        }
    }
}

/// W0118 for a `#[derive(CustomResource)]` whose `#[kube(group = …)]` is not the package's
/// group: its kind, once written as W0118 shows, would be served in the package's group, not
/// the one the derive served (agones keeps `FleetAutoscaler` of `autoscaling.agones.dev` beside
/// `Fleet` of `agones.dev`; brupop's group is lost to its directory's name).
fn derive_groups_differ(
    files: &[&Placed],
    lowered: &BTreeMap<FileId, LoweredFile>,
    group: &str,
    origin: &Origin,
    root_file: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    // With no group (E0106 says so), the derive's is the one to write.
    let package = match origin {
        _ if group.is_empty() => "this package has no group".to_string(),
        Origin::Tag(_) => format!("this package's group is `{group}` (from its `+groupName`)"),
        Origin::Inferred(what) => {
            format!("this package's group is `{group}` (inferred from {what})")
        }
    };
    for p in files {
        for scope in &lowered[&p.file.id].scopes {
            for (derive_group, span) in scope.derive_groups.iter().filter(|(g, _)| g != group) {
                let mut d = Diagnostic::warning(
                    "W0118",
                    format!("the derive serves group `{derive_group}`; {package}"),
                )
                .at(*span, format!("`#[kube(group = \"{derive_group}\")]`"));
                if !group.is_empty() {
                    d = d.note(format!(
                        "once declared as W0118 shows, the kind is served in `{group}`: clients of `{derive_group}` would not find it"
                    ));
                }
                diags.push(d.help(match origin {
                    Origin::Inferred(_) => format!(
                        "say the group in the package: `//! +groupName={derive_group}` at the top of {}",
                        root_file.display()
                    ),
                    Origin::Tag(_) => format!(
                        "move the type to a package of group `{derive_group}` (a `<group>/<version>/` directory whose module says `//! +groupName={derive_group}`), or serve it in `{group}`"
                    ),
                }));
            }
        }
    }
}

fn display_dir(dir: &Path, version: Option<&str>) -> String {
    let d = dir.display().to_string();
    if d.is_empty() {
        version.unwrap_or(".").to_string()
    } else {
        d
    }
}

/// The package tags of the package's files but `+groupName`, each once (E0104 for a
/// non-repeatable tag given twice with different values).
fn package_tags(
    files: &[&Placed],
    lowered: &BTreeMap<FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Tag> {
    let mut pkg_tags: Vec<Tag> = Vec::new();
    for p in files {
        for t in &lowered[&p.file.id].package_tags {
            if t.key == TagKey::GroupName {
                continue;
            }
            if let Some(prev) = pkg_tags.iter().find(|x| x.key == t.key)
                && !crate::tags::spec_of(t.key).repeatable
            {
                if prev.value != t.value {
                    diags.push(
                        Diagnostic::error(
                            "E0104",
                            format!("package tag `+{}` is given twice", t.name()),
                        )
                        .at(t.span, "second occurrence in this package")
                        .also(prev.span, "first given here")
                        .help("give each package tag once, in the package's mod.rs"),
                    );
                }
                continue;
            }
            pkg_tags.push(t.clone());
        }
    }
    pkg_tags
}

/// Which file modules are `pub` (by the module declaring them), and what the package module
/// re-exports: where other crates can name each type.
struct Exports<'a> {
    file_mods: BTreeMap<Vec<String>, &'a [(String, bool)]>,
    root_scope: Option<&'a Scope>,
    /// The ways a `use` in the package module names that module itself (see [`own_paths`]).
    own: Vec<Vec<String>>,
}

/// The paths by which a `use` in the package module names the module itself: `self`,
/// `super::v1` (its own name from its parent) and, when the crate layout tells it, its whole
/// path (`crate::apis::widgets::v1`, or with the crate's name).
fn own_paths(module: &[String], rust_path: Option<&str>) -> Vec<Vec<String>> {
    let mut own = vec![vec!["self".to_string()]];
    if let Some(name) = module.last() {
        own.push(vec!["super".to_string(), name.clone()]);
    }
    if let Some(path) = rust_path {
        let segments: Vec<String> = path.split("::").map(str::to_string).collect();
        if segments.first().is_some_and(|s| s != "crate") {
            let mut in_crate = segments.clone();
            in_crate[0] = "crate".to_string();
            own.push(in_crate);
        }
        own.push(segments);
    }
    own
}

impl<'a> Exports<'a> {
    fn of(
        files: &[&Placed],
        lowered: &'a BTreeMap<FileId, LoweredFile>,
        own: Vec<Vec<String>>,
    ) -> Self {
        let mut file_mods: BTreeMap<Vec<String>, &[(String, bool)]> = BTreeMap::new();
        let mut root_scope: Option<&Scope> = None;
        for p in files.iter() {
            let lf = &lowered[&p.file.id];
            file_mods.insert(p.module.clone(), &lf.file_mods);
            if p.module.is_empty() {
                root_scope = lf.scopes.first();
            }
        }
        Exports {
            file_mods,
            root_scope,
            own,
        }
    }

    /// The module path (from the package module) other crates name a type declared in
    /// `scope` of the file at `file_module` by; `None` when they cannot name it.
    fn public_module(
        &self,
        file_module: &[String],
        scope: &Scope,
        name: &str,
        is_pub: bool,
    ) -> Option<Vec<String>> {
        if !is_pub {
            return None;
        }
        let mut module = file_module.to_vec();
        module.extend(scope.inline.iter().cloned());
        if module.is_empty() {
            return Some(Vec::new());
        }
        // Other crates reach `module[from..]` from `module[..from]`: every file module below
        // is `pub mod`, and so is every inline module.
        let public_below = |from: usize| {
            scope.public
                && (from..file_module.len()).all(|i| {
                    self.file_mods.get(&file_module[..i]).is_some_and(|mods| {
                        mods.iter()
                            .any(|(m, public)| *public && *m == file_module[i])
                    })
                })
        };
        // `types` of `pub use types::*` / `pub use self::types::Name` /
        // `pub use crate::apis::widgets::v1::types::*`, as a module path; `None` for a path
        // outside the package.
        let target = |path: &[String]| -> Option<Vec<String>> {
            match self.own.iter().find(|own| path.starts_with(own)) {
                Some(own) => Some(path[own.len()..].to_vec()),
                None if path
                    .first()
                    .is_some_and(|s| matches!(s.as_str(), "crate" | "super")) =>
                {
                    None
                }
                None => Some(path.to_vec()),
            }
        };
        if let Some(root) = self.root_scope {
            let named = root.public_exports.contains(name)
                && root.uses.get(name).is_some_and(|p| {
                    p.last() == name
                        && target(&p.segments[..p.segments.len() - 1]).as_ref() == Some(&module)
                });
            if named {
                return Some(Vec::new());
            }
            // A glob of the type's module, or of a module above it (`pub use types::*` makes
            // `types::spec::X` `spec::X` when `spec` is public).
            for glob in &root.public_globs {
                let Some(prefix) = target(&glob.segments) else {
                    continue;
                };
                if module.starts_with(&prefix) && public_below(prefix.len()) {
                    return Some(module[prefix.len()..].to_vec());
                }
            }
        }
        public_below(0).then_some(module)
    }
}

/// The package's types as the model has them, with what each brought from lowering that the
/// model does not keep; files that cannot be Rust modules (E0109) contribute none.
fn package_types(
    files: &[&Placed],
    file_types: Vec<Vec<LoweredType>>,
    lowered: &BTreeMap<FileId, LoweredFile>,
    exports: &Exports,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<TypeDef>, Vec<RawType>) {
    let mut types: Vec<TypeDef> = Vec::new();
    let mut raw: Vec<RawType> = Vec::new();
    let mut impls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut trait_impls: BTreeMap<String, Vec<TraitImpl>> = BTreeMap::new();
    for (p, file_types) in files.iter().zip(file_types) {
        let lf = &lowered[&p.file.id];
        if let Some(bad) = p.module.iter().find(|m| !naming::is_rust_ident(m))
            && !file_types.is_empty()
        {
            diags.push(
                Diagnostic::error(
                    "E0109",
                    format!("{} cannot be a Rust module", p.file.rel.display()),
                )
                .at(Span::new(p.file.id, 0, 0), "types in this file")
                .note(format!("`{bad}` is not a Rust identifier"))
                .help("rename the file or folder to a snake_case identifier"),
            );
            continue;
        }
        for (ty, tr) in &lf.impls {
            impls.entry(ty.clone()).or_default().insert(tr.clone());
        }
        for (ty, imp) in &lf.trait_impls {
            trait_impls.entry(ty.clone()).or_default().push(imp.clone());
        }
        private_modules_with_types(lf, &file_types, diags);
        for mut t in file_types {
            let scope = &lf.scopes[t.scope];
            let public_module = exports.public_module(&p.module, scope, &t.name, t.is_pub);
            raw.push(RawType {
                tags: std::mem::take(&mut t.tags),
                file: p.file.id,
                scope: t.scope,
            });
            types.push(type_def(t, &p.module, scope, public_module));
        }
    }
    // A module holding API types that some builds leave out: generated code names its types
    // in every build.
    for p in files {
        for (below, cfg, reexport) in &lowered[&p.file.id].cfg_gated_modules {
            let gated: Vec<String> = p.module.iter().chain(below).cloned().collect();
            let Some(t) = types.iter().find(|t| t.module.starts_with(&gated)) else {
                continue;
            };
            let (what, why) = if *reexport {
                (
                    "a re-export of module",
                    "other crates (clients, apply configurations) name the package's types through it in every build",
                )
            } else {
                (
                    "module",
                    "the generated files name the package's types in every build",
                )
            };
            diags.push(
                Diagnostic::error(
                    "E0204",
                    format!("`#[cfg]` on {what} `{}`, which holds API types", gated.join("::")),
                )
                .at(*cfg, "generated code cannot follow a `cfg`")
                .also(t.span, format!("`{}` is declared in it", t.name))
                .help(format!("{why}: gate the whole package module (its `mod v1;`, with the `include!`s inside) instead, or remove the `cfg`")),
            );
        }
    }
    for t in &mut types {
        if let Some(i) = impls.get(&t.name) {
            t.impls = i.clone();
        }
        if let Some(i) = trait_impls.get(&t.name) {
            t.trait_impls = i.clone();
        }
    }
    (types, raw)
}

/// E0113: a private inline module (below a reachable one) that holds types of the file.
fn private_modules_with_types(
    lf: &LoweredFile,
    file_types: &[LoweredType],
    diags: &mut Vec<Diagnostic>,
) {
    // Types of a private inline module cannot be named from the package module.
    for scope in &lf.scopes {
        let parent_reachable = lf.scopes.iter().any(|s| {
            s.reachable
                && s.inline.len() + 1 == scope.inline.len()
                && scope.inline.starts_with(&s.inline)
        });
        let holds_types = file_types
            .iter()
            .any(|t| lf.scopes[t.scope].inline.starts_with(&scope.inline));
        if !scope.reachable
            && parent_reachable
            && holds_types
            && let Some(span) = scope.span
        {
            diags.push(
                Diagnostic::error(
                    "E0113",
                    format!(
                        "module `{}` holds API types but is private",
                        scope.inline.join("::")
                    ),
                )
                .at(span, "generated code in the package module cannot name its types")
                .note("an inline module of an API package is part of the package: its types are API types, named through their module path")
                .help("make it `pub mod`, move the types out of it, or mark a test-only module `#[cfg(test)]`"),
            );
        }
    }
}

/// The model's type for a lowered type declared in `scope` of the file at `file_module`.
fn type_def(
    t: LoweredType,
    file_module: &[String],
    scope: &Scope,
    public_module: Option<Vec<String>>,
) -> TypeDef {
    let mut module = file_module.to_vec();
    module.extend(scope.inline.iter().cloned());
    TypeDef {
        public_module,
        name: t.name,
        module,
        is_pub: t.is_pub,
        visibility: t.visibility,
        has_generics: t.has_generics,
        docs: t.docs,
        span: t.span,
        body: t.body,
        options: TypeOptions::default(),
        derives: t.derives.into_iter().collect(),
        impls: BTreeSet::new(),
        trait_impls: Vec::new(),
        resource: None,
        serde: t.serde,
        private_members: t.private_members,
    }
}

/// The hand-written functions of the package's files, with the module each is declared in.
fn package_functions(files: &[&Placed], lowered: &BTreeMap<FileId, LoweredFile>) -> Vec<Function> {
    let mut functions = Vec::new();
    for p in files.iter() {
        let lf = &lowered[&p.file.id];
        // Whether generated code, which lives in the package module, can name the items of a
        // module of this file: a module its own file declares inline is visible to it, private
        // or not.
        let nameable = |scope: &crate::parse::Scope| {
            (p.module.is_empty() && scope.inline.is_empty())
                || if p.module.is_empty() {
                    scope.reachable_from_file
                } else {
                    scope.reachable
                }
        };
        for f in &lf.functions {
            let scope = &lf.scopes[f.scope];
            let mut inline = scope.inline.clone();
            let mut reachable =
                (p.module.is_empty() && inline.is_empty()) || (f.is_pub && nameable(scope));
            // A `pub fn` of a module generated code cannot name, re-exported by one it can
            // (`pub use inner::convert_x_to_hub;`): called through the re-export.
            if !reachable
                && f.is_pub
                && let Some(through) = lf.scopes.iter().find(|s| {
                    nameable(s)
                        && s.exported.contains(&f.name)
                        && s.uses
                            .get(&f.name)
                            .is_some_and(|path| reexports(path, &s.inline, &scope.inline))
                })
            {
                reachable = true;
                inline = through.inline.clone();
            }
            let mut module = p.module.clone();
            module.extend(inline);
            functions.push(Function {
                name: f.name.clone(),
                reachable,
                is_pub: f.is_pub,
                module,
                span: f.span,
                params: f.params,
                borrows_input: f.borrows_input,
                returns: f.returns.clone(),
                input: f.input.clone(),
                output: f.output.clone(),
                body_idents: f.body_idents.clone(),
            });
        }
    }
    functions
}

/// Whether a `use` of `path` in the file's inline module `from` names an item of its inline
/// module `declared_in` (`use inner::f;` names `f` of `inner`, as `self::inner::f` does).
fn reexports(path: &crate::path::RustPath, from: &[String], declared_in: &[String]) -> bool {
    let local = if path.global || path.is_relative() {
        path.clone()
    } else {
        crate::path::RustPath::from_segments(
            false,
            std::iter::once("self").chain(path.segments.iter().map(String::as_str)),
        )
    };
    local.module_from(from).as_deref() == Some(declared_in)
}

/// What names mean in the package at `dir`: its files' scopes, its hub's types, its root
/// module's imports and globs.
fn package_names<'a>(
    cx: &PackageContext<'a>,
    key: &PackageKey,
    files: &[&Placed],
    root_file_id: FileId,
    dir: &Path,
) -> Names<'a> {
    let lowered = cx.lowered;
    let hub_types: BTreeSet<String> = if key.version.is_some() {
        cx.hubs.get(&key.group_dir).cloned().unwrap_or_default()
    } else {
        BTreeSet::new()
    };
    let root_scope = lowered.get(&root_file_id).and_then(|lf| lf.scopes.first());
    let root_uses = root_scope.map(|s| s.uses.clone()).unwrap_or_default();
    let root_globs = root_globs(root_scope, &root_uses);
    let parent_uses = if key.version.is_some() {
        cx.group_uses
            .get(&key.group_dir)
            .map(|uses| {
                uses.iter()
                    .map(|(name, path)| (name.clone(), from_child(path)))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    Names {
        files: files
            .iter()
            .map(|p| (p.file.id, &lowered[&p.file.id]))
            .collect(),
        module_of: files
            .iter()
            .map(|p| (p.file.id, p.module.clone()))
            .collect(),
        hub_types,
        root_uses,
        parent_uses,
        root_globs,
        dir: dir.to_path_buf(),
        package_dirs: cx.package_dirs,
    }
}

/// A path written in a module, as its child module names it: `self::a::B` is `super::a::B`,
/// `super::x::Y` is `super::super::x::Y`; crate-rooted and other crates' paths are the same.
fn from_child(path: &crate::path::RustPath) -> crate::path::RustPath {
    let segments: Vec<&str> = match path.segments.first().map(String::as_str) {
        Some("self") if !path.global => std::iter::once("super")
            .chain(path.segments[1..].iter().map(String::as_str))
            .collect(),
        Some("super") if !path.global => std::iter::once("super")
            .chain(path.segments.iter().map(String::as_str))
            .collect(),
        _ => return path.clone(),
    };
    crate::path::RustPath::from_segments(false, segments)
}

/// Globs of the package's own modules (`names::*`, `self::names::*`) in its root module, not
/// of other crates.
fn root_globs(
    root_scope: Option<&Scope>,
    root_uses: &BTreeMap<String, crate::path::RustPath>,
) -> Vec<Vec<String>> {
    root_scope
        .map(|s| {
            s.globs
                .iter()
                .filter(|g| !g.global)
                .map(|g| {
                    let segs = g
                        .segments
                        .strip_prefix(&["self".to_string()])
                        .unwrap_or(&g.segments);
                    segs.to_vec()
                })
                .filter(|segs| {
                    segs.first().is_some_and(|first| {
                        !matches!(first.as_str(), "super" | "crate")
                            && !root_uses.contains_key(first)
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
