//! The plain model every generator reads. No `syn` in here: generators never see syntax trees.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::diag::Span;

/// Everything read from the input directories, after validation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub packages: Vec<Package>,
}

/// A package's module path from some root (see [`Model::package_type`]).
type PackageModule = fn(&Package) -> Option<Vec<&str>>;

impl Model {
    /// The type of another package of the same input that `path` names from `pkg` (rebased to
    /// `pkg`'s module, or from `crate::`): `super::v1::Status` from `shop/v2`, or
    /// `crate::apis::shop::v1::Status` (whether the crate is named `crate` or by its name).
    pub fn sibling_type<'a>(
        &'a self,
        pkg: &Package,
        path: &crate::path::RustPath,
    ) -> Option<(&'a Package, &'a TypeDef)> {
        self.package_type(pkg, path)
            .filter(|(found, _)| found.version.is_some())
    }

    /// As [`Model::sibling_type`], the hub's packages too (a type a group shares between its
    /// versions, `crate::apis::shop::common::Money`).
    pub fn package_type<'a>(
        &'a self,
        pkg: &Package,
        path: &crate::path::RustPath,
    ) -> Option<(&'a Package, &'a TypeDef)> {
        let (name, module) = path.segments.split_last()?;
        if path.global {
            return None;
        }
        // The module the path names, and each package's, from the same root: the crate's
        // (`crate::…` against the package's Rust path) or the input's (`super::…` against the
        // package's module).
        let (target, package_module): (Vec<&str>, PackageModule) =
            match module.first().map(String::as_str) {
                Some("crate") => (module[1..].iter().map(String::as_str).collect(), |p| {
                    Some(p.rust_path.as_deref()?.split("::").skip(1).collect())
                }),
                Some("super") => {
                    let ups = module.iter().take_while(|s| *s == "super").count();
                    let keep = pkg.module.len().checked_sub(ups)?;
                    (
                        pkg.module[..keep]
                            .iter()
                            .chain(&module[ups..])
                            .map(String::as_str)
                            .collect(),
                        |p| Some(p.module.iter().map(String::as_str).collect()),
                    )
                }
                _ => return None,
            };
        // The package whose module the path names, or the one holding the file module it names
        // (`crate::shared::Money`: `Money` of the root package's `shared.rs`); the deepest wins.
        let mut best: Option<(usize, &Package, &TypeDef)> = None;
        for p in self.packages.iter().filter(|p| p.input == pkg.input) {
            let Some(own) = package_module(p) else {
                continue;
            };
            let Some(rest) = target.strip_prefix(own.as_slice()) else {
                continue;
            };
            let found = p.types.iter().find(|t| {
                t.name == *name
                    && (rest.is_empty()
                        || t.module.iter().map(String::as_str).eq(rest.iter().copied()))
            });
            if let Some(t) = found
                && best.is_none_or(|(depth, _, _)| own.len() > depth)
            {
                best = Some((own.len(), p, t));
            }
        }
        let (_, found, t) = best?;
        (!std::ptr::eq(found, pkg)).then_some((found, t))
    }
}

/// Where a fact in the model came from: read from a tag, or inferred (and from what).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Tag(Span),
    Inferred(String),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Tag(_) => "from tag".to_string(),
            Origin::Inferred(from) => format!("inferred from {from}"),
        }
    }
}

/// One API package: an external version (`<group>/<version>/`) or an internal hub (`<group>/`).
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    /// Index of the input directory this package was read from.
    pub input: usize,
    /// Directory of the package, relative to its input directory (`pager/v1alpha1`).
    pub dir: PathBuf,
    /// The file the package module is rooted at (`pager/v1alpha1/mod.rs`), relative to the input.
    pub root_file: PathBuf,
    pub group: String,
    pub group_origin: Origin,
    /// `None` for the internal hub.
    pub version: Option<String>,
    /// Rust module path of the package relative to the input directory (`["pager", "v1alpha1"]`).
    pub module: Vec<String>,
    /// Absolute Rust module path (`pager::v1alpha1`), when the crate layout tells it or it was given.
    pub rust_path: Option<String>,
    /// What the package tags (`//! +k8s:*-gen=`) say, interpreted.
    pub options: PackageOptions,
    pub types: Vec<TypeDef>,
    /// Free functions written in the package (hand-written `set_defaults_*` and `convert_*`
    /// functions are found here by name).
    pub functions: Vec<Function>,
    /// Functions of the package's files that no `mod` declares (W0115): rustc does not compile
    /// them, so generated code cannot call them (diagnostics point at them).
    pub unread_functions: Vec<UnreadFunction>,
    /// The protobuf field numbers given out before, read from the package's `generated.proto`
    /// (packages with `+k8s:protobuf-gen=package`; `None` when there is none yet).
    pub protobuf_record: Option<crate::proto_record::ProtoRecord>,
}

/// A free function of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// Module path of its declaration within the package (`["types"]`).
    pub module: Vec<String>,
    /// Whether generated code in the package module can call it (`pub`/`pub(crate)`, or
    /// declared in the package module itself).
    pub reachable: bool,
    /// Whether it is declared `pub` (or `pub(…)`).
    pub is_pub: bool,
    pub span: Span,
    /// How many parameters it takes.
    pub params: usize,
    /// Whether its first parameter is a reference (`input: &Spec`).
    pub borrows_input: bool,
    /// The last segment of its return type's path (`Result` for `-> Result<T, E>`); `None` when it
    /// returns nothing or something that is not a path.
    pub returns: Option<String>,
    /// Its first parameter's type as written (from `module`), references taken off.
    pub input: Option<crate::path::RustPath>,
    /// Its return type's first type argument as written (`T` of `Result<T, E>`).
    pub output: Option<crate::path::RustPath>,
    /// Every identifier its body uses: what a hand-written conversion mentions.
    pub body_idents: std::collections::BTreeSet<String>,
}

/// A function in a file rustc does not compile (see [`Package::unread_functions`]).
#[derive(Clone, Debug, PartialEq)]
pub struct UnreadFunction {
    pub name: String,
    pub span: Span,
}

/// A value read from a tag, with where the tag is (for later diagnostics about it).
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// The package tags, typed. Every generator is on unless its tag says `false`.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageOptions {
    /// `+k8s:register-gen`
    pub register: bool,
    /// `+k8s:deepcopy-gen` (`package`/`true` on, `false` off)
    pub deepcopy: bool,
    /// `+k8s:client-gen`
    pub client: bool,
    /// `+k8s:lister-gen`
    pub lister: bool,
    /// `+k8s:informer-gen`
    pub informer: bool,
    /// `+k8s:openapi-gen`
    pub openapi: bool,
    /// `+k8s:defaulter-gen`: which types get `set_object_defaults` (none said: kinds).
    pub defaulter: Option<Spanned<DefaulterMode>>,
    /// `+k8s:conversion-gen`: the hub this version converts through, or opted out.
    pub conversion: Option<Spanned<ConversionTag>>,
    /// `+k8s:protobuf-gen=package`: the package's types have protobuf messages (off unless said).
    pub protobuf: bool,
}

impl Default for PackageOptions {
    fn default() -> Self {
        PackageOptions {
            register: true,
            deepcopy: true,
            client: true,
            lister: true,
            informer: true,
            openapi: true,
            defaulter: None,
            conversion: None,
            protobuf: false,
        }
    }
}

/// `+k8s:defaulter-gen=` values (Go's meanings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaulterMode {
    /// `TypeMeta`: the kinds of the package are defaulting roots.
    Kinds,
    /// `true`: this type (or every type of the package) is a root.
    On,
    /// `false`: no defaulting function.
    Off,
    /// `covers`: the type's own defaulter covers its fields; do not recurse into them.
    Covers,
}

/// `+k8s:conversion-gen=` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversionTag {
    /// Convert through the module at this path (a package tag: the hub).
    Through(crate::path::RustPath),
    /// `false`: no generated conversion.
    Off,
}

impl Package {
    pub fn is_internal(&self) -> bool {
        self.version.is_none()
    }

    /// Whether the package has a file of its own module (`v1/mod.rs`, `v1.rs`, a `lib.rs`), where
    /// generated code is included; not when it is files alone (`v1/types.rs`), whose root
    /// file then stands for it.
    pub fn has_module_file(&self) -> bool {
        self.root_file.with_extension("") == self.dir
            || (self.root_file.parent() == Some(self.dir.as_path())
                && matches!(
                    self.root_file.file_stem().and_then(|s| s.to_str()),
                    Some("mod" | "lib" | "main")
                ))
    }

    /// `group/version`, or `group (internal)` for a hub.
    pub fn display_name(&self) -> String {
        match &self.version {
            Some(v) => format!("{}/{}", self.group, v),
            None => format!("{} (internal)", self.group),
        }
    }

    pub fn function_named(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// A function of the package whose name is close to `name` but not it (a typo of a
    /// function generated code looks for by name, `convert_x_from_hubb`): the closest one.
    pub fn function_like(&self, name: &str) -> Option<&Function> {
        self.functions
            .iter()
            .filter(|f| f.name != name)
            .map(|f| (strsim::jaro_winkler(&f.name, name), f))
            .filter(|(score, _)| *score >= 0.93)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, f)| f)
    }

    pub fn type_named(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }

    /// Whether a missing field of this type can be read as `Default::default()`: what the codec
    /// does for a kind's fields, and why OpenAPI calls such fields optional.
    pub fn has_default(&self, ty: &FieldType) -> bool {
        match ty {
            FieldType::Bool
            | FieldType::Int(_)
            | FieldType::Float(_)
            | FieldType::String
            | FieldType::Option(_)
            | FieldType::Vec(_)
            | FieldType::Map { .. }
            | FieldType::Set { .. } => true,
            FieldType::Box(inner) => self.has_default(inner),
            FieldType::Known(k) => matches!(
                k,
                KnownType::ObjectMeta
                    | KnownType::ListMeta
                    | KnownType::Quantity
                    | KnownType::Json
                    | KnownType::Bytes
            ),
            FieldType::Local(name) => self
                .type_named(name)
                .is_some_and(|t| t.implements("Default")),
            FieldType::Foreign { .. } | FieldType::Shared { .. } => false,
        }
    }

    /// Whether values of this type are JSON objects or arrays (never strings, numbers or
    /// booleans): what a `set` list cannot hold, as server-side apply keeps sets of scalars
    /// only. A type from another crate is not known to be either.
    pub fn is_object_or_list(&self, ty: &FieldType) -> bool {
        match ty {
            FieldType::Vec(_) | FieldType::Map { .. } | FieldType::Set { .. } => true,
            FieldType::Option(inner) | FieldType::Box(inner) => self.is_object_or_list(inner),
            FieldType::Known(k) => matches!(k, KnownType::ObjectMeta | KnownType::ListMeta),
            FieldType::Local(name) => self.type_named(name).is_some_and(|t| match &t.body {
                TypeBody::Struct(fields) => match (t.serde.transparent, fields.as_slice()) {
                    (true, [field]) => self.is_object_or_list(&field.ty),
                    (transparent, _) => !transparent,
                },
                // A newtype is written as what it holds; a wider tuple as an array.
                TypeBody::Tuple(items) => match items.as_slice() {
                    [item] => self.is_object_or_list(item),
                    _ => true,
                },
                TypeBody::Unit => false,
                // A string enum is written as a string; any other as an object (or, untagged,
                // as whatever its variants are).
                TypeBody::Enum(variants) => {
                    !t.serde.untagged
                        && (t.serde.tag.is_some()
                            || variants
                                .iter()
                                .any(|v| !matches!(v.shape, VariantShape::Unit)))
                }
            }),
            FieldType::Bool
            | FieldType::Int(_)
            | FieldType::Float(_)
            | FieldType::String
            | FieldType::Foreign { .. }
            | FieldType::Shared { .. } => false,
        }
    }

    pub fn roots(&self) -> impl Iterator<Item = (&TypeDef, &Resource)> {
        self.types
            .iter()
            .filter_map(|t| t.resource.as_ref().map(|r| (t, r)))
    }
}

/// A hand-written `impl Trait for Type`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraitImpl {
    /// The trait's path, its first segment expanded through the file's `use`s.
    pub path: crate::path::RustPath,
    /// From `impl` to the type's name.
    pub span: Span,
}

/// Whether `t` implements by hand the trait `expected` (a full path, `serde::Serialize`):
/// written by that path, or by its last segment alone when no import says where it is from
/// (a glob import); the impl when it does.
pub fn hand_written_impl<'t>(t: &'t TypeDef, expected: &[&str]) -> Option<&'t TraitImpl> {
    t.trait_impls.iter().find(|i| {
        let segments = &i.path.segments;
        segments.last().map(String::as_str) == expected.last().copied()
            && (segments.len() == 1
                || segments
                    .iter()
                    .map(String::as_str)
                    .eq(expected.iter().copied()))
    })
}

/// A struct or enum declared in an API package.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    pub name: String,
    /// Module path of the declaring file relative to the package (`["types"]`; empty for `mod.rs`).
    pub module: Vec<String>,
    pub is_pub: bool,
    /// How far the type is visible, as written (`pub`, `pub(crate)`, ...).
    pub visibility: TypeVisibility,
    pub has_generics: bool,
    pub docs: Vec<String>,
    pub span: Span,
    pub body: TypeBody,
    /// What the type's tags say, interpreted.
    pub options: TypeOptions,
    /// Traits derived with `#[derive(...)]`, by last path segment (`Clone`, `Serialize`, ...).
    pub derives: BTreeSet<String>,
    /// Traits implemented by hand in the package (`impl Clone for X`), by last path segment.
    pub impls: BTreeSet<String>,
    /// The same impls with the trait's path as the file's imports make it (`serde::Serialize`
    /// for `impl Serialize for X` under `use serde::Serialize;`), for those generated code would
    /// implement again.
    pub trait_impls: Vec<TraitImpl>,
    /// Set when this type is a root (a Kubernetes kind).
    pub resource: Option<Resource>,
    /// The type's own `#[serde(...)]` (roots have none: their serde is generated).
    pub serde: SerdeContainer,
    /// Its fields without `pub` (named, or a tuple struct's by index): generated code outside
    /// the declaring module cannot name them ([`TypeDef::unreachable_members`]).
    pub private_members: Vec<PrivateMember>,
    /// Where other crates (a clientset) name the type, relative to the package module:
    /// `Some([])` when the package module re-exports it (`pub use types::*;`), `Some(module)`
    /// when it and every module down to it are `pub`, `None` when only its own crate can.
    pub public_module: Option<Vec<String>>,
}

/// A type's visibility as written: `pub`, `pub(crate)` (or `pub(in path)`), `pub(super)`, or
/// none (`pub(self)` too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeVisibility {
    Public,
    Crate,
    Super,
    Private,
}

/// A field of a type without `pub`: its name, or its index in a tuple struct.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateMember {
    pub name: String,
    pub span: Span,
}

/// The type tags, typed (kind-only tags live in [`Resource`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeOptions {
    /// Deep-copy checks apply (`+k8s:deepcopy-gen` on the type, else the package's).
    pub deepcopy: bool,
    /// Has an OpenAPI definition (`+k8s:openapi-gen`).
    pub openapi: bool,
    /// `+k8s:defaulter-gen` on the type.
    pub defaulter: Option<Spanned<DefaulterMode>>,
    /// `+k8s:conversion-gen=false` on the type.
    pub conversion: Option<Spanned<ConversionTag>>,
    /// `+enum`: a string enum whose values OpenAPI lists.
    pub is_enum: bool,
    /// `+structType`.
    pub struct_type: Option<MapType>,
    /// Has a protobuf message when its package has (`+k8s:protobuf-gen=false` leaves it out).
    pub protobuf: bool,
}

impl Default for TypeOptions {
    fn default() -> Self {
        TypeOptions {
            deepcopy: true,
            openapi: true,
            defaulter: None,
            conversion: None,
            is_enum: false,
            struct_type: None,
            protobuf: true,
        }
    }
}

/// The field tags, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldOptions {
    /// `+optional` / `+required`.
    pub presence: Option<Presence>,
    /// `+default=`: parsed JSON, checked against the field's type.
    pub default: Option<Spanned<serde_json::Value>>,
    /// `+listType`.
    pub list_type: Option<ListType>,
    /// `+listMapKey`: wire names of fields of the element type.
    pub list_map_keys: Vec<String>,
    /// `+mapType`.
    pub map_type: Option<MapType>,
    /// `+structType` on the field.
    pub struct_type: Option<MapType>,
    /// `+patchStrategy`.
    pub patch_strategy: Vec<PatchStrategy>,
    /// `+patchMergeKey`: a wire name of a field of the element type.
    pub patch_merge_key: Option<String>,
    /// In the OpenAPI schema (`+k8s:openapi-gen=false` leaves it out).
    pub openapi: bool,
    /// Converted by generated conversions (`+k8s:conversion-gen=false` leaves it to a hand-written one).
    pub convert: bool,
    /// `+protobuf=N`: the field's protobuf number, fixed by hand.
    pub protobuf_number: Option<Spanned<u32>>,
}

impl FieldOptions {
    /// An untagged field's options.
    const UNTAGGED: FieldOptions = FieldOptions {
        presence: None,
        default: None,
        list_type: None,
        list_map_keys: Vec::new(),
        map_type: None,
        struct_type: None,
        patch_strategy: Vec::new(),
        patch_merge_key: None,
        openapi: true,
        convert: true,
        protobuf_number: None,
    };
}

impl Default for FieldOptions {
    fn default() -> Self {
        FieldOptions::UNTAGGED
    }
}

impl SparseDefault for FieldOptions {
    fn default_ref() -> &'static Self {
        static UNTAGGED: FieldOptions = FieldOptions::UNTAGGED;
        &UNTAGGED
    }
}

/// A value that is nearly always its default, kept out of line: the default is no allocation
/// and reads as a shared static. Most fields of an API surface carry no tags and no serde
/// attributes; inline, their options and serde attributes made up 300 of a field's 488 bytes,
/// memory a large surface's run had to fault in and zero.
///
/// Reads go through [`Deref`](std::ops::Deref); a write ([`DerefMut`](std::ops::DerefMut))
/// makes the value its own.
#[derive(Clone)]
pub struct Sparse<T: SparseDefault>(Option<Box<T>>);

/// The default a [`Sparse`] stands for when it holds nothing.
pub trait SparseDefault: Clone + PartialEq + 'static {
    fn default_ref() -> &'static Self;
}

impl<T: SparseDefault> Sparse<T> {
    /// Holds `value`, allocating only when it is not the default.
    pub fn new(value: T) -> Self {
        if value == *T::default_ref() {
            Sparse(None)
        } else {
            Sparse(Some(Box::new(value)))
        }
    }
}

impl<T: SparseDefault> Default for Sparse<T> {
    fn default() -> Self {
        Sparse(None)
    }
}

impl<T: SparseDefault> From<T> for Sparse<T> {
    fn from(value: T) -> Self {
        Sparse::new(value)
    }
}

impl<T: SparseDefault> std::ops::Deref for Sparse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            Some(value) => value,
            None => T::default_ref(),
        }
    }
}

impl<T: SparseDefault> std::ops::DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0
            .get_or_insert_with(|| Box::new(T::default_ref().clone()))
    }
}

impl<T: SparseDefault> PartialEq for Sparse<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: SparseDefault + std::fmt::Debug> std::fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Optional,
    Required,
}

/// `x-kubernetes-list-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    Atomic,
    Set,
    Map,
}

impl ListType {
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Atomic => "atomic",
            ListType::Set => "set",
            ListType::Map => "map",
        }
    }
}

/// `x-kubernetes-map-type` (of maps and of structs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    Atomic,
    Granular,
}

impl MapType {
    pub fn as_str(self) -> &'static str {
        match self {
            MapType::Atomic => "atomic",
            MapType::Granular => "granular",
        }
    }
}

/// One strategic-merge-patch strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PatchStrategy {
    Merge,
    RetainKeys,
    Replace,
}

impl PatchStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchStrategy::Merge => "merge",
            PatchStrategy::RetainKeys => "retainKeys",
            PatchStrategy::Replace => "replace",
        }
    }

    /// `merge,retainKeys`, as Kubernetes writes `x-kubernetes-patch-strategy`.
    pub fn join(strategies: &[PatchStrategy]) -> String {
        strategies
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Container attributes of `#[serde(...)]` that change the wire format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SerdeContainer {
    pub rename_all: Option<String>,
    /// Internally tagged enum: `#[serde(tag = "type")]`.
    pub tag: Option<String>,
    /// Adjacently tagged enum: `#[serde(tag = "t", content = "c")]`.
    pub content: Option<String>,
    pub untagged: bool,
    pub transparent: bool,
    pub deny_unknown_fields: bool,
    pub default: bool,
    /// `#[serde(into = "String")]` (with `from`/`try_from` of the same type, or alone): the
    /// scalar the value is written as, when it is one (`String`, an integer, `bool`, a float).
    pub into_scalar: Option<FieldType>,
    /// Every key the type's `#[serde(...)]` attributes give (`rename_all`, `tag`, ...).
    pub keys: Vec<String>,
    /// An enum's `rename_all_fields`: how the fields of its struct-like variants are renamed.
    pub rename_all_fields: Option<String>,
}

/// Field (or variant) attributes of `#[serde(...)]` that change the wire format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SerdeField {
    pub rename: Option<String>,
    /// `skip`, or both `skip_serializing` and `skip_deserializing`: not on the wire at all.
    pub skip: bool,
    pub default: bool,
    pub flatten: bool,
    pub skip_serializing_if: Option<String>,
    /// `#[serde(other)]` on a unit variant: it stands for every value no other variant names.
    pub other: bool,
    /// `#[serde(alias = "…")]`: other names serde reads it by (a variant's are listed in its
    /// enum's schema beside its name).
    pub aliases: Vec<String>,
    /// Every key the field's `#[serde(...)]` attributes give (`rename`, `with`, ...).
    pub keys: Vec<String>,
    /// On a struct-like variant: how its fields are renamed (`#[serde(rename_all = "…")]`).
    pub rename_all: Option<String>,
}

impl SparseDefault for SerdeField {
    fn default_ref() -> &'static Self {
        static PLAIN: SerdeField = SerdeField {
            rename: None,
            skip: false,
            default: false,
            flatten: false,
            skip_serializing_if: None,
            other: false,
            aliases: Vec::new(),
            keys: Vec::new(),
            rename_all: None,
        };
        &PLAIN
    }
}

impl TypeDef {
    pub fn implements(&self, trait_name: &str) -> bool {
        self.derives.contains(trait_name) || self.impls.contains(trait_name)
    }

    /// The fields generated code cannot read or write: private fields of a type declared in
    /// another file (or an inline module) than the package's own module, where generated code
    /// lives.
    pub fn unreachable_members(&self) -> &[PrivateMember] {
        if self.module.is_empty() {
            &[]
        } else {
            &self.private_members
        }
    }

    /// Whether code in the package's own module (where generated code lives) can name the type:
    /// a type without `pub` declared in another file (or an inline module) cannot.
    pub fn nameable_in_package(&self) -> bool {
        match self.visibility {
            TypeVisibility::Public | TypeVisibility::Crate => true,
            TypeVisibility::Super => self.module.len() <= 1,
            TypeVisibility::Private => self.module.is_empty(),
        }
    }

    /// E0112 when generated code must name this type but cannot (see
    /// [`TypeDef::nameable_in_package`]). Worded alike for every generator, so that a type is
    /// reported once.
    pub fn unnameable_error(&self) -> Option<crate::diag::Diagnostic> {
        if self.nameable_in_package() {
            return None;
        }
        let module = self.module.join("::");
        Some(
            crate::diag::Diagnostic::error(
                "E0112",
                format!(
                    "generated code cannot name `{}`: it is private to `{module}`",
                    self.name
                ),
            )
            .at(self.span, format!("private to `{module}`"))
            .note("generated code lives in the package's module and names the type as `self::<module>::<type>`")
            .help(format!(
                "make it `pub` (or `pub(crate)`), or declare `{}` in the package's own module",
                self.name
            )),
        )
    }

    /// E0114 for each field of this type `generator` reads or writes but cannot reach.
    pub fn unreachable_member_errors(&self, generator: &str) -> Vec<crate::diag::Diagnostic> {
        self.unreachable_members()
            .iter()
            .map(|m| {
                let field = if m.name.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("field {} of `{}`", m.name, self.name)
                } else {
                    format!("`{}.{}`", self.name, m.name)
                };
                let public = if m.name.starts_with(|c: char| c.is_ascii_digit()) {
                    "`pub` on the field (`pub struct X(pub T)`)".to_string()
                } else {
                    format!("`pub {}`", m.name)
                };
                crate::diag::Diagnostic::error(
                    "E0114",
                    format!("{generator}'s code cannot reach {field}"),
                )
                .at(
                    m.span,
                    format!(
                        "private to `{}`, which declares `{}`",
                        self.module.join("::"),
                        self.name
                    ),
                )
                .note(format!(
                    "{generator} writes code in the package's module that reads and writes the field itself"
                ))
                .help(format!(
                    "make it {public} (or `pub(super)`), or declare `{}` in the package's own module; if `{}` is not an API type (no kind holds it: an error type, a helper), {}",
                    self.name,
                    self.name,
                    match generator {
                        "deepcopy-gen" | "conversion-gen" => format!(
                            "tag it `/// +k8s:{generator}=false` or move it out of the API package"
                        ),
                        _ => "move it out of the API package".to_string(),
                    }
                ))
            })
            .collect()
    }

    /// The named fields of a struct (empty for enums, tuple and unit structs).
    pub fn fields(&self) -> &[Field] {
        match &self.body {
            TypeBody::Struct(f) => f,
            TypeBody::Enum(_) | TypeBody::Tuple(_) | TypeBody::Unit => &[],
        }
    }

    /// Every field type of every shape, mutably (for resolution).
    pub(crate) fn field_types_mut(&mut self) -> Vec<&mut FieldType> {
        match &mut self.body {
            TypeBody::Struct(f) => f.iter_mut().map(|f| &mut f.ty).collect(),
            TypeBody::Tuple(ts) => ts.iter_mut().collect(),
            TypeBody::Unit => Vec::new(),
            TypeBody::Enum(vs) => vs
                .iter_mut()
                .flat_map(|v| match &mut v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Tuple(ts) => ts.iter_mut().collect(),
                    VariantShape::Struct(fs) => fs.iter_mut().map(|f| &mut f.ty).collect(),
                })
                .collect(),
        }
    }

    /// The type of every field of every shape: struct fields, tuple fields, variant fields.
    pub fn field_types(&self) -> Vec<&FieldType> {
        match &self.body {
            TypeBody::Struct(f) => f.iter().map(|f| &f.ty).collect(),
            TypeBody::Tuple(ts) => ts.iter().collect(),
            TypeBody::Unit => Vec::new(),
            TypeBody::Enum(vs) => vs
                .iter()
                .flat_map(|v| match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Tuple(ts) => ts.iter().collect(),
                    VariantShape::Struct(fs) => fs.iter().map(|f| &f.ty).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeBody {
    /// Named-field struct.
    Struct(Vec<Field>),
    Enum(Vec<Variant>),
    /// Tuple struct: `struct Port(pub i32);`.
    Tuple(Vec<FieldType>),
    /// Unit struct: `struct Marker;`.
    Unit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    /// The variant's name on the wire (after `rename`/`rename_all`).
    pub wire: String,
    pub serde: SerdeField,
    pub docs: Vec<String>,
    pub span: Span,
    pub shape: VariantShape,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VariantShape {
    Unit,
    Tuple(Vec<FieldType>),
    Struct(Vec<Field>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The Rust field name without `r#`.
    pub name: String,
    /// True when written as a raw identifier (`r#type`).
    pub raw: bool,
    pub docs: Vec<String>,
    pub ty: FieldType,
    pub span: Span,
    /// Declared `pub` (or `pub(…)`): reachable from the package module, where generated code
    /// lives, even when the type is declared in a file of its own.
    pub is_pub: bool,
    /// The field's name on the wire: camelCase for a kind's own fields (their serde is
    /// generated), else what the type's serde attributes make of it.
    pub wire: String,
    pub serde: Sparse<SerdeField>,
    /// What the field's tags say, interpreted.
    pub options: Sparse<FieldOptions>,
    /// Tags not yet interpreted: filled while lowering, emptied by validation.
    pub(crate) tags: Vec<crate::tags::Tag>,
}

impl Field {
    /// The name on the wire.
    pub fn wire_name(&self) -> String {
        self.wire.clone()
    }

    /// Whether serde reads its container without this field's key: a serde default on the
    /// field or (`container_default`) its type, or an `Option` that serde's own deserializer
    /// reads as `None` (a boxed one too: `Box` deserializes as what it holds). A custom one
    /// (`with`, `deserialize_with`) makes an absent key an error even for an `Option`, as
    /// serde_derive does (`missing_field`).
    pub fn may_be_absent(&self, container_default: bool) -> bool {
        self.serde.default
            || container_default
            || (matches!(self.ty.unboxed(), FieldType::Option(_))
                && !self
                    .serde
                    .keys
                    .iter()
                    .any(|k| k == "with" || k == "deserialize_with"))
    }
}

/// Which map type a field is: generated code that names the field's type names this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// `std::collections::BTreeMap`: sorted by key.
    BTree,
    /// `std::collections::HashMap`.
    Hash,
    /// `indexmap::IndexMap`: in insertion order.
    Index,
}

impl MapKind {
    /// Whether iterating the map has a stable order (sorted, or as inserted).
    pub fn ordered(self) -> bool {
        self != MapKind::Hash
    }
}

/// Field types, resolved to the small closed set the generators understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Int(IntType),
    Float(FloatType),
    String,
    Option(Box<FieldType>),
    Vec(Box<FieldType>),
    Box(Box<FieldType>),
    /// A map with string keys: `BTreeMap`, `HashMap` or `IndexMap`.
    Map {
        kind: MapKind,
        value: Box<FieldType>,
    },
    Known(KnownType),
    /// `BTreeSet<T>` (`ordered`) or `HashSet<T>`: a JSON array of unique items.
    Set {
        ordered: bool,
        elem: Box<FieldType>,
    },
    /// A type declared in the same package.
    Local(String),
    /// Any other type (`k8s_openapi::api::core::v1::PodSpec`), its path resolved through the
    /// file's `use`s and rebased to the package module; generic arguments are resolved too.
    Foreign {
        path: crate::path::RustPath,
        args: Vec<FieldType>,
    },
    /// `Rc`, `Arc`, `RefCell`, `Cell`, `Mutex`, `RwLock`, `Weak`: shares state between copies.
    Shared {
        wrapper: SharedWrapper,
        inner: Box<FieldType>,
    },
}

/// Rust's integer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    I8,
    I16,
    I32,
    I64,
    Isize,
    U8,
    U16,
    U32,
    U64,
    Usize,
}

impl IntType {
    pub const ALL: [IntType; 10] = [
        IntType::I8,
        IntType::I16,
        IntType::I32,
        IntType::I64,
        IntType::Isize,
        IntType::U8,
        IntType::U16,
        IntType::U32,
        IntType::U64,
        IntType::Usize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IntType::I8 => "i8",
            IntType::I16 => "i16",
            IntType::I32 => "i32",
            IntType::I64 => "i64",
            IntType::Isize => "isize",
            IntType::U8 => "u8",
            IntType::U16 => "u16",
            IntType::U32 => "u32",
            IntType::U64 => "u64",
            IntType::Usize => "usize",
        }
    }

    pub fn from_name(name: &str) -> Option<IntType> {
        IntType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// OpenAPI's `int64` rather than `int32`: values may not fit in 32 signed bits.
    pub fn is_wide(self) -> bool {
        matches!(
            self,
            IntType::I64 | IntType::Isize | IntType::U32 | IntType::U64 | IntType::Usize
        )
    }

    /// The bounds of the type that its OpenAPI format (`int32`, `int64`) does not say: an
    /// `i8`'s, a `u16`'s, and an unsigned type's minimum of 0 (schemars publishes them too).
    pub fn schema_bounds(self) -> (Option<i64>, Option<i64>) {
        match self {
            IntType::I8 => (Some(i8::MIN.into()), Some(i8::MAX.into())),
            IntType::I16 => (Some(i16::MIN.into()), Some(i16::MAX.into())),
            IntType::U8 => (Some(0), Some(u8::MAX.into())),
            IntType::U16 => (Some(0), Some(u16::MAX.into())),
            IntType::U32 => (Some(0), Some(u32::MAX.into())),
            IntType::U64 | IntType::Usize => (Some(0), None),
            IntType::I32 | IntType::I64 | IntType::Isize => (None, None),
        }
    }

    /// Whether every value of `n` fits.
    pub fn holds(self, n: &serde_json::Number) -> bool {
        let (lo, hi): (i128, i128) = match self {
            IntType::I8 => (i8::MIN.into(), i8::MAX.into()),
            IntType::I16 => (i16::MIN.into(), i16::MAX.into()),
            IntType::I32 => (i32::MIN.into(), i32::MAX.into()),
            IntType::I64 | IntType::Isize => (i64::MIN.into(), i64::MAX.into()),
            IntType::U8 => (0, u8::MAX.into()),
            IntType::U16 => (0, u16::MAX.into()),
            IntType::U32 => (0, u32::MAX.into()),
            IntType::U64 | IntType::Usize => (0, u64::MAX.into()),
        };
        let v: Option<i128> = n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from));
        v.is_some_and(|v| (lo..=hi).contains(&v))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatType {
    F32,
    F64,
}

impl FloatType {
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F32 => "f32",
            FloatType::F64 => "f64",
        }
    }
}

/// Wrappers whose copies share state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedWrapper {
    Rc,
    Weak,
    Arc,
    Mutex,
    RwLock,
    Cell,
    RefCell,
}

impl SharedWrapper {
    pub fn from_name(name: &str) -> Option<SharedWrapper> {
        Some(match name {
            "Rc" => SharedWrapper::Rc,
            "Weak" => SharedWrapper::Weak,
            "Arc" => SharedWrapper::Arc,
            "Mutex" => SharedWrapper::Mutex,
            "RwLock" => SharedWrapper::RwLock,
            "Cell" => SharedWrapper::Cell,
            "RefCell" => SharedWrapper::RefCell,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SharedWrapper::Rc => "Rc",
            SharedWrapper::Weak => "Weak",
            SharedWrapper::Arc => "Arc",
            SharedWrapper::Mutex => "Mutex",
            SharedWrapper::RwLock => "RwLock",
            SharedWrapper::Cell => "Cell",
            SharedWrapper::RefCell => "RefCell",
        }
    }

    /// The standard-library path.
    pub fn path(self) -> crate::path::RustPath {
        let module = match self {
            SharedWrapper::Rc | SharedWrapper::Weak => "rc",
            SharedWrapper::Arc | SharedWrapper::Mutex | SharedWrapper::RwLock => "sync",
            SharedWrapper::Cell | SharedWrapper::RefCell => "cell",
        };
        crate::path::RustPath::from_segments(true, ["std", module, self.name()])
    }
}

/// Well-known Kubernetes types with a fixed wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KnownType {
    ObjectMeta,
    ListMeta,
    Time,
    MicroTime,
    Duration,
    Quantity,
    IntOrString,
    /// `serde_json::Value`: arbitrary JSON.
    Json,
    /// `k8s_openapi::ByteString`: base64 on the wire.
    Bytes,
}

impl KnownType {
    pub const ALL: [(&'static str, KnownType); 9] = [
        ("ObjectMeta", KnownType::ObjectMeta),
        ("ListMeta", KnownType::ListMeta),
        ("Time", KnownType::Time),
        ("MicroTime", KnownType::MicroTime),
        ("Duration", KnownType::Duration),
        ("Quantity", KnownType::Quantity),
        ("IntOrString", KnownType::IntOrString),
        ("Value", KnownType::Json),
        ("ByteString", KnownType::Bytes),
    ];

    /// The canonical path generated code uses, with `k8s_openapi` (or `kube`) standing for the
    /// crate override of [`crate::output::Crates`].
    pub fn path(self) -> &'static str {
        match self {
            KnownType::ObjectMeta => "k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta",
            KnownType::ListMeta => "k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta",
            KnownType::Time => "k8s_openapi::apimachinery::pkg::apis::meta::v1::Time",
            KnownType::MicroTime => "k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime",
            // metav1.Duration: k8s-openapi has none (its fields are `String`s); kube's is the Go
            // duration string on the wire.
            KnownType::Duration => "kube::core::Duration",
            KnownType::Quantity => "k8s_openapi::apimachinery::pkg::api::resource::Quantity",
            KnownType::IntOrString => "k8s_openapi::apimachinery::pkg::util::intstr::IntOrString",
            KnownType::Json => "serde_json::Value",
            KnownType::Bytes => "k8s_openapi::ByteString",
        }
    }
}

impl FieldType {
    /// Calls `f` on this type and every type nested in it.
    pub fn walk(&self, f: &mut impl FnMut(&FieldType)) {
        f(self);
        match self {
            FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => t.walk(f),
            FieldType::Map { value, .. } => value.walk(f),
            FieldType::Set { elem, .. } => elem.walk(f),
            FieldType::Shared { inner, .. } => inner.walk(f),
            FieldType::Foreign { args, .. } => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }

    /// Calls `f` on this type and every type nested in it, mutably.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut FieldType)) {
        f(self);
        match self {
            FieldType::Option(t) | FieldType::Vec(t) | FieldType::Box(t) => t.walk_mut(f),
            FieldType::Map { value, .. } => value.walk_mut(f),
            FieldType::Set { elem, .. } => elem.walk_mut(f),
            FieldType::Shared { inner, .. } => inner.walk_mut(f),
            FieldType::Foreign { args, .. } => args.iter_mut().for_each(|a| a.walk_mut(f)),
            _ => {}
        }
    }

    /// The type without `Box`es around it.
    pub fn unboxed(&self) -> &FieldType {
        match self {
            FieldType::Box(t) => t.unboxed(),
            other => other,
        }
    }

    /// The type without `Option` and `Box` around it.
    pub fn unwrapped(&self) -> &FieldType {
        match self {
            FieldType::Option(t) | FieldType::Box(t) => t.unwrapped(),
            other => other,
        }
    }

    /// A foreign type by path, without generic arguments (tests and synthetic models).
    pub fn foreign(path: &str) -> FieldType {
        FieldType::Foreign {
            path: crate::path::RustPath::parse(path).expect("a valid path"),
            args: Vec::new(),
        }
    }

    /// Whether `Default::default()` is a sensible "absent" value without knowing local types.
    pub fn is_collection(&self) -> bool {
        matches!(
            self,
            FieldType::Vec(_) | FieldType::Map { .. } | FieldType::Set { .. }
        )
    }
}

/// What makes a root type a Kubernetes kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub kind: String,
    /// Lower-case plural (`alerts`), the URL path segment.
    pub plural: String,
    pub plural_origin: Origin,
    pub singular: String,
    pub namespaced: bool,
    pub scope_origin: Origin,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub printer_columns: Vec<PrinterColumn>,
    /// Present when the type has `+genclient`.
    pub client: Option<ClientSpec>,
    /// True when the root has a `status` field.
    pub has_status: bool,
    /// `+scale`: the kind is served with a `scale` subresource.
    pub scale: Option<ScaleSubresource>,
}

/// A `+scale`: where a kind keeps its replica counts, each path the JSON field names from the
/// object's root (`.spec.replicas` is `["spec", "replicas"]`), checked against its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleSubresource {
    pub spec_replicas_path: Vec<String>,
    pub status_replicas_path: Vec<String>,
    pub label_selector_path: Option<Vec<String>>,
}

/// A `+printcolumn`: an extra column of `kubectl get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: ColumnType,
    /// A JSONPath into the object (`.status.sent`).
    pub json_path: String,
    pub description: Option<String>,
    pub format: Option<String>,
    pub priority: i32,
}

/// The type of a printer column, as `kubectl` and CRDs know them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Number,
    String,
    Boolean,
    Date,
}

impl ColumnType {
    pub const ALL: [ColumnType; 5] = [
        ColumnType::Integer,
        ColumnType::Number,
        ColumnType::String,
        ColumnType::Boolean,
        ColumnType::Date,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::String => "string",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
        }
    }
}

/// The verbs of a typed client, in client-go's `SupportedVerbs` order (the enum's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Create,
    Update,
    UpdateStatus,
    Delete,
    DeleteCollection,
    Get,
    List,
    Watch,
    Patch,
    Apply,
    ApplyStatus,
}

impl Verb {
    pub const ALL: [Verb; 11] = [
        Verb::Create,
        Verb::Update,
        Verb::UpdateStatus,
        Verb::Delete,
        Verb::DeleteCollection,
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Patch,
        Verb::Apply,
        Verb::ApplyStatus,
    ];

    /// The name in tags (`updateStatus`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::UpdateStatus => "updateStatus",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deleteCollection",
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Patch => "patch",
            Verb::Apply => "apply",
            Verb::ApplyStatus => "applyStatus",
        }
    }

    pub fn from_name(name: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// Whether the verb sends an object (`input=` makes sense).
    pub fn takes_input(self) -> bool {
        matches!(self, Verb::Create | Verb::Update | Verb::Apply)
    }
}

/// The verbs a generated client offers, from the `+genclient:*` tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    /// Ordered as client-go's `SupportedVerbs`.
    pub verbs: std::collections::BTreeSet<Verb>,
    pub methods: Vec<CustomMethod>,
}

impl ClientSpec {
    pub fn has(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }
}

/// A `+genclient:method=` extension verb.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomMethod {
    /// As written (`GetScale`); a valid identifier.
    pub name: String,
    pub verb: Verb,
    pub subresource: Option<String>,
    /// What the method sends (`create`/`update`/`apply` only); the kind itself when `None`.
    pub input: Option<FieldType>,
    /// What the method returns; the kind itself when `None`.
    pub result: Option<FieldType>,
    pub span: Span,
}

#[cfg(test)]
mod sparse_tests {
    use super::*;

    #[test]
    fn the_default_is_held_without_an_allocation() {
        let untagged = Sparse::new(FieldOptions::default());
        assert!(untagged.0.is_none());
        assert!(untagged.openapi && untagged.convert && untagged.default.is_none());
        assert_eq!(untagged, Sparse::default());
    }

    // The writes go through `DerefMut` (what is tested), not to fields of `Sparse` itself.
    #[allow(clippy::field_reassign_with_default)]
    #[test]
    fn a_write_makes_the_value_its_own_and_leaves_the_default_alone() {
        let mut options = Sparse::<FieldOptions>::default();
        options.openapi = false;
        options.list_map_keys.push("name".into());
        assert!(options.0.is_some());
        assert!(!options.openapi);
        assert_eq!(options.list_map_keys, ["name"]);
        assert_ne!(options, Sparse::default());
        // The shared default is untouched.
        assert!(FieldOptions::default_ref().openapi);
        assert!(Sparse::<FieldOptions>::default().list_map_keys.is_empty());
        // A value equal to the default compares equal however it is held.
        let mut serde = Sparse::<SerdeField>::default();
        serde.default = false;
        assert!(serde.0.is_some());
        assert_eq!(serde, Sparse::new(SerdeField::default()));
        assert_eq!(format!("{serde:?}"), format!("{:?}", SerdeField::default()));
    }
}
