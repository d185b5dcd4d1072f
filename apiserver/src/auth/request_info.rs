//! What a request asks to do, in authorization terms (Go's `RequestInfoFactory`): the verb, and
//! for resource requests the group, version, resource, subresource, namespace and name.

use http::Method;

/// The authorization attributes of a request, without the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `true` for `/apis/<group>/<version>/...` and `/api/<version>/...` paths naming a resource.
    pub is_resource_request: bool,
    /// The request path (for non-resource requests).
    pub path: String,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection` for
    /// resource requests; the lowercased HTTP method for the others.
    pub verb: String,
    pub api_group: String,
    pub api_version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// The `labelSelector` and `fieldSelector` of a list, watch or deletecollection (empty
    /// otherwise), as written: a `SubjectAccessReview` carries their requirements (Kubernetes
    /// 1.32's `AuthorizeWithSelectors`), so an authorizer may allow a narrowed list.
    pub label_selector: String,
    pub field_selector: String,
    /// The verb came from the deprecated `/apis/<g>/<v>/watch/...` path prefix: Go's
    /// `verbViaPathPrefix`, whose requests carry no selectors and take no name from them.
    pub verb_via_path_prefix: bool,
}

impl RequestInfo {
    /// Reads a request as kube-apiserver does. `watch` is the `watch` query parameter.
    pub fn new(method: &Method, path: &str, watch: bool) -> Self {
        let mut info = RequestInfo {
            path: path.to_string(),
            verb: method.as_str().to_ascii_lowercase(),
            ..RequestInfo::default()
        };
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let rest = match parts.as_slice() {
            ["apis", group, version, rest @ ..] if !rest.is_empty() => {
                info.api_group = group.to_string();
                info.api_version = version.to_string();
                rest
            }
            ["api", version, rest @ ..] if !rest.is_empty() => {
                info.api_version = version.to_string();
                rest
            }
            // Discovery, OpenAPI, health, /version: non-resource requests.
            _ => return info,
        };
        info.is_resource_request = true;
        // The deprecated `/watch/` prefix: a watch, of one object when a name follows.
        let (rest, watch_prefix) = match rest {
            ["watch", tail @ ..] if !tail.is_empty() => (tail, true),
            _ => (rest, false),
        };
        info.verb_via_path_prefix = watch_prefix;
        let rest = match rest {
            // `/namespaces/<ns>/<resource>...`; `/namespaces` and `/namespaces/<ns>` name the
            // namespace resource itself.
            ["namespaces", ns, tail @ ..] if !tail.is_empty() => {
                info.namespace = ns.to_string();
                tail
            }
            _ => rest,
        };
        match rest {
            [resource] => info.resource = resource.to_string(),
            [resource, name] => {
                info.resource = resource.to_string();
                info.name = name.to_string();
            }
            [resource, name, sub, ..] => {
                info.resource = resource.to_string();
                info.name = name.to_string();
                info.subresource = sub.to_string();
            }
            [] => {}
        }
        if info.resource == "namespaces" && !info.name.is_empty() && info.namespace.is_empty() {
            info.namespace = info.name.clone();
        }
        info.verb = match *method {
            Method::GET | Method::HEAD if watch_prefix => "watch",
            Method::GET | Method::HEAD if info.name.is_empty() && watch => "watch",
            Method::GET | Method::HEAD if info.name.is_empty() => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if info.name.is_empty() => "deletecollection",
            Method::DELETE => "delete",
            // Go's RequestInfoFactory: no verb for another method on a resource.
            _ => "",
        }
        .to_string();
        info
    }

    /// A list or watch of a collection whose field selector names one object
    /// (`metadata.name=a1`) is about that object, as kube-apiserver reads it: RBAC rules with
    /// `resourceNames` then allow `kubectl get alert a1 --watch` and `kubectl wait`. A
    /// selector that does not parse, or a name that cannot be a path segment, names nothing.
    /// Neither the name nor the selector is taken for a watch by the `/watch/` path prefix: Go
    /// reads the name only for a `get` of a collection turned list or watch by its query, and
    /// the selectors only when the verb did not come from the path.
    pub fn with_field_selector(mut self, selector: Option<&str>) -> Self {
        if self.carries_selectors() {
            self.field_selector = selector.unwrap_or_default().to_string();
        }
        let listing = matches!(self.verb.as_str(), "list" | "watch");
        if self.is_resource_request
            && !self.verb_via_path_prefix
            && listing
            && self.name.is_empty()
            && let Some(selector) = selector
            && let Ok(parsed) = crate::selector::FieldSelector::parse(selector)
            && let Some(name) = parsed.exact_match("metadata.name")
            && !matches!(name, "" | "." | "..")
            && !name.contains(['/', '%'])
        {
            self.name = name.to_string();
        }
        self
    }

    /// The request's `labelSelector` (see [`RequestInfo::label_selector`]).
    pub fn with_label_selector(mut self, selector: Option<&str>) -> Self {
        if self.carries_selectors() {
            self.label_selector = selector.unwrap_or_default().to_string();
        }
        self
    }

    /// Whether the request's selectors are part of it for authorization (Go's
    /// `!verbViaPathPrefix && verbsWithSelectors.Has(verb)`).
    fn carries_selectors(&self) -> bool {
        self.is_resource_request && !self.verb_via_path_prefix && self.selects()
    }

    /// Whether the verb reads selectors: a list, a watch, a deletecollection.
    fn selects(&self) -> bool {
        matches!(self.verb.as_str(), "list" | "watch" | "deletecollection")
    }

    /// `resource/subresource`, or the resource alone.
    pub fn resource_path(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: Method, path: &str, watch: bool) -> RequestInfo {
        RequestInfo::new(&method, path, watch)
    }

    #[test]
    fn resource_requests() {
        let base = "/apis/pager.k8s.co/v1beta1";
        let cases = [
            (
                Method::GET,
                format!("{base}/alerts"),
                false,
                "list",
                "",
                "",
                "",
            ),
            (
                Method::GET,
                format!("{base}/alerts"),
                true,
                "watch",
                "",
                "",
                "",
            ),
            (
                Method::GET,
                format!("{base}/namespaces/ns/alerts"),
                true,
                "watch",
                "ns",
                "",
                "",
            ),
            (
                Method::POST,
                format!("{base}/namespaces/ns/alerts"),
                false,
                "create",
                "ns",
                "",
                "",
            ),
            (
                Method::DELETE,
                format!("{base}/namespaces/ns/alerts"),
                false,
                "deletecollection",
                "ns",
                "",
                "",
            ),
            (
                Method::GET,
                format!("{base}/namespaces/ns/alerts/a"),
                false,
                "get",
                "ns",
                "a",
                "",
            ),
            (
                Method::PUT,
                format!("{base}/namespaces/ns/alerts/a"),
                false,
                "update",
                "ns",
                "a",
                "",
            ),
            (
                Method::PATCH,
                format!("{base}/namespaces/ns/alerts/a/status"),
                false,
                "patch",
                "ns",
                "a",
                "status",
            ),
            (
                Method::DELETE,
                format!("{base}/namespaces/ns/alerts/a"),
                false,
                "delete",
                "ns",
                "a",
                "",
            ),
            // The deprecated `/watch/` prefix.
            (
                Method::GET,
                format!("{base}/watch/namespaces/ns/alerts/a"),
                false,
                "watch",
                "ns",
                "a",
                "",
            ),
            (
                Method::GET,
                format!("{base}/watch/alerts"),
                false,
                "watch",
                "",
                "",
                "",
            ),
        ];
        for (method, path, watch, verb, ns, name, sub) in cases {
            let i = info(method, &path, watch);
            assert!(i.is_resource_request, "{path}");
            assert_eq!(
                (
                    i.verb.as_str(),
                    i.api_group.as_str(),
                    i.api_version.as_str()
                ),
                (verb, "pager.k8s.co", "v1beta1"),
                "{path}"
            );
            assert_eq!(
                (
                    i.namespace.as_str(),
                    i.resource.as_str(),
                    i.name.as_str(),
                    i.subresource.as_str()
                ),
                (ns, "alerts", name, sub),
                "{path}"
            );
        }
    }

    #[test]
    fn non_resource_requests() {
        for path in [
            "/apis",
            "/apis/pager.k8s.co",
            "/apis/pager.k8s.co/v1beta1",
            "/healthz",
            "/openapi/v2",
            "/version",
            "/api",
            "/api/v1",
        ] {
            let i = info(Method::GET, path, false);
            assert!(!i.is_resource_request, "{path}");
            assert_eq!((i.verb.as_str(), i.path.as_str()), ("get", path));
        }
    }

    /// Selectors and a name from `metadata.name`, as Go's `NewRequestInfo` reads them: a list
    /// or watch by query carries both; a watch by the deprecated `/watch/` path prefix neither;
    /// a deletecollection carries the selectors but takes no name from them.
    #[test]
    fn selectors_and_names_by_how_the_verb_was_asked() {
        let base = "/apis/pager.k8s.co/v1beta1";
        let read = |method: Method, path: &str, watch: bool| {
            info(method, path, watch)
                .with_field_selector(Some("metadata.name=a1"))
                .with_label_selector(Some("team=x"))
        };
        let cases = [
            (
                Method::GET,
                format!("{base}/namespaces/ns/alerts"),
                false,
                "list",
                "a1",
                true,
            ),
            (
                Method::GET,
                format!("{base}/namespaces/ns/alerts"),
                true,
                "watch",
                "a1",
                true,
            ),
            (
                Method::GET,
                format!("{base}/watch/namespaces/ns/alerts"),
                false,
                "watch",
                "",
                false,
            ),
            (
                Method::GET,
                format!("{base}/watch/alerts"),
                true,
                "watch",
                "",
                false,
            ),
            (
                Method::GET,
                format!("{base}/watch/namespaces/ns/alerts/a2"),
                false,
                "watch",
                "a2",
                false,
            ),
            (
                Method::DELETE,
                format!("{base}/namespaces/ns/alerts"),
                false,
                "deletecollection",
                "",
                true,
            ),
        ];
        for (method, path, watch, verb, name, selectors) in cases {
            let i = read(method, &path, watch);
            assert_eq!((i.verb.as_str(), i.name.as_str()), (verb, name), "{path}");
            let (fields, labels) = if selectors {
                ("metadata.name=a1", "team=x")
            } else {
                ("", "")
            };
            assert_eq!(
                (i.field_selector.as_str(), i.label_selector.as_str()),
                (fields, labels),
                "{path}"
            );
        }
    }
}
