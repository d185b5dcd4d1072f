//! An `HTTPRoute`, shaped as kopium generates it.

#[allow(unused_imports)]
mod prelude {
    pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    pub use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    pub use serde::{Deserialize, Serialize};
    pub use std::collections::BTreeMap;
    /// A `String` alias declared in another module, used as a map key.
    pub type HeaderName = String;
}
use self::prelude::*;

/// HTTPRoute routes HTTP requests to backends. (Nothing here derives `PartialEq`: kopium
/// output need not, and the apply configurations then do without it.)
/// +genclient
#[derive(Clone, Debug, Default)]
pub struct HTTPRoute {
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    pub spec: HTTPRouteSpec,
    pub status: Option<HTTPRouteStatus>,
}

/// What the route matches and where it sends requests.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct HTTPRouteSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostnames: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "backendPort"
    )]
    pub backend_port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<HTTPRouteProtocol>,
    /// Keyed by a `String` alias from the prelude module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<HeaderName, String>>,
    /// An enum whose variants hold types with defaults: defaulted through the variant held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<HTTPRouteFilter>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "requestHeaderModifier"
    )]
    pub request_header_modifier: Option<HTTPHeaderFilter>,
}

/// Modifies a request's headers, as Gateway API's filter does: fields named as `std::ops`
/// methods (`add`), and upstream docs whose Markdown clippy would flag (the user allows that
/// here; the apply configurations copy the docs).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[allow(clippy::doc_lazy_continuation, clippy::doc_overindented_list_items)]
pub struct HTTPHeaderFilter {
    /// Add adds the given header(s) to the request:
    /// - a name and a value
    /// appended to the values already there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<Vec<HTTPHeader>>,
    /// Set overwrites the given header(s):
    /// - a name and a value
    ///       replacing the values already there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Vec<HTTPHeader>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<Vec<String>>,
}

/// A header name and value.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct HTTPHeader {
    pub name: String,
    pub value: String,
}

/// What the route does to a request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum HTTPRouteFilter {
    Limit(HTTPRouteLimit),
    Redirect {
        to: Option<HTTPRouteLimit>,
        code: i32,
    },
    Drop,
}

/// A rate limit.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct HTTPRouteLimit {
    /// +default=10
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

/// The protocol to the backend.
#[derive(Serialize, Deserialize, Clone, Copy, Debug)]
pub enum HTTPRouteProtocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

/// What the gateway observed.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct HTTPRouteStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Named through a re-export of k8s-openapi's modules at the crate root, as linkerd's
    /// `k8s-api` crate names them.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "lastSeen")]
    pub last_seen: Option<crate::apimachinery::pkg::apis::meta::v1::Time>,
}
