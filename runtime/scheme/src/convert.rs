//! Conversion between an external version and its internal hub: every version converts to and
//! from the hub, so any version converts to any other through it (Kubernetes' hub-and-spoke).
//! conversion-gen implements [`ConvertHub`] for each type of a version that has a counterpart of
//! the same name in the hub, field by field or through the hand-written functions it names.

use std::fmt;

/// Why an object could not be converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionError {
    message: String,
}

impl ConversionError {
    pub fn new(message: impl Into<String>) -> Self {
        ConversionError {
            message: message.into(),
        }
    }

    /// Adds where the problem is (`spec.priority: ...`), outermost last.
    pub fn at(self, field: &str) -> Self {
        ConversionError {
            message: format!("{field}: {}", self.message),
        }
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConversionError {}

/// A type of an external version and its counterpart in the hub.
///
/// Conversions take their input by value, as `From` does: what is the same on both sides (an
/// object's metadata, a string, a list of the same items) moves across instead of being copied,
/// so converting an object read from storage costs no copy of it. [`to_hub`](Self::to_hub)
/// converts a borrowed object (a clone, then the move).
pub trait ConvertHub: Sized {
    /// The hub's type of the same name.
    type Hub;
    fn into_hub(self) -> Result<Self::Hub, ConversionError>;
    fn from_hub(hub: Self::Hub) -> Result<Self, ConversionError>;
    /// Converts a borrowed object: `self.clone().into_hub()`.
    fn to_hub(&self) -> Result<Self::Hub, ConversionError>
    where
        Self: Clone,
    {
        self.clone().into_hub()
    }
}

/// Converts between two versions of one type through their hub.
pub fn convert<A, B>(from: A) -> Result<B, ConversionError>
where
    A: ConvertHub,
    B: ConvertHub<Hub = A::Hub>,
{
    B::from_hub(from.into_hub()?)
}

/// `ConvertHub` for a struct whose fields convert one by one, both ways: what conversion-gen
/// writes, one line per struct (the expansion is the field-by-field impl, so the generated file
/// lists fields and costs little to format).
///
/// Each field is `name` (moved: the same type on both sides) or `name: shape`, where a shape is
/// `same` (moved), `hub` (a type with its own `ConvertHub`), `opt(shape)`, `boxed(shape)`, `seq(shape)` (a `Vec`
/// or a set) or `map(shape)` (a map's values).
///
/// ```
/// # use kube_codegen_scheme::{ConvertHub, ConversionError};
/// mod hub { #[derive(Debug, PartialEq)] pub struct Spec { pub n: i32, pub tags: Vec<Tag> }
///           #[derive(Debug, PartialEq)] pub struct Tag { pub name: String } }
/// #[derive(Debug, PartialEq)] pub struct Spec { pub n: i32, pub tags: Vec<Tag> }
/// #[derive(Debug, PartialEq)] pub struct Tag { pub name: String }
/// kube_codegen_scheme::convert_hub!(Spec => hub::Spec { n, tags: seq(hub) });
/// kube_codegen_scheme::convert_hub!(Tag => hub::Tag { name });
/// let s = Spec { n: 1, tags: vec![Tag { name: "a".into() }] };
/// let hub = s.into_hub().unwrap();
/// assert_eq!(hub.tags[0].name, "a");
/// assert_eq!(Spec::from_hub(hub).unwrap().n, 1);
/// ```
#[macro_export]
macro_rules! convert_hub {
    ($ext:path => $hub:path { $($field:ident $(: $shape:ident $(($($inner:tt)*))?)?),* $(,)? }) => {
        impl $crate::ConvertHub for $ext {
            type Hub = $hub;
            fn into_hub(self) -> ::core::result::Result<$hub, $crate::ConversionError> {
                type Hub = $hub;
                ::core::result::Result::Ok(Hub {
                    $($field: $crate::__convert_field!(into_hub, self.$field $(, $shape $(($($inner)*))?)?)),*
                })
            }
            fn from_hub(hub: $hub) -> ::core::result::Result<Self, $crate::ConversionError> {
                ::core::result::Result::Ok(Self {
                    $($field: $crate::__convert_field!(from_hub, hub.$field $(, $shape $(($($inner)*))?)?)),*
                })
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __convert_field {
    ($dir:ident, $e:expr) => { $e };
    ($dir:ident, $e:expr, same) => { $e };
    ($dir:ident, $e:expr, hub) => { $crate::ConvertHub::$dir($e)? };
    ($dir:ident, $e:expr, opt($($s:tt)*)) => {
        match $e {
            ::core::option::Option::Some(v) => ::core::option::Option::Some($crate::__convert_field!($dir, v, $($s)*)),
            ::core::option::Option::None => ::core::option::Option::None,
        }
    };
    ($dir:ident, $e:expr, boxed($($s:tt)*)) => {
        ::std::boxed::Box::new($crate::__convert_field!($dir, *$e, $($s)*))
    };
    ($dir:ident, $e:expr, seq($($s:tt)*)) => {
        ::core::iter::IntoIterator::into_iter($e)
            .map(|v| ::core::result::Result::Ok::<_, $crate::ConversionError>($crate::__convert_field!($dir, v, $($s)*)))
            .collect::<::core::result::Result<_, $crate::ConversionError>>()?
    };
    ($dir:ident, $e:expr, map($($s:tt)*)) => {
        ::core::iter::IntoIterator::into_iter($e)
            .map(|(k, v)| ::core::result::Result::Ok::<_, $crate::ConversionError>((k, $crate::__convert_field!($dir, v, $($s)*))))
            .collect::<::core::result::Result<_, $crate::ConversionError>>()?
    };
}

/// `ConvertHub` for an enum whose variants carry no data and have the same names on both sides.
///
/// ```
/// mod hub { pub enum Mode { Fast, Slow } }
/// pub enum Mode { Fast, Slow }
/// kube_codegen_scheme::convert_enum!(Mode => hub::Mode { Fast, Slow });
/// ```
#[macro_export]
macro_rules! convert_enum {
    ($ext:path => $hub:path { $($variant:ident),* $(,)? }) => {
        impl $crate::ConvertHub for $ext {
            type Hub = $hub;
            fn into_hub(self) -> ::core::result::Result<$hub, $crate::ConversionError> {
                use $ext as From;
                use $hub as To;
                ::core::result::Result::Ok(match self { $(From::$variant => To::$variant),* })
            }
            fn from_hub(hub: $hub) -> ::core::result::Result<Self, $crate::ConversionError> {
                use $ext as To;
                use $hub as From;
                ::core::result::Result::Ok(match hub { $(From::$variant => To::$variant),* })
            }
        }
    };
}
