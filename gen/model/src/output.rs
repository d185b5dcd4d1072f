//! The contract between generators and the writer. A generator is a pure function from the model
//! to token streams; it never does I/O.

use std::path::PathBuf;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::diag::Diagnostic;
use crate::model::{FieldType, KnownType, MapKind, Model, Package};
use crate::path::RustPath;

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
    /// Paths are relative to the input directory's output root.
    InCrate,
    /// In a crate or module of its own (clientsets, listers, informers): paths are relative to
    /// the separate output root (`--client-out`, `Config::client_out`).
    Separate,
}

/// Paths of the crates generated code refers to, as a user writes them (`::k8s_openapi`);
/// overridable like kube-derive's `Crates`. Checked by [`Crates::paths`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crates {
    pub k8s_openapi: String,
    pub scheme: String,
    /// What generated clientsets stand on (`kube-codegen-client`).
    pub client: String,
    /// What generated listers and informers stand on (`kube-codegen-cache`).
    pub cache: String,
    pub kube: String,
    /// What generated protobuf code stands on (`kube-codegen-protobuf`).
    pub protobuf: String,
}

impl Default for Crates {
    fn default() -> Self {
        Crates {
            k8s_openapi: "::k8s_openapi".into(),
            scheme: "::kube_codegen_scheme".into(),
            client: "::kube_codegen_client".into(),
            cache: "::kube_codegen_cache".into(),
            kube: "::kube".into(),
            protobuf: "::kube_codegen_protobuf".into(),
        }
    }
}

impl Crates {
    /// The parsed paths, or which override is not a Rust path and why.
    pub fn paths(&self) -> Result<CratePaths, String> {
        let parse = |what: &str, text: &str| {
            RustPath::parse(text).map_err(|e| format!("the `{what}` crate path: {e}"))
        };
        Ok(CratePaths {
            k8s_openapi: parse("k8s_openapi", &self.k8s_openapi)?,
            scheme: parse("scheme", &self.scheme)?,
            client: parse("client", &self.client)?,
            cache: parse("cache", &self.cache)?,
            kube: parse("kube", &self.kube)?,
            protobuf: parse("protobuf", &self.protobuf)?,
        })
    }
}

/// [`Crates`], parsed: what generators quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CratePaths {
    pub k8s_openapi: RustPath,
    pub scheme: RustPath,
    pub client: RustPath,
    pub cache: RustPath,
    pub kube: RustPath,
    pub protobuf: RustPath,
}

impl Default for CratePaths {
    fn default() -> Self {
        Crates::default()
            .paths()
            .expect("the default crate paths are paths")
    }
}

impl CratePaths {
    /// The path generated code uses for a well-known type, through the crate overrides.
    pub fn known(&self, k: KnownType) -> RustPath {
        let krate = match k {
            KnownType::Json => return RustPath::from_segments(true, ["serde_json", "Value"]),
            KnownType::Duration => &self.kube,
            _ => &self.k8s_openapi,
        };
        let mut segments = krate.segments.clone();
        segments.extend(k.path().split("::").skip(1).map(str::to_string));
        RustPath {
            global: krate.global,
            segments,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub crates: CratePaths,
}

/// A generator: validation (phase 2) and generation (phase 3), per package and for the whole
/// model. Implementations are `Sync` so packages are generated and formatted in parallel.
///
/// A generator of your own plugs in with `kube_codegen::Config::generator`; see
/// `docs/0010-generators-of-your-own.md`.
pub trait Generator: Sync + Send {
    /// `register-gen`, `deepcopy-gen`, ... (also the owner line of its files).
    fn name(&self) -> &'static str;
    fn placement(&self) -> Placement;
    /// Problems this generator finds across the model; any error stops the run before writing.
    fn validate(&self, _model: &Model) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Problems in one package. Called for every package (in parallel); any error stops the run
    /// before writing.
    fn validate_package(&self, _model: &Model, _pkg: &Package) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Every problem: [`Generator::validate`] and [`Generator::validate_package`] for each
    /// package, one after the other (kube-codegen runs them in parallel).
    fn check(&self, model: &Model) -> Vec<Diagnostic> {
        let mut diags = self.validate(model);
        for pkg in &model.packages {
            diags.extend(self.validate_package(model, pkg));
        }
        diags
    }
    /// Files for one package. Called for every package; returns nothing for packages it skips.
    fn generate_package(
        &self,
        _model: &Model,
        _pkg: &Package,
        _opts: &Options,
    ) -> Vec<GeneratedFile> {
        Vec::new()
    }
    /// Files that span the model (a clientset over every group/version). Called once per run.
    fn generate_model(&self, _model: &Model, _opts: &Options) -> Vec<GeneratedFile> {
        Vec::new()
    }
}

/// How a type kept beside the API types, which no API holds, is left alone (a note of the
/// model's E0201 and deepcopy-gen's E0401).
pub const NOT_AN_API_TYPE: &str = "a type no API holds (an error type, a helper) is read by no generator once tagged `+k8s:deepcopy-gen=false` and `+k8s:openapi-gen=false`";

/// `#[allow(dead_code)]`, for each generated item a crate may never use (a constant, a list
/// type, `add_to_scheme`, a client struct): the package module may be `pub(crate)` or in a
/// binary, and a crate built with `-D warnings` cannot edit generated code. Per item, as an
/// `include!`d file can hold no inner `#![allow]`; a `mod` declaration given it covers its file.
pub fn allow_unused() -> TokenStream {
    quote!(#[allow(dead_code)])
}

/// Whether `name` is a Rust strict or reserved keyword (written `r#name` as an identifier).
/// A `match`, not a list scan: it runs for every identifier of every generated file.
pub fn is_keyword(name: &str) -> bool {
    matches!(
        name,
        "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

/// An identifier for generated code: `r#type` for keywords, as written otherwise. Names that
/// come from values rather than Rust (a `+resourceName=widget-things`, a group `1password.com`,
/// a method named `Self`) become identifiers too: other characters as `_`, a leading digit after
/// a `_`, and the keywords no raw identifier can spell (`self`, `Self`, `crate`, `super`) with a
/// trailing `_`.
pub fn ident(name: &str) -> Ident {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let name = identifier(name);
    if is_keyword(&name) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// `name` as a Rust identifier's text (see [`ident`]); unchanged when it already is one.
pub fn identifier(name: &str) -> std::borrow::Cow<'_, str> {
    // Nearly every name is ASCII: checked bytewise before the Unicode-aware rule.
    let ascii = name
        .bytes()
        .next()
        .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic())
        && name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric());
    let valid = (ascii
        || name
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_alphanumeric()))
        && name != "_";
    if valid && !matches!(name, "self" | "Self" | "crate" | "super") {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '_' || c.is_alphanumeric() {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c == '_' || c.is_alphabetic()) || out == "_" {
        out.insert(0, '_');
    }
    if matches!(out.as_str(), "self" | "Self" | "crate" | "super") {
        out.push('_');
    }
    std::borrow::Cow::Owned(out)
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
    quote!(self #(:: #segments)*)
}

/// The tokens naming a package item from outside its crate (a clientset crate):
/// `::pager::v1alpha1::Alert`, from the package's Rust path. A type is named at the package root
/// when the package module re-exports it (Go-shaped packages: `mod types; pub use types::*;`),
/// else through its public modules (`::gateway::v1::httproutes::HTTPRoute`); other items
/// (generated constants) at the root. `None` when the path is not known (`--module-path` not
/// given and the crate layout does not tell it) or the type cannot be named from outside (see
/// [`unnameable_from_outside`]).
pub fn absolute_type_path(pkg: &Package, name: &str) -> Option<TokenStream> {
    let mut path = RustPath::parse(pkg.rust_path.as_deref()?).ok()?;
    if let Some(t) = pkg.type_named(name) {
        path.segments.extend(t.public_module.clone()?);
    }
    let mut path = path.join(name);
    // A crate name is an extern crate from anywhere else; `crate::…` stays as given.
    path.global = path.first() != "crate";
    Some(path.to_tokens())
}

/// E0703 for each of `names` (types of `pkg`) that code in another crate (clients, listers,
/// informers, apply configurations) cannot name: neither re-exported by the package module nor
/// in `pub` modules. Worded alike for every generator, so that one type is reported once.
pub fn unnameable_from_outside<'a>(
    pkg: &Package,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<crate::diag::Diagnostic> {
    if pkg.rust_path.is_none() {
        return Vec::new(); // E0701 says that
    }
    let mut seen = std::collections::BTreeSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(*n))
        .filter_map(|n| pkg.type_named(n))
        .filter(|t| t.public_module.is_none())
        .map(|t| {
            let module = t.module.join("::");
            let fix = if module.is_empty() || !t.is_pub {
                // A re-export cannot make a private type public.
                format!("make `{}` `pub`", t.name)
            } else if !pkg.has_module_file() {
                // Files alone: the re-export goes into a module file that is not there yet.
                format!(
                    "the package has no module file: create {} holding `mod {}; pub use {}::*;` (and the `include!`s of its generated code)",
                    pkg.dir.join("mod.rs").display(),
                    t.module[0],
                    t.module[0]
                )
            } else {
                format!(
                    "re-export it from the package module (`pub use {module}::*;` or `pub use {module}::{};` in {}), or declare its modules `pub mod`",
                    ident(&t.name),
                    pkg.root_file.display()
                )
            };
            crate::diag::Diagnostic::error(
                "E0703",
                format!(
                    "generated clients (another crate) cannot name `{}` of {}",
                    t.name,
                    pkg.display_name()
                ),
            )
            .at(
                t.span,
                if t.is_pub {
                    "not re-exported by the package module, and not in `pub` modules"
                } else {
                    "private: no other crate can name it"
                },
            )
            .help(fix)
        })
        .collect()
}

/// E0112 for each type of `pkg` named in `names` (or in `types`) that generated code, which lives
/// in the package module, cannot name; each type once.
pub fn unnameable_in_package<'a>(
    pkg: &Package,
    names: impl IntoIterator<Item = &'a str>,
    types: impl IntoIterator<Item = &'a FieldType>,
) -> Vec<crate::diag::Diagnostic> {
    let mut all: Vec<String> = names.into_iter().map(str::to_string).collect();
    for ty in types {
        ty.walk(&mut |t| {
            if let FieldType::Local(name) = t {
                all.push(name.clone());
            }
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    all.into_iter()
        .filter(|n| seen.insert(n.clone()))
        .filter_map(|n| pkg.type_named(&n))
        .filter_map(crate::model::TypeDef::unnameable_error)
        .collect()
}

/// A field type as tokens, naming local types through the package module and well-known types
/// through the crate paths of `opts`.
pub fn field_type_tokens(pkg: &Package, ty: &FieldType, opts: &Options) -> TokenStream {
    field_type_tokens_with(ty, opts, &|name| type_path(pkg, name))
}

/// [`field_type_tokens`] with package types named by `local` (e.g. [`absolute_type_path`]).
pub fn field_type_tokens_with(
    ty: &FieldType,
    opts: &Options,
    local: &dyn Fn(&str) -> TokenStream,
) -> TokenStream {
    let inner = |t: &FieldType| field_type_tokens_with(t, opts, local);
    match ty {
        FieldType::Bool => quote!(bool),
        FieldType::Int(n) => {
            let id = Ident::new(n.name(), Span::call_site());
            quote!(#id)
        }
        FieldType::Float(n) => {
            let id = Ident::new(n.name(), Span::call_site());
            quote!(#id)
        }
        FieldType::String => quote!(::std::string::String),
        FieldType::Option(t) => {
            let t = inner(t);
            quote!(::core::option::Option<#t>)
        }
        FieldType::Vec(t) => {
            let t = inner(t);
            quote!(::std::vec::Vec<#t>)
        }
        FieldType::Box(t) => {
            let t = inner(t);
            quote!(::std::boxed::Box<#t>)
        }
        FieldType::Set { ordered, elem } => {
            let e = inner(elem);
            if *ordered {
                quote!(::std::collections::BTreeSet<#e>)
            } else {
                quote!(::std::collections::HashSet<#e>)
            }
        }
        FieldType::Map { kind, value } => {
            let v = inner(value);
            match kind {
                MapKind::BTree => quote!(::std::collections::BTreeMap<::std::string::String, #v>),
                MapKind::Hash => quote!(::std::collections::HashMap<::std::string::String, #v>),
                // The crate of the types depends on indexmap: its types name it.
                MapKind::Index => quote!(::indexmap::IndexMap<::std::string::String, #v>),
            }
        }
        FieldType::Known(k) => opts.crates.known(*k).to_tokens(),
        FieldType::Local(name) => local(name),
        FieldType::Shared { wrapper, inner: t } => {
            let t = inner(t);
            let w = wrapper.path().to_tokens();
            quote!(#w<#t>)
        }
        FieldType::Foreign { path, args } => {
            let path = path.to_tokens();
            if args.is_empty() {
                path
            } else {
                let args = args.iter().map(inner);
                quote!(#path<#(#args),*>)
            }
        }
    }
}
