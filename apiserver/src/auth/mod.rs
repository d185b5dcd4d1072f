//! Authentication and authorization for aggregated API servers (k8s.io/apiserver's
//! `authentication` and `authorization` filters): who made a request ([`Authentication`]), what
//! it asks ([`RequestInfo`]), and whether that is allowed ([`Authorizer`]). Failures are `Status`
//! objects: 401 `Unauthorized`, 403 `Forbidden` naming the user, verb and resource.

mod authn;
mod authz;
mod delegated;
mod request_info;
mod sources;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use authn::{
    Authentication, CertificateAuthority, CertificateSettings, DynamicCertificates,
    PeerCertificates, RequestHeader, TokenAuthenticator, TokenFuture, WeakCertificates, subject,
};
pub use authz::{
    AlwaysAllow, Attributes, AuthenticatedOnly, Authorizer, Decision, DecisionFuture, Policy,
    PolicyError, Rule,
};
pub use delegated::{DelegatedAuthorizer, DelegatedTokens};
pub use request_info::RequestInfo;
pub use sources::{
    AUTHENTICATION_CONFIG_MAP, CertificateSources, RequestHeaderFile, from_config_map,
};

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

    /// Adds `system:authenticated`, as Go's `AuthenticatedGroupAdder` does: to every user but
    /// `system:anonymous` and members of `system:unauthenticated` (what a front proxy forwards
    /// for an anonymous request).
    fn authenticated(mut self) -> Self {
        let anonymous = self.name == "system:anonymous"
            || self
                .groups
                .iter()
                .any(|g| g == "system:authenticated" || g == "system:unauthenticated");
        if !anonymous {
            self.groups.push("system:authenticated".into());
        }
        self
    }
}

/// The server's guard: authentication, then authorization, with Kubernetes' always-allowed
/// paths (`/healthz`, `/livez`, `/readyz`) and group (`system:masters`).
pub struct Guard {
    pub authentication: Authentication,
    pub authorizer: Arc<dyn Authorizer>,
    /// Non-resource paths allowed to anyone authenticated (or anonymous); `*` at the end
    /// matches below, and nowhere else ([`check_always_allow_paths`]). Never a resource
    /// request, whatever the pattern.
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
            // Go's delegating authorization default: the probes themselves, not the
            // individual checks below them.
            always_allow_paths: ["/healthz", "/livez", "/readyz"].map(String::from).to_vec(),
            always_allow_groups: vec!["system:masters".into()],
        }
    }

    /// Who made the request and what it asks, or the `Status` refusing it: [`Guard::identify`]
    /// then [`Guard::authorize_request`].
    #[allow(clippy::too_many_arguments)]
    pub async fn check(
        &self,
        method: &http::Method,
        path: &str,
        watch: bool,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        headers: &http::HeaderMap,
        peer: Option<&PeerCertificates>,
    ) -> Result<(User, RequestInfo), ApiError> {
        let (user, request) = self
            .identify(
                method,
                path,
                watch,
                label_selector,
                field_selector,
                headers,
                peer,
            )
            .await?;
        let user = self.authorize_request(user, &request, headers).await?;
        Ok((user, request))
    }

    /// Who made the request (authentication alone: a 401 when nobody) and what it asks. The
    /// selectors are the query's: a list or watch selecting one name is about that object, and
    /// a `SubjectAccessReview` carries their requirements.
    #[allow(clippy::too_many_arguments)]
    pub async fn identify(
        &self,
        method: &http::Method,
        path: &str,
        watch: bool,
        label_selector: Option<&str>,
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
        let request = RequestInfo::new(method, path, watch)
            .with_field_selector(field_selector)
            .with_label_selector(label_selector);
        Ok((user, request))
    }

    /// Whether `user` (as [`Guard::identify`] found it) may make `request`: its impersonation
    /// headers checked, then the request itself unless its path is always allowed. The user it
    /// acts as, or the `Status` refusing it. These make `SubjectAccessReview`s: the server calls
    /// it within the in-flight limits, as kube-apiserver's `WithAuthorization` runs inside
    /// `WithMaxInFlightLimit`, so that a flood of requests cannot make unbounded reviews.
    pub async fn authorize_request(
        &self,
        user: User,
        request: &RequestInfo,
        headers: &http::HeaderMap,
    ) -> Result<User, ApiError> {
        let user = self.impersonate(user, headers).await?;
        if !self.always_allowed(request) {
            self.authorize(&user, request).await?;
        }
        Ok(user)
    }

    /// Whether `request` is to an always-allowed path. Only non-resource requests can be, as
    /// in Go's path authorizer: `/apis/*` allows discovery, never the resources below it.
    fn always_allowed(&self, request: &RequestInfo) -> bool {
        if request.is_resource_request {
            return false;
        }
        // Go's: a leading `/` is optional on both sides.
        let path = request.path.strip_prefix('/').unwrap_or(&request.path);
        self.always_allow_paths.iter().any(|p| {
            let p = p.strip_prefix('/').unwrap_or(p);
            match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => p == path,
            }
        })
    }

    /// The user a request acts as: `user`, or whom its `Impersonate-User` (with
    /// `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-<key>`) headers name once
    /// `user` may `impersonate` each of them (Go's `WithImpersonation`: users, service accounts
    /// and groups in the core group, uids and user extras in `authentication.k8s.io`). A 403
    /// naming what may not be impersonated; a 400 for groups, a uid or extras without a user.
    async fn impersonate(&self, user: User, headers: &http::HeaderMap) -> Result<User, ApiError> {
        let Some(asked) = Impersonation::of(headers)? else {
            return Ok(user);
        };
        for request in asked.checks() {
            self.authorize(&user, &request).await?;
        }
        Ok(asked.user())
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
            Decision::Error(why) => {
                tracing::warn!(user = %user.name, reason = %why, "authorization failed");
                Err(ApiError::internal(
                    "an error on the server prevented the request from being authorized",
                ))
            }
        }
    }
}

/// Refuses always-allowed paths with a `*` anywhere but at the end, as Go's path authorizer
/// does at start (`only trailing * allowed in "..."`): such a pattern would otherwise be taken
/// literally and silently allow nothing.
pub fn check_always_allow_paths(paths: &[String]) -> Result<(), String> {
    for path in paths {
        if path.strip_suffix('*').unwrap_or(path).contains('*') {
            return Err(format!("only trailing * allowed in {path:?}"));
        }
    }
    Ok(())
}

/// What a request's `Impersonate-*` headers ask to act as.
struct Impersonation {
    user: String,
    uid: Option<String>,
    groups: Vec<String>,
    extra: BTreeMap<String, Vec<String>>,
}

impl Impersonation {
    const USER: &str = "impersonate-user";
    const UID: &str = "impersonate-uid";
    const GROUP: &str = "impersonate-group";
    const EXTRA_PREFIX: &str = "impersonate-extra-";

    /// The headers' request, `None` without any.
    fn of(headers: &http::HeaderMap) -> Result<Option<Impersonation>, ApiError> {
        // Values are the bytes sent, as Go's `net/http` passes them on (`josé`).
        let text = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        // The user and uid are the first value of their header, and an empty one asks for
        // nothing, as Go's `Header.Get` reads them (`hasUser := len(requestedUser) > 0`).
        let first = |name: &str| headers.get(name).map(text).filter(|v| !v.is_empty());
        let user = first(Self::USER);
        let uid = first(Self::UID);
        let mut groups = Vec::new();
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in headers {
            let name = name.as_str();
            if name == Self::GROUP {
                groups.push(text(value));
            } else if let Some(key) = name.strip_prefix(Self::EXTRA_PREFIX) {
                // Keys travel percent-encoded (a header name cannot hold every key): lower-cased
                // (header names arrive so), then unescaped, as Go's impersonation filter reads
                // them — `%41` stays an `A`; a key that does not unescape is kept as sent.
                let key = authn::unescape_extra_key(key);
                extra.entry(key).or_default().push(text(value));
            }
        }
        match user {
            Some(user) => Ok(Some(Impersonation {
                user,
                uid,
                groups,
                extra,
            })),
            None if groups.is_empty() && uid.is_none() && extra.is_empty() => Ok(None),
            None => {
                let mut asked: Vec<String> =
                    groups.iter().map(|g| format!("group {g:?}")).collect();
                asked.extend(uid.iter().map(|u| format!("uid {u:?}")));
                asked.extend(extra.keys().map(|k| format!("extra {k:?}")));
                Err(ApiError::bad_request(format!(
                    "requested [{}] without impersonating a user",
                    asked.join(" ")
                )))
            }
        }
    }

    /// One `impersonate` check per thing asked for, as Go's filter makes them.
    fn checks(&self) -> Vec<RequestInfo> {
        let check = |group: &str, resource: &str, namespace: &str, name: &str| RequestInfo {
            is_resource_request: true,
            verb: "impersonate".into(),
            api_group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
            ..RequestInfo::default()
        };
        let mut checks = vec![match self.service_account() {
            Some((namespace, name)) => check("", "serviceaccounts", namespace, name),
            None => check("", "users", "", &self.user),
        }];
        checks.extend(self.groups.iter().map(|g| check("", "groups", "", g)));
        // Go names uids and extras with their API version (`authentication.k8s.io/v1`).
        let v1 = |r: RequestInfo| RequestInfo {
            api_version: "v1".into(),
            ..r
        };
        checks.extend(
            self.uid
                .iter()
                .map(|u| v1(check("authentication.k8s.io", "uids", "", u))),
        );
        for (key, values) in &self.extra {
            for value in values {
                checks.push(RequestInfo {
                    subresource: key.clone(),
                    ..v1(check("authentication.k8s.io", "userextras", "", value))
                });
            }
        }
        checks
    }

    /// `system:serviceaccount:<namespace>:<name>` as its namespace and name.
    fn service_account(&self) -> Option<(&str, &str)> {
        let rest = self.user.strip_prefix("system:serviceaccount:")?;
        rest.split_once(':')
            .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains(':'))
    }

    /// The user acted as, with Go's groups: those asked for, or a service account's when none
    /// are; then `system:authenticated` unless a group asked for is it or
    /// `system:unauthenticated` (for `system:anonymous`, `system:unauthenticated`).
    fn user(self) -> User {
        let mut groups = self.groups.clone();
        if groups.is_empty()
            && let Some((namespace, _)) = self.service_account()
        {
            groups = vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
            ];
        }
        if self.user == "system:anonymous" {
            if !groups.iter().any(|g| g == "system:unauthenticated") {
                groups.push("system:unauthenticated".into());
            }
        } else if !groups
            .iter()
            .any(|g| g == "system:authenticated" || g == "system:unauthenticated")
        {
            groups.push("system:authenticated".into());
        }
        User {
            name: self.user,
            uid: self.uid.unwrap_or_default(),
            groups,
            extra: self.extra,
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

    /// Whether the request may delete an object that does not decode (kube-apiserver's
    /// `unsafe-delete-ignore-read-errors` verb, asked besides `delete`); the 403 when not.
    pub async fn may_unsafe_delete(&self) -> Result<(), ApiError> {
        let request = RequestInfo {
            verb: "unsafe-delete-ignore-read-errors".into(),
            ..self.request.clone()
        };
        self.guard.authorize(&self.user, &request).await
    }
}

/// kube-apiserver's 403: `alerts.pager.k8s.co "a" is forbidden: User "bob" cannot patch
/// resource "alerts/status" in API group "pager.k8s.co" in the namespace "default"`. As Go's
/// `ForbiddenStatusError`, the part naming the user and what was asked is quoted as `%q` and has
/// `&`, `<`, `>` escaped, so that a name chosen by the client cannot make it look like HTML.
fn forbidden(user: &User, r: &RequestInfo, reason: &str) -> ApiError {
    use kube_codegen_apimachinery::validation::go_quote;
    let asked = if r.is_resource_request {
        let scope = if r.namespace.is_empty() {
            " at the cluster scope".to_string()
        } else {
            format!(" in the namespace {}", go_quote(&r.namespace))
        };
        format!(
            "User {} cannot {} resource {} in API group {}{scope}",
            go_quote(&user.name),
            r.verb,
            go_quote(&r.resource_path()),
            go_quote(&r.api_group),
        )
    } else {
        format!(
            "User {} cannot {} path {}",
            go_quote(&user.name),
            r.verb,
            go_quote(&r.path)
        )
    };
    let mut asked = asked
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if !reason.is_empty() {
        asked.push_str(": ");
        asked.push_str(reason);
    }
    // Go's `NewForbidden`: the object first when there is one.
    let message = if !r.is_resource_request || (r.resource.is_empty() && r.api_group.is_empty()) {
        format!("forbidden: {asked}")
    } else {
        let qualified = if r.api_group.is_empty() {
            r.resource.clone()
        } else {
            format!("{}.{}", r.resource, r.api_group)
        };
        if r.name.is_empty() {
            format!("{qualified} is forbidden: {asked}")
        } else {
            format!("{qualified} {} is forbidden: {asked}", go_quote(&r.name))
        }
    };
    let e = ApiError::new(403, "Forbidden", message);
    if r.is_resource_request {
        e.details(&r.name, &r.api_group, &r.resource)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Impersonate-Extra-` keys as Go's impersonation filter reads them: lower-cased first,
    /// then unescaped (`%41` stays an `A`), kept as sent when an escape does not decode.
    #[test]
    fn impersonated_extra_keys_are_read_as_go_reads_them() {
        let mut headers = http::HeaderMap::new();
        headers.insert("impersonate-user", "bob".parse().unwrap());
        for (name, value) in [
            ("Impersonate-Extra-Scope%41", "a"),
            ("impersonate-extra-acme.com%2fproject", "p"),
            ("impersonate-extra-k%+2f", "k"),
            ("impersonate-extra-bad%ff", "b"),
        ] {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let asked = Impersonation::of(&headers).unwrap().unwrap();
        let keys: Vec<&str> = asked.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["acme.com/project", "bad\u{fffd}", "k%+2f", "scopeA"]);
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    /// What each `Impersonate-*` header asks to be checked, and the user acted as, as Go's
    /// `WithImpersonation` makes them.
    #[test]
    fn impersonation_checks_and_user() {
        assert!(Impersonation::of(&headers(&[])).unwrap().is_none());
        let asked_again = || {
            Impersonation::of(&headers(&[
                ("Impersonate-User", "system:serviceaccount:ops:deployer"),
                ("Impersonate-Group", "team-a"),
                ("Impersonate-Group", "team-b"),
                ("Impersonate-Uid", "u-1"),
                ("Impersonate-Extra-Scopes%2Fread", "x"),
                ("Impersonate-Extra-Scopes%2Fread", "y"),
            ]))
            .unwrap()
            .unwrap()
        };
        let asked = asked_again();
        let checks: Vec<(String, String, String, String, String)> = asked
            .checks()
            .into_iter()
            .map(|r| (r.api_group, r.resource, r.subresource, r.namespace, r.name))
            .collect();
        let c = |g: &str, r: &str, s: &str, ns: &str, n: &str| {
            (g.into(), r.into(), s.into(), ns.into(), n.into())
        };
        assert_eq!(
            checks,
            [
                c("", "serviceaccounts", "", "ops", "deployer"),
                c("", "groups", "", "", "team-a"),
                c("", "groups", "", "", "team-b"),
                c("authentication.k8s.io", "uids", "", "", "u-1"),
                c(
                    "authentication.k8s.io",
                    "userextras",
                    "scopes/read",
                    "",
                    "x"
                ),
                c(
                    "authentication.k8s.io",
                    "userextras",
                    "scopes/read",
                    "",
                    "y"
                ),
            ]
        );
        let user = asked.user();
        assert_eq!(user.name, "system:serviceaccount:ops:deployer");
        assert_eq!(user.uid, "u-1");
        // Go's groups: those asked for (a service account's only when none are), then
        // `system:authenticated`.
        assert_eq!(user.groups, ["team-a", "team-b", "system:authenticated"]);
        assert_eq!(user.extra["scopes/read"], ["x", "y"]);
        // uids and extras are checked in `authentication.k8s.io/v1`.
        let versions: Vec<String> = asked_again()
            .checks()
            .into_iter()
            .map(|r| r.api_version)
            .collect();
        assert_eq!(versions, ["", "", "", "v1", "v1", "v1"]);
        let account = Impersonation::of(&headers(&[(
            "Impersonate-User",
            "system:serviceaccount:ops:deployer",
        )]))
        .unwrap()
        .unwrap()
        .user();
        assert_eq!(
            account.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:ops",
                "system:authenticated"
            ]
        );
        let unauthenticated = Impersonation::of(&headers(&[
            ("Impersonate-User", "someone"),
            ("Impersonate-Group", "system:unauthenticated"),
        ]))
        .unwrap()
        .unwrap()
        .user();
        assert_eq!(unauthenticated.groups, ["system:unauthenticated"]);
        let anonymous = Impersonation::of(&headers(&[("Impersonate-User", "system:anonymous")]))
            .unwrap()
            .unwrap()
            .user();
        assert_eq!(anonymous.groups, ["system:unauthenticated"]);
        let e = match Impersonation::of(&headers(&[("Impersonate-Group", "g")])) {
            Err(e) => e,
            Ok(_) => panic!("a group without a user"),
        };
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "requested [group \"g\"] without impersonating a user"
        );
    }

    /// Guards whose always-allowed paths would cover resources: anonymous requests are still
    /// authorized (here refused: only authenticated users are allowed).
    #[test]
    fn always_allowed_paths_never_cover_resource_requests() {
        let alerts = "/apis/pager.k8s.co/v1beta1/namespaces/default/alerts";
        for pattern in ["/apis/*", "/apis*", "/api*", "*", "apis*"] {
            let mut guard = Guard::new(
                Authentication {
                    anonymous: true,
                    ..Authentication::default()
                },
                AuthenticatedOnly,
            );
            guard.always_allow_paths = vec![pattern.to_string()];
            let check = |method: http::Method, path: &str| {
                futures::executor::block_on(guard.check(
                    &method,
                    path,
                    false,
                    None,
                    None,
                    &headers(&[]),
                    None,
                ))
                .map(|_| ())
                .map_err(|e| e.code)
            };
            for method in [http::Method::POST, http::Method::GET, http::Method::DELETE] {
                assert_eq!(check(method, alerts), Err(403), "{pattern}");
            }
            assert_eq!(
                check(http::Method::GET, "/api/v1/namespaces/default/pods"),
                Err(403),
                "{pattern}"
            );
            // Non-resource paths below the pattern are allowed.
            assert_eq!(
                check(http::Method::GET, "/apis/pager.k8s.co"),
                Ok(()),
                "{pattern}"
            );
        }
    }

    /// Go's matching: a leading `/` is optional, `*` at the end matches below, `/` is the root.
    #[test]
    fn always_allowed_paths_match_as_go_matches_them() {
        let mut guard = Guard::new(Authentication::default(), AuthenticatedOnly);
        guard.always_allow_paths = ["healthz", "/version/*", "/"].map(String::from).to_vec();
        let allowed =
            |path: &str| guard.always_allowed(&RequestInfo::new(&http::Method::GET, path, false));
        assert!(allowed("/healthz"));
        assert!(!allowed("/healthz/ping"));
        assert!(allowed("/version/x"));
        assert!(!allowed("/version"));
        assert!(allowed("/"));
        assert!(!allowed("/metrics"));
    }

    /// A `*` anywhere but at the end is refused, as Go's path authorizer refuses it at start.
    #[test]
    fn a_star_before_the_end_of_an_always_allowed_path_is_refused() {
        let paths = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_always_allow_paths(&paths(&["/healthz", "/apis/*", "*", "/", ""])),
            Ok(())
        );
        assert_eq!(
            check_always_allow_paths(&paths(&["/healthz", "/apis/*/alerts"])),
            Err("only trailing * allowed in \"/apis/*/alerts\"".to_string())
        );
        assert!(check_always_allow_paths(&paths(&["**"])).is_err());
    }

    /// Go reads the first `Impersonate-User` and `Impersonate-Uid`, and an empty one is no
    /// request to impersonate.
    #[test]
    fn impersonation_reads_the_first_value_and_ignores_an_empty_one() {
        assert!(
            Impersonation::of(&headers(&[("Impersonate-User", "")]))
                .unwrap()
                .is_none()
        );
        let asked = Impersonation::of(&headers(&[
            ("Impersonate-User", "first"),
            ("Impersonate-User", "second"),
            ("Impersonate-Uid", ""),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((asked.user.as_str(), asked.uid.as_deref()), ("first", None));
        let e = match Impersonation::of(&headers(&[
            ("Impersonate-User", ""),
            ("Impersonate-Group", "g"),
        ])) {
            Err(e) => e,
            Ok(_) => panic!("a group with an empty user"),
        };
        assert_eq!(e.code, 400);
    }

    /// The part of a 403 naming the user and what was asked is quoted as Go's `%q` and has
    /// `&`, `<`, `>` escaped, as Go's `ForbiddenStatusError` writes it.
    #[test]
    fn forbidden_messages_escape_what_looks_like_html() {
        let user = User {
            name: "<b>\"x\"&".into(),
            ..User::default()
        };
        let r = RequestInfo::new(
            &http::Method::GET,
            "/apis/g/v/namespaces/n/things/<i>",
            false,
        );
        assert_eq!(
            forbidden(&user, &r, "no <way>").message,
            "things.g \"<i>\" is forbidden: User \"&lt;b&gt;\\\"x\\\"&amp;\" cannot get resource \
             \"things\" in API group \"g\" in the namespace \"n\": no <way>"
        );
        let r = RequestInfo::new(&http::Method::GET, "/<script>", false);
        assert_eq!(
            forbidden(&user, &r, "").message,
            "forbidden: User \"&lt;b&gt;\\\"x\\\"&amp;\" cannot get path \"/&lt;script&gt;\""
        );
    }
}
