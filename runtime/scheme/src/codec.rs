//! The versioned codec: a kind's wire bytes in any served version ↔ its hub object. Decoding
//! reads the version's JSON, applies the version's defaults and converts to the hub; encoding
//! converts the hub to the version and writes its JSON (with `apiVersion` and `kind`). What an
//! API server's registry stands on: it works on hub objects and speaks every version.

use std::any::Any;
use std::fmt;

use crate::{ConversionError, ConvertHub, Gvk, Kind};

/// A hub object of some kind, type-erased so one registry can hold every kind.
pub type HubObject = Box<dyn Any + Send>;

/// An object of one version, type-erased, between reading and conversion.
type Versioned = Box<dyn Any + Send>;

/// Why bytes could not become a hub object, or a hub object bytes.
#[derive(Debug)]
pub enum CodecError {
    /// No version of that group/version/kind is registered.
    NotRegistered(Gvk),
    /// The bytes are not a valid object of the version (the message names the field).
    Decode(serde_json::Error),
    /// The version and the hub do not convert.
    Convert(ConversionError),
    /// The object given to encode is not the hub type of that kind.
    WrongType {
        gvk: Gvk,
        expected: &'static str,
    },
    Encode(serde_json::Error),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::NotRegistered(g) => {
                write!(
                    f,
                    "no kind {} is registered in {}/{}",
                    g.kind, g.group, g.version
                )
            }
            CodecError::Decode(e) => write!(f, "{e}"),
            CodecError::Convert(e) => write!(f, "conversion failed: {e}"),
            CodecError::WrongType { gvk, expected } => {
                write!(
                    f,
                    "{}/{} {} encodes a {expected}",
                    gvk.group, gvk.version, gvk.kind
                )
            }
            CodecError::Encode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// How one version of a kind is read and written.
#[derive(Clone, Copy)]
pub(crate) struct VersionCodec {
    /// JSON → the version's object.
    pub read: fn(&[u8]) -> Result<Versioned, CodecError>,
    /// The version's object → its hub object (moved across, not copied).
    pub to_hub: fn(Versioned) -> Result<HubObject, CodecError>,
    /// A hub object → the version's JSON.
    pub encode: fn(&dyn Any) -> Result<Vec<u8>, CodecError>,
    /// A hub object → the version's JSON value (no text in between).
    pub encode_value: fn(&dyn Any) -> Result<serde_json::Value, CodecError>,
    /// `std::any::type_name` of the hub type (for messages).
    pub hub: &'static str,
}

impl fmt::Debug for VersionCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionCodec")
            .field("hub", &self.hub)
            .finish()
    }
}

fn wrong_type<V: Kind>(expected: &'static str) -> CodecError {
    let i = V::INFO;
    CodecError::WrongType {
        gvk: Gvk::new(i.group, i.version, i.kind),
        expected,
    }
}

pub(crate) fn codec_of<V>() -> VersionCodec
where
    V: Kind + ConvertHub + serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    V::Hub: Clone + Send + 'static,
{
    fn read<V: serde::de::DeserializeOwned + Send + 'static>(
        bytes: &[u8],
    ) -> Result<Versioned, CodecError> {
        let v: V = serde_json::from_slice(bytes).map_err(CodecError::Decode)?;
        Ok(Box::new(v))
    }
    fn to_hub<V>(v: Versioned) -> Result<HubObject, CodecError>
    where
        V: Kind + ConvertHub + 'static,
        V::Hub: Send + 'static,
    {
        let v = v
            .downcast::<V>()
            .map_err(|_| wrong_type::<V>(std::any::type_name::<V>()))?;
        Ok(Box::new((*v).into_hub().map_err(CodecError::Convert)?))
    }
    fn encode<V>(hub: &dyn Any) -> Result<Vec<u8>, CodecError>
    where
        V: Kind + ConvertHub + serde::Serialize,
        V::Hub: Clone + 'static,
    {
        let hub = hub
            .downcast_ref::<V::Hub>()
            .ok_or_else(|| wrong_type::<V>(std::any::type_name::<V::Hub>()))?;
        let v = V::from_hub(hub.clone()).map_err(CodecError::Convert)?;
        serde_json::to_vec(&v).map_err(CodecError::Encode)
    }
    fn encode_value<V>(hub: &dyn Any) -> Result<serde_json::Value, CodecError>
    where
        V: Kind + ConvertHub + serde::Serialize,
        V::Hub: Clone + 'static,
    {
        let hub = hub
            .downcast_ref::<V::Hub>()
            .ok_or_else(|| wrong_type::<V>(std::any::type_name::<V::Hub>()))?;
        let v = V::from_hub(hub.clone()).map_err(CodecError::Convert)?;
        serde_json::to_value(&v).map_err(CodecError::Encode)
    }
    VersionCodec {
        read: read::<V>,
        to_hub: to_hub::<V>,
        encode: encode::<V>,
        encode_value: encode_value::<V>,
        hub: std::any::type_name::<V::Hub>(),
    }
}
