//! Placing files in packages: which package each file belongs to, and the module path rustc
//! gives it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::naming;
use crate::parse::{InputFile, LoweredFile};

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
    diags: &mut Vec<crate::diag::Diagnostic>,
) {
    let mut renames: Vec<(PackageKey, Vec<String>, Vec<String>)> = Vec::new();
    for p in placed.iter() {
        let Some(lf) = lowered.get(&p.file.id) else {
            continue;
        };
        let dir = p.file.rel.parent().unwrap_or(Path::new(""));
        for path_mod in &lf.path_mods {
            let (name, span) = (&path_mod.name, &path_mod.span);
            let Some(file) = &path_mod.file else { continue };
            let Some(target) = normalize(&dir.join(file)).filter(|t| {
                // Outside the input, or not a file kube-codegen read: its types are unseen.
                placed.iter().any(|o| o.file.rel == *t)
            }) else {
                // A test module's types are not API types: where its file is does not matter.
                if path_mod.test_only {
                    continue;
                }
                diags.push(
                    crate::diag::Diagnostic::warning(
                        "W0119",
                        format!("`mod {name}` is read from {file:?}, which kube-codegen does not read"),
                    )
                    .at(*span, "outside the input directory, or not a file under it")
                    .note("kube-codegen reads the `.rs` files under the input directory; the types of this module get no generated code, and generated code naming them fails to compile")
                    .help("move the file under the input directory (a symbolic link to it is followed), or give its directory as an input of its own"),
                );
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
    // The input directory itself may be a version directory or a group directory.
    let input_name = input_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let group_dirs = group_dirs(files);
    let mut placed = Vec::new();
    let mut loose = Vec::new();
    for f in files {
        match place_file(f, &input_name, &group_dirs) {
            Some(p) => placed.push(p),
            None => loose.push(f),
        }
    }
    (placed, loose)
}

/// A module whose file is found twice, `v1.rs` beside `v1/mod.rs` (rustc's E0761): E0122, and
/// `v1.rs` is left out (the directory's files are declared by its `mod.rs`), so that neither the
/// items of both nor the directory's files are reported again.
pub(crate) fn module_files_found_twice(
    placed: &mut Vec<Placed<'_>>,
    diags: &mut Vec<crate::Diagnostic>,
) {
    let flat: BTreeMap<&Path, &InputFile> = placed
        .iter()
        .filter(|p| p.file.rel.extension().is_some_and(|e| e == "rs"))
        .map(|p| (p.file.rel.as_path(), p.file))
        .collect();
    let mut twice = BTreeSet::new();
    for p in placed.iter() {
        if p.file.rel.file_name().is_none_or(|n| n != "mod.rs") {
            continue;
        }
        let Some(dir) = p.file.rel.parent().filter(|d| !d.as_os_str().is_empty()) else {
            continue;
        };
        let file = dir.with_extension("rs");
        if let Some(flat_file) = flat.get(file.as_path()) {
            let name = stem(&file);
            diags.push(
                crate::Diagnostic::error(
                    "E0122",
                    format!(
                        "the file of module `{name}` is both {} and {}",
                        file.display(),
                        p.file.rel.display()
                    ),
                )
                .at(
                    crate::Span::new(flat_file.id, 0, 0),
                    format!(
                        "and {}: rustc compiles neither (E0761)",
                        p.file.rel.display()
                    ),
                )
                .help(format!(
                    "keep one: move what {} holds into {}, or the other way round",
                    file.display(),
                    p.file.rel.display()
                )),
            );
            twice.insert(flat_file.id);
        }
    }
    placed.retain(|p| !twice.contains(&p.file.id));
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn components(p: &Path) -> Vec<String> {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// The group directories: those holding a version (`<group>/<version>/…` or
/// `<group>/<version>.rs`).
fn group_dirs(files: &[InputFile]) -> BTreeSet<PathBuf> {
    let mut group_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for f in files {
        let comps = components(&f.rel);
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
    group_dirs
}

/// The package of one file, in an input directory named `input_name`; `None` for a file under
/// no group directory.
fn place_file<'a>(
    f: &'a InputFile,
    input_name: &str,
    group_dirs: &BTreeSet<PathBuf>,
) -> Option<Placed<'a>> {
    let comps = components(&f.rel);
    let file_stem = stem(&f.rel);
    let module_of = |rest: &[String]| -> Vec<String> {
        // rest = path components after the package directory, the file last.
        let mut m: Vec<String> = rest[..rest.len().saturating_sub(1)].to_vec();
        if !matches!(file_stem.as_str(), "mod" | "lib" | "main") {
            m.push(file_stem.clone());
        }
        m
    };
    if naming::is_version(input_name) {
        return Some(Placed {
            file: f,
            key: PackageKey {
                group_dir: PathBuf::from(".."),
                version: Some(input_name.to_string()),
            },
            module: module_of(&comps),
        });
    }
    for (i, c) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let name = if last { file_stem.clone() } else { c.clone() };
        if naming::is_version(&name) {
            let module = if last {
                Vec::new()
            } else {
                module_of(&comps[i + 1..])
            };
            return Some(Placed {
                file: f,
                key: PackageKey {
                    group_dir: comps[..i].iter().collect(),
                    version: Some(name),
                },
                module,
            });
        }
    }
    // Hub: the deepest group directory that contains this file. A `<group>.rs` file beside
    // the group directory is the hub's root module too.
    let parent: PathBuf = f.rel.parent().map(Path::to_path_buf).unwrap_or_default();
    let sibling_root = parent.join(&file_stem);
    if group_dirs.contains(&sibling_root) {
        return Some(Placed {
            file: f,
            key: PackageKey {
                group_dir: sibling_root,
                version: None,
            },
            module: Vec::new(),
        });
    }
    let g = group_dirs
        .iter()
        .rev()
        .find(|g| f.rel.starts_with(g))?
        .clone();
    let n = g.components().count();
    Some(Placed {
        file: f,
        key: PackageKey {
            group_dir: g,
            version: None,
        },
        module: module_of(&comps[n..]),
    })
}
