//! The contract between generators and the writer. A generator is a pure function from the model
//! to token streams; it never does I/O.

use std::path::PathBuf;

use proc_macro2::{Ident, Span, TokenStream};

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
        path.parse()
            .unwrap_or_else(|_| panic!("invalid crate path `{path}`"))
    }
}

/// Rust's strict and reserved keywords: names that must be written `r#name` in generated code.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// An identifier for generated code: `r#type` for keywords, as written otherwise.
pub fn ident(name: &str) -> Ident {
    let name = name.strip_prefix("r#").unwrap_or(name);
    if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The tokens naming a package type from generated code included in the package module:
/// `self::types::Alert`.
pub fn type_path(pkg: &Package, name: &str) -> TokenStream {
    let module = pkg
        .type_named(name)
        .map(|t| t.module.clone())
        .unwrap_or_default();
    let segments = module
        .iter()
        .map(|m| ident(m))
        .chain(std::iter::once(ident(name)));
    quote::quote!(self #(:: #segments)*)
}
