//! The contract between generators and the writer. A generator is a pure function from the model
//! to token streams; it never does I/O.

use std::path::PathBuf;

use proc_macro2::TokenStream;

use crate::diag::Diagnostic;
use crate::model::{Model, Package};

/// One file a generator wants written, relative to the output root it targets.
pub struct GeneratedFile {
    pub path: PathBuf,
    /// Rust tokens (formatted by the writer) or, for data outputs, text written as is.
    pub content: Content,
}

pub enum Content {
    Rust(TokenStream),
    Text(String),
}

/// Where a generator's files go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Inside the crate that defines the types (the orphan rule): beside the types, or OUT_DIR.
    InCrate,
    /// In a crate of its own (clientsets, listers, informers).
    Separate,
}

/// Paths of the crates generated code refers to; overridable like kube-derive's `Crates`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crates {
    pub k8s_openapi: String,
    pub scheme: String,
}

impl Default for Crates {
    fn default() -> Self {
        Crates {
            k8s_openapi: "::k8s_openapi".into(),
            scheme: "::kube_codegen_scheme".into(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub crates: Crates,
}

/// A generator: validation (phase 2) and per-package generation (phase 3). Implementations are
/// `Sync` so packages are generated and formatted in parallel.
pub trait Generator: Sync {
    /// `register-gen`, `deepcopy-gen`, ...
    fn name(&self) -> &'static str;
    fn placement(&self) -> Placement;
    /// Problems this generator finds in the model; any error stops the run before writing.
    fn validate(&self, _model: &Model) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Files for one package. Called for every package; returns nothing for packages it skips.
    fn generate_package(&self, model: &Model, pkg: &Package, opts: &Options) -> Vec<GeneratedFile>;
}

impl Model {
    /// Parses a `::a::b` path string into tokens for `quote!`.
    pub fn path_tokens(path: &str) -> TokenStream {
        path.parse().unwrap_or_else(|_| panic!("invalid crate path `{path}`"))
    }
}

/// The tokens naming a package type from generated code included in the package module:
/// `self::types::Alert`.
pub fn type_path(pkg: &Package, name: &str) -> TokenStream {
    let t = pkg
        .type_named(name)
        .map(|t| t.module.clone())
        .unwrap_or_default();
    let mut s = String::from("self");
    for m in t {
        s.push_str("::");
        s.push_str(&m);
    }
    s.push_str("::");
    s.push_str(name);
    s.parse().expect("type path")
}
