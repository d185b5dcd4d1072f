//! Responses of 128 KiB and more gzip-compressed for clients that accept it (`Accept-Encoding:
//! gzip`, which Go's HTTP client — kubectl, client-go — sends unasked), as kube-apiserver's
//! `APIResponseCompression` does: at gzip's fastest level, never for a watch, whose events must
//! reach the client as they are written.
//!
//! An `Accept-Encoding` that gzip does not satisfy is answered uncompressed, whatever it says of
//! identity (`identity;q=0`, `*;q=0`), as kube-apiserver answers it: never with the 406 tower's
//! compression gives such a request after its handler ran (a create stored, then "failed").

use axum::body::Body;
use http::header::ACCEPT_ENCODING;
use http::{Extensions, HeaderMap, Request, StatusCode, Version};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// kube-apiserver's `defaultGzipThresholdBytes`: smaller responses gain too little.
pub const THRESHOLD_BYTES: u64 = 128 * 1024;

/// Marks a response that streams for as long as it lasts (a watch): never compressed. A
/// streaming list, whose size is not known ahead, is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Streaming;

/// Takes `Accept-Encoding` from the requests gzip does not satisfy.
type DropUnsatisfiable = tower::util::MapRequestLayer<fn(Request<Body>) -> Request<Body>>;

/// The compression layer of the server's router: requests gzip does not satisfy lose their
/// `Accept-Encoding` first.
pub(crate) fn layer() -> (DropUnsatisfiable, CompressionLayer<impl Predicate>) {
    let not_streaming =
        |_: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions| -> bool {
            extensions.get::<Streaming>().is_none()
        };
    (
        tower::util::MapRequestLayer::new(drop_unsatisfiable as fn(_) -> _),
        CompressionLayer::new()
            .gzip(true)
            .quality(CompressionLevel::Fastest)
            .compress_when(SizeAbove::new(THRESHOLD_BYTES).and(not_streaming)),
    )
}

/// The request without its `Accept-Encoding` when gzip is not acceptable by it: the answer is
/// then identity-encoded.
fn drop_unsatisfiable<B>(mut req: Request<B>) -> Request<B> {
    if !gzip_acceptable(req.headers()) {
        req.headers_mut().remove(ACCEPT_ENCODING);
    }
    req
}

/// Whether the `Accept-Encoding` headers accept gzip (RFC 9110 §12.5.3): named, or matched by
/// `*`, with a quality above 0. Unreadable headers accept nothing.
fn gzip_acceptable(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for coding in value.split(',') {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let mut quality = Some(1.0);
            for param in parts {
                if let Some((key, q)) = param.split_once('=')
                    && key.trim().eq_ignore_ascii_case("q")
                {
                    quality = q
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q));
                }
            }
            let Some(quality) = quality else {
                return false;
            };
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(quality);
            } else if name == "*" {
                any = Some(quality);
            }
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_acceptable_when_named_or_matched_with_a_quality() {
        let accepts = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(ACCEPT_ENCODING, v.parse().unwrap());
            }
            gzip_acceptable(&headers)
        };
        for yes in [
            &["gzip"][..],
            &["gzip, deflate, br"],
            &["identity;q=0, gzip"],
            &["*"],
            &["*;q=0.5, identity;q=0"],
            &["br", "gzip;q=0.1"],
            &["GZIP;Q=1"],
        ] {
            assert!(accepts(yes), "{yes:?}");
        }
        for no in [
            &[][..],
            &["identity;q=0"],
            &["*;q=0"],
            &["gzip;q=0, *"],
            &["br, deflate"],
            &["gzip;q=2"],
            &["gzip;q=x"],
        ] {
            assert!(!accepts(no), "{no:?}");
        }
    }
}
