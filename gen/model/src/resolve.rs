//! Phase 2: lowered files → packages; group/version/scope/plural inference; validation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, Span};
use crate::model::*;
use crate::naming;
use crate::parse::{InputFile, LoweredFile, LoweredType, Scope};
use crate::path::RustPath;
use crate::tags::{Tag, TagKey, TagValue};

/// Which package a file belongs to, from its path relative to the input directory.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PackageKey {
    /// Directory holding the group (relative to the input; may be empty = the input itself).
    pub group_dir: PathBuf,
    pub version: Option<String>,
}

pub(crate) struct Placed<'a> {
    pub file: &'a InputFile,
    pub key: PackageKey,
    /// Module path of the file relative to its package.
    pub module: Vec<String>,
}

impl Placed<'_> {
    /// The package directory relative to the input, as [`Package::dir`] has it.
    pub fn package_dir(&self) -> PathBuf {
        match &self.key.version {
            Some(_) if self.key.group_dir.as_os_str() == ".." => PathBuf::new(),
            Some(v) => self.key.group_dir.join(v),
            None => self.key.group_dir.clone(),
        }
    }
}

/// Gives the files `#[path = "…"] mod name;` declarations point at the module path rustc gives
/// them (`name` under the declaring module) instead of the one their file name suggests, with
/// the files below them; generated code names their types by that path.
pub(crate) fn follow_path_attributes(
    placed: &mut [Placed],
    lowered: &BTreeMap<crate::diag::FileId, LoweredFile>,
) {
    let mut renames: Vec<(PackageKey, Vec<String>, Vec<String>)> = Vec::new();
    for p in placed.iter() {
        let Some(lf) = lowered.get(&p.file.id) else {
            continue;
        };
        let dir = p.file.rel.parent().unwrap_or(Path::new(""));
        for (name, file) in &lf.path_mods {
            let Some(file) = file else { continue };
            let Some(target) = normalize(&dir.join(file)) else {
                continue;
            };
            let Some(t) = placed
                .iter()
                .find(|t| t.file.rel == target && t.key == p.key)
            else {
                continue;
            };
            let mut module = p.module.clone();
            module.push(name.clone());
            if t.module != module {
                renames.push((p.key.clone(), t.module.clone(), module));
            }
        }
    }
    for (key, from, to) in renames {
        for p in placed.iter_mut().filter(|p| p.key == key) {
            if p.module.starts_with(&from) {
                p.module = to.iter().chain(&p.module[from.len()..]).cloned().collect();
            }
        }
    }
}

/// `a/./b/../c.rs` as `a/c.rs`; `None` when it climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => return None,
        }
    }
    Some(out)
}

/// Places each file in a package: `<group>/<version>/**` or `<group>/<version>.rs` is an external
/// version; other files under a group directory (one that has version children) are its hub.
pub(crate) fn place<'a>(
    input_dir: &Path,
    files: &'a [InputFile],
) -> (Vec<Placed<'a>>, Vec<&'a InputFile>) {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // The input directory itself may be a version directory or a group directory.
    let input_name = input_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut group_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for f in files {
        let comps: Vec<String> = f
            .rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        for (i, c) in comps.iter().enumerate() {
            let name = if i + 1 == comps.len() {
                stem(&f.rel)
            } else {
                c.clone()
            };
            if naming::is_version(&name) {
                group_dirs.insert(comps[..i].iter().collect());
                break;
            }
        }
    }
    let mut placed = Vec::new();
    let mut loose = Vec::new();
    for f in files {
        let comps: Vec<String> = f
            .rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let file_stem = stem(&f.rel);
        let module_of = |rest: &[String]| -> Vec<String> {
            // rest = path components after the package directory, the file last.
            let mut m: Vec<String> = rest[..rest.len().saturating_sub(1)].to_vec();
            if !matches!(file_stem.as_str(), "mod" | "lib" | "main") {
                m.push(file_stem.clone());
            }
            m
        };
        if naming::is_version(&input_name) {
            placed.push(Placed {
                file: f,
                key: PackageKey {
                    group_dir: PathBuf::from(".."),
                    version: Some(input_name.clone()),
                },
                module: module_of(&comps),
            });
            continue;
        }
        let mut done = false;
        for (i, c) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let name = if last { file_stem.clone() } else { c.clone() };
            if naming::is_version(&name) {
                let module = if last {
                    Vec::new()
                } else {
                    module_of(&comps[i + 1..])
                };
                placed.push(Placed {
                    file: f,
                    key: PackageKey {
                        group_dir: comps[..i].iter().collect(),
                        version: Some(name),
                    },
                    module,
                });
                done = true;
                break;
            }
        }
        if done {
            continue;
        }
        // Hub: the deepest group directory that contains this file. A `<group>.rs` file beside
        // the group directory is the hub's root module too.
        let parent: PathBuf = f.rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let sibling_root = parent.join(&file_stem);
        if group_dirs.contains(&sibling_root) {
            placed.push(Placed {
                file: f,
                key: PackageKey {
                    group_dir: sibling_root,
                    version: None,
                },
                module: Vec::new(),
            });
            continue;
        }
        let mut found = None;
        for g in group_dirs.iter().rev() {
            if f.rel.starts_with(g) {
                found = Some(g.clone());
                break;
            }
        }
        match found {
            Some(g) => {
                let n = g.components().count();
                placed.push(Placed {
                    file: f,
                    key: PackageKey {
                        group_dir: g,
                        version: None,
                    },
                    module: module_of(&comps[n..]),
                });
            }
            None => loose.push(f),
        }
    }
    (placed, loose)
}

/// Builds the packages of one input directory.
pub(crate) fn assemble(
    input: usize,
    input_dir: &Path,
    crate_info: Option<&CrateInfo>,
    placed: &[Placed],
    lowered: &mut BTreeMap<crate::diag::FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Package> {
    let mut by_key: BTreeMap<PackageKey, Vec<&Placed>> = BTreeMap::new();
    for p in placed {
        by_key.entry(p.key.clone()).or_default().push(p);
    }
    for files in by_key.values_mut() {
        drop_undeclared(files, lowered, diags);
    }
    // Generated anyway: the module may be declared from outside the input (a `#[path]` in
    // `lib.rs`), which only rustc can tell; the warning explains the error rustc gives if not.
    for (key, module_file, module_id) in undeclared_versions(&by_key, lowered) {
        let module_file = input_dir.join(module_file);
        let version = key.version.as_deref().unwrap_or_default();
        let at = by_key[&key]
            .iter()
            .find_map(|p| lowered[&p.file.id].types.first().map(|t| t.span));
        let mut d = Diagnostic::warning(
            "W0117",
            format!(
                "version directory {} is not a module: {} does not declare `mod {version};`",
                input_dir.join(&key.group_dir).join(version).display(),
                module_file.display()
            ),
        )
        .note("rustc does not compile it unless a module outside the input declares it, and generated code naming it (clients, apply configurations) would not compile")
        .help(format!(
            "declare it in {} (`pub mod {version};`), or remove the directory",
            module_file.display()
        ));
        d = match at {
            Some(at) => d.at(at, "no module here declares this version"),
            None => d.at(
                Span::new(module_id, 0, 0),
                format!("no `mod {version};` in this module"),
            ),
        };
        diags.push(d);
    }

    // One group per group directory: a `+groupName` on any of its packages, all in agreement.
    let mut group_tags: BTreeMap<PathBuf, Vec<(String, Span)>> = BTreeMap::new();
    for (key, files) in &by_key {
        for p in files {
            for t in &lowered[&p.file.id].package_tags {
                if let (TagKey::GroupName, TagValue::Text(group)) = (t.key, &t.value) {
                    group_tags
                        .entry(key.group_dir.clone())
                        .or_default()
                        .push((group.clone(), t.span));
                }
            }
        }
    }
    for tags in group_tags.values() {
        let (first, first_span) = &tags[0];
        for (t, span) in &tags[1..] {
            if t != first {
                diags.push(
                    Diagnostic::error(
                        "E0107",
                        format!(
                            "conflicting group names `{first}` and `{t}` for one group directory"
                        ),
                    )
                    .at(*span, "differs from an earlier `+groupName`")
                    .also(*first_span, "first given here")
                    .help("every package of a group directory must name the same group"),
                );
            }
        }
    }

    // Hub types by group directory (what `use super::super::*` in a version can see).
    let hubs: BTreeMap<PathBuf, BTreeSet<String>> = by_key
        .iter()
        .filter(|(key, _)| key.version.is_none())
        .map(|(key, files)| {
            let names = files
                .iter()
                .flat_map(|p| lowered[&p.file.id].types.iter().map(|t| t.name.clone()))
                .collect();
            (key.group_dir.clone(), names)
        })
        .collect();
    // Every file belongs to one package: its types move into that package rather than being
    // copied (on a big API surface the copies were a third of the model's memory).
    let mut file_types: BTreeMap<FileId, Vec<LoweredType>> = lowered
        .iter_mut()
        .map(|(id, lf)| (*id, std::mem::take(&mut lf.types)))
        .collect();
    let lowered = &*lowered;
    // Packages resolve independently: in parallel, diagnostics kept per package.
    use rayon::prelude::*;
    let keyed: Vec<PackageWork> = by_key
        .iter()
        .map(|(key, files)| {
            let types = files
                .iter()
                .map(|p| file_types.remove(&p.file.id).unwrap_or_default())
                .collect();
            (key, files, types)
        })
        .collect();
    let package_dirs: BTreeSet<PathBuf> = by_key
        .values()
        .filter_map(|files| files.first().map(|p| p.package_dir()))
        .collect();
    let assembled: Vec<(Package, Vec<Diagnostic>)> = keyed
        .into_par_iter()
        .map(|(key, files, types)| {
            let mut package_diags = Vec::new();
            let pkg = assemble_one(
                input,
                input_dir,
                crate_info,
                key,
                files,
                types,
                lowered,
                &group_tags,
                &hubs,
                &package_dirs,
                &mut package_diags,
            );
            (pkg, package_diags)
        })
        .collect();
    let mut packages = Vec::with_capacity(assembled.len());
    for (pkg, mut package_diags) in assembled {
        diags.append(&mut package_diags);
        packages.push(pkg);
    }
    packages
}

/// Version packages whose group directory has a module file (`mod.rs`, `lib.rs`) that does not
/// declare them (`pub mod v1beta1;`), with that file: rustc does not compile them. A module with a
/// `#[path = "…"] mod` may declare anything, and a group without a module file here cannot tell:
/// both are given the benefit of the doubt.
fn undeclared_versions(
    by_key: &BTreeMap<PackageKey, Vec<&Placed>>,
    lowered: &BTreeMap<FileId, LoweredFile>,
) -> Vec<(PackageKey, PathBuf, FileId)> {
    by_key
        .keys()
        .filter(|key| key.group_dir.as_os_str() != "..")
        .filter_map(|key| {
            let version = key.version.as_ref()?;
            let hub = PackageKey {
                group_dir: key.group_dir.clone(),
                version: None,
            };
            let roots: Vec<&Placed> = by_key
                .get(&hub)?
                .iter()
                .copied()
                .filter(|p| p.module.is_empty())
                .collect();
            let declares = |p: &&Placed| {
                let lf = &lowered[&p.file.id];
                !lf.path_mods.is_empty()
                    || lf.file_mods.iter().any(|(m, _)| m == version)
                    || lf.test_file_mods.contains(version)
                    || lf
                        .scopes
                        .iter()
                        .any(|s| s.inline.len() == 1 && s.inline[0] == *version)
            };
            let first = roots.first()?;
            (!roots.iter().any(declares))
                .then(|| (key.clone(), first.file.rel.clone(), first.file.id))
        })
        .collect()
}

/// Keeps the files rustc compiles: a file module counts when the module above it declares it
/// (`mod types;` in `mod.rs`), or when that module has no file here to tell (a package without a
/// `mod.rs`). An undeclared file with types gets W0115 (its types would not exist, and generated
/// code naming them would not compile); one declared under `#[cfg(test)]` is left out quietly.
fn drop_undeclared(
    files: &mut Vec<&Placed>,
    lowered: &BTreeMap<FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) {
    // (`lib.rs` and `main.rs` in one directory are both that directory's module.)
    let mut by_module: BTreeMap<&[String], Vec<&LoweredFile>> = BTreeMap::new();
    for p in files.iter() {
        by_module
            .entry(p.module.as_slice())
            .or_default()
            .push(&lowered[&p.file.id]);
    }
    let declared = |module: &[String]| -> Result<(), Option<()>> {
        for depth in 1..=module.len() {
            let Some(parents) = by_module.get(&module[..depth - 1]) else {
                return Ok(()); // nothing here says what the module above declares
            };
            // `#[path = "…"] mod x;` may declare any file: give it the benefit of the doubt.
            if parents.iter().any(|p| !p.path_mods.is_empty()) {
                return Ok(());
            }
            let name = &module[depth - 1];
            let declares = |parent: &&LoweredFile| {
                // `mod extra { pub mod more; }` declares `extra/more.rs` through an inline
                // module.
                parent
                    .scopes
                    .iter()
                    .any(|s| s.inline.len() == 1 && s.inline[0] == *name)
                    || parent.file_mods.iter().any(|(m, _)| m == name)
            };
            if parents.iter().any(declares) {
                continue;
            }
            if parents.iter().any(|p| p.test_file_mods.contains(name)) {
                return Err(None);
            }
            return Err(Some(()));
        }
        Ok(())
    };
    files.retain(|p| match declared(&p.module) {
        Ok(()) => true,
        Err(None) => false,
        Err(Some(_)) => {
            let lf = &lowered[&p.file.id];
            // Types, or hand-written `set_defaults_*`/`convert_*` functions generated code would
            // call: either way the user meant the file to be read.
            let first = lf
                .types
                .first()
                .map(|t| t.span)
                .or_else(|| lf.functions.first().map(|f| f.span));
            if let Some(first) = first {
                let name = p.module.last().map(String::as_str).unwrap_or_default();
                let above = match &p.module[..p.module.len() - 1] {
                    [] => "the package module".to_string(),
                    m => format!("module `{}`", m.join("::")),
                };
                diags.push(
                    Diagnostic::warning(
                        "W0115",
                        format!(
                            "{} is not a module of its package: nothing declares `mod {name};`",
                            p.file.rel.display()
                        ),
                    )
                    .at(first, "rustc does not compile this file, so kube-codegen does not read it")
                    .help(format!("declare it in {above} (`mod {name};`, or `pub mod {name};` for other crates to name its types), or remove the file")),
                );
            }
            false
        }
    });
}

/// A package to assemble: its key, its files and (by file) the types lowered from them.
type PackageWork<'a> = (
    &'a PackageKey,
    &'a Vec<&'a Placed<'a>>,
    Vec<Vec<LoweredType>>,
);

/// One package: its group, root file, tags and types, resolved and interpreted.
#[allow(clippy::too_many_arguments)]
fn assemble_one(
    input: usize,
    input_dir: &Path,
    crate_info: Option<&CrateInfo>,
    key: &PackageKey,
    files: &[&Placed],
    file_types: Vec<Vec<LoweredType>>,
    lowered: &BTreeMap<crate::diag::FileId, LoweredFile>,
    group_tags: &BTreeMap<PathBuf, Vec<(String, Span)>>,
    hubs: &BTreeMap<PathBuf, BTreeSet<String>>,
    package_dirs: &BTreeSet<PathBuf>,
    diags: &mut Vec<Diagnostic>,
) -> Package {
    let group_dir_name = if key.group_dir.as_os_str() == ".." {
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
    };
    let dir = files[0].package_dir();
    // The package's root module file: mod.rs/lib.rs inside, or `<dir>.rs` beside.
    let root_file = files
        .iter()
        .map(|p| p.file.rel.clone())
        .find(|rel| {
            rel.parent() == Some(dir.as_path())
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

    let (group, group_origin) = match group_tags.get(&key.group_dir) {
        Some(tags) => (tags[0].0.clone(), Origin::Tag(tags[0].1)),
        None if naming::is_dns_subdomain(&group_dir_name)
            && !naming::is_container_dir(&group_dir_name) =>
        {
            (
                group_dir_name.clone(),
                Origin::Inferred(format!("directory `{group_dir_name}`")),
            )
        }
        None => {
            let why = if group_dir_name.is_empty() {
                "the package has no group directory".to_string()
            } else if naming::is_container_dir(&group_dir_name) {
                format!("`{group_dir_name}/` holds API packages; it is not a group name")
            } else {
                format!("directory `{group_dir_name}` is not a lower-case DNS name")
            };
            diags.push(
                Diagnostic::error(
                    "E0106",
                    format!(
                        "cannot tell the API group of package `{}`",
                        display_dir(&dir, key.version.as_deref())
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
    };

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

    // Which file modules are `pub` (by the module declaring them), and what the package module
    // re-exports: where other crates can name each type.
    let mut file_mods: BTreeMap<Vec<String>, &[(String, bool)]> = BTreeMap::new();
    let mut root_scope: Option<&Scope> = None;
    for p in files.iter() {
        let lf = &lowered[&p.file.id];
        file_mods.insert(p.module.clone(), &lf.file_mods);
        if p.module.is_empty() {
            root_scope = lf.scopes.first();
        }
    }
    let public_module = |file_module: &[String], scope: &Scope, name: &str, is_pub: bool| {
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
                    file_mods.get(&file_module[..i]).is_some_and(|mods| {
                        mods.iter()
                            .any(|(m, public)| *public && *m == file_module[i])
                    })
                })
        };
        // `types` of `pub use types::*` / `pub use self::types::Name`, as a module path.
        let target = |path: &[String]| -> Vec<String> {
            path.strip_prefix(&["self".to_string()])
                .unwrap_or(path)
                .to_vec()
        };
        if let Some(root) = root_scope {
            let named = root.public_exports.contains(name)
                && root.uses.get(name).is_some_and(|p| {
                    p.last() == name && target(&p.segments[..p.segments.len() - 1]) == module
                });
            if named {
                return Some(Vec::new());
            }
            // A glob of the type's module, or of a module above it (`pub use types::*` makes
            // `types::spec::X` `spec::X` when `spec` is public).
            for glob in &root.public_globs {
                let prefix = target(&glob.segments);
                if module.starts_with(&prefix) && public_below(prefix.len()) {
                    return Some(module[prefix.len()..].to_vec());
                }
            }
        }
        public_below(0).then_some(module)
    };

    let mut types: Vec<TypeDef> = Vec::new();
    let mut raw: Vec<RawType> = Vec::new();
    let mut impls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
        for t in file_types {
            let scope = &lf.scopes[t.scope];
            let mut module = p.module.clone();
            module.extend(scope.inline.iter().cloned());
            let public_module = public_module(&p.module, scope, &t.name, t.is_pub);
            types.push(TypeDef {
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
                resource: None,
                serde: t.serde,
                private_members: t.private_members,
            });
            raw.push(RawType {
                tags: t.tags,
                file: p.file.id,
                scope: t.scope,
            });
        }
    }
    for t in &mut types {
        if let Some(i) = impls.get(&t.name) {
            t.impls = i.clone();
        }
    }

    let module: Vec<String> = dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let rust_path = crate_info.and_then(|c| c.rust_path(input_dir, &dir));
    let mut functions = Vec::new();
    for p in files.iter() {
        let lf = &lowered[&p.file.id];
        for f in &lf.functions {
            let scope = &lf.scopes[f.scope];
            let mut module = p.module.clone();
            module.extend(scope.inline.iter().cloned());
            functions.push(Function {
                name: f.name.clone(),
                reachable: module.is_empty() || (f.is_pub && scope.reachable),
                module,
                span: f.span,
                params: f.params,
                returns: f.returns.clone(),
            });
        }
    }
    let options = crate::interpret::package_options(&pkg_tags);
    let mut pkg = Package {
        input,
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
        protobuf_record: None,
    };
    let hub_types: BTreeSet<String> = if key.version.is_some() {
        hubs.get(&key.group_dir).cloned().unwrap_or_default()
    } else {
        BTreeSet::new()
    };
    let root_scope = lowered.get(&root_file_id).and_then(|lf| lf.scopes.first());
    let root_uses = root_scope.map(|s| s.uses.clone()).unwrap_or_default();
    // Globs of the package's own modules (`names::*`, `self::names::*`), not of other crates.
    let root_globs = root_scope
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
        .unwrap_or_default();
    let names = Names {
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
        root_globs,
        dir: pkg.dir.clone(),
        package_dirs,
    };
    resolve_types(&mut pkg, &names, raw, diags);
    pkg
}

/// What a type brought from lowering that the model does not keep: its raw tags and its scope.
struct RawType {
    tags: Vec<Tag>,
    file: FileId,
    scope: usize,
}

/// What names mean in one package: the scopes of its files, the hub's types, the root's imports.
struct Names<'a> {
    files: BTreeMap<FileId, &'a LoweredFile>,
    /// Module path of each file relative to the package.
    module_of: BTreeMap<FileId, Vec<String>>,
    /// Types of the group's hub (empty for the hub itself).
    hub_types: BTreeSet<String>,
    /// `use`s of the package's root module (seen by `use super::*` in its files).
    root_uses: BTreeMap<String, RustPath>,
    /// The modules the package's root module glob-imports (`pub use names::*` → `["names"]`):
    /// what they declare is seen by `use super::*` in its files too.
    root_globs: Vec<Vec<String>>,
    /// The package's directory and every package directory of its input, relative to the
    /// input: a path through a glob import may name a sibling package (`v1::Status`).
    dir: PathBuf,
    package_dirs: &'a BTreeSet<PathBuf>,
}

fn display_dir(dir: &Path, version: Option<&str>) -> String {
    let d = dir.display().to_string();
    if d.is_empty() {
        version.unwrap_or(".").to_string()
    } else {
        d
    }
}

/// Resolves names to local/known types, finds roots, fills `Resource`, interprets tags,
/// validates.
fn resolve_types(pkg: &mut Package, names: &Names, raw: Vec<RawType>, diags: &mut Vec<Diagnostic>) {
    // Local type name → module of its declaration within the package.
    let local: BTreeMap<String, Vec<String>> = pkg
        .types
        .iter()
        .rev()
        .map(|t| (t.name.clone(), t.module.clone()))
        .collect();

    // Duplicate type names (two files or modules of one package): their OpenAPI definitions and
    // generated names would collide.
    let mut seen: BTreeMap<String, (Span, &[String])> = BTreeMap::new();
    for t in &pkg.types {
        if let Some((first, first_module)) = seen.get(&t.name) {
            let kind_note = if t.fields().iter().any(|f| f.name == "metadata") {
                "two root types with the same kind in one group/version"
            } else {
                "two types with the same name in one package"
            };
            let mut d = Diagnostic::error(
                "E0305",
                format!("`{}` is declared twice in {}", t.name, pkg.display_name()),
            )
            .at(t.span, "second declaration")
            .also(*first, "first declared here")
            .note(kind_note);
            if *first_module != t.module.as_slice() {
                d = d.note(
                    "modules of a package are one namespace, as a Go package is: a type's \
                     OpenAPI definition and generated names do not include its module",
                );
            }
            diags.push(
                d.help("a kind must be unique within its group/version: rename or remove one"),
            );
        } else {
            seen.insert(t.name.clone(), (t.span, &t.module));
        }
    }

    // Type aliases of the package by module, for paths naming them (`inner::Labels`,
    // `self::Name`; bare names were substituted where they were written), and what a module
    // re-exports (`mod prelude { pub use k8s_openapi::…::Condition; }`, kopium's layout): the
    // same, a name standing for a path written in that module.
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

    // Single names nothing in their own scope declares or imports: the package, the hub through
    // a glob import, or an error.
    let mut replacements: BTreeMap<(FileId, usize, String), FieldType> = BTreeMap::new();
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
            if scope.has_item_macros {
                continue;
            }
            let mut module = file_module.clone();
            module.extend(scope.inline.iter().cloned());
            let mut candidates: Vec<(RustPath, FieldType)> = Vec::new();
            for glob in &scope.globs {
                let mut g = FieldType::Foreign {
                    path: glob.join(&bare.name),
                    args: Vec::new(),
                };
                rebase(&mut g, &module);
                let FieldType::Foreign { path, .. } = &g else {
                    continue;
                };
                let prefix = &path.segments[..path.segments.len() - 1];
                // An alias (or re-export) a module of the package declares.
                let alias_in = |module: &[String]| {
                    let key = (module.to_vec(), bare.name.clone());
                    aliases.get(&key).map(|(aliased, declared_in)| {
                        let mut t = aliased.clone();
                        resolve_with_aliases(&mut t, &local, &aliases, declared_in, 0);
                        t
                    })
                };
                let found = match prefix.first().map(String::as_str) {
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
                    // The hub, from a version package.
                    Some("super") if prefix.len() == 1 => {
                        names.hub_types.contains(&bare.name).then(|| g.clone())
                    }
                    // A well-known name is not looked for where we cannot see.
                    _ if known => None,
                    // Somewhere we cannot see: the glob may provide it.
                    _ => Some(g.clone()),
                };
                if let Some(found) = found {
                    candidates.push((glob.clone(), found));
                }
            }
            // One item reached through two globs (`use super::*` and `use super::names::*`) is
            // one candidate, as rustc sees it.
            let mut unique: Vec<(RustPath, FieldType)> = Vec::new();
            for c in candidates {
                if !unique.iter().any(|u| u.1 == c.1) {
                    unique.push(c);
                }
            }
            let mut candidates = unique;
            match candidates.len() {
                1 => {
                    replacements.insert(key, candidates.remove(0).1);
                }
                0 if known => {}
                0 => diags.push(unresolved(bare, scope, &local)),
                _ => {
                    let globs: Vec<String> = candidates
                        .iter()
                        .map(|(g, _)| format!("`use {g}::*`"))
                        .collect();
                    diags.push(
                        Diagnostic::error(
                            "E0111",
                            format!("cannot tell which glob import brings `{}`", bare.name),
                        )
                        .at(bare.span, "may come from more than one glob import")
                        .note(format!("candidates: {}", globs.join(", ")))
                        .help(format!(
                            "import it by name (`use <path>::{};`) or write its full path",
                            bare.name
                        )),
                    );
                }
            }
        }
    }

    // The package's own module path from the crate root (`apis::pager::v1`), when known: a
    // `crate::apis::pager::v1::Alert` written in the package names its own `Alert`.
    let crate_relative: Option<Vec<String>> = pkg
        .rust_path
        .as_deref()
        .map(|p| p.split("::").skip(1).map(str::to_string).collect());
    // A type as written in a scope of a file, resolved through the package's names.
    let resolve_written = |ty: &mut FieldType, file: FileId, scope: usize, module: &[String]| {
        // `crate::<the package's own module>::X`.
        if let Some(own) = &crate_relative {
            ty.walk_mut(&mut |ft| {
                if let FieldType::Foreign { path, args } = ft
                    && args.is_empty()
                    && !path.global
                    && path.first() == "crate"
                    && local.contains_key(path.last())
                    && path.segments[1..path.segments.len() - 1] == own[..]
                {
                    *ft = FieldType::Local(path.last().to_string());
                }
            });
        }
        through_sibling_globs(ty, names, &names.files[&file].scopes[scope], module);
        // A well-known name (`Duration`) a glob brings from the package's own aliases: taken
        // before the well-known type could claim it. The alias is resolved where it is declared
        // already, so it is held aside (a placeholder) while the rest of the type resolves.
        let mut held: Vec<FieldType> = Vec::new();
        ty.walk_mut(&mut |ft| {
            if let FieldType::Foreign { path, args } = ft
                && path.is_single()
                && args.is_empty()
                && KnownType::ALL.iter().any(|(n, _)| *n == path.last())
                && let Some(rep) = replacements.get(&(file, scope, path.last().to_string()))
            {
                *ft = FieldType::Local(format!("{HELD}{}", held.len()));
                held.push(rep.clone());
            }
        });
        resolve_with_aliases(ty, &local, &aliases, module, 0);
        if !held.is_empty() {
            ty.walk_mut(&mut |ft| {
                if let FieldType::Local(name) = ft
                    && let Some(i) = name
                        .strip_prefix(HELD)
                        .and_then(|i| i.parse::<usize>().ok())
                    && let Some(rep) = held.get(i)
                {
                    *ft = rep.clone();
                    resolve_ty(ft, &local, &[]);
                }
            });
        }
        // Bare names a glob import brings: already package-relative.
        ty.walk_mut(&mut |ft| {
            if let FieldType::Foreign { path, args } = ft
                && path.is_single()
                && args.is_empty()
                && let Some(rep) = replacements.get(&(file, scope, path.last().to_string()))
            {
                *ft = rep.clone();
                resolve_ty(ft, &local, &[]);
            }
        });
    };
    // `super::X`/`self::X` first mean the same from the package module, then any path naming a
    // type of this package becomes `Local`.
    for (t, r) in pkg.types.iter_mut().zip(&raw) {
        let module = t.module.clone();
        for ty in t.field_types_mut() {
            resolve_written(ty, r.file, r.scope, &module);
        }
    }
    // Map keys written as paths: fine when they name a `String` alias.
    for (file, lf) in &names.files {
        for written in &lf.map_keys {
            let scope = &lf.scopes[written.scope];
            let mut module = names.module_of[file].clone();
            module.extend(scope.inline.iter().cloned());
            let mut key = written.key.clone();
            resolve_written(&mut key, *file, written.scope, &module);
            if key != FieldType::String {
                let named = match &written.key {
                    FieldType::Foreign { path, .. } => path.to_string(),
                    other => format!("{other:?}"),
                };
                resolve_ty(&mut key, &local, &module);
                let note = match &key {
                    FieldType::Local(name) => format!(
                        "`{name}` is a type of this package, not `String`: Kubernetes map keys are strings in the schema and in every client"
                    ),
                    _ => format!(
                        "`{named}` is not an alias of `String` that kube-codegen can see in this package"
                    ),
                };
                diags.push(
                    Diagnostic::error(
                        "E0201",
                        format!("unsupported field type: {}", crate::parse::MAP_KEY_PROBLEM),
                    )
                    .at(written.span, "cannot be represented in a Kubernetes API")
                    .note(note)
                    .help(crate::parse::MAP_KEY_HELP),
                );
            }
        }
    }

    // A type with `metadata: ObjectMeta` is a root unless another type embeds it (a template).
    let mut embedded: BTreeSet<String> = BTreeSet::new();
    for t in &pkg.types {
        for ty in t.field_types() {
            ty.walk(&mut |ft| {
                if let FieldType::Local(n) = ft {
                    embedded.insert(n.clone());
                }
            });
        }
    }
    // Two fields of a type under one JSON name (`rename`, `rename_all` or `r#type` next to
    // `type`): serde writes both and reads one, and schemas and protobuf numbers would be made
    // for a name twice. (A kind's fields are checked below, with the names its codec writes.)
    for t in pkg.types.iter().filter(|t| !embedded_root_candidate(t)) {
        let mut wire_names: BTreeMap<&str, &Field> = BTreeMap::new();
        for f in t
            .fields()
            .iter()
            .filter(|f| !f.serde.skip && !f.serde.flatten)
        {
            match wire_names.get(f.wire.as_str()) {
                Some(other) => diags.push(
                    Diagnostic::error(
                        "E0308",
                        format!(
                            "fields `{}` and `{}` of `{}` are both `{}` on the wire",
                            other.name, f.name, t.name, f.wire
                        ),
                    )
                    .at(f.span, "same JSON name as another field")
                    .also(other.span, format!("also `{}`", f.wire))
                    .help("rename one of the fields (`#[serde(rename = \"…\")]`)"),
                ),
                None => {
                    wire_names.insert(&f.wire, f);
                }
            }
        }
    }
    let mut roots_seen: BTreeMap<String, (String, Span)> = BTreeMap::new();
    let mut kinds_seen: BTreeSet<String> = BTreeSet::new();
    for (t, r) in pkg.types.iter_mut().zip(&raw) {
        let metadata = t.fields().iter().find(|f| f.name == "metadata");
        let has_meta = metadata.is_some_and(|f| f.ty == FieldType::Known(KnownType::ObjectMeta));
        let genclient = r.tags.iter().find(|t| t.key == TagKey::Genclient).cloned();
        if let Some(tag) = &genclient
            && !has_meta
        {
            let why = match metadata {
                Some(_) => "its `metadata` field is not an `ObjectMeta`",
                None => "it has no `metadata` field",
            };
            diags.push(
                Diagnostic::error(
                    "E0301",
                    format!("`+genclient` on `{}`, which is not a Kubernetes kind", t.name),
                )
                .at(tag.span, "a client needs an object with metadata")
                .note(format!("`{}` is not a root type: {why}", t.name))
                .help(format!(
                    "add `pub metadata: ObjectMeta` to `{}`, or move `+genclient` to the kind that contains it",
                    t.name
                )),
            );
            continue;
        }
        let is_root = has_meta && (genclient.is_some() || !embedded.contains(&t.name));
        // A second declaration of a kind is reported as E0305 already; don't model it twice.
        if !is_root || !kinds_seen.insert(t.name.clone()) {
            continue;
        }
        let serde: Vec<&str> = ["Serialize", "Deserialize"]
            .into_iter()
            .filter(|s| t.derives.contains(*s))
            .collect();
        if !serde.is_empty() {
            let list = serde
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            diags.push(
                Diagnostic::error("E0302", format!("root type `{}` derives {list}", t.name))
                    .at(t.span, "a root's serde is generated")
                    .note(
                        "kube-codegen generates the serde of a kind: it writes `apiVersion` and \
                         `kind` and checks them when reading, like k8s-openapi's types",
                    )
                    .help(format!(
                        "remove {list} from the `#[derive]` of `{}`",
                        t.name
                    )),
            );
        }
        kind_serde_attributes(t, diags);
        if !t.is_pub {
            diags.push(
                Diagnostic::error("E0303", format!("root type `{}` is not `pub`", t.name))
                    .at(t.span, "private kind")
                    .help("make the kind `pub` so generated code and clients can name it"),
            );
        }
        if t.has_generics {
            diags.push(
                Diagnostic::error("E0304", format!("root type `{}` is generic", t.name))
                    .at(t.span, "kinds cannot have type parameters")
                    .help("a kind is one concrete type per group/version"),
            );
        }
        // A kind's own fields go on the wire in camelCase: its serde is generated.
        if let TypeBody::Struct(fields) = &mut t.body {
            for f in fields {
                f.wire = naming::camel_case(&f.name);
            }
        }
        // The generated codec writes `apiVersion`/`kind` and each field under its camelCase
        // name: a field may not take one of those names twice.
        let mut wire_names: BTreeMap<String, &Field> = BTreeMap::new();
        for f in t.fields() {
            let wire = f.wire_name();
            if wire == "apiVersion" || wire == "kind" {
                diags.push(
                    Diagnostic::error(
                        "E0308",
                        format!("root type `{}` has a field `{}`", t.name, f.name),
                    )
                    .at(f.span, format!("`{wire}` is written by the generated codec"))
                    .note("the generated serde of a kind writes `apiVersion` and `kind` from its group, version and name")
                    .help("remove the field; `<Kind as k8s_openapi::Resource>::API_VERSION`/`KIND` give the values"),
                );
            } else if let Some(other) = wire_names.get(&wire) {
                diags.push(
                    Diagnostic::error(
                        "E0308",
                        format!(
                            "fields `{}` and `{}` of `{}` are both `{wire}` on the wire",
                            other.name, f.name, t.name
                        ),
                    )
                    .at(f.span, "same JSON name as another field")
                    .also(other.span, format!("also `{wire}`"))
                    .help("rename one of the fields"),
                );
            } else {
                wire_names.insert(wire, f);
            }
        }
        let kind = t.name.clone();
        let resource_name = r.tags.iter().find_map(|tag| match (&tag.key, &tag.value) {
            (TagKey::ResourceName, TagValue::Text(v)) => Some((v.clone(), tag.span)),
            _ => None,
        });
        let (plural, plural_origin) = match resource_name {
            Some((v, span)) => (v, Origin::Tag(span)),
            None => (
                naming::plural(&kind),
                Origin::Inferred(format!("kind `{kind}`")),
            ),
        };
        if let Some((other, other_span)) = roots_seen.get(&plural) {
            diags.push(
                Diagnostic::error(
                    "E0306",
                    format!("kinds `{other}` and `{kind}` share the resource name `{plural}`"),
                )
                .at(t.span, "same plural as another kind")
                .also(*other_span, format!("`{other}` is served as `{plural}`"))
                .help("give one of them `/// +resourceName=<plural>`"),
            );
        } else {
            roots_seen.insert(plural.clone(), (kind.clone(), t.span));
        }
        let (namespaced, scope_origin) =
            match r.tags.iter().find(|t| t.key == TagKey::NonNamespaced) {
                Some(tag) => (false, Origin::Tag(tag.span)),
                None => (true, Origin::Inferred("default".into())),
            };
        let has_status = t.fields().iter().any(|f| f.name == "status");
        t.resource = Some(Resource {
            singular: kind.to_ascii_lowercase(),
            kind,
            plural,
            plural_origin,
            namespaced,
            scope_origin,
            short_names: Vec::new(),
            categories: Vec::new(),
            printer_columns: Vec::new(),
            client: None,
            has_status,
        });
    }

    // Tags, typed: needs every type resolved and every kind known.
    crate::interpret::interpret_package(
        pkg,
        names.scope_lookup(),
        raw.into_iter().map(|r| (r.tags, r.file, r.scope)).collect(),
        &replacements,
        diags,
    );
    optional_fields_written_when_empty(pkg, diags);
}

/// W0318: an `+optional` string, list, map or set field of a serde-derived type that serde
/// writes even when empty (no `skip_serializing_if`: Go's `omitempty` missing). An empty value
/// then goes on the wire (`"title": ""`), and server-side apply's field manager records
/// whoever writes the object (a `create`, an `update`) as owning the field, so a later apply of
/// it by another manager conflicts although nobody set it.
fn optional_fields_written_when_empty(pkg: &Package, diags: &mut Vec<Diagnostic>) {
    for t in pkg.types.iter().filter(|t| t.derives.contains("Serialize")) {
        for f in t.fields() {
            let predicate = match &f.ty {
                FieldType::String => "String::is_empty",
                FieldType::Vec(_) => "Vec::is_empty",
                FieldType::Map { ordered: true, .. } => "std::collections::BTreeMap::is_empty",
                FieldType::Map { ordered: false, .. } => "std::collections::HashMap::is_empty",
                FieldType::Set { ordered: true, .. } => "std::collections::BTreeSet::is_empty",
                FieldType::Set { ordered: false, .. } => "std::collections::HashSet::is_empty",
                _ => continue,
            };
            if f.options.presence != Some(Presence::Optional)
                || f.serde.skip
                || f.serde.flatten
                || f.serde.skip_serializing_if.is_some()
            {
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "W0318",
                    format!(
                        "optional field `{}.{}` is written even when empty",
                        t.name, f.name
                    ),
                )
                .at(f.span, "serialized as an empty value when unset")
                .note("server-side apply counts a field a write sends as set: whoever creates or updates the object owns it, and another manager's apply of it conflicts")
                .help(format!(
                    "add `#[serde(default, skip_serializing_if = \"{predicate}\")]` (Go's `omitempty`), or make it an `Option`"
                )),
            );
        }
    }
}

impl Names<'_> {
    /// The `use`s of a type's scope, for resolving type names written in its tags.
    fn scope_lookup(&self) -> crate::interpret::ScopeUses {
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

/// E0110: a single type name that nothing declares or imports.
fn unresolved(
    bare: &crate::parse::BareName,
    scope: &crate::parse::Scope,
    local: &BTreeMap<String, Vec<String>>,
) -> Diagnostic {
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

/// Rewrites `self::`/`super::` paths written in a file at `module` (relative to the package) so
/// they mean the same from the package module, where generated code lives.
pub(crate) fn rebase(ty: &mut FieldType, module: &[String]) {
    ty.walk_mut(&mut |ft| {
        if let FieldType::Foreign { path, .. } = ft {
            rebase_path(path, module);
        }
    });
}

fn rebase_path(path: &mut RustPath, module: &[String]) {
    {
        if path.global {
            return;
        }
        let mut segs: &[String] = &path.segments;
        let mut depth = module.to_vec();
        let mut changed = false;
        loop {
            match segs.first().map(String::as_str) {
                Some("self") if segs.len() > 1 => {
                    segs = &segs[1..];
                    changed = true;
                }
                Some("super") if !depth.is_empty() => {
                    segs = &segs[1..];
                    depth.pop();
                    changed = true;
                }
                _ => break,
            }
        }
        if changed {
            // `super::super::X` in `types.rs` is `super::X` from the package module.
            let mut out: Vec<String> =
                if depth.is_empty() && segs.first().map(String::as_str) == Some("super") {
                    Vec::new()
                } else {
                    vec!["self".to_string()]
                };
            out.extend(depth);
            out.extend(segs.iter().cloned());
            *path = RustPath::from_segments(false, out);
        }
    }
}

/// `v1::Status` written under `use super::super::*;` where `v1` is a sibling package (kube-rs's
/// multi-version layout): the glob's path in front (`super::super::v1::Status`), as Rust resolves
/// it, so that generated code elsewhere names it. Only a first segment that is a package
/// directory of the input is taken this way (`chrono::DateTime` stays an extern crate's).
fn through_sibling_globs(ty: &mut FieldType, names: &Names, scope: &Scope, module: &[String]) {
    if scope.globs.is_empty() {
        return;
    }
    let written: Vec<String> = names
        .dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .chain(module.iter().cloned())
        .collect();
    ty.walk_mut(&mut |ft| {
        let FieldType::Foreign { path, .. } = ft else {
            return;
        };
        if path.global
            || path.segments.len() < 2
            || matches!(path.first(), "self" | "super" | "crate")
        {
            return;
        }
        let providing: Vec<&RustPath> = scope
            .globs
            .iter()
            .filter(|g| {
                glob_dir(&written, g)
                    .is_some_and(|d| names.package_dirs.contains(&d.join(path.first())))
            })
            .collect();
        if let [glob] = providing[..] {
            let segments: Vec<String> = glob
                .segments
                .iter()
                .chain(&path.segments)
                .cloned()
                .collect();
            *path = RustPath::from_segments(false, segments);
        }
    });
}

/// The directory (relative to the input) a glob import written in module `written` (its path
/// from the input's root) points at; `None` when it leaves the input or starts at `crate`.
fn glob_dir(written: &[String], glob: &RustPath) -> Option<PathBuf> {
    if glob.global {
        return None;
    }
    let mut at = written.to_vec();
    for segment in &glob.segments {
        match segment.as_str() {
            "self" => {}
            "super" => {
                at.pop()?;
            }
            "crate" => return None,
            other => at.push(other.to_string()),
        }
    }
    Some(at.iter().collect())
}

/// Paths naming types of this package become `Local`; well-known types become `Known`.
/// `module` is where the path was written (a relative `spec::X` starts there).
pub(crate) fn resolve_ty(
    ty: &mut FieldType,
    local: &BTreeMap<String, Vec<String>>,
    module: &[String],
) {
    ty.walk_mut(&mut |ft| resolve_node(ft, local, module));
}

/// Package type aliases by (module, name): the aliased type and the module declaring it.
type Aliases = BTreeMap<(Vec<String>, String), (FieldType, Vec<String>)>;

/// [`resolve_ty`], and a path naming a type alias of the package (`inner::Labels` written in
/// `types.rs`, `self::Name`, `super::Name` from an inline module) replaced by what the alias
/// stands for, itself resolved where the alias is declared. (Bare alias names were replaced
/// where they were written.)
fn resolve_with_aliases(
    ty: &mut FieldType,
    local: &BTreeMap<String, Vec<String>>,
    aliases: &Aliases,
    module: &[String],
    depth: usize,
) {
    // Rust refuses alias cycles; a chain this deep is not one to follow.
    if let Some((aliased, declared_in)) = alias_named(ty, aliases, module).filter(|_| depth < 16) {
        let mut aliased = aliased.clone();
        resolve_with_aliases(&mut aliased, local, aliases, declared_in, depth + 1);
        *ty = aliased;
        return;
    }
    resolve_node(ty, local, module);
    match ty {
        FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => {
            resolve_with_aliases(t, local, aliases, module, depth)
        }
        FieldType::Map { value, .. } => resolve_with_aliases(value, local, aliases, module, depth),
        FieldType::Set { elem, .. } => resolve_with_aliases(elem, local, aliases, module, depth),
        FieldType::Shared { inner, .. } => {
            resolve_with_aliases(inner, local, aliases, module, depth)
        }
        FieldType::Foreign { args, .. } => args
            .iter_mut()
            .for_each(|a| resolve_with_aliases(a, local, aliases, module, depth)),
        _ => {}
    }
}

/// The name of a placeholder for a resolved type held aside while the rest of a type resolves
/// (no Rust type can be named with it).
const HELD: &str = "\0held:";

/// The alias of the package a path written in `module` names, if it names one.
fn alias_named<'a>(
    ty: &FieldType,
    aliases: &'a Aliases,
    module: &[String],
) -> Option<&'a (FieldType, Vec<String>)> {
    let FieldType::Foreign { path, args } = ty else {
        return None;
    };
    if aliases.is_empty() || !args.is_empty() || path.global || path.is_single() {
        return None;
    }
    let segments = &path.segments;
    // `self::a::Name`/`super::Name` rebased to the package module; `a::Name` relative to where
    // it is written.
    let mut rebased = path.clone();
    rebase_path(&mut rebased, module);
    let target = if rebased.segments.first().map(String::as_str) == Some("self") {
        rebased.segments[1..rebased.segments.len() - 1].to_vec()
    } else if !matches!(segments[0].as_str(), "self" | "super" | "crate") {
        let mut m = module.to_vec();
        m.extend(segments[..segments.len() - 1].iter().cloned());
        m
    } else {
        return None;
    };
    aliases.get(&(target, path.last().to_string()))
}

/// [`resolve_ty`] of one node, not its children.
fn resolve_node(ft: &mut FieldType, local: &BTreeMap<String, Vec<String>>, module: &[String]) {
    {
        let FieldType::Foreign { path, args } = ft else {
            return;
        };
        if !args.is_empty() {
            // A generic type of this package: named through its module, as `Local`s are.
            if path.is_single()
                && let Some(m) = local.get(path.last())
            {
                let mut segs = vec!["self".to_string()];
                segs.extend(m.iter().cloned());
                segs.push(path.last().to_string());
                *path = RustPath::from_segments(false, segs);
            } else {
                rebase_path(path, module);
            }
            return;
        }
        // A relative `spec::X` or a single name first, as written; then `self::`/`super::`
        // paths rebased to the package module, where generated code lives.
        let written = path.clone();
        rebase_path(path, module);
        let rebased = std::mem::replace(path, written);
        let segments = &path.segments;
        let last = path.last().to_string();
        let single = path.is_single();
        // `self::types::X` (after rebasing) names the local `X` declared in `types.rs`.
        // `self::X` (a name the package module sees, e.g. through `pub use status::*`) is the
        // package's own `X` too: a package is one namespace.
        let rs = &rebased.segments;
        let via_self = !rebased.global
            && rs.len() >= 2
            && rs[0] == "self"
            && local.get(&last).is_some_and(|m| {
                rs.len() == 2
                    || m.iter()
                        .map(String::as_str)
                        .eq(rs[1..rs.len() - 1].iter().map(String::as_str))
            });
        // `spec::X` written in `types.rs` names `X` of its inline module `types::spec`.
        let relative = !path.global
            && segments.len() >= 2
            && !matches!(segments[0].as_str(), "self" | "super" | "crate")
            && local.get(&last).is_some_and(|m| {
                m.len() == module.len() + segments.len() - 1
                    && m.starts_with(module)
                    && m[module.len()..]
                        .iter()
                        .eq(segments[..segments.len() - 1].iter())
            });
        if (single && local.contains_key(&last)) || via_self || relative {
            *ft = FieldType::Local(last);
            return;
        }
        if let Some((_, known)) = KnownType::ALL.iter().find(|(n, _)| *n == last) {
            let from_k8s = segments[0] == "k8s_openapi"
                || segments[0] == "kube"
                || path.k8s_openapi_tail().is_some();
            let ok = match known {
                KnownType::Json => segments[0] == "serde_json" || single,
                _ => single || from_k8s,
            };
            if ok && !(single && local.contains_key(&last)) {
                *ft = FieldType::Known(*known);
                return;
            }
        }
        *path = rebased;
    }
}

/// What a crate's `Cargo.toml` says about where its modules are.
#[derive(Clone, Debug)]
pub struct CrateInfo {
    /// The crate's name as Rust code writes it (`pager`).
    pub name: String,
    /// Directory of the crate root file (`src/` for `src/lib.rs`).
    pub root_dir: PathBuf,
}

impl CrateInfo {
    /// Finds the crate that contains `dir` and reads its name and root module.
    pub fn find(dir: &Path) -> Option<CrateInfo> {
        let abs = std::fs::canonicalize(dir).ok()?;
        let mut cur = Some(abs.as_path());
        while let Some(d) = cur {
            let manifest = d.join("Cargo.toml");
            if let Ok(text) = std::fs::read_to_string(&manifest)
                && let Ok(doc) = text.parse::<toml::Table>()
                && let Some(pkg) = doc.get("package").and_then(|p| p.as_table())
            {
                let lib = doc.get("lib").and_then(|l| l.as_table());
                let name = lib
                    .and_then(|l| l.get("name"))
                    .or_else(|| pkg.get("name"))
                    .and_then(|n| n.as_str())?
                    .replace('-', "_");
                let lib_path = lib
                    .and_then(|l| l.get("path"))
                    .and_then(|p| p.as_str())
                    .unwrap_or("src/lib.rs");
                let root_dir = d.join(lib_path).parent()?.to_path_buf();
                return Some(CrateInfo { name, root_dir });
            }
            cur = d.parent();
        }
        None
    }

    /// An input directory whose module path was given (`crate::apis`).
    pub fn given(path: &str, input_dir: &Path) -> CrateInfo {
        CrateInfo {
            name: path.to_string(),
            root_dir: std::fs::canonicalize(input_dir).unwrap_or_else(|_| input_dir.to_path_buf()),
        }
    }

    /// `crate_name::a::b` for a package directory, if it lies under the crate's root module.
    fn rust_path(&self, input_dir: &Path, pkg_dir: &Path) -> Option<String> {
        let abs = std::fs::canonicalize(input_dir).ok()?.join(pkg_dir);
        let rel = abs.strip_prefix(&self.root_dir).ok()?;
        let mut path = vec![self.name.clone()];
        for c in rel.components() {
            let s = c.as_os_str().to_string_lossy();
            if s == "." {
                continue;
            }
            path.push(s.into_owned());
        }
        Some(path.join("::"))
    }
}

/// A type that may become a kind (it has `metadata: ObjectMeta`): its wire names are checked
/// with the names its generated codec writes.
fn embedded_root_candidate(t: &TypeDef) -> bool {
    t.fields()
        .iter()
        .any(|f| f.name == "metadata" && f.ty == FieldType::Known(KnownType::ObjectMeta))
}

/// E0315: `#[serde(...)]` on a kind or its fields that would change its wire form. A kind's serde
/// is generated (E0302), and the generated codec writes `metadata`, `spec`, ... by their
/// camelCase names; it would silently not do what the attribute says (`skip` a field it then
/// sends, say). Attributes that change nothing the codec does are fine.
fn kind_serde_attributes(t: &TypeDef, diags: &mut Vec<Diagnostic>) {
    // rustc knows `#[serde]` only where a derive declares it: a kind derives no serde (E0302),
    // so without another derive that declares it (schemars' `JsonSchema` does) even a harmless
    // attribute is rustc's `cannot find attribute serde`. Said here, with what to do.
    let declares_serde = t
        .derives
        .iter()
        .any(|d| matches!(d.as_str(), "JsonSchema" | "Serialize" | "Deserialize"));
    let with_serde: Vec<Span> = std::iter::once((&t.serde.keys, t.span))
        .chain(t.fields().iter().map(|f| (&f.serde.keys, f.span)))
        .filter(|(keys, _)| !keys.is_empty())
        .map(|(_, span)| span)
        .collect();
    if !declares_serde && let Some(first) = with_serde.first() {
        let mut d = Diagnostic::warning(
            "W0317",
            format!(
                "`#[serde]` on kind `{}` is an unknown attribute to rustc",
                t.name
            ),
        )
        .at(*first, "no derive of this kind declares `serde`")
        .note("a kind derives no `Serialize`/`Deserialize` (its codec is generated), so rustc reports `cannot find attribute serde`");
        for span in &with_serde[1..] {
            d = d.also(*span, "here too");
        }
        diags.push(d.help(
            "remove the `#[serde]` attributes from the kind and its fields: the generated codec omits `None` and defaults absent fields already",
        ));
    }
    // What the codec already does (defaults for absent fields, omitting `None`), or what only
    // shapes serde's own impl (bounds, the crate path, error messages).
    const HARMLESS: &[&str] = &[
        "default",
        "skip_serializing_if",
        "bound",
        "crate",
        "expecting",
        "deny_unknown_fields",
    ];
    // `same_name(key)`: the attribute names what the codec writes anyway (`rename_all =
    // "camelCase"`, which kube-rs code puts on every type; a `rename` to the camelCase name).
    let wire_changing = |keys: &[String], same_name: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut found: Vec<String> = keys
            .iter()
            .filter(|k| !HARMLESS.contains(&k.as_str()) && !same_name(k))
            .map(|k| format!("`{k}`"))
            .collect();
        found.dedup();
        found
    };
    let note = "a kind's serde is generated: its codec writes `apiVersion`, `kind` and each field by \
                its camelCase name, and does not read `#[serde]` attributes";
    let container = wire_changing(&t.serde.keys, &|k| {
        k == "rename_all" && t.serde.rename_all.as_deref() == Some("camelCase")
    });
    if !container.is_empty() {
        diags.push(
            Diagnostic::error(
                "E0315",
                format!(
                    "{} in `#[serde]` on kind `{}` would be ignored",
                    container.join(", "),
                    t.name
                ),
            )
            .at(t.span, "the generated codec does not apply it")
            .note(note)
            .help("remove the attribute: a kind's fields are named as Kubernetes names them (`metadata`, `spec`, `status`); put wire customisation on the spec and status types, whose serde is yours"),
        );
    }
    for f in t.fields() {
        let keys = wire_changing(&f.serde.keys, &|k| {
            k == "rename" && f.serde.rename.as_deref() == Some(naming::camel_case(&f.name).as_str())
        });
        if keys.is_empty() {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "E0315",
                format!(
                    "{} in `#[serde]` on field `{}` of kind `{}` would be ignored",
                    keys.join(", "),
                    f.name,
                    t.name
                ),
            )
            .at(f.span, "the generated codec does not apply it")
            .note(note)
            .help("remove the attribute, or move the field into the spec or status type, whose serde is yours"),
        );
    }
}
