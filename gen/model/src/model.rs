//! The plain model every generator reads. No `syn` in here: generators never see syntax trees.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::diag::Span;

/// Everything read from the input directories, after validation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub packages: Vec<Package>,
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
    pub tags: Tags,
    pub types: Vec<TypeDef>,
}

impl Package {
    pub fn is_internal(&self) -> bool {
        self.version.is_none()
    }

    /// `group/version`, or `group (internal)` for a hub.
    pub fn display_name(&self) -> String {
        match &self.version {
            Some(v) => format!("{}/{}", self.group, v),
            None => format!("{} (internal)", self.group),
        }
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
            FieldType::Foreign(_) | FieldType::Shared { .. } => false,
        }
    }

    pub fn roots(&self) -> impl Iterator<Item = (&TypeDef, &Resource)> {
        self.types
            .iter()
            .filter_map(|t| t.resource.as_ref().map(|r| (t, r)))
    }
}

/// A struct or enum declared in an API package.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    pub name: String,
    /// Module path of the declaring file relative to the package (`["types"]`; empty for `mod.rs`).
    pub module: Vec<String>,
    pub is_pub: bool,
    pub has_generics: bool,
    pub docs: Vec<String>,
    pub tags: Tags,
    pub span: Span,
    pub body: TypeBody,
    /// Traits derived with `#[derive(...)]`, by last path segment (`Clone`, `Serialize`, ...).
    pub derives: BTreeSet<String>,
    /// Traits implemented by hand in the package (`impl Clone for X`), by last path segment.
    pub impls: BTreeSet<String>,
    /// Set when this type is a root (a Kubernetes kind).
    pub resource: Option<Resource>,
    /// The type's own `#[serde(...)]` (roots have none: their serde is generated).
    pub serde: SerdeContainer,
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
}

impl TypeDef {
    pub fn implements(&self, trait_name: &str) -> bool {
        self.derives.contains(trait_name) || self.impls.contains(trait_name)
    }

    /// The named fields of a struct (empty for enums, tuple and unit structs).
    pub fn fields(&self) -> &[Field] {
        match &self.body {
            TypeBody::Struct(f) => f,
            TypeBody::Enum(_) | TypeBody::Tuple(_) | TypeBody::Unit => &[],
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
    pub tags: Tags,
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
    pub tags: Tags,
    pub ty: FieldType,
    pub span: Span,
    /// The field's name on the wire: camelCase for a kind's own fields (their serde is
    /// generated), else what the type's serde attributes make of it.
    pub wire: String,
    pub serde: SerdeField,
}

impl Field {
    /// The name on the wire.
    pub fn wire_name(&self) -> String {
        self.wire.clone()
    }
}

/// Field types, resolved to the small closed set the generators understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    /// `i8`..`i64`, `u8`..`u64`, `isize`, `usize`
    Int(String),
    /// `f32`, `f64`
    Float(String),
    String,
    Option(Box<FieldType>),
    Vec(Box<FieldType>),
    Box(Box<FieldType>),
    /// A map with string keys; `ordered` is true for `BTreeMap`.
    Map {
        ordered: bool,
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
    /// Any other path (`k8s_openapi::api::core::v1::PodSpec`), as written.
    Foreign(String),
    /// `Rc`, `Arc`, `RefCell`, `Cell`, `Mutex`, `RwLock`: shares state between copies.
    Shared {
        wrapper: String,
        inner: Box<FieldType>,
    },
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

    /// The canonical path generated code uses.
    pub fn path(self) -> &'static str {
        match self {
            KnownType::ObjectMeta => "k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta",
            KnownType::ListMeta => "k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta",
            KnownType::Time => "k8s_openapi::apimachinery::pkg::apis::meta::v1::Time",
            KnownType::MicroTime => "k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime",
            KnownType::Duration => "k8s_openapi::apimachinery::pkg::apis::meta::v1::Duration",
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
            _ => {}
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    pub type_: String,
    pub json_path: String,
    pub description: Option<String>,
    pub format: Option<String>,
    pub priority: i32,
}

/// The verbs a generated client offers, from the `+genclient:*` tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpec {
    /// In client-go's `SupportedVerbs` order.
    pub verbs: Vec<String>,
    pub methods: Vec<CustomMethod>,
}

/// A `+genclient:method=` extension verb.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomMethod {
    pub name: String,
    pub verb: String,
    pub subresource: Option<String>,
    pub input: Option<String>,
    pub result: Option<String>,
}

/// Tags found on one item (package, type, field or variant).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags(pub Vec<Tag>);

/// `+name[=value]` as read from a doc comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The full name, sub-tags included (`genclient:nonNamespaced`).
    pub name: String,
    pub value: Option<String>,
    pub span: Span,
}

impl Tags {
    pub fn get(&self, name: &str) -> Option<&Tag> {
        self.0.iter().find(|t| t.name == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|t| t.value.as_deref())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Tag> + 'a {
        self.0.iter().filter(move |t| t.name == name)
    }
}
