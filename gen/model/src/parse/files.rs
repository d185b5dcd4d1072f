//! Finding and reading input files: `.rs` files under a directory, skipping generated ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Diagnostic, Sources, Span};

use super::{HEADER, InputFile};

/// Lists `.rs` files under `dir`, sorted, skipping generated files, `target/` and hidden folders.
pub(crate) fn collect_files(
    dir: &Path,
    display_root: &Path,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Vec<InputFile> {
    let mut paths = Vec::new();
    walk(dir, &mut paths, diags, &mut Default::default());
    paths.retain(|p| !other_crate_root(dir, p));
    paths.sort();
    // Read in parallel; files kube-codegen wrote are recognised by their first bytes and not
    // read further (a no-op run over a big tree would otherwise read all its output).
    let read: Vec<(PathBuf, Result<Option<String>, ReadError>)> = paths
        .into_par_iter()
        .map(|path| {
            let text = read_unless_generated(&path);
            (path, text)
        })
        .collect();
    let mut out = Vec::new();
    for (path, text) in read {
        let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
        let display = display_root.join(&rel);
        let text = match text {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(ReadError::Io(e)) => {
                diags.push(Diagnostic::error(
                    "E0003",
                    format!("cannot read {}: {e}", path.display()),
                ));
                continue;
            }
            Err(ReadError::NotUtf8(e)) => {
                // Shown with the bad bytes replaced (the text before them is unchanged, so the
                // span points at the first one), and not parsed.
                let at = e.utf8_error().valid_up_to();
                // Where, as an editor counts: line and column (in characters) of the first bad
                // byte.
                let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
                let line = valid.matches('\n').count() + 1;
                let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                let lossy: Arc<str> = String::from_utf8_lossy(e.as_bytes()).into();
                let id = sources.add(display, lossy);
                diags.push(
                    Diagnostic::error(
                        "E0003",
                        format!(
                            "cannot read {}: not UTF-8 at {line}:{column} (byte {at}); Rust source files are UTF-8",
                            path.display()
                        ),
                    )
                    .at(
                        Span::new(id, at, at + char::REPLACEMENT_CHARACTER.len_utf8()),
                        "not UTF-8",
                    )
                    .help("re-encode the file as UTF-8 (or remove the byte)"),
                );
                continue;
            }
        };
        let text: Arc<str> = text.into();
        let id = sources.add(display, text.clone());
        out.push(InputFile { id, rel, text });
    }
    out
}

/// Whether `path`, under the input `dir`, belongs to another crate than the one `dir` is the
/// source of, as cargo builds a package's `src/`: beside a `lib.rs`, `main.rs` is the root of
/// the package's binary; beside either, `bin/` holds more binaries. rustc never compiles them
/// into the library, so their types are not the API's, and their files are no missing modules.
fn other_crate_root(dir: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(dir) else {
        return false;
    };
    let is_root = |name: &str| dir.join(name).is_file();
    (rel == Path::new("main.rs") && is_root("lib.rs"))
        || (rel.starts_with("bin") && (is_root("lib.rs") || is_root("main.rs")))
}

/// Why a file could not be read as Rust source.
enum ReadError {
    Io(std::io::Error),
    NotUtf8(std::string::FromUtf8Error),
}

/// The largest source file read: a bigger one is an error, not memory exhausted.
const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// The file's text, or `None` when it starts with kube-codegen's header. Only regular files
/// are read (a FIFO would block, a link to `/dev/zero` never end), up to [`MAX_SOURCE_BYTES`].
fn read_unless_generated(path: &Path) -> Result<Option<String>, ReadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::Io(std::io::Error::other(
            "not a regular file (a device, FIFO or socket)",
        )));
    }
    let too_big = || {
        ReadError::Io(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_SOURCE_BYTES >> 20
        )))
    };
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(too_big());
    }
    let f = std::fs::File::open(path).map_err(ReadError::Io)?;
    // A file that grows while it is read stops at the limit too.
    let mut f = f.take(MAX_SOURCE_BYTES + 1);
    // Sized for the whole file: the rest is one read, not a read per doubling of the buffer.
    let mut text = Vec::with_capacity(meta.len() as usize + 1);
    text.resize(HEADER.len(), 0);
    let n = read_full(&mut f, &mut text).map_err(ReadError::Io)?;
    text.truncate(n);
    if text == HEADER.as_bytes() {
        return Ok(None);
    }
    f.read_to_end(&mut text).map_err(ReadError::Io)?;
    if text.len() as u64 > MAX_SOURCE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(text)
        .map(Some)
        .map_err(ReadError::NotUtf8)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(f: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Every `.rs` file under `dir`, skipping hidden entries and `target/`. Symbolic links are
/// followed, as rustc follows them (a version directory linked in from elsewhere is compiled,
/// so it is read); a directory reached twice (a link cycle) is read once.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    visited: &mut std::collections::HashSet<DirIdentity>,
) {
    let identity = DirIdentity::of(dir).unwrap_or_else(|_| DirIdentity::Path(dir.to_path_buf()));
    if !visited.insert(identity) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(Diagnostic::error(
                "E0003",
                format!("cannot read directory {}: {e}", dir.display()),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        if is_dir {
            walk(&path, out, diags, visited);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// What tells two paths to one directory apart from two directories, for walks that follow
/// symbolic links: the device and inode on Unix (one `stat`; the canonical path takes a
/// `readlink` per component), the canonical path elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DirIdentity {
    #[cfg(unix)]
    Inode {
        dev: u64,
        ino: u64,
    },
    Path(PathBuf),
}

impl DirIdentity {
    pub fn of(dir: &Path) -> std::io::Result<DirIdentity> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(dir)?;
            Ok(DirIdentity::Inode {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            std::fs::canonicalize(dir).map(DirIdentity::Path)
        }
    }
}
