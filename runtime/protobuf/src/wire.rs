//! [`Field`]: how a value of a Rust type is written as a numbered protobuf field and read back,
//! for Rust's own types; messages get theirs from [`crate::message_field!`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use crate::DecodeError;
use prost::encoding::{self, DecodeContext, WireType, encode_key, encode_varint, key_len};

use crate::Message;

/// How deep decoding may still nest messages: hostile input cannot overflow the stack.
#[derive(Clone, Copy, Debug)]
pub struct Depth(u32);

impl Default for Depth {
    fn default() -> Self {
        Depth(100)
    }
}

impl Depth {
    fn enter(self) -> Result<Depth, DecodeError> {
        match self.0.checked_sub(1) {
            Some(left) => Ok(Depth(left)),
            None => Err(DecodeError::new("messages nested too deeply")),
        }
    }
}

/// A value that can be a numbered field of a message.
pub trait Field: Sized {
    /// The wire type of one value (repeated fields: of one element).
    const WIRE: WireType;
    /// Writes the field: key and value (every element of a repeated field, every entry of a
    /// map; nothing for an unset `Option`).
    fn encode(&self, tag: u32, buf: &mut Vec<u8>);
    /// The length [`Field::encode`] writes.
    fn encoded_len(&self, tag: u32) -> usize;
    /// Reads one occurrence of the field (its key already read).
    fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError>;
    /// The value of a field that is not on the wire, where the type has one (Go's zero value):
    /// what a map entry without a value holds.
    fn absent() -> Option<Self> {
        None
    }
    /// Reads one more occurrence into an existing value: repeated fields append, everything
    /// else takes the last value.
    fn merge(&mut self, wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<(), DecodeError> {
        *self = Self::decode(wire, buf, depth)?;
        Ok(())
    }
}

/// Reads a field key.
pub fn decode_key(buf: &mut &[u8]) -> Result<(u32, WireType), DecodeError> {
    Ok(encoding::decode_key(buf)?)
}

/// Skips the value of a field this type does not have.
pub fn skip(wire: WireType, tag: u32, buf: &mut &[u8]) -> Result<(), DecodeError> {
    Ok(encoding::skip_field(
        wire,
        tag,
        buf,
        DecodeContext::default(),
    )?)
}

fn expect(wire: WireType, expected: WireType) -> Result<(), DecodeError> {
    Ok(encoding::check_wire_type(expected, wire)?)
}

/// Takes a length-delimited value off `buf`.
fn delimited<'a>(wire: WireType, buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    expect(wire, WireType::LengthDelimited)?;
    let len = encoding::decode_varint(buf)?;
    if len > buf.len() as u64 {
        return Err(DecodeError::new("buffer underflow"));
    }
    let (value, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(value)
}

/// Writes a message field: key, length, fields.
pub fn message_encode<M: Message>(tag: u32, message: &M, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(message.fields_len() as u64, buf);
    message.encode_fields(buf);
}

pub fn message_encoded_len<M: Message>(tag: u32, message: &M) -> usize {
    let len = message.fields_len();
    key_len(tag) + encoding::encoded_len_varint(len as u64) + len
}

/// Reads a message field's value.
pub fn decode_message<M: Message>(
    wire: WireType,
    buf: &mut &[u8],
    depth: Depth,
) -> Result<M, DecodeError> {
    let mut inner = delimited(wire, buf)?;
    M::decode_fields(&mut inner, depth.enter()?)
}

/// Adds where a decoding error happened (`Alert.spec: invalid string value`).
pub fn context(mut e: DecodeError, message: &'static str, field: &'static str) -> DecodeError {
    e.path.push((message, field));
    e
}

/// Writes a length-delimited field holding `bytes`.
pub fn encode_bytes(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

pub fn bytes_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoding::encoded_len_varint(len as u64) + len
}

/// Reads a length-delimited value as bytes.
pub fn decode_bytes(wire: WireType, buf: &mut &[u8]) -> Result<Vec<u8>, DecodeError> {
    delimited(wire, buf).map(<[u8]>::to_vec)
}

/// Reads a string value (UTF-8 checked).
pub fn decode_string(wire: WireType, buf: &mut &[u8]) -> Result<String, DecodeError> {
    let bytes = delimited(wire, buf)?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| DecodeError::new("invalid string value: data is not UTF-8 encoded"))
}

/// A string written as a field (what enums are on the wire).
pub fn encode_str(tag: u32, s: &str, buf: &mut Vec<u8>) {
    encode_bytes(tag, s.as_bytes(), buf)
}

macro_rules! varint_field {
    ($($ty:ty => $proto:ident),* $(,)?) => {$(
        impl Field for $ty {
            const WIRE: WireType = WireType::Varint;
            fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
                encoding::$proto::encode(tag, &(*self).into(), buf)
            }
            fn encoded_len(&self, tag: u32) -> usize {
                encoding::$proto::encoded_len(tag, &(*self).into())
            }
            fn decode(wire: WireType, buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
                let mut wide = Default::default();
                encoding::$proto::merge(wire, &mut wide, buf, DecodeContext::default())?;
                <$ty>::try_from(wide).map_err(|_| {
                    DecodeError::new(concat!("value out of range for ", stringify!($ty)))
                })
            }
            fn absent() -> Option<Self> {
                Some(0)
            }
        }
    )*};
}

varint_field! {
    i8 => int32, i16 => int32, i32 => int32, i64 => int64,
    u8 => uint32, u16 => uint32, u32 => uint32, u64 => uint64,
}

impl Field for isize {
    const WIRE: WireType = WireType::Varint;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        (*self as i64).encode(tag, buf)
    }
    fn encoded_len(&self, tag: u32) -> usize {
        (*self as i64).encoded_len(tag)
    }
    fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        isize::try_from(i64::decode(wire, buf, depth)?)
            .map_err(|_| DecodeError::new("value out of range for isize"))
    }
    fn absent() -> Option<Self> {
        Some(0)
    }
}

impl Field for usize {
    const WIRE: WireType = WireType::Varint;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        (*self as u64).encode(tag, buf)
    }
    fn encoded_len(&self, tag: u32) -> usize {
        (*self as u64).encoded_len(tag)
    }
    fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        usize::try_from(u64::decode(wire, buf, depth)?)
            .map_err(|_| DecodeError::new("value out of range for usize"))
    }
    fn absent() -> Option<Self> {
        Some(0)
    }
}

macro_rules! plain_field {
    ($($ty:ty => $proto:ident, $wire:ident);* $(;)?) => {$(
        impl Field for $ty {
            const WIRE: WireType = WireType::$wire;
            fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
                encoding::$proto::encode(tag, self, buf)
            }
            fn encoded_len(&self, tag: u32) -> usize {
                encoding::$proto::encoded_len(tag, self)
            }
            fn decode(wire: WireType, buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
                let mut v = Default::default();
                encoding::$proto::merge(wire, &mut v, buf, DecodeContext::default())?;
                Ok(v)
            }
            fn absent() -> Option<Self> {
                Some(Default::default())
            }
        }
    )*};
}

plain_field! {
    bool => bool, Varint;
    f32 => float, ThirtyTwoBit;
    f64 => double, SixtyFourBit;
}

impl Field for String {
    const WIRE: WireType = WireType::LengthDelimited;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        encode_str(tag, self, buf)
    }
    fn encoded_len(&self, tag: u32) -> usize {
        bytes_len(tag, self.len())
    }
    fn decode(wire: WireType, buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
        decode_string(wire, buf)
    }
    fn absent() -> Option<Self> {
        Some(String::new())
    }
}

impl<T: Field> Field for Option<T> {
    const WIRE: WireType = T::WIRE;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        if let Some(v) = self {
            v.encode(tag, buf)
        }
    }
    fn encoded_len(&self, tag: u32) -> usize {
        self.as_ref().map_or(0, |v| v.encoded_len(tag))
    }
    fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        T::decode(wire, buf, depth).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
    fn merge(&mut self, wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<(), DecodeError> {
        match self {
            Some(v) => v.merge(wire, buf, depth),
            None => {
                *self = Some(T::decode(wire, buf, depth)?);
                Ok(())
            }
        }
    }
}

impl<T: Field> Field for Box<T> {
    const WIRE: WireType = T::WIRE;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        (**self).encode(tag, buf)
    }
    fn encoded_len(&self, tag: u32) -> usize {
        (**self).encoded_len(tag)
    }
    fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        T::decode(wire, buf, depth).map(Box::new)
    }
    fn absent() -> Option<Self> {
        T::absent().map(Box::new)
    }
    fn merge(&mut self, wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<(), DecodeError> {
        (**self).merge(wire, buf, depth)
    }
}

/// One occurrence of a repeated field: an element, or (numbers) a packed run of elements.
fn repeated<T: Field>(
    wire: WireType,
    buf: &mut &[u8],
    depth: Depth,
    mut push: impl FnMut(T),
) -> Result<(), DecodeError> {
    if wire == WireType::LengthDelimited && T::WIRE != WireType::LengthDelimited {
        let mut packed = delimited(wire, buf)?;
        while !packed.is_empty() {
            push(T::decode(T::WIRE, &mut packed, depth)?);
        }
        Ok(())
    } else {
        push(T::decode(wire, buf, depth)?);
        Ok(())
    }
}

/// Lists and sets: a repeated field, an element per occurrence (or a packed run of numbers).
macro_rules! repeated_field {
    ($ty:ty, [$($bounds:tt)*], $insert:ident) => {
        impl<$($bounds)*> Field for $ty {
            const WIRE: WireType = T::WIRE;
            fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
                self.iter().for_each(|v| v.encode(tag, buf))
            }
            fn encoded_len(&self, tag: u32) -> usize {
                self.iter().map(|v| v.encoded_len(tag)).sum()
            }
            fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
                let mut out = <$ty>::default();
                Field::merge(&mut out, wire, buf, depth)?;
                Ok(out)
            }
            fn absent() -> Option<Self> {
                Some(<$ty>::default())
            }
            fn merge(
                &mut self,
                wire: WireType,
                buf: &mut &[u8],
                depth: Depth,
            ) -> Result<(), DecodeError> {
                repeated(wire, buf, depth, |v| {
                    self.$insert(v);
                })
            }
        }
    };
}

repeated_field!(Vec<T>, [T: Field], push);
repeated_field!(BTreeSet<T>, [T: Field + Ord], insert);
repeated_field!(HashSet<T, S>, [T: Field + Hash + Eq, S: std::hash::BuildHasher + Default], insert);

/// A map entry on the wire: a message with the key as field 1 and the value as field 2.
fn entry_len<V: Field>(key: &str, value: &V) -> usize {
    bytes_len(1, key.len()) + value.encoded_len(2)
}

fn encode_entry<V: Field>(tag: u32, key: &str, value: &V, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(entry_len(key, value) as u64, buf);
    encode_str(1, key, buf);
    value.encode(2, buf);
}

fn decode_entry<V: Field>(
    wire: WireType,
    buf: &mut &[u8],
    depth: Depth,
) -> Result<(String, V), DecodeError> {
    let mut entry = delimited(wire, buf)?;
    let depth = depth.enter()?;
    let (mut key, mut value) = (String::new(), None::<V>);
    while !entry.is_empty() {
        let (tag, wire) = decode_key(&mut entry)?;
        match tag {
            1 => key = decode_string(wire, &mut entry)?,
            2 => value.merge(wire, &mut entry, depth)?,
            _ => skip(wire, tag, &mut entry)?,
        }
    }
    // A map entry without a value holds the value type's zero value, as in Go.
    match value.or_else(V::absent) {
        Some(v) => Ok((key, v)),
        None => Err(DecodeError::new("map entry without a value")),
    }
}

/// Maps with string keys: an entry message per key, in key order (Go sorts keys too, so equal
/// maps are equal bytes). `$entries` lists a map's entries in that order.
macro_rules! map_field {
    ($ty:ty, [$($bounds:tt)*], $entries:path) => {
        impl<$($bounds)*> Field for $ty {
            const WIRE: WireType = WireType::LengthDelimited;
            fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
                for (k, v) in $entries(self) {
                    encode_entry(tag, k, v, buf)
                }
            }
            fn encoded_len(&self, tag: u32) -> usize {
                self.iter()
                    .map(|(k, v)| {
                        let len = entry_len(k, v);
                        key_len(tag) + encoding::encoded_len_varint(len as u64) + len
                    })
                    .sum()
            }
            fn decode(wire: WireType, buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
                let mut out = <$ty>::default();
                Field::merge(&mut out, wire, buf, depth)?;
                Ok(out)
            }
            fn absent() -> Option<Self> {
                Some(<$ty>::default())
            }
            fn merge(
                &mut self,
                wire: WireType,
                buf: &mut &[u8],
                depth: Depth,
            ) -> Result<(), DecodeError> {
                let (k, v) = decode_entry(wire, buf, depth)?;
                self.insert(k, v);
                Ok(())
            }
        }
    };
}

fn btree_entries<V>(m: &BTreeMap<String, V>) -> impl Iterator<Item = (&String, &V)> {
    m.iter()
}

fn sorted_entries<V, S>(m: &HashMap<String, V, S>) -> Vec<(&String, &V)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

map_field!(BTreeMap<String, V>, [V: Field], btree_entries);
map_field!(
    HashMap<String, V, S>,
    [V: Field, S: std::hash::BuildHasher + Default],
    sorted_entries
);

/// An `IndexMap` is written in key order as well (the bytes equal a `BTreeMap`'s); read, it keeps
/// the order the entries came in.
fn index_sorted_entries<V, S>(m: &indexmap::IndexMap<String, V, S>) -> Vec<(&String, &V)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

map_field!(
    indexmap::IndexMap<String, V, S>,
    [V: Field, S: std::hash::BuildHasher + Default],
    index_sorted_entries
);

/// Maps whose values are lists, which Go names (`type ExtraValue []string`) and protobuf wraps in
/// a message of one repeated field, `items = 1` (`map<string, ExtraValue> extra`); k8s-openapi
/// holds them as `BTreeMap<String, Vec<T>>`. Written and read here as Kubernetes does.
pub mod list_map {
    use super::*;

    /// One list as the wrapper message's fields.
    struct Items<'a, T>(&'a [T]);

    impl<T: Field> Items<'_, T> {
        fn fields_len(&self) -> usize {
            self.0.iter().map(|v| v.encoded_len(1)).sum()
        }
    }

    fn entry_len<T: Field>(key: &str, items: &[T]) -> usize {
        let inner = Items(items).fields_len();
        bytes_len(1, key.len()) + bytes_len(2, inner)
    }

    pub fn encode<T: Field>(map: &Option<BTreeMap<String, Vec<T>>>, tag: u32, buf: &mut Vec<u8>) {
        for (key, items) in map.iter().flatten() {
            encode_key(tag, WireType::LengthDelimited, buf);
            encode_varint(entry_len(key, items) as u64, buf);
            encode_str(1, key, buf);
            encode_key(2, WireType::LengthDelimited, buf);
            encode_varint(Items(items).fields_len() as u64, buf);
            items.iter().for_each(|v| v.encode(1, buf));
        }
    }

    pub fn encoded_len<T: Field>(map: &Option<BTreeMap<String, Vec<T>>>, tag: u32) -> usize {
        map.iter()
            .flatten()
            .map(|(key, items)| bytes_len(tag, entry_len(key, items)))
            .sum()
    }

    /// Reads one entry into the map (created on the first).
    pub fn merge<T: Field>(
        map: &mut Option<BTreeMap<String, Vec<T>>>,
        wire: WireType,
        buf: &mut &[u8],
        depth: Depth,
    ) -> Result<(), DecodeError> {
        let mut entry = delimited(wire, buf)?;
        let depth = depth.enter()?;
        let (mut key, mut items) = (String::new(), Vec::new());
        while !entry.is_empty() {
            let (tag, wire) = decode_key(&mut entry)?;
            match tag {
                1 => key = decode_string(wire, &mut entry)?,
                2 => {
                    let mut inner = delimited(wire, &mut entry)?;
                    let depth = depth.enter()?;
                    while !inner.is_empty() {
                        let (tag, wire) = decode_key(&mut inner)?;
                        match tag {
                            1 => items.merge(wire, &mut inner, depth)?,
                            _ => skip(wire, tag, &mut inner)?,
                        }
                    }
                }
                _ => skip(wire, tag, &mut entry)?,
            }
        }
        map.get_or_insert_with(BTreeMap::new).insert(key, items);
        Ok(())
    }
}
