//! The OpenAPI documents kubectl reads: structure, references, and the operation facts kubectl
//! keys on (GVK extension, `fieldValidation`, strategic-merge-patch).

use apiserver::openapi::{
    GroupVersionDoc, apimachinery_schemas, document_hash, gv_key, known_schemas, resolved_schemas,
    unresolved_refs, v2_document, v3_discovery, v3_document,
};
use kube_codegen_scheme::{Kind, ResourceInfo};
use serde_json::{Value, json};

const ALERT: ResourceInfo = <pager::v1alpha1::Alert as Kind>::INFO;
const ALERT_V1BETA1: ResourceInfo = <pager::v1beta1::Alert as Kind>::INFO;

/// A cluster-scoped kind without status, sharing the pager schemas' group/version.
const PAGER_POLICY: ResourceInfo = ResourceInfo {
    group: "pager.k8s.co",
    version: "v1alpha1",
    kind: "PagerPolicy",
    list_kind: "PagerPolicyList",
    plural: "pagerpolicies",
    singular: "pagerpolicy",
    namespaced: false,
    short_names: &[],
    categories: &[],
    printer_columns: &[],
    has_status: false,
    scale: None,
};

fn alert_gv() -> GroupVersionDoc<'static> {
    GroupVersionDoc::new(
        "pager.k8s.co",
        "v1alpha1",
        vec![&ALERT],
        pager::v1alpha1::OPENAPI_SCHEMAS,
    )
    .unwrap()
}

fn v1beta1_gv() -> GroupVersionDoc<'static> {
    GroupVersionDoc::new(
        "pager.k8s.co",
        "v1beta1",
        vec![&ALERT_V1BETA1],
        pager::v1beta1::OPENAPI_SCHEMAS,
    )
    .unwrap()
}

/// Every `$ref` string in a document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn assert_refs_resolve(doc: &Value, prefix: &str, defs: &Value) {
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("`{r}` does not start with {prefix}"));
        assert!(defs.get(name).is_some(), "`{r}` does not resolve");
    }
    assert!(unresolved_refs(doc).is_empty());
}

/// The definition a schema references, directly or through a single-element `allOf`.
fn resolve<'a>(defs: &'a Value, schema: &Value, prefix: &str) -> &'a Value {
    let r = schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no reference in {schema}"));
    &defs[r.strip_prefix(prefix).unwrap()]
}

fn query_params(op: &Value) -> Vec<&str> {
    op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[test]
fn apimachinery_definitions_are_kubernetes_shaped() {
    let defs = apimachinery_schemas();
    for name in [
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    ] {
        assert!(defs.contains_key(name), "missing {name}");
        assert!(
            defs[name]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name} has no description"
        );
    }
    assert!(defs.keys().all(|k| k.starts_with("io.k8s.apimachinery.")));

    let time = &defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
    assert_eq!(time["type"], "string");
    assert_eq!(time["format"], "date-time");
    let ios = &defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["x-kubernetes-int-or-string"], true);
    assert_eq!(
        ios["anyOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
    let quantity = &defs["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert_eq!(
        quantity["oneOf"],
        json!([{"type": "string"}, {"type": "number"}])
    );

    // References point at Kubernetes names under `#/components/schemas/`.
    let meta = &defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"];
    let created = &meta["properties"]["creationTimestamp"];
    assert_eq!(
        created.pointer("/allOf/0/$ref").or(created.get("$ref")),
        Some(&json!(
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"
        ))
    );
    assert!(created["description"].as_str().is_some());
    let owners = &meta["properties"]["ownerReferences"];
    assert_eq!(owners["x-kubernetes-patch-merge-key"], "uid");
    assert_eq!(owners["x-kubernetes-patch-strategy"], "merge");
    let managed = &meta["properties"]["managedFields"]["items"]["$ref"];
    assert_eq!(
        managed,
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"
    );

    // The known set resolves every reference it makes, and includes core kinds.
    let known = known_schemas();
    assert!(known.contains_key("io.k8s.api.core.v1.PodSpec"));
    let mut all = Vec::new();
    for schema in known.values() {
        refs(schema, &mut all);
    }
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(known.contains_key(name), "{r} unresolved in known schemas");
    }
}

/// Kubernetes types outside the first set (apiextensions' `JSON`, a `Lease`, RBAC rules) are
/// defined when a generated schema references them, with everything they reference; `JSON`
/// holds any value.
#[test]
fn less_common_kubernetes_types_are_defined_when_referenced() {
    let schemas = json!({
        "co.k8s.demo.v1.Spec": {
            "type": "object",
            "properties": {
                "values": {"$ref": "#/components/schemas/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"},
                "lease": {"$ref": "#/components/schemas/io.k8s.api.coordination.v1.Lease"},
                "rules": {"type": "array", "items": {"$ref": "#/components/schemas/io.k8s.api.rbac.v1.PolicyRule"}},
            },
        },
    });
    let resolved = resolved_schemas(schemas.as_object().unwrap());
    let json_schema = &resolved["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"];
    assert_eq!(
        json_schema["x-kubernetes-preserve-unknown-fields"], true,
        "{json_schema}"
    );
    assert!(json_schema.get("type").is_none(), "{json_schema}");
    assert!(json_schema["description"].as_str().is_some());
    let lease = &resolved["io.k8s.api.coordination.v1.Lease"];
    assert!(lease["properties"]["spec"].is_object(), "{lease}");
    assert!(resolved.contains_key("io.k8s.api.coordination.v1.LeaseSpec"));
    assert!(resolved.contains_key("io.k8s.api.rbac.v1.PolicyRule"));
    // Nothing referenced is left as the permissive placeholder.
    for (name, schema) in &resolved {
        let description = schema["description"].as_str().unwrap_or_default();
        assert!(!description.contains("schema not available"), "{name}");
    }
    let mut all = Vec::new();
    for schema in resolved.values() {
        refs(schema, &mut all);
    }
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(resolved.contains_key(name), "{r} unresolved");
    }
}

#[test]
fn v3_document_structure_and_references() {
    let doc = v3_document(&alert_gv());
    assert_eq!(doc["openapi"], "3.0.0");
    assert_eq!(doc["info"]["title"], "Kubernetes");
    assert_refs_resolve(&doc, "#/components/schemas/", &doc["components"]["schemas"]);

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // Generated definitions, the apimachinery ones they and the operations reference, and
    // nothing unreferenced.
    for name in [
        "co.k8s.pager.v1alpha1.Alert",
        "co.k8s.pager.v1alpha1.AlertList",
        "co.k8s.pager.v1alpha1.AlertSpec",
        "co.k8s.pager.v1alpha1.AlertStatus",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
        "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    ] {
        assert!(schemas.contains_key(name), "missing {name}");
    }
    assert!(!schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
    assert!(!schemas.contains_key("io.k8s.apimachinery.pkg.util.intstr.IntOrString"));

    let paths = doc["paths"].as_object().unwrap();
    let mut keys: Vec<&str> = paths.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "/apis/pager.k8s.co/v1alpha1/alerts",
            "/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts",
            "/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}",
            "/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}/status",
        ]
    );
    let gvk = json!({"group": "pager.k8s.co", "kind": "Alert", "version": "v1alpha1"});
    let mut actions = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            assert_eq!(
                op["x-kubernetes-group-version-kind"], gvk,
                "{method} {path}"
            );
            assert!(op["operationId"].as_str().is_some());
            assert_eq!(op["responses"]["401"]["description"], "Unauthorized");
            actions.push(op["x-kubernetes-action"].as_str().unwrap().to_string());
        }
    }
    actions.sort();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "post",
            "put"
        ]
    );
}

#[test]
fn patch_operation_is_what_kubectl_checks() {
    let doc = v3_document(&alert_gv());
    let item = &doc["paths"]["/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}"];
    let patch = &item["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "pager.k8s.co", "kind": "Alert", "version": "v1alpha1"})
    );
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert_eq!(
        patch["operationId"],
        "patchPagerK8sCoV1alpha1NamespacedAlert"
    );
    // QueryParamVerifierV3 looks at the operation's own parameters.
    assert_eq!(
        query_params(patch),
        ["dryRun", "fieldManager", "fieldValidation", "force"]
    );
    let content = patch["requestBody"]["content"].as_object().unwrap();
    for ct in [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        assert_eq!(
            content[ct]["schema"]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
        );
    }
    assert_eq!(
        patch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/co.k8s.pager.v1alpha1.Alert"
    );
    // Status PATCH too: kubectl takes whichever PATCH of the GVK it meets first.
    let status = &doc["paths"]["/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}/status"]
        ["patch"];
    assert!(query_params(status).contains(&"fieldValidation"));

    // Path-level parameters: name, namespace, pretty.
    let names: Vec<&str> = item["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["name", "namespace", "pretty"]);
    assert_eq!(item["parameters"][0]["in"], "path");
    assert_eq!(item["parameters"][0]["required"], true);

    // Other verbs.
    let collection = &doc["paths"]["/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts"];
    let list = &collection["get"];
    assert_eq!(list["x-kubernetes-action"], "list");
    for p in [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "timeoutSeconds",
    ] {
        assert!(query_params(list).contains(&p), "list lacks {p}");
    }
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/co.k8s.pager.v1alpha1.AlertList"
    );
    let create = &collection["post"];
    assert_eq!(
        create["operationId"],
        "createPagerK8sCoV1alpha1NamespacedAlert"
    );
    assert_eq!(
        query_params(create),
        ["dryRun", "fieldManager", "fieldValidation"]
    );
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/co.k8s.pager.v1alpha1.Alert"
    );
    for code in ["200", "201", "202"] {
        assert!(create["responses"][code].is_object(), "create lacks {code}");
    }
    let delete = &item["delete"];
    assert_eq!(
        query_params(delete),
        [
            "gracePeriodSeconds",
            "orphanDependents",
            "propagationPolicy",
            "dryRun"
        ]
    );
    assert_eq!(
        delete["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    );
    assert_eq!(
        collection["delete"]["x-kubernetes-action"],
        "deletecollection"
    );
    let all = &doc["paths"]["/apis/pager.k8s.co/v1alpha1/alerts"]["get"];
    assert_eq!(
        all["operationId"],
        "listPagerK8sCoV1alpha1AlertForAllNamespaces"
    );
}

#[test]
fn alert_metadata_resolves_to_object_meta_with_docs() {
    let doc = v3_document(&alert_gv());
    let alert = &doc["components"]["schemas"]["co.k8s.pager.v1alpha1.Alert"];
    assert_eq!(
        alert["x-kubernetes-group-version-kind"],
        json!([{"group": "pager.k8s.co", "version": "v1alpha1", "kind": "Alert"}])
    );
    let meta = resolve(
        &doc["components"]["schemas"],
        &alert["properties"]["metadata"],
        "#/components/schemas/",
    );
    assert!(meta["description"].as_str().unwrap().contains("metadata"));
    for field in ["name", "labels", "namespace", "annotations", "uid"] {
        let p = &meta["properties"][field];
        assert!(
            p["description"].as_str().is_some_and(|d| !d.is_empty()),
            "ObjectMeta.{field} has no description"
        );
    }
    assert_eq!(meta["properties"]["name"]["type"], "string");
    assert_eq!(
        meta["properties"]["labels"]["additionalProperties"]["type"],
        "string"
    );
    let spec = &doc["components"]["schemas"]["co.k8s.pager.v1alpha1.AlertSpec"];
    assert!(spec["properties"]["message"]["description"].is_string());
}

#[test]
fn v2_document_structure_and_references() {
    let doc = v2_document(&[alert_gv(), v1beta1_gv()]);
    assert_eq!(doc["swagger"], "2.0");
    assert!(doc.get("components").is_none());
    assert_refs_resolve(&doc, "#/definitions/", &doc["definitions"]);
    let defs = doc["definitions"].as_object().unwrap();
    assert!(defs.contains_key("co.k8s.pager.v1alpha1.Alert"));
    assert!(defs.contains_key("co.k8s.pager.v1beta1.Alert"));

    // Both group/versions' paths.
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}"));
    assert!(paths.contains_key("/apis/pager.k8s.co/v1beta1/namespaces/{namespace}/alerts/{name}"));

    let item = &paths["/apis/pager.k8s.co/v1alpha1/namespaces/{namespace}/alerts/{name}"];
    let patch = &item["patch"];
    assert_eq!(
        patch["consumes"],
        json!([
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml"
        ])
    );
    assert!(patch["produces"].as_array().is_some());
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "pager.k8s.co", "kind": "Alert", "version": "v1alpha1"})
    );
    let params = patch["parameters"].as_array().unwrap();
    let body = params.iter().find(|p| p["in"] == "body").unwrap();
    assert_eq!(
        body["schema"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    );
    let fv = params
        .iter()
        .find(|p| p["name"] == "fieldValidation")
        .unwrap();
    assert_eq!(fv["in"], "query");
    assert_eq!(fv["type"], "string");
    assert!(fv.get("schema").is_none());
    assert_eq!(
        patch["responses"]["200"]["schema"]["$ref"],
        "#/definitions/co.k8s.pager.v1alpha1.Alert"
    );
    assert_eq!(item["get"]["consumes"], json!(["*/*"]));

    // No OpenAPI 3 constructs in definitions.
    let text = serde_json::to_string(defs).unwrap();
    assert!(!text.contains("#/components/schemas/"));
    assert!(!text.contains("\"anyOf\""));
    assert!(!text.contains("\"oneOf\""));
    assert!(!text.contains("\"nullable\""));
    // `allOf: [{$ref}]` wrappers collapse to a reference with siblings.
    let meta = &defs["co.k8s.pager.v1alpha1.Alert"]["properties"]["metadata"];
    assert_eq!(
        meta["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
}

#[test]
fn v2_int_or_string_and_quantity() {
    // A group/version whose schemas reference IntOrString, Quantity and a core type.
    let schemas = json!({
        "com.example.v1.Widget": {
            "type": "object",
            "properties": {
                "port": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}], "description": "Port."},
                "size": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"},
                "inline": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "template": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"}]},
                "missing": {"$ref": "#/components/schemas/io.k8s.api.example.v9.Nothing"}
            },
            "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}]
        }
    });
    let widget = ResourceInfo {
        group: "example.com",
        version: "v1",
        kind: "Widget",
        list_kind: "WidgetList",
        plural: "widgets",
        singular: "widget",
        namespaced: true,
        short_names: &[],
        categories: &[],
        printer_columns: &[],
        has_status: false,
        scale: None,
    };
    let gv = GroupVersionDoc {
        group: "example.com",
        version: "v1",
        resources: vec![&widget],
        schemas: schemas.as_object().unwrap().clone(),
        protobuf: Vec::new(),
    };
    let v3 = v3_document(&gv);
    assert!(unresolved_refs(&v3).is_empty());
    let v3defs = &v3["components"]["schemas"];
    assert!(v3defs["io.k8s.api.core.v1.PodSpec"].is_object());
    assert!(v3defs["io.k8s.api.core.v1.Container"]["properties"]["image"].is_object());
    // Unknown references get a placeholder rather than dangling.
    assert_eq!(
        v3defs["io.k8s.api.example.v9.Nothing"]["x-kubernetes-preserve-unknown-fields"],
        true
    );

    let v2 = v2_document(std::slice::from_ref(&gv));
    assert!(unresolved_refs(&v2).is_empty());
    let defs = &v2["definitions"];
    let ios = &defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["type"], "string");
    assert_eq!(ios["format"], "int-or-string");
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"],
        "string"
    );
    let props = &defs["com.example.v1.Widget"]["properties"];
    assert_eq!(props["inline"]["type"], "string");
    assert_eq!(props["inline"]["format"], "int-or-string");
    assert_eq!(
        props["port"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    );
    assert_eq!(props["port"]["description"], "Port.");
}

#[test]
fn cluster_scoped_resources_have_no_namespace_segment() {
    let mut gv = alert_gv();
    gv.resources = vec![&PAGER_POLICY];
    let doc = v3_document(&gv);
    let paths = doc["paths"].as_object().unwrap();
    let mut keys: Vec<&str> = paths.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "/apis/pager.k8s.co/v1alpha1/pagerpolicies",
            "/apis/pager.k8s.co/v1alpha1/pagerpolicies/{name}",
        ]
    );
    let item = &paths["/apis/pager.k8s.co/v1alpha1/pagerpolicies/{name}"];
    let names: Vec<&str> = item["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["name", "pretty"]);
    assert_eq!(
        item["patch"]["operationId"],
        "patchPagerK8sCoV1alpha1PagerPolicy"
    );
    assert_eq!(
        paths["/apis/pager.k8s.co/v1alpha1/pagerpolicies"]["get"]["operationId"],
        "listPagerK8sCoV1alpha1PagerPolicy"
    );
    let text = serde_json::to_string(&doc["paths"]).unwrap();
    assert!(!text.contains("namespace"));
    // Its (absent) schema falls back to openapi-gen's naming, with a placeholder definition.
    assert!(unresolved_refs(&doc).is_empty());
}

#[test]
fn discovery_and_hash() {
    let doc = v3_document(&alert_gv());
    let bytes = serde_json::to_vec(&doc).unwrap();
    let hash = document_hash(&bytes);
    assert_eq!(hash.len(), 128);
    assert!(
        hash.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    );
    // Deterministic: the same document hashes the same.
    assert_eq!(
        hash,
        document_hash(&serde_json::to_vec(&v3_document(&alert_gv())).unwrap())
    );
    // The SHA-512 of the empty input.
    assert!(document_hash(b"").starts_with("CF83E1357EEFB8BDF1542850D66D8007"));

    let key = gv_key("pager.k8s.co", "v1alpha1");
    assert_eq!(key, "apis/pager.k8s.co/v1alpha1");
    assert_eq!(gv_key("", "v1"), "api/v1");
    let disc = v3_discovery(&[(key.clone(), hash.clone())]);
    assert_eq!(
        disc,
        json!({"paths": {"apis/pager.k8s.co/v1alpha1": {
            "serverRelativeURL": format!("/openapi/v3/apis/pager.k8s.co/v1alpha1?hash={hash}")
        }}})
    );
}

#[test]
fn resolved_schemas_are_self_contained() {
    let resolved = resolved_schemas(&alert_gv().schemas);
    assert!(resolved.contains_key("co.k8s.pager.v1alpha1.Alert"));
    assert!(resolved.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    assert!(resolved.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"));
    // Only what the kinds reference: no operation-only definitions.
    assert!(!resolved.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.Patch"));
    let wrapped = json!({"components": {"schemas": resolved}});
    assert!(unresolved_refs(&wrapped).is_empty());
}

/// A server is not built on schemas Kubernetes would refuse in a CRD, for what kube-codegen
/// cannot check itself (a k8s-openapi type as a keyed list's element or under a default): a
/// list keyed by a field its items lack, a default that does not fit.
#[test]
fn a_server_refuses_list_keys_and_defaults_its_schemas_cannot_hold() {
    use apiserver::{ApiServer, Resource};
    use apiserver_storage::{AnyStore, MemoryStore};
    let build = |spec_properties: Value| {
        let mut schemas: serde_json::Map<String, Value> =
            serde_json::from_str(pager::v1beta1::OPENAPI_SCHEMAS).unwrap();
        let props = schemas["co.k8s.pager.v1beta1.AlertSpec"]["properties"]
            .as_object_mut()
            .unwrap();
        props.extend(spec_properties.as_object().unwrap().clone());
        let text: &'static str = Box::leak(Value::Object(schemas).to_string().into_boxed_str());
        ApiServer::builder(AnyStore::Memory(MemoryStore::new()))
            .resource(Resource::<pager::Alert>::hub().version::<pager::v1beta1::Alert>(text))
            .build()
            .err()
            .map(|e| e.to_string())
    };
    let toleration =
        json!({"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Toleration"}]});
    let tolerations = |keys: Value| {
        json!({"tolerations": {"type": "array", "x-kubernetes-list-type": "map",
               "x-kubernetes-list-map-keys": keys, "items": toleration}})
    };
    assert_eq!(
        build(tolerations(json!(["nme"]))).as_deref(),
        Some(
            "invalid generated OpenAPI schemas: Alert (pager.k8s.co/v1beta1): co.k8s.pager.v1beta1.AlertSpec: `.tolerations` is a list keyed by `nme`, which its items (io.k8s.api.core.v1.Toleration) do not have (their fields: effect, key, operator, tolerationSeconds, value)"
        )
    );
    assert_eq!(build(tolerations(json!(["key", "effect"]))), None);
    let resources = |default: Value| {
        json!({"resources": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.ResourceRequirements"}],
               "default": default}})
    };
    let refused = build(resources(json!({"limit": {"cpu": "1"}}))).unwrap();
    assert!(
        refused.ends_with("co.k8s.pager.v1beta1.AlertSpec: the default of `.resources` does not fit its schema: unknown field `limit` (did you mean `limits`?)"),
        "{refused}"
    );
    assert_eq!(
        build(resources(json!({"limits": {"cpu": "1", "memory": "1Gi"}}))),
        None
    );
}
