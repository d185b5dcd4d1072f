//! Crate layout: where a crate's modules are, from its `Cargo.toml`.

use std::path::{Path, PathBuf};

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
    pub fn rust_path(&self, input_dir: &Path, pkg_dir: &Path) -> Option<String> {
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
