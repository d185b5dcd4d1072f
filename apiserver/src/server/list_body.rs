//! A list response written as it is sent: the `<Kind>List` envelope, then the items encoded a
//! chunk at a time — and, for a list read page by page, each page read when the connection has
//! taken the one before — so neither the response nor (then) the list sits whole in memory.

use futures::StreamExt;

use super::*;
use crate::registry::{ListItems, MorePages};

/// About this many bytes are encoded before a chunk is handed to the connection.
const CHUNK_BYTES: usize = 64 * 1024;

/// What a streamed list holds: the objects, or (`as=PartialObjectMetadataList`) their metadata.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ListShape {
    Objects,
    Metadata { beta: bool },
}

/// The `<Kind>List` of `items`. The first chunk is encoded before the status is chosen: a list
/// that fails there is answered with an error `Status`; a failure after it (an object that no
/// longer encodes) can only end the response early, and is logged.
pub(super) async fn list_response(
    info: &ResourceInfo,
    shape: ListShape,
    items: ListItems,
    more: Option<MorePages>,
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
    match shape {
        ListShape::Objects => {
            json(&mut head, &info.api_version())?;
            head.extend_from_slice(b",\"kind\":");
            json(&mut head, &info.list_kind)?;
        }
        ListShape::Metadata { beta } => {
            json(&mut head, super::metadata::api_version(beta))?;
            head.extend_from_slice(b",\"kind\":\"PartialObjectMetadataList\"");
        }
    }
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
        shape,
        scratch: Vec::new(),
        items,
        more,
        next: 0,
        written: 0,
        done: false,
    };
    let first = body.chunk(head).await?;
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
            .chunk(Vec::with_capacity(CHUNK_BYTES + 4096))
            .await
            .map(Bytes::from)
            .map_err(|e| {
                tracing::error!(message = %e.message, "list response ended early");
                body.done = true;
                std::io::Error::other(e.message)
            });
        Some((chunk, body))
    });
    // Fused: a body may be polled again after its end (tower-http's compression does), which
    // `unfold` answers with a panic.
    let stream = futures::StreamExt::fuse(futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(first)) }),
        rest,
    ));
    Ok(response.body(Body::from_stream(stream)).expect("response"))
}

struct ListBody {
    shape: ListShape,
    /// An item's JSON before it is reduced to its metadata.
    scratch: Vec<u8>,
    /// The page being written.
    items: ListItems,
    /// The pages after it.
    more: Option<MorePages>,
    /// The next item of the page.
    next: usize,
    /// Items written so far (the first has no comma before it).
    written: usize,
    done: bool,
}

impl ListBody {
    /// Appends items to `buf` until it holds a chunk's worth, reading the next page when one is
    /// used up, and the list's end after the last.
    async fn chunk(&mut self, mut buf: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        loop {
            while buf.len() < CHUNK_BYTES && self.next < self.items.len() {
                if self.written > 0 {
                    buf.push(b',');
                }
                match self.shape {
                    ListShape::Objects => self.items.write_json(self.next, &mut buf)?,
                    ListShape::Metadata { beta } => {
                        self.scratch.clear();
                        self.items.write_json(self.next, &mut self.scratch)?;
                        super::metadata::write_json(&self.scratch, beta, &mut buf)?;
                    }
                }
                self.next += 1;
                self.written += 1;
            }
            if buf.len() >= CHUNK_BYTES {
                return Ok(buf);
            }
            match self.more.as_mut() {
                Some(more) => match more.0.next().await {
                    Some(Ok(page)) => {
                        self.items = page;
                        self.next = 0;
                    }
                    Some(Err(e)) => return Err(e),
                    None => self.more = None,
                },
                None => {
                    buf.extend_from_slice(b"]}");
                    self.done = true;
                    return Ok(buf);
                }
            }
        }
    }
}

fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), ApiError> {
    serde_json::to_writer(out, value).map_err(|e| ApiError::internal(e.to_string()))
}
