//! The Kubernetes protobuf wire format for kube-codegen's API types.
//!
//! protobuf-gen writes a [`Message`] impl for every struct of a package that asks for protobuf
//! and a [`Field`] impl for every type a field can hold; this crate holds the rest:
//!
//! - [`Field`] for Rust's own types (numbers, strings, `Option`, `Vec`, maps, sets, `Box`);
//! - the apimachinery messages k8s-openapi types stand for ([`meta`]): `ObjectMeta`, `ListMeta`,
//!   `Time`, `Quantity`, `IntOrString`, `Status`, ... numbered as Kubernetes numbers them;
//! - the wire around objects ([`envelope`]): the `k8s\0` prefix and `runtime.Unknown`, lists,
//!   length-prefixed watch frames.
//!
//! The encoding primitives (varints, keys, skipping unknown fields) are prost's. The messages
//! are implemented here rather than derived with prost because the Rust types are not prost's:
//! they are the API types themselves (and k8s-openapi's, which no crate but this one may give a
//! protobuf impl), so objects are written without a copy into intermediate structs.
//!
//! Like Go's generated code, fields that are not optional are always written (an empty string
//! too), `Option` fields only when set, and decoding skips fields it does not know.

mod apiextensions;
pub mod envelope;
mod k8s_api;
pub mod meta;
mod wire;

pub use prost::encoding::WireType;
pub use wire::{
    Depth, Field, bytes_len, context, decode_bytes, decode_key, decode_string, encode_bytes,
    encode_str, skip,
};

/// Why bytes are not a message: what is wrong, and where (`Alert.spec`, innermost last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
    /// (message, field) pairs from the innermost outwards.
    path: Vec<(&'static str, &'static str)>,
}

impl DecodeError {
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError {
            message: message.into(),
            path: Vec::new(),
        }
    }

    /// Where the error is, outermost first: `Alert.spec.priority`.
    pub fn field_path(&self) -> String {
        let mut parts = self.path.iter().rev();
        match parts.next() {
            None => String::new(),
            Some((message, field)) => {
                parts.fold(format!("{message}.{field}"), |mut acc, (_, f)| {
                    acc.push('.');
                    acc.push_str(f);
                    acc
                })
            }
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "invalid protobuf: {}", self.message)
        } else {
            write!(
                f,
                "invalid protobuf at {}: {}",
                self.field_path(),
                self.message
            )
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<prost::DecodeError> for DecodeError {
    fn from(e: prost::DecodeError) -> Self {
        // prost's message starts with "failed to decode Protobuf message: ".
        let text = e.to_string();
        let text = text
            .strip_prefix("failed to decode Protobuf message: ")
            .unwrap_or(&text);
        DecodeError::new(text)
    }
}

/// A protobuf message: a struct whose fields are numbered.
pub trait Message: Sized {
    /// Appends every field (keys and values), without a length prefix.
    fn encode_fields(&self, buf: &mut Vec<u8>);
    /// The length [`Message::encode_fields`] writes.
    fn fields_len(&self) -> usize;
    /// Reads a message from its fields (all of `buf`); fields it does not have are skipped.
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError>;
}

/// A message's bytes.
pub fn to_vec<M: Message>(message: &M) -> Vec<u8> {
    let mut buf = Vec::with_capacity(message.fields_len());
    message.encode_fields(&mut buf);
    buf
}

/// A message read from its bytes.
pub fn from_slice<M: Message>(mut bytes: &[u8]) -> Result<M, DecodeError> {
    M::decode_fields(&mut bytes, Depth::default())
}

/// A message read from its bytes, the error as text: what a kind's
/// `kube_codegen_scheme::Protobuf::decode` is.
pub fn decode_message<M: Message>(bytes: &[u8]) -> Result<M, String> {
    from_slice(bytes).map_err(|e| e.to_string())
}

/// Implements [`Field`] for a type that implements [`Message`]: the field is the message,
/// length-delimited. protobuf-gen writes one call per generated message.
#[macro_export]
macro_rules! message_field {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::Field for $ty {
            const WIRE: $crate::WireType = $crate::WireType::LengthDelimited;
            fn encode(&self, tag: u32, buf: &mut ::std::vec::Vec<u8>) {
                $crate::wire_message::encode(tag, self, buf)
            }
            fn encoded_len(&self, tag: u32) -> usize {
                $crate::wire_message::encoded_len(tag, self)
            }
            fn decode(
                wire: $crate::WireType,
                buf: &mut &[u8],
                depth: $crate::Depth,
            ) -> ::std::result::Result<Self, $crate::DecodeError> {
                $crate::wire_message::decode(wire, buf, depth)
            }
            fn absent() -> ::std::option::Option<Self> {
                <$ty as $crate::Message>::decode_fields(&mut &[][..], $crate::Depth::default()).ok()
            }
        }
    )*};
}

#[doc(hidden)]
pub mod wire_message {
    pub use crate::wire::{
        decode_message as decode, message_encode as encode, message_encoded_len as encoded_len,
    };
}

/// Fields whose type has no protobuf shape (a list of lists, an enum with data, a k8s-openapi
/// type kube-codegen-protobuf has no message for) travel as their JSON in a `bytes` field;
/// protobuf-gen says so in `generated.proto`. `null` (an unset `Option`) is not written.
pub mod json {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use crate::{DecodeError, Depth, WireType, bytes_len, decode_bytes, encode_bytes};

    /// What a field whose value could not be written as JSON carries instead: never JSON (it
    /// starts with NUL), so the reader reports the writer's error rather than the field being
    /// silently absent.
    const NOT_WRITTEN: &[u8] = b"\0kube-codegen-protobuf: not written as JSON: ";

    /// The field's bytes: its JSON; nothing for `null`; the writer's error for a value serde
    /// refuses (a custom `Serialize` that fails), which the reader then reports.
    fn field_bytes<T: Serialize>(value: &T) -> Option<Vec<u8>> {
        match serde_json::to_vec(value) {
            Ok(json) if json == b"null" => None,
            Ok(json) => Some(json),
            Err(e) => Some([NOT_WRITTEN, e.to_string().as_bytes()].concat()),
        }
    }

    pub fn encode<T: Serialize>(value: &T, tag: u32, buf: &mut Vec<u8>) {
        if let Some(bytes) = field_bytes(value) {
            encode_bytes(tag, &bytes, buf)
        }
    }

    pub fn encoded_len<T: Serialize>(value: &T, tag: u32) -> usize {
        field_bytes(value).map_or(0, |bytes| bytes_len(tag, bytes.len()))
    }

    pub fn merge<T: DeserializeOwned>(
        slot: &mut Option<T>,
        wire: WireType,
        buf: &mut &[u8],
        _depth: Depth,
    ) -> Result<(), DecodeError> {
        let raw = decode_bytes(wire, buf)?;
        if let Some(why) = raw.strip_prefix(NOT_WRITTEN) {
            return Err(DecodeError::new(format!(
                "the sender could not write this field as JSON: {}",
                String::from_utf8_lossy(why)
            )));
        }
        let value = serde_json::from_slice(&raw)
            .map_err(|e| DecodeError::new(format!("invalid JSON: {e}")))?;
        *slot = Some(value);
        Ok(())
    }

    /// The value of a field not on the wire: what `null` reads as (`None`), if anything.
    pub fn absent<T: DeserializeOwned>() -> Option<T> {
        serde_json::from_slice(b"null").ok()
    }
}
