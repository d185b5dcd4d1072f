//! A typed client in Kubernetes' protobuf (`application/vnd.kubernetes.protobuf`), as Go's
//! clientsets speak it with `ContentType` set: object bodies sent as the kind's protobuf
//! message in the `k8s\0` envelope; answers accepted in protobuf or JSON (a server or version
//! without protobuf answers JSON) and read by their `Content-Type`.

use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::{ObjectList, TypeMeta};
use kube_codegen_protobuf::envelope;
use kube_codegen_scheme::Protobuf;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// How a client writes bodies and which answers it asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentType {
    /// JSON (kube's `Api`).
    #[default]
    Json,
    /// Protobuf, for kinds that have a message (others stay JSON).
    Protobuf,
}

/// What a protobuf client sends as `Accept`: protobuf first, JSON when the server has no
/// protobuf for the version.
const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

fn is_protobuf(content_type: Option<&http::HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim() == envelope::MEDIA_TYPE)
}

/// `k8s\0` + `runtime.Unknown` with `obj`'s message.
pub(crate) fn body<K: k8s_openapi::Resource>(pb: &Protobuf<K>, obj: &K) -> Vec<u8> {
    let mut message = Vec::new();
    (pb.encode)(obj, &mut message);
    let mut out = Vec::with_capacity(message.len() + 48);
    envelope::wrap(K::API_VERSION, K::KIND, &message, &mut out);
    out
}

/// Sends `request` (its body, if any, already protobuf) asking for protobuf; returns the
/// answer's bytes and whether they are protobuf. Error answers become `kube::Error::Api` with
/// the server's `Status`, whichever its encoding.
async fn send(
    client: &kube::Client,
    mut request: http::Request<Vec<u8>>,
    protobuf_body: bool,
) -> Result<(Bytes, bool)> {
    let headers = request.headers_mut();
    headers.insert(http::header::ACCEPT, http::HeaderValue::from_static(ACCEPT));
    if protobuf_body {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(envelope::MEDIA_TYPE),
        );
    }
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let status = response.status();
    let protobuf = is_protobuf(response.headers().get(http::header::CONTENT_TYPE));
    let bytes = response.into_body().collect_bytes().await?;
    if status.is_success() {
        return Ok((bytes, protobuf));
    }
    Err(Error::Kube(kube::Error::Api(Box::new(error_status(
        status, &bytes, protobuf,
    )))))
}

/// The `Status` of an error answer (protobuf or JSON), or one describing the answer.
fn error_status(status: http::StatusCode, bytes: &[u8], protobuf: bool) -> kube::core::Status {
    let typed = if protobuf {
        envelope::decode_object::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>(bytes)
            .ok()
            .and_then(|(_, s)| serde_json::to_vec(&s).ok())
            .and_then(|json| serde_json::from_slice(&json).ok())
    } else {
        serde_json::from_slice(bytes).ok()
    };
    typed.unwrap_or_else(|| {
        kube::core::Status::failure(&String::from_utf8_lossy(bytes), "").with_code(status.as_u16())
    })
}

fn decode_error(e: impl std::fmt::Display) -> Error {
    Error::Kube(kube::Error::Service(
        format!("the answer is not a valid object: {e}").into(),
    ))
}

/// An object answer, protobuf or JSON.
fn object<K: k8s_openapi::Resource + DeserializeOwned>(
    pb: &Protobuf<K>,
    bytes: &[u8],
    protobuf: bool,
) -> Result<K> {
    if !protobuf {
        return serde_json::from_slice(bytes).map_err(|e| Error::Kube(kube::Error::SerdeError(e)));
    }
    let unknown = envelope::unwrap(bytes).map_err(decode_error)?;
    if unknown.kind != K::KIND {
        return Err(decode_error(format!(
            "expected a {}, got a {}",
            K::KIND,
            unknown.kind
        )));
    }
    (pb.decode)(&unknown.raw).map_err(decode_error)
}

/// Sends a request whose answer is an object.
pub(crate) async fn request_object<K: k8s_openapi::Resource + DeserializeOwned>(
    client: &kube::Client,
    pb: &Protobuf<K>,
    request: http::Request<Vec<u8>>,
    protobuf_body: bool,
) -> Result<K> {
    let (bytes, protobuf) = send(client, request, protobuf_body).await?;
    object(pb, &bytes, protobuf)
}

/// Sends a list request.
pub(crate) async fn request_list<K>(
    client: &kube::Client,
    pb: &Protobuf<K>,
    request: http::Request<Vec<u8>>,
) -> Result<ObjectList<K>>
where
    K: k8s_openapi::Resource + DeserializeOwned + Clone,
{
    let (bytes, protobuf) = send(client, request, false).await?;
    if !protobuf {
        return serde_json::from_slice(&bytes).map_err(|e| Error::Kube(kube::Error::SerdeError(e)));
    }
    let unknown = envelope::unwrap(&bytes).map_err(decode_error)?;
    let (metadata, raw_items): (ListMeta, _) =
        envelope::decode_list(&unknown.raw).map_err(decode_error)?;
    let items = raw_items
        .iter()
        .map(|raw| (pb.decode)(raw).map_err(decode_error))
        .collect::<Result<Vec<K>>>()?;
    Ok(ObjectList {
        types: TypeMeta {
            api_version: unknown.api_version,
            kind: unknown.kind,
        },
        metadata,
        items,
    })
}

/// A watch in protobuf: length-prefixed `WatchEvent` frames, each object in the envelope (or,
/// from a server that answers JSON, JSON lines), typed.
pub(crate) async fn watch<K>(
    client: &kube::Client,
    pb: Protobuf<K>,
    mut request: http::Request<Vec<u8>>,
) -> Result<futures::stream::BoxStream<'static, Result<kube::api::WatchEvent<K>>>>
where
    K: crate::ApiObject,
{
    use futures::StreamExt;
    use http_body_util::BodyExt;
    request
        .headers_mut()
        .insert(http::header::ACCEPT, http::HeaderValue::from_static(ACCEPT));
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let status = response.status();
    let protobuf = is_protobuf(response.headers().get(http::header::CONTENT_TYPE));
    if !status.is_success() {
        let bytes = response.into_body().collect_bytes().await?;
        return Err(Error::Kube(kube::Error::Api(Box::new(error_status(
            status, &bytes, protobuf,
        )))));
    }
    struct State<K> {
        body: kube::client::Body,
        buf: Vec<u8>,
        ready: std::collections::VecDeque<Result<kube::api::WatchEvent<K>>>,
        done: bool,
    }
    let state = State {
        body: response.into_body(),
        buf: Vec::new(),
        ready: Default::default(),
        done: false,
    };
    let stream = futures::stream::unfold(state, move |mut s| async move {
        loop {
            if let Some(event) = s.ready.pop_front() {
                return Some((event, s));
            }
            if s.done {
                return None;
            }
            // Whole events first; then more bytes.
            if protobuf {
                let (frames, used) = envelope::split_frames(&s.buf);
                for frame in frames {
                    s.ready.push_back(watch_event(&pb, frame));
                }
                s.buf.drain(..used);
            } else {
                while let Some(nl) = s.buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = s.buf.drain(..=nl).collect();
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    s.ready.push_back(
                        serde_json::from_slice(&line)
                            .map_err(|e| Error::Kube(kube::Error::SerdeError(e))),
                    );
                }
            }
            if !s.ready.is_empty() {
                continue;
            }
            match s.body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        s.buf.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => {
                    s.done = true;
                    return Some((Err(Error::Kube(e)), s));
                }
                None => s.done = true,
            }
        }
    });
    Ok(stream.boxed())
}

/// One protobuf watch frame, typed.
fn watch_event<K: crate::ApiObject>(
    pb: &Protobuf<K>,
    frame: &[u8],
) -> Result<kube::api::WatchEvent<K>> {
    use kube::api::WatchEvent;
    let (event_type, object) = envelope::decode_watch_event(frame).map_err(decode_error)?;
    if event_type == "ERROR" {
        return Ok(WatchEvent::Error(Box::new(error_status(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            &object,
            true,
        ))));
    }
    let unknown = envelope::unwrap(&object).map_err(decode_error)?;
    let obj = (pb.decode)(&unknown.raw).map_err(decode_error)?;
    Ok(match event_type.as_str() {
        "ADDED" => WatchEvent::Added(obj),
        "MODIFIED" => WatchEvent::Modified(obj),
        "DELETED" => WatchEvent::Deleted(obj),
        "BOOKMARK" => {
            let meta = obj.metadata();
            WatchEvent::Bookmark(kube::core::watch::Bookmark {
                types: TypeMeta {
                    api_version: unknown.api_version,
                    kind: unknown.kind,
                },
                metadata: kube::core::watch::BookmarkMeta {
                    resource_version: meta.resource_version.clone().unwrap_or_default(),
                    annotations: meta.annotations.clone().unwrap_or_default(),
                },
            })
        }
        other => return Err(decode_error(format!("unknown watch event type {other:?}"))),
    })
}
