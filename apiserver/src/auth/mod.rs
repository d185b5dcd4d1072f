//! Authentication and authorization for aggregated API servers (k8s.io/apiserver's
//! `authentication` and `authorization` filters): who made a request ([`Authentication`]), what
//! it asks ([`RequestInfo`]), and whether that is allowed ([`Authorizer`]). Failures are `Status`
//! objects: 401 `Unauthorized`, 403 `Forbidden` naming the user, verb and resource.

mod authn;
mod authz;
mod delegated;
mod request_info;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use authn::{
    Authentication, CertificateAuthority, PeerCertificates, RequestHeader, TokenAuthenticator,
    TokenFuture, subject,
};
pub use authz::{
    AlwaysAllow, Attributes, Authorizer, Decision, DecisionFuture, Policy, PolicyError, Rule,
};
pub use delegated::{DelegatedAuthorizer, DelegatedTokens, cluster_authentication};
pub use request_info::RequestInfo;

use crate::status::ApiError;

/// An authenticated (or anonymous) user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// `system:anonymous` in `system:unauthenticated`.
    pub fn anonymous() -> Self {
        User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
            ..User::default()
        }
    }

    /// Adds `system:authenticated`, as every authenticated user has it.
    fn authenticated(mut self) -> Self {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".into());
        }
        self
    }
}

/// The server's guard: authentication, then authorization, with Kubernetes' always-allowed
/// paths (`/healthz`, `/livez`, `/readyz` and below) and group (`system:masters`).
pub struct Guard {
    pub authentication: Authentication,
    pub authorizer: Arc<dyn Authorizer>,
    /// Paths allowed to anyone authenticated (or anonymous); `*` at the end matches below.
    pub always_allow_paths: Vec<String>,
    /// Groups whose members may do anything.
    pub always_allow_groups: Vec<String>,
}

impl Guard {
    /// Authentication and an authorizer, with Kubernetes' defaults for the rest.
    pub fn new(authentication: Authentication, authorizer: impl Authorizer) -> Self {
        Guard {
            authentication,
            authorizer: Arc::new(authorizer),
            always_allow_paths: [
                "/healthz",
                "/healthz/*",
                "/livez",
                "/livez/*",
                "/readyz",
                "/readyz/*",
            ]
            .map(String::from)
            .to_vec(),
            always_allow_groups: vec!["system:masters".into()],
        }
    }

    /// Who made the request and what it asks, or the `Status` refusing it. `field_selector` is
    /// the query's: a list or watch selecting one name is about that object.
    pub async fn check(
        &self,
        method: &http::Method,
        path: &str,
        watch: bool,
        field_selector: Option<&str>,
        headers: &http::HeaderMap,
        peer: Option<&PeerCertificates>,
    ) -> Result<(User, RequestInfo), ApiError> {
        let user = self
            .authentication
            .authenticate(headers, peer)
            .await
            .map_err(|e| {
                tracing::debug!(reason = %e.0, "unauthenticated request");
                ApiError::new(401, "Unauthorized", "Unauthorized")
            })?;
        let request = RequestInfo::new(method, path, watch).with_field_selector(field_selector);
        let always_path = self
            .always_allow_paths
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => p == path,
            });
        if !always_path {
            self.authorize(&user, &request).await?;
        }
        Ok((user, request))
    }

    /// Whether `user` may make `request`: members of the always-allowed groups may; else the
    /// authorizer decides.
    async fn authorize(&self, user: &User, request: &RequestInfo) -> Result<(), ApiError> {
        if user
            .groups
            .iter()
            .any(|g| self.always_allow_groups.contains(g))
        {
            return Ok(());
        }
        let decision = self
            .authorizer
            .authorize(Attributes { user, request })
            .await;
        match decision {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(forbidden(user, request, &reason)),
        }
    }
}

/// A request the guard let through, kept for what it may turn out to do besides its verb: a
/// server-side apply to an object that does not exist creates it, and needs `create` as well as
/// `patch` (kube-apiserver's `createAuthorizerAttributes`), or anyone allowed to patch could
/// create.
#[derive(Clone)]
pub struct Authorized {
    guard: Arc<Guard>,
    user: User,
    request: RequestInfo,
}

impl std::fmt::Debug for Authorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorized")
            .field("user", &self.user.name)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl Authorized {
    pub(crate) fn new(guard: Arc<Guard>, user: User, request: RequestInfo) -> Self {
        Authorized {
            guard,
            user,
            request,
        }
    }

    /// Whether the request may create the object `name` it is about; the 403 saying
    /// `cannot create` when not.
    pub async fn may_create(&self, name: &str) -> Result<(), ApiError> {
        let request = RequestInfo {
            verb: "create".into(),
            name: name.to_string(),
            ..self.request.clone()
        };
        self.guard.authorize(&self.user, &request).await
    }
}

/// kube-apiserver's 403: `alerts.pager.k8s.co "a" is forbidden: User "bob" cannot patch
/// resource "alerts/status" in API group "pager.k8s.co" in the namespace "default"`.
fn forbidden(user: &User, r: &RequestInfo, reason: &str) -> ApiError {
    let mut message = if r.is_resource_request {
        let qualified = if r.api_group.is_empty() {
            r.resource.clone()
        } else {
            format!("{}.{}", r.resource, r.api_group)
        };
        let object = if r.name.is_empty() {
            qualified
        } else {
            format!("{qualified} \"{}\"", r.name)
        };
        let mut m = format!(
            "{object} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\"",
            user.name,
            r.verb,
            r.resource_path(),
            r.api_group
        );
        if r.namespace.is_empty() {
            m.push_str(" at the cluster scope");
        } else {
            m.push_str(&format!(" in the namespace \"{}\"", r.namespace));
        }
        m
    } else {
        format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"",
            user.name, r.verb, r.path
        )
    };
    if !reason.is_empty() {
        message.push_str(": ");
        message.push_str(reason);
    }
    let e = ApiError::new(403, "Forbidden", message);
    if r.is_resource_request {
        e.details(&r.name, &r.api_group, &r.resource)
    } else {
        e
    }
}
