//! Discovery documents: `/api`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, and the
//! aggregated discovery document (`apidiscovery.k8s.io` v2 and v2beta1) when a client asks for it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use kube_codegen_scheme::ResourceInfo;
use serde_json::{Value, json};

/// Verbs of a resource, sorted as discovery lists them.
pub fn verbs() -> Vec<&'static str> {
    vec![
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
}

/// A group and its versions, most preferred first.
pub struct GroupDoc<'a> {
    pub name: &'a str,
    pub versions: Vec<(&'a str, Vec<&'a ResourceInfo>)>,
}

fn group_versions(g: &GroupDoc) -> Vec<meta::GroupVersionForDiscovery> {
    g.versions
        .iter()
        .map(|(v, _)| meta::GroupVersionForDiscovery {
            group_version: format!("{}/{v}", g.name),
            version: v.to_string(),
        })
        .collect()
}

fn group(g: &GroupDoc) -> meta::APIGroup {
    let preferred = g.versions.first().map(|(v, _)| *v).unwrap_or_default();
    meta::APIGroup {
        name: g.name.to_string(),
        versions: group_versions(g),
        preferred_version: Some(meta::GroupVersionForDiscovery {
            group_version: format!("{}/{preferred}", g.name),
            version: preferred.to_string(),
        }),
        server_address_by_client_cidrs: None,
    }
}

pub fn api_group(g: &GroupDoc) -> meta::APIGroup {
    group(g)
}

pub fn api_group_list(groups: &[GroupDoc]) -> meta::APIGroupList {
    meta::APIGroupList {
        groups: groups.iter().map(group).collect(),
    }
}

/// The legacy group's versions: `v1`, with no resources ([`core_v1`]). client-go's REST mapper
/// maps the `List` kind only for a discovered `v1` (a real cluster always has one), so without
/// it `kubectl apply -f` of `kubectl get -o yaml`'s output fails against a server used on its
/// own ("no matches for kind \"List\" in version \"v1\"").
pub fn api_versions() -> meta::APIVersions {
    meta::APIVersions {
        versions: vec![CORE_VERSION.to_string()],
        server_address_by_client_cidrs: vec![meta::ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".into(),
            server_address: String::new(),
        }],
    }
}

/// The one version of the legacy group (`/api`).
pub const CORE_VERSION: &str = "v1";

/// `/api/v1`: the legacy group's version, with no resources (see [`api_versions`]).
pub fn core_v1() -> meta::APIResourceList {
    meta::APIResourceList {
        group_version: CORE_VERSION.to_string(),
        resources: Vec::new(),
    }
}

/// The legacy group in aggregated discovery (`/api`): `v1` with no resources.
pub fn core_group() -> GroupDoc<'static> {
    GroupDoc {
        name: "",
        versions: vec![(CORE_VERSION, Vec::new())],
    }
}

/// `storage_version` names the version each resource is stored in (its `storageVersionHash`).
pub fn api_resource_list(
    group: &str,
    version: &str,
    resources: &[&ResourceInfo],
    storage_version: &dyn Fn(&ResourceInfo) -> String,
) -> meta::APIResourceList {
    let non_empty = |v: &[&str]| -> Option<Vec<String>> {
        (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect())
    };
    let mut out = Vec::new();
    for r in resources {
        out.push(meta::APIResource {
            name: r.plural.to_string(),
            singular_name: r.singular.to_string(),
            namespaced: r.namespaced,
            kind: r.kind.to_string(),
            verbs: verbs().into_iter().map(String::from).collect(),
            short_names: non_empty(r.short_names),
            categories: non_empty(r.categories),
            storage_version_hash: Some(storage_version_hash(group, &storage_version(r), r.kind)),
            ..meta::APIResource::default()
        });
        if r.has_status {
            out.push(meta::APIResource {
                name: format!("{}/status", r.plural),
                singular_name: String::new(),
                namespaced: r.namespaced,
                kind: r.kind.to_string(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
                ..meta::APIResource::default()
            });
        }
        if r.scale.is_some() {
            out.push(meta::APIResource {
                name: format!("{}/scale", r.plural),
                singular_name: String::new(),
                namespaced: r.namespaced,
                group: Some("autoscaling".into()),
                version: Some("v1".into()),
                kind: "Scale".into(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
                ..meta::APIResource::default()
            });
        }
    }
    meta::APIResourceList {
        group_version: format!("{group}/{version}"),
        resources: out,
    }
}

/// Base64 of the first 8 bytes of SHA-256 of `group/version/kind`, as kube-apiserver computes it.
fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

/// Which aggregated discovery version a client accepts, from its `Accept` header. The document
/// is written as JSON: an entry asking for it in protobuf only
/// (`application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;…`) is passed over, and a client
/// that lists no JSON form gets the plain discovery documents, as from a server without
/// aggregated discovery.
pub fn aggregated_version(accept: Option<&str>) -> Option<&'static str> {
    let accept = accept?;
    for entry in accept.split(',') {
        let params: Vec<&str> = entry.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        let json = params
            .first()
            .is_some_and(|m| m.eq_ignore_ascii_case("application/json"));
        if json && has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some("v2");
            }
            if has("v=v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

/// The aggregated discovery document (`APIGroupDiscoveryList`).
pub fn aggregated(groups: &[GroupDoc], version: &str) -> Value {
    let items: Vec<Value> = groups
        .iter()
        .map(|g| {
            let versions: Vec<Value> = g
                .versions
                .iter()
                .map(|(v, resources)| {
                    let resources: Vec<Value> = resources
                        .iter()
                        .map(|r| {
                            let gvk = json!({"group": g.name, "version": v, "kind": r.kind});
                            let mut res = json!({
                                "resource": r.plural,
                                "responseKind": gvk,
                                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": r.singular,
                                "verbs": verbs(),
                            });
                            if !r.short_names.is_empty() {
                                res["shortNames"] = json!(r.short_names);
                            }
                            if !r.categories.is_empty() {
                                res["categories"] = json!(r.categories);
                            }
                            let mut subresources = Vec::new();
                            if r.has_status {
                                subresources.push(json!({
                                    "subresource": "status",
                                    "responseKind": gvk,
                                    "verbs": ["get", "patch", "update"],
                                }));
                            }
                            if r.scale.is_some() {
                                subresources.push(json!({
                                    "subresource": "scale",
                                    "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                    "verbs": ["get", "patch", "update"],
                                }));
                            }
                            if !subresources.is_empty() {
                                res["subresources"] = Value::Array(subresources);
                            }
                            res
                        })
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g.name, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

/// The `Content-Type` an aggregated response must carry: clients recognise it by these params.
pub fn aggregated_content_type(version: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")
}

pub use kube_codegen_apimachinery::version_priority;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(Some(kubectl)), Some("v2"));
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(Some(old)), Some("v2beta1"));
        assert_eq!(aggregated_version(Some("application/json")), None);
        // Protobuf first, as newer clients list it: the JSON form is what is written.
        let protobuf_first = "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(Some(protobuf_first)), Some("v2beta1"));
        let protobuf_only = "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
        assert_eq!(aggregated_version(Some(protobuf_only)), None);
    }

    #[test]
    fn versions_order() {
        let mut v = vec!["v1alpha1", "v1beta1", "v1", "v2beta1", "v1beta2"];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(v, ["v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1"]);
    }
}
