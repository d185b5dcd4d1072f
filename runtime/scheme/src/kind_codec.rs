//! The serde of a kind, expanded from one `kind_codec!` line per kind (what register-gen writes):
//! `apiVersion` and `kind` written first and checked as they are read, the kind's fields under
//! their wire names, `None` options and empty collections left out.

use std::marker::PhantomData;

/// What a kind's struct field reads as when the object leaves it out: the type read from `{}`,
/// so its serde field defaults (`#[serde(default = "…")]`) apply as they would to `"spec": {}`,
/// or its `Default` when `{}` is no value of it (a field serde requires). register-gen names
/// it as the field's serde `default`.
///
/// ```
/// #[derive(Debug, Default, PartialEq, serde::Deserialize)]
/// struct Spec {
///     #[serde(default = "five")]
///     replicas: i32,
///     #[serde(default)]
///     image: String,
/// }
/// fn five() -> i32 {
///     5
/// }
/// #[derive(Debug, Default, PartialEq, serde::Deserialize)]
/// struct Strict {
///     name: String,
/// }
/// let spec: Spec = kube_codegen_scheme::default_from_empty();
/// assert_eq!(spec, Spec { replicas: 5, image: String::new() });
/// // `{}` is no `Strict`: its `Default`.
/// assert_eq!(kube_codegen_scheme::default_from_empty::<Strict>(), Strict::default());
/// ```
pub fn default_from_empty<T: serde::de::DeserializeOwned + Default>() -> T {
    let empty = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(
        std::iter::empty::<(&str, &str)>(),
    );
    T::deserialize(empty).unwrap_or_default()
}

/// Reads a kind's `apiVersion` and checks it as it is read (absent passes; see
/// [`crate::check_type_meta`]).
#[doc(hidden)]
pub struct ApiVersionOf<K>(PhantomData<K>);

/// Reads a kind's `kind` and checks it as it is read.
#[doc(hidden)]
pub struct KindOf<K>(PhantomData<K>);

impl<K> Default for ApiVersionOf<K> {
    fn default() -> Self {
        ApiVersionOf(PhantomData)
    }
}

impl<K> Default for KindOf<K> {
    fn default() -> Self {
        KindOf(PhantomData)
    }
}

impl<'de, K: k8s_openapi::Resource> serde::Deserialize<'de> for ApiVersionOf<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::read_api_version::<K, D>(d).map(|()| ApiVersionOf(PhantomData))
    }
}

impl<'de, K: k8s_openapi::Resource> serde::Deserialize<'de> for KindOf<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::read_kind::<K, D>(d).map(|()| KindOf(PhantomData))
    }
}

/// `Serialize` and `Deserialize` for a kind. Each field is `name: Type = "wireName", omit,
/// [serde attributes of the field when read]`, where `omit` is `always` (always written),
/// `none` (left out when `None`), `empty` (left out when empty) or `zero` (left out when it
/// equals its type's default: an optional `false` or `0`, Go's `omitempty`).
///
/// ```
/// # use kube_codegen_scheme as scheme;
/// # use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
/// #[derive(Debug, Default, PartialEq)]
/// pub struct Widget {
///     pub metadata: ObjectMeta,
///     pub size: Option<i32>,
///     pub tags: Vec<String>,
///     pub paused: bool,
///     pub weight: i32,
/// }
/// # const _: () = {
/// # use scheme::__private::k8s_openapi as k8s;
/// # scheme::impl_resource!(Widget, "example.com/v1", NamespaceResourceScope);
/// # impl scheme::Kind for Widget { const INFO: scheme::ResourceInfo = scheme::ResourceInfo {
/// #   group: "example.com", version: "v1", kind: "Widget", list_kind: "WidgetList",
/// #   plural: "widgets", singular: "widget", namespaced: true, short_names: &[],
/// #   categories: &[], printer_columns: &[], has_status: false, scale: None }; }
/// # };
/// scheme::kind_codec!(Widget, "Widget" {
///     metadata: ObjectMeta = "metadata", always, [default];
///     size: Option<i32> = "size", none, [default];
///     tags: Vec<String> = "tags", empty, [default];
///     paused: bool = "paused", zero, [default];
///     weight: i32 = "weight", zero, [default];
/// });
/// let w = Widget { size: Some(3), weight: 2, ..Default::default() };
/// let json = serde_json::to_string(&w).unwrap();
/// assert_eq!(
///     json,
///     r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{},"size":3,"weight":2}"#
/// );
/// assert_eq!(serde_json::from_str::<Widget>(&json).unwrap(), w);
/// ```
#[macro_export]
macro_rules! kind_codec {
    ($ty:ty, $name:literal {
        $($field:ident : $fty:ty = $wire:literal, $omit:ident, [$($de:tt)*]);* $(;)?
    }) => {
        const _: () = {
            use $crate::__private::serde;
            impl serde::Serialize for $ty {
                fn serialize<S: serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    use serde::ser::SerializeStruct as _;
                    let len = 2usize $(+ $crate::__codec_count!($omit, &self.$field))*;
                    let mut state = serializer.serialize_struct($name, len)?;
                    state.serialize_field(
                        "apiVersion",
                        <Self as $crate::__private::k8s_openapi::Resource>::API_VERSION,
                    )?;
                    state.serialize_field(
                        "kind",
                        <Self as $crate::__private::k8s_openapi::Resource>::KIND,
                    )?;
                    $($crate::__codec_write!(state, $omit, $wire, &self.$field);)*
                    state.end()
                }
            }
            impl<'de> serde::Deserialize<'de> for $ty {
                fn deserialize<D: serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::core::result::Result<Self, D::Error> {
                    #[derive(serde::Deserialize)]
                    #[serde(crate = "serde")]
                    struct Wire {
                        // Checked as read, before the fields that follow them.
                        #[serde(rename = "apiVersion", default)]
                        _api_version: $crate::ApiVersionOf<$ty>,
                        #[serde(rename = "kind", default)]
                        _kind: $crate::KindOf<$ty>,
                        $(#[serde($($de)*)] $field: $fty,)*
                    }
                    let wire = <Wire as serde::Deserialize>::deserialize(deserializer)?;
                    ::core::result::Result::Ok(Self { $($field: wire.$field),* })
                }
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __codec_count {
    (always, $e:expr) => {
        1usize
    };
    (none, $e:expr) => {
        usize::from(::core::option::Option::is_some($e))
    };
    (empty, $e:expr) => {
        usize::from(!$e.is_empty())
    };
    (zero, $e:expr) => {
        usize::from(!$crate::__private::is_default($e))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __codec_write {
    ($state:ident, always, $wire:literal, $e:expr) => {
        $state.serialize_field($wire, $e)?;
    };
    ($state:ident, none, $wire:literal, $e:expr) => {
        if ::core::option::Option::is_none($e) {
            $state.skip_field($wire)?;
        } else {
            $state.serialize_field($wire, $e)?;
        }
    };
    ($state:ident, empty, $wire:literal, $e:expr) => {
        if $e.is_empty() {
            $state.skip_field($wire)?;
        } else {
            $state.serialize_field($wire, $e)?;
        }
    };
    ($state:ident, zero, $wire:literal, $e:expr) => {
        if $crate::__private::is_default($e) {
            $state.skip_field($wire)?;
        } else {
            $state.serialize_field($wire, $e)?;
        }
    };
}
