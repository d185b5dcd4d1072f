//! `PartialObjectMetadata`: objects reduced to their metadata, for clients that ask with
//! `Accept: …;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1` — client-go's metadata client,
//! which kube-controller-manager's garbage collector and namespace controller use on every
//! resource, aggregated ones included. Get, list and watch answer it, in JSON or protobuf
//! (`meta.k8s.io/v1` messages: `PartialObjectMetadata { metadata = 1 }`,
//! `PartialObjectMetadataList { metadata = 1; items = 2 }`), whatever the resource's version
//! supports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_codegen_protobuf::envelope;

use super::*;

/// `meta.k8s.io/v1` (or `v1beta1`, which older clients ask for).
pub(super) fn api_version(beta: bool) -> &'static str {
    if beta {
        "meta.k8s.io/v1beta1"
    } else {
        "meta.k8s.io/v1"
    }
}

/// An object's `PartialObjectMetadata` in JSON.
pub(super) fn json(obj: &Value, beta: bool) -> Value {
    partial(obj.get("metadata").cloned(), beta)
}

/// `PartialObjectMetadata` around an object's `metadata` (`{}` when it has none).
fn partial(metadata: Option<Value>, beta: bool) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version(beta),
        "metadata": metadata.unwrap_or_else(|| json!({})),
    })
}

/// An object's `metadata`, read from its stored JSON (a streamed list's item) without the rest.
fn stored_metadata<M: serde::de::DeserializeOwned>(object: &[u8]) -> Result<Option<M>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Metadata<M> {
        #[serde(default = "none")]
        metadata: Option<M>,
    }
    fn none<M>() -> Option<M> {
        None
    }
    let m: Metadata<M> = serde_json::from_slice(object)
        .map_err(|e| ApiError::internal(format!("a stored object cannot be read: {e}")))?;
    Ok(m.metadata)
}

/// Appends the `PartialObjectMetadata` of an object given as JSON (a streamed list's item).
pub(super) fn write_json(object: &[u8], beta: bool, out: &mut Vec<u8>) -> Result<(), ApiError> {
    let partial = partial(stored_metadata::<Value>(object)?, beta);
    serde_json::to_writer(out, &partial).map_err(|e| ApiError::internal(e.to_string()))
}

/// The `PartialObjectMetadata` message of an object given as JSON (a list's item).
pub(super) fn message_of_json(object: &[u8]) -> Result<Vec<u8>, ApiError> {
    Ok(encode(
        &stored_metadata::<ObjectMeta>(object)?.unwrap_or_default(),
    ))
}

/// An object's `PartialObjectMetadata` message (not enveloped).
fn message(obj: &Value) -> Result<Vec<u8>, ApiError> {
    let meta: ObjectMeta =
        serde_json::from_value(obj.get("metadata").cloned().unwrap_or_else(|| json!({})))
            .map_err(|e| ApiError::internal(format!("metadata cannot be read: {e}")))?;
    Ok(encode(&meta))
}

/// `PartialObjectMetadata { metadata = 1 }`.
fn encode(meta: &ObjectMeta) -> Vec<u8> {
    let mut out = Vec::new();
    kube_codegen_protobuf::Field::encode(meta, 1, &mut out);
    out
}

/// An object's `PartialObjectMetadata`, enveloped.
pub(super) fn protobuf(obj: &Value, beta: bool) -> Result<Vec<u8>, ApiError> {
    let raw = message(obj)?;
    let mut out = Vec::with_capacity(raw.len() + 48);
    envelope::wrap(api_version(beta), "PartialObjectMetadata", &raw, &mut out);
    Ok(out)
}

/// One object's answer.
pub(super) fn object(
    code: StatusCode,
    obj: &Value,
    beta: bool,
    in_protobuf: bool,
) -> Result<Resp, ApiError> {
    if in_protobuf {
        return Ok(Response::builder()
            .status(code)
            .header(header::CONTENT_TYPE, protobuf::MEDIA_TYPE)
            .body(Body::from(self::protobuf(obj, beta)?))
            .expect("response"));
    }
    Ok(json_response(code, &json(obj, beta)))
}

/// A `PartialObjectMetadataList` of `items`.
pub(super) fn list(
    items: &[Value],
    beta: bool,
    in_protobuf: bool,
    resource_version: String,
    continue_token: Option<String>,
    remaining_item_count: Option<u64>,
) -> Result<Resp, ApiError> {
    if in_protobuf {
        let messages = items.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        let meta = protobuf::list_meta(resource_version, continue_token, remaining_item_count);
        let raw = envelope::list_message(&meta, messages.iter().map(Vec::as_slice));
        let mut out = Vec::with_capacity(raw.len() + 64);
        envelope::wrap(
            api_version(beta),
            "PartialObjectMetadataList",
            &raw,
            &mut out,
        );
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, protobuf::MEDIA_TYPE)
            .body(Body::from(out))
            .expect("response"));
    }
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(n) = remaining_item_count {
        metadata["remainingItemCount"] = json!(n);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": api_version(beta),
            "metadata": metadata,
            "items": items.iter().map(|o| json(o, beta)).collect::<Vec<_>>(),
        }),
    ))
}

/// A watch event (or bookmark) whose object is the `PartialObjectMetadata` of `obj`: a JSON
/// line, or a protobuf frame.
pub(super) fn watch_event(
    event_type: &str,
    obj: &Value,
    beta: bool,
    in_protobuf: bool,
) -> Result<Bytes, ApiError> {
    if in_protobuf {
        let object = self::protobuf(obj, beta)?;
        let mut frame = Vec::with_capacity(object.len() + 24);
        envelope::watch_frame(event_type, &object, &mut frame);
        return Ok(Bytes::from(frame));
    }
    let mut line = serde_json::to_vec(&json!({"type": event_type, "object": json(obj, beta)}))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    line.push(b'\n');
    Ok(Bytes::from(line))
}
