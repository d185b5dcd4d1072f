//! The only part of kube-codegen that does I/O on outputs: header, write-if-changed, removal of
//! stale files it generated earlier (recognised by the header, never anything else), `--verify`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kube_codegen_model::HEADER;

/// A formatted file ready to be written.
#[derive(Clone, Debug)]
pub struct RenderedFile {
    pub path: PathBuf,
    pub generator: &'static str,
    pub text: String,
}

/// The second line of every generated file: which generator owns it (for stale-file removal).
pub fn owner_line(generator: &str) -> String {
    format!("// kube-codegen generator: {generator}")
}

/// Adds the header lines to a formatted body.
pub fn with_header(generator: &str, body: &str) -> String {
    format!("{HEADER}\n{}\n\n{body}", owner_line(generator))
}

/// What a write (or verify) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Written because new or changed (verify: would be written).
    pub changed: Vec<PathBuf>,
    pub unchanged: usize,
    /// Stale generated files removed (verify: would be removed).
    pub removed: Vec<PathBuf>,
}

impl Outcome {
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Writes `files`, only where bytes differ; removes files under `roots` that carry the header of
/// one of `generators` but were not produced this run. With `verify`, changes nothing and reports.
pub fn write(
    files: &[RenderedFile],
    roots: &[PathBuf],
    generators: &[&str],
    verify: bool,
) -> std::io::Result<Outcome> {
    let mut outcome = Outcome::default();
    let planned: BTreeSet<PathBuf> = files.iter().map(|f| normalize(&f.path)).collect();
    // Compare in parallel first: on a cold run of a big API surface the I/O is a visible share
    // of the time. Nothing is written unless every file can be: a path that is a directory, or a
    // file there that kube-codegen did not write, stops the run before its first write.
    use rayon::prelude::*;
    let compared: Vec<Result<bool, String>> = files
        .par_iter()
        .map(|f| match std::fs::read(&f.path) {
            Ok(old) if old == f.text.as_bytes() => Ok(false),
            Ok(old) if !old.starts_with(HEADER.as_bytes()) => Err(format!(
                "{} is not generated code (it does not start with `{HEADER}`): not overwritten",
                f.path.display()
            )),
            Ok(_) => Ok(true),
            Err(_) if f.path.is_dir() => Err(format!("{} is a directory", f.path.display())),
            Err(_) => match f.path.ancestors().skip(1).find(|a| a.is_file()) {
                Some(file) => Err(format!(
                    "cannot write {}: {} is a file, not a directory",
                    f.path.display(),
                    file.display()
                )),
                None => Ok(true),
            },
        })
        .collect();
    let problems: Vec<&String> = compared.iter().filter_map(|c| c.as_ref().err()).collect();
    if !problems.is_empty() {
        let listed: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        return Err(std::io::Error::other(format!(
            "cannot write the generated files; nothing was written:\n{}\nhelp: move those paths out of the way, or generate elsewhere (`-o`, `--client-out`)",
            listed.join("\n")
        )));
    }
    let written: Vec<std::io::Result<Option<PathBuf>>> = files
        .par_iter()
        .zip(compared.par_iter())
        .map(|(f, changed)| {
            if !matches!(changed, Ok(true)) {
                return Ok(None);
            }
            if !verify {
                let named = |e: std::io::Error| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", f.path.display()))
                };
                if let Some(dir) = f.path.parent() {
                    std::fs::create_dir_all(dir).map_err(named)?;
                }
                std::fs::write(&f.path, &f.text).map_err(named)?;
            }
            Ok(Some(f.path.clone()))
        })
        .collect();
    for c in written {
        match c? {
            Some(path) => outcome.changed.push(path),
            None => outcome.unchanged += 1,
        }
    }
    let owners: Vec<String> = generators.iter().map(|g| owner_line(g)).collect();
    let mut seen_roots = BTreeSet::new();
    for root in roots {
        if !seen_roots.insert(normalize(root)) || !root.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        generated_files(root, &owners, &planned, &mut found);
        for path in found {
            if !verify {
                std::fs::remove_file(&path)?;
            }
            outcome.removed.push(path);
        }
    }
    outcome.changed.sort();
    outcome.removed.sort();
    Ok(outcome)
}

fn normalize(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Files under `dir` owned by one of `owners` and not `planned`: the stale ones. Planned files
/// are not read (this run wrote or compared them already).
fn generated_files(
    dir: &Path,
    owners: &[String],
    planned: &BTreeSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) {
    let mut candidates = Vec::new();
    walk_files(dir, &mut candidates);
    use rayon::prelude::*;
    let mut found: Vec<PathBuf> = candidates
        .into_par_iter()
        .filter(|path| {
            !planned.contains(&normalize(path))
                && read_head(path).is_some_and(|head| owned_by(&head, owners))
        })
        .collect();
    out.append(&mut found);
}

/// Whether a file starting with `head` (its first [`HEAD_LEN`] bytes or fewer) carries the header
/// and one of the `owners` lines: a file the writer would remove when it is not planned.
pub(crate) fn owned_by(head: &[u8], owners: &[String]) -> bool {
    let head = String::from_utf8_lossy(&head[..head.len().min(HEAD_LEN)]);
    let mut lines = head.lines();
    lines.next() == Some(HEADER) && lines.next().is_some_and(|l| owners.iter().any(|o| o == l))
}

/// How much of a file the stale-file scan reads to recognise a generated file.
pub(crate) const HEAD_LEN: usize = 256;

/// Every regular file under `dir`, skipping hidden entries and `target/`: the files the stale-file
/// scan looks at.
pub(crate) fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

pub(crate) fn read_head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = [0u8; HEAD_LEN];
    let mut f = std::fs::File::open(path).ok()?;
    let n = f.read(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}
