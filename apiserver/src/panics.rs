//! A request whose handling panics — a bug, in the server or in the code it runs for a resource
//! (a strategy, an admission plugin, a conversion) — is answered with a 500 `Status` and logged,
//! as kube-apiserver's `WithPanicRecovery` answers it. The connection and every other request
//! on it go on; the panic's message stays in the log, not in the answer.

use std::any::Any;

use http::{Response, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;

use crate::status::ApiError;

pub(crate) type PanicAnswer = fn(Box<dyn Any + Send + 'static>) -> Response<String>;

pub(crate) fn layer() -> CatchPanicLayer<PanicAnswer> {
    CatchPanicLayer::custom(answer as PanicAnswer)
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
