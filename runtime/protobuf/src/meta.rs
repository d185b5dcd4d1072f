//! The apimachinery messages that k8s-openapi types stand for, numbered as Kubernetes'
//! `generated.proto` numbers them (`k8s.io.apimachinery.pkg.apis.meta.v1`, `...api.resource`,
//! `...util.intstr`, `...runtime`); k8s-pb's messages are the reference the tests decode with.

use crate::DecodeError;
use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, Condition, DeleteOptions,
    FieldSelectorRequirement, FieldsV1, GroupVersionForDiscovery, LabelSelector,
    LabelSelectorRequirement, ListMeta, ManagedFieldsEntry, MicroTime, ObjectMeta, OwnerReference,
    Preconditions, ServerAddressByClientCIDR, Status, StatusCause, StatusDetails, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use prost::encoding::WireType;

use crate::wire::{self, Depth, Field, context, decode_key, skip};
use crate::{Message, message_field};

/// A message over a struct with `Default`, field by field: `tag => field`.
macro_rules! known_message {
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

known_message!(ObjectMeta {
    1 => name,
    2 => generate_name,
    3 => namespace,
    4 => self_link,
    5 => uid,
    6 => resource_version,
    7 => generation,
    8 => creation_timestamp,
    9 => deletion_timestamp,
    10 => deletion_grace_period_seconds,
    11 => labels,
    12 => annotations,
    13 => owner_references,
    14 => finalizers,
    17 => managed_fields,
});

known_message!(ListMeta {
    1 => self_link,
    2 => resource_version,
    3 => continue_,
    4 => remaining_item_count,
});

known_message!(OwnerReference {
    1 => kind,
    3 => name,
    4 => uid,
    5 => api_version,
    6 => controller,
    7 => block_owner_deletion,
});

known_message!(ManagedFieldsEntry {
    1 => manager,
    2 => operation,
    3 => api_version,
    4 => time,
    6 => fields_type,
    7 => fields_v1,
    8 => subresource,
});

known_message!(Status {
    1 => metadata,
    2 => status,
    3 => message,
    4 => reason,
    5 => details,
    6 => code,
});

known_message!(StatusDetails {
    1 => name,
    2 => group,
    3 => kind,
    4 => causes,
    5 => retry_after_seconds,
    6 => uid,
});

known_message!(StatusCause {
    1 => reason,
    2 => message,
    3 => field,
});

known_message!(LabelSelector {
    1 => match_labels,
    2 => match_expressions,
});

known_message!(LabelSelectorRequirement {
    1 => key,
    2 => operator,
    3 => values,
});

// Discovery documents (what `/api`, `/apis`, `/apis/<group>` and `/apis/<group>/<version>`
// answer).
known_message!(APIVersions {
    1 => versions,
    2 => server_address_by_client_cidrs,
});

known_message!(ServerAddressByClientCIDR {
    1 => client_cidr,
    2 => server_address,
});

known_message!(APIGroupList { 1 => groups });

known_message!(APIGroup {
    1 => name,
    2 => versions,
    3 => preferred_version,
    4 => server_address_by_client_cidrs,
});

known_message!(GroupVersionForDiscovery {
    1 => group_version,
    2 => version,
});

known_message!(APIResourceList {
    1 => group_version,
    2 => resources,
});

/// `APIResource`: Go's `Verbs` is a named `[]string`, so go-to-protobuf wraps it in a message of
/// its own (`Verbs { repeated string items = 1 }`, field 4); always written, as Go writes a set
/// slice.
impl Message for APIResource {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        self.name.encode(1, buf);
        self.namespaced.encode(2, buf);
        self.kind.encode(3, buf);
        prost::encoding::encode_key(4, WireType::LengthDelimited, buf);
        prost::encoding::encode_varint(self.verbs.encoded_len(1) as u64, buf);
        self.verbs.encode(1, buf);
        self.short_names.encode(5, buf);
        self.singular_name.encode(6, buf);
        self.categories.encode(7, buf);
        self.group.encode(8, buf);
        self.version.encode(9, buf);
        self.storage_version_hash.encode(10, buf);
    }
    fn fields_len(&self) -> usize {
        self.name.encoded_len(1)
            + self.namespaced.encoded_len(2)
            + self.kind.encoded_len(3)
            + wire::bytes_len(4, self.verbs.encoded_len(1))
            + self.short_names.encoded_len(5)
            + self.singular_name.encoded_len(6)
            + self.categories.encoded_len(7)
            + self.group.encoded_len(8)
            + self.version.encoded_len(9)
            + self.storage_version_hash.encoded_len(10)
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut m = APIResource::default();
        let at = |field| move |e| context(e, "APIResource", field);
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => m.name.merge(wire, buf, depth).map_err(at("name"))?,
                2 => m
                    .namespaced
                    .merge(wire, buf, depth)
                    .map_err(at("namespaced"))?,
                3 => m.kind.merge(wire, buf, depth).map_err(at("kind"))?,
                4 => merge_verbs(&mut m.verbs, wire, buf, depth).map_err(at("verbs"))?,
                5 => m
                    .short_names
                    .merge(wire, buf, depth)
                    .map_err(at("short_names"))?,
                6 => m
                    .singular_name
                    .merge(wire, buf, depth)
                    .map_err(at("singular_name"))?,
                7 => m
                    .categories
                    .merge(wire, buf, depth)
                    .map_err(at("categories"))?,
                8 => m.group.merge(wire, buf, depth).map_err(at("group"))?,
                9 => m.version.merge(wire, buf, depth).map_err(at("version"))?,
                10 => m
                    .storage_version_hash
                    .merge(wire, buf, depth)
                    .map_err(at("storage_version_hash"))?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(m)
    }
}

/// Reads a `Verbs` message's items into `verbs`.
fn merge_verbs(
    verbs: &mut Vec<String>,
    wire: WireType,
    buf: &mut &[u8],
    depth: Depth,
) -> Result<(), DecodeError> {
    let bytes = wire::decode_bytes(wire, buf)?;
    let mut inner = &bytes[..];
    while !inner.is_empty() {
        let (tag, wire) = decode_key(&mut inner)?;
        match tag {
            1 => verbs.merge(wire, &mut inner, depth)?,
            _ => skip(wire, tag, &mut inner)?,
        }
    }
    Ok(())
}
message_field!(APIResource);

known_message!(FieldSelectorRequirement {
    1 => key,
    2 => operator,
    3 => values,
});

// `apiVersion` and `kind` (Go's inlined TypeMeta) have no protobuf field: the envelope carries
// them, and an embedded DeleteOptions (policy's Eviction) goes without, as in Kubernetes.
known_message!(DeleteOptions {
    1 => grace_period_seconds,
    2 => preconditions,
    3 => orphan_dependents,
    4 => propagation_policy,
    5 => dry_run,
    6 => ignore_store_read_error_with_cluster_breaking_potential,
});

known_message!(Preconditions {
    1 => uid,
    2 => resource_version,
});

k8s_openapi::k8s_if_ge_1_35! {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::GroupResource;
    known_message!(GroupResource {
        1 => group,
        2 => resource,
    });
}

/// `metav1.Condition`: `lastTransitionTime` has no default, so the message is read into locals.
impl Message for Condition {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        self.type_.encode(1, buf);
        self.status.encode(2, buf);
        self.observed_generation.encode(3, buf);
        self.last_transition_time.encode(4, buf);
        self.reason.encode(5, buf);
        self.message.encode(6, buf);
    }
    fn fields_len(&self) -> usize {
        self.type_.encoded_len(1)
            + self.status.encoded_len(2)
            + self.observed_generation.encoded_len(3)
            + self.last_transition_time.encoded_len(4)
            + self.reason.encoded_len(5)
            + self.message.encoded_len(6)
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let (mut type_, mut status, mut observed_generation) = (String::new(), String::new(), None);
        let (mut last_transition_time, mut reason, mut message) =
            (None, String::new(), String::new());
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            let at = |field| move |e| context(e, "Condition", field);
            match tag {
                1 => type_ = String::decode(wire, buf, depth).map_err(at("type"))?,
                2 => status = String::decode(wire, buf, depth).map_err(at("status"))?,
                3 => {
                    observed_generation =
                        Some(i64::decode(wire, buf, depth).map_err(at("observedGeneration"))?)
                }
                4 => {
                    last_transition_time =
                        Some(Time::decode(wire, buf, depth).map_err(at("lastTransitionTime"))?)
                }
                5 => reason = String::decode(wire, buf, depth).map_err(at("reason"))?,
                6 => message = String::decode(wire, buf, depth).map_err(at("message"))?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(Condition {
            type_,
            status,
            observed_generation,
            last_transition_time: last_transition_time
                .ok_or_else(|| DecodeError::new("missing field Condition.lastTransitionTime"))?,
            reason,
            message,
        })
    }
}
message_field!(Condition);

/// `Time` and `MicroTime`: `{ int64 seconds = 1; int32 nanos = 2; }`.
macro_rules! timestamp_message {
    ($ty:ident) => {
        impl Message for $ty {
            fn encode_fields(&self, buf: &mut Vec<u8>) {
                self.0.as_second().encode(1, buf);
                self.0.subsec_nanosecond().encode(2, buf);
            }
            fn fields_len(&self) -> usize {
                self.0.as_second().encoded_len(1) + self.0.subsec_nanosecond().encoded_len(2)
            }
            fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
                let (mut seconds, mut nanos) = (0i64, 0i32);
                while !buf.is_empty() {
                    let (tag, wire) = decode_key(buf)?;
                    match tag {
                        1 => seconds = i64::decode(wire, buf, depth)?,
                        2 => nanos = i32::decode(wire, buf, depth)?,
                        _ => skip(wire, tag, buf)?,
                    }
                }
                Timestamp::new(seconds, nanos)
                    .map($ty)
                    .map_err(|e| DecodeError::new(format!("invalid {}: {e}", stringify!($ty))))
            }
        }
        message_field!($ty);
    };
}

timestamp_message!(Time);
timestamp_message!(MicroTime);

/// `Duration` (metav1.Duration, kube's `Duration`): `{ int64 duration = 1; }`, in nanoseconds,
/// negative ones too (Go's `time.Duration` is signed).
impl Message for kube_core::Duration {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        duration_nanos(self).encode(1, buf);
    }
    fn fields_len(&self) -> usize {
        duration_nanos(self).encoded_len(1)
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut nanos = 0i64;
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => nanos = i64::decode(wire, buf, depth)?,
                _ => skip(wire, tag, buf)?,
            }
        }
        let magnitude = std::time::Duration::from_nanos(nanos.unsigned_abs());
        if nanos >= 0 {
            return Ok(magnitude.into());
        }
        // kube's `Duration` takes a negative one only from its text; whole seconds and the rest
        // apart, so that no unit's number loses precision.
        format!("-{}s{}ns", magnitude.as_secs(), magnitude.subsec_nanos())
            .parse()
            .map_err(|e| DecodeError::new(format!("invalid Duration: {e}")))
    }
}
message_field!(kube_core::Duration);

/// Signed nanoseconds, saturated at `i64`'s ends (Go's `time.Duration` holds no more).
fn duration_nanos(d: &kube_core::Duration) -> i64 {
    let magnitude = std::time::Duration::from(*d).as_nanos() as i128;
    let signed = if d.is_negative() {
        -magnitude
    } else {
        magnitude
    };
    signed.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// `Quantity`: `{ string string = 1; }`.
impl Message for Quantity {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        self.0.encode(1, buf)
    }
    fn fields_len(&self) -> usize {
        self.0.encoded_len(1)
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut s = String::new();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => s = String::decode(wire, buf, depth)?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(Quantity(s))
    }
}
message_field!(Quantity);

/// `IntOrString`: `{ int64 type = 1; int32 intVal = 2; string strVal = 3; }` (type 0: int).
impl Message for IntOrString {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        match self {
            IntOrString::Int(i) => {
                0i64.encode(1, buf);
                i.encode(2, buf);
                String::new().encode(3, buf);
            }
            IntOrString::String(s) => {
                1i64.encode(1, buf);
                0i32.encode(2, buf);
                s.encode(3, buf);
            }
        }
    }
    fn fields_len(&self) -> usize {
        match self {
            IntOrString::Int(i) => 0i64.encoded_len(1) + i.encoded_len(2) + wire::bytes_len(3, 0),
            IntOrString::String(s) => 1i64.encoded_len(1) + 0i32.encoded_len(2) + s.encoded_len(3),
        }
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let (mut kind, mut int, mut string) = (0i64, 0i32, String::new());
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => kind = i64::decode(wire, buf, depth)?,
                2 => int = i32::decode(wire, buf, depth)?,
                3 => string = String::decode(wire, buf, depth)?,
                _ => skip(wire, tag, buf)?,
            }
        }
        match kind {
            0 => Ok(IntOrString::Int(int)),
            1 => Ok(IntOrString::String(string)),
            other => Err(DecodeError::new(format!(
                "invalid IntOrString type {other} (0: int, 1: string)"
            ))),
        }
    }
}
message_field!(IntOrString);

/// JSON carried as bytes: `FieldsV1 { bytes Raw = 1; }` and, for `serde_json::Value`,
/// `runtime.RawExtension { bytes raw = 1; }`.
fn encode_json(value: &serde_json::Value, buf: &mut Vec<u8>) {
    // A `Value` always serializes.
    let json = serde_json::to_vec(value).unwrap_or_default();
    wire::encode_bytes(1, &json, buf)
}

fn json_len(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    wire::bytes_len(1, count.0)
}

fn decode_json(buf: &mut &[u8]) -> Result<serde_json::Value, DecodeError> {
    let mut value = serde_json::Value::Null;
    while !buf.is_empty() {
        let (tag, wire) = decode_key(buf)?;
        match tag {
            1 => {
                let raw = wire::decode_bytes(wire, buf)?;
                value = if raw.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::from_slice(&raw)
                        .map_err(|e| DecodeError::new(format!("invalid JSON in raw bytes: {e}")))?
                };
            }
            _ => skip(wire, tag, buf)?,
        }
    }
    Ok(value)
}

impl Message for FieldsV1 {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        encode_json(&self.0, buf)
    }
    fn fields_len(&self) -> usize {
        json_len(&self.0)
    }
    fn decode_fields(buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
        decode_json(buf).map(FieldsV1)
    }
}
message_field!(FieldsV1);

/// `runtime.RawExtension`: JSON in `raw` (1).
impl Message for k8s_openapi::apimachinery::pkg::runtime::RawExtension {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        encode_json(&self.0, buf)
    }
    fn fields_len(&self) -> usize {
        json_len(&self.0)
    }
    fn decode_fields(buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
        decode_json(buf).map(k8s_openapi::apimachinery::pkg::runtime::RawExtension)
    }
}
message_field!(k8s_openapi::apimachinery::pkg::runtime::RawExtension);

impl Message for serde_json::Value {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        encode_json(self, buf)
    }
    fn fields_len(&self) -> usize {
        json_len(self)
    }
    fn decode_fields(buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
        decode_json(buf)
    }
}
message_field!(serde_json::Value);

/// `ByteString`: a `bytes` field.
impl Field for ByteString {
    const WIRE: WireType = WireType::LengthDelimited;
    fn encode(&self, tag: u32, buf: &mut Vec<u8>) {
        wire::encode_bytes(tag, &self.0, buf)
    }
    fn encoded_len(&self, tag: u32) -> usize {
        wire::bytes_len(tag, self.0.len())
    }
    fn decode(wire: WireType, buf: &mut &[u8], _: Depth) -> Result<Self, DecodeError> {
        wire::decode_bytes(wire, buf).map(ByteString)
    }
    fn absent() -> Option<Self> {
        Some(ByteString(Vec::new()))
    }
}
