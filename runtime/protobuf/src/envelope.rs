//! What surrounds a message on the wire, as k8s.io/apimachinery's protobuf serializer writes it:
//! every object starts with the magic `k8s\0` and is a `runtime.Unknown` carrying its
//! `apiVersion` and `kind` beside the message bytes; a list is a message with `ListMeta` as
//! field 1 and its items as field 2; a watch stream is a series of frames, each a 4-byte
//! big-endian length and a `metav1.WatchEvent` whose object is an enveloped object.

use crate::DecodeError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, Status};
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use crate::wire::{self, Depth, Field, decode_key, skip};
use crate::{Message, to_vec};

/// The first bytes of every enveloped object.
pub const MAGIC: &[u8; 4] = b"k8s\0";
/// The media type of protobuf objects.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of a protobuf watch stream.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// An enveloped object: `runtime.Unknown` (`typeMeta` = 1, `raw` = 2, `contentEncoding` = 3,
/// `contentType` = 4; `runtime.TypeMeta` is `apiVersion` = 1, `kind` = 2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unknown {
    pub api_version: String,
    pub kind: String,
    /// The object's message bytes.
    pub raw: Vec<u8>,
    pub content_encoding: String,
    pub content_type: String,
}

fn type_meta_len(api_version: &str, kind: &str) -> usize {
    wire::bytes_len(1, api_version.len()) + wire::bytes_len(2, kind.len())
}

/// Appends `k8s\0` and a `runtime.Unknown` holding `raw` as `api_version`/`kind`.
pub fn wrap(api_version: &str, kind: &str, raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(MAGIC.len() + raw.len() + api_version.len() + kind.len() + 24);
    out.extend_from_slice(MAGIC);
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(type_meta_len(api_version, kind) as u64, out);
    wire::encode_str(1, api_version, out);
    wire::encode_str(2, kind, out);
    wire::encode_bytes(2, raw, out);
    wire::encode_str(3, "", out);
    wire::encode_str(4, "", out);
}

/// An object's envelope: `k8s\0` + `runtime.Unknown` with the message of `object`.
pub fn encode_object<M: Message>(api_version: &str, kind: &str, object: &M) -> Vec<u8> {
    let mut out = Vec::new();
    wrap(api_version, kind, &to_vec(object), &mut out);
    out
}

/// Why bytes are not an enveloped object.
fn not_enveloped() -> DecodeError {
    DecodeError::new(
        "not a Kubernetes protobuf object: the body must start with the magic bytes \"k8s\\x00\"",
    )
}

/// Reads an envelope (checking the magic prefix).
pub fn unwrap(bytes: &[u8]) -> Result<Unknown, DecodeError> {
    let mut buf = bytes.strip_prefix(MAGIC).ok_or_else(not_enveloped)?;
    Unknown::decode_fields(&mut buf, Depth::default())
}

impl Message for Unknown {
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        encode_key(1, WireType::LengthDelimited, buf);
        encode_varint(type_meta_len(&self.api_version, &self.kind) as u64, buf);
        wire::encode_str(1, &self.api_version, buf);
        wire::encode_str(2, &self.kind, buf);
        wire::encode_bytes(2, &self.raw, buf);
        wire::encode_str(3, &self.content_encoding, buf);
        wire::encode_str(4, &self.content_type, buf);
    }
    fn fields_len(&self) -> usize {
        let tm = type_meta_len(&self.api_version, &self.kind);
        1 + encoded_len_varint(tm as u64)
            + tm
            + wire::bytes_len(2, self.raw.len())
            + wire::bytes_len(3, self.content_encoding.len())
            + wire::bytes_len(4, self.content_type.len())
    }
    fn decode_fields(buf: &mut &[u8], depth: Depth) -> Result<Self, DecodeError> {
        let mut u = Unknown::default();
        while !buf.is_empty() {
            let (tag, wire) = decode_key(buf)?;
            match tag {
                1 => {
                    let tm = wire::decode_bytes(wire, buf)?;
                    let mut tm = &tm[..];
                    while !tm.is_empty() {
                        let (tag, wire) = decode_key(&mut tm)?;
                        match tag {
                            1 => u.api_version = String::decode(wire, &mut tm, depth)?,
                            2 => u.kind = String::decode(wire, &mut tm, depth)?,
                            _ => skip(wire, tag, &mut tm)?,
                        }
                    }
                }
                2 => u.raw = wire::decode_bytes(wire, buf)?,
                3 => u.content_encoding = String::decode(wire, buf, depth)?,
                4 => u.content_type = String::decode(wire, buf, depth)?,
                _ => skip(wire, tag, buf)?,
            }
        }
        Ok(u)
    }
}

/// Reads an enveloped object of `kind` (any `apiVersion` the caller then checks).
pub fn decode_object<M: Message>(bytes: &[u8]) -> Result<(Unknown, M), DecodeError> {
    let unknown = unwrap(bytes)?;
    if !unknown.content_encoding.is_empty() {
        return Err(DecodeError::new(format!(
            "unsupported content encoding {:?}",
            unknown.content_encoding
        )));
    }
    let object = crate::from_slice(&unknown.raw)?;
    Ok((unknown, object))
}

/// A list's message: `metadata` (1) and the items' messages (2), given as bytes already
/// encoded (the server keeps them so).
pub fn list_message<'a>(meta: &ListMeta, items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    meta.encode(1, &mut out);
    for item in items {
        wire::encode_bytes(2, item, &mut out);
    }
    out
}

/// An enveloped list written in parts, so that a server can send it as it is made: the head
/// (the envelope up to the first item, which needs the items' total length), each item's
/// prefix and message, then the tail. The parts joined are the bytes of [`wrap`] around
/// [`list_message`].
pub mod list_parts {
    use super::*;

    /// What the items take in the list message: each is field 2, length-delimited.
    pub fn items_len(lens: impl IntoIterator<Item = usize>) -> usize {
        lens.into_iter().map(|len| wire::bytes_len(2, len)).sum()
    }

    /// The envelope and the list message up to its items (`items_len` from [`items_len`]).
    pub fn head(api_version: &str, list_kind: &str, meta: &ListMeta, items_len: usize) -> Vec<u8> {
        let raw_len = meta.encoded_len(1) + items_len;
        let mut out = Vec::with_capacity(64 + api_version.len() + list_kind.len());
        out.extend_from_slice(MAGIC);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(type_meta_len(api_version, list_kind) as u64, &mut out);
        wire::encode_str(1, api_version, &mut out);
        wire::encode_str(2, list_kind, &mut out);
        encode_key(2, WireType::LengthDelimited, &mut out);
        encode_varint(raw_len as u64, &mut out);
        meta.encode(1, &mut out);
        out
    }

    /// Writes the key and length of an item of `len` bytes (its message follows).
    pub fn item_prefix(len: usize, out: &mut Vec<u8>) {
        encode_key(2, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
    }

    /// The envelope after the list message (empty `contentEncoding` and `contentType`).
    pub fn tail() -> Vec<u8> {
        let mut out = Vec::with_capacity(4);
        wire::encode_str(3, "", &mut out);
        wire::encode_str(4, "", &mut out);
        out
    }
}

/// A list read back: its `ListMeta` and its items' message bytes.
pub fn decode_list(mut buf: &[u8]) -> Result<(ListMeta, Vec<Vec<u8>>), DecodeError> {
    let (mut meta, mut items) = (ListMeta::default(), Vec::new());
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf)?;
        match tag {
            1 => meta = ListMeta::decode(wire, &mut buf, Depth::default())?,
            2 => items.push(wire::decode_bytes(wire, &mut buf)?),
            _ => skip(wire, tag, &mut buf)?,
        }
    }
    Ok((meta, items))
}

/// A `Status` (an error, or what a delete answers) as `v1` `Status`, enveloped.
pub fn encode_status(status: &Status) -> Vec<u8> {
    encode_object("v1", "Status", status)
}

/// One frame of a protobuf watch stream: a 4-byte big-endian length, then `metav1.WatchEvent`
/// (`type` = 1, `object` = 2, a `runtime.RawExtension` whose `raw` (1) is the enveloped object).
pub fn watch_frame(event_type: &str, enveloped_object: &[u8], out: &mut Vec<u8>) {
    let object_len = wire::bytes_len(1, enveloped_object.len());
    let len = wire::bytes_len(1, event_type.len())
        + 1
        + encoded_len_varint(object_len as u64)
        + object_len;
    out.reserve(4 + len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    wire::encode_str(1, event_type, out);
    encode_key(2, WireType::LengthDelimited, out);
    encode_varint(object_len as u64, out);
    wire::encode_bytes(1, enveloped_object, out);
}

/// A watch event read back from one frame's bytes (without the length prefix): its type and
/// the enveloped object.
pub fn decode_watch_event(mut buf: &[u8]) -> Result<(String, Vec<u8>), DecodeError> {
    let (mut event_type, mut object) = (String::new(), Vec::new());
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf)?;
        match tag {
            1 => event_type = String::decode(wire, &mut buf, Depth::default())?,
            2 => {
                let raw_extension = wire::decode_bytes(wire, &mut buf)?;
                let mut re = &raw_extension[..];
                while !re.is_empty() {
                    let (tag, wire) = decode_key(&mut re)?;
                    match tag {
                        1 => object = wire::decode_bytes(wire, &mut re)?,
                        _ => skip(wire, tag, &mut re)?,
                    }
                }
            }
            _ => skip(wire, tag, &mut buf)?,
        }
    }
    Ok((event_type, object))
}

/// Splits a watch stream's bytes into frames; returns the complete frames and how many bytes
/// they took (the rest waits for more bytes).
pub fn split_frames(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let (mut frames, mut at) = (Vec::new(), 0);
    while bytes.len() - at >= 4 {
        let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let end = at + 4 + len as usize;
        if end > bytes.len() {
            break;
        }
        frames.push(&bytes[at + 4..end]);
        at = end;
    }
    (frames, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parts_join_to_the_whole_list() {
        let meta = ListMeta {
            resource_version: Some("42".into()),
            continue_: Some("token".into()),
            remaining_item_count: Some(7),
            ..Default::default()
        };
        let big = vec![7u8; 300];
        let items: Vec<&[u8]> = vec![b"\x0a\x01a", b"", &big];
        for items in [&items[..], &[][..]] {
            let mut whole = Vec::new();
            wrap(
                "v1",
                "PodList",
                &list_message(&meta, items.iter().copied()),
                &mut whole,
            );
            let mut parts = list_parts::head(
                "v1",
                "PodList",
                &meta,
                list_parts::items_len(items.iter().map(|i| i.len())),
            );
            for item in items {
                list_parts::item_prefix(item.len(), &mut parts);
                parts.extend_from_slice(item);
            }
            parts.extend_from_slice(&list_parts::tail());
            assert_eq!(parts, whole);
        }
    }
}
