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
pub trait ConvertHub: Sized {
    /// The hub's type of the same name.
    type Hub;
    fn to_hub(&self) -> Result<Self::Hub, ConversionError>;
    fn from_hub(hub: &Self::Hub) -> Result<Self, ConversionError>;
}

/// Converts between two versions of one type through their hub.
pub fn convert<A, B>(from: &A) -> Result<B, ConversionError>
where
    A: ConvertHub,
    B: ConvertHub<Hub = A::Hub>,
{
    B::from_hub(&from.to_hub()?)
}
