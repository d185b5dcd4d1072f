//! Responses of 128 KiB and more gzip-compressed for clients that accept it (`Accept-Encoding:
//! gzip`, which Go's HTTP client — kubectl, client-go — sends unasked), as kube-apiserver's
//! `APIResponseCompression` does: at gzip's fastest level, never for a watch, whose events must
//! reach the client as they are written.

use http::{Extensions, HeaderMap, StatusCode, Version};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// kube-apiserver's `defaultGzipThresholdBytes`: smaller responses gain too little.
pub const THRESHOLD_BYTES: u64 = 128 * 1024;

/// Marks a response that streams for as long as it lasts (a watch): never compressed. A
/// streaming list, whose size is not known ahead, is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Streaming;

/// The compression layer of the server's router.
pub(crate) fn layer() -> CompressionLayer<impl Predicate> {
    let not_streaming =
        |_: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions| -> bool {
            extensions.get::<Streaming>().is_none()
        };
    CompressionLayer::new()
        .gzip(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(THRESHOLD_BYTES).and(not_streaming))
}
