//! `application/vnd.kubernetes.protobuf` at the HTTP edge: objects, lists, `Status` errors and
//! request bodies in Kubernetes' protobuf wire format (the `k8s\0` envelope around a
//! `runtime.Unknown`). The registry speaks JSON; each object crosses through its version's
//! typed value ([`ProtobufEdge`]), so both encodings always say the same.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, Status};
use kube_codegen_protobuf::envelope;

use super::*;
use crate::registry::{ListItems, MorePages, ProtobufEdge};

pub(super) use envelope::{MEDIA_TYPE, WATCH_MEDIA_TYPE};

fn response(code: StatusCode, body: Vec<u8>) -> Resp {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Body::from(body))
        .expect("response")
}

/// An object (the version's JSON) as an enveloped protobuf message.
pub(super) fn object_bytes(
    edge: ProtobufEdge,
    info: &ResourceInfo,
    json: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let message = (edge.to_protobuf)(json).map_err(ApiError::internal)?;
    let mut out = Vec::with_capacity(message.len() + 48);
    envelope::wrap(&info.api_version(), info.kind, &message, &mut out);
    Ok(out)
}

pub(super) fn object(
    code: StatusCode,
    edge: ProtobufEdge,
    info: &ResourceInfo,
    obj: &Value,
) -> Result<Resp, ApiError> {
    let message = (edge.value_to_protobuf)(obj).map_err(ApiError::internal)?;
    let mut out = Vec::with_capacity(message.len() + 48);
    envelope::wrap(&info.api_version(), info.kind, &message, &mut out);
    Ok(response(code, out))
}

/// A `Status` (an error, or a delete's success) as protobuf.
pub(super) fn status(code: StatusCode, status: &Value) -> Resp {
    // `ApiError::to_status` and the handlers build statuses k8s-openapi reads.
    let typed: Status = serde_json::from_value(status.clone()).unwrap_or_else(|e| Status {
        status: Some("Failure".into()),
        message: Some(format!("the error could not be encoded: {e}")),
        reason: Some("InternalError".into()),
        code: Some(500),
        ..Default::default()
    });
    response(code, envelope::encode_status(&typed))
}

/// A list: `<Kind>List` with `ListMeta` and every item's message. Protobuf lengths come before
/// what they measure, so every item is encoded before the first byte is sent: into blocks of
/// about 64 KiB holding the items exactly as they go on the wire (key, length, message), which
/// are then the response's chunks — the list in memory once, with no copy of it.
pub(super) async fn list(
    edge: ProtobufEdge,
    info: &ResourceInfo,
    items: ListItems,
    more: Option<MorePages>,
    resource_version: String,
    continue_token: Option<String>,
    remaining_item_count: Option<u64>,
) -> Result<Resp, ApiError> {
    let meta = list_meta(resource_version, continue_token, remaining_item_count);
    let to_message = |json: &[u8]| (edge.to_protobuf)(json).map_err(ApiError::internal);
    list_of(
        &info.api_version(),
        info.list_kind,
        meta,
        items,
        more,
        &to_message,
    )
    .await
}

/// A list's `metadata`: its revision, the next page's token and how many items remain.
pub(super) fn list_meta(
    resource_version: String,
    continue_token: Option<String>,
    remaining_item_count: Option<u64>,
) -> ListMeta {
    ListMeta {
        resource_version: Some(resource_version),
        continue_: continue_token,
        remaining_item_count: remaining_item_count.map(|n| n as i64),
        ..Default::default()
    }
}

/// Turns a list item's JSON into its protobuf message.
pub(super) type ToMessage<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, ApiError> + Sync + 'a;

/// An enveloped list of `list_kind` whose items are `to_message` of each item's JSON, read page
/// by page and sent as 64 KiB blocks of wire bytes after the head.
pub(super) async fn list_of(
    api_version: &str,
    list_kind: &str,
    meta: ListMeta,
    mut items: ListItems,
    mut more: Option<MorePages>,
    to_message: &ToMessage<'_>,
) -> Result<Resp, ApiError> {
    use envelope::list_parts;
    let mut blocks: Vec<Bytes> = Vec::new();
    let mut block: Vec<u8> = Vec::with_capacity(LIST_BLOCK_BYTES);
    let mut items_len = 0;
    let mut json = Vec::new();
    loop {
        for i in 0..items.len() {
            json.clear();
            items.write_json(i, &mut json)?;
            let message = to_message(&json)?;
            if !block.is_empty() && block.len() + message.len() + 16 > block.capacity() {
                blocks.push(Bytes::from(std::mem::replace(
                    &mut block,
                    Vec::with_capacity(LIST_BLOCK_BYTES.max(message.len() + 16)),
                )));
            }
            let before = block.len();
            list_parts::item_prefix(message.len(), &mut block);
            block.extend_from_slice(&message);
            items_len += block.len() - before;
        }
        match more.as_mut() {
            Some(pages) => match futures::StreamExt::next(&mut pages.0).await {
                Some(page) => items = page?,
                None => break,
            },
            None => break,
        }
    }
    if !block.is_empty() {
        blocks.push(Bytes::from(block));
    }
    let head = list_parts::head(api_version, list_kind, &meta, items_len);
    let parts = std::iter::once(Bytes::from(head))
        .chain(blocks)
        .chain(std::iter::once(Bytes::from(list_parts::tail())))
        .map(Ok::<_, std::io::Error>);
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Body::from_stream(futures::stream::iter(parts)))
        .expect("response"))
}

/// The size of the blocks a protobuf list's items are encoded into (and sent as).
const LIST_BLOCK_BYTES: usize = 64 * 1024;

/// A protobuf `DeleteOptions` body: enveloped, of kind `DeleteOptions` (client-go names it in
/// the client's group version, or `meta.k8s.io/v1`; any is accepted, as Kubernetes registers
/// the type in every group).
pub(super) fn delete_options(
    body: &[u8],
) -> Result<k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions, ApiError> {
    let invalid = |e: String| ApiError::bad_request(format!("DeleteOptions is not valid: {e}"));
    let unknown = envelope::unwrap(body).map_err(|e| invalid(e.to_string()))?;
    if !unknown.content_encoding.is_empty() {
        return Err(invalid(format!(
            "content encoding {:?} is not supported",
            unknown.content_encoding
        )));
    }
    if !unknown.kind.is_empty() && unknown.kind != "DeleteOptions" {
        return Err(invalid(format!(
            "the body is a {} {}, not DeleteOptions",
            unknown.api_version, unknown.kind
        )));
    }
    kube_codegen_protobuf::from_slice(&unknown.raw).map_err(|e| invalid(e.to_string()))
}

/// Whether a request body is protobuf (by its `Content-Type`).
pub(super) fn is_protobuf_body(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

/// A protobuf request body as the version's JSON: the envelope's `apiVersion` and `kind` must
/// name the resource's version and kind.
pub(super) fn body_json(t: &Target, body: &[u8]) -> Result<Bytes, ApiError> {
    let edge = t.rest.protobuf(&t.scope.version).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml ({} has no protobuf message)",
                t.info.api_version()
            ),
        )
    })?;
    let unknown = envelope::unwrap(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))?;
    if !unknown.content_encoding.is_empty() {
        return Err(ApiError::bad_request(format!(
            "the request body's content encoding {:?} is not supported",
            unknown.content_encoding
        )));
    }
    let api_version = t.info.api_version();
    if (!unknown.api_version.is_empty() && unknown.api_version != api_version)
        || (!unknown.kind.is_empty() && unknown.kind != t.info.kind)
    {
        return Err(ApiError::bad_request(format!(
            "the body is a {} {}, not a {api_version} {}",
            unknown.api_version, unknown.kind, t.info.kind
        )));
    }
    let json = (edge.from_protobuf)(&unknown.raw)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))?;
    Ok(Bytes::from(json))
}
