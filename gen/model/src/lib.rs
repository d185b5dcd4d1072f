//! `types.rs` → [`Model`]: one parse shared by every kube-codegen generator.
//!
//! Phases: collect files → parse and lower each file (in parallel) → place files in packages →
//! infer and validate. Diagnostics are collected across all phases; a run with any error returns
//! [`Failure`] and no model, so nothing is ever generated from a half-understood input.

pub mod clients;
pub mod diag;
mod interpret;
mod model;
pub mod naming;
pub mod output;
mod parse;
pub mod path;
pub mod proto_record;
mod resolve;
pub mod tags;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use diag::{Diagnostic, Failure, FileId, Severity, Sources, Span};
pub use model::*;
pub use parse::{DirIdentity, HEADER};
pub use path::RustPath;
pub use resolve::CrateInfo;

/// One input directory: the folder that holds `<group>/<version>/` packages.
#[derive(Clone, Debug)]
pub struct Input {
    pub dir: PathBuf,
    /// The Rust module path of `dir` (`crate::apis`, `pager`); computed from the crate layout
    /// when `None`.
    pub rust_path: Option<String>,
}

impl Input {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Input {
            dir: dir.into(),
            rust_path: None,
        }
    }
}

/// A model together with the sources it was read from and any warnings.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub model: Model,
    pub sources: Sources,
    pub warnings: Vec<Diagnostic>,
}

/// Reads every input directory into one model, or reports every problem found.
pub fn load(inputs: &[Input]) -> Result<Loaded, Failure> {
    let mut sources = Sources::default();
    let mut diags = Vec::new();
    let mut model = Model::default();
    for (index, input) in inputs.iter().enumerate() {
        if !input.dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "E0002",
                    if input.dir.exists() {
                        format!("input {} is a file, not a directory", input.dir.display())
                    } else {
                        format!("input directory {} does not exist", input.dir.display())
                    },
                )
                .help("pass the directory that holds your `<group>/<version>/types.rs` folders"),
            );
            continue;
        }
        let files = parse::collect_files(&input.dir, &input.dir, &mut sources, &mut diags);
        let lowered_list = parse::lower_all(&files, &sources);
        let mut lowered = BTreeMap::new();
        for (f, mut l) in files.iter().zip(lowered_list) {
            diags.append(&mut l.diags);
            lowered.insert(f.id, l);
        }
        let (mut placed, loose) = resolve::place(&input.dir, &files);
        forgive_loose_types(&loose, &mut diags);
        resolve::module_files_found_twice(&mut placed, &mut diags);
        resolve::follow_path_attributes(&mut placed, &lowered, &mut diags);
        misspelled_versions(&files, &placed, &mut diags);
        for f in loose {
            let l = &lowered[&f.id];
            let stray = l
                .types
                .iter()
                .find_map(|t| {
                    t.tags
                        .iter()
                        .find(|tag| tag.name().starts_with("genclient"))
                })
                .map(|tag| tag.span)
                .or_else(|| l.package_tags.first().map(|t| t.span));
            if let Some(span) = stray {
                let mut d = Diagnostic::error(
                    "E0108",
                    format!("{} is not inside an API package", f.rel.display()),
                )
                .at(span, "tags here are not read");
                for note in inline_versions(l, &f.rel.display().to_string()) {
                    d = d.note(note);
                }
                diags.push(d.help(
                    "API types live in `<group>/<version>/` (an external version) or \
                     `<group>/` (the internal hub) under the input directory",
                ));
            }
        }
        let crate_info = match &input.rust_path {
            Some(p) => Some(CrateInfo::given(p, &input.dir)),
            None => CrateInfo::find(&input.dir),
        };
        let mut packages = resolve::assemble(
            index,
            &input.dir,
            crate_info.as_ref(),
            &placed,
            &mut lowered,
            &mut diags,
        );
        resolve::warn_undeclared_groups(&input.dir, &files, &lowered, &packages, &mut diags);
        for pkg in packages.iter_mut().filter(|p| p.options.protobuf) {
            pkg.protobuf_record = read_proto_record(&input.dir, pkg, &mut sources, &mut diags);
        }
        let type_count: usize = packages.iter().map(|p| p.types.len()).sum();
        if type_count == 0 && !diags.iter().any(Diagnostic::is_error) {
            let mut d = Diagnostic::error(
                "E0100",
                format!("no API types found in {}", input.dir.display()),
            );
            for f in &files {
                for note in inline_versions(&lowered[&f.id], &f.rel.display().to_string()) {
                    d = d.note(note);
                }
            }
            if files.is_empty() {
                d = d.note("found no `.rs` files");
            } else if packages.is_empty() {
                let names: Vec<String> = files
                    .iter()
                    .take(8)
                    .map(|f| format!("`{}`", f.rel.display()))
                    .collect();
                let more = if files.len() > names.len() {
                    ", ..."
                } else {
                    ""
                };
                d = d.note(format!(
                    "found {} `.rs` file{} ({}{more}) but no `<group>/<version>/` package",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ));
            } else {
                for pkg in &packages {
                    let pkg_files: Vec<String> = placed
                        .iter()
                        .filter(|p| p.package_dir() == pkg.dir)
                        .map(|p| format!("`{}`", p.file.rel.display()))
                        .collect();
                    d = d.note(format!(
                        "package {} has no struct or enum in {}",
                        pkg.display_name(),
                        pkg_files.join(", ")
                    ));
                }
            }
            diags.push(d.help(
                "the input directory holds `<group>/<version>/types.rs` (e.g. \
                 `pager/v1alpha1/types.rs`) with `#[derive]`d structs; a kind has a \
                 `metadata: ObjectMeta` field; a package module declares its files (`mod types;`)",
            ));
        }
        // An external version without a single type generates nothing: say so.
        if type_count > 0 {
            for pkg in packages
                .iter()
                .filter(|p| !p.is_internal() && p.types.is_empty())
            {
                let root = files.iter().find(|f| f.rel == pkg.root_file);
                let mut d = Diagnostic::warning(
                    "W0111",
                    format!("package {} has no types", pkg.display_name()),
                )
                .note("nothing is generated for it")
                .help("declare its files in the package module (`mod types;`) and put the version's types there, or remove the directory");
                if let Some(f) = root {
                    d = d.at(Span::new(f.id, 0, 0), "no struct or enum in this package");
                }
                diags.push(d);
            }
        }
        // Say why a version will get no kinds rather than generating next to nothing silently.
        let has_errors = diags.iter().any(Diagnostic::is_error);
        for pkg in &packages {
            if has_errors
                || pkg.is_internal()
                || pkg.types.is_empty()
                || pkg.roots().next().is_some()
            {
                continue;
            }
            let first = &pkg.types[0];
            let mut d = Diagnostic::warning(
                "W0110",
                format!("package {} has no kinds", pkg.display_name()),
            )
            .at(first.span, "no type here is a kind")
            .note("a kind is a struct with a `metadata: ObjectMeta` field that no other type embeds")
            .help("add `pub metadata: ObjectMeta` to the kind, or tag it `+genclient`; shared types belong in the package of the kinds that use them");
            // kube-rs users bring `#[derive(CustomResource)]` specs: say what differs.
            if let Some(crd) = pkg
                .types
                .iter()
                .find(|t| t.derives.contains("CustomResource"))
            {
                d = d.note(format!(
                    "`{}` derives kube-rs's `CustomResource`, which generates its kind inside the derive; kube-codegen reads the kind as a plain struct (`metadata`, `spec`, `status`) instead: W0118 shows the one to write",
                    crd.name
                ));
            }
            diags.push(d);
        }
        model.packages.extend(packages);
    }
    resolve::kind_scopes_agree(&model.packages, &mut diags);
    resolve::hub_kinds_take_their_versions_scope(&mut model.packages);
    diag::sort(&mut diags);
    collapse_repeats(&mut diags, "W0116");
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Failure {
            diagnostics: diags,
            sources,
        });
    }
    Ok(Loaded {
        model,
        sources,
        warnings: diags,
    })
}

/// One diagnostic of `code` per file and message (the first, sorted by place), counting the
/// others: a ported `types.go` carries the same marker dozens of times.
fn collapse_repeats(diags: &mut Vec<Diagnostic>, code: &str) {
    let mut first: std::collections::HashMap<(Option<diag::FileId>, String), usize> =
        Default::default();
    let mut repeats: Vec<usize> = vec![0; diags.len()];
    let mut keep = vec![true; diags.len()];
    for (i, d) in diags.iter().enumerate() {
        if d.code != code {
            continue;
        }
        match first.entry((d.span.map(|s| s.file), d.message.clone())) {
            std::collections::hash_map::Entry::Occupied(e) => {
                repeats[*e.get()] += 1;
                keep[i] = false;
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i);
            }
        }
    }
    for (d, n) in diags.iter_mut().zip(&repeats) {
        if *n > 0 {
            d.notes.push(format!(
                "and {n} more time{} in this file",
                if *n == 1 { "" } else { "s" }
            ));
        }
    }
    let mut keep = keep.into_iter();
    diags.retain(|_| keep.next().unwrap_or(true));
}

/// A file in no API package (a helper module beside the groups, an error type) is read by no
/// generator, as Go's generators read only the packages they are given: what its types could
/// not be in an API (E0201: a trait object, a tuple; E0204: a `#[cfg]`) and what their schemas
/// would miss (W02xx) is no concern there. Its stray tags are still E0108.
fn forgive_loose_types(loose: &[&parse::InputFile], diags: &mut Vec<Diagnostic>) {
    let loose: std::collections::BTreeSet<_> = loose.iter().map(|f| f.id).collect();
    diags.retain(|d| {
        let type_shape = d.code.starts_with("E02") || d.code.starts_with("W02");
        !(type_shape && d.span.is_some_and(|s| loose.contains(&s.file)))
    });
}

/// A directory (or `<name>.rs`) named like a version but not spelled as one is read as part of
/// the hub (or not at all): say so once per directory, rather than serve nothing for `V1`.
fn misspelled_versions(
    files: &[parse::InputFile],
    placed: &[resolve::Placed],
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        let parts: Vec<String> = f
            .rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let Some(i) = parts.iter().position(|p| naming::looks_like_version(p)) else {
            continue;
        };
        if parts[..i].iter().any(|p| naming::is_version(p)) {
            continue; // inside a real version package: a module of it, named as the user likes
        }
        let name = &parts[i];
        let dir: std::path::PathBuf = parts[..=i].iter().collect();
        if !seen.insert(dir.clone()) {
            continue;
        }
        let read_as = match placed.iter().find(|p| std::ptr::eq(p.file, f)) {
            Some(p) => format!(
                "its files are read as part of the internal hub package `{}`",
                p.key.group_dir.display()
            ),
            None => "its files are not read as API types".to_string(),
        };
        let help = match naming::version_spelling(name) {
            Some(v) => format!("rename `{}` to `{v}`", dir.display()),
            None => "Kubernetes versions are spelled `v<N>`, `v<N>alpha<M>` or `v<N>beta<M>` (`v1`, `v2alpha1`, `v1beta3`)".to_string(),
        };
        diags.push(
            Diagnostic::warning(
                "W0112",
                format!("`{}` is named like a version but is not one", dir.display()),
            )
            .at(Span::new(f.id, 0, 0), "in this directory")
            .note(read_as)
            .help(help),
        );
    }
}

/// The field numbers a package's `generated.proto` (beside its types) recorded; `None` when
/// there is none yet. A record that cannot be read is an error: renumbering silently would
/// break every protobuf object already written.
fn read_proto_record(
    input_dir: &std::path::Path,
    pkg: &Package,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<proto_record::ProtoRecord> {
    let rel = pkg.dir.join(proto_record::FILE);
    let path = input_dir.join(&rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            diags.push(Diagnostic::error(
                "E0121",
                format!(
                    "cannot read the protobuf field numbers in {}: {e}",
                    path.display()
                ),
            ));
            return None;
        }
    };
    match proto_record::parse(&text) {
        Ok(record) => Some(record),
        Err((line, why)) => {
            let id = sources.add(path.clone(), text.into());
            let start = sources.offset(id, line, 0);
            diags.push(
                Diagnostic::error(
                    "E0120",
                    format!("cannot read the protobuf field numbers recorded in {}", rel.display()),
                )
                .at(Span::new(id, start, start), why)
                .note("protobuf-gen keeps every field's number in this file, so that numbers never change")
                .help("restore the file from version control (it is generated; edit only by regenerating)"),
            );
            None
        }
    }
}

/// Notes for inline modules named as versions (`pub mod v1alpha1 { … }` in a group's file):
/// not packages, though they read as meant to be.
fn inline_versions(l: &parse::LoweredFile, path: &str) -> Vec<String> {
    l.scopes
        .iter()
        .filter_map(|scope| scope.inline.last().filter(|n| naming::is_version(n)))
        .map(|name| {
            format!(
                "`mod {name} {{ … }}` in {path} is an inline module, not a version package: a \
                 version is a directory or file (`{name}/mod.rs`, `{name}.rs`) beside its \
                 group's module; move its contents there"
            )
        })
        .collect()
}
