//! The client's errors: what the server answered, or what was caught before any request.

use std::fmt;

/// A failed client call.
#[derive(Debug)]
pub enum Error {
    /// The request was sent and failed: a `Status` from the server (`kube::Error::Api`), or the
    /// transport.
    Kube(kube::Error),
    /// The object cannot be sent as it is (a namespace that is not the client's, a missing or
    /// invalid name): no request was made.
    InvalidObject {
        kind: &'static str,
        /// The offending field (`metadata.name`).
        field: &'static str,
        message: String,
    },
    /// A label or field selector does not parse: no request was made.
    InvalidSelector {
        /// `labelSelector` or `fieldSelector`.
        parameter: &'static str,
        selector: String,
        message: String,
    },
}

impl Error {
    /// The server's `Status`, when the server answered with one.
    pub fn status(&self) -> Option<&kube::core::Status> {
        match self {
            Error::Kube(kube::Error::Api(status)) => Some(status),
            _ => None,
        }
    }

    /// The HTTP code of the server's answer (404, 409, 422, …), when it answered.
    pub fn code(&self) -> Option<u16> {
        self.status().map(|s| s.code)
    }

    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(|s| s.is_not_found())
    }

    /// A `Conflict` answer (a stale `resourceVersion`, or a write racing another): what a
    /// retry after reading again can fix. Not an `AlreadyExists`, which is a 409 too, as Go's
    /// `IsConflict` and kube's `Status::is_conflict` tell them apart.
    pub fn is_conflict(&self) -> bool {
        self.status()
            .is_some_and(|s| s.reason == "Conflict" || (s.code == 409 && !s.is_already_exists()))
    }

    /// An `AlreadyExists` answer: a create of a name that is taken.
    pub fn is_already_exists(&self) -> bool {
        self.status().is_some_and(|s| s.is_already_exists())
    }

    pub fn is_invalid(&self) -> bool {
        self.status().is_some_and(|s| s.is_invalid())
    }

    /// Whether the call failed before any request was sent.
    pub fn is_local(&self) -> bool {
        !matches!(self, Error::Kube(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kube(e) => write!(f, "{e}"),
            Error::InvalidObject {
                kind,
                field,
                message,
            } => write!(f, "{kind} not sent: {field}: {message}"),
            Error::InvalidSelector {
                parameter,
                selector,
                message,
            } => write!(f, "{parameter} {selector:?} not sent: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Kube(e) => Some(e),
            _ => None,
        }
    }
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Kube(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
