//! A list response written as it is sent: the `<Kind>List` envelope, then the items encoded a
//! chunk at a time, so a list's response never sits whole in memory beside its items.

use super::*;
use crate::registry::ListItems;

/// About this many bytes are encoded before a chunk is handed to the connection.
const CHUNK_BYTES: usize = 64 * 1024;

/// The `<Kind>List` of `items`. The first chunk is encoded before the status is chosen: a list
/// that fails there is answered with an error `Status`; a failure after it (an object that no
/// longer encodes) can only end the response early, and is logged.
pub(super) fn list_response(
    info: &ResourceInfo,
    items: ListItems,
    resource_version: String,
    continue_token: Option<String>,
    remaining_item_count: Option<u64>,
) -> Result<Resp, ApiError> {
    #[derive(serde::Serialize)]
    struct Metadata {
        #[serde(rename = "resourceVersion")]
        resource_version: String,
        #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
        continue_token: Option<String>,
        #[serde(rename = "remainingItemCount", skip_serializing_if = "Option::is_none")]
        remaining_item_count: Option<u64>,
    }
    // The same bytes as serializing `{apiVersion, kind, metadata, items}` in one go.
    let mut head = Vec::with_capacity(CHUNK_BYTES + 4096);
    head.extend_from_slice(b"{\"apiVersion\":");
    json(&mut head, &info.api_version())?;
    head.extend_from_slice(b",\"kind\":");
    json(&mut head, &info.list_kind)?;
    head.extend_from_slice(b",\"metadata\":");
    json(
        &mut head,
        &Metadata {
            resource_version,
            continue_token,
            remaining_item_count,
        },
    )?;
    head.extend_from_slice(b",\"items\":[");
    let mut body = ListBody {
        items,
        next: 0,
        done: false,
    };
    let first = body.fill(head)?;
    let response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json");
    if body.done {
        return Ok(response.body(Body::from(first)).expect("response"));
    }
    let rest = futures::stream::unfold(body, |mut body| async move {
        if body.done {
            return None;
        }
        let chunk = body
            .fill(Vec::with_capacity(CHUNK_BYTES + 4096))
            .map(Bytes::from)
            .map_err(|e| {
                tracing::error!(message = %e.message, "list response ended early");
                body.done = true;
                std::io::Error::other(e.message)
            });
        Some((chunk, body))
    });
    let stream = futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(first)) }),
        rest,
    );
    Ok(response.body(Body::from_stream(stream)).expect("response"))
}

struct ListBody {
    items: ListItems,
    next: usize,
    done: bool,
}

impl ListBody {
    /// Appends items to `buf` until it holds a chunk's worth, and the list's end after the last.
    fn fill(&mut self, mut buf: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        while buf.len() < CHUNK_BYTES && self.next < self.items.len() {
            if self.next > 0 {
                buf.push(b',');
            }
            self.items.write_json(self.next, &mut buf)?;
            self.next += 1;
        }
        if self.next == self.items.len() {
            buf.extend_from_slice(b"]}");
            self.done = true;
        }
        Ok(buf)
    }
}

fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), ApiError> {
    serde_json::to_writer(out, value).map_err(|e| ApiError::internal(e.to_string()))
}
