//! What kube-codegen's register-gen output stands on: static facts about each kind
//! ([`KindInfo`]), a registry of kinds by group/version/kind and by resource ([`Scheme`]), and the
//! codec check generated `Deserialize` impls call.

use std::collections::BTreeMap;

mod convert;
mod defaults;

pub use convert::{ConversionError, ConvertHub, convert};
pub use defaults::{SetDefaults, default_from_json};

#[doc(hidden)]
pub mod __private {
    pub use k8s_openapi;
    pub use serde;
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
}

impl ResourceInfo {
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
pub trait Kind: k8s_openapi::Resource {
    const INFO: ResourceInfo;
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

/// `k8s_openapi::{Resource, ListableResource, Metadata}` for a kind, read from its [`Kind::INFO`]
/// (so `kube::Api<K>` works unchanged): what register-gen writes after each `Kind` impl.
///
/// `scope` is `NamespaceResourceScope` or `ClusterResourceScope`; `api_version` repeats
/// `group/version` because a `&'static str` constant cannot be concatenated at compile time.
#[macro_export]
macro_rules! impl_resource {
    ($ty:path, $api_version:literal, $scope:ident) => {
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
