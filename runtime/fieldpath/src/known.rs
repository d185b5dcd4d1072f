//! The apimachinery definitions ownership needs when a set of generated schemas references them
//! without carrying them (a client extracting what a manager owns): `ObjectMeta` with the list
//! and struct types Kubernetes declares for it (`finalizers` a set, `ownerReferences` a map keyed
//! by `uid` of atomic items, `managedFields` atomic).

use serde_json::{Map, Value, json};

pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
pub const OWNER_REFERENCE: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference";
pub const MANAGED_FIELDS_ENTRY: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry";

/// `ObjectMeta`, `OwnerReference` and `ManagedFieldsEntry` as OpenAPI v3 definitions.
pub fn apimachinery_definitions() -> Map<String, Value> {
    let string = json!({"type": "string"});
    let strings = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let defs = json!({
        OBJECT_META: {"type": "object", "properties": {
            "annotations": strings,
            "creationTimestamp": string,
            "deletionGracePeriodSeconds": {"type": "integer"},
            "deletionTimestamp": string,
            "finalizers": {"type": "array", "items": string, "x-kubernetes-list-type": "set"},
            "generateName": string,
            "generation": {"type": "integer"},
            "labels": strings,
            "managedFields": {"type": "array", "items": {"$ref": format!("#/components/schemas/{MANAGED_FIELDS_ENTRY}")},
                              "x-kubernetes-list-type": "atomic"},
            "name": string,
            "namespace": string,
            "ownerReferences": {"type": "array", "items": {"$ref": format!("#/components/schemas/{OWNER_REFERENCE}")},
                                "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["uid"]},
            "resourceVersion": string,
            "selfLink": string,
            "uid": string
        }},
        OWNER_REFERENCE: {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
            "apiVersion": string, "blockOwnerDeletion": {"type": "boolean"},
            "controller": {"type": "boolean"}, "kind": string, "name": string, "uid": string
        }},
        MANAGED_FIELDS_ENTRY: {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
            "apiVersion": string, "fieldsType": string, "fieldsV1": {"type": "object"},
            "manager": string, "operation": string, "subresource": string, "time": string
        }}
    });
    match defs {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}
