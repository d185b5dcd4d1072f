//! Which files and version directories rustc compiles: the module declarations that make them
//! modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId};
use crate::model::UnreadFunction;
use crate::parse::{InputFile, LoweredFile};

use super::place::{PackageKey, Placed};

/// Version packages whose group directory has a module file (`mod.rs`, `lib.rs`) that does not
/// declare them (`pub mod v1beta1;`), with that file: rustc does not compile them. A module with a
/// `#[path = "…"] mod` may declare anything, and a group without a module file here cannot tell:
/// both are given the benefit of the doubt.
pub(super) fn undeclared_versions(
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
pub(super) fn drop_undeclared(
    files: &mut Vec<&Placed>,
    lowered: &BTreeMap<FileId, LoweredFile>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<UnreadFunction> {
    let mut unread = Vec::new();
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
            unread.extend(lf.functions.iter().map(|f| UnreadFunction {
                name: f.name.clone(),
                span: f.span,
            }));
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
    unread
}

/// Directories on the way from the input directory to a group directory that their parent's
/// module file does not declare: (the parent's module file, its id, the undeclared directory's
/// name, the directory). A parent with no module file here (a plain input directory, or one
/// declared from outside the input) says nothing; a `#[path]` module gets the benefit of the
/// doubt.
pub(super) fn undeclared_group_dirs(
    files: &[InputFile],
    lowered: &BTreeMap<FileId, LoweredFile>,
    group_dirs: &BTreeSet<PathBuf>,
) -> Vec<(PathBuf, FileId, String, PathBuf)> {
    let by_rel: BTreeMap<&Path, FileId> = files.iter().map(|f| (f.rel.as_path(), f.id)).collect();
    let module_file = |parent: &Path| -> Option<(PathBuf, FileId)> {
        let candidates: Vec<PathBuf> = if parent.as_os_str().is_empty() {
            ["mod.rs", "lib.rs", "main.rs"]
                .iter()
                .map(PathBuf::from)
                .collect()
        } else {
            vec![parent.join("mod.rs"), parent.with_extension("rs")]
        };
        candidates
            .into_iter()
            .find_map(|c| by_rel.get(c.as_path()).map(|id| (c, *id)))
    };
    let mut out: Vec<(PathBuf, FileId, String, PathBuf)> = Vec::new();
    for group_dir in group_dirs {
        let components: Vec<String> = group_dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if components.iter().any(|c| c == ".." || c == ".") {
            continue;
        }
        let mut parent = PathBuf::new();
        for child in &components {
            let dir = parent.join(child);
            if let Some((file, id)) = module_file(&parent) {
                let lf = &lowered[&id];
                let declares = !lf.path_mods.is_empty()
                    || lf.file_mods.iter().any(|(m, _)| m == child)
                    || lf.test_file_mods.contains(child)
                    || lf
                        .scopes
                        .iter()
                        .any(|s| s.inline.len() == 1 && s.inline[0] == *child);
                if !declares && !out.iter().any(|(_, _, _, d)| *d == dir) {
                    out.push((file, id, child.clone(), dir.clone()));
                }
            }
            parent = dir;
        }
    }
    out
}
