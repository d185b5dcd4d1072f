//! The `k8s.io.api.core.v1` messages that custom types embed most (references, key selectors,
//! resource requirements, tolerations), numbered as Kubernetes numbers them; k8s-pb's are the
//! reference the tests decode with. Other k8s-openapi types travel as JSON (protobuf-gen says so
//! in `generated.proto`).

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, LocalObjectReference, ObjectReference, ResourceClaim,
    ResourceRequirements, SecretKeySelector, Toleration, TypedLocalObjectReference,
};

use crate::wire::{self, Depth, Field, context, decode_key, skip};
use crate::{DecodeError, Message, message_field};

macro_rules! core_message {
    ($ty:ident { $($tag:literal => $field:ident),* $(,)? }) => {
        impl Message for $ty {
            fn encode_fields(&self, buf: &mut Vec<u8>) {
                $( Field::encode(&self.$field, $tag, buf); )*
            }
            fn fields_len(&self) -> usize {
                0 $( + Field::encoded_len(&self.$field, $tag) )*
            }
            fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
                let mut m = $ty::default();
                while !buf.is_empty() {
                    let (tag, wire) = decode_key(buf)?;
                    match tag {
                        $( $tag => Field::merge(&mut m.$field, wire, buf, depth)
                            .map_err(|e| context(e, stringify!($ty), stringify!($field)))?, )*
                        _ => skip(wire, tag, buf)?,
                    }
                }
                Ok(m)
            }
        }
        message_field!($ty);
    };
}

core_message!(ObjectReference {
    1 => kind,
    2 => namespace,
    3 => name,
    4 => uid,
    5 => api_version,
    6 => resource_version,
    7 => field_path,
});

core_message!(LocalObjectReference { 1 => name });

core_message!(TypedLocalObjectReference {
    1 => api_group,
    2 => kind,
    3 => name,
});

core_message!(ResourceClaim {
    1 => name,
    2 => request,
});

core_message!(ResourceRequirements {
    1 => limits,
    2 => requests,
    3 => claims,
});

core_message!(Toleration {
    1 => key,
    2 => operator,
    3 => value,
    4 => effect,
    5 => toleration_seconds,
});

/// `SecretKeySelector` and `ConfigMapKeySelector`: Go embeds `LocalObjectReference` (field 1,
/// a message holding `name`) where k8s-openapi flattens `name`.
macro_rules! key_selector {
    ($ty:ident) => {
        impl Message for $ty {
            fn encode_fields(&self, buf: &mut Vec<u8>) {
                let mut reference = Vec::new();
                self.name.encode(1, &mut reference);
                wire::encode_bytes(1, &reference, buf);
                self.key.encode(2, buf);
                self.optional.encode(3, buf);
            }
            fn fields_len(&self) -> usize {
                wire::bytes_len(1, self.name.encoded_len(1))
                    + self.key.encoded_len(2)
                    + self.optional.encoded_len(3)
            }
            fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
                let mut m = $ty::default();
                while !buf.is_empty() {
                    let (tag, wire) = decode_key(buf)?;
                    match tag {
                        1 => {
                            m.name = LocalObjectReference::decode(wire, buf, depth)
                                .map_err(|e| context(e, stringify!($ty), "name"))?
                                .name
                        }
                        2 => m.key = String::decode(wire, buf, depth)?,
                        3 => m.optional = Some(bool::decode(wire, buf, depth)?),
                        _ => skip(wire, tag, buf)?,
                    }
                }
                Ok(m)
            }
        }
        message_field!($ty);
    };
}

key_selector!(SecretKeySelector);
key_selector!(ConfigMapKeySelector);
