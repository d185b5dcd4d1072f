//! Assembling the packages of one input directory: files grouped by package, what is checked
//! across packages (undeclared versions, group names), then each package built in parallel.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, Span};
use crate::model::{Package, UnreadFunction};
use crate::parse::{LoweredFile, LoweredType};
use crate::tags::{TagKey, TagValue};

use super::crate_info::CrateInfo;
use super::declared::{drop_undeclared, undeclared_group_dirs, undeclared_versions};
use super::package::{PackageContext, assemble_one};
use super::place::{PackageKey, Placed};

/// Files by package, each package's files rustc compiles.
type ByKey<'p, 'a> = BTreeMap<PackageKey, Vec<&'p Placed<'a>>>;

/// Builds the packages of one input directory.
pub(crate) fn assemble(
    input: usize,
    input_dir: &Path,
    crate_info: Option<&CrateInfo>,
    placed: &[Placed],
    lowered: &mut BTreeMap<crate::diag::FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Package> {
    let (by_key, unread) = files_by_package(placed, lowered, diags);
    warn_undeclared_versions(input_dir, &by_key, lowered, diags);
    let group_tags = group_names(&by_key, lowered);
    conflicting_group_names(&group_tags, diags);
    let hubs = hub_types(&by_key, lowered);
    let group_uses = group_uses(&by_key, lowered);
    // One E0106 per group that cannot be told: said by its first version package (where its
    // kinds are), else by the group's own.
    let mut group_reporters: BTreeMap<PathBuf, PackageKey> = BTreeMap::new();
    for key in by_key.keys() {
        let reporter = group_reporters
            .entry(key.group_dir.clone())
            .or_insert_with(|| key.clone());
        if reporter.version.is_none() && key.version.is_some() {
            *reporter = key.clone();
        }
    }
    let keyed = package_work(&by_key, lowered);
    let lowered = &*lowered;
    let package_dirs: BTreeSet<PathBuf> = by_key
        .values()
        .filter_map(|files| files.first().map(|p| p.package_dir()))
        .collect();
    let context = PackageContext {
        input,
        input_dir,
        crate_info,
        lowered,
        group_tags: &group_tags,
        hubs: &hubs,
        group_uses: &group_uses,
        group_reporters: &group_reporters,
        package_dirs: &package_dirs,
    };
    // Packages resolve independently: in parallel (one task each, as they differ in size),
    // diagnostics kept per package.
    use rayon::prelude::*;
    let assembled: Vec<(Package, Vec<Diagnostic>)> = keyed
        .into_par_iter()
        .with_max_len(1)
        .map(|(key, files, types)| {
            let mut package_diags = Vec::new();
            let mut pkg = assemble_one(&context, key, files, types, &mut package_diags);
            pkg.unread_functions = unread.get(key).cloned().unwrap_or_default();
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

/// Groups the placed files by package, keeping in each the files rustc compiles.
/// Also, by package, the functions of the files left out (rustc does not compile them).
fn files_by_package<'p, 'a>(
    placed: &'p [Placed<'a>],
    lowered: &BTreeMap<FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) -> (ByKey<'p, 'a>, BTreeMap<PackageKey, Vec<UnreadFunction>>) {
    let mut by_key: ByKey = BTreeMap::new();
    for p in placed {
        by_key.entry(p.key.clone()).or_default().push(p);
    }
    let mut unread = BTreeMap::new();
    for (key, files) in by_key.iter_mut() {
        let functions = drop_undeclared(files, lowered, diags);
        if !functions.is_empty() {
            unread.insert(key.clone(), functions);
        }
    }
    (by_key, unread)
}

/// W0117 for each version directory its group's module file does not declare.
fn warn_undeclared_versions(
    input_dir: &Path,
    by_key: &ByKey,
    lowered: &BTreeMap<FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) {
    // Generated anyway: the module may be declared from outside the input (a `#[path]` in
    // `lib.rs`), which only rustc can tell; the warning explains the error rustc gives if not.
    for (key, module_file, module_id) in undeclared_versions(by_key, lowered) {
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
}

/// W0117 for each directory on the way to a group that its parent's module file does not declare
/// (`src/apis/mod.rs` without `pub mod karpenter;`): like an undeclared version, it is generated
/// but not compiled, and generated clients naming it fail with rustc's "cannot find".
pub(crate) fn warn_undeclared_groups(
    input_dir: &Path,
    files: &[crate::parse::InputFile],
    lowered: &BTreeMap<FileId, LoweredFile>,
    packages: &[Package],
    diags: &mut Vec<Diagnostic>,
) {
    let group_dirs: BTreeSet<PathBuf> = packages
        .iter()
        .map(|p| {
            if p.is_internal() {
                p.dir.clone()
            } else {
                p.dir.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    for (module_file, module_id, name, dir) in undeclared_group_dirs(files, lowered, &group_dirs) {
        let module_path = input_dir.join(&module_file);
        diags.push(
            Diagnostic::warning(
                "W0117",
                format!(
                    "directory {} is not a module: {} does not declare `mod {name};`",
                    input_dir.join(&dir).display(),
                    module_path.display()
                ),
            )
            .at(
                Span::new(module_id, 0, 0),
                format!("no `mod {name};` in this module"),
            )
            .note("rustc does not compile the API packages under it unless a module outside the input declares it, and generated code naming them (clients, apply configurations) would not compile")
            .help(format!(
                "declare it in {} (`pub mod {name};`), or remove the directory",
                module_path.display()
            )),
        );
    }
}

/// The `+groupName`s given in each group directory's packages, with where they were given.
fn group_names(
    by_key: &ByKey,
    lowered: &BTreeMap<FileId, LoweredFile>,
) -> BTreeMap<PathBuf, Vec<(String, Span)>> {
    let mut group_tags: BTreeMap<PathBuf, Vec<(String, Span)>> = BTreeMap::new();
    for (key, files) in by_key {
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
    group_tags
}

/// One group per group directory: a `+groupName` on any of its packages, all in agreement
/// (E0107 otherwise).
fn conflicting_group_names(
    group_tags: &BTreeMap<PathBuf, Vec<(String, Span)>>,
    diags: &mut Vec<Diagnostic>,
) {
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
}

/// Hub types by group directory (what `use super::super::*` in a version can see).
fn hub_types(
    by_key: &ByKey,
    lowered: &BTreeMap<FileId, LoweredFile>,
) -> BTreeMap<PathBuf, BTreeSet<String>> {
    by_key
        .iter()
        .filter(|(key, _)| key.version.is_none())
        .map(|(key, files)| {
            let names = files
                .iter()
                .flat_map(|p| lowered[&p.file.id].types.iter().map(|t| t.name.clone()))
                .collect();
            (key.group_dir.clone(), names)
        })
        .collect()
}

/// The `use`s of each group directory's module file (what `use super::*` in a version's root
/// module brings besides the hub's types).
fn group_uses(
    by_key: &ByKey,
    lowered: &BTreeMap<FileId, LoweredFile>,
) -> BTreeMap<PathBuf, BTreeMap<String, crate::path::RustPath>> {
    by_key
        .iter()
        .filter(|(key, _)| key.version.is_none())
        .filter_map(|(key, files)| {
            let root = files.iter().find(|p| p.module.is_empty())?;
            let uses = lowered[&root.file.id].scopes.first()?.uses.clone();
            Some((key.group_dir.clone(), uses))
        })
        .collect()
}

/// A package to assemble: its key, its files and (by file) the types lowered from them.
type PackageWork<'a> = (
    &'a PackageKey,
    &'a Vec<&'a Placed<'a>>,
    Vec<Vec<LoweredType>>,
);

/// Each package with the types lowered from its files, taken out of `lowered`.
fn package_work<'a>(
    by_key: &'a ByKey<'a, 'a>,
    lowered: &mut BTreeMap<FileId, LoweredFile>,
) -> Vec<PackageWork<'a>> {
    // Every file belongs to one package: its types move into that package rather than being
    // copied (on a big API surface the copies were a third of the model's memory).
    let mut file_types: BTreeMap<FileId, Vec<LoweredType>> = lowered
        .iter_mut()
        .map(|(id, lf)| (*id, std::mem::take(&mut lf.types)))
        .collect();
    by_key
        .iter()
        .map(|(key, files)| {
            let types = files
                .iter()
                .map(|p| file_types.remove(&p.file.id).unwrap_or_default())
                .collect();
            (key, files, types)
        })
        .collect()
}
