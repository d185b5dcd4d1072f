//! Authorization: who may do what. An [`Authorizer`] answers for one request's attributes;
//! [`AlwaysAllow`] (development), [`Policy`] (a static RBAC-style rules file, for a standalone
//! server) and `Delegated` (SubjectAccessReview to Kubernetes, see `super::delegated`).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use serde::Deserialize;

use super::{RequestInfo, User};

/// A request as the authorizer sees it.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    pub user: &'a User,
    pub request: &'a RequestInfo,
}

/// An authorizer's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied, with the reason shown to the client (may be empty).
    Deny(String),
    /// No decision could be made (the authorization webhook failed): the request fails with a
    /// 500, as Go's authorization filter answers an authorizer's error; nothing is allowed.
    Error(String),
}

pub type DecisionFuture<'a> = Pin<Box<dyn Future<Output = Decision> + Send + 'a>>;

/// Decides whether a user may make a request. An authorizer that cannot reach its backend
/// answers [`Decision::Error`]: failing closed.
pub trait Authorizer: Send + Sync + 'static {
    fn authorize<'a>(&'a self, attributes: Attributes<'a>) -> DecisionFuture<'a>;
}

/// An authorizer chosen at run time.
impl Authorizer for std::sync::Arc<dyn Authorizer> {
    fn authorize<'a>(&'a self, attributes: Attributes<'a>) -> DecisionFuture<'a> {
        (**self).authorize(attributes)
    }
}

/// Allows everything: for development and tests, never behind an aggregator.
#[derive(Clone, Copy, Debug, Default)]
pub struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize<'a>(&'a self, _: Attributes<'a>) -> DecisionFuture<'a> {
        Box::pin(async { Decision::Allow })
    }
}

/// Allows every authenticated user and denies anonymous requests (`system:unauthenticated`):
/// a server that authenticates but has no authorizer to ask, which must not serve anonymous
/// writes because nobody configured who may make them.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuthenticatedOnly;

impl Authorizer for AuthenticatedOnly {
    fn authorize<'a>(&'a self, attributes: Attributes<'a>) -> DecisionFuture<'a> {
        let anonymous = attributes
            .user
            .groups
            .iter()
            .any(|g| g == "system:unauthenticated");
        Box::pin(async move {
            if anonymous {
                Decision::Deny(
                    "anonymous requests are not allowed: no authorizer is configured".into(),
                )
            } else {
                Decision::Allow
            }
        })
    }
}

/// A static policy: RBAC-style rules (each names users and/or groups, and either resource verbs
/// on API groups, resources, namespaces and names, or verbs on non-resource URLs), read from a
/// YAML file:
///
/// ```yaml
/// rules:
///   - groups: ["pager-users"]
///     verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
///     apiGroups: ["pager.k8s.co"]
///     resources: ["alerts", "alerts/status"]
///   - users: ["alice"]
///     verbs: ["*"]
///     apiGroups: ["*"]
///     resources: ["*"]
///     namespaces: ["team-a"]
///   - groups: ["system:authenticated"]
///     verbs: ["get"]
///     nonResourceURLs: ["/metrics"]
/// ```
///
/// `*` matches anything; a resource `alerts/*` matches every subresource of alerts, a
/// non-resource URL ending in `*` every path under it. The usual discovery rules are built in, as
/// Kubernetes' `system:discovery` and `system:public-info-viewer` roles grant them: every
/// authenticated user may `get` `/api`, `/apis`, `/openapi` (and below) and `/version`; everyone
/// may `get` `/healthz`, `/livez`, `/readyz` and `/version`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule of a [`Policy`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub verbs: Vec<String>,
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
    /// Empty: every namespace (and cluster-scoped resources).
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

/// Why a policy file was refused.
#[derive(Debug)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// Reads a policy file; unknown fields, a rule naming nobody, or one mixing resource and
    /// non-resource parts are errors naming the file (and the line, for YAML errors).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError(format!("{}: {e}", path.display())))?;
        Self::from_yaml(&text)
            .map_err(|PolicyError(e)| PolicyError(format!("{}: {e}", path.display())))
    }

    /// Parses a policy (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        let policy: Policy =
            serde_saphyr::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        for (i, rule) in policy.rules.iter().enumerate() {
            let why = if rule.users.is_empty() && rule.groups.is_empty() {
                Some("names no users or groups")
            } else if rule.verbs.is_empty() {
                Some("has no verbs")
            } else if rule.non_resource_urls.is_empty() == rule.resources.is_empty() {
                Some("needs either resources (with apiGroups) or nonResourceURLs, not both")
            } else if !rule.resources.is_empty() && rule.api_groups.is_empty() {
                Some("has resources but no apiGroups (use \"\" for the core group, \"*\" for all)")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(PolicyError(format!("rules[{i}] {why}")));
            }
        }
        Ok(policy)
    }

    fn allows(&self, user: &User, request: &RequestInfo) -> bool {
        builtin_rules()
            .iter()
            .chain(&self.rules)
            .any(|r| r.allows(user, request))
    }
}

fn builtin_rules() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let urls = |u: &[&str]| u.iter().map(|s| s.to_string()).collect();
        vec![
            Rule {
                groups: vec!["system:authenticated".into()],
                verbs: vec!["get".into()],
                non_resource_urls: urls(&[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/openapi",
                    "/openapi/*",
                    "/version",
                    "/version/",
                ]),
                ..Rule::default()
            },
            Rule {
                groups: vec![
                    "system:authenticated".into(),
                    "system:unauthenticated".into(),
                ],
                verbs: vec!["get".into()],
                non_resource_urls: urls(&[
                    "/healthz",
                    "/livez",
                    "/readyz",
                    "/version",
                    "/version/",
                ]),
                ..Rule::default()
            },
        ]
    })
}

fn matches(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

impl Rule {
    fn allows(&self, user: &User, request: &RequestInfo) -> bool {
        let who = self.users.iter().any(|u| u == "*" || *u == user.name)
            || self.groups.iter().any(|g| user.groups.contains(g));
        if !who || !matches(&self.verbs, &request.verb) {
            return false;
        }
        if !request.is_resource_request {
            return self
                .non_resource_urls
                .iter()
                .any(|u| match u.strip_suffix('*') {
                    Some(prefix) => request.path.starts_with(prefix),
                    None => *u == request.path,
                });
        }
        let resource = request.resource_path();
        // RBAC's `ResourceMatches` (`*`, exact, `*/<subresource>`), and `<resource>/*`.
        let sub = request.subresource.as_str();
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == resource
                || (!sub.is_empty() && r.strip_prefix("*/") == Some(sub))
                || (!sub.is_empty() && r.strip_suffix("/*") == Some(request.resource.as_str()))
        });
        // RBAC's `ResourceNameMatches`: names are literal (`*` is a name), and a rule that
        // names objects never matches a request without one (a list, a create).
        let name_ok = self.resource_names.is_empty() || self.resource_names.contains(&request.name);
        resource_ok
            && matches(&self.api_groups, &request.api_group)
            && (self.namespaces.is_empty() || matches(&self.namespaces, &request.namespace))
            && name_ok
    }
}

impl Authorizer for Policy {
    fn authorize<'a>(&'a self, a: Attributes<'a>) -> DecisionFuture<'a> {
        let decision = if self.allows(a.user, a.request) {
            Decision::Allow
        } else {
            Decision::Deny(String::new())
        };
        Box::pin(async move { decision })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn user(name: &str, groups: &[&str]) -> User {
        User {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..User::default()
        }
    }

    const POLICY: &str = r#"
rules:
  - groups: ["pager-users"]
    verbs: ["get", "list", "watch"]
    apiGroups: ["pager.k8s.co"]
    resources: ["alerts"]
  - users: ["alice"]
    verbs: ["*"]
    apiGroups: ["*"]
    resources: ["alerts/*"]
    namespaces: ["team-a"]
"#;

    #[test]
    fn rules_match_verbs_resources_namespaces_and_discovery() {
        let p = Policy::from_yaml(POLICY).unwrap();
        let r = |m: Method, path: &str, watch: bool| RequestInfo::new(&m, path, watch);
        let alerts = "/apis/pager.k8s.co/v1beta1/namespaces/team-a/alerts";
        let bob = user("bob", &["pager-users", "system:authenticated"]);
        let alice = user("alice", &["system:authenticated"]);
        let anon = user("system:anonymous", &["system:unauthenticated"]);
        assert!(p.allows(&bob, &r(Method::GET, alerts, true)));
        assert!(!p.allows(&bob, &r(Method::POST, alerts, false)));
        assert!(!p.allows(&bob, &r(Method::GET, &format!("{alerts}/a/status"), false)));
        assert!(p.allows(
            &alice,
            &r(Method::PATCH, &format!("{alerts}/a/status"), false)
        ));
        assert!(!p.allows(&alice, &r(Method::PATCH, &format!("{alerts}/a"), false)));
        assert!(!p.allows(
            &alice,
            &r(
                Method::PATCH,
                "/apis/pager.k8s.co/v1beta1/namespaces/b/alerts/a/status",
                false
            )
        ));
        // Built in: discovery for the authenticated, health for everyone.
        assert!(p.allows(&alice, &r(Method::GET, "/apis/pager.k8s.co/v1beta1", false)));
        assert!(!p.allows(&anon, &r(Method::GET, "/apis", false)));
        assert!(p.allows(&anon, &r(Method::GET, "/healthz", false)));
        assert!(!p.allows(&alice, &r(Method::POST, "/apis", false)));
    }

    /// RBAC's matching: `*/status` matches any resource's status; resource names are literal
    /// and never match a request without a name.
    #[test]
    fn resources_and_names_match_as_rbac_does() {
        let p = Policy::from_yaml(
            "rules:\n  - users: [s]\n    verbs: [get, patch]\n    apiGroups: [\"*\"]\n    resources: [\"*/status\"]\n  - users: [n]\n    verbs: [\"*\"]\n    apiGroups: [\"*\"]\n    resources: [alerts]\n    resourceNames: [\"*\"]\n",
        )
        .unwrap();
        let r = |m: Method, path: &str| RequestInfo::new(&m, path, false);
        let base = "/apis/pager.k8s.co/v1beta1/namespaces/ns/alerts";
        let (s, n) = (user("s", &[]), user("n", &[]));
        assert!(p.allows(&s, &r(Method::PATCH, &format!("{base}/a/status"))));
        assert!(!p.allows(&s, &r(Method::PATCH, &format!("{base}/a"))));
        assert!(!p.allows(&s, &r(Method::GET, &format!("{base}/a/scale"))));
        assert!(p.allows(&n, &r(Method::GET, &format!("{base}/*"))));
        assert!(!p.allows(&n, &r(Method::GET, &format!("{base}/a"))));
        assert!(!p.allows(&n, &r(Method::GET, base)));
        assert!(!p.allows(&n, &r(Method::POST, base)));
    }

    #[test]
    fn bad_policies_are_refused_with_a_reason() {
        for (text, why) in [
            (
                "rules:\n  - verbs: [get]\n    nonResourceURLs: [/x]\n",
                "no users or groups",
            ),
            (
                "rules:\n  - users: [a]\n    verbs: [get]\n",
                "either resources",
            ),
            (
                "rules:\n  - users: [a]\n    verbs: [get]\n    resources: [alerts]\n",
                "no apiGroups",
            ),
            ("rules:\n  - users: [a]\n    verb: [get]\n", "verb"),
            ("rules: 3\n", ""),
        ] {
            let e = Policy::from_yaml(text).unwrap_err();
            assert!(e.0.contains(why), "{text}: {e}");
        }
    }
}
