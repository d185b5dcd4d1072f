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
