//! A request whose handling panics — a bug, in the server or in the code it runs for a resource
//! (a strategy, an admission plugin, a conversion) — is answered with a 500 `Status` and logged,
//! as kube-apiserver's `WithPanicRecovery` answers it. A response body that panics while it is
//! written (a list or a watch) ends with an error: its HTTP/2 stream is reset, an HTTP/1.1
//! connection closed. Either way the panic does not unwind through the connection, whose other
//! requests go on; its message stays in the log, not in the answer.

use std::any::Any;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use http::{Response, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;

use crate::status::ApiError;

pub(crate) type PanicAnswer = fn(Box<dyn Any + Send + 'static>) -> Response<String>;

pub(crate) fn layer() -> CatchPanicLayer<PanicAnswer> {
    CatchPanicLayer::custom(answer as PanicAnswer)
}

/// `response` with its body [`Guarded`].
pub(crate) async fn guard_body(response: Response<Body>) -> Response<Body> {
    response.map(|body| {
        Body::new(Guarded {
            inner: body,
            done: false,
        })
    })
}

/// A body whose polling panics ends with an error (and is never polled again).
pub(crate) struct Guarded {
    inner: Body,
    done: bool,
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Pin::new(&mut this.inner).poll_frame(cx)
        }));
        match polled {
            Ok(frame) => frame,
            Err(panic) => {
                this.done = true;
                tracing::error!(panic = %message(&*panic), "a response body panicked; ended it");
                Poll::Ready(Some(Err(axum::Error::new(
                    "the response panicked; look in the server's logs for details",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a panic said (its payload, when a string).
pub(crate) fn message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(not a string)")
}

fn answer(panic: Box<dyn Any + Send + 'static>) -> Response<String> {
    tracing::error!(panic = %message(&*panic), "a request panicked; answered 500");
    let status = ApiError::internal(
        "This request caused the server to panic. Look in the server's logs for details.",
    )
    .to_status();
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(status.to_string())
        .expect("a response of constant parts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_body_that_panics_ends_with_an_error_and_stays_ended() {
        let mut sent = 0;
        let chunks = futures::stream::poll_fn(move |_| {
            sent += 1;
            match sent {
                1 => Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from_static(b"[1,")))),
                _ => panic!("a bug while writing a list"),
            }
        });
        let response = guard_body(Response::new(Body::from_stream(chunks))).await;
        let mut body = response.into_body();
        let first = body.frame().await.expect("a frame").expect("data");
        assert_eq!(first.into_data().unwrap(), Bytes::from_static(b"[1,"));
        let error = body.frame().await.expect("an error").unwrap_err();
        assert!(
            error.to_string().contains("the response panicked"),
            "{error}"
        );
        assert!(body.frame().await.is_none(), "never polled again");
    }
}
