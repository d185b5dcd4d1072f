//! What kube-codegen's register-gen output stands on: static facts about each kind
//! ([`KindInfo`]), a registry of kinds by group/version/kind and by resource ([`Scheme`]), and the
//! codec check generated `Deserialize` impls call.

use std::collections::BTreeMap;

mod codec;
mod convert;
mod defaults;
mod kind_codec;
mod object;

pub use codec::{CodecError, HubObject};
pub use kind_codec::{ApiVersionOf, KindOf, default_from_empty};
pub use object::Object;

pub use convert::{ConversionError, ConvertHub, convert};
pub use defaults::{SetDefaults, default_from_json};

#[doc(hidden)]
pub mod __private {
    pub use k8s_openapi;
    pub use serde;

    /// Whether `v` is its type's default (`false`, `0`): what `kind_codec!`'s `zero` omits.
    pub fn is_default<T: Default + PartialEq>(v: &T) -> bool {
        *v == T::default()
    }
}

/// An extra column for `kubectl get` tables (`+printcolumn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: &'static str,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    pub type_: &'static str,
    pub json_path: &'static str,
    pub description: &'static str,
    pub format: &'static str,
    pub priority: i32,
}

impl PrinterColumn {
    /// No name, path or type: what [`impl_kind!`] starts a column from.
    #[doc(hidden)]
    pub const EMPTY: PrinterColumn = PrinterColumn {
        name: "",
        type_: "",
        json_path: "",
        description: "",
        format: "",
        priority: 0,
    };
}

/// Static facts about a kind, generated from its `types.rs` and tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub list_kind: &'static str,
    /// Lower-case plural: the URL path segment.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub printer_columns: &'static [PrinterColumn],
    /// The kind has a `status` field (served as the `status` subresource).
    pub has_status: bool,
    /// Where the kind keeps its replica counts, when it is served with a `scale` subresource
    /// (`+scale`).
    pub scale: Option<ScaleInfo>,
}

/// The `scale` subresource of a kind (`+scale`), as a CRD's `subresources.scale` declares it:
/// each path is the JSON field names from the object's root (`.spec.replicas` is
/// `["spec", "replicas"]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleInfo {
    /// The desired replicas (an integer under `spec`): `Scale.spec.replicas`.
    pub spec_replicas_path: &'static [&'static str],
    /// The observed replicas (an integer under `status`): `Scale.status.replicas`.
    pub status_replicas_path: &'static [&'static str],
    /// The pods' label selector, a string in `labelSelector` form or a `LabelSelector`:
    /// `Scale.status.selector`.
    pub label_selector_path: Option<&'static [&'static str]>,
}

impl ScaleInfo {
    /// No paths: what [`impl_kind!`] starts from.
    #[doc(hidden)]
    pub const EMPTY: ScaleInfo = ScaleInfo {
        spec_replicas_path: &[],
        status_replicas_path: &[],
        label_selector_path: None,
    };
}

impl ResourceInfo {
    /// Nothing named, no lists, no subresources: what [`impl_kind!`] starts from.
    #[doc(hidden)]
    pub const EMPTY: ResourceInfo = ResourceInfo {
        group: "",
        version: "",
        kind: "",
        list_kind: "",
        plural: "",
        singular: "",
        namespaced: false,
        short_names: &[],
        categories: &[],
        printer_columns: &[],
        has_status: false,
        scale: None,
    };

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Implemented by generated code for every kind.
pub trait Kind: k8s_openapi::Resource + Sized {
    const INFO: ResourceInfo;
    /// The kind's protobuf message (protobuf-gen), for servers and clients that speak
    /// `application/vnd.kubernetes.protobuf`; `None` when its package has none.
    const PROTOBUF: Option<Protobuf<Self>> = None;
}

/// A kind's protobuf message as two functions (the scheme itself knows no protobuf): the
/// message's bytes, without the `k8s\0` envelope.
pub struct Protobuf<K> {
    pub encode: fn(&K, &mut Vec<u8>),
    pub decode: fn(&[u8]) -> Result<K, String>,
}

impl<K> Clone for Protobuf<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Protobuf<K> {}

impl<K> std::fmt::Debug for Protobuf<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Protobuf")
    }
}

/// Group, version and kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }
}

/// A registry of kinds: what generated `add_to_scheme` functions fill.
#[derive(Clone, Debug, Default)]
pub struct Scheme {
    kinds: BTreeMap<Gvk, ResourceInfo>,
    /// Defaulting functions by kind (what generated `register_defaults` functions add).
    defaulters: BTreeMap<Gvk, fn(&mut dyn std::any::Any) -> bool>,
    /// How each served version of a kind is read into and written from its hub (what generated
    /// `register_conversions` functions add).
    codecs: BTreeMap<Gvk, codec::VersionCodec>,
}

impl Scheme {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a kind. Registering the same kind twice is harmless.
    pub fn add<K: Kind>(&mut self) -> &mut Self {
        self.add_info(K::INFO)
    }

    pub fn add_info(&mut self, info: ResourceInfo) -> &mut Self {
        self.kinds
            .insert(Gvk::new(info.group, info.version, info.kind), info);
        self
    }

    /// Registers the defaulting of a kind: its [`SetDefaults`] (generated by defaulter-gen).
    pub fn add_defaults<K: Kind + SetDefaults + 'static>(&mut self) -> &mut Self {
        fn apply<K: SetDefaults + 'static>(obj: &mut dyn std::any::Any) -> bool {
            match obj.downcast_mut::<K>() {
                Some(k) => {
                    k.set_defaults();
                    true
                }
                None => false,
            }
        }
        let info = K::INFO;
        self.defaulters
            .insert(Gvk::new(info.group, info.version, info.kind), apply::<K>);
        self
    }

    /// Applies the registered defaults of `gvk` to `obj`; false when none are registered or
    /// `obj` is not of the registered type.
    pub fn default_object(&self, gvk: &Gvk, obj: &mut dyn std::any::Any) -> bool {
        self.defaulters.get(gvk).is_some_and(|f| f(obj))
    }

    /// Registers a served version of a kind in the versioned codec: its JSON and its conversion
    /// to and from the hub (what generated `register_conversions` calls). Its defaults come from
    /// [`Scheme::add_defaults`] (`register_defaults`).
    pub fn add_version<V>(&mut self) -> &mut Self
    where
        V: Kind + ConvertHub + serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        V::Hub: Clone + Send + 'static,
    {
        let info = V::INFO;
        self.add_info(info);
        self.codecs.insert(
            Gvk::new(info.group, info.version, info.kind),
            codec::codec_of::<V>(),
        );
        self
    }

    /// Reads an object of `gvk` (JSON of that version) into its hub object: decoded, defaulted
    /// as that version (when its defaults are registered), converted.
    pub fn decode(&self, gvk: &Gvk, bytes: &[u8]) -> Result<HubObject, CodecError> {
        let c = self
            .codecs
            .get(gvk)
            .ok_or_else(|| CodecError::NotRegistered(gvk.clone()))?;
        let mut versioned = (c.read)(bytes)?;
        self.default_object(gvk, &mut *versioned);
        (c.to_hub)(versioned)
    }

    /// Reads an object of `gvk` into a hub object of type `H`.
    pub fn decode_as<H: 'static>(&self, gvk: &Gvk, bytes: &[u8]) -> Result<H, CodecError> {
        let any = self.decode(gvk, bytes)?;
        any.downcast::<H>()
            .map(|b| *b)
            .map_err(|_| CodecError::WrongType {
                gvk: gvk.clone(),
                expected: self.codecs.get(gvk).map_or("?", |c| c.hub),
            })
    }

    /// Writes a hub object as `gvk` (JSON of that version, `apiVersion` and `kind` included).
    pub fn encode(&self, gvk: &Gvk, hub: &dyn std::any::Any) -> Result<Vec<u8>, CodecError> {
        let c = self
            .codecs
            .get(gvk)
            .ok_or_else(|| CodecError::NotRegistered(gvk.clone()))?;
        (c.encode)(hub)
    }

    /// Writes a hub object as `gvk`, as a JSON value (what a server working on JSON values
    /// needs, without text in between).
    pub fn encode_value(
        &self,
        gvk: &Gvk,
        hub: &dyn std::any::Any,
    ) -> Result<serde_json::Value, CodecError> {
        let c = self
            .codecs
            .get(gvk)
            .ok_or_else(|| CodecError::NotRegistered(gvk.clone()))?;
        (c.encode_value)(hub)
    }

    /// The versions of `group`/`kind` registered in the codec, in version order.
    pub fn versions_of(&self, group: &str, kind: &str) -> Vec<&str> {
        self.codecs
            .keys()
            .filter(|g| g.group == group && g.kind == kind)
            .map(|g| g.version.as_str())
            .collect()
    }

    pub fn get(&self, gvk: &Gvk) -> Option<&ResourceInfo> {
        self.kinds.get(gvk)
    }

    /// Finds a kind by group, version and plural, singular or short name (what a URL or
    /// `kubectl get <name>` gives).
    pub fn resource(&self, group: &str, version: &str, name: &str) -> Option<&ResourceInfo> {
        self.kinds.values().find(|i| {
            i.group == group
                && i.version == version
                && (i.plural == name || i.singular == name || i.short_names.contains(&name))
        })
    }

    /// Every registered kind, ordered by group, version and kind.
    pub fn kinds(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.kinds.values()
    }
}

/// Checks the `apiVersion` and `kind` read from the wire against the kind being decoded.
/// Generated `Deserialize` impls call this and turn the message into a serde error.
///
/// Absent values pass: a Kubernetes list response leaves them off its items (the list's own
/// `apiVersion` names them), and k8s-openapi's types accept that too. Present values must match.
pub fn check_type_meta<K: k8s_openapi::Resource>(
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Result<(), String> {
    if let Some(api_version) = api_version
        && api_version != K::API_VERSION
    {
        return Err(format!(
            "apiVersion is `{api_version}`, expected `{}` for kind {}",
            K::API_VERSION,
            K::KIND
        ));
    }
    if let Some(kind) = kind
        && kind != K::KIND
    {
        return Err(format!(
            "kind is `{kind}`, expected `{}` for apiVersion {}",
            K::KIND,
            K::API_VERSION
        ));
    }
    Ok(())
}

/// Reads a kind's `apiVersion` and checks it as it is read (the generated codec's
/// `deserialize_with`), so a wrong version is reported before the rest of the body is decoded:
/// an object of another version fails with "apiVersion is …", not with a missing field.
pub fn read_api_version<'de, K, D>(deserializer: D) -> Result<(), D::Error>
where
    K: k8s_openapi::Resource,
    D: serde::Deserializer<'de>,
{
    let value: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    check_type_meta::<K>(value.as_deref(), None).map_err(serde::de::Error::custom)
}

/// Reads a kind's `kind` and checks it as it is read; see [`read_api_version`].
pub fn read_kind<'de, K, D>(deserializer: D) -> Result<(), D::Error>
where
    K: k8s_openapi::Resource,
    D: serde::Deserializer<'de>,
{
    let value: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    check_type_meta::<K>(None, value.as_deref()).map_err(serde::de::Error::custom)
}

/// A kind's [`Kind`] impl: its [`ResourceInfo`] field by field, then its printer columns and
/// `scale` subresource if it has them (fields left out are empty, `""`, `0` or `None`), then
/// the crate of its protobuf message when protobuf-gen gave it one. What register-gen writes
/// for each kind, beside [`impl_resource!`] and `kind_codec!`:
///
/// ```
/// # pub struct Alert { metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta }
/// # kube_codegen_scheme::impl_resource!(Alert, "pager.k8s.co/v1", NamespaceResourceScope);
/// kube_codegen_scheme::impl_kind!(
///     Alert {
///         group: "pager.k8s.co", version: "v1", kind: "Alert", list_kind: "AlertList",
///         plural: "alerts", singular: "alert", namespaced: true, has_status: false,
///         short_names: &["al"],
///     }
///     printer_columns [{ name: "Title", type_: "string", json_path: ".spec.title" }]
///     scale { spec_replicas_path: &["spec", "replicas"], status_replicas_path: &["status", "replicas"] }
/// );
/// use kube_codegen_scheme::Kind;
/// assert_eq!(Alert::INFO.plural, "alerts");
/// assert_eq!(Alert::INFO.short_names, ["al"]);
/// assert_eq!(Alert::INFO.printer_columns[0].json_path, ".spec.title");
/// assert_eq!(Alert::INFO.printer_columns[0].priority, 0);
/// assert!(Alert::INFO.categories.is_empty());
/// assert_eq!(Alert::INFO.scale.unwrap().label_selector_path, None);
/// assert!(Alert::PROTOBUF.is_none());
/// ```
#[macro_export]
macro_rules! impl_kind {
    (
        $ty:path { $($field:ident : $value:expr),* $(,)? }
        $(printer_columns [$({ $($column:ident : $column_value:expr),* $(,)? }),* $(,)?])?
        $(scale { $($scale:ident : $scale_value:expr),* $(,)? })?
        $(protobuf($($protobuf:tt)+))?
    ) => {
        impl $crate::Kind for $ty {
            // A kind with every list and subresource names every field.
            #[allow(clippy::needless_update)]
            const INFO: $crate::ResourceInfo = $crate::ResourceInfo {
                $($field: $value,)*
                $(printer_columns: &[$($crate::PrinterColumn {
                    $($column: $column_value,)*
                    ..$crate::PrinterColumn::EMPTY
                }),*],)?
                $(scale: ::core::option::Option::Some($crate::ScaleInfo {
                    $($scale: $scale_value,)*
                    ..$crate::ScaleInfo::EMPTY
                }),)?
                ..$crate::ResourceInfo::EMPTY
            };
            $(
                const PROTOBUF: ::core::option::Option<$crate::Protobuf<Self>> =
                    ::core::option::Option::Some($crate::Protobuf {
                        encode: <$ty as $($protobuf)+::Message>::encode_fields,
                        decode: $($protobuf)+::decode_message::<$ty>,
                    });
            )?
        }
    };
}

/// `k8s_openapi::{Resource, ListableResource, Metadata}` for a kind, read from its [`Kind::INFO`]
/// (so `kube::Api<K>` works unchanged): what register-gen writes after each `Kind` impl.
///
/// `scope` is `NamespaceResourceScope` or `ClusterResourceScope`; `api_version` repeats
/// `group/version` because a `&'static str` constant cannot be concatenated at compile time.
/// Trailing words (`status`, `status no_default`) are [`impl_object!`]'s: the kind's
/// [`Object`] impl comes with it.
#[macro_export]
macro_rules! impl_resource {
    ($ty:path, $api_version:literal, $scope:ident $(, $($status:tt)+)?) => {
        $crate::impl_object!($ty $(, $($status)+)?);
        impl $crate::__private::k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = $api_version;
            const GROUP: &'static str = <$ty as $crate::Kind>::INFO.group;
            const KIND: &'static str = <$ty as $crate::Kind>::INFO.kind;
            const VERSION: &'static str = <$ty as $crate::Kind>::INFO.version;
            const URL_PATH_SEGMENT: &'static str = <$ty as $crate::Kind>::INFO.plural;
            type Scope = $crate::__private::k8s_openapi::$scope;
        }
        impl $crate::__private::k8s_openapi::ListableResource for $ty {
            const LIST_KIND: &'static str = <$ty as $crate::Kind>::INFO.list_kind;
        }
        impl $crate::__private::k8s_openapi::Metadata for $ty {
            type Ty = $crate::__private::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }
    };
}

/// A field-by-field deep `Clone` for an API type that neither derives nor implements it: what
/// deepcopy-gen writes, one line per type (the expansion is the obvious `Clone` impl).
///
/// ```
/// pub struct Spec { pub name: String, pub r#type: Vec<u8> }
/// kube_codegen_scheme::deep_clone!(Spec { name, r#type });
/// pub struct Port(pub i32, pub String);
/// kube_codegen_scheme::deep_clone!(tuple Port [0, 1]);
/// pub struct Marker;
/// kube_codegen_scheme::deep_clone!(Marker;);
/// ```
///
/// Enums list their variants: `deep_clone!(enum Shape { Dot, Line[f0, f1], Box { w, h } })`,
/// tuple variants with names for their fields.
#[macro_export]
macro_rules! deep_clone {
    (enum $ty:path {}) => {
        impl ::core::clone::Clone for $ty {
            fn clone(&self) -> Self {
                match *self {}
            }
        }
    };
    (enum $ty:path { $($v:ident $({ $($f:ident),* })? $([ $($i:ident),* ])?),* $(,)? }) => {
        impl ::core::clone::Clone for $ty {
            fn clone(&self) -> Self {
                match self {
                    $(
                        Self::$v $({ $($f),* })? $(( $($i),* ))? =>
                            Self::$v
                            $({ $($f: ::core::clone::Clone::clone($f)),* })?
                            $(( $(::core::clone::Clone::clone($i)),* ))?,
                    )*
                }
            }
        }
    };
    (tuple $ty:path [ $($idx:tt),* $(,)? ]) => {
        impl ::core::clone::Clone for $ty {
            fn clone(&self) -> Self {
                Self($(::core::clone::Clone::clone(&self.$idx)),*)
            }
        }
    };
    ($ty:path { $($field:ident),* $(,)? }) => {
        impl ::core::clone::Clone for $ty {
            fn clone(&self) -> Self {
                Self { $($field: ::core::clone::Clone::clone(&self.$field)),* }
            }
        }
    };
    ($ty:path;) => {
        impl ::core::clone::Clone for $ty {
            fn clone(&self) -> Self {
                Self
            }
        }
    };
}

#[cfg(test)]
mod deep_clone_tests {
    #[derive(Debug, PartialEq)]
    pub struct Spec {
        pub name: String,
        pub r#type: Vec<u8>,
    }
    crate::deep_clone!(Spec { name, r#type });

    #[derive(Debug, PartialEq)]
    pub struct Port(pub i32, pub String);
    crate::deep_clone!(tuple Port [0, 1]);

    #[derive(Debug, PartialEq)]
    pub struct Marker;
    crate::deep_clone!(Marker;);

    #[derive(Debug, PartialEq)]
    pub enum Shape {
        Dot,
        Line(i32, String),
        Box { w: u8, h: Vec<u8> },
    }
    crate::deep_clone!(enum Shape { Dot, Line[f0, f1], Box { w, h } });

    #[derive(Debug, PartialEq)]
    pub enum Never {}
    crate::deep_clone!(
        enum Never {}
    );

    /// Cloning an uninhabited type type-checks (it can never be called).
    #[allow(dead_code)]
    fn clone_never(n: &Never) -> Never {
        n.clone()
    }

    #[test]
    fn deep_clones_are_equal() {
        let s = Spec {
            name: "n".into(),
            r#type: vec![1],
        };
        assert_eq!(s.clone(), s);
        let p = Port(1, "x".into());
        assert_eq!(p.clone(), p);
        assert_eq!(Marker.clone(), Marker);
        for shape in [
            Shape::Dot,
            Shape::Line(1, "l".into()),
            Shape::Box { w: 1, h: vec![2] },
        ] {
            assert_eq!(shape.clone(), shape);
        }
    }
}
