//! A deserializer wrapper that refuses a JSON array where a struct is expected.
//!
//! serde's derived `Deserialize` for a struct takes a map and, as serde's compact form, a
//! sequence of the fields in order; serde_json hands it either. A Kubernetes object's struct is
//! always a JSON object — Go's decoder refuses an array there ("cannot unmarshal array into Go
//! struct field") — and binding values by position would store `["T", "body"]` as a spec with a
//! title and a content. Every request body is decoded through this wrapper, which passes
//! everything through but a sequence offered to a struct's visitor: that is serde's own
//! `invalid type: sequence, expected struct X`, a 400 naming the field.
//!
//! The wrapper has to wrap every nested deserializer too (through maps, sequences, options,
//! newtypes and enums), as `serde_ignored` and `serde_path_to_error` do.

use std::fmt;

use serde::de::{self, DeserializeSeed, Unexpected, Visitor};

/// `D`, refusing sequences for structs at every depth.
pub(crate) struct Deserializer<D>(pub(crate) D);

/// What the wrapped deserializer hands to: `strict_struct` refuses sequences.
struct Wrap<V> {
    visitor: V,
    strict_struct: bool,
}

impl<V> Wrap<V> {
    fn any(visitor: V) -> Self {
        Wrap {
            visitor,
            strict_struct: false,
        }
    }
}

struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Deserializer(deserializer))
    }
}

macro_rules! forward {
    ($($method:ident $(($($arg:ident: $ty:ty),*))?),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($($arg: $ty,)*)? visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($($arg,)*)? Wrap::any(visitor))
            }
        )*
    };
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Deserializer<D> {
    type Error = D::Error;

    forward! {
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32,
        deserialize_i64, deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32,
        deserialize_u64, deserialize_u128, deserialize_f32, deserialize_f64, deserialize_char,
        deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
        deserialize_option, deserialize_unit, deserialize_seq, deserialize_map,
        deserialize_identifier, deserialize_ignored_any,
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            strict_struct: true,
        };
        self.0.deserialize_struct(name, fields, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! pass {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    pass! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_str(&str), visit_borrowed_str(&'de str), visit_string(String),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(Deserializer(deserializer))
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.visitor
            .visit_newtype_struct(Deserializer(deserializer))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.strict_struct {
            return Err(de::Error::invalid_type(Unexpected::Seq, &self.visitor));
        }
        self.visitor.visit_seq(SeqAccess(seq))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(MapAccess(map))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(EnumAccess(data))
    }
}

struct SeqAccess<A>(A);

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for SeqAccess<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct MapAccess<A>(A);

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for MapAccess<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct EnumAccess<A>(A);

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for EnumAccess<A> {
    type Error = A::Error;
    type Variant = VariantAccess<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed(seed))?;
        Ok((value, VariantAccess(variant)))
    }
}

struct VariantAccess<A>(A);

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for VariantAccess<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap::any(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            visitor,
            strict_struct: true,
        };
        self.0.struct_variant(fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Spec {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: i32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Shape {
        Dot,
        Line(i32, i32),
        Box { w: i32 },
    }

    fn strict<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        T::deserialize(super::Deserializer(&mut de)).map_err(|e| e.to_string())
    }

    #[test]
    fn structs_are_objects_and_nothing_else_changes() {
        assert_eq!(
            strict::<Spec>(r#"{"title":"t","tags":["a"],"inner":{"a":1}}"#).unwrap(),
            Spec {
                title: "t".into(),
                tags: vec!["a".into()],
                inner: Some(Inner { a: 1 })
            }
        );
        // serde_json alone takes the fields by position.
        assert!(serde_json::from_str::<Spec>(r#"["t",["a"],null]"#).is_ok());
        let err = strict::<Spec>(r#"["t",["a"],null]"#).unwrap_err();
        assert!(
            err.contains("invalid type: sequence, expected struct Spec"),
            "{err}"
        );
        // At any depth: through an `Option`, a `Vec`, a map, an enum's variants.
        let err = strict::<Spec>(r#"{"title":"t","inner":[1]}"#).unwrap_err();
        assert!(err.contains("expected struct Inner"), "{err}");
        let err = strict::<Vec<Inner>>(r#"[{"a":1},[2]]"#).unwrap_err();
        assert!(err.contains("expected struct Inner"), "{err}");
        let err = strict::<std::collections::BTreeMap<String, Inner>>(r#"{"k":[2]}"#).unwrap_err();
        assert!(err.contains("expected struct Inner"), "{err}");
        let err = strict::<Shape>(r#"{"Box":[1]}"#).unwrap_err();
        assert!(err.contains("expected struct variant"), "{err}");
        // Sequences where sequences belong, enums in every form serde writes.
        assert_eq!(
            strict::<Vec<Shape>>(r#"["Dot",{"Line":[1,2]},{"Box":{"w":3}}]"#).unwrap(),
            vec![Shape::Dot, Shape::Line(1, 2), Shape::Box { w: 3 }]
        );
        assert_eq!(
            strict::<(i32, String)>(r#"[1,"x"]"#).unwrap(),
            (1, "x".into())
        );
    }
}
